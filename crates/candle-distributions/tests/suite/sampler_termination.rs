//! Every rejection sampler returns for every parameter: NaN, ±∞, 0, subnormal, 1e308
//! and f64::MAX included (validation off where the parameter is invalid). Each call
//! runs in its own thread under a deadline, so a hang fails the test instead of
//! hanging the suite. Where the sampler switches to a limiting law (von Mises for huge
//! κ: N(0, 1/κ)), the draws are checked against that law.

use crate::common;
use candle_core::{DType, Device, Tensor};
use candle_distributions::prelude::*;
use candle_distributions::Dirichlet;
use common::{host, scalar_tensor as t, within_deadline};

const HOSTILE: [f64; 9] = [
    f64::NAN,
    f64::INFINITY,
    0.0,
    5e-324,
    1e-300,
    -0.5,
    1e308,
    f64::MAX,
    f64::NEG_INFINITY,
];

#[test]
fn von_mises_with_concentration_max_returns_the_point_mass_limit() {
    // Before: the Best–Fisher envelope's √(1 + 4κ²) overflowed and every try was
    // rejected, forever.
    let x = within_deadline(20, "VonMises(0, f64::MAX)", || {
        let d = VonMises::new(&t(0.0, DType::F64), &t(f64::MAX, DType::F64)).unwrap();
        host(&d.sample(&[], &mut Generator::new(0)).unwrap())
    });
    // sd 1/√κ = 7.5e-155: the draw is 0 to within a few sd.
    assert!(x[0].is_finite() && x[0].abs() < 1e-150, "{x:?}");
}

#[test]
fn von_mises_returns_for_every_concentration() {
    for &k in &HOSTILE {
        for dtype in [DType::F64, DType::F32] {
            let label = format!("VonMises(0, {k:e}) {dtype:?}");
            let x = within_deadline(20, &label, move || {
                let d = VonMises::new_with_validation(&t(0.0, dtype), &t(k, dtype), false).unwrap();
                host(&d.sample(&[64], &mut Generator::new(1)).unwrap())
            });
            if k >= 0.0 {
                // Valid or a limit (0: uniform, ∞: point mass at loc): finite angles.
                assert!(
                    x.iter()
                        .all(|v| v.is_finite() && v.abs() <= std::f64::consts::PI),
                    "{label}: {x:?}"
                );
            }
        }
    }
}

/// For κ ≥ 1e16 the draws are N(0, 1/κ): √κ θ has mean 0 and variance 1. With n draws
/// the sample mean has sd 1/√n and the sample variance sd √(2/n): 5 sd bounds.
#[test]
fn von_mises_huge_concentration_follows_the_normal_limit() {
    let n = 20_000;
    for k in [1e15, 1e16, 1e20, 1e300] {
        let d = VonMises::new(&t(0.0, DType::F64), &t(k, DType::F64)).unwrap();
        let x = host(&d.sample(&[n], &mut Generator::new(3)).unwrap());
        let z: Vec<f64> = x.iter().map(|v| v * k.sqrt()).collect();
        let m = z.iter().sum::<f64>() / n as f64;
        let v = z.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / (n - 1) as f64;
        let nf = n as f64;
        assert!(m.abs() < 5.0 / nf.sqrt(), "κ = {k:e}: mean {m}");
        assert!(
            (v - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(),
            "κ = {k:e}: var {v}"
        );
    }
}

#[test]
fn gamma_beta_dirichlet_samplers_return_for_every_concentration() {
    // Before: a NaN or negative concentration (validation off) never left the
    // Marsaglia–Tsang loop.
    for &a in &HOSTILE {
        for dtype in [DType::F64, DType::F32] {
            let label = format!("Gamma/Beta/Dirichlet({a:e}) {dtype:?}");
            let (g, b, dir) = within_deadline(20, &label, move || {
                let mut rng = Generator::new(2);
                let g = Gamma::new_with_validation(&t(a, dtype), &t(1.0, dtype), false)
                    .unwrap()
                    .sample(&[32], &mut rng)
                    .unwrap();
                let b = Beta::new_with_validation(&t(a, dtype), &t(0.5, dtype), false)
                    .unwrap()
                    .sample(&[32], &mut rng)
                    .unwrap();
                let c = Tensor::new(&[a, 0.5, 2.0], &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                let dir = Dirichlet::new_with_validation(&c, false)
                    .unwrap()
                    .sample(&[32], &mut rng)
                    .unwrap();
                (host(&g), host(&b), host(&dir))
            });
            if a > 0.0 && a < f64::INFINITY {
                assert!(g.iter().all(|v| *v >= 0.0), "{label}: gamma {g:?}");
                assert!(
                    b.iter().all(|v| (0.0..=1.0).contains(v)),
                    "{label}: beta {b:?}"
                );
                assert!(dir.iter().all(|v| (0.0..=1.0).contains(v)), "{label}: dir");
            }
        }
    }
}

#[test]
fn rsample_of_gamma_based_families_returns_for_hostile_shapes() {
    for &a in &HOSTILE {
        let label = format!("StudentT/FisherSnedecor/InverseGamma/Chi2({a:e})");
        within_deadline(30, &label, move || {
            let mut rng = Generator::new(4);
            let d = DType::F64;
            let _ = StudentT::new_with_validation(&t(a, d), &t(0.0, d), &t(1.0, d), false)
                .unwrap()
                .rsample(&[16], &mut rng);
            let _ = FisherSnedecor::new_with_validation(&t(a, d), &t(a, d), false)
                .unwrap()
                .rsample(&[16], &mut rng);
            let _ = InverseGamma::new_with_validation(&t(a, d), &t(1.0, d), false)
                .unwrap()
                .rsample(&[16], &mut rng);
            let _ = Chi2::new_with_validation(&t(a, d), false)
                .unwrap()
                .rsample(&[16], &mut rng);
        });
    }
}
