//! Special functions against mpmath (reference/special.json): values and first
//! derivatives through autograd, in f64 and f32.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::special;
use serde_json::Value;

use crate::common;
use common::{num, quote_numbers};

fn load() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../reference/special.json");
    let text = std::fs::read_to_string(path).expect("reference/special.json");
    serde_json::from_str(&quote_numbers(&text)).unwrap()
}

/// f64: 1e-12 relative (the kernels are within a few ulps; inverse functions reach
/// about 1e-15). f32: the result is the f64 kernel rounded, 1e-6 relative; the absolute
/// floor 1e-30 covers results below f32's normal range.
fn close(ours: f64, want: f64, rtol: f64, atol: f64) -> bool {
    if want.is_nan() {
        return ours.is_nan();
    }
    if want.is_infinite() || ours.is_infinite() {
        return ours == want;
    }
    (ours - want).abs() <= rtol * want.abs() + atol
}

type Fun = fn(&Tensor) -> candle_distributions::Result<Tensor>;

fn table() -> Vec<(&'static str, Fun)> {
    vec![
        ("log1p", special::log1p),
        ("expm1", special::expm1),
        ("erfc", special::erfc),
        ("erfinv", special::erfinv),
        ("erfcinv", special::erfcinv),
        ("ndtr", special::ndtr),
        ("ndtri", special::ndtri),
        ("softplus", special::softplus),
        ("sigmoid", special::sigmoid),
        ("atan", special::atan),
        ("tan", special::tan),
    ]
}

#[test]
fn unary_values_and_derivatives_match_mpmath() {
    let refs = load();
    let mut failures = vec![];
    for (name, f) in table() {
        let case = &refs["unary"][name];
        let xs: Vec<f64> = case["x"].as_array().unwrap().iter().map(num).collect();
        let ys: Vec<f64> = case["y"].as_array().unwrap().iter().map(num).collect();
        let dys: Vec<f64> = case["dy"].as_array().unwrap().iter().map(num).collect();
        for dtype in [DType::F64, DType::F32] {
            let x = Var::from_tensor(
                &Tensor::new(xs.as_slice(), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            )
            .unwrap();
            let y = f(x.as_tensor()).unwrap();
            let grads = y.sum_all().unwrap().backward().unwrap();
            let dy = grads
                .get(&x)
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let y = y.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap();
            for i in 0..xs.len() {
                // Results beyond f32's range must overflow to ±inf in f32.
                let f32_range = |v: f64| {
                    if dtype == DType::F32 && v.abs() > f32::MAX as f64 {
                        v.signum() * f64::INFINITY
                    } else {
                        v
                    }
                };
                let (ys, dys) = (
                    ys.iter().map(|&v| f32_range(v)).collect::<Vec<_>>(),
                    dys.iter().map(|&v| f32_range(v)).collect::<Vec<_>>(),
                );
                let (rtol, atol) = if dtype == DType::F64 {
                    (1e-12, 1e-300)
                } else {
                    (1e-6, 1e-30)
                };
                if !close(y[i], ys[i], rtol, atol) {
                    failures.push(format!(
                        "{name}({}) {dtype:?}: {} vs {}",
                        xs[i], y[i], ys[i]
                    ));
                }
                // f32 derivatives are evaluated in f32 from the rounded output y; for the
                // inverse functions the derivative is exp(y²) or exp(y²/2), whose relative
                // error is about 2y² times that of y (rounded to 6e-8).
                let drtol = if dtype == DType::F64 {
                    1e-12
                } else {
                    1e-5 + 2.0 * ys[i] * ys[i] * 1.2e-7
                };
                if !close(dy[i], dys[i], drtol, atol) {
                    failures.push(format!(
                        "d{name}({}) {dtype:?}: {} vs {}",
                        xs[i], dy[i], dys[i]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn xlogy_values_and_derivatives_match_mpmath() {
    let refs = load();
    for case in refs["xlogy"].as_array().unwrap() {
        let (xv, yv) = (num(&case["x"]), num(&case["y"]));
        let x = Var::new(&[xv], &Device::Cpu).unwrap();
        let y = Var::new(&[yv], &Device::Cpu).unwrap();
        let r = special::xlogy(x.as_tensor(), y.as_tensor()).unwrap();
        let g = r.sum_all().unwrap().backward().unwrap();
        let got = r.to_vec1::<f64>().unwrap()[0];
        let dx = g.get(&x).unwrap().to_vec1::<f64>().unwrap()[0];
        let dy = g.get(&y).unwrap().to_vec1::<f64>().unwrap()[0];
        assert!(
            close(got, num(&case["value"]), 1e-14, 1e-300),
            "xlogy({xv}, {yv}) = {got}"
        );
        assert!(
            close(dx, num(&case["dx"]), 1e-14, 1e-300),
            "d/dx xlogy({xv}, {yv}) = {dx}"
        );
        assert!(
            close(dy, num(&case["dy"]), 1e-14, 1e-300),
            "d/dy xlogy({xv}, {yv}) = {dy}"
        );
    }
}

/// Second derivatives work too, because backward passes are tensor ops: d²/dx² log1p(x)
/// = −1/(1+x)², against the analytic value.
#[test]
fn second_derivatives_through_backward() {
    let x = Var::new(&[0.5f64, 3.0], &Device::Cpu).unwrap();
    let y = special::log1p(x.as_tensor()).unwrap();
    let g = y.sum_all().unwrap().backward().unwrap();
    let dx = g.get(&x).unwrap().clone();
    let g2 = dx.sum_all().unwrap().backward().unwrap();
    let d2 = g2.get(&x).unwrap().to_vec1::<f64>().unwrap();
    for (v, d) in [0.5f64, 3.0].iter().zip(d2) {
        assert!((d + 1.0 / (1.0 + v).powi(2)).abs() < 1e-14, "{d}");
    }
}

/// Kernels accept strided (transposed, broadcast) inputs.
#[test]
fn strided_inputs() {
    let a = Tensor::new(&[[0.1f64, 0.2, 0.3], [0.4, 0.5, 0.6]], &Device::Cpu).unwrap();
    let t = a.t().unwrap();
    let y = special::erfinv(&t).unwrap().to_vec2::<f64>().unwrap();
    let direct = special::erfinv(&t.contiguous().unwrap())
        .unwrap()
        .to_vec2::<f64>()
        .unwrap();
    assert_eq!(y, direct);
    let b = Tensor::new(&[0.25f64], &Device::Cpu)
        .unwrap()
        .broadcast_as((2, 3))
        .unwrap();
    let v = special::log1p(&b).unwrap().to_vec2::<f64>().unwrap();
    assert!(v.iter().flatten().all(|&x| x == 0.25f64.ln_1p()));
}

/// The fused location-scale `log_prob` has a backward made of tensor ops, so second
/// derivatives work: for Normal, ∂²lp/∂loc² = −1/scale² and ∂²lp/∂scale∂loc = −2(x−loc)/scale³.
#[test]
fn log_prob_second_derivatives() {
    use candle_distributions::{Distribution, Normal};
    let loc = Var::new(&[0.3f64], &Device::Cpu).unwrap();
    let scale = Var::new(&[1.7f64], &Device::Cpu).unwrap();
    let x = Tensor::new(&[2.0f64], &Device::Cpu).unwrap();
    let d = Normal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let lp = d.log_prob(&x).unwrap().sum_all().unwrap();
    let g = lp.backward().unwrap();
    let dloc = g.get(&loc).unwrap().clone();
    let g2 = dloc.sum_all().unwrap().backward().unwrap();
    let d2loc = g2.get(&loc).unwrap().to_vec1::<f64>().unwrap()[0];
    let d2scale_loc = g2.get(&scale).unwrap().to_vec1::<f64>().unwrap()[0];
    assert!((d2loc + 1.0 / 1.7f64.powi(2)).abs() < 1e-14, "{d2loc}");
    assert!(
        (d2scale_loc + 2.0 * 1.7 / 1.7f64.powi(3)).abs() < 1e-14,
        "{d2scale_loc}"
    );
}
