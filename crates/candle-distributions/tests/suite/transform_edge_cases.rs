//! Edge cases of the structured transforms, one test per class of defect the property
//! suite (`transform_properties.rs`) found: zero-size tensors (empty views, empty
//! batches, empty events), unbatched vectors, batches of rank above 2, f32 and f64
//! overflow in `PositiveDefiniteTransform`, outputs that rounding left singular,
//! subnormal tails in `CorrCholeskyTransform`'s inverse, and errors that must name the
//! transform the user built. Reference values are closed forms evaluated here in f64.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::transforms::{
    AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform, ExpTransform,
    PositiveDefiniteTransform, SigmoidTransform, SoftmaxTransform, StackTransform,
    StickBreakingTransform, TanhTransform, Transform,
};
use candle_distributions::{Constraint, Error};

type R = candle_distributions::Result<()>;

const DEV: Device = Device::Cpu;

fn host(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

fn tensor(v: &[f64], shape: &[usize], dt: DType) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape, &DEV)
        .unwrap()
        .to_dtype(dt)
        .unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn stack() -> StackTransform {
    StackTransform::new(vec![Box::new(ExpTransform), Box::new(SigmoidTransform)], -1)
}

fn cat() -> CatTransform {
    CatTransform::new(
        vec![Box::new(ExpTransform), Box::new(TanhTransform)],
        -1,
        Some(vec![1, 2]),
    )
    .unwrap()
}

// ------------------------------------------------------------------ zero-size tensors

#[test]
fn elementwise_maps_accept_empty_views() -> R {
    // `narrow` of an empty tensor is a view whose start offset lies past its storage.
    for dt in [DType::F32, DType::F64] {
        let view = Tensor::zeros((0, 3), dt, &DEV)?.narrow(1, 1, 2)?;
        let y = SigmoidTransform.forward(&view)?;
        assert_eq!(y.dims(), &[0, 2]);
        let (y, l) = SigmoidTransform.forward_and_log_det(&view)?;
        assert_eq!((y.dims(), l.dims()), (&[0usize, 2][..], &[0usize, 2][..]));
    }
    Ok(())
}

#[test]
fn stack_and_cat_map_zero_size_batches() -> R {
    for dt in [DType::F32, DType::F64] {
        for batch in [vec![0], vec![2, 0]] {
            let s = stack();
            let mut shape = batch.clone();
            shape.push(2);
            let x = Tensor::zeros(shape.as_slice(), dt, &DEV)?;
            assert_eq!(s.domain().check(&x)?, None);
            let y = s.forward(&x)?;
            assert_eq!(y.dims(), shape.as_slice());
            assert_eq!(s.codomain().check(&y)?, None);
            assert_eq!(s.inverse(&y)?.dims(), shape.as_slice());
            let (_, l) = s.forward_and_log_det(&x)?;
            assert_eq!(l.dims(), batch.as_slice());

            let c = cat();
            let mut shape = batch.clone();
            shape.push(3);
            let x = Tensor::zeros(shape.as_slice(), dt, &DEV)?;
            assert_eq!(c.domain().check(&x)?, None);
            let y = c.forward(&x)?;
            assert_eq!(y.dims(), shape.as_slice());
            assert_eq!(c.codomain().check(&y)?, None);
            assert_eq!(c.inv().forward(&y)?.dims(), shape.as_slice());
        }
    }
    Ok(())
}

#[test]
fn cat_and_stack_constraints_accept_zero_size_values() -> R {
    let cat_c = Constraint::Cat {
        constraints: vec![Constraint::Positive, Constraint::UnitInterval],
        dim: -1,
        lengths: vec![1, 2],
    };
    let stack_c = Constraint::Stack {
        constraints: vec![Constraint::Positive, Constraint::Real],
        dim: 0,
    };
    for dt in [DType::F32, DType::F64] {
        assert_eq!(cat_c.check(&Tensor::zeros((2, 0, 3), dt, &DEV)?)?, None);
        assert_eq!(stack_c.check(&Tensor::zeros((2, 0), dt, &DEV)?)?, None);
        // A violation in a non-empty value is still found.
        let bad = tensor(&[1.0, 0.5, 2.0], &[3], dt);
        assert_eq!(cat_c.check(&bad)?, Some((2, 2.0)));
    }
    Ok(())
}

#[test]
fn softmax_of_zero_size_tensors_is_empty() -> R {
    for dt in [DType::F32, DType::F64] {
        for shape in [vec![2, 0, 3], vec![3, 0], vec![0]] {
            let x = Tensor::zeros(shape.as_slice(), dt, &DEV)?;
            let y = SoftmaxTransform.forward(&x)?;
            assert_eq!(y.dims(), shape.as_slice());
            assert_eq!(y.dtype(), dt);
            // The log-det is undefined (typed), not a bare candle error.
            match SoftmaxTransform.forward_and_log_det(&x) {
                Err(Error::NotImplemented { distribution, .. }) => {
                    assert_eq!(distribution, "SoftmaxTransform")
                }
                other => panic!("expected NotImplemented, got {other:?}"),
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ StickBreaking

#[test]
fn stick_breaking_inverse_of_an_unbatched_vector() -> R {
    let t = StickBreakingTransform;
    for (dt, tol) in [(DType::F32, 2e-5), (DType::F64, 1e-12)] {
        let x = tensor(&[0.7, -1.3, 2.1, 0.4], &[4], dt);
        let y = t.forward(&x)?;
        let yv = host(&y);
        // The closed form: x_k = log y_k − log Σ_{j>k} y_j + log(n − k).
        let n = 4;
        let want: Vec<f64> = (0..n)
            .map(|k| yv[k].ln() - yv[k + 1..].iter().sum::<f64>().ln() + ((n - k) as f64).ln())
            .collect();
        let back = host(&t.inverse(&y)?);
        assert_eq!(back.len(), n);
        for (b, w) in back.iter().zip(&want) {
            assert!(
                (b - w).abs() <= tol * w.abs().max(1.0),
                "{back:?} vs {want:?}"
            );
        }
        // One entry: the inverse of the one-point simplex is empty.
        assert_eq!(t.inverse(&tensor(&[1.0], &[1], dt))?.dims(), &[0]);
        // A composite ending in the map inverts a vector too.
        let c = ComposeTransform::new(vec![
            Box::new(AffineTransform::new(0.5, 2.0)?),
            Box::new(StickBreakingTransform),
        ]);
        let back = host(&c.inverse(&c.forward(&x)?)?);
        for (b, w) in back.iter().zip([0.7, -1.3, 2.1, 0.4]) {
            assert!((b - w).abs() <= 10.0 * tol, "{back:?}");
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ PositiveDefinite

#[test]
fn positive_definite_accepts_batches_of_any_rank() -> R {
    let t = PositiveDefiniteTransform;
    // A [2, 3, 2] batch of 2 × 2 matrices.
    let x: Vec<f64> = (0..48)
        .map(|i| ((i * 37 % 23) as f64 - 11.0) / 7.0)
        .collect();
    let xt = tensor(&x, &[2, 3, 2, 2, 2], DType::F64);
    let y = host(&t.forward(&xt)?);
    for (m, ym) in x.chunks(4).zip(y.chunks(4)) {
        // L = [[e^a, 0], [b, e^c]]: L·Lᵀ = [[e^2a, b·e^a], [b·e^a, b² + e^2c]].
        let (a, b, c) = (m[0], m[2], m[3]);
        let want = [
            (2.0 * a).exp(),
            b * a.exp(),
            b * a.exp(),
            b * b + (2.0 * c).exp(),
        ];
        for (g, w) in ym.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{ym:?} vs {want:?}"
            );
        }
    }
    let back = host(&t.inverse(&t.forward(&xt)?)?);
    for (m, bm) in x.chunks(4).zip(back.chunks(4)) {
        let want = [m[0], 0.0, m[2], m[3]];
        for (g, w) in bm.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{bm:?} vs {want:?}"
            );
        }
    }
    // The inverse map, on the same batch rank.
    assert_eq!(t.inv().forward(&xt)?.dims(), &[2, 3, 2, 2, 2]);
    Ok(())
}

#[test]
fn positive_definite_saturates_rows_that_overflow_and_keeps_correlations() -> R {
    let t = PositiveDefiniteTransform;
    // f32: L = [[e^40, 0], [3e19, e^44]]; row 1 has |L_1|² ≈ 1.06e39 > f32::MAX.
    let x = tensor(&[40.0, 0.0, 3e19, 44.0], &[2, 2], DType::F32);
    let y = host(&t.forward(&x)?);
    assert!(y.iter().all(|v| v.is_finite()), "{y:?}");
    assert_eq!(y[1], y[2]);
    let l10 = 3e19f64;
    let l11 = 44f64.exp();
    let corr = l10 / (l10 * l10 + l11 * l11).sqrt();
    assert!(rel(y[0], 80f64.exp()) < 1e-6, "{y:?}");
    assert!(rel(y[3], f32::MAX as f64 / 4.0) < 1e-6, "{y:?}");
    assert!(rel(y[1] / (y[0] * y[3]).sqrt(), corr) < 1e-5, "{y:?}");
    assert_eq!(Constraint::PositiveDefinite.check(&t.forward(&x)?)?, None);
    let back = t.inverse(&t.forward(&x)?)?;
    let b = host(&back);
    assert!(b.iter().all(|v| !v.is_nan()), "{b:?}");
    // forward(inverse(y)) = y: the inverse is a pseudo-inverse of the saturated map.
    let y2 = host(&t.forward(&back)?);
    for (a, w) in y2.iter().zip(&y) {
        assert!(rel(*a, *w) < 1e-4, "{y2:?} vs {y:?}");
    }
    // f64: exp(1e300) overflows f64 itself; the row is dominated by its diagonal.
    let x = tensor(&[0.0, 0.0, 1e300, 1e300], &[2, 2], DType::F64);
    let y = host(&t.forward(&x)?);
    assert!(y.iter().all(|v| v.is_finite()), "{y:?}");
    assert_eq!(y[0], 1.0);
    assert!(rel(y[3], f64::MAX / 4.0) < 1e-12, "{y:?}");
    assert!(host(&t.inverse(&t.forward(&x)?)?)
        .iter()
        .all(|v| !v.is_nan()));
    Ok(())
}

#[test]
fn positive_definite_outputs_that_rounding_left_singular_invert_without_nan() -> R {
    let t = PositiveDefiniteTransform;
    // f32: e^(−3.4e38) underflows (the diagonal is floored), row 1 overflows; and a
    // row whose tiny diagonal is absorbed by its off-diagonal entries.
    let cases: [&[f64]; 3] = [
        &[-3.4028234663852886e38, 40.0, 3.4028234663852886e38, -0.0],
        &[0.0, 0.0, 1e10, -45.0],
        &[-0.3117, 0.0, 0.0, -1.3233, -40.0, 0.0, -7.53e18, 3e18, 1.0],
    ];
    for x in cases {
        let d = (x.len() as f64).sqrt() as usize;
        let xt = tensor(x, &[d, d], DType::F32);
        let y = t.forward(&xt)?;
        let yv = host(&y);
        assert!(yv.iter().all(|v| v.is_finite()), "{yv:?}");
        assert_eq!(Constraint::PositiveSemidefinite.check(&y)?, None, "{yv:?}");
        let back = host(&t.inverse(&y)?);
        assert!(back.iter().all(|v| !v.is_nan()), "{yv:?} -> {back:?}");
    }
    // Matrices that are not positive definite beyond rounding still give NaN.
    for bad in [
        [1.0, 2.0, 2.0, 1.0],
        [0.0, 1.0, 1.0, 1.0],
        [-1.0, 0.0, 0.0, 1.0],
    ] {
        let b = host(&t.inverse(&tensor(&bad, &[2, 2], DType::F32))?);
        assert!(b.iter().any(|v| v.is_nan()), "{bad:?} -> {b:?}");
    }
    Ok(())
}

#[test]
fn positive_definite_log_det_of_f32_extremes_is_not_nan() -> R {
    let t = PositiveDefiniteTransform;
    let m = f32::MAX as f64;
    // log|det J| = D·log 2 + Σ_i (D − i + 1)·x_ii = 3 log 2 + 4m − 3m + 2·0.
    let x = tensor(&[m, 0.0, 0.0, -m, -m, 0.0, m, -m, 0.0], &[3, 3], DType::F32);
    let y = t.forward(&x)?;
    let l = host(&t.log_abs_det_jacobian(&x, &y)?)[0];
    let want = (3.0 * 2f64.ln() + 4.0 * m - 3.0 * m) as f32 as f64;
    assert_eq!(l, want);
    Ok(())
}

#[test]
fn positive_definite_log_det_of_f64_extremes_is_not_nan() -> R {
    let t = PositiveDefiniteTransform;
    let m = f64::MAX;
    // 3 log 2 + 4·x_00 + 3·x_11 + 2·x_22: partial sums beyond MAX, a finite total.
    let x = tensor(
        &[m / 2.0, 0.0, 0.0, 0.0, -m / 2.0, 0.0, 0.0, 0.0, 0.0],
        &[3, 3],
        DType::F64,
    );
    let l = host(&t.log_abs_det_jacobian(&x, &x)?)[0];
    assert!(rel(l, m / 2.0) < 1e-15, "{l}");
    // A total that overflows is +∞ (not ∞ − ∞ = NaN).
    let x = tensor(
        &[m, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -m],
        &[3, 3],
        DType::F64,
    );
    let l = host(&t.log_abs_det_jacobian(&x, &x)?)[0];
    assert_eq!(l, f64::INFINITY);
    Ok(())
}

#[test]
fn positive_definite_outputs_stay_positive_definite_when_a_diagonal_is_lost_to_rounding() -> R {
    let t = PositiveDefiniteTransform;
    // Row 2 = [a, b, e^−18]: L_22² ≈ 2e−16 is far below the rounding of y_22 ≈ a² + b²
    // in f32 (and of the off-diagonal products), so the rounded L·Lᵀ is often singular.
    let n = 64;
    let mut x = Vec::with_capacity(n * 9);
    for k in 0..n {
        let a = 1.0 + 0.37 * k as f64;
        let b = 3.0 - 0.11 * k as f64;
        x.extend([0.3, 0.0, 0.0, 1.7 - 0.05 * k as f64, -0.4, 0.0, a, b, -18.0]);
    }
    let xt = tensor(&x, &[n, 3, 3], DType::F32);
    let y = t.forward(&xt)?;
    assert_eq!(Constraint::PositiveDefinite.check(&y)?, None);
    // Off the diagonal y is L·Lᵀ to rounding; the diagonal is raised by at most the
    // documented 4(D+2)·ε·√y_ii·Σ_k √y_kk (plus rounding).
    let eps = f32::EPSILON as f64;
    let yv = host(&y);
    for (m, ym) in x.chunks(9).zip(yv.chunks(9)) {
        let l = [
            m[0].exp(),
            0.0,
            0.0,
            m[3],
            m[4].exp(),
            0.0,
            m[6],
            m[7],
            m[8].exp(),
        ];
        for i in 0..3 {
            for j in 0..3 {
                let w: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                let scale = (ym[i * 4].abs() * ym[j * 4].abs()).sqrt();
                let roots: f64 = (0..3).map(|k| ym[k * 4].sqrt()).sum();
                let tol = if i == j {
                    (20.0 * ym[i * 4].sqrt() * roots + 8.0 * scale) * eps
                } else {
                    8.0 * eps * scale
                };
                assert!((ym[i * 3 + j] - w).abs() <= tol, "{i} {j}: {ym:?}");
            }
        }
    }
    // Well-conditioned matrices come back exactly as computed.
    let x = tensor(&[0.0, 9.0, 2.0, 0.0], &[2, 2], DType::F32);
    assert_eq!(host(&t.forward(&x)?), vec![1.0, 2.0, 2.0, 5.0]);
    Ok(())
}

// ------------------------------------------------------------------ CorrCholesky

#[test]
fn corr_cholesky_inverse_of_subnormal_tails_is_not_nan() -> R {
    let t = CorrCholeskyTransform;
    // Row 2's tail (y_21, y_22) squares to 0 in f32 (and, at 1e−200, in f64).
    for (dt, s) in [(DType::F32, 1e-39), (DType::F64, 1e-200)] {
        let (a, b) = (-1.1625900735240131 * s, 4.627317342148695 * s);
        let y = tensor(&[1.0, 0.0, 0.0, -1.0, 0.0, 0.0, -1.0, a, b], &[3, 3], dt);
        // Keep the diagonal positive (a subnormal in f32).
        let y = (y + tensor(
            &[0.0, 0.0, 0.0, 0.0, 1.5e-41, 0.0, 0.0, 0.0, 0.0],
            &[3, 3],
            dt,
        ))?;
        assert_eq!(Constraint::CorrCholesky.check(&y)?, None);
        let x = host(&t.inverse(&y)?);
        assert!(x.iter().all(|v| !v.is_nan()), "{x:?}");
        // x_21 = atanh(y_21 / ‖(y_21, y_22)‖), scale-free: evaluated on the entries as
        // stored in the dtype, divided by s.
        let (a, b) = if dt == DType::F32 {
            (a as f32 as f64, b as f32 as f64)
        } else {
            (a, b)
        };
        let (p, q) = (a / s, b / s);
        let w = (p / (p * p + q * q).sqrt()).atanh();
        assert!((x[2] - w).abs() < 1e-6, "{x:?} vs {w}");
    }
    // A 0 × 0 matrix has the empty preimage.
    assert_eq!(
        t.inverse(&Tensor::zeros((4, 0, 0), DType::F64, &DEV)?)?
            .dims(),
        &[4, 0]
    );
    Ok(())
}

#[test]
fn corr_cholesky_inverse_gradient_is_finite_and_matches_finite_differences() -> R {
    let t = CorrCholeskyTransform;
    let x0 = [0.3, -0.8, 1.1, 0.2, -0.5, 0.9];
    let y = t.forward(&tensor(&x0, &[6], DType::F64))?;
    let v = Var::from_tensor(&y)?;
    let w: Vec<f64> = (0..6).map(|i| 0.4 + 0.3 * i as f64).collect();
    let wt = tensor(&w, &[6], DType::F64);
    let loss = |m: &Tensor| -> candle_distributions::Result<f64> {
        Ok(host(&(t.inverse(m)? * &wt)?.sum_all()?)[0])
    };
    let l = (t.inverse(v.as_tensor())? * &wt)?.sum_all()?;
    let g = host(l.backward()?.get(&v).expect("gradient reaches y"));
    assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
    let yv = host(&y);
    let h = 1e-6;
    for p in 0..16 {
        // Entries on and below the diagonal only (above it the map reads zeros).
        if p % 4 > p / 4 {
            continue;
        }
        let mut up = yv.clone();
        up[p] += h;
        let mut dn = yv.clone();
        dn[p] -= h;
        let fd = (loss(&tensor(&up, &[4, 4], DType::F64))?
            - loss(&tensor(&dn, &[4, 4], DType::F64))?)
            / (2.0 * h);
        assert!(
            (g[p] - fd).abs() < 1e-6 * fd.abs().max(1.0),
            "{p}: {} vs {fd}",
            g[p]
        );
    }
    Ok(())
}

// ------------------------------------------------------------------ error names

#[test]
fn composite_shape_errors_name_the_transform_built() -> R {
    let c = ComposeTransform::new(vec![
        Box::new(AffineTransform::new(0.0, 1.0)?),
        Box::new(StickBreakingTransform),
    ]);
    let x = Tensor::new(4.75f64, &DEV)?;
    let errs = [
        c.forward_and_log_det(&x).map(|_| ()),
        c.log_abs_det_jacobian(&x, &x).map(|_| ()),
    ];
    for e in errs {
        match e {
            Err(Error::Shape { context, .. }) => {
                assert!(
                    context == "ComposeTransform" || context == "StickBreakingTransform",
                    "{context}"
                )
            }
            other => panic!("expected a Shape error, got {other:?}"),
        }
    }
    Ok(())
}
