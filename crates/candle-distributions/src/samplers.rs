//! Non-uniform samplers built on the [`Generator`](crate::Generator)'s per-element
//! streams: Gamma (and from it Beta and Dirichlet), and the per-element parallel loop
//! they share.
//!
//! Rejection samplers use a data-dependent number of random words per element. Each
//! element therefore draws from its own stream ([`Draw::element_stream`]), so element
//! `i` of a draw is the same whatever the thread count or the other elements' luck.

use crate::rng::{Draw, ElementStream};
use crate::special::kernel::par_fill;
use crate::special::scalar::clamp_total;

pub mod counts;

/// `out[i] = f(i, stream_i)` for `n` elements in parallel, each with its own stream.
pub(crate) fn per_element<U: Send + Default + Clone>(
    draw: Draw,
    n: usize,
    f: impl Fn(usize, &mut ElementStream) -> U + Sync + Send,
) -> Vec<U> {
    par_fill(n, |start, out: &mut [U]| {
        // Most elements need one block (one rejection try): compute those on the
        // vectorized path, then let each element continue its stream as needed.
        let first = draw.first_blocks(start, out.len());
        for (j, (o, b)) in out.iter_mut().zip(first).enumerate() {
            let i = start + j;
            *o = f(i, &mut draw.element_stream_from(i as u64, b));
        }
    })
}

/// Rows of `k` outputs, row `r` filled by `f(r, stream_r, row)` with its own stream
/// (as [`per_element`] with one stream per row), in parallel over blocks of rows.
pub(crate) fn per_row(
    draw: Draw,
    rows: usize,
    k: usize,
    f: impl Fn(usize, &mut ElementStream, &mut [f64]) + Sync + Send,
) -> Vec<f64> {
    let mut out = vec![0f64; rows * k];
    if k == 0 {
        return out;
    }
    const ROWS: usize = 1 << 10;
    let body = |c: usize, part: &mut [f64]| {
        let start = c * ROWS;
        let first = draw.first_blocks(start, part.len() / k);
        for (j, (row, b)) in part.chunks_mut(k).zip(first).enumerate() {
            let r = start + j;
            f(r, &mut draw.element_stream_from(r as u64, b), row);
        }
    };
    if rows * k >= 1 << 15 {
        out.par_chunks_mut(ROWS * k)
            .enumerate()
            .for_each(|(c, p)| body(c, p));
    } else {
        out.chunks_mut(ROWS * k)
            .enumerate()
            .for_each(|(c, p)| body(c, p));
    }
    out
}

/// Tries after which a rejection sampler stops and takes its documented fallback.
/// Every sampler here accepts a try with probability ≥ 0.65 for every valid
/// parameter, so for valid parameters the cap is reached with probability below
/// 0.35^1000 < 1e-450: never in practice. It exists so that no input (NaN, ±∞, values
/// whose arithmetic overflows) can keep a loop running.
pub(crate) const MAX_TRIES: u32 = 1000;

/// A standard Gamma(α, 1) draw for α ≥ 1 by Marsaglia & Tsang, "A simple method for
/// generating gamma variables", ACM TOMS 26(3), 2000: with d = α − 1/3,
/// c = 1/√(9d), a normal z is accepted with probability that makes d(1 + cz)³
/// Gamma(α)-distributed; the squeeze u < 1 − 0.0331 z⁴ skips the logarithms in ~98%
/// of tries. Returns `d · v` (v = (1 + cz)³).
///
/// Termination: NaN and α < 1 return NaN and α = +∞ returns +∞ without a try; c is
/// formed as 1/(3√d), which does not overflow for α up to `f64::MAX` (there
/// c ≈ 2.5e-155, (1 + cz)³ rounds to 1 and the draw is d: the law's relative spread
/// 1/√α is below the f64 spacing, so this is the correctly rounded point mass). The
/// acceptance rate is ≥ 0.95 for α ≥ 1; after `MAX_TRIES` rejections the draw is d,
/// the law's median to O(1).
#[inline(always)]
fn marsaglia_tsang(alpha: f64, s: &mut ElementStream) -> f64 {
    if !(1.0..f64::INFINITY).contains(&alpha) {
        return if alpha == f64::INFINITY {
            alpha
        } else {
            f64::NAN
        };
    }
    let d = alpha - 1.0 / 3.0;
    let c = 1.0 / (3.0 * d.sqrt());
    for _ in 0..MAX_TRIES {
        let z = s.normal_f64();
        let t = 1.0 + c * z;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = s.uniform_f64();
        let z2 = z * z;
        if u < 1.0 - 0.0331 * z2 * z2 {
            return d * v;
        }
        if u.ln() < 0.5 * z2 + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
    d
}

/// The pieces of ln G for a standard Gamma(α, 1) draw G: `(h, l)` with
/// ln G = h + l/α for α < 1 (h = ln Gamma(α + 1) draw, l = ln U ≤ 0; Marsaglia & Tsang,
/// section 6) and ln G = h, l = 0 for α ≥ 1. Kept apart because l/α overflows to −∞
/// for α below about 1e-308 (and loses everything but its sign for α ≤ 1e-300 in
/// differences): see `ln_gamma_ratio`.
#[inline]
fn gamma_ln_parts(alpha: f64, s: &mut ElementStream) -> (f64, f64) {
    if alpha >= 1.0 {
        (marsaglia_tsang(alpha, s).ln(), 0.0)
    } else {
        let g = marsaglia_tsang(alpha + 1.0, s);
        (g.ln(), s.uniform_f64().ln())
    }
}

/// ln(G_a/G_b) for two Gamma draws given as `gamma_ln_parts` `(h, l)` with their
/// shapes. The direct (h_a + l_a/a) − (h_b + l_b/b) is used unless it is NaN, which for
/// valid shapes happens only when both l/α overflowed to −∞ (shapes ≲ 1e-308). Then
/// the magnitudes m = −l/α are compared through their logarithms
/// ln m = ln(−l) − ln α (finite for every α > 0, subnormal included): the ratio is
/// (h_a − h_b) − (m_a − m_b), and m_a − m_b = e^{max}(e^{ln m_a − max} − e^{ln m_b − max})
/// overflows only to the ±∞ that is the correctly rounded answer.
#[inline]
fn ln_gamma_ratio(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
    let d = (a.0 + a.1 / a.2) - (b.0 + b.1 / b.2);
    if d.is_nan() {
        ln_gamma_ratio_by_magnitudes(a, b)
    } else {
        d
    }
}

/// The path of `ln_gamma_ratio` where both l/α overflowed (or an input is NaN).
#[cold]
fn ln_gamma_ratio_by_magnitudes(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
    let ((ha, la, a), (hb, lb, b)) = (a, b);
    if a.is_nan() || b.is_nan() || ha.is_nan() || hb.is_nan() {
        return f64::NAN;
    }
    let ma = (-la).ln() - a.ln();
    let mb = (-lb).ln() - b.ln();
    let hi = ma.max(mb);
    let diff = (ma - hi).exp() - (mb - hi).exp();
    if diff == 0.0 {
        return ha - hb;
    }
    (ha - hb) - hi.exp() * diff
}

/// ln G for a standard Gamma(α, 1) draw G, for any α > 0.
///
/// For α < 1 the draw is Gamma(α + 1)·U^{1/α} (Marsaglia & Tsang, section 6), taken
/// in log space: U^{1/α} underflows for small α (for α = 10⁻³ half of all draws are
/// below 10⁻³⁰⁰), while ln G = ln Gamma(α + 1) + ln U / α stays finite, so Beta and
/// Dirichlet draws built from ratios of Gammas keep their full range. (For α below
/// about 1e-308 it is −∞: ratios of such draws go through `ln_gamma_ratio`.)
///
/// Terminates for every input (see `marsaglia_tsang`): NaN or negative α gives NaN,
/// α = 0 gives −∞ (the point mass at 0 that is the limit α → 0), α = ∞ gives ∞.
#[inline]
pub fn standard_gamma_ln(alpha: f64, s: &mut ElementStream) -> f64 {
    let (h, l) = gamma_ln_parts(alpha, s);
    if alpha >= 1.0 {
        h
    } else {
        h + l / alpha
    }
}

/// A standard Gamma(α, 1) draw, clamped below at `tiny` (the smallest positive normal
/// number of the output dtype) where it would underflow: a draw of exactly 0 has
/// log-density −∞ for α < 1 and a gradient of NaN. Terminates for every α (see
/// [`standard_gamma_ln`]).
#[inline]
pub fn standard_gamma(alpha: f64, s: &mut ElementStream, tiny: f64) -> f64 {
    let x = if alpha >= 1.0 {
        marsaglia_tsang(alpha, s)
    } else {
        standard_gamma_ln(alpha, s).exp()
    };
    if x.is_nan() {
        x
    } else {
        x.max(tiny)
    }
}

/// A Beta(a, b) draw as G_a / (G_a + G_b) from two Gamma draws, formed from their
/// logarithms: x = σ(ln G_a − ln G_b). Small concentrations put most draws within
/// 10⁻³⁰⁰ of 0 or 1, where the Gammas themselves underflow; the log-odds does not
/// (and for concentrations ≤ 1e-300, where even ln G overflows, `ln_gamma_ratio`
/// keeps the log-odds exact). The result is clamped into [tiny, 1 − ε/2]
/// (`one_below`, the largest float below 1 of the output dtype): a draw of exactly 0
/// or 1 has log-density ±∞ and NaN gradients. Terminates for every input; NaN or
/// negative concentrations give NaN.
#[inline]
pub fn beta(a: f64, b: f64, s: &mut ElementStream, tiny: f64, one_below: f64) -> f64 {
    let x = if a >= 1.0 && b >= 1.0 {
        // Both Gammas are far from underflow: the plain ratio, no logarithms.
        let ga = marsaglia_tsang(a, s);
        let gb = marsaglia_tsang(b, s);
        let sum = ga + gb;
        if sum < f64::INFINITY {
            ga / sum
        } else {
            // Concentrations near f64::MAX: the sum overflows, the ratio does not.
            1.0 / (1.0 + gb / ga)
        }
    } else {
        let (ha, la) = gamma_ln_parts(a, s);
        let (hb, lb) = gamma_ln_parts(b, s);
        crate::special::scalar::sigmoid(ln_gamma_ratio((ha, la, a), (hb, lb, b)))
    };
    clamp_total(x, tiny, one_below)
}

/// One Dirichlet(α) draw into `out` (same length as `alpha`): normalized Gammas,
/// x_i = exp(ln G_i − ln Σ_j G_j) with the sum taken in log space (log-sum-exp), so
/// that small concentrations do not turn every component into 0/0 or into 1/K. Each
/// component is clamped into [tiny, one_below]. Where every ln G_i is −∞
/// (concentrations ≲ 1e-308) the components are formed relative to the largest draw
/// by `ln_gamma_ratio` instead, from a replay of the same stream. Terminates for
/// every input; a NaN or negative concentration makes the row NaN.
pub fn dirichlet(alpha: &[f64], s: &mut ElementStream, tiny: f64, one_below: f64, out: &mut [f64]) {
    if alpha.len() == 1 {
        // One category: the simplex is the point {1}.
        if let Some(o) = out.first_mut() {
            *o = if alpha[0].is_nan() || alpha[0] < 0.0 {
                f64::NAN
            } else {
                1.0
            };
        }
        return;
    }
    if alpha.iter().all(|&a| a >= 1.0) {
        // No Gamma near underflow: normalize directly, without logarithms.
        let mut sum = 0.0;
        let mut max = 0f64;
        for (o, &a) in out.iter_mut().zip(alpha) {
            *o = marsaglia_tsang(a, s);
            sum += *o;
            max = max.max(*o);
        }
        if sum == f64::INFINITY {
            // Concentrations near f64::MAX (or ∞, valid only with validation off):
            // the sum overflows, ratios to the largest draw do not (an ∞ draw is the
            // limit's vertex, 1 against every finite draw).
            sum = 0.0;
            for o in out.iter_mut() {
                *o = if max == f64::INFINITY {
                    f64::from(*o == f64::INFINITY)
                } else {
                    *o / max
                };
                sum += *o;
            }
        }
        for o in out.iter_mut() {
            *o = clamp_total(*o / sum, tiny, one_below);
        }
        return;
    }
    let replay = s.clone();
    let mut max = f64::NEG_INFINITY;
    for (o, &a) in out.iter_mut().zip(alpha) {
        *o = standard_gamma_ln(a, s);
        max = max.max(*o);
    }
    if max > f64::NEG_INFINITY && max < f64::INFINITY {
        // Normalized by the sum of the rounded exponentials themselves (not by
        // exp(l − log-sum-exp)): where ln G ~ 700 (concentrations near f64::MAX) the
        // rounding of l − lse is ~1e-13 and the row summed to 1 + 5e-14.
        let mut sum = 0.0;
        for o in out.iter_mut() {
            *o = (*o - max).exp();
            sum += *o;
        }
        for o in out.iter_mut() {
            *o = clamp_total(*o / sum, tiny, one_below);
        }
        return;
    }
    if alpha.iter().any(|a| a.is_nan() || *a < 0.0) || out.iter().any(|o| o.is_nan()) {
        out.iter_mut().for_each(|o| *o = f64::NAN);
        return;
    }
    dirichlet_ratio_form(alpha, replay, tiny, one_below, out);
}

/// The Dirichlet draw of [`dirichlet`] from the same stream, with every ratio
/// G_i/G_max taken by `ln_gamma_ratio` (the path for concentrations whose ln G
/// overflows, or for ∞ concentrations). Allocates one row of parts: this path is
/// reached only at such extremes.
fn dirichlet_ratio_form(
    alpha: &[f64],
    mut s: ElementStream,
    tiny: f64,
    one_below: f64,
    out: &mut [f64],
) {
    let parts: Vec<(f64, f64, f64)> = alpha
        .iter()
        .map(|&a| {
            let (h, l) = gamma_ln_parts(a, &mut s);
            (h, l, a)
        })
        .collect();
    let mut top = 0;
    for i in 1..parts.len() {
        if ln_gamma_ratio(parts[i], parts[top]) > 0.0 {
            top = i;
        }
    }
    let mut sum = 0.0;
    for (o, p) in out.iter_mut().zip(&parts) {
        let r = ln_gamma_ratio(*p, parts[top]);
        // G_top/G_top = 1 exactly, also where the ratio of two infinities is NaN.
        *o = if r.is_nan() { 1.0 } else { r.exp() };
        sum += *o;
    }
    for o in out.iter_mut() {
        *o = clamp_total(*o / sum, tiny, one_below);
    }
}

/// Smallest positive normal number and largest number below 1 of a float dtype.
pub(crate) fn unit_bounds(dtype: candle_core::DType) -> (f64, f64) {
    match dtype {
        candle_core::DType::F32 => (f32::MIN_POSITIVE as f64, 1.0 - f32::EPSILON as f64 / 2.0),
        _ => (f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0),
    }
}

// ---------------------------------------------------------------------------
// Differentiable draws: candle ops whose forward samples and whose backward is the
// implicit reparameterization gradient dx/dθ = −(∂F(x; θ)/∂θ) / p(x; θ).
// ---------------------------------------------------------------------------

use crate::special::kernel::{apply2, gather, Map2};
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

type CResult<T> = candle_core::Result<T>;

/// Runs `f(element index, parameter, stream)` over a parameter tensor's elements, in
/// its dtype (f32 parameters are widened, the draw rounded back).
fn sample_like(
    name: &'static str,
    s: &CpuStorage,
    l: &Layout,
    draw: Draw,
    f: impl Fn(f64, &mut ElementStream, f64, f64) -> f64 + Sync + Send,
) -> CResult<(CpuStorage, Shape)> {
    let out = match s {
        CpuStorage::F64(v) => {
            let p = gather(v, l);
            let (tiny, one_below) = unit_bounds(candle_core::DType::F64);
            CpuStorage::F64(per_element(draw, p.len(), |i, st| {
                f(p[i], st, tiny, one_below)
            }))
        }
        CpuStorage::F32(v) => {
            let p = gather(v, l);
            let (tiny, one_below) = unit_bounds(candle_core::DType::F32);
            CpuStorage::F32(per_element(draw, p.len(), |i, st| {
                f(p[i] as f64, st, tiny, one_below) as f32
            }))
        }
        other => {
            return Err(candle_core::Error::Msg(format!(
                "{name}: unsupported dtype {:?}",
                other.dtype()
            )))
        }
    };
    Ok((out, l.shape().clone()))
}

/// As [`sample_like`] for samplers of two parameters of one shape.
#[allow(clippy::too_many_arguments)]
fn sample_like2(
    name: &'static str,
    s1: &CpuStorage,
    l1: &Layout,
    s2: &CpuStorage,
    l2: &Layout,
    draw: Draw,
    f: impl Fn(f64, f64, &mut ElementStream, f64, f64) -> f64 + Sync + Send,
) -> CResult<(CpuStorage, Shape)> {
    let out = match (s1, s2) {
        (CpuStorage::F64(a), CpuStorage::F64(b)) => {
            let (a, b) = (gather(a, l1), gather(b, l2));
            let (tiny, one_below) = unit_bounds(candle_core::DType::F64);
            CpuStorage::F64(per_element(draw, a.len(), |i, st| {
                f(a[i], b[i], st, tiny, one_below)
            }))
        }
        (CpuStorage::F32(a), CpuStorage::F32(b)) => {
            let (a, b) = (gather(a, l1), gather(b, l2));
            let (tiny, one_below) = unit_bounds(candle_core::DType::F32);
            CpuStorage::F32(per_element(draw, a.len(), |i, st| {
                f(a[i] as f64, b[i] as f64, st, tiny, one_below) as f32
            }))
        }
        (other, _) => {
            return Err(candle_core::Error::Msg(format!(
                "{name}: unsupported dtype {:?}",
                other.dtype()
            )))
        }
    };
    Ok((out, l1.shape().clone()))
}

/// Gamma(α, β) draws G/β (G standard Gamma, clamped to the dtype's smallest positive
/// normal), one per element of `alpha` and `rate`, with the exact implicit gradient
/// dx/dα = (dG/dα)/β and the explicit dx/dβ = −x/β in backward, computed in one pass.
struct GammaOp {
    draw: Draw,
}

impl candle_core::CustomOp2 for GammaOp {
    fn name(&self) -> &'static str {
        "gamma_rsample"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        sample_like2(
            self.name(),
            s1,
            l1,
            s2,
            l2,
            self.draw,
            |a, r, st, tiny, _| (standard_gamma(a, st, 0.0) / r).max(tiny),
        )
    }

    // g·dx/dα and g·dx/dβ in one pass over (α, β, x, g); these gradients have no
    // further derivatives. A draw at the dtype's smallest normal was clamped up to it
    // (the draw underflowed) and does not move with α or β: gradient 0 (its x·β is not
    // the Gamma draw, and α ≲ 1e-38 with β ≈ f64::MAX would put the formula at ∞·0).
    fn bwd(
        &self,
        alpha: &Tensor,
        rate: &Tensor,
        x: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        fn f(a: f64, r: f64, x: f64, g: f64) -> (f64, f64) {
            if x <= f64::MIN_POSITIVE {
                return (0.0, 0.0);
            }
            let gr = g / r;
            let dg = crate::special::gamma::standard_gamma_grad(a, x * r);
            if gr.is_finite() {
                (gr * dg, -gr * x)
            } else {
                grads_subnormal_rate(r, x, g, dg)
            }
        }
        fn f32(a: f64, r: f64, x: f64, g: f64) -> (f64, f64) {
            if x <= f32::MIN_POSITIVE as f64 {
                return (0.0, 0.0);
            }
            let gr = g / r;
            let dg = crate::special::gamma::standard_gamma_grad_f32(a, x * r);
            if gr.is_finite() {
                (gr * dg, -gr * x)
            } else {
                grads_subnormal_rate(r, x, g, dg)
            }
        }
        // g/β overflowed (β subnormal): divide dG/dα and x by β first, so that
        // dG/dα = 0 gives 0 rather than ∞·0 = NaN.
        #[cold]
        fn grads_subnormal_rate(r: f64, x: f64, g: f64, dg: f64) -> (f64, f64) {
            (g * (dg / r), -g * (x / r))
        }
        let (da, dr) = map4_pair([alpha, rate, x, g], f, f32)?;
        Ok((Some(da), Some(dr)))
    }
}

/// `(y1, y2) = f(a, b, c, d)` elementwise over four CPU tensors of one shape and float
/// dtype, in one parallel pass with two contiguous outputs (`f32` serves f32 tensors:
/// same inputs in f64, allowed to be less exact). Used for gradients, which are not
/// differentiated further.
fn map4_pair(
    t: [&Tensor; 4],
    f: fn(f64, f64, f64, f64) -> (f64, f64),
    f32: fn(f64, f64, f64, f64) -> (f64, f64),
) -> CResult<(Tensor, Tensor)> {
    use candle_core::Storage;
    let shape = t[0].shape().clone();
    let guards: Vec<_> = t.iter().map(|x| x.storage_and_layout()).collect();
    let n = shape.elem_count();
    let run = |get: &(dyn Fn(usize, usize) -> f64 + Sync),
               f: fn(f64, f64, f64, f64) -> (f64, f64)| {
        let mut o1 = vec![0f64; n];
        let mut o2 = vec![0f64; n];
        let body = |start: usize, p1: &mut [f64], p2: &mut [f64]| {
            for (j, (y1, y2)) in p1.iter_mut().zip(p2.iter_mut()).enumerate() {
                let i = start + j;
                (*y1, *y2) = f(get(0, i), get(1, i), get(2, i), get(3, i));
            }
        };
        const C: usize = 1 << 13;
        if n >= 1 << 15 {
            o1.par_chunks_mut(C)
                .zip(o2.par_chunks_mut(C))
                .enumerate()
                .for_each(|(c, (p1, p2))| body(c * C, p1, p2));
        } else {
            body(0, &mut o1, &mut o2);
        }
        (o1, o2)
    };
    let bad = || candle_core::Error::Msg("map4_pair: expected f32/f64 CPU tensors".into());
    let cpu = candle_core::Device::Cpu;
    match t[0].dtype() {
        candle_core::DType::F64 => {
            let data = guards
                .iter()
                .map(|(s, l)| match &**s {
                    Storage::Cpu(CpuStorage::F64(v)) => Ok(gather(v, l)),
                    _ => Err(bad()),
                })
                .collect::<CResult<Vec<_>>>()?;
            let (o1, o2) = run(&|k, i| data[k][i], f);
            Ok((
                Tensor::from_vec(o1, shape.clone(), &cpu)?,
                Tensor::from_vec(o2, shape, &cpu)?,
            ))
        }
        candle_core::DType::F32 => {
            let data = guards
                .iter()
                .map(|(s, l)| match &**s {
                    Storage::Cpu(CpuStorage::F32(v)) => Ok(gather(v, l)),
                    _ => Err(bad()),
                })
                .collect::<CResult<Vec<_>>>()?;
            let (o1, o2) = run(&|k, i| data[k][i] as f64, f32);
            let to32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
            Ok((
                Tensor::from_vec(to32(o1), shape.clone(), &cpu)?,
                Tensor::from_vec(to32(o2), shape, &cpu)?,
            ))
        }
        _ => Err(bad()),
    }
}

/// Reparameterized Gamma(α, β) draws of the shape of `alpha` (α and β broadcast to
/// the full sample shape by the caller).
pub(crate) fn gamma_rsample(alpha: &Tensor, rate: &Tensor, draw: Draw) -> crate::Result<Tensor> {
    crate::special::kernel::on_cpu(&[alpha, rate], |v| v[0].apply_op2(&v[1], GammaOp { draw }))
}

/// ln G for standard Gamma(α, 1) draws G, one per element of `alpha`, with the
/// implicit gradient d ln G/dα = (dG/dα)/G in backward. Ratios and powers of Gamma
/// draws (Student's t, Fisher–Snedecor, the inverse Gamma) are formed from these
/// logarithms: G itself underflows for small α (and was clamped to the smallest
/// normal), and the chain rule through G (dG/dα, then 1/G, then the rest) overflows in
/// its intermediate factors where the gradient itself is finite.
struct LnGammaOp {
    draw: Draw,
}

impl CustomOp1 for LnGammaOp {
    fn name(&self) -> &'static str {
        "gamma_ln_rsample"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        sample_like(self.name(), s, l, self.draw, |a, st, _, _| {
            standard_gamma_ln(a, st)
        })
    }

    fn bwd(&self, alpha: &Tensor, lg: &Tensor, g: &Tensor) -> CResult<Option<Tensor>> {
        let d = apply2(
            alpha,
            lg,
            Map2 {
                name: "gamma_ln_implicit_grad",
                f: ln_gamma_grad::<false>,
                f32: ln_gamma_grad::<true>,
                bwd: None,
            },
        )?;
        Ok(Some((g * d)?))
    }
}

/// d ln G/dα = (dG/dα)/G of a standard Gamma(α) draw with ln G = `lg`. Where G would
/// be below 1e-304 the series of [`crate::special::gamma::standard_gamma_grad`],
/// (x/α)[W − S(ln x − ψ(α + 1))] with S = 1 + O(x) and W = O(x), gives
/// −(ln x − ψ(α + 1))/α to within a relative e^{−700}, from ln x alone.
///
/// For tiny α the gradient, about −ln G/α ≈ 1/α², overflows (at α = 1e-300 and, via
/// ln G = −∞, for α ≲ 1e-308); it is saturated at f64::MAX (the nearest finite value),
/// so that the zero upstream gradient of a draw clamped into the dtype's range
/// (`exp_draw`) gives 0, not 0·∞ = NaN, while a nonzero one still gives ±∞.
pub(crate) fn ln_gamma_grad<const F32: bool>(alpha: f64, lg: f64) -> f64 {
    if lg == f64::NEG_INFINITY {
        return f64::MAX;
    }
    if lg > -700.0 {
        let x = lg.exp();
        let dx = if F32 {
            crate::special::gamma::standard_gamma_grad_f32(alpha, x)
        } else {
            crate::special::gamma::standard_gamma_grad(alpha, x)
        };
        dx / x
    } else {
        let d = -(lg - crate::special::gamma::digamma(alpha + 1.0)) / alpha;
        d.min(f64::MAX)
    }
}

/// Reparameterized ln G, G ~ Gamma(α, 1), of the shape of `alpha` (see `LnGammaOp`).
pub(crate) fn standard_gamma_ln_rsample(alpha: &Tensor, draw: Draw) -> crate::Result<Tensor> {
    crate::special::kernel::on_cpu(&[alpha], |v| v[0].apply_op1(LnGammaOp { draw }))
}

/// `exp(l)` for f64 log-draws `l` of a law on (0, ∞), clamped into [smallest normal,
/// largest finite number] of `dtype` and rounded to `dtype`: a draw whose exact value
/// lies beyond the dtype's range becomes the nearest representable point of the
/// support (with gradient 0 there), never 0 or ∞, whose log-density and gradients
/// would be infinite or NaN.
///
/// The clamp is applied to `l`, before the exponential: clamping `exp(l)` after an
/// overflow would send gradient 0 into the exponential's backward, 0 · ∞ = NaN.
/// `l` may be f32 or f64.
pub(crate) fn exp_draw(l: &Tensor, dtype: candle_core::DType) -> crate::Result<Tensor> {
    let (lo, hi) = if l.dtype() == candle_core::DType::F64 && dtype == candle_core::DType::F32 {
        // exp in f64 of the exact f64 logarithms lands within an f64 ulp of the f32
        // ends, which round to exactly f32::MIN_POSITIVE and f32::MAX.
        ((f32::MIN_POSITIVE as f64).ln(), (f32::MAX as f64).ln())
    } else {
        log_range(dtype)
    };
    Ok(l.clamp(lo, hi)?.exp()?.to_dtype(dtype)?)
}

/// `[ln tiny, ln max]` of a float dtype, rounded inwards so that `exp` of either end,
/// computed in f32 or f64 and rounded to `dtype`, is a positive normal finite number.
pub(crate) fn log_range(dtype: candle_core::DType) -> (f64, f64) {
    match dtype {
        // ln(f32::MIN_POSITIVE) = −87.336544…, ln(f32::MAX) = 88.722839…
        candle_core::DType::F32 => (-87.3365, 88.7228),
        // ln(f64::MIN_POSITIVE) = −708.396418…, ln(f64::MAX) = 709.782712…
        _ => (-708.3964, 709.7827),
    }
}

/// The largest finite number of a float dtype, as f64.
pub(crate) fn finite_max(dtype: candle_core::DType) -> f64 {
    match dtype {
        candle_core::DType::F32 => f32::MAX as f64,
        _ => f64::MAX,
    }
}

/// Beta(a, b) draws with the exact implicit gradients (dx/da, dx/db) in backward.
struct BetaOp {
    draw: Draw,
}

impl candle_core::CustomOp2 for BetaOp {
    fn name(&self) -> &'static str {
        "beta_rsample"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        sample_like2(self.name(), s1, l1, s2, l2, self.draw, beta)
    }

    // g·dx/da and g·dx/db (no further derivatives), on the two-lane slice kernels.
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        x: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let f32 = a.dtype() == candle_core::DType::F32;
        let shape = x.shape().clone();
        let (a, b, x, g) = (host64(a)?, host64(b)?, host64(x)?, host64(g)?);
        let (mut da, mut db) = beta_grads(&a, &b, &x, f32);
        for ((da, db), g) in da.iter_mut().zip(db.iter_mut()).zip(&g) {
            *da *= g;
            *db *= g;
        }
        Ok((
            Some(from_f64(da, &shape, f32)?),
            Some(from_f64(db, &shape, f32)?),
        ))
    }
}

/// (dx/da, dx/db) of Beta draws, elementwise over slices, in parallel chunks of the
/// two-lane slice kernels (`f32`: the variant that stops at f32 accuracy).
///
/// A draw sitting on a clamp bound of its dtype (the smallest normal number or the
/// largest float below 1) is the clamp's constant there, whose derivative is 0; where
/// the implicit formula is not finite for such a draw (concentrations like 5e-324 or
/// 1e-8 against 5e-324, where the unclamped draw lies far beyond the bound and ψ or
/// 1/a overflow) that 0 is used instead of ±∞/NaN.
fn beta_grads(a: &[f64], b: &[f64], x: &[f64], f32: bool) -> (Vec<f64>, Vec<f64>) {
    let (tiny, one_below) = unit_bounds(if f32 {
        candle_core::DType::F32
    } else {
        candle_core::DType::F64
    });
    let n = a.len();
    let mut da = vec![0f64; n];
    let mut db = vec![0f64; n];
    const C: usize = 1 << 12;
    da.par_chunks_mut(C)
        .zip(db.par_chunks_mut(C))
        .enumerate()
        .for_each(|(c, (pa, pb))| {
            let r = c * C..c * C + pa.len();
            if f32 {
                crate::special::beta::beta_implicit_grad_f32_slice(
                    &a[r.clone()],
                    &b[r.clone()],
                    &x[r.clone()],
                    pa,
                    pb,
                );
            } else {
                crate::special::beta::beta_implicit_grad_slice(
                    &a[r.clone()],
                    &b[r.clone()],
                    &x[r.clone()],
                    pa,
                    pb,
                );
            }
            for ((da, db), &x) in pa.iter_mut().zip(pb.iter_mut()).zip(&x[r]) {
                if !(da.is_finite() && db.is_finite()) && (x <= tiny || x >= one_below) {
                    (*da, *db) = (0.0, 0.0);
                }
            }
        });
    (da, db)
}

/// The elements of a CPU float tensor as f64, in logical order.
fn host64(t: &Tensor) -> CResult<Vec<f64>> {
    let (s, l) = t.storage_and_layout();
    match &*s {
        candle_core::Storage::Cpu(CpuStorage::F64(v)) => Ok(gather(v, l).into_owned()),
        candle_core::Storage::Cpu(CpuStorage::F32(v)) => {
            Ok(gather(v, l).iter().map(|&x| x as f64).collect())
        }
        _ => Err(candle_core::Error::Msg(
            "expected an f32/f64 CPU tensor".into(),
        )),
    }
}

/// A CPU tensor of `shape` from f64 values, in f32 if `f32`.
fn from_f64(v: Vec<f64>, shape: &Shape, f32: bool) -> CResult<Tensor> {
    let cpu = candle_core::Device::Cpu;
    if f32 {
        Tensor::from_vec(
            v.into_iter().map(|x| x as f32).collect::<Vec<f32>>(),
            shape,
            &cpu,
        )
    } else {
        Tensor::from_vec(v, shape, &cpu)
    }
}

/// Reparameterized Beta(a, b) draws (a, b of one shape: the full sample shape).
pub(crate) fn beta_rsample(a: &Tensor, b: &Tensor, draw: Draw) -> crate::Result<Tensor> {
    crate::special::kernel::on_cpu(&[a, b], |v| v[0].apply_op2(&v[1], BetaOp { draw }))
}

/// Dirichlet draws over the last dimension of `alpha` (shape `[..., K]`), with the
/// pathwise gradient of Jankowiak & Obermeyer, "Pathwise Derivatives Beyond the
/// Reparameterization Trick" (ICML 2018): x_i is the marginal Beta(α_i, α_0 − α_i)
/// draw, differentiated implicitly (D_i = dx_i/dα_i), and given x_i the other
/// components are (1 − x_i)·w with w ~ Dirichlet(α_{−i}) independent of α_i, so
/// dx_j/dα_i = −x_j D_i/(1 − x_i). For an upstream gradient g this gives
/// ∂L/∂α_i = D_i (g_i − Σ_j g_j x_j)/(1 − x_i).
struct DirichletOp {
    draw: Draw,
}

impl CustomOp1 for DirichletOp {
    fn name(&self) -> &'static str {
        "dirichlet_rsample"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let k = *l.dims().last().unwrap_or(&1);
        let draw = self.draw;
        let run = |alpha: &[f64], dtype| -> Vec<f64> {
            let (tiny, ob) = unit_bounds(dtype);
            let rows = alpha.len().checked_div(k).unwrap_or(0);
            per_row(draw, rows, k, |r, st, out| {
                dirichlet(&alpha[r * k..(r + 1) * k], st, tiny, ob, out)
            })
        };
        let out = match s {
            CpuStorage::F64(v) => CpuStorage::F64(run(&gather(v, l), candle_core::DType::F64)),
            CpuStorage::F32(v) => {
                let a: Vec<f64> = gather(v, l).iter().map(|&x| x as f64).collect();
                CpuStorage::F32(
                    run(&a, candle_core::DType::F32)
                        .into_iter()
                        .map(|x| x as f32)
                        .collect(),
                )
            }
            other => {
                return Err(candle_core::Error::Msg(format!(
                    "dirichlet_rsample: unsupported dtype {:?}",
                    other.dtype()
                )))
            }
        };
        Ok((out, l.shape().clone()))
    }

    fn bwd(&self, alpha: &Tensor, x: &Tensor, g: &Tensor) -> CResult<Option<Tensor>> {
        let w = alpha
            .apply_op2_no_bwd(x, &DirichletWeight)
            .map_err(candle_core::Error::wrap)?;
        let gx = (g * x)?.sum_keepdim(candle_core::D::Minus1)?;
        Ok(Some((w * g.broadcast_sub(&gx)?)?))
    }
}

/// W_i = D_i/(1 − x_i) per component of Dirichlet draws, with 1 − x_i taken as the sum
/// of the other components (exact where x_i is close to 1).
struct DirichletWeight;

impl candle_core::CustomOp2 for DirichletWeight {
    fn name(&self) -> &'static str {
        "dirichlet_grad_weight"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let k = *l1.dims().last().unwrap_or(&1);
        let run = |alpha: &[f64], x: &[f64], f32: bool| -> Vec<f64> {
            if k <= 1 {
                // One category: x = 1 whatever α.
                return vec![0f64; alpha.len()];
            }
            // D_i = dx_i/dα_i: the marginal Beta(α_i, α₀ − α_i) implicit gradient.
            let mut b = vec![0f64; alpha.len()];
            for (a, bb) in alpha.chunks(k).zip(b.chunks_mut(k)) {
                other_sums(a, bb);
            }
            let (mut d, _) = beta_grads(alpha, &b, x, f32);
            for (xr, dr) in x.chunks(k).zip(d.chunks_mut(k)) {
                let xs: f64 = xr.iter().sum();
                for i in 0..k {
                    // Σ_{j≠i} x_j: directly where x_i > 1/2 (the subtraction would
                    // cancel), else as the total minus x_i.
                    let rest = if xr[i] > 0.5 {
                        xr.iter()
                            .enumerate()
                            .filter(|(j, _)| *j != i)
                            .map(|(_, v)| v)
                            .sum::<f64>()
                    } else {
                        xs - xr[i]
                    };
                    dr[i] /= rest;
                }
            }
            d
        };
        let out = match (s1, s2) {
            (CpuStorage::F64(a), CpuStorage::F64(x)) => {
                CpuStorage::F64(run(&gather(a, l1), &gather(x, l2), false))
            }
            (CpuStorage::F32(a), CpuStorage::F32(x)) => {
                let a: Vec<f64> = gather(a, l1).iter().map(|&v| v as f64).collect();
                let x: Vec<f64> = gather(x, l2).iter().map(|&v| v as f64).collect();
                CpuStorage::F32(run(&a, &x, true).into_iter().map(|v| v as f32).collect())
            }
            (other, _) => {
                return Err(candle_core::Error::Msg(format!(
                    "dirichlet_grad_weight: unsupported dtype {:?}",
                    other.dtype()
                )))
            }
        };
        Ok((out, l1.shape().clone()))
    }
}

/// `out[i] = Σ_{j≠i} a[j]` for one Dirichlet row (the second Beta parameter of the
/// marginal of component i). As α₀ − α_i where α_i ≤ α₀/2 (no cancellation); the one
/// component that may hold more than half of α₀ gets the direct sum, since α₀ − α_i
/// loses the small terms (α = (1e8, 1e-40) gave exactly 0, an invalid Beta parameter
/// and NaN gradients). Where α₀ overflows every sum is taken directly, and a sum that
/// overflows itself is capped at f64::MAX (the marginal is then a point mass to
/// working precision and its gradient ~0 either way).
fn other_sums(a: &[f64], out: &mut [f64]) {
    let a0: f64 = a.iter().sum();
    let direct = |i: usize| -> f64 {
        a.iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    for (i, (ai, o)) in a.iter().zip(out.iter_mut()).enumerate() {
        let v = if a0.is_finite() && *ai <= 0.5 * a0 {
            a0 - ai
        } else {
            direct(i)
        };
        *o = v.min(f64::MAX);
    }
}

/// Reparameterized Dirichlet draws over the last dimension of `alpha` (broadcast to
/// the full sample shape by the caller).
pub(crate) fn dirichlet_rsample(alpha: &Tensor, draw: Draw) -> crate::Result<Tensor> {
    crate::special::kernel::on_cpu(&[alpha], |v| v[0].apply_op1(DirichletOp { draw }))
}

/// Standard von Mises(0, κ) angles in (−π, π], one per element of `kappa`, by Best &
/// Fisher's rejection method on per-element streams, with the exact implicit gradient
/// dθ/dκ = −(∂F(θ; κ)/∂κ)/p(θ; κ) in backward.
struct VonMisesOp {
    draw: Draw,
}

impl CustomOp1 for VonMisesOp {
    fn name(&self) -> &'static str {
        "von_mises_rsample"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        sample_like(self.name(), s, l, self.draw, |k, st, _, _| {
            crate::special::von_mises::sample_standard_von_mises(k, st)
        })
    }

    fn bwd(&self, kappa: &Tensor, theta: &Tensor, g: &Tensor) -> CResult<Option<Tensor>> {
        fn grad(theta: f64, kappa: f64) -> f64 {
            crate::special::von_mises::von_mises_implicit_grad(theta, kappa)
        }
        let d = apply2(
            theta,
            kappa,
            Map2 {
                name: "von_mises_implicit_grad",
                f: grad,
                f32: grad,
                bwd: None,
            },
        )?;
        Ok(Some((g * d)?))
    }
}

/// Reparameterized standard von Mises draws of the shape of `kappa`.
pub(crate) fn von_mises_rsample(kappa: &Tensor, draw: Draw) -> crate::Result<Tensor> {
    crate::special::kernel::on_cpu(&[kappa], |v| v[0].apply_op1(VonMisesOp { draw }))
}
