//! Dirichlet against `reference/dirichlet.json` (mpmath at 50 digits, written by
//! `reference/gen_beta_family.py`): log_prob and its gradients in the concentration and the
//! value, entropy, mean, variance and mode, in f64 and f32 (inputs are f32-exact).
//!
//! Tolerances as in `conformance.rs`: |ours − ref| ≤ rtol·|ref| + atol with
//! (1e-10, 1e-12) in f64 and (1e-5, 1e-6) in f32 (densities and moments are evaluated
//! in f64 and rounded once, so f32 results carry one rounding).

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{Dirichlet, Distribution};
use serde_json::Value;

use crate::common;
use common::{num, nums, quote_numbers};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/dirichlet.json"
);

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("rows").iter().map(nums).collect()
}

fn host(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

fn close(ours: f64, reference: f64, dtype: DType) -> bool {
    let (rtol, atol) = if dtype == DType::F64 {
        (1e-10, 1e-12)
    } else {
        (1e-5, 1e-6)
    };
    if reference.is_nan() {
        return ours.is_nan();
    }
    (ours - reference).abs() <= rtol * reference.abs() + atol
}

#[test]
fn dirichlet_conformance_with_mpmath_reference() {
    let text = std::fs::read_to_string(PATH).unwrap();
    let doc: Value = serde_json::from_str(&quote_numbers(&text)).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    let mut fails = vec![];
    let mut worst = [0f64; 2];
    for (ci, c) in cases.iter().enumerate() {
        let alpha = nums(&c["params"]["concentration"]);
        let k = alpha.len();
        let values = rows(&c["values"]);
        let n = values.len();
        for (di, dtype) in [DType::F64, DType::F32].into_iter().enumerate() {
            let mut check = |what: &str, ours: &[f64], refs: &[f64]| {
                assert_eq!(ours.len(), refs.len(), "{what}");
                for (i, (&o, &r)) in ours.iter().zip(refs).enumerate() {
                    if r.is_finite() && r.abs() > 1e-6 {
                        worst[di] = worst[di].max((o - r).abs() / r.abs());
                    }
                    if !close(o, r, dtype) {
                        fails.push(format!(
                            "case {ci} {dtype:?} {what}[{i}]: ours {o:e}, ref {r:e}"
                        ));
                    }
                }
            };
            // One row of parameters per value, so each row's gradient is its own.
            let a_rows: Vec<f64> = (0..n).flat_map(|_| alpha.iter().copied()).collect();
            let av = Var::from_tensor(
                &Tensor::from_vec(a_rows, (n, k), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            )
            .unwrap();
            let x: Vec<f64> = values.iter().flatten().copied().collect();
            let xv = Var::from_tensor(
                &Tensor::from_vec(x, (n, k), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            )
            .unwrap();
            let d = Dirichlet::new(av.as_tensor()).unwrap();
            let lp = d.log_prob(xv.as_tensor()).unwrap();
            check("log_prob", &host(&lp), &nums(&c["log_prob"]));
            let g = lp.sum_all().unwrap().backward().unwrap();
            let flat = |v: &Value| rows(v).into_iter().flatten().collect::<Vec<f64>>();
            check(
                "d lp/d concentration",
                &host(g.get(&av).unwrap()),
                &flat(&c["grad_log_prob"]["concentration"]),
            );
            check(
                "d lp/d value",
                &host(g.get(&xv).unwrap()),
                &flat(&c["grad_log_prob"]["value"]),
            );
            let one = Dirichlet::new(
                &Tensor::new(alpha.as_slice(), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            )
            .unwrap();
            check(
                "entropy",
                &host(&one.entropy().unwrap()),
                &[num(&c["entropy"])],
            );
            check("mean", &host(&one.mean().unwrap()), &nums(&c["mean"]));
            check(
                "variance",
                &host(&one.variance().unwrap()),
                &nums(&c["variance"]),
            );
            check("mode", &host(&one.mode().unwrap()), &nums(&c["mode"]));
        }
    }
    println!(
        "Dirichlet: max relative error f64 {:.2e}, f32 {:.2e}",
        worst[0], worst[1]
    );
    assert!(
        fails.is_empty(),
        "{} mismatches:\n{}",
        fails.len(),
        fails.join("\n")
    );
}
