//! The property suite: every distribution of the crate, every trait method, driven by
//! proptest over hostile parameters (0, −0, subnormals, MIN_POSITIVE, ±MAX, ±∞, NaN,
//! 1e±300, ordinary values), broadcastable and non-broadcastable shapes (zero-size
//! dimensions and `[1]` included), f32/f64 mixes between parameters and between
//! parameters and values, and validation on and off per instance.
//!
//! Invariants checked (see `check_case`):
//! - no call panics (each runs under `catch_unwind`) and every case returns within
//!   `CASE_TIMEOUT` (each case runs on a worker thread);
//! - invalid input with validation on gives a typed error naming the distribution the
//!   user built and, for parameters, the parameter;
//! - with valid parameters (finite, inside their constraints; bounds of TruncatedNormal
//!   may be infinite): draws have the promised shape and dtype, lie in the support and
//!   are not NaN; `log_prob` at the draws is finite or −∞, or +∞ only at a support
//!   endpoint of a family whose density has a pole there (Gamma, Chi2, Beta,
//!   Kumaraswamy, FisherSnedecor, Dirichlet, ContinuousBernoulli at probs ∈ {0, 1},
//!   GeneralizedPareto with ξ < −1); `log_prob` outside the support is −∞ with
//!   validation off and `OutOfSupport` with it on; `cdf` lies in [0, 1] and is monotone
//!   over sorted values; `icdf(cdf(x)) ≈ x` where the cdf is not saturated (tolerance
//!   256·ε·(|x| + 1/p(x)), ε of the dtype: the condition of the round trip); moments are
//!   not NaN except where the family documents torch's NaN (`nan_ok`), variances are
//!   ≥ 0; parameter gradients of `rsample` and of `log_prob` (where it is finite) are
//!   not NaN;
//! - `expand` gives the promised batch shape and draws of the promised shape, and
//!   rejects incompatible shapes;
//! - the same seed gives the same bits;
//! - discrete laws (`integer` entries) are checked, not exempted: draws are integers in
//!   the support and have positive mass (`log_prob` above −∞ at every draw: no class
//!   of probability 0 is ever sampled), `log_prob` ≤ 0 everywhere, a non-integer value
//!   is outside the support, probe values are integers, `cdf` (where implemented) lies
//!   in [0, 1] and is monotone, and `enumerate_support` is `Ok` with torch's shape, m
//!   distinct points of the support whose masses sum to 1 where the support is bounded
//!   and small, and a typed error where it is unbounded, inhomogeneous or huge;
//! - categorical entries (`cat`): the last parameter's last dimension holds the K
//!   classes (not part of the batch), each parameter tensor is valid as given (weights
//!   finite and ≥ 0 with a positive row, logits below +∞ with an entry above −∞, as
//!   `CategoricalParam` rules), Categorical draws are `i64` indices in 0..K, one-hot
//!   draws are one-hot (a mid-simplex or two-hot vector is outside the support),
//!   Multinomial counts sum to `total_count`, relaxed draws lie on the simplex (or
//!   have log-sum-exp 0 for ExpRelaxedCategorical).
//!
//! Parameters that satisfy their constraints only by being infinite (`loc = ∞`,
//! `scale = ∞`) are a grey zone: torch accepts them and so does this crate, but no value
//! invariant is promised; they are only driven for panics, hangs and error types.
//!
//! Failures are collected, not raised at the first: one run lists every class
//! (distribution / method / what) with a count and the first input that showed it, and
//! prints the counts (cases, calls, errors by kind, panics, hangs, NaN from valid
//! parameters). `CANDLE_DIST_PROPTEST_CASES` sets the number of cases (default
//! `DEFAULT_CASES`), `CANDLE_DIST_PROPTEST_THREADS` the worker shards, `CANDLE_DIST_PROPTEST_ONLY`
//! (comma-separated labels) restricts a run to some families.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::transforms::{AffineTransform, ExpTransform, TransformedDistribution};
use candle_distributions::{Dirichlet, Error, Result};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common;
use common::property_harness::{
    self as harness, eps, err_kind, host, install_quiet_panic_hook, last_panic, Progress, Subject,
    CASE_TIMEOUT, F32_MAX, F32_MINP, F32_SUB,
};

/// Cases CI runs: 1–3 ms each on 2 cores in the test profile, so well under 3 minutes.
const DEFAULT_CASES: u32 = 8000;

// ---------------------------------------------------------------------------------
// The registry: one entry per distribution (adding a distribution is one entry).
// ---------------------------------------------------------------------------------

/// The constraint of one parameter, as the suite's independent host predicate.
#[derive(Clone, Copy, PartialEq, Debug)]
enum PKind {
    /// Real; valid when finite (an infinite value is the grey zone).
    Real,
    /// Real, infinite values valid (truncation bounds).
    RealExt,
    /// > 0; valid when finite.
    Pos,
    /// In [0, 1].
    Unit,
    /// In (0, 1] (Geometric's probs).
    PosUnit,
    /// A categorical row of weights (`probs`, the last parameter of a `cat` entry):
    /// every entry finite and ≥ 0, some entry > 0 (`CategoricalParam`'s rules).
    Weight,
    /// A categorical row of `logits`: no NaN, no +∞ (−∞ is a class of probability 0,
    /// not the grey zone), some entry above −∞.
    LogWeight,
}

/// The categorical mode of an entry: its last parameter (`probs` or `logits`) has a
/// last dimension K that is the number of classes, not part of the batch; the other
/// parameters (a temperature) are batch-shaped. What the draws are:
#[derive(Clone, Copy, PartialEq, Debug)]
enum Cat {
    /// Class indices (Categorical): event `[]`, `i64` draws in `0..K`.
    Index,
    /// One-hot vectors (OneHotCategorical, its straight-through twin): event `[K]`.
    OneHot,
    /// Counts over K classes summing to [`MULTINOMIAL_COUNT`] (Multinomial): event `[K]`.
    Counts,
    /// Points of the simplex (RelaxedOneHotCategorical): event `[K]`.
    Simplex,
    /// Logarithms of points of the simplex (ExpRelaxedCategorical): event `[K]`, real
    /// entries whose log-sum-exp is 0.
    LogSimplex,
}

type Build = fn(&[Tensor], bool) -> Result<Box<dyn Distribution>>;

struct Entry {
    /// Registry label (what a report shows).
    label: &'static str,
    /// The name the distribution reports (`Distribution::name`, errors).
    name: &'static str,
    params: &'static [(&'static str, PKind)],
    build: Build,
    /// `params[a] < params[b]` elementwise (Uniform, TruncatedNormal).
    cross: Option<(usize, usize)>,
    /// Closed support [lo, hi] for the parameters of one batch element.
    bounds: fn(&[f64]) -> (f64, f64),
    /// Moments that may be NaN for these parameters (torch's documented conventions).
    nan_ok: fn(&str, &[f64]) -> bool,
    /// The support excludes its lower bound (`Constraint::Positive`): a draw of exactly
    /// 0 (underflow) is outside it, and its own `log_prob` rejects it.
    open_lo: bool,
    /// The density may be +∞ at a support endpoint.
    endpoint_pole: bool,
    /// The last dimension of the single parameter is the event (Dirichlet).
    event: bool,
    /// With `event`: every parameter's last dimension K is the event dimension, the
    /// parameters broadcast in full (0-dim parameters mean K = 1, as torch expands
    /// them to `[1]`), and the event has K + 1 entries (LogisticNormal).
    stick: bool,
    /// Angles: draws and the cdf live on one period, the cdf is not checked for
    /// monotonicity against a window that moves with `loc`.
    circular: bool,
    /// Check `icdf(cdf(x)) ≈ x` on ln x (laws on (0, ∞) over many orders of magnitude).
    log_roundtrip: bool,
    /// The support is the integers in `bounds` (for `Cat::OneHot`/`Counts`: every
    /// coordinate): draws, probe values and `enumerate_support` are integers, a
    /// non-integer value is outside the support, masses are at most 1 and a draw has
    /// positive mass; `cdf`/`icdf` may be `NotImplemented` (torch has none).
    integer: bool,
    /// The categorical mode (see [`Cat`]).
    cat: Option<Cat>,
}

impl Entry {
    /// The event is one vector of K coordinates (Dirichlet, LogisticNormal, and the
    /// categorical modes but `Cat::Index`).
    fn vector_event(&self) -> bool {
        self.event || matches!(self.cat, Some(c) if c != Cat::Index)
    }

    /// A law on a countable set: `enumerate_support` may be `Ok`, draws have mass.
    fn discrete(&self) -> bool {
        self.integer
    }
}

/// The dtype the constructors promote `p` to (dimensioned tensors decide, then 0-dim
/// ones): the count families' parameter maps below work in it, so that a value that
/// rounds to 0 or ∞ in f32 is judged as the suite's predicate judges it.
fn promoted_dtype(p: &[Tensor]) -> DType {
    let dimmed: Vec<&Tensor> = p.iter().filter(|t| t.rank() > 0).collect();
    let pool: Vec<&Tensor> = if dimmed.is_empty() {
        p.iter().collect()
    } else {
        dimmed
    };
    if pool.iter().any(|t| t.dtype() == DType::F64) {
        DType::F64
    } else {
        DType::F32
    }
}

/// A total count from a `Pos` parameter v (in the promoted dtype): ⌊v⌋ where v > 0 (a
/// non-negative integer), −1 elsewhere (invalid exactly where the suite's predicate
/// says so), at most the dtype's largest number (v = ∞ is the grey zone).
fn count_of(p: &[Tensor]) -> Result<Tensor> {
    let dt = promoted_dtype(p);
    let max = if dt == DType::F32 {
        f32::MAX as f64
    } else {
        f64::MAX
    };
    let v = p[0].to_dtype(dt)?;
    Ok(zero_admitted(&v)?.floor()?.minimum(max)?)
}

/// A parameter whose constraint admits 0 (Poisson's rate, NegativeBinomial's
/// total_count) from a `Pos` parameter v, in the promoted dtype: v ≤ 0 becomes −1, so
/// it is invalid exactly where the suite's predicate says so.
fn zero_admitted_of(p: &[Tensor]) -> Result<Tensor> {
    zero_admitted(&p[0].to_dtype(promoted_dtype(p))?)
}

fn zero_admitted(v: &Tensor) -> Result<Tensor> {
    let neg = v.ones_like()?.neg()?;
    Ok(v.le(0.0)?.where_cond(&neg, v)?)
}

fn bx<D: Distribution + 'static>(d: Result<D>) -> Result<Box<dyn Distribution>> {
    Ok(Box::new(d?))
}

fn real(_: &[f64]) -> (f64, f64) {
    (f64::NEG_INFINITY, f64::INFINITY)
}
fn nonneg(_: &[f64]) -> (f64, f64) {
    (0.0, f64::INFINITY)
}
fn unit(_: &[f64]) -> (f64, f64) {
    (0.0, 1.0)
}
fn never(_: &str, _: &[f64]) -> bool {
    false
}
fn is_var(m: &str) -> bool {
    m == "variance" || m == "stddev"
}

fn entry(label: &'static str, params: &'static [(&'static str, PKind)], build: Build) -> Entry {
    Entry {
        label,
        name: label,
        params,
        build,
        cross: None,
        bounds: real,
        nan_ok: never,
        open_lo: false,
        endpoint_pole: false,
        event: false,
        stick: false,
        circular: false,
        log_roundtrip: false,
        integer: false,
        cat: None,
    }
}

/// An entry of the categorical mode: `params`' last one carries the K classes.
fn cat_entry(
    label: &'static str,
    name: &'static str,
    cat: Cat,
    params: &'static [(&'static str, PKind)],
    build: Build,
) -> Entry {
    Entry {
        name,
        integer: matches!(cat, Cat::Index | Cat::OneHot | Cat::Counts),
        cat: Some(cat),
        bounds: match cat {
            // The row follows the other parameters in a batch element's vector.
            Cat::Index => |p| (0.0, p.len() as f64 - 1.0),
            Cat::Counts => |_| (0.0, MULTINOMIAL_COUNT as f64),
            Cat::OneHot | Cat::Simplex => unit,
            Cat::LogSimplex => real,
        },
        // A relaxed draw may have coordinates of exactly 0 or 1 (underflow at low
        // temperatures): its density may be +∞ there, as Dirichlet's.
        endpoint_pole: cat == Cat::Simplex,
        ..entry(label, params, build)
    }
}

/// Multinomial's total_count in the suite (a usize, not a tensor parameter).
const MULTINOMIAL_COUNT: usize = 5;

use PKind::*;
const LOC_SCALE: &[(&str, PKind)] = &[("loc", Real), ("scale", Pos)];

fn registry() -> Vec<Entry> {
    vec![
        entry("Normal", LOC_SCALE, |p, v| {
            bx(Normal::new_with_validation(&p[0], &p[1], v))
        }),
        Entry {
            bounds: |_| (-1.0, 1.0),
            // No pole in exact arithmetic, but the log-density peaks near 2·loc + 2·scale²
            // at actions within e^{-2u} of ±1: beyond the dtype's range for huge
            // parameters, where the draw rounds to the endpoint and +∞ is the rounding.
            endpoint_pole: true,
            ..entry("TanhNormal", LOC_SCALE, |p, v| {
                bx(TanhNormal::new_with_validation(&p[0], &p[1], v))
            })
        },
        Entry {
            label: "TransformedDistribution(Normal > Exp > Affine)",
            name: "TransformedDistribution",
            bounds: |_| (1.0, f64::INFINITY),
            // As LogNormal at huge scales: draws round onto the lower end, where the
            // log-density (≈ −x for x → −∞) exceeds the dtype's range.
            endpoint_pole: true,
            ..entry("TransformedDistribution", LOC_SCALE, |p, v| {
                // The user builds the base: its parameter errors name it; the suite
                // checks names against this entry's, so attribute them here.
                let named = |e: Error| e.renamed("TransformedDistribution");
                let base = Normal::new_with_validation(&p[0], &p[1], v).map_err(named)?;
                let mut d = TransformedDistribution::new(
                    Box::new(base),
                    vec![
                        Box::new(ExpTransform),
                        Box::new(AffineTransform::new(1.0, 2.0)?),
                    ],
                )?;
                d.set_validate_args(v);
                bx(Ok(d))
            })
        },
        Entry {
            cross: Some((0, 1)),
            bounds: |p| (p[0], p[1]),
            nan_ok: |m, _| m == "mode",
            ..entry("Uniform", &[("low", Real), ("high", Real)], |p, v| {
                bx(Uniform::new_with_validation(&p[0], &p[1], v))
            })
        },
        Entry {
            bounds: nonneg,
            ..entry("Exponential", &[("rate", Pos)], |p, v| {
                bx(Exponential::new_with_validation(&p[0], v))
            })
        },
        entry("Laplace", LOC_SCALE, |p, v| {
            bx(Laplace::new_with_validation(&p[0], &p[1], v))
        }),
        Entry {
            nan_ok: |m, _| m == "mean",
            ..entry("Cauchy", LOC_SCALE, |p, v| {
                bx(Cauchy::new_with_validation(&p[0], &p[1], v))
            })
        },
        entry("Gumbel", LOC_SCALE, |p, v| {
            bx(Gumbel::new_with_validation(&p[0], &p[1], v))
        }),
        Entry {
            bounds: nonneg,
            open_lo: true,
            log_roundtrip: true,
            ..entry("LogNormal", LOC_SCALE, |p, v| {
                bx(LogNormal::new_with_validation(&p[0], &p[1], v))
            })
        },
        Entry {
            bounds: nonneg,
            ..entry("HalfNormal", &[("scale", Pos)], |p, v| {
                bx(HalfNormal::new_with_validation(&p[0], v))
            })
        },
        Entry {
            bounds: nonneg,
            ..entry("HalfCauchy", &[("scale", Pos)], |p, v| {
                bx(HalfCauchy::new_with_validation(&p[0], v))
            })
        },
        Entry {
            bounds: nonneg,
            endpoint_pole: true,
            ..entry("Gamma", &[("concentration", Pos), ("rate", Pos)], |p, v| {
                bx(Gamma::new_with_validation(&p[0], &p[1], v))
            })
        },
        Entry {
            bounds: nonneg,
            endpoint_pole: true,
            ..entry("Chi2", &[("df", Pos)], |p, v| {
                bx(Chi2::new_with_validation(&p[0], v))
            })
        },
        Entry {
            bounds: nonneg,
            open_lo: true,
            ..entry(
                "InverseGamma",
                &[("concentration", Pos), ("rate", Pos)],
                |p, v| bx(InverseGamma::new_with_validation(&p[0], &p[1], v)),
            )
        },
        Entry {
            bounds: unit,
            endpoint_pole: true,
            // torch's convention leaves 0/0 where both are ≤ 1 and one is 1.
            nan_ok: |m, p| {
                m == "mode" && p[0] <= 1.0 && p[1] <= 1.0 && (p[0] == 1.0 || p[1] == 1.0)
            },
            ..entry(
                "Beta",
                &[("concentration1", Pos), ("concentration0", Pos)],
                |p, v| bx(Beta::new_with_validation(&p[0], &p[1], v)),
            )
        },
        Entry {
            bounds: unit,
            endpoint_pole: true,
            event: true,
            nan_ok: |m, p| m == "mode" && p.iter().all(|&a| a <= 1.0) && p.contains(&1.0),
            ..entry("Dirichlet", &[("concentration", Pos)], |p, v| {
                bx(Dirichlet::new_with_validation(&p[0], v))
            })
        },
        Entry {
            nan_ok: |m, p| (m == "mean" || is_var(m)) && p[0] <= 1.0,
            ..entry(
                "StudentT",
                &[("df", Pos), ("loc", Real), ("scale", Pos)],
                |p, v| bx(StudentT::new_with_validation(&p[0], &p[1], &p[2], v)),
            )
        },
        Entry {
            bounds: nonneg,
            open_lo: true,
            endpoint_pole: true,
            nan_ok: |m, p| {
                (m == "mean" && p[1] <= 2.0)
                    || (is_var(m) && p[1] <= 4.0)
                    || (m == "mode" && p[0] <= 2.0)
            },
            ..entry("FisherSnedecor", &[("df1", Pos), ("df2", Pos)], |p, v| {
                bx(FisherSnedecor::new_with_validation(&p[0], &p[1], v))
            })
        },
        Entry {
            bounds: unit,
            endpoint_pole: true,
            nan_ok: |m, p| {
                m == "mode" && (p[0] < 1.0 || p[1] < 1.0 || (p[0] == 1.0 && p[1] == 1.0))
            },
            ..entry(
                "Kumaraswamy",
                &[("concentration1", Pos), ("concentration0", Pos)],
                |p, v| bx(Kumaraswamy::new_with_validation(&p[0], &p[1], v)),
            )
        },
        Entry {
            bounds: |p| {
                let hi = if p[2] < 0.0 {
                    p[0] - p[1] / p[2]
                } else {
                    f64::INFINITY
                };
                (p[0], hi)
            },
            endpoint_pole: true,
            ..entry(
                "GeneralizedPareto",
                &[("loc", Real), ("scale", Pos), ("concentration", Real)],
                |p, v| {
                    bx(GeneralizedPareto::new_with_validation(
                        &p[0], &p[1], &p[2], v,
                    ))
                },
            )
        },
        Entry {
            bounds: unit,
            endpoint_pole: true,
            nan_ok: |m, p| m == "mode" && p[0] == 0.5,
            ..entry("ContinuousBernoulli", &[("probs", Unit)], |p, v| {
                bx(ContinuousBernoulli::new_with_validation(&p[0], v))
            })
        },
        Entry {
            label: "ContinuousBernoulli(logits)",
            name: "ContinuousBernoulli",
            bounds: unit,
            endpoint_pole: true,
            nan_ok: |m, p| m == "mode" && p[0] == 0.0,
            ..entry("ContinuousBernoulli", &[("logits", Real)], |p, v| {
                bx(ContinuousBernoulli::from_logits_with_validation(&p[0], v))
            })
        },
        entry(
            "LogitRelaxedBernoulli",
            &[("temperature", Pos), ("probs", Unit)],
            |p, v| bx(LogitRelaxedBernoulli::new_with_validation(&p[0], &p[1], v)),
        ),
        Entry {
            label: "LogitRelaxedBernoulli(logits)",
            name: "LogitRelaxedBernoulli",
            ..entry(
                "LogitRelaxedBernoulli",
                &[("temperature", Pos), ("logits", Real)],
                |p, v| {
                    bx(LogitRelaxedBernoulli::from_logits_with_validation(
                        &p[0], &p[1], v,
                    ))
                },
            )
        },
        Entry {
            bounds: unit,
            ..entry(
                "RelaxedBernoulli",
                &[("temperature", Pos), ("probs", Unit)],
                |p, v| bx(RelaxedBernoulli::new_with_validation(&p[0], &p[1], v)),
            )
        },
        Entry {
            label: "RelaxedBernoulli(logits)",
            name: "RelaxedBernoulli",
            bounds: unit,
            ..entry(
                "RelaxedBernoulli",
                &[("temperature", Pos), ("logits", Real)],
                |p, v| {
                    bx(RelaxedBernoulli::from_logits_with_validation(
                        &p[0], &p[1], v,
                    ))
                },
            )
        },
        Entry {
            bounds: unit,
            integer: true,
            nan_ok: |m, p| m == "mode" && p[0] == 0.5,
            ..entry("Bernoulli", &[("probs", Unit)], |p, v| {
                bx(Bernoulli::new_with_validation(&p[0], v))
            })
        },
        Entry {
            label: "Bernoulli(logits)",
            name: "Bernoulli",
            bounds: unit,
            integer: true,
            nan_ok: |m, p| m == "mode" && p[0].abs() < 1e-7,
            ..entry("Bernoulli", &[("logits", Real)], |p, v| {
                bx(Bernoulli::from_logits_with_validation(&p[0], v))
            })
        },
        Entry {
            bounds: nonneg,
            integer: true,
            ..entry("Geometric", &[("probs", PosUnit)], |p, v| {
                bx(Geometric::new_with_validation(&p[0], v))
            })
        },
        Entry {
            label: "Geometric(logits)",
            name: "Geometric",
            bounds: nonneg,
            integer: true,
            ..entry("Geometric", &[("logits", Real)], |p, v| {
                bx(Geometric::from_logits_with_validation(&p[0], v))
            })
        },
        // The count families. The suite's parameter kinds have no integer kind: a
        // `Pos` draw v maps to total_count ⌊v⌋ (valid exactly where v > 0; ∞ to the
        // dtype's largest number, a grey-zone stand-in), and rates/total counts that
        // admit 0 map v ≤ 0 to −1, so validity agrees with the suite's predicate.
        Entry {
            bounds: |p| (0.0, p[0].floor().min(f64::MAX)),
            integer: true,
            ..entry(
                "Binomial",
                &[("total_count", Pos), ("probs", Unit)],
                |p, v| bx(Binomial::new_with_validation(&count_of(p)?, &p[1], v)),
            )
        },
        Entry {
            label: "Binomial(logits)",
            name: "Binomial",
            bounds: |p| (0.0, p[0].floor().min(f64::MAX)),
            integer: true,
            ..entry(
                "Binomial",
                &[("total_count", Pos), ("logits", Real)],
                |p, v| {
                    bx(Binomial::from_logits_with_validation(
                        &count_of(p)?,
                        &p[1],
                        v,
                    ))
                },
            )
        },
        Entry {
            bounds: nonneg,
            integer: true,
            ..entry("Poisson", &[("rate", Pos)], |p, v| {
                bx(Poisson::new_with_validation(&zero_admitted_of(p)?, v))
            })
        },
        Entry {
            bounds: nonneg,
            integer: true,
            ..entry(
                "NegativeBinomial",
                &[("total_count", Pos), ("probs", Unit)],
                |p, v| {
                    // probs = 1 (valid for `Unit`) is outside torch's [0, 1): 0.5 instead.
                    let probs = p[1].to_dtype(promoted_dtype(p))?;
                    let half = probs.ones_like()?.affine(0.5, 0.0)?;
                    let probs = probs.eq(1.0)?.where_cond(&half, &probs)?;
                    bx(NegativeBinomial::new_with_validation(
                        &zero_admitted_of(p)?,
                        &probs,
                        v,
                    ))
                },
            )
        },
        Entry {
            label: "NegativeBinomial(logits)",
            name: "NegativeBinomial",
            bounds: nonneg,
            integer: true,
            ..entry(
                "NegativeBinomial",
                &[("total_count", Pos), ("logits", Real)],
                |p, v| {
                    bx(NegativeBinomial::from_logits_with_validation(
                        &zero_admitted_of(p)?,
                        &p[1],
                        v,
                    ))
                },
            )
        },
        Entry {
            bounds: |_| (-std::f64::consts::PI, std::f64::consts::PI),
            circular: true,
            ..entry(
                "VonMises",
                &[("loc", Real), ("concentration", Pos)],
                |p, v| bx(VonMises::new_with_validation(&p[0], &p[1], v)),
            )
        },
        Entry {
            cross: Some((2, 3)),
            bounds: |p| (p[2], p[3]),
            ..entry(
                "TruncatedNormal",
                &[
                    ("loc", Real),
                    ("scale", Pos),
                    ("low", RealExt),
                    ("high", RealExt),
                ],
                |p, v| {
                    bx(TruncatedNormal::new_with_validation(
                        &p[0], &p[1], &p[2], &p[3], v,
                    ))
                },
            )
        },
        Entry {
            bounds: |p| (p[0], f64::INFINITY),
            log_roundtrip: true,
            ..entry("Pareto", &[("scale", Pos), ("alpha", Pos)], |p, v| {
                bx(Pareto::new_with_validation(&p[0], &p[1], v))
            })
        },
        Entry {
            bounds: unit,
            event: true,
            stick: true,
            // A draw whose coordinates underflowed to 0 lies on the simplex's boundary;
            // its log-density there (a finite number beyond the dtype's range at
            // loc = ±f32::MAX) is +∞.
            endpoint_pole: true,
            ..entry("LogisticNormal", LOC_SCALE, |p, v| {
                bx(LogisticNormal::new_with_validation(&p[0], &p[1], v))
            })
        },
        Entry {
            bounds: nonneg,
            open_lo: true,
            log_roundtrip: true,
            // torch's ((k − 1)/k)^{1/k}: no mode for k < 1 (density unbounded at 0).
            nan_ok: |m, p| m == "mode" && p[1] < 1.0,
            ..entry(
                "Weibull",
                &[("scale", Pos), ("concentration", Pos)],
                |p, v| bx(Weibull::new_with_validation(&p[0], &p[1], v)),
            )
        },
        // The categorical families: the last parameter's last dimension holds the K
        // classes (see `Cat`); `Weight`/`LogWeight` rows follow `CategoricalParam`.
        Entry {
            // torch: mean and variance of a class index are NaN.
            nan_ok: |m, _| m == "mean" || is_var(m),
            ..cat_entry(
                "Categorical",
                "Categorical",
                Cat::Index,
                &[("probs", Weight)],
                |p, v| bx(Categorical::new_with_validation(&p[0], v)),
            )
        },
        Entry {
            nan_ok: |m, _| m == "mean" || is_var(m),
            ..cat_entry(
                "Categorical(logits)",
                "Categorical",
                Cat::Index,
                &[("logits", LogWeight)],
                |p, v| bx(Categorical::from_logits_with_validation(&p[0], v)),
            )
        },
        cat_entry(
            "OneHotCategorical",
            "OneHotCategorical",
            Cat::OneHot,
            &[("probs", Weight)],
            |p, v| bx(OneHotCategorical::new_with_validation(&p[0], v)),
        ),
        cat_entry(
            "OneHotCategorical(logits)",
            "OneHotCategorical",
            Cat::OneHot,
            &[("logits", LogWeight)],
            |p, v| bx(OneHotCategorical::from_logits_with_validation(&p[0], v)),
        ),
        cat_entry(
            "OneHotCategoricalStraightThrough",
            "OneHotCategoricalStraightThrough",
            Cat::OneHot,
            &[("probs", Weight)],
            |p, v| {
                bx(OneHotCategoricalStraightThrough::new_with_validation(
                    &p[0], v,
                ))
            },
        ),
        cat_entry(
            "OneHotCategoricalStraightThrough(logits)",
            "OneHotCategoricalStraightThrough",
            Cat::OneHot,
            &[("logits", LogWeight)],
            |p, v| bx(OneHotCategoricalStraightThrough::from_logits_with_validation(&p[0], v)),
        ),
        cat_entry(
            "Multinomial",
            "Multinomial",
            Cat::Counts,
            &[("probs", Weight)],
            |p, v| {
                bx(Multinomial::new_with_validation(
                    MULTINOMIAL_COUNT,
                    &p[0],
                    v,
                ))
            },
        ),
        cat_entry(
            "Multinomial(logits)",
            "Multinomial",
            Cat::Counts,
            &[("logits", LogWeight)],
            |p, v| {
                bx(Multinomial::from_logits_with_validation(
                    MULTINOMIAL_COUNT,
                    &p[0],
                    v,
                ))
            },
        ),
        cat_entry(
            "ExpRelaxedCategorical",
            "ExpRelaxedCategorical",
            Cat::LogSimplex,
            &[("temperature", Pos), ("probs", Weight)],
            |p, v| bx(ExpRelaxedCategorical::new_with_validation(&p[0], &p[1], v)),
        ),
        cat_entry(
            "ExpRelaxedCategorical(logits)",
            "ExpRelaxedCategorical",
            Cat::LogSimplex,
            &[("temperature", Pos), ("logits", LogWeight)],
            |p, v| {
                bx(ExpRelaxedCategorical::from_logits_with_validation(
                    &p[0], &p[1], v,
                ))
            },
        ),
        cat_entry(
            "RelaxedOneHotCategorical",
            "RelaxedOneHotCategorical",
            Cat::Simplex,
            &[("temperature", Pos), ("probs", Weight)],
            |p, v| {
                bx(RelaxedOneHotCategorical::new_with_validation(
                    &p[0], &p[1], v,
                ))
            },
        ),
        cat_entry(
            "RelaxedOneHotCategorical(logits)",
            "RelaxedOneHotCategorical",
            Cat::Simplex,
            &[("temperature", Pos), ("logits", LogWeight)],
            |p, v| {
                bx(RelaxedOneHotCategorical::from_logits_with_validation(
                    &p[0], &p[1], v,
                ))
            },
        ),
    ]
}

// ---------------------------------------------------------------------------------
// Value pools and shapes.
// ---------------------------------------------------------------------------------

const HOSTILE: &[f64] = &[
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    F32_SUB,
    F32_MINP,
    f64::MIN_POSITIVE,
    f64::MAX,
    -f64::MAX,
    F32_MAX,
    -F32_MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    1e-300,
    1e300,
    -1e300,
    0.5,
    1.0,
    2.5,
    -1.3,
    0.117,
    7.0,
    1e-8,
    -3.0,
    1e8,
];
const REAL_V: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    -1.3,
    2.5,
    7.0,
    -100.0,
    1e-300,
    5e-324,
    1e-8,
    1e8,
    -1e8,
    1e300,
    -1e300,
    f64::MAX,
    -f64::MAX,
    F32_MAX,
    -F32_MAX,
];
const POS_V: &[f64] = &[
    5e-324,
    F32_SUB,
    F32_MINP,
    f64::MIN_POSITIVE,
    1e-300,
    1e-8,
    0.05,
    0.117,
    0.5,
    1.0,
    1.5,
    2.0,
    2.5,
    4.5,
    7.0,
    30.0,
    1e8,
    1e300,
    F32_MAX,
    f64::MAX,
];
const UNIT_V: &[f64] = &[
    0.0,
    1.0,
    0.5,
    5e-324,
    1e-300,
    F32_MINP,
    1e-8,
    0.3,
    0.7,
    0.499_999,
    0.500_000_1,
    1.0 - 1e-8,
    1.0 - 1e-16,
];

/// Categorical weights: `POS_V` and zeros (classes of probability 0; a row of zeros
/// has no mass and is invalid).
const WEIGHT_V: &[f64] = &[
    0.0,
    0.0,
    5e-324,
    F32_SUB,
    F32_MINP,
    1e-300,
    1e-8,
    0.117,
    0.5,
    1.0,
    2.5,
    7.0,
    30.0,
    1e8,
    1e300,
    F32_MAX,
    f64::MAX,
];
/// Categorical logits: `REAL_V` and −∞ (a class of probability 0).
const LOGIT_V: &[f64] = &[
    f64::NEG_INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    0.5,
    -1.3,
    2.5,
    7.0,
    -100.0,
    1e-300,
    1e-8,
    1e8,
    -1e8,
    1e300,
    -1e300,
    f64::MAX,
    -f64::MAX,
    F32_MAX,
    -F32_MAX,
];

/// Batch templates for valid shapes (each parameter takes a broadcastable reduction).
const TEMPLATES: &[&[usize]] = &[
    &[],
    &[1],
    &[2],
    &[3],
    &[0],
    &[2, 3],
    &[3, 1],
    &[1, 2],
    &[2, 0],
];
/// Arbitrary shapes for the hostile-shape mode (often not broadcastable).
const ANY_SHAPES: &[&[usize]] = &[
    &[],
    &[1],
    &[2],
    &[3],
    &[0],
    &[2, 3],
    &[3, 2],
    &[1, 3],
    &[2, 1],
    &[4],
    &[0, 2],
];
const SAMPLE_SHAPES: &[&[usize]] = &[&[], &[0], &[1], &[3], &[2, 2], &[7], &[1, 0], &[5]];

fn cast(v: f64, f64_: bool) -> f64 {
    if f64_ {
        v
    } else {
        v as f32 as f64
    }
}

/// Numpy broadcast of shapes, `None` if incompatible.
fn bshape(shapes: &[&[usize]]) -> Option<Vec<usize>> {
    let n = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1usize; n];
    for s in shapes {
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[n - s.len() + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return None;
            }
        }
    }
    Some(out)
}

/// Flat index into a tensor of `shape` broadcast to `target`, for target flat index `i`.
fn bindex(shape: &[usize], target: &[usize], mut i: usize) -> usize {
    let mut idx = 0;
    let mut stride = 1;
    for k in (0..target.len()).rev() {
        let coord = i % target[k];
        i /= target[k];
        let off = target.len() - shape.len();
        if k >= off {
            let d = shape[k - off];
            if d != 1 {
                idx += coord * stride;
            }
            stride *= d;
        }
    }
    idx
}

// ---------------------------------------------------------------------------------
// Cases.
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct PData {
    shape: Vec<usize>,
    f64_: bool,
    values: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Valid,
    HostileValues,
    HostileShapes,
}

#[derive(Debug, Clone)]
struct Case {
    entry: usize,
    mode: Mode,
    validate: bool,
    params: Vec<PData>,
    sample_shape: Vec<usize>,
    seed: u64,
}

impl Case {
    fn describe(&self, reg: &[Entry]) -> String {
        let e = &reg[self.entry];
        let ps: Vec<String> = e
            .params
            .iter()
            .zip(&self.params)
            .map(|((n, _), p)| {
                format!(
                    "{n}={}{:?}{:?}",
                    if p.f64_ { "f64" } else { "f32" },
                    p.shape,
                    p.values
                )
            })
            .collect();
        format!(
            "{}({}) validate={} sample_shape={:?} seed={} [{:?}]",
            e.label,
            ps.join(", "),
            self.validate,
            self.sample_shape,
            self.seed,
            self.mode
        )
    }
}

/// The raw proptest draw a case is made from.
type Raw = (
    usize,
    u8,
    bool,
    usize,
    Vec<(u8, bool, Vec<u16>)>,
    usize,
    u64,
    u8,
);

fn raw_strategy(n_entries: usize) -> impl Strategy<Value = Raw> {
    (
        0..n_entries,
        0u8..4,
        any::<bool>(),
        0..TEMPLATES.len(),
        prop::collection::vec(
            (
                any::<u8>(),
                any::<bool>(),
                prop::collection::vec(any::<u16>(), 8),
            ),
            4,
        ),
        0..SAMPLE_SHAPES.len(),
        any::<u64>(),
        any::<u8>(),
    )
}

fn materialize(reg: &[Entry], raw: Raw) -> Case {
    let (ei, mode, validate, tmpl, pr, ssi, seed, k) = raw;
    let e = &reg[ei];
    let mode = match mode {
        0 | 1 => Mode::Valid,
        2 => Mode::HostileValues,
        _ => Mode::HostileShapes,
    };
    let template = TEMPLATES[tmpl];
    let mut params: Vec<PData> = Vec::new();
    for (i, (_, kind)) in e.params.iter().enumerate() {
        let (mask, f64_, vals) = &pr[i];
        let mut shape: Vec<usize> = match mode {
            Mode::HostileShapes => ANY_SHAPES[*mask as usize % ANY_SHAPES.len()].to_vec(),
            _ => {
                // Drop some leading dimensions, set some to 1: still broadcastable.
                let drop = (*mask as usize & 3).min(template.len());
                let mut s = template[drop..].to_vec();
                for (j, d) in s.iter_mut().enumerate() {
                    if mask >> (2 + j) & 1 == 1 {
                        *d = 1;
                    }
                }
                s
            }
        };
        if let Some((a, b)) = e.cross {
            if i == b && mode != Mode::HostileShapes {
                shape = params[a].shape.clone();
            }
        }
        if e.event || (e.cat.is_some() && i + 1 == e.params.len()) {
            let kk = match mode {
                Mode::Valid => 1 + k as usize % 3,
                _ => k as usize % 4,
            };
            if mode == Mode::HostileShapes && k >= 200 {
                shape = vec![]; // no event dimension at all
            } else {
                shape.push(kk);
            }
        }
        let pool = match (mode, kind) {
            (Mode::Valid, Real) => REAL_V,
            (Mode::Valid, RealExt) => REAL_V,
            (Mode::Valid, Pos) => POS_V,
            (Mode::Valid, Unit | PosUnit) => UNIT_V,
            (Mode::Valid, Weight) => WEIGHT_V,
            (Mode::Valid, LogWeight) => LOGIT_V,
            _ => HOSTILE,
        };
        let n: usize = shape.iter().product();
        let mut values: Vec<f64> = (0..n)
            .map(|j| cast(pool[vals[j % 8] as usize % pool.len()], *f64_))
            .collect();
        if mode == Mode::Valid && *kind == RealExt && vals[7] % 5 == 0 && n > 0 {
            values[0] = if vals[6] % 2 == 0 {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            };
        }
        params.push(PData {
            shape,
            f64_: *f64_,
            values,
        });
    }
    if let (Mode::Valid, Some((a, b))) = (mode, e.cross) {
        let fb = params[b].f64_;
        let fa = params[a].f64_;
        for j in 0..params[a].values.len() {
            let (x, y) = (params[a].values[j], params[b].values[j]);
            let (mut lo, mut hi) = (x.min(y), x.max(y));
            if lo == hi {
                if lo == f64::INFINITY {
                    lo = 0.0;
                } else if lo >= 0.0 {
                    hi = lo * 2.0 + 1.0;
                } else {
                    hi = lo / 2.0 + 1.0;
                }
            }
            params[a].values[j] = cast(lo, fa);
            params[b].values[j] = cast(hi, fb);
        }
    }
    Case {
        entry: ei,
        mode,
        validate,
        params,
        sample_shape: SAMPLE_SHAPES[ssi].to_vec(),
        seed,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Class {
    /// Parameter shapes do not broadcast (or an event parameter has no event dimension).
    ShapeBad,
    /// Some element violates a constraint: validation must reject it.
    Invalid,
    /// Satisfies the constraints only through ±∞: driven for panics and hangs only.
    Grey,
    /// Finite (or infinite where the constraint allows), inside every constraint.
    Valid,
}

/// The dtype of the distribution, by torch's promotion: dimensioned tensors decide,
/// else 0-dim tensors (an f64 0-dim parameter next to an f32 vector is f32).
fn promoted(c: &Case) -> bool {
    let dims: Vec<&PData> = c.params.iter().filter(|p| !p.shape.is_empty()).collect();
    if dims.is_empty() {
        c.params.iter().any(|p| p.f64_)
    } else {
        dims.iter().any(|p| p.f64_)
    }
}

/// Batch shape and per-batch-element parameter vectors, in the promoted dtype (for
/// event entries: the K components of the one parameter).
fn classify(e: &Entry, c: &Case) -> (Class, Vec<usize>, Vec<Vec<f64>>) {
    if e.stick {
        return classify_stick(e, c);
    }
    if e.cat.is_some() {
        return classify_cat(e, c);
    }
    let wide = promoted(c);
    let shapes: Vec<Vec<usize>> = c
        .params
        .iter()
        .map(|p| {
            if e.event {
                p.shape[..p.shape.len().saturating_sub(1)].to_vec()
            } else {
                p.shape.clone()
            }
        })
        .collect();
    if e.event && (c.params[0].shape.is_empty()) {
        return (Class::ShapeBad, vec![], vec![]);
    }
    let refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
    let Some(batch) = bshape(&refs) else {
        return (Class::ShapeBad, vec![], vec![]);
    };
    if e.event && c.params[0].shape.last() == Some(&0) {
        // No categories: the crate rejects it as a shape error.
        return (Class::ShapeBad, vec![], vec![]);
    }
    let nb: usize = batch.iter().product();
    let mut elems = Vec::with_capacity(nb);
    let mut class = Class::Valid;
    for i in 0..nb {
        let mut pv = Vec::new();
        if e.event {
            let k = *c.params[0].shape.last().unwrap();
            let bi = bindex(&shapes[0], &batch, i);
            pv.extend(
                c.params[0].values[bi * k..bi * k + k]
                    .iter()
                    .map(|&v| cast(v, wide)),
            );
            for &v in &pv {
                if v.is_nan() || v <= 0.0 {
                    return (Class::Invalid, batch, vec![]);
                }
                if v.is_infinite() {
                    class = Class::Grey;
                }
            }
        } else {
            for (j, (_, kind)) in e.params.iter().enumerate() {
                let v = cast(c.params[j].values[bindex(&shapes[j], &batch, i)], wide);
                match elem_ok(*kind, v) {
                    None => return (Class::Invalid, batch, vec![]),
                    Some(true) => class = Class::Grey,
                    Some(false) => {}
                }
                pv.push(v);
            }
            if let Some((a, b)) = e.cross {
                if pv[a].partial_cmp(&pv[b]) != Some(std::cmp::Ordering::Less) {
                    return (Class::Invalid, batch, vec![]);
                }
            }
        }
        elems.push(pv);
    }
    (class, batch, elems)
}

/// The suite's predicate for one parameter element of `kind` (a categorical row also
/// needs mass, see [`classify_cat`]): `None` when invalid, else whether it is in the grey zone (infinite).
fn elem_ok(kind: PKind, v: f64) -> Option<bool> {
    let ok = match kind {
        Real | RealExt => !v.is_nan(),
        Pos => v > 0.0,
        Unit => (0.0..=1.0).contains(&v),
        PosUnit => v > 0.0 && v <= 1.0,
        Weight => v.is_finite() && v >= 0.0,
        LogWeight => !v.is_nan() && v != f64::INFINITY,
    };
    ok.then_some(v.is_infinite() && !matches!(kind, RealExt | LogWeight))
}

/// [`classify`] for categorical entries: the last parameter's last dimension is the K
/// classes (rank 0 or K = 0 is a shape error), the batch is the broadcast of the other
/// parameters and the rows; a row is valid when each entry is and it has some mass (a
/// positive weight, a logit above −∞). Each batch element's vector holds the other
/// parameters, then the K entries of its row.
fn classify_cat(e: &Entry, c: &Case) -> (Class, Vec<usize>, Vec<Vec<f64>>) {
    let wide = promoted(c);
    let last = c.params.len() - 1;
    let rowp = &c.params[last];
    let Some(&k) = rowp.shape.last() else {
        return (Class::ShapeBad, vec![], vec![]);
    };
    if k == 0 {
        return (Class::ShapeBad, vec![], vec![]);
    }
    let mut shapes: Vec<Vec<usize>> = c.params.iter().map(|p| p.shape.clone()).collect();
    shapes[last].pop();
    let refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
    let Some(batch) = bshape(&refs) else {
        return (Class::ShapeBad, vec![], vec![]);
    };
    if !cat_raw_valid(e, c) {
        return (Class::Invalid, batch, vec![]);
    }
    let nb: usize = batch.iter().product();
    let mut class = Class::Valid;
    let mut elems = Vec::with_capacity(nb);
    for i in 0..nb {
        let mut pv = Vec::new();
        for (j, (_, kind)) in e.params.iter().enumerate() {
            let at = bindex(&shapes[j], &batch, i);
            let vals: Vec<f64> = if j == last {
                rowp.values[at * k..at * k + k]
                    .iter()
                    .map(|&v| cast(v, wide))
                    .collect()
            } else {
                vec![cast(c.params[j].values[at], wide)]
            };
            for &v in &vals {
                match elem_ok(*kind, v) {
                    None => return (Class::Invalid, batch, vec![]),
                    Some(true) => class = Class::Grey,
                    Some(false) => {}
                }
            }
            let has_mass = match kind {
                Weight => vals.iter().any(|&v| v > 0.0),
                LogWeight => vals.iter().any(|&v| v > f64::NEG_INFINITY),
                _ => true,
            };
            if !has_mass {
                return (Class::Invalid, batch, vec![]);
            }
            pv.extend(vals);
        }
        elems.push(pv);
    }
    (class, batch, elems)
}

/// Whether every parameter tensor of a categorical entry satisfies its constraint as
/// given, before any broadcast (as torch validates `Categorical(probs)` on its own
/// tensor): each element, and each row of the last parameter has mass.
fn cat_raw_valid(e: &Entry, c: &Case) -> bool {
    let wide = promoted(c);
    let last = c.params.len() - 1;
    e.params
        .iter()
        .zip(&c.params)
        .enumerate()
        .all(|(j, ((_, kind), p))| {
            let vals: Vec<f64> = p.values.iter().map(|&v| cast(v, wide)).collect();
            if !vals.iter().all(|&v| elem_ok(*kind, v).is_some()) {
                return false;
            }
            let k = p.shape.last().copied().unwrap_or(1);
            j != last
                || k == 0
                || vals.chunks(k).all(|row| match kind {
                    Weight => row.iter().any(|&v| v > 0.0),
                    LogWeight => row.iter().any(|&v| v > f64::NEG_INFINITY),
                    _ => true,
                })
        })
}

/// [`classify`] for `stick` entries: the parameters broadcast in full (a 0-dim result
/// is K = 1); `batch_shape` is all but the last dimension K, and each batch element's
/// vector holds the K components of every parameter in turn.
fn classify_stick(e: &Entry, c: &Case) -> (Class, Vec<usize>, Vec<Vec<f64>>) {
    let wide = promoted(c);
    let shapes: Vec<&[usize]> = c.params.iter().map(|p| p.shape.as_slice()).collect();
    let Some(mut full) = bshape(&shapes) else {
        return (Class::ShapeBad, vec![], vec![]);
    };
    if full.is_empty() {
        full.push(1);
    }
    let k = *full.last().unwrap();
    let batch = full[..full.len() - 1].to_vec();
    let nb: usize = batch.iter().product();
    let mut class = Class::Valid;
    let mut elems = Vec::with_capacity(nb);
    for i in 0..nb {
        let mut pv = Vec::new();
        for (j, (_, kind)) in e.params.iter().enumerate() {
            for t in 0..k {
                let at = bindex(&c.params[j].shape, &full, i * k + t);
                let v = cast(c.params[j].values[at], wide);
                match elem_ok(*kind, v) {
                    None => return (Class::Invalid, batch, vec![]),
                    Some(true) => class = Class::Grey,
                    Some(false) => {}
                }
                pv.push(v);
            }
        }
        elems.push(pv);
    }
    (class, batch, elems)
}

/// The core numeric domain: every finite parameter is 0 or has magnitude in
/// [`CORE_MIN`, `CORE_MAX`]. Valid cases outside it (subnormals, f32 limits, 1e300,
/// f64::MAX) still must not panic, hang or give untyped errors, but their value
/// findings (NaN, cdf out of [0, 1], ...) are reported under [`EXTREME_TAG`], so that
/// a repro says which tier it came from. They fail the suite like any other finding;
/// `CANDLE_DIST_PROPTEST_STRICT=0` reports them without failing (for diagnosing a
/// region while it is being worked on).
const CORE_MIN: f64 = 1e-30;
/// Upper end of the core domain (see [`CORE_MIN`]).
const CORE_MAX: f64 = 1e30;
/// Prefix of findings from valid parameters outside the core domain.
const EXTREME_TAG: &str = "[extreme parameters] ";

fn is_extreme(elems: &[Vec<f64>]) -> bool {
    elems.iter().flatten().any(|&v| {
        let a = v.abs();
        a.is_finite() && a != 0.0 && !(CORE_MIN..=CORE_MAX).contains(&a)
    })
}

// ---------------------------------------------------------------------------------
// Recording.
// ---------------------------------------------------------------------------------

type Tally = harness::Tally<()>;
type Ctx<'a> = harness::Ctx<'a, Entry, ()>;

impl Subject for Entry {
    fn label(&self) -> &'static str {
        self.label
    }

    /// The distribution the user built (and, for parameters, the parameter).
    fn named_by(&self, e: &Error) -> bool {
        let name = self.name;
        match e {
            Error::InvalidParameter {
                distribution,
                parameter,
                ..
            } => *distribution == name && self.params.iter().any(|(n, _)| n == parameter),
            Error::OutOfSupport { distribution, .. } => *distribution == name,
            Error::NotImplemented { distribution, .. } => *distribution == name,
            Error::Shape { context, .. } | Error::DType { context, .. } => context.contains(name),
            _ => true,
        }
    }

    fn expected_names(&self) -> String {
        format!("{} (and its parameter)", self.name)
    }
}

fn cast_dt(v: f64, dt: DType) -> f64 {
    cast(v, dt == DType::F64)
}

fn tensor(values: &[f64], shape: &[usize], f64_: bool) -> Result<Tensor> {
    let t = Tensor::from_vec(values.to_vec(), shape, &Device::Cpu)?;
    Ok(if f64_ { t } else { t.to_dtype(DType::F32)? })
}

fn other(dt: DType) -> DType {
    if dt == DType::F64 {
        DType::F32
    } else {
        DType::F64
    }
}

// ---------------------------------------------------------------------------------
// The checks of one case.
// ---------------------------------------------------------------------------------

fn check_case(reg: &[Entry], c: &Case, progress: Progress) -> Tally {
    let e = &reg[c.entry];
    let (class, batch, elems) = classify(e, c);
    // Valid parameters outside the core numeric domain ([`is_extreme`]): findings are
    // recorded under their own key and only fail the suite in strict mode.
    let tag = if class == Class::Valid && is_extreme(&elems) {
        EXTREME_TAG
    } else {
        ""
    };
    let mut cx = Ctx::new(e, tag, format!("{} {class:?}", c.describe(reg)), progress);
    *cx.t
        .cases_by
        .entry(format!("{class:?}/validate={}", c.validate))
        .or_default() += 1;

    let mut vars = Vec::new();
    for p in &c.params {
        match tensor(&p.values, &p.shape, p.f64_).and_then(|t| Ok(Var::from_tensor(&t)?)) {
            Ok(v) => vars.push(v),
            Err(err) => {
                cx.find("setup", "cannot build parameter tensor", err.to_string());
                return cx.t;
            }
        }
    }
    let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let Some(built) = cx.call("new", || (e.build)(&ts, c.validate)) else {
        return cx.t;
    };
    let d = match (class, c.validate, built) {
        (Class::ShapeBad, _, Ok(_)) => {
            cx.find(
                "new",
                "accepted non-broadcastable parameter shapes",
                String::new(),
            );
            return cx.t;
        }
        (Class::ShapeBad, _, Err(err)) => {
            // Shapes and values both wrong: either diagnosis is right (the categorical
            // families check their parameter tensors before broadcasting them).
            let kinds: &[&str] = if c.validate && e.cat.is_some() && !cat_raw_valid(e, c) {
                &["Shape", "InvalidParameter"]
            } else {
                &["Shape"]
            };
            cx.typed("new", &err, kinds);
            return cx.t;
        }
        (Class::Invalid, true, Ok(_)) => {
            cx.find(
                "new",
                "accepted an invalid parameter with validation on",
                String::new(),
            );
            return cx.t;
        }
        (Class::Invalid, true, Err(err)) => {
            cx.typed("new", &err, &["InvalidParameter"]);
            return cx.t;
        }
        (_, _, Err(err)) => {
            cx.find(
                "new",
                "rejected parameters it should accept",
                err.to_string(),
            );
            return cx.t;
        }
        (_, _, Ok(d)) => d,
    };
    let strict = class == Class::Valid;
    let dt = d.dtype();
    let want_dt = if promoted(c) { DType::F64 } else { DType::F32 };
    if dt != want_dt {
        cx.find(
            "dtype",
            "dtype is not the promotion of the parameters'",
            format!("{dt:?}"),
        );
    }
    if d.name() != e.name {
        cx.find("name", "name() differs", d.name().to_string());
    }
    if d.batch_shape() != batch.as_slice() {
        cx.find(
            "batch_shape",
            "batch_shape is not the broadcast of the parameters",
            format!("{:?} vs {:?}", d.batch_shape(), batch),
        );
        return cx.t;
    }
    let event: Vec<usize> = d.event_shape().to_vec();
    if let Some(cat) = e.cat {
        let k = c.params.last().and_then(|p| p.shape.last().copied());
        let want: Vec<usize> = if cat == Cat::Index {
            vec![]
        } else {
            k.into_iter().collect()
        };
        if event != want {
            cx.find(
                "event_shape",
                "event_shape is not that of the categories",
                format!("{event:?}, expected {want:?}"),
            );
            return cx.t;
        }
    }
    let ev: usize = event.iter().product();
    let nb = elems.len();
    let ss = &c.sample_shape;
    let ns: usize = ss.iter().product();
    let ext = [ss.as_slice(), &batch, &event].concat();
    let bounds: Vec<(f64, f64)> = elems
        .iter()
        .map(|p| {
            let (lo, hi) = (e.bounds)(p);
            (cast_dt(lo, dt), cast_dt(hi, dt))
        })
        .collect();
    let open_lo = e.open_lo;
    let integer = e.integer;
    let in_support = |x: f64, b: usize| -> bool {
        (x > bounds[b].0 || (!open_lo && x == bounds[b].0))
            && x <= bounds[b].1
            && (!integer || (x.is_finite() && x.fract() == 0.0))
    };
    // torch's draw dtypes: class indices are i64, everything else the parameters'.
    let draw_dt = if e.cat == Some(Cat::Index) {
        DType::I64
    } else {
        dt
    };

    // Draws: shape, dtype, support, NaN; the same seed gives the same bits.
    let check_draw = |cx: &mut Ctx, method: &str, x: &Tensor| -> Option<Vec<f64>> {
        if x.dims() != ext.as_slice() || x.dtype() != draw_dt {
            cx.find(
                method,
                "draw has the wrong shape or dtype",
                format!(
                    "{:?} {:?}, expected {:?} {:?}",
                    x.dims(),
                    x.dtype(),
                    ext,
                    draw_dt
                ),
            );
            return None;
        }
        let v = host(x);
        if strict && nb > 0 {
            for (i, &xi) in v.iter().enumerate() {
                let b = (i / ev.max(1)) % nb;
                if xi.is_nan() {
                    cx.find(
                        method,
                        "NaN draw from valid parameters",
                        format!("index {i}"),
                    );
                    return None;
                }
                if !in_support(xi, b) {
                    cx.find(
                        method,
                        "draw outside the support",
                        format!("x = {xi:e}, support {:?}", bounds[b]),
                    );
                    return None;
                }
            }
            if e.vector_event() && ev > 0 {
                for (j, ch) in v.chunks(ev).enumerate() {
                    if let Some(what) = off_event_set(e, ch, dt) {
                        cx.find(method, what, format!("event {j}: {ch:?}"));
                        return None;
                    }
                }
            }
        }
        Some(v)
    };
    // log_prob at in-support points: not NaN, +∞ only at a pole endpoint; for a
    // discrete law a mass of at most 1 (to rounding), and positive at its own draws.
    let check_lp = |cx: &mut Ctx, method: &str, x: &[f64], lp: &Tensor, shape: &[usize]| -> bool {
        if lp.dims() != shape {
            cx.find(
                method,
                "log_prob has the wrong shape",
                format!("{:?}, expected {:?}", lp.dims(), shape),
            );
            return false;
        }
        if !strict || nb == 0 {
            return true;
        }
        for (i, l) in host(lp).into_iter().enumerate() {
            let b = i % nb;
            let xs = &x[i * ev.max(1)..(i + 1) * ev.max(1)];
            if l.is_nan() {
                cx.find(
                    method,
                    "NaN log_prob from valid parameters",
                    format!("x = {xs:?}"),
                );
                return false;
            }
            if l == f64::INFINITY {
                let at_end = xs.iter().any(|&v| v == bounds[b].0 || v == bounds[b].1);
                if !(e.endpoint_pole && at_end) {
                    cx.find(
                        method,
                        "log_prob = +inf away from a pole",
                        format!("x = {xs:?}"),
                    );
                    return false;
                }
            }
            if e.discrete() {
                if l > 1024.0 * eps(dt) {
                    cx.find(
                        method,
                        "log_prob > 0 (a mass above 1)",
                        format!("x = {xs:?} -> {l:e}"),
                    );
                    return false;
                }
                let at_draws = matches!(
                    method,
                    "log_prob" | "sample_and_log_prob" | "rsample_and_log_prob"
                );
                // A draw clamped to the dtype's largest number (a count beyond its
                // range) stands for the whole tail; its own log-mass may lie below
                // −f64::MAX (NegativeBinomial with logits 1e308: r·ln q = −4.5e308·2).
                let top = if dt == DType::F32 {
                    f32::MAX as f64
                } else {
                    f64::MAX
                };
                let clamped = xs.iter().any(|&v| v >= top);
                if at_draws && l == f64::NEG_INFINITY && !clamped {
                    cx.find(
                        method,
                        "a draw of mass 0 (log_prob = -inf at its own draw)",
                        format!("x = {xs:?}, parameters {:?}", elems[b]),
                    );
                    return false;
                }
            }
        }
        true
    };
    let batch_ss = [ss.as_slice(), &batch].concat();

    let sample = cx.call("sample", || d.sample(ss, &mut Generator::new(c.seed)));
    let mut xs: Option<(Tensor, Vec<f64>)> = None;
    if let Some(r) = sample {
        match r {
            Ok(x) => {
                if let Some(v) = check_draw(&mut cx, "sample", &x) {
                    xs = Some((x, v));
                }
            }
            Err(err) => {
                if strict {
                    cx.find("sample", "error from valid parameters", err.to_string());
                }
            }
        }
    }
    if let Some((x, v)) = &xs {
        if let Some(Ok(x2)) = cx.call("sample", || d.sample(ss, &mut Generator::new(c.seed))) {
            let v2 = host(&x2);
            let same =
                v.len() == v2.len() && v.iter().zip(&v2).all(|(a, b)| a.to_bits() == b.to_bits());
            if !same {
                cx.find("sample", "same seed, different bits", String::new());
            }
        }
        // log_prob at the draws, and its parameter gradients where it is finite.
        if let Some(r) = cx.call("log_prob", || d.log_prob(x)) {
            match r {
                Ok(lp) => {
                    if check_lp(&mut cx, "log_prob", v, &lp, &batch_ss) && strict {
                        let lpv = host(&lp);
                        if e.discrete() && draw_dt != DType::I64 {
                            check_integer_value(&mut cx, &*d, x, v, &lpv, dt);
                        }
                        if lpv.iter().all(|l| l.is_finite()) {
                            let g =
                                cx.call("log_prob.backward", || Ok(lp.sum_all()?.backward()?));
                            if let Some(Ok(g)) = g {
                                for (k, var) in vars.iter().enumerate() {
                                    if let Some(gt) = g.get(var.as_tensor()) {
                                        if host(gt).iter().any(|x| x.is_nan()) {
                                            cx.find(
                                                "log_prob.backward",
                                                &format!("NaN gradient w.r.t. {}", e.params[k].0),
                                                String::new(),
                                            );
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                Err(err) => {
                    if strict {
                        cx.find("log_prob", "error at its own draws", err.to_string())
                    }
                }
            }
        }
        // A value of the other float dtype: torch promotes.
        let xo = x.to_dtype(other(dt)).unwrap();
        if let Some(r) = cx.call("log_prob(other dtype)", || d.log_prob(&xo)) {
            match r {
                Ok(lp) => {
                    let vo = host(&xo);
                    if strict
                        && vo
                            .iter()
                            .enumerate()
                            .all(|(i, &xi)| in_support(xi, (i / ev.max(1)) % nb.max(1)))
                    {
                        check_lp(&mut cx, "log_prob(other dtype)", &vo, &lp, &batch_ss);
                    }
                }
                Err(err) => match err {
                    Error::OutOfSupport { .. } if c.validate => {}
                    _ => cx.find(
                        "log_prob(other dtype)",
                        &format!(
                            "{} error for a value of the other float dtype",
                            err_kind(&err)
                        ),
                        err.to_string(),
                    ),
                },
            }
        }
    }

    // rsample, its gradients, the fused methods.
    if d.has_rsample() {
        if let Some(r) = cx.call("rsample", || d.rsample(ss, &mut Generator::new(c.seed))) {
            match r {
                Ok(x) => {
                    if check_draw(&mut cx, "rsample", &x).is_some() && strict {
                        let g = cx.call("rsample.backward", || Ok(x.sum_all()?.backward()?));
                        if let Some(Ok(g)) = g {
                            for (k, var) in vars.iter().enumerate() {
                                if let Some(gt) = g.get(var.as_tensor()) {
                                    if host(gt).iter().any(|x| x.is_nan()) {
                                        cx.find(
                                            "rsample.backward",
                                            &format!("NaN gradient w.r.t. {}", e.params[k].0),
                                            String::new(),
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
                Err(err) => {
                    if strict {
                        cx.find("rsample", "error from valid parameters", err.to_string())
                    }
                }
            }
        }
        if let Some(r) = cx.call("rsample_and_log_prob", || {
            d.rsample_and_log_prob(ss, &mut Generator::new(c.seed))
        }) {
            match r {
                Ok((x, lp)) => {
                    if let Some(v) = check_draw(&mut cx, "rsample_and_log_prob", &x) {
                        check_lp(&mut cx, "rsample_and_log_prob", &v, &lp, &batch_ss);
                    }
                }
                Err(err) => {
                    if strict {
                        cx.find(
                            "rsample_and_log_prob",
                            "error from valid parameters",
                            err.to_string(),
                        )
                    }
                }
            }
        }
    }
    if let Some(r) = cx.call("sample_and_log_prob", || {
        d.sample_and_log_prob(ss, &mut Generator::new(c.seed))
    }) {
        match r {
            Ok((x, lp)) => {
                if let Some(v) = check_draw(&mut cx, "sample_and_log_prob", &x) {
                    check_lp(&mut cx, "sample_and_log_prob", &v, &lp, &batch_ss);
                }
            }
            Err(err) => {
                if strict {
                    cx.find(
                        "sample_and_log_prob",
                        "error from valid parameters",
                        err.to_string(),
                    )
                }
            }
        }
    }

    // cdf over probes and draws: in [0, 1], monotone; icdf(cdf(x)) ≈ x (for continuous
    // laws: a discrete cdf is a step function). Integer laws probe integers.
    if !e.vector_event() && nb > 0 {
        const PROBES: &[f64] = &[
            f64::NEG_INFINITY,
            -f64::MAX,
            -1e300,
            -1.0,
            -1e-300,
            0.0,
            1e-300,
            0.25,
            0.5,
            1.0,
            3.0,
            1e300,
            f64::MAX,
            f64::INFINITY,
        ];
        let mut rows: Vec<Vec<f64>> = Vec::new();
        for &p in PROBES {
            let row: Vec<f64> = bounds
                .iter()
                .map(|&(lo, hi)| {
                    let lo = if e.open_lo { next_up(lo, dt) } else { lo };
                    let x = p.max(lo).min(hi);
                    cast_dt(if integer { x.floor() } else { x }, dt)
                })
                .collect();
            if row.iter().enumerate().all(|(b, &x)| in_support(x, b)) {
                rows.push(row);
            }
        }
        let n_probe = rows.len();
        if let Some((_, v)) = &xs {
            for s in 0..ns {
                rows.push(v[s * nb..(s + 1) * nb].to_vec());
            }
        }
        let nr = rows.len();
        let flat: Vec<f64> = rows.concat();
        let shape = [&[nr][..], &batch].concat();
        let vt = tensor(&flat, &shape, dt == DType::F64).unwrap();
        // log_prob at the probes too: support edges, ±MAX and ±∞ where they belong to it.
        if let Some(r) = cx.call("log_prob(probes)", || d.log_prob(&vt)) {
            match r {
                Ok(lp) => {
                    check_lp(&mut cx, "log_prob(probes)", &flat, &lp, &shape);
                }
                Err(err) => {
                    if strict {
                        cx.find(
                            "log_prob(probes)",
                            "error on values in the support",
                            err.to_string(),
                        );
                    }
                }
            }
        }
        if let Some(r) = cx.call("cdf", || d.cdf(&vt)) {
            match r {
                Ok(f) => {
                    let fv = host(&f);
                    if f.dims() != shape.as_slice() {
                        cx.find("cdf", "cdf has the wrong shape", format!("{:?}", f.dims()));
                    } else if strict {
                        check_cdf(&mut cx, &flat, &fv, nb, dt);
                        let r = if e.discrete() {
                            None
                        } else {
                            cx.call("icdf", || d.icdf(&f))
                        };
                        if let Some(r) = r {
                            if let Ok(xr) = r {
                                check_roundtrip(
                                    &mut cx,
                                    &*d,
                                    &flat,
                                    &fv,
                                    &host(&xr),
                                    n_probe,
                                    nb,
                                    dt,
                                );
                            } else if let Err(err) = r {
                                if !matches!(err, Error::NotImplemented { .. }) {
                                    cx.find("icdf", "error on cdf values", err.to_string());
                                }
                            }
                        }
                    }
                }
                Err(Error::NotImplemented { .. }) => {}
                Err(err) => {
                    if strict {
                        cx.find("cdf", "error on values in the support", err.to_string());
                    }
                }
            }
        }
        // icdf at 0, ½, 1: in the support, not NaN; outside [0, 1] rejected when validating.
        let q = tensor(
            &[0.0, 0.5, 1.0]
                .iter()
                .flat_map(|&q| vec![q; nb])
                .collect::<Vec<_>>(),
            &[&[3][..], &batch].concat(),
            dt == DType::F64,
        )
        .unwrap();
        if let Some(Ok(x)) = cx.call("icdf", || d.icdf(&q)) {
            if strict {
                for (i, xi) in host(&x).into_iter().enumerate() {
                    let b = i % nb;
                    // icdf(0) may be an open lower bound itself.
                    if xi.is_nan() || !(xi >= bounds[b].0 && xi <= bounds[b].1) {
                        cx.find(
                            "icdf",
                            if xi.is_nan() {
                                "NaN icdf at q in {0, 1/2, 1}"
                            } else {
                                "icdf outside the support"
                            },
                            format!(
                                "q = {}, x = {xi:e}, support {:?}",
                                [0.0, 0.5, 1.0][i / nb],
                                bounds[b]
                            ),
                        );
                        break;
                    }
                }
            }
            let bad = tensor(
                &[-0.25, 1.5, f64::NAN]
                    .iter()
                    .flat_map(|&q| vec![q; nb])
                    .collect::<Vec<_>>(),
                &[&[3][..], &batch].concat(),
                dt == DType::F64,
            )
            .unwrap();
            if let Some(r) = cx.call("icdf(q outside [0,1])", || d.icdf(&bad)) {
                match (c.validate, r) {
                    (true, Ok(_)) => cx.find(
                        "icdf",
                        "accepted q outside [0, 1] with validation on",
                        String::new(),
                    ),
                    (true, Err(err)) => cx.typed("icdf", &err, &["OutOfSupport"]),
                    _ => {}
                }
            }
        }
    }

    // Values outside the support (and NaN): OutOfSupport when validating, −∞ when not.
    if nb > 0 && !e.circular {
        let mut out = Vec::with_capacity(nb * ev.max(1));
        let mut is_out = Vec::with_capacity(nb);
        let vector = e.vector_event();
        for (b, &(lo, hi)) in bounds.iter().enumerate() {
            let o = if e.cat == Some(Cat::LogSimplex) {
                None // every real vector is in the support (torch's `real_vector`)
            } else if vector {
                Some(-0.5)
            } else if lo > f64::NEG_INFINITY {
                Some(cast_dt(lo - lo.abs().max(1.0), dt))
            } else if hi < f64::INFINITY {
                Some(cast_dt(hi + hi.abs().max(1.0), dt))
            } else {
                None
            };
            match o.filter(|&x| vector || !in_support(x, b)) {
                Some(x) => {
                    if vector {
                        // (−½, 3/2, 0, …): sums to 1, off the simplex.
                        out.push(-0.5);
                        if ev > 1 {
                            out.push(1.5);
                            out.extend(std::iter::repeat_n(0.0, ev - 2));
                        }
                    } else {
                        out.push(x);
                    }
                    // One coordinate, −½: off the simplex {1} only as a point that is
                    // not a one-hot vector or a count.
                    is_out.push(
                        !vector || ev > 1 || matches!(e.cat, Some(Cat::OneHot | Cat::Counts)),
                    );
                }
                None => {
                    out.extend(std::iter::repeat_n(cast_dt(mid(bounds[b]), dt), ev.max(1)));
                    is_out.push(false);
                }
            }
        }
        let mut sets: Vec<(&'static str, Vec<f64>)> = Vec::new();
        if is_out.iter().any(|&o| o) {
            sets.push(("log_prob(outside)", out));
        }
        // Inside the coordinate bounds but off the support: a non-integer, a vector that
        // is not one-hot (mid-simplex, two-hot), counts with the wrong total.
        if e.integer && !vector {
            let half: Vec<f64> = bounds
                .iter()
                .map(|&(lo, _)| cast_dt(lo + 0.5, dt))
                .collect();
            if half.iter().enumerate().all(|(b, &x)| !in_support(x, b)) {
                sets.push(("log_prob(non-integer)", half));
            }
        }
        let unit_row = |head: &[f64]| -> Vec<f64> {
            let mut row = head.to_vec();
            row.resize(ev, 0.0);
            row.repeat(nb)
        };
        match e.cat {
            Some(Cat::OneHot) if ev > 1 => {
                sets.push((
                    "log_prob(mid-simplex)",
                    vec![cast_dt(1.0 / ev as f64, dt); nb * ev],
                ));
                sets.push(("log_prob(two-hot)", unit_row(&[1.0, 1.0])));
            }
            Some(Cat::Counts) => {
                let n = MULTINOMIAL_COUNT as f64;
                sets.push(("log_prob(counts off the total)", unit_row(&[n - 1.0])));
                if ev > 1 {
                    sets.push(("log_prob(non-integer counts)", unit_row(&[n - 0.5, 0.5])));
                }
            }
            _ => {}
        }
        for (m, vals) in sets {
            let vt = tensor(
                &vals,
                &[batch.as_slice(), &event].concat(),
                dt == DType::F64,
            )
            .unwrap();
            if let Some(r) = cx.call(m, || d.log_prob(&vt)) {
                match (c.validate, r) {
                    (true, Ok(_)) => cx.find(
                        m,
                        "accepted a value outside the support with validation on",
                        format!("value {vals:?}"),
                    ),
                    (true, Err(err)) => cx.typed(m, &err, &["OutOfSupport"]),
                    // With checks off a value outside the support gives an unspecified
                    // number (NaN, ±∞ or finite), as in torch: the documented contract
                    // of `set_default_validate_args(false)` is "no host reads", so only
                    // the absence of panics and errors is checked here.
                    (false, Ok(_)) => {}
                    (false, Err(err)) => cx.find(
                        m,
                        "error outside the support with validation off",
                        err.to_string(),
                    ),
                }
            }
        }
        if c.validate {
            let nan = tensor(
                &vec![f64::NAN; nb * ev.max(1)],
                &[batch.as_slice(), &event].concat(),
                dt == DType::F64,
            )
            .unwrap();
            match cx.call("log_prob(NaN)", || d.log_prob(&nan)) {
                Some(Ok(_)) => {
                    cx.find("log_prob", "accepted NaN with validation on", String::new())
                }
                Some(Err(err)) => cx.typed("log_prob", &err, &["OutOfSupport"]),
                None => {}
            }
        }
    }

    // A value that broadcasts against batch_shape: a scalar, and shape [1] (event: [K]).
    if nb > 0 && strict {
        let inter = bounds
            .iter()
            .fold((f64::NEG_INFINITY, f64::INFINITY), |a, b| {
                (a.0.max(b.0), a.1.min(b.1))
            });
        if inter.0 <= inter.1 {
            let x = mid(inter);
            let x = cast_dt(if e.integer { x.floor() } else { x }, dt);
            // A point of the event's set: one-hot, all counts on the first class, the
            // simplex's centre (or its logarithm).
            let first = |v: f64| {
                let mut row = vec![0.0; ev];
                row[0] = v;
                row
            };
            let (vals, vshape): (Vec<f64>, Vec<usize>) = match e.cat {
                _ if !e.vector_event() => (vec![x], vec![]),
                Some(Cat::OneHot) => (first(1.0), event.clone()),
                Some(Cat::Counts) => (first(MULTINOMIAL_COUNT as f64), event.clone()),
                Some(Cat::LogSimplex) => (vec![-(ev as f64).ln(); ev], event.clone()),
                _ => (vec![1.0 / ev as f64; ev], event.clone()),
            };
            for extra in [&[][..], &[1][..]] {
                if e.vector_event() && !extra.is_empty() {
                    continue;
                }
                let shape = [extra, &vshape].concat();
                let vt = tensor(&vals, &shape, dt == DType::F64).unwrap();
                let want = bshape(&[extra, &batch]).unwrap();
                for (m, r) in [
                    (
                        "log_prob(broadcast value)",
                        cx.call("log_prob(broadcast value)", || d.log_prob(&vt)),
                    ),
                    (
                        "cdf(broadcast value)",
                        cx.call("cdf(broadcast value)", || d.cdf(&vt)),
                    ),
                ] {
                    match r {
                        Some(Ok(t)) => {
                            if t.dims() != want.as_slice() {
                                cx.find(
                                    m,
                                    "wrong shape",
                                    format!("{:?}, expected {:?}", t.dims(), want),
                                );
                            } else if host(&t).iter().any(|v| v.is_nan()) {
                                cx.find(m, "NaN from valid parameters", format!("value {vals:?}"));
                            }
                        }
                        Some(Err(Error::NotImplemented { .. })) | None => {}
                        Some(Err(err)) => cx.find(
                            m,
                            "error on a value that broadcasts",
                            format!("value {vals:?} shape {shape:?}: {err}"),
                        ),
                    }
                }
            }
        }
        if e.vector_event() {
            let wrong = tensor(
                &vec![1.0 / (ev + 1) as f64; ev + 1],
                &[ev + 1],
                dt == DType::F64,
            )
            .unwrap();
            match cx.call("log_prob(wrong event dim)", || d.log_prob(&wrong)) {
                Some(Ok(_)) => cx.find(
                    "log_prob",
                    "accepted a value with the wrong event dimension",
                    String::new(),
                ),
                Some(Err(err)) => cx.typed("log_prob", &err, &["Shape"]),
                None => {}
            }
        }
    }

    // Moments.
    let mshape = [batch.as_slice(), &event].concat();
    for (m, f) in [
        (
            "entropy",
            &(|d: &dyn Distribution| d.entropy()) as &dyn Fn(&dyn Distribution) -> Result<Tensor>,
        ),
        ("mean", &|d: &dyn Distribution| d.mean()),
        ("mode", &|d: &dyn Distribution| d.mode()),
        ("variance", &|d: &dyn Distribution| d.variance()),
        ("stddev", &|d: &dyn Distribution| d.stddev()),
    ] {
        match cx.call(m, || f(&*d)) {
            Some(Ok(t)) => {
                let want = if m == "entropy" {
                    batch.as_slice()
                } else {
                    mshape.as_slice()
                };
                if t.dims() != want {
                    cx.find(
                        m,
                        "wrong shape",
                        format!("{:?}, expected {:?}", t.dims(), want),
                    );
                } else if strict {
                    for (i, v) in host(&t).into_iter().enumerate() {
                        let b = (i / if m == "entropy" { 1 } else { ev.max(1) }) % nb.max(1);
                        if v.is_nan() && !(e.nan_ok)(m, &elems[b]) {
                            cx.find(
                                m,
                                "NaN from valid parameters",
                                format!("element {b}: {:?}", elems[b]),
                            );
                            break;
                        }
                        if is_var(m) && v < 0.0 {
                            cx.find(
                                m,
                                "negative",
                                format!("element {b}: {:?} -> {v:e}", elems[b]),
                            );
                            break;
                        }
                    }
                }
            }
            Some(Err(err)) => {
                if !matches!(err, Error::NotImplemented { .. }) {
                    cx.find(m, "error from valid parameters", err.to_string());
                } else {
                    cx.typed(m, &err, &["NotImplemented"]);
                }
            }
            None => {}
        }
    }
    if e.discrete() {
        check_enumerate(&mut cx, &*d, &bounds, &batch, &event, strict);
    } else {
        match cx.call("enumerate_support", || d.enumerate_support(false)) {
            Some(Ok(_)) => cx.find(
                "enumerate_support",
                "Ok for a continuous distribution",
                String::new(),
            ),
            Some(Err(err)) => cx.typed("enumerate_support", &err, &["NotImplemented"]),
            None => {}
        }
    }

    // expand: a new leading dimension (2 and 0), and an incompatible shape.
    for lead in [2usize, 0] {
        let nbs = [&[lead][..], &batch].concat();
        match cx.call("expand", || d.expand(&nbs)) {
            Some(Ok(d2)) => {
                if d2.batch_shape() != nbs.as_slice() {
                    cx.find(
                        "expand",
                        "wrong batch_shape",
                        format!("{:?}, expected {:?}", d2.batch_shape(), nbs),
                    );
                }
                let want = [&[1][..], &nbs, &event].concat();
                match cx.call("expand.sample", || {
                    d2.sample(&[1], &mut Generator::new(c.seed))
                }) {
                    Some(Ok(x)) => {
                        if x.dims() != want.as_slice() {
                            cx.find(
                                "expand.sample",
                                "wrong shape",
                                format!("{:?}, expected {:?}", x.dims(), want),
                            );
                        } else if strict && host(&x).iter().any(|v| v.is_nan()) {
                            cx.find(
                                "expand.sample",
                                "NaN draw from valid parameters",
                                String::new(),
                            );
                        }
                    }
                    Some(Err(err)) if strict => cx.find(
                        "expand.sample",
                        "error from valid parameters",
                        err.to_string(),
                    ),
                    Some(Err(_)) | None => {}
                }
            }
            Some(Err(err)) => cx.find("expand", "error on a compatible shape", err.to_string()),
            None => {}
        }
    }
    if let Some(&last) = batch.last() {
        if last != 1 {
            let mut bad = batch.clone();
            *bad.last_mut().unwrap() = last + 1;
            match cx.call("expand(incompatible)", || d.expand(&bad)) {
                Some(Ok(_)) => cx.find(
                    "expand",
                    "accepted an incompatible batch shape",
                    format!("{bad:?}"),
                ),
                Some(Err(err)) => cx.typed("expand", &err, &["Shape"]),
                None => {}
            }
        }
    }
    cx.t
}

/// A discrete law's `log_prob` takes integer tensors (torch casts them): the draws as
/// `i64` give the `log_prob` of the float draws, to the dtype's rounding (draws beyond
/// 2^53, which `i64` cannot hold exactly as floats, are not compared).
fn check_integer_value(
    cx: &mut Ctx,
    d: &dyn Distribution,
    x: &Tensor,
    v: &[f64],
    lp: &[f64],
    dt: DType,
) {
    if v.iter().any(|x| x.abs() >= (1u64 << 53) as f64) {
        return;
    }
    let Ok(xi) = x.to_dtype(DType::I64) else {
        return;
    };
    match cx.call("log_prob(i64 value)", || d.log_prob(&xi)) {
        Some(Ok(li)) => {
            let li = host(&li);
            let bad = li.len() != lp.len()
                || lp
                    .iter()
                    .zip(&li)
                    .any(|(&a, &b)| !(a == b || (a - b).abs() <= 4.0 * eps(dt) * a.abs().max(1.0)));
            if bad {
                cx.find(
                    "log_prob(i64 value)",
                    "differs from log_prob of the float value",
                    format!("{lp:?} vs {li:?}"),
                );
            }
        }
        Some(Err(err)) => cx.find(
            "log_prob(i64 value)",
            "error on integer-typed draws",
            err.to_string(),
        ),
        None => {}
    }
}

/// Supports with more values than this are not enumerated by the suite (memory), unless
/// so large ([`ENUM_REFUSED`]) that the enumeration must be refused.
const ENUM_MAX: f64 = 4096.0;
/// Supports of at least this many values must be refused by `enumerate_support`.
const ENUM_REFUSED: f64 = (1u64 << 33) as f64;

/// `enumerate_support` of a discrete law. Where every batch element has the same
/// bounded support of m ≤ [`ENUM_MAX`] values (m = K for the one-hot laws; torch
/// enumerates all but Multinomial's), both forms are `Ok`, of shape
/// `[m] ++ [1]*len(batch) ++ event` and `[m] ++ batch ++ event` (expanded); the expanded
/// values are m distinct points of the support, each of finite or −∞ `log_prob`, and
/// their masses sum to 1. An unbounded, inhomogeneous (torch refuses inhomogeneous
/// Binomial counts) or huge support is a typed error, never an allocation.
fn check_enumerate(
    cx: &mut Ctx,
    d: &dyn Distribution,
    bounds: &[(f64, f64)],
    batch: &[usize],
    event: &[usize],
    strict: bool,
) {
    let e = cx.e;
    let dt = d.dtype();
    let ev: usize = event.iter().product();
    let nb = bounds.len();
    let counts: Vec<f64> = bounds
        .iter()
        .map(|&(lo, hi)| match e.cat {
            Some(Cat::OneHot) => ev as f64,
            _ => hi - lo + 1.0,
        })
        .collect();
    if counts.iter().any(|m| m.is_nan()) {
        return;
    }
    let homogeneous = counts.windows(2).all(|w| w[0] == w[1]);
    let m = counts.first().copied().unwrap_or(0.0);
    let enumerable = homogeneous && nb > 0 && m <= ENUM_MAX && e.cat != Some(Cat::Counts);
    if !enumerable && homogeneous && m < ENUM_REFUSED && nb > 0 && e.cat != Some(Cat::Counts) {
        return; // a support too large to enumerate here, too small to be refused
    }
    let unit_batch: Vec<usize> = vec![1; batch.len()];
    for expand in [false, true] {
        let method = if expand {
            "enumerate_support(expand)"
        } else {
            "enumerate_support"
        };
        let Some(r) = cx.call(method, || d.enumerate_support(expand)) else {
            continue;
        };
        let t = match r {
            Ok(t) => t,
            Err(err) => {
                if enumerable && strict {
                    cx.find(method, "error on an enumerable support", err.to_string());
                } else {
                    cx.typed(method, &err, &["NotImplemented", "Shape"]);
                }
                continue;
            }
        };
        if !enumerable {
            if nb > 0 && strict {
                cx.find(
                    method,
                    "Ok for an unbounded, inhomogeneous or huge support, or Multinomial's",
                    format!("{:?}", t.dims()),
                );
            }
            continue;
        }
        let mid: &[usize] = if expand { batch } else { &unit_batch };
        let want = [&[m as usize][..], mid, event].concat();
        if t.dims() != want.as_slice() {
            cx.find(
                method,
                "wrong shape",
                format!("{:?}, expected {want:?}", t.dims()),
            );
            continue;
        }
        if !expand || !strict {
            continue;
        }
        let v = host(&t);
        let mm = m as usize;
        let w = ev.max(1);
        for b in 0..nb {
            let mut pts: Vec<&[f64]> = (0..mm)
                .map(|j| &v[(j * nb + b) * w..(j * nb + b + 1) * w])
                .collect();
            let (lo, hi) = bounds[b];
            if let Some(p) = pts.iter().find(|p| {
                p.iter().any(|&x| !(x >= lo && x <= hi && x.fract() == 0.0))
                    || (e.vector_event() && off_event_set(e, p, dt).is_some())
            }) {
                cx.find(
                    method,
                    "a value outside the support",
                    format!("{p:?}, support {:?}", bounds[b]),
                );
                return;
            }
            pts.sort_by(|a, b| a.partial_cmp(b).unwrap());
            if pts.windows(2).any(|p| p[0] == p[1]) {
                cx.find(method, "repeated values", format!("element {b}"));
                return;
            }
        }
        let Some(r) = cx.call("log_prob(enumerate_support)", || d.log_prob(&t)) else {
            continue;
        };
        let lp = match r {
            Ok(lp) => lp,
            Err(err) => {
                cx.find(
                    "log_prob(enumerate_support)",
                    "error on the support",
                    err.to_string(),
                );
                continue;
            }
        };
        let want = [&[mm][..], batch].concat();
        if lp.dims() != want.as_slice() {
            cx.find(
                "log_prob(enumerate_support)",
                "wrong shape",
                format!("{:?}, expected {want:?}", lp.dims()),
            );
            continue;
        }
        let l = host(&lp);
        for b in 0..nb {
            let col: Vec<f64> = (0..mm).map(|j| l[j * nb + b]).collect();
            if let Some(x) = col.iter().find(|x| x.is_nan() || **x == f64::INFINITY) {
                cx.find(
                    "log_prob(enumerate_support)",
                    "NaN or +inf log_prob on the support",
                    format!("element {b}: {x:e}"),
                );
                return;
            }
            let total: f64 = col.iter().map(|x| x.exp()).sum();
            let tol = 64.0 * (m + 1.0) * eps(dt);
            if (total - 1.0).abs() > tol {
                cx.find(
                    "log_prob(enumerate_support)",
                    "masses do not sum to 1",
                    format!("element {b}: sum {total:e} (tolerance {tol:e})"),
                );
                return;
            }
        }
    }
}

/// Why an event vector (with coordinates in the support) is not in the event's set:
/// the simplex (sum 1 to rounding), a one-hot vector, counts summing to the total, a
/// log-simplex point (log-sum-exp 0 to rounding); `None` when it is.
fn off_event_set(e: &Entry, x: &[f64], dt: DType) -> Option<&'static str> {
    let sum: f64 = x.iter().sum();
    let n = x.len() as f64;
    match e.cat {
        Some(Cat::Index) => None,
        Some(Cat::OneHot) => (sum != 1.0).then_some("draw is not one-hot"),
        Some(Cat::Counts) => {
            (sum != MULTINOMIAL_COUNT as f64).then_some("draw's counts do not sum to total_count")
        }
        Some(Cat::LogSimplex) => {
            let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            // The draw is y − logsumexp(y): its rounding is relative to the largest
            // finite coordinate's magnitude.
            let scale = x
                .iter()
                .filter(|v| v.is_finite())
                .fold(1.0f64, |a, v| a.max(v.abs()));
            let lse = m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            // NaN (no finite coordinate above −∞) fails too.
            (lse.is_nan() || lse.abs() > 64.0 * n * eps(dt) * scale)
                .then_some("draw's log-sum-exp is not 0 (not the log of a simplex point)")
        }
        _ => ((sum - 1.0).abs() > 64.0 * n * eps(dt)).then_some("draw not on the simplex"),
    }
}

/// The smallest value of the dtype above `x`.
fn next_up(x: f64, dt: DType) -> f64 {
    if dt == DType::F64 {
        f64::from_bits(if x == 0.0 {
            1
        } else if x > 0.0 {
            x.to_bits() + 1
        } else {
            x.to_bits() - 1
        })
    } else {
        let x = x as f32;
        (f32::from_bits(if x == 0.0 {
            1
        } else if x > 0.0 {
            x.to_bits() + 1
        } else {
            x.to_bits() - 1
        })) as f64
    }
}

fn mid((lo, hi): (f64, f64)) -> f64 {
    match (lo.is_finite(), hi.is_finite()) {
        // lo + (hi − lo)/2 where the width is finite (lo/2 + hi/2 underflows between
        // subnormals), kept inside [lo, hi].
        (true, true) => {
            let w = hi - lo;
            let m = if w.is_finite() {
                lo + w / 2.0
            } else {
                lo / 2.0 + hi / 2.0
            };
            m.max(lo).min(hi)
        }
        (true, false) => lo + lo.abs().max(1.0),
        (false, true) => hi - hi.abs().max(1.0),
        (false, false) => 0.5,
    }
}

/// `cdf` values (rows × batch) in [0, 1] and monotone per batch element.
fn check_cdf(cx: &mut Ctx, x: &[f64], f: &[f64], nb: usize, dt: DType) {
    let nr = x.len() / nb;
    for b in 0..nb {
        let mut pts: Vec<(f64, f64)> = (0..nr).map(|r| (x[r * nb + b], f[r * nb + b])).collect();
        if let Some(&(xi, fi)) = pts
            .iter()
            .find(|(_, fi)| fi.is_nan() || !(0.0..=1.0).contains(fi))
        {
            cx.find(
                "cdf",
                if fi.is_nan() {
                    "NaN cdf from valid parameters"
                } else {
                    "cdf outside [0, 1]"
                },
                format!("x = {xi:e} -> {fi:e}"),
            );
            return;
        }
        if cx.e.circular {
            continue;
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in pts.windows(2) {
            // The cdf carries a relative error of a few ε; more than 32 ε is a defect.
            if w[1].1 < w[0].1 - 32.0 * eps(dt) * w[0].1 {
                cx.find(
                    "cdf",
                    "not monotone",
                    format!(
                        "cdf({:e}) = {:e} > cdf({:e}) = {:e}",
                        w[0].0, w[0].1, w[1].0, w[1].1
                    ),
                );
                return;
            }
        }
    }
}

/// icdf(cdf(x)) ≈ x at the draws (rows from `first`) where the cdf is not saturated.
#[allow(clippy::too_many_arguments)]
fn check_roundtrip(
    cx: &mut Ctx,
    d: &dyn Distribution,
    x: &[f64],
    f: &[f64],
    xr: &[f64],
    first: usize,
    nb: usize,
    dt: DType,
) {
    if xr.len() != x.len() {
        cx.find("icdf", "icdf(cdf(x)) has the wrong size", String::new());
        return;
    }
    let dl = if dt == DType::F64 { 1e-6 } else { 1e-3 };
    let idx: Vec<usize> = (first * nb..x.len())
        .filter(|&i| f[i] > dl && f[i] < 1.0 - dl && x[i].is_finite())
        .collect();
    if idx.is_empty() {
        return;
    }
    let xs: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
    // The density at each point, from log_prob on a (rows × batch) tensor.
    let rows = x.len() / nb;
    let vt = tensor(x, &[rows, nb], dt == DType::F64)
        .and_then(|t| Ok(t.reshape([&[rows][..], d.batch_shape()].concat())?));
    let Ok(vt) = vt else { return };
    let Some(Ok(lp)) = cx.call("log_prob", || d.log_prob(&vt)) else {
        return;
    };
    let lp = host(&lp);
    for (&i, &xi) in idx.iter().zip(&xs) {
        let p = lp[i].exp();
        if p == 0.0 || !p.is_finite() {
            continue;
        }
        // The first-order error of icdf at a cdf rounded to the dtype. For laws on
        // (0, ∞) spread over many orders of magnitude (LogNormal) the error is
        // multiplicative (one rounding of q moves ln x by scale·ε·√(2π)), so there
        // the bound is on ln x, whose density is p(x)·x.
        let (a, b, tol) = if cx.e.log_roundtrip && xi > 0.0 {
            let t = 256.0 * eps(dt) * (xi.ln().abs() + 1.0 / (p * xi));
            (xr[i].ln(), xi.ln(), t)
        } else {
            (xr[i], xi, 256.0 * eps(dt) * (xi.abs() + 1.0 / p))
        };
        // A quantile beyond the dtype's range rounds to ±∞ (or 0 on a log scale):
        // accepted where the tolerance interval around x reaches that far.
        let max = if dt == DType::F64 {
            f64::MAX
        } else {
            f32::MAX as f64
        };
        let rounds_out = if cx.e.log_roundtrip {
            (a.is_infinite() && b + tol >= max.ln()) || (xr[i] == 0.0 && b - tol <= -max.ln())
        } else {
            a.is_infinite() && (b.abs() + tol >= max)
        };
        if xr[i].is_nan() || ((a - b).abs() > tol && !rounds_out) {
            cx.find(
                "icdf",
                "icdf(cdf(x)) != x",
                format!(
                    "x = {xi:e}, cdf = {:e}, icdf = {:e}, tol = {tol:e}",
                    f[i], xr[i]
                ),
            );
            return;
        }
    }
}

// ---------------------------------------------------------------------------------
// The runner.
// ---------------------------------------------------------------------------------

#[test]
fn property_suite() {
    harness::run_suite(&harness::Suite {
        title: "property suite",
        cases_by: "class",
        default_cases: DEFAULT_CASES,
        seed_base: 0x5EED_0000,
        lenient_tags: &[EXTREME_TAG],
        lenient_what: "extreme-parameter",
        registry,
        strategy: raw_strategy,
        materialize,
        describe: Case::describe,
        check_case,
        print_counts: |t| {
            println!(
                "  panics: {}, hangs: {}, NaN from valid parameters: {} (core domain), {} (extreme parameters)",
                t.panics,
                t.hangs,
                t.nan(""),
                t.nan(EXTREME_TAG)
            )
        },
        failure_note: |t| format!(", {} NaN from valid parameters", t.nan("")),
    });
}

// ---------------------------------------------------------------------------------
// Impossible sample shapes: an error, quickly, never a panic, a wrap-around or an abort.
// ---------------------------------------------------------------------------------

/// Ordinary valid parameters of an entry, as tensors of `shape` (event entries: `[2]`).
fn ordinary_params(e: &Entry, f64_: bool) -> Result<Vec<Tensor>> {
    let mut vals: Vec<f64> = e
        .params
        .iter()
        .map(|(_, k)| match k {
            Real | RealExt => 0.5,
            Pos => 1.5,
            Unit | PosUnit | Weight => 0.3,
            LogWeight => 0.5,
        })
        .collect();
    if let Some((a, b)) = e.cross {
        vals[a] = -1.0;
        vals[b] = 2.0;
    }
    let last = vals.len() - 1;
    vals.iter()
        .enumerate()
        .map(|(j, &v)| {
            if e.event || (e.cat.is_some() && j == last) {
                tensor(&[v, v], &[2], f64_)
            } else {
                tensor(&[v], &[], f64_)
            }
        })
        .collect()
}

/// One drawing method under test, returning the shape it produced.
type ShapeCall<'a> = Box<dyn Fn() -> Result<Vec<usize>> + 'a>;

const OVERFLOW_ENV: &str = "CANDLE_DIST_PROPERTIES_OVERFLOW_CHILD";

fn overflow_cases() -> Vec<String> {
    install_quiet_panic_hook();
    let reg = registry();
    let huge: &[&[usize]] = &[
        &[usize::MAX],
        &[1 << 32, 1 << 32],
        &[usize::MAX, 2],
        &[3, usize::MAX / 2],
    ];
    let mut bad = Vec::new();
    for (ei, e) in reg.iter().enumerate() {
        for f64_ in [false, true] {
            for validate in [true, false] {
                for ss in huge
                    .iter()
                    .map(|s| s.to_vec())
                    .chain([vec![1 << 32, 1 << 32, 0]])
                {
                    let (tx, rx) = mpsc::channel();
                    let ss2 = ss.clone();
                    std::thread::spawn(move || {
                        let reg = registry();
                        let e = &reg[ei];
                        let mut out: Vec<String> = Vec::new();
                        let empty = ss2.contains(&0);
                        let d = match ordinary_params(e, f64_).and_then(|p| (e.build)(&p, validate))
                        {
                            Ok(d) => d,
                            Err(err) => {
                                let _ = tx.send(vec![format!("new: {err}")]);
                                return;
                            }
                        };
                        let calls: Vec<(&str, ShapeCall)> = vec![
                            (
                                "sample",
                                Box::new(|| {
                                    Ok(d.sample(&ss2, &mut Generator::new(1))?.dims().to_vec())
                                }),
                            ),
                            (
                                "rsample",
                                Box::new(|| {
                                    Ok(d.rsample(&ss2, &mut Generator::new(1))?.dims().to_vec())
                                }),
                            ),
                            (
                                "sample_and_log_prob",
                                Box::new(|| {
                                    Ok(d.sample_and_log_prob(&ss2, &mut Generator::new(1))?
                                        .0
                                        .dims()
                                        .to_vec())
                                }),
                            ),
                            (
                                "rsample_and_log_prob",
                                Box::new(|| {
                                    Ok(d.rsample_and_log_prob(&ss2, &mut Generator::new(1))?
                                        .0
                                        .dims()
                                        .to_vec())
                                }),
                            ),
                            (
                                "expand(..).sample",
                                Box::new(|| {
                                    Ok(d.expand(&ss2)?
                                        .sample(&[], &mut Generator::new(1))?
                                        .dims()
                                        .to_vec())
                                }),
                            ),
                        ];
                        for (m, f) in calls {
                            if m.starts_with("rsample") && !d.has_rsample() {
                                continue;
                            }
                            match catch_unwind(AssertUnwindSafe(f)) {
                                Err(_) => out.push(format!("{m}: PANIC {}", last_panic())),
                                Ok(Ok(dims)) if !empty => {
                                    out.push(format!("{m}: Ok with shape {dims:?}"))
                                }
                                Ok(Ok(dims)) => {
                                    let want =
                                        [ss2.as_slice(), d.batch_shape(), d.event_shape()].concat();
                                    if m != "expand(..).sample" && dims != want {
                                        out.push(format!("{m}: shape {dims:?}, expected {want:?}"));
                                    }
                                }
                                // An empty shape whose other dimensions overflow usize
                                // may be refused (candle's element count is an
                                // unchecked product), but only as a shape error.
                                Ok(Err(err)) if empty && !matches!(err, Error::Shape { .. }) => {
                                    out.push(format!("{m}: error on an empty shape: {err}"))
                                }
                                Ok(Err(Error::Candle(err))) => {
                                    out.push(format!("{m}: untyped candle error: {err}"))
                                }
                                Ok(Err(_)) => {}
                            }
                        }
                        let _ = tx.send(out);
                    });
                    let head = format!(
                        "{}({}) validate={validate} sample_shape={ss:?}",
                        e.label,
                        if f64_ { "f64" } else { "f32" }
                    );
                    match rx.recv_timeout(CASE_TIMEOUT) {
                        Ok(out) => bad.extend(out.into_iter().map(|o| format!("{head}: {o}"))),
                        Err(_) => {
                            bad.push(format!("{head}: HANG (more than {CASE_TIMEOUT:?})"));
                            return bad;
                        }
                    }
                }
            }
        }
    }
    bad
}

/// Sample shapes whose element count overflows `usize` (or whose buffer cannot exist)
/// return an error for every distribution; a zero-size dimension among them gives an
/// empty draw. Runs in a child process, so that an abort on allocation fails this test
/// instead of killing the suite.
#[test]
fn impossible_sample_shapes_are_errors() {
    if std::env::var_os(OVERFLOW_ENV).is_some() {
        let bad = overflow_cases();
        for b in &bad {
            println!("OVERFLOW-FINDING {b}");
        }
        assert!(bad.is_empty(), "{} findings", bad.len());
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args([
            "--exact",
            "impossible_sample_shapes_are_errors",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(OVERFLOW_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes while waiting: a child that fills a pipe would block forever.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out_reader = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err_reader = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out_bytes = out_reader.join().unwrap_or_default();
    let err_bytes = err_reader.join().unwrap_or_default();
    let stdout = String::from_utf8_lossy(&out_bytes);
    let findings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("OVERFLOW-FINDING"))
        .collect();
    // One line per kind of finding (the text after the case), with a count and an example.
    let mut kinds: BTreeMap<String, (usize, &str)> = BTreeMap::new();
    for f in &findings {
        let what = f.split("]: ").nth(1).unwrap_or(f);
        // "method: category", without the distribution-specific message after it.
        let what: String = what.splitn(3, ": ").take(2).collect::<Vec<_>>().join(": ");
        kinds.entry(what).or_insert((0, f)).0 += 1;
    }
    for (what, (n, ex)) in &kinds {
        println!("[{n:>4}] {what}\n       e.g. {ex}");
    }
    match status {
        None => panic!("the child hung for 300 s"),
        Some(s) if !s.success() && findings.is_empty() => panic!(
            "the child died ({s}) before reporting (an abort on allocation?):\n{}\n{}",
            stdout,
            String::from_utf8_lossy(&err_bytes)
        ),
        Some(s) => assert!(
            s.success(),
            "{} impossible-shape findings (listed above)",
            findings.len()
        ),
    }
}
