//! Shape arithmetic, value broadcasting and error naming: impossible sample shapes are
//! errors (not panics or aborts), values broadcast against the batch before the support
//! check, Dirichlet events must match exactly, VonMises `cdf` accepts its own draws,
//! and errors name the distribution the user built.
//!
//! Uses only constructors that take tensors, so the file also builds against older
//! versions of the crate.

use candle_core::{DType, Device, Tensor};
use candle_distributions::prelude::*;
use candle_distributions::Error;
use std::f64::consts::PI;

const CPU: Device = Device::Cpu;

fn t(v: &[f64]) -> Tensor {
    Tensor::new(v, &CPU).unwrap()
}

fn s(v: f64) -> Tensor {
    Tensor::new(v, &CPU).unwrap()
}

fn vec1(x: &Tensor) -> Vec<f64> {
    x.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap()
}

fn expect_shape_error<T: std::fmt::Debug>(r: Result<T, Error>, dist: &str) {
    match r {
        Err(Error::Shape { context, message }) => {
            assert_eq!(context, dist, "{message}");
        }
        other => panic!("{dist}: expected Error::Shape, got {other:?}"),
    }
}

/// Sample shapes whose element count overflows `usize`, and a count that fits but
/// cannot be allocated (2^40 f64 = 8 TiB), for one family of each construction path.
fn impossible_shapes() -> Vec<Vec<usize>> {
    vec![
        vec![usize::MAX],
        vec![1 << 32, 1 << 32],
        vec![1 << 40],
        // Empty from the front, but candle's strides (suffix products) overflow.
        vec![0, usize::MAX, 2],
    ]
}

#[test]
fn impossible_sample_shapes_are_shape_errors_for_location_scale() {
    let d = Normal::new(&t(&[0.0, 1.0]), &s(1.0)).unwrap();
    let mut rng = Generator::new(0);
    for shape in impossible_shapes() {
        expect_shape_error(d.sample(&shape, &mut rng), "Normal");
        expect_shape_error(d.rsample_and_log_prob(&shape, &mut rng), "Normal");
    }
}

#[test]
fn impossible_sample_shapes_are_shape_errors_for_params_families() {
    let mut rng = Generator::new(0);
    let g = Gamma::new(&t(&[0.5, 2.0]), &s(1.0)).unwrap();
    let vm = VonMises::new(&s(0.0), &t(&[1.0, 4.0])).unwrap();
    let st = StudentT::new(&s(3.0), &s(0.0), &s(1.0)).unwrap();
    for shape in impossible_shapes() {
        expect_shape_error(g.sample(&shape, &mut rng), "Gamma");
        expect_shape_error(vm.sample(&shape, &mut rng), "VonMises");
        expect_shape_error(st.rsample(&shape, &mut rng), "StudentT");
    }
}

#[test]
fn impossible_sample_shapes_are_shape_errors_for_dirichlet() {
    let d = Dirichlet::new(&t(&[1.0, 2.0, 3.0])).unwrap();
    let mut rng = Generator::new(0);
    for shape in impossible_shapes() {
        expect_shape_error(d.sample(&shape, &mut rng), "Dirichlet");
    }
}

#[test]
fn impossible_expand_shapes_are_shape_errors() {
    let n = Normal::new(&s(0.0), &s(1.0)).unwrap();
    expect_shape_error(n.expand(&[usize::MAX, 2]), "Normal");
    let g = Gamma::new(&s(2.0), &s(1.0)).unwrap();
    expect_shape_error(g.expand(&[1 << 32, 1 << 32]), "Gamma");
    let ln = LogNormal::new(&s(0.0), &s(1.0)).unwrap();
    expect_shape_error(ln.expand(&[usize::MAX, 2]), "LogNormal");
    let d = Dirichlet::new(&t(&[1.0, 2.0])).unwrap();
    expect_shape_error(d.expand(&[usize::MAX]), "Dirichlet");
}

#[test]
fn possible_shapes_still_sample() {
    let d = Normal::new(&t(&[0.0, 1.0]), &s(1.0)).unwrap();
    let mut rng = Generator::new(0);
    assert_eq!(d.sample(&[0, 3], &mut rng).unwrap().dims(), &[0, 3, 2]);
    assert_eq!(d.sample(&[4], &mut rng).unwrap().dims(), &[4, 2]);
}

#[test]
fn uniform_with_tensor_bounds_takes_a_scalar_value() {
    // Uniform(0, [1, 2]) at 0.5: cdf [0.5, 0.25], log_prob [0, −ln 2].
    let u = Uniform::new(&s(0.0), &t(&[1.0, 2.0])).unwrap();
    let c = vec1(&u.cdf(&s(0.5)).unwrap());
    assert_eq!(c, vec![0.5, 0.25]);
    let lp = vec1(&u.log_prob(&s(0.5)).unwrap());
    assert_eq!(lp[0], 0.0);
    assert!((lp[1] + 2f64.ln()).abs() < 1e-15);
    // Out of support for the second bound only: 1.5 is in [0, 2) but not in [0, 1).
    match u.log_prob(&s(1.5)) {
        Err(Error::OutOfSupport {
            distribution,
            found,
            index,
            ..
        }) => {
            assert_eq!(distribution, "Uniform");
            assert_eq!(found, 1.5);
            assert_eq!(index, 0);
        }
        other => panic!("expected OutOfSupport, got {other:?}"),
    }
}

#[test]
fn batch_of_one_broadcasts_against_longer_values() {
    // batch_shape [1] against values of shape [3]: one result per value.
    let u = Uniform::new(&t(&[0.0]), &t(&[4.0])).unwrap();
    assert_eq!(vec1(&u.cdf(&s(1.0)).unwrap()), vec![0.25]);
    assert_eq!(vec1(&u.icdf(&s(0.5)).unwrap()), vec![2.0]);
    let c = vec1(&u.cdf(&t(&[1.0, 2.0, 3.0])).unwrap());
    assert_eq!(c, vec![0.25, 0.5, 0.75]);
    let lp = vec1(&u.log_prob(&t(&[1.0, 2.0, 3.0])).unwrap());
    assert!(lp.iter().all(|v| (v + 4f64.ln()).abs() < 1e-15));
    let n = Normal::new(&t(&[0.0]), &t(&[1.0])).unwrap();
    let p = vec1(&n.cdf(&t(&[0.0, 0.0])).unwrap());
    assert_eq!(p, vec![0.5, 0.5]);
    let q = vec1(&n.icdf(&t(&[0.5, 0.5, 0.5])).unwrap());
    assert_eq!(q, vec![0.0, 0.0, 0.0]);
    let ln = LogNormal::new(&t(&[0.0]), &t(&[1.0])).unwrap();
    let c = vec1(&ln.cdf(&t(&[1.0, 1.0])).unwrap());
    assert_eq!(c, vec![0.5, 0.5]);
}

#[test]
fn uniform_icdf_with_tensor_bounds_takes_a_scalar_q() {
    let u = Uniform::new(&t(&[0.0, 1.0]), &t(&[2.0, 5.0])).unwrap();
    assert_eq!(vec1(&u.icdf(&s(0.5)).unwrap()), vec![1.0, 3.0]);
}

#[test]
fn dirichlet_value_must_end_in_k() {
    // K = 1: a value whose last dimension is 3 is not an event of this distribution.
    let d1 = Dirichlet::new(&t(&[2.0])).unwrap();
    expect_shape_error(d1.log_prob(&t(&[1.0, 1.0, 1.0])), "Dirichlet");
    let d1_off = Dirichlet::new_with_validation(&t(&[2.0]), false).unwrap();
    expect_shape_error(d1_off.log_prob(&t(&[0.5, 0.5])), "Dirichlet");
    // K = 3: a last dimension of 1 does not stretch to 3 either.
    let d3 = Dirichlet::new_with_validation(&t(&[1.0, 2.0, 3.0]), false).unwrap();
    expect_shape_error(d3.log_prob(&t(&[1.0])), "Dirichlet");
    // K = 1 with its only point: log density 0 (the simplex is {1}).
    let lp = vec1(&d1.log_prob(&t(&[1.0])).unwrap().reshape(1).unwrap());
    assert_eq!(lp, vec![0.0]);
}

#[test]
fn dirichlet_zero_size_batch_methods() {
    let alpha = Tensor::zeros((0, 3), DType::F64, &CPU).unwrap();
    let d = Dirichlet::new(&alpha).unwrap();
    assert_eq!(d.batch_shape(), &[0]);
    assert_eq!(d.mode().unwrap().dims(), &[0, 3]);
    assert_eq!(d.mean().unwrap().dims(), &[0, 3]);
    assert_eq!(d.variance().unwrap().dims(), &[0, 3]);
    assert_eq!(d.entropy().unwrap().dims(), &[0]);
    let mut rng = Generator::new(1);
    assert_eq!(d.sample(&[2], &mut rng).unwrap().dims(), &[2, 0, 3]);
    let v = Tensor::zeros((0, 3), DType::F64, &CPU).unwrap();
    assert_eq!(d.log_prob(&v).unwrap().dims(), &[0]);
}

#[test]
fn dirichlet_k_equal_one_methods() {
    let d = Dirichlet::new(&t(&[0.5])).unwrap();
    assert_eq!(vec1(&d.mean().unwrap()), vec![1.0]);
    assert_eq!(vec1(&d.mode().unwrap()), vec![1.0]);
    assert_eq!(vec1(&d.variance().unwrap()), vec![0.0]);
    let x = d.sample(&[4], &mut Generator::new(2)).unwrap();
    assert_eq!(x.dims(), &[4, 1]);
    assert!(vec1(&x.flatten_all().unwrap()).iter().all(|&v| v == 1.0));
}

fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let n = 20_000;
    let h = (b - a) / n as f64;
    let mut acc = f(a) + f(b);
    for i in 1..n {
        acc += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    acc * h / 3.0
}

/// 2π I₀(κ) = ∫_{−π}^{π} e^{κ cos t} dt.
fn von_mises_norm(kappa: f64) -> f64 {
    simpson(|t| (kappa * t.cos()).exp(), -PI, PI)
}

/// ∫_{loc−π}^{x} e^{κ cos(t − loc)} dt / (2π I₀(κ)) for x in [loc − π, loc + π], by
/// composite Simpson on 20000 panels: independent of the crate.
fn von_mises_cdf_reference(x: f64, loc: f64, kappa: f64) -> f64 {
    assert!((loc - PI..=loc + PI).contains(&x));
    simpson(|t| (kappa * (t - loc).cos()).exp(), loc - PI, x) / von_mises_norm(kappa)
}

#[test]
fn von_mises_cdf_accepts_every_angle_for_any_loc() {
    for &loc in &[0.0, 2.5, -3.0, 7.0, 100.0] {
        let kappa = 2.0;
        let d = VonMises::new(&s(loc), &s(kappa)).unwrap();
        // Points of the window [loc − π, loc + π]. (Its ends are where the reduction
        // jumps; loc ± π is not exact in floating point, so they are tested at loc = 0.)
        let offsets = [-3.1, -2.0, -0.3, 0.0, 1.0, 3.0, 3.1];
        let xs: Vec<f64> = offsets.iter().map(|o| loc + o).collect();
        let c = vec1(&d.cdf(&t(&xs)).unwrap());
        for (x, got) in xs.iter().zip(&c) {
            let want = von_mises_cdf_reference(*x, loc, kappa);
            assert!(
                (got - want).abs() < 1e-10,
                "loc {loc}, x {x}: cdf {got}, reference {want}"
            );
        }
        if loc == 0.0 {
            let ends = vec1(&d.cdf(&t(&[-PI, PI])).unwrap());
            assert!(
                ends[0].abs() < 1e-15 && (ends[1] - 1.0).abs() < 1e-15,
                "{ends:?}"
            );
        }
        // Outside the window: reduced by whole turns (x and x ± 2πn agree).
        let inside = [loc - 2.0, loc + 1.0];
        let shifted = [loc - 2.0 + 4.0 * PI, loc + 1.0 - 2.0 * PI];
        let a = vec1(&d.cdf(&t(&inside)).unwrap());
        let b = vec1(&d.cdf(&t(&shifted)).unwrap());
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).abs() < 1e-12, "loc {loc}: {u} vs {v}");
        }
    }
}

#[test]
fn von_mises_cdf_of_its_own_draws_is_uniform() {
    // Draws lie in [−π, π) while the window is [loc − π, loc + π): cdf(X) ~ U(0, 1)
    // still, for locations beyond ±π too. Fractions below 0.3 and 0.7 with n = 20000:
    // one standard error is at most √(0.21/n) ≈ 3.2e-3, the threshold 5 of them.
    let n = 20_000;
    for &loc in &[3.0, -2.9, 10.0] {
        let d = VonMises::new(&s(loc), &s(1.5)).unwrap();
        let x = d.sample(&[n], &mut Generator::new(11)).unwrap();
        let xv = vec1(&x);
        assert!(xv.iter().all(|v| (-PI..PI).contains(v)));
        let u = vec1(&d.cdf(&x).unwrap());
        assert!(u.iter().all(|v| (0.0..=1.0).contains(v)));
        for q in [0.3, 0.7] {
            let frac = u.iter().filter(|&&v| v <= q).count() as f64 / n as f64;
            let se = (q * (1.0 - q) / n as f64).sqrt();
            assert!(
                (frac - q).abs() < 5.0 * se,
                "loc {loc}: P(U ≤ {q}) = {frac}"
            );
        }
    }
}

#[test]
fn von_mises_cdf_gradients_in_x_and_loc_are_the_density() {
    // d/dx = p(x − loc), d/dloc = −p(x − loc), also after reduction by whole turns.
    use candle_core::Var;
    let kappa = 2.0;
    let p = |th: f64| (kappa * th.cos()).exp() / von_mises_norm(kappa);
    for (x0, loc0) in [(0.4, 1.3), (9.0, 1.3), (-7.0, 4.0)] {
        let loc = Var::new(loc0, &CPU).unwrap();
        let x = Var::new(x0, &CPU).unwrap();
        let d = VonMises::new(loc.as_tensor(), &s(kappa)).unwrap();
        let g = d.cdf(x.as_tensor()).unwrap().backward().unwrap();
        let gl = g.get(&loc).unwrap().to_scalar::<f64>().unwrap();
        let gx = g.get(&x).unwrap().to_scalar::<f64>().unwrap();
        let want = p(x0 - loc0);
        assert!((gx - want).abs() < 1e-10, "d/dx {gx}, want {want}");
        assert!((gl + want).abs() < 1e-10, "d/dloc {gl}, want {}", -want);
    }
}

#[test]
fn lognormal_errors_name_lognormal() {
    let d = LogNormal::new(&s(0.0), &s(1.0)).unwrap();
    match d.icdf(&s(2.0)) {
        Err(Error::OutOfSupport { distribution, .. }) => assert_eq!(distribution, "LogNormal"),
        other => panic!("expected OutOfSupport, got {other:?}"),
    }
    let batch2 = LogNormal::new(&t(&[0.0, 1.0]), &s(1.0)).unwrap();
    expect_shape_error(batch2.icdf(&t(&[0.1, 0.2, 0.3])), "LogNormal");
    expect_shape_error(d.sample(&[usize::MAX], &mut Generator::new(0)), "LogNormal");
    match LogNormal::new(&s(0.0), &s(-1.0)) {
        Err(Error::InvalidParameter { distribution, .. }) => {
            assert_eq!(distribution, "LogNormal")
        }
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn chi2_and_inverse_gamma_errors_name_themselves() {
    let c = Chi2::new(&s(3.0)).unwrap();
    match c.log_prob(&s(-1.0)) {
        Err(Error::OutOfSupport { distribution, .. }) => assert_eq!(distribution, "Chi2"),
        other => panic!("expected OutOfSupport, got {other:?}"),
    }
    expect_shape_error(c.sample(&[usize::MAX], &mut Generator::new(0)), "Chi2");
    let ig = InverseGamma::new(&s(3.0), &s(1.0)).unwrap();
    match ig.log_prob(&s(-1.0)) {
        Err(Error::OutOfSupport { distribution, .. }) => {
            assert_eq!(distribution, "InverseGamma")
        }
        other => panic!("expected OutOfSupport, got {other:?}"),
    }
}

#[test]
fn integer_values_are_cast_to_the_distribution_dtype() {
    let n = Normal::new(
        &Tensor::new(&[0f32, 1.0], &CPU).unwrap(),
        &Tensor::new(1f32, &CPU).unwrap(),
    )
    .unwrap();
    let v = Tensor::new(&[0u32, 1], &CPU).unwrap();
    let lp = n.log_prob(&v).unwrap();
    assert_eq!(lp.dtype(), DType::F32);
    let want = -0.5 * (2.0 * PI).ln();
    assert!(vec1(&lp).iter().all(|x| (x - want).abs() < 1e-6));
}

#[test]
fn generator_tensors_of_impossible_shapes_are_errors() {
    let mut rng = Generator::new(0);
    for shape in impossible_shapes() {
        assert!(matches!(
            rng.uniform(&shape, DType::F32, &CPU),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            rng.standard_normal(&shape, DType::F64, &CPU),
            Err(Error::Shape { .. })
        ));
    }
}

#[test]
fn methods_of_an_impossibly_large_expanded_batch_are_errors() {
    // expand is a view, so a batch of 2^40 is fine until a method must materialize it:
    // then the request is an error, not an abort.
    let d = Normal::new(&s(0.0), &s(1.0)).unwrap();
    let big = d.expand(&[1 << 40]).unwrap();
    assert!(big.log_prob(&s(0.5)).is_err());
    assert!(big.cdf(&s(0.5)).is_err());
    assert!(big.sample(&[], &mut Generator::new(0)).is_err());
}
