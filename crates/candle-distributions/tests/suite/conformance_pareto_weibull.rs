//! Pareto and Weibull against `reference/pareto_weibull.json` (mpmath at 50 digits,
//! gradients by `mpmath.diff` at 400 digits, f32-exact inputs; written by
//! `reference/gen_pareto_weibull.py`), plus their pathwise gradients, the KS test of
//! their samplers, validation, shapes and extreme parameters.
//!
//! Tolerances (|ours − ref| ≤ rtol·|ref| + atol·M): f64 rtol 1e-10, atol 1e-12; f32
//! rtol 1e-5, atol 1e-6 (both evaluate in f64 and round once, so these leave a wide
//! margin). M = 1 except for the gradients that are, by construction, differences of
//! terms of magnitude M (Weibull's d lp/d k = 1/k − t·expm1(u) and
//! d lp/d x = −(1 + k·expm1(u))/x = −((1 − k) + k e^u)/x, t = ln(x/λ), u = kt, which
//! cross 0 inside the grid; M is the smaller sum of term magnitudes): there the
//! absolute error is ~ε·M for any implementation. Non-finite references must be
//! matched exactly.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::Error;
use serde_json::Value;

use crate::common;
use common::{host, ks_pvalue, ks_stat, num, nums, quote_numbers};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/pareto_weibull.json"
);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Prec {
    F64,
    F32,
}

impl Prec {
    fn dtype(self) -> DType {
        match self {
            Prec::F64 => DType::F64,
            Prec::F32 => DType::F32,
        }
    }
    fn tol(self) -> (f64, f64) {
        match self {
            Prec::F64 => (1e-10, 1e-12),
            Prec::F32 => (1e-5, 1e-6),
        }
    }
}

struct Case {
    dist: String,
    params: Vec<(String, f64)>,
    values: Vec<f64>,
    log_prob: Vec<f64>,
    cdf: Vec<f64>,
    grad_log_prob: Vec<(String, Vec<f64>)>,
    grad_cdf: Vec<(String, Vec<f64>)>,
    q: Vec<f64>,
    icdf: Vec<f64>,
    moments: Vec<(&'static str, f64)>,
}

fn param_names(dist: &str) -> [&'static str; 2] {
    match dist {
        "Pareto" => ["scale", "alpha"],
        "Weibull" => ["scale", "concentration"],
        other => panic!("unknown distribution {other}"),
    }
}

fn load() -> Vec<Case> {
    let text = std::fs::read_to_string(PATH).expect("reference/pareto_weibull.json");
    let doc: Value = serde_json::from_str(&quote_numbers(&text)).expect("JSON parses");
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let dist = c["dist"].as_str().unwrap().to_string();
            let names = param_names(&dist);
            let grads = |key: &str| {
                names
                    .iter()
                    .chain(&["value"])
                    .map(|n| (n.to_string(), nums(&c[key][*n])))
                    .collect()
            };
            Case {
                params: names
                    .iter()
                    .map(|n| (n.to_string(), num(&c["params"][*n])))
                    .collect(),
                values: nums(&c["values"]),
                log_prob: nums(&c["log_prob"]),
                cdf: nums(&c["cdf"]),
                grad_log_prob: grads("grad_log_prob"),
                grad_cdf: grads("grad_cdf"),
                q: nums(&c["q"]),
                icdf: nums(&c["icdf"]),
                moments: ["entropy", "mean", "mode", "variance", "stddev"]
                    .iter()
                    .map(|&m| (m, num(&c[m])))
                    .collect(),
                dist,
            }
        })
        .collect()
}

fn build(
    dist: &str,
    a: &Tensor,
    b: &Tensor,
) -> candle_distributions::Result<Box<dyn Distribution>> {
    Ok(match dist {
        "Pareto" => Box::new(Pareto::new(a, b)?),
        "Weibull" => Box::new(Weibull::new(a, b)?),
        other => panic!("unknown distribution {other}"),
    })
}

fn tensor(v: &[f64], prec: Prec) -> Tensor {
    Tensor::from_vec(v.to_vec(), v.len(), &Device::Cpu)
        .unwrap()
        .to_dtype(prec.dtype())
        .unwrap()
}

/// The reference as the dtype holds it: a finite f64 beyond f32's range is its ∞.
fn expected_in(prec: Prec, r: f64) -> f64 {
    if prec == Prec::F32 && r.is_finite() && (r as f32).is_infinite() {
        r as f32 as f64
    } else {
        r
    }
}

/// Largest relative error (where |ref| ≥ atol/rtol) and err/tol, per method and dtype.
#[derive(Default)]
struct Report {
    rows: Vec<(String, f64, f64, usize)>,
    failures: Vec<String>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    fn check(
        &mut self,
        label: &str,
        prec: Prec,
        what: &str,
        ours: &[f64],
        refs: &[f64],
        m: &[f64],
    ) {
        assert_eq!(ours.len(), refs.len(), "{label} {what}");
        let (rtol, atol) = prec.tol();
        let key = format!("{} {what} [{prec:?}]", label.split(' ').next().unwrap());
        let idx = match self.rows.iter().position(|r| r.0 == key) {
            Some(i) => i,
            None => {
                self.rows.push((key, 0.0, 0.0, 0));
                self.rows.len() - 1
            }
        };
        for (i, (&o, &r)) in ours.iter().zip(refs).enumerate() {
            let e = expected_in(prec, r);
            let row = &mut self.rows[idx];
            row.3 += 1;
            let ok = if !e.is_finite() {
                o == e || (o.is_nan() && e.is_nan())
            } else {
                let tol = rtol * e.abs() + atol * m[i].max(1.0);
                let err = (o - e).abs();
                if e.abs() >= atol / rtol {
                    row.1 = row.1.max(err / e.abs());
                }
                row.2 = row.2.max(err / tol);
                err <= tol
            };
            if !ok {
                self.failures.push(format!(
                    "{label} [{prec:?}] {what}[{i}]: ours {o:e}, ref {r:e}"
                ));
            }
        }
    }

    fn finish(self) {
        println!(
            "{:<44} {:>11} {:>11} {:>5}",
            "method", "max rel", "err/tol", "n"
        );
        for (k, rel, ratio, n) in &self.rows {
            println!("{k:<44} {rel:>11.2e} {ratio:>11.2e} {n:>5}");
        }
        assert!(
            self.failures.is_empty(),
            "{} failures:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// The magnitude of the cancelling terms of each gradient (see the module docs).
fn cancel_scale(case: &Case, method: &str, wrt: &str) -> Vec<f64> {
    let lam = case.params[0].1;
    let k = case.params[1].1;
    case.values
        .iter()
        .map(|&x| {
            if case.dist != "Weibull" || method != "log_prob" {
                return 1.0;
            }
            let t = (x / lam).ln();
            let eu = (k * t).exp();
            let em = (k * t).exp_m1();
            match wrt {
                "concentration" => 1.0 / k + (t * em).abs(),
                "value" => (1.0 + (k * em).abs()).min((1.0 - k).abs() + k * eu) / x,
                _ => 1.0,
            }
        })
        .collect()
}

fn run_case(rep: &mut Report, case: &Case, prec: Prec) {
    let n = case.values.len();
    let label = format!(
        "{} ({}={}, {}={})",
        case.dist, case.params[0].0, case.params[0].1, case.params[1].0, case.params[1].1
    );
    for method in ["log_prob", "cdf"] {
        let a = Var::from_tensor(&tensor(&vec![case.params[0].1; n], prec)).unwrap();
        let b = Var::from_tensor(&tensor(&vec![case.params[1].1; n], prec)).unwrap();
        let x = Var::from_tensor(&tensor(&case.values, prec)).unwrap();
        let d = build(&case.dist, a.as_tensor(), b.as_tensor()).unwrap();
        let (out, refs, grefs) = if method == "log_prob" {
            (d.log_prob(&x).unwrap(), &case.log_prob, &case.grad_log_prob)
        } else {
            (d.cdf(&x).unwrap(), &case.cdf, &case.grad_cdf)
        };
        assert_eq!(out.dtype(), prec.dtype());
        rep.check(&label, prec, method, &host(&out), refs, &vec![1.0; n]);
        let grads = out.sum_all().unwrap().backward().unwrap();
        for (name, gref) in grefs {
            let t = match name.as_str() {
                "value" => x.as_tensor(),
                s if s == case.params[0].0 => a.as_tensor(),
                _ => b.as_tensor(),
            };
            let ours = grads.get(t).map(host).unwrap_or_else(|| vec![0.0; n]);
            let m = cancel_scale(case, method, name);
            rep.check(
                &label,
                prec,
                &format!("d {method}/d {name}"),
                &ours,
                gref,
                &m,
            );
        }
    }
    let d = build(
        &case.dist,
        &tensor(&[case.params[0].1], prec),
        &tensor(&[case.params[1].1], prec),
    )
    .unwrap();
    let icdf = d.icdf(&tensor(&case.q, prec)).unwrap();
    rep.check(
        &label,
        prec,
        "icdf",
        &host(&icdf),
        &case.icdf,
        &vec![1.0; case.q.len()],
    );
    for (m, r) in &case.moments {
        let t = match *m {
            "entropy" => d.entropy(),
            "mean" => d.mean(),
            "mode" => d.mode(),
            "variance" => d.variance(),
            _ => d.stddev(),
        }
        .unwrap();
        rep.check(&label, prec, m, &host(&t), &[*r], &[1.0]);
    }
}

#[test]
fn pareto_and_weibull_match_the_mpmath_reference() {
    let cases = load();
    assert_eq!(cases.len(), 15);
    let mut rep = Report::default();
    for case in &cases {
        for prec in [Prec::F64, Prec::F32] {
            run_case(&mut rep, case, prec);
        }
    }
    rep.finish();
}

/// (scale, shape) pairs for the sampler tests.
const PARETO_PARAMS: [(f64, f64); 4] = [(1.0, 1.0), (2.0, 3.0), (1e-3, 0.5), (5.0, 40.0)];
const WEIBULL_PARAMS: [(f64, f64); 4] = [(1.0, 1.0), (2.0, 0.5), (0.5, 3.5), (3.0, 40.0)];

fn both(mut f: impl FnMut(&str, f64, f64)) {
    for (s, a) in PARETO_PARAMS {
        f("Pareto", s, a);
    }
    for (s, k) in WEIBULL_PARAMS {
        f("Weibull", s, k);
    }
}

/// One-sample KS test of 20 000 draws against the closed-form CDF (written here, not
/// the crate's), fixed seeds, p ≥ 1e-3, in f64 and f32.
#[test]
fn samples_pass_kolmogorov_smirnov() {
    const N: usize = 20_000;
    both(|dist, s, a| {
        for (i, prec) in [Prec::F64, Prec::F32].into_iter().enumerate() {
            let d = build(dist, &tensor(&[s], prec), &tensor(&[a], prec)).unwrap();
            let mut g = Generator::new(1234 + i as u64 + (s * 1e3) as u64 + (a * 1e6) as u64);
            let x = d.sample(&[N], &mut g).unwrap();
            assert_eq!(x.dims(), &[N, 1]);
            assert_eq!(x.dtype(), prec.dtype());
            let xs = host(&x);
            let cdf = |x: f64| match dist {
                "Pareto" => 1.0 - (s / x).powf(a),
                _ => 1.0 - (-(x / s).powf(a)).exp(),
            };
            assert!(xs.iter().all(|&v| v.is_finite() && v > 0.0));
            if dist == "Pareto" {
                assert!(xs.iter().all(|&v| v >= s as f32 as f64 * (1.0 - 1e-7)));
            }
            let stat = ks_stat(xs.iter().map(|&x| (x, cdf(x))).collect());
            let p = ks_pvalue(stat, N);
            println!("{dist}({s}, {a}) {prec:?}: D = {stat:.5}, p = {p:.3}");
            assert!(p >= 1e-3, "{dist}({s}, {a}) {prec:?}: D = {stat}, p = {p}");
        }
    });
}

/// rsample's pathwise gradients against the analytic ∂x/∂scale = x/scale and
/// ∂x/∂shape = −x ln(x/scale)/shape (both laws are x = scale·exp(c/shape) of a
/// parameter-free c), and against central finite differences of the draws themselves
/// with the same seed (h = 1e-6 relative, in f64).
#[test]
fn rsample_gradients_match_analytic_and_finite_differences() {
    const N: usize = 64;
    let mut max_an: f64 = 0.0;
    let mut max_fd: f64 = 0.0;
    both(|dist, s, a| {
        let draw = |s: f64, a: f64| -> Vec<f64> {
            let d = build(dist, &tensor(&[s], Prec::F64), &tensor(&[a], Prec::F64)).unwrap();
            host(&d.rsample(&[N], &mut Generator::new(7)).unwrap())
        };
        let sv = Var::new(&[s], &Device::Cpu).unwrap();
        let av = Var::new(&[a], &Device::Cpu).unwrap();
        let d = build(dist, sv.as_tensor(), av.as_tensor()).unwrap();
        let x = d.rsample(&[N], &mut Generator::new(7)).unwrap();
        let xs = host(&x);
        assert_eq!(xs, draw(s, a), "{dist}: same seed, same draws");
        for (j, &xj) in xs.iter().enumerate() {
            // Per-draw gradients: backward of one element.
            let g = x.get(j).unwrap().sum_all().unwrap().backward().unwrap();
            let ds = host(g.get(sv.as_tensor()).unwrap())[0];
            let da = host(g.get(av.as_tensor()).unwrap())[0];
            let want_s = xj / s;
            let want_a = -xj * (xj / s).ln() / a;
            let e_s = (ds - want_s).abs() / want_s.abs();
            let e_a = (da - want_a).abs() / want_a.abs().max(1e-300);
            max_an = max_an.max(e_s).max(e_a);
            assert!(
                e_s < 1e-12 && e_a < 1e-10,
                "{dist}({s}, {a}) draw {j}: {ds} {da} want {want_s} {want_a}"
            );
            if j < 8 {
                let hs = 1e-6 * s;
                let ha = 1e-6 * a;
                let fd_s = (draw(s + hs, a)[j] - draw(s - hs, a)[j]) / (2.0 * hs);
                let fd_a = (draw(s, a + ha)[j] - draw(s, a - ha)[j]) / (2.0 * ha);
                let f_s = (fd_s - ds).abs() / ds.abs();
                let f_a = (fd_a - da).abs() / da.abs().max(1e-12 * xj);
                max_fd = max_fd.max(f_s).max(f_a);
                assert!(
                    f_s < 1e-6 && f_a < 1e-6,
                    "{dist}({s}, {a}) draw {j}: fd {fd_s} {fd_a}, ours {ds} {da}"
                );
            }
        }
    });
    println!("pathwise gradients: max rel error vs analytic {max_an:.2e}, vs finite differences {max_fd:.2e}");
}

/// rsample_and_log_prob's density equals log_prob of the returned draw.
#[test]
fn rsample_and_log_prob_agrees_with_log_prob() {
    both(|dist, s, a| {
        let d = build(dist, &tensor(&[s], Prec::F64), &tensor(&[a], Prec::F64)).unwrap();
        let (x, lp) = d
            .rsample_and_log_prob(&[16], &mut Generator::new(3))
            .unwrap();
        let want = host(&d.log_prob(&x).unwrap());
        for (o, w) in host(&lp).iter().zip(&want) {
            assert!((o - w).abs() <= 1e-12 * w.abs().max(1.0), "{dist}: {o} {w}");
        }
    });
}

#[test]
fn invalid_parameters_and_values_are_typed_errors() {
    let dev = Device::Cpu;
    let bad = Tensor::new(&[1.0f64, -2.0], &dev).unwrap();
    let one = Tensor::new(1.0f64, &dev).unwrap();
    match Pareto::new(&one, &bad) {
        Err(Error::InvalidParameter {
            distribution,
            parameter,
            found,
            index,
            ..
        }) => {
            assert_eq!(
                (distribution, parameter, found, index),
                ("Pareto", "alpha", -2.0, 1)
            );
        }
        other => panic!("{other:?}"),
    }
    match Weibull::new(f64::NAN, 1.0) {
        Err(Error::InvalidParameter {
            distribution,
            parameter,
            ..
        }) => assert_eq!((distribution, parameter), ("Weibull", "scale")),
        other => panic!("{other:?}"),
    }
    let p = Pareto::from_scalars(2.0, 3.0, DType::F64, &dev).unwrap();
    let below = Tensor::new(&[2.5f64, 1.5], &dev).unwrap();
    match p.log_prob(&below) {
        Err(Error::OutOfSupport {
            distribution,
            found,
            index,
            ..
        }) => assert_eq!((distribution, found, index), ("Pareto", 1.5, 1)),
        other => panic!("{other:?}"),
    }
    let w = Weibull::from_scalars(2.0, 3.0, DType::F64, &dev).unwrap();
    assert!(matches!(
        w.cdf(&Tensor::new(0.0f64, &dev).unwrap()),
        Err(Error::OutOfSupport {
            distribution: "Weibull",
            ..
        })
    ));
    assert!(matches!(
        w.icdf(&Tensor::new(1.5f64, &dev).unwrap()),
        Err(Error::OutOfSupport {
            distribution: "Weibull",
            argument: "q",
            ..
        })
    ));
    // With checks off, values outside the support have density 0 (log −∞) and the
    // cdf its limit.
    let mut p = p;
    p.set_validate_args(false);
    assert_eq!(host(&p.log_prob(&below).unwrap())[1], f64::NEG_INFINITY);
    assert_eq!(host(&p.cdf(&below).unwrap())[1], 0.0);
}

#[test]
fn broadcasting_and_expand() {
    let dev = Device::Cpu;
    let s = Tensor::new(&[[1.0f64], [2.0]], &dev).unwrap();
    let a = Tensor::new(&[0.5f64, 1.5, 3.0], &dev).unwrap();
    for dist in ["Pareto", "Weibull"] {
        let d = build(dist, &s, &a).unwrap();
        assert_eq!(d.batch_shape(), &[2, 3]);
        assert_eq!(
            d.rsample(&[4], &mut Generator::new(1)).unwrap().dims(),
            &[4, 2, 3]
        );
        let x = Tensor::new(2.5f64, &dev).unwrap();
        assert_eq!(d.log_prob(&x).unwrap().dims(), &[2, 3]);
        let e = d.expand(&[5, 2, 3]).unwrap();
        assert_eq!(e.batch_shape(), &[5, 2, 3]);
        assert_eq!(e.mean().unwrap().dims(), &[5, 2, 3]);
        assert!(matches!(d.expand(&[3, 3]), Err(Error::Shape { .. })));
        // Values that do not broadcast are shape errors.
        let v = Tensor::new(&[3.0f64, 4.0], &dev).unwrap();
        assert!(matches!(d.log_prob(&v), Err(Error::Shape { .. })));
    }
}

/// Extreme but valid parameters: closed-form limits, and no NaN in values or
/// gradients.
#[test]
fn extreme_parameters_give_limits_not_nan() {
    let dev = Device::Cpu;
    // Weibull variance for huge k: λ²π²/(6k²)(1 − 2ζ(3)/(ζ(2)k) + …); λ² alone
    // overflows here.
    let w = Weibull::from_scalars(1e160, 1e10, DType::F64, &dev).unwrap();
    let v = host(&w.variance().unwrap())[0];
    let zeta2 = std::f64::consts::PI.powi(2) / 6.0;
    // Var/λ² = Γ(1 + 2ε) − Γ(1 + ε)² = ζ(2)ε²(1 − (2ζ(3)/ζ(2) + 2γ)ε + O(ε²)), ε = 1/k.
    let zeta3 = 1.202_056_903_159_594_2;
    let gamma = 0.577_215_664_901_532_9;
    let want = 1e300 * zeta2 * (1.0 - (2.0 * zeta3 / zeta2 + 2.0 * gamma) / 1e10);
    assert!((v - want).abs() < 1e-12 * want, "{v} {want}");
    let sd = host(&w.stddev().unwrap())[0];
    assert!((sd - want.sqrt()).abs() < 1e-12 * want.sqrt());
    // Pareto: variance σ²α/((α − 1)²(α − 2)) with σ² overflowing.
    let p = Pareto::from_scalars(1e200, 1e100, DType::F64, &dev).unwrap();
    let v = host(&p.variance().unwrap())[0];
    assert!((v - 1e200).abs() < 1e-12 * 1e200, "{v}");
    // Infinite moments.
    let p = Pareto::from_scalars(1.0, 0.5, DType::F64, &dev).unwrap();
    assert_eq!(host(&p.mean().unwrap())[0], f64::INFINITY);
    assert_eq!(host(&p.variance().unwrap())[0], f64::INFINITY);
    for (dist, s, a) in [
        ("Pareto", 5e-324, 1e-300),
        ("Pareto", f64::MAX, f64::MAX),
        ("Pareto", 1e-300, 5e-324),
        ("Weibull", 5e-324, 1e-300),
        ("Weibull", f64::MAX, 1e300),
        ("Weibull", 1.0, 5e-324),
        ("Weibull", 1e-300, f64::MAX),
    ] {
        for prec in [Prec::F64, Prec::F32] {
            let (s, a) = if prec == Prec::F32 {
                (
                    (s as f32).max(f32::from_bits(1)).min(f32::MAX) as f64,
                    (a as f32).max(f32::from_bits(1)).min(f32::MAX) as f64,
                )
            } else {
                (s, a)
            };
            let sv = Var::from_tensor(&tensor(&[s], prec)).unwrap();
            let av = Var::from_tensor(&tensor(&[a], prec)).unwrap();
            let d = build(dist, sv.as_tensor(), av.as_tensor()).unwrap();
            let x = d.rsample(&[256], &mut Generator::new(9)).unwrap();
            let xs = host(&x);
            assert!(
                xs.iter().all(|v| v.is_finite() && *v > 0.0),
                "{dist}({s}, {a}) draws"
            );
            let g = x.sum_all().unwrap().backward().unwrap();
            for t in [&sv, &av] {
                let gv = g.get(t.as_tensor()).map(host).unwrap_or_default();
                assert!(
                    gv.iter().all(|v| !v.is_nan()),
                    "{dist}({s}, {a}) rsample grad"
                );
            }
            let lp = d.log_prob(&x.detach()).unwrap();
            assert!(host(&lp).iter().all(|v| !v.is_nan() && *v < f64::INFINITY));
            let g = lp.sum_all().unwrap().backward().unwrap();
            for t in [&sv, &av] {
                let gv = g.get(t.as_tensor()).map(host).unwrap_or_default();
                assert!(
                    gv.iter().all(|v| !v.is_nan()),
                    "{dist}({s}, {a}) log_prob grad"
                );
            }
            for m in [d.entropy(), d.mean(), d.variance(), d.stddev()] {
                assert!(!host(&m.unwrap())[0].is_nan(), "{dist}({s}, {a}) moment");
            }
            let f = host(&d.cdf(&x.detach()).unwrap());
            assert!(f.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}

/// d icdf(q)/dq = 1/p(icdf(q)) (inverse function rule), with the density written here.
#[test]
fn icdf_gradient_is_the_reciprocal_density() {
    let qs = [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999];
    both(|dist, s, a| {
        let d = build(dist, &tensor(&[s], Prec::F64), &tensor(&[a], Prec::F64)).unwrap();
        let q = Var::new(&qs[..], &Device::Cpu).unwrap();
        let x = d.icdf(q.as_tensor()).unwrap();
        let g = host(
            x.sum_all()
                .unwrap()
                .backward()
                .unwrap()
                .get(q.as_tensor())
                .unwrap(),
        );
        for (i, &xi) in host(&x).iter().enumerate() {
            let pdf = match dist {
                "Pareto" => a * s.powf(a) / xi.powf(a + 1.0),
                _ => (a / s) * (xi / s).powf(a - 1.0) * (-(xi / s).powf(a)).exp(),
            };
            let want = 1.0 / pdf;
            assert!(
                (g[i] - want).abs() <= 1e-10 * want.abs(),
                "{dist}({s}, {a}) q = {}: {} vs {want}",
                qs[i],
                g[i]
            );
        }
    });
}

/// Weibull(λ = 1e-300, k = 1e8) with λ broadcast over values on both sides of λ: the
/// per-value terms k·expm1(u)/λ of ∂log p/∂λ overflow to +∞ and −∞; their sum is
/// taken with 1/λ outside it, so the gradient is +∞ (the true total's sign), not NaN
/// (the 1e6-case property run's class: seed 10059319690293143606).
#[test]
fn weibull_scale_gradient_over_values_on_both_sides_of_a_tiny_scale(
) -> Result<(), Box<dyn std::error::Error>> {
    use candle_core::{Device, Tensor, Var};
    use candle_distributions::{Distribution, Weibull};
    let dev = Device::Cpu;
    let lambda = Var::new(&[[1e-300f64]], &dev)?;
    let d = Weibull::new(&lambda, 1e8f64)?;
    let x = Tensor::new(
        &[0.5e-300, 0.25e-300, 0.1e-300, 1e-300, 1e-300 * (1.0 + 7e-6)],
        &dev,
    )?;
    let lp = d.log_prob(&x)?;
    let v = lp.flatten_all()?.to_vec1::<f64>()?;
    assert!(v.iter().all(|x| !x.is_nan()), "{v:?}");
    let g = lp.sum_all()?.backward()?;
    let gl = g
        .get(&lambda)
        .ok_or("no gradient")?
        .flatten_all()?
        .to_vec1::<f64>()?;
    assert_eq!(gl, vec![f64::INFINITY]);
    Ok(())
}
