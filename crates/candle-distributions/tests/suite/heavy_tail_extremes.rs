//! StudentT, FisherSnedecor and GeneralizedPareto at extreme but valid parameters:
//! degrees of freedom whose halves underflow or whose log-gammas overflow, subnormal
//! scales and concentrations. Reference values are from mpmath at 800 digits (closed
//! forms of the density and entropy, the regularized incomplete beta), or closed-form
//! limits stated at each check.

// Reference values keep mpmath's 20 printed digits.
#![allow(clippy::excessive_precision)]

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{Distribution, FisherSnedecor, GeneralizedPareto, StudentT};

const MAX: f64 = f64::MAX;
const SUB: f64 = 5e-324;

fn t(v: f64) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

fn s(x: Tensor) -> f64 {
    x.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: got {got:e}, want {want:e}"
    );
}

fn fs(d1: f64, d2: f64) -> FisherSnedecor {
    FisherSnedecor::new_with_validation(&t(d1), &t(d2), false).unwrap()
}

/// d₂ = 5e-324 halves to 0: log_prob, cdf and entropy were NaN.
#[test]
fn fisher_snedecor_subnormal_df() {
    let d = fs(1e-40, SUB);
    close(
        s(d.log_prob(&t(1.0)).unwrap()),
        -745.13321910194120762,
        1e-14,
        "lp x=1",
    );
    close(
        s(d.log_prob(&t(3.0)).unwrap()),
        -746.23183139060931731,
        1e-14,
        "lp x=3",
    );
    // I_z(5e-41, 2.5e-324) at z = d₁/(d₁ + d₂), mpmath.
    close(
        s(d.cdf(&t(1.0)).unwrap()),
        4.9406564584124657911e-284,
        1e-10,
        "cdf",
    );
    // 2/d₂ − 2/d₁ ≈ 4.05e323 overflows: +∞ is the rounded value.
    assert_eq!(s(d.entropy().unwrap()), f64::INFINITY);
    let both = fs(SUB, 1e-323);
    close(
        s(both.log_prob(&t(0.5)).unwrap()),
        -744.8455370294894267,
        1e-14,
        "lp both",
    );
    close(
        s(fs(SUB, SUB).entropy().unwrap()),
        746.82636628250115293,
        1e-14,
        "H sub",
    );
    close(
        s(fs(1e-300, 1e-300).entropy().unwrap()),
        693.1618222593335958,
        1e-14,
        "H 1e-300",
    );
}

/// Gradients of log_prob at a subnormal df: no NaN.
#[test]
fn fisher_snedecor_subnormal_df_gradients() {
    let d1 = Var::from_tensor(&Tensor::new(&[1e-8f64, 1e-40], &Device::Cpu).unwrap()).unwrap();
    let d2 = Var::from_tensor(&Tensor::new(&[SUB, SUB], &Device::Cpu).unwrap()).unwrap();
    let d = FisherSnedecor::new_with_validation(d1.as_tensor(), d2.as_tensor(), false).unwrap();
    let x = Tensor::new(&[0.5f64, 2.0], &Device::Cpu).unwrap();
    let g = d
        .log_prob(&x)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for v in [&d1, &d2] {
        let gv: Vec<f64> = g.get(v.as_tensor()).unwrap().to_vec1().unwrap();
        assert!(gv.iter().all(|v| !v.is_nan()), "{gv:?}");
    }
}

/// d₁ = d₂ = f64::MAX: log_prob was +∞ (ln B(a, a) overflowed ab to ∞), the cdf and
/// entropy NaN. The cdf is the normal limit of ln F (Φ(0) = ½ at x = 1), the entropy
/// ½ ln(4πe(1/d₁ + 1/d₂)).
#[test]
fn fisher_snedecor_huge_df() {
    let d = fs(MAX, MAX);
    close(
        s(d.log_prob(&t(1.0)).unwrap()),
        353.27927073292738031,
        1e-13,
        "lp max",
    );
    close(s(d.cdf(&t(1.0)).unwrap()), 0.5, 1e-15, "cdf max");
    let h = 0.5 * (4.0 * std::f64::consts::PI * std::f64::consts::E * (2.0 / MAX)).ln();
    close(s(d.entropy().unwrap()), h, 1e-14, "H max");
    // At x = 5e-324 the density is 0 to f64 precision (ln p ≈ −d/4·(ln x)²); the
    // Stirling form met 0·∞ there.
    assert_eq!(s(d.log_prob(&t(SUB)).unwrap()), f64::NEG_INFINITY);
    // (d₂ = 1e300: the rounded (z − z₀)/z₀ fell below −1, ln of a negative number.)
    assert_eq!(
        s(fs(MAX, 1e300).log_prob(&t(SUB)).unwrap()),
        f64::NEG_INFINITY
    );
    let lp = s(fs(MAX, 1.1754943508222875e-38).log_prob(&t(2.0)).unwrap());
    close(lp, -88.722839111672999605, 1e-12, "lp max/tiny");
    close(
        s(fs(1e13, 1e14).entropy().unwrap()),
        -13.153635891074545483,
        1e-12,
        "H 1e13",
    );
    close(
        s(fs(7.0, 1e300).entropy().unwrap()),
        0.69031903223859826106,
        1e-13,
        "H 7/1e300",
    );
    close(
        s(fs(1e300, 7.0).entropy().unwrap()),
        0.98953168793884787799,
        1e-13,
        "H 1e300/7",
    );
    // Ordinary parameters keep their values (mpmath).
    close(
        s(fs(4.0, 6.0).entropy().unwrap()),
        1.3372251249868307384,
        1e-14,
        "H 4/6",
    );
    close(
        s(fs(4.0, 6.0).log_prob(&t(0.7)).unwrap()),
        -0.59765977164758973257,
        1e-14,
        "lp 4/6",
    );
}

/// f32 variance with d₂ near f32::MAX: d₂² overflowed f32 and ∞/∞ was NaN; the value
/// ≈ 2/d₁ = 1.70e38 is finite in f32.
#[test]
fn fisher_snedecor_f32_variance() {
    let d = FisherSnedecor::from_scalars(
        f32::MIN_POSITIVE as f64,
        f32::MAX as f64,
        DType::F32,
        &Device::Cpu,
    )
    .unwrap();
    close(
        s(d.variance().unwrap()),
        1.7014118346046923173e38,
        1e-6,
        "var",
    );
    assert!(s(d.stddev().unwrap()).is_finite());
}

fn st(df: f64, loc: f64, scale: f64) -> StudentT {
    StudentT::new_with_validation(&t(df), &t(loc), &t(scale), false).unwrap()
}

/// ν = f64::MAX: log_prob was NaN (ln(νπ) and the log-gammas overflow). Also the
/// large-ν series against mpmath at ν = 60 and 1000, and the tiny-ν limit.
#[test]
fn student_t_log_prob_extreme_df() {
    close(
        s(st(MAX, 0.0, 0.05).log_prob(&t(0.1)).unwrap()),
        0.076793740349318196144,
        1e-14,
        "max",
    );
    close(
        s(st(60.0, 0.2, 2.0).log_prob(&t(1.3)).unwrap()),
        -1.769636688248238802,
        1e-14,
        "60",
    );
    close(
        s(st(1000.0, 0.2, 2.0).log_prob(&t(-2.5)).unwrap()),
        -2.5236667653218999957,
        1e-14,
        "1e3",
    );
    close(
        s(st(1e-300, 0.0, 1.0).log_prob(&t(1.0)).unwrap()),
        -691.46867507877365049,
        1e-14,
        "tiny",
    );
}

/// Entropy: ν subnormal was NaN (+∞ is the limit 1/ν + 1 − ½ ln ν), ν = f64::MAX the
/// normal's ½ + ½ ln 2π.
#[test]
fn student_t_entropy_extreme_df() {
    assert_eq!(s(st(SUB, 0.0, 1.0).entropy().unwrap()), f64::INFINITY);
    close(
        s(st(1e-300, 0.0, 1.0).entropy().unwrap()),
        9.9999999999999997494e299,
        1e-14,
        "1e-300",
    );
    close(
        s(st(1e-200, 0.0, 1.0).entropy().unwrap()),
        1.0000000000000000179e200,
        1e-14,
        "1e-200",
    );
    close(
        s(st(MAX, 0.0, 1.0).entropy().unwrap()),
        1.4189385332046727418,
        1e-15,
        "max",
    );
    close(
        s(st(100.0, 0.0, 1.0).entropy().unwrap()),
        1.4289633653182438347,
        1e-14,
        "100",
    );
    let h3 = 1.7734775718632909481 + 2f64.ln();
    close(s(st(3.0, 0.0, 2.0).entropy().unwrap()), h3, 1e-14, "3");
}

/// scale = 1e-300 and x = loc: ∂/∂scale of log_prob is −1/scale (the quotient rule
/// squared the scale to 0 and gave 0/0 = NaN).
#[test]
fn student_t_tiny_scale_gradient() {
    let sc = Var::new(1e-300f64, &Device::Cpu).unwrap();
    let d = StudentT::new_with_validation(&t(30.0), &t(0.5), sc.as_tensor(), false).unwrap();
    let g = d.log_prob(&t(0.5)).unwrap().backward().unwrap();
    close(
        s(g.get(sc.as_tensor()).unwrap().clone()),
        -1e300,
        1e-14,
        "d/dscale",
    );
}

/// ν = 5e-324 with scale near f32::MAX: every draw overflows and is clamped; the
/// gradients were NaN (0·∞ in the product after the clamp).
#[test]
fn student_t_rsample_gradients_tiny_df() {
    let df = Var::new(SUB, &Device::Cpu).unwrap();
    let sc = Var::new(f32::MAX as f64, &Device::Cpu).unwrap();
    let d = StudentT::new(df.as_tensor(), &t(1e-300), sc.as_tensor()).unwrap();
    let mut rng = candle_distributions::Generator::new(7);
    let x = d.rsample(&[5], &mut rng).unwrap();
    let g = x.sum_all().unwrap().backward().unwrap();
    for v in [&df, &sc] {
        assert!(!s(g.get(v.as_tensor()).unwrap().clone()).is_nan());
    }
}

fn gp(loc: f64, scale: f64, xi: f64) -> GeneralizedPareto {
    GeneralizedPareto::new_with_validation(&t(loc), &t(scale), &t(xi), false).unwrap()
}

/// σ = 5e-324, ξ = −5e-324: the support is [0, 1]; icdf(1) overflowed σ/|ξ| to +∞.
#[test]
fn generalized_pareto_icdf_end() {
    assert_eq!(s(gp(0.0, SUB, -SUB).icdf(&t(1.0)).unwrap()), 1.0);
}

/// ξ = 1e300: e^{ξw} overflows where expm1(ξw)/ξ does not (mpmath: 1.97e134 at
/// q = 1e-297); ξz = 1e309 overflows where log1p(ξz)/ξ does not.
#[test]
fn generalized_pareto_huge_concentration() {
    close(
        s(gp(0.0, 1.0, 1e300).icdf(&t(1e-297)).unwrap()),
        1.9700711140172284376e134,
        1e-12,
        "icdf",
    );
    close(
        s(gp(0.0, 1.0, 1e308).log_prob(&t(10.0)).unwrap()),
        -711.49879373516011637,
        1e-14,
        "lp",
    );
}

/// rsample gradients at σ = |ξ| = 5e-324 (the quotient rule in the end μ − σ/ξ of
/// the support met 0·∞) and at ξ near f32::MAX (e^{ξw} overflowed in ∂e/∂ξ: ∞ − ∞):
/// no NaN. log_prob gradients at the latter too.
#[test]
fn generalized_pareto_extreme_gradients() {
    for (loc, scale, xi) in [(0.0, SUB, -SUB), (3.4e38, 30.0, 3.4e38)] {
        let vs: Vec<Var> = [loc, scale, xi]
            .iter()
            .map(|&v| Var::new(v, &Device::Cpu).unwrap())
            .collect();
        let d = GeneralizedPareto::new(vs[0].as_tensor(), vs[1].as_tensor(), vs[2].as_tensor())
            .unwrap();
        let mut rng = candle_distributions::Generator::new(3);
        let x = d.rsample(&[4], &mut rng).unwrap();
        let g = x.sum_all().unwrap().backward().unwrap();
        for v in &vs {
            let gv = s(g.get(v.as_tensor()).unwrap().clone());
            assert!(!gv.is_nan(), "rsample grad at {loc} {scale} {xi}");
        }
        if scale == SUB {
            continue;
        }
        let g = d
            .log_prob(&x.detach())
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for v in &vs {
            if let Some(gv) = g.get(v.as_tensor()) {
                assert!(
                    !s(gv.clone()).is_nan(),
                    "log_prob grad at {loc} {scale} {xi}"
                );
            }
        }
    }
}

/// F(1e-8, 1e-40): I_z(d₁/2, d₂/2) with d₂/2 ≤ 1e-20 and d₁/2 small is a tail of about
/// 1e-32 everywhere short of ∞; the fraction on the complement side (past the mean)
/// rounded it to 0, so the cdf fell from 1e-32 at x = 1e-300 to 0 at x = ¼.
/// Reference: mpmath.betainc at z = d₁x/(d₁x + d₂).
#[test]
fn fisher_snedecor_cdf_monotone_for_tiny_df() {
    let d = fs(1e-8, 1e-40);
    let xs = [1e-300, 0.25, 1e10];
    let want = [
        9.999_969_145_407_353e-33,
        1.000_000_361_482_143e-32,
        1.000_000_483_542_869_4e-32,
    ];
    let f: Vec<f64> = xs.iter().map(|&x| s(d.cdf(&t(x)).unwrap())).collect();
    for ((x, got), want) in xs.iter().zip(&f).zip(want) {
        close(*got, want, 1e-9, &format!("cdf({x})"));
    }
}

/// F(d₁, d₂) with subnormal degrees of freedom: d/2 rounds to 0 and both Gamma
/// log-draws overflow to −∞, so draws were NaN. Now every draw is a positive finite
/// number, and the draw is above 1 with probability d₁/(d₁ + d₂) (½ here): 4000
/// draws, 5 standard errors (0.04).
#[test]
fn fisher_snedecor_draws_for_subnormal_df() {
    use candle_distributions::Generator;
    let n = 4000;
    for (d1, d2, p_up) in [(SUB, SUB, 0.5), (f64::MIN_POSITIVE, SUB, 1.0)] {
        let d = fs(d1, d2);
        let x = d.sample(&[n], &mut Generator::new(7)).unwrap();
        let x = x.to_vec1::<f64>().unwrap();
        assert!(x.iter().all(|v| v.is_finite() && *v > 0.0), "F({d1}, {d2})");
        let up = x.iter().filter(|v| **v > 1.0).count() as f64 / n as f64;
        assert!((up - p_up).abs() <= 0.04, "F({d1}, {d2}): P(x > 1) ≈ {up}");
        let lp = d.log_prob(&Tensor::new(x.as_slice(), &Device::Cpu).unwrap());
        assert!(lp.is_ok(), "{lp:?}");
    }
}

/// Student t with a subnormal scale: per value, ∂/∂loc = ±(ν+1)y/((ν+y²)σ) and the
/// ∂/∂σ terms overflow with both signs, and their sums were ∞ − ∞. At y = ±1 with
/// ν = 1 the exact sums are 0 (∂/∂loc: +1/σ − 1/σ; ∂/∂σ: each −(1 − 2·½)/σ = 0).
#[test]
fn student_t_log_prob_gradients_with_subnormal_scale() {
    let df = Var::new(1.0f64, &Device::Cpu).unwrap();
    let loc = Var::new(0.0f64, &Device::Cpu).unwrap();
    let scale = Var::new(SUB, &Device::Cpu).unwrap();
    let d = StudentT::new(df.as_tensor(), loc.as_tensor(), scale.as_tensor()).unwrap();
    let x = Tensor::new(&[SUB, -SUB], &Device::Cpu).unwrap();
    let g = d
        .log_prob(&x)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(s(g.get(&loc).unwrap().clone()), 0.0);
    assert_eq!(s(g.get(&scale).unwrap().clone()), 0.0);
    let gd = s(g.get(&df).unwrap().clone());
    assert!(gd.is_finite(), "∂/∂ν = {gd}");
    // One value above loc: ∂/∂loc = +(ν+1)y/((ν+y²)σ) = 1/σ overflows: +∞ (not NaN).
    let g = d
        .log_prob(&Tensor::new(&[SUB], &Device::Cpu).unwrap())
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(s(g.get(&loc).unwrap().clone()), f64::INFINITY);
}

/// StudentT draws at huge scales: the df-gradient of Σx is scale times that of the same
/// draws at scale 1 (x = loc + scale·t, t free of scale), checked at scale = 1e300
/// where nothing overflows; at scale = f64::MAX each draw's term scale·∂t/∂ν overflows
/// with the sign of t (and draws with |t| > 1 are capped at MAX, gradient 0), and the
/// sum over draws was ∞ − ∞ = NaN; it is now summed before the multiplication.
#[test]
fn student_t_rsample_df_gradient_at_huge_scale() -> Result<(), Box<dyn std::error::Error>> {
    let dev = Device::Cpu;
    let grad_df = |df: f64, scale: f64| -> Result<f64, Box<dyn std::error::Error>> {
        let dfv = Var::new(df, &dev)?;
        let d = StudentT::new(&dfv, -1e8f64, scale)?;
        let x = d.rsample(&[64], &mut candle_distributions::Generator::new(7))?;
        let g = x.sum_all()?.backward()?;
        Ok(g.get(dfv.as_tensor()).unwrap().to_scalar::<f64>()?)
    };
    let unit = grad_df(0.75, 1.0)?;
    let big = grad_df(0.75, 1e300)?;
    assert!(unit.is_finite() && unit != 0.0, "scale 1: {unit}");
    assert!(
        (big - unit * 1e300).abs() <= 1e-9 * (unit * 1e300).abs(),
        "{big} vs {unit}·1e300"
    );
    for df in [0.75, 0.05] {
        let g = grad_df(df, f64::MAX)?;
        assert!(!g.is_nan(), "df = {df}, scale = MAX: NaN");
    }
    Ok(())
}

/// The case of the 1e6-case property run: loc = f32::MAX, scales up to f64::MAX and
/// df = 0.117: the gradients of Σ rsample with respect to df and scale are never NaN
/// (the scale gradient is Σ t over draws, the df gradient scale·Σ t·∂h/∂ν).
#[test]
fn student_t_rsample_gradients_at_extreme_loc_and_scale() -> Result<(), Box<dyn std::error::Error>>
{
    let dev = Device::Cpu;
    let df = Var::from_tensor(&Tensor::new(&[[0.117f32], [2.5]], &dev)?)?;
    let loc = Var::from_tensor(&Tensor::new(f32::MAX, &dev)?)?;
    let scale = Var::new(&[f64::MAX, 7.0, 0.05], &dev)?;
    let d = StudentT::new_with_validation(&df, &loc, &scale, false)?;
    // the run's seed, then more
    for seed in std::iter::once(2534556729856617127).chain(0..64) {
        let x = d.rsample(&[5], &mut candle_distributions::Generator::new(seed))?;
        let g = x.sum_all()?.backward()?;
        for (name, v) in [("df", df.as_tensor()), ("scale", scale.as_tensor())] {
            let gv = g
                .get(v)
                .unwrap()
                .to_dtype(DType::F64)?
                .flatten_all()?
                .to_vec1::<f64>()?;
            assert!(
                gv.iter().all(|x| !x.is_nan()),
                "seed {seed}: d/d{name} {gv:?}"
            );
        }
    }
    Ok(())
}
