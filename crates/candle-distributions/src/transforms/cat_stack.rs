//! Transforms applied piecewise along one dimension: [`CatTransform`] (pieces of given
//! lengths) and [`StackTransform`] (one slice per transform).

use super::{sum_rightmost_for, Transform};
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use candle_core::Tensor;
use std::any::Any;

/// `dim` (negative counts from the end) as an index into a tensor of rank `rank`.
fn resolve_dim(name: &str, dim: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    if dim < -r || dim >= r {
        return Err(Error::shape(
            name,
            format!("dim {dim} is out of range for a tensor of rank {rank}"),
        ));
    }
    Ok(if dim < 0 {
        (dim + r) as usize
    } else {
        dim as usize
    })
}

/// The largest event dimension among `parts`' domains.
fn max_event_dim(parts: &[Box<dyn Transform>]) -> usize {
    parts
        .iter()
        .map(|t| t.domain().event_dim())
        .max()
        .unwrap_or(0)
}

/// Each part's log-det on its piece, summed down to the common event dimension.
fn part_log_dets(
    name: &str,
    parts: &[Box<dyn Transform>],
    xs: &[Tensor],
    ys: &[Tensor],
) -> Result<Vec<Tensor>> {
    let e = max_event_dim(parts);
    parts
        .iter()
        .zip(xs.iter().zip(ys))
        .map(|(p, (a, b))| {
            sum_rightmost_for(
                name,
                &p.log_abs_det_jacobian(a, b)?,
                e - p.domain().event_dim(),
            )
        })
        .collect()
}

/// The sum of the pieces' log-dets (where the pieces lie inside one event).
fn sum_terms(name: &str, terms: Vec<Tensor>) -> Result<Tensor> {
    let mut it = terms.into_iter();
    let first = it
        .next()
        .ok_or_else(|| Error::InvalidArgument(format!("{name}: no transforms")))?;
    it.try_fold(first, |a, b| a.broadcast_add(&b).map_err(Into::into))
}

/// Applies `transforms[i]` to the `i`-th piece of `lengths[i]` entries along `dim` and
/// concatenates the results (torch's `CatTransform`):
///
/// `y = cat_i f_i(x[..., piece_i, ...])`, `log|det J| = Σ or cat of the pieces' log-dets`.
///
/// - `dim` counts from the end when negative; `lengths` defaults to 1 per transform.
/// - domain / codomain: [`Constraint::Cat`] of the parts' domains / codomains.
/// - The log-det of each piece is summed over the dimensions by which its event is
///   smaller than the largest; then, if `dim` is a batch dimension, the pieces'
///   log-dets are concatenated along it, and if it lies inside the event they are added
///   (torch's rule).
/// - `forward` needs `x.dim(dim) = Σ lengths` ([`Error::Shape`] otherwise); the pieces
///   keep their lengths (each part must preserve the shape).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{AffineTransform, CatTransform, ExpTransform, Transform};
/// let t = CatTransform::new(
///     vec![Box::new(ExpTransform), Box::new(AffineTransform::new(1.0, 2.0)?)],
///     0,
///     Some(vec![1, 2]),
/// )?;
/// let x = Tensor::new(&[0.0f64, 1.0, 2.0], &Device::Cpu)?;
/// let (y, ladj) = t.forward_and_log_det(&x)?;
/// assert_eq!(y.to_vec1::<f64>()?, vec![1.0, 3.0, 5.0]);
/// let l = ladj.to_vec1::<f64>()?; // [x_0, log 2, log 2]
/// assert!(l[0] == 0.0 && (l[2] - 2f64.ln()).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct CatTransform {
    parts: Vec<Box<dyn Transform>>,
    dim: isize,
    lengths: Vec<usize>,
}

impl CatTransform {
    /// The parts, the dimension they split, and the length of each piece along it
    /// (`None`: 1 each); [`Error::InvalidArgument`] when the numbers of transforms and
    /// lengths differ.
    pub fn new(
        transforms: Vec<Box<dyn Transform>>,
        dim: isize,
        lengths: Option<Vec<usize>>,
    ) -> Result<Self> {
        let lengths = lengths.unwrap_or_else(|| vec![1; transforms.len()]);
        if lengths.len() != transforms.len() {
            return Err(Error::InvalidArgument(format!(
                "CatTransform: {} transforms but {} lengths ({lengths:?}); give one length per transform",
                transforms.len(),
                lengths.len()
            )));
        }
        Ok(CatTransform {
            parts: transforms,
            dim,
            lengths,
        })
    }

    /// The parts, in order along `dim`.
    pub fn transforms(&self) -> &[Box<dyn Transform>] {
        &self.parts
    }

    /// The dimension the pieces lie along (negative counts from the end).
    pub fn dim(&self) -> isize {
        self.dim
    }

    /// The length of each piece.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// The pieces of `t` along `dim`, with the resolved dimension.
    fn pieces(&self, t: &Tensor) -> Result<(usize, Vec<Tensor>)> {
        let d = resolve_dim(self.name(), self.dim, t.rank())?;
        let total: usize = self.lengths.iter().sum();
        if t.dim(d)? != total {
            return Err(Error::shape(
                self.name(),
                format!(
                    "the pieces' lengths {:?} sum to {total} but the tensor has {} entries along dim {} (shape {:?})",
                    self.lengths,
                    t.dim(d)?,
                    self.dim,
                    t.dims()
                ),
            ));
        }
        let mut start = 0;
        let mut out = Vec::with_capacity(self.lengths.len());
        for &len in &self.lengths {
            out.push(super::narrow(t, d, start, len)?);
            start += len;
        }
        Ok((d, out))
    }

    fn map(
        &self,
        t: &Tensor,
        f: impl Fn(&dyn Transform, &Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let (d, pieces) = self.pieces(t)?;
        let outs = self
            .parts
            .iter()
            .zip(&pieces)
            .map(|(p, s)| f(p.as_ref(), s))
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::cat(&outs, d)?)
    }

    /// Combines the pieces' log-dets (already summed to the common event dim).
    fn combine(&self, x: &Tensor, terms: Vec<Tensor>) -> Result<Tensor> {
        let e = max_event_dim(&self.parts) as isize;
        let rank = x.rank() as isize;
        let d = if self.dim >= 0 {
            self.dim - rank
        } else {
            self.dim
        };
        let pos = d + e;
        if pos < 0 {
            let r = terms[0].rank() as isize;
            Ok(Tensor::cat(&terms, (r + pos) as usize)?)
        } else {
            sum_terms("CatTransform", terms)
        }
    }
}

impl Transform for CatTransform {
    fn name(&self) -> &'static str {
        "CatTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.map(x, |p, s| p.forward(s))
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        self.map(y, |p, s| p.inverse(s))
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (_, xs) = self.pieces(x)?;
        let (_, ys) = self.pieces(y)?;
        let terms = part_log_dets(self.name(), &self.parts, &xs, &ys)?;
        self.combine(x, terms)
    }

    fn forward_and_log_det(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let (d, xs) = self.pieces(x)?;
        let e = max_event_dim(&self.parts);
        let mut ys = Vec::with_capacity(xs.len());
        let mut terms = Vec::with_capacity(xs.len());
        for (p, a) in self.parts.iter().zip(&xs) {
            let (y, l) = p.forward_and_log_det(a)?;
            ys.push(y);
            terms.push(sum_rightmost_for(
                self.name(),
                &l,
                e - p.domain().event_dim(),
            )?);
        }
        let y = Tensor::cat(&ys, d)?;
        Ok((y, self.combine(x, terms)?))
    }

    fn domain(&self) -> Constraint {
        Constraint::Cat {
            constraints: self.parts.iter().map(|p| p.domain()).collect(),
            dim: self.dim,
            lengths: self.lengths.clone(),
        }
    }

    fn codomain(&self) -> Constraint {
        Constraint::Cat {
            constraints: self.parts.iter().map(|p| p.codomain()).collect(),
            dim: self.dim,
            lengths: self.lengths.clone(),
        }
    }

    fn bijective(&self) -> bool {
        self.parts.iter().all(|p| p.bijective())
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(CatTransform {
            parts: self.parts.clone(),
            dim: self.dim,
            lengths: self.lengths.clone(),
        })
    }

    fn inv(&self) -> Box<dyn Transform> {
        Box::new(CatTransform {
            parts: self.parts.iter().map(|p| p.inv()).collect(),
            dim: self.dim,
            lengths: self.lengths.clone(),
        })
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<CatTransform>()
            .is_some_and(|o| {
                o.dim == self.dim
                    && o.lengths == self.lengths
                    && o.parts.len() == self.parts.len()
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

/// Applies `transforms[i]` to the `i`-th slice along `dim` and stacks the results
/// (torch's `StackTransform`): `y[..., i, ...] = f_i(x[..., i, ...])`.
///
/// - `dim` counts from the end when negative; `x.dim(dim)` must equal the number of
///   transforms ([`Error::Shape`] otherwise).
/// - domain / codomain: [`Constraint::Stack`] of the parts' domains / codomains.
/// - The log-det of each slice is summed over the dimensions by which its event is
///   smaller than the largest, then stacked along `dim` (torch's rule). Where `dim` is
///   one of the domain's event dimensions ([`Constraint::Stack`] counts a negative
///   `dim` reaching into the slices' events as one) the slices' log-dets are added
///   instead, giving one log-det per event as for every transform (torch's stacking
///   gives a misshapen result there).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{ExpTransform, SigmoidTransform, StackTransform, Transform};
/// let t = StackTransform::new(vec![Box::new(ExpTransform), Box::new(SigmoidTransform)], 1);
/// let x = Tensor::new(&[[0.0f64, 0.0], [1.0, 0.0]], &Device::Cpu)?;
/// let y = t.forward(&x)?.to_vec2::<f64>()?;
/// assert_eq!(y[0], vec![1.0, 0.5]);
/// assert_eq!(t.log_abs_det_jacobian(&x, &t.forward(&x)?)?.dims(), &[2, 2]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct StackTransform {
    parts: Vec<Box<dyn Transform>>,
    dim: isize,
}

impl StackTransform {
    /// One transform per slice along `dim` (negative counts from the end).
    pub fn new(transforms: Vec<Box<dyn Transform>>, dim: isize) -> Self {
        StackTransform {
            parts: transforms,
            dim,
        }
    }

    /// The parts, one per slice.
    pub fn transforms(&self) -> &[Box<dyn Transform>] {
        &self.parts
    }

    /// The stacking dimension (negative counts from the end).
    pub fn dim(&self) -> isize {
        self.dim
    }

    /// The slices of `t` along `dim`, with the resolved dimension.
    fn slices(&self, t: &Tensor) -> Result<(usize, Vec<Tensor>)> {
        let d = resolve_dim(self.name(), self.dim, t.rank())?;
        if t.dim(d)? != self.parts.len() {
            return Err(Error::shape(
                self.name(),
                format!(
                    "{} transforms but the tensor has {} entries along dim {} (shape {:?})",
                    self.parts.len(),
                    t.dim(d)?,
                    self.dim,
                    t.dims()
                ),
            ));
        }
        let out = (0..self.parts.len())
            .map(|i| Ok(super::narrow(t, d, i, 1)?.squeeze(d)?))
            .collect::<Result<Vec<_>>>()?;
        Ok((d, out))
    }

    fn map(
        &self,
        t: &Tensor,
        f: impl Fn(&dyn Transform, &Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let (d, slices) = self.slices(t)?;
        let outs = self
            .parts
            .iter()
            .zip(&slices)
            .map(|(p, s)| f(p.as_ref(), s))
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::stack(&outs, d)?)
    }

    fn combine(&self, x: &Tensor, d: usize, terms: Vec<Tensor>) -> Result<Tensor> {
        // The stacking dim is an event dim when the domain's event covers it.
        let e = self.domain().event_dim();
        if d + e < x.rank() {
            Ok(Tensor::stack(&terms, d)?)
        } else {
            sum_terms("StackTransform", terms)
        }
    }
}

impl Transform for StackTransform {
    fn name(&self) -> &'static str {
        "StackTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.map(x, |p, s| p.forward(s))
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        self.map(y, |p, s| p.inverse(s))
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let (d, xs) = self.slices(x)?;
        let (_, ys) = self.slices(y)?;
        let terms = part_log_dets(self.name(), &self.parts, &xs, &ys)?;
        self.combine(x, d, terms)
    }

    fn forward_and_log_det(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let (d, xs) = self.slices(x)?;
        let e = max_event_dim(&self.parts);
        let mut ys = Vec::with_capacity(xs.len());
        let mut terms = Vec::with_capacity(xs.len());
        for (p, a) in self.parts.iter().zip(&xs) {
            let (y, l) = p.forward_and_log_det(a)?;
            ys.push(y);
            terms.push(sum_rightmost_for(
                self.name(),
                &l,
                e - p.domain().event_dim(),
            )?);
        }
        let y = Tensor::stack(&ys, d)?;
        Ok((y, self.combine(x, d, terms)?))
    }

    fn domain(&self) -> Constraint {
        Constraint::Stack {
            constraints: self.parts.iter().map(|p| p.domain()).collect(),
            dim: self.dim,
        }
    }

    fn codomain(&self) -> Constraint {
        Constraint::Stack {
            constraints: self.parts.iter().map(|p| p.codomain()).collect(),
            dim: self.dim,
        }
    }

    fn bijective(&self) -> bool {
        self.parts.iter().all(|p| p.bijective())
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(StackTransform::new(self.parts.clone(), self.dim))
    }

    fn inv(&self) -> Box<dyn Transform> {
        Box::new(StackTransform::new(
            self.parts.iter().map(|p| p.inv()).collect(),
            self.dim,
        ))
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<StackTransform>()
            .is_some_and(|o| {
                o.dim == self.dim
                    && o.parts.len() == self.parts.len()
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
