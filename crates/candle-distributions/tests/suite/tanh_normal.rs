//! TanhNormal against mpmath and torch (`reference/tanh_normal.json`, from
//! `reference/gen_tanh_normal.py`): the fused draw and log-density from the pre-tanh
//! value and their pathwise gradients (f64 and f32, |u| up to 20), the log-density of
//! given actions, the sampler's law, and errors.

use crate::common;

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::Error;
use common::{host, ks_pvalue, ks_stat, num, quote_numbers};
use serde_json::Value;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/tanh_normal.json"
    );
    let text = std::fs::read_to_string(path).expect("reference JSON");
    serde_json::from_str(&quote_numbers(&text)).expect("parses")
}

fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-300)
}

/// One case through `rsample_and_log_prob_from_noise` in `dtype`: (a, lp, ∂lp/∂loc,
/// ∂lp/∂scale, ∂a/∂loc, ∂a/∂scale).
fn fused(loc: f64, scale: f64, eps: f64, dtype: DType) -> Res<[f64; 6]> {
    let dev = Device::Cpu;
    let l = Var::from_tensor(&Tensor::new(&[loc], &dev)?.to_dtype(dtype)?)?;
    let s = Var::from_tensor(&Tensor::new(&[scale], &dev)?.to_dtype(dtype)?)?;
    let d = TanhNormal::new(&l, &s)?;
    let e = Tensor::new(&[eps], &dev)?.to_dtype(dtype)?;
    let (a, lp) = d.rsample_and_log_prob_from_noise(&e)?;
    let g = lp.sum_all()?.backward()?;
    let ga = a.sum_all()?.backward()?;
    let v = |t: &Tensor| host(t)[0];
    Ok([
        v(&a),
        v(&lp),
        v(g.get(&l).ok_or("no loc grad")?),
        v(g.get(&s).ok_or("no scale grad")?),
        v(ga.get(&l).ok_or("no loc grad")?),
        v(ga.get(&s).ok_or("no scale grad")?),
    ])
}

/// The acceptance check: for pre-tanh values with |u| ≤ 20, the fused log-density and
/// its gradients match mpmath to 1e-5 relative in f32 (1e-12 in f64) and are finite.
#[test]
fn fused_log_prob_and_gradients_match_mpmath() -> Res<()> {
    let doc = reference();
    let rows = doc["mpmath"].as_array().ok_or("rows")?;
    assert!(rows.len() > 200);
    let keys = [
        "a",
        "log_prob",
        "dlog_prob_dloc",
        "dlog_prob_dscale",
        "da_dloc",
        "da_dscale",
    ];
    for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
        let mut worst = [0f64; 6];
        let mut max_u: f64 = 0.0;
        for r in rows {
            let (m, s, e) = (num(&r["loc"]), num(&r["scale"]), num(&r["eps"]));
            max_u = max_u.max(num(&r["u"]).abs());
            let got = fused(m, s, e, dtype)?;
            for (k, key) in keys.iter().enumerate() {
                let want = num(&r[*key]);
                assert!(
                    got[k].is_finite(),
                    "{dtype:?} {key} not finite at {m} {s} {e}"
                );
                // a is compared absolutely (it is ±1 to within an ulp when saturated),
                // its gradients relative to their own size, floored by the dtype's
                // smallest normal (sech² 20 ≈ 1.7e-17 is far above f32's 1.2e-38).
                let err = if k == 0 {
                    (got[k] - want).abs()
                } else {
                    rel(got[k], want)
                };
                worst[k] = worst[k].max(err);
                assert!(
                    err <= tol,
                    "{dtype:?} {key} at loc={m} scale={s} eps={e}: got {} want {want} (err {err:e})",
                    got[k]
                );
            }
        }
        assert!(max_u >= 20.0);
        eprintln!("{dtype:?}: max errors (a abs; others rel) {worst:?}");
    }
    Ok(())
}

/// Where torch (f64) computes with its cache of the pre-tanh value it is exact too:
/// the two agree. Given only the action, torch inverts tanh; wherever that is finite our
/// `log_prob(a)` agrees with it.
#[test]
fn agrees_with_torch_transformed_distribution() -> Res<()> {
    let doc = reference();
    let rows = doc["torch"].as_array().ok_or("rows")?;
    let (mut compared_given, mut skipped_given) = (0, 0);
    for r in rows {
        let (m, s, e) = (num(&r["loc"]), num(&r["scale"]), num(&r["eps"]));
        let got = fused(m, s, e, DType::F64)?;
        for (k, key) in [
            (1, "log_prob_cached"),
            (2, "dloc_cached"),
            (3, "dscale_cached"),
        ] {
            let want = num(&r[key]);
            assert!(
                (got[k] - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{key} at {m} {s} {e}: {} vs torch {want}",
                got[k]
            );
        }
        let given = num(&r["log_prob_given_action"]);
        let a = num(&r["a"]);
        let d = TanhNormal::from_scalars(m, s, DType::F64, &Device::Cpu)?;
        let ours = host(&d.log_prob(&Tensor::new(&[a], &Device::Cpu)?)?)[0];
        assert!(ours.is_finite(), "log_prob({a}) not finite");
        if given.is_finite() && a.abs() < 1.0 - 1e-9 {
            // Both invert the same rounded action; a well inside (−1, 1) loses nothing.
            assert!(
                (ours - given).abs() <= 1e-9 * given.abs().max(1.0),
                "log_prob({a}) at {m} {s}: {ours} vs torch {given}"
            );
            compared_given += 1;
        } else {
            skipped_given += 1;
        }
    }
    eprintln!("given-action comparisons: {compared_given}, saturated/skipped: {skipped_given}");
    assert!(compared_given > 150);
    Ok(())
}

/// `rsample_and_log_prob` is `rsample_and_log_prob_from_noise` on the normal noise of
/// the same stream (what `Normal(0, 1).sample` draws), and `rsample` is its first half.
#[test]
fn fused_draw_uses_the_normal_noise_of_the_stream() -> Res<()> {
    let dev = Device::Cpu;
    for dtype in [DType::F32, DType::F64] {
        let loc = Tensor::new(&[0.3f64, -2.0, 8.0], &dev)?.to_dtype(dtype)?;
        let scale = Tensor::new(&[0.5f64, 1.5, 3.0], &dev)?.to_dtype(dtype)?;
        let d = TanhNormal::new(&loc, &scale)?;
        let (a, lp) = d.rsample_and_log_prob(&[64], &mut Generator::new(9))?;
        let std = Normal::from_scalars(0.0, 1.0, dtype, &dev)?.expand(&[3])?;
        let eps = std.sample(&[64], &mut Generator::new(9))?;
        let (a2, lp2) = d.rsample_and_log_prob_from_noise(&eps)?;
        assert_eq!(host(&a), host(&a2));
        assert_eq!(host(&lp), host(&lp2));
        let r = d.rsample(&[64], &mut Generator::new(9))?;
        assert_eq!(host(&r), host(&a));
        assert_eq!(a.dims(), &[64, 3]);
    }
    Ok(())
}

/// Actions on the boundary or given in f32 saturation: finite, never NaN; outside
/// [−1, 1]: a typed error naming TanhNormal.
#[test]
fn log_prob_of_given_actions_clamps_and_validates() -> Res<()> {
    let dev = Device::Cpu;
    for dtype in [DType::F32, DType::F64] {
        let d = TanhNormal::from_scalars(0.5, 2.0, dtype, &dev)?;
        let a =
            Tensor::new(&[-1.0f64, -0.999_999_9, 0.0, 0.999_999_9, 1.0], &dev)?.to_dtype(dtype)?;
        let lp = host(&d.log_prob(&a)?);
        assert!(lp.iter().all(|v| v.is_finite()), "{dtype:?}: {lp:?}");
        // At a = 0 the density is N(0; 0.5, 2) (the Jacobian is 1 there).
        let want = -0.5 * (0.25f64 / 4.0) - 2f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
        assert!((lp[2] - want).abs() < 1e-6, "{} vs {want}", lp[2]);
        let bad = Tensor::new(&[0.5f64, 1.5], &dev)?.to_dtype(dtype)?;
        match d.log_prob(&bad) {
            Err(Error::OutOfSupport {
                distribution,
                found,
                index,
                ..
            }) => {
                assert_eq!((distribution, found, index), ("TanhNormal", 1.5, 1));
            }
            other => panic!("expected OutOfSupport, got {other:?}"),
        }
    }
    match TanhNormal::from_scalars(0.0, -1.0, DType::F32, &dev) {
        Err(Error::InvalidParameter {
            distribution,
            parameter,
            ..
        }) => {
            assert_eq!((distribution, parameter), ("TanhNormal", "scale"));
        }
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
    Ok(())
}

/// The draws follow the law: their cdf values are uniform (KS, p ≥ 1e-3 with a fixed
/// seed), and cdf/icdf invert each other.
#[test]
fn draws_follow_the_law_and_quantiles_invert() -> Res<()> {
    let dev = Device::Cpu;
    let d = TanhNormal::from_scalars(0.7, 1.3, DType::F64, &dev)?;
    let n = 20_000;
    let x = d.sample(&[n], &mut Generator::new(2024))?;
    let xs = host(&x);
    assert!(xs.iter().all(|v| (-1.0..=1.0).contains(v)));
    let u: Vec<f64> = xs.iter().map(|a| a.atanh()).collect();
    // The law of atanh(a) is N(0.7, 1.3²): compare with its cdf (independent of ours).
    let cdf = |z: f64| 0.5 * libm::erfc(-(z - 0.7) / (1.3 * std::f64::consts::SQRT_2));
    let p = ks_pvalue(ks_stat(u.iter().map(|&v| (v, cdf(v))).collect()), n);
    assert!(p >= 1e-3, "KS p = {p}");
    let q = Tensor::new(&[0.001f64, 0.2, 0.5, 0.9, 0.999], &dev)?;
    let back = host(&d.cdf(&d.icdf(&q)?)?);
    for (b, w) in back.iter().zip(host(&q)) {
        assert!((b - w).abs() < 1e-12, "{b} vs {w}");
    }
    Ok(())
}

/// The fused density equals `log_prob` of the drawn action where tanh does not
/// saturate, and shapes follow `sample_shape ++ batch_shape`; the score-function pair
/// keeps gradients in the parameters and none in the draw.
#[test]
fn fused_matches_unfused_where_unsaturated() -> Res<()> {
    let dev = Device::Cpu;
    let loc = Var::new(&[[0.1f64, -0.4, 0.9]], &dev)?;
    let scale = Var::new(&[[0.3f64], [0.8]], &dev)?;
    let d = TanhNormal::new(&loc, &scale)?;
    assert_eq!(d.batch_shape(), &[2, 3]);
    let (a, lp) = d.rsample_and_log_prob(&[5], &mut Generator::new(1))?;
    assert_eq!(a.dims(), &[5, 2, 3]);
    let lp2 = d.log_prob(&a)?;
    for (x, y) in host(&lp).iter().zip(host(&lp2)) {
        assert!((x - y).abs() < 1e-9 * y.abs().max(1.0), "{x} vs {y}");
    }
    // Pathwise gradients with broadcast parameters (summed over draws and the
    // broadcast dimensions): the fused rule against autograd through log_prob(a(θ)).
    let obj = |lp: &Tensor, a: &Tensor| -> candle_core::Result<Tensor> {
        lp.sum_all()? + a.sum_all()?.affine(3.0, 0.0)?
    };
    let gf = obj(&lp, &a)?.backward()?;
    let gu = obj(&lp2, &a)?.backward()?;
    for v in [&loc, &scale] {
        let (x, y) = (
            host(gf.get(v).ok_or("grad")?),
            host(gu.get(v).ok_or("grad")?),
        );
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() < 1e-9 * q.abs().max(1.0), "{x:?} vs {y:?}");
        }
    }
    let (s, slp) = d.sample_and_log_prob(&[5], &mut Generator::new(1))?;
    assert_eq!(host(&s), host(&a));
    for (x, y) in host(&slp).iter().zip(host(&lp)) {
        assert!((x - y).abs() < 1e-9 * y.abs().max(1.0));
    }
    // The score function: ∂/∂θ log p(a; θ) at the fixed action, as through log_prob.
    let g = slp.sum_all()?.backward()?;
    let g2 = d.log_prob(&s)?.sum_all()?.backward()?;
    for v in [&loc, &scale] {
        let (x, y) = (
            host(g.get(v).ok_or("grad")?),
            host(g2.get(v).ok_or("grad")?),
        );
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() < 1e-9 * q.abs().max(1.0), "{x:?} vs {y:?}");
        }
    }
    let e = d.expand(&[4, 2, 3])?;
    assert_eq!(e.batch_shape(), &[4, 2, 3]);
    assert_eq!(e.name(), "TanhNormal");
    Ok(())
}

/// Batches large enough for the kernel to split across threads (≥ 2^14 elements) give
/// the same bits, values and gradients, as the same elements evaluated in small
/// batches (one thread).
#[test]
fn threaded_kernel_gives_the_same_bits() -> Res<()> {
    let dev = Device::Cpu;
    let n = 40_000usize;
    let loc = Tensor::arange(0u32, n as u32, &dev)?
        .to_dtype(DType::F64)?
        .affine(1e-3, -20.0)?;
    let scale = loc.abs()?.affine(0.1, 0.05)?;
    let eps = Tensor::arange(0u32, n as u32, &dev)?
        .to_dtype(DType::F64)?
        .affine(-7e-5, 1.3)?;
    // (a, log p, ∂/∂loc, ∂/∂scale) of elements lo..lo + len.
    type Four = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
    let run = |lo: usize, len: usize| -> Res<Four> {
        let l = Var::from_tensor(&loc.narrow(0, lo, len)?)?;
        let s = Var::from_tensor(&scale.narrow(0, lo, len)?)?;
        let d = TanhNormal::new(&l, &s)?;
        let (a, lp) = d.rsample_and_log_prob_from_noise(&eps.narrow(0, lo, len)?)?;
        let g = (a.sum_all()? + lp.sum_all()?)?.backward()?;
        Ok((
            host(&a),
            host(&lp),
            host(g.get(&l).ok_or("grad")?),
            host(g.get(&s).ok_or("grad")?),
        ))
    };
    let whole = run(0, n)?;
    let (mut a, mut lp, mut gl, mut gs) = (vec![], vec![], vec![], vec![]);
    for lo in (0..n).step_by(1000) {
        let p = run(lo, 1000)?;
        a.extend(p.0);
        lp.extend(p.1);
        gl.extend(p.2);
        gs.extend(p.3);
    }
    assert_eq!(whole.0, a);
    assert_eq!(whole.1, lp);
    assert_eq!(whole.2, gl);
    assert_eq!(whole.3, gs);
    Ok(())
}
