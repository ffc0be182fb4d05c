//! TruncatedNormal on windows that are narrow or far out in a tail, against mpmath
//! (`reference/truncated_normal_offsets.json`, from
//! `reference/gen_truncated_normal_offsets.py`): cdf, quantiles, log_prob, the
//! gradients of log_prob and the pathwise derivatives of draws. These windows are
//! where loc + scale·z loses the draw's digits (an ulp of α is the window's whole
//! spread) and where the chain rule through the standardized bounds is ∞ − ∞.

use crate::common;

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{Distribution, TruncatedNormal};
use common::{num, quote_numbers};
use serde_json::Value;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/truncated_normal_offsets.json"
    );
    let text = std::fs::read_to_string(path).expect("reference JSON");
    let doc: Value = serde_json::from_str(&quote_numbers(&text)).expect("parses");
    doc["cases"].as_array().expect("cases").clone()
}

fn vars(p: &[f64]) -> Res<Vec<Var>> {
    Ok(p.iter()
        .map(|&v| Var::new(v, &Device::Cpu))
        .collect::<candle_core::Result<Vec<_>>>()?)
}

fn build(v: &[Var]) -> Res<TruncatedNormal> {
    Ok(TruncatedNormal::new(&v[0], &v[1], &v[2], &v[3])?)
}

fn scalar(t: &Tensor) -> Res<f64> {
    Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?[0])
}

fn grads(g: &candle_core::backprop::GradStore, v: &[Var]) -> Res<Vec<f64>> {
    v.iter()
        .map(|v| match g.get(v.as_tensor()) {
            Some(t) => scalar(t),
            None => Ok(0.0),
        })
        .collect()
}

/// |got − want| ≤ rel·|want| + abs, or both the same infinity.
fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    got == want || (got - want).abs() <= rel * want.abs() + abs
}

#[test]
fn cdf_and_log_prob_match_mpmath_on_narrow_and_tail_windows() -> Res<()> {
    let mut failures = vec![];
    for case in cases() {
        let p: Vec<f64> = case["params"].as_array().unwrap().iter().map(num).collect();
        let v = vars(&p)?;
        let d = build(&v)?;
        for pt in case["points"].as_array().unwrap() {
            let x = num(&pt["x"]);
            let xt = Tensor::new(x, &Device::Cpu)?;
            let f = scalar(&d.cdf(&xt)?)?;
            let want = num(&pt["cdf"]);
            // The reference is exact to the input: F has the relative accuracy of
            // a few roundings of the offset x − bound.
            if !close(f, want, 1e-12, 1e-300) {
                failures.push(format!("{p:?} cdf({x}) = {f}, want {want}"));
            }
            let lp = d.log_prob(&xt)?;
            let l = scalar(&lp)?;
            let want = num(&pt["log_prob"]);
            if !close(l, want, 1e-12, 1e-12) {
                failures.push(format!("{p:?} log_prob({x}) = {l}, want {want}"));
            }
            if let Some(gw) = pt.get("grad_log_prob") {
                let g = grads(&lp.backward()?, &v)?;
                let gw: Vec<f64> = gw.as_array().unwrap().iter().map(num).collect();
                // Each gradient is a difference of terms of the size of the largest
                // one (e.g. (x − E)/scale² next to p(low)): absolute error relative to
                // that size.
                let size = gw.iter().fold(0.0f64, |m, g| m.max(g.abs()));
                for k in 0..4 {
                    if !close(g[k], gw[k], 1e-7, 1e-9 * size) {
                        failures.push(format!(
                            "{p:?} d log_prob({x})/d param {k} = {}, want {}",
                            g[k], gw[k]
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[test]
fn quantiles_and_pathwise_derivatives_match_mpmath() -> Res<()> {
    let mut failures = vec![];
    for case in cases() {
        let p: Vec<f64> = case["params"].as_array().unwrap().iter().map(num).collect();
        let v = vars(&p)?;
        let d = build(&v)?;
        for item in case["quantiles"].as_array().unwrap() {
            let q = num(&item["q"]);
            let want = num(&item["x"]);
            let x = d.icdf(&Tensor::new(q, &Device::Cpu)?)?;
            let got = scalar(&x)?;
            // Relative to the draw's distance from the nearer bound: that is what a
            // window 1e-8 wide at α = −1, or 1e-16 wide at β = 1e16, must resolve.
            let off = (want - p[2]).abs().min((p[3] - want).abs());
            if !close(
                got,
                want,
                0.0,
                1e-10 * off + 2.0 * f64::EPSILON * want.abs(),
            ) {
                failures.push(format!("{p:?} icdf({q}) = {got}, want {want}"));
            }
            // The round trip through cdf, within what the rounding of x to f64 allows:
            // p(x)·ulp(x) (a window 1e-16 wide at x = −1.3 cannot show q at all).
            let back = scalar(&d.cdf(&x.detach())?)?;
            let density = scalar(&d.log_prob(&x.detach())?)?.exp();
            let slack = density * 2.0 * f64::EPSILON * got.abs();
            if !close(back, q, 1e-9, 1e-15 + slack) {
                failures.push(format!("{p:?} cdf(icdf({q})) = {back}"));
            }
            if let Some(dw) = item.get("dx") {
                let g = grads(&x.backward()?, &v)?;
                let dw: Vec<f64> = dw.as_array().unwrap().iter().map(num).collect();
                let size = dw.iter().fold(0.0f64, |m, g| m.max(g.abs()));
                for k in 0..4 {
                    if !close(g[k], dw[k], 1e-6, 1e-9 * size) {
                        failures.push(format!(
                            "{p:?} d icdf({q})/d param {k} = {}, want {}",
                            g[k], dw[k]
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
