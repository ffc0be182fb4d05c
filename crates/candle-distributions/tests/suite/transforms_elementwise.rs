//! The elementwise transforms (Exp, Power, Sigmoid, Softplus, Tanh, Abs, Affine,
//! CumulativeDistribution): round trips, log-Jacobians against central finite
//! differences and against mpmath where the map saturates
//! (`reference/transforms_elementwise.json`, from
//! `reference/gen_transforms_elementwise.py`), gradients through forward, inverse and
//! the log-det (with respect to inputs and tensor parameters) against finite
//! differences, f32 behaviour at saturation, parameter errors, shapes and equality.
//!
//! Error measures (all in f64 unless stated):
//! - round trip: `|inverse(forward(x)) − x| / max(|x|, 1)` (relative for |x| ≥ 1,
//!   absolute below, where `ln`/`atanh` near their fixed points are conditioned in
//!   absolute terms);
//! - log-det: `|ladj − ln|f'_fd||`, an absolute error on the log, i.e. the relative
//!   error of the Jacobian; `f'_fd` is the fourth-order central difference
//!   `(−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h`;
//! - gradients: `|g − g_fd| / max(|g_fd|, 1)`.

use crate::common;

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::transforms::{
    AbsTransform, AffineTransform, CumulativeDistributionTransform, ExpTransform, PowerTransform,
    SigmoidTransform, SoftplusTransform, TanhTransform, Transform,
};
use candle_distributions::{Error, Normal};
use common::{host, num, quote_numbers};
use serde_json::Value;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;
type Res<T> = candle_distributions::Result<T>;

const TOL: f64 = 1e-6;

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/transforms_elementwise.json"
);

// ---------------------------------------------------------------------------
// Inputs and finite differences
// ---------------------------------------------------------------------------

/// SplitMix64: fixed-seed uniform numbers for the inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` points uniform on `[lo, hi]`, plus both ends.
fn uniform(seed: u64, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut r = Rng(seed);
    let mut v: Vec<f64> = (0..n).map(|_| lo + (hi - lo) * r.next()).collect();
    v.push(lo);
    v.push(hi);
    v
}

/// `n` points log-uniform on `[lo, hi]` (both positive), plus both ends.
fn log_uniform(seed: u64, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    uniform(seed, n, lo.ln(), hi.ln())
        .into_iter()
        .map(f64::exp)
        .collect()
}

fn t64(v: &[f64]) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

/// Fourth-order central difference of an elementwise map, step `h[i]` at `x[i]`.
fn fd(f: &dyn Fn(&Tensor) -> Res<Tensor>, x: &[f64], h: &[f64]) -> Vec<f64> {
    let at = |k: f64| -> Vec<f64> {
        let xs: Vec<f64> = x.iter().zip(h).map(|(x, h)| x + k * h).collect();
        host(&f(&t64(&xs)).unwrap())
    };
    let (p2, p1, m1, m2) = (at(2.0), at(1.0), at(-1.0), at(-2.0));
    (0..x.len())
        .map(|i| (-p2[i] + 8.0 * p1[i] - 8.0 * m1[i] + m2[i]) / (12.0 * h[i]))
        .collect()
}

fn max_by(v: impl Iterator<Item = f64>) -> f64 {
    v.fold(0.0, |m: f64, e| {
        assert!(!e.is_nan(), "NaN error");
        m.max(e)
    })
}

fn roundtrip_err(t: &dyn Transform, x: &[f64]) -> f64 {
    let back = host(&t.inverse(&t.forward(&t64(x)).unwrap()).unwrap());
    max_by(
        x.iter()
            .zip(&back)
            .map(|(x, b)| (b - x).abs() / x.abs().max(1.0)),
    )
}

/// Max |ladj − ln|f'_fd||.
fn ladj_fd_err(t: &dyn Transform, x: &[f64], h: &[f64]) -> f64 {
    let xt = t64(x);
    let ladj = host(
        &t.log_abs_det_jacobian(&xt, &t.forward(&xt).unwrap())
            .unwrap(),
    );
    let d = fd(&|x| t.forward(x), x, h);
    max_by(ladj.iter().zip(&d).map(|(l, d)| (l - d.abs().ln()).abs()))
}

fn grad_err(g: &[f64], want: &[f64]) -> f64 {
    max_by(
        g.iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs() / w.abs().max(1.0)),
    )
}

/// Gradient of `sum(f(x))` with respect to `x`, by autograd (zero where none reaches x).
fn autograd(f: &dyn Fn(&Tensor) -> Res<Tensor>, x: &[f64]) -> Vec<f64> {
    let v = Var::new(x, &Device::Cpu).unwrap();
    let y = f(v.as_tensor()).unwrap();
    let g = y.sum_all().unwrap().backward().unwrap();
    // No gradient: `f` does not depend on x (an affine map's log-det).
    g.get(v.as_tensor()).map_or(vec![0.0; x.len()], host)
}

/// Gradients of sum(forward), sum(ladj) and sum(inverse) against finite differences:
/// (forward, ladj, inverse) errors.
fn grad_errs(t: &dyn Transform, x: &[f64], h: &[f64]) -> (f64, f64, f64) {
    let fwd = |x: &Tensor| t.forward(x);
    let ladj = |x: &Tensor| t.log_abs_det_jacobian(x, &t.forward(x)?);
    let e_f = grad_err(&autograd(&fwd, x), &fd(&fwd, x, h));
    let e_l = grad_err(&autograd(&ladj, x), &fd(&ladj, x, h));
    // The inverse at y = forward(x), with steps carried to y by the derivative.
    let y = host(&t.forward(&t64(x)).unwrap());
    let dy = fd(&fwd, x, h);
    let hy: Vec<f64> = h.iter().zip(&dy).map(|(h, d)| h * d.abs()).collect();
    let inv = |y: &Tensor| t.inverse(y);
    let e_i = grad_err(&autograd(&inv, &y), &fd(&inv, &y, &hy));
    (e_f, e_l, e_i)
}

/// The checks every bijective elementwise transform passes on `x` (round trip, ladj by
/// finite differences, gradients, the inverse's ladj, the fused call); returns the
/// measured maxima for the report.
fn check_bijective(t: &dyn Transform, x_rt: &[f64], x_fd: &[f64], h: &[f64]) -> [f64; 5] {
    let rt = roundtrip_err(t, x_rt);
    let ld = ladj_fd_err(t, x_fd, h);
    let (gf, gl, gi) = grad_errs(t, x_fd, h);
    let name = t.name();
    println!(
        "{name}: round trip {rt:.2e}, ladj vs FD {ld:.2e}, grad forward {gf:.2e}, grad ladj {gl:.2e}, grad inverse {gi:.2e}"
    );
    assert!(rt <= TOL, "{name}: round trip error {rt:e}");
    assert!(ld <= TOL, "{name}: ladj vs finite differences {ld:e}");
    assert!(gf <= TOL, "{name}: gradient of forward {gf:e}");
    assert!(gl <= TOL, "{name}: gradient of ladj {gl:e}");
    assert!(gi <= TOL, "{name}: gradient of inverse {gi:e}");
    check_inverse_and_fused(t, x_fd);
    [rt, ld, gf, gl, gi]
}

/// The inverse transform's ladj is the negative one; the fused call equals the two
/// separate ones.
fn check_inverse_and_fused(t: &dyn Transform, x: &[f64]) {
    let xt = t64(x);
    let (y, l) = t.forward_and_log_det(&xt).unwrap();
    assert_eq!(host(&y), host(&t.forward(&xt).unwrap()), "{}", t.name());
    let l2 = t.log_abs_det_jacobian(&xt, &y).unwrap();
    assert_eq!(host(&l), host(&l2), "{}: fused ladj", t.name());
    let inv = t.inv();
    let li = host(&inv.log_abs_det_jacobian(&y, &xt).unwrap());
    for (a, b) in li.iter().zip(host(&l)) {
        assert_eq!(*a, -b, "{}: inverse ladj", t.name());
    }
    assert!(inv.inv().equals(t), "{}: inv().inv() == t", t.name());
    assert!(t.equals(t.clone_box().as_ref()));
}

fn consts(n: usize, v: f64) -> Vec<f64> {
    vec![v; n]
}

// ---------------------------------------------------------------------------
// One test per transform
// ---------------------------------------------------------------------------

#[test]
fn exp_round_trip_ladj_and_gradients() {
    let t = ExpTransform;
    let mut x = uniform(1, 300, -700.0, 700.0);
    x.extend([0.0, 1e-10, -1e-10, 1.0, -1.0]);
    let h = consts(x.len(), 1e-3);
    check_bijective(&t, &x, &x, &h);
    assert_eq!(t.sign(), Some(1));
}

#[test]
fn power_round_trip_ladj_and_gradients() {
    for a in [2.0, 0.5, -1.5, 3.75, -0.25] {
        let t = PowerTransform::new(a).unwrap();
        let x = log_uniform(2, 300, 1e-30, 1e30);
        let h: Vec<f64> = x.iter().map(|x| 1e-3 * x).collect();
        check_bijective(&t, &x, &x, &h);
        assert_eq!(t.sign(), Some(if a > 0.0 { 1 } else { -1 }));
    }
}

#[test]
fn power_with_a_tensor_exponent_gets_gradients() -> TestResult {
    let dev = Device::Cpu;
    let a0 = [2.0, -0.5, 1.0];
    let x = [[0.7, 1.3, 5e-3], [40.0, 2.0, 1e6]];
    let xt = Tensor::new(&x, &dev)?;
    let a = Var::new(&a0, &dev)?;
    let t = PowerTransform::new(&a)?;
    assert_eq!(t.sign(), None); // mixed signs: unknown
    let y = t.forward(&xt)?;
    let ladj = t.log_abs_det_jacobian(&xt, &y)?;
    let total = (y.sum_all()? + ladj.sum_all()?)?;
    let g = host(total.backward()?.get(a.as_tensor()).unwrap());
    // Finite differences of the same total in each exponent.
    let f = |av: &[f64]| -> f64 {
        let t = PowerTransform::new(&t64(av)).unwrap();
        let y = t.forward(&xt).unwrap();
        let l = t.log_abs_det_jacobian(&xt, &y).unwrap();
        host(&y).iter().sum::<f64>() + host(&l).iter().sum::<f64>()
    };
    let mut worst: f64 = 0.0;
    for i in 0..3 {
        let h = 1e-4;
        let at = |k: f64| {
            let mut v = a0.to_vec();
            v[i] += k * h;
            f(&v)
        };
        let d = (-at(2.0) + 8.0 * at(1.0) - 8.0 * at(-1.0) + at(-2.0)) / (12.0 * h);
        worst = worst.max((g[i] - d).abs() / d.abs().max(1.0));
    }
    println!("PowerTransform: exponent gradient vs FD {worst:.2e}");
    assert!(worst <= TOL, "{worst:e}");
    // The log-det at a = 1 is exactly 0, also at x = 0 and ∞ (no 0·∞).
    let one = PowerTransform::new(&Tensor::new(&[1.0f64], &dev)?)?;
    let edge = Tensor::new(&[0.0f64, f64::INFINITY, 3.0], &dev)?;
    assert_eq!(host(&one.log_abs_det_jacobian(&edge, &edge)?), vec![0.0; 3]);
    Ok(())
}

/// The log-det stays exact where y = x^a rounds to 1 (tiny exponents) and where the
/// inverse of a huge power meets x = y^(1/a) = 1: closed forms
/// ln|a| + (a − 1)·ln x of the map and −ln|a| + (1/a − 1)·ln y of its inverse.
#[test]
fn power_log_det_is_exact_where_either_side_saturates() -> TestResult {
    let dev = Device::Cpu;
    let huge = PowerTransform::new(1e300)?;
    let inv = huge.inv();
    let y = t64(&[1e300, 1e-300, 7.5]);
    let (x, l) = inv.forward_and_log_det(&y)?;
    assert!(host(&x).iter().all(|v| *v == 1.0)); // x rounds to 1
    for (got, y) in host(&l).iter().zip([1e300f64, 1e-300, 7.5]) {
        let want = -(1e300f64.ln()) + (1e-300 - 1.0) * y.ln();
        assert!((got - want).abs() <= 1e-13 * want.abs(), "{got} vs {want}");
    }
    // A subnormal tensor exponent: y = 1 everywhere, inverse and log-det stay finite.
    let tiny = PowerTransform::new(&Tensor::new(5e-324f64, &dev)?)?;
    let x = t64(&[1e300, 1.05, 1e-300]);
    let (y, l) = tiny.forward_and_log_det(&x)?;
    assert!(host(&y).iter().all(|v| *v == 1.0));
    assert!(host(&tiny.inverse(&y)?).iter().all(|v| v.is_finite()));
    for (got, x) in host(&l).iter().zip([1e300f64, 1.05, 1e-300]) {
        let want = 5e-324f64.ln() + (5e-324 - 1.0) * x.ln();
        assert!((got - want).abs() <= 1e-13 * want.abs(), "{got} vs {want}");
    }
    Ok(())
}

#[test]
fn sigmoid_round_trip_ladj_and_gradients() {
    let t = SigmoidTransform;
    // The round trip holds to 1e-6 up to x ≈ 22 (y's rounding near 1 comes back as
    // ε·eˣ/2); down to −700 it is exact up to rounding.
    let x_rt = uniform(3, 300, -700.0, 20.0);
    let x_fd = uniform(4, 300, -700.0, 15.0);
    let h = consts(x_fd.len(), 1e-3);
    check_bijective(&t, &x_rt, &x_fd, &h);
    // Towards saturation (x up to 40): finite, and the measured absolute error.
    let far = uniform(5, 200, -40.0, 40.0);
    let back = host(&t.inverse(&t.forward(&t64(&far)).unwrap()).unwrap());
    let worst = max_by(far.iter().zip(&back).map(|(x, b)| (x - b).abs()));
    println!("SigmoidTransform: max |x − inverse(forward(x))| on [−40, 40]: {worst:.2e}");
    assert!(back.iter().all(|b| b.is_finite()));
}

#[test]
fn softplus_round_trip_ladj_and_gradients() {
    let t = SoftplusTransform;
    let mut x = uniform(6, 300, -700.0, 700.0);
    x.extend([0.0, 1e-8, -1e-8, 20.0, 40.0, -40.0]);
    let h = consts(x.len(), 1e-3);
    check_bijective(&t, &x, &x, &h);
}

#[test]
fn tanh_round_trip_ladj_and_gradients() {
    let t = TanhTransform;
    // Round trip to 1e-6 where y's rounding near ±1 (ε/2) stays small after
    // atanh: |x| ≤ 11; finite differences resolve the derivative for |x| ≤ 7.
    let x_rt = uniform(7, 300, -11.0, 11.0);
    let x_fd = uniform(8, 300, -7.0, 7.0);
    let h = consts(x_fd.len(), 2e-3);
    check_bijective(&t, &x_rt, &x_fd, &h);
    let far = uniform(9, 200, -20.0, 20.0);
    let back = host(&t.inverse(&t.forward(&t64(&far)).unwrap()).unwrap());
    let worst = max_by(far.iter().zip(&back).map(|(x, b)| (x - b).abs()));
    println!("TanhTransform: max |x − inverse(forward(x))| on [−20, 20]: {worst:.2e}");
    assert!(back.iter().all(|b| b.is_finite()));
}

#[test]
fn affine_with_numbers_round_trip_ladj_and_gradients() {
    for (loc, scale) in [(1.5, -3.0), (0.0, 2e-3), (-1e3, 7.25)] {
        let t = AffineTransform::new(loc, scale).unwrap();
        let x = uniform(10, 300, -1e6, 1e6);
        let h: Vec<f64> = x.iter().map(|x| 1e-3 * x.abs().max(1.0)).collect();
        check_bijective(&t, &x, &x, &h);
        assert_eq!(t.sign(), Some(if scale > 0.0 { 1 } else { -1 }));
    }
}

#[test]
fn cumulative_distribution_round_trip_ladj_and_gradients() -> TestResult {
    let d = Normal::new(&Tensor::new(0.3f64, &Device::Cpu)?, 2.0)?;
    let t = CumulativeDistributionTransform::new(Box::new(d));
    let x = uniform(11, 300, -10.0, 10.0);
    let h = consts(x.len(), 1e-3);
    check_bijective(&t, &x, &x, &h);
    assert_eq!(t.sign(), Some(1));
    Ok(())
}

#[test]
fn abs_pseudo_inverse_and_no_log_det() -> TestResult {
    let t = AbsTransform;
    let x = uniform(12, 200, -1e3, 1e3);
    let xt = t64(&x);
    let y = t.forward(&xt)?;
    let again = t.forward(&t.inverse(&y)?)?;
    assert_eq!(host(&again), host(&y));
    assert!(host(&y).iter().all(|v| *v >= 0.0));
    assert!(!t.bijective());
    assert_eq!(t.sign(), None);
    match t.log_abs_det_jacobian(&xt, &y) {
        Err(Error::NotImplemented { distribution, .. }) => assert_eq!(distribution, "AbsTransform"),
        other => panic!("expected NotImplemented, got {other:?}"),
    }
    // The gradient of |x| is sign(x).
    let g = autograd(&|x| t.forward(x), &[-2.0, 3.0]);
    assert_eq!(g, vec![-1.0, 1.0]);
    Ok(())
}

// ---------------------------------------------------------------------------
// Affine with tensor parameters
// ---------------------------------------------------------------------------

/// Finite-difference gradient of `f` with respect to each entry of `p`.
fn fd_params(f: &dyn Fn(&[f64]) -> f64, p: &[f64], h: f64) -> Vec<f64> {
    (0..p.len())
        .map(|i| {
            let at = |k: f64| {
                let mut v = p.to_vec();
                v[i] += k * h;
                f(&v)
            };
            (-at(2.0) + 8.0 * at(1.0) - 8.0 * at(-1.0) + at(-2.0)) / (12.0 * h)
        })
        .collect()
}

#[test]
fn affine_with_tensor_parameters_gets_gradients() -> TestResult {
    let dev = Device::Cpu;
    let loc0 = [0.5, -2.0, 3.0];
    let scale0 = [1.5, -0.25, 4.0];
    let x = Tensor::new(&[[0.1, -1.0, 2.0], [3.0, 0.5, -0.7]], &dev)?;
    for event_dim in [0, 1, 2] {
        let loc = Var::new(&loc0, &dev)?;
        let scale = Var::new(&scale0, &dev)?;
        let t = AffineTransform::new(&loc, &scale)?.with_event_dim(event_dim);
        assert_eq!(t.sign(), None); // mixed signs
        let (y, ladj) = t.forward_and_log_det(&x)?;
        assert_eq!(ladj.dims(), &[2usize, 3][..2 - event_dim.min(2)]);
        // ladj = log|scale| broadcast to x's shape and summed over the event dims.
        let per: Vec<f64> = scale0.iter().map(|s: &f64| s.abs().ln()).collect();
        let want: Vec<f64> = match event_dim {
            0 => per.iter().chain(per.iter()).copied().collect(),
            1 => vec![per.iter().sum::<f64>(); 2],
            _ => vec![2.0 * per.iter().sum::<f64>()],
        };
        let got = host(&ladj);
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() < 1e-14,
                "event_dim {event_dim}: {got:?} vs {want:?}"
            );
        }
        let back = t.inverse(&y)?;
        assert!(grad_err(&host(&back), &host(&x)) < 1e-15);
        // d/dloc and d/dscale of sum(y) + sum(ladj) against finite differences.
        let total = (y.sum_all()? + ladj.sum_all()?)?;
        let grads = total.backward()?;
        let f = |l: &[f64], s: &[f64]| -> f64 {
            let t = AffineTransform::new(&t64(l), &t64(s))
                .unwrap()
                .with_event_dim(event_dim);
            let (y, ladj) = t.forward_and_log_det(&x).unwrap();
            host(&y).iter().sum::<f64>() + host(&ladj).iter().sum::<f64>()
        };
        let gl = host(grads.get(loc.as_tensor()).unwrap());
        let gs = host(grads.get(scale.as_tensor()).unwrap());
        let el = grad_err(&gl, &fd_params(&|l| f(l, &scale0), &loc0, 1e-4));
        let es = grad_err(&gs, &fd_params(&|s| f(&loc0, s), &scale0, 1e-4));
        println!("AffineTransform (tensors, event_dim {event_dim}): grad loc {el:.2e}, grad scale {es:.2e}");
        assert!(el <= TOL && es <= TOL, "{el:e} {es:e}");
    }
    // f32 input with f64 parameters: the output keeps x's dtype and the f64 Var still
    // receives its gradient.
    let s = Var::new(&[2.0f64], &dev)?;
    let t = AffineTransform::new(1.0, &s)?;
    let x32 = Tensor::new(&[1.0f32, 2.0], &dev)?;
    let y = t.forward(&x32)?;
    assert_eq!(y.dtype(), DType::F32);
    assert_eq!(host(&y), vec![3.0, 5.0]);
    let g = y.sum_all()?.backward()?;
    assert_eq!(host(g.get(s.as_tensor()).unwrap()), vec![3.0]);
    Ok(())
}

#[test]
fn affine_and_power_shapes() -> TestResult {
    let dev = Device::Cpu;
    let t = AffineTransform::new(&Tensor::zeros((3,), DType::F64, &dev)?, 2.0)?;
    assert_eq!(t.forward_shape(&[2, 1])?, vec![2, 3]);
    assert_eq!(t.inverse_shape(&[3])?, vec![3]);
    assert!(matches!(t.forward_shape(&[4]), Err(Error::Shape { .. })));
    let y = t.forward(&Tensor::ones((2, 1), DType::F64, &dev)?)?;
    assert_eq!(y.dims(), &[2, 3]);
    // The ladj has y's shape without the event dims, also when the parameters are
    // bigger than x.
    let l = t.log_abs_det_jacobian(&Tensor::ones((2, 1), DType::F64, &dev)?, &y)?;
    assert_eq!(l.dims(), &[2, 3]);
    let t1 = AffineTransform::new(0.0, 3.0)?.with_event_dim(2);
    let x = Tensor::ones((4, 2, 5), DType::F32, &dev)?;
    let l = t1.log_abs_det_jacobian(&x, &t1.forward(&x)?)?;
    assert_eq!(l.dims(), &[4]);
    assert!((host(&l)[0] - 10.0 * 3f64.ln()).abs() < 1e-5);
    assert_eq!(l.dtype(), DType::F32);
    // Too few dimensions for one event: a shape error.
    assert!(matches!(
        t1.log_abs_det_jacobian(
            &Tensor::ones(3, DType::F64, &dev)?,
            &Tensor::ones(3, DType::F64, &dev)?
        ),
        Err(Error::Shape { .. })
    ));
    assert_eq!(t1.domain().event_dim(), 2);
    // Shapes that do not broadcast, or a broadcast result too large to allocate (2^48
    // elements from two views of 2^24), are shape errors naming the transform.
    let row = AffineTransform::new(0.0, &Tensor::ones((1, 3), DType::F64, &dev)?)?;
    match row.forward(&Tensor::ones(4, DType::F64, &dev)?) {
        Err(Error::Shape { context, .. }) => assert_eq!(context, "AffineTransform"),
        other => panic!("expected a shape error, got {other:?}"),
    }
    let n = 1usize << 24;
    let wide = Tensor::ones(1, DType::F32, &dev)?.broadcast_as((1, n))?;
    let tall = Tensor::zeros(1, DType::F32, &dev)?.broadcast_as((n, 1))?;
    for t in [
        Box::new(AffineTransform::new(0.0, &wide)?) as Box<dyn Transform>,
        Box::new(PowerTransform::new(&wide)?),
    ] {
        assert!(matches!(t.forward(&tall), Err(Error::Shape { .. })));
        assert!(matches!(t.inverse(&tall), Err(Error::Shape { .. })));
        assert!(matches!(
            t.log_abs_det_jacobian(&tall, &tall),
            Err(Error::Shape { .. })
        ));
    }
    let p = PowerTransform::new(&Tensor::ones((2, 1), DType::F32, &dev)?)?;
    assert_eq!(p.forward_shape(&[3])?, vec![2, 3]);
    assert!(p.forward_shape(&[3, 3]).is_err());
    Ok(())
}

// ---------------------------------------------------------------------------
// Saturation: mpmath references, f32, interval ends
// ---------------------------------------------------------------------------

fn reference() -> Value {
    let text = std::fs::read_to_string(REFERENCE).expect("reference/transforms_elementwise.json");
    serde_json::from_str(&quote_numbers(&text)).unwrap()
}

/// |ours − ref| / max(|ref|, 1), infinite references matched exactly.
fn ref_err(ours: f64, want: f64) -> f64 {
    if want.is_infinite() || ours.is_infinite() {
        return if ours == want { 0.0 } else { f64::INFINITY };
    }
    (ours - want).abs() / want.abs().max(1.0)
}

#[test]
fn log_dets_match_mpmath_where_the_maps_saturate() {
    let r = reference();
    let ts: [(&str, Box<dyn Transform>); 3] = [
        ("TanhTransform", Box::new(TanhTransform)),
        ("SigmoidTransform", Box::new(SigmoidTransform)),
        ("SoftplusTransform", Box::new(SoftplusTransform)),
    ];
    for (key, t) in &ts {
        let cases = r[*key].as_array().unwrap();
        let x: Vec<f64> = cases.iter().map(|c| num(&c["x"])).collect();
        let want: Vec<f64> = cases.iter().map(|c| num(&c["ladj"])).collect();
        for dt in [DType::F64, DType::F32] {
            let xt = t64(&x).to_dtype(dt).unwrap();
            let (_, l) = t.forward_and_log_det(&xt).unwrap();
            let got = host(&l);
            // f32: the result is the f64 value rounded once.
            let tol = if dt == DType::F64 { 1e-14 } else { 1e-7 };
            let worst = max_by(got.iter().zip(&want).map(|(g, w)| ref_err(*g, *w)));
            println!("{key} ({dt:?}): ladj vs mpmath at |x| up to 1000: {worst:.2e}");
            assert!(worst <= tol, "{key} {dt:?}: {got:?} vs {want:?}");
        }
    }
    // Power: exact where torch's ln|a·y/x| under- or overflows.
    let mut worst: f64 = 0.0;
    for c in r["PowerTransform"].as_array().unwrap() {
        let (a, x, want) = (num(&c["exponent"]), num(&c["x"]), num(&c["ladj"]));
        let t = PowerTransform::new(a).unwrap();
        let xt = t64(&[x]);
        let (_, l) = t.forward_and_log_det(&xt).unwrap();
        worst = worst.max(ref_err(host(&l)[0], want));
    }
    println!("PowerTransform: ladj vs mpmath for x in [1e-300, 1e300]: {worst:.2e}");
    assert!(worst <= 1e-14);
    // Softplus forward and inverse at tiny and huge arguments.
    let mut worst: f64 = 0.0;
    for c in r["softplus_forward"].as_array().unwrap() {
        let y = host(&SoftplusTransform.forward(&t64(&[num(&c["x"])])).unwrap())[0];
        let want = num(&c["y"]);
        worst = worst.max(if want == 0.0 {
            y.abs()
        } else {
            (y - want).abs() / want.abs()
        });
    }
    for c in r["softplus_inverse"].as_array().unwrap() {
        let x = host(&SoftplusTransform.inverse(&t64(&[num(&c["y"])])).unwrap())[0];
        worst = worst.max(ref_err(x, num(&c["x"])));
    }
    println!("SoftplusTransform: forward/inverse vs mpmath: {worst:.2e}");
    assert!(worst <= 1e-14);
}

#[test]
fn tanh_log_det_in_f32_at_saturation_matches_f64() -> TestResult {
    let x = [20.0, -20.0, 9.5, -15.0, 50.0, 0.25];
    let x64 = t64(&x);
    let x32 = x64.to_dtype(DType::F32)?;
    let l64 = host(&TanhTransform.log_abs_det_jacobian(&x64, &TanhTransform.forward(&x64)?)?);
    let (_, l32) = TanhTransform.forward_and_log_det(&x32)?;
    let l32 = host(&l32);
    let mut worst: f64 = 0.0;
    for (a, b) in l32.iter().zip(&l64) {
        assert!(a.is_finite(), "f32 ladj {a}");
        worst = worst.max((a - b).abs() / b.abs());
    }
    println!("TanhTransform: f32 ladj vs f64 at |x| up to 50: {worst:.2e} relative");
    assert!(worst <= 1e-5);
    // Its gradient in f32 is −2 tanh x, finite.
    let g = {
        let v = Var::from_tensor(&x32)?;
        let l = TanhTransform.log_abs_det_jacobian(v.as_tensor(), &v.as_tensor().tanh()?)?;
        host(l.sum_all()?.backward()?.get(v.as_tensor()).unwrap())
    };
    for (g, x) in g.iter().zip(&x) {
        assert!((g + 2.0 * x.tanh()).abs() < 1e-6, "{g} at {x}");
    }
    Ok(())
}

#[test]
fn sigmoid_and_tanh_inverses_are_finite_at_the_interval_ends() -> TestResult {
    for dt in [DType::F64, DType::F32] {
        let s = t64(&[0.0, 1.0, 1e-320, 1.0 - 1e-17]).to_dtype(dt)?;
        let xs = host(&SigmoidTransform.inverse(&s)?);
        assert!(xs.iter().all(|v| v.is_finite()), "{dt:?}: {xs:?}");
        assert!(xs[0] < -80.0 && xs[1] > 15.0, "{dt:?}: {xs:?}");
        let t = t64(&[-1.0, 1.0, -0.0]).to_dtype(dt)?;
        let xt = host(&TanhTransform.inverse(&t)?);
        assert!(xt.iter().all(|v| v.is_finite()), "{dt:?}: {xt:?}");
        assert!(
            xt[0] < -8.0 && xt[1] > 8.0 && xt[2] == 0.0,
            "{dt:?}: {xt:?}"
        );
        // NaN stays NaN (the clamp does not turn it into a number).
        let nan = t64(&[f64::NAN]).to_dtype(dt)?;
        assert!(host(&SigmoidTransform.inverse(&nan)?)[0].is_nan());
        assert!(host(&TanhTransform.inverse(&nan)?)[0].is_nan());
        // The forward sigmoid stays inside (0, 1) even where it rounds to 0 or 1.
        let far = t64(&[-1e4, 1e4]).to_dtype(dt)?;
        let y = host(&SigmoidTransform.forward(&far)?);
        assert!(y[0] > 0.0 && y[1] < 1.0, "{dt:?}: {y:?}");
        // The inverses' gradients there are finite.
        let v = Var::from_tensor(&t)?;
        let g = TanhTransform
            .inverse(v.as_tensor())?
            .sum_all()?
            .backward()?;
        assert!(host(g.get(v.as_tensor()).unwrap())
            .iter()
            .all(|g| g.is_finite()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Parameters, equality, signs
// ---------------------------------------------------------------------------

fn expect_param_error(r: Res<impl std::fmt::Debug>, transform: &str, param: &str) {
    match r {
        Err(Error::InvalidParameter {
            distribution,
            parameter,
            ..
        }) => {
            assert_eq!(distribution, transform);
            assert_eq!(parameter, param);
        }
        other => panic!("{transform}.{param}: expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn bad_parameters_are_typed_errors() -> TestResult {
    let dev = Device::Cpu;
    for a in [0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0] {
        expect_param_error(PowerTransform::new(a), "PowerTransform", "exponent");
    }
    for s in [0.0, f64::NAN, f64::INFINITY] {
        expect_param_error(AffineTransform::new(0.0, s), "AffineTransform", "scale");
    }
    for l in [f64::NAN, f64::NEG_INFINITY] {
        expect_param_error(AffineTransform::new(l, 1.0), "AffineTransform", "loc");
    }
    let bad = Tensor::new(&[1.0f32, 0.0, 2.0], &dev)?;
    expect_param_error(AffineTransform::new(0.0, &bad), "AffineTransform", "scale");
    expect_param_error(PowerTransform::new(&bad), "PowerTransform", "exponent");
    match AffineTransform::new(0.0, &bad).unwrap_err() {
        Error::InvalidParameter { found, index, .. } => assert_eq!((found, index), (0.0, 1)),
        e => panic!("{e}"),
    }
    let ints = Tensor::new(&[1i64, 2], &dev)?;
    assert!(matches!(
        AffineTransform::new(&ints, 1.0),
        Err(Error::DType { .. })
    ));
    Ok(())
}

#[test]
fn equality_compares_types_and_parameter_values() -> TestResult {
    let dev = Device::Cpu;
    let a = AffineTransform::new(1.0, 2.0)?;
    assert!(a.equals(&AffineTransform::new(1.0f32, 2.0f32)?));
    assert!(!a.equals(&AffineTransform::new(1.0, 3.0)?));
    assert!(!a.equals(&AffineTransform::new(1.0, 2.0)?.with_event_dim(1)));
    let twos = Tensor::new(&[2.0f64, 2.0], &dev)?;
    assert!(a.equals(&AffineTransform::new(1.0, &twos)?));
    let mixed = Tensor::new(&[2.0f64, 2.5], &dev)?;
    assert!(!a.equals(&AffineTransform::new(1.0, &mixed)?));
    assert!(!a.equals(&ExpTransform));
    assert!(PowerTransform::new(2.0)?.equals(&PowerTransform::new(&twos)?));
    assert!(!PowerTransform::new(2.0)?.equals(&PowerTransform::new(&mixed)?));
    for (t, u) in [
        (
            Box::new(ExpTransform) as Box<dyn Transform>,
            Box::new(TanhTransform) as Box<dyn Transform>,
        ),
        (Box::new(SigmoidTransform), Box::new(SoftplusTransform)),
        (Box::new(AbsTransform), Box::new(ExpTransform)),
    ] {
        assert!(t.equals(t.clone_box().as_ref()));
        assert!(!t.equals(u.as_ref()) && !u.equals(t.as_ref()));
        assert!(!t.name().is_empty());
    }
    let d = Normal::new(0.0, 1.0)?;
    let c = CumulativeDistributionTransform::new(Box::new(d.clone()));
    assert!(c.equals(c.clone_box().as_ref()));
    assert!(!c.equals(&CumulativeDistributionTransform::new(Box::new(d))));
    Ok(())
}

#[test]
fn signs_domains_and_codomains() -> TestResult {
    use candle_distributions::Constraint;
    let dev = Device::Cpu;
    let neg = Tensor::new(&[-1.0f64, -2.0], &dev)?;
    assert_eq!(AffineTransform::new(0.0, &neg)?.sign(), Some(-1));
    assert_eq!(PowerTransform::new(&neg)?.sign(), Some(-1));
    assert_eq!(AffineTransform::new(0.0, -0.5)?.inv().sign(), Some(-1));
    assert!(
        matches!(TanhTransform.codomain(), Constraint::Interval(l, h) if l == -1.0 && h == 1.0)
    );
    assert!(matches!(
        SigmoidTransform.codomain(),
        Constraint::UnitInterval
    ));
    assert!(matches!(ExpTransform.inv().domain(), Constraint::Positive));
    assert!(matches!(AbsTransform.codomain(), Constraint::NonNegative));
    let cdf = CumulativeDistributionTransform::new(Box::new(Normal::new(0.0, 1.0)?));
    assert!(matches!(cdf.domain(), Constraint::Real));
    assert!(matches!(cdf.codomain(), Constraint::UnitInterval));
    Ok(())
}
