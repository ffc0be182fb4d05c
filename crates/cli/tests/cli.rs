//! End-to-end tests of the `candle-dist` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::run;

/// A fresh, empty folder for one test.
fn tmp_dir(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The text after `=` on the first line that contains `key`.
fn value_after(stdout: &str, key: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.contains(key))
        .unwrap_or_else(|| panic!("no line with {key:?} in:\n{stdout}"));
    line.rsplit('=').next().unwrap().trim().to_string()
}

/// Whitespace-separated fields of the first line whose first field is `name`.
fn row<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{stdout}"))
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len() > 1000,
        "{} is only {} bytes",
        path.display(),
        bytes.len()
    );
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
}

#[test]
fn demo_shows_gradients_table_and_writes_plots() {
    let dir = tmp_dir("demo");
    let (code, out, err) = run(&["demo", "--out", dir.to_str().unwrap(), "--reps", "300"]);
    assert_eq!(code, 0, "stderr: {err}");
    // sample(): no gradient at all.
    assert!(
        out.contains("grads.get(loc) = None, grads.get(scale) = None"),
        "{out}"
    );
    // rsample(): d mean(x)/d loc is exactly 1 and d mean(x)/d scale equals mean(eps).
    assert_eq!(value_after(&out, "d mean(x)/d loc "), "1");
    let g_scale: f64 = value_after(&out, "d mean(x)/d scale =").parse().unwrap();
    let mean_eps: f64 = value_after(&out, "mean(eps) = mean((x - loc)/scale)")
        .parse()
        .unwrap();
    assert!(
        (g_scale - mean_eps).abs() < 1e-12,
        "{g_scale} vs {mean_eps}"
    );
    // The estimator table: every sample count, both means near the truth 2, and the
    // score-function estimator noisier than the pathwise one.
    for n in ["1", "4", "16", "64", "256", "1024"] {
        let f = row(&out, n);
        // n, true, path_mean, ±, path_sd, score_mean, ±, score_sd, ratio
        assert_eq!(f.len(), 9, "{f:?}");
        assert_eq!(f[1], "2");
        let (pm, psd, sm, ssd): (f64, f64, f64, f64) = (
            f[2].parse().unwrap(),
            f[4].parse().unwrap(),
            f[5].parse().unwrap(),
            f[7].parse().unwrap(),
        );
        let reps = 300f64;
        assert!((pm - 2.0).abs() < 5.0 * psd / reps.sqrt(), "pathwise {f:?}");
        assert!((sm - 2.0).abs() < 5.0 * ssd / reps.sqrt(), "score {f:?}");
        assert!(ssd > psd, "{f:?}");
    }
    assert_png(&dir.join("normal_samples_vs_density.png"));
    assert_png(&dir.join("estimator_variance.png"));
    assert!(
        out.contains(dir.to_str().unwrap()),
        "the summary names the folder: {out}"
    );
}

#[test]
fn demo_no_plots_writes_nothing() {
    let dir = tmp_dir("demo-no-plots").join("sub");
    let (code, out, err) = run(&[
        "demo",
        "--out",
        dir.to_str().unwrap(),
        "--no-plots",
        "--reps",
        "20",
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("plots skipped"));
    assert!(!dir.exists());
}

/// Checks the printed sample mean against the distribution's mean: within 5 standard
/// errors (sample std / sqrt(n)); the printed distribution std must match the sample one
/// to 5%.
fn check_sample(dist: &str, params: &[&str], dtype: &str) {
    let n = 20_000usize;
    let mut args = vec![
        "sample", dist, "-n", "20000", "--seed", "7", "--dtype", dtype,
    ];
    for p in params {
        args.push("--param");
        args.push(p);
    }
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{dist}: {err}");
    let mean = row(&out, "mean");
    let std = row(&out, "std");
    let (m, true_m): (f64, f64) = (mean[1].parse().unwrap(), mean[2].parse().unwrap());
    let (s, true_s): (f64, f64) = (std[1].parse().unwrap(), std[2].parse().unwrap());
    let se = s / (n as f64).sqrt();
    assert!(
        (m - true_m).abs() < 5.0 * se,
        "{dist}: mean {m} vs {true_m} (se {se})\n{out}"
    );
    assert!(
        (s / true_s - 1.0).abs() < 0.05,
        "{dist}: std {s} vs {true_s}\n{out}"
    );
    // Order statistics are printed in order.
    let qs: Vec<f64> = ["min", "1%", "25%", "50%", "75%", "99%", "max"]
        .iter()
        .map(|k| row(&out, k)[1].parse().unwrap())
        .collect();
    assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{dist}: {qs:?}");
}

#[test]
fn sample_means_match_distribution_means() {
    check_sample("normal", &["loc=1", "scale=2"], "f64");
    check_sample("Normal", &["loc=-3", "scale=0.5"], "f32");
    check_sample("uniform", &["low=-1", "high=3"], "f64");
    check_sample("exponential", &["rate=2"], "f32");
    check_sample("laplace", &["loc=0.5", "scale=1"], "f64");
    check_sample("gumbel", &["loc=0", "scale=1"], "f64");
    check_sample("lognormal", &["loc=0", "scale=0.5"], "f64");
    check_sample("half_normal", &["scale=2"], "f64");
}

#[test]
fn sample_heavy_tails_run_and_report_undefined_moments() {
    let (code, out, err) = run(&[
        "sample", "cauchy", "-p", "loc=0", "-p", "scale=1", "-n", "1000",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(row(&out, "mean")[2], "NaN");
    let (code, out, err) = run(&["sample", "HalfCauchy", "-p", "scale=1", "-n", "1000"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(row(&out, "mean")[2], "inf");
    assert!(row(&out, "min")[1].parse::<f64>().unwrap() > 0.0);
}

#[test]
fn sample_writes_csv_and_plot_and_is_reproducible() {
    let dir = tmp_dir("sample");
    let csv = dir.join("x.csv");
    let png = dir.join("x.png");
    let args = [
        "sample",
        "normal",
        "-p",
        "loc=0",
        "-p",
        "scale=1",
        "-n",
        "5000",
        "--seed",
        "3",
        "--csv",
        csv.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let xs: Vec<f64> = text.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(xs.len(), 5000);
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    // Printed to 6 significant digits.
    let printed: f64 = row(&out, "mean")[1].parse().unwrap();
    assert!(
        (mean - printed).abs() <= 5e-6 * mean.abs(),
        "{mean} vs {printed}"
    );
    assert_png(&png);
    // Same seed, same output; another seed, another output.
    let (_, out2, _) = run(&[
        "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "5000", "--seed", "3",
    ]);
    assert_eq!(row(&out, "mean"), row(&out2, "mean"));
    let (_, out3, _) = run(&[
        "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "5000", "--seed", "4",
    ]);
    assert_ne!(row(&out, "mean"), row(&out3, "mean"));
}

#[test]
fn eval_normal_log_prob_cdf_and_moments() {
    let (code, out, err) = run(&[
        "eval", "normal", "--param", "loc=0", "--param", "scale=1", "--value", "0", "--value",
        "-1.5", "--digits", "full",
    ]);
    assert_eq!(code, 0, "{err}");
    let r = row(&out, "0");
    let lp: f64 = r[1].parse().unwrap();
    assert!((lp - (-0.918_938_533_204_672_7)).abs() < 1e-15, "{out}");
    assert!(r[1].starts_with("-0.918938533204672"), "{out}");
    assert_eq!(r[2], "0.5");
    let r = row(&out, "-1.5");
    assert!((r[1].parse::<f64>().unwrap() - (-2.043_938_533_204_672_7)).abs() < 1e-14);
    assert!((r[2].parse::<f64>().unwrap() - 0.066_807_201_268_858_07).abs() < 1e-15);
    assert_eq!(row(&out, "mean")[1], "0");
    assert_eq!(row(&out, "mode")[1], "0");
    assert_eq!(row(&out, "variance")[1], "1");
    assert_eq!(row(&out, "stddev")[1], "1");
    let h: f64 = row(&out, "entropy")[1].parse().unwrap();
    assert!((h - 1.418_938_533_204_672_7).abs() < 1e-15);
}

#[test]
fn eval_other_distributions() {
    let (code, out, err) = run(&[
        "eval",
        "exponential",
        "-p",
        "rate=2",
        "-v",
        "1",
        "--dtype",
        "f32",
        "--digits",
        "full",
    ]);
    assert_eq!(code, 0, "{err}");
    let r = row(&out, "1");
    // log(2) - 2 and 1 - exp(-2)
    assert!((r[1].parse::<f64>().unwrap() - (2f64.ln() - 2.0)).abs() < 1e-6);
    assert!((r[2].parse::<f64>().unwrap() - (1.0 - (-2f64).exp())).abs() < 1e-6);
    assert_eq!(row(&out, "mean")[1], "0.5");
    let (code, out, err) = run(&["eval", "uniform", "-p", "low=0", "-p", "high=2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(row(&out, "mode")[1], "NaN");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["sample", "gamma", "-p", "concentration=1"],
        &["sample", "normal", "-p", "loc=0", "-p", "scale=-1"],
        &["sample", "normal", "-p", "loc=0", "-p", "scale=abc"],
        &["sample", "normal", "-p", "loc=0"],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-p", "rate=2",
        ],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "loc=1", "-p", "scale=1",
        ],
        &["sample", "normal", "-p", "loc", "-p", "scale=1"],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "0",
        ],
        &[
            "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-n", "many",
        ],
        &["sample", "uniform", "-p", "low=2", "-p", "high=1"],
        &["eval", "exponential", "-p", "rate=1", "-v", "-1"],
        &["eval", "halfnormal", "-p", "scale=1", "-v", "-0.5"],
        &["eval", "normal", "-p", "loc=0", "-p", "scale=1", "-v", "x"],
        &[
            "eval", "normal", "-p", "loc=0", "-p", "scale=1", "-v", "nan",
        ],
    ];
    for args in cases {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: stdout {out} stderr {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // Messages name what is valid.
    let (_, _, err) = run(&["sample", "wishart"]);
    assert!(err.contains("known: normal, uniform"), "{err}");
    let (_, _, err) = run(&["sample", "gamma"]);
    assert!(err.contains("concentration, rate"), "{err}");
    // The implicit-reparameterization families are available by name too.
    let (code, out, err) = run(&[
        "eval",
        "beta",
        "-p",
        "concentration1=2",
        "-p",
        "concentration0=3",
        "-v",
        "0.25",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cdf"), "{out}");
    let (_, _, err) = run(&[
        "sample", "normal", "-p", "loc=0", "-p", "scale=1", "-p", "rate=2",
    ]);
    assert!(err.contains("valid: loc, scale"), "{err}");
    let (_, _, err) = run(&["sample", "normal", "-p", "loc=0", "-p", "scale=-1"]);
    assert!(err.contains("scale") && err.contains("-1"), "{err}");
    // clap's own usage errors also exit 2.
    let (code, _, _) = run(&["sample", "normal", "--dtype", "f16"]);
    assert_eq!(code, 2);
    let (code, _, _) = run(&["frobnicate"]);
    assert_eq!(code, 2);
}

/// The acceptance check in its literal form: the same seed gives byte-identical samples
/// with RAYON_NUM_THREADS=1 and =2 (200 000 draws, enough for the parallel fill path).
#[test]
fn same_seed_same_csv_for_one_and_two_threads() {
    let dir = tmp_dir("threads");
    let mut outputs = vec![];
    for threads in ["1", "2"] {
        for (dist, params) in [
            ("normal", ["loc=1", "scale=2"]),
            ("gumbel", ["loc=0", "scale=3"]),
        ] {
            let csv = dir.join(format!("{dist}-{threads}.csv"));
            let status = Command::new(env!("CARGO_BIN_EXE_candle-dist"))
                .env("RAYON_NUM_THREADS", threads)
                .args([
                    "sample", dist, "-p", params[0], "-p", params[1], "-n", "200000", "--seed", "9",
                ])
                .args(["--dtype", "f32", "--csv", csv.to_str().unwrap()])
                .output()
                .expect("run candle-dist");
            assert!(status.status.success());
            outputs.push(std::fs::read(&csv).unwrap());
        }
    }
    assert!(outputs[0].len() > 1_000_000);
    assert_eq!(outputs[0], outputs[2], "normal: 1 vs 2 threads differ");
    assert_eq!(outputs[1], outputs[3], "gumbel: 1 vs 2 threads differ");
}
