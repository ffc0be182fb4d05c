//! LogisticNormal against `reference/logistic_normal.json` (mpmath at 50 digits,
//! gradients by `mpmath.diff` at 400 digits, f32-exact inputs whose entries sum to
//! exactly 1; written by `reference/gen_logistic_normal.py`), plus shapes, errors, the
//! pathwise gradient and a KS test of the draws.
//!
//! Tolerances: f64 |ours − ref| ≤ 1e-10·|ref| + 1e-12·M, with M the conditioning of
//! the quantity at the value (`conditioning`): the pre-image x = StickBreaking⁻¹(y)
//! carries an absolute rounding of a few ε·|ln y|, which the density and its gradients
//! amplify by |z|/s and 1/s² (scale = 0.01 in the grid). f32: 1e-6·(|ref| + 1), a few
//! f32 roundings, because f32 log-densities are evaluated in f64 and rounded once
//! (without that, x in f32 made ∂/∂loc wrong by 3e-3 relative at scale = 0.01). The
//! gradient with respect to the value is not compared: the value lives on the simplex,
//! and derivatives along the K + 1 free coordinates depend on how the inverse is
//! written (torch: 1 − cumsum; here: tail sums).

use candle_core::{DType, Device, Tensor, Var, D};
use candle_distributions::prelude::*;
use candle_distributions::special::scalar::ndtr;
use candle_distributions::transforms::{StickBreakingTransform, Transform};
use candle_distributions::Error;
use serde_json::Value;

use crate::common;
use common::{host, ks_pvalue, ks_stat, nums, quote_numbers};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/logistic_normal.json"
);

struct Case {
    loc: Vec<f64>,
    scale: Vec<f64>,
    values: Vec<Vec<f64>>,
    log_prob: Vec<f64>,
    grad_loc: Vec<Vec<f64>>,
    grad_scale: Vec<Vec<f64>>,
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(nums).collect()
}

fn load() -> Vec<Case> {
    let text = std::fs::read_to_string(PATH).expect("reference/logistic_normal.json");
    let doc: Value = serde_json::from_str(&quote_numbers(&text)).expect("JSON parses");
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            loc: nums(&c["loc"]),
            scale: nums(&c["scale"]),
            values: rows(&c["values"]),
            log_prob: nums(&c["log_prob"]),
            grad_loc: rows(&c["grad_loc"]),
            grad_scale: rows(&c["grad_scale"]),
        })
        .collect()
}

fn tensor(v: &[f64], dtype: DType) -> Tensor {
    Tensor::from_vec(v.to_vec(), v.len(), &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

/// The conditioning of each compared quantity at y, as multipliers of atol (see the
/// module docs): `(lp, [d/d loc_k], [d/d scale_k])`. With the pre-image
/// x_k = ln y_k − ln T_{k+1} + ln(K − k) carrying an absolute rounding
/// δx_k ∝ |ln y_k| + |ln T_{k+1}| + ln(K − k) + 1 (in units of the dtype's ε), the
/// log-density moves by Σ|z_k|δx_k/s_k plus the rounding of its terms, d/d loc_k =
/// z_k/s_k by δx_k/s_k², and d/d scale_k = (z_k² − 1)/s_k by 2|z_k|δx_k/s_k².
fn conditioning(c: &Case, y: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let k = c.loc.len();
    let mut m_lp = 1.0 + y[k].ln().abs();
    let (mut m_l, mut m_s) = (vec![], vec![]);
    for i in 0..k {
        let tail: f64 = y[i + 1..].iter().sum();
        let off = ((k - i) as f64).ln();
        let x = y[i].ln() - tail.ln() + off;
        let s = c.scale[i];
        let z = (x - c.loc[i]) / s;
        let dx = y[i].ln().abs() + tail.ln().abs() + off + 1.0;
        m_lp += z * z + s.ln().abs() + y[i].ln().abs() + z.abs() * dx / s;
        m_l.push(1.0 + (1.0 + z.abs()) / s + dx / (s * s));
        m_s.push(1.0 + (1.0 + z * z) / s + 2.0 * z.abs() * dx / (s * s));
    }
    (m_lp, m_l, m_s)
}

#[test]
fn log_prob_and_gradients_match_the_mpmath_reference() {
    let cases = load();
    assert_eq!(cases.len(), 5);
    let mut worst = [[0.0f64; 3]; 2];
    let mut worst_rel = [[0.0f64; 3]; 2];
    let mut fails = Vec::new();
    for (ci, c) in cases.iter().enumerate() {
        let k = c.loc.len();
        for (pi, (dtype, rtol, atol)) in [(DType::F64, 1e-10, 1e-12), (DType::F32, 1e-6, 1e-6)]
            .into_iter()
            .enumerate()
        {
            for (j, y) in c.values.iter().enumerate() {
                let loc = Var::from_tensor(&tensor(&c.loc, dtype)).unwrap();
                let scale = Var::from_tensor(&tensor(&c.scale, dtype)).unwrap();
                let d = LogisticNormal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
                assert_eq!(d.event_shape(), &[k + 1]);
                assert_eq!(d.batch_shape(), &[] as &[usize]);
                let lp = d.log_prob(&tensor(y, dtype)).unwrap();
                assert_eq!(lp.dtype(), dtype);
                let g = lp.backward().unwrap();
                let (mut m_lp, mut m_l, mut m_s) = conditioning(c, y);
                if dtype == DType::F32 {
                    // Evaluated in f64 and rounded once: no conditioning beyond it.
                    m_lp = 1.0;
                    m_l.fill(1.0);
                    m_s.fill(1.0);
                }
                let mut cmp = |what: usize, ours: f64, r: f64, m: f64| {
                    let err = (ours - r).abs();
                    worst[pi][what] = worst[pi][what].max(err / (rtol * r.abs() + atol * m));
                    worst_rel[pi][what] = worst_rel[pi][what].max(err / r.abs().max(1.0));
                    if err.is_nan() || err > rtol * r.abs() + atol * m {
                        fails.push(format!(
                            "case {ci} value {j} {dtype:?} [{what}]: ours {ours:e}, ref {r:e}"
                        ));
                    }
                };
                cmp(0, host(&lp)[0], c.log_prob[j], m_lp);
                let gl = host(g.get(loc.as_tensor()).unwrap());
                let gs = host(g.get(scale.as_tensor()).unwrap());
                for i in 0..k {
                    cmp(1, gl[i], c.grad_loc[j][i], m_l[i]);
                    cmp(2, gs[i], c.grad_scale[j][i], m_s[i]);
                }
            }
        }
    }
    println!(
        "max err/tol [log_prob, d/d loc, d/d scale]: f64 {:?}, f32 {:?}",
        worst[0], worst[1]
    );
    println!(
        "max |err|/max(|ref|, 1) [log_prob, d/d loc, d/d scale]: f64 {:?}, f32 {:?}",
        worst_rel[0], worst_rel[1]
    );
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

#[test]
fn shapes_broadcasting_and_expand() {
    let dev = Device::Cpu;
    // Scalar parameters: K = 1 (torch expands them to [1]), events of 2 entries.
    let d = LogisticNormal::from_scalars(0.0, 1.0, DType::F64, &dev).unwrap();
    assert_eq!(
        (d.batch_shape(), d.event_shape()),
        (&[] as &[usize], &[2usize][..])
    );
    // One event: K = 1, y = (σ(x), 1 − σ(x)), log p = log N(x) − ln y₀ − ln y₁ with
    // x = ln(y₀/y₁) (here y = (1/4, 3/4): x = −ln 3).
    let lp = d
        .log_prob(&Tensor::new(&[0.25f64, 0.75], &dev).unwrap())
        .unwrap();
    assert_eq!(lp.dims(), &[] as &[usize]);
    let x = -(3f64.ln());
    let want = -x * x / 2.0 - (2.0 * std::f64::consts::PI).ln() / 2.0 - 0.25f64.ln() - 0.75f64.ln();
    assert!((lp.to_scalar::<f64>().unwrap() - want).abs() < 1e-14);
    let loc = Tensor::zeros((2, 1, 3), DType::F32, &dev).unwrap();
    let scale = Tensor::ones((4, 1), DType::F32, &dev).unwrap();
    let d = LogisticNormal::new(&loc, &scale).unwrap();
    assert_eq!(d.batch_shape(), &[2, 4]);
    assert_eq!(d.event_shape(), &[4]);
    assert_eq!(d.loc().dims(), &[2, 4, 3]);
    let mut g = Generator::new(5);
    let y = d.rsample(&[6], &mut g).unwrap();
    assert_eq!(y.dims(), &[6, 2, 4, 4]);
    assert_eq!(y.dtype(), DType::F32);
    let sums = host(&y.sum(D::Minus1).unwrap());
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-6));
    assert_eq!(d.log_prob(&y).unwrap().dims(), &[6, 2, 4]);
    let e = d.expand(&[5, 2, 4]).unwrap();
    assert_eq!(
        (e.batch_shape(), e.event_shape()),
        (&[5usize, 2, 4][..], &[4usize][..])
    );
    assert_eq!(e.name(), "LogisticNormal");
    assert_eq!(e.sample(&[1], &mut g).unwrap().dims(), &[1, 5, 2, 4, 4]);
    assert!(matches!(d.expand(&[3]), Err(Error::Shape { .. })));
    // The same seed gives the same draws.
    let a = host(&d.sample(&[3], &mut Generator::new(11)).unwrap());
    let b = host(&d.sample(&[3], &mut Generator::new(11)).unwrap());
    assert_eq!(a, b);
}

#[test]
fn errors_name_logistic_normal() {
    let dev = Device::Cpu;
    let loc = Tensor::new(&[0.0f64, 1.0], &dev).unwrap();
    let bad = Tensor::new(&[1.0f64, 0.0], &dev).unwrap();
    match LogisticNormal::new(&loc, &bad) {
        Err(Error::InvalidParameter {
            distribution,
            parameter,
            index,
            ..
        }) => assert_eq!(
            (distribution, parameter, index),
            ("LogisticNormal", "scale", 1)
        ),
        other => panic!("{other:?}"),
    }
    let d = LogisticNormal::new(&loc, 1.0).unwrap();
    // Off the simplex (sums to 1.5).
    let off = Tensor::new(&[0.5f64, 0.5, 0.5], &dev).unwrap();
    assert!(matches!(
        d.log_prob(&off),
        Err(Error::OutOfSupport {
            distribution: "LogisticNormal",
            ..
        })
    ));
    // A value whose last dimension is not K + 1.
    let short = Tensor::new(&[0.5f64, 0.5], &dev).unwrap();
    assert!(matches!(d.log_prob(&short), Err(Error::Shape { .. })));
    for r in [d.mean(), d.variance(), d.entropy(), d.mode(), d.stddev()] {
        assert!(matches!(
            r,
            Err(Error::NotImplemented {
                distribution: "LogisticNormal",
                ..
            })
        ));
    }
    assert!(matches!(
        d.cdf(&off),
        Err(Error::NotImplemented {
            distribution: "LogisticNormal",
            ..
        })
    ));
}

/// The draws are the stick-breaking image of Normal(loc, scale): mapped back, each
/// coordinate is standard normal after standardization (KS, 20 000 draws, p ≥ 1e-3),
/// in f64 and f32.
#[test]
fn draws_map_back_to_the_base_normal() {
    const N: usize = 20_000;
    let loc = [0.5, -1.5, 2.0];
    let scale = [0.3, 2.0, 1.0];
    for (i, dtype) in [DType::F64, DType::F32].into_iter().enumerate() {
        let d = LogisticNormal::new(&tensor(&loc, dtype), &tensor(&scale, dtype)).unwrap();
        let y = d.sample(&[N], &mut Generator::new(40 + i as u64)).unwrap();
        let x = StickBreakingTransform.inverse(&y).unwrap();
        assert_eq!(x.dims(), &[N, 3]);
        let xs = host(&x);
        for k in 0..3 {
            let z: Vec<(f64, f64)> = (0..N)
                .map(|n| {
                    let z = (xs[n * 3 + k] - loc[k]) / scale[k];
                    (z, ndtr(z))
                })
                .collect();
            let stat = ks_stat(z);
            let p = ks_pvalue(stat, N);
            println!("{dtype:?} coordinate {k}: D = {stat:.5}, p = {p:.3}");
            assert!(p >= 1e-3, "{dtype:?} coordinate {k}: D = {stat}, p = {p}");
        }
    }
}

/// The pathwise gradient of f = Σ w·y for fixed weights, against central finite
/// differences of the draws with the same seed (f64, h = 1e-6), and
/// `rsample_and_log_prob` against `log_prob` of its own draw.
#[test]
fn rsample_gradients_match_finite_differences() {
    let loc = [0.5, -1.5, 2.0];
    let scale = [0.3, 2.0, 1.0];
    let w = Tensor::new(&[1.0f64, -2.0, 0.5, 3.0], &Device::Cpu).unwrap();
    let f = |l: &[f64], s: &[f64]| -> f64 {
        let d = LogisticNormal::new(&tensor(l, DType::F64), &tensor(s, DType::F64)).unwrap();
        let y = d.rsample(&[32], &mut Generator::new(9)).unwrap();
        y.broadcast_mul(&w)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    };
    let lv = Var::new(&loc, &Device::Cpu).unwrap();
    let sv = Var::new(&scale, &Device::Cpu).unwrap();
    let d = LogisticNormal::new(lv.as_tensor(), sv.as_tensor()).unwrap();
    let y = d.rsample(&[32], &mut Generator::new(9)).unwrap();
    let g = y
        .broadcast_mul(&w)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let gl = host(g.get(lv.as_tensor()).unwrap());
    let gs = host(g.get(sv.as_tensor()).unwrap());
    let mut worst: f64 = 0.0;
    for i in 0..3 {
        let h = 1e-6;
        let (mut lp, mut lm) = (loc.to_vec(), loc.to_vec());
        lp[i] += h;
        lm[i] -= h;
        let fd_l = (f(&lp, &scale) - f(&lm, &scale)) / (2.0 * h);
        let (mut sp, mut sm) = (scale.to_vec(), scale.to_vec());
        sp[i] += h;
        sm[i] -= h;
        let fd_s = (f(&loc, &sp) - f(&loc, &sm)) / (2.0 * h);
        for (ours, fd) in [(gl[i], fd_l), (gs[i], fd_s)] {
            let e = (ours - fd).abs() / fd.abs().max(1.0);
            worst = worst.max(e);
            assert!(e < 1e-6, "coordinate {i}: autograd {ours}, fd {fd}");
        }
    }
    println!("pathwise gradient vs finite differences: max rel error {worst:.2e}");
    let (y, lp) = d
        .rsample_and_log_prob(&[16], &mut Generator::new(2))
        .unwrap();
    let want = host(&d.log_prob(&y).unwrap());
    for (o, w) in host(&lp).iter().zip(&want) {
        assert!((o - w).abs() <= 1e-9 * w.abs().max(1.0), "{o} {w}");
    }
}

/// Extreme but valid parameters (normal draws that overflow the dtype, subnormal
/// scales) and values on the boundary of the simplex: draws stay on the simplex and
/// no log-density is NaN.
#[test]
fn extreme_parameters_never_give_nan() {
    let dev = Device::Cpu;
    for dtype in [DType::F32, DType::F64] {
        let max = if dtype == DType::F32 {
            f32::MAX as f64
        } else {
            f64::MAX
        };
        for (loc, scale) in [
            (vec![-100.0, max, -max], vec![max, max, max]),
            (vec![0.0, 1e30, -1e30], vec![1e-40, 0.117, 2.0]),
            (vec![5e-324, -max, max], vec![max, 1e-40, 0.117]),
        ] {
            let l = tensor(&loc, dtype).reshape((1, 3)).unwrap();
            let s = tensor(&scale, dtype).reshape((1, 3)).unwrap();
            let d = LogisticNormal::new(&l, &s).unwrap();
            let mut g = Generator::new(3);
            for (what, r) in [
                ("rsample_and_log_prob", d.rsample_and_log_prob(&[4], &mut g)),
                ("sample_and_log_prob", d.sample_and_log_prob(&[4], &mut g)),
            ] {
                let (y, lp) = r.unwrap();
                let yv = host(&y);
                assert!(
                    yv.iter().all(|v| (0.0..=1.0).contains(v)),
                    "{what} {dtype:?} {loc:?}: {yv:?}"
                );
                let lv = host(&lp);
                assert!(
                    lv.iter().all(|v| !v.is_nan()),
                    "{what} {dtype:?} {loc:?} {scale:?}: {lv:?} at {yv:?}"
                );
            }
        }
    }
    // Values on the boundary of the simplex: the density's limit there is 0 (the
    // normal factor vanishes faster than the Jacobian). log_prob is −∞, or a large
    // negative number where the inverse clamps a tail sum of 0 to the smallest
    // normal float (last entry 0), never NaN, and its parameter gradients are not NaN.
    for y in [[1.0f64, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.25, 0.75]] {
        let loc = Var::new(&[0.3f64, -0.2], &dev).unwrap();
        let scale = Var::new(&[1.5f64, 0.5], &dev).unwrap();
        let d = LogisticNormal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
        let v = Tensor::new(&[y], &dev).unwrap();
        let lp = d.log_prob(&v).unwrap();
        let l = host(&lp)[0];
        assert!(l == f64::NEG_INFINITY || l < -1e5, "{y:?}: {l}");
        let g = lp.sum_all().unwrap().backward().unwrap();
        for t in [&loc, &scale] {
            let gv = g.get(t.as_tensor()).map(host).unwrap_or_default();
            assert!(gv.iter().all(|v| !v.is_nan()), "{y:?}: {gv:?}");
        }
    }
}
