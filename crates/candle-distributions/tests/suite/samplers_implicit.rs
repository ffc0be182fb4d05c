//! Samplers of the implicit-reparameterization family (Gamma, Chi2, InverseGamma,
//! Beta, Dirichlet, StudentT, FisherSnedecor, VonMises, TruncatedNormal):
//!
//! - one-sample Kolmogorov–Smirnov tests, 20 000 draws, fixed seeds, p ≥ 1e-3, over
//!   parameter grids that include α = 1e-3 and α = 1e4, in f64 and f32. Draws clamped
//!   to the smallest positive float (or the largest float below 1) are atoms of the
//!   law actually sampled; the KS statistic accounts for them with the CDF's left
//!   limit (see `common::ks_stat_with_atoms`);
//! - Beta(1e-2, 1e-2): no exact 0 or 1, mass split 0.5 ± 0.05;
//! - gradients by a second route: the Monte Carlo mean of the pathwise gradients
//!   dx/dθ from `rsample` against the analytic derivative of E[x], within 4 standard
//!   errors;
//! - the same draws with 1 and 2 rayon threads.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::Dirichlet;
use common::{host, scalar_tensor as t};

use crate::common;
use common::{ks_pvalue, ks_stat_with_atoms};

const N: usize = 20_000;
const P_MIN: f64 = 1e-3;

/// Smallest positive normal and largest below-one float of a dtype.
fn bounds(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F32 => (f32::MIN_POSITIVE as f64, 1.0 - f32::EPSILON as f64 / 2.0),
        _ => (f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0),
    }
}

/// (x, F(x−), F(x)) per draw: a draw at the smallest positive float carries the mass
/// below it (F(x−) = 0), one at the largest float below 1 (with `unit_clamp`) the mass
/// above it (F = 1).
fn with_atoms(xs: &[f64], fs: &[f64], dtype: DType, unit_clamp: bool) -> Vec<(f64, f64, f64)> {
    let (tiny, one_below) = bounds(dtype);
    xs.iter()
        .zip(fs)
        .map(|(&x, &f)| {
            if x == tiny {
                (x, 0.0, f)
            } else if unit_clamp && x == one_below {
                (x, f, 1.0)
            } else {
                (x, f, f)
            }
        })
        .collect()
}

/// KS test of `n` draws of `d` against its own cdf (checked against mpmath by the
/// conformance tests), with draws at the clamp values treated as atoms.
fn ks_check(d: &dyn Distribution, seed: u64, label: &str, unit_clamp: bool) {
    let x = d.sample(&[N], &mut Generator::new(seed)).unwrap();
    let xs = host(&x);
    assert!(xs.iter().all(|v| v.is_finite()), "{label}: non-finite draw");
    let f = host(&d.cdf(&x).unwrap());
    let triples = with_atoms(&xs, &f, d.dtype(), unit_clamp);
    let dstat = ks_stat_with_atoms(triples);
    let p = ks_pvalue(dstat, N);
    assert!(
        p >= P_MIN,
        "{label}: KS D = {dstat:.5}, p = {p:.2e} < {P_MIN}"
    );
}

const DTYPES: [DType; 2] = [DType::F64, DType::F32];

#[test]
fn gamma_ks_over_concentrations_1e_minus_3_to_1e4() {
    let alphas = [1e-3, 1e-2, 0.1, 0.5, 1.0, 2.5, 10.0, 1e2, 1e3, 1e4];
    for dtype in DTYPES {
        for (i, &a) in alphas.iter().enumerate() {
            for (j, &r) in [1.0, 7.5].iter().enumerate() {
                let d = Gamma::new(&t(a, dtype), &t(r, dtype)).unwrap();
                ks_check(
                    &d,
                    100 + 10 * i as u64 + j as u64,
                    &format!("Gamma({a}, {r}) {dtype:?}"),
                    false,
                );
            }
        }
    }
}

#[test]
fn chi2_inverse_gamma_fisher_ks() {
    for dtype in DTYPES {
        for (i, &df) in [0.1, 1.0, 3.0, 50.0].iter().enumerate() {
            let d = Chi2::new(&t(df, dtype)).unwrap();
            ks_check(&d, 200 + i as u64, &format!("Chi2({df}) {dtype:?}"), false);
        }
        for (i, &(a, r)) in [(0.5, 1.0), (3.0, 2.0), (50.0, 0.1)].iter().enumerate() {
            let d = InverseGamma::new(&t(a, dtype), &t(r, dtype)).unwrap();
            ks_check(
                &d,
                210 + i as u64,
                &format!("InverseGamma({a}, {r}) {dtype:?}"),
                false,
            );
        }
        for (i, &(d1, d2)) in [(1.0, 1.0), (4.0, 6.0), (0.5, 30.0), (100.0, 2.0)]
            .iter()
            .enumerate()
        {
            let d = FisherSnedecor::new(&t(d1, dtype), &t(d2, dtype)).unwrap();
            ks_check(
                &d,
                220 + i as u64,
                &format!("FisherSnedecor({d1}, {d2}) {dtype:?}"),
                false,
            );
        }
    }
}

#[test]
fn beta_ks_grid() {
    let grid = [
        (1e-2, 1e-2),
        (1e-2, 1e2),
        (0.1, 0.5),
        (0.5, 0.5),
        (1.0, 1.0),
        (2.5, 7.0),
        (1e2, 1e3),
        (1e3, 1e3),
    ];
    for dtype in DTYPES {
        for (i, &(a, b)) in grid.iter().enumerate() {
            let d = Beta::new(&t(a, dtype), &t(b, dtype)).unwrap();
            ks_check(
                &d,
                300 + i as u64,
                &format!("Beta({a}, {b}) {dtype:?}"),
                true,
            );
        }
    }
}

/// Beta(0.01, 0.01) puts half its mass within 1e-30 of each end: the draws must not be
/// exact 0 or 1 (log-density ±∞, NaN gradients) and must split evenly.
#[test]
fn beta_small_concentrations_no_exact_endpoints() {
    for dtype in DTYPES {
        let a = Var::from_tensor(
            &Tensor::ones(N, dtype, &Device::Cpu)
                .unwrap()
                .affine(0.01, 0.0)
                .unwrap(),
        )
        .unwrap();
        let d = Beta::new(a.as_tensor(), &t(0.01, dtype)).unwrap();
        let x = d.rsample(&[], &mut Generator::new(7)).unwrap();
        let xs = host(&x);
        assert!(
            xs.iter().all(|&v| v > 0.0 && v < 1.0),
            "{dtype:?}: an exact 0 or 1"
        );
        let upper = xs.iter().filter(|&&v| v > 0.5).count() as f64 / N as f64;
        assert!(
            (upper - 0.5).abs() <= 0.05,
            "{dtype:?}: {upper} of the mass above 1/2"
        );
        // Finite log-densities and gradients at every draw.
        let lp = host(&d.log_prob(&x).unwrap());
        assert!(
            lp.iter().all(|v| v.is_finite()),
            "{dtype:?}: non-finite log_prob"
        );
        let g = x.sum_all().unwrap().backward().unwrap();
        let ga = host(g.get(&a).unwrap());
        assert!(
            ga.iter().all(|v| v.is_finite()),
            "{dtype:?}: non-finite dx/da"
        );
    }
}

#[test]
fn dirichlet_marginals_ks_and_simplex() {
    let cases: [&[f64]; 4] = [
        &[0.5, 2.0, 3.0],
        &[1e-2, 1e-2, 1e-2],
        &[1e3, 1.0, 0.1],
        &[2.5; 10],
    ];
    for dtype in DTYPES {
        for (c, alpha) in cases.iter().enumerate() {
            let k = alpha.len();
            let conc = Tensor::new(*alpha, &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let d = Dirichlet::new(&conc).unwrap();
            let x = d.sample(&[N], &mut Generator::new(400 + c as u64)).unwrap();
            assert_eq!(x.dims(), &[N, k]);
            let rows = host(&x);
            let eps = if dtype == DType::F64 { 1e-12 } else { 1e-5 };
            for r in rows.chunks(k) {
                assert!(
                    r.iter().all(|&v| v > 0.0 && v < 1.0),
                    "{alpha:?}: component at 0 or 1"
                );
                let s: f64 = r.iter().sum();
                assert!((s - 1.0).abs() < eps * k as f64, "{alpha:?}: sum {s}");
            }
            let a0: f64 = alpha.iter().sum();
            for i in 0..k.min(3) {
                let xi = x.narrow(1, i, 1).unwrap().squeeze(1).unwrap();
                let m = Beta::new(&t(alpha[i], dtype), &t(a0 - alpha[i], dtype)).unwrap();
                let xs = host(&xi);
                let f = host(&m.cdf(&xi).unwrap());
                let triples = with_atoms(&xs, &f, dtype, true);
                let dstat = ks_stat_with_atoms(triples);
                let p = ks_pvalue(dstat, N);
                assert!(
                    p >= P_MIN,
                    "Dirichlet{alpha:?} {dtype:?} component {i}: D = {dstat:.5}, p = {p:.2e}"
                );
            }
        }
    }
}

#[test]
fn student_t_von_mises_truncated_normal_ks() {
    for dtype in DTYPES {
        for (i, &df) in [0.3, 1.0, 2.5, 30.0, 1e3].iter().enumerate() {
            let d = StudentT::new(&t(df, dtype), &t(-1.5, dtype), &t(2.0, dtype)).unwrap();
            ks_check(
                &d,
                500 + i as u64,
                &format!("StudentT({df}) {dtype:?}"),
                false,
            );
        }
        for (i, &k) in [1e-2, 0.5, 4.0, 100.0, 1e3].iter().enumerate() {
            let d = VonMises::new(&t(0.0, dtype), &t(k, dtype)).unwrap();
            ks_check(
                &d,
                510 + i as u64,
                &format!("VonMises(0, {k}) {dtype:?}"),
                false,
            );
        }
        let windows = [
            (0.0, 1.0, -1.0, 1.0),
            (0.0, 1.0, 8.0, 12.0),
            (1.0, 2.0, -60.0, -59.0),
            (2.0, 0.5, -1e30, 2.5),
            (0.0, 1.0, 0.3, 0.301),
        ];
        for (i, &(loc, scale, lo, hi)) in windows.iter().enumerate() {
            if dtype == DType::F32 && i == 2 {
                continue; // x = 1 + 2·(−59.5) in f32 has spacing 4e-6·|x|: fine, but the
                          // window is 1 wide at −118: keep f64 only for the far tail
            }
            let d = TruncatedNormal::new(
                &t(loc, dtype),
                &t(scale, dtype),
                &t(lo, dtype),
                &t(hi, dtype),
            )
            .unwrap();
            ks_check(
                &d,
                520 + i as u64,
                &format!("TruncatedNormal({loc}, {scale}, [{lo}, {hi}]) {dtype:?}"),
                false,
            );
        }
    }
}

/// VonMises draws wrap into [−π, π) around any loc; compare the angle relative to loc.
#[test]
fn von_mises_with_offset_loc_ks() {
    let loc = 2.5;
    let d = VonMises::from_scalars(loc, 3.0, candle_core::DType::F64, &Device::Cpu).unwrap();
    let x = d.sample(&[N], &mut Generator::new(77)).unwrap();
    let xs = host(&x);
    assert!(xs
        .iter()
        .all(|&v| (-std::f64::consts::PI..std::f64::consts::PI).contains(&v)));
    let pi = std::f64::consts::PI;
    let rel: Vec<f64> = xs
        .iter()
        .map(|&v| {
            let r = (v - loc + pi).rem_euclid(2.0 * pi) - pi;
            loc + r
        })
        .collect();
    let f = host(
        &d.cdf(&Tensor::new(rel.as_slice(), &Device::Cpu).unwrap())
            .unwrap(),
    );
    let dstat = ks_stat_with_atoms(rel.iter().zip(&f).map(|(&x, &f)| (x, f, f)).collect());
    assert!(ks_pvalue(dstat, N) >= P_MIN, "D = {dstat}");
}

/// Monte Carlo mean and standard error of per-draw gradients.
fn mc(g: &[f64]) -> (f64, f64) {
    let n = g.len() as f64;
    let m = g.iter().sum::<f64>() / n;
    let v = g.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

fn vec_var(v: f64, n: usize) -> Var {
    Var::from_tensor(&(Tensor::ones(n, DType::F64, &Device::Cpu).unwrap() * v).unwrap()).unwrap()
}

fn check_mc(label: &str, grads: &[f64], want: f64) {
    assert!(
        grads.iter().all(|g| g.is_finite()),
        "{label}: non-finite gradient"
    );
    let (m, se) = mc(grads);
    assert!(
        (m - want).abs() <= 4.0 * se,
        "{label}: MC mean {m:.6e} ± {se:.2e} vs analytic {want:.6e}"
    );
}

/// d/dα E[X] = 1/β and d/dβ E[X] = −α/β² for X ~ Gamma(α, β), estimated from the
/// pathwise gradients of 20 000 draws.
#[test]
fn gamma_mc_gradient_of_the_mean() {
    for (s, &a) in [1e-2, 0.3, 1.0, 2.5, 100.0, 1e4].iter().enumerate() {
        let r = 1.7;
        let av = vec_var(a, N);
        let rv = vec_var(r, N);
        let d = Gamma::new(av.as_tensor(), rv.as_tensor()).unwrap();
        let x = d.rsample(&[], &mut Generator::new(600 + s as u64)).unwrap();
        let g = x.sum_all().unwrap().backward().unwrap();
        check_mc(
            &format!("Gamma({a}) d/dα"),
            &host(g.get(&av).unwrap()),
            1.0 / r,
        );
        check_mc(
            &format!("Gamma({a}) d/dβ"),
            &host(g.get(&rv).unwrap()),
            -a / (r * r),
        );
    }
}

/// d/da E[X] = b/(a+b)², d/db E[X] = −a/(a+b)² for X ~ Beta(a, b).
#[test]
fn beta_mc_gradient_of_the_mean() {
    for (s, &(a, b)) in [(1e-2, 1e-2), (0.5, 2.0), (2.5, 7.0), (100.0, 1e3)]
        .iter()
        .enumerate()
    {
        let av = vec_var(a, N);
        let bv = vec_var(b, N);
        let d = Beta::new(av.as_tensor(), bv.as_tensor()).unwrap();
        let x = d.rsample(&[], &mut Generator::new(700 + s as u64)).unwrap();
        let g = x.sum_all().unwrap().backward().unwrap();
        let ab2 = (a + b) * (a + b);
        check_mc(
            &format!("Beta({a}, {b}) d/da"),
            &host(g.get(&av).unwrap()),
            b / ab2,
        );
        check_mc(
            &format!("Beta({a}, {b}) d/db"),
            &host(g.get(&bv).unwrap()),
            -a / ab2,
        );
    }
}

/// d E[X_0]/dα_j = (δ_0j α₀ − α_0)/α₀² for X ~ Dirichlet(α), per draw through a batch
/// of identical rows.
#[test]
fn dirichlet_mc_gradient_of_the_mean() {
    for (s, alpha) in [[0.5, 2.0, 3.0], [1e-2, 0.1, 1.0], [30.0, 5.0, 60.0]]
        .iter()
        .enumerate()
    {
        let rows: Vec<f64> = (0..N).flat_map(|_| alpha.iter().copied()).collect();
        let av = Var::from_tensor(&Tensor::from_vec(rows, (N, 3), &Device::Cpu).unwrap()).unwrap();
        let d = Dirichlet::new(av.as_tensor()).unwrap();
        let x = d.rsample(&[], &mut Generator::new(800 + s as u64)).unwrap();
        let g = x
            .narrow(1, 0, 1)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let ga = host(g.get(&av).unwrap());
        let a0: f64 = alpha.iter().sum();
        for j in 0..3 {
            let gj: Vec<f64> = ga.chunks(3).map(|r| r[j]).collect();
            let want = (if j == 0 { a0 } else { 0.0 } - alpha[0]) / (a0 * a0);
            check_mc(&format!("Dirichlet{alpha:?} dE[x0]/dα{j}"), &gj, want);
        }
    }
}

/// d/dν E[X²] = −2/(ν − 2)² for a standard Student t with ν > 2 (a check of the df
/// gradient, which flows through the implicit Gamma gradient).
#[test]
fn student_t_mc_gradient_of_second_moment() {
    for (s, &df) in [6.0, 12.0, 40.0].iter().enumerate() {
        let dv = vec_var(df, N);
        let d = StudentT::new(
            dv.as_tensor(),
            &Tensor::new(0.0f64, &Device::Cpu).unwrap(),
            &Tensor::new(1.0f64, &Device::Cpu).unwrap(),
        )
        .unwrap();
        let x = d.rsample(&[], &mut Generator::new(900 + s as u64)).unwrap();
        let g = x.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        check_mc(
            &format!("StudentT({df}) dE[x²]/dν"),
            &host(g.get(&dv).unwrap()),
            -2.0 / ((df - 2.0) * (df - 2.0)),
        );
    }
}

/// d/dκ E[cos θ] = A'(κ) = 1 − A/κ − A² with A = I₁(κ)/I₀(κ) (VonMises: torch has no
/// rsample; ours differentiates implicitly).
#[test]
fn von_mises_mc_gradient_of_mean_cosine() {
    use candle_distributions::special::bessel::bessel_ratio;
    for (s, &k) in [0.05, 1.0, 4.0, 50.0, 1e3].iter().enumerate() {
        let kv = vec_var(k, N);
        let d = VonMises::new(&Tensor::new(0.3f64, &Device::Cpu).unwrap(), kv.as_tensor()).unwrap();
        let x = d
            .rsample(&[], &mut Generator::new(1000 + s as u64))
            .unwrap();
        let g = (x - 0.3)
            .unwrap()
            .cos()
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let a = bessel_ratio(k);
        check_mc(
            &format!("VonMises({k}) dE[cos]/dκ"),
            &host(g.get(&kv).unwrap()),
            1.0 - a / k - a * a,
        );
    }
}

/// The gradient of the closed-form TruncatedNormal mean (autograd through `mean()`)
/// against the Monte Carlo mean of pathwise gradients of `rsample`, for all four
/// parameters.
#[test]
fn truncated_normal_mc_gradient_of_the_mean() {
    for (s, &(loc, scale, lo, hi)) in [
        (0.0, 1.0, -1.0, 2.0),
        (0.5, 2.0, 3.0, 9.0),
        (0.0, 1.0, 6.0, 7.0),
    ]
    .iter()
    .enumerate()
    {
        let vars: Vec<Var> = [loc, scale, lo, hi]
            .iter()
            .map(|&v| vec_var(v, N))
            .collect();
        let d = TruncatedNormal::new(
            vars[0].as_tensor(),
            vars[1].as_tensor(),
            vars[2].as_tensor(),
            vars[3].as_tensor(),
        )
        .unwrap();
        let x = d
            .rsample(&[], &mut Generator::new(1100 + s as u64))
            .unwrap();
        let g = x.sum_all().unwrap().backward().unwrap();
        let one: Vec<Var> = [loc, scale, lo, hi]
            .iter()
            .map(|&v| Var::new(v, &Device::Cpu).unwrap())
            .collect();
        let d1 = TruncatedNormal::new(
            one[0].as_tensor(),
            one[1].as_tensor(),
            one[2].as_tensor(),
            one[3].as_tensor(),
        )
        .unwrap();
        let gm = d1.mean().unwrap().backward().unwrap();
        for (i, name) in ["loc", "scale", "low", "high"].iter().enumerate() {
            let want = gm.get(&one[i]).unwrap().to_scalar::<f64>().unwrap();
            check_mc(
                &format!("TruncatedNormal{:?} d mean/d {name}", (loc, scale, lo, hi)),
                &host(g.get(&vars[i]).unwrap()),
                want,
            );
        }
    }
}

/// Per-element streams: the same seed gives the same draws with 1 and 2 threads.
#[test]
fn implicit_samplers_are_thread_count_independent() {
    let draw = |threads: usize| -> Vec<Vec<f64>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let n = 100_000;
            let mut g = Generator::new(99);
            let gamma =
                Gamma::from_scalars(0.7, 1.0, candle_core::DType::F64, &Device::Cpu).unwrap();
            let beta = Beta::from_scalars(0.3, 2.0, candle_core::DType::F64, &Device::Cpu).unwrap();
            let dir =
                Dirichlet::new(&Tensor::new(&[0.2f64, 1.0, 5.0], &Device::Cpu).unwrap()).unwrap();
            let vm =
                VonMises::from_scalars(0.0, 2.0, candle_core::DType::F64, &Device::Cpu).unwrap();
            vec![
                host(&gamma.sample(&[n], &mut g).unwrap()),
                host(&beta.sample(&[n], &mut g).unwrap()),
                host(&dir.sample(&[n / 3], &mut g).unwrap()),
                host(&vm.sample(&[n], &mut g).unwrap()),
            ]
        })
    };
    let one = draw(1);
    let two = draw(2);
    for (a, b) in one.iter().zip(&two) {
        assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
