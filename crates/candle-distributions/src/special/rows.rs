//! Row kernels: operations along the last dimension of a tensor, one pass per row.
//!
//! The one home of
//! - [`log_softmax`]: ℓ_k = x_k − ln Σ_j e^{x_j} (log-sum-exp normalisation of logits),
//!   with the exact backward g − softmax·Σg;
//! - [`log_normalize`]: ℓ_k = ln p_k − ln Σ_j p_j (normalisation of non-negative
//!   weights), whose backward sends no NaN through the zero weights;
//! - [`cumsum`] and [`reverse_cumsum`]: running sums along the last dimension in O(K)
//!   per row (candle's `cumsum` multiplies by a triangular matrix: O(K²) work, and a
//!   `0 · ∞` product turns an infinite term into NaN in every later position);
//! - the categorical draws (crate-private: one draw per element, and Multinomial counts) on the
//!   [`Generator`](crate::Generator)'s per-element streams.
//!
//! f32 rows are evaluated in f64 (maxima, sums, logarithms) and rounded once.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use candle_distributions::special::rows;
//! let x = Tensor::new(&[[1e38f32, 0.0, f32::NEG_INFINITY]], &Device::Cpu)?;
//! let l = rows::log_softmax(&x)?.to_vec2::<f32>()?;
//! assert_eq!(l[0][0], 0.0); // all mass on the first class, no NaN
//! assert_eq!(l[0][2], f32::NEG_INFINITY);
//! let c = rows::cumsum(&Tensor::new(&[1.0f64, 2.0, 3.0], &Device::Cpu)?)?;
//! assert_eq!(c.to_vec1::<f64>()?, vec![1.0, 3.0, 6.0]);
//! # Ok::<(), candle_distributions::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::rng::Draw;
use crate::special::kernel::{alloc_buffer, gather, on_cpu, strided_offsets};
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor, D};
use rayon::prelude::*;

/// Rows are processed on all rayon threads from this many elements on.
const PAR_MIN: usize = 1 << 15;

/// A row count per parallel task that holds about `PAR_MIN / 4` elements.
fn rows_per_task(k: usize) -> usize {
    ((PAR_MIN / 4) / k.max(1)).max(1)
}

/// `f(row_in, row_out)` over the rows (last dimension) of an f32 or f64 storage, each
/// row widened to f64 in a per-task scratch row and the result rounded back to the
/// storage's dtype: no full-size f64 copy of an f32 tensor. Parallel for large inputs.
fn map_rows(
    name: &str,
    s: &CpuStorage,
    l: &Layout,
    f: impl Fn(&[f64], &mut [f64]) + Sync,
) -> candle_core::Result<CpuStorage> {
    let k = l.dims().last().copied().unwrap_or(1);
    Ok(match s {
        CpuStorage::F64(v) => CpuStorage::F64(map_rows_t(&gather(v, l), k, |x| x, |y| y, &f)),
        CpuStorage::F32(v) => {
            CpuStorage::F32(map_rows_t(&gather(v, l), k, |x| x as f64, |y| y as f32, &f))
        }
        other => {
            return Err(candle_core::Error::Msg(format!(
                "{name}: f32 or f64 input expected, found {:?}",
                other.dtype()
            )))
        }
    })
}

fn map_rows_t<T: Copy + Sync, U: Copy + Send + Default>(
    data: &[T],
    k: usize,
    widen: impl Fn(T) -> f64 + Sync,
    narrow: impl Fn(f64) -> U + Sync,
    f: &(impl Fn(&[f64], &mut [f64]) + Sync),
) -> Vec<U> {
    let mut out = vec![U::default(); data.len()];
    if k == 0 {
        return out;
    }
    let task = |o: &mut [U], d: &[T]| {
        let (mut xi, mut xo) = (vec![0.0; k], vec![0.0; k]);
        for (ro, rd) in o.chunks_mut(k).zip(d.chunks(k)) {
            for (a, &b) in xi.iter_mut().zip(rd) {
                *a = widen(b);
            }
            f(&xi, &mut xo);
            for (a, &b) in ro.iter_mut().zip(&xo) {
                *a = narrow(b);
            }
        }
    };
    if data.len() >= PAR_MIN {
        let step = rows_per_task(k) * k;
        out.par_chunks_mut(step)
            .zip(data.par_chunks(step))
            .for_each(|(o, d)| task(o, d));
    } else {
        task(&mut out, data);
    }
    out
}

/// Runs `f(row_in, row_out)` over the rows of length `k`, in parallel for large inputs.
fn for_rows(data: &[f64], out: &mut [f64], k: usize, f: impl Fn(&[f64], &mut [f64]) + Sync) {
    if k == 0 {
        return;
    }
    if data.len() >= PAR_MIN {
        let step = rows_per_task(k) * k;
        out.par_chunks_mut(step)
            .zip(data.par_chunks(step))
            .for_each(|(o, d)| {
                for (ro, rd) in o.chunks_mut(k).zip(d.chunks(k)) {
                    f(rd, ro)
                }
            });
    } else {
        for (ro, rd) in out.chunks_mut(k).zip(data.chunks(k)) {
            f(rd, ro)
        }
    }
}

/// ℓ_k = x_k − ln Σ_j e^{x_j} of one row, in f64: the maximum m is subtracted first
/// (so logits of ±1e308 neither overflow nor cancel), −∞ entries give ℓ = −∞ (classes
/// of probability 0). Limits where the formula has none: a row whose maximum is +∞
/// puts equal mass on its +∞ entries (ℓ = −ln c there, −∞ elsewhere); a row of only
/// −∞, or with a NaN, is NaN (no distribution).
///
/// ```
/// use candle_distributions::special::rows::log_softmax_row;
/// let mut out = [0.0; 3];
/// log_softmax_row(&[f64::INFINITY, 1.0, f64::INFINITY], &mut out);
/// assert_eq!(out, [-(2f64.ln()), f64::NEG_INFINITY, -(2f64.ln())]);
/// ```
pub fn log_softmax_row(x: &[f64], out: &mut [f64]) {
    let mut m = f64::NEG_INFINITY;
    let mut nan = false;
    for &v in x {
        nan |= v.is_nan();
        if v > m {
            m = v;
        }
    }
    if nan || m == f64::NEG_INFINITY {
        out.iter_mut().for_each(|o| *o = f64::NAN);
        return;
    }
    if m == f64::INFINITY {
        let c = x.iter().filter(|&&v| v == f64::INFINITY).count() as f64;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = if v == f64::INFINITY {
                -c.ln()
            } else {
                f64::NEG_INFINITY
            };
        }
        return;
    }
    let s: f64 = x.iter().map(|&v| (v - m).exp()).sum();
    // (x − m) − ln s rather than x − (m + ln s): for m = 1e300 the sum m + ln s would
    // round ln s away, and the largest class would not get ℓ = −ln s.
    let ls = s.ln();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - m) - ls;
    }
}

/// ℓ_k = ln p_k − ln Σ_j p_j of one row of non-negative weights, in f64, scaled by the
/// row maximum first so that weights near f64::MAX do not overflow the sum. Zero
/// weights give −∞; a row of zeros, a negative or NaN weight gives NaN; +∞ weights
/// share the mass equally (as in [`log_softmax_row`]).
///
/// ```
/// use candle_distributions::special::rows::log_normalize_row;
/// let mut out = [0.0; 3];
/// log_normalize_row(&[f64::MAX, 0.0, f64::MAX], &mut out); // no overflow of the sum
/// assert_eq!(out, [-(2f64.ln()), f64::NEG_INFINITY, -(2f64.ln())]);
/// ```
pub fn log_normalize_row(p: &[f64], out: &mut [f64]) {
    let mut m = 0.0f64;
    let mut bad = false;
    for &v in p {
        bad |= v.is_nan() || v < 0.0;
        if v > m {
            m = v;
        }
    }
    if bad || m == 0.0 {
        out.iter_mut().for_each(|o| *o = f64::NAN);
        return;
    }
    if m == f64::INFINITY {
        let c = p.iter().filter(|&&v| v == f64::INFINITY).count() as f64;
        for (o, &v) in out.iter_mut().zip(p) {
            *o = if v == f64::INFINITY {
                -c.ln()
            } else {
                f64::NEG_INFINITY
            };
        }
        return;
    }
    let s: f64 = p.iter().map(|&v| v / m).sum();
    let ls = s.ln();
    for (o, &v) in out.iter_mut().zip(p) {
        *o = (v / m).ln() - ls;
    }
}

struct LogSoftmax;

impl CustomOp1 for LogSoftmax {
    fn name(&self) -> &'static str {
        "log_softmax"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = map_rows(self.name(), s, l, log_softmax_row)?;
        Ok((out, l.shape().clone()))
    }

    // ∂ℓ_k/∂x_j = δ_kj − p_j: the gradient is g − p·Σg with p = e^ℓ (0 at ℓ = −∞, so
    // classes of probability 0 receive their own g and nothing else).
    fn bwd(&self, _arg: &Tensor, res: &Tensor, g: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let p = res.exp()?;
        Ok(Some((g - p.broadcast_mul(&g.sum_keepdim(D::Minus1)?)?)?))
    }
}

struct LogNormalize;

impl CustomOp1 for LogNormalize {
    fn name(&self) -> &'static str {
        "log_normalize"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = map_rows(self.name(), s, l, log_normalize_row)?;
        Ok((out, l.shape().clone()))
    }

    // ∂ℓ_k/∂p_j = δ_kj/p_k − 1/S. The 1/p term is taken as 0 where its upstream g is 0
    // (an unselected class of weight 0 must not turn 0·∞ into NaN) and ±∞ where a
    // class of weight 0 is selected (the true derivative). Evaluated in f64 on the
    // weights scaled by the row maximum m, (g/p̃ − Σg/S̃)/m with p̃ = p/m and
    // 1/S̃ = m/S = e^{max ℓ}: the bracket never meets ∞ − ∞ (1/p and 1/S both overflow
    // for p = 1e-40 in f32, or 5e-324 in f64, where the difference is 0), and the
    // division by m keeps a zero bracket zero.
    fn bwd(&self, arg: &Tensor, res: &Tensor, g: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let dtype = arg.dtype();
        if arg.elem_count() == 0 {
            return Ok(Some(arg.zeros_like()?));
        }
        let (p, l, g) = (
            arg.to_dtype(DType::F64)?,
            res.to_dtype(DType::F64)?,
            g.to_dtype(DType::F64)?,
        );
        let m = p.max_keepdim(D::Minus1)?;
        let pt = p.broadcast_div(&m)?;
        let ratio = g.eq(0.0)?.where_cond(&g.zeros_like()?, &(&g / pt)?)?;
        let inv_s = l.max_keepdim(D::Minus1)?.exp()?;
        let bracket = ratio.broadcast_sub(&g.sum_keepdim(D::Minus1)?.broadcast_mul(&inv_s)?)?;
        Ok(Some(bracket.broadcast_div(&m)?.to_dtype(dtype)?))
    }
}

/// Running sums along the last dimension (`reverse`: from the end), accumulated in f64.
struct CumSum {
    reverse: bool,
}

impl CustomOp1 for CumSum {
    fn name(&self) -> &'static str {
        if self.reverse {
            "reverse_cumsum"
        } else {
            "cumsum"
        }
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let reverse = self.reverse;
        let out = map_rows(self.name(), s, l, |x, o| {
            let mut acc = 0.0;
            if reverse {
                for (o, &v) in o.iter_mut().zip(x).rev() {
                    acc += v;
                    *o = acc;
                }
            } else {
                for (o, &v) in o.iter_mut().zip(x) {
                    acc += v;
                    *o = acc;
                }
            }
        })?;
        Ok((out, l.shape().clone()))
    }

    // y_k = Σ_{j ≤ k} x_j gives ∂/∂x_j = Σ_{k ≥ j} g_k: the reverse running sum of g.
    fn bwd(&self, _arg: &Tensor, _res: &Tensor, g: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(g.apply_op1(CumSum {
            reverse: !self.reverse,
        })?))
    }
}

fn float_input(what: &str, x: &Tensor) -> Result<()> {
    match x.dtype() {
        DType::F32 | DType::F64 => Ok(()),
        other => Err(Error::DType {
            context: format!("rows::{what}"),
            dtype: other,
        }),
    }
}

/// ℓ = x − logsumexp(x) along the last dimension (f32 or f64; a 0-dim tensor is one
/// row of one element), computed in f64 per row with the maximum subtracted first; see
/// [`log_softmax_row`] for −∞, +∞ and NaN entries. Backward: g − softmax(x)·Σg, exact.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::special::rows;
/// let x = Var::new(&[0.0f64, f64::NEG_INFINITY, 0.0], &Device::Cpu)?;
/// let l = rows::log_softmax(x.as_tensor())?;
/// assert_eq!(l.to_vec1::<f64>()?[0], -(2f64.ln()));
/// let g = l.narrow(0, 0, 1)?.sum_all()?.backward()?;
/// assert_eq!(g.get(&x).unwrap().to_vec1::<f64>()?, vec![0.5, 0.0, -0.5]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn log_softmax(x: &Tensor) -> Result<Tensor> {
    float_input("log_softmax", x)?;
    on_cpu(&[x], |v| v[0].apply_op1(LogSoftmax))
}

/// ℓ = ln p − ln Σp along the last dimension for non-negative weights p (f32 or f64),
/// computed in f64 per row ([`log_normalize_row`]): ℓ = −∞ exactly where p = 0. The
/// backward δ/p − 1/Σp contributes nothing through a zero weight whose upstream
/// gradient is zero (no 0·∞ = NaN).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::special::rows;
/// let p = Tensor::new(&[1.0f64, 0.0, 3.0], &Device::Cpu)?;
/// let l = rows::log_normalize(&p)?.to_vec1::<f64>()?;
/// assert_eq!(l[1], f64::NEG_INFINITY);
/// assert!((l[2] - 0.75f64.ln()).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn log_normalize(p: &Tensor) -> Result<Tensor> {
    float_input("log_normalize", p)?;
    on_cpu(&[p], |v| v[0].apply_op1(LogNormalize))
}

/// y_k = Σ_{j ≤ k} x_j along the last dimension, in O(K) per row with an f64
/// accumulator (f32 rows are summed in f64 and rounded once per entry). Infinite
/// entries propagate as in the naive sum (no 0·∞ = NaN). Backward: the reverse
/// running sum of the upstream gradient.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::special::rows;
/// let x = Var::new(&[[1.0f64, f64::NEG_INFINITY, 2.0]], &Device::Cpu)?;
/// let y = rows::cumsum(x.as_tensor())?;
/// assert_eq!(y.to_vec2::<f64>()?[0], vec![1.0, f64::NEG_INFINITY, f64::NEG_INFINITY]);
/// let g = rows::cumsum(&Tensor::new(&[1.0f64, 2.0, 3.0], &Device::Cpu)?)?;
/// assert_eq!(g.to_vec1::<f64>()?, vec![1.0, 3.0, 6.0]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn cumsum(x: &Tensor) -> Result<Tensor> {
    float_input("cumsum", x)?;
    on_cpu(&[x], |v| v[0].apply_op1(CumSum { reverse: false }))
}

/// y_k = Σ_{j ≥ k} x_j along the last dimension (the adjoint of [`cumsum`]), in O(K)
/// per row with an f64 accumulator; backward: [`cumsum`] of the upstream gradient.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::special::rows;
/// let y = rows::reverse_cumsum(&Tensor::new(&[1.0f32, 2.0, 3.0], &Device::Cpu)?)?;
/// assert_eq!(y.to_vec1::<f32>()?, vec![6.0, 5.0, 3.0]);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
pub fn reverse_cumsum(x: &Tensor) -> Result<Tensor> {
    float_input("reverse_cumsum", x)?;
    on_cpu(&[x], |v| v[0].apply_op1(CumSum { reverse: true }))
}

/// Rows at or above this length are sampled by binary search on their cumulative sums
/// when drawn more than once; shorter rows by a linear scan.
const SEARCH_FROM: usize = 32;

/// The class of uniform `u` on a row of normalised log-probabilities by a linear scan
/// of the running sum of e^{ℓ_j}: the first j with u < Σ_{i ≤ j} e^{ℓ_i}. A class with
/// ℓ = −∞ adds nothing to the sum, so it is never the first to exceed u. When rounding
/// leaves the total below u, the last class of positive probability is taken.
#[inline]
fn scan_row<T: Copy + Into<f64>>(row: &[T], u: f64) -> usize {
    let mut acc = 0.0;
    let mut last = 0;
    for (j, &l) in row.iter().enumerate() {
        let l: f64 = l.into();
        if l > f64::NEG_INFINITY {
            acc += l.exp();
            last = j;
            if u < acc {
                return j;
            }
        }
    }
    last
}

/// The class of `u` on a row of cumulative sums c (non-decreasing, c_{K−1} > 0): the
/// first j with u·c_{K−1} < c_j. Classes of probability 0 repeat the previous sum, so the
/// search never stops on one.
#[inline]
fn search_row(cum: &[f64], u: f64) -> usize {
    let total = cum[cum.len() - 1];
    let t = u * total;
    let j = cum.partition_point(|&c| c <= t);
    if j < cum.len() {
        j
    } else {
        // u·total rounded up to total: the last class that has mass.
        let mut j = cum.len() - 1;
        while j > 0 && cum[j - 1] == cum[j] {
            j -= 1;
        }
        j
    }
}

/// Cumulative sums of e^ℓ for every row (f64), for the binary-search path.
fn cdf_rows(context: &str, logp: &[f64], k: usize) -> Result<Vec<f64>> {
    let mut cum = alloc_buffer::<f64>(context, logp.len())?;
    for_rows(logp, &mut cum, k, |row, o| {
        let mut acc = 0.0;
        for (o, &l) in o.iter_mut().zip(row) {
            acc += l.exp();
            *o = acc;
        }
    });
    Ok(cum)
}

/// The index of the largest entry of each row (the first of equal maxima) as i64, of
/// shape `x.dims()[..rank − 1]`; an empty tensor gives an empty result (candle's
/// `argmax` refuses to reduce zero elements).
pub(crate) fn argmax(x: &Tensor) -> Result<Tensor> {
    if x.elem_count() == 0 {
        let dims = x.dims();
        let out = &dims[..dims.len().saturating_sub(1)];
        return Ok(Tensor::zeros(out, DType::I64, x.device())?);
    }
    Ok(x.argmax(D::Minus1)?.to_dtype(DType::I64)?)
}

/// `n_samples` categorical draws for every row of `logp` (normalised log-probabilities
/// along the last dimension, `batch ++ [K]`, any float dtype), as class indices in
/// sample-major order (element i belongs to row i mod n_rows): element i uses uniform i
/// of `draw` (word pair i mod 2 of Philox block i/2, as `Draw::fill_uniform_f64`), so
/// the result depends only on the seed, the draw index and i, never on threads. One
/// pass per row: a linear scan of the running sum, or, for rows of ≥ 32 classes drawn
/// more than once, cumulative sums formed once per row and a binary search per draw.
pub(crate) fn categorical_draws(
    context: &str,
    logp: &Tensor,
    n_samples: usize,
    draw: Draw,
) -> Result<Vec<i64>> {
    let k = logp.dims().last().copied().unwrap_or(1);
    let host = logp.to_device(&candle_core::Device::Cpu)?;
    let (st, layout) = host.storage_and_layout();
    // The rows are read in place (f32 widened per element in the scan): a copy of the
    // table would cost more than the draws.
    match &*st {
        candle_core::Storage::Cpu(CpuStorage::F32(v)) => draws_from(
            context,
            &crate::special::kernel::try_gather(context, v, layout)?,
            k,
            n_samples,
            draw,
        ),
        candle_core::Storage::Cpu(CpuStorage::F64(v)) => draws_from(
            context,
            &crate::special::kernel::try_gather(context, v, layout)?,
            k,
            n_samples,
            draw,
        ),
        _ => Err(Error::DType {
            context: format!("{context}: sample"),
            dtype: logp.dtype(),
        }),
    }
}

fn draws_from<T: Copy + Into<f64> + Sync>(
    context: &str,
    rows: &[T],
    k: usize,
    n_samples: usize,
    draw: Draw,
) -> Result<Vec<i64>> {
    let n_rows = rows.len().checked_div(k).unwrap_or(0);
    let n = n_rows
        .checked_mul(n_samples)
        .ok_or_else(|| Error::shape(context, "too many draws"))?;
    if n == 0 {
        return Ok(vec![]);
    }
    let mut u = alloc_buffer::<f64>(context, n)?;
    draw.fill_uniform_f64(&mut u);
    let mut out = alloc_buffer::<i64>(context, n)?;
    let chunk = 1 << 13;
    if n_samples > 1 && k >= SEARCH_FROM {
        let wide: Vec<f64> = rows.iter().map(|&v| v.into()).collect();
        let cum = cdf_rows(context, &wide, k)?;
        let f = |start: usize, o: &mut [i64], u: &[f64]| {
            for (j, (o, &u)) in o.iter_mut().zip(u).enumerate() {
                let r = (start + j) % n_rows;
                *o = search_row(&cum[r * k..(r + 1) * k], u) as i64;
            }
        };
        run_chunks(&mut out, &u, chunk, f);
    } else {
        let f = |start: usize, o: &mut [i64], u: &[f64]| {
            for (j, (o, &u)) in o.iter_mut().zip(u).enumerate() {
                let r = (start + j) % n_rows;
                *o = scan_row(&rows[r * k..(r + 1) * k], u) as i64;
            }
        };
        run_chunks(&mut out, &u, chunk, f);
    }
    Ok(out)
}

fn run_chunks<T: Send>(
    out: &mut [T],
    u: &[f64],
    chunk: usize,
    f: impl Fn(usize, &mut [T], &[f64]) + Sync,
) {
    if out.len() >= PAR_MIN {
        out.par_chunks_mut(chunk)
            .zip(u.par_chunks(chunk))
            .enumerate()
            .for_each(|(c, (o, u))| f(c * chunk, o, u));
    } else {
        f(0, out, u);
    }
}

/// Counts of `total` categorical draws per class for every row of `logp` and every one
/// of `n_samples` samples: output row i (sample-major, of batch row i mod n_rows) holds
/// K counts in f64, from `total` uniforms of element stream i of `draw` (so each row is
/// independent of threads and of the other rows), each placed by binary search on the
/// row's cumulative sums (formed once per batch row): O(K + total·log K) per row.
pub(crate) fn categorical_counts(
    context: &str,
    logp: &Tensor,
    n_samples: usize,
    total: usize,
    draw: Draw,
) -> Result<Vec<f64>> {
    let k = logp.dims().last().copied().unwrap_or(1);
    let rows = logp
        .flatten_all()?
        .to_dtype(DType::F64)?
        .to_device(&candle_core::Device::Cpu)?
        .to_vec1::<f64>()?;
    let n_rows = rows.len().checked_div(k).unwrap_or(0);
    let n = n_rows
        .checked_mul(n_samples)
        .and_then(|n| n.checked_mul(k))
        .ok_or_else(|| Error::shape(context, "too many draws"))?;
    let mut out = alloc_buffer::<f64>(context, n)?;
    if n == 0 || total == 0 {
        return Ok(out);
    }
    let cum = cdf_rows(context, &rows, k)?;
    let per_row = |i: usize, o: &mut [f64]| {
        let r = i % n_rows;
        let c = &cum[r * k..(r + 1) * k];
        let mut s = draw.element_stream(i as u64);
        for _ in 0..total {
            o[search_row(c, s.uniform_f64())] += 1.0;
        }
    };
    if n_rows * n_samples > 1 && (n as u128) * (total as u128) >= PAR_MIN as u128 {
        out.par_chunks_mut(k)
            .enumerate()
            .for_each(|(i, o)| per_row(i, o));
    } else {
        out.chunks_mut(k)
            .enumerate()
            .for_each(|(i, o)| per_row(i, o));
    }
    Ok(out)
}

/// The row of `l` (batch shape `b`) that element `i` of a tensor of shape `v` reads under
/// numpy broadcasting (`b` right-aligned with `v`, size-1 dimensions repeated), for
/// every i: `i mod |b|` when `b` is a suffix of `v`, an odometer otherwise.
fn row_of_each(v: &[usize], b: &[usize]) -> Vec<usize> {
    let n: usize = v.iter().product();
    let nb: usize = b.iter().product();
    if v.ends_with(b) {
        return (0..n).map(|i| if nb == 0 { 0 } else { i % nb }).collect();
    }
    let off = v.len() - b.len();
    // Stride of each dimension of `v` in the row index of `b` (0 where broadcast).
    let mut bstride = vec![0usize; v.len()];
    let mut s = 1;
    for j in (0..b.len()).rev() {
        if b[j] != 1 {
            bstride[off + j] = s;
        }
        s *= b[j];
    }
    strided_offsets(v, &bstride, 0).collect()
}

/// `out[i] = l[row(i), idx[i]]`: one entry per row of `l` (shape `b ++ [K]`) at the
/// i64 indices `idx` (shape `v`, which `b` broadcasts to), without materialising `l`
/// at shape `v ++ [K]`.
struct Pick;

/// The adjoint of [`Pick`]: `g` (shape `v`) scattered into zeros of shape `b ++ [K]`.
struct PickScatter {
    shape: Vec<usize>,
}

fn i64_data<'a>(
    name: &str,
    s: &'a CpuStorage,
    l: &Layout,
) -> candle_core::Result<std::borrow::Cow<'a, [i64]>> {
    match s {
        CpuStorage::I64(v) => Ok(gather(v, l)),
        other => Err(candle_core::Error::Msg(format!(
            "{name}: i64 indices expected, found {:?}",
            other.dtype()
        ))),
    }
}

fn checked_index(name: &str, j: i64, k: usize) -> candle_core::Result<usize> {
    if j < 0 || j as u64 >= k as u64 {
        return Err(candle_core::Error::Msg(format!(
            "{name}: index {j} outside 0..{k}"
        )));
    }
    Ok(j as usize)
}

impl candle_core::CustomOp2 for Pick {
    fn name(&self) -> &'static str {
        "pick"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = l1.dims();
        let k = dims[dims.len() - 1];
        let b = &dims[..dims.len() - 1];
        let idx = i64_data(self.name(), s2, l2)?;
        let rows = row_of_each(l2.dims(), b);
        fn pick_t<T: Copy>(
            name: &str,
            l: &[T],
            idx: &[i64],
            rows: &[usize],
            k: usize,
        ) -> candle_core::Result<Vec<T>> {
            idx.iter()
                .zip(rows)
                .map(|(&j, &r)| Ok(l[r * k + checked_index(name, j, k)?]))
                .collect()
        }
        let out = match s1 {
            CpuStorage::F32(v) => {
                CpuStorage::F32(pick_t(self.name(), &gather(v, l1), &idx, &rows, k)?)
            }
            CpuStorage::F64(v) => {
                CpuStorage::F64(pick_t(self.name(), &gather(v, l1), &idx, &rows, k)?)
            }
            other => {
                return Err(candle_core::Error::Msg(format!(
                    "pick: f32 or f64 input expected, found {:?}",
                    other.dtype()
                )))
            }
        };
        Ok((out, l2.shape().clone()))
    }

    fn bwd(
        &self,
        arg1: &Tensor,
        arg2: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let gl = g.apply_op2_no_bwd(
            arg2,
            &PickScatter {
                shape: arg1.dims().to_vec(),
            },
        )?;
        Ok((Some(gl), None))
    }
}

impl candle_core::CustomOp2 for PickScatter {
    fn name(&self) -> &'static str {
        "pick_scatter"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let k = self.shape[self.shape.len() - 1];
        let b = &self.shape[..self.shape.len() - 1];
        let idx = i64_data(self.name(), s2, l2)?;
        let rows = row_of_each(l2.dims(), b);
        let n: usize = self.shape.iter().product();
        fn scatter_t<T: Copy + Default + std::ops::AddAssign>(
            name: &str,
            g: &[T],
            idx: &[i64],
            rows: &[usize],
            k: usize,
            n: usize,
        ) -> candle_core::Result<Vec<T>> {
            let mut out = vec![T::default(); n];
            for ((&gi, &j), &r) in g.iter().zip(idx.iter()).zip(rows) {
                out[r * k + checked_index(name, j, k)?] += gi;
            }
            Ok(out)
        }
        let out = match s1 {
            CpuStorage::F32(v) => {
                CpuStorage::F32(scatter_t(self.name(), &gather(v, l1), &idx, &rows, k, n)?)
            }
            CpuStorage::F64(v) => {
                CpuStorage::F64(scatter_t(self.name(), &gather(v, l1), &idx, &rows, k, n)?)
            }
            other => {
                return Err(candle_core::Error::Msg(format!(
                    "pick_scatter: f32 or f64 input expected, found {:?}",
                    other.dtype()
                )))
            }
        };
        Ok((out, Shape::from(self.shape.as_slice())))
    }
}

/// `l[…, idx]`: for `l` of shape `b ++ [K]` (f32/f64) and i64 indices `idx` whose shape
/// `b` broadcasts to, the entry of each index in its row, of the shape of `idx`. The
/// rows are read in place (never broadcast to `shape(idx) ++ [K]`), and the backward
/// scatters the upstream gradient into `l`'s own shape. An index outside 0..K is an
/// error.
pub(crate) fn pick(l: &Tensor, idx: &Tensor) -> Result<Tensor> {
    on_cpu(&[l, idx], |v| v[0].apply_op2(&v[1], Pick))
}
