//! The machinery of the property suites (`tests/suite/properties.rs` for the distributions,
//! `tests/suite/transform_properties.rs` for the transforms): findings collected per class
//! instead of raised at the first, every API call under `catch_unwind` with a quiet
//! panic hook that keeps the last message, every case on a worker thread bounded by
//! [`CASE_TIMEOUT`], proptest shards with fixed seeds, the `CANDLE_DIST_PROPTEST_*`
//! environment variables, and the report.
//!
//! A suite supplies what differs ([`Suite`]): its registry (entries implement
//! [`Subject`]: the label a report shows, and which errors name what the user built),
//! how a case is drawn and checked, and counters of its own (the `extra` of [`Tally`],
//! printed by its `print_counts`).
//!
//! Environment: `CANDLE_DIST_PROPTEST_CASES` (cases, default `Suite::default_cases`),
//! `CANDLE_DIST_PROPTEST_THREADS` (proptest shards, default 2),
//! `CANDLE_DIST_PROPTEST_ONLY` (comma-separated labels, exact match),
//! `CANDLE_DIST_PROPTEST_STRICT=0` (findings under a `Suite::lenient_tags` tag are
//! reported without failing).

use candle_core::{DType, Tensor};
use candle_distributions::{Error, Result};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// A case (one entry, a few dozen calls on tiny tensors) taking longer than this hangs.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(10);
/// Hung workers keep spinning on a core: stop starting cases after this many.
pub const MAX_HANGS: u64 = 4;

/// Landmarks of the hostile value pools: subnormal in f32 (normal in f64), f32's
/// smallest normal and largest finite values, in f64.
pub const F32_SUB: f64 = 1e-40;
pub const F32_MINP: f64 = f32::MIN_POSITIVE as f64;
pub const F32_MAX: f64 = f32::MAX as f64;

/// The API call a case's worker is in (what a hang report names).
pub type Progress = Arc<Mutex<&'static str>>;

/// Counters a suite keeps beyond the shared ones, summed over cases and shards.
pub trait Merge: Default + Send + 'static {
    fn merge(&mut self, other: Self);
}

impl Merge for () {
    fn merge(&mut self, _: Self) {}
}

/// What one case, or a whole run, counted and found.
#[derive(Default)]
pub struct Tally<X> {
    pub cases: u64,
    /// Cases per kind (the suite's choice of key: class of case, entry label).
    pub cases_by: BTreeMap<String, u64>,
    pub calls: u64,
    pub errors: BTreeMap<String, u64>,
    pub panics: u64,
    pub hangs: u64,
    /// Findings whose description mentions NaN, per tier tag ("" for the core tier).
    pub nan_by_tag: BTreeMap<&'static str, u64>,
    /// class -> (count, first example)
    pub findings: BTreeMap<String, (u64, String)>,
    pub extra: X,
}

impl<X: Merge> Tally<X> {
    pub fn merge(&mut self, o: Tally<X>) {
        self.cases += o.cases;
        for (k, v) in o.cases_by {
            *self.cases_by.entry(k).or_default() += v;
        }
        self.calls += o.calls;
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.panics += o.panics;
        self.hangs += o.hangs;
        for (k, v) in o.nan_by_tag {
            *self.nan_by_tag.entry(k).or_default() += v;
        }
        for (k, (n, ex)) in o.findings {
            self.findings.entry(k).or_insert((0, ex)).0 += n;
        }
        self.extra.merge(o.extra);
    }

    /// NaN findings under one tier tag.
    pub fn nan(&self, tag: &str) -> u64 {
        self.nan_by_tag.get(tag).copied().unwrap_or(0)
    }

    /// NaN findings under every tag.
    pub fn nan_total(&self) -> u64 {
        self.nan_by_tag.values().sum()
    }
}

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Replaces the default panic hook (which prints every caught panic) by one that keeps
/// the message and location for [`last_panic`]; a report shows them once per class.
pub fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let loc = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                s.to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                String::from("<non-string payload>")
            };
            LAST_PANIC.with(|p| *p.borrow_mut() = format!("{msg} at {loc}"));
        }));
    });
}

/// The message and location of the last panic on this thread.
pub fn last_panic() -> String {
    LAST_PANIC.with(|p| p.borrow().clone())
}

/// The kind of an error, as reports and `Ctx::typed` name it.
pub fn err_kind(e: &Error) -> &'static str {
    match e {
        Error::InvalidParameter { .. } => "InvalidParameter",
        Error::OutOfSupport { .. } => "OutOfSupport",
        Error::Shape { .. } => "Shape",
        Error::DType { .. } => "DType",
        Error::NotImplemented { .. } => "NotImplemented",
        Error::InvalidArgument(_) => "InvalidArgument",
        Error::Candle(_) => "Candle",
    }
}

/// A tensor's elements in f64; empty when they cannot be read (a finding elsewhere).
pub fn host(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f64>())
        .unwrap_or_default()
}

/// Machine epsilon of a float dtype (f32's for anything but f64).
pub fn eps(dt: DType) -> f64 {
    if dt == DType::F64 {
        f64::EPSILON
    } else {
        f32::EPSILON as f64
    }
}

/// A registry entry: what the suite drives in one case.
pub trait Subject: Sync {
    /// Registry label (what a report shows, what `CANDLE_DIST_PROPTEST_ONLY` selects).
    fn label(&self) -> &'static str;
    /// Whether a typed error names what the user built (and, where the error carries
    /// one, a parameter of it).
    fn named_by(&self, e: &Error) -> bool;
    /// What [`Subject::named_by`] looks for, as a finding says it.
    fn expected_names(&self) -> String;
}

/// The checking context of one case.
pub struct Ctx<'a, E, X> {
    pub e: &'a E,
    /// Prefix of this case's finding classes: "" for the core tier, else a tag the
    /// suite may report without failing outside strict mode.
    pub tag: &'static str,
    pub desc: String,
    pub t: Tally<X>,
    pub progress: Progress,
}

impl<'a, E: Subject, X: Merge> Ctx<'a, E, X> {
    /// A context for one case (counted in `t.cases`).
    pub fn new(e: &'a E, tag: &'static str, desc: String, progress: Progress) -> Self {
        Ctx {
            e,
            tag,
            desc,
            t: Tally {
                cases: 1,
                ..Tally::default()
            },
            progress,
        }
    }

    /// Records a finding of class `tag label / method / what`.
    pub fn find(&mut self, method: &str, what: &str, detail: String) {
        if what.contains("NaN") {
            *self.t.nan_by_tag.entry(self.tag).or_default() += 1;
        }
        let key = format!("{}{} / {method} / {what}", self.tag, self.e.label());
        let ex = format!("{}\n      {}", self.desc, detail);
        self.t.findings.entry(key).or_insert((0, ex)).0 += 1;
    }

    /// Runs one API call under `catch_unwind`; `None` when it panicked.
    pub fn call<T>(
        &mut self,
        method: &'static str,
        f: impl FnOnce() -> Result<T>,
    ) -> Option<Result<T>> {
        *self.progress.lock().unwrap() = method;
        self.t.calls += 1;
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => {
                if let Err(e) = &r {
                    *self.t.errors.entry(err_kind(e).to_string()).or_default() += 1;
                    // A candle error reached the user: the crate should have caught the
                    // condition and said what was wrong in its own terms.
                    if matches!(e, Error::Candle(_)) {
                        self.find(method, "untyped candle error", e.to_string());
                    }
                }
                Some(r)
            }
            Err(_) => {
                self.t.panics += 1;
                self.find(method, "PANIC", last_panic());
                None
            }
        }
    }

    /// An error must be of one of `kinds` and name what the user built.
    pub fn typed(&mut self, method: &str, e: &Error, kinds: &[&str]) {
        let kind = err_kind(e);
        if !kinds.contains(&kind) {
            self.find(
                method,
                &format!("error of kind {kind}, expected {kinds:?}"),
                e.to_string(),
            );
            return;
        }
        if !self.e.named_by(e) {
            self.find(
                method,
                &format!("{kind} error does not name {}", self.e.expected_names()),
                e.to_string(),
            );
        }
    }
}

/// One property suite: what differs between the suites (the runner is [`run_suite`]).
pub struct Suite<E, C, S: Strategy, X> {
    /// First words of the report.
    pub title: &'static str,
    /// What `Tally::cases_by` counts by ("class", "entry").
    pub cases_by: &'static str,
    /// Cases without `CANDLE_DIST_PROPTEST_CASES`.
    pub default_cases: u32,
    /// Shard `i` runs proptest with the fixed seed `seed_base + i`.
    pub seed_base: u64,
    /// Finding-class prefixes that fail the suite only in strict mode.
    pub lenient_tags: &'static [&'static str],
    /// What the lenient classes are, as the report says it.
    pub lenient_what: &'static str,
    pub registry: fn() -> Vec<E>,
    /// The raw proptest draw of a case, over `n` registry entries.
    pub strategy: fn(usize) -> S,
    pub materialize: fn(&[E], S::Value) -> C,
    pub describe: fn(&C, &[E]) -> String,
    pub check_case: fn(&[E], &C, Progress) -> Tally<X>,
    /// Prints the report lines after the calls (panics, hangs, the suite's counters).
    pub print_counts: fn(&Tally<X>),
    /// Appended to the failure message.
    pub failure_note: fn(&Tally<X>) -> String,
}

pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The registry, restricted by `CANDLE_DIST_PROPTEST_ONLY=Gamma,Beta` (labels, exact
/// match) to some entries, for working on one at a time.
pub fn selected_registry<E: Subject>(registry: fn() -> Vec<E>) -> Vec<E> {
    let only: Vec<String> = std::env::var("CANDLE_DIST_PROPTEST_ONLY")
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    registry()
        .into_iter()
        .filter(|e| only.is_empty() || only.iter().any(|o| e.label() == o.as_str()))
        .collect()
}

/// Runs one case on a worker thread with a time bound (a hung worker is abandoned).
fn run_bounded<E, C, X>(
    registry: fn() -> Vec<E>,
    check_case: fn(&[E], &C, Progress) -> Tally<X>,
    case: C,
    tally: &mut Tally<X>,
    desc: String,
) where
    E: Subject + 'static,
    C: Send + 'static,
    X: Merge,
{
    let (tx, rx) = mpsc::channel();
    let progress = Arc::new(Mutex::new("start"));
    let p2 = progress.clone();
    std::thread::spawn(move || {
        let reg = selected_registry(registry);
        let t = check_case(&reg, &case, p2);
        let _ = tx.send(t);
    });
    match rx.recv_timeout(CASE_TIMEOUT) {
        Ok(t) => tally.merge(t),
        Err(_) => {
            tally.cases += 1;
            tally.hangs += 1;
            let m = *progress.lock().unwrap();
            let key = format!("{} / HANG", desc.split('(').next().unwrap_or(""));
            tally
                .findings
                .entry(key)
                .or_insert((
                    0,
                    format!("{desc}\n      in `{m}` for more than {CASE_TIMEOUT:?}"),
                ))
                .0 += 1;
        }
    }
}

/// Runs the suite (its shards in parallel), prints the report and fails on any finding
/// (lenient ones excepted outside strict mode), panic or hang.
pub fn run_suite<E, C, S, X>(suite: &Suite<E, C, S, X>)
where
    E: Subject + 'static,
    C: Send + 'static,
    S: Strategy,
    X: Merge,
{
    install_quiet_panic_hook();
    let reg = selected_registry(suite.registry);
    assert!(
        !reg.is_empty(),
        "CANDLE_DIST_PROPTEST_ONLY selects no entry"
    );
    let cases = env_num("CANDLE_DIST_PROPTEST_CASES", suite.default_cases as u64);
    let shards = env_num("CANDLE_DIST_PROPTEST_THREADS", 2).max(1);
    let start = Instant::now();
    let total = Arc::new(Mutex::new(Tally::<X>::default()));
    std::thread::scope(|s| {
        for shard in 0..shards {
            let total = total.clone();
            let reg = &reg;
            s.spawn(move || {
                let n = (cases / shards + u64::from(shard < cases % shards)) as u32;
                if n == 0 {
                    return;
                }
                let config = Config {
                    cases: n,
                    rng_seed: RngSeed::Fixed(suite.seed_base + shard),
                    failure_persistence: None,
                    max_shrink_iters: 0,
                    ..Config::default()
                };
                let mut runner = TestRunner::new(config);
                let _ = runner.run(&(suite.strategy)(reg.len()), |raw| {
                    if total.lock().unwrap().hangs >= MAX_HANGS {
                        return Ok(());
                    }
                    let case = (suite.materialize)(reg, raw);
                    let desc = (suite.describe)(&case, reg);
                    let mut t = Tally::default();
                    run_bounded(suite.registry, suite.check_case, case, &mut t, desc);
                    total.lock().unwrap().merge(t);
                    Ok(())
                });
            });
        }
    });
    let t = std::mem::take(&mut *total.lock().unwrap());
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}: {} cases in {secs:.1} s ({:.0} µs/case, {shards} shards)",
        suite.title,
        t.cases,
        1e6 * secs / t.cases.max(1) as f64
    );
    println!("  cases by {}: {:?}", suite.cases_by, t.cases_by);
    println!("  calls: {}, errors by kind: {:?}", t.calls, t.errors);
    (suite.print_counts)(&t);
    println!("  failure classes: {}", t.findings.len());
    for (k, (n, ex)) in &t.findings {
        println!("  [{n:>6}] {k}\n      {ex}");
    }
    let strict = std::env::var("CANDLE_DIST_PROPTEST_STRICT").map_or(true, |v| v != "0");
    let failing: Vec<&String> = t
        .findings
        .keys()
        .filter(|k| strict || !suite.lenient_tags.iter().any(|tag| k.starts_with(tag)))
        .collect();
    println!(
        "  failing classes: {} ({} classes reported only: {})",
        failing.len(),
        suite.lenient_what,
        t.findings.len() - failing.len()
    );
    assert!(
        failing.is_empty() && t.panics == 0 && t.hangs == 0,
        "{} failure classes (listed above): {} panics, {} hangs{}",
        failing.len(),
        t.panics,
        t.hangs,
        (suite.failure_note)(&t)
    );
}
