//! The categorical family against `reference/categorical_family.json` (mpmath, written by
//! `reference/gen_categorical_family.py`): Categorical / OneHotCategorical log_prob,
//! entropy, probs and variance with the gradients of log_prob and entropy in probs and
//! logits (−∞ logits, zero weights and logits of ±1e38 included); Multinomial log_prob
//! and its gradients, mean, variance and entropy (the reference by enumeration of every
//! count vector); ExpRelaxedCategorical and RelaxedOneHotCategorical log-densities with
//! their gradients in the parameter and the temperature. f64 and f32 (inputs are
//! f32-exact except the relaxed points).
//!
//! |ours − ref| ≤ rtol·|ref| + atol with (1e-10, 1e-12) in f64 and (1e-5, 1e-6) in f32;
//! a reference −∞ must be −∞; NaN references (no derivative) are skipped.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{
    Categorical, Distribution, ExpRelaxedCategorical, Multinomial, OneHotCategorical,
    RelaxedOneHotCategorical,
};
use serde_json::Value;

use crate::common;
use common::{host, num, nums, read_reference};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/categorical_family.json"
);

fn doc() -> Value {
    read_reference(PATH)
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(nums).collect()
}

/// The rows of `v`, concatenated.
fn flat_rows(v: &Value) -> Vec<f64> {
    rows(v).into_iter().flatten().collect()
}

/// The rows `r` (each of the same length) as an [r.len(), K] tensor of `dtype`.
fn matrix(r: &[Vec<f64>], dtype: DType) -> Tensor {
    let x: Vec<f64> = r.iter().flatten().copied().collect();
    let k = r.first().map_or(0, Vec::len);
    Tensor::from_vec(x, (r.len(), k), &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

/// Collects mismatches and the worst relative error per dtype.
struct Checker {
    fails: Vec<String>,
    worst: [f64; 2],
}

impl Checker {
    fn new() -> Self {
        Checker {
            fails: vec![],
            worst: [0.0; 2],
        }
    }

    fn check(&mut self, what: &str, dtype: DType, ours: &[f64], refs: &[f64]) {
        assert_eq!(ours.len(), refs.len(), "{what}");
        let (rtol, atol, di) = if dtype == DType::F64 {
            (1e-10, 1e-12, 0)
        } else {
            (1e-5, 1e-6, 1)
        };
        for (i, (&o, &r)) in ours.iter().zip(refs).enumerate() {
            if r.is_nan() {
                continue;
            }
            let ok = if r.is_infinite() {
                o == r
            } else {
                if r.abs() > 1e-6 {
                    self.worst[di] = self.worst[di].max((o - r).abs() / r.abs());
                }
                (o - r).abs() <= rtol * r.abs() + atol
            };
            if !ok {
                self.fails
                    .push(format!("{dtype:?} {what}[{i}]: ours {o:e}, ref {r:e}"));
            }
        }
    }

    /// [`Checker::check`] of a tensor's elements.
    fn tensor(&mut self, what: &str, dtype: DType, ours: &Tensor, refs: &[f64]) {
        self.check(what, dtype, &host(ours), refs);
    }

    fn finish(self, name: &str) {
        println!(
            "{name}: max relative error f64 {:.2e}, f32 {:.2e}",
            self.worst[0], self.worst[1]
        );
        assert!(
            self.fails.is_empty(),
            "{} mismatches:\n{}",
            self.fails.len(),
            self.fails.join("\n")
        );
    }
}

fn var(v: &[f64], dims: &[usize], dtype: DType) -> Var {
    Var::from_tensor(
        &Tensor::from_vec(v.to_vec(), dims, &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap(),
    )
    .unwrap()
}

/// `raw` repeated `n` times as a [n, K] parameter.
fn repeated(raw: &[f64], n: usize, dtype: DType) -> Var {
    let v: Vec<f64> = (0..n).flat_map(|_| raw.iter().copied()).collect();
    var(&v, &[n, raw.len()], dtype)
}

#[test]
fn categorical_and_one_hot_conformance_with_mpmath_reference() {
    let doc = doc();
    let mut ck = Checker::new();
    for (ci, c) in doc["categorical"].as_array().unwrap().iter().enumerate() {
        let given = c["given"].as_str().unwrap();
        let raw = nums(&c["raw"]);
        let k = raw.len();
        for dtype in [DType::F64, DType::F32] {
            let tag = |w: &str| format!("case {ci} ({given}) {w}");
            let mut chk =
                |what: &str, t: &Tensor, refs: &[f64]| ck.tensor(&tag(what), dtype, t, refs);
            let build = |p: &Tensor| {
                if given == "probs" {
                    Categorical::new(p).unwrap()
                } else {
                    Categorical::from_logits(p).unwrap()
                }
            };
            // One parameter row per class, so each row's gradient is d ℓ_k / d raw.
            let pv = repeated(&raw, k, dtype);
            let d = build(pv.as_tensor());
            let idx = Tensor::arange(0i64, k as i64, &Device::Cpu).unwrap();
            let lp = d.log_prob(&idx).unwrap();
            chk("log_prob", &lp, &nums(&c["log_prob"]));
            // Rows of −∞ (a class of probability 0) have no gradient: mask them.
            let finite = lp.ne(f64::NEG_INFINITY).unwrap();
            let masked = finite.where_cond(&lp, &lp.zeros_like().unwrap()).unwrap();
            let g = masked.sum_all().unwrap().backward().unwrap();
            let grads = flat_rows(&c["grad_log_prob"]);
            chk("d log_prob / d raw", g.get(&pv).unwrap(), &grads);
            // Entropy and its gradient (finite with −∞ logits).
            let one = var(&raw, &[k], dtype);
            let d1 = build(one.as_tensor());
            let h = d1.entropy().unwrap();
            chk("entropy", &h, &[num(&c["entropy"])]);
            let gh = h.backward().unwrap();
            chk(
                "d entropy / d raw",
                gh.get(&one).unwrap(),
                &nums(&c["grad_entropy"]),
            );
            let oh = if given == "probs" {
                OneHotCategorical::new(one.as_tensor()).unwrap()
            } else {
                OneHotCategorical::from_logits(one.as_tensor()).unwrap()
            };
            chk("probs", &d1.probs().unwrap(), &nums(&c["probs"]));
            chk("one-hot mean", &oh.mean().unwrap(), &nums(&c["probs"]));
            chk(
                "one-hot variance",
                &oh.variance().unwrap(),
                &nums(&c["variance"]),
            );
            chk(
                "one-hot entropy",
                &oh.entropy().unwrap(),
                &[num(&c["entropy"])],
            );
            let eye = Tensor::eye(k, dtype, &Device::Cpu).unwrap();
            let lp1 = oh.log_prob(&eye).unwrap();
            chk("one-hot log_prob", &lp1, &nums(&c["log_prob"]));
            // The mode is the most probable class.
            let p = nums(&c["probs"]);
            let best = (0..k).fold(0, |b, j| if p[j] > p[b] { j } else { b });
            assert_eq!(d1.mode().unwrap().to_scalar::<i64>().unwrap(), best as i64);
        }
    }
    ck.finish("Categorical/OneHotCategorical");
}

#[test]
fn multinomial_conformance_with_enumerated_reference() {
    let doc = doc();
    let mut ck = Checker::new();
    for (ci, c) in doc["multinomial"].as_array().unwrap().iter().enumerate() {
        let given = c["given"].as_str().unwrap();
        let n = c["total_count"].as_str().unwrap().parse::<usize>().unwrap();
        let raw = nums(&c["raw"]);
        let values = rows(&c["values"]);
        let m = values.len();
        for dtype in [DType::F64, DType::F32] {
            let tag = |w: &str| format!("case {ci} ({given}, n = {n}) {w}");
            let mut chk =
                |what: &str, t: &Tensor, refs: &[f64]| ck.tensor(&tag(what), dtype, t, refs);
            let build = |p: &Tensor| {
                if given == "probs" {
                    Multinomial::new(n, p).unwrap()
                } else {
                    Multinomial::from_logits(n, p).unwrap()
                }
            };
            let pv = repeated(&raw, m, dtype);
            let d = build(pv.as_tensor());
            let xt = matrix(&values, dtype);
            let lp = d.log_prob(&xt).unwrap();
            chk("log_prob", &lp, &nums(&c["log_prob"]));
            let g = lp.sum_all().unwrap().backward().unwrap();
            let grads = flat_rows(&c["grad_log_prob"]);
            chk("d log_prob / d raw", g.get(&pv).unwrap(), &grads);
            let one = build(
                &Tensor::new(raw.as_slice(), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            );
            chk("mean", &one.mean().unwrap(), &nums(&c["mean"]));
            chk("variance", &one.variance().unwrap(), &nums(&c["variance"]));
            chk("entropy", &one.entropy().unwrap(), &[num(&c["entropy"])]);
        }
    }
    ck.finish("Multinomial");
}

#[test]
fn relaxed_categorical_conformance_with_mpmath_reference() {
    let doc = doc();
    let mut ck = Checker::new();
    for (ci, c) in doc["relaxed"].as_array().unwrap().iter().enumerate() {
        let given = c["given"].as_str().unwrap();
        let raw = nums(&c["raw"]);
        let t = num(&c["temperature"]);
        let xs = rows(&c["log_x"]);
        let m = xs.len();
        for dtype in [DType::F64, DType::F32] {
            let tag = |w: &str| format!("case {ci} ({given}) {w}");
            let mut chk =
                |what: &str, t: &Tensor, refs: &[f64]| ck.tensor(&tag(what), dtype, t, refs);
            let pv = repeated(&raw, m, dtype);
            let tv = var(&vec![t; m], &[m], dtype);
            let xt = matrix(&xs, dtype);
            let d = if given == "probs" {
                ExpRelaxedCategorical::new(tv.as_tensor(), pv.as_tensor()).unwrap()
            } else {
                ExpRelaxedCategorical::from_logits(tv.as_tensor(), pv.as_tensor()).unwrap()
            };
            let lp = d.log_prob(&xt).unwrap();
            chk(
                "exp-relaxed log_prob",
                &lp,
                &nums(&c["exp_relaxed_log_prob"]),
            );
            let g = lp.sum_all().unwrap().backward().unwrap();
            let grads = flat_rows(&c["grad_log_prob"]);
            chk("d log_prob / d raw", g.get(&pv).unwrap(), &grads);
            chk(
                "d log_prob / d temperature",
                g.get(&tv).unwrap(),
                &nums(&c["grad_temperature"]),
            );
            let r = if given == "probs" {
                RelaxedOneHotCategorical::new(tv.as_tensor(), pv.as_tensor()).unwrap()
            } else {
                RelaxedOneHotCategorical::from_logits(tv.as_tensor(), pv.as_tensor()).unwrap()
            };
            // The f64 simplex point, so f32 checks its own rounding only once.
            let y = xt.to_dtype(DType::F64).unwrap().exp().unwrap();
            let y = y
                .broadcast_div(&y.sum_keepdim(1).unwrap())
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let mut r = r;
            if dtype == DType::F32 {
                // Rounded to f32 the point is off the simplex by ~1e-7.
                r.set_validate_args(false);
            }
            chk(
                "relaxed one-hot log_prob",
                &r.log_prob(&y).unwrap(),
                &nums(&c["relaxed_one_hot_log_prob"]),
            );
        }
    }
    ck.finish("ExpRelaxedCategorical/RelaxedOneHotCategorical");
}
