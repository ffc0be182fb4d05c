//! Values at extreme but valid parameters and arguments: support edges, ±∞, ±MAX,
//! subnormals, concentrations ≤ 1e-300, windows far in a tail. References are closed
//! forms or mpmath (reference/gen_truncated_normal_extremes.py,
//! reference/gen_extreme_values.py); statistical checks use fixed seeds and bounds
//! from the sample size.

// Reference values are quoted as mpmath prints them (20 digits).
#![allow(clippy::excessive_precision)]

use crate::common;
use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::Dirichlet;
use common::{host as f64s, scalar_tensor as t};

fn scalar(x: &Tensor) -> f64 {
    f64s(x)[0]
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

// ---------------------------------------------------------------------------------
// TruncatedNormal
// ---------------------------------------------------------------------------------

/// With validation off, an empty or inverted window (low ≥ high, or an infinite low
/// above high) is invalid: results may be NaN, but no call may panic (before: the
/// quantile's `f64::clamp(low, high)` panicked).
#[test]
fn truncated_normal_invalid_window_never_panics() {
    let windows = [
        (0.709, 0.818, 5.40, -2.70),
        (0.0, 1.0, 1.0, 1.0),
        (0.0, 1.0, f64::INFINITY, 3.0),
        (0.0, 1.0, 2.0, f64::NEG_INFINITY),
        (0.0, 1.0, f64::INFINITY, f64::INFINITY),
        (0.0, 1.0, f64::NAN, 1.0),
    ];
    for (loc, scale, low, high) in windows {
        for dtype in [DType::F64, DType::F32] {
            let label = format!("TruncatedNormal({loc}, {scale}, {low}, {high}) {dtype:?}");
            let r = std::panic::catch_unwind(|| {
                let d = TruncatedNormal::new_with_validation(
                    &t(loc, dtype),
                    &t(scale, dtype),
                    &t(low, dtype),
                    &t(high, dtype),
                    false,
                )
                .unwrap();
                let mut g = Generator::new(0);
                let _ = d.sample(&[8], &mut g);
                let _ = d.rsample(&[8], &mut g);
                let _ = d.icdf(&t(0.3, dtype));
                let _ = d.expand(&[3]).unwrap().sample(&[2], &mut g);
            });
            assert!(r.is_ok(), "{label}: panicked");
        }
    }
}

/// Windows far in a tail, from the closed forms at 80 digits
/// (reference/gen_truncated_normal_extremes.py). Before: the variance of the first
/// was negative (a difference of terms of size 4e10), the entropy off by ~1e-6.
#[test]
fn truncated_normal_tail_windows_have_exact_moments() {
    let inf = f64::INFINITY;
    // (loc, scale, low, high, mean, variance, entropy)
    let cases = [
        (
            1e4,
            0.05,
            8.12,
            50.0,
            49.999999748743718606,
            6.3129718936926396846e-14,
            -14.196792377311124105,
        ),
        (
            0.0,
            1.0,
            30.0,
            inf,
            30.033259667433677037,
            0.0011037715118900910011,
            -2.4034104116333688095,
        ),
        (
            0.0,
            1.0,
            -inf,
            -40.0,
            -40.024968847207263723,
            0.0006226683785913887735,
            -2.6901265364038409599,
        ),
        (
            0.0,
            1.0,
            5.0,
            7.0,
            5.1864952562762758339,
            0.032679503757022093593,
            -0.67985805192480922132,
        ),
        (
            0.0,
            1.0,
            1.5,
            3.0,
            1.9109517359831112583,
            0.1131321529047091379,
            0.075015670418475777229,
        ),
        (
            0.0,
            1.0,
            -1e6,
            -1e3,
            -1000.00099999800001,
            9.9999400004999948201e-7,
            -5.9077572789746371014,
        ),
    ];
    for (loc, scale, low, high, m, v, h) in cases {
        let d = TruncatedNormal::new(
            &t(loc, DType::F64),
            &t(scale, DType::F64),
            &t(low, DType::F64),
            &t(high, DType::F64),
        )
        .unwrap();
        let label = format!("TruncatedNormal({loc}, {scale}, {low}, {high})");
        let got_v = scalar(&d.variance().unwrap());
        let got_h = scalar(&d.entropy().unwrap());
        let got_m = scalar(&d.mean().unwrap());
        assert!(
            rel(got_v, v) < 1e-11,
            "{label}: variance {got_v:e}, want {v:e}"
        );
        assert!(
            (got_h - h).abs() < 1e-12 * h.abs().max(1.0),
            "{label}: entropy {got_h}, want {h}"
        );
        assert!(rel(got_m, m) < 1e-13, "{label}: mean {got_m}, want {m}");
        assert!(scalar(&d.stddev().unwrap()) > 0.0, "{label}: stddev");
    }
}

// ---------------------------------------------------------------------------------
// Log densities and CDFs at support edges and infinities
// ---------------------------------------------------------------------------------

/// log_prob at +∞ is the density's limit −∞ (before: NaN from ∞ − ∞), and the
/// gradients in the parameters there are finite (zero: the value is constant).
#[test]
fn log_prob_at_infinity_is_minus_infinity_with_finite_gradients() {
    let inf = f64::INFINITY;
    for dtype in [DType::F64, DType::F32] {
        let a = Var::from_tensor(&t(2.5, dtype)).unwrap();
        let b = Var::from_tensor(&t(1.5, dtype)).unwrap();
        let dists: Vec<(&str, Box<dyn Distribution>, f64)> = vec![
            (
                "Gamma",
                Box::new(Gamma::new(a.as_tensor(), b.as_tensor()).unwrap()),
                inf,
            ),
            ("Chi2", Box::new(Chi2::new(a.as_tensor()).unwrap()), inf),
            (
                "InverseGamma",
                Box::new(InverseGamma::new(a.as_tensor(), b.as_tensor()).unwrap()),
                inf,
            ),
            (
                "FisherSnedecor",
                Box::new(FisherSnedecor::new(a.as_tensor(), b.as_tensor()).unwrap()),
                inf,
            ),
            (
                "StudentT",
                Box::new(StudentT::new(a.as_tensor(), &t(0.0, dtype), b.as_tensor()).unwrap()),
                -inf,
            ),
            (
                "Gumbel",
                Box::new(Gumbel::new(a.as_tensor(), b.as_tensor()).unwrap()),
                -inf,
            ),
            (
                "Cauchy",
                Box::new(Cauchy::new(a.as_tensor(), b.as_tensor()).unwrap()),
                inf,
            ),
        ];
        for (name, d, x) in dists {
            let lp = d.log_prob(&t(x, dtype)).unwrap();
            assert_eq!(
                scalar(&lp),
                f64::NEG_INFINITY,
                "{name} {dtype:?}: log_prob({x})"
            );
            let grads = lp.backward().unwrap();
            for v in [&a, &b] {
                if let Some(g) = grads.get(v.as_tensor()) {
                    assert!(scalar(g).is_finite(), "{name} {dtype:?}: gradient {g}");
                }
            }
        }
    }
}

/// The CDF at ±MAX and ±∞ (before: NaN at MAX for StudentT and FisherSnedecor, whose
/// y² or d₁x overflowed into ∞/∞).
#[test]
fn cdf_at_max_and_infinity() {
    for dtype in [DType::F64, DType::F32] {
        let max = if dtype == DType::F32 {
            f32::MAX as f64
        } else {
            f64::MAX
        };
        for df in [0.3, 3.0, 1e6] {
            let d = StudentT::new(&t(df, dtype), &t(0.0, dtype), &t(1.0, dtype)).unwrap();
            // The lower tail at −MAX: for ν = 0.3 it is ~MAX^−0.3, 1e-93 in f64 but
            // 9.6e-13 at f32::MAX with ν = f32(0.3) (mpmath,
            // reference/gen_extreme_values.py); else below 1e-100.
            let tail = if df == 0.3 && dtype == DType::F32 {
                9.6359777994184949959e-13
            } else {
                0.0
            };
            for (x, want) in [
                (max, 1.0),
                (-max, tail),
                (f64::INFINITY, 1.0),
                (f64::NEG_INFINITY, 0.0),
            ] {
                let f = scalar(&d.cdf(&t(x, dtype)).unwrap());
                let ok = if want == 0.0 || want == 1.0 {
                    (f - want).abs() < 1e-90
                } else {
                    rel(f, want) < 1e-6
                };
                assert!(
                    ok,
                    "StudentT({df}) {dtype:?} cdf({x:e}) = {f:e}, want {want:e}"
                );
            }
        }
        for (d1, d2) in [(0.3, 0.2), (3.0, 5.0), (1e6, 1e6)] {
            let d = FisherSnedecor::new(&t(d1, dtype), &t(d2, dtype)).unwrap();
            for x in [max, f64::INFINITY] {
                let f = scalar(&d.cdf(&t(x, dtype)).unwrap());
                // 1 − F(MAX) ≈ c·MAX^(−d₂/2): 1e-31 for d₂ = 0.2 in f64, but 8.2e-5 at
                // f32::MAX (mpmath, reference/gen_extreme_values.py).
                let want = if d2 == 0.2 && dtype == DType::F32 && x == max {
                    0.99991750305953522439
                } else {
                    1.0
                };
                assert!(
                    rel(f, want) < 1e-6,
                    "FisherSnedecor({d1}, {d2}) {dtype:?} cdf({x:e}) = {f}"
                );
            }
        }
    }
}

/// InverseGamma at subnormal and tiny values (before: NaN, from 1/y = ∞ in the
/// Gamma density of 1/y). References: reference/gen_extreme_values.py.
#[test]
fn inverse_gamma_log_prob_at_subnormal_values() {
    let d = InverseGamma::new(&t(2.0, DType::F64), &t(1e-320, DType::F64)).unwrap();
    let lp = scalar(&d.log_prob(&t(5e-324, DType::F64)).unwrap());
    assert!(rel(lp, -1264.3342660178040254) < 1e-14, "{lp}");
    let d = InverseGamma::new(&t(0.5, DType::F64), &t(1.0, DType::F64)).unwrap();
    let lp = scalar(&d.log_prob(&t(1e-300, DType::F64)).unwrap());
    assert!(rel(lp, -9.9999999999999997494e+299) < 1e-15, "{lp}");
    // β/y = ∞: the density's limit, −∞.
    let d = InverseGamma::new(&t(2.0, DType::F64), &t(1.0, DType::F64)).unwrap();
    let lp = scalar(&d.log_prob(&t(5e-324, DType::F64)).unwrap());
    assert_eq!(lp, f64::NEG_INFINITY);
}

/// StudentT log density where y²/ν overflows (|y| near MAX) or ν is tiny: finite and
/// exact (before: −∞ at MAX, and NaN gradients). mpmath references.
#[test]
fn student_t_log_prob_without_overflow() {
    let cases = [
        (3.0, f64::MAX, -2837.9345158458232773),
        (0.5, -1e200, -692.60592120954517366),
        (1e-300, 1.0, -691.46867507877365049),
    ];
    for (df, y, want) in cases {
        let dfv = Var::from_tensor(&t(df, DType::F64)).unwrap();
        let d = StudentT::new(dfv.as_tensor(), &t(0.0, DType::F64), &t(1.0, DType::F64)).unwrap();
        let lp = d.log_prob(&t(y, DType::F64)).unwrap();
        assert!(
            rel(scalar(&lp), want) < 1e-13,
            "StudentT({df}) at {y:e}: {}",
            scalar(&lp)
        );
        let g = lp.backward().unwrap();
        let gd = scalar(g.get(dfv.as_tensor()).unwrap());
        assert!(!gd.is_nan(), "StudentT({df}) at {y:e}: d/dν = {gd}");
    }
}

// ---------------------------------------------------------------------------------
// Draws at tiny concentrations
// ---------------------------------------------------------------------------------

/// Beta(a, b) with a, b ≤ 1e-300 is Bernoulli(a/(a + b)) on {0, 1} to within
/// rounding: draws lie at the clamp points near 0 and 1 (before: NaN, from
/// −∞ − (−∞) in the log-odds). With n draws the count near 1 is within 5 sd
/// (sd = √(n p (1 − p))) of n p.
#[test]
fn beta_draws_at_tiny_concentrations_are_bernoulli() {
    let n = 4000;
    for (a, b) in [
        (1e-300, 1e-300),
        (1e-300, 2e-300),
        (5e-324, 1e-323),
        (1e-310, 1e-310),
    ] {
        let d = Beta::new(&t(a, DType::F64), &t(b, DType::F64)).unwrap();
        let x = f64s(&d.sample(&[n], &mut Generator::new(11)).unwrap());
        assert!(
            x.iter().all(|v| v.is_finite() && *v > 0.0 && *v < 1.0),
            "Beta({a:e}, {b:e})"
        );
        // exact ratio of the subnormals as stored
        let p = a / (a + b);
        let ones = x.iter().filter(|v| **v > 0.5).count() as f64;
        let nf = n as f64;
        let sd = (nf * p * (1.0 - p)).sqrt();
        assert!(
            (ones - nf * p).abs() < 5.0 * sd,
            "Beta({a:e}, {b:e}): {ones} near 1, want {}",
            nf * p
        );
    }
}

/// Dirichlet with concentrations ≤ 1e-300: one-hot rows, component i hot with
/// probability α_i/Σα (before: NaN rows).
#[test]
fn dirichlet_draws_at_tiny_concentrations_are_one_hot() {
    let n = 3000;
    // (ln U/α is finite for the first, −∞ for every component of the second)
    for alpha in [[1e-300, 1e-300, 2e-300], [5e-324, 5e-324, 1e-323]] {
        let c = Tensor::new(&alpha, &Device::Cpu).unwrap();
        let d = Dirichlet::new(&c).unwrap();
        let x = f64s(&d.sample(&[n], &mut Generator::new(12)).unwrap());
        let mut hot = [0f64; 3];
        for row in x.chunks(3) {
            assert!(
                row.iter().all(|v| v.is_finite() && *v > 0.0 && *v < 1.0),
                "{alpha:?}: {row:?}"
            );
            let s: f64 = row.iter().sum();
            assert!((s - 1.0).abs() < 1e-12, "{row:?}");
            let i = (0..3).find(|&i| row[i] > 0.5).expect("a hot component");
            hot[i] += 1.0;
        }
        let nf = n as f64;
        for (i, p) in [0.25, 0.25, 0.5].iter().enumerate() {
            let sd = (nf * p * (1.0 - p)).sqrt();
            assert!(
                (hot[i] - nf * p).abs() < 5.0 * sd,
                "{alpha:?} component {i}: {} hot",
                hot[i]
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// rsample gradients at small shape parameters (f32)
// ---------------------------------------------------------------------------------

fn rsample_grads(
    build: impl Fn(&[Tensor]) -> Box<dyn Distribution>,
    params: &[f64],
    dtype: DType,
    n: usize,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let vars: Vec<Var> = params
        .iter()
        .map(|&p| {
            Var::from_tensor(
                &Tensor::full(p, n, &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            )
            .unwrap()
        })
        .collect();
    let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let d = build(&ts);
    let x = d.rsample(&[], &mut Generator::new(5)).unwrap();
    let g = x.sum_all().unwrap().backward().unwrap();
    let grads = vars
        .iter()
        .map(|v| f64s(g.get(v.as_tensor()).unwrap()))
        .collect();
    (f64s(&x), grads)
}

/// Before: NaN gradients for FisherSnedecor(0.117, 0.110) and StudentT(0.12) and ∞
/// for InverseGamma(0.114) in f32 (Gamma draws underflowing f32, x = g/(…) forms
/// overflowing, and the chain rule through 1/G²). Now computed from ln G in f64.
/// Parameters are exact in f32 (0.125 = 1/8, …), and the Gamma draws come from the same
/// per-element streams in both dtypes, so the f32 gradient must be the f64 one
/// rounded: ±∞ exactly where |f64 gradient| > f32::MAX (the correctly rounded value),
/// never NaN. Draws clamped at the f32 range (gradient 0 there) are skipped.
#[test]
fn f32_rsample_gradients_are_the_f64_ones_rounded() {
    let n = 20_000;
    type B = Box<dyn Fn(&[Tensor]) -> Box<dyn Distribution>>;
    let cases: Vec<(&str, B, Vec<f64>)> = vec![
        (
            "FisherSnedecor",
            Box::new(|p: &[Tensor]| {
                Box::new(FisherSnedecor::new(&p[0], &p[1]).unwrap()) as Box<dyn Distribution>
            }),
            vec![0.125, 0.109375],
        ),
        (
            "InverseGamma",
            Box::new(|p: &[Tensor]| {
                Box::new(InverseGamma::new(&p[0], &p[1]).unwrap()) as Box<dyn Distribution>
            }),
            vec![0.1171875, 1.0],
        ),
    ];
    let fmax = f32::MAX as f64;
    for (name, build, params) in &cases {
        let (x32, g32) = rsample_grads(|p| build(p), params, DType::F32, n);
        let (_, g64) = rsample_grads(|p| build(p), params, DType::F64, n);
        for k in 0..params.len() {
            let mut infinite = 0;
            for i in 0..n {
                let (a, b) = (g32[k][i], g64[k][i]);
                assert!(!a.is_nan(), "{name}: NaN gradient in parameter {k}");
                if x32[i] >= fmax || x32[i] <= f32::MIN_POSITIVE as f64 {
                    continue;
                }
                if b.abs() > fmax * (1.0 + 1e-6) {
                    assert!(
                        a.is_infinite() && a.signum() == b.signum(),
                        "{name}[{i}]: {a} vs {b}"
                    );
                    infinite += 1;
                } else if b.abs() < fmax * (1.0 - 1e-6) {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs() + 1e-30,
                        "{name}[{i}] param {k}: f32 {a:e}, f64 {b:e}"
                    );
                }
            }
            eprintln!("{name} parameter {k}: {infinite} of {n} gradients beyond f32::MAX");
        }
    }
    // StudentT draws use dtype-specific normals: finite draws, no NaN gradient.
    let (x, g) = rsample_grads(
        |p| Box::new(StudentT::new(&p[0], &p[1], &p[2]).unwrap()),
        &[0.125, 0.0, 1.0],
        DType::F32,
        n,
    );
    assert!(x.iter().all(|v| v.is_finite()), "StudentT: non-finite draw");
    for (k, gk) in g.iter().enumerate() {
        assert!(
            gk.iter().all(|v| !v.is_nan()),
            "StudentT: NaN gradient in parameter {k}"
        );
    }
}

/// The gradients through ln G are the right ones: for each draw X (one element per
/// parameter copy), dX/dθ averages to dE[X]/dθ. InverseGamma(α, β): E[X] = β/(α − 1),
/// so d/dα = −β/(α − 1)²; FisherSnedecor: E[X] = d₂/(d₂ − 2), d/dd₁ = 0,
/// d/dd₂ = −2/(d₂ − 2)²; StudentT: E[X²] = ν/(ν − 2), d/dν = −2/(ν − 2)² (here through
/// the gradient of X², 2X dX/dν). Bounds: 5 standard errors of the per-draw gradients.
#[test]
fn gradients_through_log_gamma_draws_match_the_moments() {
    let n = 40_000;
    let check = |label: &str, g: &[f64], want: f64| {
        let nf = g.len() as f64;
        let m = g.iter().sum::<f64>() / nf;
        let sd = (g.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (nf - 1.0)).sqrt();
        assert!(
            (m - want).abs() < 5.0 * sd / nf.sqrt() + 1e-12,
            "{label}: mean gradient {m}, want {want} (se {})",
            sd / nf.sqrt()
        );
    };
    let (_, g) = rsample_grads(
        |p| Box::new(InverseGamma::new(&p[0], &p[1]).unwrap()),
        &[6.0, 2.0],
        DType::F64,
        n,
    );
    check("InverseGamma d/dα", &g[0], -2.0 / 25.0);
    check("InverseGamma d/dβ", &g[1], 1.0 / 5.0);
    let (_, g) = rsample_grads(
        |p| Box::new(FisherSnedecor::new(&p[0], &p[1]).unwrap()),
        &[4.0, 12.0],
        DType::F64,
        n,
    );
    check("FisherSnedecor d/dd1", &g[0], 0.0);
    check("FisherSnedecor d/dd2", &g[1], -2.0 / 100.0);
    // StudentT: gradient of Σ X² per element.
    let nu = Var::from_tensor(&Tensor::full(12.0f64, n, &Device::Cpu).unwrap()).unwrap();
    let d = StudentT::new(nu.as_tensor(), &t(0.0, DType::F64), &t(1.0, DType::F64)).unwrap();
    let x = d.rsample(&[], &mut Generator::new(6)).unwrap();
    let gr = x.sqr().unwrap().sum_all().unwrap().backward().unwrap();
    check(
        "StudentT d/dν of X²",
        &f64s(gr.get(nu.as_tensor()).unwrap()),
        -2.0 / 100.0,
    );
}

/// Gradients of log_prob where (x − loc)/scale overflows: ±MAX values against a
/// location of ∓1e300, and a subnormal scale (before: NaN for Cauchy, whose
/// −2z/(1 + z²) was ∞/∞, and for GeneralizedPareto at x = ∞, masked but still
/// differentiated). The exact gradients are finite or ±∞; NaN never.
#[test]
fn log_prob_gradients_where_the_standardized_value_overflows() {
    let dt = DType::F64;
    for (loc, scale, x) in [
        (-1e300, 1.0, f64::MAX),
        (1e300, 3.0, -f64::MAX),
        (0.0, 5e-324, 1.0),
        (0.0, 5e-324, 0.0),
    ] {
        let l = Var::from_tensor(&t(loc, dt)).unwrap();
        let s = Var::from_tensor(&t(scale, dt)).unwrap();
        let dists: Vec<(&str, Box<dyn Distribution>)> = vec![
            (
                "Cauchy",
                Box::new(Cauchy::new(l.as_tensor(), s.as_tensor()).unwrap()),
            ),
            (
                "Normal",
                Box::new(Normal::new(l.as_tensor(), s.as_tensor()).unwrap()),
            ),
            (
                "Laplace",
                Box::new(Laplace::new(l.as_tensor(), s.as_tensor()).unwrap()),
            ),
            (
                "Gumbel",
                Box::new(Gumbel::new(l.as_tensor(), s.as_tensor()).unwrap()),
            ),
        ];
        for (name, d) in dists {
            let lp = d.log_prob(&t(x, dt)).unwrap();
            assert!(
                !scalar(&lp).is_nan(),
                "{name}({loc:e}, {scale:e}) log_prob({x:e})"
            );
            let g = lp.backward().unwrap();
            for (k, v) in [&l, &s].iter().enumerate() {
                let gv = scalar(g.get(v.as_tensor()).unwrap());
                assert!(
                    !gv.is_nan(),
                    "{name}({loc:e}, {scale:e}) at {x:e}: gradient {k} NaN"
                );
            }
        }
    }
    let s = Var::from_tensor(&t(2.0, dt)).unwrap();
    let xi = Var::from_tensor(&t(0.5, dt)).unwrap();
    let d = GeneralizedPareto::new(&t(0.0, dt), s.as_tensor(), xi.as_tensor()).unwrap();
    let lp = d.log_prob(&t(f64::INFINITY, dt)).unwrap();
    assert_eq!(scalar(&lp), f64::NEG_INFINITY);
    let g = lp.backward().unwrap();
    for v in [&s, &xi] {
        if let Some(gv) = g.get(v.as_tensor()) {
            assert!(!scalar(gv).is_nan(), "GeneralizedPareto gradient at ∞");
        }
    }
}

/// StudentT cdf at the ends of ν: ν ≥ 1e30 is the normal cdf to within 1e-30, and ν
/// whose half underflows has the limit ½ (before: NaN for ν = 1e300 and ν = 5e-324).
#[test]
fn student_t_cdf_at_extreme_degrees_of_freedom() {
    let dt = DType::F64;
    let d = StudentT::new(&t(1e300, dt), &t(0.0, dt), &t(1.0, dt)).unwrap();
    // Φ(1) and Φ(−2) (closed form via erfc, mpmath: 0.841344746068542948585…,
    // 0.0227501319481792072002…)
    assert!(rel(scalar(&d.cdf(&t(1.0, dt)).unwrap()), 0.8413447460685429486) < 1e-15);
    assert!(
        rel(
            scalar(&d.cdf(&t(-2.0, dt)).unwrap()),
            0.022750131948179207200
        ) < 1e-14
    );
    let d = StudentT::new(&t(5e-324, dt), &t(0.0, dt), &t(1.0, dt)).unwrap();
    for y in [-3.0, 1.0, 1e300] {
        assert_eq!(scalar(&d.cdf(&t(y, dt)).unwrap()), 0.5, "cdf({y})");
    }
}
