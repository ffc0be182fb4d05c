//! The one-hot categorical distribution.

use super::categorical::{categorical_param, host_tensor, outside_is_neg_inf, Categorical};
use super::probs_logits::{probs_logits_accessors, probs_logits_constructors, Given};
use crate::constraints::Constraint;
use crate::distribution::{prepare_event_value, result_dtype, sample_extent, Distribution, Param};
use crate::error::{Error, Result};
use crate::rng::Generator;
use candle_core::{DType, Device, Tensor, D};

const NAME: &str = "OneHotCategorical";

/// The constraint text of one-hot values (the crate's [`Constraint`] has no one-hot
/// set; `support()` reports the simplex, which contains it).
pub(crate) const ONE_HOT: &str = "one-hot (entries 0 or 1, exactly one 1 along the last dimension)";

/// Checks that every row (last dimension) of `v` (f64) is one-hot, naming `dist`.
pub(crate) fn check_one_hot(dist: &'static str, v: &Tensor) -> Result<()> {
    let k = v.dims().last().copied().unwrap_or(1).max(1);
    let host = crate::constraints::host_f64(v)?;
    for (r, row) in host.chunks(k).enumerate() {
        let mut ones = 0;
        for (j, &x) in row.iter().enumerate() {
            if x == 1.0 {
                ones += 1;
            } else if x != 0.0 {
                return Err(Error::OutOfSupport {
                    distribution: dist,
                    argument: "value",
                    constraint: ONE_HOT.into(),
                    found: x,
                    index: r * k + j,
                });
            }
        }
        if ones != 1 {
            return Err(Error::OutOfSupport {
                distribution: dist,
                argument: "value",
                constraint: ONE_HOT.into(),
                found: row.iter().sum(),
                index: r * k,
            });
        }
    }
    Ok(())
}

/// The one-hot categorical distribution (torch's `OneHotCategorical`): the categorical
/// draw k as the vector e_k of length K.
///
/// - Parameters: `probs` or `logits` of shape `batch_shape ++ [K]`, as
///   [`Categorical`]; `event_shape = [K]`.
/// - Mass: P(X = e_k) = p_k; log_prob(x) = ℓ_k at the position k of the 1 in x.
/// - Draws are 0/1 vectors in the float dtype of the parameters.
/// - Mean p, variance p(1 − p), mode e_{argmax p}, entropy as [`Categorical`].
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Distribution, Generator, OneHotCategorical};
/// let d = OneHotCategorical::new(&Tensor::new(&[1.0f64, 3.0], &Device::Cpu)?)?;
/// assert_eq!(d.event_shape(), &[2]);
/// let x = d.sample(&[5], &mut Generator::new(0))?; // [5, 2], one 1 per row
/// assert!(x.sum(1)?.to_vec1::<f64>()?.iter().all(|&s| s == 1.0));
/// let lp = d.log_prob(&Tensor::new(&[0.0f64, 1.0], &Device::Cpu)?)?;
/// assert!((lp.to_scalar::<f64>()? - 0.75f64.ln()).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct OneHotCategorical {
    cat: Categorical,
    event_shape: [usize; 1],
}

impl OneHotCategorical {
    probs_logits_constructors! {
        /// OneHotCategorical(probs): non-negative weights along the last dimension.
        new;
        /// OneHotCategorical(logits): unnormalised log-probabilities along the last dimension.
        from_logits;
        "OneHotCategorical", Self::build; ; row
    }

    pub(crate) fn build_named(
        dist: &'static str,
        given: Given,
        p: Param,
        validate: Option<bool>,
    ) -> Result<Self> {
        let (param, validate) = categorical_param(dist, given, p, validate)?;
        Ok(Self::from_categorical(Categorical::from_param(
            param, validate,
        )))
    }

    fn build(given: Given, p: Param, validate: Option<bool>) -> Result<Self> {
        Self::build_named(NAME, given, p, validate)
    }

    fn from_categorical(cat: Categorical) -> Self {
        let k = cat.num_events();
        OneHotCategorical {
            cat,
            event_shape: [k],
        }
    }

    /// The underlying [`Categorical`] (torch's `_categorical`).
    pub fn categorical(&self) -> &Categorical {
        &self.cat
    }

    probs_logits_accessors!(categorical cat);

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.cat.set_validate_args(on);
    }

    /// One-hot draws (f64 0/1 written on the host, then the dtype), shape
    /// `sample_shape ++ batch_shape ++ [K]`.
    pub(crate) fn one_hot_sample(
        &self,
        dist: &'static str,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<Tensor> {
        let shape = sample_extent(
            dist,
            sample_shape,
            self.cat.batch_shape(),
            &self.event_shape,
            self.dtype(),
        )?;
        let idx = self
            .cat
            .sample(sample_shape, rng)?
            .flatten_all()?
            .to_vec1::<i64>()?;
        let k = self.event_shape[0];
        let n = crate::distribution::checked_numel(dist, &shape)?;
        let mut v = crate::special::kernel::alloc_buffer::<f64>(dist, n)?;
        for (row, &i) in v.chunks_mut(k).zip(&idx) {
            row[i as usize] = 1.0;
        }
        host_tensor(v, &shape, self.dtype(), self.device())
    }

    /// The same law with the batch broadcast to `batch_shape`, errors naming `dist`.
    pub(crate) fn expanded(&self, dist: &'static str, batch_shape: &[usize]) -> Result<Self> {
        let cat = Categorical::from_param(
            self.cat.param().expand(dist, batch_shape)?,
            self.cat.validate_args(),
        );
        Ok(Self::from_categorical(cat))
    }

    /// log_prob under the name `dist` (shared with the straight-through variant): ℓ at
    /// the position of the 1; −∞ for a row that is not one-hot when not validating
    /// (torch reads the position of the largest entry of any row).
    pub(crate) fn one_hot_log_prob(&self, dist: &'static str, value: &Tensor) -> Result<Tensor> {
        let (v, _) = prepare_event_value(
            dist,
            value,
            self.cat.batch_shape(),
            &self.event_shape,
            DType::F64,
            self.device(),
        )?;
        let mask = if self.validate_args() {
            check_one_hot(dist, &v)?;
            None
        } else {
            // One-hot rows: every entry 0 or 1 (v(1 − v) = 0) and a sum of 1.
            let off = (&v * (1.0 - &v)?)?.abs()?.sum(D::Minus1)?;
            Some((off.eq(0.0)? * v.sum(D::Minus1)?.eq(1.0)?)?)
        };
        let idx = crate::special::rows::argmax(&v)?;
        let dt = result_dtype(self.dtype(), self.cat.batch_shape(), value);
        let l = if dt == self.dtype() {
            self.cat.param().logits()?
        } else {
            self.cat.param().wide_logits()?
        };
        outside_is_neg_inf(self.cat.gather_log_prob(&l, &idx)?.to_dtype(dt)?, mask)
    }
}

impl Distribution for OneHotCategorical {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> &[usize] {
        self.cat.batch_shape()
    }

    fn event_shape(&self) -> &[usize] {
        &self.event_shape
    }

    /// The simplex (torch: `one_hot`, which the crate's constraints lack; one-hot
    /// vectors are its vertices, and `log_prob` checks one-hotness itself).
    fn support(&self) -> Constraint {
        Constraint::OneHot
    }

    fn device(&self) -> &Device {
        self.cat.device()
    }

    fn dtype(&self) -> DType {
        self.cat.dtype()
    }

    fn validate_args(&self) -> bool {
        self.cat.validate_args()
    }

    fn rsample(&self, _sample_shape: &[usize], _rng: &mut Generator) -> Result<Tensor> {
        Err(super::no_rsample(
            NAME,
            "OneHotCategoricalStraightThrough or RelaxedOneHotCategorical",
        ))
    }

    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        self.one_hot_sample(NAME, sample_shape, rng)
    }

    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        self.one_hot_log_prob(NAME, value)
    }

    fn entropy(&self) -> Result<Tensor> {
        self.cat.entropy()
    }

    /// p.
    fn mean(&self) -> Result<Tensor> {
        self.probs()
    }

    /// p(1 − p), in f64 and rounded.
    fn variance(&self) -> Result<Tensor> {
        let p = self.cat.param().wide_probs()?;
        Ok((&p * (1.0 - &p)?)?.to_dtype(self.dtype())?)
    }

    /// e_{argmax p} (the first of equal maxima), in the dtype.
    fn mode(&self) -> Result<Tensor> {
        let idx = self.cat.mode()?;
        let k = self.event_shape[0];
        let classes = Tensor::arange(0i64, k as i64, self.device())?;
        let mut full = idx.dims().to_vec();
        full.push(k);
        let hot = idx
            .unsqueeze(D::Minus1)?
            .broadcast_as(full.as_slice())?
            .eq(&classes.broadcast_as(full.as_slice())?)?;
        Ok(hot.to_dtype(self.dtype())?)
    }

    /// The K unit vectors along a new leading dimension: `[K] ++ [1]*len(batch) ++ [K]`,
    /// or `[K] ++ batch_shape ++ [K]` with `expand`.
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let k = self.event_shape[0];
        let b = self.cat.batch_shape().len();
        let eye = Tensor::eye(k, self.dtype(), self.device())?;
        let mut dims = vec![k];
        dims.extend(std::iter::repeat_n(1, b));
        dims.push(k);
        let v = eye.reshape(dims.as_slice())?;
        if expand {
            let mut full = vec![k];
            full.extend_from_slice(self.cat.batch_shape());
            full.push(k);
            Ok(v.broadcast_as(full.as_slice())?)
        } else {
            Ok(v)
        }
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        Ok(Box::new(self.expanded(NAME, batch_shape)?))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
