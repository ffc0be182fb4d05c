//! Sweep of every continuous family (and Dirichlet) over parameter extremes — 1e-300,
//! subnormal, 0.05..0.5, 1e300, the dtype's MAX — in f32 and f64: every method, every
//! in-support value (support edges, ±MAX, ±∞ included), rsample and its parameter
//! gradients, log_prob at the draws and its gradients. The project rule it checks: for
//! valid parameters no result is NaN (finite or the correct ±∞ only; the few moments
//! that are undefined for the parameters, e.g. the Cauchy mean, are listed in
//! `undefined_moment`). No panics either: each case runs under `catch_unwind`.
//!
//! A failure lists every offending (family, dtype, parameters, method) so that the
//! whole class is visible at once.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use candle_distributions::Dirichlet;

type Build = fn(&[Tensor]) -> candle_distributions::Result<Box<dyn Distribution>>;

struct Family {
    name: &'static str,
    grids: Vec<Vec<f64>>,
    build: Build,
}

const POS: [f64; 10] = [5e-324, 1e-300, 1e-8, 0.05, 0.117, 0.5, 1.0, 3.0, 1e8, 1e300];
const POS_SMALL: [f64; 7] = [1e-300, 0.05, 0.117, 0.5, 1.0, 3.0, 1e300];
const REAL: [f64; 5] = [0.0, -1e300, 1.5, 1e300, -3.0];

fn boxed<D: Distribution + 'static>(
    d: candle_distributions::Result<D>,
) -> candle_distributions::Result<Box<dyn Distribution>> {
    Ok(Box::new(d?))
}

fn families() -> Vec<Family> {
    let pos = POS.to_vec();
    let pos_s = POS_SMALL.to_vec();
    let real = REAL.to_vec();
    let f = |name, grids: Vec<Vec<f64>>, build: Build| Family { name, grids, build };
    vec![
        f("Gamma", vec![pos.clone(), pos.clone()], |p| {
            boxed(Gamma::new(&p[0], &p[1]))
        }),
        f("InverseGamma", vec![pos.clone(), pos.clone()], |p| {
            boxed(InverseGamma::new(&p[0], &p[1]))
        }),
        f("Chi2", vec![pos.clone()], |p| boxed(Chi2::new(&p[0]))),
        f("Beta", vec![pos.clone(), pos.clone()], |p| {
            boxed(Beta::new(&p[0], &p[1]))
        }),
        f("Kumaraswamy", vec![pos.clone(), pos.clone()], |p| {
            boxed(Kumaraswamy::new(&p[0], &p[1]))
        }),
        f(
            "StudentT",
            vec![pos.clone(), vec![0.0, 1e300, -2.0], pos_s.clone()],
            |p| boxed(StudentT::new(&p[0], &p[1], &p[2])),
        ),
        f("FisherSnedecor", vec![pos.clone(), pos.clone()], |p| {
            boxed(FisherSnedecor::new(&p[0], &p[1]))
        }),
        f(
            "TruncatedNormal",
            vec![
                vec![0.0, 1e4, -1e300, 0.709],
                vec![1e-300, 0.05, 0.818, 1.0, 1e300],
                vec![f64::NEG_INFINITY, -2.7, 0.0, 8.12, 1e300],
                vec![f64::INFINITY, 50.0, 5.4, 1e-300],
            ],
            |p| boxed(TruncatedNormal::new(&p[0], &p[1], &p[2], &p[3])),
        ),
        f("Normal", vec![real.clone(), pos.clone()], |p| {
            boxed(Normal::new(&p[0], &p[1]))
        }),
        f("Gumbel", vec![real.clone(), pos.clone()], |p| {
            boxed(Gumbel::new(&p[0], &p[1]))
        }),
        f("Cauchy", vec![real.clone(), pos.clone()], |p| {
            boxed(Cauchy::new(&p[0], &p[1]))
        }),
        f("Laplace", vec![real.clone(), pos.clone()], |p| {
            boxed(Laplace::new(&p[0], &p[1]))
        }),
        f("HalfNormal", vec![pos.clone()], |p| {
            boxed(HalfNormal::new(&p[0]))
        }),
        f("HalfCauchy", vec![pos.clone()], |p| {
            boxed(HalfCauchy::new(&p[0]))
        }),
        f("Exponential", vec![pos.clone()], |p| {
            boxed(Exponential::new(&p[0]))
        }),
        f(
            "GeneralizedPareto",
            vec![
                vec![0.0, -1e300, 2.0],
                pos_s.clone(),
                vec![-1e300, -3.0, -0.5, -1e-300, 0.0, 1e-8, 0.117, 3.0, 1e300],
            ],
            |p| boxed(GeneralizedPareto::new(&p[0], &p[1], &p[2])),
        ),
        f(
            "ContinuousBernoulli",
            vec![vec![
                0.0, 5e-324, 1e-300, 1e-8, 0.05, 0.3, 0.4999999, 0.5, 0.5000001, 0.9, 1.0,
            ]],
            |p| boxed(ContinuousBernoulli::new(&p[0])),
        ),
        f("LogNormal", vec![real.clone(), pos_s.clone()], |p| {
            boxed(LogNormal::new(&p[0], &p[1]))
        }),
        f("VonMises", vec![vec![0.0, 3.0], pos.clone()], |p| {
            boxed(VonMises::new(&p[0], &p[1]))
        }),
        f(
            "Dirichlet",
            vec![pos.clone(), pos.clone(), pos_s.clone()],
            |p| {
                let c = Tensor::stack(&[&p[0], &p[1], &p[2]], 0)?;
                boxed(Dirichlet::new(&c))
            },
        ),
    ]
}

/// Moments that are undefined (torch returns NaN) for some parameters.
fn undefined_moment(fam: &str, method: &str, p: &[f64]) -> bool {
    let moment = matches!(method, "mean" | "variance" | "stddev");
    // The mode is NaN where it is not unique or not attained (torch's convention for
    // Kumaraswamy and Fisher–Snedecor; Beta with a ≤ 1 or b ≤ 1, ContinuousBernoulli
    // at 1/2, Dirichlet with a concentration ≤ 1).
    if method == "mode"
        && matches!(
            fam,
            "Beta" | "Kumaraswamy" | "FisherSnedecor" | "ContinuousBernoulli" | "Dirichlet"
        )
    {
        return true;
    }
    match fam {
        "Cauchy" => moment,
        "StudentT" => moment && p[0] <= 1.0,
        "FisherSnedecor" => moment && (p[1] <= 2.0 || (method != "mean" && p[1] <= 4.0)),
        _ => false,
    }
}

/// `v` mapped into the range of `dtype` (f32: ±1e300 → ±MAX, 5e-324 → the smallest
/// f32 subnormal, 1e-300 → the smallest f32 normal).
fn for_dtype(v: f64, dtype: DType) -> f64 {
    if dtype == DType::F64 || v == 0.0 || !v.is_finite() {
        return v;
    }
    let a = v.abs();
    let m = if a > f32::MAX as f64 {
        f32::MAX as f64
    } else if a < 1e-320 {
        1e-45
    } else if a < 1e-38 {
        f32::MIN_POSITIVE as f64
    } else {
        a
    };
    m.copysign(v)
}

fn values(dtype: DType) -> Vec<f64> {
    let (max, tiny, sub) = if dtype == DType::F32 {
        (f32::MAX as f64, f32::MIN_POSITIVE as f64, 1e-45)
    } else {
        (f64::MAX, f64::MIN_POSITIVE, 5e-324)
    };
    vec![
        f64::NEG_INFINITY,
        -max,
        -1e30,
        -3.0,
        -1.0,
        -0.5,
        -tiny,
        0.0,
        sub,
        tiny,
        1e-8,
        0.3,
        0.5,
        1.0 - 1e-7,
        1.0,
        2.0,
        3.0,
        8.12,
        1e30,
        max,
        f64::INFINITY,
    ]
}

fn host(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .and_then(|t| t.to_dtype(DType::F64))
        .and_then(|t| t.to_vec1::<f64>())
        .unwrap()
}

struct Report {
    bad: Vec<String>,
    errs: Vec<String>,
    cases: usize,
}

impl Report {
    fn check(&mut self, ctx: &str, method: &str, t: &Tensor, fam: &str, p: &[f64]) {
        let v = host(t);
        if undefined_moment(fam, method, p) {
            return;
        }
        if let Some(i) = v.iter().position(|x| x.is_nan()) {
            self.bad.push(format!("{ctx} {method}: NaN at index {i}"));
        }
    }
}

fn combos(grids: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut out = vec![vec![]];
    for g in grids {
        let mut next = vec![];
        for c in &out {
            for &v in g {
                let mut c2 = c.clone();
                c2.push(v);
                next.push(c2);
            }
        }
        out = next;
    }
    out
}

fn run_case(fam: &Family, p: &[f64], dtype: DType, rep: &mut Report) {
    let dev = Device::Cpu;
    let ctx = format!("{} {:?} {:?}", fam.name, dtype, p);
    let vars: Vec<Var> = p
        .iter()
        .map(|&v| {
            Var::from_tensor(&Tensor::new(v, &dev).unwrap().to_dtype(dtype).unwrap()).unwrap()
        })
        .collect();
    let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let d = match (fam.build)(&ts) {
        Ok(d) => d,
        Err(candle_distributions::Error::InvalidParameter { .. }) => return,
        Err(e) => {
            rep.errs.push(format!("{ctx} new: {e}"));
            return;
        }
    };
    rep.cases += 1;
    let grads_of = |loss: &Tensor, what: &str, rep: &mut Report| match loss.backward() {
        Ok(g) => {
            for (k, v) in vars.iter().enumerate() {
                if let Some(gt) = g.get(v.as_tensor()) {
                    rep.check(&ctx, &format!("{what} grad[{k}]"), gt, fam.name, p);
                }
            }
        }
        Err(e) => rep.errs.push(format!("{ctx} {what} backward: {e}")),
    };
    for (m, r) in [
        ("mean", d.mean()),
        ("variance", d.variance()),
        ("stddev", d.stddev()),
        ("entropy", d.entropy()),
        ("mode", d.mode()),
    ] {
        match r {
            Ok(t) => rep.check(&ctx, m, &t, fam.name, p),
            Err(candle_distributions::Error::NotImplemented { .. }) => {}
            Err(e) => rep.errs.push(format!("{ctx} {m}: {e}")),
        }
    }
    let mut g = Generator::new(7);
    match d.rsample(&[64], &mut g) {
        Ok(x) => {
            rep.check(&ctx, "rsample", &x, fam.name, p);
            if d.has_rsample() {
                grads_of(&x.sum_all().unwrap(), "rsample", rep);
            }
            match d.log_prob(&x) {
                Ok(lp) => {
                    rep.check(&ctx, "log_prob(draw)", &lp, fam.name, p);
                    if d.has_rsample() {
                        grads_of(&lp.sum_all().unwrap(), "log_prob(rsample)", rep);
                    }
                }
                Err(e) => rep.errs.push(format!("{ctx} log_prob(draw): {e}")),
            }
        }
        Err(candle_distributions::Error::NotImplemented { .. }) => {}
        Err(e) => rep.errs.push(format!("{ctx} rsample: {e}")),
    }
    if fam.name == "Dirichlet" {
        return;
    }
    for &v in &values(dtype) {
        let x = Tensor::new(v, &dev).unwrap().to_dtype(dtype).unwrap();
        for (m, r) in [("log_prob", d.log_prob(&x)), ("cdf", d.cdf(&x))] {
            match r {
                Ok(t) => {
                    rep.check(&ctx, &format!("{m}({v:e})"), &t, fam.name, p);
                    if m == "log_prob" {
                        grads_of(&t.sum_all().unwrap(), &format!("log_prob({v:e})"), rep);
                    }
                }
                Err(candle_distributions::Error::OutOfSupport { .. })
                | Err(candle_distributions::Error::NotImplemented { .. }) => {}
                Err(e) => rep.errs.push(format!("{ctx} {m}({v:e}): {e}")),
            }
        }
    }
    for q in [0.0, 1e-300, 1e-30, 0.3, 0.5, 1.0 - 1e-7, 1.0] {
        let qt = Tensor::new(q, &dev).unwrap().to_dtype(dtype).unwrap();
        match d.icdf(&qt) {
            Ok(t) => rep.check(&ctx, &format!("icdf({q:e})"), &t, fam.name, p),
            Err(candle_distributions::Error::OutOfSupport { .. })
            | Err(candle_distributions::Error::NotImplemented { .. }) => {}
            Err(e) => rep.errs.push(format!("{ctx} icdf({q:e}): {e}")),
        }
    }
}

fn sweep(only: Option<&str>) -> Report {
    let mut rep = Report {
        bad: vec![],
        errs: vec![],
        cases: 0,
    };
    for fam in families() {
        if only.is_some_and(|o| o != fam.name) {
            continue;
        }
        for dtype in [DType::F64, DType::F32] {
            let mut seen = std::collections::HashSet::new();
            for c in combos(&fam.grids) {
                let c: Vec<f64> = c.iter().map(|&v| for_dtype(v, dtype)).collect();
                if !seen.insert(format!("{c:?}")) {
                    continue;
                }
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut local = Report {
                        bad: vec![],
                        errs: vec![],
                        cases: 0,
                    };
                    run_case(&fam, &c, dtype, &mut local);
                    local
                }));
                match r {
                    Ok(l) => {
                        rep.bad.extend(l.bad);
                        rep.errs.extend(l.errs);
                        rep.cases += l.cases;
                    }
                    Err(_) => rep
                        .bad
                        .push(format!("{} {:?} {:?}: PANIC", fam.name, dtype, c)),
                }
            }
        }
    }
    rep
}

/// A diagnostic, not part of the default run (about 4 minutes on one core): run with
/// `cargo test -p candle-distributions --test suite nonfinite_sweep:: -- --ignored --nocapture`
/// (`SWEEP_ONLY=Gamma` for one family). It still reports findings at subnormal and
/// 1e300-scale parameters (NaN gradients of log_prob at such parameters, special
/// functions at shape ≈ 5e-324); at ordinary parameters (0.05 … 1e8) only VonMises at
/// ±∞ values and a few Kumaraswamy moments at a = 1e8 remain.
#[test]
#[ignore = "diagnostic sweep (~4 min); see the doc comment"]
fn no_nan_and_no_panic_at_parameter_extremes() {
    let only = std::env::var("SWEEP_ONLY").ok();
    let rep = sweep(only.as_deref());
    for e in &rep.errs {
        eprintln!("ERR {e}");
    }
    for b in &rep.bad {
        eprintln!("BAD {b}");
    }
    eprintln!(
        "{} distributions built, {} NaN/panic findings, {} errors",
        rep.cases,
        rep.bad.len(),
        rep.errs.len()
    );
    assert!(rep.bad.is_empty(), "{} findings", rep.bad.len());
}
