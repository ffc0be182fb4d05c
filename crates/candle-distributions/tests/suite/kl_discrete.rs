//! `kl_divergence` of the discrete pairs against `reference/kl_discrete.json` (explicit
//! mpmath sums of p(k) ln(p(k)/q(k)) with proven tail bounds, gradients by central
//! differences at 40 digits): values to 1e-8 relative in f64 and 1e-5 in f32, gradients
//! with respect to probs, logits and rate of both sides, the +∞ pairs, the pairs with a
//! continuous family, dispatch errors, broadcasting and extreme logits.

use crate::common;

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::{kl_divergence, Error};
use common::{host, num, read_reference, ref_params, RefParam};
use serde_json::Value;

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/kl_discrete.json"
);

fn reference() -> Value {
    read_reference(PATH)
}

/// The distribution `name` from its parameters, each a `Var` of `dtype` (returned with
/// its name, for gradients; `total_count` is a plain tensor).
fn build(name: &str, ps: &[RefParam], dtype: DType) -> (Box<dyn Distribution>, Vec<(String, Var)>) {
    let dev = Device::Cpu;
    let mut vars = vec![];
    let mut get = |n: &str| -> Option<Tensor> {
        let p = ps.iter().find(|p| p.name == n)?;
        let t = if p.vector {
            Tensor::new(p.values.as_slice(), &dev).unwrap()
        } else {
            Tensor::new(p.values[0], &dev).unwrap()
        };
        let t = t.to_dtype(dtype).unwrap();
        if n == "total_count" {
            return Some(t);
        }
        let v = Var::from_tensor(&t).unwrap();
        vars.push((n.to_string(), v.clone()));
        Some(v.as_tensor().clone())
    };
    let d: Box<dyn Distribution> = match name {
        "Bernoulli" => match get("probs") {
            Some(p) => Box::new(Bernoulli::new(&p).unwrap()),
            None => Box::new(Bernoulli::from_logits(&get("logits").unwrap()).unwrap()),
        },
        "Geometric" => match get("probs") {
            Some(p) => Box::new(Geometric::new(&p).unwrap()),
            None => Box::new(Geometric::from_logits(&get("logits").unwrap()).unwrap()),
        },
        "Binomial" => {
            let n = get("total_count").unwrap();
            match get("probs") {
                Some(p) => Box::new(Binomial::new(&n, &p).unwrap()),
                None => Box::new(Binomial::from_logits(&n, &get("logits").unwrap()).unwrap()),
            }
        }
        "Poisson" => Box::new(Poisson::new(&get("rate").unwrap()).unwrap()),
        "Categorical" => match get("probs") {
            Some(p) => Box::new(Categorical::new(&p).unwrap()),
            None => Box::new(Categorical::from_logits(&get("logits").unwrap()).unwrap()),
        },
        "OneHotCategorical" => match get("probs") {
            Some(p) => Box::new(OneHotCategorical::new(&p).unwrap()),
            None => Box::new(OneHotCategorical::from_logits(&get("logits").unwrap()).unwrap()),
        },
        other => panic!("unknown family {other}"),
    };
    (d, vars)
}

fn rel_err(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else {
        (got - want).abs() / want.abs().max(1e-300)
    }
}

fn label(c: &Value) -> String {
    format!("{}{} ‖ {}{}", c["p"], c["p_params"], c["q"], c["q_params"])
}

/// Every finite pair in f64: the value to 1e-8 relative (acceptance), and where both
/// sides are inside their parameter space the gradient with respect to the parameter
/// each side was built from (1e-8 relative, absolute floor 1e-12 for the gradients
/// that vanish, such as a −∞ logit's); on the boundary the gradients are finite.
#[test]
fn finite_pairs_match_reference_in_f64() {
    let r = reference();
    let cases = r["pairs"].as_array().unwrap();
    assert!(cases.len() >= 45, "{} cases", cases.len());
    let (mut worst_v, mut worst_g) = (0.0f64, 0.0f64);
    let (mut at_v, mut at_g) = (String::new(), String::new());
    let mut n_grads = 0;
    let mut failures = vec![];
    for c in cases {
        let (pn, qn) = (c["p"].as_str().unwrap(), c["q"].as_str().unwrap());
        let (p, pv) = build(pn, &ref_params(&c["p_params"]), DType::F64);
        let (q, qv) = build(qn, &ref_params(&c["q_params"]), DType::F64);
        let kl = kl_divergence(p.as_ref(), q.as_ref()).unwrap();
        assert_eq!(kl.dims(), &[] as &[usize], "{}", label(c));
        assert_eq!(kl.dtype(), DType::F64);
        let got = kl.to_scalar::<f64>().unwrap();
        let want = num(&c["kl"]);
        let e = rel_err(got, want);
        if e > worst_v {
            (worst_v, at_v) = (e, label(c));
        }
        if e > 1e-8 || got.is_nan() {
            failures.push(format!("{}: kl {got} vs {want} (rel {e:.1e})", label(c)));
        }
        let grads = kl.backward().unwrap();
        for (side, vars) in [("grad_p", &pv), ("grad_q", &qv)] {
            for (name, var) in vars.iter() {
                let g = grads
                    .get(var.as_tensor())
                    .map(host)
                    .unwrap_or_else(|| vec![0.0; var.elem_count()]);
                if c[side].is_null() {
                    if g.iter().any(|x| x.is_nan()) {
                        failures.push(format!("{}: NaN gradient {side}.{name}", label(c)));
                    }
                    continue;
                }
                let want: Vec<f64> = match c[side][name].as_array() {
                    Some(a) => a.iter().map(num).collect(),
                    None => vec![num(&c[side][name])],
                };
                for (a, b) in g.iter().zip(&want) {
                    n_grads += 1;
                    let err = (a - b).abs();
                    let rel = err / b.abs().max(1e-4);
                    if rel > worst_g {
                        (worst_g, at_g) = (rel, format!("{} {side}.{name}", label(c)));
                    }
                    if err.is_nan() || err > 1e-8 * b.abs() + 1e-12 {
                        failures.push(format!("{}: {side}.{name} = {a} vs {b}", label(c)));
                    }
                }
            }
        }
    }
    eprintln!(
        "{} pairs: max relative error {worst_v:.2e} (values, {at_v}); {n_grads} gradients, \
         max {worst_g:.2e} ({at_g})",
        cases.len()
    );
    assert!(n_grads >= 80, "{n_grads} gradients checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// f32 parameters (float32-exact in the reference): computed in f64 and rounded once,
/// values and gradients to 1e-5 relative.
#[test]
fn finite_pairs_match_reference_in_f32() {
    let r = reference();
    let mut worst = (0.0f64, String::new());
    let (mut n_grads, mut worst_g) = (0, 0.0f64);
    let mut failures = vec![];
    for c in r["pairs"].as_array().unwrap() {
        let (pn, qn) = (c["p"].as_str().unwrap(), c["q"].as_str().unwrap());
        let (p, pv) = build(pn, &ref_params(&c["p_params"]), DType::F32);
        let (q, qv) = build(qn, &ref_params(&c["q_params"]), DType::F32);
        let kl = kl_divergence(p.as_ref(), q.as_ref()).unwrap();
        assert_eq!(kl.dtype(), DType::F32);
        let got = host(&kl)[0];
        let e = rel_err(got, num(&c["kl"]));
        if e > worst.0 {
            worst = (e, label(c));
        }
        if e.is_nan() || e > 1e-5 {
            failures.push(format!("{}: {got} vs {} (rel {e:.1e})", label(c), c["kl"]));
        }
        // Gradients: f64 arithmetic, rounded to f32 once (1e-5 relative, absolute
        // floor 1e-6 for the vanishing ones).
        let grads = kl.backward().unwrap();
        for (side, vars) in [("grad_p", &pv), ("grad_q", &qv)] {
            if c[side].is_null() {
                continue;
            }
            for (name, var) in vars.iter() {
                let g = grads.get(var.as_tensor()).map(host).unwrap();
                let want: Vec<f64> = match c[side][name].as_array() {
                    Some(a) => a.iter().map(num).collect(),
                    None => vec![num(&c[side][name])],
                };
                for (a, b) in g.iter().zip(&want) {
                    n_grads += 1;
                    worst_g = worst_g.max((a - b).abs() / b.abs().max(0.1));
                    let err = (a - b).abs();
                    if err.is_nan() || err > 1e-5 * b.abs() + 1e-6 {
                        failures.push(format!("{}: f32 {side}.{name} = {a} vs {b}", label(c)));
                    }
                }
            }
        }
    }
    eprintln!(
        "f32: max relative error {:.2e} ({}); {n_grads} gradients, max {worst_g:.2e}",
        worst.0, worst.1
    );
    assert!(n_grads >= 80);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Pairs that are +∞ by support, at the listed parameters, in both dtypes, with no NaN
/// gradient.
#[test]
fn infinite_pairs_are_infinite() {
    let r = reference();
    let cases = r["infinite"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let (pn, qn) = (c["p"].as_str().unwrap(), c["q"].as_str().unwrap());
        for dtype in [DType::F64, DType::F32] {
            let (p, pv) = build(pn, &ref_params(&c["p_params"]), dtype);
            let (q, qv) = build(qn, &ref_params(&c["q_params"]), dtype);
            let kl = kl_divergence(p.as_ref(), q.as_ref()).unwrap();
            assert_eq!(host(&kl)[0], f64::INFINITY, "{} {dtype:?}", label(c));
            let g = kl.backward().unwrap();
            for (name, var) in pv.iter().chain(&qv) {
                if let Some(t) = g.get(var.as_tensor()) {
                    assert!(
                        host(t).iter().all(|x| !x.is_nan()),
                        "{}: NaN gradient {name}",
                        label(c)
                    );
                }
            }
        }
    }
}

fn t64(v: &[f64]) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

/// KL of two Bernoullis by the textbook two-term sum (test-side closed form).
fn bern_kl(p: f64, q: f64) -> f64 {
    let t = |a: f64, b: f64| if a == 0.0 { 0.0 } else { a * (a / b).ln() };
    t(p, q) + t(1.0 - p, 1.0 - q)
}

/// Batch shapes broadcast ([3] against [2, 1] gives [2, 3]), element by element equal
/// to the two-term sum; a +∞ element (q = 0 < p) leaves the others' gradients finite.
#[test]
fn batch_shapes_broadcast_and_infinite_elements_are_masked() {
    let pv = Var::from_tensor(&t64(&[0.2, 0.5, 0.9])).unwrap();
    let qv = Var::from_tensor(&t64(&[0.0, 0.4]).reshape((2, 1)).unwrap()).unwrap();
    let p = Bernoulli::new(pv.as_tensor()).unwrap();
    let q = Bernoulli::new(qv.as_tensor()).unwrap();
    let kl = kl_divergence(&p, &q).unwrap();
    assert_eq!(kl.dims(), &[2, 3]);
    let got = host(&kl);
    for (i, qq) in [0.0, 0.4].iter().enumerate() {
        for (j, pp) in [0.2, 0.5, 0.9].iter().enumerate() {
            let want = if *qq == 0.0 {
                f64::INFINITY
            } else {
                bern_kl(*pp, *qq)
            };
            let g = got[i * 3 + j];
            assert!(
                g == want || (g - want).abs() < 1e-14 * want,
                "{pp} {qq}: {g} vs {want}"
            );
        }
    }
    let g = kl.backward().unwrap();
    let gp = host(g.get(pv.as_tensor()).unwrap());
    // ∂/∂p of the finite row (q = 0.4) only: ln(p/q) − ln((1 − p)/(1 − q)).
    for (j, pp) in [0.2f64, 0.5, 0.9].iter().enumerate() {
        let want = (pp / 0.4).ln() - ((1.0 - pp) / 0.6).ln();
        assert!((gp[j] - want).abs() < 1e-12, "{}: {} vs {want}", pp, gp[j]);
    }
    let gq = host(g.get(qv.as_tensor()).unwrap());
    assert_eq!(gq[0], 0.0);
    assert!(gq[1].is_finite());
}

/// Binomials with q.total_count > p.total_count have a finite KL without a closed form:
/// a typed error naming both, as torch's NotImplementedError.
#[test]
fn binomial_with_larger_q_total_count_is_not_implemented() {
    let p = Binomial::new(5.0, 0.3).unwrap();
    let q = Binomial::new(&t64(&[5.0, 8.0]), 0.3).unwrap();
    match kl_divergence(&p, &q) {
        Err(Error::NotImplemented { reason, .. }) => {
            let r = reason.unwrap();
            assert!(r.contains("Binomial") && r.contains("total_count"), "{r}");
        }
        other => panic!("expected NotImplemented, got {other:?}"),
    }
    // Larger p.total_count: +∞, element by element.
    let p = Binomial::new(&t64(&[8.0, 5.0]), &t64(&[0.3])).unwrap();
    let q = Binomial::new(&t64(&[5.0]), &t64(&[0.3])).unwrap();
    assert_eq!(
        host(&kl_divergence(&p, &q).unwrap()),
        vec![f64::INFINITY, 0.0]
    );
}

/// Categoricals with different numbers of classes cannot be compared: a shape error.
#[test]
fn categoricals_need_the_same_number_of_classes() {
    let p = Categorical::new(&t64(&[0.5, 0.5])).unwrap();
    let q = Categorical::new(&t64(&[0.2, 0.3, 0.5])).unwrap();
    assert!(matches!(kl_divergence(&p, &q), Err(Error::Shape { .. })));
}

/// Families torch registers no pair for (NegativeBinomial/NegativeBinomial, Categorical/
/// Bernoulli) are typed errors naming both distributions.
#[test]
fn unregistered_pairs_are_typed_errors() {
    let a = NegativeBinomial::new(3.0, 0.4).unwrap();
    let b = NegativeBinomial::new(2.0, 0.5).unwrap();
    match kl_divergence(&a, &b) {
        Err(Error::NotImplemented { reason, .. }) => {
            assert!(reason.unwrap().contains("NegativeBinomial"))
        }
        other => panic!("{other:?}"),
    }
    let c = Categorical::new(&t64(&[0.5, 0.5])).unwrap();
    let d = Bernoulli::new(0.5).unwrap();
    assert!(matches!(
        kl_divergence(&c, &d),
        Err(Error::NotImplemented { .. })
    ));
}

/// A law with atoms against one with a density, either way round, is +∞.
#[test]
fn discrete_against_continuous_is_infinite() {
    let dev = Device::Cpu;
    let normal = Normal::from_scalars(0.0, 1.0, DType::F64, &dev).unwrap();
    let gamma = Gamma::from_scalars(2.0, 1.0, DType::F32, &dev).unwrap();
    let relaxed = RelaxedBernoulli::new(0.5, 0.3).unwrap();
    let discrete: Vec<Box<dyn Distribution>> = vec![
        Box::new(Bernoulli::new(0.3).unwrap()),
        Box::new(Binomial::new(4.0, 0.3).unwrap()),
        Box::new(Geometric::new(0.3).unwrap()),
        Box::new(Poisson::new(2.0).unwrap()),
        Box::new(NegativeBinomial::new(2.0, 0.3).unwrap()),
        Box::new(Categorical::new(&t64(&[0.2, 0.8])).unwrap()),
    ];
    for d in &discrete {
        for c in [
            &normal as &dyn Distribution,
            &gamma as &dyn Distribution,
            &relaxed as &dyn Distribution,
        ] {
            for (a, b) in [(d.as_ref(), c), (c, d.as_ref())] {
                let kl = kl_divergence(a, b).unwrap();
                assert_eq!(
                    host(&kl),
                    vec![f64::INFINITY],
                    "{} ‖ {}",
                    a.name(),
                    b.name()
                );
            }
        }
    }
}

/// One-hot vectors and counts against densities on the simplex, either way round: +∞
/// (OneHotCategoricalStraightThrough through its parent OneHotCategorical).
#[test]
fn vector_atoms_against_simplex_densities_are_infinite() {
    let probs = t64(&[0.2, 0.3, 0.5]);
    let atoms: Vec<Box<dyn Distribution>> = vec![
        Box::new(OneHotCategorical::new(&probs).unwrap()),
        Box::new(OneHotCategoricalStraightThrough::new(&probs).unwrap()),
        Box::new(Multinomial::new(4, &probs).unwrap()),
    ];
    let densities: Vec<Box<dyn Distribution>> = vec![
        Box::new(Dirichlet::new(&t64(&[1.0, 2.0, 3.0])).unwrap()),
        Box::new(RelaxedOneHotCategorical::new(0.5, &probs).unwrap()),
    ];
    for a in &atoms {
        for d in &densities {
            for (x, y) in [(a.as_ref(), d.as_ref()), (d.as_ref(), a.as_ref())] {
                let kl = kl_divergence(x, y).unwrap();
                assert_eq!(
                    host(&kl),
                    vec![f64::INFINITY],
                    "{} ‖ {}",
                    x.name(),
                    y.name()
                );
            }
        }
    }
}

/// OneHotCategoricalStraightThrough is a OneHotCategorical (torch subclasses it): the
/// pair dispatches to the categorical sum.
#[test]
fn straight_through_dispatches_as_one_hot() {
    let p = OneHotCategoricalStraightThrough::new(&t64(&[0.2, 0.3, 0.5])).unwrap();
    let q = OneHotCategorical::new(&t64(&[0.5, 0.25, 0.25])).unwrap();
    let want = 0.2 * (0.2f64 / 0.5).ln() + 0.3 * (0.3f64 / 0.25).ln() + 0.5 * (0.5f64 / 0.25).ln();
    for (a, b) in [
        (&p as &dyn Distribution, &q as &dyn Distribution),
        (&p as &dyn Distribution, &p as &dyn Distribution),
    ] {
        let kl = host(&kl_divergence(a, b).unwrap())[0];
        let w = if std::ptr::eq(a as *const _ as *const u8, b as *const _ as *const u8) {
            0.0
        } else {
            want
        };
        assert!((kl - w).abs() < 1e-15, "{kl} vs {w}");
    }
}

/// Logits of ±1e38 in f32 (and ±∞) give finite or exactly infinite KLs, never NaN;
/// nearly equal f32 laws keep their relative accuracy (no cancellation).
#[test]
fn extreme_logits_give_no_nan() {
    let l = Tensor::new(&[1e38f32, -1e38, 0.0, 5.0], &Device::Cpu).unwrap();
    let p = Bernoulli::from_logits(&l).unwrap();
    let q = Bernoulli::from_logits(&l.flip(&[0]).unwrap()).unwrap();
    let kl = host(&kl_divergence(&p, &q).unwrap());
    // Logits (1e38, −1e38, 0, 5) against (5, 0, −1e38, 1e38): ln(1/σ(5)) = softplus(−5);
    // ln 2 (p puts all its mass on failure); ½ ln(½/σ(−1e38)) + ½ ln ½ ≈ 1e38/2;
    // σ(−5) ln(σ(−5)/σ(−1e38)) + σ(5) ln σ(5) ≈ σ(−5)·1e38. Finite, as the logits are.
    let big = 1e38f32 as f64;
    let sp = |x: f64| (1.0f64 + x.exp()).ln();
    let want = [
        sp(-5.0),
        2f64.ln(),
        0.5 * (big - 2f64.ln()) - 0.5 * 2f64.ln(),
        {
            let (s5, sm5) = (1.0 / (1.0 + (-5f64).exp()), 1.0 / (1.0 + 5f64.exp()));
            sm5 * (sm5.ln() + big) + s5 * s5.ln()
        },
    ];
    for (g, w) in kl.iter().zip(want) {
        assert!((g - w).abs() <= 1e-6 * w, "{g} vs {w}");
    }
    // Categorical with −1e38 and −∞ logits: finite.
    let a = Categorical::from_logits(
        &Tensor::new(&[0.0f32, -1e38, f32::NEG_INFINITY], &Device::Cpu).unwrap(),
    )
    .unwrap();
    let b = Categorical::from_logits(
        &Tensor::new(&[1.0f32, 0.0, f32::NEG_INFINITY], &Device::Cpu).unwrap(),
    )
    .unwrap();
    let kl = host(&kl_divergence(&a, &b).unwrap())[0];
    // p = (1, 0, 0), q = softmax(1, 0): −ln q₀ = softplus(−1).
    let want = (1.0f64 + (-1.0f64).exp()).ln();
    assert!((kl - want).abs() < 1e-6 * want, "{kl} vs {want}");
    // Nearly equal Poisson rates in f32: λ φ(ln μ − ln λ) ≈ (μ − λ)²/(2λ).
    let p = Poisson::new(&Tensor::new(1000f32, &Device::Cpu).unwrap()).unwrap();
    let q = Poisson::new(&Tensor::new(1000.0625f32, &Device::Cpu).unwrap()).unwrap();
    let kl = host(&kl_divergence(&p, &q).unwrap())[0];
    let (lam, mu) = (1000f64, 1000.0625f64);
    let want = lam * (lam / mu).ln() - lam + mu;
    assert!((kl - want).abs() < 1e-6 * want, "{kl} vs {want}");
}

/// Mixed dtypes promote to f64 (as torch's promotion), and the result is the f64 KL.
#[test]
fn mixed_dtypes_promote_to_f64() {
    let p = Poisson::new(&Tensor::new(2.5f32, &Device::Cpu).unwrap()).unwrap();
    let q = Poisson::new(&Tensor::new(4.0f64, &Device::Cpu).unwrap()).unwrap();
    let kl = kl_divergence(&p, &q).unwrap();
    assert_eq!(kl.dtype(), DType::F64);
    let want = 2.5 * (2.5f64 / 4.0).ln() - 2.5 + 4.0;
    assert!((kl.to_scalar::<f64>().unwrap() - want).abs() < 1e-15);
}

/// KL(p ‖ p) is exactly 0 (every G term is e^ℓ·φ(0)), for both parameterizations, in
/// both dtypes, with zero gradient.
#[test]
fn self_divergence_is_exactly_zero() {
    for dtype in [DType::F64, DType::F32] {
        let t = |v: &[f64]| t64(v).to_dtype(dtype).unwrap();
        let probs = t(&[0.0, 1e-6, 0.3, 0.999, 1.0]);
        let logits = t(&[f64::NEG_INFINITY, -30.0, 0.5, 12.0, f64::INFINITY]);
        let rows = t(&[0.2, 0.0, 0.8, 1.0, 1.0, 1.0]).reshape((2, 3)).unwrap();
        let dists: Vec<Box<dyn Distribution>> = vec![
            Box::new(Bernoulli::new(&probs).unwrap()),
            Box::new(Bernoulli::from_logits(&logits).unwrap()),
            Box::new(Geometric::new(&t(&[1e-3, 0.3, 1.0])).unwrap()),
            Box::new(Geometric::from_logits(&t(&[-8.0, 0.0, 9.0])).unwrap()),
            Box::new(Binomial::new(&t(&[0.0, 3.0, 1e6]), &t(&[0.2, 0.5, 1.0])).unwrap()),
            Box::new(Poisson::new(&t(&[0.0, 1e-4, 3.0, 1e5])).unwrap()),
            Box::new(Categorical::new(&rows).unwrap()),
            Box::new(Categorical::from_logits(&rows.log().unwrap()).unwrap()),
        ];
        for d in &dists {
            let kl = host(&kl_divergence(d.as_ref(), d.as_ref()).unwrap());
            assert!(
                kl.iter().all(|v| *v == 0.0),
                "{} {dtype:?}: {kl:?}",
                d.name()
            );
        }
    }
}

/// Categorical batches broadcast like any batch shape ([2] rows against one row).
#[test]
fn categorical_batches_broadcast() {
    let p = Categorical::new(
        &t64(&[0.2, 0.3, 0.5, 0.6, 0.3, 0.1])
            .reshape((2, 3))
            .unwrap(),
    )
    .unwrap();
    let q = Categorical::from_logits(&t64(&[0.0, 1.0, 2.0])).unwrap();
    let kl = kl_divergence(&p, &q).unwrap();
    assert_eq!(kl.dims(), &[2]);
    let z: f64 = [0.0f64, 1.0, 2.0].iter().map(|l| l.exp()).sum();
    let lq = |i: usize| i as f64 - z.ln();
    let want = |ps: [f64; 3]| -> f64 { (0..3).map(|i| ps[i] * (ps[i].ln() - lq(i))).sum() };
    let got = host(&kl);
    for (g, w) in got
        .iter()
        .zip([want([0.2, 0.3, 0.5]), want([0.6, 0.3, 0.1])])
    {
        assert!((g - w).abs() < 1e-14 * w, "{g} vs {w}");
    }
}
