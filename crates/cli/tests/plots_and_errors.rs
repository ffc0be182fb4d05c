//! The CLI as a new user meets it: plots for every distribution (including one draw,
//! density poles and draws beyond the f64 range), output files that are all or nothing,
//! numbers at a readable precision, and one-line errors with status 2 for every bad
//! input.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::run;

/// Runs the binary with a time limit; `None` if it had to be killed.
fn run_limited(args: &[&str], limit: std::time::Duration) -> Option<(i32, String, String)> {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_candle-dist"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    Some((status.code().unwrap_or(-1), out, err))
}

/// A fresh, empty folder for one test.
fn tmp_dir(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("plots-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Names of the entries of a folder (hidden temporary files included).
fn entries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Width and height of a PNG, read from its IHDR chunk, after checking the signature
/// and that the file is more than a blank header.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        b.len() > 5000,
        "{} is only {} bytes",
        path.display(),
        b.len()
    );
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

/// Asserts the failure contract: status 2, one `error: ` line, nothing on stdout, no
/// panic.
fn assert_one_line_error(args: &[&str], code: i32, out: &str, err: &str) {
    assert_eq!(code, 2, "{args:?}: stdout {out} stderr {err}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?}: {out}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

/// Every distribution the CLI knows, with ordinary parameters.
const ALL: &[(&str, &[&str])] = &[
    ("normal", &["loc=0", "scale=1"]),
    ("uniform", &["low=0", "high=1"]),
    ("exponential", &["rate=1"]),
    ("laplace", &["loc=0", "scale=1"]),
    ("cauchy", &["loc=0", "scale=1"]),
    ("gumbel", &["loc=0", "scale=1"]),
    ("lognormal", &["loc=0", "scale=1"]),
    ("halfnormal", &["scale=1"]),
    ("halfcauchy", &["scale=1"]),
    ("gamma", &["concentration=2", "rate=1"]),
    ("chi2", &["df=3"]),
    ("inversegamma", &["concentration=3", "rate=1"]),
    ("beta", &["concentration1=2", "concentration0=2"]),
    ("studentt", &["df=3", "loc=0", "scale=1"]),
    ("fishersnedecor", &["df1=5", "df2=7"]),
    ("kumaraswamy", &["concentration1=2", "concentration0=3"]),
    (
        "generalizedpareto",
        &["loc=0", "scale=1", "concentration=0.2"],
    ),
    ("continuousbernoulli", &["probs=0.3"]),
    ("vonmises", &["loc=0", "concentration=2"]),
    ("truncatednormal", &["loc=0", "scale=1", "low=-1", "high=1"]),
    ("tanhnormal", &["loc=0.5", "scale=1.5"]),
    ("pareto", &["scale=1", "alpha=2"]),
    ("weibull", &["scale=2", "concentration=0.7"]),
];

fn sample_args<'a>(dist: &'a str, params: &[&'a str], n: &'a str) -> Vec<&'a str> {
    let mut a = vec!["sample", dist, "-n", n];
    for p in params {
        a.push("-p");
        a.push(p);
    }
    a
}

/// Item a: the density curve is evaluated only inside the support, so one draw (and a
/// few) plots for every distribution, bounded supports included.
#[test]
fn one_draw_plots_for_every_distribution() {
    let dir = tmp_dir("one-draw");
    for (dist, params) in ALL {
        for n in ["1", "3"] {
            let png = dir.join(format!("{dist}-{n}.png"));
            let mut args = sample_args(dist, params, n);
            args.extend(["--plot", png.to_str().unwrap()]);
            let (code, out, err) = run(&args);
            assert_eq!(code, 0, "{args:?}: {err}");
            assert_eq!(png_size(&png), (960, 600), "{args:?}");
            assert!(out.contains("plot: "), "{out}");
        }
    }
    // Only the finished files: no temporaries left.
    assert_eq!(entries(&dir).len(), 2 * ALL.len(), "{:?}", entries(&dir));
}

/// Item b: a density with a pole is clipped and marked, and the y-axis stays at the
/// height of the histogram (the old chart ran to the value at the smallest draw).
#[test]
fn poles_are_clipped_and_marked() {
    let dir = tmp_dir("poles");
    for (dist, params, marks) in [
        ("gamma", &["concentration=0.5", "rate=1"][..], 1),
        ("beta", &["concentration1=0.5", "concentration0=0.5"][..], 2),
        ("chi2", &["df=1"][..], 1),
    ] {
        let png = dir.join(format!("{dist}.png"));
        let mut args = sample_args(dist, params, "20000");
        args.extend(["--plot", png.to_str().unwrap()]);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        png_size(&png);
        let clipped: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("clipped at the top: density → ∞ as x → "))
            .collect();
        assert_eq!(clipped.len(), marks, "{dist}: {out}");
    }
    // A density without a pole is not clipped.
    let png = dir.join("normal.png");
    let mut args = sample_args("normal", &["loc=0", "scale=1"], "20000");
    args.extend(["--plot", png.to_str().unwrap()]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("clipped"), "{out}");
}

/// Item c: draws of ±inf are counted and reported, and the plot says how many fell
/// outside its range instead of failing with "found NaN".
#[test]
fn infinite_draws_are_counted_not_fatal() {
    let dir = tmp_dir("inf");
    let png = dir.join("c.png");
    let mut args = sample_args("cauchy", &["loc=0", "scale=1e308"], "2000");
    args.extend(["--plot", png.to_str().unwrap()]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}\n{out}");
    png_size(&png);
    assert!(out.starts_with("Cauchy(loc=0, scale=1e308)"), "{out}");
    // P(|X| > f64::MAX) = 1 - (2/π) atan(f64::MAX / 1e308) = 0.32318: about 646 of
    // 2000 draws are infinite (sd 20.9).
    let line = out
        .lines()
        .find(|l| l.starts_with("note: ") && l.contains("draws are infinite"))
        .unwrap_or_else(|| panic!("no note on infinite draws:\n{out}"));
    let k: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!((k - 646.4).abs() < 6.0 * 20.9, "{line}");
    let plot_line = out.lines().find(|l| l.starts_with("plot: ")).unwrap();
    assert!(
        plot_line.contains("lie outside the plotted range"),
        "{plot_line}"
    );
    // The statistics of the draws are numbers (the distribution's mean is NaN, as in
    // torch, since a Cauchy has none).
    for name in ["mean", "std", "1%", "25%", "50%", "75%", "99%"] {
        let line = out.lines().find(|l| l.starts_with(name)).unwrap();
        let v: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(!v.is_nan(), "{line}");
    }
    // All draws infinite: the summary still runs.
    let (code, out, err) = run(&sample_args("normal", &["loc=0", "scale=inf"], "10"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("note: 10 of 10 draws are infinite"), "{out}");
}

/// Item d: only PNG names are accepted, checked before any work, with no file left
/// behind; an unwritable CSV path fails early; a failure after the CSV is written
/// removes it.
#[test]
fn bad_output_paths_leave_nothing_behind() {
    let dir = tmp_dir("paths");
    let d = dir.to_str().unwrap();
    let p = |name: &str| format!("{d}/{name}");
    let cases: Vec<Vec<String>> = vec![
        vec!["--plot".into(), p("x.gif")],
        vec!["--plot".into(), p("x")],
        vec!["--plot".into(), p("x.jpeg")],
        vec!["--csv".into(), p("missing/x.csv")],
        vec!["--plot".into(), p("missing/x.png")],
        vec!["--plot".into(), d.to_string()],
        // The CSV path is fine but the plot name is not: neither file appears.
        vec!["--csv".into(), p("ok.csv"), "--plot".into(), p("x.gif")],
    ];
    for extra in &cases {
        let mut args = vec![
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "100",
        ];
        args.extend(extra.iter().map(String::as_str));
        let (code, out, err) = run(&args);
        assert_one_line_error(&args, code, &out, &err);
        assert!(!err.contains("ImageError"), "{err}");
        assert!(entries(&dir).is_empty(), "{args:?}: {:?}", entries(&dir));
    }
    let (_, _, err) = run(&[
        "sample",
        "normal",
        "-p",
        "loc=0",
        "-p",
        "scale=1",
        "--plot",
        &p("x.gif"),
    ]);
    assert!(err.contains("only PNG"), "{err}");
    // Upper-case extension is fine.
    let (code, _, err) = run(&[
        "sample",
        "normal",
        "-p",
        "loc=0",
        "-p",
        "scale=1",
        "-n",
        "100",
        "--plot",
        &p("X.PNG"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(entries(&dir), vec!["X.PNG".to_string()]);
    // Draws that are NaN stop the command before any file is written.
    let (code, out, err) = run(&[
        "sample",
        "normal",
        "-p",
        "loc=inf",
        "-p",
        "scale=inf",
        "-n",
        "100",
        "--csv",
        &p("nan.csv"),
    ]);
    if code != 0 {
        assert_one_line_error(&["nan"], code, &out, &err);
        assert_eq!(entries(&dir), vec!["X.PNG".to_string()]);
    }
}

/// Item e: 6 significant digits by default, `--digits N` and `--digits full`.
#[test]
fn numbers_print_at_a_readable_precision() {
    let (code, out, err) = run(&["eval", "normal", "-p", "loc=0", "-p", "scale=1", "-v", "0"]);
    assert_eq!(code, 0, "{err}");
    // log φ(0) = -log(2π)/2 = -0.91893853320467274...
    assert!(out.contains(" -0.918939 "), "{out}");
    assert!(out.contains("entropy    1.41894"), "{out}");
    let (_, out, _) = run(&[
        "eval", "normal", "-p", "loc=0", "-p", "scale=1", "-v", "0", "--digits", "3",
    ]);
    assert!(out.contains(" -0.919 "), "{out}");
    let (_, out, _) = run(&[
        "eval", "normal", "-p", "loc=0", "-p", "scale=1", "-v", "0", "--digits", "full",
    ]);
    assert!(out.contains("-0.918938533204672"), "{out}");
    // No printed number of `sample` has more than 6 significant digits by default.
    let (code, out, err) = run(&["sample", "normal", "-p", "loc=0", "-p", "scale=1"]);
    assert_eq!(code, 0, "{err}");
    for tok in out.split_whitespace().filter(|t| t.parse::<f64>().is_ok()) {
        let mantissa = tok.split('e').next().unwrap();
        let digits = mantissa
            .trim_start_matches('-')
            .trim_start_matches(['0', '.'])
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        assert!(digits <= 6, "{tok} in\n{out}");
    }
    let (_, help, _) = run(&["sample", "--help"]);
    assert!(help.contains("--digits"), "{help}");
    let (code, out, err) = run(&[
        "sample", "normal", "-p", "loc=0", "-p", "scale=1", "--digits", "0",
    ]);
    assert_one_line_error(&["--digits 0"], code, &out, &err);
}

/// Item g: hostile values of every kind give one line and status 2, never a panic or
/// an abort.
#[test]
fn hostile_input_gives_one_line_and_status_2() {
    let cases: &[&[&str]] = &[
        &["sample", "normal", "-p", "loc=0", "-p", "scale=0"],
        &["sample", "normal", "-p", "loc=0", "-p", "scale=-1"],
        &["sample", "normal", "-p", "loc=0", "-p", "scale=nan"],
        &["sample", "normal", "-p", "loc=0", "-p", "scale=NaN"],
        &["sample", "gamma", "-p", "concentration=0", "-p", "rate=1"],
        &[
            "sample",
            "beta",
            "-p",
            "concentration1=-1",
            "-p",
            "concentration0=1",
        ],
        &["sample", "uniform", "-p", "low=1", "-p", "high=1"],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "0",
        ],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "-3",
        ],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "1e30",
        ],
        &[
            "sample",
            "normal",
            "-p",
            "loc=0",
            "-p",
            "scale=1",
            "-n",
            "18446744073709551615",
        ],
        &[
            "sample",
            "normal",
            "-p",
            "loc=0",
            "-p",
            "scale=1",
            "-n",
            "99999999999999999999999999999999999999999",
        ],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "inf",
        ],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "--seed", "-1",
        ],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "--dtype", "f16",
        ],
        &[
            "sample",
            "normal",
            "-p",
            "loc=0",
            "-p",
            "scale=1",
            "--frobnicate",
        ],
        &[
            "sample",
            "normal",
            "-p",
            "loc=0",
            "-p",
            "scale=1e308",
            "--dtype",
            "f32",
        ],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "loc=0", "-p", "scale=1",
        ],
        &["sample", "normal", "-p", "loc=0"],
        &["sample", "normal", "-p", "=1", "-p", "scale=1"],
        &["sample", "wishart"],
        &["sample"],
        &[
            "eval", "normal", "-p", "loc=0", "-p", "scale=1", "-v", "1e308", "--dtype", "f32",
        ],
        &[
            "eval", "normal", "-p", "loc=0", "-p", "scale=1", "-v", "nan",
        ],
        &["frobnicate"],
    ];
    for args in cases {
        let (code, out, err) = run(args);
        assert_one_line_error(args, code, &out, &err);
    }
    // Parameters at the edge of the range sample without a panic (or fail cleanly).
    for (dist, params) in [
        ("normal", &["loc=0", "scale=1e308"][..]),
        ("normal", &["loc=1e308", "scale=1e308"][..]),
        ("normal", &["loc=0", "scale=5e-324"][..]),
        ("gamma", &["concentration=1e-300", "rate=1"][..]),
        ("gamma", &["concentration=1e308", "rate=1e308"][..]),
        (
            "beta",
            &["concentration1=1e-300", "concentration0=1e-300"][..],
        ),
        ("vonmises", &["loc=0", "concentration=1e308"][..]),
        ("exponential", &["rate=inf"][..]),
        ("uniform", &["low=-1e308", "high=1e308"][..]),
    ] {
        let args = sample_args(dist, params, "50");
        let (code, out, err) = run_limited(&args, std::time::Duration::from_secs(60))
            .unwrap_or_else(|| panic!("{args:?} did not finish in 60 s"));
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        if code != 0 {
            assert_one_line_error(&args, code, &out, &err);
        }
    }
}
