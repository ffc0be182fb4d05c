//! Non-uniform samplers built on the [`Generator`](crate::Generator)'s per-element
//! streams: Gamma (and from it Beta and Dirichlet), and the per-element parallel loop
//! they share.
//!
//! Rejection samplers use a data-dependent number of random words per element. Each
//! element therefore draws from its own stream ([`Draw::element_stream`]), so element
//! `i` of a draw is the same whatever the thread count or the other elements' luck.

use crate::rng::{Draw, ElementStream};
use crate::special::kernel::par_fill;

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

/// A standard Gamma(α, 1) draw for α ≥ 1 by Marsaglia & Tsang, "A simple method for
/// generating gamma variables", ACM TOMS 26(3), 2000: with d = α − 1/3,
/// c = 1/√(9d), a normal z is accepted with probability that makes d(1 + cz)³
/// Gamma(α)-distributed; the squeeze u < 1 − 0.0331 z⁴ skips the logarithms in ~98%
/// of tries. Returns `d · v` (v = (1 + cz)³).
#[inline]
fn marsaglia_tsang(alpha: f64, s: &mut ElementStream) -> f64 {
    let d = alpha - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
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
}

/// ln G for a standard Gamma(α, 1) draw G, for any α > 0.
///
/// For α < 1 the draw is Gamma(α + 1)·U^{1/α} (Marsaglia & Tsang, section 6), taken
/// in log space: U^{1/α} underflows for small α (for α = 10⁻³ half of all draws are
/// below 10⁻³⁰⁰), while ln G = ln Gamma(α + 1) + ln U / α stays finite, so Beta and
/// Dirichlet draws built from ratios of Gammas keep their full range.
#[inline]
pub fn standard_gamma_ln(alpha: f64, s: &mut ElementStream) -> f64 {
    if alpha >= 1.0 {
        marsaglia_tsang(alpha, s).ln()
    } else {
        let g = marsaglia_tsang(alpha + 1.0, s);
        let u = s.uniform_f64();
        g.ln() + u.ln() / alpha
    }
}

/// A standard Gamma(α, 1) draw, clamped below at `tiny` (the smallest positive normal
/// number of the output dtype) where it would underflow: a draw of exactly 0 has
/// log-density −∞ for α < 1 and a gradient of NaN.
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
/// 10⁻³⁰⁰ of 0 or 1, where the Gammas themselves underflow; the log-odds does not.
/// The result is clamped into [tiny, 1 − ε/2] (`one_below`, the largest float below 1
/// of the output dtype): a draw of exactly 0 or 1 has log-density ±∞ and NaN gradients.
#[inline]
pub fn beta(a: f64, b: f64, s: &mut ElementStream, tiny: f64, one_below: f64) -> f64 {
    let x = if a >= 1.0 && b >= 1.0 {
        // Both Gammas are far from underflow: the plain ratio, no logarithms.
        let ga = marsaglia_tsang(a, s);
        let gb = marsaglia_tsang(b, s);
        ga / (ga + gb)
    } else {
        let la = standard_gamma_ln(a, s);
        let lb = standard_gamma_ln(b, s);
        crate::special::scalar::sigmoid(la - lb)
    };
    if x.is_nan() {
        x
    } else {
        x.clamp(tiny, one_below)
    }
}

/// One Dirichlet(α) draw into `out` (same length as `alpha`): normalized Gammas,
/// x_i = exp(ln G_i − ln Σ_j G_j) with the sum taken in log space (log-sum-exp), so
/// that small concentrations do not turn every component into 0/0 or into 1/K. Each
/// component is clamped into [tiny, one_below].
pub fn dirichlet(alpha: &[f64], s: &mut ElementStream, tiny: f64, one_below: f64, out: &mut [f64]) {
    if alpha.len() == 1 {
        // One category: the simplex is the point {1}.
        out[0] = 1.0;
        return;
    }
    if alpha.iter().all(|&a| a >= 1.0) {
        // No Gamma near underflow: normalize directly, without logarithms.
        let mut sum = 0.0;
        for (o, &a) in out.iter_mut().zip(alpha) {
            *o = marsaglia_tsang(a, s);
            sum += *o;
        }
        for o in out.iter_mut() {
            let x = *o / sum;
            *o = if x.is_nan() {
                x
            } else {
                x.clamp(tiny, one_below)
            };
        }
        return;
    }
    let mut max = f64::NEG_INFINITY;
    for (o, &a) in out.iter_mut().zip(alpha) {
        *o = standard_gamma_ln(a, s);
        max = max.max(*o);
    }
    let sum: f64 = out.iter().map(|&l| (l - max).exp()).sum();
    let lse = max + sum.ln();
    for o in out.iter_mut() {
        let x = (*o - lse).exp();
        *o = if x.is_nan() {
            x
        } else {
            x.clamp(tiny, one_below)
        };
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
    // further derivatives.
    fn bwd(
        &self,
        alpha: &Tensor,
        rate: &Tensor,
        x: &Tensor,
        g: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        fn f(a: f64, r: f64, x: f64, g: f64) -> (f64, f64) {
            let gr = g / r;
            (
                gr * crate::special::gamma::standard_gamma_grad(a, x * r),
                -gr * x,
            )
        }
        fn f32(a: f64, r: f64, x: f64, g: f64) -> (f64, f64) {
            let gr = g / r;
            (
                gr * crate::special::gamma::standard_gamma_grad_f32(a, x * r),
                -gr * x,
            )
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

/// Reparameterized standard Gamma(α, 1) draws of the shape of `alpha`.
pub(crate) fn standard_gamma_rsample(alpha: &Tensor, draw: Draw) -> crate::Result<Tensor> {
    let one = Tensor::ones((), alpha.dtype(), alpha.device())?.broadcast_as(alpha.shape())?;
    gamma_rsample(alpha, &one, draw)
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
fn beta_grads(a: &[f64], b: &[f64], x: &[f64], f32: bool) -> (Vec<f64>, Vec<f64>) {
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
                    &x[r],
                    pa,
                    pb,
                );
            } else {
                crate::special::beta::beta_implicit_grad_slice(
                    &a[r.clone()],
                    &b[r.clone()],
                    &x[r],
                    pa,
                    pb,
                );
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
                let a0: f64 = a.iter().sum();
                for (ai, bi) in a.iter().zip(bb.iter_mut()) {
                    *bi = a0 - ai;
                }
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
