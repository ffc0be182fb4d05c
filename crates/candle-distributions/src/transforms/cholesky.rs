//! Transforms onto Cholesky factors and positive-definite matrices:
//! [`LowerCholeskyTransform`], [`CorrCholeskyTransform`], [`PositiveDefiniteTransform`].
//!
//! candle has no `tril`, `diagonal` or `diag_embed`; all three are written here as one
//! `index_select` on the flattened matrix (with a zero, and where needed a one, prepended
//! to pick from), so that every entry of the result is a differentiable function of the
//! input and the backward is candle's own (`index_select` scatters-adds gradients).

use super::stick_breaking::shift_right;
use super::{check_event_rank, Transform};
use crate::constraints::{cholesky_host, Constraint};
use crate::error::{Error, Result};
use crate::special;
use candle_core::{DType, Tensor, D};
use std::any::Any;

/// The size `D` of the square matrices in the last two dimensions of `x`.
fn square_dim(name: &str, x: &Tensor) -> Result<usize> {
    check_event_rank(name, x, 2)?;
    let d = x.dims();
    let (r, c) = (d[d.len() - 2], d[d.len() - 1]);
    if r != c {
        return Err(Error::shape(
            name,
            format!("needs square matrices in the last two dimensions, got shape {d:?}"),
        ));
    }
    Ok(r)
}

/// `src[..., idx[p]]` for every output position `p`, reshaped to `batch ++ out`, where
/// `src` has shape `batch ++ [m]`.
fn pick(src: &Tensor, idx: Vec<u32>, out: &[usize]) -> Result<Tensor> {
    let last = src.rank() - 1;
    let idx = Tensor::new(idx, src.device())?;
    let picked = src.contiguous()?.index_select(&idx, last)?;
    let mut shape = src.dims()[..last].to_vec();
    shape.extend_from_slice(out);
    Ok(picked.reshape(shape)?)
}

/// `t` with constant entries `values` prepended along the last dimension.
fn prepend(t: &Tensor, values: &[f64]) -> Result<Tensor> {
    let last = t.rank() - 1;
    let mut s = t.dims().to_vec();
    s[last] = 1;
    let mut parts = Vec::with_capacity(values.len() + 1);
    for &v in values {
        parts.push((Tensor::ones(s.as_slice(), t.dtype(), t.device())? * v)?);
    }
    parts.push(t.clone());
    Ok(Tensor::cat(&parts, last)?)
}

/// The diagonals `x[..., i, i]` of a batch of `d × d` matrices: shape `batch ++ [d]`.
pub(crate) fn diagonal(x: &Tensor, d: usize) -> Result<Tensor> {
    if d == 0 {
        return Ok(x.sum(D::Minus1)?);
    }
    let flat = x.flatten_from(x.rank() - 2)?;
    pick(&flat, (0..d).map(|i| (i * (d + 1)) as u32).collect(), &[d])
}

/// The strictly lower triangle of `x` plus `diag` on the diagonal, zeros above.
fn strict_lower_with_diag(x: &Tensor, diag: &Tensor, d: usize) -> Result<Tensor> {
    if d == 0 {
        return Ok(x.clone());
    }
    let flat = x.flatten_from(x.rank() - 2)?;
    // Source: [0, x (d·d entries), diag (d entries)].
    let src = prepend(&Tensor::cat(&[&flat, diag], flat.rank() - 1)?, &[0.0])?;
    let mut idx = Vec::with_capacity(d * d);
    for i in 0..d {
        for j in 0..d {
            idx.push(match i.cmp(&j) {
                std::cmp::Ordering::Greater => 1 + i * d + j,
                std::cmp::Ordering::Equal => 1 + d * d + i,
                std::cmp::Ordering::Less => 0,
            } as u32);
        }
    }
    pick(&src, idx, &[d, d])
}

/// `exp` of the diagonal, floored at the smallest positive normal of the dtype so that
/// the diagonal stays positive where `exp` underflows (as torch's clipped sigmoid keeps
/// the open unit interval); the floor changes nothing where `exp` is representable.
fn exp_diag(x: &Tensor, d: usize) -> Result<Tensor> {
    let tiny = if x.dtype() == DType::F32 {
        f32::MIN_POSITIVE as f64
    } else {
        f64::MIN_POSITIVE
    };
    Ok(diagonal(x, d)?.exp()?.maximum(tiny)?)
}

/// `Lᵀ` for a batch of matrices, contiguous (candle's batched matmul wants it).
fn transpose_last2(x: &Tensor) -> Result<Tensor> {
    let r = x.rank();
    Ok(x.transpose(r - 2, r - 1)?.contiguous()?)
}

/// `a·b` for two batches of matrices of the same batch shape (`[..., m, k]·[..., k, n]`),
/// with the batch dimensions folded into one: candle's CPU matmul rejects batches of
/// rank above 2 (`MatMulUnexpectedStriding` on contiguous inputs).
fn batched_matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (ra, rb) = (a.rank(), b.rank());
    let (m, k) = (a.dims()[ra - 2], a.dims()[ra - 1]);
    let n = b.dims()[rb - 1];
    let batch = &a.dims()[..ra - 2];
    let bn: usize = batch.iter().product();
    let mut out = batch.to_vec();
    out.extend([m, n]);
    let a3 = a.contiguous()?.reshape((bn, m, k))?;
    let b3 = b.contiguous()?.reshape((bn, b.dims()[rb - 2], n))?;
    Ok(a3.matmul(&b3)?.reshape(out)?)
}

fn tiny_of(dtype: DType) -> f64 {
    if dtype == DType::F32 {
        f32::MIN_POSITIVE as f64
    } else {
        f64::MIN_POSITIVE
    }
}

fn max_of(dtype: DType) -> f64 {
    if dtype == DType::F32 {
        f32::MAX as f64
    } else {
        f64::MAX
    }
}

/// `max(v, lo)`, except that NaN stays NaN (`f64::max` would drop it).
fn floor_keep_nan(v: f64, lo: f64) -> f64 {
    if v.is_nan() {
        v
    } else {
        v.max(lo)
    }
}

/// The factor `L` of [`PositiveDefiniteTransform`]'s forward map, `L·Lᵀ` representable.
///
/// Unsaturated, `L = tril(x, −1) + diag(exp(diag x))` with the diagonal floored at `√tiny`
/// of the dtype (so that `y_ii ≥ L_ii²` stays a normal number). A row whose norm `r_i`
/// exceeds `ρ = √(max/(2D))` (where `L·Lᵀ` would overflow) is scaled by `ρ / r_i`: the
/// result `S·L·Lᵀ·S` (with `S` diagonal and positive) is still positive definite, keeps
/// every correlation and saturates the variances at `ρ²`, and every entry and partial sum
/// of the product is bounded by `ρ² < max/D`. The row norms and the scaled diagonal are
/// computed on the host in f64 from logarithms (`exp(x_ii)` may overflow even in f64),
/// the scaled diagonal as `log ρ + (log L_ii − log r_i)`, exact where the diagonal
/// dominates its row. The scales are constants for autograd; the diagonal keeps its
/// derivative `∂L_ii/∂x_ii = L_ii` through an exactly-zero `x − detach(x)` term.
fn pd_factor(x: &Tensor, d: usize) -> Result<Tensor> {
    let dt = x.dtype();
    let ln_floor = 0.5 * tiny_of(dt).ln();
    let cap = 0.5 * (max_of(dt) / (2.0 * d as f64)).ln();
    let v = crate::constraints::host_f64(x)?;
    let rows = v.len() / d;
    let mut scale = Vec::with_capacity(rows);
    let mut log_diag = Vec::with_capacity(rows);
    for m in v.chunks(d * d) {
        for i in 0..d {
            let ld = floor_keep_nan(m[i * d + i], ln_floor);
            let logs = (0..i).map(|k| m[i * d + k].abs().ln()).chain([ld]);
            let mx = logs.clone().fold(f64::NEG_INFINITY, f64::max);
            let lsum = logs.map(|l| (2.0 * (l - mx)).exp()).sum::<f64>().ln();
            let lr = mx + 0.5 * lsum;
            let ls = if lr.is_finite() {
                (cap - lr).min(0.0)
            } else {
                0.0
            };
            scale.push(ls.exp());
            let diag = if ls < 0.0 {
                cap + ((ld - mx) - 0.5 * lsum)
            } else {
                ld
            };
            log_diag.push(floor_keep_nan(diag, ln_floor));
        }
    }
    let batch = &x.dims()[..x.rank() - 2];
    let mut s_shape = batch.to_vec();
    s_shape.extend([d, 1]);
    let mut d_shape = batch.to_vec();
    d_shape.push(d);
    let s = Tensor::from_vec(scale, s_shape, x.device())?.to_dtype(dt)?;
    let mut log_diag = Tensor::from_vec(log_diag, d_shape, x.device())?.to_dtype(dt)?;
    if x.track_op() {
        let xd = diagonal(x, d)?;
        log_diag = (log_diag + (&xd - xd.detach())?)?;
    }
    strict_lower_with_diag(&x.broadcast_mul(&s)?, &log_diag.exp()?, d)
}

/// Real matrices onto lower-triangular matrices with positive diagonal (torch's
/// `LowerCholeskyTransform`):
///
/// `y = tril(x, −1) + diag(exp(diag x))`, with `exp` floored at the smallest positive
/// normal of the dtype (an underflowing `exp(−1000)` would leave a zero diagonal).
///
/// - domain: real `D × D` matrices (event dimension 2); codomain: lower Cholesky factors.
/// - Not bijective on full matrices (the strict upper triangle of `x` is discarded), as
///   in torch. The inverse maps `y` to `tril(y, −1) + diag(log diag y)`, the preimage
///   with a zero upper triangle.
/// - `log_abs_det_jacobian` (torch has none): the Jacobian restricted to the lower
///   triangle, `Σ_i x_ii`, one value per matrix. The strictly-lower entries are copied
///   and each diagonal entry is exponentiated.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{LowerCholeskyTransform, Transform};
/// let x = Tensor::new(&[[0.0f64, 5.0], [2.0, 1.0]], &Device::Cpu)?;
/// let y = LowerCholeskyTransform.forward(&x)?.to_vec2::<f64>()?;
/// assert_eq!(y, vec![vec![1.0, 0.0], vec![2.0, 1f64.exp()]]);
/// let ladj = LowerCholeskyTransform.log_abs_det_jacobian(&x, &LowerCholeskyTransform.forward(&x)?)?;
/// assert_eq!(ladj.to_vec0::<f64>()?, 1.0);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LowerCholeskyTransform;

impl Transform for LowerCholeskyTransform {
    fn name(&self) -> &'static str {
        "LowerCholeskyTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let d = square_dim(self.name(), x)?;
        strict_lower_with_diag(x, &exp_diag(x, d)?, d)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        let d = square_dim(self.name(), y)?;
        strict_lower_with_diag(y, &diagonal(y, d)?.log()?, d)
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        let d = square_dim(self.name(), x)?;
        Ok(diagonal(x, d)?.sum(D::Minus1)?)
    }

    fn domain(&self) -> Constraint {
        Constraint::Independent {
            base: Box::new(Constraint::Real),
            reinterpreted_batch_ndims: 2,
        }
    }

    fn codomain(&self) -> Constraint {
        Constraint::LowerCholesky
    }

    fn bijective(&self) -> bool {
        false
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        check_square_shape(self.name(), shape)
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        check_square_shape(self.name(), shape)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<LowerCholeskyTransform>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `shape` itself when it ends in a square matrix; [`Error::Shape`] otherwise.
fn check_square_shape(name: &str, shape: &[usize]) -> Result<Vec<usize>> {
    let n = shape.len();
    if n < 2 || shape[n - 2] != shape[n - 1] {
        return Err(Error::shape(
            name,
            format!("needs square matrices in the last two dimensions, got shape {shape:?}"),
        ));
    }
    Ok(shape.to_vec())
}

/// `y = L·Lᵀ` as computed, except for a matrix that rounding left outside the
/// positive-definite set of the dtype (a diagonal `L_ii²` below the rounding of its row:
/// the Cholesky factorization of the stored values fails). Its diagonal is raised by
/// `Δ_i = 4(D+2)·ε·√y_ii·Σ_j √y_jj`, a bound on the rounding of row `i` of the product
/// (`|fl(L·Lᵀ) − L·Lᵀ|_ij ≤ (D+2)ε·|L_i|·|L_j|` and `|L_i|² = y_ii`): the rounding error
/// plus `diag(Δ)` is diagonally dominant, so the stored matrix is positive definite, as
/// `L·Lᵀ` is (torch's sigmoid is clipped into its open codomain the same way). The raise
/// is a constant for autograd.
fn keep_positive_definite(y: &Tensor, d: usize) -> Result<Tensor> {
    let v = crate::constraints::host_f64(y)?;
    let c = 4.0 * (d as f64 + 2.0) * eps_of(y.dtype());
    let mut bump = vec![0f64; v.len() / d];
    let mut any = false;
    for (b, m) in v.chunks(d * d).enumerate() {
        if m.iter().all(|e| e.is_finite()) && cholesky_host(m, d).is_err() {
            let r: Vec<f64> = (0..d).map(|i| m[i * d + i].max(0.0).sqrt()).collect();
            let total: f64 = r.iter().sum();
            for (i, ri) in r.iter().enumerate() {
                bump[b * d + i] = c * ri * total;
            }
            any = true;
        }
    }
    if !any {
        return Ok(y.clone());
    }
    let mut shape = y.dims()[..y.rank() - 2].to_vec();
    shape.push(d);
    let bump = Tensor::from_vec(bump, shape, y.device())?.to_dtype(y.dtype())?;
    let mut idx = vec![0u32; d * d];
    for i in 0..d {
        idx[i * d + i] = 1 + i as u32;
    }
    Ok((y + pick(&prepend(&bump, &[0.0])?, idx, &[d, d])?)?)
}

/// The Cholesky factor `L` (`y = L·Lᵀ`, lower triangular) of each matrix of a batch,
/// factorized on the host in f64 (NaN for a matrix that is not positive definite).
///
/// The gradient is the exact first derivative (Murray 2016, "Differentiation of the
/// Cholesky decomposition", eq. for the forward mode): `dL = L·Φ(L⁻¹·dY·L⁻ᵀ)`, where
/// `Φ` keeps the lower triangle and halves the diagonal and `dY` is symmetrized as in
/// torch. It enters as `L₀ + L₀·Φ(L₀⁻¹·(Y − Y₀)·L₀⁻ᵀ)` with `Y₀`, `L₀`, `L₀⁻¹` constants:
/// the correction is exactly 0 in value, and autograd differentiates it to the formula.
fn cholesky(y: &Tensor, d: usize) -> Result<Tensor> {
    let v = crate::constraints::host_f64(y)?;
    let mut ls = Vec::with_capacity(v.len());
    let mut inv = Vec::with_capacity(v.len());
    let big = max_of(y.dtype());
    for m in v.chunks(d * d) {
        match pd_cholesky_host(m, d, y.dtype()) {
            Some(l) => {
                // Finite, so that the exactly-zero correction below stays 0 (0·∞ is NaN).
                inv.extend(lower_inverse(&l, d).into_iter().map(|v| v.clamp(-big, big)));
                ls.extend(l);
            }
            None => {
                ls.extend(std::iter::repeat_n(f64::NAN, d * d));
                inv.extend(std::iter::repeat_n(f64::NAN, d * d));
            }
        }
    }
    let l0 = Tensor::from_vec(ls, y.dims(), y.device())?.to_dtype(y.dtype())?;
    if !y.track_op() {
        return Ok(l0);
    }
    let linv = Tensor::from_vec(inv, y.dims(), y.device())?.to_dtype(y.dtype())?;
    let dy = (y - y.detach())?;
    let dy = ((&dy + transpose_last2(&dy)?)? * 0.5)?;
    let inner = batched_matmul(&batched_matmul(&linv, &dy)?, &transpose_last2(&linv)?)?;
    let phi: Vec<f64> = (0..d * d)
        .map(|p| match (p / d).cmp(&(p % d)) {
            std::cmp::Ordering::Greater => 1.0,
            std::cmp::Ordering::Equal => 0.5,
            std::cmp::Ordering::Less => 0.0,
        })
        .collect();
    let phi = Tensor::from_vec(phi, (d, d), y.device())?.to_dtype(y.dtype())?;
    Ok((&l0 + batched_matmul(&l0, &inner.broadcast_mul(&phi)?)?)?)
}

/// The Cholesky factor of one `d × d` matrix (row-major) as the pseudo-inverse of
/// [`pd_factor`]'s map, for the outputs of the forward map that rounding left singular
/// in the dtype (a diagonal entry `y_ii` that absorbed a much smaller `L_ii²`).
///
/// Rounding is bounded with `c = 4(D+1)·ε` of the dtype. A pivot is numerically zero
/// when `pivot ≤ tol_j = c·(y_jj + Σ_{k<j} L_jk²)`; it is raised to the forward's floor
/// (`L_jj ≥ √tiny`). Each entry below a pivot is then `L_ij = t_ij / L_jj` with
/// `t_ij = y_ij − Σ_{k<j} L_ik L_jk`, capped at what is left of its row,
/// `b_ij = √(y_ii − Σ_{k<j} L_ik²)` (for positive-definite `y`, `Σ_j L_ij² = y_ii`): under
/// a numerically zero pivot `t_ij` is a rounding error, and dividing it by the floor
/// would blow it up. A positive-definite `y` has `|t_ij| = |L_ij|·L_jj ≤ b_ij·√pivot`, so
/// `|t_ij| > √(b_ij² + tol_i)·√(max(pivot, 0) + tol_j) + c·√((y_ii + Σ L_ik²)(y_jj + Σ L_jk²))`
/// (each term widened by its rounding, `tol_i = c·(y_ii + Σ_{k<j} L_ik²)`) proves `y` is
/// not positive definite, as does a pivot below `−tol_j` or a NaN or ∞ entry: `None`
/// then.
fn pd_cholesky_host(m: &[f64], d: usize, dtype: DType) -> Option<Vec<f64>> {
    if m.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let tiny = tiny_of(dtype);
    let c = 4.0 * (d as f64 + 1.0) * eps_of(dtype);
    let mut l = vec![0f64; d * d];
    for j in 0..d {
        let sq_j: f64 = (0..j).map(|k| l[j * d + k] * l[j * d + k]).sum();
        let pivot = m[j * d + j] - sq_j;
        let tol = c * (m[j * d + j].abs() + sq_j);
        if pivot.is_nan() || pivot < -tol {
            return None;
        }
        let p = pivot.max(tiny).sqrt();
        l[j * d + j] = p;
        for i in j + 1..d {
            let row = &l[i * d..i * d + j];
            let t = m[i * d + j] - (0..j).map(|k| row[k] * l[j * d + k]).sum::<f64>();
            let sq_i: f64 = row.iter().map(|v| v * v).sum();
            let b2 = (m[i * d + i] - sq_i).max(0.0);
            let budget = b2.sqrt();
            let tol_i = c * (m[i * d + i].abs() + sq_i);
            let slack = (tol_i * tol).sqrt();
            if t.abs() > (b2 + tol_i).sqrt() * (pivot.max(0.0) + tol).sqrt() + slack {
                return None;
            }
            l[i * d + j] = (t / p).clamp(-budget, budget);
        }
    }
    Some(l)
}

/// The inverse of a lower-triangular `d × d` matrix with nonzero diagonal (row-major),
/// by forward substitution.
fn lower_inverse(l: &[f64], d: usize) -> Vec<f64> {
    let mut inv = vec![0f64; d * d];
    for c in 0..d {
        for i in c..d {
            let rhs = if i == c { 1.0 } else { 0.0 };
            let s: f64 = (c..i).map(|k| l[i * d + k] * inv[k * d + c]).sum();
            inv[i * d + c] = (rhs - s) / l[i * d + i];
        }
    }
    inv
}

/// Real matrices onto symmetric positive-definite matrices (torch's
/// `PositiveDefiniteTransform`): `L = LowerCholeskyTransform(x)`, `y = L·Lᵀ`.
///
/// - domain: real `D × D` matrices (event dimension 2); codomain: positive-definite
///   matrices.
/// - Not bijective on full matrices (the strict upper triangle of `x` is discarded), as
///   in torch. The inverse is the Cholesky factorization `y = L·Lᵀ` (on the host in f64,
///   with its exact first derivative for autograd) followed by
///   `LowerCholeskyTransform`'s inverse; a matrix that is not positive definite beyond
///   rounding (outside the codomain) gives NaN.
/// - Saturation (where `y` is not representable in the dtype; torch gives ∞ and NaN):
///   the diagonal `exp(x_ii)` is floored at `√tiny` of the dtype (so `y_ii` stays a
///   normal number), and a row of `L` whose norm exceeds `√(max/(2D))` is scaled down to
///   that norm, which keeps `y` positive definite with the same correlations and its
///   variance at `max/(2D)`. Where rounding leaves such an output singular in the dtype,
///   the inverse raises numerically zero pivots to the same floor (a pseudo-inverse:
///   `forward(inverse(y)) ≈ y`), so no output of `forward` inverts to NaN.
/// - Rounding: where the stored `L·Lᵀ` is not positive definite in the dtype (a diagonal
///   `L_ii²` far below the rounding of its row, e.g. `x_ii = −20` in f32), its diagonal is
///   raised by a bound on that rounding, `4(D+2)·ε·√y_ii·Σ_j √y_jj`, so that the output
///   lies in the codomain (as torch clips its sigmoid into the open interval); matrices
///   that round to positive-definite ones are returned as computed.
/// - `log_abs_det_jacobian` (torch has none): the Jacobian of the lower triangle of `x`
///   onto the lower triangle of `y` (the upper one is its mirror),
///   `D·log 2 + Σ_{i=0}^{D−1} (D − i + 1)·x_ii` (summed in f64: f32 extremes give ±∞,
///   never ∞ − ∞): `L ↦ L·Lᵀ` contributes `2^D Π_i L_ii^{D−i}` and the exponentiated
///   diagonal one more `L_ii`. It is that of the unsaturated map.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{PositiveDefiniteTransform, Transform};
/// let x = Tensor::new(&[[0.0f64, 9.0], [2.0, 0.0]], &Device::Cpu)?;
/// let y = PositiveDefiniteTransform.forward(&x)?;
/// assert_eq!(y.to_vec2::<f64>()?, vec![vec![1.0, 2.0], vec![2.0, 5.0]]);
/// let back = PositiveDefiniteTransform.inverse(&y)?.to_vec2::<f64>()?;
/// assert!((back[1][0] - 2.0).abs() < 1e-12 && back[0][1] == 0.0);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PositiveDefiniteTransform;

impl Transform for PositiveDefiniteTransform {
    fn name(&self) -> &'static str {
        "PositiveDefiniteTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let d = square_dim(self.name(), x)?;
        if d == 0 || x.elem_count() == 0 {
            return Ok(x.zeros_like()?);
        }
        let l = pd_factor(x, d)?;
        keep_positive_definite(&batched_matmul(&l, &transpose_last2(&l)?)?, d)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        let d = square_dim(self.name(), y)?;
        if d == 0 {
            return Ok(y.clone());
        }
        let l = cholesky(y, d)?;
        strict_lower_with_diag(&l, &diagonal(&l, d)?.log()?, d)
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        let d = square_dim(self.name(), x)?;
        // In f64, with the weights divided by a power of 2 above their total (exactly):
        // no partial sum of f32 or f64 extremes overflows (to ∞ − ∞), and the product
        // restores ±∞ where the sum is.
        let total = ((d + 1) * (d + 2) / 2).next_power_of_two() as f64;
        let w: Vec<f64> = (0..d).map(|i| (d - i + 1) as f64 / total).collect();
        let w = Tensor::new(w, x.device())?;
        let s = diagonal(x, d)?
            .to_dtype(DType::F64)?
            .broadcast_mul(&w)?
            .sum(D::Minus1)?;
        Ok(((s * total)? + d as f64 * std::f64::consts::LN_2)?.to_dtype(x.dtype())?)
    }

    fn domain(&self) -> Constraint {
        Constraint::Independent {
            base: Box::new(Constraint::Real),
            reinterpreted_batch_ndims: 2,
        }
    }

    fn codomain(&self) -> Constraint {
        Constraint::PositiveDefinite
    }

    fn bijective(&self) -> bool {
        false
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        check_square_shape(self.name(), shape)
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        check_square_shape(self.name(), shape)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<PositiveDefiniteTransform>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Unconstrained vectors of `D(D−1)/2` reals onto Cholesky factors of `D × D`
/// correlation matrices (torch's `CorrCholeskyTransform`, after the LKJ construction).
///
/// Each entry is squashed, `r = tanh(x)` clamped to `±(1 − ε)` of the dtype, and placed
/// row by row in the strict lower triangle (row-major: `(1,0), (2,0), (2,1), (3,0), …`).
/// Row `i` is then a stick broken by the `r_ij`:
///
/// `y_ij = r_ij · Π_{k<j} √(1 − r_ik²)` (`j < i`), `y_ii = Π_{k<i} √(1 − r_ik²)`,
///
/// so every row has unit norm and a positive diagonal. The products are taken in log
/// space, `log(1 − tanh² x) = 2(log 2 − |x| − softplus(−2|x|))`, exact for large |x|.
///
/// `log|det J| = ½ Σ_{i, j ≤ i−2} log(1 − Σ_{k≤j} y_ik²) + Σ log(1 − tanh² x)` over the
/// strictly lower entries (torch's formula: the stick-breaking part from the clamped
/// `r`, the tanh part unclamped), one value per vector. The inverse divides each entry
/// by the norm of the row's tail `√(Σ_{k≥j} y_ik²)` (the remaining stick, accumulated
/// directly rather than as `1 − cumsum`, which cancels, and by scaled hypotenuses, so
/// that entries whose squares under- or overflow still give a ratio in `[−1, 1]`) and
/// applies `atanh`.
///
/// - domain: real vectors (event dimension 1); codomain: correlation Cholesky factors
///   (event dimension 2).
/// - `forward_shape` maps `[..., D(D−1)/2]` to `[..., D, D]` ([`Error::Shape`] when the
///   length is not a triangular number), `inverse_shape` back ([`Error::Shape`] for a
///   non-square shape).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{CorrCholeskyTransform, Transform};
/// let x = Tensor::new(&[0.5f64, -1.0, 2.0], &Device::Cpu)?; // D = 3
/// let y = CorrCholeskyTransform.forward(&x)?.to_vec2::<f64>()?;
/// for row in &y {
///     assert!((row.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-12);
/// }
/// assert!(y[0][1] == 0.0 && y[2][2] > 0.0);
/// assert_eq!(CorrCholeskyTransform.forward_shape(&[7, 6])?, vec![7, 4, 4]);
/// assert!(CorrCholeskyTransform.forward_shape(&[5]).is_err());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CorrCholeskyTransform;

/// The norms of the row tails `√(Σ_{k≥j} y_ik²)` of a batch of `d × d` matrices (shape
/// of `y`), accumulated from the right by `hypot(a, b) = m·√((a/m)² + (b/m)²)` with
/// `m = max(|a|, |b|)` (detached): no square under- or overflows, so a tail of subnormal
/// entries keeps a positive norm. Where `a = b = 0` the norm is 0, selected around a
/// `√1` so that no `√0` (an infinite derivative) enters the graph.
fn tail_norms(y: &Tensor, d: usize) -> Result<Tensor> {
    let last = y.rank() - 1;
    let mut acc = super::narrow(y, last, d - 1, 1)?.abs()?;
    let mut cols = vec![acc.clone()];
    for j in (0..d - 1).rev() {
        let a = super::narrow(y, last, j, 1)?;
        let m = a.abs()?.maximum(&acc)?.detach();
        let zero = m.eq(0.0)?;
        let ones = m.ones_like()?;
        let m = zero.where_cond(&ones, &m)?;
        let inner = ((a / &m)?.sqr()? + (&acc / &m)?.sqr()?)?;
        let h = zero.where_cond(&ones, &inner)?.sqrt()?.mul(&m)?;
        acc = zero.where_cond(&m.zeros_like()?, &h)?;
        cols.push(acc.clone());
    }
    cols.reverse();
    Ok(Tensor::cat(&cols, last)?)
}

/// `D` with `D(D−1)/2 = n`, if there is one.
fn corr_dim(n: usize) -> Option<usize> {
    let d = ((0.25 + 2.0 * n as f64).sqrt() + 0.5).round() as usize;
    (d * (d - 1) / 2 == n).then_some(d)
}

/// Row-major position of `(i, j)`, `j < i`, in the strictly-lower vector.
fn tril_pos(i: usize, j: usize) -> usize {
    i * (i - 1) / 2 + j
}

fn eps_of(dtype: DType) -> f64 {
    if dtype == DType::F32 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    }
}

impl CorrCholeskyTransform {
    fn dim_of(&self, x: &Tensor) -> Result<usize> {
        check_event_rank(self.name(), x, 1)?;
        let n = x.dim(D::Minus1)?;
        corr_dim(n).ok_or_else(|| {
            Error::shape(
                self.name(),
                format!(
                    "the last dimension must be D(D-1)/2 for some D (a triangular number), got {n} in shape {:?}",
                    x.dims()
                ),
            )
        })
    }

    /// `(r, log(1 − r²) clamped, log(1 − tanh² x) unclamped)`.
    fn pieces(&self, x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let eps = eps_of(x.dtype());
        let r = x.tanh()?.clamp(-1.0 + eps, 1.0 - eps)?;
        let a = x.abs()?;
        let sp = special::softplus(&(&a * -2.0)?)?;
        let lv = ((a + sp)?.neg()? + std::f64::consts::LN_2)?.affine(2.0, 0.0)?;
        let floor = (1.0 - (1.0 - eps) * (1.0 - eps)).ln();
        let lv_c = lv.maximum(floor)?;
        Ok((r, lv_c, lv))
    }

    /// `y` with the pieces its log-det needs (`None` for `D = 1`, where it is 0).
    fn forward_impl(&self, x: &Tensor) -> Result<(Tensor, Option<(Tensor, Tensor)>)> {
        let d = self.dim_of(x)?;
        let last = x.rank() - 1;
        if d == 1 {
            let mut s = x.dims()[..last].to_vec();
            s.extend([1, 1]);
            return Ok((Tensor::ones(s, x.dtype(), x.device())?, None));
        }
        let (r, lv_c, lv) = self.pieces(x)?;
        // R: r strictly below, 1 on, 0 above the diagonal; LV: log(1 − r²) below, 0 else.
        let mut idx_r = Vec::with_capacity(d * d);
        let mut idx_lv = Vec::with_capacity(d * d);
        for i in 0..d {
            for j in 0..d {
                let (a, b) = match i.cmp(&j) {
                    std::cmp::Ordering::Greater => (2 + tril_pos(i, j), 1 + tril_pos(i, j)),
                    std::cmp::Ordering::Equal => (1, 0),
                    std::cmp::Ordering::Less => (0, 0),
                };
                idx_r.push(a as u32);
                idx_lv.push(b as u32);
            }
        }
        let rm = pick(&prepend(&r, &[0.0, 1.0])?, idx_r, &[d, d])?;
        let lvm = pick(&prepend(&lv_c, &[0.0])?, idx_lv, &[d, d])?;
        let cum = crate::special::rows::cumsum(&lvm)?;
        let y = (rm * (shift_right(&cum)? * 0.5)?.exp()?)?;
        Ok((y, Some((lv_c, lv))))
    }

    /// The log-det from the pieces: ½ Σ_{j ≤ i−2} Σ_{k ≤ j} lv_ik (clamped) plus
    /// Σ log(1 − tanh² x); the double sum is ½ Σ_{k<i} (i − 1 − k)·lv_ik.
    fn log_det(&self, x: &Tensor, pieces: Option<(Tensor, Tensor)>) -> Result<Tensor> {
        let last = x.rank() - 1;
        let Some((lv_c, lv)) = pieces else {
            return Ok(Tensor::zeros(&x.dims()[..last], x.dtype(), x.device())?);
        };
        let d = self.dim_of(x)?;
        let mut w = vec![0f64; d * (d - 1) / 2];
        for i in 1..d {
            for k in 0..i {
                w[tril_pos(i, k)] = 0.5 * (i - 1 - k) as f64;
            }
        }
        let w = Tensor::new(w, x.device())?.to_dtype(x.dtype())?;
        let sb = lv_c.broadcast_mul(&w)?.sum(last)?;
        Ok((sb + lv.sum(last)?)?)
    }
}

impl Transform for CorrCholeskyTransform {
    fn name(&self) -> &'static str {
        "CorrCholeskyTransform"
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward_impl(x)?.0)
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        let d = square_dim(self.name(), y)?;
        let r = y.rank();
        let mut batch = y.dims()[..r - 2].to_vec();
        if d <= 1 {
            batch.push(0);
            return Ok(Tensor::zeros(batch, y.dtype(), y.device())?);
        }
        let tails = tail_norms(y, d)?;
        let idx: Vec<u32> = (1..d)
            .flat_map(|i| (0..i).map(move |j| (i * d + j) as u32))
            .collect();
        let n = idx.len();
        let yv = pick(&y.flatten_from(r - 2)?, idx.clone(), &[n])?;
        let tv = pick(&tails.flatten_from(r - 2)?, idx, &[n])?;
        let t = (yv / tv)?;
        let x = ((special::log1p(&t)? - special::log1p(&t.neg()?)?)? * 0.5)?;
        Ok(x)
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        let d = self.dim_of(x)?;
        let pieces = if d == 1 {
            None
        } else {
            let (_, lv_c, lv) = self.pieces(x)?;
            Some((lv_c, lv))
        };
        self.log_det(x, pieces)
    }

    fn forward_and_log_det(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let (y, pieces) = self.forward_impl(x)?;
        Ok((y, self.log_det(x, pieces)?))
    }

    fn domain(&self) -> Constraint {
        Constraint::RealVector
    }

    fn codomain(&self) -> Constraint {
        Constraint::CorrCholesky
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        let Some((&n, batch)) = shape.split_last() else {
            return Err(Error::shape(
                self.name(),
                "forward_shape needs at least 1 dimension, got shape []",
            ));
        };
        let d = corr_dim(n).ok_or_else(|| {
            Error::shape(
                self.name(),
                format!("the last dimension must be D(D-1)/2 for some D (a triangular number), got {n} in shape {shape:?}"),
            )
        })?;
        let mut s = batch.to_vec();
        s.extend([d, d]);
        Ok(s)
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        let s = check_square_shape(self.name(), shape)?;
        let d = s[s.len() - 1];
        let mut out = s[..s.len() - 2].to_vec();
        out.push(d * d.saturating_sub(1) / 2);
        Ok(out)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(*self)
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other.as_any().is::<CorrCholeskyTransform>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
