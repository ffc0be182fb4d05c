//! Shared by the test files: the one-sample Kolmogorov–Smirnov test, reference-JSON
//! parsing, and small tensor helpers.

#![allow(dead_code)]

pub mod property_harness;

use candle_core::{DType, Device, Tensor};
use serde_json::Value;

/// A tensor's elements, flattened, in f64 (for assertions).
pub fn host(x: &Tensor) -> Vec<f64> {
    x.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

/// A 0-dim CPU tensor holding `v` in `dtype`.
pub fn scalar_tensor(v: f64, dtype: DType) -> Tensor {
    Tensor::new(v, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

/// Asymptotic Kolmogorov distribution tail with Stephens' small-sample correction
/// (Stephens 1970): P(D_n > d) ≈ Q(d (√n + 0.12 + 0.11/√n)).
pub fn ks_pvalue(d: f64, n: usize) -> f64 {
    let sn = (n as f64).sqrt();
    let lambda = (sn + 0.12 + 0.11 / sn) * d;
    let mut p = 0.0;
    for k in 1..=100 {
        let t = 2.0 * (-1f64).powi(k - 1) * (-2.0 * (k as f64).powi(2) * lambda * lambda).exp();
        p += t;
        if t.abs() < 1e-16 {
            break;
        }
    }
    p.clamp(0.0, 1.0)
}

/// KS statistic of draws `x` against CDF values `f` evaluated at them.
pub fn ks_stat(pairs: Vec<(f64, f64)>) -> f64 {
    ks_stat_with_atoms(pairs.into_iter().map(|(x, f)| (x, f, f)).collect())
}

/// KS statistic for a law that may have atoms: each draw comes with the CDF's left
/// limit F(x−) and its value F(x), and D = max_i max(i/n − F(x_i), F(x_i−) − (i−1)/n).
/// (A draw clamped to the smallest positive float carries the mass of everything below
/// it: F(x−) = 0 there while F(x) is that mass.)
pub fn ks_stat_with_atoms(mut triples: Vec<(f64, f64, f64)>) -> f64 {
    triples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = triples.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &(_, f_left, f)) in triples.iter().enumerate() {
        d = d.max((i as f64 + 1.0) / n - f).max(f_left - i as f64 / n);
    }
    d
}

// ---------------------------------------------------------------------------
// Reference JSON
// ---------------------------------------------------------------------------

/// Quotes every JSON number so that it reaches us as its decimal text: Rust's
/// `str::parse::<f64>` is correctly rounded, while serde_json's default float parser is
/// only best-effort (a 1-ulp error would make an f32-exact input inexact).
pub fn quote_numbers(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + json.len() / 3);
    let (mut i, mut start, mut in_str) = (0, 0, false);
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            match c {
                b'\\' => i += 2,
                b'"' => {
                    in_str = false;
                    i += 1
                }
                _ => i += 1,
            }
        } else if c == b'"' {
            in_str = true;
            i += 1;
        } else if c == b'-' || c.is_ascii_digit() {
            out.push_str(&json[start..i]);
            let s = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            out.push('"');
            out.push_str(&json[s..i]);
            out.push('"');
            start = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&json[start..]);
    out
}

pub fn num(v: &Value) -> f64 {
    match v.as_str() {
        Some("nan") => f64::NAN,
        Some("inf") => f64::INFINITY,
        Some("-inf") => f64::NEG_INFINITY,
        Some(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("bad number {s:?}: {e}")),
        None => panic!("expected a number, found {v}"),
    }
}

pub fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, found {v}"))
        .iter()
        .map(num)
        .collect()
}

/// The reference JSON file at `path`, numbers quoted first ([`quote_numbers`]) so that
/// they parse correctly rounded ([`num`]).
pub fn read_reference(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&quote_numbers(&text)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One parameter of a reference case: its torch name and value(s).
pub struct RefParam {
    pub name: String,
    pub values: Vec<f64>,
    /// Given as an array (a batch), not a scalar.
    pub vector: bool,
}

/// The parameters of a reference case, from its object `{name: number | [numbers]}`.
pub fn ref_params(v: &Value) -> Vec<RefParam> {
    v.as_object()
        .unwrap_or_else(|| panic!("expected an object of parameters, found {v}"))
        .iter()
        .map(|(k, x)| RefParam {
            name: k.clone(),
            values: match x.as_array() {
                Some(_) => nums(x),
                None => vec![num(x)],
            },
            vector: x.is_array(),
        })
        .collect()
}

/// Asserts that `r` is `Error::InvalidParameter` naming distribution `dist` and
/// parameter `param`.
pub fn assert_param_error<T: std::fmt::Debug>(
    r: candle_distributions::Result<T>,
    dist: &str,
    param: &str,
) {
    match r {
        Err(candle_distributions::Error::InvalidParameter {
            distribution,
            parameter,
            ..
        }) => {
            assert_eq!(distribution, dist);
            assert_eq!(parameter, param);
        }
        other => panic!("expected InvalidParameter({dist}, {param}), got {other:?}"),
    }
}

/// Asserts that `r` is `Error::OutOfSupport` naming distribution `dist`.
pub fn assert_support_error<T: std::fmt::Debug>(r: candle_distributions::Result<T>, dist: &str) {
    match r {
        Err(candle_distributions::Error::OutOfSupport { distribution, .. }) => {
            assert_eq!(distribution, dist)
        }
        other => panic!("expected OutOfSupport({dist}), got {other:?}"),
    }
}

/// Runs `f` in a rayon pool of `threads` threads (to check that results do not depend
/// on the thread count).
pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Runs `f` on its own thread and returns its result, failing if it takes longer than
/// `secs` (a hung thread is left behind; the test binary exits regardless), so a
/// sampler that does not terminate fails its test instead of hanging the suite.
pub fn within_deadline<T: Send + 'static>(
    secs: u64,
    label: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("{label}: no result within {secs} s (sampler hangs)"),
    }
}

/// Pearson's chi-square goodness-of-fit test of observed counts against expected counts
/// (same length; the expected counts sum to the number of draws). Cells are pooled, in
/// order, until each pooled cell expects at least 5 draws (the usual validity rule), a
/// remainder joining the last cell. Returns (statistic, degrees of freedom, p-value),
/// the p-value from the regularized upper incomplete gamma Q(df/2, χ²/2).
pub fn chi_square(observed: &[f64], expected: &[f64]) -> (f64, usize, f64) {
    assert_eq!(observed.len(), expected.len(), "chi_square: lengths differ");
    let mut cells: Vec<(f64, f64)> = vec![];
    let (mut o, mut e) = (0.0, 0.0);
    for (&oi, &ei) in observed.iter().zip(expected) {
        o += oi;
        e += ei;
        if e >= 5.0 {
            cells.push((o, e));
            o = 0.0;
            e = 0.0;
        }
    }
    if e > 0.0 || o > 0.0 {
        match cells.last_mut() {
            Some(last) => {
                last.0 += o;
                last.1 += e;
            }
            None => cells.push((o, e)),
        }
    }
    let stat: f64 = cells.iter().map(|(o, e)| (o - e) * (o - e) / e).sum();
    let df = cells.len().saturating_sub(1);
    let p = if df == 0 {
        1.0
    } else {
        candle_distributions::special::gamma::gammainc_q(df as f64 / 2.0, stat / 2.0)
    };
    (stat, df, p)
}
