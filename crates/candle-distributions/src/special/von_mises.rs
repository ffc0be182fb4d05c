//! Scalar kernels of the standardized von Mises law (location 0, concentration κ ≥ 0,
//! angle θ ∈ [−π, π]): log density, CDF, its κ-derivative, the implicit
//! reparameterization gradient dθ/dκ of a sample, and Best & Fisher's sampler.
//!
//! With p(θ; κ) = e^{κ cos θ}/(2π I0(κ)) the CDF is
//! F(θ; κ) = ∫_{−π}^{θ} p(t; κ) dt, its κ-derivative
//! ∂F/∂κ = ∫_{−π}^{θ} (cos t − A(κ)) p(t; κ) dt with A = I1/I0, and a sample θ = F⁻¹(u; κ)
//! moves with κ as dθ/dκ = −(∂F/∂κ)/p(θ; κ) (implicit reparameterization, Figurnov,
//! Ibragimov & Mnih 2018).
//!
//! Everything is evaluated on θ ≤ 0 and reflected: F(θ) = 1 − F(−θ), ∂F/∂κ and dθ/dκ are
//! odd in θ. With w = sin(|θ|/2) and x = 2κw² = κ(1 − cos θ) (so p ∝ e^{−x}), three
//! methods share the (κ, θ) plane:
//!
//! * **Fourier series** (κ < 50, x < 10): F = (θ + π)/(2π) + (1/π) Σ_{n≥1} r_n sin(nθ)/n
//!   with r_n = I_n(κ)/I0(κ) (the method of Hill 1977, ACM Algorithm 518). The ratios
//!   ρ_n = I_n/I_{n−1} come from Miller's backward recurrence ρ_n = κ/(2n + κ ρ_{n+1})
//!   (the continued fraction for Bessel ratios, see Amos 1974 for the starting bound),
//!   started at N = 10 + ⌈√(80κ)⌉ where r_N < 1e-19; its κ-derivative
//!   ρ'_n = 2n/(2n + κρ_{n+1})² − ρ_n² ρ'_{n+1} is carried along. The sum is nested
//!   backwards like Horner's rule, Σ r_n z^n/n = ρ_1 z (1 + ρ_2 z (1/2 + ρ_3 z (…))) with
//!   z = e^{iθ}, so no ratio is stored and nothing is allocated; the imaginary part
//!   keeps its relative accuracy near θ = 0 and θ = ±π. ∂F/∂κ is the same sum
//!   differentiated (r_n' = (r_{n−1} + r_{n+1})/2 − r_n r_1, here through ρ').
//! * **Large-κ expansion** (κ ≥ 50, x < 10): with v = sin(t/2),
//!   F(θ) = (π i0e(κ))⁻¹ ∫_w^1 e^{−2κv²}(1 − v²)^{−1/2} dv, and expanding
//!   (1 − v²)^{−1/2} = Σ_k c_k v^{2k}, c_k = (2k choose k)/4^k, term by term gives
//!   F = (2π i0e √(2κ))⁻¹ Σ_k c_k Γ(k+½, x)/(2κ)^k (the upper incomplete gammas by the
//!   upward recurrence from √π erfc(√x), all terms positive), an expansion in 1/κ whose
//!   error is below e^{−2κ}. Near the centre (cos θ > A) the complementary form
//!   F = ½ − (π i0e)⁻¹ Σ_k c_k ∫_0^w v^{2k} e^{−2κv²} dv is used instead, so that the
//!   integrand of ∂F/∂κ, (1 − A − 2v²), keeps one sign in each form.
//! * **Tail quadrature** (x ≥ 10, i.e. beyond about the 1e-5 quantile; needs κ ≥ 5):
//!   L = F/p and M = (∂F/∂κ)/p are integrals whose integrands are at most 1, so nothing
//!   underflows even where p does. With s = κ(cos θ − cos t) ∈ [0, S], S = 2κ cos²(θ/2),
//!   L = S^{−1/2} ∫_0^S e^{−s} ((x + s)(1 − s/S))^{−1/2} ds, M the same with the factor
//!   (1 − A) − (x + s)/κ = cos t − A, which is negative throughout (no cancellation).
//!   For S ≥ 60 this is integrated over s ∈ [0, 50] (the rest is below e^{−50}); for
//!   S < 60 (θ near −π), u = cos(t/2)/cos(θ/2) removes the endpoint singularity:
//!   L = 2cos(θ/2) ∫_0^1 e^{−S(1−u²)} (1 − cos²(θ/2) u²)^{−1/2} du. Both use composite
//!   10-point Gauss–Legendre rules on panels graded towards the peak (nodes computed
//!   once by Newton's method on the Legendre polynomial).
//!
//! Accuracy (against mpmath at 40 digits, tests/suite/special_von_mises.rs: 355 cases with
//! κ ∈ [1e-3, 1e5] at the quantiles 1e-6 … 1 − 1e-6, fixed angles and scattered angles
//! out to 8σ): F ≤ 2e-16 absolute everywhere; relative to F (lower half, F ≥ 1e-6)
//! ≤ 4e-12, the worst in the Fourier region's tails (κ ≈ 5–50), ~1e-15 in the other
//! two regions. ∂F/∂κ and dθ/dκ ≤ 1e-13 relative (~1e-15 typically). A one-off run of
//! 400 more cases with κ ∈ [1e-2, 2e3] out to 14σ gave ≤ 7e-13 for both and 2e-11 for
//! F relative. Cost ~100–250 ns per call (Fourier: 10 + ⌈√(80κ)⌉ steps; the other two
//! methods ≤ 80 cheap steps).

use super::bessel::{i0e, i0e_ratio_complement};
use crate::rng::ElementStream;
use std::f64::consts::PI;
use std::sync::OnceLock;

/// π − fl(π): (θ + PI) + PI_LO is θ + π to about 1e-32 absolute.
const PI_LO: f64 = 1.224_646_799_147_353_2e-16;
/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;
/// √π.
const SQRT_PI: f64 = 1.772_453_850_905_516;
/// Tail quadrature where x = κ(1 − cos θ) is at least this.
const TAIL_X: f64 = 10.0;
/// Beyond this κ the normal limit F = Φ(2 sin(θ/2)√κ) is exact to rounding.
const NORMAL_KAPPA: f64 = 1e17;
/// Large-κ expansion (instead of the Fourier series) from this κ on.
const LARGE_KAPPA: f64 = 50.0;

/// ln p(θ; κ) = κ cos θ − ln(2π I0(κ)), evaluated as −2κ sin²(θ/2) − ln(2π i0e(κ)) so
/// that neither term overflows for large κ and the tails keep their relative
/// accuracy. The formula is 2π-periodic in θ (the support check is the caller's).
pub fn von_mises_log_prob(theta: f64, kappa: f64) -> f64 {
    let s = (0.5 * theta).sin();
    -2.0 * kappa * s * s - (LN_2PI + i0e(kappa).ln())
}

/// The von Mises CDF F(θ; κ) = ∫_{−π}^{θ} e^{κ cos t}/(2π I0(κ)) dt for θ ∈ [−π, π]
/// (0 below, 1 above), κ ≥ 0 (κ = 0 is the uniform law, κ = ∞ a step at 0).
///
/// Absolute error ≤ 2e-16 for κ ∈ [1e-3, 1e5] (tests check 1e-12); relative error
/// ≤ ~4e-12 where F ≥ 1e-6 (and ~1e-15 relative for all F in the lower tail when
/// x = κ(1 − cos θ) ≥ 10 or κ ≥ 50). F near 1 is 1 − F(−θ), so the upper tail has
/// absolute accuracy only. See the module documentation for the three methods.
pub fn von_mises_cdf(theta: f64, kappa: f64) -> f64 {
    eval::<false>(theta, kappa).0
}

/// ∂F/∂κ of [`von_mises_cdf`] at fixed θ: ∫_{−π}^{θ} (cos t − A(κ)) p(t; κ) dt.
/// Negative for θ ∈ (−π, 0), odd in θ, 0 at θ ∈ {−π, 0, π}. Relative error ≤ 1e-13
/// on the test set (≤ 1e-10 is asserted), including the far tails.
pub fn von_mises_cdf_dkappa(theta: f64, kappa: f64) -> f64 {
    eval::<true>(theta, kappa).1
}

/// The implicit reparameterization gradient dθ/dκ = −(∂F/∂κ)/p(θ; κ) of a von Mises
/// sample θ (the change of θ = F⁻¹(u; κ) with κ at fixed u). Odd in θ, 0 at 0 and ±π.
///
/// The ratio never underflows: in the tails (x = κ(1 − cos θ) ≥ 10) it is computed
/// directly as the quadrature M = (∂F/∂κ)/p, elsewhere 1/p = 2π i0e(κ) e^{x}, x < 10.
/// Relative error ≤ 2e-14 for κ ∈ [1e-2, 1e3] at the quantiles 1e-6 … 1 − 1e-6 and
/// ≤ 1e-13 on scattered cases out to 14σ and κ = 1e5; finite beyond (κ = 1e7 tested).
pub fn von_mises_implicit_grad(theta: f64, kappa: f64) -> f64 {
    eval::<true>(theta, kappa).2
}

/// (F, ∂F/∂κ, dθ/dκ) in one evaluation; see [`von_mises_cdf`],
/// [`von_mises_cdf_dkappa`] and [`von_mises_implicit_grad`].
pub fn von_mises_cdf_parts(theta: f64, kappa: f64) -> (f64, f64, f64) {
    eval::<true>(theta, kappa)
}

/// Dispatch: special values, then the lower half and the reflection. `D` selects
/// whether the κ-derivative and the gradient are computed (else they are 0).
#[inline]
fn eval<const D: bool>(theta: f64, kappa: f64) -> (f64, f64, f64) {
    if theta.is_nan() || kappa.is_nan() || kappa < 0.0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    if theta < -PI {
        return (0.0, 0.0, 0.0);
    }
    if theta > PI {
        return (1.0, 0.0, 0.0);
    }
    if kappa.is_infinite() {
        let f = if theta < 0.0 {
            0.0
        } else if theta > 0.0 {
            1.0
        } else {
            0.5
        };
        return (f, 0.0, 0.0);
    }
    if kappa > NORMAL_KAPPA {
        // The normal limit: with s = 2 sin(θ/2), κ(1 − cos θ) = κs²/2 exactly, and
        // F = Φ(s√κ) up to O(1/κ) < 1e-17. The exact path needs I0(κ)·e^{−κ}, whose
        // asymptotic form √(2πκ) overflows for κ near f64::MAX.
        let (sh, ch) = (0.5 * theta).sin_cos();
        let (s, rk) = (2.0 * sh, kappa.sqrt());
        let z = s * rk;
        let f = crate::special::scalar::ndtr(z);
        if !D {
            return (f, 0.0, 0.0);
        }
        let dens = crate::special::scalar::normal_log_pdf(z).exp();
        // ∂F/∂κ = φ(z)·s/(2√κ); ∂F/∂θ = φ(z)·√κ·cos(θ/2); dθ/dκ = −ratio.
        return (f, dens * s / (2.0 * rk), -s / (2.0 * kappa * ch));
    }
    if theta <= 0.0 {
        lower::<D>(theta, kappa)
    } else {
        let (f, d, g) = lower::<D>(-theta, kappa);
        (1.0 - f, -d, -g)
    }
}

/// (F, ∂F/∂κ, dθ/dκ) for θ ∈ [−π, 0], κ ∈ [0, ∞).
#[inline]
fn lower<const D: bool>(theta: f64, kappa: f64) -> (f64, f64, f64) {
    let w = (-0.5 * theta).sin();
    let x = 2.0 * kappa * w * w;
    if x >= TAIL_X {
        let (ie, _, oma) = i0e_ratio_complement(kappa);
        let (l, m) = tail_quadrature::<D>(theta, w, x, kappa, oma);
        let p = (-x).exp() / (2.0 * PI * ie);
        return (p * l, p * m, -m);
    }
    let (f, df, ie) = if kappa >= LARGE_KAPPA {
        let (ie, _, oma) = i0e_ratio_complement(kappa);
        let (f, df) = large_kappa::<D>(w, x, kappa, ie, oma);
        (f, df, ie)
    } else {
        let (f, df) = fourier::<D>(theta, kappa);
        (f, df, if D { i0e(kappa) } else { 1.0 })
    };
    if D {
        // −(∂F/∂κ)/p with 1/p = 2π i0e(κ) e^{x}, x < 10.
        (f, df, -df * (2.0 * PI * ie) * x.exp())
    } else {
        (f, 0.0, 0.0)
    }
}

/// F and ∂F/∂κ by the Fourier series with Miller's backward recurrence (see the module
/// documentation), θ ∈ [−π, 0], κ < 50.
#[inline]
fn fourier<const D: bool>(theta: f64, kappa: f64) -> (f64, f64) {
    let n_max = 10 + (80.0 * kappa).sqrt().ceil() as usize;
    let (s1, c1) = theta.sin_cos();
    // ρ_{N+1} from the lower bound x/(ν + 1 + √((ν+1)² + x²)) of I_{ν+1}/I_ν (Amos 1974);
    // its error is damped by ρ_n² < 1 at every step down.
    let nf = (n_max + 1) as f64;
    let mut rho = kappa / (nf + (nf * nf + kappa * kappa).sqrt());
    let mut drho = 0.0;
    // S_{n} = 1/n + ρ_{n+1} z S_{n+1} (complex), and its κ-derivative.
    let (mut sr, mut si, mut dr, mut di) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for n in (1..=n_max).rev() {
        let nf = n as f64;
        let zr = c1 * sr - s1 * si;
        let zi = s1 * sr + c1 * si;
        if D {
            let zdr = c1 * dr - s1 * di;
            let zdi = s1 * dr + c1 * di;
            dr = drho * zr + rho * zdr;
            di = drho * zi + rho * zdi;
        }
        sr = 1.0 / nf + rho * zr;
        si = rho * zi;
        let inv = 1.0 / (2.0 * nf + kappa * rho);
        let rho_n = kappa * inv;
        if D {
            drho = 2.0 * nf * inv * inv - rho_n * rho_n * drho;
        }
        rho = rho_n;
    }
    // Σ r_n sin(nθ)/n = Im(ρ_1 z S_1).
    let im_zs = s1 * sr + c1 * si;
    let phi = (theta + PI) + PI_LO;
    let f = phi / (2.0 * PI) + rho * im_zs / PI;
    let df = if D {
        (drho * im_zs + rho * (s1 * dr + c1 * di)) / PI
    } else {
        0.0
    };
    (f, df)
}

/// F and ∂F/∂κ by the large-κ expansion in v = sin(t/2) (module documentation), for
/// θ ≤ 0 with w = sin(|θ|/2), x = 2κw² < 10, κ ≥ 50; `ie` = i0e(κ), `oma` = 1 − A(κ).
#[inline]
fn large_kappa<const D: bool>(w: f64, x: f64, kappa: f64, ie: f64, oma: f64) -> (f64, f64) {
    let a = 2.0 * kappa;
    if x >= kappa * oma {
        // Tail form: ∫_w^∞ v^{2k} e^{−av²} dv = Γ(k+½, x)/(2a^{k+½}), U_k = Γ(k+½, x),
        // U_{k+1} = (k+½)U_k + x^{k+½}e^{−x}; ∂/∂κ of (π i0e)⁻¹∫_w^1 … is
        // (π i0e)⁻¹ ∫_w^1 (1 − A − 2v²) e^{−av²}(1 − v²)^{−1/2} dv.
        let pref = 1.0 / (2.0 * PI * ie * a.sqrt());
        let sx = x.sqrt();
        let mut u = SQRT_PI * libm::erfc(sx);
        let mut e = sx * (-x).exp();
        let mut c = 1.0; // c_k / a^k
        let (mut sf, mut sd) = (0.0, 0.0);
        for k in 0..80 {
            let kf = k as f64;
            let u_next = (kf + 0.5) * u + e;
            let tf = c * u;
            sf += tf;
            let mut td = 0.0;
            if D {
                td = c * (oma * u - u_next / kappa);
                sd += td;
            }
            if tf <= 1e-17 * sf && td.abs() <= 1e-17 * sd.abs() {
                break;
            }
            e *= x;
            u = u_next;
            c *= (2.0 * kf + 1.0) / ((2.0 * kf + 2.0) * a);
        }
        (pref * sf, pref * sd)
    } else {
        // Centre form: F = ½ − C, C = (w/(π i0e)) Σ_k c_k w^{2k} E_k with
        // E_k = Σ_j (−x)^j/(j!(2k+2j+1)) (x < 1, so the alternation costs nothing), and
        // ∂C/∂κ = (w/(π i0e)) Σ_k c_k w^{2k} ((1 − A)E_k − 2w² E_{k+1}).
        let mut pw = [0.0f64; 24];
        let mut t = 1.0;
        let mut jn = 0;
        for (j, slot) in pw.iter_mut().enumerate() {
            *slot = t;
            jn = j + 1;
            t *= -x / (j + 1) as f64;
            if t.abs() < 1e-18 {
                break;
            }
        }
        let e_k = |k: usize| -> f64 {
            let mut s = 0.0;
            for (j, &pj) in pw[..jn].iter().enumerate().rev() {
                s += pj / (2 * (k + j) + 1) as f64;
            }
            s
        };
        let w2 = w * w;
        let mut ck = 1.0; // c_k w^{2k}
        let mut ek = e_k(0);
        let (mut sc, mut sd) = (0.0, 0.0);
        for k in 0..40 {
            let ek1 = e_k(k + 1);
            let tc = ck * ek;
            sc += tc;
            if D {
                sd += ck * (oma * ek - 2.0 * w2 * ek1);
            }
            if tc <= 1e-17 * sc {
                break;
            }
            ck *= w2 * (2 * k + 1) as f64 / (2 * k + 2) as f64;
            ek = ek1;
        }
        let pref = w / (PI * ie);
        (0.5 - pref * sc, -pref * sd)
    }
}

/// Composite Gauss–Legendre nodes of the tail quadrature.
struct TailRules {
    /// (s, weight · e^{−s}) on the panels of [0, 50] in s.
    s: Vec<(f64, f64)>,
    /// (y = 1 − u, weight) on panels of [0, 1] graded towards y = 0.
    y: Vec<(f64, f64)>,
}

/// 10-point Gauss–Legendre nodes and weights on [−1, 1]: Newton's method on P_10 from
/// the estimates cos(π(i − ¼)/(n + ½)), with P_n and P_n' by the three-term recurrence;
/// weights 2/((1 − x²) P_n'(x)²).
fn gauss_legendre_10() -> [(f64, f64); 10] {
    const N: usize = 10;
    let mut out = [(0.0, 0.0); N];
    for (i, slot) in out.iter_mut().enumerate() {
        let mut x = (PI * (i as f64 + 0.75) / (N as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=N {
                let kf = k as f64;
                let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
                p0 = p1;
                p1 = p2;
            }
            dp = N as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        *slot = (x, 2.0 / ((1.0 - x * x) * dp * dp));
    }
    out
}

fn tail_rules() -> &'static TailRules {
    static R: OnceLock<TailRules> = OnceLock::new();
    R.get_or_init(|| {
        let gl = gauss_legendre_10();
        let panels = |edges: &[f64]| -> Vec<(f64, f64)> {
            let mut v = Vec::new();
            for e in edges.windows(2) {
                let (mid, half) = (0.5 * (e[0] + e[1]), 0.5 * (e[1] - e[0]));
                for &(t, wt) in &gl {
                    v.push((mid + half * t, half * wt));
                }
            }
            v
        };
        let s = panels(&[0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 50.0])
            .into_iter()
            .map(|(s, wt)| (s, wt * (-s).exp()))
            .collect();
        let y = panels(&[
            0.0,
            1.0 / 128.0,
            1.0 / 64.0,
            1.0 / 32.0,
            1.0 / 16.0,
            1.0 / 8.0,
            0.25,
            0.5,
            1.0,
        ]);
        TailRules { s, y }
    })
}

/// L = F/p and M = (∂F/∂κ)/p for θ ∈ [−π, 0] with x = κ(1 − cos θ) ≥ 10 (module
/// documentation). `oma` = 1 − A(κ).
fn tail_quadrature<const D: bool>(theta: f64, w: f64, x: f64, kappa: f64, oma: f64) -> (f64, f64) {
    let v0 = (0.5 * theta).cos();
    let v02 = v0 * v0;
    let s_top = 2.0 * kappa * v02;
    let rules = tail_rules();
    let (mut l, mut m) = (0.0, 0.0);
    if s_top >= 60.0 {
        let inv_s = 1.0 / s_top;
        for &(s, we) in &rules.s {
            let g = we / ((x + s) * (1.0 - s * inv_s)).sqrt();
            l += g;
            if D {
                m += g * (oma - (x + s) / kappa);
            }
        }
        let r = 1.0 / s_top.sqrt();
        (l * r, m * r)
    } else {
        // cos t − A = (cos θ − A) − 2cos²(θ/2)(1 − u²), cos θ − A = (1 − A) − 2w².
        let cma = oma - 2.0 * w * w;
        let w2 = w * w;
        for &(y, wt) in &rules.y {
            let omu2 = y * (2.0 - y);
            let g = wt * (-s_top * omu2).exp() / (w2 + v02 * omu2).sqrt();
            l += g;
            if D {
                m += g * (cma - 2.0 * v02 * omu2);
            }
        }
        (2.0 * v0 * l, 2.0 * v0 * m)
    }
}

/// From this concentration on, [`VonMisesSampler`] draws from the limiting normal
/// N(0, 1/κ) (the von Mises law's total-variation distance to it is O(1/κ)).
pub const NORMAL_LIMIT_KAPPA: f64 = 1e16;

/// Best & Fisher's sampler for the standard von Mises law with a fixed κ ("Efficient
/// simulation of the von Mises distribution", Appl. Statist. 28, 1979): a wrapped
/// Cauchy proposal with ρ = (τ − √(2τ))/(2κ), τ = 1 + √(1 + 4κ²), r = (1 + ρ²)/(2ρ),
/// f = (1 + rz)/(r + z) for z = cos(πU₁), c = κ(r − f), accepted when
/// c(2 − c) > U₂ or ln(c/U₂) + 1 − c ≥ 0, θ = ±acos f.
///
/// Written to keep full precision at both ends of κ:
/// * ρ = 2κ√τ/((√(1+4κ²) + 1)(√τ + √2)) (no cancellation for small κ, where ρ ≈ κ/2),
///   and 1 − ρ = (√(2τ) − 1 − 1/(√(1+4κ²) + 2κ))/(2κ) for κ > 1 (ρ → 1 for large κ);
/// * δ = r − 1 = (1 − ρ)²/(2ρ), 1 − f = 2δ sin²(πU/2)/(δ + 2cos²(πU/2)),
///   c = κ(δ + (1 − f)): no difference of nearly equal numbers for any κ;
/// * θ = 2 atan2(γ sin(πU/2), cos(πU/2)) with γ = (1 − ρ)/(1 + ρ), which is acos f
///   (tan(θ/2) = √((1 − f)/(1 + f))) without acos's loss near f = ±1.
///
/// A single uniform U₁ ∈ (0, 1) gives both |z| and the sign: v = 2U₁ − 1, z = cos(πv),
/// θ has the sign of v. Each try takes two uniforms (one Philox block) from the
/// element's stream. For κ < 1e-100 the law is uniform to within f64 rounding and
/// θ = πv is returned. Acceptance probability per try (E[c e^{1−c}], printed by the
/// tests): 1.00 at κ = 0.01, 0.95 at 0.5, 0.87 at 1, 0.70 at 4, 0.675 at 10, falling
/// to ≈ 0.658 for κ ≥ 100 (so ~1.5 tries, 3 uniforms, per draw at most).
///
/// Termination, for every κ: NaN or negative κ gives NaN and κ = +∞ gives 0 (the point
/// mass at the mean) without a try. For κ ≥ [`NORMAL_LIMIT_KAPPA`] the draw is the
/// limiting normal θ = z/√κ (z standard normal from the same stream): √κ θ → N(0, 1)
/// with a total-variation error O(1/κ) < 1e-16, below what any sample can see, and it
/// avoids the envelope's √(1 + 4κ²), which overflows for κ > 9e307 and turned every
/// try into a rejection. In between, each try is accepted with probability ≥ 0.65;
/// after `samplers::MAX_TRIES` rejections (probability < 1e-450) the last
/// proposal is returned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VonMisesSampler {
    kappa: f64,
    delta: f64,
    gamma: f64,
}

impl VonMisesSampler {
    /// Precomputes the envelope for concentration `kappa` (≥ 0; NaN or negative gives
    /// NaN samples, +∞ gives 0).
    pub fn new(kappa: f64) -> Self {
        if kappa.is_nan() || !(1e-100..NORMAL_LIMIT_KAPPA).contains(&kappa) {
            return VonMisesSampler {
                kappa,
                delta: f64::NAN,
                gamma: f64::NAN,
            };
        }
        let t = 1f64.hypot(2.0 * kappa); // √(1 + 4κ²)
        let tau = 1.0 + t;
        let sq_tau = tau.sqrt();
        let rho = (2.0 * kappa / (t + 1.0)) * (sq_tau / (sq_tau + std::f64::consts::SQRT_2));
        let omr = if kappa > 1.0 {
            ((2.0 * tau).sqrt() - 1.0 - 1.0 / (t + 2.0 * kappa)) / (2.0 * kappa)
        } else {
            1.0 - rho
        };
        VonMisesSampler {
            kappa,
            delta: omr * omr / (2.0 * rho),
            gamma: omr / (1.0 + rho),
        }
    }

    /// One draw θ ∈ (−π, π) from von Mises(0, κ), every try from `s`.
    #[inline]
    pub fn sample(&self, s: &mut ElementStream) -> f64 {
        let kappa = self.kappa;
        if kappa.is_nan() || kappa < 0.0 {
            return f64::NAN;
        }
        if kappa < 1e-100 {
            return PI * (2.0 * s.uniform_f64() - 1.0);
        }
        if kappa.is_infinite() {
            return 0.0;
        }
        if kappa >= NORMAL_LIMIT_KAPPA {
            return s.normal_f64() / kappa.sqrt();
        }
        let delta = self.delta;
        let angle = |v: f64, sn: f64, cs: f64| {
            let th = 2.0 * (self.gamma * sn).atan2(cs);
            if v < 0.0 {
                -th
            } else {
                th
            }
        };
        let mut last = (0.0, 0.0, 1.0);
        for _ in 0..crate::samplers::MAX_TRIES {
            let v = 2.0 * s.uniform_f64() - 1.0;
            let u2 = s.uniform_f64();
            let (sn, cs) = (0.5 * PI * v.abs()).sin_cos();
            let one_minus_f = 2.0 * delta * sn * sn / (delta + 2.0 * cs * cs);
            let c = kappa * (delta + one_minus_f);
            if c * (2.0 - c) > u2 || (c / u2).ln() + 1.0 - c >= 0.0 {
                return angle(v, sn, cs);
            }
            last = (v, sn, cs);
        }
        angle(last.0, last.1, last.2)
    }
}

/// One draw θ ∈ (−π, π] of the standard von Mises(0, κ) law by Best & Fisher's
/// rejection method, all randomness from the element's own stream `s` (so the result
/// does not depend on the number of threads). See [`VonMisesSampler`], which hoists
/// the per-κ constants out of a loop over elements sharing κ.
pub fn sample_standard_von_mises(kappa: f64, s: &mut ElementStream) -> f64 {
    VonMisesSampler::new(kappa).sample(s)
}
