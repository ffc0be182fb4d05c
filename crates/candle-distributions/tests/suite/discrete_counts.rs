//! Binomial, Poisson and NegativeBinomial: chi-square goodness of fit of the samplers
//! over parameter grids (BTRS and inversion paths, the switch points, n = 1e6, rates
//! 1e-4 to 1e5, total_count 1e-3), thread-count independence, termination at hostile
//! parameters, validation errors, moments of huge-rate draws, enumerate_support and
//! the entropy's gradient.
//!
//! Expected cell counts come from the masses written out here in f64 from ln Γ
//! (`special::gamma::lgamma`, libm), independent of the crate's log-mass code; cells
//! are pooled until each expects at least 5 draws (`common::chi_square`), and every
//! test asserts p ≥ 1e-3 with a fixed seed.

use crate::common;
use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::special::gamma::lgamma;
use candle_distributions::{Binomial, Error, NegativeBinomial, Poisson};
use common::{chi_square, host, in_pool, within_deadline};

const CPU: Device = Device::Cpu;

fn t64(x: f64) -> Tensor {
    Tensor::new(x, &CPU).unwrap()
}

/// Pearson's test of `draws` against the mass `pmf` on the integers lo..=hi, the mass
/// outside that window in one cell on each side. Returns (statistic, df, p).
fn gof(draws: &[f64], lo: i64, hi: i64, pmf: impl Fn(f64) -> f64) -> (f64, usize, f64) {
    let n = draws.len() as f64;
    let w = (hi - lo + 1) as usize;
    let mut obs = vec![0f64; w + 2];
    for &x in draws {
        assert!(x.fract() == 0.0 && x >= 0.0, "draw {x} is not a count");
        let i = if x < lo as f64 {
            0
        } else if x > hi as f64 {
            w + 1
        } else {
            (x as i64 - lo) as usize + 1
        };
        obs[i] += 1.0;
    }
    let mut exp = vec![0f64; w + 2];
    let mut inside = 0.0;
    for j in 0..w {
        let p = pmf((lo + j as i64) as f64);
        exp[j + 1] = n * p;
        inside += p;
    }
    // The two outer cells share the remaining mass, below and above by the masses at
    // the window's ends (they are far tails, pooled with their neighbours anyway).
    let rest = (1.0 - inside).max(0.0) * n;
    let (a, b) = (pmf(lo as f64), pmf(hi as f64));
    let left = if lo > 0 {
        rest * a / (a + b + 1e-300)
    } else {
        0.0
    };
    exp[0] = left;
    exp[w + 1] = rest - left;
    chi_square(&obs, &exp)
}

fn binom_pmf(n: f64, p: f64) -> impl Fn(f64) -> f64 {
    let q = 1.0 - p;
    move |k| {
        if k < 0.0 || k > n {
            return 0.0;
        }
        let t = |c: f64, x: f64| if c == 0.0 { 0.0 } else { c * x.ln() };
        (lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) + t(k, p) + t(n - k, q)).exp()
    }
}

fn pois_pmf(lam: f64) -> impl Fn(f64) -> f64 {
    move |k| {
        let t = if k == 0.0 { 0.0 } else { k * lam.ln() };
        (t - lam - lgamma(k + 1.0)).exp()
    }
}

fn negbin_pmf(r: f64, p: f64) -> impl Fn(f64) -> f64 {
    let q = 1.0 - p;
    move |k| {
        let t = if k == 0.0 { 0.0 } else { k * p.ln() };
        (lgamma(r + k) - lgamma(r) - lgamma(k + 1.0) + r * q.ln() + t).exp()
    }
}

fn window(mean: f64, sd: f64, max: f64) -> (i64, i64) {
    let lo = (mean - 10.0 * sd - 5.0).floor().max(0.0);
    let hi = (mean + 10.0 * sd + 10.0).ceil().min(max);
    (lo as i64, hi as i64)
}

fn assert_fit(label: &str, (stat, df, p): (f64, usize, f64)) {
    println!("{label}: chi2 = {stat:.2}, df = {df}, p = {p:.4}");
    assert!(p >= 1e-3, "{label}: chi2 = {stat}, df = {df}, p = {p}");
}

#[test]
fn binomial_draws_fit_the_mass_on_both_paths() {
    // (n, probs, draws): n·min(p, q) < 10 is inversion, ≥ 10 BTRS; p > 1/2 goes through
    // the symmetry n − Binomial(n, 1 − p).
    let grid: &[(f64, f64, usize)] = &[
        (20.0, 0.3, 200_000),       // inversion, np = 6
        (1e6, 5e-6, 200_000),       // inversion at n = 1e6, np = 5
        (1e6, 1e-5, 200_000),       // np = 10: the switch, BTRS
        (1e6, 0.01, 200_000),       // BTRS
        (1e6, 0.5, 200_000),        // BTRS, sd 500
        (1e6, 0.999, 200_000),      // symmetry + BTRS, n q = 1000
        (1e6, 1.0 - 4e-6, 200_000), // symmetry + inversion, n q = 4
        (100.0, 1e-3, 400_000),     // p near 0
        (100.0, 0.999, 400_000),    // p near 1
        (25.0, 0.45, 200_000),      // BTRS at its smallest n·p (11.25)
        (1.0, 0.5, 100_000),        // one trial
    ];
    for (i, &(n, p, draws)) in grid.iter().enumerate() {
        let d = Binomial::new(&t64(n), &t64(p)).unwrap();
        let x = host(
            &d.sample(&[draws], &mut Generator::new(100 + i as u64))
                .unwrap(),
        );
        let (lo, hi) = window(n * p, (n * p * (1.0 - p)).sqrt(), n);
        assert_fit(
            &format!("Binomial({n}, {p})"),
            gof(&x, lo, hi, binom_pmf(n, p)),
        );
    }
}

#[test]
fn binomial_from_logits_and_in_f32_fit_the_mass() {
    let l: f64 = 4.0;
    let p = 1.0 / (1.0 + (-l).exp());
    let d = Binomial::from_logits(&t64(50.0), &t64(l)).unwrap();
    let x = host(&d.sample(&[200_000], &mut Generator::new(7)).unwrap());
    let (lo, hi) = window(50.0 * p, (50.0 * p * (1.0 - p)).sqrt(), 50.0);
    assert_fit(
        "Binomial(50, logits 4)",
        gof(&x, lo, hi, binom_pmf(50.0, p)),
    );

    let d = Binomial::from_scalars(1000.0, 0.25, DType::F32, &CPU).unwrap();
    let s = d.sample(&[200_000], &mut Generator::new(8)).unwrap();
    assert_eq!(s.dtype(), DType::F32);
    let x = host(&s);
    let p = 0.25f32 as f64;
    let (lo, hi) = window(1000.0 * p, (1000.0 * p * (1.0 - p)).sqrt(), 1000.0);
    assert_fit(
        "Binomial(1000, 0.25) f32",
        gof(&x, lo, hi, binom_pmf(1000.0, p)),
    );
}

#[test]
fn binomial_point_masses_are_exact() {
    let d = Binomial::new(
        &Tensor::new(&[0.0f64, 7.0, 7.0], &CPU).unwrap(),
        &Tensor::new(&[0.3f64, 0.0, 1.0], &CPU).unwrap(),
    )
    .unwrap();
    let x = host(&d.sample(&[1000], &mut Generator::new(1)).unwrap());
    for row in x.chunks(3) {
        assert_eq!(row, &[0.0, 0.0, 7.0]);
    }
}

#[test]
fn poisson_draws_fit_the_mass_across_rates() {
    let grid: &[(f64, usize)] = &[
        (1e-4, 1_000_000), // about 100 ones
        (3.0, 200_000),
        (9.999, 200_000), // inversion just below the switch
        (10.0, 200_000),  // PTRS at the switch
        (37.5, 200_000),
        (1e5, 200_000),
    ];
    for (i, &(lam, draws)) in grid.iter().enumerate() {
        let d = Poisson::new(&t64(lam)).unwrap();
        let x = host(
            &d.sample(&[draws], &mut Generator::new(200 + i as u64))
                .unwrap(),
        );
        if lam == 1e-4 {
            let ones = x.iter().filter(|&&v| v == 1.0).count();
            assert!(ones > 50, "rate 1e-4: only {ones} ones in 1e6 draws");
        }
        let (lo, hi) = window(lam, lam.sqrt(), f64::INFINITY);
        assert_fit(&format!("Poisson({lam})"), gof(&x, lo, hi, pois_pmf(lam)));
    }
}

#[test]
fn poisson_huge_rates_keep_mean_and_spread() {
    // Beyond what a chi-square test can resolve: the standardized sample mean and
    // the sample variance ratio (4-sigma-like bounds for 20 000 draws).
    for (i, &lam) in [1e15f64, 1e30].iter().enumerate() {
        let d = Poisson::new(&t64(lam)).unwrap();
        let x = host(
            &d.sample(&[20_000], &mut Generator::new(300 + i as u64))
                .unwrap(),
        );
        let n = x.len() as f64;
        let m = x.iter().map(|v| v - lam).sum::<f64>() / n;
        let v = x.iter().map(|v| (v - lam - m).powi(2)).sum::<f64>() / (n - 1.0);
        let z = m / (lam / n).sqrt();
        println!(
            "Poisson({lam:e}): z of mean = {z:.3}, variance / rate = {:.4}",
            v / lam
        );
        assert!(z.abs() < 5.0, "rate {lam}: mean off by {z} standard errors");
        // sd of the variance ratio ≈ sqrt(2/n) = 0.01.
        assert!(
            (v / lam - 1.0).abs() < 0.06,
            "rate {lam}: variance ratio {}",
            v / lam
        );
        assert!(x.iter().all(|v| v.is_finite()));
    }
    // At 1e300 the standard deviation (1e150) is far below the f64 spacing (1e284):
    // the law rounded to f64 is the point λ, up to a spacing or two.
    let x = host(
        &Poisson::new(&t64(1e300))
            .unwrap()
            .sample(&[1000], &mut Generator::new(5))
            .unwrap(),
    );
    assert!(
        x.iter()
            .all(|v| ((v - 1e300) / 1e300).abs() <= 4.0 * f64::EPSILON),
        "{:?}",
        &x[..3]
    );
}

#[test]
fn negative_binomial_draws_fit_the_mass() {
    let grid: &[(f64, f64, usize)] = &[
        (1e-3, 0.5, 1_000_000),
        (0.5, 0.3, 200_000),
        (50.0, 0.7, 200_000),
        (3.0, 0.99, 200_000), // p near 1: mean 297, heavy right tail
        (4.0, 1e-4, 400_000), // p near 0
    ];
    for (i, &(r, p, draws)) in grid.iter().enumerate() {
        let d = NegativeBinomial::new(&t64(r), &t64(p)).unwrap();
        let x = host(
            &d.sample(&[draws], &mut Generator::new(400 + i as u64))
                .unwrap(),
        );
        let mean = r * p / (1.0 - p);
        let sd = (mean / (1.0 - p)).sqrt();
        let hi = (mean + 30.0 * sd + 30.0).ceil() as i64;
        assert_fit(
            &format!("NegativeBinomial({r}, {p})"),
            gof(&x, 0, hi, negbin_pmf(r, p)),
        );
    }
    // From logits, in f32.
    let d = NegativeBinomial::from_logits(
        &Tensor::new(2.0f32, &CPU).unwrap(),
        &Tensor::new(1.5f32, &CPU).unwrap(),
    )
    .unwrap();
    let s = d.sample(&[200_000], &mut Generator::new(9)).unwrap();
    assert_eq!(s.dtype(), DType::F32);
    let p = 1.0 / (1.0 + (-1.5f64).exp());
    let mean = 2.0 * p / (1.0 - p);
    let hi = (mean + 30.0 * (mean / (1.0 - p)).sqrt() + 30.0) as i64;
    assert_fit(
        "NegativeBinomial(2, logits 1.5) f32",
        gof(&host(&s), 0, hi, negbin_pmf(2.0, p)),
    );
}

#[test]
fn draws_do_not_depend_on_the_thread_count() {
    let n = Tensor::new(&[5.0f64, 1e6, 40.0], &CPU).unwrap();
    let p = Tensor::new(&[0.3f64, 0.5, 0.9], &CPU).unwrap();
    let r = Tensor::new(&[1e-3f64, 2.0, 1e5], &CPU).unwrap();
    let run = || {
        let mut g = Generator::new(77);
        let b = host(
            &Binomial::new(&n, &p)
                .unwrap()
                .sample(&[30_000], &mut g)
                .unwrap(),
        );
        let po = host(&Poisson::new(&r).unwrap().sample(&[30_000], &mut g).unwrap());
        let nb = host(
            &NegativeBinomial::new(&r, 0.4)
                .unwrap()
                .sample(&[30_000], &mut g)
                .unwrap(),
        );
        (b, po, nb)
    };
    let one = in_pool(1, run);
    let two = in_pool(2, run);
    let four = in_pool(4, run);
    assert!(
        one == two && two == four,
        "draws differ between thread counts"
    );
}

const HOSTILE: [f64; 10] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    5e-324,
    1e-300,
    -0.5,
    1e308,
    f64::MAX,
    0.5,
];

#[test]
fn samplers_and_log_prob_return_for_hostile_parameters() {
    let k = Tensor::new(&[0.0f64, 1.0, 3.0, 1e300], &CPU).unwrap();
    for &a in &HOSTILE {
        for &b in &HOSTILE {
            let label = format!("({a}, {b})");
            let k = k.clone();
            within_deadline(20, &label, move || {
                let mut g = Generator::new(5);
                let prob = b.clamp(-1.0, 2.0);
                let dists: Vec<Box<dyn Distribution>> = vec![
                    Box::new(Binomial::new_with_validation(&t64(a), &t64(prob), false).unwrap()),
                    Box::new(
                        Binomial::from_logits_with_validation(&t64(a), &t64(b), false).unwrap(),
                    ),
                    Box::new(Poisson::new_with_validation(&t64(a), false).unwrap()),
                    Box::new(
                        NegativeBinomial::new_with_validation(&t64(a), &t64(prob), false).unwrap(),
                    ),
                    Box::new(
                        NegativeBinomial::from_logits_with_validation(&t64(a), &t64(b), false)
                            .unwrap(),
                    ),
                ];
                for d in dists {
                    let x = d.sample(&[64], &mut g).unwrap();
                    assert_eq!(x.dims(), &[64]);
                    let _ = d.log_prob(&k).unwrap();
                    let _ = d.mean().unwrap();
                    let _ = d.variance().unwrap();
                    let _ = d.mode().unwrap();
                    // Entropy (Binomial) is a value or NotImplemented, the cdf (Poisson)
                    // a value: neither may hang (Q(k + 1, λ) near f64::MAX is guarded).
                    let _ = d.entropy();
                    let _ = d.cdf(&k);
                }
            });
        }
    }
}

#[test]
fn valid_hostile_parameters_give_counts_not_nan() {
    // Parameters inside their constraints, at the extremes: every draw is a count (or
    // the +∞ that rounds a count beyond f64), never NaN.
    let mut g = Generator::new(11);
    let cases: Vec<Box<dyn Distribution>> = vec![
        Box::new(Binomial::new(&t64(f64::MAX), &t64(0.5)).unwrap()),
        Box::new(Binomial::new(&t64(1e308), &t64(1e-300)).unwrap()),
        Box::new(Binomial::new(&t64(9007199254740992.0), &t64(0.3)).unwrap()),
        Box::new(Binomial::from_logits(&t64(1e15), &t64(1e300)).unwrap()),
        Box::new(Poisson::new(&t64(f64::MAX)).unwrap()),
        Box::new(Poisson::new(&t64(5e-324)).unwrap()),
        Box::new(NegativeBinomial::new(&t64(1e-300), &t64(0.5)).unwrap()),
        Box::new(NegativeBinomial::new(&t64(1e300), &t64(0.5)).unwrap()),
        Box::new(NegativeBinomial::from_logits(&t64(2.0), &t64(700.0)).unwrap()),
    ];
    for d in cases {
        let x = host(&d.sample(&[256], &mut g).unwrap());
        assert!(
            x.iter()
                .all(|v| !v.is_nan() && *v >= 0.0 && (v.is_infinite() || v.fract() == 0.0)),
            "{d:?}: {:?}",
            &x[..4]
        );
        let lp = host(
            &d.log_prob(&Tensor::new(&[0.0f64, 1.0], &CPU).unwrap())
                .unwrap(),
        );
        assert!(lp.iter().all(|v| !v.is_nan()), "{d:?}: log_prob {lp:?}");
    }
    // n = 2^53 with p = 0.3: the draw stays within a few sd of the mean.
    let d = Binomial::new(&t64(9007199254740992.0), &t64(0.3)).unwrap();
    let x = host(&d.sample(&[1000], &mut g).unwrap());
    let (m, sd) = (
        0.3 * 9007199254740992.0,
        (0.21f64 * 9007199254740992.0).sqrt(),
    );
    assert!(x.iter().all(|v| ((v - m) / sd).abs() < 7.0));
}

#[test]
fn validation_names_family_parameter_constraint_and_value() {
    let expect_param = |r: Result<(), Error>, dist: &str, param: &str, found: f64| match r {
        Err(Error::InvalidParameter {
            distribution,
            parameter,
            found: f,
            ..
        }) => {
            assert_eq!(distribution, dist);
            assert_eq!(parameter, param);
            assert!(
                f == found || (f.is_nan() && found.is_nan()),
                "{f} vs {found}"
            );
        }
        other => panic!("{dist}.{param}: expected InvalidParameter, got {other:?}"),
    };
    expect_param(
        Binomial::new(&t64(2.5), &t64(0.3)).map(|_| ()),
        "Binomial",
        "total_count",
        2.5,
    );
    expect_param(
        Binomial::new(&t64(-1.0), &t64(0.3)).map(|_| ()),
        "Binomial",
        "total_count",
        -1.0,
    );
    expect_param(
        Binomial::new(&t64(3.0), &t64(1.5)).map(|_| ()),
        "Binomial",
        "probs",
        1.5,
    );
    expect_param(
        Binomial::from_logits(&t64(3.0), &t64(f64::NAN)).map(|_| ()),
        "Binomial",
        "logits",
        f64::NAN,
    );
    expect_param(
        Poisson::new(&t64(-0.5)).map(|_| ()),
        "Poisson",
        "rate",
        -0.5,
    );
    expect_param(
        NegativeBinomial::new(&t64(2.0), &t64(1.0)).map(|_| ()),
        "NegativeBinomial",
        "probs",
        1.0,
    );
    expect_param(
        NegativeBinomial::new(&t64(-2.0), &t64(0.5)).map(|_| ()),
        "NegativeBinomial",
        "total_count",
        -2.0,
    );

    let expect_value =
        |r: candle_distributions::Result<Tensor>, dist: &str, found: f64, words: &str| match r {
            Err(Error::OutOfSupport {
                distribution,
                argument,
                constraint,
                found: f,
                ..
            }) => {
                assert_eq!(distribution, dist);
                assert_eq!(argument, "value");
                assert_eq!(f, found);
                assert!(constraint.contains(words), "{constraint}");
            }
            other => panic!("{dist}: expected OutOfSupport, got {other:?}"),
        };
    let b = Binomial::new(&Tensor::new(&[10.0f64, 4.0], &CPU).unwrap(), 0.5).unwrap();
    expect_value(
        b.log_prob(&Tensor::new(&[3.0f64, 5.0], &CPU).unwrap()),
        "Binomial",
        5.0,
        "total_count",
    );
    expect_value(
        b.log_prob(&Tensor::new(&[2.5f64, 1.0], &CPU).unwrap()),
        "Binomial",
        2.5,
        "integer",
    );
    expect_value(b.log_prob(&t64(-1.0)), "Binomial", -1.0, "integer");
    let p = Poisson::new(&t64(2.0)).unwrap();
    expect_value(
        p.log_prob(&t64(0.5)),
        "Poisson",
        0.5,
        "non-negative integer",
    );
    expect_value(p.cdf(&t64(-2.0)), "Poisson", -2.0, "non-negative integer");
    let nb = NegativeBinomial::new(&t64(2.0), &t64(0.5)).unwrap();
    expect_value(
        nb.log_prob(&t64(f64::INFINITY)),
        "NegativeBinomial",
        f64::INFINITY,
        "integer",
    );

    // Validation off: outside the support the log-mass is −∞, not NaN or an error.
    let b = Binomial::new_with_validation(&t64(10.0), &t64(0.5), false).unwrap();
    let lp = host(
        &b.log_prob(&Tensor::new(&[11.0f64, -1.0, 2.5, f64::INFINITY], &CPU).unwrap())
            .unwrap(),
    );
    assert!(lp.iter().all(|&v| v == f64::NEG_INFINITY), "{lp:?}");
    let p = Poisson::new_with_validation(&t64(2.0), false).unwrap();
    let lp = host(
        &p.log_prob(&Tensor::new(&[-1.0f64, 0.5], &CPU).unwrap())
            .unwrap(),
    );
    assert!(lp.iter().all(|&v| v == f64::NEG_INFINITY), "{lp:?}");
    // Integer dtypes are accepted as values.
    let k = Tensor::new(&[0i64, 3, 10], &CPU).unwrap();
    let lp = host(
        &Binomial::new(&t64(10.0), &t64(0.5))
            .unwrap()
            .log_prob(&k)
            .unwrap(),
    );
    assert!((lp[2] - 10.0 * 0.5f64.ln()).abs() < 1e-14);
}

#[test]
fn rsample_is_not_implemented_and_has_rsample_is_false() {
    let mut g = Generator::new(0);
    let ds: Vec<Box<dyn Distribution>> = vec![
        Box::new(Binomial::new(3.0, 0.5).unwrap()),
        Box::new(Poisson::new(3.0).unwrap()),
        Box::new(NegativeBinomial::new(3.0, 0.5).unwrap()),
    ];
    for d in ds {
        assert!(!d.has_rsample());
        match d.rsample(&[2], &mut g) {
            Err(Error::NotImplemented { method, reason, .. }) => {
                assert_eq!(method, "rsample");
                assert!(reason.unwrap().contains("score-function"));
            }
            other => panic!("{}: {other:?}", d.name()),
        }
    }
    match Poisson::new(3.0).unwrap().entropy() {
        Err(Error::NotImplemented {
            method: "entropy", ..
        }) => {}
        other => panic!("Poisson entropy: {other:?}"),
    }
}

#[test]
fn enumerate_support_and_expand_follow_torch() {
    let d = Binomial::new(
        &Tensor::new(&[3.0f64, 3.0], &CPU).unwrap(),
        &Tensor::new(&[0.2f64, 0.7], &CPU).unwrap(),
    )
    .unwrap();
    let s = d.enumerate_support(true).unwrap();
    assert_eq!(s.dims(), &[4, 2]);
    assert_eq!(host(&s), vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
    assert_eq!(d.enumerate_support(false).unwrap().dims(), &[4, 1]);
    // The masses over the support sum to 1.
    let total: f64 = host(&d.log_prob(&s).unwrap().exp().unwrap().sum(0).unwrap())
        .iter()
        .sum();
    assert!((total - 2.0).abs() < 1e-14);
    let mixed = Binomial::new(&Tensor::new(&[3.0f64, 4.0], &CPU).unwrap(), 0.5).unwrap();
    assert!(matches!(
        mixed.enumerate_support(true),
        Err(Error::NotImplemented { .. })
    ));

    let e = d.expand(&[5, 2]).unwrap();
    assert_eq!(e.batch_shape(), &[5, 2]);
    assert_eq!(
        e.sample(&[3], &mut Generator::new(1)).unwrap().dims(),
        &[3, 5, 2]
    );
    assert!(d.expand(&[3]).is_err());
    let e = NegativeBinomial::from_logits(&t64(2.0), &Tensor::new(&[0.1f64, 0.2], &CPU).unwrap())
        .unwrap()
        .expand(&[4, 2])
        .unwrap();
    assert_eq!(e.mean().unwrap().dims(), &[4, 2]);
    let e = Poisson::new(&t64(2.0)).unwrap().expand(&[3]).unwrap();
    assert_eq!(host(&e.mean().unwrap()), vec![2.0; 3]);
}

#[test]
fn binomial_entropy_gradients_match_central_differences() {
    // dH/dp and dH/dl against central differences of the entropy itself (f64).
    for &(n, p) in &[(10.0, 0.3), (200.0, 0.05), (1000.0, 0.6)] {
        let v = Var::new(p, &CPU).unwrap();
        let d = Binomial::new(&t64(n), v.as_tensor()).unwrap();
        let h = d.entropy().unwrap();
        let g = h.backward().unwrap();
        let got = g.get(&v).unwrap().to_scalar::<f64>().unwrap();
        let e = |p: f64| {
            Binomial::new(&t64(n), &t64(p))
                .unwrap()
                .entropy()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        let s = 1e-6;
        let fd = (e(p + s) - e(p - s)) / (2.0 * s);
        assert!(
            (got - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "n {n} p {p}: {got} vs {fd}"
        );

        let l = (p / (1.0 - p)).ln();
        let v = Var::new(l, &CPU).unwrap();
        let d = Binomial::from_logits(&t64(n), v.as_tensor()).unwrap();
        let got = d
            .entropy()
            .unwrap()
            .backward()
            .unwrap()
            .get(&v)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        let e = |l: f64| {
            Binomial::from_logits(&t64(n), &t64(l))
                .unwrap()
                .entropy()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        let fd = (e(l + s) - e(l - s)) / (2.0 * s);
        assert!(
            (got - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "n {n} l {l}: {got} vs {fd}"
        );
    }
    // Where the sum would be impossibly long the entropy says so.
    match Binomial::new(&t64(1e15), &t64(0.5)).unwrap().entropy() {
        Err(Error::NotImplemented {
            method: "entropy",
            reason,
            ..
        }) => {
            assert!(reason.unwrap().contains("terms"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn binomial_with_per_element_counts_has_an_integer_support_with_tensor_bounds() {
    use candle_distributions::Constraint;
    let dev = Device::Cpu;
    let n = Tensor::new(&[3.0f64, 5.0], &dev).unwrap();
    let d = Binomial::new(&n, 0.5).unwrap();
    let s = d.support();
    assert!(
        matches!(s, Constraint::DependentIntegerInterval { .. }),
        "{s}"
    );
    assert!(s.is_discrete());
    let ok = Tensor::new(&[3.0f64, 5.0], &dev).unwrap();
    assert_eq!(s.check(&ok).unwrap(), None);
    let above = Tensor::new(&[4.0f64, 5.0], &dev).unwrap();
    assert_eq!(s.check(&above).unwrap(), Some((0, 4.0)));
    let fraction = Tensor::new(&[1.0f64, 2.5], &dev).unwrap();
    assert_eq!(s.check(&fraction).unwrap(), Some((1, 2.5)));
    // One shared count keeps the plain integer interval.
    let one = Binomial::new(&Tensor::new(&[4.0f64, 4.0], &dev).unwrap(), 0.5).unwrap();
    assert!(matches!(one.support(), Constraint::IntegerInterval(0, 4)));
}

/// From logits beyond ±745, σ(±l) underflows in f64: the log-masses must come from
/// ln p = −softplus(−l) and ln q = −softplus(l), not from p and q.
#[test]
fn count_log_masses_survive_underflowing_sigmoids_of_the_logits() {
    let dev = Device::Cpu;
    let r = Var::new(&[1e-3f64], &dev).unwrap();
    let l = Var::new(&[1e8f64], &dev).unwrap();
    let d = NegativeBinomial::from_logits(r.as_tensor(), l.as_tensor()).unwrap();
    let lp = d.log_prob(&Tensor::new(&[0.0f64], &dev).unwrap()).unwrap();
    // ln P(0) = r ln q = −r·softplus(l) = −1e5; ∂/∂r = ln q = −1e8; ∂/∂l = −r·σ(l) = −1e-3.
    assert!((host(&lp)[0] + 1e5).abs() < 1e-9, "{:?}", host(&lp));
    let g = lp.sum_all().unwrap().backward().unwrap();
    let gr = host(g.get(&r).unwrap())[0];
    let gl = host(g.get(&l).unwrap())[0];
    assert!(
        (gr + 1e8).abs() < 1e-6 && (gl + 1e-3).abs() < 1e-15,
        "{gr} {gl}"
    );
    // k = 2 at l = −1000 (p = e^{−1000} underflows): ln C(r + 1, 2)·… = ln[Γ(r+2)/(Γ(r) 2!)] + 2 ln p + r ln q.
    let r0 = 3.0f64;
    let d = NegativeBinomial::from_logits(r0, -1000.0f64).unwrap();
    let lp = host(&d.log_prob(&Tensor::new(&[2.0f64], &dev).unwrap()).unwrap())[0];
    let exact = (r0 * (r0 + 1.0) / 2.0).ln() - 2.0 * 1000.0 - r0 * (-1000f64).exp().ln_1p();
    assert!((lp - exact).abs() < 1e-12 * exact.abs(), "{lp} vs {exact}");
    // Binomial(10, logits = −1000): ln P(3) = ln C(10, 3) − 3000 (ln q = −e^{−1000} ≈ 0).
    let b = Binomial::from_logits(10.0f64, -1000.0f64).unwrap();
    let lp = host(&b.log_prob(&Tensor::new(&[3.0f64], &dev).unwrap()).unwrap())[0];
    let exact = 120f64.ln() - 3000.0;
    assert!((lp - exact).abs() < 1e-12 * exact.abs(), "{lp} vs {exact}");
    // f32 logits 1e8: the saturated draws have a finite log-mass.
    let d = NegativeBinomial::from_logits(0.117f32, 1e8f32).unwrap();
    let x = d.sample(&[5], &mut Generator::new(1)).unwrap();
    let lp = host(&d.log_prob(&x).unwrap());
    assert!(lp.iter().all(|v| v.is_finite()), "{lp:?}");
}
