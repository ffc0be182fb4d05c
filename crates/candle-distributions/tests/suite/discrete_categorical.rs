//! The categorical family: goodness of fit of every sampler (chi-square at p ≥ 1e-3,
//! fixed seeds, cells pooled to ≥ 5 expected), zero-probability classes never drawn,
//! stability at −∞ and ±1e38 logits, thread-count independence of the draw, the row
//! kernels (cumsum and log-softmax against naive f64 sums and finite differences),
//! validation errors, shapes, and the straight-through and relaxed estimators.

use candle_core::{DType, Device, Tensor, Var, D};
use candle_distributions::special::rows;
use candle_distributions::{
    Categorical, Distribution, Error, ExpRelaxedCategorical, Generator, Multinomial,
    OneHotCategorical, OneHotCategoricalStraightThrough, RelaxedOneHotCategorical,
};

use crate::common;
use common::{assert_param_error, chi_square, host};

const P_MIN: f64 = 1e-3;

fn dev() -> Device {
    Device::Cpu
}

/// Normalised probabilities of a row of logits, in f64.
fn softmax(l: &[f64]) -> Vec<f64> {
    let m = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = l.iter().map(|&x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

/// Chi-square of class counts `idx` (values in 0..k) against probabilities `p`.
fn gof(what: &str, idx: &[i64], p: &[f64]) -> f64 {
    let mut obs = vec![0.0; p.len()];
    for &i in idx {
        obs[i as usize] += 1.0;
    }
    let n = idx.len() as f64;
    // Classes of probability 0 must be empty; they are left out of the test.
    let (o, e): (Vec<f64>, Vec<f64>) = obs
        .iter()
        .zip(p)
        .filter(|(o, &q)| {
            assert!(
                q > 0.0 || **o == 0.0,
                "{what}: drew a class of probability 0"
            );
            q > 0.0
        })
        .map(|(&o, &q)| (o, q * n))
        .unzip();
    let (stat, df, pv) = chi_square(&o, &e);
    println!("{what}: chi2 {stat:.1}, df {df}, p {pv:.3}");
    assert!(
        pv >= P_MIN,
        "{what}: chi-square p = {pv} (stat {stat}, df {df})"
    );
    pv
}

#[test]
fn categorical_goodness_of_fit_small_k() {
    let logits = [0.3, -1.2, 2.0];
    for (seed, dtype) in [(1u64, DType::F64), (2, DType::F32)] {
        let l = Tensor::new(&logits, &dev())
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let d = Categorical::from_logits(&l).unwrap();
        let x = d.sample(&[200_000], &mut Generator::new(seed)).unwrap();
        assert_eq!(x.dtype(), DType::I64);
        assert_eq!(x.dims(), &[200_000]);
        gof(
            &format!("K = 3 {dtype:?}"),
            &x.to_vec1::<i64>().unwrap(),
            &softmax(&logits),
        );
    }
}

#[test]
fn categorical_goodness_of_fit_k10_probs_and_linear_and_search_paths() {
    let w: Vec<f64> = (0..10)
        .map(|i| 0.5 + (i as f64 * 1.7).sin().abs())
        .collect();
    let s: f64 = w.iter().sum();
    let p: Vec<f64> = w.iter().map(|x| x / s).collect();
    let d = Categorical::new(&Tensor::new(w.as_slice(), &dev()).unwrap()).unwrap();
    let x = d.sample(&[300_000], &mut Generator::new(3)).unwrap();
    gof("K = 10 probs", &x.to_vec1::<i64>().unwrap(), &p);
    // K = 40 drawn many times goes through the cumulative-sum + binary-search path.
    let l: Vec<f64> = (0..40).map(|i| ((i * 7) % 11) as f64 * 0.3 - 1.0).collect();
    let d = Categorical::from_logits(&Tensor::new(l.as_slice(), &dev()).unwrap()).unwrap();
    let x = d.sample(&[400_000], &mut Generator::new(4)).unwrap();
    gof("K = 40 search", &x.to_vec1::<i64>().unwrap(), &softmax(&l));
    // The same K = 40 row drawn once per batch row goes through the linear scan.
    let rows40 = Tensor::new(l.as_slice(), &dev())
        .unwrap()
        .broadcast_as((400_000, 40))
        .unwrap();
    let d = Categorical::from_logits(&rows40).unwrap();
    let x = d.sample(&[], &mut Generator::new(5)).unwrap();
    gof("K = 40 scan", &x.to_vec1::<i64>().unwrap(), &softmax(&l));
}

#[test]
fn categorical_goodness_of_fit_1e5_classes() {
    let k = 100_000;
    // Uneven weights: a slow ramp with a few heavy classes.
    let l: Vec<f64> = (0..k)
        .map(|i| (i as f64 / k as f64) * 2.0 + if i % 9973 == 0 { 4.0 } else { 0.0 })
        .collect();
    let d = Categorical::from_logits(
        &Tensor::new(l.as_slice(), &dev())
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap(),
    )
    .unwrap();
    let x = d.sample(&[2_000_000], &mut Generator::new(6)).unwrap();
    // The f32 logits are the parameters: compare with their exact softmax.
    let lf: Vec<f64> = l.iter().map(|&v| v as f32 as f64).collect();
    gof("K = 1e5", &x.to_vec1::<i64>().unwrap(), &softmax(&lf));
}

#[test]
fn categorical_never_draws_a_neg_inf_class_and_fits_rows() {
    let ninf = f64::NEG_INFINITY;
    let rows_ = [
        vec![ninf, 0.0, 1.0, ninf],
        vec![2.0, ninf, ninf, -1.0],
        vec![ninf, ninf, ninf, 0.0],
        vec![0.0, 0.0, 0.0, 0.0],
    ];
    let flat: Vec<f64> = rows_.iter().flatten().copied().collect();
    for dtype in [DType::F64, DType::F32] {
        let l = Tensor::from_vec(flat.clone(), (4, 4), &dev())
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let d = Categorical::from_logits(&l).unwrap();
        let x = d.sample(&[250_000], &mut Generator::new(7)).unwrap();
        assert_eq!(x.dims(), &[250_000, 4]);
        for (r, row) in rows_.iter().enumerate() {
            let col = host(&x.narrow(1, r, 1).unwrap());
            let idx: Vec<i64> = col.iter().map(|&v| v as i64).collect();
            gof(&format!("row {r} {dtype:?}"), &idx, &softmax(row));
        }
        let h = host(&d.entropy().unwrap());
        assert!(h.iter().all(|v| v.is_finite()), "entropy {h:?}");
        assert_eq!(h[2], 0.0);
    }
    // 1e6 draws from a row whose first and last classes have probability 0 (probs).
    let p = Tensor::new(&[0.0f64, 1e-3, 1.0, 0.0], &dev()).unwrap();
    let x = Categorical::new(&p)
        .unwrap()
        .sample(&[1_000_000], &mut Generator::new(8))
        .unwrap()
        .to_vec1::<i64>()
        .unwrap();
    assert!(x.iter().all(|&i| i == 1 || i == 2));
    let n1 = x.iter().filter(|&&i| i == 1).count();
    assert!(n1 > 800 && n1 < 1200, "{n1}");
}

#[test]
fn huge_logits_give_finite_log_prob_and_entropy() {
    let l = Var::new(&[1e38f32, 0.0, -1e38], &dev()).unwrap();
    let d = Categorical::from_logits(l.as_tensor()).unwrap();
    let lp = d
        .log_prob(&Tensor::new(&[0i64, 1, 2], &dev()).unwrap())
        .unwrap();
    let v = host(&lp);
    assert_eq!(v[0], 0.0);
    assert!(
        (v[1] + 1e38).abs() <= 1e31 && (v[2] + 2e38).abs() <= 1e32,
        "{v:?}"
    );
    let g = lp.sum_all().unwrap().backward().unwrap();
    let gv = host(g.get(&l).unwrap());
    assert!(gv.iter().all(|x| x.is_finite()), "{gv:?}");
    let h = d.entropy().unwrap();
    assert_eq!(host(&h), vec![0.0]);
    assert!(host(&d.probs().unwrap()).iter().all(|x| x.is_finite()));
}

#[test]
fn categorical_draw_is_independent_of_thread_count() {
    let l = Tensor::randn(0f32, 1.0, (70_000, 10), &dev()).unwrap();
    let d = Categorical::from_logits(&l).unwrap();
    let draw = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let a = d.sample(&[3], &mut Generator::new(11)).unwrap();
                let m = Multinomial::from_logits(5, &l.narrow(0, 0, 5000).unwrap()).unwrap();
                let b = m.sample(&[2], &mut Generator::new(12)).unwrap();
                (a.flatten_all().unwrap().to_vec1::<i64>().unwrap(), host(&b))
            })
    };
    let one = draw(1);
    assert_eq!(one, draw(2));
    assert_eq!(one, draw(5));
}

#[test]
fn one_hot_goodness_of_fit_and_moments() {
    let logits = [0.5, -0.25, 1.0, 0.0];
    let d = OneHotCategorical::from_logits(&Tensor::new(&logits, &dev()).unwrap()).unwrap();
    let x = d.sample(&[200_000], &mut Generator::new(13)).unwrap();
    assert_eq!(x.dims(), &[200_000, 4]);
    assert_eq!(x.dtype(), DType::F64);
    let v = host(&x);
    let idx: Vec<i64> = v
        .chunks(4)
        .map(|r| {
            assert_eq!(r.iter().sum::<f64>(), 1.0);
            assert!(r.iter().all(|&e| e == 0.0 || e == 1.0));
            r.iter().position(|&e| e == 1.0).unwrap() as i64
        })
        .collect();
    gof("OneHotCategorical", &idx, &softmax(&logits));
    let lp = host(&d.log_prob(&x.narrow(0, 0, 10).unwrap()).unwrap());
    let want = softmax(&logits);
    for (l, i) in lp.iter().zip(&idx) {
        assert!((l - want[*i as usize].ln()).abs() < 1e-14);
    }
    let mode = host(&d.mode().unwrap());
    assert_eq!(mode, vec![0.0, 0.0, 1.0, 0.0]);
    let e = d.enumerate_support(false).unwrap();
    assert_eq!(e.dims(), &[4, 4]);
    let b = d.expand(&[3]).unwrap();
    assert_eq!(b.enumerate_support(true).unwrap().dims(), &[4, 3, 4]);
    assert_eq!(b.enumerate_support(false).unwrap().dims(), &[4, 1, 4]);
}

/// Binomial(n, p) pmf at 0..=n in f64 (by the recurrence in log space).
fn binomial_pmf(n: usize, p: f64) -> Vec<f64> {
    let lg = |x: f64| candle_distributions::special::gamma::lgamma(x);
    (0..=n)
        .map(|j| {
            let j = j as f64;
            let nf = n as f64;
            (lg(nf + 1.0) - lg(j + 1.0) - lg(nf - j + 1.0) + j * p.ln() + (nf - j) * (1.0 - p).ln())
                .exp()
        })
        .collect()
}

#[test]
fn multinomial_goodness_of_fit_marginals_and_totals() {
    for (seed, n, logits) in [
        (14u64, 6usize, vec![0.2, -0.5, 1.0]),
        (15, 1000, vec![0.0, f64::NEG_INFINITY, -2.0, 0.5, 1.0]),
    ] {
        let d =
            Multinomial::from_logits(n, &Tensor::new(logits.as_slice(), &dev()).unwrap()).unwrap();
        let s = 20_000;
        let x = d.sample(&[s], &mut Generator::new(seed)).unwrap();
        assert_eq!(x.dims(), &[s, logits.len()]);
        let v = host(&x);
        let p = softmax(&logits);
        let k = logits.len();
        let mut totals = vec![0.0; k];
        for row in v.chunks(k) {
            assert_eq!(row.iter().sum::<f64>(), n as f64);
            for (t, c) in totals.iter_mut().zip(row) {
                *t += c;
            }
        }
        // Class totals over all samples: Multinomial(n·s, p).
        let expected: Vec<f64> = p.iter().map(|q| q * (n * s) as f64).collect();
        let (o, e): (Vec<f64>, Vec<f64>) = totals
            .iter()
            .zip(&expected)
            .filter(|(o, &e)| {
                assert!(
                    e > 0.0 || **o == 0.0,
                    "a class of probability 0 was counted"
                );
                e > 0.0
            })
            .map(|(&o, &e)| (o, e))
            .unzip();
        let (stat, df, pv) = chi_square(&o, &e);
        println!("Multinomial n = {n} totals: chi2 {stat:.1} df {df} p {pv:.3}");
        assert!(pv >= P_MIN);
        // Marginal of each class with positive probability: Binomial(n, p_k).
        for (j, &q) in p.iter().enumerate() {
            if q == 0.0 {
                continue;
            }
            let mut obs = vec![0.0; n + 1];
            for row in v.chunks(k) {
                obs[row[j] as usize] += 1.0;
            }
            let exp: Vec<f64> = binomial_pmf(n, q).iter().map(|w| w * s as f64).collect();
            let (stat, df, pv) = chi_square(&obs, &exp);
            println!("Multinomial n = {n} class {j} marginal: chi2 {stat:.1} df {df} p {pv:.3}");
            assert!(pv >= P_MIN, "class {j}: p = {pv}");
        }
    }
}

#[test]
fn straight_through_value_is_the_draw_and_gradient_that_of_probs() {
    let l = Var::new(&[0.5f64, -1.0, 2.0], &dev()).unwrap();
    let d = OneHotCategoricalStraightThrough::from_logits(l.as_tensor()).unwrap();
    assert!(d.has_rsample());
    let mut g1 = Generator::new(21);
    let mut g2 = Generator::new(21);
    let x = d.rsample(&[7], &mut g1).unwrap();
    let s = d.sample(&[7], &mut g2).unwrap();
    assert_eq!(host(&x), host(&s));
    let c = Tensor::new(&[1.0f64, 2.0, 4.0], &dev()).unwrap();
    let g = x
        .broadcast_mul(&c)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    // d/dl of 7·Σ c_k softmax(l)_k = 7·p ⊙ (c − p·c).
    let p = softmax(&[0.5, -1.0, 2.0]);
    let pc: f64 = p.iter().zip([1.0, 2.0, 4.0]).map(|(a, b)| a * b).sum();
    let want: Vec<f64> = p
        .iter()
        .zip([1.0, 2.0, 4.0])
        .map(|(q, ck)| 7.0 * q * (ck - pc))
        .collect();
    let got = host(g.get(&l).unwrap());
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-12, "{got:?} {want:?}");
    }
    // The plain families refuse rsample with a reason.
    let e = Categorical::from_logits(l.as_tensor())
        .unwrap()
        .rsample(&[], &mut Generator::new(0))
        .unwrap_err();
    assert!(matches!(e, Error::NotImplemented { .. }), "{e}");
}

#[test]
fn relaxed_one_hot_argmax_is_categorical_and_rsample_is_pathwise() {
    // Gumbel-max: the argmax of softmax((ℓ + G)/λ) is Categorical(p) for every λ.
    let logits = [0.4, -0.3, 1.1];
    let d =
        RelaxedOneHotCategorical::from_logits(0.7, &Tensor::new(&logits, &dev()).unwrap()).unwrap();
    let y = d.rsample(&[100_000], &mut Generator::new(22)).unwrap();
    let sums = host(&y.sum(1).unwrap());
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-12));
    let idx: Vec<i64> = host(&y.argmax(1).unwrap().to_dtype(DType::F64).unwrap())
        .iter()
        .map(|&v| v as i64)
        .collect();
    gof("RelaxedOneHotCategorical argmax", &idx, &softmax(&logits));
    let lp = d.log_prob(&y.narrow(0, 0, 100).unwrap()).unwrap();
    assert!(host(&lp).iter().all(|v| v.is_finite()));
    // Pathwise gradient to the logits and the temperature.
    let lv = Var::new(&logits, &dev()).unwrap();
    let tv = Var::new(0.7f64, &dev()).unwrap();
    let d = RelaxedOneHotCategorical::from_logits(tv.as_tensor(), lv.as_tensor()).unwrap();
    let y = d.rsample(&[16], &mut Generator::new(23)).unwrap();
    let g = y
        .narrow(1, 0, 1)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert!(host(g.get(&lv).unwrap())
        .iter()
        .all(|v| v.is_finite() && *v != 0.0));
    assert!(host(g.get(&tv).unwrap())[0].is_finite());
}

#[test]
fn cumsum_kernel_matches_naive_f64_sums_and_finite_differences() {
    let x: Vec<f64> = (0..3 * 257)
        .map(|i| ((i * 37) % 101) as f64 * 0.013 - 0.6)
        .collect();
    let t = Tensor::from_vec(x.clone(), (3, 257), &dev()).unwrap();
    let y = host(&rows::cumsum(&t).unwrap());
    let r = host(&rows::reverse_cumsum(&t).unwrap());
    let mut worst = 0f64;
    for (row, (yr, rr)) in x.chunks(257).zip(y.chunks(257).zip(r.chunks(257))) {
        let mut acc = 0.0;
        for (j, &v) in row.iter().enumerate() {
            acc += v;
            worst = worst.max((yr[j] - acc).abs());
        }
        let mut acc = 0.0;
        for j in (0..257).rev() {
            acc += row[j];
            worst = worst.max((rr[j] - acc).abs());
        }
    }
    assert_eq!(worst, 0.0, "same summation order, same bits");
    // f32 input is accumulated in f64: the sum of 1e4 copies of 0.1f32 is exact to
    // one f32 rounding of the f64 total.
    let f = Tensor::full(0.1f32, 10_000, &dev()).unwrap();
    let last = rows::cumsum(&f).unwrap().to_vec1::<f32>().unwrap()[9999];
    assert_eq!(last, (0.1f32 as f64 * 1e4) as f32);
    // An infinite entry stays where it belongs (a matmul would give NaN after it).
    let inf = Tensor::new(&[1.0f64, f64::NEG_INFINITY, 2.0, 3.0], &dev()).unwrap();
    assert_eq!(
        rows::cumsum(&inf).unwrap().to_vec1::<f64>().unwrap(),
        vec![1.0, f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY]
    );
    // Backward against central differences of a weighted sum of the outputs.
    let w: Vec<f64> = (0..6).map(|i| 0.3 + i as f64 * 0.7).collect();
    let x0 = [0.2f64, -1.0, 0.5, 2.0, -0.3, 0.8];
    let wt = Tensor::new(w.as_slice(), &dev()).unwrap();
    for reverse in [false, true] {
        let f = |x: &Tensor| {
            let y = if reverse {
                rows::reverse_cumsum(x).unwrap()
            } else {
                rows::cumsum(x).unwrap()
            };
            (y * &wt).unwrap().sum_all().unwrap()
        };
        assert_fd_gradient(f, &x0, 6, &format!("reverse {reverse}"));
    }
}

/// The gradient of the scalar `f` at `x0` against central differences (step 1e-6, to
/// 1e-8 absolute) in its first `n` entries; returns the gradient.
fn assert_fd_gradient(f: impl Fn(&Tensor) -> Tensor, x0: &[f64], n: usize, ctx: &str) -> Vec<f64> {
    let v = Var::new(x0, &dev()).unwrap();
    let g = host(f(v.as_tensor()).backward().unwrap().get(&v).unwrap());
    let at = |x: &[f64]| {
        f(&Tensor::new(x, &dev()).unwrap())
            .to_scalar::<f64>()
            .unwrap()
    };
    for j in 0..n {
        let h = 1e-6;
        let (mut a, mut b) = (x0.to_vec(), x0.to_vec());
        a[j] += h;
        b[j] -= h;
        let fd = (at(&a) - at(&b)) / (2.0 * h);
        assert!((g[j] - fd).abs() < 1e-8, "{ctx} j {j}: {} vs {fd}", g[j]);
    }
    g
}

#[test]
fn log_softmax_backward_matches_finite_differences() {
    let x0 = [0.3f64, -1.7, 2.2, 0.0, f64::NEG_INFINITY];
    let w = Tensor::new(&[1.0f64, -0.5, 0.25, 2.0, 0.0], &dev()).unwrap();
    let f = |x: &Tensor| {
        (rows::log_softmax(x).unwrap() * &w)
            .unwrap()
            .narrow(0, 0, 4)
            .unwrap()
            .sum_all()
            .unwrap()
    };
    let g = assert_fd_gradient(f, &x0, 4, "log_softmax");
    // The −∞ entry's derivative is the limit −Σ_k w_k p_5 = 0.
    assert_eq!(g[4], 0.0);
    // ±1e308 rows: no overflow, no NaN.
    let big = Tensor::new(&[1e308f64, -1e308, 1e308], &dev()).unwrap();
    let l = rows::log_softmax(&big).unwrap().to_vec1::<f64>().unwrap();
    assert_eq!(l, vec![-(2f64.ln()), f64::NEG_INFINITY, -(2f64.ln())]);
}

#[test]
fn validation_names_the_family_parameter_and_value() {
    let t = |v: &[f64]| Tensor::new(v, &dev()).unwrap();
    assert_param_error(Categorical::new(&t(&[0.5, -0.1])), "Categorical", "probs");
    assert_param_error(
        Categorical::new(&t(&[0.5, f64::NAN])),
        "Categorical",
        "probs",
    );
    assert_param_error(Categorical::new(&t(&[0.0, 0.0])), "Categorical", "probs");
    assert_param_error(
        Categorical::new(&t(&[1.0, f64::INFINITY])),
        "Categorical",
        "probs",
    );
    assert_param_error(
        Categorical::from_logits(&t(&[0.0, f64::NAN])),
        "Categorical",
        "logits",
    );
    assert_param_error(
        Categorical::from_logits(&t(&[0.0, f64::INFINITY])),
        "Categorical",
        "logits",
    );
    assert_param_error(
        Categorical::from_logits(&t(&[f64::NEG_INFINITY, f64::NEG_INFINITY])),
        "Categorical",
        "logits",
    );
    assert_param_error(
        OneHotCategorical::new(&t(&[-1.0, 1.0])),
        "OneHotCategorical",
        "probs",
    );
    assert_param_error(
        OneHotCategoricalStraightThrough::from_logits(&t(&[f64::NAN])),
        "OneHotCategoricalStraightThrough",
        "logits",
    );
    assert_param_error(
        Multinomial::new(3, &t(&[-1.0, 1.0])),
        "Multinomial",
        "probs",
    );
    assert_param_error(
        RelaxedOneHotCategorical::new(-1.0, &t(&[1.0, 1.0])),
        "RelaxedOneHotCategorical",
        "temperature",
    );
    assert_param_error(
        RelaxedOneHotCategorical::from_logits(1.0, &t(&[f64::NAN, 1.0])),
        "RelaxedOneHotCategorical",
        "logits",
    );
    // A number has no category dimension.
    assert!(matches!(Categorical::new(0.5), Err(Error::Shape { .. })));
    // Values outside the support.
    let d = Categorical::new(&t(&[0.2, 0.3, 0.5])).unwrap();
    for bad in [3.0, -1.0, 1.5, f64::NAN] {
        match d.log_prob(&t(&[bad])) {
            Err(Error::OutOfSupport {
                distribution,
                found,
                ..
            }) => {
                assert_eq!(distribution, "Categorical");
                assert!(found == bad || (found.is_nan() && bad.is_nan()));
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    // Integer and float values agree.
    let a = host(&d.log_prob(&Tensor::new(&[2i64], &dev()).unwrap()).unwrap());
    let b = host(&d.log_prob(&Tensor::new(&[2u32], &dev()).unwrap()).unwrap());
    let c = host(&d.log_prob(&t(&[2.0])).unwrap());
    assert_eq!(a, b);
    assert_eq!(a, c);
    let oh = OneHotCategorical::new(&t(&[0.2, 0.3, 0.5])).unwrap();
    assert!(matches!(
        oh.log_prob(&t(&[1.0, 1.0, 0.0])),
        Err(Error::OutOfSupport {
            distribution: "OneHotCategorical",
            ..
        })
    ));
    assert!(matches!(
        oh.log_prob(&t(&[0.5, 0.5, 0.0])),
        Err(Error::OutOfSupport {
            distribution: "OneHotCategorical",
            ..
        })
    ));
    let m = Multinomial::new(4, &t(&[0.2, 0.3, 0.5])).unwrap();
    assert!(matches!(
        m.log_prob(&t(&[1.0, 1.0, 1.0])),
        Err(Error::OutOfSupport { distribution: "Multinomial", found, .. }) if found == 3.0
    ));
    assert!(matches!(
        m.log_prob(&t(&[1.5, 1.5, 1.0])),
        Err(Error::OutOfSupport {
            distribution: "Multinomial",
            ..
        })
    ));
    let r = RelaxedOneHotCategorical::new(0.5, &t(&[0.2, 0.3, 0.5])).unwrap();
    assert!(matches!(
        r.log_prob(&t(&[0.5, 0.6, 0.1])),
        Err(Error::OutOfSupport {
            distribution: "RelaxedOneHotCategorical",
            ..
        })
    ));
}

#[test]
fn shapes_dtypes_expand_and_enumerate_support() {
    let l = Tensor::randn(0f32, 1.0, (2, 3, 5), &dev()).unwrap();
    let d = Categorical::from_logits(&l).unwrap();
    assert_eq!(d.batch_shape(), &[2, 3]);
    assert_eq!(d.event_shape(), &[] as &[usize]);
    let x = d.sample(&[4], &mut Generator::new(30)).unwrap();
    assert_eq!(x.dims(), &[4, 2, 3]);
    assert_eq!(d.log_prob(&x).unwrap().dims(), &[4, 2, 3]);
    assert_eq!(d.log_prob(&x).unwrap().dtype(), DType::F32);
    assert_eq!(d.mode().unwrap().dims(), &[2, 3]);
    assert!(host(&d.mean().unwrap()).iter().all(|v| v.is_nan()));
    let e = d.enumerate_support(false).unwrap();
    assert_eq!(e.dims(), &[5, 1, 1]);
    let lp = d.log_prob(&e).unwrap();
    assert_eq!(lp.dims(), &[5, 2, 3]);
    // Probabilities over the support sum to 1.
    let s = host(&lp.exp().unwrap().sum(0).unwrap());
    assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-6));
    assert_eq!(d.enumerate_support(true).unwrap().dims(), &[5, 2, 3]);
    let big = d.expand(&[7, 2, 3]).unwrap();
    assert_eq!(big.batch_shape(), &[7, 2, 3]);
    assert_eq!(
        big.sample(&[], &mut Generator::new(31)).unwrap().dims(),
        &[7, 2, 3]
    );
    assert!(d.expand(&[2, 4]).is_err());
    let m = Multinomial::from_logits(3, &l).unwrap();
    assert_eq!(m.event_shape(), &[5]);
    let y = m.sample(&[2], &mut Generator::new(32)).unwrap();
    assert_eq!(y.dims(), &[2, 2, 3, 5]);
    assert_eq!(y.dtype(), DType::F32);
    assert_eq!(m.log_prob(&y).unwrap().dims(), &[2, 2, 3]);
    assert_eq!(m.expand(&[4, 2, 3]).unwrap().batch_shape(), &[4, 2, 3]);
    // An f64 value promotes an f32 family's log_prob to f64 (torch's rule).
    let x64 = x.to_dtype(DType::F64).unwrap();
    assert_eq!(d.log_prob(&x64).unwrap().dtype(), DType::F64);
    // The relaxed family broadcasts its temperature with the batch.
    let t = Tensor::new(&[0.5f32, 1.0], &dev())
        .unwrap()
        .reshape((2, 1))
        .unwrap();
    let r = RelaxedOneHotCategorical::from_logits(&t, &l).unwrap();
    assert_eq!(r.batch_shape(), &[2, 3]);
    assert_eq!(
        r.rsample(&[3], &mut Generator::new(33)).unwrap().dims(),
        &[3, 2, 3, 5]
    );
    let _ = D::Minus1;
}

#[test]
fn unvalidated_values_outside_the_support_have_log_mass_neg_inf() {
    let t = |v: &[f64]| Tensor::new(v, &dev()).unwrap();
    let d = Categorical::new_with_validation(&t(&[0.2, 0.3, 0.5]), false).unwrap();
    let lp = host(
        &d.log_prob(&t(&[0.0, 3.0, -1.0, 1.5, f64::NAN, 2.0]))
            .unwrap(),
    );
    assert_eq!(lp[1..5], [f64::NEG_INFINITY; 4]);
    assert!((lp[0] - 0.2f64.ln()).abs() < 1e-15 && (lp[5] - 0.5f64.ln()).abs() < 1e-15);
    let li = host(
        &d.log_prob(&Tensor::new(&[7i64, -3, 1], &dev()).unwrap())
            .unwrap(),
    );
    assert_eq!(li[..2], [f64::NEG_INFINITY; 2]);
    assert!((li[2] - 0.3f64.ln()).abs() < 1e-15);
    let oh = OneHotCategorical::new_with_validation(&t(&[0.2, 0.3, 0.5]), false).unwrap();
    let v = Tensor::new(
        &[[0.0f64, 1.0, 0.0], [1.0, 1.0, 0.0], [-0.5, 1.5, 0.0]],
        &dev(),
    )
    .unwrap();
    let lp = host(&oh.log_prob(&v).unwrap());
    assert!((lp[0] - 0.3f64.ln()).abs() < 1e-15);
    assert_eq!(lp[1..], [f64::NEG_INFINITY; 2]);
    let m = Multinomial::new_with_validation(3, &t(&[0.2, 0.3, 0.5]), false).unwrap();
    let v = Tensor::new(
        &[
            [1.0f64, 1.0, 1.0],
            [1.0, 1.0, 0.0],
            [-1.0, 2.0, 2.0],
            [0.5, 0.5, 2.0],
        ],
        &dev(),
    )
    .unwrap();
    let lp = host(&m.log_prob(&v).unwrap());
    assert!(
        (lp[0] - (6.0f64 * 0.2 * 0.3 * 0.5).ln()).abs() < 1e-14,
        "{lp:?}"
    );
    assert_eq!(lp[1..], [f64::NEG_INFINITY; 3]);
}

#[test]
fn log_prob_broadcasts_values_against_rows_without_copies_and_scatters_gradients() {
    // Batch [2, 1] of K = 3 rows against values of shape [3]: result [2, 3], row r of the
    // batch read for every value, gradient summed per row.
    let raw = [[0.1f64, 0.7, -0.4], [1.2, -0.3, 0.0]];
    let l = Var::new(&raw, &dev()).unwrap();
    let d = Categorical::from_logits(&l.as_tensor().unsqueeze(1).unwrap()).unwrap();
    assert_eq!(d.batch_shape(), &[2, 1]);
    let v = Tensor::new(&[2i64, 0, 2], &dev()).unwrap();
    let lp = d.log_prob(&v).unwrap();
    assert_eq!(lp.dims(), &[2, 3]);
    let got = host(&lp);
    for r in 0..2 {
        let p = softmax(&raw[r]);
        for (j, &k) in [2usize, 0, 2].iter().enumerate() {
            assert!((got[r * 3 + j] - p[k].ln()).abs() < 1e-15);
        }
    }
    let g = host(lp.sum_all().unwrap().backward().unwrap().get(&l).unwrap());
    for r in 0..2 {
        let p = softmax(&raw[r]);
        // d/dl_j Σ_values ℓ_{k(value)} = count_j − 3·p_j, counts (1, 0, 2).
        let counts = [1.0, 0.0, 2.0];
        for j in 0..3 {
            assert!(
                (g[r * 3 + j] - (counts[j] - 3.0 * p[j])).abs() < 1e-14,
                "{g:?}"
            );
        }
    }
}

#[test]
fn empty_batches_single_classes_and_zero_counts() {
    let mut g = Generator::new(40);
    // An empty batch: every method answers with empty results, no panic.
    let e = Tensor::zeros((0, 3), DType::F32, &dev()).unwrap();
    let d = Categorical::from_logits(&e).unwrap();
    assert_eq!(d.sample(&[4], &mut g).unwrap().dims(), &[4, 0]);
    assert_eq!(d.entropy().unwrap().dims(), &[0]);
    let x = Tensor::zeros((4, 0), DType::I64, &dev()).unwrap();
    assert_eq!(d.log_prob(&x).unwrap().dims(), &[4, 0]);
    // No draws at all.
    let one = Categorical::from_logits(&Tensor::new(&[0.0f32, 1.0], &dev()).unwrap()).unwrap();
    assert_eq!(one.sample(&[0, 3], &mut g).unwrap().dims(), &[0, 3]);
    // K = 1: the only class, with certainty.
    let k1 = Categorical::new(&Tensor::new(&[2.5f64], &dev()).unwrap()).unwrap();
    let s = k1.sample(&[100], &mut g).unwrap().to_vec1::<i64>().unwrap();
    assert!(s.iter().all(|&i| i == 0));
    assert_eq!(
        host(&k1.log_prob(&Tensor::new(&[0u8], &dev()).unwrap()).unwrap()),
        vec![0.0]
    );
    assert_eq!(host(&k1.entropy().unwrap()), vec![0.0]);
    // total_count = 0: the zero vector, with certainty.
    let m = Multinomial::new(0, &Tensor::new(&[0.3f64, 0.7], &dev()).unwrap()).unwrap();
    assert_eq!(host(&m.sample(&[3], &mut g).unwrap()), vec![0.0; 6]);
    assert_eq!(
        host(
            &m.log_prob(&Tensor::new(&[0.0f64, 0.0], &dev()).unwrap())
                .unwrap()
        ),
        vec![0.0]
    );
    assert_eq!(host(&m.entropy().unwrap()), vec![0.0]);
    // Large total_count: counts sum to n, drawn in O(n log K).
    let big = Multinomial::new(
        1_000_000,
        &Tensor::new(&[0.25f64, 0.5, 0.25], &dev()).unwrap(),
    )
    .unwrap();
    let c = host(&big.sample(&[], &mut g).unwrap());
    assert_eq!(c.iter().sum::<f64>(), 1e6);
    // Binomial(1e6, ½) for the middle class: within 5 standard deviations (500).
    assert!((c[1] - 5e5).abs() < 2500.0, "{c:?}");
}

#[test]
fn one_hot_and_multinomial_constraints_check_rows() {
    use candle_distributions::Constraint;
    let dev = Device::Cpu;
    let t = |v: &[f64], shape: &[usize]| Tensor::from_slice(v, shape, &dev).unwrap();
    let oh = Constraint::OneHot;
    assert_eq!(oh.event_dim(), 1);
    assert!(oh.is_discrete());
    assert_eq!(
        oh.check(&t(&[0., 1., 0., 1., 0., 0.], &[2, 3])).unwrap(),
        None
    );
    // A mid-simplex row, two ones, no one: each is caught at its row.
    assert_eq!(
        oh.check(&t(&[0., 1., 0., 0.5, 0.5, 0.], &[2, 3])).unwrap(),
        Some((3, 0.5))
    );
    assert_eq!(oh.check(&t(&[1., 1., 0.], &[3])).unwrap(), Some((0, 1.0)));
    assert_eq!(oh.check(&t(&[0., 0., 0.], &[3])).unwrap(), Some((0, 0.0)));
    let m = Constraint::Multinomial { upper_bound: 5 };
    assert_eq!(m.event_dim(), 1);
    assert_eq!(
        m.check(&t(&[2., 3., 0., 0., 1., 1.], &[2, 3])).unwrap(),
        None
    );
    assert_eq!(m.check(&t(&[2., 3., 1.], &[3])).unwrap(), Some((0, 2.0)));
    assert_eq!(m.check(&t(&[2., 1.5, 1.], &[3])).unwrap(), Some((1, 1.5)));
    assert_eq!(m.check(&t(&[2., -1., 1.], &[3])).unwrap(), Some((1, -1.0)));
    assert!(m.to_string().contains("<= 5"), "{m}");
}

/// ∂ℓ_k/∂p_j = δ_kj/p_k − 1/Σp for weights whose reciprocals overflow: 1e-40 in f32 and
/// 5e-324 in f64 give 0 where the two terms cancel, never ∞ − ∞ = NaN.
#[test]
fn log_prob_gradients_at_subnormal_weights_are_not_nan() {
    let p = Var::new(&[1e-40f32, 0.0], &dev()).unwrap();
    let d = Categorical::new(p.as_tensor()).unwrap();
    let lp = d.log_prob(&Tensor::new(&[0i64], &dev()).unwrap()).unwrap();
    let g = lp.sum_all().unwrap().backward().unwrap();
    let gp = g.get(&p).unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(gp[0], 0.0, "{gp:?}");
    assert_eq!(gp[1], f32::NEG_INFINITY, "{gp:?}");
    let p = Var::new(&[[5e-324f64]], &dev()).unwrap();
    let d = Multinomial::new(3, p.as_tensor()).unwrap();
    let lp = d
        .log_prob(&Tensor::new(&[[3.0f64]], &dev()).unwrap())
        .unwrap();
    assert_eq!(lp.to_vec1::<f64>().unwrap(), vec![0.0]);
    let g = lp.sum_all().unwrap().backward().unwrap();
    assert_eq!(
        g.get(&p).unwrap().to_vec2::<f64>().unwrap(),
        vec![vec![0.0]]
    );
}

/// The concrete log-density on the simplex (Maddison et al. 2017, eq. 2) over the K'
/// classes listed in `alpha` (positive weights, unnormalised), at y (same length):
/// ln (K'−1)! + (K'−1) ln λ + Σ (ln α_k − (λ+1) ln y_k) − K' ln Σ α_j y_j^{−λ}.
fn concrete_simplex_log_density(lambda: f64, alpha: &[f64], y: &[f64]) -> f64 {
    let k = alpha.len() as f64;
    let fact: f64 = (1..alpha.len()).map(|i| (i as f64).ln()).sum();
    let terms: f64 = alpha
        .iter()
        .zip(y)
        .map(|(a, y)| a.ln() - (lambda + 1.0) * y.ln())
        .sum();
    let s: f64 = alpha.iter().zip(y).map(|(a, y)| a * y.powf(-lambda)).sum();
    fact + (k - 1.0) * lambda.ln() + terms - k * s.ln()
}

/// A class of probability 0: every draw has coordinate exactly −∞ (log space) / 0
/// (simplex) there, the density is that of the law of the positive classes (K' = 2 in
/// the normaliser), mass on the zero class or a zero coordinate on a positive class is
/// −∞, and nothing is NaN (draws, densities, pathwise and density gradients).
#[test]
fn relaxed_zero_probability_class_lives_on_the_face_of_the_positive_classes() {
    let p = Tensor::new(&[0.0f64, 0.5, 0.5], &dev()).unwrap();
    let d = ExpRelaxedCategorical::new(0.5, &p).unwrap();
    let x = d.sample(&[200], &mut Generator::new(41)).unwrap();
    let lp = host(&d.log_prob(&x).unwrap());
    let xs = host(&x);
    for (r, row) in xs.chunks(3).enumerate() {
        assert_eq!(row[0], f64::NEG_INFINITY, "{row:?}");
        // Log space of the 2-class concrete: y = e^x, density in x = density in y · Π y
        // restricted to the first K' − 1 coordinates' Jacobian: ln p_X = ln p_Y + Σ x.
        let y = [row[1].exp(), row[2].exp()];
        assert!((y[0] + y[1] - 1.0).abs() < 1e-12, "{row:?}");
        let want = concrete_simplex_log_density(0.5, &[0.5, 0.5], &y) + row[1] + row[2];
        assert!(
            (lp[r] - want).abs() < 1e-10 * want.abs().max(1.0),
            "{} vs {want}",
            lp[r]
        );
    }
    let off = Tensor::new(
        &[
            [-1.0f64, -1.0, -0.5],
            [f64::NEG_INFINITY, f64::NEG_INFINITY, 0.0],
        ],
        &dev(),
    )
    .unwrap();
    assert_eq!(
        host(&d.log_prob(&off).unwrap()),
        vec![f64::NEG_INFINITY, f64::NEG_INFINITY]
    );

    // Pathwise gradients: Σy = 1 has derivative 0 in λ and p; y_1 matches central
    // differences in λ along the same Gumbels (same seed).
    let tv = Var::new(1.0f64, &dev()).unwrap();
    let pv = Var::new(&[0.0f64, 0.5, 0.5], &dev()).unwrap();
    let r = RelaxedOneHotCategorical::new(tv.as_tensor(), pv.as_tensor()).unwrap();
    let y = r.rsample(&[8], &mut Generator::new(42)).unwrap();
    assert!(host(&y.narrow(1, 0, 1).unwrap()).iter().all(|&v| v == 0.0));
    let g = y.sum_all().unwrap().backward().unwrap();
    let gt = host(g.get(&tv).unwrap())[0];
    assert!(gt.abs() < 1e-12, "d(Σy)/dλ = {gt}");
    assert!(host(g.get(&pv).unwrap()).iter().all(|v| v.abs() < 1e-12));
    let y1 = |lam: f64| {
        let r = RelaxedOneHotCategorical::new(lam, &p).unwrap();
        let y = r.rsample(&[8], &mut Generator::new(42)).unwrap();
        host(&y.narrow(1, 1, 1).unwrap().sum_all().unwrap())[0]
    };
    let g = y
        .narrow(1, 1, 1)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let gt = host(g.get(&tv).unwrap())[0];
    let h = 1e-6;
    let fd = (y1(1.0 + h) - y1(1.0 - h)) / (2.0 * h);
    assert!((gt - fd).abs() < 1e-6 * fd.abs().max(1.0), "{gt} vs {fd}");

    // Density on the simplex and its gradients (closed form, central differences).
    let value = Tensor::new(&[0.0f64, 0.3, 0.7], &dev()).unwrap();
    let lp = r.log_prob(&value).unwrap();
    let want = concrete_simplex_log_density(1.0, &[0.5, 0.5], &[0.3, 0.7]);
    assert!((host(&lp)[0] - want).abs() < 1e-12, "{lp} vs {want}");
    let g = lp.backward().unwrap();
    let gt = host(g.get(&tv).unwrap())[0];
    let fd = (concrete_simplex_log_density(1.0 + h, &[0.5, 0.5], &[0.3, 0.7])
        - concrete_simplex_log_density(1.0 - h, &[0.5, 0.5], &[0.3, 0.7]))
        / (2.0 * h);
    assert!((gt - fd).abs() < 1e-6, "{gt} vs {fd}");
    let gp = host(g.get(&pv).unwrap());
    assert!(gp.iter().all(|v| v.is_finite()), "{gp:?}");
    // d/dp_1 of the closed form with α = (p_1, p_2) (it is scale-free in α).
    let fd1 = (concrete_simplex_log_density(1.0, &[0.5 + h, 0.5], &[0.3, 0.7])
        - concrete_simplex_log_density(1.0, &[0.5 - h, 0.5], &[0.3, 0.7]))
        / (2.0 * h);
    assert!((gp[1] - fd1).abs() < 1e-6, "{gp:?} vs {fd1}");

    // Zero coordinates on positive classes are off the face; gradients stay finite.
    let on_pos = Tensor::new(&[[0.0f64, 1.0, 0.0], [0.5, 0.5, 0.0]], &dev()).unwrap();
    let lp = r.log_prob(&on_pos).unwrap();
    assert_eq!(host(&lp), vec![f64::NEG_INFINITY, f64::NEG_INFINITY]);
    let g = lp.sum_all().unwrap().backward().unwrap();
    assert!(host(g.get(&tv).unwrap()).iter().all(|v| !v.is_nan()));
    assert!(host(g.get(&pv).unwrap()).iter().all(|v| !v.is_nan()));

    // One positive class: the law is the vertex, whose log-mass is 0 (K' = 1).
    let t32 = Tensor::new(1.0f32, &dev()).unwrap();
    let p64 = Tensor::new(&[0.0f64, 1e-8, 0.0], &dev()).unwrap();
    let v32 = Tensor::new(&[0.0f32, 1.0, 0.0], &dev()).unwrap();
    let r = RelaxedOneHotCategorical::new(&t32, &p64).unwrap();
    let lp = r.log_prob(&v32).unwrap().to_dtype(DType::F64).unwrap();
    assert_eq!(host(&lp), vec![0.0]);
    let v = r.sample(&[3], &mut Generator::new(43)).unwrap();
    assert_eq!(host(&v), vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
}

/// A subnormal temperature gives (near) one-hot draws, never NaN: the scores are
/// shifted by their row maximum before the division by λ.
#[test]
fn relaxed_subnormal_temperature_draws_are_one_hot_not_nan() {
    let l = Tensor::new(&[-3.4e38f64], &dev()).unwrap();
    let d = ExpRelaxedCategorical::from_logits(5e-324, &l).unwrap();
    let x = d
        .sample(&[7], &mut Generator::new(769770809903837471))
        .unwrap();
    assert_eq!(host(&x), vec![0.0; 7]);

    let t = Tensor::new(&[2.5f64, 5e-324], &dev()).unwrap();
    let l = Tensor::new(&[0.5f64, f64::MAX], &dev()).unwrap();
    let d = RelaxedOneHotCategorical::from_logits(&t, &l).unwrap();
    let y = host(
        &d.sample(&[2, 2], &mut Generator::new(13273662676571463630))
            .unwrap(),
    );
    // ℓ = (0.5 − MAX, 0): the first class has mass 0 to double precision at both λ.
    assert_eq!(y, [0.0, 1.0].repeat(8));

    // Comparable logits: one-hot at λ = 5e-324, with Categorical(p) argmax frequencies.
    let logits = [0.3f64, -0.2, 0.0];
    let d = RelaxedOneHotCategorical::from_logits(5e-324, &Tensor::new(&logits, &dev()).unwrap())
        .unwrap();
    let y = d.sample(&[20_000], &mut Generator::new(44)).unwrap();
    let ys = host(&y);
    assert!(ys.iter().all(|&v| v == 0.0 || v == 1.0), "not one-hot");
    assert!(host(&y.sum(1).unwrap()).iter().all(|&s| s == 1.0));
    let idx: Vec<i64> = host(&y.argmax(1).unwrap().to_dtype(DType::F64).unwrap())
        .iter()
        .map(|&v| v as i64)
        .collect();
    gof(
        "RelaxedOneHotCategorical at subnormal λ",
        &idx,
        &softmax(&logits),
    );
}

/// Shape errors come before value errors (as in the other families): a bad temperature
/// with probs of the wrong rank, or with a batch that does not broadcast, is
/// `Error::Shape`.
#[test]
fn relaxed_shape_errors_come_before_temperature_errors() {
    let scalar = Tensor::new(0.5f64, &dev()).unwrap();
    let rows = Tensor::ones((2, 4), DType::F64, &dev()).unwrap();
    let t3 = Tensor::new(&[-1.0f64, 1.0, 1.0], &dev()).unwrap();
    let errs = [
        ExpRelaxedCategorical::new(-1.0, &scalar).unwrap_err(),
        ExpRelaxedCategorical::from_logits(&t3, &rows).unwrap_err(),
        RelaxedOneHotCategorical::new(-1.0, &scalar).unwrap_err(),
        RelaxedOneHotCategorical::from_logits(&t3, &rows).unwrap_err(),
    ];
    for e in errs {
        assert!(matches!(e, Error::Shape { .. }), "{e}");
    }
}

/// Zero-size batches and draws: the mode and the one-hot log-mass reduce over no rows
/// (candle's argmax refuses an empty reduction).
#[test]
fn empty_batches_and_draws_give_empty_results() {
    let empty = Tensor::zeros((0, 3), DType::F32, &dev()).unwrap();
    let c = Categorical::new(&empty).unwrap();
    assert_eq!(c.mode().unwrap().dims(), &[0]);
    let o = OneHotCategorical::new(&empty).unwrap();
    assert_eq!(o.mode().unwrap().dims(), &[0, 3]);
    let s = OneHotCategoricalStraightThrough::new(&empty).unwrap();
    assert_eq!(s.mode().unwrap().dims(), &[0, 3]);
    let d = OneHotCategorical::new(&Tensor::new(&[0.2f32, 0.3, 0.5], &dev()).unwrap()).unwrap();
    let x = d.sample(&[1, 0], &mut Generator::new(0)).unwrap();
    assert_eq!(x.dims(), &[1, 0, 3]);
    assert_eq!(d.log_prob(&x).unwrap().dims(), &[1, 0]);
    let (x, lp) = d.sample_and_log_prob(&[0], &mut Generator::new(0)).unwrap();
    assert_eq!((x.dims(), lp.dims()), (&[0usize, 3][..], &[0usize][..]));
}

/// Pathwise gradients of the relaxed draw, with a temperature that expands the batch of
/// one row of logits (the gradients of both batch rows meet on that row), match central
/// differences along the same Gumbels; at λ near the bottom of the normal range, where
/// they are of size ~1/λ, they are never NaN.
#[test]
fn relaxed_pathwise_gradients_match_differences_and_survive_tiny_temperatures() {
    let l0 = [0.3f64, -0.4, 1.1];
    let t0 = [0.5f64, 2.0];
    // f(ℓ, λ) = Σ over draws of x[., 0, 0] + 2·x[., 1, 2] (log-space draws).
    let f = |l: &[f64], t: &[f64]| -> f64 {
        let d = ExpRelaxedCategorical::from_logits(
            &Tensor::new(t, &dev()).unwrap().unsqueeze(1).unwrap(),
            &Tensor::new(l, &dev()).unwrap(),
        )
        .unwrap();
        let x = host(&d.rsample(&[5], &mut Generator::new(51)).unwrap());
        (0..5).map(|s| x[s * 6] + 2.0 * x[s * 6 + 5]).sum()
    };
    let lv = Var::new(&l0, &dev()).unwrap();
    let tv = Var::new(&t0, &dev()).unwrap();
    let d =
        ExpRelaxedCategorical::from_logits(&tv.as_tensor().unsqueeze(1).unwrap(), lv.as_tensor())
            .unwrap();
    assert_eq!(d.batch_shape(), &[2, 1]);
    let x = d.rsample(&[5], &mut Generator::new(51)).unwrap();
    let w = Tensor::new(&[[[1.0f64, 0.0, 0.0]], [[0.0, 0.0, 2.0]]], &dev()).unwrap();
    let g = x
        .broadcast_mul(&w)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let (gl, gt) = (host(g.get(&lv).unwrap()), host(g.get(&tv).unwrap()));
    let h = 1e-6;
    for j in 0..3 {
        let (mut up, mut dn) = (l0, l0);
        up[j] += h;
        dn[j] -= h;
        let fd = (f(&up, &t0) - f(&dn, &t0)) / (2.0 * h);
        assert!(
            (gl[j] - fd).abs() < 1e-6 * fd.abs().max(1.0),
            "ℓ_{j}: {} vs {fd}",
            gl[j]
        );
    }
    for j in 0..2 {
        let (mut up, mut dn) = (t0, t0);
        up[j] += h;
        dn[j] -= h;
        let fd = (f(&l0, &up) - f(&l0, &dn)) / (2.0 * h);
        assert!(
            (gt[j] - fd).abs() < 1e-6 * fd.abs().max(1.0),
            "λ_{j}: {} vs {fd}",
            gt[j]
        );
    }

    // λ = 2.2e-308 (alone, and sharing a row of logits with λ = 1e-40).
    /// (temperature, its shape, probs (first) or logits (second), seed).
    type TinyCase<'a> = (&'a [f64], &'a [usize], &'a [f64], u64);
    let cases: [TinyCase; 2] = [
        (
            &[2.2250738585072014e-308],
            &[],
            &[1e-40, 0.5, 0.117],
            9387353112719893550,
        ),
        (
            &[1e-40, 2.2250738585072014e-308],
            &[2, 1],
            &[0.0, -1e8, -0.0],
            4807323438751913681,
        ),
    ];
    for (i, (t, ts, p, seed)) in cases.into_iter().enumerate() {
        let tv = Var::from_tensor(&Tensor::new(t, &dev()).unwrap().reshape(ts).unwrap()).unwrap();
        let pv = Var::new(p, &dev()).unwrap();
        let d = if i == 0 {
            ExpRelaxedCategorical::new(tv.as_tensor(), pv.as_tensor()).unwrap()
        } else {
            ExpRelaxedCategorical::from_logits(tv.as_tensor(), pv.as_tensor()).unwrap()
        };
        let x = d.rsample(&[7], &mut Generator::new(seed)).unwrap();
        assert!(host(&x).iter().all(|v| !v.is_nan()));
        let g = x.sum_all().unwrap().backward().unwrap();
        let gp = host(g.get(&pv).unwrap());
        let gt = host(g.get(&tv).unwrap());
        assert!(gp.iter().chain(&gt).all(|v| !v.is_nan()), "{gp:?} {gt:?}");
    }
}

/// The log-mass of an empty batch given by probs has an (empty) gradient, not a
/// reduction error.
#[test]
fn empty_batches_backpropagate() {
    let p = Var::new(&[[0.2f64, 0.8]; 0], &dev()).unwrap();
    assert_eq!(p.dims(), &[0, 2]);
    let d = Categorical::new(p.as_tensor()).unwrap();
    let lp = d
        .log_prob(&Tensor::zeros(0, DType::I64, &dev()).unwrap())
        .unwrap();
    let g = lp.sum_all().unwrap().backward().unwrap();
    assert_eq!(g.get(&p).unwrap().dims(), &[0, 2]);
    let e = d.entropy().unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(e.get(&p).unwrap().dims(), &[0, 2]);
}
