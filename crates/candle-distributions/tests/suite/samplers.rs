//! Sampler statistics: one-sample Kolmogorov–Smirnov tests of every distribution over a
//! grid of parameters including extremes, with fixed seeds. Each test draws 20 000
//! values and requires p ≥ 1e-3 (the CDF used is the distribution's own, which the
//! conformance tests check against mpmath).

use candle_core::{DType, Device, Tensor};
use candle_distributions::prelude::*;
use common::scalar_tensor as t;

use crate::common;
use common::{ks_pvalue, ks_stat};

const N: usize = 20_000;
const P_MIN: f64 = 1e-3;

fn ks_check(d: &dyn Distribution, seed: u64, label: &str) {
    let mut g = Generator::new(seed);
    let x = d.sample(&[N], &mut g).unwrap();
    assert_eq!(x.dims()[0], N);
    let f = d.cdf(&x).unwrap();
    let xs = x
        .flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let fs = f
        .flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    assert!(xs.iter().all(|v| v.is_finite()), "{label}: non-finite draw");
    let dstat = ks_stat(xs.into_iter().zip(fs).collect());
    let p = ks_pvalue(dstat, N);
    assert!(
        p >= P_MIN,
        "{label}: KS D = {dstat:.5}, p = {p:.2e} < {P_MIN}"
    );
}

const SCALES: [f64; 5] = [1e-3, 0.5, 1.0, 3.0, 1e3];
const LOCS: [f64; 3] = [0.0, -2.5, 1e3];

/// Location grid per dtype: in f32, loc = 1e3 with scale = 1e-3 would quantize draws
/// to 0.06 scale units (f32 spacing at 1e3 is 6e-5), a property of f32, not the sampler.
fn locs(dtype: DType) -> &'static [f64] {
    if dtype == DType::F64 {
        &LOCS
    } else {
        &LOCS[..2]
    }
}

fn each_loc_scale(name: &str, build: impl Fn(&Tensor, &Tensor) -> Box<dyn Distribution>) {
    let mut seed = 100;
    for dtype in [DType::F64, DType::F32] {
        for &loc in locs(dtype) {
            for &scale in &SCALES {
                seed += 1;
                let d = build(&t(loc, dtype), &t(scale, dtype));
                ks_check(
                    d.as_ref(),
                    seed,
                    &format!("{name}(loc={loc}, scale={scale}) {dtype:?}"),
                );
            }
        }
    }
}

fn each_scale(name: &str, build: impl Fn(&Tensor) -> Box<dyn Distribution>) {
    let mut seed = 200;
    for dtype in [DType::F64, DType::F32] {
        for &scale in &SCALES {
            seed += 1;
            let d = build(&t(scale, dtype));
            ks_check(d.as_ref(), seed, &format!("{name}({scale}) {dtype:?}"));
        }
    }
}

#[test]
fn normal_ks() {
    each_loc_scale("Normal", |l, s| Box::new(Normal::new(l, s).unwrap()));
}

#[test]
fn laplace_ks() {
    each_loc_scale("Laplace", |l, s| Box::new(Laplace::new(l, s).unwrap()));
}

#[test]
fn cauchy_ks() {
    each_loc_scale("Cauchy", |l, s| Box::new(Cauchy::new(l, s).unwrap()));
}

#[test]
fn gumbel_ks() {
    each_loc_scale("Gumbel", |l, s| Box::new(Gumbel::new(l, s).unwrap()));
}

#[test]
fn log_normal_ks() {
    // ln X = loc + scale·Z: exp overflows beyond loc + 30·scale ≈ 709 in f64 and 88 in
    // f32, so the location grid stays where the draws are representable.
    let mut seed = 300;
    for dtype in [DType::F64, DType::F32] {
        for &loc in &[0.0, -2.5, 3.0] {
            for &scale in &[1e-3, 0.5, 1.0, 2.5] {
                seed += 1;
                let d = LogNormal::new(&t(loc, dtype), &t(scale, dtype)).unwrap();
                ks_check(
                    &d,
                    seed,
                    &format!("LogNormal(loc={loc}, scale={scale}) {dtype:?}"),
                );
            }
        }
    }
}

#[test]
fn half_normal_ks() {
    each_scale("HalfNormal", |s| Box::new(HalfNormal::new(s).unwrap()));
}

#[test]
fn half_cauchy_ks() {
    each_scale("HalfCauchy", |s| Box::new(HalfCauchy::new(s).unwrap()));
}

#[test]
fn exponential_ks() {
    let mut seed = 400;
    for dtype in [DType::F64, DType::F32] {
        for &rate in &[1e-3, 1.0, 7.5, 1e3] {
            seed += 1;
            let d = Exponential::new(&t(rate, dtype)).unwrap();
            ks_check(&d, seed, &format!("Exponential({rate}) {dtype:?}"));
        }
    }
}

#[test]
fn uniform_ks() {
    let mut seed = 500;
    for dtype in [DType::F64, DType::F32] {
        for &(lo, hi) in &[(0.0, 1.0), (-3.0, 2.0), (-1e3, 1e3), (5.0, 5.001)] {
            seed += 1;
            let d = Uniform::new(&t(lo, dtype), &t(hi, dtype)).unwrap();
            ks_check(&d, seed, &format!("Uniform({lo}, {hi}) {dtype:?}"));
        }
    }
}

/// A batch of different parameters in one draw: each column must follow its own law.
#[test]
fn batched_parameters_follow_their_own_laws() {
    let loc = Tensor::new(&[0.0f64, 10.0, -5.0], &Device::Cpu).unwrap();
    let scale = Tensor::new(&[1.0f64, 1e-3, 1e3], &Device::Cpu).unwrap();
    let d = Normal::new(&loc, &scale).unwrap();
    let x = d.sample(&[N], &mut Generator::new(77)).unwrap();
    assert_eq!(x.dims(), &[N, 3]);
    let f = d.cdf(&x).unwrap();
    for j in 0..3 {
        let xs = x
            .narrow(1, j, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let fs = f
            .narrow(1, j, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let dstat = ks_stat(xs.into_iter().zip(fs).collect());
        assert!(ks_pvalue(dstat, N) >= P_MIN, "column {j}: D = {dstat}");
    }
}

/// The KS machinery itself must reject a wrong law (it would be a vacuous test
/// otherwise): Laplace draws against a Normal CDF of the same variance.
#[test]
fn ks_rejects_a_wrong_distribution() {
    let lap = Laplace::from_scalars(
        0.0,
        1.0 / 2f64.sqrt(),
        candle_core::DType::F64,
        &Device::Cpu,
    )
    .unwrap();
    let norm = Normal::from_scalars(0.0, 1.0, candle_core::DType::F64, &Device::Cpu).unwrap();
    let x = lap.sample(&[N], &mut Generator::new(3)).unwrap();
    let f = norm.cdf(&x).unwrap();
    let dstat = ks_stat(
        x.to_vec1::<f64>()
            .unwrap()
            .into_iter()
            .zip(f.to_vec1::<f64>().unwrap())
            .collect(),
    );
    assert!(ks_pvalue(dstat, N) < 1e-6);
}

/// A high-power check of the ziggurat normal fill (2 million draws: KS detects CDF
/// errors of about 1.2e-3 at p = 1e-3), in both dtypes, including the tail path.
#[test]
fn standard_normal_fill_high_power_ks() {
    let n = 2_000_000;
    for dtype in [DType::F64, DType::F32] {
        let mut g = Generator::new(31337);
        let z = g.standard_normal(&[n], dtype, &Device::Cpu).unwrap();
        let zs = z.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap();
        let cdf = |x: f64| candle_distributions::special::scalar::ndtr(x);
        let tail = zs.iter().filter(|x| x.abs() > 3.442_619_855_899).count() as f64 / n as f64;
        // P(|Z| > R) = 2(1 − Φ(R)) ≈ 5.76e-4; 6 binomial standard errors.
        let p_tail = 2.0 * cdf(-3.442_619_855_899);
        assert!(
            (tail - p_tail).abs() < 6.0 * (p_tail / n as f64).sqrt(),
            "{dtype:?} tail {tail} vs {p_tail}"
        );
        let dstat = ks_stat(zs.into_iter().map(|x| (x, cdf(x))).collect());
        let p = ks_pvalue(dstat, n);
        assert!(p >= P_MIN, "{dtype:?}: D = {dstat}, p = {p}");
    }
}

/// Draws stay inside [low, high) even where `low + (high − low)·u` rounds up in f32
/// (spacing of f32 at 1000 is 6e-5, the interval is 1e-2 wide).
#[test]
fn uniform_f32_draws_never_reach_high() {
    let low = Tensor::new(1000f32, &Device::Cpu).unwrap();
    let high = Tensor::new(1000.01f32, &Device::Cpu).unwrap();
    let d = Uniform::new(&low, &high).unwrap();
    let x = d
        .rsample(&[200_000], &mut Generator::new(8))
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let h = 1000.01f32;
    assert!(
        x.iter().all(|&v| (1000.0..h).contains(&v)),
        "a draw reached high"
    );
    assert!(
        x.iter().any(|&v| v == f32::from_bits(h.to_bits() - 1)),
        "the top float below high is reachable"
    );
    let lp = d
        .log_prob(&Tensor::new(x.as_slice(), &Device::Cpu).unwrap())
        .unwrap();
    assert!(lp.to_vec1::<f32>().unwrap().iter().all(|v| v.is_finite()));
}
