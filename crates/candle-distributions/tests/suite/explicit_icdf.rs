//! Distributions sampled through an explicit inverse CDF: Kumaraswamy,
//! GeneralizedPareto and ContinuousBernoulli (by `probs` and by `logits`).
//!
//! Every tolerance is derived from the dtype's ε or from the sample size:
//! - round trips allow 16 roundings of q and of the quantile x, the latter amplified
//!   by the CDF's sensitivity p(x)·|x| (all methods compute in f64 and round once);
//! - derivatives are checked against 5-point central differences with step
//!   h = ε^{1/5}·(local scale), whose error is O(ε^{4/5}) ≈ 3e-13 relative, against a
//!   tolerance of √ε ≈ 1.5e-8;
//! - integrals use tanh-sinh (finite support) or a trapezoid rule in ln(x − loc)
//!   (half line), and allow 256ε, twice the difference to the rule of half the
//!   resolution, and the mass within 1024 ulps of an end of the support (where the
//!   float grid cannot resolve a singular density);
//! - the KS tests need an asymptotic p-value ≥ 1e-3 for 20000 draws.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{
    Constraint, ContinuousBernoulli, Distribution, Error, GeneralizedPareto, Generator, Kumaraswamy,
};

type Res<T> = Result<T, Error>;

const CPU: Device = Device::Cpu;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fam {
    Kuma,
    Gpd,
    CbProbs,
    CbLogits,
}

const FAMS: [Fam; 4] = [Fam::Kuma, Fam::Gpd, Fam::CbProbs, Fam::CbLogits];

fn build(fam: Fam, p: &[Tensor], validate: bool) -> Res<Box<dyn Distribution>> {
    Ok(match fam {
        Fam::Kuma => Box::new(Kumaraswamy::new_with_validation(&p[0], &p[1], validate)?),
        Fam::Gpd => Box::new(GeneralizedPareto::new_with_validation(
            &p[0], &p[1], &p[2], validate,
        )?),
        Fam::CbProbs => Box::new(ContinuousBernoulli::new_with_validation(&p[0], validate)?),
        Fam::CbLogits => Box::new(ContinuousBernoulli::from_logits_with_validation(
            &p[0], validate,
        )?),
    })
}

fn tensor(v: &[f64], dtype: DType) -> Tensor {
    Tensor::new(v, &CPU).unwrap().to_dtype(dtype).unwrap()
}

fn scalar_t(v: f64, dtype: DType) -> Tensor {
    Tensor::new(v, &CPU).unwrap().to_dtype(dtype).unwrap()
}

/// A scalar distribution (batch_shape []) of the given dtype.
fn dist(fam: Fam, p: &[f64], dtype: DType, validate: bool) -> Box<dyn Distribution> {
    let ts: Vec<Tensor> = p.iter().map(|v| scalar_t(*v, dtype)).collect();
    build(fam, &ts, validate).unwrap()
}

fn vals(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

fn eps(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f32::EPSILON as f64,
        _ => f64::EPSILON,
    }
}

/// Parameters rounded to the dtype (to build the f64 twin of an f32 distribution).
fn rounded(p: &[f64], dtype: DType) -> Vec<f64> {
    p.iter()
        .map(|&v| {
            if dtype == DType::F32 {
                v as f32 as f64
            } else {
                v
            }
        })
        .collect()
}

/// Parameter grids, extremes included.
fn grid(fam: Fam) -> Vec<Vec<f64>> {
    match fam {
        Fam::Kuma => {
            let mut g = vec![];
            for a in [0.2, 0.5, 1.0, 2.5, 12.0] {
                for b in [0.3, 1.0, 3.0, 25.0] {
                    g.push(vec![a, b]);
                }
            }
            g
        }
        Fam::Gpd => {
            let mut g = vec![];
            for (loc, scale) in [(0.0, 1.0), (1.5, 0.5)] {
                for xi in [-2.0, -1.0, -0.6, -1e-3, -1e-9, 0.0, 1e-9, 1e-3, 0.3, 1.5] {
                    g.push(vec![loc, scale, xi]);
                }
            }
            g.push(vec![-2.0, 4.0, 0.2]);
            g
        }
        Fam::CbProbs => [0.001, 0.2, 0.4999, 0.5, 0.5001, 0.7, 0.999]
            .iter()
            .map(|&p| vec![p])
            .collect(),
        Fam::CbLogits => [
            -40.0, -7.5, -2.0, -1.9999, -0.5, -0.3, 0.0, 1e-9, 0.4999, 0.5, 1.0, 2.0, 3.0, 40.0,
            800.0,
        ]
        .iter()
        .map(|&l| vec![l])
        .collect(),
    }
}

/// Extreme parameters, for the round trip only.
fn extreme_grid(fam: Fam) -> Vec<Vec<f64>> {
    match fam {
        Fam::Kuma => vec![
            vec![0.05, 0.05],
            vec![0.05, 50.0],
            vec![50.0, 0.05],
            vec![50.0, 50.0],
        ],
        Fam::Gpd => vec![
            vec![0.0, 1e-3, -10.0],
            vec![0.0, 1e3, 10.0],
            vec![100.0, 1.0, 0.5],
        ],
        Fam::CbProbs => vec![vec![0.0], vec![1.0], vec![1e-7]],
        Fam::CbLogits => vec![vec![-1e4], vec![1e4], vec![1e300]],
    }
}

/// The support [lo, hi].
fn bounds(fam: Fam, p: &[f64]) -> (f64, f64) {
    match fam {
        Fam::Gpd => {
            let hi = if p[2] < 0.0 {
                p[0] - p[1] / p[2]
            } else {
                f64::INFINITY
            };
            (p[0], hi)
        }
        _ => (0.0, 1.0),
    }
}

/// Methods compute in f64 and round once, so rounding the quantile x to the dtype
/// (relative ε) moves F by about ε·p(x)·|x|.
fn x_scale(x: f64) -> f64 {
    x.abs()
}

/// The natural scale of parameter i for finite differences.
fn param_scale(fam: Fam, p: &[f64], i: usize) -> f64 {
    match (fam, i) {
        (Fam::Kuma, _) => p[i],
        (Fam::Gpd, 0) | (Fam::Gpd, 1) => p[1],
        (Fam::Gpd, _) => p[2].abs().max(0.05),
        (Fam::CbProbs, _) => p[0].min(1.0 - p[0]),
        (Fam::CbLogits, _) => p[0].abs().max(1.0),
    }
}

/// The scale over which `log_prob(x)`/`cdf(x)` change with parameter i at a fixed x:
/// for the generalized Pareto, moving loc, scale or ξ moves z = (x − loc)/σ and the
/// factor 1 + ξz, so the step must stay small against the distance of x to either end.
fn local_scale(fam: Fam, p: &[f64], i: usize, x: f64) -> f64 {
    let s = param_scale(fam, p, i);
    if fam != Fam::Gpd {
        return s;
    }
    let (lo, hi) = bounds(fam, p);
    let z = (x - lo) / p[1];
    let room = 1.0 + p[2] * z; // > 0 inside the support
    match i {
        0 => s.min(x - lo).min(hi - x),
        1 => s.min(p[1] * room / z.abs().max(1e-300)).min(x - lo),
        _ => s.min(room / z.max(1e-300)),
    }
}

/// The scale over which icdf(u) changes with parameter i at a fixed u: e(ξ, w) with
/// w = −ln(1 − u) varies with ξ on the scale 1/w.
fn quantile_scale(fam: Fam, p: &[f64], i: usize, u: f64) -> f64 {
    let s = param_scale(fam, p, i);
    match (fam, i) {
        (Fam::Gpd, 2) => s.min(1.0 / -(-u).ln_1p()),
        _ => s,
    }
}

const STENCIL: [(f64, f64); 4] = [(-2.0, 1.0), (-1.0, -8.0), (1.0, 8.0), (2.0, -1.0)];

/// 5-point central difference of `f` at `x` with step `h`.
fn diff5(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    STENCIL.iter().map(|&(k, c)| c * f(x + k * h)).sum::<f64>() / (12.0 * h)
}

fn step() -> f64 {
    f64::EPSILON.powf(0.2)
}

/// The largest power of two ≤ `h` (and ≥ ulp(x)), so that x ± h and x ± 2h are exact
/// and the stencil really is equally spaced (x close to 1 with h ~ 1e-10 would
/// otherwise carry a relative error of 1e-6 in the step).
fn pow2_step(x: f64, h: f64) -> f64 {
    2f64.powi(h.log2().floor() as i32).max(ulp(x))
}

// ---------------------------------------------------------------------------
// cdf ∘ icdf
// ---------------------------------------------------------------------------

fn roundtrip(fam: Fam, dtype: DType) {
    let e = eps(dtype);
    let qs = [1e-6, 1e-3, 0.1, 0.37, 0.5, 0.9, 0.999, 1.0 - 1e-6];
    for p in grid(fam).into_iter().chain(extreme_grid(fam)) {
        let d = dist(fam, &p, dtype, true);
        let twin = dist(fam, &rounded(&p, dtype), DType::F64, false);
        let q = tensor(&qs, dtype);
        let x = d.icdf(&q).unwrap();
        let back = vals(&d.cdf(&x).unwrap());
        let dens: Vec<f64> = vals(&twin.log_prob(&x.to_dtype(DType::F64).unwrap()).unwrap())
            .iter()
            .map(|l| l.exp())
            .collect();
        let (qv, xv) = (vals(&q), vals(&x));
        for i in 0..qs.len() {
            let tol = 16.0 * e * (qv[i] + dens[i] * x_scale(xv[i]));
            assert!(
                (back[i] - qv[i]).abs() <= tol || tol.is_nan(),
                "{fam:?} {p:?} {dtype:?}: cdf(icdf({})) = {} (x = {}, tol {tol:e})",
                qv[i],
                back[i],
                xv[i]
            );
        }
    }
}

#[test]
fn cdf_of_icdf_is_identity() {
    for fam in FAMS {
        roundtrip(fam, DType::F64);
        roundtrip(fam, DType::F32);
    }
}

// ---------------------------------------------------------------------------
// d cdf / dx = exp(log_prob)
// ---------------------------------------------------------------------------

#[test]
fn cdf_derivative_is_density() {
    let tol = f64::EPSILON.sqrt();
    for fam in FAMS {
        for p in grid(fam) {
            let d = dist(fam, &p, DType::F64, true);
            let (lo, hi) = bounds(fam, &p);
            let xs = vals(
                &d.icdf(&tensor(&[0.02, 0.2, 0.5, 0.8, 0.98], DType::F64))
                    .unwrap(),
            );
            for x in xs {
                let w = (x - lo).min(hi - x);
                let h = pow2_step(x, step() * w);
                let cdf = |y: f64| vals(&d.cdf(&scalar_t(y, DType::F64)).unwrap())[0];
                let fd = diff5(cdf, x, h);
                let dens = vals(&d.log_prob(&scalar_t(x, DType::F64)).unwrap())[0].exp();
                assert!(
                    (fd - dens).abs() <= tol * dens,
                    "{fam:?} {p:?} at x = {x}: dF/dx = {fd}, density {dens}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Quadrature
// ---------------------------------------------------------------------------

/// Nodes and weights: `w` of the rule, `w2` of the rule with twice the step.
struct Rule {
    x: Vec<f64>,
    w: Vec<f64>,
    w2: Vec<f64>,
}

fn sigmoid(y: f64) -> f64 {
    if y >= 0.0 {
        1.0 / (1.0 + (-y).exp())
    } else {
        let e = y.exp();
        e / (1.0 + e)
    }
}

/// Tanh-sinh rule on [lo, hi] (Takahasi and Mori 1974), in the form
/// x = lo + (hi − lo)·σ(π sinh t), with nodes that round to an end left out.
fn tanh_sinh(lo: f64, hi: f64) -> Rule {
    let h = 1.0 / 128.0;
    let n = (6.2 / h) as i64;
    let mut r = Rule {
        x: vec![],
        w: vec![],
        w2: vec![],
    };
    let pi = std::f64::consts::PI;
    for k in -n..=n {
        let t = k as f64 * h;
        let y = pi * t.sinh();
        let x = if t <= 0.0 {
            lo + (hi - lo) * sigmoid(y)
        } else {
            hi - (hi - lo) * sigmoid(-y)
        };
        if x <= lo || x >= hi {
            continue;
        }
        let jac = (hi - lo) * sigmoid(y) * sigmoid(-y) * pi * t.cosh();
        r.x.push(x);
        r.w.push(h * jac);
        r.w2.push(if k % 2 == 0 { 2.0 * h * jac } else { 0.0 });
    }
    r
}

/// Trapezoid rule in s = ln((x − lo)/scale) on [−40, s_max]: the integrand decays
/// exponentially at both ends for densities with power or exponential tails.
fn half_line(lo: f64, scale: f64, s_max: f64) -> Rule {
    let h = 1.0 / 32.0;
    let n = ((s_max + 40.0) / h) as i64;
    let mut r = Rule {
        x: vec![],
        w: vec![],
        w2: vec![],
    };
    for k in 0..=n {
        let s = -40.0 + k as f64 * h;
        let dx = scale * s.exp();
        r.x.push(lo + dx);
        r.w.push(h * dx);
        r.w2.push(if k % 2 == 0 { 2.0 * h * dx } else { 0.0 });
    }
    r
}

/// The rule for a distribution and the moment order k (the tail must decay after
/// multiplying by x^k).
fn rule(fam: Fam, p: &[f64], k: f64) -> Rule {
    let (lo, hi) = bounds(fam, p);
    match fam {
        Fam::Gpd if p[2] >= -0.1 => {
            let xi = p[2];
            let s_max = if xi > 0.0 {
                5.0 + 40.0 / (1.0 / xi - k)
            } else {
                5.0
            };
            half_line(lo, p[1], s_max)
        }
        _ => tanh_sinh(lo, hi),
    }
}

/// ulp of |x| (the gap above it).
fn ulp(x: f64) -> f64 {
    let a = x.abs();
    f64::from_bits(a.to_bits() + 1) - a
}

/// (∫ g(x, ln p(x)) p(x) dx, |difference to the half-resolution rule|, a bound on
/// ∫ |g| p over the zones within 1024 ulps of a finite end of the support).
///
/// The zone bound is mass·(|g| at the zone's edge + 4): for a density ∝ d^{β−1} at
/// distance d from the end, the mean of |ln p| over the zone exceeds its edge value by
/// (1 − β)/β ≤ 4 for β ≥ 1/5 (β = b for Kumaraswamy, −1/ξ for ξ < −1 here).
fn integrate(fam: Fam, p: &[f64], k: f64, g: impl Fn(f64, f64) -> f64) -> (f64, f64, f64) {
    let d = dist(fam, p, DType::F64, false);
    let r = rule(fam, p, k);
    let lp = vals(&d.log_prob(&tensor(&r.x, DType::F64)).unwrap());
    let (mut i1, mut i2) = (0.0, 0.0);
    for (j, &l) in lp.iter().enumerate() {
        let dens = l.exp();
        if dens == 0.0 {
            continue;
        }
        let v = g(r.x[j], l) * dens;
        i1 += r.w[j] * v;
        i2 += r.w2[j] * v;
    }
    let (lo, hi) = bounds(fam, p);
    let cdf = |x: f64| vals(&d.cdf(&scalar_t(x, DType::F64)).unwrap())[0];
    let lp_at = |x: f64| vals(&d.log_prob(&scalar_t(x, DType::F64)).unwrap())[0];
    let edge = lo + 1024.0 * ulp(lo);
    let mut zone = cdf(edge) * (g(edge, lp_at(edge)).abs() + 4.0);
    if hi.is_finite() {
        let edge = hi - 1024.0 * ulp(hi);
        zone += (1.0 - cdf(edge)) * (g(edge, lp_at(edge)).abs() + 4.0);
    }
    (i1, (i1 - i2).abs(), zone)
}

fn quad_cases(fam: Fam) -> Vec<Vec<f64>> {
    grid(fam)
}

#[test]
fn log_prob_integrates_to_one() {
    for fam in FAMS {
        for p in quad_cases(fam) {
            let (i, err, zone) = integrate(fam, &p, 0.0, |_, _| 1.0);
            assert!(
                err < 1e-6,
                "{fam:?} {p:?}: quadrature did not converge ({err:e})"
            );
            let tol = 256.0 * f64::EPSILON + 2.0 * err + 2.0 * zone;
            assert!(
                (i - 1.0).abs() <= tol,
                "{fam:?} {p:?}: ∫p = {i} (tol {tol:e})"
            );
        }
    }
}

#[test]
fn moments_and_entropy_match_quadrature() {
    for fam in FAMS {
        for p in quad_cases(fam) {
            let d = dist(fam, &p, DType::F64, true);
            let (lo, hi) = bounds(fam, &p);
            let xmax = lo.abs().max(if hi.is_finite() { hi.abs() } else { 0.0 });
            let mean = vals(&d.mean().unwrap())[0];
            let var = vals(&d.variance().unwrap())[0];
            let ent = vals(&d.entropy().unwrap())[0];
            let xi = if fam == Fam::Gpd { p[2] } else { 0.0 };
            let check = |name: &str, got: f64, (i, err, zone): (f64, f64, f64), scale: f64| {
                let tol = 256.0 * f64::EPSILON * i.abs().max(scale) + 2.0 * err + 2.0 * zone;
                assert!(
                    (got - i).abs() <= tol,
                    "{fam:?} {p:?}: {name} = {got}, quadrature {i} (tol {tol:e})"
                );
            };
            if xi < 1.0 {
                let m = integrate(fam, &p, 1.0, |x, _| x);
                check("mean", mean, m, xmax.max(mean.abs()).max(1.0));
                if xi < 0.5 {
                    let v = integrate(fam, &p, 2.0, |x, _| (x - m.0).powi(2));
                    check("variance", var, v, (xmax + mean.abs()).powi(2).max(var));
                } else {
                    assert_eq!(var, f64::INFINITY, "{fam:?} {p:?}");
                }
            } else {
                assert_eq!(mean, f64::INFINITY, "{fam:?} {p:?}");
                assert_eq!(var, f64::INFINITY, "{fam:?} {p:?}");
            }
            if fam == Fam::Kuma {
                // The entropy uses digamma, whose values are tested elsewhere.
            }
            let h = integrate(fam, &p, 0.5, |_, lp| -lp);
            check("entropy", ent, h, ent.abs().max(1.0));
        }
    }
}

// ---------------------------------------------------------------------------
// Parameter gradients of log_prob and cdf
// ---------------------------------------------------------------------------

fn param_vars(p: &[f64]) -> Vec<Var> {
    p.iter().map(|v| Var::new(*v, &CPU).unwrap()).collect()
}

#[test]
fn log_prob_and_cdf_gradients_match_differences() {
    let tol = f64::EPSILON.sqrt();
    for fam in FAMS {
        for p in grid(fam) {
            let d0 = dist(fam, &p, DType::F64, true);
            let xs = vals(&d0.icdf(&tensor(&[0.1, 0.5, 0.9], DType::F64)).unwrap());
            let vars = param_vars(&p);
            let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
            let d = build(fam, &ts, true).unwrap();
            for (mname, method) in [("log_prob", 0), ("cdf", 1)] {
                let eval = |d: &dyn Distribution, x: f64| -> Tensor {
                    let x = scalar_t(x, DType::F64);
                    if method == 0 {
                        d.log_prob(&x).unwrap()
                    } else {
                        d.cdf(&x).unwrap()
                    }
                };
                for &x in &xs {
                    let y = eval(d.as_ref(), x);
                    let yv = vals(&y)[0];
                    let grads = y.backward().unwrap();
                    for (i, var) in vars.iter().enumerate() {
                        let g = grads.get(var).map(|t| vals(t)[0]).unwrap_or(0.0);
                        let s = local_scale(fam, &p, i, x);
                        let f = |th: f64| {
                            let mut q = p.clone();
                            q[i] = th;
                            vals(&eval(dist(fam, &q, DType::F64, false).as_ref(), x))[0]
                        };
                        let fd = diff5(f, p[i], step() * s);
                        // Differences lose ε·(size of the terms)/h: the terms of a log
                        // density or a CDF are O(1) even where the result cancels to ~0.
                        let bound = tol * (fd.abs() + yv.abs().max(1.0) / s);
                        assert!(
                            (g - fd).abs() <= bound,
                            "{fam:?} {p:?}: d {mname}({x})/dθ{i} = {g}, differences {fd} (tol {bound:e})"
                        );
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Pathwise gradients of rsample
// ---------------------------------------------------------------------------

#[test]
fn rsample_gradients_match_icdf_differences() {
    let tol = f64::EPSILON.sqrt();
    let reps = 4;
    for fam in FAMS {
        let cases: Vec<Vec<f64>> = grid(fam)
            .into_iter()
            .flat_map(|p| std::iter::repeat_n(p, reps))
            .collect();
        let np = cases[0].len();
        let cols: Vec<Vec<f64>> = (0..np)
            .map(|i| cases.iter().map(|p| p[i]).collect())
            .collect();
        let vars: Vec<Var> = cols
            .iter()
            .map(|c| Var::new(c.as_slice(), &CPU).unwrap())
            .collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let d = build(fam, &ts, true).unwrap();
        let mut rng = Generator::new(7);
        let x = d.rsample(&[], &mut rng).unwrap();
        assert_eq!(x.dims(), &[cases.len()]);
        let grads = x.sum_all().unwrap().backward().unwrap();
        let xv = vals(&x);
        let u = vals(&d.cdf(&x.detach()).unwrap());
        let u_t = tensor(&u, DType::F64);
        for (i, var) in vars.iter().enumerate() {
            let g = vals(grads.get(var).expect("a gradient for every parameter"));
            let hs: Vec<f64> = cases
                .iter()
                .zip(&u)
                .map(|(p, &uj)| step() * quantile_scale(fam, p, i, uj))
                .collect();
            let mut fd = vec![0.0; cases.len()];
            for &(k, c) in &STENCIL {
                let mut shifted = cols.clone();
                for (j, v) in shifted[i].iter_mut().enumerate() {
                    *v += k * hs[j];
                }
                let pts: Vec<Tensor> = shifted.iter().map(|c| tensor(c, DType::F64)).collect();
                let dk = build(fam, &pts, false).unwrap();
                let xk = vals(&dk.icdf(&u_t).unwrap());
                for j in 0..fd.len() {
                    fd[j] += c * xk[j] / (12.0 * hs[j]);
                }
            }
            for j in 0..cases.len() {
                let (lo, hi) = bounds(fam, &cases[j]);
                // Draws clamped into the open support have no pathwise gradient.
                let clamped = match fam {
                    Fam::Kuma => xv[j] <= f64::MIN_POSITIVE || xv[j] >= 1.0 - f64::EPSILON / 2.0,
                    Fam::Gpd => xv[j] >= hi,
                    _ => false,
                };
                if clamped || u[j] <= 0.0 || u[j] >= 1.0 {
                    continue;
                }
                let s = quantile_scale(fam, &cases[j], i, u[j]);
                let xs = xv[j].abs() + lo.abs() + (xv[j] - lo).abs();
                let bound = tol * (fd[j].abs() + xs / s);
                assert!(
                    (g[j] - fd[j]).abs() <= bound,
                    "{fam:?} {:?}: dx/dθ{i} at u = {} is {}, differences {} (tol {bound:e})",
                    cases[j],
                    u[j],
                    g[j],
                    fd[j]
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Kolmogorov–Smirnov
// ---------------------------------------------------------------------------

/// Asymptotic Kolmogorov p-value with Stephens' small-sample correction.
fn ks_pvalue(d: f64, n: usize) -> f64 {
    let sn = (n as f64).sqrt();
    let lam = (sn + 0.12 + 0.11 / sn) * d;
    let mut s = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
        s += sign * (-2.0 * kf * kf * lam * lam).exp();
    }
    (2.0 * s).clamp(0.0, 1.0)
}

/// The rounding cells [lo_i, hi_i] of sorted draws: a draw is the true quantile
/// rounded to the dtype, so P(draw ≤ v) lies between F(lo) and F(hi) of v's cell (the
/// midpoints to the neighbouring floats). Draws clamped into the open support (at the
/// smallest normal float, or the largest float below the upper end) own the cell up
/// to that end. For f64 the cells are ~1e-16 wide and this is the usual KS statistic;
/// in f32 it matters where a distribution piles mass within ulps of an end
/// (Kumaraswamy(12, 0.3) has 1.5% of its mass within one f32 ulp below 1).
fn cells(v: &[f64], dtype: DType, (lo, hi): (f64, f64)) -> (Vec<f64>, Vec<f64>) {
    type Neighbour = fn(f64) -> f64;
    let (tiny, down, up): (f64, Neighbour, Neighbour) = match dtype {
        DType::F32 => (
            f32::MIN_POSITIVE as f64,
            |x| (x as f32).next_down() as f64,
            |x| (x as f32).next_up() as f64,
        ),
        _ => (f64::MIN_POSITIVE, f64::next_down, f64::next_up),
    };
    let lo_c = v
        .iter()
        .map(|&x| {
            if x <= lo + tiny {
                lo
            } else {
                (0.5 * (down(x) + x)).max(lo)
            }
        })
        .collect();
    let hi_c = v
        .iter()
        .map(|&x| if up(x) >= hi { hi } else { 0.5 * (x + up(x)) })
        .collect();
    (lo_c, hi_c)
}

fn ks_cases(fam: Fam) -> Vec<Vec<f64>> {
    match fam {
        Fam::Kuma => vec![
            vec![0.5, 0.5],
            vec![2.0, 5.0],
            vec![12.0, 0.3],
            vec![0.2, 25.0],
        ],
        Fam::Gpd => vec![
            vec![0.0, 1.0, 0.0],
            vec![1.5, 0.5, -0.6],
            vec![-2.0, 4.0, 1.5],
            vec![0.0, 1.0, -2.0],
        ],
        Fam::CbProbs => vec![vec![0.2], vec![0.5], vec![0.999]],
        Fam::CbLogits => vec![vec![-40.0], vec![1e-9], vec![3.0], vec![800.0]],
    }
}

#[test]
fn ks_test_of_draws() {
    let n = 20000;
    let mut seed = 1000;
    for fam in FAMS {
        for p in ks_cases(fam) {
            for dtype in [DType::F64, DType::F32] {
                seed += 1;
                let d = dist(fam, &p, dtype, true);
                let twin = dist(fam, &rounded(&p, dtype), DType::F64, false);
                let mut rng = Generator::new(seed);
                let x = d.sample(&[n], &mut rng).unwrap();
                assert_eq!(x.dims(), &[n]);
                assert_eq!(x.dtype(), dtype);
                let mut v = vals(&x);
                v.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let (lo_cell, hi_cell) = cells(&v, dtype, bounds(fam, &p));
                let f_lo = vals(&twin.cdf(&tensor(&lo_cell, DType::F64)).unwrap());
                let f_hi = vals(&twin.cdf(&tensor(&hi_cell, DType::F64)).unwrap());
                let nf = n as f64;
                let dmax = (0..n)
                    .map(|i| ((i as f64 + 1.0) / nf - f_hi[i]).max(f_lo[i] - i as f64 / nf))
                    .fold(0.0, f64::max);
                let pv = ks_pvalue(dmax, n);
                assert!(
                    pv >= 1e-3,
                    "{fam:?} {p:?} {dtype:?}: KS D = {dmax}, p = {pv:e}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// ContinuousBernoulli: exact values, the series switches, λ = 1/2
// ---------------------------------------------------------------------------

/// (L, [mean, variance, ln C, entropy, cdf(0.3), icdf(0.3)]) from mpmath at 60 digits.
const CB_REFERENCE: [(f64, [f64; 6]); 12] = [
    (
        1e-9,
        [
            0.5000000000833333,
            0.08333333333333333,
            std::f64::consts::LN_2,
            -4.166666666666667e-20,
            0.299999999895,
            0.300000000105,
        ],
    ),
    (
        0.001,
        [
            0.5000833333319444,
            0.08333332916666683,
            0.6931472638932737,
            -4.166666562500003e-08,
            0.2998950070018373,
            0.30010501399772394,
        ],
    ),
    (
        0.3,
        [
            0.5249625801767492,
            0.0829596684125909,
            0.7006080529574378,
            -0.0037415825419354677,
            0.2691779702723419,
            0.33269000483400213,
        ],
    ),
    (
        0.5,
        [
            0.5414940825367983,
            0.08230191096723624,
            0.71368193318735,
            -0.010351990275642405,
            0.2494665275174723,
            0.3556502278752713,
        ],
    ),
    (
        1.0,
        [
            0.5819767068693265,
            0.07932640579220768,
            0.7719368329053047,
            -0.04065185225640831,
            0.20360967670231164,
            0.4157352218436287,
        ],
    ),
    (
        1.5,
        [
            0.6205502501222016,
            0.07473397036587254,
            0.8593608450163708,
            -0.08877294221692074,
            0.16322887369002967,
            0.47677103214872285,
        ],
    ),
    (
        2.0,
        [
            0.6565176427496656,
            0.06898458475842238,
            0.9654886494717768,
            -0.15159592392813567,
            0.12867609669730537,
            0.5352293051503346,
        ],
    ),
    (
        3.0,
        [
            0.7190623631579226,
            0.05597010560905135,
            1.1982688211845534,
            -0.3068685590845791,
            0.07647692160987246,
            0.6353100740209259,
        ],
    ),
    (
        10.0,
        [
            0.9000454019910097,
            0.009954595947649525,
            2.302675892853633,
            -1.303084513864513,
            0.0008665213758016305,
            0.8796133123232988,
        ],
    ),
    (
        -7.5,
        [
            0.13277994289158157,
            0.017224081095045,
            2.0160091893953536,
            -1.019606686233131,
            0.8950958389564468,
            0.04752505811583057,
        ],
    ),
    (
        40.0,
        [
            0.975,
            0.0006249999999999958,
            3.6888794541139363,
            -2.6888794541139367,
            6.91435762339765e-13,
            0.9699006798918516,
        ],
    ),
    (
        800.0,
        [
            0.99875,
            1.5625e-06,
            6.684611727667927,
            -5.684611727667927,
            6.238642998528377e-244,
            0.9984950339945926,
        ],
    ),
];

/// [mean, variance, ln C (= log_prob(x) − x L + softplus(L)), entropy, cdf(0.3),
/// icdf(0.3)] of ContinuousBernoulli(logits = L).
fn cb_values(l: f64, dtype: DType) -> [f64; 6] {
    let d = ContinuousBernoulli::from_logits(&scalar_t(l, dtype)).unwrap();
    let x = scalar_t(0.3, dtype);
    let lp = vals(&d.log_prob(&x).unwrap())[0];
    let lf = vals(d.logits())[0];
    let x64 = vals(&x)[0];
    // log_prob = x L − softplus(L) + ln C
    let sp = lf.max(0.0) + (-lf.abs()).exp().ln_1p();
    [
        vals(&d.mean().unwrap())[0],
        vals(&d.variance().unwrap())[0],
        lp - x64 * lf + sp,
        vals(&d.entropy().unwrap())[0],
        vals(&d.cdf(&x).unwrap())[0],
        vals(&d.icdf(&x).unwrap())[0],
    ]
}

#[test]
fn continuous_bernoulli_matches_reference_values() {
    for (l, want) in CB_REFERENCE {
        let got = cb_values(l, DType::F64);
        for k in 0..6 {
            // ln C is recovered from log_prob: its error is relative to x L + softplus(L).
            let scale = if k == 2 {
                want[k].abs() + l.abs()
            } else {
                want[k].abs()
            };
            // The entropy −m L − ln C + softplus(L) ≈ 1 − ln L cancels from terms ~ ln L.
            let scale = if k == 3 { scale + want[2] } else { scale };
            assert!(
                (got[k] - want[k]).abs() <= 16.0 * f64::EPSILON * scale,
                "L = {l}: value {k} is {}, reference {}",
                got[k],
                want[k]
            );
        }
    }
}

#[test]
fn continuous_bernoulli_is_continuous_across_the_series_switches() {
    for t in [0.5f64, 2.0] {
        for s in [1.0, -1.0] {
            // f64: the last float below the switch (series) and the switch (closed form).
            let below = cb_values(s * t * (1.0 - f64::EPSILON / 2.0), DType::F64);
            let at = cb_values(s * t, DType::F64);
            for k in 0..6 {
                assert!(
                    (below[k] - at[k]).abs() <= 1e-12 * at[k].abs().max(1e-3),
                    "L = {}: value {k} jumps from {} to {}",
                    s * t,
                    below[k],
                    at[k]
                );
            }
            // f32: both sides agree with f64 at the same (f32) logits.
            let e32 = f32::EPSILON as f64;
            for l in [s * t * (1.0 - e32 / 2.0), s * t, s * t * (1.0 + e32)] {
                let l32 = l as f32 as f64;
                let (a, b) = (cb_values(l32, DType::F32), cb_values(l32, DType::F64));
                for k in 0..6 {
                    assert!(
                        (a[k] - b[k]).abs() <= 8.0 * e32 * (1.0 + b[k].abs()),
                        "f32 at L = {l32}: value {k} is {}, f64 {}",
                        a[k],
                        b[k]
                    );
                }
            }
        }
    }
}

#[test]
fn continuous_bernoulli_at_one_half() {
    for dtype in [DType::F64, DType::F32] {
        let e = eps(dtype);
        let d = ContinuousBernoulli::new(&scalar_t(0.5, dtype)).unwrap();
        assert_eq!(vals(d.logits())[0], 0.0);
        assert_eq!(vals(&d.mean().unwrap())[0], 0.5);
        let v = vals(&d.variance().unwrap())[0];
        assert!((v - 1.0 / 12.0).abs() <= e / 12.0);
        assert!(vals(&d.entropy().unwrap())[0].abs() <= e);
        assert!(vals(&d.mode().unwrap())[0].is_nan());
        let xs = tensor(&[0.0, 0.1, 0.3, 0.5, 0.9, 1.0], dtype);
        let xv = vals(&xs);
        let lp = vals(&d.log_prob(&xs).unwrap());
        let f = vals(&d.cdf(&xs).unwrap());
        let g = vals(&d.icdf(&xs).unwrap());
        for i in 0..xv.len() {
            assert!(lp[i].abs() <= 2.0 * e, "log_prob({}) = {}", xv[i], lp[i]);
            assert_eq!(f[i], xv[i]);
            assert_eq!(g[i], xv[i]);
        }
        // Just off 1/2 the values move smoothly (no Taylor cut as in torch).
        for dp in [1e-12, -1e-6] {
            let d = ContinuousBernoulli::new(&scalar_t(0.5 + dp, dtype)).unwrap();
            let l = vals(d.logits())[0];
            let m = vals(&d.mean().unwrap())[0];
            // m ≈ 1/2 + L/12
            assert!(
                (m - 0.5 - l / 12.0).abs() <= 2.0 * e + l * l,
                "p = 1/2 + {dp}: {m}"
            );
        }
    }
}

#[test]
fn continuous_bernoulli_probs_are_clamped() {
    for dtype in [DType::F64, DType::F32] {
        let e = eps(dtype);
        let d = ContinuousBernoulli::new(&tensor(&[0.0, 1.0], dtype)).unwrap();
        let p = vals(d.probs());
        assert_eq!(p, vec![e, 1.0 - e]);
        let l = vals(d.logits());
        assert!(l[0].is_finite() && l[1].is_finite() && l[0] < 0.0 && l[1] > 0.0);
        let lp = vals(&d.log_prob(&tensor(&[0.0, 1.0], dtype)).unwrap());
        assert!(lp.iter().all(|v| v.is_finite()));
        // Infinite logits are clamped to the largest finite value.
        let d =
            ContinuousBernoulli::from_logits(&tensor(&[f64::NEG_INFINITY, f64::INFINITY], dtype))
                .unwrap();
        assert!(vals(d.logits()).iter().all(|v| v.is_finite()));
        let m = vals(&d.mean().unwrap());
        assert!(m[0] >= 0.0 && m[0] <= e && m[1] <= 1.0 && m[1] >= 1.0 - e);
    }
}

// ---------------------------------------------------------------------------
// GeneralizedPareto near ξ = 0, support; Kumaraswamy mode
// ---------------------------------------------------------------------------

#[test]
fn generalized_pareto_is_smooth_through_zero_concentration() {
    let xs = [0.0, 0.3, 1.0, 4.0, 20.0];
    let qs = [0.0, 0.1, 0.5, 0.99];
    let at0 = dist(Fam::Gpd, &[0.5, 2.0, 0.0], DType::F64, true);
    let x_t = tensor(&xs.map(|x| 0.5 + 2.0 * x), DType::F64);
    let q_t = tensor(&qs, DType::F64);
    // Exponential formulas at ξ = 0.
    let lp0 = vals(&at0.log_prob(&x_t).unwrap());
    for (i, z) in xs.iter().enumerate() {
        assert!((lp0[i] - (-(2f64.ln()) - z)).abs() <= 4.0 * f64::EPSILON * (1.0 + z));
    }
    for xi in [1e-15, -1e-15, 1e-10, -1e-10] {
        let d = dist(Fam::Gpd, &[0.5, 2.0, xi], DType::F64, true);
        for (a, b, name) in [
            (vals(&d.log_prob(&x_t).unwrap()), lp0.clone(), "log_prob"),
            (
                vals(&d.cdf(&x_t).unwrap()),
                vals(&at0.cdf(&x_t).unwrap()),
                "cdf",
            ),
            (
                vals(&d.icdf(&q_t).unwrap()),
                vals(&at0.icdf(&q_t).unwrap()),
                "icdf",
            ),
        ] {
            for i in 0..a.len() {
                // First order in ξ: |Δ| ≈ |ξ|·z² (times O(1)).
                let z = 20.0f64;
                let tol = 8.0 * f64::EPSILON * (1.0 + b[i].abs()) + xi.abs() * z * z;
                assert!(
                    (a[i] - b[i]).abs() <= tol,
                    "{name} ξ = {xi}: {} vs {}",
                    a[i],
                    b[i]
                );
            }
        }
    }
}

#[test]
fn generalized_pareto_support() {
    let d = GeneralizedPareto::new(
        &tensor(&[1.0, 1.0], DType::F64),
        &tensor(&[2.0, 2.0], DType::F64),
        &tensor(&[-0.5, 0.5], DType::F64),
    )
    .unwrap();
    match d.support() {
        Constraint::DependentInterval { low, high } => {
            assert_eq!(vals(&low), vec![1.0, 1.0]);
            assert_eq!(vals(&high), vec![5.0, f64::INFINITY]);
        }
        other => panic!("support {other:?}"),
    }
    // Values above the upper end are out of the support (a scalar value broadcasts).
    assert!(matches!(
        d.log_prob(&Tensor::new(6.0f64, &CPU).unwrap()),
        Err(Error::OutOfSupport { .. })
    ));
    assert!(d.log_prob(&Tensor::new(4.0f64, &CPU).unwrap()).is_ok());
    // The upper end: density 0 for −1 < ξ < 0, 1/σ for ξ = −1, ∞ for ξ < −1.
    for (xi, want) in [
        (-0.5, f64::NEG_INFINITY),
        (-1.0, -(2f64.ln())),
        (-2.0, f64::INFINITY),
    ] {
        let d = dist(Fam::Gpd, &[1.0, 2.0, xi], DType::F64, true);
        let hi = 1.0 - 2.0 / xi;
        let lp = vals(&d.log_prob(&scalar_t(hi, DType::F64)).unwrap())[0];
        assert_eq!(lp, want, "ξ = {xi}");
        assert_eq!(vals(&d.cdf(&scalar_t(hi, DType::F64)).unwrap())[0], 1.0);
        assert_eq!(vals(&d.icdf(&scalar_t(1.0, DType::F64)).unwrap())[0], hi);
    }
}

#[test]
fn kumaraswamy_mode_is_the_argmax() {
    for p in grid(Fam::Kuma) {
        let d = dist(Fam::Kuma, &p, DType::F64, true);
        let mode = vals(&d.mode().unwrap())[0];
        let (a, b) = (p[0], p[1]);
        if a < 1.0 || b < 1.0 || (a == 1.0 && b == 1.0) {
            assert!(mode.is_nan(), "{p:?}: mode {mode}");
            continue;
        }
        // Golden-section search of log_prob on [0, 1] (accuracy ~√ε).
        let lp = |x: f64| vals(&d.log_prob(&scalar_t(x, DType::F64)).unwrap())[0];
        let g = (5f64.sqrt() - 1.0) / 2.0;
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        while hi - lo > 1e-12 {
            let (c, e) = (hi - g * (hi - lo), lo + g * (hi - lo));
            if lp(c) < lp(e) {
                lo = c;
            } else {
                hi = e;
            }
        }
        let found = 0.5 * (lo + hi);
        assert!(
            (found - mode).abs() <= 2.0 * f64::EPSILON.sqrt(),
            "{p:?}: mode {mode}, argmax {found}"
        );
    }
}

// ---------------------------------------------------------------------------
// Errors, shapes, expand
// ---------------------------------------------------------------------------

fn expect_param<T: std::fmt::Debug>(r: Res<T>, dist: &str, param: &str) {
    match r {
        Err(e @ Error::InvalidParameter { .. }) => {
            if let Error::InvalidParameter {
                distribution,
                parameter,
                index,
                ..
            } = &e
            {
                assert_eq!(*distribution, dist);
                assert_eq!(*parameter, param);
                assert_eq!(*index, 1);
            }
            let msg = e.to_string();
            assert!(msg.contains(dist) && msg.contains(param), "{msg}");
        }
        other => panic!("{dist}.{param}: expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn invalid_parameters_are_errors() {
    let ok = tensor(&[1.0, 1.0], DType::F64);
    for bad in [0.0, -1.0, f64::NAN] {
        let t = tensor(&[1.0, bad], DType::F64);
        expect_param(Kumaraswamy::new(&t, &ok), "Kumaraswamy", "concentration1");
        expect_param(Kumaraswamy::new(&ok, &t), "Kumaraswamy", "concentration0");
        expect_param(
            GeneralizedPareto::new(&ok, &t, &ok),
            "GeneralizedPareto",
            "scale",
        );
    }
    let nan = tensor(&[1.0, f64::NAN], DType::F64);
    expect_param(
        GeneralizedPareto::new(&nan, &ok, &ok),
        "GeneralizedPareto",
        "loc",
    );
    expect_param(
        GeneralizedPareto::new(&ok, &ok, &nan),
        "GeneralizedPareto",
        "concentration",
    );
    for bad in [-0.1, 1.5, f64::NAN] {
        let t = tensor(&[0.5, bad], DType::F64);
        expect_param(ContinuousBernoulli::new(&t), "ContinuousBernoulli", "probs");
    }
    expect_param(
        ContinuousBernoulli::from_logits(&nan),
        "ContinuousBernoulli",
        "logits",
    );
    // Checks off: no error, and no panic.
    let t = tensor(&[1.0, -1.0], DType::F64);
    assert!(Kumaraswamy::new_with_validation(&t, &ok, false).is_ok());
    assert!(GeneralizedPareto::new_with_validation(&ok, &t, &ok, false).is_ok());
    assert!(ContinuousBernoulli::new_with_validation(&t, false).is_ok());
    // Out-of-support values and probabilities.
    let k = Kumaraswamy::from_scalars(2.0, 3.0, candle_core::DType::F64, &CPU).unwrap();
    let g = GeneralizedPareto::from_scalars(1.0, 1.0, 0.5, candle_core::DType::F64, &CPU).unwrap();
    let c = ContinuousBernoulli::from_scalars(0.3, candle_core::DType::F64, &CPU).unwrap();
    let dists: [&dyn Distribution; 3] = [&k, &g, &c];
    for d in dists {
        let bad_x = Tensor::new(&[0.5f64, -0.5], &CPU).unwrap();
        assert!(
            matches!(d.log_prob(&bad_x), Err(Error::OutOfSupport { .. })),
            "{}",
            d.name()
        );
        assert!(
            matches!(d.cdf(&bad_x), Err(Error::OutOfSupport { .. })),
            "{}",
            d.name()
        );
        let bad_q = Tensor::new(&[0.5f64, 1.5], &CPU).unwrap();
        match d.icdf(&bad_q) {
            Err(Error::OutOfSupport { argument, .. }) => assert_eq!(argument, "q"),
            other => panic!("{}: {other:?}", d.name()),
        }
    }
    // With checks off, outside the support log_prob is −∞ and the cdf 0 or 1.
    let k = Kumaraswamy::new_with_validation(
        &tensor(&[2.0], DType::F64),
        &tensor(&[3.0], DType::F64),
        false,
    )
    .unwrap();
    let c = ContinuousBernoulli::new_with_validation(&tensor(&[0.3], DType::F64), false).unwrap();
    let g = GeneralizedPareto::new_with_validation(
        &tensor(&[1.0], DType::F64),
        &tensor(&[1.0], DType::F64),
        &tensor(&[-0.5], DType::F64),
        false,
    )
    .unwrap();
    let dists: [(&dyn Distribution, [f64; 2]); 3] =
        [(&k, [-0.5, 1.5]), (&c, [-0.5, 1.5]), (&g, [0.0, 4.0])];
    for (d, out) in dists {
        let x = tensor(&out, DType::F64);
        assert_eq!(
            vals(&d.log_prob(&x).unwrap()),
            vec![f64::NEG_INFINITY; 2],
            "{}",
            d.name()
        );
        assert_eq!(vals(&d.cdf(&x).unwrap()), vec![0.0, 1.0], "{}", d.name());
    }
}

#[test]
fn shapes_and_expand() {
    for fam in FAMS {
        let p: Vec<Tensor> = match fam {
            Fam::Kuma => vec![tensor(&[0.5, 2.0], DType::F32), tensor(&[3.0], DType::F32)],
            Fam::Gpd => vec![
                tensor(&[0.0], DType::F32),
                tensor(&[1.0, 2.0], DType::F32),
                tensor(&[0.1], DType::F32),
            ],
            Fam::CbProbs => vec![tensor(&[0.2, 0.7], DType::F32)],
            Fam::CbLogits => vec![tensor(&[-1.0, 3.0], DType::F32)],
        };
        let d = build(fam, &p, true).unwrap();
        assert_eq!(d.batch_shape(), &[2]);
        assert!(d.has_rsample());
        assert_eq!(d.dtype(), DType::F32);
        let mut rng = Generator::new(3);
        let x = d.sample(&[3], &mut rng).unwrap();
        assert_eq!(x.dims(), &[3, 2], "{fam:?}");
        assert_eq!(d.rsample(&[3], &mut rng).unwrap().dims(), &[3, 2]);
        assert_eq!(d.log_prob(&x).unwrap().dims(), &[3, 2]);
        assert_eq!(d.cdf(&x).unwrap().dims(), &[3, 2]);
        for m in [d.mean(), d.variance(), d.stddev(), d.mode(), d.entropy()] {
            assert_eq!(m.unwrap().dims(), &[2], "{fam:?}");
        }
        let e = d.expand(&[4, 2]).unwrap();
        assert_eq!(e.batch_shape(), &[4, 2]);
        assert_eq!(e.name(), d.name());
        assert!(e.validate_args());
        let y = e.sample(&[3], &mut rng).unwrap();
        assert_eq!(y.dims(), &[3, 4, 2]);
        assert_eq!(e.log_prob(&y).unwrap().dims(), &[3, 4, 2]);
        let m0 = vals(&d.mean().unwrap());
        let m1 = vals(&e.mean().unwrap());
        assert_eq!(&m1[6..8], &m0[..]);
        assert!(d.expand(&[3]).is_err());
    }
}
