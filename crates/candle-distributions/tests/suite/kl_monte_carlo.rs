//! `kl_divergence_mc` against the closed forms: within 4 standard errors on 16 pairs
//! (fixed seeds), standard errors shrinking like 1/√n, pathwise gradients, errors.

use crate::common;

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::transforms::Independent;
use candle_distributions::{kl_divergence, kl_divergence_mc, Error};
use common::host;

const N: usize = 20_000;

fn d64() -> (DType, Device) {
    (DType::F64, Device::Cpu)
}

/// A named pair (p, q).
type Pair = (&'static str, Box<dyn Distribution>, Box<dyn Distribution>);

fn pairs() -> Vec<Pair> {
    let (t, dev) = d64();
    let dev = &dev;
    let conc = |v: &[f64]| Tensor::new(v, dev).unwrap();
    vec![
        (
            "Normal/Normal",
            Box::new(Normal::from_scalars(0.5, 1.25, t, dev).unwrap()),
            Box::new(Normal::from_scalars(2.0, 3.0, t, dev).unwrap()),
        ),
        (
            "Normal/Laplace",
            Box::new(Normal::from_scalars(0.5, 1.25, t, dev).unwrap()),
            Box::new(Laplace::from_scalars(-1.0, 0.5, t, dev).unwrap()),
        ),
        (
            "Normal/Gumbel",
            Box::new(Normal::from_scalars(0.5, 1.25, t, dev).unwrap()),
            Box::new(Gumbel::from_scalars(-1.0, 2.0, t, dev).unwrap()),
        ),
        (
            "Laplace/Normal",
            Box::new(Laplace::from_scalars(0.5, 1.5, t, dev).unwrap()),
            Box::new(Normal::from_scalars(-1.0, 0.75, t, dev).unwrap()),
        ),
        (
            "Gumbel/Gumbel",
            Box::new(Gumbel::from_scalars(0.5, 1.25, t, dev).unwrap()),
            Box::new(Gumbel::from_scalars(-1.0, 2.0, t, dev).unwrap()),
        ),
        (
            "Cauchy/Cauchy",
            Box::new(Cauchy::from_scalars(0.5, 1.25, t, dev).unwrap()),
            Box::new(Cauchy::from_scalars(-1.0, 0.5, t, dev).unwrap()),
        ),
        (
            "LogNormal/LogNormal",
            Box::new(LogNormal::from_scalars(0.25, 0.5, t, dev).unwrap()),
            Box::new(LogNormal::from_scalars(-0.5, 1.25, t, dev).unwrap()),
        ),
        (
            "Exponential/Gamma",
            Box::new(Exponential::from_scalars(0.75, t, dev).unwrap()),
            Box::new(Gamma::from_scalars(3.0, 0.5, t, dev).unwrap()),
        ),
        (
            "Gamma/Gamma",
            Box::new(Gamma::from_scalars(0.75, 1.5, t, dev).unwrap()),
            Box::new(Gamma::from_scalars(3.0, 0.5, t, dev).unwrap()),
        ),
        (
            "Gamma/Normal",
            Box::new(Gamma::from_scalars(3.0, 0.5, t, dev).unwrap()),
            Box::new(Normal::from_scalars(2.0, 3.0, t, dev).unwrap()),
        ),
        (
            "Beta/Beta",
            Box::new(Beta::from_scalars(0.75, 1.5, t, dev).unwrap()),
            Box::new(Beta::from_scalars(2.5, 3.0, t, dev).unwrap()),
        ),
        (
            "Beta/Normal",
            Box::new(Beta::from_scalars(2.5, 3.0, t, dev).unwrap()),
            Box::new(Normal::from_scalars(0.5, 1.25, t, dev).unwrap()),
        ),
        (
            "Uniform/Gumbel",
            Box::new(Uniform::from_scalars(-0.5, 1.5, t, dev).unwrap()),
            Box::new(Gumbel::from_scalars(0.5, 1.25, t, dev).unwrap()),
        ),
        (
            "ContinuousBernoulli/ContinuousBernoulli",
            Box::new(ContinuousBernoulli::from_scalars(0.25, t, dev).unwrap()),
            Box::new(ContinuousBernoulli::from_scalars(0.625, t, dev).unwrap()),
        ),
        (
            "Pareto/Exponential",
            Box::new(Pareto::from_scalars(0.5, 3.5, t, dev).unwrap()),
            Box::new(Exponential::from_scalars(2.0, t, dev).unwrap()),
        ),
        (
            "Dirichlet/Dirichlet",
            Box::new(Dirichlet::new(&conc(&[0.75, 1.5, 2.0])).unwrap()),
            Box::new(Dirichlet::new(&conc(&[2.5, 1.25, 3.0])).unwrap()),
        ),
    ]
}

#[test]
fn estimates_agree_with_closed_forms_within_four_standard_errors() {
    let mut rng = Generator::new(20_261_207);
    let mut worst = 0.0f64;
    for (name, p, q) in pairs() {
        let exact = host(&kl_divergence(p.as_ref(), q.as_ref()).unwrap())[0];
        let (est, se) = kl_divergence_mc(p.as_ref(), q.as_ref(), N, &mut rng).unwrap();
        let (est, se) = (host(&est)[0], host(&se)[0]);
        assert!(se > 0.0 && se.is_finite(), "{name}: se {se}");
        let z = (est - exact).abs() / se;
        worst = worst.max(z);
        eprintln!("{name}: exact {exact:.6}, estimate {est:.6} ± {se:.2e} ({z:.2} se)");
        assert!(
            z < 4.0,
            "{name}: exact {exact}, estimate {est} ± {se} ({z:.2} se)"
        );
    }
    eprintln!("largest deviation: {worst:.2} standard errors");
}

/// Sixteen times the draws, a quarter of the standard error (±15%: the error of a
/// sample standard deviation from 4000 draws is ~1–2%).
#[test]
fn standard_error_shrinks_like_one_over_sqrt_n() {
    let (t, dev) = d64();
    let p = Gamma::from_scalars(3.0, 0.5, t, &dev).unwrap();
    let q = Normal::from_scalars(2.0, 3.0, t, &dev).unwrap();
    let mut rng = Generator::new(5);
    let (_, s1) = kl_divergence_mc(&p, &q, 4_000, &mut rng).unwrap();
    let (_, s2) = kl_divergence_mc(&p, &q, 64_000, &mut rng).unwrap();
    let ratio = host(&s1)[0] / host(&s2)[0];
    assert!((ratio - 4.0).abs() < 0.6, "se ratio {ratio}");
}

/// Pathwise gradients: d/dμp of the estimate is the mean of (x − μq)/σq² over the
/// draws, whose expectation is the exact (μp − μq)/σq² and whose standard error is
/// σp/(σq² √n).
#[test]
fn estimates_carry_pathwise_gradients() {
    let dev = Device::Cpu;
    let loc = Var::new(0.5f64, &dev).unwrap();
    let qloc = Var::new(2.0f64, &dev).unwrap();
    let p = Normal::new(&loc, 1.25f64).unwrap();
    let q = Normal::new(&qloc, 3.0f64).unwrap();
    let (est, _) = kl_divergence_mc(&p, &q, N, &mut Generator::new(11)).unwrap();
    let g = est.backward().unwrap();
    let gp = host(g.get(loc.as_tensor()).unwrap())[0];
    let gq = host(g.get(qloc.as_tensor()).unwrap())[0];
    let (exact, se) = ((0.5 - 2.0) / 9.0, 1.25 / 9.0 / (N as f64).sqrt());
    assert!(
        (gp - exact).abs() < 4.0 * se,
        "d/dμp {gp} vs {exact} ± {se}"
    );
    assert!(
        (gq + exact).abs() < 4.0 * se,
        "d/dμq {gq} vs {} ± {se}",
        -exact
    );
}

/// Pairs without a closed form, batches, Independent events, f32.
#[test]
fn any_pair_batches_and_events() {
    let (t, dev) = d64();
    let mut rng = Generator::new(3);
    let p = Normal::from_scalars(0.0, 1.0, t, &dev).unwrap();
    let q = StudentT::from_scalars(3.0, 0.0, 1.0, t, &dev).unwrap();
    assert!(kl_divergence(&p, &q).is_err());
    let (est, se) = kl_divergence_mc(&p, &q, N, &mut rng).unwrap();
    assert!(host(&est)[0] > 0.0 && host(&se)[0] > 0.0);

    let pb = Normal::new(&Tensor::new(&[0.0f64, 1.0, 2.0], &dev).unwrap(), 1.0f64).unwrap();
    let qb = Normal::from_scalars(0.0, 2.0, t, &dev).unwrap();
    let (est, se) = kl_divergence_mc(&pb, &qb, N, &mut rng).unwrap();
    assert_eq!((est.dims(), se.dims()), (&[3usize][..], &[3usize][..]));
    let exact = host(&kl_divergence(&pb, &qb).unwrap());
    for ((e, s), x) in host(&est).iter().zip(host(&se)).zip(exact) {
        assert!((e - x).abs() < 4.0 * s, "{e} ± {s} vs {x}");
    }

    let base = |s: f64| {
        Normal::new(
            &Tensor::new(&[[0.0f64, 1.0], [2.0, -1.0]], &dev).unwrap(),
            s,
        )
        .unwrap()
    };
    let pi = Independent::new(Box::new(base(1.0)), 1).unwrap();
    let qi = Independent::new(Box::new(base(1.5)), 1).unwrap();
    let (est, se) = kl_divergence_mc(&pi, &qi, N, &mut rng).unwrap();
    assert_eq!(est.dims(), &[2]);
    let exact = host(&kl_divergence(&pi, &qi).unwrap());
    for ((e, s), x) in host(&est).iter().zip(host(&se)).zip(exact) {
        assert!((e - x).abs() < 4.0 * s, "{e} ± {s} vs {x}");
    }

    let pf = Normal::new(0.5f32, 1.25f32).unwrap();
    let qf = Normal::new(2.0f32, 3.0f32).unwrap();
    let (est, se) = kl_divergence_mc(&pf, &qf, N, &mut rng).unwrap();
    assert_eq!(est.dtype(), DType::F32);
    let exact = host(&kl_divergence(&pf, &qf).unwrap())[0];
    assert!((host(&est)[0] - exact).abs() < 4.0 * host(&se)[0]);
}

#[test]
fn too_few_draws_are_errors() {
    let (t, dev) = d64();
    let p = Normal::from_scalars(0.0, 1.0, t, &dev).unwrap();
    for n in [0, 1] {
        match kl_divergence_mc(&p, &p, n, &mut Generator::new(0)) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("n >= 2"), "{m}"),
            other => panic!("n = {n}: {other:?}"),
        }
    }
    let a = Normal::new(&Tensor::new(&[0.0f64, 1.0], &dev).unwrap(), 1.0f64).unwrap();
    let b = Normal::new(&Tensor::new(&[0.0f64, 1.0, 2.0], &dev).unwrap(), 1.0f64).unwrap();
    assert!(matches!(
        kl_divergence_mc(&a, &b, 10, &mut Generator::new(0)),
        Err(Error::Shape { .. })
    ));
}
