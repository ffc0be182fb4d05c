//! Composition of transforms applied in order.

use super::{sum_rightmost_for, Transform};
use crate::constraints::Constraint;
use crate::error::Result;
use candle_core::Tensor;
use std::any::Any;

/// `y = f_n(…f_2(f_1(x)))`, with the log-dets of the parts summed over the event
/// dimensions of the whole chain (torch's `ComposeTransform`). An empty chain is the
/// identity on the reals.
///
/// The chain's event dimension is the largest any part needs, so a scalar map followed by
/// a vector map (`Exp` then `StickBreaking`) acts on vectors and sums the scalar part's
/// log-det over the vector.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{AffineTransform, ComposeTransform, ExpTransform, Transform};
/// let dev = Device::Cpu;
/// // y = 2·exp(x): log|dy/dx| = log 2 + x.
/// let t = ComposeTransform::new(vec![Box::new(ExpTransform), Box::new(AffineTransform::new(0.0, 2.0)?)]);
/// let x = Tensor::new(&[0.0f64, 1.0], &dev)?;
/// let (y, ladj) = t.forward_and_log_det(&x)?;
/// assert!((y.to_vec1::<f64>()?[1] - 2.0 * 1f64.exp()).abs() < 1e-12);
/// assert!((ladj.to_vec1::<f64>()?[1] - (2f64.ln() + 1.0)).abs() < 1e-12);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct ComposeTransform {
    parts: Vec<Box<dyn Transform>>,
}

impl ComposeTransform {
    /// The chain `parts[0]` first, `parts[n-1]` last.
    pub fn new(parts: Vec<Box<dyn Transform>>) -> Self {
        ComposeTransform { parts }
    }

    /// The parts, in order of application.
    pub fn parts(&self) -> &[Box<dyn Transform>] {
        &self.parts
    }

    /// The event dimension of the chain's input: the largest any part needs once
    /// carried back through the parts before it.
    pub fn domain_event_dim(&self) -> usize {
        let Some(last) = self.parts.last() else {
            return 0;
        };
        let mut e = last.codomain().event_dim() as isize;
        for p in self.parts.iter().rev() {
            e += p.domain().event_dim() as isize - p.codomain().event_dim() as isize;
            e = e.max(p.domain().event_dim() as isize);
        }
        e.max(0) as usize
    }

    /// The event dimension of the chain's output.
    pub fn codomain_event_dim(&self) -> usize {
        let Some(first) = self.parts.first() else {
            return 0;
        };
        let mut e = first.domain().event_dim() as isize;
        for p in &self.parts {
            e += p.codomain().event_dim() as isize - p.domain().event_dim() as isize;
            e = e.max(p.codomain().event_dim() as isize);
        }
        e.max(0) as usize
    }
}

/// `c` with `event_dim` event dimensions, wrapped in `Independent` where it has fewer.
pub(crate) fn with_event_dim(c: Constraint, event_dim: usize) -> Constraint {
    let own = c.event_dim();
    if event_dim > own {
        Constraint::Independent {
            base: Box::new(c),
            reinterpreted_batch_ndims: event_dim - own,
        }
    } else {
        c
    }
}

impl Transform for ComposeTransform {
    fn name(&self) -> &'static str {
        "ComposeTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        for p in &self.parts {
            y = p.forward(&y)?;
        }
        Ok(y)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        let mut x = y.clone();
        for p in self.parts.iter().rev() {
            x = p.inverse(&x)?;
        }
        Ok(x)
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        if self.parts.is_empty() {
            return Ok(x.zeros_like()?);
        }
        // The intermediate values, recomputed forward: the last is `y` as given.
        let mut xs = vec![x.clone()];
        for p in &self.parts[..self.parts.len() - 1] {
            let next = p.forward(xs.last().unwrap_or(x))?;
            xs.push(next);
        }
        xs.push(y.clone());
        let mut event_dim = self.domain_event_dim();
        let mut total: Option<Tensor> = None;
        for (i, p) in self.parts.iter().enumerate() {
            let term = p.log_abs_det_jacobian(&xs[i], &xs[i + 1])?;
            let term = sum_rightmost_for(
                self.name(),
                &term,
                event_dim.saturating_sub(p.domain().event_dim()),
            )?;
            total = Some(match total {
                None => term,
                Some(t) => t.broadcast_add(&term)?,
            });
            event_dim =
                (event_dim + p.codomain().event_dim()).saturating_sub(p.domain().event_dim());
        }
        Ok(total.unwrap_or(x.zeros_like()?))
    }

    fn forward_and_log_det(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        if self.parts.is_empty() {
            return Ok((x.clone(), x.zeros_like()?));
        }
        let mut event_dim = self.domain_event_dim();
        let mut y = x.clone();
        let mut total: Option<Tensor> = None;
        for p in &self.parts {
            let (next, term) = p.forward_and_log_det(&y)?;
            let term = sum_rightmost_for(
                self.name(),
                &term,
                event_dim.saturating_sub(p.domain().event_dim()),
            )?;
            total = Some(match total {
                None => term,
                Some(t) => t.broadcast_add(&term)?,
            });
            event_dim =
                (event_dim + p.codomain().event_dim()).saturating_sub(p.domain().event_dim());
            y = next;
        }
        let ladj = match total {
            Some(t) => t,
            None => x.zeros_like()?,
        };
        Ok((y, ladj))
    }

    fn domain(&self) -> Constraint {
        match self.parts.first() {
            None => Constraint::Real,
            Some(p) => with_event_dim(p.domain(), self.domain_event_dim()),
        }
    }

    fn codomain(&self) -> Constraint {
        match self.parts.last() {
            None => Constraint::Real,
            Some(p) => with_event_dim(p.codomain(), self.codomain_event_dim()),
        }
    }

    fn bijective(&self) -> bool {
        self.parts.iter().all(|p| p.bijective())
    }

    fn sign(&self) -> Option<i8> {
        let mut s = 1i8;
        for p in &self.parts {
            s *= p.sign()?;
        }
        Some(s)
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        let mut s = shape.to_vec();
        for p in &self.parts {
            s = p.forward_shape(&s)?;
        }
        Ok(s)
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        let mut s = shape.to_vec();
        for p in self.parts.iter().rev() {
            s = p.inverse_shape(&s)?;
        }
        Ok(s)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(ComposeTransform::new(self.parts.clone()))
    }

    fn inv(&self) -> Box<dyn Transform> {
        Box::new(ComposeTransform::new(
            self.parts.iter().rev().map(|p| p.inv()).collect(),
        ))
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<ComposeTransform>()
            .is_some_and(|o| {
                o.parts.len() == self.parts.len()
                    && self
                        .parts
                        .iter()
                        .zip(&o.parts)
                        .all(|(a, b)| a.equals(b.as_ref()))
            })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
