//! GeneralizedPareto and Uniform at extreme but valid parameters: moments, gradients
//! where per-element terms overflow, log_prob just below the end of a support whose
//! 1 + ξz rounds to 0, and Uniform quantiles whose width overflows. References are
//! closed forms (limits stated per test) or mpmath at 50 digits.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{Distribution, Error, GeneralizedPareto, Generator, Uniform};

type Res<T> = Result<T, Error>;

fn t64(v: f64) -> Res<Tensor> {
    Ok(Tensor::new(v, &Device::Cpu)?)
}

fn rel_close(got: f64, want: f64, tol: f64) -> bool {
    ((got - want) / want).abs() <= tol
}

/// σ²/((1 − ξ)²(1 − 2ξ)) at σ = 1e300, ξ = −1e300 is 1/(2e300)·(1 + O(1e-300)) and at
/// σ = f64::MAX it is 1.6158503035655498e-284 (mpmath): σ² and the
/// denominator both overflowed (∞/∞ = NaN).
#[test]
fn gpd_variance_with_huge_scale_and_concentration() -> Res<()> {
    for (scale, var) in [(1e300, 5e-301), (f64::MAX, 1.615_850_303_565_549_8e-284)] {
        let d = GeneralizedPareto::new(&t64(0.5)?, &t64(scale)?, &t64(-1e300)?)?;
        let v = d.variance()?.to_scalar::<f64>()?;
        let s = d.stddev()?.to_scalar::<f64>()?;
        assert!(rel_close(v, var, 1e-14), "{v} vs {var}");
        assert!(rel_close(s, var.sqrt(), 1e-14), "{s} vs {}", var.sqrt());
    }
    Ok(())
}

/// Gradients of Σ log_prob(x) for GPD(loc, scale, ξ) with x given.
fn lp_grads(loc: f64, scale: f64, xi: f64, x: &[f64]) -> Res<[f64; 3]> {
    let dev = Device::Cpu;
    let (l, s, k) = (
        Var::new(loc, &dev)?,
        Var::new(scale, &dev)?,
        Var::new(xi, &dev)?,
    );
    let d =
        GeneralizedPareto::new_with_validation(l.as_tensor(), s.as_tensor(), k.as_tensor(), false)?;
    let lp = d.log_prob(&Tensor::new(x, &dev)?)?;
    let g = lp.sum_all()?.backward()?;
    let get = |v: &Var| g.get(v.as_tensor()).expect("grad").to_scalar::<f64>();
    Ok([get(&l)?, get(&s)?, get(&k)?])
}

/// ξ = −5e-324: the end μ − σ/ξ is +∞ and the ξ-gradient of that end (−σ/ξ², with a
/// zero upstream gradient) was 0·∞ = NaN. At ξ → 0 the ξ-gradient of log p is
/// z²/2 − z (from h = z − ξz²/2 + …), here summed over the values.
#[test]
fn gpd_log_prob_gradient_at_a_subnormal_negative_concentration() -> Res<()> {
    let (loc, scale) = (0.5, 2.5);
    let x = [1.377, 5.608, 3.394, 1.945, 2.405, 1.155, 2.356];
    let [gl, gs, gk] = lp_grads(loc, scale, -5e-324, &x)?;
    let z: Vec<f64> = x.iter().map(|v| (v - loc) / scale).collect();
    let want_k: f64 = z.iter().map(|z| z * z / 2.0 - z).sum();
    // ∂/∂μ = Σ 1/σ, ∂/∂σ = Σ (z − 1)/σ at ξ = 0.
    let want_l = x.len() as f64 / scale;
    let want_s: f64 = z.iter().map(|z| (z - 1.0) / scale).sum();
    assert!(rel_close(gk, want_k, 1e-12), "{gk} vs {want_k}");
    assert!(rel_close(gl, want_l, 1e-12), "{gl} vs {want_l}");
    assert!(rel_close(gs, want_s, 1e-12), "{gs} vs {want_s}");
    Ok(())
}

/// σ = 5e-324: ∂log p/∂σ = Σ (z − 1)/((1 + ξz)σ). Split as −1/σ + (1 + ξ)z/((1 + ξz)σ)
/// each term overflows (∞ − ∞ = NaN). For one value at z = 2 it is +∞; for values at
/// z = 1, 0, 2, 1 (x = μ + zσ exactly, ξ = −0) the sum is 0/σ = 0, while ∂/∂μ =
/// Σ 1/σ = +∞ and ∂/∂ξ = Σ (z²/2 − z) = −1.
#[test]
fn gpd_log_prob_scale_gradient_at_a_subnormal_scale() -> Res<()> {
    let tiny = 5e-324;
    let [gl, gs, gk] = lp_grads(0.0, tiny, -tiny, &[2.0 * tiny])?;
    assert_eq!((gl, gs, gk), (f64::INFINITY, f64::INFINITY, 0.0));
    let x = [2.0 * tiny, tiny, 3.0 * tiny, 2.0 * tiny];
    let [gl, gs, gk] = lp_grads(tiny, tiny, -0.0, &x)?;
    assert_eq!((gl, gs, gk), (f64::INFINITY, 0.0, -1.0));
    Ok(())
}

/// σ = 5e-324, ξ = 1e8: every draw μ + σ(e^{ξw} − 1)/ξ overflows to +∞, whose pathwise
/// derivatives are ∂x/∂μ = 1 (per draw) and ∂x/∂ξ = +∞. The clamp min(x, end) split
/// the gradient at the tie x = end = +∞ (∂/∂μ came out 1/2 per draw), and σ·½
/// underflowed to 0, which met ∂e/∂ξ = ∞ as 0·∞ = NaN.
#[test]
fn gpd_rsample_gradient_where_draws_overflow() -> Res<()> {
    let dev = Device::Cpu;
    let (l, s, k) = (
        Var::new(-1.3, &dev)?,
        Var::new(5e-324, &dev)?,
        Var::new(1e8, &dev)?,
    );
    let d = GeneralizedPareto::new(l.as_tensor(), s.as_tensor(), k.as_tensor())?;
    let x = d.rsample(&[3], &mut Generator::new(7))?;
    assert_eq!(x.to_vec1::<f64>()?, vec![f64::INFINITY; 3]);
    let g = x.sum_all()?.backward()?;
    let get = |v: &Var| g.get(v.as_tensor()).expect("grad").to_scalar::<f64>();
    assert_eq!(get(&l)?, 3.0);
    assert_eq!(get(&k)?, f64::INFINITY);
    Ok(())
}

/// ξ = −3.4028234663852886e38, σ = f64::MAX, μ = 7: the end is 5.28294562624475e269 and
/// 1 + ξz rounds to 0 within about 1e254 of it, where the density is finite: at k ulps
/// below the end, log p = −ln σ − (1 + 1/ξ) ln(1 + ξz) and F = −expm1(−ln(1 + ξz)/ξ),
/// with 1 + ξz from the exact parameters (mpmath): log p = −673.04591411184464 and
/// F = 1.0795975502238937e-37 at k = 1, −680.64631459952698 and 8.5624184097941716e-38
/// at k = 1000. Those points took the limit at the end (log p = +∞, F = 1). Taking
/// the rounded end as exact costs up to ln 2 in log p at k = 1 and ~1/k beyond.
#[test]
fn gpd_log_prob_just_below_the_end_for_a_huge_negative_concentration() -> Res<()> {
    let d = GeneralizedPareto::new_with_validation(
        &t64(7.0)?,
        &t64(f64::MAX)?,
        &t64(f32::MIN as f64)?,
        false,
    )?;
    let end = 7.0 - f64::MAX / (f32::MIN as f64);
    let below = |k: u64| f64::from_bits(end.to_bits() - k);
    let x = Tensor::new(&[below(1), below(1000), end], &Device::Cpu)?;
    let lp = d.log_prob(&x)?.to_vec1::<f64>()?;
    let cdf = d.cdf(&x)?.to_vec1::<f64>()?;
    assert!(
        (lp[0] + 673.045_914_111_844_6).abs() <= std::f64::consts::LN_2,
        "{lp:?}"
    );
    assert!((lp[1] + 680.646_314_599_527).abs() <= 2e-3, "{lp:?}");
    // ξ < −1: the density has a pole at the end itself.
    assert_eq!(lp[2], f64::INFINITY);
    assert!(cdf[0] > 0.5e-37 && cdf[0] < 2.2e-37, "{cdf:?}");
    assert!(
        rel_close(cdf[1], 8.562_418_409_794_172e-38, 2e-3),
        "{cdf:?}"
    );
    assert_eq!(cdf[2], 1.0);
    Ok(())
}

/// Uniform(−M, M) with M the dtype's largest float: high − low overflows, and
/// low + (high − low)·q was 0·∞ = NaN at q = 0 (high − ∞·0 at q = 1). The quantiles are
/// −M, −M/2, 0, M/2, M exactly (from the half width M, finite).
#[test]
fn uniform_icdf_when_the_width_overflows() -> Res<()> {
    for (dt, m) in [(DType::F32, f32::MAX as f64), (DType::F64, f64::MAX)] {
        let d = Uniform::from_scalars(-m, m, dt, &Device::Cpu)?;
        let q = Tensor::new(&[0.0f64, 0.25, 0.5, 0.75, 1.0], &Device::Cpu)?.to_dtype(dt)?;
        let x = d.icdf(&q)?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
        assert_eq!(x, vec![-m, -m / 2.0, 0.0, m / 2.0, m], "{dt:?}");
    }
    // A subnormal width still interpolates (halving it would round to 0).
    let d = Uniform::from_scalars(0.0, 4.0 * 5e-324, DType::F64, &Device::Cpu)?;
    let x = d.icdf(&Tensor::new(&[0.25f64, 0.75], &Device::Cpu)?)?;
    assert_eq!(x.to_vec1::<f64>()?, vec![5e-324, 3.0 * 5e-324]);
    Ok(())
}

/// Gradients of the quantile low + (high − low)·q: 1 − q, q and high − low (∞ in f32
/// where the width 6.8e38 exceeds the dtype; 0 where the upstream gradient is 0).
#[test]
fn uniform_icdf_gradients() -> Res<()> {
    let dev = Device::Cpu;
    let m = f32::MAX;
    let (lo, hi) = (Var::new(-m, &dev)?, Var::new(m, &dev)?);
    let q = Var::new(&[0.25f32], &dev)?;
    let d = Uniform::new(lo.as_tensor(), hi.as_tensor())?;
    let g = d.icdf(q.as_tensor())?.sum_all()?.backward()?;
    let get = |v: &Var| -> Res<Vec<f32>> {
        Ok(g.get(v.as_tensor())
            .expect("grad")
            .flatten_all()?
            .to_vec1::<f32>()?)
    };
    assert_eq!(get(&lo)?, vec![0.75]);
    assert_eq!(get(&hi)?, vec![0.25]);
    assert_eq!(get(&q)?, vec![f32::INFINITY]);
    Ok(())
}

/// cdf where high − low overflows: (x − low)/(high − low) from half widths, not
/// (x − low)/∞ = 0 or ∞/∞ = NaN. Exact values: for ±MAX the cdf is 1/2 + x/(2 MAX).
#[test]
fn uniform_cdf_when_the_width_overflows() -> Res<()> {
    let d = Uniform::from_scalars(-f64::MAX, f64::MAX, DType::F64, &Device::Cpu)?;
    let xs = [1e300, -f64::MAX, 0.0, f64::MAX / 2.0];
    let f = d.cdf(&Tensor::new(&xs, &Device::Cpu)?)?.to_vec1::<f64>()?;
    let want = [0.5 + 1e300 / f64::MAX / 2.0, 0.0, 0.5, 0.75];
    for (g, w) in f.iter().zip(want) {
        assert!((g - w).abs() <= 1e-15 * w.abs(), "cdf {g} want {w}");
    }
    let d = Uniform::from_scalars(-f32::MAX as f64, f32::MAX as f64, DType::F32, &Device::Cpu)?;
    let f = d.cdf(&Tensor::new(&[0.0f32, f32::MAX / 4.0], &Device::Cpu)?)?;
    assert_eq!(f.to_vec1::<f32>()?, vec![0.5, 0.625]);
    // and the gradient w.r.t. high at x = 0 is −z/w = −1/(4 MAX), finite
    let low = Var::new(-f64::MAX, &Device::Cpu)?;
    let high = Var::new(f64::MAX, &Device::Cpu)?;
    let d = Uniform::new(&low, &high)?;
    let g = d.cdf(&Tensor::new(0.0, &Device::Cpu)?)?.backward()?;
    let gh = g.get(high.as_tensor()).unwrap().to_scalar::<f64>()?;
    assert!(rel_close(gh, -0.25 / f64::MAX, 1e-15), "d cdf/d high {gh}");
    Ok(())
}
