//! Bernoulli, Geometric, LogitRelaxedBernoulli and RelaxedBernoulli against
//! `reference/binary_family.json` (mpmath at 50 digits, gradients by `mpmath.diff` at
//! 80 digits, f32-exact inputs; written by `reference/gen_binary_family.py`): log-mass
//! or log-density, its gradient with respect to the given parameter (probs or logits)
//! and, for the relaxed pair, the temperature; entropy, its gradient, mean and variance
//! of the discrete pair. Both dtypes, from probs and from logits.
//!
//! Tolerances: f64 |ours − ref| ≤ 1e-10·|ref| + 1e-12 (the absolute floor for results
//! that are 0 up to the reference's own 50-digit noise, RelaxedBernoulli at τ = 1,
//! l = 0); f32 1e-5·|ref| + 1e-6 (results are computed in f64 and rounded once).
//! Infinite references must be matched exactly.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use serde_json::Value;

use crate::common;
use common::{num, nums, read_reference};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/binary_family.json"
);

fn doc() -> Value {
    read_reference(PATH)
}

/// Nullable numbers (gradients at p ∈ {0, 1} are not in the file).
fn opt_nums(v: &Value) -> Vec<Option<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| if x.is_null() { None } else { Some(num(x)) })
        .collect()
}

fn tol(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F64 => (1e-10, 1e-12),
        _ => (1e-5, 1e-6),
    }
}

/// Returns the error measure |ours − ref|/(rtol·|ref| + atol) (≤ 1 passes), asserting
/// infinities match exactly.
fn check(what: &str, got: f64, want: f64, dtype: DType) -> f64 {
    if want.is_infinite() || got.is_infinite() {
        assert_eq!(got, want, "{what} ({dtype:?})");
        return 0.0;
    }
    assert!(!got.is_nan(), "{what} ({dtype:?}): NaN, expected {want:e}");
    let (r, a) = tol(dtype);
    let e = (got - want).abs() / (r * want.abs() + a);
    assert!(
        e <= 1.0,
        "{what} ({dtype:?}): got {got:e}, expected {want:e}"
    );
    e
}

fn scalar(v: f64, dtype: DType) -> Tensor {
    Tensor::new(v, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

fn first(t: &Tensor) -> f64 {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()[0]
}

type BuildDiscrete = fn(&str, &Tensor) -> Box<dyn Distribution>;

fn discrete(family: &str, build: BuildDiscrete) -> f64 {
    let doc = doc();
    let mut worst: f64 = 0.0;
    for c in doc[family].as_array().unwrap() {
        let given = c["given"].as_str().unwrap();
        let param = num(&c["param"]);
        let values = nums(&c["values"]);
        let lps = nums(&c["log_prob"]);
        let grads = opt_nums(&c["grad"]);
        for dtype in [DType::F64, DType::F32] {
            let var = Var::from_tensor(&scalar(param, dtype)).unwrap();
            let d = build(given, var.as_tensor());
            let what = |m: &str| format!("{family}({given} = {param:e}).{m}");
            for ((&v, &lp), g) in values.iter().zip(&lps).zip(&grads) {
                let out = d.log_prob(&scalar(v, dtype)).unwrap();
                worst = worst.max(check(
                    &what(&format!("log_prob({v})")),
                    first(&out),
                    lp,
                    dtype,
                ));
                if let Some(g) = g {
                    let grads = out.backward().unwrap();
                    let got = grads.get(var.as_tensor()).map(first).unwrap_or(0.0);
                    worst = worst.max(check(&what(&format!("d log_prob({v})")), got, *g, dtype));
                }
            }
            for m in ["entropy", "mean", "variance"] {
                let got = match m {
                    "entropy" => d.entropy(),
                    "mean" => d.mean(),
                    _ => d.variance(),
                }
                .unwrap();
                worst = worst.max(check(&what(m), first(&got), num(&c[m]), dtype));
            }
            if !c["entropy_grad"].is_null() {
                let h = d.entropy().unwrap();
                let grads = h.backward().unwrap();
                let got = grads.get(var.as_tensor()).map(first).unwrap_or(0.0);
                let want = num(&c["entropy_grad"]);
                worst = worst.max(check(&what("d entropy"), got, want, dtype));
            }
        }
    }
    worst
}

#[test]
fn bernoulli_matches_reference() {
    let worst = discrete("bernoulli", |given, t| match given {
        "probs" => Box::new(Bernoulli::new(t).unwrap()),
        _ => Box::new(Bernoulli::from_logits(t).unwrap()),
    });
    println!("Bernoulli: worst error / tolerance {worst:.3}");
}

#[test]
fn geometric_matches_reference() {
    let worst = discrete("geometric", |given, t| match given {
        "probs" => Box::new(Geometric::new(t).unwrap()),
        _ => Box::new(Geometric::from_logits(t).unwrap()),
    });
    println!("Geometric: worst error / tolerance {worst:.3}");
}

type BuildRelaxed = fn(&str, &Tensor, &Tensor) -> Box<dyn Distribution>;

fn relaxed(family: &str, build: BuildRelaxed) -> f64 {
    let doc = doc();
    let mut worst: f64 = 0.0;
    for c in doc[family].as_array().unwrap() {
        let given = c["given"].as_str().unwrap();
        let (tau, param) = (num(&c["temperature"]), num(&c["param"]));
        let values = nums(&c["values"]);
        let lps = nums(&c["log_prob"]);
        let gps = nums(&c["grad_param"]);
        let gts = nums(&c["grad_temperature"]);
        for dtype in [DType::F64, DType::F32] {
            let tv = Var::from_tensor(&scalar(tau, dtype)).unwrap();
            let pv = Var::from_tensor(&scalar(param, dtype)).unwrap();
            let d = build(given, tv.as_tensor(), pv.as_tensor());
            for (i, &v) in values.iter().enumerate() {
                let what = |m: &str| format!("{family}(τ = {tau}, {given} = {param}).{m}({v})");
                let out = d.log_prob(&scalar(v, dtype)).unwrap();
                worst = worst.max(check(&what("log_prob"), first(&out), lps[i], dtype));
                let grads = out.backward().unwrap();
                let gp = grads.get(pv.as_tensor()).map(first).unwrap_or(0.0);
                let gt = grads.get(tv.as_tensor()).map(first).unwrap_or(0.0);
                worst = worst.max(check(&what("d/dparam"), gp, gps[i], dtype));
                worst = worst.max(check(&what("d/dtemperature"), gt, gts[i], dtype));
            }
        }
    }
    worst
}

#[test]
fn logit_relaxed_bernoulli_matches_reference() {
    let worst = relaxed("logit_relaxed_bernoulli", |given, t, p| match given {
        "probs" => Box::new(LogitRelaxedBernoulli::new(t, p).unwrap()),
        _ => Box::new(LogitRelaxedBernoulli::from_logits(t, p).unwrap()),
    });
    println!("LogitRelaxedBernoulli: worst error / tolerance {worst:.3}");
}

#[test]
fn relaxed_bernoulli_matches_reference() {
    let worst = relaxed("relaxed_bernoulli", |given, t, p| match given {
        "probs" => Box::new(RelaxedBernoulli::new(t, p).unwrap()),
        _ => Box::new(RelaxedBernoulli::from_logits(t, p).unwrap()),
    });
    println!("RelaxedBernoulli: worst error / tolerance {worst:.3}");
}
