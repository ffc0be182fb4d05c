//! Conformance of the location-scale families against high-precision references.
//!
//! `reference/location_scale.json` is produced by `reference/gen_location_scale.py`
//! with mpmath at 50 digits (gradients by `mpmath.diff` at 400 digits); every input is
//! exactly representable in f32, so the f64 and f32 runs below see bit-identical inputs.
//!
//! For every case and in both f64 and f32 this checks `log_prob` and `cdf` at the
//! values, `icdf` at the quantiles, the five moments, and the gradients of `log_prob`
//! and `cdf` with respect to every parameter and to the value. Parameters and values
//! are `Var`s of shape `[n_values]` filled with the case's parameter, so after
//! `sum().backward()` each element's gradient is the per-value partial derivative.
//!
//! All mismatches are collected and reported together; run with `--nocapture` to see
//! the max-error table of every distribution (method × dtype).
//!
//! Two further tests check the pathwise (`rsample`) gradient identities of every family
//! and that `rsample_and_log_prob` agrees with `log_prob` of its own draw, in value and
//! in parameter gradients.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::prelude::*;
use serde_json::Value;
use std::fmt::Write as _;

use crate::common;
use common::{num, nums, quote_numbers};

type TestResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const REFERENCE_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/location_scale.json"
);
/// The families beyond location-scale (Gamma, Beta, StudentT, ...), written by
/// `reference/gen_*_family.py`.
const SHAPE_FAMILIES_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/shape_families.json"
);

// ---------------------------------------------------------------------------
// Tolerances
// ---------------------------------------------------------------------------
//
// A result passes when |ours − ref| ≤ rtol·|ref| + atol, and non-finite references
// must be matched exactly (NaN ↔ NaN, ±∞ ↔ the same ∞).
//
// f64: rtol = 1e-10 leaves ~10⁶ ulps for the few roundings of each formula and for the
// conditioning of the standardisation z = (x − loc)/scale (a relative rounding ε of z
// moves f by |z·f'(z)|·ε). atol = 1e-12 only matters where the reference is (near)
// zero: the exact zeros of the grid (d/dloc at z = 0, d/dscale of a Normal at z = 1,
// d/dvalue of a Uniform) and cdf values below f64's range (Gumbel at z = −30).
const F64_RTOL: f64 = 1e-10;
const F64_ATOL: f64 = 1e-12;
// f32: the kernels evaluate in f64 and round, but the standardisation and the tensor
// ops around it run in f32, so each result carries a few f32 roundings (u = 2⁻²⁴ ≈
// 6e-8) amplified by the conditioning of the function at the point: rtol = 1e-5
// allows a condition number of ~10² (e.g. Φ(z) at z = −12, whose relative error is
// ≈ z²·u). Near zero a relative criterion is meaningless: a log_prob or gradient that
// is a difference of O(1) terms carries an absolute error ~u·O(1) ≈ 1e-7, hence
// atol = 1e-6. References below f32's range (a cdf of 5e-198) are met by that atol;
// references above it must come back as the same ∞ (see `expected_in`).
//
// Both precisions: one quantity is by construction a difference of large terms, the
// derivative of log_prob in the scale, d lp/d scale = −1/scale + z·(d lp/d loc) (for
// Exponential, d lp/d rate = 1/rate − x). It crosses zero inside the grid (|z| = 1 for
// Normal, Laplace and Cauchy; x = 1/rate), where it cancels terms of magnitude
// M = 1/scale + |z·d lp/d loc| (≈ 2·10³ at scale = 10⁻³). Its absolute error there is
// ~u·M whatever the implementation (z itself carries a relative rounding u: in f32, at
// loc = −2.5, scale = 10⁻³, z = 1 + 2.4e-4, so z² − 1 has a relative error of ~2.5e-4),
// so for that quantity only the atol above is scaled by max(1, M), computed from the
// reference inputs (`scale_terms`). Every other quantity uses atol as is.
//
// The printed table gives, per method and dtype, the largest relative error over the
// entries where the tolerance is dominated by its relative part (|ref| ≥ atol/rtol) and
// the largest err/tol over all entries (a test fails when it exceeds 1).
const F32_RTOL: f64 = 1e-5;
const F32_ATOL: f64 = 1e-6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prec {
    F64,
    F32,
}

impl Prec {
    fn dtype(self) -> DType {
        match self {
            Prec::F64 => DType::F64,
            Prec::F32 => DType::F32,
        }
    }
    fn tol(self) -> (f64, f64) {
        match self {
            Prec::F64 => (F64_RTOL, F64_ATOL),
            Prec::F32 => (F32_RTOL, F32_ATOL),
        }
    }
    /// Machine epsilon of the dtype.
    fn eps(self) -> f64 {
        match self {
            Prec::F64 => f64::EPSILON,
            Prec::F32 => f32::EPSILON as f64,
        }
    }
    fn index(self) -> usize {
        match self {
            Prec::F64 => 0,
            Prec::F32 => 1,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Prec::F64 => "f64",
            Prec::F32 => "f32",
        }
    }
}

/// The reference as the tested dtype can hold it: a finite f64 reference beyond f32's
/// range is expected as the ∞ it rounds to (an f64 below f32's range stays as it is and
/// is met by the absolute tolerance).
fn expected_in(prec: Prec, reference: f64) -> f64 {
    match prec {
        Prec::F64 => reference,
        Prec::F32 => {
            let r = reference as f32;
            if reference.is_finite() && r.is_infinite() {
                r as f64
            } else {
                reference
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Case {
    dist: String,
    /// Parameters in constructor order.
    params: Vec<(&'static str, f64)>,
    values: Vec<f64>,
    log_prob: Vec<f64>,
    cdf: Vec<f64>,
    /// Per parameter (constructor order) then "value".
    grad_log_prob: Vec<(&'static str, Vec<f64>)>,
    grad_cdf: Vec<(&'static str, Vec<f64>)>,
    q: Vec<f64>,
    icdf: Vec<f64>,
    moments: Vec<(&'static str, f64)>,
}

/// Constructor parameters of each family, in order.
fn param_names(dist: &str) -> &'static [&'static str] {
    match dist {
        "Uniform" => &["low", "high"],
        "Exponential" => &["rate"],
        "HalfNormal" | "HalfCauchy" => &["scale"],
        "Normal" | "Laplace" | "Cauchy" | "Gumbel" | "LogNormal" => &["loc", "scale"],
        "Gamma" | "InverseGamma" => &["concentration", "rate"],
        "Chi2" => &["df"],
        "Beta" | "Kumaraswamy" => &["concentration1", "concentration0"],
        "StudentT" => &["df", "loc", "scale"],
        "FisherSnedecor" => &["df1", "df2"],
        "GeneralizedPareto" => &["loc", "scale", "concentration"],
        "ContinuousBernoulli" => &["probs"],
        "VonMises" => &["loc", "concentration"],
        "TruncatedNormal" => &["loc", "scale", "low", "high"],
        other => panic!("unknown distribution {other}"),
    }
}

const MOMENTS: [&str; 5] = ["entropy", "mean", "mode", "variance", "stddev"];

fn load_cases(path: &str, expected: usize) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&quote_numbers(&text)).expect("reference JSON parses");
    let cases = doc["cases"].as_array().expect("cases");
    let out: Vec<Case> = cases
        .iter()
        .map(|c| {
            let dist = c["dist"].as_str().expect("dist").to_string();
            let names = param_names(&dist);
            let params: Vec<(&'static str, f64)> =
                names.iter().map(|&n| (n, num(&c["params"][n]))).collect();
            assert_eq!(
                c["params"].as_object().map(|o| o.len()),
                Some(names.len()),
                "{dist}: params"
            );
            let grads = |key: &str| -> Vec<(&'static str, Vec<f64>)> {
                if c.get(key).is_none() {
                    return vec![];
                }
                names
                    .iter()
                    .chain(std::iter::once(&"value"))
                    .map(|&n| (n, nums(&c[key][n])))
                    .collect()
            };
            let case = Case {
                params,
                values: nums(&c["values"]),
                log_prob: nums(&c["log_prob"]),
                cdf: c.get("cdf").map(nums).unwrap_or_default(),
                grad_log_prob: grads("grad_log_prob"),
                grad_cdf: grads("grad_cdf"),
                q: c.get("q").map(nums).unwrap_or_default(),
                icdf: c.get("icdf").map(nums).unwrap_or_default(),
                moments: MOMENTS.iter().map(|&m| (m, num(&c[m]))).collect(),
                dist,
            };
            let n = case.values.len();
            assert!(n > 0);
            assert_eq!(case.log_prob.len(), n, "{}: lengths", case.dist);
            assert!(
                case.cdf.is_empty() || case.cdf.len() == n,
                "{}: lengths",
                case.dist
            );
            for (_, g) in case.grad_log_prob.iter().chain(&case.grad_cdf) {
                assert_eq!(g.len(), n, "{}: gradient lengths", case.dist);
            }
            assert_eq!(case.q.len(), case.icdf.len());
            // The generator promises float32-exact inputs: the f32 run must see the
            // same numbers as the f64 run.
            for &x in case
                .values
                .iter()
                .chain(&case.q)
                .chain(case.params.iter().map(|(_, p)| p))
            {
                assert_eq!(
                    (x as f32) as f64,
                    x,
                    "{}: input {x} is not f32-exact",
                    case.dist
                );
            }
            case
        })
        .collect();
    assert_eq!(out.len(), expected, "{path}: number of cases");
    out
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn build(dist: &str, p: &[Tensor]) -> candle_distributions::Result<Box<dyn Distribution>> {
    Ok(match dist {
        "Normal" => Box::new(Normal::new(&p[0], &p[1])?),
        "Uniform" => Box::new(Uniform::new(&p[0], &p[1])?),
        "Exponential" => Box::new(Exponential::new(&p[0])?),
        "Laplace" => Box::new(Laplace::new(&p[0], &p[1])?),
        "Cauchy" => Box::new(Cauchy::new(&p[0], &p[1])?),
        "Gumbel" => Box::new(Gumbel::new(&p[0], &p[1])?),
        "LogNormal" => Box::new(LogNormal::new(&p[0], &p[1])?),
        "HalfNormal" => Box::new(HalfNormal::new(&p[0])?),
        "HalfCauchy" => Box::new(HalfCauchy::new(&p[0])?),
        "Gamma" => Box::new(Gamma::new(&p[0], &p[1])?),
        "InverseGamma" => Box::new(InverseGamma::new(&p[0], &p[1])?),
        "Chi2" => Box::new(Chi2::new(&p[0])?),
        "Beta" => Box::new(Beta::new(&p[0], &p[1])?),
        "Kumaraswamy" => Box::new(Kumaraswamy::new(&p[0], &p[1])?),
        "StudentT" => Box::new(StudentT::new(&p[0], &p[1], &p[2])?),
        "FisherSnedecor" => Box::new(FisherSnedecor::new(&p[0], &p[1])?),
        "GeneralizedPareto" => Box::new(GeneralizedPareto::new(&p[0], &p[1], &p[2])?),
        "ContinuousBernoulli" => Box::new(ContinuousBernoulli::new(&p[0])?),
        "VonMises" => Box::new(VonMises::new(&p[0], &p[1])?),
        "TruncatedNormal" => Box::new(TruncatedNormal::new(&p[0], &p[1], &p[2], &p[3])?),
        other => panic!("unknown distribution {other}"),
    })
}

fn tensor(v: &[f64], prec: Prec) -> candle_core::Result<Tensor> {
    Tensor::from_vec(v.to_vec(), v.len(), &Device::Cpu)?.to_dtype(prec.dtype())
}

fn var(v: &[f64], prec: Prec) -> candle_core::Result<Var> {
    Var::from_tensor(&tensor(v, prec)?)
}

fn host(t: &Tensor) -> candle_core::Result<Vec<f64>> {
    t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()
}

/// The gradient of `t` in `grads`, or zeros where no path leads to it (a value that a
/// density does not depend on gets no gradient at all).
fn grad_of(
    grads: &candle_core::backprop::GradStore,
    t: &Tensor,
    n: usize,
) -> candle_core::Result<Vec<f64>> {
    match grads.get(t) {
        Some(g) => host(g),
        None => Ok(vec![0.0; n]),
    }
}

fn fmt_params(params: &[(&str, f64)]) -> String {
    params
        .iter()
        .map(|(n, v)| format!("{n}={v:e}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// Failure collection and the error table
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Default)]
struct Stat {
    /// Max |ours − ref|/|ref| over entries where the relative part of the tolerance
    /// dominates (|ref| ≥ atol/rtol), i.e. where a relative error is meaningful.
    max_rel: f64,
    /// Max |ours − ref|/(rtol·|ref| + atol) over all finite entries (≤ 1 passes).
    max_ratio: f64,
    n: usize,
}

#[derive(Default)]
struct Report {
    failures: Vec<String>,
    /// dist → (method → [f64, f32]) in first-seen order.
    table: Vec<(String, MethodStats)>,
}

/// Per method, the statistics in f64 and f32.
type MethodStats = Vec<(String, [Stat; 2])>;

struct Ctx<'a> {
    case_no: usize,
    case: &'a Case,
    prec: Prec,
}

impl Report {
    fn stat(&mut self, dist: &str, method: &str, prec: Prec) -> &mut Stat {
        let di = match self.table.iter().position(|(d, _)| d == dist) {
            Some(i) => i,
            None => {
                self.table.push((dist.to_string(), vec![]));
                self.table.len() - 1
            }
        };
        let rows = &mut self.table[di].1;
        let mi = match rows.iter().position(|(m, _)| m == method) {
            Some(i) => i,
            None => {
                rows.push((method.to_string(), [Stat::default(); 2]));
                rows.len() - 1
            }
        };
        &mut rows[mi].1[prec.index()]
    }

    fn fail(&mut self, ctx: &Ctx, method: &str, msg: String) {
        self.failures.push(format!(
            "{} #{} ({}) [{}] {method}: {msg}",
            ctx.case.dist,
            ctx.case_no,
            fmt_params(&ctx.case.params),
            ctx.prec.name()
        ));
    }

    fn check(
        &mut self,
        ctx: &Ctx,
        method: &str,
        at: Option<(usize, f64)>,
        ours: f64,
        reference: f64,
        atol_scale: f64,
    ) {
        let (rtol, atol) = ctx.prec.tol();
        let atol = atol * atol_scale.max(1.0);
        let expect = expected_in(ctx.prec, reference);
        let (ok, err, tol) = if expect.is_nan() {
            (
                ours.is_nan(),
                if ours.is_nan() { 0.0 } else { f64::INFINITY },
                0.0,
            )
        } else if expect.is_infinite() {
            (
                ours == expect,
                if ours == expect { 0.0 } else { f64::INFINITY },
                0.0,
            )
        } else if !ours.is_finite() {
            (false, f64::INFINITY, rtol * expect.abs() + atol)
        } else {
            let err = (ours - expect).abs();
            let tol = rtol * expect.abs() + atol;
            (err <= tol, err, tol)
        };
        let rel = if expect.is_finite() && expect != 0.0 {
            err / expect.abs()
        } else if err == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
        let st = self.stat(&ctx.case.dist, method, ctx.prec);
        st.n += 1;
        if expect.abs() >= atol / rtol || !expect.is_finite() {
            st.max_rel = st.max_rel.max(rel);
        }
        if tol > 0.0 {
            st.max_ratio = st.max_ratio.max(err / tol);
        } else if !ok {
            st.max_ratio = f64::INFINITY;
        }
        if !ok {
            let at = match at {
                Some((idx, x)) => format!("[{idx}] at {x:e}"),
                None => String::new(),
            };
            self.fail(
                ctx,
                method,
                format!("{at}: ours {ours:e}, ref {reference:e}, rel err {rel:.2e}"),
            );
        }
    }

    fn check_all(
        &mut self,
        ctx: &Ctx,
        method: &str,
        inputs: Option<&[f64]>,
        ours: &[f64],
        reference: &[f64],
        atol_scales: Option<&[f64]>,
    ) {
        if ours.len() != reference.len() {
            self.fail(
                ctx,
                method,
                format!("{} results for {} references", ours.len(), reference.len()),
            );
            return;
        }
        for (i, (&o, &r)) in ours.iter().zip(reference).enumerate() {
            let a = atol_scales.map_or(1.0, |m| m[i]);
            self.check(ctx, method, inputs.map(|x| (i, x[i])), o, r, a);
        }
    }

    fn table_text(&self, title: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\n{title}");
        for (dist, rows) in &self.table {
            let _ = writeln!(s, "\n{dist}");
            let _ = writeln!(
                s,
                "  {:<22} {:>11} {:>11} {:>6} | {:>11} {:>11} {:>6}",
                "method", "f64 max rel", "f64 err/tol", "n", "f32 max rel", "f32 err/tol", "n"
            );
            for (m, st) in rows {
                let _ = writeln!(
                    s,
                    "  {:<22} {:>11.2e} {:>11.2e} {:>6} | {:>11.2e} {:>11.2e} {:>6}",
                    m,
                    st[0].max_rel,
                    st[0].max_ratio,
                    st[0].n,
                    st[1].max_rel,
                    st[1].max_ratio,
                    st[1].n
                );
            }
        }
        s
    }

    fn finish(self, title: &str) {
        println!("{}", self.table_text(title));
        if !self.failures.is_empty() {
            let mut msg = format!("{} failure(s):\n", self.failures.len());
            for f in &self.failures {
                msg.push_str("  ");
                msg.push_str(f);
                msg.push('\n');
            }
            panic!("{msg}");
        }
    }
}

// ---------------------------------------------------------------------------
// Reference conformance
// ---------------------------------------------------------------------------

/// Per value, the magnitude M of the terms that cancel in d lp/d scale
/// = −1/scale + z·(d lp/d loc), or in d lp/d rate = 1/rate − x (see the tolerances).
fn scale_terms(case: &Case) -> Vec<f64> {
    let p = |name: &str| {
        case.params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    };
    let grad = |name: &str| {
        &case
            .grad_log_prob
            .iter()
            .find(|(k, _)| *k == name)
            .unwrap()
            .1
    };
    if let Some(rate) = p("rate") {
        // d lp/d rate = α/rate − x (α = 1 for Exponential)
        let a = p("concentration").unwrap_or(1.0);
        return case.values.iter().map(|x| a / rate + x.abs()).collect();
    }
    let scale = p("scale").expect("a scale");
    let loc = p("loc").unwrap_or(0.0);
    case.values
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let y = if case.dist == "LogNormal" { x.ln() } else { x };
            let z = (y - loc) / scale;
            // d lp/d loc, or −d lp/d value for the families without a loc.
            let d_loc = match p("loc") {
                Some(_) => grad("loc")[i],
                None => -grad("value")[i],
            };
            1.0 / scale + (z * d_loc).abs()
        })
        .collect()
}

fn run_case(rep: &mut Report, ctx: &Ctx) -> TestResult<()> {
    let case = ctx.case;
    let prec = ctx.prec;
    let n = case.values.len();
    let names: Vec<&str> = case.params.iter().map(|(k, _)| *k).collect();

    // log_prob and cdf, with per-value gradients: one parameter element per value.
    for method in ["log_prob", "cdf"] {
        if method == "cdf" && case.cdf.is_empty() {
            continue;
        }
        let vars = case
            .params
            .iter()
            .map(|(_, p)| var(&vec![*p; n], prec))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let value = var(&case.values, prec)?;
        let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let d = build(&case.dist, &tensors)?;
        let (res, reference, grad_ref) = if method == "log_prob" {
            (
                d.log_prob(value.as_tensor()),
                &case.log_prob,
                &case.grad_log_prob,
            )
        } else {
            (d.cdf(value.as_tensor()), &case.cdf, &case.grad_cdf)
        };
        let out = match res {
            Ok(t) => t,
            Err(e) => {
                rep.fail(ctx, method, format!("error: {e}"));
                continue;
            }
        };
        rep.check_all(
            ctx,
            method,
            Some(&case.values),
            &host(&out)?,
            reference,
            None,
        );
        let grads = match out.sum_all().and_then(|s| s.backward()) {
            Ok(g) => g,
            Err(e) => {
                rep.fail(ctx, method, format!("backward error: {e}"));
                continue;
            }
        };
        let short = if method == "log_prob" {
            "d lp"
        } else {
            "d cdf"
        };
        for (k, (name, g_ref)) in grad_ref.iter().enumerate() {
            let t = if *name == "value" {
                value.as_tensor()
            } else {
                vars[k].as_tensor()
            };
            debug_assert!(*name == "value" || names[k] == *name);
            let ours = grad_of(&grads, t, n)?;
            let terms = (method == "log_prob" && matches!(*name, "scale" | "rate"))
                .then(|| scale_terms(case));
            rep.check_all(
                ctx,
                &format!("{short}/d {name}"),
                Some(&case.values),
                &ours,
                g_ref,
                terms.as_deref(),
            );
        }
    }

    // icdf and moments from a batch of one.
    let one: Vec<Tensor> = case
        .params
        .iter()
        .map(|(_, p)| tensor(&[*p], prec))
        .collect::<candle_core::Result<_>>()?;
    let d = build(&case.dist, &one)?;
    if !case.q.is_empty() {
        match d.icdf(&tensor(&case.q, prec)?) {
            Ok(t) => rep.check_all(ctx, "icdf", Some(&case.q), &host(&t)?, &case.icdf, None),
            Err(e) => rep.fail(ctx, "icdf", format!("error: {e}")),
        }
    }
    for (m, reference) in &case.moments {
        let res = match *m {
            "entropy" => d.entropy(),
            "mean" => d.mean(),
            "mode" => d.mode(),
            "variance" => d.variance(),
            "stddev" => d.stddev(),
            _ => unreachable!(),
        };
        match res {
            Ok(t) => rep.check_all(ctx, m, None, &host(&t)?, &[*reference], None),
            Err(e) => rep.fail(ctx, m, format!("error: {e}")),
        }
    }
    Ok(())
}

#[test]
fn conformance_with_mpmath_reference() {
    let cases = load_cases(REFERENCE_PATH, 93);
    let mut rep = Report::default();
    for (case_no, case) in cases.iter().enumerate() {
        for prec in [Prec::F64, Prec::F32] {
            let ctx = Ctx {
                case_no,
                case,
                prec,
            };
            if let Err(e) = run_case(&mut rep, &ctx) {
                rep.fail(&ctx, "setup", format!("error: {e}"));
            }
        }
    }
    rep.finish("Reference conformance: max relative error (where |ref| ≥ atol/rtol) and max err/tol, per method");
}

/// The same checks for the families beyond location-scale (reference/shape_families.json).
#[test]
fn conformance_shape_families_with_mpmath_reference() {
    let cases = load_cases(SHAPE_FAMILIES_PATH, 64);
    let mut rep = Report::default();
    for (case_no, case) in cases.iter().enumerate() {
        for prec in [Prec::F64, Prec::F32] {
            let ctx = Ctx {
                case_no,
                case,
                prec,
            };
            if let Err(e) = run_case(&mut rep, &ctx) {
                rep.fail(&ctx, "setup", format!("error: {e}"));
            }
        }
    }
    rep.finish("Shape-family reference conformance: max relative error (where |ref| ≥ atol/rtol) and max err/tol, per method");
}

// ---------------------------------------------------------------------------
// Pathwise gradients of rsample, and rsample_and_log_prob
// ---------------------------------------------------------------------------

/// Draws per parameter setting.
const DRAWS: usize = 64;

/// |diff| ≤ tol, false for a NaN difference.
fn within(diff: f64, tol: f64) -> bool {
    diff.abs() <= tol
}

/// A failure of a draw-based check.
fn draw_fail(fails: &mut Vec<String>, case: &Case, prec: Prec, what: &str, i: usize, msg: String) {
    fails.push(format!(
        "{} ({}) [{}] {what} draw {i}: {msg}",
        case.dist,
        fmt_params(&case.params),
        prec.name()
    ));
}

struct Draws {
    /// The parameter `Var`s, one element per draw.
    vars: Vec<Var>,
    dist: Box<dyn Distribution>,
}

fn draws_for(case: &Case, prec: Prec) -> TestResult<Draws> {
    let vars = case
        .params
        .iter()
        .map(|(_, p)| var(&[*p; DRAWS], prec))
        .collect::<candle_core::Result<Vec<_>>>()?;
    let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let dist = build(&case.dist, &tensors)?;
    Ok(Draws { vars, dist })
}

/// d x/d θ for every parameter θ, per draw, and the draws x.
fn pathwise(d: &Draws, seed: u64) -> TestResult<(Vec<f64>, Vec<Vec<f64>>)> {
    let x = d.dist.rsample(&[], &mut Generator::new(seed))?;
    let grads = x.sum_all()?.backward()?;
    let dx = d
        .vars
        .iter()
        .map(|v| grad_of(&grads, v.as_tensor(), DRAWS))
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok((host(&x)?, dx))
}

/// Checks the pathwise derivatives of one family against their closed forms.
///
/// Where the identity involves the noise z = (x − loc)/scale, it is checked in the form
/// `loc + scale·(dx/dscale) = x` (with x the rounded draw), so that recomputing z from x
/// (which loses ε·|loc|/scale to cancellation) does not enter the tolerance: the only
/// error is the rounding of x itself, a few ε of the magnitudes involved.
fn check_pathwise(fails: &mut Vec<String>, case: &Case, prec: Prec, x: &[f64], dx: &[Vec<f64>]) {
    let eps = prec.eps();
    let k = 4.0 * eps;
    let p: Vec<f64> = case.params.iter().map(|(_, v)| *v).collect();
    for (i, &xi) in x.iter().enumerate() {
        let mut bad = |what: &str, got: f64, want: f64, tol: f64| {
            if got != want && !within(got - want, tol) {
                draw_fail(
                    fails,
                    case,
                    prec,
                    what,
                    i,
                    format!("x = {xi:e}: got {got:e}, want {want:e} (tol {tol:.1e})"),
                );
            }
        };
        match case.dist.as_str() {
            "Normal" | "Laplace" | "Cauchy" | "Gumbel" => {
                let (loc, scale) = (p[0], p[1]);
                let (gl, gs) = (dx[0][i], dx[1][i]);
                bad("dx/dloc = 1", gl, 1.0, k);
                let recon = loc + scale * gs;
                bad(
                    "loc + scale·dx/dscale = x",
                    recon,
                    xi,
                    k * (xi.abs() + loc.abs() + (scale * gs).abs()),
                );
            }
            "HalfNormal" | "HalfCauchy" => {
                let scale = p[0];
                let gs = dx[0][i];
                bad("x ≥ 0", xi.min(0.0), 0.0, 0.0);
                bad("scale·dx/dscale = x", scale * gs, xi, k * xi.abs());
            }
            "Exponential" => {
                let rate = p[0];
                bad(
                    "dx/drate = −x/rate",
                    dx[0][i],
                    -xi / rate,
                    k * (xi / rate).abs(),
                );
            }
            "Uniform" => {
                let (low, high) = (p[0], p[1]);
                let (gl, gh) = (dx[0][i], dx[1][i]);
                // dx/dhigh = u and dx/dlow = 1 − u with u = (x − low)/(high − low).
                let recon = low + (high - low) * gh;
                bad(
                    "low + (high − low)·dx/dhigh = x",
                    recon,
                    xi,
                    k * (xi.abs() + low.abs() + ((high - low) * gh).abs()),
                );
                bad("dx/dlow + dx/dhigh = 1", gl + gh, 1.0, k);
                // The support is [low, high): a draw rounded up to `high` would have log
                // density −∞.
                let in_support = if low <= xi && xi < high { 1.0 } else { 0.0 };
                bad("low ≤ x < high (1 = true)", in_support, 1.0, 0.0);
                bad("0 ≤ dx/dhigh < 1", gh.clamp(0.0, 1.0 - eps / 2.0), gh, 0.0);
            }
            "LogNormal" => {
                let (loc, scale) = (p[0], p[1]);
                let (gl, gs) = (dx[0][i], dx[1][i]);
                // A draw whose e^y lies beyond the dtype's positive normal range is
                // clamped to (within 1e-4 of) its ends, with gradient 0 there.
                let (lo_end, hi_end) = match prec {
                    Prec::F64 => (f64::MIN_POSITIVE, f64::MAX),
                    Prec::F32 => (f32::MIN_POSITIVE as f64, f32::MAX as f64),
                };
                if xi < lo_end * 1.001 || xi > hi_end * 0.999 {
                    bad("dx/dloc = 0 at a clamped draw", gl, 0.0, 0.0);
                    bad("dx/dscale = 0 at a clamped draw", gs, 0.0, 0.0);
                    continue;
                }
                // x = exp(loc + scale·z): dx/dloc = x, dx/dscale = x·z.
                bad(
                    "dx/dloc = x",
                    gl,
                    xi,
                    if xi.is_finite() { k * xi } else { 0.0 },
                );
                if xi > 0.0 && xi.is_finite() {
                    let z = gs / xi;
                    let recon = loc + scale * z;
                    // A subnormal x (an underflowed e^y) and x·z carry an absolute
                    // error of the smallest subnormal, relatively tiny/x.
                    let tiny = match prec {
                        Prec::F64 => f64::from_bits(1),
                        Prec::F32 => f32::from_bits(1) as f64,
                    };
                    let tol = k * (1.0 + loc.abs() + (scale * z).abs() + xi.ln().abs())
                        + 4.0 * tiny / xi * (1.0 + (scale * z).abs());
                    bad("loc + scale·(dx/dscale)/x = ln x", recon, xi.ln(), tol);
                } else if !((xi == 0.0 && gs == 0.0) || (xi.is_infinite() && gs.is_infinite())) {
                    bad(
                        "dx/dscale = x·z at an overflowed/underflowed x",
                        gs,
                        xi,
                        0.0,
                    );
                }
            }
            other => panic!("unknown distribution {other}"),
        }
    }
}

#[test]
fn rsample_pathwise_gradient_identities() {
    let cases = load_cases(REFERENCE_PATH, 93);
    let mut fails = vec![];
    let mut checked = 0usize;
    for (ci, case) in cases.iter().enumerate() {
        for prec in [Prec::F64, Prec::F32] {
            let res = draws_for(case, prec).and_then(|d| pathwise(&d, 1000 + ci as u64));
            match res {
                Ok((x, dx)) => {
                    checked += x.len();
                    check_pathwise(&mut fails, case, prec, &x, &dx)
                }
                Err(e) => draw_fail(&mut fails, case, prec, "rsample", 0, format!("error: {e}")),
            }
        }
    }
    println!(
        "rsample pathwise identities: {checked} draws checked, {} failure(s)",
        fails.len()
    );
    assert_no_failures(&fails);
}

/// `rsample_and_log_prob` against `log_prob(rsample)` (same seed, so the same draws).
///
/// The joint form takes the log density from the noise z; `log_prob(x)` must recompute
/// the standard point from the *rounded* draw x, z' = (x − loc)/scale, and the rounding
/// of x = loc + scale·z followed by that subtraction moves it by
/// |z' − z| ≤ δ ≈ 2ε(|x| + |loc|)/scale (LogNormal: 2ε(1 + 2|ln x| + |loc|)/scale, from
/// y = loc + scale·z, x = e^y and ln x). Both checks allow for that, with a factor 2:
///
/// - values: |lp(x) − lp_joint| ≤ rtol·|lp_joint| + 2·|∂lp/∂z|·δ, where ∂lp/∂z = scale·∂lp/∂x
///   (LogNormal: scale·(x·∂lp/∂x + 1)); rtol = 1e-12 in f64, 1e-5 in f32;
/// - gradients: along the path, d lp(x(θ), θ)/dθ = ∂lp/∂θ|_x + ∂lp/∂x·dx/dθ. In exact
///   arithmetic, and at z' = z, this is the joint (noise-side) derivative: for d/dloc the
///   two terms cancel exactly, for d/dscale they leave −1/scale − (z' − z)·∂lp/∂z/scale,
///   so the difference is |∂lp/∂z|·δ/scale·|∂scale/∂θ|. In floating point the
///   cancellation also leaves a few ε of the cancelled terms |∂lp/∂x·dx/dθ|.
fn check_joint(
    fails: &mut Vec<String>,
    case: &Case,
    prec: Prec,
    seed: u64,
) -> TestResult<(usize, usize)> {
    let d = draws_for(case, prec)?;
    let (_, dx) = pathwise(&d, seed)?;
    let eps = prec.eps();
    let rtol = match prec {
        Prec::F64 => 1e-12,
        Prec::F32 => 1e-5,
    };
    let p = |name: &str| {
        case.params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    };
    let loc = p("loc").or(p("low")).unwrap_or(0.0);
    let scale = match (p("scale"), p("rate"), p("low"), p("high")) {
        (Some(s), _, _, _) => s,
        (_, Some(r), _, _) => 1.0 / r,
        (_, _, Some(l), Some(h)) => h - l,
        _ => unreachable!(),
    };
    // |∂scale/∂θ| per parameter.
    let d_scale: Vec<f64> = case
        .params
        .iter()
        .map(|(k, v)| match *k {
            "scale" | "low" | "high" => 1.0,
            "rate" => 1.0 / (v * v),
            _ => 0.0,
        })
        .collect();

    // log_prob of the draw, with the draw on the graph.
    let x = d.dist.rsample(&[], &mut Generator::new(seed))?;
    let xs = host(&x)?;
    let lognormal = case.dist == "LogNormal";
    if xs
        .iter()
        .any(|&v| !v.is_finite() || (lognormal && v == 0.0))
    {
        // exp(loc + scale·z) left the floating-point range (LogNormal with scale = 1e3):
        // such a draw is outside the support and has no log density to compare.
        return Ok((0, 1));
    }
    let lp_path = d.dist.log_prob(&x)?;
    let g_path = lp_path.sum_all()?.backward()?;
    let path: Vec<Vec<f64>> = d
        .vars
        .iter()
        .map(|v| grad_of(&g_path, v.as_tensor(), DRAWS))
        .collect::<candle_core::Result<_>>()?;

    // δ per draw (in units of z), and |∂lp/∂z| bounded over [z' − δ, z' + δ] by its
    // largest value at z' and at both ends (its value at z' alone can vanish, as at the
    // kink of a Laplace or the mode of a Gumbel, while it does not nearby).
    let delta: Vec<f64> = xs
        .iter()
        .map(|&xi| match lognormal {
            true => 2.0 * eps * (1.0 + 2.0 * xi.ln().abs() + loc.abs()) / scale,
            false => 2.0 * eps * (xi.abs() + loc.abs()) / scale,
        })
        .collect();
    let g_x = grad_x(d.dist.as_ref(), &xs, prec)?;
    let nonneg = matches!(
        case.dist.as_str(),
        "Exponential" | "HalfNormal" | "HalfCauchy"
    );
    let d_lp_dz: Vec<f64> = if case.dist == "Uniform" {
        vec![0.0; DRAWS] // log_prob does not depend on the value
    } else {
        let shifted = |sign: f64| -> Vec<f64> {
            xs.iter()
                .zip(&delta)
                .map(|(&xi, &dz)| match lognormal {
                    true => xi * (sign * scale * dz).exp(),
                    false if nonneg => (xi + sign * scale * dz).max(0.0),
                    false => xi + sign * scale * dz,
                })
                .collect()
        };
        let (x_lo, x_hi) = (shifted(-1.0), shifted(1.0));
        let (g_lo, g_hi) = (
            grad_x(d.dist.as_ref(), &x_lo, prec)?,
            grad_x(d.dist.as_ref(), &x_hi, prec)?,
        );
        (0..DRAWS)
            .map(|i| {
                let dz = |g: f64, xi: f64| match lognormal {
                    true => scale * (g * xi + 1.0).abs(),
                    false => scale * g.abs(),
                };
                dz(g_x[i], xs[i])
                    .max(dz(g_lo[i], x_lo[i]))
                    .max(dz(g_hi[i], x_hi[i]))
            })
            .collect()
    };

    // The joint draw.
    let (x2, lp_joint) = d
        .dist
        .rsample_and_log_prob(&[], &mut Generator::new(seed))?;
    let g_joint = lp_joint.sum_all()?.backward()?;
    let joint: Vec<Vec<f64>> = d
        .vars
        .iter()
        .map(|v| grad_of(&g_joint, v.as_tensor(), DRAWS))
        .collect::<candle_core::Result<_>>()?;

    let x2s = host(&x2)?;
    let (lp_a, lp_b) = (host(&lp_path)?, host(&lp_joint)?);
    for i in 0..DRAWS {
        let xi = xs[i];
        if xi.to_bits() != x2s[i].to_bits() {
            let msg = format!("rsample {xi:e} vs rsample_and_log_prob {:e}", x2s[i]);
            draw_fail(fails, case, prec, "same draw", i, msg);
            continue;
        }
        let tol = rtol * lp_b[i].abs() + 2.0 * d_lp_dz[i] * delta[i];
        if !within(lp_a[i] - lp_b[i], tol) {
            let msg = format!(
                "x = {xi:e}: log_prob {:e}, joint {:e} (tol {tol:.1e})",
                lp_a[i], lp_b[i]
            );
            draw_fail(
                fails,
                case,
                prec,
                "log_prob(x) = rsample_and_log_prob",
                i,
                msg,
            );
        }
        for (k, (name, _)) in case.params.iter().enumerate() {
            let (a, b) = (path[k][i], joint[k][i]);
            let cancelled = (g_x[i] * dx[k][i]).abs();
            let tol = rtol * b.abs()
                + 8.0 * eps * (cancelled + b.abs())
                + 2.0 * d_lp_dz[i] * delta[i] / scale * d_scale[k];
            if !within(a - b, tol) {
                let msg = format!("x = {xi:e}: path {a:e}, joint {b:e} (tol {tol:.1e})");
                draw_fail(
                    fails,
                    case,
                    prec,
                    &format!("d lp/d {name}: path = joint"),
                    i,
                    msg,
                );
            }
        }
    }
    Ok((DRAWS, 0))
}

/// ∂ log_prob/∂x at the points `xs` (candle keeps the gradients of variables only, so
/// the points become a variable of their own).
fn grad_x(dist: &dyn Distribution, xs: &[f64], prec: Prec) -> TestResult<Vec<f64>> {
    let xv = var(xs, prec)?;
    let grads = dist.log_prob(xv.as_tensor())?.sum_all()?.backward()?;
    Ok(grad_of(&grads, xv.as_tensor(), xs.len())?)
}

#[test]
fn rsample_and_log_prob_matches_log_prob_of_the_draw() {
    let cases = load_cases(REFERENCE_PATH, 93);
    let mut fails = vec![];
    let (mut checked, mut skipped) = (0usize, 0usize);
    for (ci, case) in cases.iter().enumerate() {
        for prec in [Prec::F64, Prec::F32] {
            match check_joint(&mut fails, case, prec, 5000 + ci as u64) {
                Ok((n, s)) => {
                    checked += n;
                    skipped += s
                }
                Err(e) => draw_fail(&mut fails, case, prec, "setup", 0, format!("error: {e}")),
            }
        }
    }
    println!(
        "rsample_and_log_prob vs log_prob(rsample): {checked} draws checked, {skipped} \
         parameter sets skipped (draws out of range), {} failure(s)",
        fails.len()
    );
    assert_no_failures(&fails);
}

/// Fails the test with every collected failure listed.
fn assert_no_failures(fails: &[String]) {
    assert!(
        fails.is_empty(),
        "{} failure(s):\n  {}",
        fails.len(),
        fails.join("\n  ")
    );
}
