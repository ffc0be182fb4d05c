//! Beta, Kumaraswamy and Dirichlet at extreme but valid parameters: every result finite
//! (or the correct ±∞), cdf in [0, 1] and monotone, gradients not NaN. Reference values
//! are from mpmath (50 digits) / scipy.special.betainc, or closed-form limits.

mod common;
use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::special::beta::{beta_implicit_grad, betainc_pair};
use candle_distributions::{Beta, Dirichlet, Distribution, Generator, Kumaraswamy};
use common::host as vec;

fn t(v: &[f64]) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: got {got:e}, want {want:e} (rel {rel:e})"
    );
}

/// I_x(a, b) where a parameter is ≥ 1e9 (the continued fraction returned NaN there):
/// the Gamma limit and the logistic-normal form against scipy.special.betainc.
#[test]
fn betainc_large_parameters_match_scipy() {
    let cases = [
        (0.117, 1e10, 1e-10, 0.9713496385160683, 1e-12),
        (2.5, 1e12, 3e-12, 0.693781081588035, 1e-12),
        (1e10, 0.5, 1.0 - 1e-10, 0.1572991898720231, 1e-9),
        (1e3, 1e10, 1.1e-7, 0.9989406889104789, 1e-12),
        (1e5, 1e10, 1.00003e-5, 0.5054666042341998, 1e-8),
        (1e9, 3e9, 0.25001, 0.9279355356526827, 1e-9),
        (1e12, 1e12, 0.5000003, 0.8019280453660973, 1e-9),
    ];
    for (a, b, x, want, rel) in cases {
        let (i, c) = betainc_pair(a, b, x, 1.0 - x);
        close(i, want, rel, &format!("I_{x}({a}, {b})"));
        assert!((i + c - 1.0).abs() <= 1e-15, "I + (1 − I) = {}", i + c);
    }
    // Through the distribution: finite, in [0, 1] and monotone up to f64::MAX.
    let xs = t(&[1e-300, 1e-20, 1e-10, 0.1, 0.5, 0.9, 1.0 - 1e-10]);
    for (a, b) in [
        (0.117, 1e300),
        (30.0, f64::MAX),
        (1e300, 1e300),
        (f64::MAX, f64::MAX),
    ] {
        let d = Beta::from_scalars(a, b, DType::F64, &Device::Cpu).unwrap();
        let f = vec(&d.cdf(&xs).unwrap());
        for w in f.windows(2) {
            assert!(
                w[0] >= 0.0 && w[1] <= 1.0 && w[0] <= w[1],
                "Beta({a}, {b}).cdf = {f:?}"
            );
        }
    }
}

/// Implicit gradients in the Gamma-limit region against mpmath: −(∂I/∂θ)/p(x) with
/// the partials by central differences of mpmath.betainc at 40 digits.
#[test]
fn beta_implicit_grad_large_parameter_matches_mpmath() {
    let (ga, gb) = beta_implicit_grad(0.117, 1e10, 1e-10);
    close(ga, 5.91592124285e-10, 1e-9, "dx/da");
    close(gb, -9.99999999994e-21, 1e-9, "dx/db");
    let (ga, gb) = beta_implicit_grad(2.5, 1e12, 3e-12);
    close(ga, 1.16926200673e-12, 1e-9, "dx/da");
    close(gb, -2.99999999999e-24, 1e-9, "dx/db");
}

/// cdf stayed above 1 / below 0 by ~1e-14 where b was tiny (the side evaluated holds
/// all the mass), and was non-monotone for a → 0 and for a, b → 0.
#[test]
fn beta_cdf_in_unit_interval_and_monotone_for_tiny_parameters() {
    let xs = t(&[
        1e-300,
        1e-10,
        0.1,
        0.25,
        0.5,
        0.9,
        0.9999,
        1.0 - 1.1102230246251565e-16,
    ]);
    for (a, b) in [
        (30.0, 1.1754943508222875e-38),
        (0.117, 1.1754943508222875e-38),
        (1e-300, 0.117),
        (1e-40, 1e-300),
    ] {
        let d = Beta::from_scalars(a, b, DType::F64, &Device::Cpu).unwrap();
        let f = vec(&d.cdf(&xs).unwrap());
        for w in f.windows(2) {
            assert!(
                w[0] >= 0.0 && w[1] <= 1.0 && w[0] <= w[1],
                "Beta({a}, {b}).cdf = {f:?}"
            );
        }
    }
    // a, b → 0: point masses b/(a + b) at 0 and a/(a + b) at 1.
    let d = Beta::from_scalars(1e-40, 1e-300, DType::F64, &Device::Cpu).unwrap();
    for v in vec(&d.cdf(&t(&[0.5, 1.0 - 1e-10])).unwrap()) {
        close(v, 1e-260, 1e-12, "Beta(1e-40, 1e-300).cdf");
    }
}

/// Moments by closed forms: variance 1/4 for a = b → 0 (it was 0/0), 0 where a·b
/// overflows (∞/∞), mean 1/2 for a = b = f64::MAX (a + b overflows).
#[test]
fn beta_moments_at_extremes() {
    let d = Beta::new(
        &t(&[1e-300, 30.0, f64::MAX, 0.117]),
        &t(&[1e-300, f64::MAX, f64::MAX, f64::MAX]),
    )
    .unwrap();
    let v = vec(&d.variance().unwrap());
    close(v[0], 0.25, 1e-15, "variance(1e-300, 1e-300)");
    assert_eq!(&v[1..], &[0.0, 0.0, 0.0], "variance underflows to 0");
    let s = vec(&d.stddev().unwrap());
    assert!(s.iter().all(|x| x.is_finite()), "stddev {s:?}");
    let m = vec(&d.mean().unwrap());
    close(m[0], 0.5, 1e-15, "mean");
    close(m[2], 0.5, 1e-15, "mean(MAX, MAX)");
    close(m[3], 0.117 / f64::MAX, 1e-6, "mean(0.117, MAX)"); // subnormal result
}

/// Entropy of Beta(0.117, f64::MAX) was ∞ − ∞. mpmath (400 digits): −715.47690542142211. The
/// regrouped form loses the term (b − 1)(ψ(a + b) − ψ(b)) ≈ a once b·ε > a (documented).
#[test]
fn beta_entropy_huge_concentration0() {
    let d = Beta::from_scalars(0.117, f64::MAX, DType::F64, &Device::Cpu).unwrap();
    let h = d.entropy().unwrap().to_scalar::<f64>().unwrap();
    assert!(
        (h - -715.476_905_421_422_1).abs() <= 0.117 + 1e-9,
        "H = {h}"
    );
}

/// rsample gradients were NaN for Beta(1e300, 1e-8) (continued fraction out of range)
/// and for two tiny concentrations (draws pinned at a clamp bound).
#[test]
fn beta_rsample_gradients_finite_at_extremes() {
    for (a0, b0) in [
        (1e300, 1e-8),
        (1e-8, 5e-324),
        (1e-8, 1e300),
        (5e-324, 5e-324),
    ] {
        let a = Var::new(&[a0, a0][..], &Device::Cpu).unwrap();
        let b = Var::new(&[b0, b0][..], &Device::Cpu).unwrap();
        let d = Beta::new(a.as_tensor(), b.as_tensor()).unwrap();
        let x = d.rsample(&[3], &mut Generator::new(7)).unwrap();
        let g = x.sum_all().unwrap().backward().unwrap();
        for v in [a.as_tensor(), b.as_tensor()] {
            let gv = vec(g.get(v).unwrap());
            assert!(
                gv.iter().all(|x| !x.is_nan()),
                "Beta({a0}, {b0}) grad {gv:?}"
            );
        }
    }
}

/// Kumaraswamy(5e-324, 5e-324): a·ln x underflows to 0, ln(1 − x^a) was −∞ and the
/// log-density +∞ in the interior. mpmath at 60 digits.
#[test]
fn kumaraswamy_log_prob_tiny_concentrations() {
    let a = Var::new(&[5e-324f64][..], &Device::Cpu).unwrap();
    let d = Kumaraswamy::new_with_validation(a.as_tensor(), 5e-324, false).unwrap();
    let lp = d.log_prob(&t(&[0.5, 0.9])).unwrap();
    let v = vec(&lp);
    close(v[0], -743.380_411_820_239_7, 1e-14, "log_prob(0.5)");
    close(v[1], -742.084_344_078_411, 1e-14, "log_prob(0.9)");
    let g = lp.sum_all().unwrap().backward().unwrap();
    let ga = vec(g.get(a.as_tensor()).unwrap());
    assert!(ga.iter().all(|x| !x.is_nan()), "d log_prob/da = {ga:?}");
}

/// Variance b·B(1 + 2/a, b) − mean² cancelled to −2e-16 for a = f32::MAX (stddev NaN).
#[test]
fn kumaraswamy_variance_not_negative() {
    let a = Tensor::new(&[30.0f32, 3.402_823_5e38][..], &Device::Cpu).unwrap();
    let d = Kumaraswamy::new(&a, &Tensor::new(0.117f32, &Device::Cpu).unwrap()).unwrap();
    let v = vec(&d.variance().unwrap());
    assert!(v.iter().all(|x| *x >= 0.0), "variance {v:?}");
    assert!(vec(&d.stddev().unwrap()).iter().all(|x| x.is_finite()));
}

/// rsample gradients were 0·∞ = NaN where the quantile leaves (0, 1) and is clamped.
#[test]
fn kumaraswamy_rsample_gradients_finite_at_extremes() {
    let a = Var::new(&[1e-300f64, 1e8, 2.0][..], &Device::Cpu).unwrap();
    let b = Var::new(&[f64::MAX, 2.2250738585072014e-308, 3.0][..], &Device::Cpu).unwrap();
    let d = Kumaraswamy::new(a.as_tensor(), b.as_tensor()).unwrap();
    let x = d.rsample(&[4], &mut Generator::new(3)).unwrap();
    let g = x.sum_all().unwrap().backward().unwrap();
    for v in [a.as_tensor(), b.as_tensor()] {
        let gv = vec(g.get(v).unwrap());
        assert!(gv.iter().all(|x| x.is_finite()), "grad {gv:?}");
    }
    // The ordinary element keeps a non-zero pathwise gradient.
    let ga = vec(g.get(a.as_tensor()).unwrap());
    assert!(ga[2] != 0.0);
}

/// Dirichlet pathwise gradients were NaN for (1e-40, 1e8): α₀ − α_i rounded to 0, an
/// invalid second Beta parameter for the marginal.
#[test]
fn dirichlet_rsample_gradients_finite_with_disparate_concentrations() {
    for row in [[1e-40, 1e8], [5e-324, 1e8]] {
        let c = Var::new(&row[..], &Device::Cpu).unwrap();
        let d = Dirichlet::new(c.as_tensor()).unwrap();
        let x = d.rsample(&[5], &mut Generator::new(3)).unwrap();
        let g = x
            .broadcast_mul(&t(&[1.0, 2.0]))
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let gv = vec(g.get(c.as_tensor()).unwrap());
        assert!(gv.iter().all(|x| x.is_finite()), "{row:?}: grad {gv:?}");
    }
}

/// Rows with ln G ~ 700 summed to 1 + 5e-14 (normalized by exp(l − log-sum-exp)).
#[test]
fn dirichlet_draws_on_simplex_near_f64_max() {
    let d = Dirichlet::new(&t(&[f64::MAX, 5e-324, f64::MAX])).unwrap();
    let x = d.sample(&[64], &mut Generator::new(7)).unwrap();
    for row in x.to_vec2::<f64>().unwrap() {
        let s: f64 = row.iter().sum();
        assert!(
            (s - 1.0).abs() <= 4.0 * f64::EPSILON,
            "row {row:?} sums to {s}"
        );
    }
}

/// K = 1 (the simplex is the point {1}): entropy, variance and stddev were NaN for
/// tiny α (0/0, ∞ − ∞ of ψ(5e-324) = −∞), log_prob NaN for α = f64::MAX (ln Γ = ∞) and
/// its gradient NaN for α = 5e-324. The point mass has entropy 0 and variance 0, and
/// log-density 0 at 1 whatever α.
#[test]
fn dirichlet_one_category_at_extremes() {
    for a0 in [5e-324, 1e-300, 1.0, f64::MAX] {
        let c = Var::new(&[[a0]], &Device::Cpu).unwrap();
        let d = Dirichlet::new(c.as_tensor()).unwrap();
        assert_eq!(vec(&d.entropy().unwrap()), vec![0.0], "entropy, α = {a0}");
        assert_eq!(vec(&d.variance().unwrap()), vec![0.0], "variance, α = {a0}");
        assert_eq!(vec(&d.stddev().unwrap()), vec![0.0], "stddev, α = {a0}");
        let lp = d
            .log_prob(&Tensor::new(&[[1.0f64]], &Device::Cpu).unwrap())
            .unwrap();
        assert_eq!(vec(&lp), vec![0.0], "log_prob, α = {a0}");
        let g = lp.sum_all().unwrap().backward().unwrap();
        assert_eq!(
            vec(g.get(c.as_tensor()).unwrap()),
            vec![0.0],
            "gradient, α = {a0}"
        );
    }
    // f32 α = 1e-38 with K = 1: α₀² underflowed f32.
    let d = Dirichlet::new(&Tensor::new(&[1.175_494_4e-38f32], &Device::Cpu).unwrap()).unwrap();
    assert_eq!(vec(&d.variance().unwrap()), vec![0.0]);
}

/// ln B(a, b) for both parameters ≥ 10 used ln(s/(a·b)), and a·b overflows above
/// ~1e154: ln B(1e300, 1e300) was −∞ and ln B(1e300, MAX) NaN. References: mpmath at
/// 60 digits (400 for ln B(30, MAX), where ln Γ(MAX) ≈ 1.3e311 cancels).
#[test]
fn lbeta_of_huge_parameters_does_not_overflow() {
    use candle_distributions::special::gamma::lbeta;
    let cases = [
        (1e300, 1e300, -1.386_294_361_119_890_6e300),
        (30.0, f64::MAX, -21_222.224_347_834_35),
        (1e300, f64::MAX, -2.000_718_499_795_163_4e301),
        (1e160, 1e170, -2.402_585_092_999_046e161),
    ];
    for (a, b, want) in cases {
        let got = lbeta(a, b);
        assert!(
            (got - want).abs() <= 1e-12 * want.abs(),
            "lbeta({a:e}, {b:e}) = {got:e}, want {want:e}"
        );
    }
}
