//! `biject_to` and `transform_to`: from a [`Constraint`] to a transform that maps
//! unconstrained values into it (torch's `constraint_registry`).
//!
//! Both dispatch on the constraint with the same table as torch. `biject_to(c)` returns
//! a bijection (so that a density can be carried through it: Hamiltonian Monte Carlo,
//! variational inference with a Jacobian term); `transform_to(c)` returns any map onto
//! `c` (for optimizing a constrained parameter). They differ where torch's do: the
//! simplex (`StickBreaking` vs `Softmax`), and the matrix sets `lower_cholesky`,
//! `positive_definite` and `positive_semidefinite`, which torch registers for
//! `transform_to` only.
//!
//! One addition to torch: where floating point could land a map on a bound that the set
//! excludes (`exp(x)` underflows to 0 for `x < −745` in f64, so `b + exp(x) = b`; a
//! sigmoid near 1 rounds `l + (h − l)·σ` up to `h`), the chain ends in a
//! `BoundClamp` that moves such results to the nearest representable point of the
//! set (as torch's own clipped sigmoid does for the unit interval). It is the identity
//! everywhere else, with log-det 0, so densities and gradients are unchanged where the
//! map is representable.

use super::cat_stack::{CatTransform, StackTransform};
use super::cholesky::{CorrCholeskyTransform, LowerCholeskyTransform, PositiveDefiniteTransform};
use super::independent_transform::IndependentTransform;
use super::softmax::SoftmaxTransform;
use super::stick_breaking::StickBreakingTransform;
use super::{AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform, Transform};
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use candle_core::{DType, Tensor};
use std::any::Any;

/// A bijection from unconstrained reals (of the right event shape) onto `c` (torch's
/// `biject_to`), or [`Error::NotImplemented`] for a constraint with none registered
/// (`Boolean`, the integer sets, `Square`, `Symmetric`, `LowerTriangular`, and, as in
/// torch, `LowerCholesky`, `PositiveDefinite`, `PositiveSemidefinite`: use
/// [`transform_to`] for those).
///
/// | constraint | transform |
/// |---|---|
/// | `Real` | identity (an empty [`ComposeTransform`]) |
/// | `RealVector`, `Independent(base, n)` | [`IndependentTransform`] of `base`'s |
/// | `Positive`, `NonNegative` | `Exp` |
/// | `GreaterThan(b)`, `GreaterThanEq(b)`, `DependentGreaterThanEq(b)` | `Exp`, `Affine(b, 1)` |
/// | `LessThan(b)` | `Exp`, `Affine(b, −1)` |
/// | `UnitInterval`, `Interval(0, 1)`, `HalfOpenInterval(0, 1)` | `Sigmoid` |
/// | `Interval(l, h)`, `HalfOpenInterval(l, h)`, `DependentInterval(l, h)` | `Sigmoid`, `Affine(l, h − l)` |
/// | `Simplex` | [`StickBreakingTransform`] |
/// | `CorrCholesky` | [`CorrCholeskyTransform`] |
/// | `Cat`, `Stack` | [`CatTransform`] / [`StackTransform`] of the parts' |
///
/// Chains that could round onto an excluded or crossed bound end in a `BoundClamp`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{biject_to, Constraint};
/// let t = biject_to(&Constraint::GreaterThan(2.0))?;
/// let x = Tensor::new(&[-1000.0f64, 0.0, 3.0], &Device::Cpu)?;
/// let y = t.forward(&x)?;
/// assert_eq!(Constraint::GreaterThan(2.0).check(&y)?, None); // all > 2
/// let back = t.inverse(&y)?.to_vec1::<f64>()?;
/// assert!((back[2] - 3.0).abs() < 1e-12);
/// assert!(biject_to(&Constraint::Boolean).is_err());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn biject_to(c: &Constraint) -> Result<Box<dyn Transform>> {
    registry(c, Registry::Biject)
}

/// A transform from unconstrained reals onto `c`, not necessarily bijective (torch's
/// `transform_to`): as [`biject_to`], except `Simplex` ↦ [`SoftmaxTransform`],
/// `LowerCholesky` ↦ [`LowerCholeskyTransform`], and `PositiveDefinite`,
/// `PositiveSemidefinite` ↦ [`PositiveDefiniteTransform`]. [`Error::NotImplemented`]
/// for a constraint with none registered (`Boolean`, the integer sets, `Square`,
/// `Symmetric`, `LowerTriangular`).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::{transform_to, Constraint};
/// let t = transform_to(&Constraint::PositiveDefinite)?;
/// let x = Tensor::new(&[[0.3f64, 0.0], [-1.2, 0.5]], &Device::Cpu)?;
/// assert_eq!(Constraint::PositiveDefinite.check(&t.forward(&x)?)?, None);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn transform_to(c: &Constraint) -> Result<Box<dyn Transform>> {
    registry(c, Registry::TransformTo)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Registry {
    Biject,
    TransformTo,
}

impl Registry {
    fn name(self) -> &'static str {
        match self {
            Registry::Biject => "biject_to",
            Registry::TransformTo => "transform_to",
        }
    }
}

fn compose(parts: Vec<Box<dyn Transform>>) -> Box<dyn Transform> {
    Box::new(ComposeTransform::new(parts))
}

fn registry(c: &Constraint, reg: Registry) -> Result<Box<dyn Transform>> {
    let unregistered = |why: &str| -> Result<Box<dyn Transform>> {
        Err(Error::NotImplemented {
            distribution: reg.name(),
            method: reg.name(),
            reason: Some(format!(
                "no transform is registered for the constraint {c}{why}"
            )),
        })
    };
    let strict = |b: f64| Bound::Number {
        value: b,
        strict: true,
    };
    let closed = |b: f64| Bound::Number {
        value: b,
        strict: false,
    };
    Ok(match c {
        Constraint::Real => compose(vec![]),
        Constraint::RealVector => Box::new(IndependentTransform::new(compose(vec![]), 1)),
        Constraint::Independent {
            base,
            reinterpreted_batch_ndims,
        } => Box::new(IndependentTransform::new(
            registry(base, reg)?,
            *reinterpreted_batch_ndims,
        )),
        Constraint::Positive => compose(vec![
            Box::new(ExpTransform),
            Box::new(BoundClamp::new(c.clone(), Some(strict(0.0)), None)),
        ]),
        Constraint::NonNegative => Box::new(ExpTransform),
        Constraint::GreaterThan(b) => compose(vec![
            Box::new(ExpTransform),
            Box::new(AffineTransform::new(*b, 1.0)?),
            Box::new(BoundClamp::new(c.clone(), Some(strict(*b)), None)),
        ]),
        Constraint::GreaterThanEq(b) => compose(vec![
            Box::new(ExpTransform),
            Box::new(AffineTransform::new(*b, 1.0)?),
        ]),
        Constraint::DependentGreaterThanEq { low } => compose(vec![
            Box::new(ExpTransform),
            Box::new(AffineTransform::new(low, 1.0)?),
        ]),
        Constraint::LessThan(b) => compose(vec![
            Box::new(ExpTransform),
            Box::new(AffineTransform::new(*b, -1.0)?),
            Box::new(BoundClamp::new(c.clone(), None, Some(strict(*b)))),
        ]),
        Constraint::UnitInterval => Box::new(SigmoidTransform),
        Constraint::Interval(l, h) | Constraint::HalfOpenInterval(l, h) => {
            if *l == 0.0 && *h == 1.0 {
                Box::new(SigmoidTransform)
            } else {
                let strict_high = matches!(c, Constraint::HalfOpenInterval(..));
                compose(vec![
                    Box::new(SigmoidTransform),
                    Box::new(AffineTransform::new(*l, *h - *l)?),
                    Box::new(BoundClamp::new(
                        c.clone(),
                        Some(closed(*l)),
                        Some(Bound::Number {
                            value: *h,
                            strict: strict_high,
                        }),
                    )),
                ])
            }
        }
        Constraint::DependentInterval { low, high } => {
            let scale = high.broadcast_sub(low)?;
            compose(vec![
                Box::new(SigmoidTransform),
                Box::new(AffineTransform::new(low, &scale)?),
                Box::new(BoundClamp::new(
                    c.clone(),
                    Some(Bound::Tensor(low.clone())),
                    Some(Bound::Tensor(high.clone())),
                )),
            ])
        }
        Constraint::Simplex => match reg {
            Registry::Biject => Box::new(StickBreakingTransform),
            Registry::TransformTo => Box::new(SoftmaxTransform),
        },
        Constraint::CorrCholesky => Box::new(CorrCholeskyTransform),
        Constraint::LowerCholesky => match reg {
            Registry::TransformTo => Box::new(LowerCholeskyTransform),
            Registry::Biject => return unregistered(
                " (LowerCholeskyTransform is not a bijection of all matrices; use transform_to)",
            ),
        },
        Constraint::PositiveDefinite | Constraint::PositiveSemidefinite => match reg {
            Registry::TransformTo => Box::new(PositiveDefiniteTransform),
            Registry::Biject => return unregistered(
                " (PositiveDefiniteTransform is not a bijection of all matrices; use transform_to)",
            ),
        },
        Constraint::Cat {
            constraints,
            dim,
            lengths,
        } => Box::new(CatTransform::new(
            constraints
                .iter()
                .map(|p| registry(p, reg))
                .collect::<Result<Vec<_>>>()?,
            *dim,
            Some(lengths.clone()),
        )?),
        Constraint::Stack { constraints, dim } => Box::new(StackTransform::new(
            constraints
                .iter()
                .map(|p| registry(p, reg))
                .collect::<Result<Vec<_>>>()?,
            *dim,
        )),
        Constraint::Boolean
        | Constraint::OneHot
        | Constraint::Multinomial { .. }
        | Constraint::DependentIntegerInterval { .. }
        | Constraint::IntegerInterval(..)
        | Constraint::NonNegativeInteger
        | Constraint::PositiveInteger
        | Constraint::Square
        | Constraint::Symmetric
        | Constraint::LowerTriangular => return unregistered(""),
    })
}

/// A bound of a `BoundClamp`: a number (strict or not) or a tensor (inclusive,
/// broadcast against the value).
#[derive(Debug, Clone)]
enum Bound {
    /// A number; `strict` excludes it (the clamp goes to the next representable value).
    Number {
        /// The bound.
        value: f64,
        /// Whether the set excludes it.
        strict: bool,
    },
    /// An inclusive tensor bound.
    Tensor(Tensor),
}

/// The smallest value of `dtype` above `b` (`up`) or the largest below it.
fn next_representable(b: f64, dtype: DType, up: bool) -> f64 {
    if dtype == DType::F32 {
        let v = b as f32;
        let v = match (up, (v as f64) > b, (v as f64) < b) {
            (true, true, _) | (false, _, true) => v,
            (true, _, _) => v.next_up(),
            (false, _, _) => v.next_down(),
        };
        v as f64
    } else if up {
        b.next_up()
    } else {
        b.next_down()
    }
}

impl Bound {
    fn apply(&self, y: &Tensor, lower: bool) -> Result<Tensor> {
        Ok(match self {
            Bound::Number { value, strict } => {
                let v = if *strict {
                    next_representable(*value, y.dtype(), lower)
                } else {
                    *value
                };
                if lower {
                    y.maximum(v)?
                } else {
                    y.minimum(v)?
                }
            }
            Bound::Tensor(t) => {
                let t = t.to_dtype(y.dtype())?;
                if lower {
                    y.broadcast_maximum(&t)?
                } else {
                    y.broadcast_minimum(&t)?
                }
            }
        })
    }

    fn same(&self, other: &Bound) -> bool {
        match (self, other) {
            (
                Bound::Number {
                    value: a,
                    strict: s,
                },
                Bound::Number {
                    value: b,
                    strict: t,
                },
            ) => a == b && s == t,
            (Bound::Tensor(a), Bound::Tensor(b)) => a.id() == b.id(),
            _ => false,
        }
    }
}

/// The last step of a [`biject_to`] / [`transform_to`] chain onto a bounded set:
/// `y ↦ min(max(y, low'), high')`, where `low'`/`high'` are the bounds, or for a bound
/// the set excludes, the nearest representable value inside it (in the dtype of `y`).
///
/// It is the identity on the set, so it changes only results that rounding put on or
/// past a bound (such as `b + exp(−1000) = b` for `x > b`). The inverse is the identity
/// and the log-det is 0 (as for torch's clipped sigmoid: the map is treated as the
/// identity it approximates). domain: the reals; codomain: the set.
#[derive(Debug, Clone)]
struct BoundClamp {
    set: Constraint,
    low: Option<Bound>,
    high: Option<Bound>,
}

impl BoundClamp {
    /// Clamps into `set`, described by its bounds `low` and `high`.
    fn new(set: Constraint, low: Option<Bound>, high: Option<Bound>) -> Self {
        BoundClamp { set, low, high }
    }
}

impl Transform for BoundClamp {
    fn name(&self) -> &'static str {
        "BoundClamp"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = x.clone();
        if let Some(b) = &self.low {
            y = b.apply(&y, true)?;
        }
        if let Some(b) = &self.high {
            y = b.apply(&y, false)?;
        }
        Ok(y)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        Ok(y.clone())
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        Ok(x.zeros_like()?)
    }

    fn domain(&self) -> Constraint {
        Constraint::Real
    }

    fn codomain(&self) -> Constraint {
        self.set.clone()
    }

    fn sign(&self) -> Option<i8> {
        Some(1)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(self.clone())
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        let same = |a: &Option<Bound>, b: &Option<Bound>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.same(b),
            _ => false,
        };
        other
            .as_any()
            .downcast_ref::<BoundClamp>()
            .is_some_and(|o| same(&self.low, &o.low) && same(&self.high, &o.high))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
