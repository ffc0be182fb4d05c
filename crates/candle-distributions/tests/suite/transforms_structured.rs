//! Structured transforms (Softmax, StickBreaking, LowerCholesky, CorrCholesky,
//! PositiveDefinite, Reshape, Cat, Stack, Independent) and the matrix / Cat / Stack
//! constraint checks: round trips, log-dets against the log-determinant of a
//! central-difference Jacobian (f64), gradients against finite differences, batch
//! shapes.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::transforms::{
    AffineTransform, CatTransform, CorrCholeskyTransform, ExpTransform, IndependentTransform,
    LowerCholeskyTransform, PositiveDefiniteTransform, ReshapeTransform, SigmoidTransform,
    SoftmaxTransform, StackTransform, StickBreakingTransform, Transform,
};
use candle_distributions::{Constraint, Error};

type R = candle_distributions::Result<()>;

const DEV: Device = Device::Cpu;

/// Deterministic standard-normal-ish numbers (Box–Muller on a SplitMix64 stream).
struct Rng(u64);
impl Rng {
    fn u(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (a, b) = (self.u(), self.u());
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }
    fn normals(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| scale * self.normal()).collect()
    }
}

fn t64(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape, &DEV).unwrap()
}

fn host(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

/// Asserts `err < tol` and prints the measured error (run with `--nocapture`).
fn within(what: &str, err: f64, tol: f64) {
    eprintln!("{what}: max error {err:.3e} (tolerance {tol:e})");
    assert!(err < tol, "{what}: error {err} exceeds {tol}");
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Central-difference Jacobian `∂f_i/∂x_j` of `f: R^n → R^m`.
fn fd_jacobian(f: &dyn Fn(&[f64]) -> Vec<f64>, x: &[f64], h: f64) -> Vec<Vec<f64>> {
    let m = f(x).len();
    let mut jac = vec![vec![0.0; x.len()]; m];
    for j in 0..x.len() {
        let mut xp = x.to_vec();
        let mut xm = x.to_vec();
        xp[j] += h;
        xm[j] -= h;
        let (fp, fm) = (f(&xp), f(&xm));
        for i in 0..m {
            jac[i][j] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
    jac
}

/// log|det a| by Gaussian elimination with partial pivoting.
fn log_abs_det(mut a: Vec<Vec<f64>>) -> f64 {
    let n = a.len();
    assert!(a.iter().all(|r| r.len() == n), "Jacobian must be square");
    let mut acc = 0.0;
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        let piv = a[c][c];
        acc += piv.abs().ln();
        let (top, rest) = a.split_at_mut(c + 1);
        let pivot_row = &top[c];
        for row in rest.iter_mut() {
            let f = row[c] / piv;
            for (v, p) in row[c..].iter_mut().zip(&pivot_row[c..]) {
                *v -= f * p;
            }
        }
    }
    acc
}

/// Positions `(i, j)`, row-major, of the lower triangle (`strict`: below the diagonal).
fn tril_positions(d: usize, strict: bool) -> Vec<usize> {
    (0..d)
        .flat_map(|i| {
            (0..=i)
                .filter(move |&j| !strict || j < i)
                .map(move |j| i * d + j)
        })
        .collect()
}

/// The gradient of `loss(x)` at `x` from autograd, and from central differences.
fn grad_check(
    x: &[f64],
    shape: &[usize],
    loss: &dyn Fn(&Tensor) -> candle_distributions::Result<Tensor>,
) -> (Vec<f64>, Vec<f64>) {
    let v = Var::from_tensor(&t64(x, shape)).unwrap();
    let l = loss(v.as_tensor()).unwrap();
    let g = l.backward().unwrap();
    let auto = host(g.get(&v).expect("gradient reaches x"));
    let f = |z: &[f64]| vec![host(&loss(&t64(z, shape)).unwrap())[0]];
    let fd: Vec<f64> = fd_jacobian(&f, x, 1e-6)
        .into_iter()
        .next()
        .unwrap_or_default();
    (auto, fd)
}

/// Σ wᵢ·yᵢ + Σ log-det: a scalar that depends on every output and on the log-det.
fn weighted_loss(t: &dyn Transform, x: &Tensor) -> candle_distributions::Result<Tensor> {
    let (y, ladj) = t.forward_and_log_det(x)?;
    let n = y.elem_count();
    let w: Vec<f64> = (0..n).map(|i| 0.3 + 0.17 * (i % 7) as f64).collect();
    let w = Tensor::from_vec(w, y.dims(), &DEV)?;
    Ok(((y * w)?.sum_all()? + ladj.sum_all()?)?)
}

// ---------------------------------------------------------------- Softmax

#[test]
fn softmax_pseudo_inverse_and_simplex() -> R {
    let mut rng = Rng(1);
    // Points of the simplex: softmax of random logits, then forward(inverse(y)) == y.
    let logits = t64(&rng.normals(5 * 4, 2.0), &[5, 4]);
    let y = SoftmaxTransform.forward(&logits)?;
    assert_eq!(Constraint::Simplex.check(&y)?, None);
    let back = SoftmaxTransform.forward(&SoftmaxTransform.inverse(&y)?)?;
    let err = max_abs_diff(&host(&back), &host(&y));
    within("softmax pseudo-inverse", err, 1e-15);
    // Huge and infinite logits stay on the simplex (the limit where infinite).
    let big = t64(&[1e3, -1e3, 999.0, 0.0], &[4]);
    let y = SoftmaxTransform.forward(&big)?;
    assert_eq!(Constraint::Simplex.check(&y)?, None);
    let inf = t64(&[f64::INFINITY, 0.0, f64::NEG_INFINITY], &[3]);
    assert_eq!(host(&SoftmaxTransform.forward(&inf)?), vec![1.0, 0.0, 0.0]);
    let all_neg = t64(&[f64::NEG_INFINITY; 2], &[2]);
    assert_eq!(host(&SoftmaxTransform.forward(&all_neg)?), vec![0.5, 0.5]);
    assert!(!SoftmaxTransform.bijective());
    assert!(matches!(
        SoftmaxTransform.log_abs_det_jacobian(&big, &y),
        Err(Error::NotImplemented { .. })
    ));
    assert!(SoftmaxTransform
        .forward(&Tensor::new(1.0f64, &DEV)?)
        .is_err());
    Ok(())
}

#[test]
fn softmax_gradient_matches_finite_differences() -> R {
    let mut rng = Rng(2);
    let x = rng.normals(6, 1.0);
    let loss = |t: &Tensor| -> candle_distributions::Result<Tensor> {
        let y = SoftmaxTransform.forward(t)?;
        let w = Tensor::new(&[[1.0f64, -2.0, 0.5], [0.3, 0.7, -1.1]], &DEV)?;
        Ok((y * w)?.sum_all()?)
    };
    let (auto, fd) = grad_check(&x, &[2, 3], &loss);
    let err = max_abs_diff(&auto, &fd);
    within("softmax gradient", err, 1e-8);
    Ok(())
}

// ---------------------------------------------------------------- StickBreaking

#[test]
fn stick_breaking_round_trip_and_log_det() -> R {
    let t = StickBreakingTransform;
    let mut rng = Rng(3);
    let x = rng.normals(5 * 4, 2.0);
    let xt = t64(&x, &[5, 4]);
    let (y, ladj) = t.forward_and_log_det(&xt)?;
    assert_eq!(y.dims(), &[5, 5]);
    assert_eq!(ladj.dims(), &[5]);
    assert_eq!(Constraint::Simplex.check(&y)?, None);
    let err = max_abs_diff(&host(&t.inverse(&y)?), &x);
    within("stick-breaking round trip", err, 1e-6);
    // log-det vs the Jacobian of the K−1 inputs onto the first K−1 outputs.
    let ladj = host(&ladj);
    let lad2 = host(&t.log_abs_det_jacobian(&xt, &y)?);
    let mut worst = 0f64;
    for b in 0..5 {
        let xb = x[b * 4..(b + 1) * 4].to_vec();
        let f = |z: &[f64]| host(&t.forward(&t64(z, &[4])).unwrap())[..4].to_vec();
        let want = log_abs_det(fd_jacobian(&f, &xb, 1e-5));
        worst = worst
            .max((ladj[b] - want).abs())
            .max((lad2[b] - want).abs());
    }
    within("stick-breaking log-det", worst, 1e-6);
    Ok(())
}

#[test]
fn stick_breaking_large_inputs_stay_on_the_simplex() -> R {
    let t = StickBreakingTransform;
    for dtype in [DType::F32, DType::F64] {
        let x = Tensor::new(&[1e3f64, -1e3, 5e2, -7e2, 1e3, 0.0], &DEV)?.to_dtype(dtype)?;
        let (y, ladj) = t.forward_and_log_det(&x)?;
        assert_eq!(Constraint::Simplex.check(&y)?, None, "{dtype:?}");
        assert!(host(&y).iter().all(|v| v.is_finite()));
        assert!(host(&ladj).iter().all(|v| v.is_finite()), "{dtype:?}");
        // The log-det from log-space pieces: for x = [−1000] (K = 2): log σ'(x) = x − 2 softplus(x).
        let one = Tensor::new(&[-1e3f64], &DEV)?.to_dtype(dtype)?;
        let l = host(&t.log_abs_det_jacobian(&one, &t.forward(&one)?)?)[0];
        assert!((l + 1e3).abs() < 1e-3, "{dtype:?}: {l}");
    }
    // Inputs of magnitude 1e308 (f64) give no NaN either.
    let x = Tensor::new(&[1e308f64, -1e308, -1e308, 1e308], &DEV)?;
    let (y, ladj) = t.forward_and_log_det(&x)?;
    assert!(host(&y).iter().all(|v| v.is_finite()));
    assert!(host(&ladj).iter().all(|v| !v.is_nan()));
    Ok(())
}

#[test]
fn stick_breaking_gradients_and_shapes() -> R {
    let t = StickBreakingTransform;
    let mut rng = Rng(4);
    let x = rng.normals(2 * 3, 1.5);
    let (auto, fd) = grad_check(&x, &[2, 3], &|z| weighted_loss(&t, z));
    let err = max_abs_diff(&auto, &fd);
    within("stick-breaking gradient", err, 1e-7);
    assert_eq!(t.forward_shape(&[7, 3])?, vec![7, 4]);
    assert_eq!(t.inverse_shape(&[7, 4])?, vec![7, 3]);
    assert!(t.forward_shape(&[]).is_err());
    assert!(t.inverse_shape(&[7, 0]).is_err());
    assert!(t
        .inverse(&Tensor::zeros((2, 0), DType::F64, &DEV)?)
        .is_err());
    assert!(t.forward(&Tensor::new(1.0f64, &DEV)?).is_err());
    // K − 1 = 0: the one-point simplex.
    let y = t.forward(&Tensor::zeros((3, 0), DType::F64, &DEV)?)?;
    assert_eq!(host(&y), vec![1.0; 3]);
    assert!(t.equals(&StickBreakingTransform) && !t.equals(&SoftmaxTransform));
    assert_eq!(t.domain().event_dim(), 1);
    assert_eq!(t.codomain().event_dim(), 1);
    Ok(())
}

#[test]
fn stick_breaking_and_corr_cholesky_closed_forms() -> R {
    // K = 3: z0 = σ(x0 − ln 2), z1 = σ(x1); y = [z0, (1 − z0)·z1, (1 − z0)(1 − z1)].
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let (x0, x1) = (0.3f64, -1.2f64);
    let (z0, z1) = (sig(x0 - 2f64.ln()), sig(x1));
    let y = host(&StickBreakingTransform.forward(&t64(&[x0, x1], &[2]))?);
    let want = [z0, (1.0 - z0) * z1, (1.0 - z0) * (1.0 - z1)];
    within("stick-breaking closed form", max_abs_diff(&y, &want), 1e-15);
    // D = 3, torch's row-major order of the strict lower triangle: (1,0), (2,0), (2,1).
    let (a, b, c) = (0.3f64, -1.2f64, 2.0f64);
    let y = host(&CorrCholeskyTransform.forward(&t64(&[a, b, c], &[3]))?);
    let (ta, tb, tc) = (a.tanh(), b.tanh(), c.tanh());
    let s_b = (1.0 - tb * tb).sqrt();
    let want = [
        1.0,
        0.0,
        0.0,
        ta,
        (1.0 - ta * ta).sqrt(),
        0.0,
        tb,
        tc * s_b,
        s_b * (1.0 - tc * tc).sqrt(),
    ];
    within("corr-Cholesky closed form", max_abs_diff(&y, &want), 1e-15);
    Ok(())
}

// ---------------------------------------------------------------- LowerCholesky

#[test]
fn lower_cholesky_round_trip_log_det_and_gradient() -> R {
    let t = LowerCholeskyTransform;
    let d = 4;
    let mut rng = Rng(5);
    let x = rng.normals(3 * d * d, 1.0);
    let xt = t64(&x, &[3, d, d]);
    let (y, ladj) = t.forward_and_log_det(&xt)?;
    assert_eq!(ladj.dims(), &[3]);
    assert_eq!(Constraint::LowerCholesky.check(&y)?, None);
    // The inverse is the preimage with a zero upper triangle.
    let back = host(&t.inverse(&y)?);
    let lower = tril_positions(d, false);
    let want: Vec<f64> = (0..x.len())
        .map(|p| {
            if lower.contains(&(p % (d * d))) {
                x[p]
            } else {
                0.0
            }
        })
        .collect();
    let err = max_abs_diff(&back, &want);
    within("lower-Cholesky round trip", err, 1e-12);
    // log-det vs the Jacobian of the lower triangle onto the lower triangle.
    let ladj = host(&ladj);
    let mut worst = 0f64;
    for b in 0..3 {
        let base = x[b * d * d..(b + 1) * d * d].to_vec();
        let coords: Vec<f64> = lower.iter().map(|&p| base[p]).collect();
        let f = |z: &[f64]| {
            let mut m = base.clone();
            for (k, &p) in lower.iter().enumerate() {
                m[p] = z[k];
            }
            let y = host(&t.forward(&t64(&m, &[d, d])).unwrap());
            lower.iter().map(|&p| y[p]).collect::<Vec<_>>()
        };
        let want = log_abs_det(fd_jacobian(&f, &coords, 1e-5));
        worst = worst.max((ladj[b] - want).abs());
    }
    within("lower-Cholesky log-det", worst, 1e-6);
    let (auto, fd) = grad_check(&x[..d * d], &[d, d], &|z| weighted_loss(&t, z));
    let err = max_abs_diff(&auto, &fd);
    within("lower-Cholesky gradient", err, 1e-7);
    // An underflowing exp keeps a positive diagonal; non-square input is a shape error.
    let y = t.forward(&Tensor::new(&[[-1e3f64, 0.0], [1e3, 1e3]], &DEV)?)?;
    assert_eq!(Constraint::LowerCholesky.check(&y)?, None);
    assert!(t
        .forward(&Tensor::zeros((2, 3), DType::F64, &DEV)?)
        .is_err());
    assert!(t.forward_shape(&[2, 3]).is_err());
    Ok(())
}

// ---------------------------------------------------------------- CorrCholesky

#[test]
fn corr_cholesky_round_trip_and_log_det() -> R {
    let t = CorrCholeskyTransform;
    let d = 4;
    let n = d * (d - 1) / 2;
    let mut rng = Rng(6);
    let x = rng.normals(5 * n, 1.0);
    let xt = t64(&x, &[5, n]);
    let (y, ladj) = t.forward_and_log_det(&xt)?;
    assert_eq!(y.dims(), &[5, d, d]);
    assert_eq!(ladj.dims(), &[5]);
    assert_eq!(Constraint::CorrCholesky.check(&y)?, None);
    let err = max_abs_diff(&host(&t.inverse(&y)?), &x);
    within("corr-Cholesky round trip", err, 1e-6);
    // log-det vs the Jacobian of the D(D−1)/2 inputs onto the strict lower triangle.
    let strict = tril_positions(d, true);
    let ladj = host(&ladj);
    let mut worst = 0f64;
    for b in 0..5 {
        let xb = x[b * n..(b + 1) * n].to_vec();
        let f = |z: &[f64]| {
            let y = host(&t.forward(&t64(z, &[n])).unwrap());
            strict.iter().map(|&p| y[p]).collect::<Vec<_>>()
        };
        let want = log_abs_det(fd_jacobian(&f, &xb, 1e-5));
        worst = worst.max((ladj[b] - want).abs());
    }
    within("corr-Cholesky log-det", worst, 1e-6);
    Ok(())
}

#[test]
fn corr_cholesky_gradients_shapes_and_extremes() -> R {
    let t = CorrCholeskyTransform;
    let mut rng = Rng(7);
    let x = rng.normals(2 * 6, 1.0);
    let (auto, fd) = grad_check(&x, &[2, 6], &|z| weighted_loss(&t, z));
    let err = max_abs_diff(&auto, &fd);
    within("corr-Cholesky gradient", err, 1e-7);
    assert_eq!(t.forward_shape(&[3, 10])?, vec![3, 5, 5]);
    assert_eq!(t.inverse_shape(&[3, 5, 5])?, vec![3, 10]);
    assert_eq!(t.forward_shape(&[0])?, vec![1, 1]);
    for bad in [2usize, 4, 5, 7, 8, 9] {
        assert!(t.forward_shape(&[bad]).is_err(), "length {bad}");
        assert!(t.forward(&Tensor::zeros(bad, DType::F64, &DEV)?).is_err());
    }
    assert!(t.inverse_shape(&[3, 4]).is_err());
    // D = 1: the 1 × 1 factor [1], log-det 0, and back to an empty vector.
    let (y1, l1) = t.forward_and_log_det(&Tensor::zeros((3, 0), DType::F64, &DEV)?)?;
    assert_eq!((y1.dims(), host(&y1)), (&[3usize, 1, 1][..], vec![1.0; 3]));
    assert_eq!(host(&l1), vec![0.0; 3]);
    assert_eq!(t.inverse(&y1)?.dims(), &[3, 0]);
    // Saturated inputs: still a correlation Cholesky factor, in f32 and f64.
    for dtype in [DType::F32, DType::F64] {
        let x = Tensor::new(&[1e3f64, -1e3, 1e3, 20.0, -1e3, 0.5], &DEV)?.to_dtype(dtype)?;
        let (y, ladj) = t.forward_and_log_det(&x)?;
        assert_eq!(Constraint::CorrCholesky.check(&y)?, None, "{dtype:?}");
        assert!(host(&ladj).iter().all(|v| v.is_finite()), "{dtype:?}");
    }
    Ok(())
}

// ---------------------------------------------------------------- PositiveDefinite

#[test]
fn positive_definite_round_trip_log_det_and_gradient() -> R {
    let t = PositiveDefiniteTransform;
    let d = 3;
    let mut rng = Rng(8);
    let lower = tril_positions(d, false);
    // Inputs with a zero upper triangle (the inverse's preimage).
    let mut x = rng.normals(4 * d * d, 0.8);
    for (p, v) in x.iter_mut().enumerate() {
        if !lower.contains(&(p % (d * d))) {
            *v = 0.0;
        }
    }
    let xt = t64(&x, &[4, d, d]);
    let (y, ladj) = t.forward_and_log_det(&xt)?;
    assert_eq!(ladj.dims(), &[4]);
    assert_eq!(Constraint::PositiveDefinite.check(&y)?, None);
    let err = max_abs_diff(&host(&t.inverse(&y)?), &x);
    within("positive-definite round trip", err, 1e-6);
    let ladj = host(&ladj);
    let mut worst = 0f64;
    for b in 0..4 {
        let base = x[b * d * d..(b + 1) * d * d].to_vec();
        let coords: Vec<f64> = lower.iter().map(|&p| base[p]).collect();
        let f = |z: &[f64]| {
            let mut m = base.clone();
            for (k, &p) in lower.iter().enumerate() {
                m[p] = z[k];
            }
            let y = host(&t.forward(&t64(&m, &[d, d])).unwrap());
            lower.iter().map(|&p| y[p]).collect::<Vec<_>>()
        };
        let want = log_abs_det(fd_jacobian(&f, &coords, 1e-5));
        worst = worst.max((ladj[b] - want).abs());
    }
    within("positive-definite log-det", worst, 1e-6);
    let (auto, fd) = grad_check(&x[..d * d], &[d, d], &|z| weighted_loss(&t, z));
    let err = max_abs_diff(&auto, &fd);
    within("positive-definite gradient", err, 1e-6);
    // A matrix outside the codomain gives NaN from the inverse (no panic).
    let bad = Tensor::new(&[[1.0f64, 2.0], [2.0, 1.0]], &DEV)?;
    assert!(host(&t.inverse(&bad)?).iter().any(|v| v.is_nan()));
    Ok(())
}

#[test]
fn positive_definite_inverse_gradient_matches_finite_differences() -> R {
    // loss(A) = Σ w ⊙ inverse(A·Aᵀ + 3I): the Cholesky factorization's derivative.
    let t = PositiveDefiniteTransform;
    let d = 3;
    let mut rng = Rng(12);
    let a = rng.normals(2 * d * d, 1.0);
    let eye = Tensor::eye(d, DType::F64, &DEV)?;
    let loss = |z: &Tensor| -> candle_distributions::Result<Tensor> {
        let zt = z.transpose(1, 2)?.contiguous()?;
        let y = z.matmul(&zt)?.broadcast_add(&(&eye * 3.0)?)?;
        let x = t.inverse(&y)?;
        let w: Vec<f64> = (0..x.elem_count())
            .map(|i| 1.0 + 0.25 * (i % 5) as f64)
            .collect();
        Ok((x * Tensor::from_vec(w, (2, d, d), &DEV)?)?.sum_all()?)
    };
    let (auto, fd) = grad_check(&a, &[2, d, d], &loss);
    within(
        "positive-definite inverse gradient",
        max_abs_diff(&auto, &fd),
        1e-7,
    );
    Ok(())
}

#[test]
fn inverse_gradients_match_finite_differences() -> R {
    // Gradients through the inverses, at points of the codomain built from free inputs.
    let mut rng = Rng(13);
    let x = rng.normals(2 * 3, 0.7);
    let sb = |z: &Tensor| -> candle_distributions::Result<Tensor> {
        let y = SoftmaxTransform.forward(z)?;
        let back = StickBreakingTransform.inverse(&y)?;
        let w = Tensor::new(&[[0.5f64, -1.0], [2.0, 0.25]], &DEV)?;
        Ok((back * w)?.sum_all()?)
    };
    let (auto, fd) = grad_check(&x, &[2, 3], &sb);
    within(
        "stick-breaking inverse gradient",
        max_abs_diff(&auto, &fd),
        1e-7,
    );
    let cc = |z: &Tensor| -> candle_distributions::Result<Tensor> {
        let y = CorrCholeskyTransform.forward(&(z * 1.3)?)?;
        let back = CorrCholeskyTransform.inverse(&y)?;
        let w = Tensor::new(&[[0.5f64, -1.0, 2.0], [0.25, 1.5, -0.75]], &DEV)?;
        Ok((back * w)?.sum_all()?)
    };
    // inverse(forward(1.3·z)) = 1.3·z: the gradient is 1.3·w.
    let (auto, fd) = grad_check(&x, &[2, 3], &cc);
    let want = [0.65, -1.3, 2.6, 0.325, 1.95, -0.975];
    within(
        "corr-Cholesky inverse gradient",
        max_abs_diff(&auto, &fd),
        1e-7,
    );
    within(
        "corr-Cholesky inverse gradient (exact)",
        max_abs_diff(&auto, &want),
        1e-9,
    );
    Ok(())
}

#[test]
fn f32_matches_f64() -> R {
    // f32 results agree with f64 ones to f32 precision (relative to the log-det's size).
    let mut rng = Rng(14);
    let cases: Vec<(Box<dyn Transform>, Vec<usize>, f64)> = vec![
        (Box::new(StickBreakingTransform), vec![50, 5], 4.0),
        // Unsaturated: where tanh reaches 1 − ε, each dtype clamps at its own ε (torch).
        (Box::new(CorrCholeskyTransform), vec![50, 10], 1.5),
        (Box::new(LowerCholeskyTransform), vec![50, 4, 4], 2.0),
        (Box::new(PositiveDefiniteTransform), vec![50, 3, 3], 1.0),
    ];
    for (t, shape, scale) in cases {
        let n: usize = shape.iter().product();
        let x = t64(&rng.normals(n, scale), &shape);
        let x = x.to_dtype(DType::F32)?.to_dtype(DType::F64)?;
        let (y64, l64) = t.forward_and_log_det(&x)?;
        let (y32, l32) = t.forward_and_log_det(&x.to_dtype(DType::F32)?)?;
        assert_eq!(y32.dtype(), DType::F32);
        let (a, b) = (host(&y32), host(&y64));
        let ey = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs() / q.abs().max(1.0))
            .fold(0.0, f64::max);
        let (a, b) = (host(&l32), host(&l64));
        let el = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs() / q.abs().max(1.0))
            .fold(0.0, f64::max);
        within(&format!("{} f32 vs f64 (values)", t.name()), ey, 2e-6);
        within(&format!("{} f32 vs f64 (log-det)", t.name()), el, 2e-6);
    }
    Ok(())
}

// ---------------------------------------------------------------- batches

#[test]
fn matrix_transforms_act_per_matrix_of_a_batch() -> R {
    let mut rng = Rng(9);
    let d = 3;
    let x = rng.normals(2 * 3 * d * d, 1.0);
    let xt = t64(&x, &[2, 3, d, d]);
    let v = rng.normals(2 * 3 * 3, 1.0);
    let vt = t64(&v, &[2, 3, 3]);
    let cases: Vec<(Box<dyn Transform>, &Tensor, usize)> = vec![
        (Box::new(LowerCholeskyTransform), &xt, d * d),
        (Box::new(PositiveDefiniteTransform), &xt, d * d),
        (Box::new(CorrCholeskyTransform), &vt, 3),
        (Box::new(StickBreakingTransform), &vt, 3),
    ];
    for (t, input, per) in cases {
        let (y, ladj) = t.forward_and_log_det(input)?;
        assert_eq!(ladj.dims(), &[2, 3], "{}", t.name());
        let (ys, ls) = (host(&y), host(&ladj));
        let xs = host(input);
        let out_per = ys.len() / 6;
        let event: Vec<usize> = input.dims()[2..].to_vec();
        for b in 0..6 {
            let one = t64(&xs[b * per..(b + 1) * per], &event);
            let (y1, l1) = t.forward_and_log_det(&one)?;
            let e1 = max_abs_diff(&host(&y1), &ys[b * out_per..(b + 1) * out_per]);
            assert!(
                e1 < 1e-14,
                "{}: batch element {b} differs by {e1}",
                t.name()
            );
            assert!((host(&l1)[0] - ls[b]).abs() < 1e-12, "{}", t.name());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- Reshape, Cat, Stack, Independent

#[test]
fn reshape_transform() -> R {
    let t = ReshapeTransform::new(&[2, 3], &[3, 2])?;
    let x = Tensor::arange(0f64, 24.0, &DEV)?.reshape((4, 2, 3))?;
    let (y, ladj) = t.forward_and_log_det(&x)?;
    assert_eq!(y.dims(), &[4, 3, 2]);
    assert_eq!(host(&y), host(&x));
    assert_eq!(host(&ladj), vec![0.0; 4]);
    assert_eq!(host(&t.inverse(&y)?), host(&x));
    assert_eq!(t.inverse(&y)?.dims(), &[4, 2, 3]);
    assert_eq!(t.domain().event_dim(), 2);
    assert!(t
        .forward(&Tensor::zeros((4, 3, 2), DType::F64, &DEV)?)
        .is_err());
    assert!(ReshapeTransform::new(&[2, 3], &[7]).is_err());
    assert!(ReshapeTransform::new(&[usize::MAX, 3], &[3]).is_err());
    assert!(t.equals(&ReshapeTransform::new(&[2, 3], &[3, 2])?));
    assert!(!t.equals(&ReshapeTransform::new(&[2, 3], &[6])?));
    Ok(())
}

#[test]
fn cat_transform_pieces_log_det_and_gradient() -> R {
    let parts = || -> candle_distributions::Result<Vec<Box<dyn Transform>>> {
        Ok(vec![
            Box::new(ExpTransform),
            Box::new(AffineTransform::new(1.0, -3.0)?),
            Box::new(SigmoidTransform),
        ])
    };
    let t = CatTransform::new(parts()?, -1, Some(vec![1, 2, 2]))?;
    let mut rng = Rng(10);
    let x = rng.normals(3 * 5, 1.0);
    let xt = t64(&x, &[3, 5]);
    let (y, ladj) = t.forward_and_log_det(&xt)?;
    assert_eq!(ladj.dims(), &[3, 5]);
    let (ys, ls) = (host(&y), host(&ladj));
    for r in 0..3 {
        for c in 0..5 {
            let v = x[r * 5 + c];
            let (want_y, want_l) = match c {
                0 => (v.exp(), v),
                1 | 2 => (1.0 - 3.0 * v, 3f64.ln()),
                _ => {
                    let s = 1.0 / (1.0 + (-v).exp());
                    (s, (s * (1.0 - s)).ln())
                }
            };
            assert!((ys[r * 5 + c] - want_y).abs() < 1e-14);
            assert!((ls[r * 5 + c] - want_l).abs() < 1e-12);
        }
    }
    let err = max_abs_diff(&host(&t.inverse(&y)?), &x);
    within("cat round trip", err, 1e-12);
    let (auto, fd) = grad_check(&x, &[3, 5], &|z| weighted_loss(&t, z));
    within("cat gradient", max_abs_diff(&auto, &fd), 1e-7);
    // Vector parts along a batch dim: one log-det per vector, concatenated along it.
    let xv = t64(&rng.normals(3 * 4, 1.0), &[3, 4]);
    let ti = CatTransform::new(
        vec![
            Box::new(IndependentTransform::new(Box::new(ExpTransform), 1)),
            Box::new(IndependentTransform::new(Box::new(SigmoidTransform), 1)),
        ],
        0,
        Some(vec![2, 1]),
    )?;
    let l = host(&ti.log_abs_det_jacobian(&xv, &ti.forward(&xv)?)?);
    assert_eq!(l.len(), 3);
    let xs = host(&xv);
    assert!((l[0] - xs[..4].iter().sum::<f64>()).abs() < 1e-12);
    // Errors: wrong total length, lengths count, dim out of range.
    assert!(t.forward(&t64(&x[..12], &[3, 4])).is_err());
    assert!(CatTransform::new(parts()?, 0, Some(vec![1])).is_err());
    let far = CatTransform::new(parts()?, 5, Some(vec![1, 2, 2]))?;
    assert!(far.forward(&xt).is_err());
    assert!(t.equals(&CatTransform::new(parts()?, -1, Some(vec![1, 2, 2]))?));
    assert!(!t.equals(&CatTransform::new(parts()?, -1, Some(vec![2, 1, 2]))?));
    assert_eq!(t.domain().event_dim(), 0);
    Ok(())
}

#[test]
fn stack_transform_slices_log_det_and_gradient() -> R {
    let parts =
        || -> Vec<Box<dyn Transform>> { vec![Box::new(ExpTransform), Box::new(SigmoidTransform)] };
    let t = StackTransform::new(parts(), 1);
    let mut rng = Rng(11);
    let x = rng.normals(4 * 2, 1.0);
    let xt = t64(&x, &[4, 2]);
    let (y, ladj) = t.forward_and_log_det(&xt)?;
    assert_eq!(ladj.dims(), &[4, 2]);
    let (ys, ls) = (host(&y), host(&ladj));
    for r in 0..4 {
        let (a, b) = (x[2 * r], x[2 * r + 1]);
        let s = 1.0 / (1.0 + (-b).exp());
        assert!((ys[2 * r] - a.exp()).abs() < 1e-14 && (ys[2 * r + 1] - s).abs() < 1e-15);
        assert!((ls[2 * r] - a).abs() < 1e-15);
        assert!((ls[2 * r + 1] - (s * (1.0 - s)).ln()).abs() < 1e-12);
    }
    assert!(max_abs_diff(&host(&t.inverse(&y)?), &x) < 1e-12);
    let (auto, fd) = grad_check(&x, &[4, 2], &|z| weighted_loss(&t, z));
    within("stack gradient", max_abs_diff(&auto, &fd), 1e-7);
    // Stacking dim inside the event of vector parts: the log-dets are added per event.
    let tv = StackTransform::new(
        vec![
            Box::new(StickBreakingTransform),
            Box::new(StickBreakingTransform),
        ],
        -2,
    );
    let xv = t64(&rng.normals(3 * 2 * 2, 1.0), &[3, 2, 2]);
    let (yv, lv) = tv.forward_and_log_det(&xv)?;
    assert_eq!(yv.dims(), &[3, 2, 3]);
    assert_eq!(lv.dims(), &[3]);
    let per = host(&StickBreakingTransform.log_abs_det_jacobian(&xv, &yv)?);
    let lv = host(&lv);
    for b in 0..3 {
        assert!((lv[b] - per[2 * b] - per[2 * b + 1]).abs() < 1e-12);
    }
    assert_eq!(tv.domain().event_dim(), 2);
    assert!(t.forward(&t64(&x[..6], &[2, 3])).is_err());
    assert!(t.equals(&StackTransform::new(parts(), 1)));
    assert!(!t.equals(&StackTransform::new(parts(), 0)));
    Ok(())
}

#[test]
fn independent_transform_sums_log_dets() -> R {
    let t = IndependentTransform::new(Box::new(ExpTransform), 2);
    let x = Tensor::arange(0f64, 12.0, &DEV)?.reshape((2, 2, 3))?;
    let (y, ladj) = t.forward_and_log_det(&x)?;
    assert_eq!(host(&ladj), vec![15.0, 51.0]);
    assert_eq!(host(&t.log_abs_det_jacobian(&x, &y)?), vec![15.0, 51.0]);
    assert_eq!(t.domain().event_dim(), 2);
    assert_eq!(t.codomain().event_dim(), 2);
    assert_eq!(t.sign(), Some(1));
    assert!(max_abs_diff(&host(&t.inverse(&y)?), &host(&x)) < 1e-12);
    let inv = t.inv();
    assert_eq!(host(&inv.log_abs_det_jacobian(&y, &x)?), vec![-15.0, -51.0]);
    assert!(t.equals(&IndependentTransform::new(Box::new(ExpTransform), 2)));
    assert!(!t.equals(&IndependentTransform::new(Box::new(ExpTransform), 1)));
    assert!(t.forward(&Tensor::new(&[1.0f64], &DEV)?).is_err());
    Ok(())
}

// ---------------------------------------------------------------- constraint checks

#[test]
fn matrix_constraint_checks() -> R {
    let m = |v: &[f64], d: usize| t64(v, &[v.len() / (d * d), d, d]);
    // Square.
    assert_eq!(
        Constraint::Square.check(&m(&[1.0, 2.0, 3.0, 4.0], 2))?,
        None
    );
    assert!(Constraint::Square
        .check(&Tensor::zeros((2, 3), DType::F64, &DEV)?)?
        .is_some());
    // Symmetric: the second matrix's (0, 1) entry breaks it.
    let s = m(&[1.0, 2.0, 2.0, 1.0, 1.0, 2.5, 2.0, 1.0], 2);
    assert_eq!(Constraint::Symmetric.check(&s)?, Some((5, 2.5)));
    assert_eq!(
        Constraint::Symmetric.check(&m(&[1.0, 2.0 + 1e-7, 2.0, 1.0], 2))?,
        None
    );
    // Lower triangular.
    let l = m(&[1.0, 0.0, -3.0, 0.0], 2);
    assert_eq!(Constraint::LowerTriangular.check(&l)?, None);
    assert_eq!(
        Constraint::LowerTriangular.check(&m(&[1.0, 0.1, 3.0, 0.0], 2))?,
        Some((1, 0.1))
    );
    // Lower Cholesky: zero diagonal fails, NaN fails.
    assert_eq!(Constraint::LowerCholesky.check(&l)?, Some((3, 0.0)));
    assert_eq!(
        Constraint::LowerCholesky.check(&m(&[1.0, 0.0, 3.0, 2.0], 2))?,
        None
    );
    assert_eq!(
        Constraint::LowerCholesky
            .check(&m(&[1.0, 0.0, f64::NAN, 2.0], 2))?
            .map(|(i, _)| i),
        Some(2)
    );
    // Correlation Cholesky: unit rows.
    let (c, s_) = (0.6f64, 0.8f64);
    assert_eq!(
        Constraint::CorrCholesky.check(&m(&[1.0, 0.0, c, s_], 2))?,
        None
    );
    assert_eq!(
        Constraint::CorrCholesky.check(&m(&[1.0, 0.0, 0.6, 0.81], 2))?,
        Some((3, 0.81))
    );
    assert_eq!(
        Constraint::CorrCholesky.check(&m(&[1.0, 0.0, 0.0, 0.6, -0.8, 0.0, 0.0, 0.0, 1.0], 3))?,
        Some((4, -0.8))
    );
    // Positive definite: [[2, 1], [1, 2]] yes; [[1, 2], [2, 1]] (eigenvalue −1) no.
    assert_eq!(
        Constraint::PositiveDefinite.check(&m(&[2.0, 1.0, 1.0, 2.0], 2))?,
        None
    );
    assert_eq!(
        Constraint::PositiveDefinite.check(&m(&[2.0, 1.0, 1.0, 2.0, 1.0, 2.0, 2.0, 1.0], 2))?,
        Some((7, 1.0))
    );
    // Singular PSD: [[1, 1], [1, 1]] is PSD but not PD.
    let sing = m(&[1.0, 1.0, 1.0, 1.0], 2);
    assert!(Constraint::PositiveDefinite.check(&sing)?.is_some());
    assert_eq!(Constraint::PositiveSemidefinite.check(&sing)?, None);
    // 3 × 3 PSD of rank 1 (v vᵀ) and an indefinite one.
    let v = [1.0, -2.0, 0.5];
    let rank1: Vec<f64> = (0..9).map(|p| v[p / 3] * v[p % 3]).collect();
    assert_eq!(Constraint::PositiveSemidefinite.check(&m(&rank1, 3))?, None);
    let indef = [2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1e-3];
    assert_eq!(
        Constraint::PositiveSemidefinite.check(&m(&indef, 3))?,
        Some((0, 2.0))
    );
    assert!(Constraint::PositiveSemidefinite
        .check(&m(&[1.0, 0.0, 0.0, f64::INFINITY], 2))?
        .is_some());
    // Non-symmetric matrices are in neither.
    assert!(Constraint::PositiveSemidefinite
        .check(&m(&[1.0, 0.5, 0.0, 1.0], 2))?
        .is_some());
    // f32 values are checked too.
    let f = m(&[2.0, 1.0, 1.0, 2.0], 2).to_dtype(DType::F32)?;
    assert_eq!(Constraint::PositiveDefinite.check(&f)?, None);
    Ok(())
}

#[test]
fn cat_and_stack_constraint_checks() -> R {
    let cat = Constraint::Cat {
        constraints: vec![Constraint::Positive, Constraint::UnitInterval],
        dim: -1,
        lengths: vec![2, 1],
    };
    let ok = t64(&[1.0, 2.0, 0.5, 3.0, 4.0, 1.0], &[2, 3]);
    assert_eq!(cat.check(&ok)?, None);
    // Row 1, column 2 (flat 5) is outside the unit interval.
    let bad = t64(&[1.0, 2.0, 0.5, 3.0, 4.0, 1.5], &[2, 3]);
    assert_eq!(cat.check(&bad)?, Some((5, 1.5)));
    let bad = t64(&[1.0, 2.0, 0.5, 3.0, -4.0, 1.0], &[2, 3]);
    assert_eq!(cat.check(&bad)?, Some((4, -4.0)));
    assert!(cat.check(&t64(&[1.0; 8], &[2, 4])).is_err());
    let stack = Constraint::Stack {
        constraints: vec![Constraint::Positive, Constraint::LessThan(0.0)],
        dim: 0,
    };
    let ok = t64(&[1.0, 2.0, -1.0, -2.0], &[2, 2]);
    assert_eq!(stack.check(&ok)?, None);
    assert_eq!(
        stack.check(&t64(&[1.0, 2.0, -1.0, 2.0], &[2, 2]))?,
        Some((3, 2.0))
    );
    let by_col = Constraint::Stack {
        constraints: vec![Constraint::Positive, Constraint::LessThan(0.0)],
        dim: 1,
    };
    assert_eq!(
        by_col.check(&t64(&[1.0, -2.0, 3.0, 4.0], &[2, 2]))?,
        Some((3, 4.0))
    );
    assert!(by_col.check(&t64(&[1.0; 6], &[2, 3])).is_err());
    let far = Constraint::Stack {
        constraints: vec![Constraint::Real],
        dim: 3,
    };
    assert!(far.check(&t64(&[1.0; 4], &[2, 2])).is_err());
    Ok(())
}
