//! Scalar f64 kernels of the special functions (the f32 versions evaluate these and
//! round). Each cites the method it follows.

use std::f64::consts::{FRAC_2_SQRT_PI, LN_2, PI, SQRT_2};

const SQRT_PI: f64 = 1.772_453_850_905_516;

/// ln(2π)/2.
pub const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
/// Euler–Mascheroni constant γ.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// ln(1 + x), accurate near 0.
#[inline]
pub fn log1p(x: f64) -> f64 {
    x.ln_1p()
}

/// e^x − 1, accurate near 0.
#[inline]
pub fn expm1(x: f64) -> f64 {
    x.exp_m1()
}

/// erf(x) (musl's algorithm through the `libm` crate; relative error below 1 ulp).
#[inline]
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// erfc(x) = 1 − erf(x) without cancellation (accurate down to about 1e-308).
#[inline]
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// ln(1 + e^x) without overflow: `max(x, 0) + log1p(e^{-|x|})`.
#[inline]
pub fn softplus(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The logistic sigmoid 1/(1+e^{-x}), without overflow.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// x·ln(y) with the convention 0·ln(y) = 0 (for any y that is not NaN), as in
/// `torch.xlogy`.
#[inline]
pub fn xlogy(x: f64, y: f64) -> f64 {
    if y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    x * y.ln()
}

/// Giles' single-precision approximation of erfinv ("Approximating the erfinv
/// function", GPU Computing Gems Jade Edition, 2011), written in terms of
/// `w = -ln((1-y)(1+y))` so the caller can supply `w` without cancellation. It is
/// only the starting point of the Newton refinement below.
fn giles_erfinv_from_w(y: f64, w: f64) -> f64 {
    let p = if w < 5.0 {
        let w = w - 2.5;
        let mut p = 2.810_226_36e-08;
        for c in [
            3.432_739_39e-07,
            -3.523_387_7e-06,
            -4.391_506_54e-06,
            0.000_218_580_87,
            -0.001_253_725_03,
            -0.004_177_681_64,
            0.246_640_727,
            1.501_409_41,
        ] {
            p = c + p * w;
        }
        p
    } else {
        let w = w.sqrt() - 3.0;
        let mut p = -0.000_200_214_257;
        for c in [
            0.000_100_950_558,
            0.001_349_343_22,
            -0.003_673_428_44,
            0.005_739_507_73,
            -0.007_622_461_3,
            0.009_438_870_47,
            1.001_674_06,
            2.832_976_82,
        ] {
            p = c + p * w;
        }
        p
    };
    p * y
}

/// erfcinv(c): the x with erfc(x) = c, for c in [0, 2]. Solved by Newton's method on
/// ln erfc(x) = ln c (well conditioned in the far tail, where erfc varies like
/// e^{-x²}), from Giles' approximation; converges to full f64 accuracy in 2–4 steps.
pub fn erfcinv(c: f64) -> f64 {
    if c.is_nan() || !(0.0..=2.0).contains(&c) {
        return f64::NAN;
    }
    if c == 0.0 {
        return f64::INFINITY;
    }
    if c == 2.0 {
        return f64::NEG_INFINITY;
    }
    if c > 1.0 {
        return -erfcinv(2.0 - c);
    }
    if c == 1.0 {
        return 0.0;
    }
    // y = 1 - c in (0, 1); (1-y)(1+y) = c(2-c) computed without cancellation.
    let w = -(c * (2.0 - c)).ln();
    let mut x = if w < 16.0 {
        giles_erfinv_from_w(1.0 - c, w)
    } else {
        // Beyond f32's range Giles' polynomial diverges; start from the asymptotic
        // erfc(x) ≈ e^{-x²}/(x√π), i.e. x ≈ √(−ln(c √π x)), iterated twice.
        let mut x = (-c.ln()).sqrt();
        for _ in 0..2 {
            x = (-(c * SQRT_PI * x).ln()).sqrt();
        }
        x
    };
    if c > 0.5 {
        // Near the centre, Newton on erf itself (ln erfc is flat there).
        let y = 1.0 - c;
        for _ in 0..4 {
            let r = erf(x) - y;
            let dx = r / (FRAC_2_SQRT_PI * (-x * x).exp());
            x -= dx;
            if dx.abs() <= 1e-17 * x.abs() {
                break;
            }
        }
        return x;
    }
    let lc = c.ln();
    for _ in 0..8 {
        let e = erfc(x);
        if e == 0.0 {
            break;
        }
        // d/dx ln erfc(x) = -(2/√π) e^{-x²} / erfc(x)
        let d = -FRAC_2_SQRT_PI * (-x * x).exp() / e;
        let dx = (e.ln() - lc) / d;
        x -= dx;
        if dx.abs() <= 2e-16 * x.abs() {
            break;
        }
    }
    x
}

/// erfinv(y) for y in [-1, 1]: Newton on erf near 0, erfcinv(1 − |y|) elsewhere (exact
/// subtraction for |y| ≥ 1/2).
pub fn erfinv(y: f64) -> f64 {
    if y.is_nan() || !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y.abs() >= 0.5 {
        return y.signum() * erfcinv(1.0 - y.abs());
    }
    if y == 0.0 {
        return y;
    }
    let w = -((1.0 - y) * (1.0 + y)).ln();
    let mut x = giles_erfinv_from_w(y, w);
    for _ in 0..4 {
        let r = erf(x) - y;
        let dx = r / (FRAC_2_SQRT_PI * (-x * x).exp());
        x -= dx;
        if dx.abs() <= 1e-17 * x.abs() {
            break;
        }
    }
    x
}

/// Standard normal CDF Φ(z) = erfc(−z/√2)/2 (no cancellation in the lower tail).
#[inline]
pub fn ndtr(z: f64) -> f64 {
    0.5 * erfc(-z / SQRT_2)
}

/// Standard normal quantile Φ⁻¹(q) = −√2 · erfcinv(2q), with 2(1 − q) for q > 1/2 so
/// that both tails keep full relative accuracy.
pub fn ndtri(q: f64) -> f64 {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    if q <= 0.5 {
        -SQRT_2 * erfcinv(2.0 * q)
    } else {
        SQRT_2 * erfcinv(2.0 * (1.0 - q))
    }
}

/// Standard normal log density.
#[inline]
pub fn normal_log_pdf(z: f64) -> f64 {
    -0.5 * z * z - HALF_LN_2PI
}

/// tan(x) (std), exposed for the Cauchy quantile.
#[inline]
pub fn tan(x: f64) -> f64 {
    x.tan()
}

/// atan(x) (std), exposed for the Cauchy CDF.
#[inline]
pub fn atan(x: f64) -> f64 {
    x.atan()
}

/// tan(π (q − 1/2)) for q in (0, 1), the standard Cauchy quantile, evaluated as
/// −1/tan(π q) near 0 and 1/tan(π (1 − q)) near 1 so that tiny tail probabilities keep
/// their relative accuracy (π·q is exact to rounding, while q − 1/2 is not).
pub fn cauchy_icdf(q: f64) -> f64 {
    if q < 0.25 {
        -1.0 / (PI * q).tan()
    } else if q > 0.75 {
        1.0 / (PI * (1.0 - q)).tan()
    } else {
        (PI * (q - 0.5)).tan()
    }
}

/// The standard Cauchy CDF 1/2 + atan(z)/π, written as atan(−1/z)/π … for z < −1 so
/// the lower tail keeps its relative accuracy.
pub fn cauchy_cdf(z: f64) -> f64 {
    if z < -1.0 {
        (-1.0 / z).atan() / PI
    } else if z > 1.0 {
        1.0 - (1.0 / z).atan() / PI
    } else {
        0.5 + z.atan() / PI
    }
}

/// a + b as an unevaluated sum (hi, lo) with hi = fl(a + b), exactly (Knuth's TwoSum).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// a · b as (hi, lo) with hi = fl(a · b), exactly (through a fused multiply-add).
#[inline]
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// Double-double sum of (a.0 + a.1) and (b.0 + b.1), renormalised.
#[inline]
fn dd_add(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (s, e) = two_sum(a.0, b.0);
    let e = e + a.1 + b.1;
    two_sum(s, e)
}

/// Double-double product (the a.1·b.1 term is below the precision kept).
#[inline]
fn dd_mul(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (p, e) = two_prod(a.0, b.0);
    two_sum(p, e + a.0 * b.1 + a.1 * b.0)
}

/// Double-double quotient by a small integer d (exact in f64).
#[inline]
fn dd_div(a: (f64, f64), d: f64) -> (f64, f64) {
    let q = a.0 / d;
    let r = (-q).mul_add(d, a.0) + a.1;
    two_sum(q, r / d)
}

/// ln(x) − c with a small error relative to the *result*, even where the two cancel
/// (x ≈ e^c, as in the standardisation (ln x − loc)/scale of a log-normal with a large
/// loc and a small scale). Rounding ln x to f64 first would leave an absolute error of
/// ε·|ln x| in the difference; here ln x is carried in double-double arithmetic:
/// x = m·2^k with m in [1/√2, √2), ln m = 2 atanh(s) with s = (m − 1)/(m + 1), the
/// leading terms of the series in double-double and its tail (≤ 1.2e-6) in f64. The
/// absolute error is below ~2e-22 + 1e-32·|ln x| (measured against mpmath: 4e-22 at
/// worst over 4000 points), about 70 bits of ln x.
/// Zero, negative, NaN and infinite arguments fall back to `ln(x) − c`.
pub fn ln_minus(x: f64, c: f64) -> f64 {
    if !(x > 0.0 && x.is_finite() && c.is_finite()) {
        return x.ln() - c;
    }
    // Exact decomposition x = m·2^k (subnormals scaled up first).
    let (x, k_bias) = if x < f64::MIN_POSITIVE {
        (x * 2f64.powi(64), -64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let mut k = ((bits >> 52) & 0x7ff) as i64 - 1023 + k_bias;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
    if m > SQRT_2 {
        m *= 0.5;
        k += 1;
    }
    // s = f/(2 + f) with f = m − 1 (exact), as a double-double (s_hi, s_lo).
    let f = m - 1.0;
    let (d_hi, d_lo) = two_sum(2.0, f);
    let s_hi = f / d_hi;
    let r = (-s_hi).mul_add(d_hi, f) - s_hi * d_lo;
    let s_lo = r / d_hi;
    // w = s², then s·w and s·w², double-double.
    let s_dd = (s_hi, s_lo);
    let w = dd_mul(s_dd, s_dd);
    let p1 = dd_mul(s_dd, w);
    let p2 = dd_mul(p1, w);
    // ln m = 2s + 2s·w/3 + 2s·w²/5 + 2s·w³·(1/7 + w/9 + ...), |w| ≤ 0.0295: the first
    // three terms in double-double, the tail (≤ 1.2e-6) in f64.
    let mut r = 0.0;
    for j in (0..12).rev() {
        r = 1.0 / (2 * j + 7) as f64 + w.0 * r;
    }
    let tail = 2.0 * p2.0 * w.0 * r;
    let t1 = dd_div(p1, 3.0);
    let t2 = dd_div(p2, 5.0);
    // k·ln 2 − c, then + ln m, all in double-double.
    const LN2_HI: f64 = LN_2;
    const LN2_LO: f64 = 2.319_046_813_846_299_6e-17;
    let kf = k as f64;
    let (a_hi, a_lo) = two_prod(kf, LN2_HI);
    let (h, e) = two_sum(a_hi, -c);
    let mut acc = two_sum(h, e + a_lo + kf * LN2_LO);
    acc = dd_add(acc, (2.0 * s_hi, 2.0 * s_lo));
    acc = dd_add(acc, (2.0 * t1.0, 2.0 * t1.1));
    acc = dd_add(acc, (2.0 * t2.0, 2.0 * t2.1));
    acc = dd_add(acc, (tail, 0.0));
    acc.0 + acc.1
}

/// ln 2.
pub const LN2: f64 = LN_2;

/// ln(x) to about 1e-12 relative for the f32 kernels, branch-free so that loops over
/// it vectorize. x = m·2^e with m in [√½, √2), ln m = 2 atanh(s), s = (m−1)/(m+1),
/// |s| < 0.172, summed to s¹³ (the next term is below 5e-13). Exact special values:
/// ln 0 = −∞, ln(x < 0) = NaN, ln ∞ = ∞. Inputs must be f64 normals or 0 (every f32
/// value converted to f64 is).
#[inline(always)]
pub fn ln_for_f32(x: f64) -> f64 {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // Selects rather than branches: m > √2 is a coin flip, and selects vectorize.
    let big = m > SQRT_2;
    let m = m * if big { 0.5 } else { 1.0 };
    let e = e as f64 + if big { 1.0 } else { 0.0 };
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let p = 1.0
        + s2 * (1.0 / 3.0
            + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 / 13.0)))));
    let r = e * LN_2 + 2.0 * s * p;
    let r = if x == 0.0 { f64::NEG_INFINITY } else { r };
    let r = if x == f64::INFINITY { f64::INFINITY } else { r };
    // x >= 0 is false for negatives and NaN.
    if x >= 0.0 {
        r
    } else {
        f64::NAN
    }
}

/// ln Φ(z), accurate in both tails: ln(ndtr(z)) while Φ(z) is a normal number
/// (z ≥ −37), log1p(−Φ(−z)) for z > 0, and below −37 the asymptotic expansion
/// ln Φ(z) = −z²/2 − ln(−z) − ln√(2π) + ln(1 − 1/z² + 3/z⁴ − 15/z⁶ + …)
/// (Abramowitz & Stegun 26.2.12), whose terms at |z| ≥ 37 fall below 1e-17 by the
/// ninth.
pub fn log_ndtr(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z > 0.0 {
        return (-ndtr(-z)).ln_1p();
    }
    if z >= -37.0 {
        return ndtr(z).ln();
    }
    log_ndtr_rel(z, 0.0) - HALF_LN_2PI
}

/// ln Φ(t) + c²/2 + ln√(2π) for t ≤ c ≤ 0: ln Φ relative to the normal density at an
/// anchor c, finite where ln Φ(t) itself underflows or c²/2 overflows (t, c ≈ −1e200),
/// because below −37 the c²/2 is cancelled inside the asymptotic expansion of
/// [`log_ndtr`] as −(t − c)(t + c)/2 rather than after it.
pub fn log_ndtr_rel(t: f64, c: f64) -> f64 {
    if t >= -37.0 {
        return log_ndtr(t) + 0.5 * c * c + HALF_LN_2PI;
    }
    let r = 1.0 / (t * t);
    // Σ_{k=1..9} (−1)^k (2k − 1)!! r^k = −t₁ with t_k = (2k − 1) r (1 − t_{k+1}).
    let mut s = 0.0;
    for k in (1..=9).rev() {
        s = r * (2 * k - 1) as f64 * (1.0 - s);
    }
    -half_sq_diff(t, c) - (-t).ln() + (-s).ln_1p()
}

/// ln ∫_a^b e^{−(z² − c²)/2} dz for a window of width ≤ 1, c its [`window_anchor`], by
/// 32-point Gauss–Legendre quadrature (the integrand is smooth and at most 1). The
/// offsets z − c are formed from the half-width (z − b = h(t − 1) at c = b), never as
/// z − c from a rounded node z: far out (c = −1e5) the exponent is (z − c)(z + c)/2
/// and a rounding of z of 1e-11 would move it by 1e-6.
fn narrow_log_mass(a: f64, b: f64) -> f64 {
    let (nodes, weights) = gauss_legendre_32();
    let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
    let c = window_anchor(a, b);
    let s: f64 = nodes
        .iter()
        .zip(weights)
        .map(|(&t, &w)| {
            let u = if c == b && c != 0.0 {
                half * (t - 1.0)
            } else if c == a && c != 0.0 {
                half * (t + 1.0)
            } else {
                mid + half * t
            };
            w * (-(u * (0.5 * u + c))).exp()
        })
        .sum();
    half.ln() + s.ln()
}

/// Whether [a, b] is integrated by [`narrow_log_mass`]: narrow (the difference of Φ
/// would cancel) and with the density varying by at most e^{−20} across it (the
/// quadrature resolves that exactly; a window 0.3 wide at −1e7, where the density
/// falls by e^{−4e6}, underflowed at every node and gave ln 0).
fn quadrature_window(a: f64, b: f64) -> bool {
    let w = b - a;
    w <= 1.0 && w * window_anchor(a, b).abs() <= 20.0
}

/// (t² − c²)/2 for t, c of one sign, as (t − c)·(t/2 + c/2): neither t² nor t + c is
/// formed, so nothing overflows to ∞ − ∞ or 0·∞ (t = c = −1e308 gives 0).
pub fn half_sq_diff(t: f64, c: f64) -> f64 {
    let d = t - c;
    if d == 0.0 {
        0.0
    } else {
        d * (0.5 * t + 0.5 * c)
    }
}

/// The point of [a, b] nearest 0: where the standard normal density peaks on the window.
pub fn window_anchor(a: f64, b: f64) -> f64 {
    if a > 0.0 {
        a
    } else if b < 0.0 {
        b
    } else {
        0.0
    }
}

/// ln(Φ(b) − Φ(a)) + c²/2 + ln√(2π): the log mass of [a, b] relative to the normal
/// density at an anchor c, which must be the [`window_anchor`] of a window containing
/// [a, b]. Finite for windows arbitrarily far out in a tail (a, b ≈ 1e300), where
/// ln(Φ(b) − Φ(a)) itself is −∞ and differences of such masses (truncated-normal cdf
/// and quantiles) would be −∞ − (−∞) = NaN; ratios of masses are differences of this
/// at a common anchor.
pub fn log_mass_at(a: f64, b: f64, c: f64) -> f64 {
    if a.is_nan() || b.is_nan() || c.is_nan() || a > b {
        return f64::NAN;
    }
    if a == b {
        return f64::NEG_INFINITY;
    }
    // Reflect windows in the upper half onto the lower tail.
    let (a, b, c) = if a >= 0.0 { (-b, -a, -c) } else { (a, b, c) };
    if quadrature_window(a, b) {
        let top = b.min(0.0);
        return narrow_log_mass(a, b) - half_sq_diff(top, c);
    }
    if b <= 0.0 {
        let gb = log_ndtr_rel(b, c);
        if gb == f64::NEG_INFINITY {
            return gb;
        }
        let ga = log_ndtr_rel(a, c);
        return gb + (-(ga - gb).exp()).ln_1p();
    }
    (-(ndtr(a) + ndtr(-b))).ln_1p() + 0.5 * c * c + HALF_LN_2PI
}

/// The inverse of [`log_ndtr`]: z with ln Φ(z) = lp, for lp ≤ 0. Where e^lp is a
/// normal number, [`ndtri`] of it (or of the complement for lp > −ln 2, from
/// −expm1(lp), so that q close to 1 keeps its accuracy); below, Newton's method on
/// `log_ndtr` from the leading asymptotic guess z ≈ −√(−2 lp) (the function is
/// concave there, so a few steps reach full accuracy).
pub fn ndtri_exp(lp: f64) -> f64 {
    if lp.is_nan() || lp > 0.0 {
        return f64::NAN;
    }
    if lp == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if lp > -std::f64::consts::LN_2 {
        // q > 1/2: z = −Φ⁻¹(1 − q) with 1 − q = −expm1(lp) exact.
        return -ndtri(-lp.exp_m1());
    }
    if lp > -700.0 {
        return ndtri(lp.exp());
    }
    let t = -2.0 * lp;
    let mut z = -(t - t.ln()).sqrt();
    for _ in 0..50 {
        let f = log_ndtr(z) - lp;
        // d ln Φ/dz = φ(z)/Φ(z)
        let d = (normal_log_pdf(z) - log_ndtr(z)).exp();
        let step = f / d;
        z -= step;
        if step.abs() <= 1e-15 * z.abs() {
            break;
        }
    }
    z
}

/// ln(Φ(b) − Φ(a)) for a ≤ b, the log mass of the window [a, b] under N(0, 1), without
/// cancellation: for a window in the upper half the tails Φ(−a) − Φ(−b) are used, and
/// differences of tails are formed as ln Φ(x) + log1p(−e^{ln Φ(y) − ln Φ(x)}).
pub fn log_ndtr_diff(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() || a > b {
        return f64::NAN;
    }
    if a == b {
        return f64::NEG_INFINITY;
    }
    if quadrature_window(a, b) {
        // Narrow windows: Φ(b) − Φ(a) would cancel (to the window's width in relative
        // terms); integrate φ over the window instead, relative to its largest value.
        let top = window_anchor(a, b);
        return narrow_log_mass(a, b) - 0.5 * top * top - HALF_LN_2PI;
    }
    let (lo, hi) = if a >= 0.0 { (-b, -a) } else { (a, b) };
    if hi < -37.0 {
        // Far out (hi ≈ −1e76): ln Φ(lo) and ln Φ(hi) agree to every digit, so their
        // difference is taken relative to the density at hi.
        return log_mass_at(lo, hi, hi) - 0.5 * hi * hi - HALF_LN_2PI;
    }
    if hi <= 0.0 || a >= 0.0 {
        // Both in one lower tail (after reflection): Φ(hi) − Φ(lo).
        let lh = log_ndtr(hi);
        if lh == f64::NEG_INFINITY {
            // Φ(hi) underflows: −∞, not −∞ − (−∞) = NaN below.
            return lh;
        }
        let ll = log_ndtr(lo);
        return lh + (-(ll - lh).exp()).ln_1p();
    }
    // a < 0 < b: 1 − Φ(a) − Φ(−b), both terms below 1/2.
    (-(ndtr(a) + ndtr(-b))).ln_1p()
}

/// Nodes and weights of 32-point Gauss–Legendre quadrature on [−1, 1], by Newton's
/// method on the Legendre polynomial P₃₂ from the Chebyshev guesses (Golub & Welsch
/// give the same nodes as eigenvalues; Newton is simpler here).
pub fn gauss_legendre_32() -> &'static ([f64; 32], [f64; 32]) {
    static GL: std::sync::OnceLock<([f64; 32], [f64; 32])> = std::sync::OnceLock::new();
    GL.get_or_init(|| {
        const N: usize = 32;
        let mut x = [0.0; N];
        let mut w = [0.0; N];
        for i in 0..N {
            let mut t = (std::f64::consts::PI * (i as f64 + 0.75) / (N as f64 + 0.5)).cos();
            let mut dp = 0.0;
            for _ in 0..100 {
                // P_N(t) and P_N'(t) by the three-term recurrence.
                let (mut p0, mut p1) = (1.0, t);
                for k in 2..=N {
                    let k = k as f64;
                    let p2 = ((2.0 * k - 1.0) * t * p1 - (k - 1.0) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = N as f64 * (t * p1 - p0) / (t * t - 1.0);
                let step = p1 / dp;
                t -= step;
                if step.abs() < 1e-16 {
                    break;
                }
            }
            x[i] = t;
            w[i] = 2.0 / ((1.0 - t * t) * dp * dp);
        }
        (x, w)
    })
}

/// `x` clamped into [lo, hi] without ever panicking: NaN stays NaN (the caller's
/// signal of an invalid parameter), and a window with lo > hi or NaN bounds, which
/// only invalid parameters with validation off produce, gives NaN instead of the
/// panic of `f64::clamp`. The one clamp for user-derived values in this crate's
/// numerics.
#[inline]
pub fn clamp_total(x: f64, lo: f64, hi: f64) -> f64 {
    if lo <= hi {
        // max/min, not clamp: NaN x must stay NaN (max would drop it).
        if x.is_nan() {
            x
        } else {
            x.max(lo).min(hi)
        }
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfinv_inverts_erf_everywhere() {
        for &y in &[
            -0.999_999,
            -0.7,
            -0.3,
            -1e-8,
            1e-300,
            0.2,
            0.49,
            0.5,
            0.9,
            1.0 - 1e-15,
        ] {
            let x = erfinv(y);
            let back = erf(x);
            assert!(
                (back - y).abs() <= 4e-16 * y.abs().max(1e-300),
                "y={y} x={x} back={back}"
            );
        }
        for &c in &[
            1e-300, 1e-100, 1e-38, 1e-20, 1e-9, 1e-7, 1e-5, 0.3, 0.9, 1.2, 1.9999,
        ] {
            let x = erfcinv(c);
            let back = erfc(x);
            assert!(((back - c) / c).abs() <= 1e-13, "c={c} x={x} back={back}");
        }
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert_eq!(erfinv(-1.0), f64::NEG_INFINITY);
        assert!(erfinv(1.5).is_nan());
    }

    #[test]
    fn ndtri_tails_keep_relative_accuracy() {
        for &q in &[1e-300, 1e-12, 0.01, 0.5, 0.99, 1.0 - 1e-12] {
            let z = ndtri(q);
            let back = if q < 0.5 { ndtr(z) } else { 1.0 - ndtr(z) };
            let want = if q < 0.5 { q } else { 1.0 - q };
            let got = if q < 0.5 { back } else { ndtr(-z) };
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "q={q} z={z} back={back}"
            );
        }
    }

    #[test]
    fn ln_minus_keeps_digits_through_cancellation() {
        // ln 2 − fl(ln 2) and ln 10 − fl(ln 10), known to 20 digits: the absolute error
        // stays below the documented ~1e-22 (the f64 rounding of the series tail).
        let d2 = ln_minus(2.0, LN_2);
        assert!((d2 - 2.319_046_813_846_299_6e-17).abs() <= 1e-30, "{d2:e}");
        let d10 = ln_minus(10.0, std::f64::consts::LN_10);
        assert!(
            (d10 + 2.170_756_223_382_249_5e-16).abs() <= 2e-22,
            "{d10:e}"
        );
        // Away from cancellation it is ln(x) − c.
        for &(x, c) in &[
            (1e-300f64, 3.0f64),
            (0.3, -2.5),
            (1.0, 0.0),
            (7.5e20, 40.0),
            (5e-324, 0.0),
            (1.7e308, 1.0),
        ] {
            let want = x.ln() - c;
            let got = ln_minus(x, c);
            assert!(
                (got - want).abs() <= 4e-16 * want.abs().max(1.0),
                "x={x:e} c={c}: {got:e} vs {want:e}"
            );
        }
        assert_eq!(ln_minus(0.0, 1.0), f64::NEG_INFINITY);
        assert_eq!(ln_minus(f64::INFINITY, 1.0), f64::INFINITY);
        assert!(ln_minus(-1.0, 1.0).is_nan());
    }

    #[test]
    fn ln_for_f32_is_exact_to_1e_12_on_f32_inputs() {
        let mut worst = 0f64;
        // A geometric sweep over f32's whole positive range, subnormals included (the
        // sweep runs in f64: f32 subnormals times 1.00037 would round back to themselves).
        let mut t = f32::from_bits(1) as f64;
        while t < f32::MAX as f64 {
            let v = t as f32 as f64;
            let err = ((ln_for_f32(v) - v.ln()) / v.ln().abs().max(1e-300)).abs();
            let abs_err = (ln_for_f32(v) - v.ln()).abs();
            worst = worst.max(err.min(abs_err));
            t *= 1.000_37;
        }
        assert!(worst < 1e-12, "worst {worst}");
        assert_eq!(ln_for_f32(0.0), f64::NEG_INFINITY);
        assert_eq!(ln_for_f32(f64::INFINITY), f64::INFINITY);
        assert!(ln_for_f32(-1.0).is_nan() && ln_for_f32(f64::NAN).is_nan());
        assert_eq!(ln_for_f32(1.0), 0.0);
    }

    #[test]
    fn softplus_and_xlogy_edges() {
        assert_eq!(softplus(1000.0), 1000.0);
        assert!((softplus(-40.0) - (-40f64).exp()).abs() < 1e-30);
        assert_eq!(xlogy(0.0, 0.0), 0.0);
        assert!(xlogy(0.0, f64::NAN).is_nan());
        assert_eq!(xlogy(2.0, 1.0), 0.0);
    }
}
