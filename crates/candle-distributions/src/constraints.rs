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
    /// One-hot vectors over the last dimension: entries 0 or 1, exactly one 1 (the
    /// support of `OneHotCategorical`; torch's `one_hot`).
    OneHot,
    /// Vectors of non-negative integers over the last dimension whose sum is at most
    /// `upper_bound` (the support of `Multinomial(total_count = upper_bound)`; torch's
    /// `multinomial`, which also accepts sums below the bound).
    Multinomial {
        /// The largest admissible sum.
        upper_bound: u64,
    },
    /// low ≤ x ≤ high with bounds that are tensors (broadcast against x), such as the
    /// support of `Uniform(low, high)`.
    DependentInterval {
        /// Lower bound.
        low: Tensor,
        /// Upper bound.
        high: Tensor,
    },
    /// Integers in low..=high with bounds that are tensors (broadcast against x), such as
    /// the support of `Binomial(total_count)` with a total count per batch element.
    DependentIntegerInterval {
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
    /// `base` checked elementwise, with its rightmost `reinterpreted_batch_ndims`
    /// dimensions counted as part of the event (torch's `independent(base, n)`): the
    /// domain of `Independent` distributions and of transforms applied per vector.
    Independent {
        /// The elementwise set.
        base: Box<Constraint>,
        /// How many more rightmost dimensions form one event.
        reinterpreted_batch_ndims: usize,
    },
    /// Square matrices (event dimension 2).
    Square,
    /// Symmetric square matrices.
    Symmetric,
    /// Lower-triangular square matrices.
    LowerTriangular,
    /// Lower-triangular matrices with positive diagonal (Cholesky factors).
    LowerCholesky,
    /// Cholesky factors of correlation matrices: lower triangular, positive diagonal,
    /// rows of unit Euclidean norm.
    CorrCholesky,
    /// Symmetric positive-definite matrices.
    PositiveDefinite,
    /// Symmetric positive-semidefinite matrices.
    PositiveSemidefinite,
    /// Pieces of `lengths[i]` entries along dimension `dim` (negative counts from the
    /// end), piece `i` in `constraints[i]` (torch's `cat`).
    Cat {
        /// One constraint per piece.
        constraints: Vec<Constraint>,
        /// The dimension along which the pieces lie.
        dim: isize,
        /// The length of each piece along `dim`.
        lengths: Vec<usize>,
    },
    /// Slices `i` along dimension `dim` (negative counts from the end) in
    /// `constraints[i]` (torch's `stack`).
    Stack {
        /// One constraint per slice.
        constraints: Vec<Constraint>,
        /// The stacking dimension.
        dim: isize,
    },
}

impl Constraint {
    /// Whether the set holds only integers.
    pub fn is_discrete(&self) -> bool {
        matches!(
            self,
            Constraint::Boolean
                | Constraint::OneHot
                | Constraint::Multinomial { .. }
                | Constraint::DependentIntegerInterval { .. }
                | Constraint::IntegerInterval(..)
                | Constraint::NonNegativeInteger
                | Constraint::PositiveInteger
        )
    }

    /// Number of rightmost dimensions that form one event of the set.
    pub fn event_dim(&self) -> usize {
        match self {
            Constraint::Simplex
            | Constraint::RealVector
            | Constraint::OneHot
            | Constraint::Multinomial { .. } => 1,
            Constraint::Independent {
                base,
                reinterpreted_batch_ndims,
            } => base.event_dim() + reinterpreted_batch_ndims,
            Constraint::Square
            | Constraint::Symmetric
            | Constraint::LowerTriangular
            | Constraint::LowerCholesky
            | Constraint::CorrCholesky
            | Constraint::PositiveDefinite
            | Constraint::PositiveSemidefinite => 2,
            Constraint::Cat { constraints, .. } => {
                constraints.iter().map(|c| c.event_dim()).max().unwrap_or(0)
            }
            Constraint::Stack { constraints, dim } => {
                let d = constraints.iter().map(|c| c.event_dim()).max().unwrap_or(0);
                // A stacking dimension inside the event adds one event dimension.
                if *dim + (d as isize) < 0 {
                    d + 1
                } else {
                    d
                }
            }
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
            Constraint::OneHot | Constraint::Multinomial { .. } => {
                let k = value.dims().last().copied().unwrap_or(1).max(1);
                let mut found = None;
                for (e, ev) in v.chunks(k).enumerate() {
                    let entry_ok = |x: f64| match self {
                        Constraint::OneHot => x == 0.0 || x == 1.0,
                        _ => int(x) && x >= 0.0,
                    };
                    if let Some(j) = ev.iter().position(|&x| !entry_ok(x)) {
                        found = Some((e * k + j, ev[j]));
                        break;
                    }
                    let s: f64 = ev.iter().sum();
                    let sum_ok = match self {
                        Constraint::Multinomial { upper_bound } => s <= *upper_bound as f64,
                        _ => s == 1.0,
                    };
                    if !sum_ok {
                        found = Some((e * k, ev[0]));
                        break;
                    }
                }
                found
            }
            Constraint::DependentInterval { low, high }
            | Constraint::DependentIntegerInterval { low, high } => {
                let integral = matches!(self, Constraint::DependentIntegerInterval { .. });
                let lo = host_f64(&low.broadcast_as(value.shape())?)?;
                let hi = host_f64(&high.broadcast_as(value.shape())?)?;
                v.iter()
                    .enumerate()
                    .position(|(i, &x)| !(x >= lo[i] && x <= hi[i] && (!integral || int(x))))
                    .map(|i| (i, v[i]))
            }
            Constraint::DependentGreaterThanEq { low } => {
                let lo = host_f64(&low.broadcast_as(value.shape())?)?;
                v.iter()
                    .enumerate()
                    .position(|(i, &x)| !(x >= lo[i]))
                    .map(|i| (i, v[i]))
            }
            Constraint::Independent { base, .. } => base.check(value)?,
            Constraint::Square
            | Constraint::Symmetric
            | Constraint::LowerTriangular
            | Constraint::LowerCholesky
            | Constraint::CorrCholesky
            | Constraint::PositiveDefinite
            | Constraint::PositiveSemidefinite
            | Constraint::Cat { .. }
            | Constraint::Stack { .. } => check_structured(self, value)?,
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
            Constraint::OneHot => write!(f, "one-hot (entries 0 or 1, exactly one 1 over the last dim)"),
            Constraint::Multinomial { upper_bound } => write!(
                f,
                "multinomial counts (non-negative integers, sum over last dim <= {upper_bound})"
            ),
            Constraint::DependentInterval { .. } => write!(f, "interval [low, high]"),
            Constraint::DependentIntegerInterval { .. } => {
                write!(f, "integer interval {{low, ..., high}}")
            }
            Constraint::DependentGreaterThanEq { .. } => write!(f, "greater than or equal to low"),
            Constraint::Independent {
                base,
                reinterpreted_batch_ndims,
            } => write!(f, "{base} (event dims +{reinterpreted_batch_ndims})"),
            Constraint::Square => write!(f, "square matrix"),
            Constraint::Symmetric => write!(f, "symmetric matrix"),
            Constraint::LowerTriangular => write!(f, "lower-triangular matrix"),
            Constraint::LowerCholesky => {
                write!(f, "lower-triangular matrix with positive diagonal")
            }
            Constraint::CorrCholesky => write!(
                f,
                "Cholesky factor of a correlation matrix (lower triangular, positive diagonal, unit-norm rows)"
            ),
            Constraint::PositiveDefinite => write!(f, "symmetric positive-definite matrix"),
            Constraint::PositiveSemidefinite => {
                write!(f, "symmetric positive-semidefinite matrix")
            }
            Constraint::Cat {
                constraints,
                dim,
                lengths,
            } => {
                write!(f, "cat along dim {dim} of [")?;
                for (i, (c, l)) in constraints.iter().zip(lengths).enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "{l} x {c}")?;
                }
                write!(f, "]")
            }
            Constraint::Stack { constraints, dim } => {
                write!(f, "stack along dim {dim} of [")?;
                for (i, c) in constraints.iter().enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "{c}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// Checks of the matrix, `Cat` and `Stack` sets, with torch's rules and tolerances:
/// symmetry up to `|a_ij − a_ji| ≤ 1e-6 + 1e-5·|a_ji|` (torch's `isclose`), unit rows of
/// a correlation Cholesky factor up to `10·ε·D` of the dtype, positive definiteness by
/// a Cholesky factorization (in f64 on the host), positive semidefiniteness by the
/// smallest eigenvalue (Jacobi, in f64), with a tolerance of `10·ε·D·max|λ|` of the
/// dtype (torch compares with 0 exactly, which fails singular matrices on rounding).
/// A value whose last two dimensions are not square lies outside every matrix set.
fn check_structured(c: &Constraint, value: &Tensor) -> Result<Option<(usize, f64)>> {
    match c {
        Constraint::Cat {
            constraints,
            dim,
            lengths,
        } => check_cat(constraints, *dim, lengths, value),
        Constraint::Stack { constraints, dim } => check_stack(constraints, *dim, value),
        _ => check_matrices(c, value),
    }
}

/// `dim` (negative counts from the end) as an index into a tensor of rank `rank`.
fn resolve_dim(c: &Constraint, dim: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    if dim < -r || dim >= r {
        return Err(crate::Error::shape(
            "Constraint::check",
            format!("{c}: dim {dim} is out of range for a value of rank {rank}"),
        ));
    }
    Ok(if dim < 0 {
        (dim + r) as usize
    } else {
        dim as usize
    })
}

/// The flat index in `full` of the element at flat index `i` of a part of shape `part`,
/// where part coordinates map to full ones by `to_full`.
fn reindex(i: usize, part: &[usize], full: &[usize], to_full: impl Fn(&mut Vec<usize>)) -> usize {
    let mut coords = vec![0usize; part.len()];
    let mut rem = i;
    for (k, &n) in part.iter().enumerate().rev() {
        let n = n.max(1);
        coords[k] = rem % n;
        rem /= n;
    }
    to_full(&mut coords);
    coords
        .iter()
        .zip(full)
        .fold(0usize, |acc, (&c, &n)| acc * n + c)
}

fn check_cat(
    constraints: &[Constraint],
    dim: isize,
    lengths: &[usize],
    value: &Tensor,
) -> Result<Option<(usize, f64)>> {
    let whole = Constraint::Cat {
        constraints: constraints.to_vec(),
        dim,
        lengths: lengths.to_vec(),
    };
    if constraints.len() != lengths.len() {
        return Err(crate::Error::InvalidArgument(format!(
            "Constraint::check: {whole} has {} constraints but {} lengths",
            constraints.len(),
            lengths.len()
        )));
    }
    let d = resolve_dim(&whole, dim, value.rank())?;
    let total: usize = lengths.iter().sum();
    if value.dim(d)? != total {
        return Err(crate::Error::shape(
            "Constraint::check",
            format!(
                "{whole}: the pieces' lengths sum to {total} but the value has {} entries along dim {dim} (shape {:?})",
                value.dim(d)?,
                value.dims()
            ),
        ));
    }
    if value.elem_count() == 0 {
        // No element to violate anything (and candle cannot narrow an empty tensor).
        return Ok(None);
    }
    let mut start = 0;
    for (c, &len) in constraints.iter().zip(lengths) {
        let piece = value.narrow(d, start, len)?;
        if let Some((i, x)) = c.check(&piece)? {
            let full = reindex(i, piece.dims(), value.dims(), |co| co[d] += start);
            return Ok(Some((full, x)));
        }
        start += len;
    }
    Ok(None)
}

fn check_stack(
    constraints: &[Constraint],
    dim: isize,
    value: &Tensor,
) -> Result<Option<(usize, f64)>> {
    let whole = Constraint::Stack {
        constraints: constraints.to_vec(),
        dim,
    };
    let d = resolve_dim(&whole, dim, value.rank())?;
    if value.dim(d)? != constraints.len() {
        return Err(crate::Error::shape(
            "Constraint::check",
            format!(
                "{whole}: {} constraints but the value has {} entries along dim {dim} (shape {:?})",
                constraints.len(),
                value.dim(d)?,
                value.dims()
            ),
        ));
    }
    if value.elem_count() == 0 {
        // No element to violate anything (and candle cannot narrow an empty tensor).
        return Ok(None);
    }
    for (k, c) in constraints.iter().enumerate() {
        let slice = value.narrow(d, k, 1)?.squeeze(d)?;
        if let Some((i, x)) = c.check(&slice)? {
            let full = reindex(i, slice.dims(), value.dims(), |co| co.insert(d, k));
            return Ok(Some((full, x)));
        }
    }
    Ok(None)
}

/// Checks each `D × D` matrix in the last two dimensions of `value` against a matrix set.
// Negated comparisons make NaN a violation.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn check_matrices(c: &Constraint, value: &Tensor) -> Result<Option<(usize, f64)>> {
    let v = host_f64(value)?;
    let dims = value.dims();
    let n = dims.len();
    if n < 2 || dims[n - 2] != dims[n - 1] {
        return Ok(Some((0, v.first().copied().unwrap_or(f64::NAN))));
    }
    let d = dims[n - 1];
    if d == 0 || matches!(c, Constraint::Square) {
        return Ok(None);
    }
    let eps = if value.dtype() == DType::F64 {
        f64::EPSILON
    } else {
        f32::EPSILON as f64
    };
    for (e, m) in v.chunks(d * d).enumerate() {
        let base = e * d * d;
        let at = |i: usize, j: usize| m[i * d + j];
        let hit = |i: usize, j: usize| Some((base + i * d + j, m[i * d + j]));
        let first = |f: &dyn Fn(usize, usize) -> bool| {
            (0..d * d)
                .find(|&p| f(p / d, p % d))
                .and_then(|p| hit(p / d, p % d))
        };
        let not_symmetric =
            |i: usize, j: usize| !((at(i, j) - at(j, i)).abs() <= 1e-6 + 1e-5 * at(j, i).abs());
        let not_lower = |i: usize, j: usize| at(i, j).is_nan() || (j > i && at(i, j) != 0.0);
        let not_cholesky = |i: usize, j: usize| not_lower(i, j) || (i == j && !(at(i, i) > 0.0));
        let found = match c {
            Constraint::Symmetric => first(&not_symmetric),
            Constraint::LowerTriangular => first(&not_lower),
            Constraint::LowerCholesky => first(&not_cholesky),
            Constraint::CorrCholesky => first(&not_cholesky).or_else(|| {
                let tol = 10.0 * eps * d as f64;
                (0..d)
                    .find(|&i| {
                        let norm = (0..d).map(|j| at(i, j) * at(i, j)).sum::<f64>().sqrt();
                        !((norm - 1.0).abs() <= tol)
                    })
                    .and_then(|i| hit(i, i))
            }),
            Constraint::PositiveDefinite => {
                first(&not_symmetric).or_else(|| cholesky_host(m, d).err().and_then(|k| hit(k, k)))
            }
            Constraint::PositiveSemidefinite => first(&not_symmetric).or_else(|| {
                let lam = symmetric_eigenvalues(m, d);
                let scale = lam.iter().fold(0f64, |a, l| a.max(l.abs()));
                let tol = 10.0 * eps * d as f64 * scale;
                lam.iter().any(|&l| !(l >= -tol)).then(|| (base, m[0]))
            }),
            _ => None,
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The Cholesky factor `L` (row-major, zeros above the diagonal) of the `d × d` matrix
/// `m`, read from its lower triangle; `Err(k)` when the `k`-th pivot is not positive and
/// finite (the matrix is not positive definite, or holds NaN/∞).
pub(crate) fn cholesky_host(m: &[f64], d: usize) -> std::result::Result<Vec<f64>, usize> {
    let mut l = vec![0f64; d * d];
    for j in 0..d {
        let s = m[j * d + j] - (0..j).map(|k| l[j * d + k] * l[j * d + k]).sum::<f64>();
        if !(s > 0.0 && s.is_finite()) {
            return Err(j);
        }
        let p = s.sqrt();
        l[j * d + j] = p;
        for i in j + 1..d {
            let t = m[i * d + j] - (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum::<f64>();
            l[i * d + j] = t / p;
        }
    }
    Ok(l)
}

/// Eigenvalues of the symmetric part of the `d × d` matrix `m` by cyclic Jacobi
/// rotations (at most 64 sweeps; quadratic convergence makes ~10 the norm). NaN or ∞
/// entries give NaN eigenvalues.
fn symmetric_eigenvalues(m: &[f64], d: usize) -> Vec<f64> {
    let mut a: Vec<f64> = (0..d * d)
        .map(|p| 0.5 * (m[p] + m[(p % d) * d + p / d]))
        .collect();
    if a.iter().any(|x| !x.is_finite()) {
        return vec![f64::NAN; d];
    }
    for _sweep in 0..64 {
        let off: f64 = (0..d * d)
            .filter(|p| p / d != p % d)
            .map(|p| a[p] * a[p])
            .sum();
        let diag: f64 = (0..d).map(|i| a[i * d + i] * a[i * d + i]).sum();
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                // tan of the rotation angle, the smaller root; 1/(2θ) where θ² overflows.
                let t = if theta == 0.0 {
                    1.0
                } else if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let akp = a[k * d + p];
                    let akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let apk = a[p * d + k];
                    let aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
            }
        }
    }
    (0..d).map(|i| a[i * d + i]).collect()
}

/// All elements of a tensor as f64 on the host (row-major).
pub(crate) fn host_f64(t: &Tensor) -> Result<Vec<f64>> {
    // candle's own copies read a zero-size view's start offset, which may lie past the
    // end of its storage (a `narrow` of an empty tensor).
    if t.elem_count() == 0 {
        return Ok(Vec::new());
    }
    Ok(t.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?)
}
