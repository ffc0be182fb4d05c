//! Binomial, Poisson and NegativeBinomial against `reference/count_family.json`
//! (mpmath at 50 digits, `reference/gen_count_family.py`): log_prob, its gradients
//! with respect to the given parameter (probs or logits, or rate) and total_count, the
//! Poisson cdf and its rate gradient, mean, variance, mode and the Binomial entropy;
//! in f64 (relative tolerance 1e-10) and f32 (1e-5), every reference parameter being
//! f32-exact. Infinite references must be matched exactly.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::{Binomial, NegativeBinomial, Poisson};
use serde_json::Value;

use crate::common;
use common::{host, num, nums, read_reference};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/count_family.json"
);

fn load() -> Value {
    read_reference(PATH)
}

fn tol(dt: DType) -> f64 {
    match dt {
        DType::F64 => 1e-10,
        _ => 1e-5,
    }
}

/// Worst relative error seen per quantity (printed at the end of each test).
#[derive(Default)]
struct Worst(std::collections::BTreeMap<String, f64>);

impl Worst {
    fn check(&mut self, what: &str, dt: DType, got: &[f64], want: &[f64], ctx: &str) {
        assert_eq!(got.len(), want.len(), "{ctx} {what}: lengths");
        // f32 gradients of a log-mass with terms of size T are exact to ~T·2⁻²⁴
        // absolute: measured relative to the gradient's scale, 1 + |want|.
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            if w.is_nan() {
                continue;
            }
            if w.is_infinite() {
                assert_eq!(g, w, "{ctx} {what}[{i}] ({dt:?}): {g} vs {w}");
                continue;
            }
            // Below f32's normal range the f32 result carries an absolute rounding of
            // the subnormal spacing: relative to f32::MIN_POSITIVE there.
            let floor = match (what.starts_with("grad"), dt) {
                (true, _) => 1.0,
                (false, DType::F32) => f32::MIN_POSITIVE as f64,
                (false, _) => 1e-300,
            };
            let err = (g - w).abs() / w.abs().max(floor);
            let e = self.0.entry(format!("{what} {dt:?}")).or_insert(0.0);
            *e = e.max(err);
            assert!(
                err <= tol(dt),
                "{ctx} {what}[{i}] ({dt:?}): {g} vs {w} (rel {err:.2e})"
            );
        }
    }

    fn print(&self, family: &str) {
        for (k, v) in &self.0 {
            println!("{family} {k}: max rel err {v:.2e}");
        }
    }
}

fn vec_tensor(v: &[f64], dt: DType) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap().to_dtype(dt).unwrap()
}

fn var_of(x: f64, m: usize, dt: DType) -> Var {
    Var::from_tensor(&vec_tensor(&vec![x; m], dt)).unwrap()
}

fn grad(g: &candle_core::backprop::GradStore, v: &Var) -> Vec<f64> {
    host(g.get(v).expect("gradient reaches the parameter"))
}

fn scalar(x: &Tensor) -> f64 {
    host(x)[0]
}

/// Checks the scalar moments `whats` of `s` against the case `c`.
fn check_moments(
    worst: &mut Worst,
    s: &dyn Distribution,
    whats: &[&str],
    c: &Value,
    dt: DType,
    ctx: &str,
) {
    for &what in whats {
        let t = match what {
            "mean" => s.mean(),
            "variance" => s.variance(),
            "mode" => s.mode(),
            "entropy" => s.entropy(),
            _ => unreachable!("{what}"),
        }
        .unwrap();
        assert_eq!(t.dtype(), dt, "{ctx} {what}");
        worst.check(what, dt, &[scalar(&t)], &[num(&c[what])], ctx);
    }
}

/// A family `name`(total_count, probs | logits) against its cases `doc[key]`, in f64
/// and f32: log_prob at a batch of values and its gradients with respect to the given
/// parameter and total_count, then the moments `whats` of the scalar law. `make`
/// builds it from (total_count, parameter, given as logits).
fn check_count_family(
    key: &str,
    name: &str,
    make: fn(&Tensor, &Tensor, bool) -> Box<dyn Distribution>,
    whats: &[&str],
) {
    let doc = load();
    let mut worst = Worst::default();
    for c in doc[key].as_array().unwrap() {
        let (n, x) = (num(&c["total_count"]), num(&c["param"]));
        let logits = c["given"].as_str() == Some("logits");
        let values = nums(&c["values"]);
        let m = values.len();
        let ctx = format!("{name}(total_count = {n}, {} = {x})", c["given"]);
        for dt in [DType::F64, DType::F32] {
            let (vn, vx) = (var_of(n, m, dt), var_of(x, m, dt));
            let d = make(vn.as_tensor(), vx.as_tensor(), logits);
            let lp = d.log_prob(&vec_tensor(&values, dt)).unwrap();
            assert_eq!(lp.dtype(), dt);
            worst.check("log_prob", dt, &host(&lp), &nums(&c["log_prob"]), &ctx);
            let g = lp.sum_all().unwrap().backward().unwrap();
            worst.check(
                "grad_param",
                dt,
                &grad(&g, &vx),
                &nums(&c["grad_param"]),
                &ctx,
            );
            worst.check(
                "grad_total_count",
                dt,
                &grad(&g, &vn),
                &nums(&c["grad_total_count"]),
                &ctx,
            );
            let scalar_of = |v: f64| vec_tensor(&[v], dt).squeeze(0).unwrap();
            let s = make(&scalar_of(n), &scalar_of(x), logits);
            check_moments(&mut worst, s.as_ref(), whats, c, dt, &ctx);
        }
    }
    worst.print(name);
}

#[test]
fn binomial_matches_reference() {
    check_count_family(
        "binomial",
        "Binomial",
        |n, x, logits| {
            let d = if logits {
                Binomial::from_logits(n, x)
            } else {
                Binomial::new(n, x)
            };
            Box::new(d.unwrap())
        },
        &["mean", "variance", "mode", "entropy"],
    );
}

#[test]
fn poisson_matches_reference() {
    let doc = load();
    let mut worst = Worst::default();
    for c in doc["poisson"].as_array().unwrap() {
        let rate = num(&c["rate"]);
        let values = nums(&c["values"]);
        let m = values.len();
        let ctx = format!("Poisson(rate = {rate})");
        for dt in [DType::F64, DType::F32] {
            let vr = var_of(rate, m, dt);
            let d = Poisson::new(vr.as_tensor()).unwrap();
            let lp = d.log_prob(&vec_tensor(&values, dt)).unwrap();
            worst.check("log_prob", dt, &host(&lp), &nums(&c["log_prob"]), &ctx);
            let g = lp.sum_all().unwrap().backward().unwrap();
            worst.check(
                "grad_rate",
                dt,
                &grad(&g, &vr),
                &nums(&c["grad_rate"]),
                &ctx,
            );
            let cdf_ref = nums(&c["cdf"]);
            if cdf_ref.iter().all(|v| !v.is_nan()) {
                let cdf = d.cdf(&vec_tensor(&values, dt)).unwrap();
                worst.check("cdf", dt, &host(&cdf), &cdf_ref, &ctx);
                let g = cdf.sum_all().unwrap().backward().unwrap();
                worst.check(
                    "grad_cdf_rate",
                    dt,
                    &grad(&g, &vr),
                    &nums(&c["grad_cdf_rate"]),
                    &ctx,
                );
            }
            let s = Poisson::new(&vec_tensor(&[rate], dt).squeeze(0).unwrap()).unwrap();
            check_moments(&mut worst, &s, &["mean", "variance", "mode"], c, dt, &ctx);
        }
    }
    worst.print("Poisson");
}

#[test]
fn negative_binomial_matches_reference() {
    check_count_family(
        "negative_binomial",
        "NegativeBinomial",
        |r, x, logits| {
            let d = if logits {
                NegativeBinomial::from_logits(r, x)
            } else {
                NegativeBinomial::new(r, x)
            };
            Box::new(d.unwrap())
        },
        &["mean", "variance", "mode"],
    );
}
