//! Constraints: the sets that parameters and values must belong to.
//!
//! A [`Constraint`] checks a tensor elementwise (or per event, for event-level sets such
//! as the simplex) and reports the first offending element, and it displays in words
//! ("positive (x > 0)"), which is what errors show.
//!
//! ```
//! use candle_distributions::Constraint;
//! use candle_core::{Device, Tensor};
//! let t = Tensor::new(&[1.0f64, -2.0, 3.0], &Device::Cpu)?;
//! assert_eq!(Constraint::Positive.check(&t)?, Some((1, -2.0)));
//! assert_eq!(Constraint::Real.check(&t)?, None);
//! assert_eq!(Constraint::Positive.to_string(), "positive (x > 0)");
//! # Ok::<(), candle_distributions::Error>(())
//! ```

use crate::error::Result;
use candle_core::{DType, Tensor};
use std::fmt;

/// A set of admissible values.
#[derive(Debug, Clone)]
pub enum Constraint {
    /// Any finite or infinite real number, but not NaN.
    Real,
    /// Vectors of reals (event dimension 1).
    RealVector,
    /// 0 or 1.
    Boolean,
    /// x > 0.
    Positive,
    /// x ≥ 0.
    NonNegative,
    /// x > bound.
    GreaterThan(f64),
    /// x ≥ bound.
    GreaterThanEq(f64),
    /// x < bound.
    LessThan(f64),
    /// low ≤ x ≤ high.
    Interval(f64, f64),
    /// low ≤ x < high.
    HalfOpenInterval(f64, f64),
    /// 0 ≤ x ≤ 1.
    UnitInterval,
    /// Integers in low..=high.
    IntegerInterval(i64, i64),
    /// Integers ≥ 0.
    NonNegativeInteger,
    /// Integers ≥ 1.
    PositiveInteger,
    /// Non-negative vectors summing to 1 over the last dimension.
    Simplex,
    /// low ≤ x ≤ high with bounds that are tensors (broadcast against x), such as the
    /// support of `Uniform(low, high)`.
    DependentInterval {
        /// Lower bound.
        low: Tensor,
        /// Upper bound.
        high: Tensor,
    },
    /// x ≥ low with a tensor bound.
    DependentGreaterThanEq {
        /// Lower bound.
        low: Tensor,
    },
}

impl Constraint {
    /// Whether the set holds only integers.
    pub fn is_discrete(&self) -> bool {
        matches!(
            self,
            Constraint::Boolean
                | Constraint::IntegerInterval(..)
                | Constraint::NonNegativeInteger
                | Constraint::PositiveInteger
        )
    }

    /// Number of rightmost dimensions that form one event of the set.
    pub fn event_dim(&self) -> usize {
        match self {
            Constraint::Simplex | Constraint::RealVector => 1,
            _ => 0,
        }
    }

    /// Checks `value`; returns the flat index and value of the first element outside the
    /// set (for event-level sets, the first element of the first bad event), or `None`.
    /// This reads the tensor on the host.
    // Negated comparisons make NaN a violation of every bound.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn check(&self, value: &Tensor) -> Result<Option<(usize, f64)>> {
        let v = host_f64(value)?;
        let bad = |f: &dyn Fn(f64) -> bool| v.iter().position(|&x| !f(x)).map(|i| (i, v[i]));
        let int = |x: f64| x.fract() == 0.0;
        Ok(match self {
            Constraint::Real | Constraint::RealVector => bad(&|x| !x.is_nan()),
            Constraint::Boolean => bad(&|x| x == 0.0 || x == 1.0),
            Constraint::Positive => bad(&|x| x > 0.0),
            Constraint::NonNegative => bad(&|x| x >= 0.0),
            Constraint::GreaterThan(b) => bad(&|x| x > *b),
            Constraint::GreaterThanEq(b) => bad(&|x| x >= *b),
            Constraint::LessThan(b) => bad(&|x| x < *b),
            Constraint::Interval(l, h) => bad(&|x| x >= *l && x <= *h),
            Constraint::HalfOpenInterval(l, h) => bad(&|x| x >= *l && x < *h),
            Constraint::UnitInterval => bad(&|x| (0.0..=1.0).contains(&x)),
            Constraint::IntegerInterval(l, h) => {
                bad(&|x| int(x) && x >= *l as f64 && x <= *h as f64)
            }
            Constraint::NonNegativeInteger => bad(&|x| int(x) && x >= 0.0),
            Constraint::PositiveInteger => bad(&|x| int(x) && x >= 1.0),
            Constraint::Simplex => {
                let k = value.dims().last().copied().unwrap_or(1).max(1);
                // torch's tolerance (1e-6) in f64: points given with f32 precision
                // (or normalized in f32) must pass; f32 sums carry more rounding.
                let tol = if value.dtype() == DType::F64 {
                    1e-6
                } else {
                    1e-5
                };
                let mut found = None;
                for (e, ev) in v.chunks(k).enumerate() {
                    let s: f64 = ev.iter().sum();
                    if let Some(j) = ev.iter().position(|&x| !(x >= 0.0)) {
                        found = Some((e * k + j, ev[j]));
                        break;
                    }
                    if (s - 1.0).abs() > tol * k as f64 {
                        found = Some((e * k, ev[0]));
                        break;
                    }
                }
                found
            }
            Constraint::DependentInterval { low, high } => {
                let lo = host_f64(&low.broadcast_as(value.shape())?)?;
                let hi = host_f64(&high.broadcast_as(value.shape())?)?;
                v.iter()
                    .enumerate()
                    .position(|(i, &x)| !(x >= lo[i] && x <= hi[i]))
                    .map(|i| (i, v[i]))
            }
            Constraint::DependentGreaterThanEq { low } => {
                let lo = host_f64(&low.broadcast_as(value.shape())?)?;
                v.iter()
                    .enumerate()
                    .position(|(i, &x)| !(x >= lo[i]))
                    .map(|i| (i, v[i]))
            }
        })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::Real => write!(f, "real (not NaN)"),
            Constraint::RealVector => write!(f, "real vector (not NaN)"),
            Constraint::Boolean => write!(f, "boolean (x in {{0, 1}})"),
            Constraint::Positive => write!(f, "positive (x > 0)"),
            Constraint::NonNegative => write!(f, "non-negative (x >= 0)"),
            Constraint::GreaterThan(b) => write!(f, "greater than {b} (x > {b})"),
            Constraint::GreaterThanEq(b) => write!(f, "greater than or equal to {b} (x >= {b})"),
            Constraint::LessThan(b) => write!(f, "less than {b} (x < {b})"),
            Constraint::Interval(l, h) => write!(f, "interval [{l}, {h}]"),
            Constraint::HalfOpenInterval(l, h) => write!(f, "half-open interval [{l}, {h})"),
            Constraint::UnitInterval => write!(f, "unit interval [0, 1]"),
            Constraint::IntegerInterval(l, h) => write!(f, "integer interval {{{l}, ..., {h}}}"),
            Constraint::NonNegativeInteger => write!(f, "non-negative integer"),
            Constraint::PositiveInteger => write!(f, "positive integer"),
            Constraint::Simplex => write!(f, "simplex (x >= 0, sum over last dim = 1)"),
            Constraint::DependentInterval { .. } => write!(f, "interval [low, high]"),
            Constraint::DependentGreaterThanEq { .. } => write!(f, "greater than or equal to low"),
        }
    }
}

/// All elements of a tensor as f64 on the host (row-major).
pub(crate) fn host_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?)
}
