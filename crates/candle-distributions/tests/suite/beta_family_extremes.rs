//! Beta, Kumaraswamy and Dirichlet at extreme but valid parameters: every result finite
//! (or the correct ±∞), cdf in [0, 1] and monotone, gradients not NaN. Reference values
//! are from mpmath (50 digits) / scipy.special.betainc, or closed-form limits.

// Reference values keep mpmath's printed digits.
#![allow(clippy::excessive_precision)]

use crate::common;
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

/// Beta(f64::MAX, f64::MAX) and Beta(1e300, 1e300): the log density at the mode and
/// the entropy were −∞ − (−∞) = NaN (the terms (a − 1) ln x overflow with one sign and
/// ln B(a, b) with the other). References: mpmath at 700 digits,
/// (2a − 2) ln ½ − ln B(a, a) and ln B − 2(a − 1)ψ(a) + (2a − 2)ψ(2a).
#[test]
fn beta_log_prob_and_entropy_near_f64_max() {
    let d = Beta::from_scalars(f64::MAX, f64::MAX, DType::F64, &Device::Cpu).unwrap();
    let lp = vec(&d.log_prob(&t(&[0.5])).unwrap())[0];
    close(lp, 355.012_138_684_327_24, 1e-13, "log p(½)");
    let h = vec(&d.entropy().unwrap())[0];
    close(h, -354.512_138_684_327_24, 1e-13, "entropy");
    // Away from the mode: (a − 1) ln(0.3·0.7) − ln B, finite (mpmath); 0 at the ends.
    let lp = vec(&d.log_prob(&t(&[0.3, 0.0, 1.0])).unwrap());
    close(lp[0], -3.134_338_871_101_586_8e307, 1e-13, "log p(0.3)");
    assert!(lp[1..].iter().all(|v| *v == f64::NEG_INFINITY), "{lp:?}");
    let d = Beta::from_scalars(1e300, 1e300, DType::F64, &Device::Cpu).unwrap();
    close(
        vec(&d.entropy().unwrap())[0],
        -345.008_546_186_742_1,
        1e-13,
        "entropy(1e300, 1e300)",
    );
}

/// ∂ log p/∂a at a = b = 5e-324, x = ½: ln ½ + ψ(2a) − ψ(a) ≈ 1/(2a) = 1.012e323
/// (mpmath), beyond f64::MAX: +∞; ψ(2a) − ψ(a) was −∞ − (−∞) = NaN. At a = b = 1e-300
/// the same difference is finite: 1/(2a) + ln ½ + O(1e-300) = 5e299.
#[test]
fn beta_log_prob_gradient_at_subnormal_concentrations() {
    let tiny = f64::from_bits(1);
    let a = Var::new(&[tiny], &Device::Cpu).unwrap();
    let b = Var::new(&[tiny], &Device::Cpu).unwrap();
    let d = Beta::new(a.as_tensor(), b.as_tensor()).unwrap();
    let g = d
        .log_prob(&t(&[0.5]))
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for v in [&a, &b] {
        assert_eq!(vec(g.get(v).unwrap())[0], f64::INFINITY);
    }
    let a = Var::new(&[1e-300], &Device::Cpu).unwrap();
    let d = Beta::new(a.as_tensor(), &t(&[1e-300])).unwrap();
    let g = d
        .log_prob(&t(&[0.5]))
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    close(vec(g.get(&a).unwrap())[0], 5e299, 1e-15, "∂ log p/∂a");
}

/// I_x(a, b) with b subnormal and a = 1e-8: almost all mass at 1, a tail of order
/// b/a·… everywhere below. The fraction on the complement side returned that tail as
/// 0 at x = 1 − ε while the direct side kept 2.2e-300 at x = ½ (cdf decreasing).
/// Reference: mpmath.betainc (regularized, 50 digits).
#[test]
fn beta_cdf_with_one_subnormal_concentration_is_monotone() {
    let a = 9.999_999_939_225_29e-9; // 1e-8 as f32
    let b = f64::MIN_POSITIVE;
    let d = Beta::from_scalars(a, b, DType::F64, &Device::Cpu).unwrap();
    let xs = [0.5, 0.999, 1.0 - f64::EPSILON / 2.0];
    let want = [
        2.225_073_872_030_023e-300,
        2.225_074_025_710_418e-300,
        2.225_074_689_450_969e-300,
    ];
    let f = vec(&d.cdf(&t(&xs)).unwrap());
    for ((x, got), want) in xs.iter().zip(&f).zip(want) {
        close(*got, want, 1e-9, &format!("I_{x}"));
    }
    assert!(f.windows(2).all(|w| w[0] <= w[1]), "{f:?}");
}

/// Dirichlet entropy with a concentration near f64::MAX beside moderate ones: ln B(α)
/// was ∞ − ∞ (ln Γ(α₀) and ln Γ(α₁) overflow) and (α₁ − 1)(ψ(α₀) − ψ(α₁)) ≈ α₂ + α₃
/// was lost to α₀ rounding to α₁. Reference: mpmath at 700 digits.
#[test]
fn dirichlet_entropy_with_dominant_concentration() {
    for (a1, want) in [
        (f64::MAX, -1_416.474_505_101_887_5),
        (1e300, -1_378.460_135_111_546_9),
    ] {
        let d = Dirichlet::new(&t(&[a1, 1.5, 2.5])).unwrap();
        close(vec(&d.entropy().unwrap())[0], want, 1e-12, "entropy");
    }
    // With a subnormal third entry: the entropy is −∞ (−1/α₃ dominates), not NaN.
    let d = Dirichlet::new(&t(&[f64::MAX, 2.5, f64::from_bits(1)])).unwrap();
    assert_eq!(vec(&d.entropy().unwrap())[0], f64::NEG_INFINITY);
    let x = t(&[
        1.0 - f64::EPSILON / 2.0,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE,
    ]);
    let lp = vec(&d.log_prob(&x).unwrap())[0];
    assert!(lp.is_finite(), "log_prob = {lp}");
}

/// ∂ Σ log p/∂α with α = [5e-324, 2.2e-308]: α₀ is subnormal too and the summed
/// ψ-gradients overflow with opposite signs (5ψ(α₀) ≈ −2.2e308 against −5ψ(α₂)): NaN,
/// at fixed values and through `rsample` draws alike. The true values at x = [½, ½]
/// (5 rows): 5(ln ½ − ψ(α_k) + ψ(α₀)) = 1.01e324 (beyond f64::MAX: +∞) and
/// 4.9896e292 (mpmath). The draws sit at the clamp bounds [tiny, 1 − ε/2], where the
/// pathwise part is 0, so the same values come back from them.
#[test]
fn dirichlet_log_prob_gradient_with_subnormal_concentrations() {
    let alpha = Var::new(&[f64::from_bits(1), f64::MIN_POSITIVE], &Device::Cpu).unwrap();
    let d = Dirichlet::new(alpha.as_tensor()).unwrap();
    let fixed = t(&[0.5, 0.5]).unsqueeze(0).unwrap().repeat((5, 1)).unwrap();
    let drawn = d.rsample(&[5], &mut Generator::new(3)).unwrap();
    for x in [fixed, drawn] {
        let g = d
            .log_prob(&x)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g = vec(g.get(&alpha).unwrap());
        assert_eq!(g[0], f64::INFINITY, "{g:?}");
        close(g[1], 4.989_600_773_836_798e292, 1e-12, "∂/∂α₂");
    }
}

/// Concentrations summing past f64::MAX (two near f64::MAX): ln B(α) < −f64::MAX and
/// log_prob and entropy were −∞ − (−∞) = NaN. References: mpmath at 700 digits, the
/// value projected onto the simplex ([½ − ½e-300, 1e-300, ½ − ½e-300]). An empty batch
/// is no panic.
#[test]
fn dirichlet_with_overflowing_total() {
    let d = Dirichlet::new(&t(&[f64::MAX, 2.5, f64::MAX])).unwrap();
    close(
        vec(&d.entropy().unwrap())[0],
        -1_063.258_050_848_766_1,
        1e-12,
        "entropy",
    );
    let lp = vec(&d.log_prob(&t(&[0.5, 1e-300, 0.5])).unwrap())[0];
    close(lp, -359_537_532.218_648_97, 1e-12, "log_prob");
    let d = Dirichlet::new(&t(&[f64::MAX, 0.5, 1e300])).unwrap();
    close(
        vec(&d.entropy().unwrap())[0],
        -1_072.668_113_388_449_2,
        1e-12,
        "entropy",
    );
    let empty = Tensor::zeros((0, 3), DType::F64, &Device::Cpu).unwrap();
    let d = Dirichlet::new(&empty).unwrap();
    assert_eq!(d.entropy().unwrap().dims(), &[0]);
    let x = Tensor::zeros((2, 0, 3), DType::F64, &Device::Cpu).unwrap();
    assert_eq!(d.log_prob(&x).unwrap().dims(), &[2, 0]);
}

/// A value on a face of the simplex where one coordinate's term is a pole (α₁ < 1) and
/// another's a zero (α₃ > 1): (α₁ − 1) ln 0 + (α₃ − 1) ln 0 was ∞ − ∞. The density has
/// no limit there; the diagonal one (zero coordinates shrinking together) is taken:
/// exponent Σ(α_k − 1) = 5 − 1e-40 > 0, so −∞.
#[test]
fn dirichlet_log_prob_on_a_face_with_pole_and_zero() {
    let d = Dirichlet::new(&t(&[1e-40, f64::MAX, 7.0])).unwrap();
    let lp = vec(&d.log_prob(&t(&[0.0, 1.0, 0.0])).unwrap())[0];
    assert_eq!(lp, f64::NEG_INFINITY);
}

/// As above with the exponent 1e-40 − 1 + (2 − 1) = 1e-40 > 0, which a left-to-right
/// sum rounds to 0: still −∞.
#[test]
fn dirichlet_log_prob_on_a_face_with_balanced_pole_and_zero() {
    let d = Dirichlet::new(&t(&[1e-40, 2.0, f64::MAX])).unwrap();
    let lp = vec(&d.log_prob(&t(&[0.0, 0.0, 1.0])).unwrap())[0];
    assert_eq!(lp, f64::NEG_INFINITY);
}

/// A face where the pole and the zero balance exactly ((0.5 − 1) + (1.5 − 1) = 0): the
/// diagonal limit is finite, the density of the remaining coordinate with the face's
/// terms dropped, here −ln B(0.5, 1.5, 1e300) (the last term (1e300 − 1) ln 1 = 0).
/// Reference: mpmath, −(ln Γ(½) + ln Γ(1.5) + ln Γ(1e300) − ln Γ(1e300 + 2)).
#[test]
fn dirichlet_log_prob_on_a_balanced_face() {
    let d = Dirichlet::new(&t(&[0.5, 1.5, 1e300])).unwrap();
    let lp = vec(&d.log_prob(&t(&[0.0, 0.0, 1.0])).unwrap())[0];
    close(lp, 1_381.099_473_091_138, 1e-12, "log p");
}

/// The entropy gradient ∂H/∂α_k = (α₀ − K)ψ'(α₀) − (α_k − 1)ψ'(α_k) of rows whose
/// entropy comes from the Stirling form (some α ≥ 1e6, or α₀ past f64::MAX): it was
/// zero there. Reference: mpmath at 60 digits.
#[test]
fn dirichlet_entropy_gradient_with_huge_concentrations() -> Result<(), Box<dyn std::error::Error>> {
    let cases: [([f64; 3], [f64; 3]); 2] = [
        (
            [1e7, 2e7, 3.5],
            [
                -3.333_332_175_925_99e-8,
                -5.833_332_425_926_005e-8,
                0.174_105_526_416_087_75,
            ],
        ),
        ([1e308, 1e308, 2.0], [0.0, 0.0, 0.355_065_933_151_773_56]),
    ];
    for (alpha, want) in cases {
        let a = candle_core::Var::new(&alpha, &candle_core::Device::Cpu)?;
        let d = candle_distributions::Dirichlet::new(&a)?;
        let g = d.entropy()?.backward()?;
        let got = g.get(a.as_tensor()).unwrap().to_vec1::<f64>()?;
        for (x, w) in got.iter().zip(want) {
            assert!(
                (x - w).abs() <= 1e-9 * w.abs() + 1e-300,
                "{alpha:?}: {got:?}, want {want:?}"
            );
        }
    }
    Ok(())
}
