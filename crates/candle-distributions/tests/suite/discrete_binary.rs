//! Bernoulli, Geometric, LogitRelaxedBernoulli and RelaxedBernoulli: goodness of fit of
//! the samplers (chi-square for the discrete pair, Kolmogorov–Smirnov for the relaxed
//! pair against their closed-form cdfs), the exactness of the fused Bernoulli sampler
//! below the resolution of its 32-bit words, thread-count independence, stability at
//! extreme parameters, validation errors, shapes, and pathwise gradients of the relaxed
//! draws against central finite differences.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::Error;

use crate::common;
use common::{
    assert_param_error, assert_support_error, chi_square, host, ks_pvalue, ks_stat,
    ks_stat_with_atoms, scalar_tensor,
};

const DTYPES: [DType; 2] = [DType::F64, DType::F32];

fn vec_tensor(v: &[f64], dtype: DType) -> Tensor {
    Tensor::new(v, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

// ---------------------------------------------------------------------------------
// Goodness of fit
// ---------------------------------------------------------------------------------

/// Chi-square of the count of ones against Binomial(n, p): two cells.
fn bernoulli_gof(d: &Bernoulli, p: f64, n: usize, seed: u64) -> f64 {
    let x = host(&d.sample(&[n], &mut Generator::new(seed)).unwrap());
    assert!(x.iter().all(|&v| v == 0.0 || v == 1.0));
    let ones = x.iter().sum::<f64>();
    let nf = n as f64;
    let (stat, df, pv) = chi_square(&[nf - ones, ones], &[nf * (1.0 - p), nf * p]);
    assert_eq!(df, 1);
    println!("Bernoulli p = {p:e}: {ones} ones of {n}, chi2 = {stat:.3}, p-value {pv:.3}");
    pv
}

#[test]
fn bernoulli_chi_square_over_probs_and_logits() {
    // 1e-4 with 2e6 draws: 200 expected ones.
    let grid = [
        (1e-4, 2_000_000),
        (0.5, 200_000),
        (0.999, 2_000_000),
        (0.03, 200_000),
    ];
    for dtype in DTYPES {
        for (i, &(p, n)) in grid.iter().enumerate() {
            // Distinct seeds per dtype and parameterization: independent experiments.
            let seed = 11 + i as u64 + if dtype == DType::F32 { 1000 } else { 0 };
            let pt = scalar_tensor(p, dtype);
            let lt = scalar_tensor((p / (1.0 - p)).ln(), dtype);
            // The rate the dtype's parameter encodes.
            let p_probs = host(&pt)[0];
            let p_logits = sigmoid(host(&lt)[0]);
            let a = bernoulli_gof(&Bernoulli::new(&pt).unwrap(), p_probs, n, seed);
            let b = bernoulli_gof(
                &Bernoulli::from_logits(&lt).unwrap(),
                p_logits,
                n,
                seed + 50,
            );
            assert!(
                a >= 1e-3 && b >= 1e-3,
                "{dtype:?} p = {p}: p-values {a:e} {b:e}"
            );
        }
    }
}

/// Small probabilities keep their rate: p = 1e-6 from logits (f32, the vectorized path)
/// over 2e7 draws expects 20 ones; the count must be a plausible Poisson(20) draw
/// (two-sided tail ≥ 1e-3: 6..=38).
#[test]
fn bernoulli_small_probability_rate() {
    for dtype in DTYPES {
        let l = scalar_tensor((1e-6f64 / (1.0 - 1e-6)).ln(), dtype);
        let d = Bernoulli::from_logits(&l).unwrap();
        let x = host(&d.sample(&[20_000_000], &mut Generator::new(5)).unwrap());
        let ones = x.iter().sum::<f64>();
        println!("{dtype:?}: {ones} ones, 20 expected");
        assert!((6.0..=38.0).contains(&ones), "{dtype:?}: {ones} ones");
        // And the complement from logit +13.8: as many zeros.
        let d = Bernoulli::from_logits(&l.neg().unwrap()).unwrap();
        let x = host(&d.sample(&[20_000_000], &mut Generator::new(6)).unwrap());
        let zeros = x.len() as f64 - x.iter().sum::<f64>();
        assert!((6.0..=38.0).contains(&zeros), "{dtype:?}: {zeros} zeros");
    }
}

/// The decision below the resolution of the 32-bit word: element i reads word i % 4
/// of block i / 4 of sub-stream 1 of its draw (public through `Draw::block`), so a
/// probability of (w_i + f)/2^32 puts every element exactly on its tie, where only the
/// bits below the word decide: the share of ones must be f (a Binomial(n, f) test),
/// and f = 0 / f = 1 must give all zeros / all ones. This is the exactness that keeps
/// p ≈ 1e-12 at its rate.
#[test]
fn bernoulli_refines_below_the_word() {
    let n = 20_000usize;
    let seed = 77;
    let words: Vec<f64> = {
        let d = Generator::new(seed).next_draw();
        (0..n)
            .map(|i| d.block((i / 4) as u64, 1)[i % 4] as f64)
            .collect()
    };
    for f in [0.0, 0.1, 0.5, 1.0] {
        let p: Vec<f64> = words.iter().map(|w| (w + f) / 4_294_967_296.0).collect();
        let d = Bernoulli::new(&vec_tensor(&p, DType::F64)).unwrap();
        let x = host(&d.sample(&[], &mut Generator::new(seed)).unwrap());
        let ones = x.iter().sum::<f64>();
        if f == 0.0 || f == 1.0 {
            assert_eq!(ones, f * n as f64, "f = {f}");
        } else {
            let nf = n as f64;
            let (_, _, pv) = chi_square(&[nf - ones, ones], &[nf * (1.0 - f), nf * f]);
            println!("tie share {f}: {ones} ones of {n}, p-value {pv:.3}");
            assert!(pv >= 1e-3, "f = {f}: {ones} ones of {n}, p-value {pv:e}");
        }
    }
}

/// The same bits with one and with two rayon threads (the fused sampler runs chunks in
/// parallel above 2^15 elements), for probs and logits in both dtypes.
#[test]
fn bernoulli_draws_do_not_depend_on_thread_count() {
    let n = 100_003usize;
    let mut g = Generator::new(3);
    let l = g.standard_normal(&[n], DType::F64, &Device::Cpu).unwrap();
    let p = candle_distributions::special::sigmoid(&l).unwrap();
    for dtype in DTYPES {
        let (l, p) = (l.to_dtype(dtype).unwrap(), p.to_dtype(dtype).unwrap());
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let a = Bernoulli::from_logits(&l)
                    .unwrap()
                    .sample(&[2], &mut Generator::new(9))
                    .unwrap();
                let b = Bernoulli::new(&p)
                    .unwrap()
                    .sample(&[2], &mut Generator::new(9))
                    .unwrap();
                (host(&a), host(&b))
            })
        };
        let one = run(1);
        let two = run(2);
        assert_eq!(one, two, "{dtype:?}");
        // Element i depends on (seed, draw, i) only: a prefix batch gives a prefix.
        let short = Bernoulli::from_logits(&l.narrow(0, 0, 1000).unwrap())
            .unwrap()
            .sample(&[], &mut Generator::new(9))
            .unwrap();
        assert_eq!(host(&short), one.0[..1000].to_vec());
    }
}

/// Geometric counts binned at the quantiles j/20 (edges ⌈ln(1 − j/20)/ln(1 − p)⌉,
/// merged where equal), the last bin open, expected masses (1 − p)^a − (1 − p)^b.
fn geometric_gof(d: &Geometric, p: f64, n: usize, seed: u64) -> f64 {
    let x = host(&d.sample(&[n], &mut Generator::new(seed)).unwrap());
    assert!(x.iter().all(|&k| k >= 0.0 && k.fract() == 0.0));
    let lq = (-p).ln_1p();
    let mut edges: Vec<f64> = vec![0.0];
    for j in 1..20 {
        let e = ((1.0 - j as f64 / 20.0).ln() / lq).ceil();
        if lq == f64::NEG_INFINITY {
            break;
        }
        if e > *edges.last().unwrap() {
            edges.push(e);
        }
    }
    let surv = |k: f64| if k == 0.0 { 1.0 } else { (k * lq).exp() };
    let mut observed = vec![0.0; edges.len()];
    let mut expected = vec![0.0; edges.len()];
    for (b, &a) in edges.iter().enumerate() {
        let next = edges.get(b + 1).copied();
        expected[b] = n as f64 * (surv(a) - next.map_or(0.0, surv));
        observed[b] = x
            .iter()
            .filter(|&&k| k >= a && next.is_none_or(|nb| k < nb))
            .count() as f64;
    }
    let (stat, df, pv) = chi_square(&observed, &expected);
    println!("Geometric p = {p:e}: chi2 = {stat:.2} on {df} df, p-value {pv:.3}");
    pv
}

#[test]
fn geometric_chi_square_over_probs_and_logits() {
    let grid = [0.9, 0.5, 0.3, 1e-2, 1e-4, 1e-7];
    for dtype in DTYPES {
        for (i, &p) in grid.iter().enumerate() {
            let seed = 40 + i as u64 + if dtype == DType::F32 { 1000 } else { 0 };
            let pt = scalar_tensor(p, dtype);
            let lt = scalar_tensor((p / (1.0 - p)).ln(), dtype);
            let a = geometric_gof(&Geometric::new(&pt).unwrap(), host(&pt)[0], 50_000, seed);
            let b = geometric_gof(
                &Geometric::from_logits(&lt).unwrap(),
                sigmoid(host(&lt)[0]),
                50_000,
                seed + 50,
            );
            assert!(a >= 1e-3 && b >= 1e-3, "{dtype:?} p = {p}: {a:e} {b:e}");
        }
    }
}

/// KS of LogitRelaxedBernoulli draws against the logistic cdf σ(τx − l), and of
/// RelaxedBernoulli draws against σ(τ·logit(y) − l), 20 000 draws each.
#[test]
fn relaxed_draws_match_their_cdf() {
    let n = 20_000;
    let grid = [(0.5, -1.0), (2.0, 3.0), (0.1, 0.0), (1.0, 8.0)];
    for dtype in DTYPES {
        for (i, &(tau, l)) in grid.iter().enumerate() {
            let t = scalar_tensor(tau, dtype);
            let lt = scalar_tensor(l, dtype);
            let (tau, l) = (host(&t)[0], host(&lt)[0]);
            let seed = i as u64 + if dtype == DType::F32 { 1000 } else { 0 };
            let d = LogitRelaxedBernoulli::from_logits(&t, &lt).unwrap();
            let x = host(&d.rsample(&[n], &mut Generator::new(100 + seed)).unwrap());
            let f: Vec<(f64, f64)> = x.iter().map(|&x| (x, sigmoid(tau * x - l))).collect();
            let pv = ks_pvalue(ks_stat(f), n);
            assert!(pv >= 1e-3, "{dtype:?} LRB(τ = {tau}, l = {l}): p = {pv:e}");
            let d = RelaxedBernoulli::from_logits(&t, &lt).unwrap();
            let y = host(&d.rsample(&[n], &mut Generator::new(200 + seed)).unwrap());
            assert!(y.iter().all(|&y| y > 0.0 && y < 1.0));
            // The sigmoid clips into [tiny, 1 − ε] of the dtype (torch's
            // SigmoidTransform): the end points carry the mass beyond them as atoms.
            let (lo, hi) = match dtype {
                DType::F32 => (f32::MIN_POSITIVE as f64, 1.0 - f32::EPSILON as f64),
                _ => (f64::MIN_POSITIVE, 1.0 - f64::EPSILON),
            };
            let cdf = |y: f64| sigmoid(tau * (y.ln() - (-y).ln_1p()) - l);
            let f: Vec<(f64, f64, f64)> = y
                .iter()
                .map(|&y| {
                    let (left, at) = if y <= lo {
                        (0.0, cdf(y))
                    } else if y >= hi {
                        (cdf(y), 1.0)
                    } else {
                        (cdf(y), cdf(y))
                    };
                    (y, left, at)
                })
                .collect();
            let pv2 = ks_pvalue(ks_stat_with_atoms(f), n);
            assert!(pv2 >= 1e-3, "{dtype:?} RB(τ = {tau}, l = {l}): p = {pv2:e}");
            println!("τ = {tau}, l = {l} ({dtype:?}): KS p-values {pv:.3} {pv2:.3}");
        }
    }
}

/// Pathwise gradients of the relaxed draws against central differences of the draws
/// themselves (same seed, parameters moved by ±h, in f64).
#[test]
fn relaxed_rsample_gradients_match_finite_differences() {
    let draw = |relaxed: bool, tau: f64, l: f64, seed: u64| -> Tensor {
        let (t, lt) = (scalar_tensor(tau, DType::F64), scalar_tensor(l, DType::F64));
        let mut g = Generator::new(seed);
        if relaxed {
            RelaxedBernoulli::from_logits(&t, &lt)
                .unwrap()
                .rsample(&[64], &mut g)
                .unwrap()
        } else {
            LogitRelaxedBernoulli::from_logits(&t, &lt)
                .unwrap()
                .rsample(&[64], &mut g)
                .unwrap()
        }
    };
    let sum = |t: Tensor| host(&t.sum_all().unwrap())[0];
    for relaxed in [false, true] {
        for &(tau, l) in &[(0.7, 0.3), (2.0, -1.5), (0.3, 2.0)] {
            let tv = Var::new(tau, &Device::Cpu).unwrap();
            let lv = Var::new(l, &Device::Cpu).unwrap();
            let x = if relaxed {
                RelaxedBernoulli::from_logits(&tv, &lv)
                    .unwrap()
                    .rsample(&[64], &mut Generator::new(4))
                    .unwrap()
            } else {
                LogitRelaxedBernoulli::from_logits(&tv, &lv)
                    .unwrap()
                    .rsample(&[64], &mut Generator::new(4))
                    .unwrap()
            };
            let g = x.sum_all().unwrap().backward().unwrap();
            let gt = host(g.get(tv.as_tensor()).unwrap())[0];
            let gl = host(g.get(lv.as_tensor()).unwrap())[0];
            let h = 1e-6;
            let ft =
                (sum(draw(relaxed, tau + h, l, 4)) - sum(draw(relaxed, tau - h, l, 4))) / (2.0 * h);
            let fl =
                (sum(draw(relaxed, tau, l + h, 4)) - sum(draw(relaxed, tau, l - h, 4))) / (2.0 * h);
            for (what, a, b) in [("τ", gt, ft), ("l", gl, fl)] {
                assert!(
                    (a - b).abs() <= 1e-6 * (a.abs() + 1.0),
                    "relaxed={relaxed} τ={tau} l={l} d/d{what}: autograd {a}, fd {b}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Stability
// ---------------------------------------------------------------------------------

#[test]
fn bernoulli_tiny_probs_log_prob_and_gradient() {
    for dtype in DTYPES {
        let p = Var::from_tensor(&scalar_tensor(1e-4, dtype)).unwrap();
        let pe = host(p.as_tensor())[0];
        let d = Bernoulli::new(&p).unwrap();
        let lp = d.log_prob(&scalar_tensor(1.0, dtype)).unwrap();
        let g = lp.backward().unwrap();
        let got = host(&lp)[0];
        let grad = host(g.get(p.as_tensor()).unwrap())[0];
        let eps = if dtype == DType::F32 { 1.2e-7 } else { 2.3e-16 };
        assert!(
            (got - pe.ln()).abs() <= eps * pe.ln().abs(),
            "{dtype:?}: {got}"
        );
        assert!(
            (grad - 1.0 / pe).abs() <= eps * (1.0 / pe),
            "{dtype:?}: {grad}"
        );
    }
}

#[test]
fn bernoulli_extreme_and_infinite_logits() {
    for dtype in DTYPES {
        for (l, want0, want1) in [
            (1e38, -1e38, 0.0),
            (-1e38, 0.0, -1e38),
            (f64::INFINITY, f64::NEG_INFINITY, 0.0),
            (f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY),
        ] {
            let lv = Var::from_tensor(&scalar_tensor(l, dtype)).unwrap();
            let le = host(lv.as_tensor())[0];
            let d = Bernoulli::from_logits(&lv).unwrap();
            let lp = d.log_prob(&vec_tensor(&[0.0, 1.0], dtype)).unwrap();
            let v = host(&lp);
            let scale = if l.is_finite() { le / l } else { 1.0 };
            assert_eq!(v[0], want0 * scale, "{dtype:?} l = {l}: log_prob(0)");
            assert_eq!(v[1], want1 * scale, "{dtype:?} l = {l}: log_prob(1)");
            // Gradients of each finite term are exact and never NaN.
            for (k, want) in [(0usize, -1.0), (1, 1.0)] {
                let one = d.log_prob(&scalar_tensor(k as f64, dtype)).unwrap();
                let g = host(one.backward().unwrap().get(lv.as_tensor()).unwrap())[0];
                assert!(!g.is_nan(), "{dtype:?} l = {l}: NaN gradient");
                // d/dl log σ(±l) = σ(∓l): 0 or ±1 at these logits.
                let s = if (l > 0.0) == (k == 1) { 0.0 } else { want };
                assert_eq!(g, s, "{dtype:?} l = {l}, x = {k}: gradient");
            }
            let h = host(&d.entropy().unwrap())[0];
            assert!(h.is_finite() && h >= 0.0, "{dtype:?} l = {l}: entropy {h}");
        }
        // Draws at ±∞ are the limits.
        let d = Bernoulli::from_logits(&vec_tensor(&[f64::INFINITY, f64::NEG_INFINITY], dtype))
            .unwrap();
        let x = host(&d.sample(&[100], &mut Generator::new(1)).unwrap());
        assert!(x.chunks(2).all(|c| c == [1.0, 0.0]));
    }
}

#[test]
fn bernoulli_probs_zero_and_one_have_finite_gradients() {
    for dtype in DTYPES {
        for (p, x, want_lp, want_g) in [
            (0.0, 0.0, 0.0, -1.0),
            (1.0, 1.0, 0.0, 1.0),
            (0.0, 1.0, f64::NEG_INFINITY, f64::INFINITY),
            (1.0, 0.0, f64::NEG_INFINITY, f64::NEG_INFINITY),
        ] {
            let pv = Var::from_tensor(&scalar_tensor(p, dtype)).unwrap();
            let d = Bernoulli::new(&pv).unwrap();
            let lp = d.log_prob(&scalar_tensor(x, dtype)).unwrap();
            assert_eq!(host(&lp)[0], want_lp, "{dtype:?} p = {p}, x = {x}");
            let g = host(lp.backward().unwrap().get(pv.as_tensor()).unwrap())[0];
            assert_eq!(g, want_g, "{dtype:?} p = {p}, x = {x}: gradient");
            assert_eq!(host(&d.entropy().unwrap())[0], 0.0);
        }
    }
}

#[test]
fn bernoulli_moments_and_mode() {
    for dtype in DTYPES {
        let d = Bernoulli::new(&vec_tensor(&[0.2, 0.5, 0.7, 0.0], dtype)).unwrap();
        let mode = host(&d.mode().unwrap());
        assert_eq!(mode[0], 0.0);
        assert!(mode[1].is_nan(), "torch: NaN at p = 1/2");
        assert_eq!(&mode[2..], &[1.0, 0.0]);
        let var = host(&d.variance().unwrap());
        let p = host(&d.probs().unwrap());
        for (v, p) in var.iter().zip(&p) {
            assert!((v - p * (1.0 - p)).abs() <= 1e-7 * v.max(1e-30));
        }
        assert_eq!(host(&d.mean().unwrap()), p);
    }
}

#[test]
fn geometric_edges() {
    for dtype in DTYPES {
        // p = 1: every draw 0, log_prob(0) = 0 with gradient 1, log_prob(k > 0) = −∞.
        let pv = Var::from_tensor(&scalar_tensor(1.0, dtype)).unwrap();
        let d = Geometric::new(&pv).unwrap();
        assert!(host(&d.sample(&[1000], &mut Generator::new(2)).unwrap())
            .iter()
            .all(|&k| k == 0.0));
        let lp = d.log_prob(&scalar_tensor(0.0, dtype)).unwrap();
        assert_eq!(host(&lp)[0], 0.0);
        let g = host(lp.backward().unwrap().get(pv.as_tensor()).unwrap())[0];
        assert_eq!(g, 1.0);
        let lp = d.log_prob(&scalar_tensor(3.0, dtype)).unwrap();
        assert_eq!(host(&lp)[0], f64::NEG_INFINITY);
        assert_eq!(host(&d.entropy().unwrap())[0], 0.0);
        assert_eq!(host(&d.mean().unwrap())[0], 0.0);
        // Tiny p: huge but finite draws and moments; p = 0 (logits −∞): +∞, never NaN.
        let d = Geometric::new(&scalar_tensor(1e-30, dtype)).unwrap();
        let x = host(&d.sample(&[1000], &mut Generator::new(3)).unwrap());
        assert!(x.iter().all(|&k| k.is_finite() && k >= 0.0));
        let mean = x.iter().sum::<f64>() / 1000.0;
        assert!(mean > 5e29 && mean < 2e30, "mean of draws {mean:e}");
        // (1 − p)/p² = 1e60: finite in f64, beyond f32's range (+∞ there).
        let var = host(&d.variance().unwrap())[0];
        match dtype {
            DType::F64 => assert!((var / 1e60 - 1.0).abs() < 1e-12, "{var:e}"),
            _ => assert_eq!(var, f64::INFINITY),
        }
        let want_mean = if dtype == DType::F64 {
            1e30
        } else {
            host(&scalar_tensor(1e-30, dtype))[0].recip()
        };
        assert!((host(&d.mean().unwrap())[0] / want_mean - 1.0).abs() < 1e-6);
        let d = Geometric::from_logits(&scalar_tensor(f64::NEG_INFINITY, dtype)).unwrap();
        let x = host(&d.sample(&[10], &mut Generator::new(3)).unwrap());
        let max = if dtype == DType::F32 {
            f32::MAX as f64
        } else {
            f64::MAX
        };
        assert!(
            x.iter().all(|&k| k == max),
            "capped at the dtype's largest number"
        );
        let lp = host(&d.log_prob(&vec_tensor(&x, dtype)).unwrap());
        assert!(lp.iter().all(|v| !v.is_nan()));
        for m in [d.mean(), d.variance(), d.entropy()] {
            assert_eq!(host(&m.unwrap())[0], f64::INFINITY);
        }
        assert_eq!(host(&d.mode().unwrap())[0], 0.0);
        // Logits +∞ (p = 1) from the other side.
        let d = Geometric::from_logits(&scalar_tensor(f64::INFINITY, dtype)).unwrap();
        let lp = host(&d.log_prob(&vec_tensor(&[0.0, 2.0], dtype)).unwrap());
        assert_eq!(lp, vec![0.0, f64::NEG_INFINITY]);
    }
}

#[test]
fn relaxed_log_prob_is_finite_far_out() {
    for dtype in DTYPES {
        let d = LogitRelaxedBernoulli::from_logits(0.5, &scalar_tensor(1.0, dtype)).unwrap();
        let lp = host(
            &d.log_prob(&vec_tensor(&[400.0, -400.0, 1e30], dtype))
                .unwrap(),
        );
        // ln τ − |d| − 2 ln(1 + e^{−|d|}) with d = 1 − 0.5x.
        for (got, x) in lp.iter().zip([400.0f64, -400.0, 1e30]) {
            let want = 0.5f64.ln() - (1.0 - 0.5 * x).abs();
            assert!(
                (got - want).abs() <= 1e-6 * want.abs(),
                "{dtype:?} x = {x}: {got}"
            );
        }
        let lp = host(&d.log_prob(&vec_tensor(&[f64::INFINITY], dtype)).unwrap());
        assert_eq!(lp[0], f64::NEG_INFINITY);
        let rb = RelaxedBernoulli::new(0.5, &scalar_tensor(0.3, dtype)).unwrap();
        let lp = host(&rb.log_prob(&vec_tensor(&[0.0, 1.0, 0.5], dtype)).unwrap());
        assert!(lp.iter().all(|v| v.is_finite()), "{dtype:?}: {lp:?}");
    }
}

// ---------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------

#[test]
fn validation_names_family_parameter_and_value() {
    let t = |v: f64| scalar_tensor(v, DType::F64);
    assert_param_error(Bernoulli::new(&t(1.5)), "Bernoulli", "probs");
    assert_param_error(Bernoulli::new(&t(f64::NAN)), "Bernoulli", "probs");
    assert_param_error(Bernoulli::from_logits(&t(f64::NAN)), "Bernoulli", "logits");
    assert_param_error(Geometric::new(&t(0.0)), "Geometric", "probs");
    assert_param_error(Geometric::new(&t(-0.5)), "Geometric", "probs");
    assert_param_error(
        LogitRelaxedBernoulli::new(0.0, &t(0.5)),
        "LogitRelaxedBernoulli",
        "temperature",
    );
    assert_param_error(
        LogitRelaxedBernoulli::new(1.0, &t(2.0)),
        "LogitRelaxedBernoulli",
        "probs",
    );
    assert_param_error(
        RelaxedBernoulli::new(-1.0, &t(0.5)),
        "RelaxedBernoulli",
        "temperature",
    );
    assert_param_error(
        RelaxedBernoulli::from_logits(1.0, &t(f64::NAN)),
        "RelaxedBernoulli",
        "logits",
    );
    let msg = Bernoulli::new(&t(1.5)).unwrap_err().to_string();
    assert!(
        msg.contains("Bernoulli") && msg.contains("probs") && msg.contains("1.5"),
        "{msg}"
    );

    let b = Bernoulli::new(&t(0.3)).unwrap();
    assert_support_error(b.log_prob(&t(0.5)), "Bernoulli");
    assert_support_error(b.log_prob(&t(-1.0)), "Bernoulli");
    let g = Geometric::new(&t(0.3)).unwrap();
    assert_support_error(g.log_prob(&t(1.5)), "Geometric");
    assert_support_error(g.log_prob(&t(-1.0)), "Geometric");
    let rb = RelaxedBernoulli::new(1.0, &t(0.3)).unwrap();
    assert_support_error(rb.log_prob(&t(1.5)), "RelaxedBernoulli");
    let lrb = LogitRelaxedBernoulli::new(1.0, &t(0.3)).unwrap();
    assert_support_error(lrb.log_prob(&t(f64::NAN)), "LogitRelaxedBernoulli");
    // No rsample for the discrete pair, with a reason.
    match b.rsample(&[], &mut Generator::new(0)) {
        Err(Error::NotImplemented {
            reason: Some(r), ..
        }) => assert!(r.contains("score")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        g.rsample(&[], &mut Generator::new(0)),
        Err(Error::NotImplemented { .. })
    ));
    // With validation off the same inputs are accepted (no host reads).
    assert!(Bernoulli::new_with_validation(&t(1.5), false).is_ok());
    let off = Geometric::new_with_validation(&t(0.3), false).unwrap();
    assert!(off.log_prob(&t(1.5)).is_ok());
}

// ---------------------------------------------------------------------------------
// Shapes and dtypes
// ---------------------------------------------------------------------------------

#[test]
fn shapes_dtypes_and_enumerate_support() {
    let dev = Device::Cpu;
    for dtype in DTYPES {
        let p = Tensor::new(&[[0.1f64, 0.2, 0.3], [0.4, 0.5, 0.6]], &dev)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let dists: Vec<Box<dyn Distribution>> = vec![
            Box::new(Bernoulli::new(&p).unwrap()),
            Box::new(Bernoulli::from_logits(&p).unwrap()),
            Box::new(Geometric::new(&p).unwrap()),
            Box::new(LogitRelaxedBernoulli::new(0.5, &p).unwrap()),
            Box::new(RelaxedBernoulli::from_logits(0.5, &p).unwrap()),
        ];
        for d in &dists {
            assert_eq!(d.batch_shape(), &[2, 3], "{}", d.name());
            let x = d.sample(&[4], &mut Generator::new(0)).unwrap();
            assert_eq!(x.dims(), &[4, 2, 3]);
            assert_eq!(x.dtype(), dtype);
            let lp = d.log_prob(&x).unwrap();
            assert_eq!(lp.dims(), &[4, 2, 3]);
            assert!(host(&lp).iter().all(|v| v.is_finite()), "{}", d.name());
            let e = d.expand(&[5, 2, 3]).unwrap();
            assert_eq!(e.batch_shape(), &[5, 2, 3]);
            assert_eq!(
                e.sample(&[], &mut Generator::new(0)).unwrap().dims(),
                &[5, 2, 3]
            );
            assert!(d.expand(&[4]).is_err());
        }
        // Integer values are cast (i64 counts for Geometric, u8 for Bernoulli).
        let g = Geometric::new(&p).unwrap();
        let k = Tensor::new(&[0i64, 1, 2], &dev).unwrap();
        assert_eq!(g.log_prob(&k).unwrap().dims(), &[2, 3]);
        let b = Bernoulli::new(&p).unwrap();
        let v = Tensor::new(&[1u8, 0, 1], &dev).unwrap();
        assert_eq!(b.log_prob(&v).unwrap().dims(), &[2, 3]);
        // enumerate_support: [2, 1, 1] or expanded [2, 2, 3].
        let s = b.enumerate_support(false).unwrap();
        assert_eq!(s.dims(), &[2, 1, 1]);
        assert_eq!(host(&s), vec![0.0, 1.0]);
        let s = b.enumerate_support(true).unwrap();
        assert_eq!(s.dims(), &[2, 2, 3]);
        assert_eq!(s.dtype(), dtype);
        assert_eq!(b.log_prob(&s).unwrap().dims(), &[2, 2, 3]);
        assert!(!b.has_rsample() && !g.has_rsample());
        assert!(dists[3].has_rsample() && dists[4].has_rsample());
        // Accessors.
        let rb = RelaxedBernoulli::new(0.5, &p).unwrap();
        assert_eq!(rb.temperature().dims(), &[2, 3]);
        assert_eq!(host(&rb.probs().unwrap()), host(&p));
        let l = host(&rb.logits().unwrap());
        let pp = host(&p);
        for (l, p) in l.iter().zip(&pp) {
            assert!((sigmoid(*l) - p).abs() < 1e-6);
        }
        // A scalar parameter with a tensor temperature broadcasts to the batch.
        let d = LogitRelaxedBernoulli::new(&vec_tensor(&[0.5, 1.0], dtype), 0.3).unwrap();
        assert_eq!(d.batch_shape(), &[2]);
        assert_eq!(
            Bernoulli::from_scalars(0.3, dtype, &dev).unwrap().dtype(),
            dtype
        );
    }
}
