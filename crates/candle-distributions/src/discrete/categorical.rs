//! The categorical distribution over class indices.

use super::probs_logits::{
    probs_logits_accessors, probs_logits_constructors, CategoricalParam, Given,
};
use crate::constraints::Constraint;
use crate::distribution::{
    check_value, default_validate_args, prepare_event_value, result_dtype, sample_extent,
    Distribution, Param,
};
use crate::error::Result;
use crate::rng::Generator;
use candle_core::{DType, Device, Tensor, D};

const NAME: &str = "Categorical";

/// The categorical pair of a family named `dist`, from a constructor argument: promoted
/// to a float tensor ([`crate::distribution::promote_params`]) and, when validating
/// (default: the global switch), checked.
pub(crate) fn categorical_param(
    dist: &'static str,
    given: Given,
    p: Param,
    validate: Option<bool>,
) -> Result<(CategoricalParam, bool)> {
    let [t] = crate::distribution::promote_params(dist, [(given.name(), p)])?;
    let validate = validate.unwrap_or_else(default_validate_args);
    Ok((CategoricalParam::new(dist, given, &t, validate)?, validate))
}

/// A tensor of `values` (f64) of `dims` in `dtype` on `device`.
pub(crate) fn host_tensor(
    values: Vec<f64>,
    dims: &[usize],
    dtype: DType,
    device: &Device,
) -> Result<Tensor> {
    Ok(Tensor::from_vec(values, dims, &Device::Cpu)?
        .to_dtype(dtype)?
        .to_device(device)?)
}

/// The categorical distribution (torch's `Categorical`): class indices 0..K−1 with
/// probabilities p_k along the last dimension of `probs` or `logits`.
///
/// - Parameters: `probs` (non-negative weights, normalised by their row sum) or
///   `logits` (log-probabilities up to a constant, normalised by log-sum-exp; −∞ is a
///   class of probability 0). Shape `batch_shape ++ [K]`; the event is a scalar index.
/// - Mass: P(X = k) = p_k, log_prob(k) = ℓ_k = ln p_k, on {0, …, K − 1}.
/// - Draws are `DType::I64` indices; a class of probability 0 is never drawn.
/// - Entropy −Σ p_k ℓ_k (terms with p_k = 0 are 0, with zero gradient); mean and
///   variance NaN (as torch); mode argmax p.
///
/// Parameters: `probs` are normalised by their row sum (ln p is exact, −∞ on the
/// zero-probability classes, where torch clamps to ln ε); `logits` are normalised by
/// log-sum-exp in f64 (−∞ entries allowed, +∞ refused when validating).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{Categorical, Distribution, Generator};
/// let logits = Tensor::new(&[[0.0f32, f32::NEG_INFINITY, 1.0]], &Device::Cpu)?;
/// let d = Categorical::from_logits(&logits)?;
/// let x = d.sample(&[1000], &mut Generator::new(0))?; // [1000, 1] of i64
/// assert!(x.flatten_all()?.to_vec1::<i64>()?.iter().all(|&k| k != 1));
/// let lp = d.log_prob(&Tensor::new(&[2i64], &Device::Cpu)?)?.to_vec1::<f32>()?;
/// assert!((lp[0] - (-(1.0 + (-1f32).exp()).ln())).abs() < 1e-6);
/// assert!(d.entropy()?.to_vec1::<f32>()?[0].is_finite());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Categorical {
    param: CategoricalParam,
    batch_shape: Vec<usize>,
    validate: bool,
}

impl Categorical {
    probs_logits_constructors! {
        /// Categorical(probs): non-negative weights along the last dimension (a tensor; a
        /// plain number is refused, the categories need a dimension).
        new;
        /// Categorical(logits): unnormalised log-probabilities along the last dimension.
        from_logits;
        "Categorical", Self::build; ; row
    }

    fn build(given: Given, p: Param, validate: Option<bool>) -> Result<Self> {
        let (param, validate) = categorical_param(NAME, given, p, validate)?;
        Ok(Self::from_param(param, validate))
    }

    pub(crate) fn from_param(param: CategoricalParam, validate: bool) -> Self {
        Categorical {
            batch_shape: param.batch_shape().to_vec(),
            param,
            validate,
        }
    }

    pub(crate) fn param(&self) -> &CategoricalParam {
        &self.param
    }

    probs_logits_accessors!(categorical param);

    /// K, the number of categories (torch's `_num_events`).
    pub fn num_events(&self) -> usize {
        self.param.num_events()
    }

    /// Turns argument checks of `log_prob` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.validate = on;
    }

    /// Normalised log-probabilities for the value `value` (shape `vshape`, broadcast
    /// with the batch), gathered at the class indices `idx` (i64, shape `vshape`): the
    /// shared evaluation of Categorical and OneHotCategorical.
    pub(crate) fn gather_log_prob(&self, l: &Tensor, idx: &Tensor) -> Result<Tensor> {
        crate::special::rows::pick(l, idx)
    }

    /// Class indices as i64 from a value broadcast with the batch (any accepted dtype).
    /// Validating, a value outside {0, …, K − 1} is an error; otherwise it comes back
    /// with a mask of the values in the support (the others read class 0 and are given
    /// log-mass −∞ by the caller).
    fn indices(&self, value: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        // Integer values stay integers (no float round trip); floats are read in f64,
        // exact for every index that fits in memory, and checked before the cast.
        let float = matches!(value.dtype(), DType::F32 | DType::F64);
        let via = if float { DType::F64 } else { DType::I64 };
        let (v, _) = prepare_event_value(NAME, value, &self.batch_shape, &[], via, self.device())?;
        if self.validate {
            check_value(NAME, "value", &v, &self.support())?;
            return Ok((if float { v.to_dtype(DType::I64)? } else { v }, None));
        }
        // One host pass: indices, and a mask only when some value is outside.
        let top = (self.num_events() - 1) as f64;
        let host = crate::constraints::host_f64(&v)?;
        let inside = |x: f64| x >= 0.0 && x <= top && x.floor() == x;
        let idx: Vec<i64> = host
            .iter()
            .map(|&x| if inside(x) { x as i64 } else { 0 })
            .collect();
        let dims = v.dims().to_vec();
        let idx = Tensor::from_vec(idx, dims.as_slice(), &Device::Cpu)?.to_device(self.device())?;
        if host.iter().all(|&x| inside(x)) {
            return Ok((idx, None));
        }
        let ok: Vec<u8> = host.iter().map(|&x| inside(x) as u8).collect();
        let ok = Tensor::from_vec(ok, dims.as_slice(), &Device::Cpu)?.to_device(self.device())?;
        Ok((idx, Some(ok)))
    }
}

/// `lp` where `mask` (u8) is set, −∞ elsewhere: the log-mass of values outside the
/// support when arguments are not validated.
pub(crate) fn outside_is_neg_inf(lp: Tensor, mask: Option<Tensor>) -> Result<Tensor> {
    match mask {
        None => Ok(lp),
        Some(m) => {
            let ninf =
                Tensor::full(f64::NEG_INFINITY, lp.dims(), lp.device())?.to_dtype(lp.dtype())?;
            Ok(m.where_cond(&lp, &ninf)?)
        }
    }
}

impl Distribution for Categorical {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }

    fn event_shape(&self) -> &[usize] {
        &[]
    }

    fn support(&self) -> Constraint {
        Constraint::IntegerInterval(0, self.num_events() as i64 - 1)
    }

    fn device(&self) -> &Device {
        self.param.raw().device()
    }

    fn dtype(&self) -> DType {
        self.param.raw().dtype()
    }

    fn validate_args(&self) -> bool {
        self.validate
    }

    fn rsample(&self, _sample_shape: &[usize], _rng: &mut Generator) -> Result<Tensor> {
        Err(super::no_rsample(
            NAME,
            "RelaxedOneHotCategorical or OneHotCategoricalStraightThrough",
        ))
    }

    /// i64 class indices of shape `sample_shape ++ batch_shape`
    /// ([`crate::special::rows`]: one uniform per draw, inverse CDF on the row).
    fn sample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = sample_extent(NAME, sample_shape, &self.batch_shape, &[], DType::I64)?;
        let n_samples: usize = sample_shape.iter().product();
        let l = self.param.logits()?.detach();
        let v = crate::special::rows::categorical_draws(NAME, &l, n_samples, rng.next_draw())?;
        Ok(Tensor::from_vec(v, shape, &Device::Cpu)?.to_device(self.device())?)
    }

    /// ℓ at the value's class (i64, u32, u8 or float holding integers), broadcast with
    /// the batch; −∞ for values outside {0, …, K − 1} when not validating (torch
    /// fails its gather there).
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let (idx, mask) = self.indices(value)?;
        let dt = result_dtype(self.dtype(), &self.batch_shape, value);
        let l = if dt == self.dtype() {
            self.param.logits()?
        } else {
            self.param.wide_logits()?
        };
        outside_is_neg_inf(self.gather_log_prob(&l, &idx)?.to_dtype(dt)?, mask)
    }

    /// −Σ_k p_k ℓ_k in f64, the terms of classes with p_k = 0 taken as 0 (with zero
    /// gradient; 0·(−∞) would be NaN).
    fn entropy(&self) -> Result<Tensor> {
        let l = self.param.wide_logits()?;
        let finite = l.ne(f64::NEG_INFINITY)?;
        let zero = l.zeros_like()?;
        let l0 = finite.where_cond(&l, &zero)?;
        let p = finite.where_cond(&l0.exp()?, &zero)?;
        let h = (p * l0)?.sum(D::Minus1)?.neg()?;
        Ok(h.to_dtype(self.dtype())?)
    }

    /// NaN (torch: the index has no meaningful mean).
    fn mean(&self) -> Result<Tensor> {
        Ok(
            Tensor::full(f64::NAN, self.batch_shape.as_slice(), self.device())?
                .to_dtype(self.dtype())?,
        )
    }

    /// NaN (torch).
    fn variance(&self) -> Result<Tensor> {
        self.mean()
    }

    /// argmax_k p_k as i64 (the first of equal maxima).
    fn mode(&self) -> Result<Tensor> {
        crate::special::rows::argmax(&self.param.logits()?)
    }

    /// 0..K as i64 along a new leading dimension: shape `[K] ++ [1]*len(batch)`, or
    /// `[K] ++ batch_shape` with `expand`.
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let k = self.num_events();
        let mut dims = vec![1usize; self.batch_shape.len() + 1];
        dims[0] = k;
        let v = Tensor::arange(0i64, k as i64, self.device())?.reshape(dims.as_slice())?;
        if expand {
            let mut full = vec![k];
            full.extend_from_slice(&self.batch_shape);
            Ok(v.broadcast_as(full.as_slice())?)
        } else {
            Ok(v)
        }
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        Ok(Box::new(Self::from_param(
            self.param.expand(NAME, batch_shape)?,
            self.validate,
        )))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
