//! Bessel functions and von Mises kernels against mpmath (reference/von_mises_special.json,
//! made by reference/gen_von_mises_special.py), self-consistency checks, and KS tests of
//! the Best–Fisher sampler. Run with `--nocapture` for the error tables and timings.

use candle_distributions::rng::Generator;
use candle_distributions::special::bessel::{
    bessel_ratio, i0e, i1e, log_i0, one_minus_bessel_ratio,
};
use candle_distributions::special::von_mises::{
    sample_standard_von_mises, von_mises_cdf, von_mises_cdf_dkappa, von_mises_cdf_parts,
    von_mises_implicit_grad, von_mises_log_prob, VonMisesSampler,
};
use serde_json::Value;
use std::f64::consts::PI;

use crate::common;
use common::{num, quote_numbers};

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/von_mises_special.json"
    );
    let text = std::fs::read_to_string(path).expect("reference JSON (run the generator)");
    serde_json::from_str(&quote_numbers(&text)).expect("reference JSON parses")
}

/// |got − want| / |want| (0 when both are 0; ∞ when they differ and want = 0).
fn rel(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else {
        (got - want).abs() / want.abs()
    }
}

#[test]
fn bessel_functions_match_mpmath() {
    let doc = reference();
    let rows = doc["bessel"].as_array().expect("bessel rows");
    assert!(rows.len() >= 40);
    type F = fn(f64) -> f64;
    let funcs: [(&str, F); 4] = [
        ("i0e", i0e),
        ("i1e", i1e),
        ("log_i0", log_i0),
        ("ratio", bessel_ratio),
    ];
    println!("\nBessel functions: max relative error against mpmath");
    for (name, f) in funcs {
        let (mut worst, mut at) = (0.0f64, 0.0);
        for r in rows {
            let x = num(&r["x"]);
            let e = rel(f(x), num(&r[name]));
            if e > worst {
                (worst, at) = (e, x);
            }
        }
        println!("  {name:<7} {worst:9.2e}  (at x = {at:e})");
        assert!(
            worst <= 1e-12,
            "{name}: relative error {worst:e} at x = {at}"
        );
    }
    // 1 − A(x), from the same references where it is not a cancellation itself.
    let mut worst = 0.0f64;
    for r in rows {
        let x = num(&r["x"]);
        let a = num(&r["ratio"]);
        if x > 0.0 && a < 0.5 {
            worst = worst.max(rel(one_minus_bessel_ratio(x), 1.0 - a));
        }
    }
    assert!(worst <= 1e-12, "1 - A: {worst:e}");
    // Large x: 1 − A = 1/(2x) + 1/(8x²) + 1/(8x³) + O(x⁻⁴).
    for x in [1e3f64, 1e5, 1e8] {
        let want = 0.5 / x + 0.125 / (x * x) + 0.125 / (x * x * x);
        let e = rel(one_minus_bessel_ratio(x), want);
        assert!(e < 4e-16 + 2.0 / (x * x * x), "1 - A({x}): {e:e}");
    }
    // Special values and symmetry.
    assert_eq!(i0e(0.0), 1.0);
    assert_eq!(i1e(0.0), 0.0);
    assert_eq!(log_i0(0.0), 0.0);
    assert_eq!(i0e(f64::INFINITY), 0.0);
    assert_eq!(bessel_ratio(f64::INFINITY), 1.0);
    assert_eq!(log_i0(f64::INFINITY), f64::INFINITY);
    assert!(i0e(f64::NAN).is_nan() && bessel_ratio(f64::NAN).is_nan());
    assert_eq!(bessel_ratio(-3.0), -bessel_ratio(3.0));
}

struct VmRow {
    kappa: f64,
    theta: f64,
    q: Option<f64>,
    cdf: f64,
    dcdf: f64,
    log_prob: f64,
    grad: f64,
}

/// The κ of the quantile grid (rows with a nominal quantile), in file order.
fn grid_kappas(rows: &[VmRow]) -> Vec<f64> {
    let mut ks: Vec<f64> = rows
        .iter()
        .filter(|r| r.q.is_some())
        .map(|r| r.kappa)
        .collect();
    ks.dedup();
    ks
}

fn vm_rows() -> Vec<VmRow> {
    let doc = reference();
    doc["von_mises"]
        .as_array()
        .expect("von_mises rows")
        .iter()
        .map(|r| VmRow {
            kappa: num(&r["kappa"]),
            theta: num(&r["theta"]),
            q: if r["q"].is_null() {
                None
            } else {
                Some(num(&r["q"]))
            },
            cdf: num(&r["cdf"]),
            dcdf: num(&r["dcdf_dkappa"]),
            log_prob: num(&r["log_prob"]),
            grad: num(&r["implicit_grad"]),
        })
        .collect()
}

#[test]
fn von_mises_kernels_match_mpmath() {
    let rows = vm_rows();
    assert!(rows.len() >= 150);
    let (mut cdf_abs, mut cdf_rel, mut d_rel, mut lp_rel) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    println!("\nvon Mises kernels against mpmath");
    println!(
        "  {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "kappa", "cdf abs", "cdf rel", "dF/dk rel", "logp rel", "dθ/dκ rel"
    );
    // One table row per grid κ, and one for the scattered cases (NaN key).
    let mut kappas = grid_kappas(&rows);
    kappas.push(f64::NAN);
    for &k in &kappas {
        let (mut ca, mut cr, mut dr, mut lr, mut gr) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let in_group = |r: &&VmRow| {
            if k.is_nan() {
                !grid_kappas(&rows).contains(&r.kappa)
            } else {
                r.kappa == k
            }
        };
        for r in rows.iter().filter(in_group) {
            let k = r.kappa;
            let (f, d, g) = von_mises_cdf_parts(r.theta, k);
            assert_eq!(f, von_mises_cdf(r.theta, k));
            assert_eq!(d, von_mises_cdf_dkappa(r.theta, k));
            assert_eq!(g, von_mises_implicit_grad(r.theta, k));
            let ctx = format!("kappa={k:e} theta={:e} q={:?}", r.theta, r.q);
            let e_abs = (f - r.cdf).abs();
            assert!(e_abs <= 1e-12, "cdf abs {e_abs:e} at {ctx}");
            ca = ca.max(e_abs);
            // Relative accuracy of F in the lower half where F ≥ 1e-6 (the upper half
            // mirrors it: F(θ) = 1 − F(−θ); the rounded reference F near 1 cannot
            // measure 1 − F relatively).
            if r.cdf >= 1e-6 && r.cdf <= 0.5 {
                cr = cr.max(rel(f, r.cdf));
            }
            // ∂F/∂κ relative where not tiny.
            if r.dcdf.abs() > 1e-280 {
                let e = rel(d, r.dcdf);
                assert!(
                    e <= 1e-10,
                    "dF/dkappa rel {e:e} at {ctx}: {d:e} vs {:e}",
                    r.dcdf
                );
                dr = dr.max(e);
            } else {
                assert!(d.abs() <= 1e-280, "dF/dkappa {d:e} at {ctx}");
            }
            let e = rel(von_mises_log_prob(r.theta, k), r.log_prob);
            assert!(e <= 1e-13, "log_prob rel {e:e} at {ctx}");
            lr = lr.max(e);
            let e = if r.grad == 0.0 {
                g.abs()
            } else {
                rel(g, r.grad)
            };
            let limit = 1e-10;
            assert!(
                e <= limit,
                "implicit grad rel {e:e} at {ctx}: {g:e} vs {:e}",
                r.grad
            );
            gr = gr.max(e);
        }
        let label = if k.is_nan() {
            "scattered".to_string()
        } else {
            format!("{k:.3e}")
        };
        println!("  {label:>9} {ca:>10.2e} {cr:>10.2e} {dr:>10.2e} {lr:>10.2e} {gr:>10.2e}");
        cdf_abs = cdf_abs.max(ca);
        cdf_rel = cdf_rel.max(cr);
        d_rel = d_rel.max(dr);
        lp_rel = lp_rel.max(lr);
    }
    println!(
        "  max: cdf abs {cdf_abs:.2e}, cdf rel (1e-6 <= F <= 1/2) {cdf_rel:.2e}, \
         dF/dk rel {d_rel:.2e}, log_prob rel {lp_rel:.2e}"
    );
    assert!(cdf_rel <= 1e-9, "cdf relative {cdf_rel:e}");
}

#[test]
fn implicit_gradient_accuracy_table() {
    let rows = vm_rows();
    println!("\nVonMises implicit gradient dθ/dκ: max relative error over quantiles 1e-6 … 1-1e-6");
    println!("  {:>9} {:>11} {:>9}", "kappa", "max rel err", "worst q");
    let mut worst_all = 0.0f64;
    for k in grid_kappas(&rows) {
        let (mut worst, mut wq) = (0.0f64, 0.0);
        for r in rows.iter().filter(|r| r.kappa == k && r.q.is_some()) {
            let g = von_mises_implicit_grad(r.theta, k);
            let e = if r.grad == 0.0 {
                g.abs()
            } else {
                rel(g, r.grad)
            };
            if e >= worst {
                (worst, wq) = (e, r.q.unwrap());
            }
        }
        println!("  {k:>9.3e} {worst:>11.2e} {wq:>9}");
        if (1e-2..=1e3).contains(&k) {
            assert!(worst <= 1e-5, "kappa {k}: {worst:e}");
            worst_all = worst_all.max(worst);
        }
    }
    println!("  max over kappa in [1e-2, 1e3]: {worst_all:.2e}");
}

#[test]
fn special_values_and_symmetry() {
    for k in [0.0, 1e-3, 0.7, 5.0, 60.0, 2e3, 1e5] {
        assert!(von_mises_cdf(-PI, k).abs() < 1e-15, "F(-pi) at {k}");
        assert!((von_mises_cdf(PI, k) - 1.0).abs() < 1e-15, "F(pi) at {k}");
        assert_eq!(von_mises_cdf(0.0, k), 0.5);
        assert_eq!(von_mises_cdf_dkappa(0.0, k), 0.0);
        assert_eq!(von_mises_cdf(-4.0, k), 0.0);
        assert_eq!(von_mises_cdf(4.0, k), 1.0);
        for t in [0.01, 0.3, 1.0, 2.5, 3.1] {
            let (f1, d1, g1) = von_mises_cdf_parts(t, k);
            let (f2, d2, g2) = von_mises_cdf_parts(-t, k);
            assert!((f1 + f2 - 1.0).abs() < 1e-15);
            assert_eq!(d1, -d2);
            assert_eq!(g1, -g2);
            // θ > 0: F rises with κ (mass moves towards 0), so θ(κ) at fixed u falls.
            if k > 0.0 {
                assert!(
                    d1 >= 0.0 && g1 <= 0.0 && g1.is_finite(),
                    "signs at {k}, {t}"
                );
            }
        }
    }
    // κ = 0 is the uniform law: F = (θ+π)/(2π), dF/dκ = sin θ/(2π), dθ/dκ = −sin θ.
    for t in [-3.0, -1.0, 0.5, 2.0] {
        let (f, d, g) = von_mises_cdf_parts(t, 0.0);
        assert!((f - (t + PI) / (2.0 * PI)).abs() < 1e-15);
        assert!((d - t.sin() / (2.0 * PI)).abs() < 1e-15);
        assert!((g + t.sin()).abs() < 1e-14);
    }
    assert!(von_mises_cdf(f64::NAN, 1.0).is_nan());
    assert!(von_mises_cdf(0.3, -1.0).is_nan());
    assert_eq!(von_mises_cdf(-0.1, f64::INFINITY), 0.0);
    // Monotone in θ across the method boundaries, for several κ.
    for k in [0.3, 4.9, 5.1, 20.0, 49.9, 50.1, 400.0, 1e5] {
        let mut prev = 0.0;
        let n = 4000;
        for i in 0..=n {
            let t = -PI + 2.0 * PI * i as f64 / n as f64;
            let f = von_mises_cdf(t, k);
            assert!(f >= prev - 1e-16, "not monotone at kappa={k}, theta={t}");
            prev = f;
        }
    }
}

/// The three methods meet at κ = 50 (Fourier | large-κ expansion) and at
/// x = κ(1 − cos θ) = 10 (either | tail quadrature): F, ∂F/∂κ and dθ/dκ must be
/// continuous there to near rounding.
#[test]
fn methods_agree_at_their_boundaries() {
    let mut worst = 0.0f64;
    // Across κ = 50 at fixed θ: F(50 + ε) − F(50 − ε) = 2ε ∂F/∂κ + O(ε³).
    let eps = 1e-7;
    for t in [-2.0, -0.9, -0.5, -0.2, -0.05, -1e-3, 0.3, 0.8] {
        let (f0, d0, g0) = von_mises_cdf_parts(t, 50.0 - eps);
        let (f1, d1, g1) = von_mises_cdf_parts(t, 50.0 + eps);
        let (_, dm, gm) = von_mises_cdf_parts(t, 50.0);
        let e = ((f1 - f0) - 2.0 * eps * dm).abs();
        assert!(e < 1e-15, "F jump {e:e} at kappa = 50, theta = {t}");
        // The midpoint average matches the value at the boundary to O(ε²) unless the
        // two methods disagree.
        let ed = (0.5 * (d1 + d0) - dm).abs() / dm.abs();
        let eg = (0.5 * (g1 + g0) - gm).abs() / gm.abs();
        assert!(
            ed < 1e-10 && eg < 1e-10,
            "dF/dk {ed:e}, grad {eg:e} at theta = {t}"
        );
        worst = worst.max(ed).max(eg);
    }
    // Across x = 10 in θ: F(θ* + ε) − F(θ* − ε) = 2ε p(θ*).
    for k in [5.5, 8.0, 20.0, 49.0, 60.0, 1e3, 1e5] {
        let ts = -2.0 * (5.0f64 / k).sqrt().asin();
        let h = 1e-9 * ts.abs();
        let (f0, d0, g0) = von_mises_cdf_parts(ts - h, k);
        let (f1, d1, g1) = von_mises_cdf_parts(ts + h, k);
        let (_, dm, gm) = von_mises_cdf_parts(ts, k);
        let p = von_mises_log_prob(ts, k).exp();
        // Absolute accuracy ~1e-16 on the Fourier side, relative on the other.
        let e = ((f1 - f0) - 2.0 * h * p).abs();
        assert!(
            e < 1e-12 * f0 + 2e-16,
            "F jump {e:e} (F = {f0:e}) at x = 10, kappa = {k}"
        );
        let ed = (0.5 * (d1 + d0) - dm).abs() / dm.abs();
        let eg = (0.5 * (g1 + g0) - gm).abs() / gm.abs();
        assert!(
            ed < 1e-10 && eg < 1e-10,
            "dF/dk {ed:e}, grad {eg:e} at x = 10, kappa = {k}"
        );
        worst = worst.max(ed).max(eg);
    }
    println!("\nrelative jumps of dF/dκ, dθ/dκ at the method boundaries: ≤ {worst:.1e}");
}

#[test]
fn cdf_derivative_in_theta_is_the_density() {
    let mut worst = 0.0f64;
    for k in [1e-3f64, 0.5, 4.0, 30.0, 49.0, 51.0, 300.0, 1e4] {
        let sd = 1.0 / k.sqrt().max(1.0);
        for z in [-4.0f64, -2.0, -1.0, -0.3, 0.2, 1.5, 3.0] {
            let t = (z * sd).clamp(-3.0, 3.0);
            let h = 1e-4 * sd;
            // Fourth-order central difference.
            let fd = (8.0 * (von_mises_cdf(t + h, k) - von_mises_cdf(t - h, k))
                - (von_mises_cdf(t + 2.0 * h, k) - von_mises_cdf(t - 2.0 * h, k)))
                / (12.0 * h);
            let p = von_mises_log_prob(t, k).exp();
            let e = (fd - p).abs() / p.max(1e-3);
            assert!(e < 1e-7, "dF/dθ vs p at kappa={k}, theta={t}: {fd} vs {p}");
            worst = worst.max(e);
        }
    }
    println!("\ndF/dθ (finite difference) vs exp(log_prob): max rel err {worst:.1e}");
}

/// θ with F(θ; κ) = q by bisection on von_mises_cdf.
fn quantile(q: f64, kappa: f64) -> f64 {
    let (mut lo, mut hi) = (-PI, PI);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if von_mises_cdf(mid, kappa) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn implicit_gradient_matches_finite_difference_of_quantile() {
    let mut worst = 0.0f64;
    for k in [0.05, 0.5, 4.0, 20.0, 100.0, 1e3] {
        for q in [1e-4, 0.02, 0.3, 0.7, 0.99] {
            let t = quantile(q, k);
            let h = 1e-4 * k;
            let fd = (quantile(q, k + h) - quantile(q, k - h)) / (2.0 * h);
            let g = von_mises_implicit_grad(t, k);
            let e = (g - fd).abs() / g.abs();
            assert!(e < 1e-5, "kappa={k} q={q}: grad {g:e} vs fd {fd:e}");
            worst = worst.max(e);
        }
    }
    println!(
        "\nimplicit grad vs central difference of the bisection quantile: max rel {worst:.1e}"
    );
}

#[test]
fn far_tails_and_huge_kappa_are_finite() {
    for k in [5.0, 20.0, 100.0, 1e3, 1e4, 1e5, 1e7] {
        for t in [1e-5 - PI, -3.0, -2.0, -1.0, -0.5, -0.1, -0.01, -1e-3, -1e-6] {
            let (f, d, g) = von_mises_cdf_parts(t, k);
            assert!(f.is_finite() && (0.0..=0.5).contains(&f), "F at {k}, {t}");
            assert!(d.is_finite() && d <= 0.0, "dF/dk at {k}, {t}: {d}");
            // For large κ, θ(κ) ≈ z/√κ at fixed u: dθ/dκ ≈ −θ/(2κ) (positive for θ < 0).
            assert!(g.is_finite() && g >= 0.0, "grad at {k}, {t}: {g}");
            if k >= 100.0 && t.abs() < 0.3 {
                let approx = -t / (2.0 * k);
                assert!(
                    (g / approx - 1.0).abs() < 0.1,
                    "grad {g} vs {approx} at {k}, {t}"
                );
            }
        }
    }
}

#[test]
fn timings() {
    use std::hint::black_box;
    use std::time::Instant;
    println!("\nns/call (test profile, opt-level 2), mean over angles spread across the law");
    for k in [0.5f64, 4.0, 100.0, 1e3, 1e5] {
        let sd = 1.0 / k.sqrt().max(0.5);
        let thetas: Vec<f64> = (0..64)
            .map(|i| ((i as f64 - 31.5) / 16.0 * sd).clamp(-3.1, 3.1))
            .collect();
        let reps = 2000;
        let time = |f: &dyn Fn(f64, f64) -> f64| {
            let t0 = Instant::now();
            let mut acc = 0.0;
            for _ in 0..reps {
                for &t in &thetas {
                    acc += f(black_box(t), black_box(k));
                }
            }
            black_box(acc);
            t0.elapsed().as_nanos() as f64 / (reps * thetas.len()) as f64
        };
        let c = time(&von_mises_cdf);
        let g = time(&von_mises_implicit_grad);
        let l = time(&von_mises_log_prob);
        println!("  kappa {k:>7}: cdf {c:6.0}  implicit_grad {g:6.0}  log_prob {l:5.0}");
    }
}

/// Kolmogorov's asymptotic P(D_n > d) with Stephens' small-sample correction.
fn ks_p_value(d: f64, n: usize) -> f64 {
    let sn = (n as f64).sqrt();
    let t = d * (sn + 0.12 + 0.11 / sn);
    let mut p = 0.0;
    for j in 1..100 {
        let term = (-2.0 * (j * j) as f64 * t * t).exp();
        p += if j % 2 == 1 { 2.0 * term } else { -2.0 * term };
        if term < 1e-18 {
            break;
        }
    }
    p.clamp(0.0, 1.0)
}

fn draws(kappa: f64, seed: u64, n: usize) -> Vec<f64> {
    let draw = Generator::new(seed).next_draw();
    (0..n)
        .map(|i| sample_standard_von_mises(kappa, &mut draw.element_stream(i as u64)))
        .collect()
}

fn ks_statistic(mut xs: Vec<f64>, kappa: f64) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = xs.len() as f64;
    let mut d = 0.0f64;
    for (i, &x) in xs.iter().enumerate() {
        let f = von_mises_cdf(x, kappa);
        d = d.max(f - i as f64 / n).max((i + 1) as f64 / n - f);
    }
    d
}

#[test]
fn sampler_ks() {
    let n = 20_000;
    println!("\nBest–Fisher sampler, KS against von_mises_cdf (n = {n})");
    for (j, k) in [1e-3, 0.5, 4.0, 100.0, 1e4].into_iter().enumerate() {
        let xs = draws(k, 1234 + j as u64, n);
        assert!(xs.iter().all(|&x| x > -PI && x <= PI));
        let d = ks_statistic(xs.clone(), k);
        let p = ks_p_value(d, n);
        // The same draws against a wrong κ (25% too large): must be rejected.
        let p_wrong = ks_p_value(ks_statistic(xs, 1.25 * k), n);
        println!("  kappa {k:>7}: D = {d:.4}, p = {p:.3}; against 1.25·kappa p = {p_wrong:.1e}");
        assert!(p >= 1e-3, "kappa {k}: KS p = {p}");
        if k >= 0.5 {
            assert!(
                p_wrong < 1e-3,
                "kappa {k}: wrong kappa not rejected (p = {p_wrong})"
            );
        }
    }
    // Reproducible, and element i depends only on (seed, draw, i).
    let a = draws(4.0, 9, 100);
    let b = draws(4.0, 9, 100);
    assert_eq!(a, b);
    let draw = Generator::new(9).next_draw();
    assert_eq!(
        sample_standard_von_mises(4.0, &mut draw.element_stream(57)),
        a[57]
    );
    // The sampler struct gives the same draws as the function.
    let s = VonMisesSampler::new(4.0);
    assert_eq!(s.sample(&mut draw.element_stream(3)), a[3]);
    // Special concentrations.
    let mut st = draw.element_stream(0);
    assert!(sample_standard_von_mises(f64::NAN, &mut st).is_nan());
    assert_eq!(sample_standard_von_mises(f64::INFINITY, &mut st), 0.0);
    let u = sample_standard_von_mises(0.0, &mut st);
    assert!(u > -PI && u < PI);
    // κ = 1e-200: the uniform fallback; κ = 1e-30 and 1e12: finite, in range.
    for k in [1e-200, 1e-30, 1e12] {
        for i in 0..200 {
            let x = sample_standard_von_mises(k, &mut draw.element_stream(i));
            assert!(x > -PI && x <= PI, "kappa {k}: {x}");
        }
    }
}

/// P(accept) of Best–Fisher at κ: E over z = cos(πU) of min(1, c e^{1−c}) with the
/// sampler's formulas (midpoint rule in U; c e^{1−c} ≤ 1 always).
fn acceptance(kappa: f64) -> f64 {
    let t = 1f64.hypot(2.0 * kappa);
    let tau = 1.0 + t;
    let rho = (tau - (2.0 * tau).sqrt()) / (2.0 * kappa);
    let r = (1.0 + rho * rho) / (2.0 * rho);
    let m = 200_000;
    let mut acc = 0.0;
    for i in 0..m {
        let z = (PI * (i as f64 + 0.5) / m as f64).cos();
        let f = (1.0 + r * z) / (r + z);
        let c = kappa * (r - f);
        acc += c * (1.0 - c).exp();
    }
    acc / m as f64
}

#[test]
fn sampler_acceptance_rate() {
    println!("\nBest–Fisher acceptance probability (numerical integral)");
    for k in [0.01, 0.5, 1.0, 2.0, 4.0, 10.0, 100.0, 1e4] {
        let a = acceptance(k);
        println!("  kappa {k:>7}: {a:.4}");
        assert!(a > 0.6 && a <= 1.0);
    }
}

/// i0e(x) ≈ 1/√(2πx) and i1e(x) ≈ 1/√(2πx) for huge x: the factor √(2πx) overflowed
/// for x > 2.9e307, so i0e(f64::MAX) was 0 and VonMises at κ = f64::MAX gave
/// log_prob(loc) = +∞ and NaN moments.
#[test]
fn bessel_ratios_at_the_largest_arguments() {
    use candle_distributions::special::bessel::{i0e, i1e};
    for x in [1e300, f64::MAX] {
        let want = 1.0 / ((2.0 * std::f64::consts::PI).sqrt() * x.sqrt());
        for (name, got) in [("i0e", i0e(x)), ("i1e", i1e(x))] {
            assert!(
                (got - want).abs() <= 1e-14 * want,
                "{name}({x:e}) = {got:e}, want {want:e}"
            );
        }
    }
}
