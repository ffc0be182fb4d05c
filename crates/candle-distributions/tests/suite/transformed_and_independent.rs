//! `TransformedDistribution` and `Independent`: values against distributions with
//! closed forms (LogNormal = exp of a Normal, an affine map of a Normal is a Normal),
//! torch's event-dim bookkeeping and base expansion, the fused draw-and-density path,
//! monotone cdf/icdf (decreasing chains included), expand, and typed errors.

use crate::common;

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::transforms::{
    AbsTransform, AffineTransform, ExpTransform, Independent, StickBreakingTransform, Transform,
    TransformedDistribution,
};
use candle_distributions::Error;
use common::host;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= tol * y.abs().max(1.0),
            "{x} vs {y} ({a:?} vs {b:?})"
        );
    }
}

fn t64(v: &[f64]) -> Res<Tensor> {
    Ok(Tensor::new(v, &Device::Cpu)?)
}

/// exp of N(μ, σ) is LogNormal(μ, σ): log_prob, cdf, icdf agree to rounding, and the
/// fused draw's density equals log_prob of the draw.
#[test]
fn exp_of_normal_is_log_normal() -> Res<()> {
    let loc = t64(&[0.3, -1.0, 2.0])?;
    let scale = t64(&[0.5, 1.2, 0.1])?;
    let d = TransformedDistribution::new(
        Box::new(Normal::new(&loc, &scale)?),
        vec![Box::new(ExpTransform)],
    )?;
    let ln = LogNormal::new(&loc, &scale)?;
    assert_eq!(d.batch_shape(), &[3]);
    assert!(d.event_shape().is_empty());
    let y = t64(&[0.2, 1.0, 7.5])?;
    close(&host(&d.log_prob(&y)?), &host(&ln.log_prob(&y)?), 1e-13);
    close(&host(&d.cdf(&y)?), &host(&ln.cdf(&y)?), 1e-13);
    let q = t64(&[0.01, 0.5, 0.99])?;
    close(&host(&d.icdf(&q)?), &host(&ln.icdf(&q)?), 1e-13);
    let (x, lp) = d.rsample_and_log_prob(&[50], &mut Generator::new(3))?;
    assert_eq!(x.dims(), &[50, 3]);
    close(&host(&lp), &host(&d.log_prob(&x)?), 1e-12);
    Ok(())
}

/// 1 − 2X for X ~ N(0, 1) is N(1, 2): the decreasing chain's cdf is 1 − F_base and its
/// icdf reverses q; log_prob includes −ln 2.
#[test]
fn decreasing_affine_chain() -> Res<()> {
    let base = Normal::new(&t64(&[0.0])?, 1.0)?;
    let d = TransformedDistribution::new(
        Box::new(base),
        vec![Box::new(AffineTransform::new(1.0, -2.0)?)],
    )?;
    let n = Normal::new(&t64(&[1.0])?, 2.0)?;
    let y = t64(&[-3.0, 0.5, 1.0, 4.0])?;
    close(&host(&d.log_prob(&y)?), &host(&n.log_prob(&y)?), 1e-14);
    close(&host(&d.cdf(&y)?), &host(&n.cdf(&y)?), 1e-14);
    let q = t64(&[0.05, 0.5, 0.9])?;
    close(&host(&d.icdf(&q)?), &host(&n.icdf(&q)?), 1e-13);
    Ok(())
}

/// Gradients of the fused path reach the base's parameters and the transform's tensor
/// parameters, and agree with autograd through log_prob of the draw.
#[test]
fn fused_path_gradients_match_unfused() -> Res<()> {
    let dev = Device::Cpu;
    let loc = Var::new(&[0.2f64, -0.7], &dev)?;
    let scale = Var::new(&[0.9f64, 1.4], &dev)?;
    let shift = Var::new(&[0.5f64, -1.5], &dev)?;
    let build = || -> Res<TransformedDistribution> {
        Ok(TransformedDistribution::new(
            Box::new(Normal::new(&loc, &scale)?),
            vec![
                Box::new(ExpTransform),
                Box::new(AffineTransform::new(&shift, 3.0)?),
            ],
        )?)
    };
    let d = build()?;
    let (x, lp) = d.rsample_and_log_prob(&[7], &mut Generator::new(5))?;
    let g1 = lp.sum_all()?.backward()?;
    let x2 = build()?.rsample(&[7], &mut Generator::new(5))?;
    close(&host(&x), &host(&x2), 0.0);
    let lp2 = build()?.log_prob(&x2)?;
    close(&host(&lp), &host(&lp2), 1e-12);
    let g2 = lp2.sum_all()?.backward()?;
    // Pathwise, the density of the draw does not depend on the shift at all (the fused
    // graph has no edge to it); through log_prob of the draw its two paths cancel.
    let grad = |g: &candle_core::backprop::GradStore, v: &Var| -> Vec<f64> {
        g.get(v).map(host).unwrap_or_else(|| vec![0.0; 2])
    };
    assert!(g1.get(&loc).is_some() && g1.get(&scale).is_some());
    for v in [&loc, &scale, &shift] {
        let (a, b) = (grad(&g1, v), grad(&g2, v));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-10 * y.abs().max(1.0), "{a:?} vs {b:?}");
        }
    }
    Ok(())
}

/// torch's bookkeeping: a vector transform on a scalar base reinterprets the base's
/// last batch dimension as the event (Normal [5, 3] + StickBreaking → batch [5],
/// event [4]); log_prob is Σ base log_prob − log-det.
#[test]
fn stick_breaking_on_a_scalar_base_makes_vector_events() -> Res<()> {
    let dev = Device::Cpu;
    let loc = Tensor::arange(0u32, 15, &dev)?
        .to_dtype(DType::F64)?
        .affine(0.1, -0.7)?
        .reshape((5, 3))?;
    let normal = Normal::new(&loc, 0.8)?;
    let d = TransformedDistribution::new(
        Box::new(normal.clone()),
        vec![Box::new(StickBreakingTransform)],
    )?;
    assert_eq!(
        (d.batch_shape(), d.event_shape()),
        (&[5usize][..], &[4usize][..])
    );
    let x = normal.sample(&[2], &mut Generator::new(1))?;
    let t = StickBreakingTransform;
    let (y, ladj) = t.forward_and_log_det(&x)?;
    let want = normal.log_prob(&x)?.sum(2)?.sub(&ladj)?;
    let got = d.log_prob(&y)?;
    assert_eq!(got.dims(), &[2, 5]);
    close(&host(&got), &host(&want), 1e-10);
    let (s, lp) = d.rsample_and_log_prob(&[2], &mut Generator::new(1))?;
    assert_eq!(s.dims(), &[2, 5, 4]);
    assert_eq!(lp.dims(), &[2, 5]);
    assert!(matches!(d.cdf(&y), Err(Error::NotImplemented { .. })));
    Ok(())
}

/// A transform whose parameters have a larger shape expands the base first (torch's
/// forward_shape/inverse_shape round), and `expand` broadcasts the base.
#[test]
fn transform_parameters_expand_the_base() -> Res<()> {
    let base = Normal::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu)?;
    let d = TransformedDistribution::new(
        Box::new(base),
        vec![Box::new(AffineTransform::new(
            &t64(&[1.0, 2.0, 3.0])?,
            2.0,
        )?)],
    )?;
    assert_eq!(d.batch_shape(), &[3]);
    assert_eq!(d.base().batch_shape(), &[3]);
    let e = d.expand(&[4, 3])?;
    assert_eq!(e.batch_shape(), &[4, 3]);
    assert_eq!(e.sample(&[2], &mut Generator::new(0))?.dims(), &[2, 4, 3]);
    let lp = e.log_prob(&t64(&[1.0, 2.0, 3.0])?)?;
    assert_eq!(lp.dims(), &[4, 3]);
    // At its own location each component has density N(0; 0, 2).
    let want = -(2f64).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    close(&host(&lp), &[want; 12], 1e-14);
    Ok(())
}

/// Values outside the support are typed errors naming the distribution; a
/// non-monotone transform has no cdf.
#[test]
fn errors_are_typed() -> Res<()> {
    let base = Normal::new(&t64(&[0.0, 1.0])?, 1.0)?;
    let d = TransformedDistribution::new(Box::new(base), vec![Box::new(ExpTransform)])?;
    match d.log_prob(&t64(&[1.0, -2.0])?) {
        Err(Error::OutOfSupport {
            distribution,
            found,
            index,
            ..
        }) => assert_eq!(
            (distribution, found, index),
            ("TransformedDistribution", -2.0, 1)
        ),
        other => panic!("expected OutOfSupport, got {other:?}"),
    }
    let base = Normal::new(&t64(&[0.0])?, 1.0)?;
    let abs = TransformedDistribution::new(Box::new(base), vec![Box::new(AbsTransform)])?;
    assert!(matches!(
        abs.cdf(&t64(&[1.0])?),
        Err(Error::NotImplemented { method: "cdf", .. })
    ));
    // A vector transform needs at least one dimension.
    let scalar = Normal::from_scalars(0.0, 1.0, DType::F64, &Device::Cpu)?;
    assert!(matches!(
        TransformedDistribution::new(Box::new(scalar), vec![Box::new(StickBreakingTransform)]),
        Err(Error::Shape { .. })
    ));
    Ok(())
}

/// Independent(Normal [4, 3], 1): batch [4], event [3]; log_prob and entropy sum over
/// the event; draws and moments are the base's; expand keeps the event.
#[test]
fn independent_sums_over_reinterpreted_dims() -> Res<()> {
    let dev = Device::Cpu;
    let loc = Tensor::zeros((4, 3), DType::F64, &dev)?;
    let scale = t64(&[0.5, 1.0, 2.0])?;
    let normal = Normal::new(&loc, &scale)?;
    let d = Independent::new(Box::new(normal.clone()), 1)?;
    assert_eq!(
        (d.batch_shape(), d.event_shape()),
        (&[4usize][..], &[3usize][..])
    );
    let x = normal.sample(&[2], &mut Generator::new(8))?;
    close(
        &host(&d.log_prob(&x)?),
        &host(&normal.log_prob(&x)?.sum(2)?),
        1e-14,
    );
    let h = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() * 3.0
        + (0.5f64).ln()
        + (1.0f64).ln()
        + (2.0f64).ln();
    close(&host(&d.entropy()?), &[h; 4], 1e-14);
    assert_eq!(d.mean()?.dims(), &[4, 3]);
    let (s, lp) = d.rsample_and_log_prob(&[5], &mut Generator::new(2))?;
    assert_eq!(
        (s.dims(), lp.dims()),
        (&[5usize, 4, 3][..], &[5usize, 4][..])
    );
    let e = d.expand(&[2, 4])?;
    assert_eq!(
        (e.batch_shape(), e.event_shape()),
        (&[2usize, 4][..], &[3usize][..])
    );
    // Reinterpreting everything: one event of shape [4, 3].
    let all = Independent::new(Box::new(normal.clone()), 2)?;
    assert!(all.batch_shape().is_empty());
    assert_eq!(all.log_prob(&x)?.dims(), &[2]);
    assert!(matches!(
        Independent::new(Box::new(normal), 3),
        Err(Error::Shape { .. })
    ));
    Ok(())
}

/// At the lower end of an Exp image the base density is 0 and the Exp log-det is −∞:
/// the density is 0 (log −∞), not −∞ − (−∞) = NaN. Draws whose exp overflows the dtype
/// are its largest finite number with gradient 0, not ∞ with ∞ − ∞ in the sum.
#[test]
fn exp_image_ends_are_finite_or_minus_infinity() -> Res<()> {
    let dev = Device::Cpu;
    let d = TransformedDistribution::new(
        Box::new(Normal::new(&t64(&[0.0])?, 1.0)?),
        vec![
            Box::new(ExpTransform),
            Box::new(AffineTransform::new(1.0, 2.0)?),
        ],
    )?;
    let lp = host(&d.log_prob(&t64(&[1.0, 3.0])?)?);
    assert_eq!(lp[0], f64::NEG_INFINITY);
    assert!(lp[1].is_finite());
    let loc = Var::new(&[1e8f32, 0.0], &dev)?;
    let scale = Var::new(&[2.0f32, 1.0], &dev)?;
    let d = TransformedDistribution::new(
        Box::new(Normal::new(&loc, &scale)?),
        vec![Box::new(ExpTransform)],
    )?;
    let x = d.rsample(&[4], &mut Generator::new(0))?;
    let xs = host(&x);
    assert!(xs.iter().all(|v| v.is_finite() && *v > 0.0), "{xs:?}");
    let g = x.sum_all()?.backward()?;
    let gs = host(g.get(&scale).ok_or("grad")?);
    assert!(gs.iter().all(|v| v.is_finite()), "{gs:?}");
    assert_eq!(gs[0], 0.0);
    Ok(())
}

/// Independent's share of the property suite: random bases (Normal, Gamma, Beta, a
/// TransformedDistribution), batch shapes of rank 0 to 3 with zero-size dimensions,
/// every valid `reinterpreted_batch_ndims`, and hostile values (±∞, NaN, ±MAX, values
/// outside the base's support). No method panics; `log_prob` and `entropy` are the
/// base's summed over the reinterpreted dimensions, bit for bit, NaN where the base
/// gives NaN; draws have the base's shapes; every error names Independent.
#[test]
fn independent_properties() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    let cases = std::env::var("CANDLE_DIST_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000u32);
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(0x1D3E),
        failure_persistence: None,
        ..Config::default()
    });
    let dims = prop::collection::vec(0usize..3, 0..4);
    let pool = prop::sample::select(vec![
        0.5f64,
        2.0,
        -1.0,
        0.0,
        1e300,
        -1e300,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-320,
    ]);
    let strategy = (
        dims,
        0usize..4,
        0usize..4,
        any::<bool>(),
        prop::collection::vec(pool, 1..8),
    );
    let compared = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(shape, n_pick, kind, f64_, vals)| {
            let dev = Device::Cpu;
            let dt = if f64_ { DType::F64 } else { DType::F32 };
            let numel: usize = shape.iter().product();
            let ones = Tensor::ones(shape.as_slice(), dt, &dev).unwrap();
            let base: Box<dyn Distribution> = match kind {
                0 => Box::new(Normal::new(&ones, 2.0).unwrap()),
                1 => Box::new(Gamma::new(&ones, 1.5).unwrap()),
                2 => Box::new(Beta::new(&ones.affine(2.0, 0.0).unwrap(), 3.0).unwrap()),
                _ => Box::new(
                    TransformedDistribution::new(
                        Box::new(Normal::new(&ones, 0.5).unwrap()),
                        vec![Box::new(ExpTransform)],
                    )
                    .unwrap(),
                ),
            };
            let n = n_pick.min(shape.len());
            let d = Independent::new(base, n).unwrap();
            let v: Vec<f64> = (0..numel).map(|i| vals[i % vals.len()]).collect();
            let value = Tensor::from_vec(v, shape.as_slice(), &dev)
                .unwrap()
                .to_dtype(dt)
                .unwrap();
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let named = |e: &Error| e.to_string().starts_with("Independent");
                match (d.log_prob(&value), d.base().log_prob(&value)) {
                    (Ok(lp), Ok(blp)) => {
                        let want = if n == 0 {
                            blp
                        } else {
                            let r = blp.rank();
                            blp.sum((r - n..r).collect::<Vec<_>>()).unwrap()
                        };
                        assert_eq!(lp.dims(), want.dims());
                        compared.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let (a, b) = (host(&lp), host(&want));
                        for (x, y) in a.iter().zip(&b) {
                            assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
                        }
                    }
                    (Err(e), Err(_)) => assert!(named(&e), "{e}"),
                    (a, b) => panic!("log_prob disagrees with the base: {a:?} vs {b:?}"),
                }
                if let Ok(h) = d.entropy() {
                    assert_eq!(h.dims(), d.batch_shape());
                }
                let mut rng = Generator::new(3);
                match d.sample(&[2], &mut rng) {
                    Ok(x) => assert_eq!(x.dims(), [&[2][..], &shape].concat().as_slice()),
                    Err(e) => assert!(named(&e), "{e}"),
                }
                if let Err(e) = d.expand(&[0, 1]) {
                    assert!(named(&e), "{e}");
                }
            }));
            prop_assert!(run.is_ok(), "panic for shape {shape:?}, n {n}, kind {kind}");
            Ok(())
        })
        .unwrap();
    let compared = compared.into_inner();
    eprintln!("Independent: {cases} cases, {compared} log_prob comparisons with the base");
    assert!(
        compared * 4 > cases as usize,
        "too few comparisons: {compared}"
    );
}
