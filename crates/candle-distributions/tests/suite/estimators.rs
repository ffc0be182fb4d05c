//! The gradient-estimator toolkit: the score-function surrogate against gradients
//! computed by hand, the baselines against their formulas, Gumbel-softmax and
//! Gumbel-sigmoid (law of the hard draw by chi-square, gradients against central finite
//! differences in f64, extremes), and the variance probe: unbiasedness of every
//! score-function estimator within 4 standard errors of the exact gradient (closed
//! forms) over >= 10 000 draws, with fixed seeds.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::estimators::*;
use candle_distributions::prelude::*;
use candle_distributions::Error;

use crate::common;
use common::{assert_param_error, chi_square, host};

const CPU: Device = Device::Cpu;

fn t1(v: &[f64]) -> Tensor {
    Tensor::new(v, &CPU).unwrap()
}

fn grad_vec(g: &candle_core::backprop::GradStore, v: &Var) -> Vec<f64> {
    host(g.get(v).expect("no gradient"))
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

// ---------------------------------------------------------------- surrogate

/// ln p_i = θ0·x_i + θ1·x_i² for fixed x: ∇θ Σ_i s_i = Σ_i (f_i − b_i)(x_i, x_i²) by hand.
#[test]
fn surrogate_value_is_f_and_gradient_is_the_reinforce_estimator() {
    let theta = Var::new(&[0.3f64, -0.2], &CPU).unwrap();
    let x = [1.0, -2.0, 0.5];
    let xt = t1(&x);
    let th = theta.as_tensor();
    let lp = (xt.broadcast_mul(&th.narrow(0, 0, 1).unwrap()).unwrap()
        + xt.sqr()
            .unwrap()
            .broadcast_mul(&th.narrow(0, 1, 1).unwrap())
            .unwrap())
    .unwrap();
    let f = [3.0, -1.0, 7.0];
    let b = [0.5, 2.0, -1.0];
    let s = score_function_surrogate(&lp, &t1(&f), Some(&t1(&b))).unwrap();
    assert_eq!(host(&s), f, "value must be f exactly");
    let g = grad_vec(&s.sum_all().unwrap().backward().unwrap(), &theta);
    let mut want = [0.0; 2];
    for i in 0..3 {
        want[0] += (f[i] - b[i]) * x[i];
        want[1] += (f[i] - b[i]) * x[i] * x[i];
    }
    close(&g, &want, 1e-15, "grad with baseline");

    // No baseline: Σ f_i (x_i, x_i²).
    let s = score_function_surrogate(&lp, &t1(&f), None).unwrap();
    let g = grad_vec(&s.sum_all().unwrap().backward().unwrap(), &theta);
    let want0: f64 = (0..3).map(|i| f[i] * x[i]).sum();
    let want1: f64 = (0..3).map(|i| f[i] * x[i] * x[i]).sum();
    close(&g, &[want0, want1], 1e-15, "grad without baseline");
}

/// An f on θ's graph adds its own pathwise gradient: f = θ0² (scalar, broadcast).
#[test]
fn surrogate_adds_the_pathwise_gradient_of_f() {
    let theta = Var::new(&[0.3f64, -0.2], &CPU).unwrap();
    let th = theta.as_tensor();
    let x = t1(&[1.0, 2.0]);
    let lp = x.broadcast_mul(&th.narrow(0, 1, 1).unwrap()).unwrap(); // ln p_i = θ1 x_i
    let f = th
        .narrow(0, 0, 1)
        .unwrap()
        .sqr()
        .unwrap()
        .squeeze(0)
        .unwrap(); // scalar θ0²
    let s = score_function_surrogate(&lp, &f, None).unwrap();
    assert_eq!(s.dims(), &[2]);
    let g = grad_vec(&s.sum_all().unwrap().backward().unwrap(), &theta);
    // d/dθ0: two copies of 2θ0; d/dθ1: Σ f x_i = 0.09 · 3.
    close(
        &g,
        &[2.0 * 2.0 * 0.3, 0.09 * 3.0],
        1e-15,
        "pathwise + score",
    );
}

#[test]
fn surrogate_shapes_dtypes_and_validation() {
    let lp = t1(&[0.0, -1.0, -2.0]);
    let e = score_function_surrogate(&lp, &t1(&[1.0, 2.0]), None).unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e}");
    assert!(e.to_string().contains("score_function_surrogate"), "{e}");
    let e = score_function_surrogate(&lp, &t1(&[1.0, 2.0, 3.0]), Some(&t1(&[1.0; 4]))).unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e}");
    // A baseline may not enlarge the result.
    let e = score_function_surrogate(
        &lp,
        &t1(&[1.0, 2.0, 3.0]),
        Some(&Tensor::ones((2, 3), DType::F64, &CPU).unwrap()),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e}");
    let ints = Tensor::new(&[1u32, 2, 3], &CPU).unwrap();
    let e = score_function_surrogate(&lp, &ints, None).unwrap_err();
    assert!(matches!(e, Error::DType { .. }), "{e}");
    // f32 log_prob with f64 f computes in f64; [n, 1] against [k] broadcasts to [n, k].
    let lp32 = Tensor::new(&[[0.0f32], [-1.0]], &CPU).unwrap();
    let s = score_function_surrogate(&lp32, &t1(&[1.0, 2.0, 3.0]), None).unwrap();
    assert_eq!((s.dtype(), s.dims()), (DType::F64, &[2usize, 3][..]));
    // Non-finite inputs name the argument and the index.
    match score_function_surrogate(&t1(&[0.0, f64::NEG_INFINITY]), &t1(&[1.0, 1.0]), None) {
        Err(Error::OutOfSupport {
            distribution,
            argument,
            index,
            found,
            ..
        }) => {
            assert_eq!(
                (distribution, argument, index),
                ("score_function_surrogate", "log_prob", 1)
            );
            assert_eq!(found, f64::NEG_INFINITY);
        }
        other => panic!("expected OutOfSupport, got {other:?}"),
    }
    match score_function_surrogate(&t1(&[0.0, 0.0]), &t1(&[f64::NAN, 1.0]), None) {
        Err(Error::OutOfSupport {
            argument, index, ..
        }) => assert_eq!((argument, index), ("f", 0)),
        other => panic!("expected OutOfSupport, got {other:?}"),
    }
}

// ---------------------------------------------------------------- baselines

#[test]
fn leave_one_out_is_the_mean_of_the_other_draws() {
    // f: 3 draws × 2 batch elements, sample dimension 0.
    let f = Tensor::new(&[[1.0f64, -4.0], [2.0, 0.0], [6.0, 10.0]], &CPU).unwrap();
    let b = LeaveOneOut::new(0).baseline(&f).unwrap();
    assert_eq!(
        b.to_vec2::<f64>().unwrap(),
        [[4.0, 5.0], [3.5, 3.0], [1.5, -2.0]]
    );
    // Along dimension 1 (2 draws): the other one.
    let b = LeaveOneOut::new(1).baseline(&f).unwrap();
    assert_eq!(
        b.to_vec2::<f64>().unwrap(),
        [[-4.0, 1.0], [0.0, 2.0], [10.0, 6.0]]
    );
    // Detached: a baseline of a tensor on a graph carries no gradient.
    let v = Var::new(&[1.0f64, 2.0], &CPU).unwrap();
    let b = LeaveOneOut::new(0).baseline(v.as_tensor()).unwrap();
    assert!(b.sum_all().unwrap().backward().unwrap().get(&v).is_none());
    // f32 in, f32 out, computed in f64: in f32, 1e8 + 1 + 3 rounds to 1e8 and the first
    // baseline would be 0 instead of (1 + 3)/2.
    let f32s = Tensor::new(&[1e8f32, 1.0, 3.0], &CPU).unwrap();
    let b = LeaveOneOut::new(0).baseline(&f32s).unwrap();
    assert_eq!(
        b.to_vec1::<f32>().unwrap(),
        [2.0, 50_000_001.5f64 as f32, 50_000_000.5f64 as f32]
    );
    for (f, d) in [(t1(&[1.0]), 0usize), (t1(&[1.0, 2.0]), 1)] {
        let e = LeaveOneOut::new(d).baseline(&f).unwrap_err();
        assert!(
            matches!(e, Error::Shape { .. }) && e.to_string().contains("LeaveOneOut"),
            "{e}"
        );
    }
}

#[test]
fn moving_average_uses_only_earlier_calls() {
    let mut ma = MovingAverage::new(0.9).unwrap();
    let calls = [[1.0, 3.0], [10.0, 10.0], [-5.0, 5.0], [4.0, 8.0]];
    let mut avg: Option<f64> = None;
    for c in calls {
        let b = ma.baseline(&t1(&c)).unwrap();
        assert_eq!(b.dims(), &[] as &[usize]);
        assert_eq!(b.to_scalar::<f64>().unwrap(), avg.unwrap_or(0.0));
        let m = (c[0] + c[1]) / 2.0;
        avg = Some(avg.map_or(m, |a| 0.9 * a + 0.1 * m));
    }
    ma.reset();
    assert_eq!(
        ma.baseline(&t1(&[7.0]))
            .unwrap()
            .to_scalar::<f64>()
            .unwrap(),
        0.0
    );

    // Per batch element over the sample dimension 0: f of shape [2 draws, 3].
    let mut ma = MovingAverage::over_dim(0.5, 0).unwrap();
    let f1 = Tensor::new(&[[1.0f32, 2.0, 3.0], [3.0, 4.0, 5.0]], &CPU).unwrap();
    let f2 = Tensor::new(&[[0.0f32, 0.0, 0.0], [4.0, 4.0, 4.0]], &CPU).unwrap();
    assert_eq!(
        ma.baseline(&f1).unwrap().to_vec2::<f32>().unwrap(),
        [[0.0, 0.0, 0.0]]
    );
    assert_eq!(
        ma.baseline(&f2).unwrap().to_vec2::<f32>().unwrap(),
        [[2.0, 3.0, 4.0]]
    );
    assert_eq!(
        ma.baseline(&f2).unwrap().to_vec2::<f32>().unwrap(),
        [[2.0, 2.5, 3.0]]
    );
    let e = ma.baseline(&t1(&[1.0, 2.0])).unwrap_err(); // the batch changed
    assert!(matches!(e, Error::Shape { .. }), "{e}");

    for bad in [-0.1, 1.5, f64::NAN] {
        assert_param_error(MovingAverage::new(bad), "MovingAverage", "decay");
    }
}

#[test]
fn baseline_surrogate_subtracts_the_baseline() {
    let theta = Var::new(0.0f64, &CPU).unwrap();
    let x = t1(&[1.0, 2.0, 4.0]);
    let lp = x.broadcast_mul(theta.as_tensor()).unwrap();
    let f = t1(&[3.0, 6.0, 9.0]);
    let s = LeaveOneOut::new(0).surrogate(&lp, &f).unwrap();
    assert_eq!(host(&s), [3.0, 6.0, 9.0]);
    let g = grad_vec(&s.sum_all().unwrap().backward().unwrap(), &theta);
    // b = (7.5, 6, 4.5): (3−7.5)·1 + (6−6)·2 + (9−4.5)·4 = 13.5
    assert_eq!(g, [13.5]);
}

// ---------------------------------------------------------------- Gumbel

fn softmax(l: &[f64]) -> Vec<f64> {
    let m = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = l.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

/// The hard Gumbel-softmax draw is a categorical draw (Gumbel-max): chi-square against
/// softmax(logits), p >= 1e-3, with a −∞ class never drawn; soft rows are on the simplex.
#[test]
fn gumbel_max_draws_follow_the_softmax_law() {
    let logits = [0.3, -1.2, f64::NEG_INFINITY, 2.0, 0.0, -3.0];
    let k = logits.len();
    let n = 40_000;
    for dtype in [DType::F64, DType::F32] {
        let l = t1(&logits)
            .to_dtype(dtype)
            .unwrap()
            .unsqueeze(0)
            .unwrap()
            .repeat((n, 1))
            .unwrap();
        let mut rng = Generator::new(11);
        let h = gumbel_softmax(&l, 0.7, true, &mut rng).unwrap();
        assert_eq!(h.dtype(), dtype);
        let h = host(&h);
        let mut counts = vec![0.0; k];
        for row in h.chunks(k) {
            assert_eq!(row.iter().filter(|&&v| v == 1.0).count(), 1);
            assert_eq!(row.iter().filter(|&&v| v == 0.0).count(), k - 1);
            counts[row.iter().position(|&v| v == 1.0).unwrap()] += 1.0;
        }
        assert_eq!(counts[2], 0.0, "a -inf class was drawn");
        let expected: Vec<f64> = softmax(&logits).iter().map(|p| p * n as f64).collect();
        let keep: Vec<usize> = (0..k).filter(|&i| i != 2).collect();
        let (stat, df, p) = chi_square(
            &keep.iter().map(|&i| counts[i]).collect::<Vec<_>>(),
            &keep.iter().map(|&i| expected[i]).collect::<Vec<_>>(),
        );
        assert!(p >= 1e-3, "{dtype:?}: chi2 = {stat} (df {df}), p = {p:e}");

        let s = host(&gumbel_softmax(&l, 0.7, false, &mut rng).unwrap());
        for row in s.chunks(k) {
            let sum: f64 = row.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-6
                    && row[2] == 0.0
                    && row.iter().all(|v| (0.0..=1.0).contains(v))
            );
        }
    }
}

/// ∂/∂logits of Σ_k w_k y_k with the noise held fixed (same seed): central differences
/// in f64 agree with the autograd gradient; hard = true has the soft gradient.
#[test]
fn gumbel_softmax_gradient_matches_finite_differences() {
    let l0 = [0.4, -0.7, 1.1, 0.0];
    let w = t1(&[1.0, -2.0, 0.5, 3.0]);
    let tau = 0.6;
    let eval = |l: &[f64], hard: bool| -> (f64, Vec<f64>) {
        let v = Var::from_vec([l, l].concat(), (2, 4), &CPU).unwrap(); // two rows
        let y = gumbel_softmax(v.as_tensor(), tau, hard, &mut Generator::new(5)).unwrap();
        let obj = y.broadcast_mul(&w).unwrap().sum_all().unwrap();
        let g = obj.backward().unwrap();
        let gv = host(g.get(&v).unwrap());
        (obj.to_scalar::<f64>().unwrap(), gv)
    };
    let (_, g) = eval(&l0, false);
    let (_, g_hard) = eval(&l0, true);
    assert_eq!(g, g_hard, "straight-through gradient must be the soft one");
    // Both rows share the logits but not the noise: perturb one row entry at a time.
    let h = 1e-6;
    for row in 0..2 {
        for j in 0..4 {
            let bump = |d: f64| {
                let mut m = [l0, l0].concat();
                m[row * 4 + j] += d;
                let t = Tensor::from_vec(m, (2, 4), &CPU).unwrap();
                let y = gumbel_softmax(&t, tau, false, &mut Generator::new(5)).unwrap();
                y.broadcast_mul(&w)
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap()
            };
            let fd = (bump(h) - bump(-h)) / (2.0 * h);
            let a = g[row * 4 + j];
            assert!(
                (fd - a).abs() < 1e-7 * (1.0 + a.abs()),
                "[{row},{j}]: fd {fd} vs autograd {a}"
            );
        }
    }
}

#[test]
fn gumbel_softmax_extremes_and_validation() {
    // f32 logits of ±1e38 and a subnormal temperature: no NaN, mass where it belongs.
    let l = Tensor::new(
        &[[1e38f32, -1e38, 0.0], [0.0, 0.0, f32::NEG_INFINITY]],
        &CPU,
    )
    .unwrap();
    for tau in [1e-310, 1e-3, 1.0, 1e300] {
        let mut rng = Generator::new(1);
        let y = host(&gumbel_softmax(&l, tau, false, &mut rng).unwrap());
        assert!(y.iter().all(|v| v.is_finite()), "tau {tau}: {y:?}");
        if tau <= 1.0 {
            assert_eq!(y[0], 1.0, "tau {tau}");
        }
        assert_eq!(y[5], 0.0, "tau {tau}");
        let v = Var::from_tensor(&l).unwrap();
        let g = gumbel_softmax(v.as_tensor(), tau, true, &mut rng)
            .unwrap()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(
            host(g.get(&v).unwrap()).iter().all(|v| v.is_finite()),
            "tau {tau}"
        );
    }
    // Same seed, same draw; different seeds differ.
    let l = t1(&[0.1, 0.2, 0.3]);
    let a = host(&gumbel_softmax(&l, 1.0, false, &mut Generator::new(9)).unwrap());
    let b = host(&gumbel_softmax(&l, 1.0, false, &mut Generator::new(9)).unwrap());
    let c = host(&gumbel_softmax(&l, 1.0, false, &mut Generator::new(10)).unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);

    let mut rng = Generator::new(0);
    for tau in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_param_error(
            gumbel_softmax(&l, tau, false, &mut rng),
            "gumbel_softmax",
            "tau",
        );
    }
    for (bad, index) in [
        (vec![0.0, f64::NAN, 1.0], 1),
        (vec![0.0, 1.0, f64::INFINITY], 2),
        (vec![f64::NEG_INFINITY; 3], 0),
    ] {
        match gumbel_softmax(&t1(&bad), 1.0, false, &mut rng) {
            Err(Error::InvalidParameter {
                distribution,
                parameter,
                index: i,
                ..
            }) => {
                assert_eq!(
                    (distribution, parameter, i),
                    ("gumbel_softmax", "logits", index)
                )
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let e = gumbel_softmax(&Tensor::new(1.0f64, &CPU).unwrap(), 1.0, false, &mut rng).unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e}");
    let e = straight_through(&t1(&[1.0, 0.0]), &t1(&[0.5, 0.2, 0.3])).unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e}");
}

/// Gumbel-sigmoid: the hard draw is Bernoulli(σ(l)) (binomial z-test, |z| < 4 for each
/// logit), the soft draw lies in (0, 1), and the gradient matches central differences.
#[test]
fn gumbel_sigmoid_law_gradient_and_extremes() {
    let logits = [-2.0, -0.3, 0.0, 1.5, 4.0];
    let n = 20_000;
    let l = t1(&logits).unsqueeze(0).unwrap().repeat((n, 1)).unwrap();
    let h = host(&gumbel_sigmoid(&l, 0.5, true, &mut Generator::new(4)).unwrap());
    for (j, &lj) in logits.iter().enumerate() {
        let p = 1.0 / (1.0 + (-lj).exp());
        let ones: f64 = h.iter().skip(j).step_by(logits.len()).sum();
        let z = (ones - n as f64 * p) / (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            z.abs() < 4.0,
            "logit {lj}: {ones} ones of {n}, p = {p}, z = {z}"
        );
    }
    let eval = |l: &[f64]| {
        let y = gumbel_sigmoid(&t1(l), 0.8, false, &mut Generator::new(2)).unwrap();
        (
            y.sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap(),
            host(&y),
        )
    };
    let v = Var::new(&logits, &CPU).unwrap();
    let g = gumbel_sigmoid(v.as_tensor(), 0.8, false, &mut Generator::new(2))
        .unwrap()
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let g = host(g.get(&v).unwrap());
    let (_, y) = eval(&logits);
    assert!(y.iter().all(|v| *v > 0.0 && *v < 1.0));
    for j in 0..logits.len() {
        let mut up = logits;
        let mut dn = logits;
        up[j] += 1e-6;
        dn[j] -= 1e-6;
        let fd = (eval(&up).0 - eval(&dn).0) / 2e-6;
        assert!(
            (fd - g[j]).abs() < 1e-7 * (1.0 + g[j].abs()),
            "[{j}]: fd {fd} vs {}",
            g[j]
        );
    }
    let l = Tensor::new(&[f32::NEG_INFINITY, -1e38, 1e38, f32::INFINITY], &CPU).unwrap();
    let y = gumbel_sigmoid(&l, 1e-300, false, &mut Generator::new(0)).unwrap();
    assert_eq!(y.to_vec1::<f32>().unwrap(), [0.0, 0.0, 1.0, 1.0]);
    let e = gumbel_sigmoid(&t1(&[f64::NAN]), 1.0, false, &mut Generator::new(0)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                parameter: "logits",
                ..
            }
        ),
        "{e}"
    );
}

// ---------------------------------------------------------------- variance probe

/// d/dθ E[(x − 3)²], x ~ Normal(loc, scale): exactly (2(loc − 3), 2·scale). Pathwise and
/// the three score-function estimators (4 draws per repetition, 2500 repetitions:
/// 10 000 draws each) are all within 4 standard errors; pathwise has the lowest variance
/// in both components; leave-one-out beats no baseline.
#[test]
fn normal_pathwise_and_score_function_are_unbiased() {
    let (loc0, scale0) = (1.0, 2.0);
    let exact = [2.0 * (loc0 - 3.0), 2.0 * scale0];
    let params = [
        Var::new(loc0, &CPU).unwrap(),
        Var::new(scale0, &CPU).unwrap(),
    ];
    let n = 4;
    let objective = |x: &Tensor| (x - 3.0)?.sqr();
    let normal = |p: &[Var]| Normal::new(&p[0], &p[1]);
    let mut ma = MovingAverage::new(0.9).unwrap();
    let mut estimators = [
        NamedEstimator::new("pathwise", |p: &[Var], rng: &mut Generator| {
            Ok(objective(&normal(p)?.rsample(&[n], rng)?)?)
        }),
        NamedEstimator::new("score", |p: &[Var], rng: &mut Generator| {
            let d = normal(p)?;
            let x = d.sample(&[n], rng)?;
            score_function_surrogate(&d.log_prob(&x)?, &objective(&x)?, None)
        }),
        NamedEstimator::new("score+moving average", |p: &[Var], rng: &mut Generator| {
            let d = normal(p)?;
            let x = d.sample(&[n], rng)?;
            ma.surrogate(&d.log_prob(&x)?, &objective(&x)?)
        }),
        NamedEstimator::new("score+leave-one-out", |p: &[Var], rng: &mut Generator| {
            let d = normal(p)?;
            let x = d.sample(&[n], rng)?;
            LeaveOneOut::new(0).surrogate(&d.log_prob(&x)?, &objective(&x)?)
        }),
    ];
    let stats = variance_probe(&params, &mut estimators, 2500, &Generator::new(2024)).unwrap();
    let exact_objective = (loc0 - 3.0f64).powi(2) + scale0 * scale0;
    for s in &stats {
        let z = s.max_abs_z(&exact).unwrap();
        eprintln!(
            "{}: mean {:?} var {:?} z {z:.2} objective {}",
            s.name, s.mean, s.variance, s.objective
        );
        assert!(
            z < 4.0,
            "{}: mean {:?} vs exact {exact:?}, se {:?}",
            s.name,
            s.mean,
            s.std_error
        );
        assert!(
            (s.objective - exact_objective).abs() < 0.5,
            "{}: objective {}",
            s.name,
            s.objective
        );
    }
    for c in 0..2 {
        for s in &stats[1..] {
            assert!(
                stats[0].variance[c] < s.variance[c],
                "component {c}: pathwise vs {}",
                s.name
            );
        }
    }
    assert!(stats[3].total_variance() < stats[1].total_variance());
}

#[test]
fn variance_probe_rejects_bad_input() {
    let p = [Var::new(1.0f64, &CPU).unwrap()];
    let mut est = [NamedEstimator::new(
        "nan",
        |p: &[Var], _: &mut Generator| Ok((p[0].as_tensor().sqrt()? * f64::NAN)?),
    )];
    let e = variance_probe(&p, &mut est, 10, &Generator::new(0)).unwrap_err();
    assert!(
        e.to_string().contains("`nan`") && e.to_string().contains("non-finite"),
        "{e}"
    );
    let e = variance_probe(&p, &mut est, 1, &Generator::new(0)).unwrap_err();
    assert!(e.to_string().contains("reps >= 2"), "{e}");
    let e = variance_probe(&[], &mut est, 10, &Generator::new(0)).unwrap_err();
    assert!(e.to_string().contains("no parameters"), "{e}");
    // A parameter the surrogate ignores gets a zero gradient, with zero variance.
    let q = [
        Var::new(1.0f64, &CPU).unwrap(),
        Var::new(&[2.0f64, 3.0], &CPU).unwrap(),
    ];
    let mut est = [NamedEstimator::new(
        "first only",
        |p: &[Var], rng: &mut Generator| {
            let u = rng.uniform(&[], DType::F64, &CPU)?;
            Ok((p[0].as_tensor() * &u)?)
        },
    )];
    let s = &variance_probe(&q, &mut est, 1000, &Generator::new(3)).unwrap()[0];
    assert_eq!(s.mean.len(), 3);
    assert_eq!(&s.mean[1..], [0.0, 0.0]);
    assert_eq!(&s.variance[1..], [0.0, 0.0]);
    // d/dp0 (p0 · u) = u ~ Uniform(0, 1): mean 1/2, variance 1/12.
    assert!((s.mean[0] - 0.5).abs() < 4.0 * s.std_error[0]);
    assert!((s.variance[0] - 1.0 / 12.0).abs() < 0.01);
}

// ---------------------------------------------------------------- categorical objective

/// Logits θ and the reward table r of the categorical objective E_{x ~ Cat(softmax θ)}[r_x].
/// Rewards well away from 0 (mean ≈ 4.8, spread ≈ 2), as in most uses: there a baseline
/// pays. (With E[r] ≈ 0 and 4 draws, leave-one-out's own noise, a factor 1 + 1/(n − 1) on
/// Var r, can exceed what it removes, E[r]².)
const THETA: [f64; 4] = [0.5, -0.5, 1.0, 0.0];
const REWARD: [f64; 4] = [6.0, 8.0, 3.0, 5.5];

/// The exact gradient by enumeration: ∂/∂θ_k Σ_j p_j r_j = p_k (r_k − Σ_j p_j r_j), and the
/// objective Σ_j p_j r_j.
fn categorical_exact() -> (Vec<f64>, f64) {
    let p = softmax(&THETA);
    let mean: f64 = p.iter().zip(REWARD).map(|(p, r)| p * r).sum();
    (
        p.iter().zip(REWARD).map(|(p, r)| p * (r - mean)).collect(),
        mean,
    )
}

/// `n` draws of Categorical(logits = θ): (log_prob, reward) of each.
fn categorical_draws(
    p: &[Var],
    rng: &mut Generator,
    n: usize,
) -> candle_distributions::Result<(Tensor, Tensor)> {
    let d = Categorical::from_logits(&p[0])?;
    let x = d.sample(&[n], rng)?;
    let reward = Tensor::new(&REWARD, &CPU)?;
    Ok((d.log_prob(&x)?, reward.index_select(&x, 0)?))
}

/// Acceptance: the mean of each score-function estimator (no baseline, moving average,
/// leave-one-out) over 2 500 repetitions of 4 draws (10 000 draws) is within 4 standard
/// errors of the exact gradient in every component, and leave-one-out has the lower
/// variance (trace) of the two memoryless estimators.
#[test]
fn categorical_score_function_estimators_are_unbiased() {
    let (exact, objective) = categorical_exact();
    let params = [Var::new(&THETA, &CPU).unwrap()];
    let n = 4;
    let mut ma = MovingAverage::new(0.9).unwrap();
    let mut estimators = [
        NamedEstimator::new("no baseline", |p: &[Var], rng: &mut Generator| {
            let (lp, f) = categorical_draws(p, rng, n)?;
            score_function_surrogate(&lp, &f, None)
        }),
        NamedEstimator::new("moving average", |p: &[Var], rng: &mut Generator| {
            let (lp, f) = categorical_draws(p, rng, n)?;
            ma.surrogate(&lp, &f)
        }),
        NamedEstimator::new("leave-one-out", |p: &[Var], rng: &mut Generator| {
            let (lp, f) = categorical_draws(p, rng, n)?;
            LeaveOneOut::new(0).surrogate(&lp, &f)
        }),
    ];
    let stats = variance_probe(&params, &mut estimators, 2500, &Generator::new(77)).unwrap();
    for s in &stats {
        let z = s.max_abs_z(&exact).unwrap();
        eprintln!(
            "{}: mean {:?} (exact {exact:?}), var {:.4}, max|z| {z:.2}",
            s.name,
            s.mean,
            s.total_variance()
        );
        assert_eq!(s.reps * n, 10_000);
        assert!(
            z < 4.0,
            "{}: {:?} vs {exact:?}, se {:?}",
            s.name,
            s.mean,
            s.std_error
        );
        // The objective estimate: a mean of 10 000 rewards (sd < 2.5).
        assert!(
            (s.objective - objective).abs() < 4.0 * 2.5 / 100.0,
            "{}",
            s.objective
        );
    }
    assert!(
        stats[2].total_variance() < stats[0].total_variance(),
        "leave-one-out {} vs no baseline {}",
        stats[2].total_variance(),
        stats[0].total_variance()
    );
}

/// Gumbel-softmax differentiates the relaxed objective E[Σ_k y_k r_k]: biased, and the
/// bias (distance of the mean estimate from the exact gradient) shrinks as τ decreases
/// through 2, 0.5, 0.1; at τ = 2 the bias is many standard errors wide.
#[test]
fn gumbel_softmax_bias_shrinks_as_the_temperature_falls() {
    let (exact, _) = categorical_exact();
    let params = [Var::new(&THETA, &CPU).unwrap()];
    let (n, k) = (4, THETA.len());
    let reward = Tensor::new(&REWARD, &CPU).unwrap().reshape((k, 1)).unwrap();
    let taus = [2.0, 0.5, 0.1];
    let mut estimators: Vec<_> = taus
        .iter()
        .map(|&tau| {
            let reward = reward.clone();
            NamedEstimator::new(
                format!("tau {tau}"),
                move |p: &[Var], rng: &mut Generator| {
                    let logits = p[0].as_tensor().unsqueeze(0)?.broadcast_as((n, k))?;
                    let y = gumbel_softmax(&logits, tau, false, rng)?;
                    Ok(y.matmul(&reward)?)
                },
            )
        })
        .collect();
    let stats = variance_probe(&params, &mut estimators, 2500, &Generator::new(78)).unwrap();
    let norm = |v: Vec<f64>| v.iter().map(|b| b * b).sum::<f64>().sqrt();
    let biases: Vec<f64> = stats
        .iter()
        .map(|s| norm(s.bias(&exact).unwrap()))
        .collect();
    for s in &stats {
        eprintln!(
            "{}: bias {:?}, max|z| {:.1}, var {:.4}",
            s.name,
            s.bias(&exact).unwrap(),
            s.max_abs_z(&exact).unwrap(),
            s.total_variance()
        );
    }
    assert!(
        stats[0].max_abs_z(&exact).unwrap() > 10.0,
        "tau 2 should be clearly biased"
    );
    for i in 1..taus.len() {
        assert!(
            biases[i] < biases[i - 1],
            "bias at tau {} ({}) not below bias at tau {} ({})",
            taus[i],
            biases[i],
            taus[i - 1],
            biases[i - 1]
        );
    }
}

/// On real Categorical draws, in f64 and f32: ∇θ ln p(x) = e_x − softmax(θ), so the
/// surrogate's gradient is Σ_i (r_{x_i} − b_i)(e_{x_i} − p), computed here by hand from
/// the drawn indices (b from leave-one-out, also by hand).
#[test]
fn surrogate_gradient_on_categorical_draws_matches_the_closed_form() {
    let p = softmax(&THETA);
    for dtype in [DType::F64, DType::F32] {
        let theta = Var::from_tensor(&t1(&THETA).to_dtype(dtype).unwrap()).unwrap();
        let d = Categorical::from_logits(&theta).unwrap();
        let x = d.sample(&[6], &mut Generator::new(13)).unwrap();
        let idx: Vec<i64> = x.to_vec1::<i64>().unwrap();
        let reward = t1(&REWARD).to_dtype(dtype).unwrap();
        let f = reward.index_select(&x, 0).unwrap();
        let s = LeaveOneOut::new(0)
            .surrogate(&d.log_prob(&x).unwrap(), &f)
            .unwrap();
        assert_eq!(s.dtype(), dtype);
        let g = grad_vec(&s.sum_all().unwrap().backward().unwrap(), &theta);
        let r: Vec<f64> = idx.iter().map(|&i| REWARD[i as usize]).collect();
        let total: f64 = r.iter().sum();
        let mut want = [0.0; 4];
        for (i, &xi) in idx.iter().enumerate() {
            let w = r[i] - (total - r[i]) / 5.0;
            for (k, wk) in want.iter_mut().enumerate() {
                *wk += w * (f64::from(u8::from(k as i64 == xi)) - p[k]);
            }
        }
        let tol = if dtype == DType::F64 { 1e-13 } else { 1e-5 };
        close(&g, &want, tol, &format!("{dtype:?}"));
    }
}
