//! The probs/logits pair: the one home of the two parameterizations shared by every
//! family given by probabilities or log-odds.
//!
//! A family is built from one of them (`Given`) and derives the other once, lazily.
//! Log-masses are evaluated in f64 from whichever was given, never through a round trip
//! (ln σ(l) = −softplus(−l) from logits, ln p and ln1p(−p) from probs), so
//! `Bernoulli(probs = 1e-4).log_prob(1)` is ln 1e-4 with gradient 1e4 exactly, and
//! logits of ±1e38 in f32 give finite results.

use crate::constraints::Constraint;
use crate::error::Result;
use crate::special;
use candle_core::{DType, Tensor};
use std::sync::OnceLock;

/// Which parameter the user gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Given {
    /// Probabilities.
    Probs,
    /// Log-odds (binary) or unnormalized log-probabilities (categorical).
    Logits,
}

impl Given {
    /// torch's parameter name.
    pub fn name(self) -> &'static str {
        match self {
            Given::Probs => "probs",
            Given::Logits => "logits",
        }
    }
}

/// The constructors of a family given by probs or logits, as associated items inside
/// its `impl` block:
///
/// ```text
/// probs_logits_constructors! {
///     /// doc of `new`
///     new;
///     /// doc of `from_logits`
///     from_logits;
///     "Binomial", Self::make; total_count: impl Into<Param>; scalars
/// }
/// ```
///
/// writes `new(lead.., probs)`, `new_with_validation(lead.., probs, validate)`,
/// `from_logits(lead.., logits)` and `from_logits_with_validation(lead.., logits,
/// validate)`, each calling `make(Given, lead.., param, validate: Option<bool>)` with
/// every argument passed through `Into` (so `make` takes `Param`s, or the lead's own
/// type). The last word says which `from_scalars` to add: `scalars` takes every
/// parameter as an f64 ([`scalar_params`](crate::distribution::scalar_params)); `row`
/// (no lead parameters) takes one row of category weights `&[f64]`; `none` adds none
/// (the family writes its own). The file's `NAME` names the distribution in errors.
macro_rules! probs_logits_constructors {
    (
        $(#[$new_doc:meta])*
        new;
        $(#[$logits_doc:meta])*
        from_logits;
        $ty:literal, $make:expr; $($lead:ident: $lt:ty),*; $scalars:ident
    ) => {
        $(#[$new_doc])*
        #[allow(clippy::useless_conversion)]
        pub fn new(
            $($lead: $lt,)*
            probs: impl Into<$crate::distribution::Param>,
        ) -> $crate::Result<Self> {
            ($make)(
                $crate::discrete::probs_logits::Given::Probs,
                $($lead.into(),)*
                probs.into(),
                None,
            )
        }

        #[doc = concat!("As [`", $ty, "::new`], with argument validation set for this instance.")]
        #[allow(clippy::useless_conversion)]
        pub fn new_with_validation(
            $($lead: $lt,)*
            probs: impl Into<$crate::distribution::Param>,
            validate: bool,
        ) -> $crate::Result<Self> {
            ($make)(
                $crate::discrete::probs_logits::Given::Probs,
                $($lead.into(),)*
                probs.into(),
                Some(validate),
            )
        }

        $(#[$logits_doc])*
        #[allow(clippy::useless_conversion)]
        pub fn from_logits(
            $($lead: $lt,)*
            logits: impl Into<$crate::distribution::Param>,
        ) -> $crate::Result<Self> {
            ($make)(
                $crate::discrete::probs_logits::Given::Logits,
                $($lead.into(),)*
                logits.into(),
                None,
            )
        }

        #[doc = concat!(
            "As [`", $ty, "::from_logits`], with argument validation set for this instance."
        )]
        #[allow(clippy::useless_conversion)]
        pub fn from_logits_with_validation(
            $($lead: $lt,)*
            logits: impl Into<$crate::distribution::Param>,
            validate: bool,
        ) -> $crate::Result<Self> {
            ($make)(
                $crate::discrete::probs_logits::Given::Logits,
                $($lead.into(),)*
                logits.into(),
                Some(validate),
            )
        }

        $crate::discrete::probs_logits::probs_logits_constructors!(@$scalars $ty; $($lead),*);
    };
    (@none $ty:literal; $($lead:ident),*) => {};
    (@scalars $ty:literal; $($lead:ident),*) => {
        #[doc = concat!(
            "A scalar ", $ty, "(", $(stringify!($lead), ", ",)*
            "probs) of `dtype` (f32 or f64) on `device`."
        )]
        pub fn from_scalars(
            $($lead: f64,)*
            probs: f64,
            dtype: candle_core::DType,
            device: &candle_core::Device,
        ) -> $crate::Result<Self> {
            let [$($lead,)* probs] =
                $crate::distribution::scalar_params(NAME, [$($lead,)* probs], dtype, device)?;
            Self::new($(&$lead,)* &probs)
        }
    };
    (@row $ty:literal;) => {
        #[doc = concat!(
            "A ", $ty, "(probs) for one row of category weights, of `dtype` (f32 or f64) on \
             `device`."
        )]
        pub fn from_scalars(
            probs: &[f64],
            dtype: candle_core::DType,
            device: &candle_core::Device,
        ) -> $crate::Result<Self> {
            Self::new(&$crate::discrete::categorical::host_tensor(
                probs.to_vec(),
                &[probs.len()],
                dtype,
                device,
            )?)
        }
    };
}
pub(crate) use probs_logits_constructors;

/// The accessors `probs()` and `logits()` of a family, as associated items inside its
/// `impl` block, read from one field: `probs_logits_accessors!(binary bin)` for a
/// [`BinaryParam`] (or a binary family it wraps), `probs_logits_accessors!(categorical
/// param)` for a [`CategoricalParam`] (or a categorical family it wraps), and
/// `probs_logits_accessors!(lazy params[i])`, which also writes `pair(&self) ->
/// &BinaryParam`, made on first use from the fields `given: Given`,
/// `pair: OnceLock<BinaryParam>` and entry `i` of `params: Params` (so sampling, which
/// reads the raw parameter, never pays for the f64 copy).
macro_rules! probs_logits_accessors {
    (lazy $params:ident[$i:literal]) => {
        /// The probs/logits pair as given (for KL closed forms and other crate code
        /// that needs ln p, ln(1 − p) from the given parameter), made on first use.
        pub(crate) fn pair(&self) -> &$crate::discrete::probs_logits::BinaryParam {
            self.pair.get_or_init(|| {
                $crate::discrete::probs_logits::BinaryParam::new(
                    self.given,
                    self.$params.get($i),
                    self.$params.w($i),
                )
            })
        }
        $crate::discrete::probs_logits::probs_logits_accessors!(@binary pair());
    };
    (binary $field:ident) => {
        $crate::discrete::probs_logits::probs_logits_accessors!(@binary $field);
    };
    (@binary $field:ident $($call:tt)*) => {
        /// p, broadcast to `batch_shape`: the given probs, or σ(logits) (evaluated in
        /// f64, rounded once).
        pub fn probs(&self) -> $crate::Result<candle_core::Tensor> {
            self.$field$($call)*.probs()
        }

        /// l = ln(p/(1 − p)), broadcast to `batch_shape`: the given logits, or torch's
        /// `probs_to_logits` (p clamped to [ε, 1 − ε] of the dtype, so p ∈ {0, 1} gives
        /// finite logits).
        pub fn logits(&self) -> $crate::Result<candle_core::Tensor> {
            self.$field$($call)*.logits()
        }
    };
    (categorical $field:ident) => {
        /// p, normalised along the last dimension, shape `batch_shape ++ [K]`, in the
        /// dtype.
        pub fn probs(&self) -> $crate::Result<candle_core::Tensor> {
            self.$field.probs()
        }

        /// ℓ = ln p, the normalised logits (torch's `logits`), shape
        /// `batch_shape ++ [K]`, in the dtype.
        pub fn logits(&self) -> $crate::Result<candle_core::Tensor> {
            self.$field.logits()
        }
    };
}
pub(crate) use probs_logits_accessors;

/// The probability p of a binary outcome (Bernoulli, Geometric, Binomial,
/// NegativeBinomial, the relaxed Bernoulli pair), given as `probs` p ∈ [0, 1] or as
/// `logits` l = ln(p/(1 − p)) ∈ ℝ ∪ {±∞}.
///
/// Holds the parameter as given (broadcast, in the family's dtype, on the user's graph)
/// and its f64 copy; everything else is derived on first use and cached.
#[derive(Debug, Clone)]
pub(crate) struct BinaryParam {
    given: Given,
    /// The given parameter in the dtype, broadcast to the batch shape.
    raw: Tensor,
    /// The given parameter in f64 (from `Params::w`, so its broadcast is summed in f64).
    wide: Tensor,
    other: OnceLock<Tensor>,
    logs: OnceLock<(Tensor, Tensor)>,
}

impl BinaryParam {
    /// The constraint of the given parameter, for `Params::new`: [0, 1] for probs, the
    /// reals (±∞ included, NaN excluded) for logits.
    pub fn constraint(given: Given) -> Constraint {
        match given {
            Given::Probs => Constraint::UnitInterval,
            Given::Logits => Constraint::Real,
        }
    }

    /// `raw`: the parameter broadcast in the dtype (`Params::get`); `wide`: the same in
    /// f64 (`Params::w`).
    pub fn new(given: Given, raw: &Tensor, wide: &Tensor) -> Self {
        BinaryParam {
            given,
            raw: raw.clone(),
            wide: wide.clone(),
            other: OnceLock::new(),
            logs: OnceLock::new(),
        }
    }

    pub fn given(&self) -> Given {
        self.given
    }

    /// The parameter as given, in the dtype.
    pub fn raw(&self) -> &Tensor {
        &self.raw
    }

    /// The given parameter in f64.
    pub fn wide(&self) -> &Tensor {
        &self.wide
    }

    /// p in the dtype: the given probs, or σ(l) evaluated in f64 and rounded.
    pub fn probs(&self) -> Result<Tensor> {
        match self.given {
            Given::Probs => Ok(self.raw.clone()),
            Given::Logits => self.derived(),
        }
    }

    /// l in the dtype: the given logits, or torch's `probs_to_logits`: ln p − ln(1 − p)
    /// with p clamped to [ε, 1 − ε] of the dtype, so that 0 and 1 give finite logits.
    pub fn logits(&self) -> Result<Tensor> {
        match self.given {
            Given::Logits => Ok(self.raw.clone()),
            Given::Probs => self.derived(),
        }
    }

    /// p in f64, on the graph of the given parameter.
    pub fn wide_probs(&self) -> Result<Tensor> {
        match self.given {
            Given::Probs => Ok(self.wide.clone()),
            Given::Logits => Ok(special::sigmoid(&self.wide)?),
        }
    }

    /// (ln p, ln(1 − p)) in f64 from the given parameter, exact to rounding everywhere
    /// (−∞ where p is 0 or 1), with exact gradients: from probs ln p and ln1p(−p); from
    /// logits −softplus(−l) and −softplus(l).
    pub fn log_probs(&self) -> Result<(Tensor, Tensor)> {
        if let Some(v) = self.logs.get() {
            return Ok(v.clone());
        }
        let pair = Self::logs_of(self.given, &self.wide)?;
        Ok(self.logs.get_or_init(|| pair).clone())
    }

    /// (ln p, ln(1 − p)) of a given parameter `w` (probs or logits as `given` says; any
    /// f64 tensor on the graph, such as a KL's widened and broadcast copy): from probs
    /// ln p and ln1p(−p), −∞ exactly at p ∈ {0, 1} with gradient 0 there (the logarithm
    /// is taken at a stand-in, so the backward pass never forms 0/0); from logits
    /// −softplus(−l) and −softplus(l), every digit at ±∞ included.
    pub fn logs_of(given: Given, w: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok(match given {
            Given::Logits => (
                special::softplus(&w.neg()?)?.neg()?,
                special::softplus(w)?.neg()?,
            ),
            Given::Probs => {
                let neg_inf = w.ones_like()?.affine(0.0, f64::NEG_INFINITY)?;
                let zero = w.eq(0.0)?;
                let one = w.eq(1.0)?;
                let lp = zero.where_cond(&w.ones_like()?, w)?.log()?;
                let l1p = special::log1p(&one.where_cond(&w.zeros_like()?, w)?.neg()?)?;
                (
                    zero.where_cond(&neg_inf, &lp)?,
                    one.where_cond(&neg_inf, &l1p)?,
                )
            }
        })
    }

    /// 1 − p in f64, on the graph of the given parameter: 1 − p from probs, σ(−l) from
    /// logits (no cancellation where p is near 1).
    pub fn wide_complement(&self) -> Result<Tensor> {
        match self.given {
            Given::Probs => Ok(self.wide.neg()?.affine(1.0, 1.0)?),
            Given::Logits => Ok(special::sigmoid(&self.wide.neg()?)?),
        }
    }

    /// `a·ln p + b·ln(1 − p)` in f64 for weights `a`, `b` (f64 tensors of one shape,
    /// into which the batch broadcasts: counts of successes and failures), with
    /// 0·ln 0 = 0 in the value *and* the gradient: where a weight is 0 its term is 0 and
    /// the parameter is replaced, for that term, by a point where the logarithm is
    /// finite, so no 0·∞ reaches the backward pass (ln p at p = 0 has gradient 1/p).
    /// The logarithms are those of [`BinaryParam::log_probs`]: ln p, ln1p(−p) from
    /// probs, −softplus(∓l) from logits.
    pub fn weighted_log_probs(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let w = crate::distribution::broadcast_to(&self.wide, a.dims())?;
        let term = |weight: &Tensor, safe: f64, f: &dyn Fn(&Tensor) -> Result<Tensor>| {
            let zero = weight.eq(0.0)?;
            let x = zero.where_cond(&(w.ones_like()? * safe)?, &w)?;
            let t = (weight * f(&x)?)?;
            Ok::<Tensor, crate::Error>(zero.where_cond(&t.zeros_like()?, &t)?)
        };
        let (ta, tb) = match self.given {
            Given::Probs => (
                term(a, 1.0, &|x| Ok(x.log()?))?,
                term(b, 0.0, &|x| special::log1p(&x.neg()?))?,
            ),
            Given::Logits => (
                term(a, 0.0, &|x| Ok(special::softplus(&x.neg()?)?.neg()?))?,
                term(b, 0.0, &|x| Ok(special::softplus(x)?.neg()?))?,
            ),
        };
        Ok((ta + tb)?)
    }

    fn derived(&self) -> Result<Tensor> {
        if let Some(t) = self.other.get() {
            return Ok(t.clone());
        }
        let dtype = self.raw.dtype();
        let t = match self.given {
            Given::Logits => special::sigmoid(&self.wide)?.to_dtype(dtype)?,
            Given::Probs => {
                let eps = match dtype {
                    DType::F32 => f32::EPSILON as f64,
                    _ => f64::EPSILON,
                };
                let p = self.wide.clamp(eps, 1.0 - eps)?;
                (p.log()? - special::log1p(&p.neg()?)?)?.to_dtype(dtype)?
            }
        };
        Ok(self.other.get_or_init(|| t).clone())
    }
}

/// The probabilities of K categories along the last dimension (Categorical,
/// OneHotCategorical, Multinomial, the relaxed categorical pair), given as `probs`
/// (non-negative weights, normalised by their row sum as torch does) or as `logits`
/// (unnormalised log-probabilities, normalised by log-sum-exp).
///
/// Everything is derived from the given parameter by one row kernel
/// ([`special::rows`]): the normalised log-probabilities ℓ = x − logsumexp(x) from
/// logits, ℓ = ln p − ln Σp from probs, in f64 with the row maximum taken out first (so
/// logits of ±1e38 in f32 give no NaN), −∞ exactly for the classes of probability 0,
/// and exact gradients (g − softmax·Σg; δ/p − 1/Σp without 0·∞ at zero weights).
///
/// Departure from torch: `logits()` for a distribution given by `probs` is the exact
/// ln(p/Σp), −∞ where p = 0, where torch clamps p to [ε, 1 − ε] first; log-masses
/// are therefore −∞ (not ln ε) on the classes of probability 0.
#[derive(Debug, Clone)]
pub(crate) struct CategoricalParam {
    given: Given,
    /// The given parameter in the dtype, shape `batch_shape ++ [K]`.
    raw: Tensor,
    logits: OnceLock<Tensor>,
    wide_logits: OnceLock<Tensor>,
}

impl CategoricalParam {
    /// The constraint of each entry of the given parameter: probs in [0, ∞) (NaN and
    /// +∞ refused), logits below +∞ (NaN refused; −∞ is a class of probability 0).
    /// torch accepts +∞ logits and then returns NaN; a row of them has no unique
    /// limit in general, so they are refused here. A row also needs some mass: a
    /// positive entry (probs) or an entry above −∞ (logits), see [`Self::new`].
    pub fn constraint(given: Given) -> Constraint {
        match given {
            Given::Probs => Constraint::HalfOpenInterval(0.0, f64::INFINITY),
            Given::Logits => Constraint::LessThan(f64::INFINITY),
        }
    }

    /// `raw` (f32/f64, shape `batch_shape ++ [K]`, K ≥ 1); with `validate`, checks
    /// every entry against [`Self::constraint`] and every row for mass, errors naming
    /// `dist` and the parameter.
    pub fn new(dist: &'static str, given: Given, raw: &Tensor, validate: bool) -> Result<Self> {
        if raw.rank() == 0 || raw.dims().last() == Some(&0) {
            return Err(crate::Error::shape(
                dist,
                format!(
                    "`{}` needs a last dimension of size ≥ 1 (the categories), got shape {:?}",
                    given.name(),
                    raw.dims()
                ),
            ));
        }
        crate::distribution::checked_numel(dist, raw.dims())?;
        if validate {
            crate::distribution::check_param(dist, given.name(), raw, &Self::constraint(given))?;
            let k = raw.dims()[raw.rank() - 1];
            let v = crate::constraints::host_f64(raw)?;
            for (r, row) in v.chunks(k).enumerate() {
                let has_mass = match given {
                    Given::Probs => row.iter().any(|&x| x > 0.0),
                    Given::Logits => row.iter().any(|&x| x > f64::NEG_INFINITY),
                };
                if !has_mass {
                    let what = match given {
                        Given::Probs => "a positive sum over the last dimension",
                        Given::Logits => "an entry above −∞ in every row of the last dimension",
                    };
                    return Err(crate::Error::InvalidParameter {
                        distribution: dist,
                        parameter: given.name(),
                        constraint: what.to_string(),
                        found: row[0],
                        index: r * k,
                    });
                }
            }
        }
        Ok(CategoricalParam {
            given,
            raw: raw.clone(),
            logits: OnceLock::new(),
            wide_logits: OnceLock::new(),
        })
    }

    /// The parameter as given, shape `batch_shape ++ [K]`.
    pub fn raw(&self) -> &Tensor {
        &self.raw
    }

    /// K, the number of categories.
    pub fn num_events(&self) -> usize {
        self.raw.dims()[self.raw.rank() - 1]
    }

    /// Everything but the last dimension.
    pub fn batch_shape(&self) -> &[usize] {
        &self.raw.dims()[..self.raw.rank() - 1]
    }

    fn normalise(&self, x: &Tensor) -> Result<Tensor> {
        match self.given {
            Given::Logits => special::rows::log_softmax(x),
            Given::Probs => special::rows::log_normalize(x),
        }
    }

    /// ℓ = ln p, the normalised log-probabilities in the dtype (evaluated in f64 and
    /// rounded once), on the graph of the given parameter.
    pub fn logits(&self) -> Result<Tensor> {
        if let Some(t) = self.logits.get() {
            return Ok(t.clone());
        }
        let t = if self.raw.dtype() == DType::F64 {
            self.wide_logits()?
        } else {
            self.normalise(&self.raw)?
        };
        Ok(self.logits.get_or_init(|| t).clone())
    }

    /// ℓ in f64, on the graph of the given parameter (converted before normalising, so
    /// f32 parameters get f64 log-probabilities and their gradients summed in f64).
    pub fn wide_logits(&self) -> Result<Tensor> {
        if let Some(t) = self.wide_logits.get() {
            return Ok(t.clone());
        }
        let t = self.normalise(&self.raw.to_dtype(DType::F64)?)?;
        Ok(self.wide_logits.get_or_init(|| t).clone())
    }

    /// p = e^ℓ in f64.
    pub fn wide_probs(&self) -> Result<Tensor> {
        Ok(self.wide_logits()?.exp()?)
    }

    /// p = e^ℓ (torch: probs / probs.sum(-1) or softmax(logits)) in the dtype.
    pub fn probs(&self) -> Result<Tensor> {
        Ok(self.wide_probs()?.to_dtype(self.raw.dtype())?)
    }

    /// The pair with the batch broadcast to `batch_shape` (for `expand`); the caches
    /// already filled are broadcast too.
    pub fn expand(&self, dist: &'static str, batch_shape: &[usize]) -> Result<Self> {
        let mut shape = batch_shape.to_vec();
        shape.push(self.num_events());
        crate::distribution::expand_extent(dist, &shape)?;
        let err = |_| {
            crate::Error::shape(
                dist,
                format!(
                    "cannot expand batch_shape {:?} to {:?}",
                    self.batch_shape(),
                    batch_shape
                ),
            )
        };
        let raw = self.raw.broadcast_as(shape.as_slice()).map_err(err)?;
        let out = CategoricalParam {
            given: self.given,
            raw,
            logits: OnceLock::new(),
            wide_logits: OnceLock::new(),
        };
        if let Some(t) = self.logits.get() {
            let _ = out.logits.set(t.broadcast_as(shape.as_slice())?);
        }
        if let Some(t) = self.wide_logits.get() {
            let _ = out.wide_logits.set(t.broadcast_as(shape.as_slice())?);
        }
        Ok(out)
    }
}
