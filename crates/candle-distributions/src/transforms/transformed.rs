//! `TransformedDistribution`: a base distribution pushed through a chain of transforms.

use super::compose::{with_event_dim, ComposeTransform};
use super::{sum_rightmost_for, Independent, Transform};
use crate::constraints::Constraint;
use crate::distribution::{
    checked_argument, checked_numel, default_validate_args, result_dtype, Distribution,
};
use crate::error::{Error, Result};
use crate::rng::Generator;
use candle_core::{DType, Device, Tensor};

/// The `Distribution` methods that a named family defined as a pushforward writes the
/// same way, for its `impl Distribution` block: `pushforward_methods!(inner, base);`
/// takes batch and event shapes and draws (`sample`, `rsample`, both available) from
/// the [`TransformedDistribution`] in field `inner`, and device and dtype from the
/// base distribution in field `base`.
macro_rules! pushforward_methods {
    ($inner:ident, $base:ident) => {
        fn batch_shape(&self) -> &[usize] {
            self.$inner.batch_shape()
        }
        fn event_shape(&self) -> &[usize] {
            self.$inner.event_shape()
        }
        fn device(&self) -> &candle_core::Device {
            self.$base.device()
        }
        fn dtype(&self) -> candle_core::DType {
            self.$base.dtype()
        }
        fn has_rsample(&self) -> bool {
            true
        }
        fn rsample(
            &self,
            sample_shape: &[usize],
            rng: &mut $crate::Generator,
        ) -> $crate::Result<candle_core::Tensor> {
            self.$inner.rsample(sample_shape, rng)
        }
        fn sample(
            &self,
            sample_shape: &[usize],
            rng: &mut $crate::Generator,
        ) -> $crate::Result<candle_core::Tensor> {
            self.$inner.sample(sample_shape, rng)
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    };
}
pub(crate) use pushforward_methods;

/// The law of `Y = f_n(…f_1(X))` for `X` from `base` (torch's
/// `TransformedDistribution`), with density by the change of variables
///
/// `log p_Y(y) = log p_X(x) − Σ_i log |det J_{f_i}(x_{i−1})|`, `x = f⁻¹(y)`.
///
/// - Shapes follow torch's bookkeeping: the chain's input event dimension may exceed the
///   base's event rank, in which case the base's rightmost batch dimensions become event
///   dimensions (it is wrapped in [`Independent`]), and a base whose shape the chain
///   would change (`forward_shape` then `inverse_shape`) is expanded first.
/// - `rsample` (when the base has it) and `sample` push draws forward.
/// - `log_prob(y)` walks the inverses. [`Distribution::rsample_and_log_prob`] never
///   inverts: it takes the base's fused draw and log-density and adds each transform's
///   log-det from its fused forward pass, so it stays exact where an inverse saturates
///   (tanh near ±1).
/// - `cdf`/`icdf` for chains of monotone scalar maps (every `sign()` known, event dim
///   0); moments and entropy are not defined in general ([`Error::NotImplemented`], as
///   torch).
/// - Values are checked against the support (the last transform's codomain) when
///   validation is on.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::prelude::*;
/// use candle_distributions::transforms::{ExpTransform, TransformedDistribution};
/// // LogNormal(0, 1) as exp of a standard normal.
/// let base = Normal::new(&Tensor::new(&[0.0f64], &Device::Cpu)?, 1.0)?;
/// let d = TransformedDistribution::new(Box::new(base), vec![Box::new(ExpTransform)])?;
/// let y = Tensor::new(&[2.0f64], &Device::Cpu)?;
/// let reference = LogNormal::new(&Tensor::new(&[0.0f64], &Device::Cpu)?, 1.0)?.log_prob(&y)?;
/// let lp = d.log_prob(&y)?;
/// assert!((lp.to_vec1::<f64>()?[0] - reference.to_vec1::<f64>()?[0]).abs() < 1e-14);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug)]
pub struct TransformedDistribution {
    name: &'static str,
    base: Box<dyn Distribution>,
    transforms: Vec<Box<dyn Transform>>,
    batch_shape: Vec<usize>,
    event_shape: Vec<usize>,
    validate: bool,
}

impl TransformedDistribution {
    /// `base` pushed through `transforms` (applied in order); [`Error::Shape`] when the
    /// base has fewer dimensions than the chain's input event needs or the chain
    /// rejects its shape.
    pub fn new(base: Box<dyn Distribution>, transforms: Vec<Box<dyn Transform>>) -> Result<Self> {
        Self::named("TransformedDistribution", base, transforms)
    }

    /// As [`TransformedDistribution::new`], reporting errors under `name`: for families
    /// defined as transformed distributions (LogisticNormal, TanhNormal).
    pub(crate) fn named(
        name: &'static str,
        base: Box<dyn Distribution>,
        transforms: Vec<Box<dyn Transform>>,
    ) -> Result<Self> {
        let validate = base.validate_args() && default_validate_args();
        let chain = ComposeTransform::new(transforms.clone());
        let domain_event = chain.domain_event_dim();
        let base_event = base.event_shape().len();
        let mut base_shape = base.batch_shape().to_vec();
        base_shape.extend_from_slice(base.event_shape());
        if base_shape.len() < domain_event {
            return Err(Error::shape(
                name,
                format!(
                    "the transforms act on events of {domain_event} dimension(s), the base has shape {base_shape:?}"
                ),
            ));
        }
        let forward_shape = chain
            .forward_shape(&base_shape)
            .map_err(|e| e.renamed(name))?;
        let expanded = chain
            .inverse_shape(&forward_shape)
            .map_err(|e| e.renamed(name))?;
        let mut base = base;
        if expanded != base_shape {
            if expanded.len() < base_event {
                return Err(Error::shape(
                    name,
                    format!(
                        "the transforms change the base's event shape {:?}",
                        base.event_shape()
                    ),
                ));
            }
            let batch = &expanded[..expanded.len() - base_event];
            base = base.expand(batch).map_err(|e| e.renamed(name))?;
        }
        if domain_event > base_event {
            base = Box::new(Independent::new(base, domain_event - base_event)?);
        }
        let event_dim = chain.codomain_event_dim() + base_event.saturating_sub(domain_event);
        if event_dim > forward_shape.len() {
            return Err(Error::shape(
                name,
                format!(
                    "output shape {forward_shape:?} has fewer than the {event_dim} event dimension(s) of the chain"
                ),
            ));
        }
        let cut = forward_shape.len() - event_dim;
        Ok(TransformedDistribution {
            name,
            base,
            batch_shape: forward_shape[..cut].to_vec(),
            event_shape: forward_shape[cut..].to_vec(),
            transforms,
            validate,
        })
    }

    /// The base distribution (wrapped in [`Independent`] or expanded where the chain
    /// required it).
    pub fn base(&self) -> &dyn Distribution {
        self.base.as_ref()
    }

    /// The transforms, in order of application.
    pub fn transforms(&self) -> &[Box<dyn Transform>] {
        &self.transforms
    }

    /// Turns checks of `log_prob`/`cdf`/`icdf` arguments on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.validate = on;
    }

    /// The event dimension at the input of each transform, and at the base's output
    /// (last), from torch's backward walk over the chain.
    fn event_dims(&self) -> Result<Vec<usize>> {
        let mut e = self.event_shape.len() as isize;
        let mut dims = vec![0usize; self.transforms.len() + 1];
        for (i, t) in self.transforms.iter().enumerate().rev() {
            e += t.domain().event_dim() as isize - t.codomain().event_dim() as isize;
            if e < t.domain().event_dim() as isize {
                return Err(Error::shape(
                    self.name,
                    format!(
                        "{} needs more event dimensions than the value has",
                        t.name()
                    ),
                ));
            }
            dims[i] = e as usize;
        }
        dims[self.transforms.len()] = e.max(0) as usize;
        Ok(dims)
    }

    /// `−Σ_i` of each transform's log-det summed over its extra event dimensions, and the
    /// base's log-density summed likewise, for the pushed-forward pairs `(x_i, x_{i+1})`.
    fn combine(&self, base_lp: Tensor, ladjs: Vec<Tensor>, dims: &[usize]) -> Result<Tensor> {
        let base_extra = dims[self.transforms.len()].saturating_sub(self.base.event_shape().len());
        let base_lp = sum_rightmost_for(self.name(), &base_lp, base_extra)?;
        let mut lp = base_lp.clone();
        for (i, (t, l)) in self.transforms.iter().zip(ladjs).enumerate() {
            let n = dims[i].saturating_sub(t.domain().event_dim());
            let l = sum_rightmost_for(self.name(), &l, n)?;
            lp = lp.broadcast_sub(&l)?;
        }
        // Where the base density is 0 the pushed-forward density is 0 too, also where a
        // log-det is −∞ at the same point (the bound of an Exp image: −∞ − (−∞)); the
        // base's decay wins over the Jacobian's for every transform here.
        let zero = base_lp.eq(f64::NEG_INFINITY)?;
        if lp.dims() == zero.dims() {
            lp = zero.where_cond(&base_lp, &lp)?;
        }
        Ok(lp)
    }

    /// The product of the transforms' signs, or `NotImplemented` for `method` when one
    /// is unknown or a transform acts on events.
    fn monotone_sign(&self, method: &'static str) -> Result<i8> {
        let mut s = 1i8;
        for t in &self.transforms {
            match t.sign() {
                Some(v) if t.domain().event_dim() == 0 && t.codomain().event_dim() == 0 => s *= v,
                _ => {
                    return Err(Error::NotImplemented {
                        distribution: self.name,
                        method,
                        reason: Some(format!("{} is not a monotone scalar map", t.name())),
                    })
                }
            }
        }
        Ok(s)
    }

    fn argument(
        &self,
        argument: &'static str,
        value: &Tensor,
        c: Option<&Constraint>,
    ) -> Result<Tensor> {
        let dtype = result_dtype(self.dtype(), &self.batch_shape, value);
        checked_argument(
            self.name,
            argument,
            value,
            &self.batch_shape,
            &self.event_shape,
            dtype,
            self.device(),
            if self.validate { c } else { None },
        )
    }

    fn push_forward(&self, mut x: Tensor) -> Result<Tensor> {
        for t in &self.transforms {
            x = t.forward(&x).map_err(|e| e.renamed(self.name))?;
        }
        Ok(x)
    }

    fn push_forward_with_log_prob(&self, x: Tensor, base_lp: Tensor) -> Result<(Tensor, Tensor)> {
        let dims = self.event_dims()?;
        let mut y = x;
        let mut ladjs = Vec::with_capacity(self.transforms.len());
        for t in &self.transforms {
            let (next, l) = t
                .forward_and_log_det(&y)
                .map_err(|e| e.renamed(self.name))?;
            ladjs.push(l);
            y = next;
        }
        let lp = self.combine(base_lp, ladjs, &dims)?;
        Ok((y, lp))
    }
}

impl Distribution for TransformedDistribution {
    fn name(&self) -> &'static str {
        self.name
    }
    fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }
    fn event_shape(&self) -> &[usize] {
        &self.event_shape
    }
    fn support(&self) -> Constraint {
        match self.transforms.last() {
            None => self.base.support(),
            Some(t) => with_event_dim(t.codomain(), self.event_shape.len()),
        }
    }
    fn device(&self) -> &Device {
        self.base.device()
    }
    fn dtype(&self) -> DType {
        self.base.dtype()
    }
    fn has_rsample(&self) -> bool {
        self.base.has_rsample()
    }
    fn validate_args(&self) -> bool {
        self.validate
    }
    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let x = self
            .base
            .rsample(sample_shape, rng)
            .map_err(|e| e.renamed(self.name))?;
        self.push_forward(x)
    }
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let x = self
            .base
            .sample(sample_shape, rng)
            .map_err(|e| e.renamed(self.name))?;
        Ok(self.push_forward(x)?.detach())
    }
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let support = self.support();
        let y = self.argument("value", value, Some(&support))?;
        let dims = self.event_dims()?;
        let mut y = y;
        let mut ladjs = Vec::with_capacity(self.transforms.len());
        for t in self.transforms.iter().rev() {
            let x = t.inverse(&y).map_err(|e| e.renamed(self.name))?;
            ladjs.push(
                t.log_abs_det_jacobian(&x, &y)
                    .map_err(|e| e.renamed(self.name))?,
            );
            y = x;
        }
        ladjs.reverse();
        let base_lp = self.base.log_prob(&y).map_err(|e| e.renamed(self.name))?;
        self.combine(base_lp, ladjs, &dims)
    }
    fn rsample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let (x, base_lp) = self
            .base
            .rsample_and_log_prob(sample_shape, rng)
            .map_err(|e| e.renamed(self.name))?;
        self.push_forward_with_log_prob(x, base_lp)
    }
    fn sample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let (x, base_lp) = self
            .base
            .sample_and_log_prob(sample_shape, rng)
            .map_err(|e| e.renamed(self.name))?;
        let (y, lp) = self.push_forward_with_log_prob(x.detach(), base_lp)?;
        Ok((y.detach(), lp))
    }
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let sign = self.monotone_sign("cdf")?;
        let support = self.support();
        let mut x = self.argument("value", value, Some(&support))?;
        for t in self.transforms.iter().rev() {
            x = t.inverse(&x).map_err(|e| e.renamed(self.name))?;
        }
        let c = self.base.cdf(&x).map_err(|e| e.renamed(self.name))?;
        if sign > 0 {
            Ok(c)
        } else {
            Ok(c.neg()?.affine(1.0, 1.0)?)
        }
    }
    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let sign = self.monotone_sign("icdf")?;
        let q = self.argument("q", q, Some(&Constraint::UnitInterval))?;
        let q = if sign > 0 {
            q
        } else {
            q.neg()?.affine(1.0, 1.0)?
        };
        let x = self.base.icdf(&q).map_err(|e| e.renamed(self.name))?;
        self.push_forward(x)
    }
    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let mut shape = batch_shape.to_vec();
        shape.extend_from_slice(&self.event_shape);
        checked_numel(self.name, &shape)?;
        for t in self.transforms.iter().rev() {
            shape = t.inverse_shape(&shape).map_err(|e| e.renamed(self.name))?;
        }
        let e = self.base.event_shape().len();
        if shape.len() < e {
            return Err(Error::shape(
                self.name,
                format!("cannot expand to batch_shape {batch_shape:?}"),
            ));
        }
        let base = self
            .base
            .expand(&shape[..shape.len() - e])
            .map_err(|e| e.renamed(self.name))?;
        let mut d = Self::named(self.name, base, self.transforms.clone())?;
        d.validate = self.validate;
        Ok(Box::new(d))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
