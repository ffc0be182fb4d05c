//! Draws and quantiles stay inside the support and the dtype's finite range where the
//! exact value would round outside it (LogNormal's exp underflowing to 0 or
//! overflowing to ∞; Uniform's `low + (high − low)·q` cancelling at q = 1).

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;

fn host(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

#[test]
fn lognormal_draws_are_positive_and_finite_when_exp_leaves_the_dtype() {
    let dev = Device::Cpu;
    // f32 with scale 1e8: about half of all draws have |ln x| > 88, beyond f32's range.
    let d = LogNormal::new(-1.3f32, 1e8f32).unwrap();
    assert_eq!(d.dtype(), DType::F32);
    let x = d.sample(&[2000], &mut Generator::new(3)).unwrap();
    let xs = host(&x);
    assert!(
        xs.iter().all(|&v| v > 0.0 && v.is_finite()),
        "draw at 0 or ∞"
    );
    let below = xs.iter().filter(|&&v| v < 1e-30).count();
    assert!(
        below > 800,
        "expected about half the draws clamped low, got {below}"
    );
    // With validation on, the distribution accepts its own draws.
    let (_, lp) = d
        .sample_and_log_prob(&[500], &mut Generator::new(4))
        .unwrap();
    assert!(host(&lp).iter().all(|v| !v.is_nan()));
    let _ = dev;
}

#[test]
fn lognormal_rsample_gradients_are_not_nan_when_draws_overflow() {
    let dev = Device::Cpu;
    let loc = Var::new(&[1e8f64], &dev).unwrap();
    let scale = Var::new(&[1.5f64], &dev).unwrap();
    let d = LogNormal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
    let x = d.rsample(&[16], &mut Generator::new(5)).unwrap();
    assert!(host(&x).iter().all(|v| v.is_finite()));
    let g = x.sum_all().unwrap().backward().unwrap();
    for v in [&loc, &scale] {
        let gv = host(g.get(v).unwrap());
        // Every draw is clamped at f64::MAX: the clamp has gradient 0.
        assert!(gv.iter().all(|&x| x == 0.0), "{gv:?}");
    }
}

#[test]
fn lognormal_joint_log_prob_is_that_of_the_clamped_draw() {
    let d = LogNormal::from_scalars(0.0, 1e3, DType::F64, &Device::Cpu).unwrap();
    let (x, lp) = d
        .rsample_and_log_prob(&[64], &mut Generator::new(9))
        .unwrap();
    let (xs, lps) = (host(&x), host(&lp));
    let direct = host(&d.log_prob(&x).unwrap());
    let clamped = xs
        .iter()
        .filter(|&&v| !(1e-300..=1e300).contains(&v))
        .count();
    // P(|1e3·z| > 708) = 0.479: about 31 of 64, 15 is four standard deviations below.
    assert!(
        clamped > 15,
        "scale 1e3 should clamp about half the draws, got {clamped}"
    );
    for i in 0..xs.len() {
        let tol = 1e-12 * (1.0 + direct[i].abs());
        assert!(
            (lps[i] - direct[i]).abs() <= tol,
            "{i}: {} vs {}",
            lps[i],
            direct[i]
        );
    }
}

#[test]
fn uniform_quantiles_hit_both_ends_exactly() {
    let dev = Device::Cpu;
    let q = Tensor::new(&[0.0f32, 1.0], &dev).unwrap();
    // low + (high − low)·1 cancels to 0 here.
    let d = Uniform::new(-3.4e38f32, -100.0f32).unwrap();
    assert_eq!(host(&d.icdf(&q).unwrap()), vec![-3.4e38f32 as f64, -100.0]);
    // Plain numbers alone give f32 (torch's default dtype): ask for f64.
    let d = Uniform::from_scalars(-1e8, 1e-8, DType::F64, &dev).unwrap();
    let q = Tensor::new(&[0.0f64, 1.0, 0.25], &dev).unwrap();
    let x = host(&d.icdf(&q).unwrap());
    assert_eq!(&x[..2], &[-1e8, 1e-8]);
    assert!((x[2] - (-1e8 + 0.25 * (1e8 + 1e-8))).abs() <= 1e-7);
}

#[test]
fn uniform_quantiles_keep_gradients_to_both_bounds() {
    let dev = Device::Cpu;
    let low = Var::new(&[1.0f64, 1.0], &dev).unwrap();
    let high = Var::new(&[3.0f64, 3.0], &dev).unwrap();
    let d = Uniform::new(low.as_tensor(), high.as_tensor()).unwrap();
    let q = Tensor::new(&[0.25f64, 0.75], &dev).unwrap();
    let g = d.icdf(&q).unwrap().sum_all().unwrap().backward().unwrap();
    // x = low + (high − low)·q: dx/dlow = 1 − q, dx/dhigh = q.
    assert_eq!(host(g.get(&low).unwrap()), vec![0.75, 0.25]);
    assert_eq!(host(g.get(&high).unwrap()), vec![0.25, 0.75]);
}
