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

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(b.len() >= 24 && &b[12..16] == b"IHDR", "{}", path.display());
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
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
    // One picture, two panels side by side: twice as wide as tall or more.
    let story = dir.join("sample_vs_rsample.png");
    assert_png(&story);
    let (w, h) = png_size(&story);
    assert!(w >= 2 * h.saturating_sub(100), "{w} × {h}");
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

#[test]
fn pareto_and_weibull_sample_and_eval() {
    let (code, out, err) = run(&[
        "sample", "Pareto", "--param", "scale=1", "--param", "alpha=2", "-n", "5",
    ]);
    assert_eq!(code, 0, "{err}");
    // Draws lie in [scale, ∞); the mean is α·scale/(α − 1) = 2, the variance infinite.
    assert!(row(&out, "min")[1].parse::<f64>().unwrap() >= 1.0, "{out}");
    assert_eq!(row(&out, "mean")[2], "2");
    assert_eq!(row(&out, "std")[2], "inf");
    check_sample("pareto", &["scale=2", "alpha=6"], "f64");
    check_sample("weibull", &["scale=2", "concentration=1.5"], "f64");
    check_sample("Weibull", &["scale=0.5", "concentration=3"], "f32");
    let (code, out, err) = run(&[
        "eval", "pareto", "-p", "scale=1", "-p", "alpha=2", "-v", "2", "--digits", "full",
    ]);
    assert_eq!(code, 0, "{err}");
    let r = row(&out, "2");
    // ln α + α ln σ − (α + 1) ln x = −2 ln 2, and F(2) = 1 − (1/2)² = 3/4.
    assert!(
        (r[1].parse::<f64>().unwrap() + 2.0 * 2f64.ln()).abs() < 1e-6,
        "{out}"
    );
    assert!((r[2].parse::<f64>().unwrap() - 0.75).abs() < 1e-6, "{out}");
    assert_eq!(row(&out, "mode")[1], "1");
    let (code, out, err) = run(&[
        "eval",
        "weibull",
        "-p",
        "scale=2",
        "-p",
        "concentration=1",
        "-v",
        "1",
    ]);
    assert_eq!(code, 0, "{err}");
    // k = 1: the exponential with mean 2, F(1) = 1 − e^{−1/2}.
    let r = row(&out, "1");
    assert!(
        (r[2].parse::<f64>().unwrap() - (1.0 - (-0.5f64).exp())).abs() < 1e-5,
        "{out}"
    );
    assert_eq!(row(&out, "mean")[1], "2");
    // A value below the Pareto scale is a one-line error with exit code 2.
    let (code, _, err) = run(&[
        "eval", "pareto", "-p", "scale=1", "-p", "alpha=2", "-v", "0.5",
    ]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error:") && err.contains("Pareto"), "{err}");
}

/// Runs `candle-dist` with the whitespace-separated arguments in `args`.
fn run_words(args: &str) -> (i32, String, String) {
    run(&args.split_whitespace().collect::<Vec<_>>())
}

#[test]
fn kl_prints_closed_form_and_monte_carlo() {
    let nn = "kl normal normal --p-param loc=0 --p-param scale=1 --q-param loc=1 \
              --q-param scale=2 --mc 20000 --seed 3 --digits full";
    let (code, out, err) = run_words(nn);
    assert_eq!(code, 0, "{err}");
    // ln 2 + (1 + 1)/8 − 1/2
    let exact = 2f64.ln() - 0.25;
    let v: f64 = row(&out, "closed")[2].parse().unwrap();
    assert!((v - exact).abs() < 1e-15, "{out}");
    let r = row(&out, "monte");
    let (est, se): (f64, f64) = (r[2].parse().unwrap(), r[4].parse().unwrap());
    assert!(se > 0.0 && (est - exact).abs() < 4.0 * se, "{out}");
    // Same seed, same estimate.
    let (_, out2, _) = run_words(nn);
    assert_eq!(row(&out, "monte"), row(&out2, "monte"));

    // A cross pair in f32 (reference/kl.json: 2.730641...), and a pair that is +∞ by
    // support.
    let (code, out, err) = run_words(
        "kl exponential gamma --p-param rate=0.75 --q-param concentration=3 \
         --q-param rate=0.5 --dtype f32",
    );
    assert_eq!(code, 0, "{err}");
    let v: f64 = row(&out, "closed")[2].parse().unwrap();
    assert!((v - 2.730641).abs() < 1e-5, "{out}");
    let (code, out, err) =
        run_words("kl normal exponential --p-param loc=0 --p-param scale=1 --q-param rate=1");
    assert_eq!(code, 0, "{err}");
    assert_eq!(row(&out, "closed")[2], "inf");

    // No closed form: a one-line error pointing at --mc; with --mc, the estimate.
    let student = "kl normal studentt --p-param loc=0 --p-param scale=1 --q-param df=3 \
                   --q-param loc=0 --q-param scale=1";
    let (code, out, err) = run_words(student);
    assert_eq!(code, 2);
    assert!(
        out.is_empty() && err.contains("no closed form") && err.contains("--mc"),
        "{err}"
    );
    let (code, out, err) = run_words(&format!("{student} --mc 2000"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(row(&out, "closed")[2], "n/a");
    assert!(row(&out, "monte")[2].parse::<f64>().unwrap() > 0.0);

    // Bad input: one line on stderr, status 2, nothing on stdout, the side named.
    for args in [
        "kl normal normal --p-param loc=0 --q-param loc=0 --q-param scale=1",
        "kl normal normal --p-param loc=0 --p-param scale=1 --q-param loc=0 --q-param scale=-1",
        "kl normal nosuch --p-param loc=0 --p-param scale=1",
        "kl normal normal --p-param loc=0 --p-param scale=1 --q-param loc=0 --q-param scale=1 \
         --mc 1",
    ] {
        let (code, out, err) = run_words(args);
        assert_eq!(code, 2, "{args}: {out} {err}");
        assert!(err.starts_with("error: "), "{args}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args}: {err}");
        assert!(out.is_empty(), "{args}: {out}");
    }
    let (_, _, err) =
        run_words("kl normal normal --p-param loc=0 --q-param loc=0 --q-param scale=1");
    assert!(err.contains("P:"), "{err}");
}

/// The CSV rows of a vector-valued `sample`: each a draw of `k` comma-separated
/// coordinates.
fn csv_rows(path: &Path, k: usize) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let row: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            assert_eq!(row.len(), k, "{l}");
            row
        })
        .collect()
}

#[test]
fn simplex_families_sample_rows_on_the_simplex_reproducibly() {
    let dir = tmp_dir("simplex");
    for (name, params, k) in [
        ("LogisticNormal", "-p loc=0,1 -p scale=1,2", 3),
        ("dirichlet", "-p concentration=1,2,3", 3),
        // Scalar parameters: K = 1, a law on the 2-simplex (as torch expands them).
        ("logisticnormal", "-p loc=0.5 -p scale=1", 2),
    ] {
        let csv = |seed: u32| dir.join(format!("{name}-{seed}.csv"));
        let png = dir.join(format!("{name}.png"));
        let cmd = |seed: u32| {
            format!(
                "sample {name} {params} -n 4000 --seed {seed} --csv {}",
                csv(seed).display()
            )
        };
        let (code, out, err) = run_words(&format!("{} --plot {}", cmd(5), png.display()));
        assert_eq!(code, 0, "{name}: {err}");
        assert_png(&png);
        let rows = csv_rows(&csv(5), k);
        assert_eq!(rows.len(), 4000);
        for r in &rows {
            assert!(r.iter().all(|x| (0.0..=1.0).contains(x)), "{r:?}");
            assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{r:?}");
        }
        // One column per coordinate; the printed sample means are the CSV's.
        let means = row(&out, "mean");
        assert_eq!(means.len(), k + 1, "{out}");
        for (j, m) in means[1..].iter().enumerate() {
            let from_csv = rows.iter().map(|r| r[j]).sum::<f64>() / rows.len() as f64;
            let printed: f64 = m.parse().unwrap();
            assert!((printed - from_csv).abs() <= 5e-6 * from_csv, "{out}");
        }
        // Same seed, byte-identical CSV; another seed, another one.
        let (code, _, err) = run_words(&cmd(5).replace("-5.csv", "-6.csv"));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            std::fs::read(csv(5)).unwrap(),
            std::fs::read(csv(6)).unwrap()
        );
        let (code, _, err) = run_words(&cmd(7));
        assert_eq!(code, 0, "{err}");
        assert_ne!(
            std::fs::read(csv(5)).unwrap(),
            std::fs::read(csv(7)).unwrap()
        );
    }
    // Dirichlet's per-coordinate sample means are within 5 standard errors of
    // α_k / α₀ = (1/6, 1/3, 1/2), which are also printed.
    let (code, out, err) =
        run_words("sample dirichlet -p concentration=1,2,3 -n 20000 --seed 11 --digits full");
    assert_eq!(code, 0, "{err}");
    let (mean, exact, se) = (row(&out, "mean"), row(&out, "mean*"), row(&out, "se"));
    for (j, want) in [1.0 / 6.0, 1.0 / 3.0, 0.5].into_iter().enumerate() {
        let (m, e, s): (f64, f64, f64) = (
            mean[j + 1].parse().unwrap(),
            exact[j + 1].parse().unwrap(),
            se[j + 1].parse().unwrap(),
        );
        assert!((e - want).abs() < 1e-15, "{out}");
        assert!((m - want).abs() < 5.0 * s, "{out}");
    }
    // LogisticNormal has no closed-form moments: shown as n/a.
    let (_, out, _) = run_words("sample logisticnormal -p loc=0,1 -p scale=1 -n 100");
    assert_eq!(row(&out, "mean*")[1..], ["n/a", "n/a", "n/a"]);
}

#[test]
fn simplex_families_eval_log_prob_and_moments() {
    use candle_core::{Device, Tensor};
    use candle_distributions::{Distribution, LogisticNormal};
    let ln = f64::ln;
    let (code, out, err) = run_words(
        "eval logisticnormal -p loc=0,1 -p scale=1,2 -v 0.2,0.3,0.5 -v 0.6,0.3,0.1 \
         --digits full",
    );
    assert_eq!(code, 0, "{err}");
    // The library's own value at each point...
    let dev = Device::Cpu;
    let d = LogisticNormal::new(
        &Tensor::new(&[0.0f64, 1.0], &dev).unwrap(),
        &Tensor::new(&[1.0f64, 2.0], &dev).unwrap(),
    )
    .unwrap();
    for (point, y) in [
        ("0.2,0.3,0.5", [0.2f64, 0.3, 0.5]),
        ("0.6,0.3,0.1", [0.6, 0.3, 0.1]),
    ] {
        let r = row(&out, point);
        assert_eq!(r[2], "n/a", "cdf: {out}");
        let got: f64 = r[1].parse().unwrap();
        let lib = d
            .log_prob(&Tensor::new(&y, &dev).unwrap())
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert_eq!(got, lib, "{point}");
    }
    // ... and the closed form at (0.2, 0.3, 0.5): the stick-breaking pre-image
    // x = (logit 0.2 + ln 2, logit(0.3/0.8)) = (ln 0.5, ln 0.6), with
    // ln|det| = Σ_k (−s_k + ln z_k + ln y_k), s = (ln 0.25, ln 0.6), z = (0.2, 0.375).
    let ln_n = |x: f64, m: f64, s: f64| {
        -0.5 * ((x - m) / s).powi(2) - ln(s) - 0.5 * ln(2.0 * std::f64::consts::PI)
    };
    let log_det = (-ln(0.25) + ln(0.2) + ln(0.2)) + (-ln(0.6) + ln(0.375) + ln(0.3));
    let want = ln_n(ln(0.5), 0.0, 1.0) + ln_n(ln(0.6), 1.0, 2.0) - log_det;
    let got: f64 = row(&out, "0.2,0.3,0.5")[1].parse().unwrap();
    assert!((got - want).abs() < 1e-14, "{got} vs {want}");
    for m in ["mean", "variance", "entropy"] {
        assert_eq!(row(&out, m)[1], "n/a", "{out}");
    }

    // Dirichlet(1, 2, 3): log p = ln Γ(6) − ln Γ(2) − ln Γ(3) + ln 0.3 + 2 ln 0.5,
    // mean α/α₀, variance α_k(α₀ − α_k)/(α₀²(α₀ + 1)).
    let (code, out, err) =
        run_words("eval dirichlet -p concentration=1,2,3 -v 0.2,0.3,0.5 --digits full --dtype f32");
    assert_eq!(code, 0, "{err}");
    let r = row(&out, "0.2,0.3,0.5");
    let lp: f64 = r[1].parse().unwrap();
    assert!(
        (lp - (ln(60.0) + ln(0.3) + 2.0 * ln(0.5))).abs() < 1e-6,
        "{out}"
    );
    assert_eq!(r[2], "n/a", "{out}");
    let parse_list = |name: &str| -> Vec<f64> {
        row(&out, name)[1..]
            .iter()
            .map(|v| v.trim_end_matches(',').parse().unwrap())
            .collect()
    };
    let mean = parse_list("mean");
    let var = parse_list("variance");
    for (j, a) in [1.0f64, 2.0, 3.0].into_iter().enumerate() {
        assert!((mean[j] - a / 6.0).abs() < 1e-7, "{out}");
        assert!(
            (var[j] - a * (6.0 - a) / (36.0 * 7.0)).abs() < 1e-7,
            "{out}"
        );
    }
}

#[test]
fn vector_parameter_and_value_errors_are_one_line() {
    for (args, msg) in [
        (
            "sample logisticnormal -p loc=0,1 -p scale=1,2,3",
            "`loc` has 2 entries but `scale` has 3",
        ),
        (
            "eval logisticnormal -p loc=0,1 -p scale=1,2,3 -v 0.2,0.3,0.5",
            "must have the same length",
        ),
        (
            "sample normal -p loc=0,1 -p scale=1",
            "scalar parameters only",
        ),
        ("sample dirichlet -p concentration=2", "comma-separated"),
        ("sample dirichlet -p concentration=1,,2", "empty entry"),
        ("sample dirichlet -p concentration=1,-2", "-2"),
        (
            "eval dirichlet -p concentration=1,2,3 -v 0.5,0.5",
            "has 3 coordinates",
        ),
        (
            "eval normal -p loc=0 -p scale=1 -v 0.5,0.5",
            "scalar values",
        ),
        (
            "eval dirichlet -p concentration=1,2,3 -v 0.2,0.3,0.6",
            "Dirichlet",
        ),
        (
            "kl dirichlet dirichlet --p-param concentration=1,2 --q-param concentration=1,2,3",
            "Dirichlet",
        ),
        (
            &format!(
                "sample dirichlet -p concentration={} --plot {}",
                ["1"; 17].join(","),
                tmp_dir("too-many-panels").join("x.png").display()
            ),
            "at most 16",
        ),
    ] {
        let (code, out, err) = run_words(args);
        assert_eq!(code, 2, "{args}: {out} {err}");
        assert!(
            err.starts_with("error: ") && err.contains(msg),
            "{args}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{args}: {err}");
        assert!(out.is_empty(), "{args}: {out}");
    }
}

#[test]
fn kl_of_simplex_families() {
    // LogisticNormal: the KL of the base normals (the stick-breaking map is a
    // bijection), Σ_k ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − 1/2.
    let (code, out, err) = run_words(
        "kl LogisticNormal LogisticNormal --p-param loc=0,1 --p-param scale=1,2 \
         --q-param loc=0.5,0 --q-param scale=2,1 --mc 20000 --seed 2 --digits full",
    );
    assert_eq!(code, 0, "{err}");
    let kl_n = |mp: f64, sp: f64, mq: f64, sq: f64| {
        (sq / sp).ln() + (sp * sp + (mp - mq).powi(2)) / (2.0 * sq * sq) - 0.5
    };
    let want = kl_n(0.0, 1.0, 0.5, 2.0) + kl_n(1.0, 2.0, 0.0, 1.0);
    let v: f64 = row(&out, "closed")[2].parse().unwrap();
    assert!((v - want).abs() < 1e-14, "{out}");
    let r = row(&out, "monte");
    let (est, se): (f64, f64) = (r[2].parse().unwrap(), r[4].parse().unwrap());
    assert!(se > 0.0 && (est - want).abs() < 4.0 * se, "{out}");
    // Dirichlet(1, 2, 3) ‖ Dirichlet(2, 2, 2): ln B(β) − ln B(α) +
    // Σ (α_k − β_k)(ψ(α_k) − ψ(α₀)) = (ln 120 − ln 2 − ln 120) + ψ(3) − ψ(1) = 3/2 − ln 2.
    let (code, out, err) = run_words(
        "kl dirichlet dirichlet --p-param concentration=1,2,3 \
         --q-param concentration=2,2,2 --mc 20000 --seed 2 --digits full",
    );
    assert_eq!(code, 0, "{err}");
    let want = 1.5 - 2f64.ln();
    let v: f64 = row(&out, "closed")[2].parse().unwrap();
    assert!((v - want).abs() < 1e-14, "{out}");
    let r = row(&out, "monte");
    let (est, se): (f64, f64) = (r[2].parse().unwrap(), r[4].parse().unwrap());
    assert!(se > 0.0 && (est - want).abs() < 4.0 * se, "{out}");
}

/// The numbers between the brackets of the row that starts with `label`.
fn bracketed(stdout: &str, label: &str) -> Vec<f64> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no row {label:?} in:\n{stdout}"));
    let inner = &line[line.find('[').unwrap() + 1..line.rfind(']').unwrap()];
    inner.split(", ").map(|v| v.parse().unwrap()).collect()
}

/// `transform`: the image, log|det J| and round trip of a point, against closed forms
/// (exp: y = e^x, log-det x; stick-breaking: a simplex point whose inverse is the
/// input; affine inverse: (y − loc)/scale, log-det −ln|scale|); errors are one line.
#[test]
fn transform_applies_maps_and_their_inverses() {
    let (code, out, err) = run_words("transform exp --value 1.5 --digits full");
    assert_eq!(code, 0, "{err}");
    assert_eq!(bracketed(&out, "y = f(x)"), vec![1.5f64.exp()]);
    let ladj: f64 = row(&out, "log|det")[2].parse().unwrap();
    assert_eq!(ladj, 1.5);
    let (code, out, err) = run_words("transform stick-breaking --value 0.5,-1,2 --digits full");
    assert_eq!(code, 0, "{err}");
    let y = bracketed(&out, "y = f(x)");
    assert_eq!(y.len(), 4);
    assert!((y.iter().sum::<f64>() - 1.0).abs() < 1e-15 && y.iter().all(|v| *v > 0.0));
    let back = bracketed(&out, "f⁻¹(y)");
    for (b, x) in back.iter().zip([0.5, -1.0, 2.0]) {
        assert!((b - x).abs() < 1e-12, "{out}");
    }
    let (code, out, err) =
        run_words("transform affine -p loc=1 -p scale=-2 --value 3 --inverse --digits full");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("AffineTransform (inverse)"), "{out}");
    assert_eq!(bracketed(&out, "y = f(x)"), vec![-1.0]);
    let ladj: f64 = row(&out, "log|det")[2].parse().unwrap();
    assert!((ladj + 2f64.ln()).abs() < 1e-15);
    for (args, needle) in [
        ("transform nope --value 1", "unknown transform"),
        ("transform power --value 2", "missing parameter `exponent`"),
        ("transform lowercholesky --value 1,2,3", "D×D"),
        ("transform exp -p loc=1 --value 1", "unknown parameter"),
    ] {
        let (code, out, err) = run_words(args);
        assert_eq!(code, 2, "{args}");
        assert!(
            out.is_empty() && err.lines().count() == 1 && err.contains(needle),
            "{err}"
        );
    }
}

/// The fields of the counts-table row of `value` (value, count, frequency, pmf).
fn count_row(stdout: &str, value: &str) -> (usize, f64, f64) {
    let header = stdout
        .lines()
        .position(|l| {
            l.split_whitespace().collect::<Vec<_>>() == ["value", "count", "frequency", "pmf"]
        })
        .unwrap_or_else(|| panic!("no counts table in:\n{stdout}"));
    let f = stdout
        .lines()
        .skip(header + 1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&value))
        .unwrap_or_else(|| panic!("no row {value} in:\n{stdout}"));
    (
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
    )
}

/// A command line, the label its output starts with, and the pmf at some values.
type PmfCase = (&'static str, &'static str, &'static [(&'static str, f64)]);

/// Discrete draws: a table of counts per value whose pmf column is the family's
/// (exact), whose frequencies are within 4.5 standard errors of it, and whose counts add
/// up to n; the same seed gives the same counts.
#[test]
fn discrete_sample_prints_counts_against_the_pmf() {
    let cases: [PmfCase; 4] = [
        (
            "sample bernoulli --param probs=0.3 -n 20000 --seed 3 --digits full",
            "Bernoulli(probs=0.3)",
            &[("0", 0.7), ("1", 0.3)],
        ),
        (
            "sample categorical --param probs=1,2,5 -n 20000 --seed 4 --digits full",
            "Categorical(probs=[1, 2, 5])",
            &[("0", 0.125), ("1", 0.25), ("2", 0.625)],
        ),
        (
            "sample onehotcategorical --param logits=0,0,0,0 -n 20000 --seed 5 --digits full",
            "OneHotCategorical(logits=[0, 0, 0, 0])",
            &[("0", 0.25), ("1", 0.25), ("2", 0.25), ("3", 0.25)],
        ),
        (
            "sample binomial --param total_count=2 --param logits=0 -n 20000 --seed 6 --digits full",
            "Binomial(total_count=2, logits=0)",
            &[("0", 0.25), ("1", 0.5), ("2", 0.25)],
        ),
    ];
    for (args, label, pmf) in cases {
        let (code, out, err) = run_words(args);
        assert_eq!(code, 0, "{args}: {err}");
        assert!(out.starts_with(label), "{out}");
        let mut total = 0;
        for (v, p) in pmf {
            let (count, freq, got_p) = count_row(&out, v);
            total += count;
            assert!((got_p - p).abs() < 1e-15, "{args}: pmf({v}) = {got_p}");
            assert_eq!(freq, count as f64 / 20000.0);
            let se = (p * (1.0 - p) / 20000.0).sqrt();
            assert!((freq - p).abs() < 4.5 * se, "{args}: {v}: {freq} vs {p}");
        }
        assert_eq!(total, 20000, "{out}");
        assert_eq!(run_words(args).1, out, "same seed, same output");
    }
}

/// `sample --plot` of a discrete family writes a bar chart; wide ranges are grouped
/// into bars of several values (said on the plot line), and more than 30 distinct
/// values replace the table by a note.
#[test]
fn discrete_sample_plots_frequencies_against_the_pmf() {
    let dir = tmp_dir("pmf-plot");
    let png = dir.join("poisson.png");
    let (code, out, err) = run(&[
        "sample",
        "poisson",
        "--param",
        "rate=3.5",
        "-n",
        "5000",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_png(&png);
    assert!(out.contains("plot: ") && !out.contains("bars of"), "{out}");
    let png = dir.join("binomial.png");
    let (code, out, err) = run(&[
        "sample",
        "binomial",
        "--param",
        "total_count=1000000",
        "--param",
        "probs=0.5",
        "-n",
        "5000",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_png(&png);
    assert!(
        out.contains("bars of") && out.contains("distinct values (more than 30"),
        "{out}"
    );
    // Mean of the draws within 5 standard errors of n·p.
    let m: f64 = row(&out, "mean")[1].parse().unwrap();
    assert!((m - 500000.0).abs() < 5.0 * 500.0 / 5000f64.sqrt(), "{out}");
}

/// Every new family builds from the command line and samples, with probs or with
/// logits; relaxed families keep the density summary.
#[test]
fn every_discrete_and_relaxed_family_samples() {
    for args in [
        "sample geometric --param logits=-1 -n 2000",
        "sample negativebinomial --param total_count=0.5 --param probs=0.4 -n 2000",
        "sample poisson --param rate=1e-4 -n 2000",
        "sample multinomial --param total_count=10 --param probs=0.2,0.3,0.5 -n 2000",
        "sample relaxedbernoulli --param temperature=0.5 --param logits=1 -n 2000",
        "sample logitrelaxedbernoulli --param temperature=0.5 --param probs=0.3 -n 2000",
        "sample relaxedonehotcategorical --param temperature=0.5 --param probs=0.3,0.7 -n 2000",
    ] {
        let (code, out, err) = run_words(args);
        assert_eq!(code, 0, "{args}: {err}");
        assert!(out.contains("n = 2000"), "{args}: {out}");
    }
    // Multinomial: coordinate means near n·p, draws summing to n.
    let (_, out, _) = run_words(
        "sample multinomial --param total_count=10 --param probs=0.2,0.3,0.5 -n 4000 --seed 2",
    );
    let means: Vec<f64> = row(&out, "mean")[1..]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    for (m, want) in means.iter().zip([2.0, 3.0, 5.0]) {
        assert!((m - want).abs() < 0.1, "{out}");
    }
    // Its plot: one pmf bar chart per coordinate (Binomial marginals).
    let dir = tmp_dir("multinomial-plot");
    let png = dir.join("m.png");
    let (code, out, err) = run(&[
        "sample",
        "multinomial",
        "--param",
        "total_count=10",
        "--param",
        "logits=0,1,2",
        "-n",
        "2000",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("plot: "), "{out}");
    assert_png(&png);
}

/// Parameter errors of the probs-or-logits families: exit code 2, one line on stderr,
/// naming the problem.
#[test]
fn probs_or_logits_errors_are_one_line() {
    for (args, needle) in [
        (
            "sample bernoulli --param probs=0.3 --param logits=1",
            "give `probs` or `logits`, not both",
        ),
        ("sample bernoulli -n 10", "needs parameter probs or logits"),
        ("sample bernoulli --param rate=1", "valid: probs or logits"),
        ("sample bernoulli --param probs=1.5", "probs"),
        ("sample categorical --param probs=0.3", "comma-separated"),
        (
            "sample multinomial --param total_count=2.5 --param probs=0.5,0.5",
            "whole number of trials",
        ),
        (
            "sample relaxedonehotcategorical --param temperature=1,2 --param probs=0.5,0.5",
            "`temperature` is one number",
        ),
        ("eval categorical --param probs=1,2,3 -v 2.5", "Categorical"),
        ("eval bernoulli --param probs=0.5 -v 2", "Bernoulli"),
    ] {
        let (code, out, err) = run_words(args);
        assert_eq!(code, 2, "{args}: {out}{err}");
        assert!(
            out.is_empty() && err.lines().count() == 1 && err.contains(needle),
            "{args}: {err}"
        );
    }
}

/// `eval` of discrete families: log-masses at integer values, from probs or logits.
#[test]
fn eval_discrete_log_prob_and_moments() {
    let (code, out, err) = run_words("eval bernoulli --param logits=-2 -v 0 -v 1 --digits full");
    assert_eq!(code, 0, "{err}");
    // ln σ(−2) = −softplus(2), ln σ(2) = −softplus(−2).
    let lp1: f64 = row(&out, "1")[1].parse().unwrap();
    let lp0: f64 = row(&out, "0")[1].parse().unwrap();
    assert!((lp1 + (1.0 + 2f64.exp()).ln()).abs() < 1e-15, "{out}");
    assert!((lp0 + (1.0 + (-2f64).exp()).ln()).abs() < 1e-15, "{out}");
    let (code, out, err) = run_words("eval poisson --param rate=2 -v 3 --digits full");
    assert_eq!(code, 0, "{err}");
    let lp: f64 = row(&out, "3")[1].parse().unwrap();
    let want = 3.0 * 2f64.ln() - 2.0 - 6f64.ln();
    assert!((lp - want).abs() < 1e-15, "{out}");
    assert_eq!(row(&out, "mean")[1], "2");
    let (code, out, err) = run_words("eval categorical --param probs=1,1,2 -v 2 --digits full");
    assert_eq!(code, 0, "{err}");
    let lp: f64 = row(&out, "2")[1].parse().unwrap();
    assert!((lp - 0.5f64.ln()).abs() < 1e-15, "{out}");
    // The pmf column: exp(log_prob).
    assert_eq!(row(&out, "2")[2], "0.5", "{out}");
    assert!(out.contains("log_prob") && out.contains("pmf"), "{out}");
}

/// `kl` of discrete pairs: closed forms against the textbook sums, +∞ pairs, the
/// Binomial pair without a closed form (with its reason) and its Monte Carlo estimate.
#[test]
fn kl_of_discrete_pairs() {
    let (code, out, err) =
        run_words("kl bernoulli bernoulli --p-param probs=0.3 --q-param logits=0 --digits full");
    assert_eq!(code, 0, "{err}");
    let v: f64 = row(&out, "closed")[2].parse().unwrap();
    let want = 0.3 * (0.3f64 / 0.5).ln() + 0.7 * (0.7f64 / 0.5).ln();
    assert!((v - want).abs() < 1e-15 * want.max(1.0), "{out}");
    let (code, out, err) = run_words(
        "kl categorical categorical --p-param probs=0.2,0.8 --q-param logits=0,0 --digits full",
    );
    assert_eq!(code, 0, "{err}");
    let v: f64 = row(&out, "closed")[2].parse().unwrap();
    let want = 0.2 * (0.2f64 / 0.5).ln() + 0.8 * (0.8f64 / 0.5).ln();
    assert!((v - want).abs() < 1e-15, "{out}");
    for args in [
        "kl poisson bernoulli --p-param rate=1 --q-param probs=0.5",
        "kl poisson normal --p-param rate=1 --q-param loc=0 --q-param scale=1",
        "kl normal geometric --p-param loc=0 --p-param scale=1 --q-param probs=0.5",
    ] {
        let (code, out, err) = run_words(args);
        assert_eq!(code, 0, "{args}: {err}");
        assert_eq!(row(&out, "closed")[2], "inf", "{args}: {out}");
    }
    let p = "kl binomial binomial --p-param total_count=5 --p-param probs=0.3 \
             --q-param total_count=8 --q-param probs=0.4";
    let (code, _, err) = run_words(p);
    assert_eq!(code, 2);
    assert!(err.contains("total_count") && err.contains("--mc"), "{err}");
    let (code, out, err) = run_words(&format!("{p} --mc 200000 --seed 1 --digits full"));
    assert_eq!(code, 0, "{err}");
    // Σ_k p(k) ln(p(k)/q(k)) by hand.
    let lc =
        |n: u32, k: u32| -> f64 { (1..=k).map(|i| ((n - k + i) as f64 / i as f64).ln()).sum() };
    let pmf = |n: u32, p: f64, k: u32| {
        (lc(n, k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()
    };
    let want: f64 = (0..=5)
        .map(|k| pmf(5, 0.3, k) * (pmf(5, 0.3, k) / pmf(8, 0.4, k)).ln())
        .sum();
    let f = row(&out, "monte");
    let (est, se): (f64, f64) = (f[2].parse().unwrap(), f[4].parse().unwrap());
    assert!((est - want).abs() < 4.5 * se, "{est} ± {se} vs {want}");
}

/// The numbers on the first line containing `key`, after it (signed decimals).
fn numbers_after(stdout: &str, key: &str) -> Vec<f64> {
    let line = stdout
        .lines()
        .find(|l| l.contains(key))
        .unwrap_or_else(|| panic!("no line with {key:?} in:\n{stdout}"));
    let rest = &line[line.find(key).unwrap() + key.len()..];
    rest.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[test]
fn demo_shows_the_discrete_part() {
    let (code, out, err) = run(&["demo", "--no-plots", "--reps", "300"]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("== 3. Discrete draws"), "{out}");
    // Why there is no rsample: the errors of a Categorical and a Bernoulli.
    for who in ["Categorical", "Bernoulli"] {
        assert!(
            out.contains(&format!("{who}: `rsample` is not implemented")),
            "{who}: {out}"
        );
    }
    // The score-function estimate from 16384 draws against the exact gradient
    // (per-component standard error below 0.025 for this table).
    let g = numbers_after(&out, "grad theta    =");
    let exact = numbers_after(&out, "exact         =");
    assert_eq!((g.len(), exact.len()), (4, 4), "{g:?} {exact:?}");
    // p = softmax(0.5, -0.5, 1, 0), r = (6, 8, 3, 5.5): p_k (r_k - sum p r), by hand.
    let e: Vec<f64> = [0.5f64, -0.5, 1.0, 0.0].iter().map(|t| t.exp()).collect();
    let z: f64 = e.iter().sum();
    let r = [6.0, 8.0, 3.0, 5.5];
    let mr: f64 = e.iter().zip(r).map(|(e, r)| e / z * r).sum();
    for k in 0..4 {
        let want = e[k] / z * (r[k] - mr);
        assert!(
            (exact[k] - want).abs() < 1e-4,
            "exact[{k}] {} vs {want}",
            exact[k]
        );
        assert!(
            (g[k] - want).abs() < 0.1,
            "estimate[{k}] {} vs {want}",
            g[k]
        );
    }
    // The variance table: the score function unbiased (|z| well inside 5 at 300
    // repetitions), leave-one-out below no baseline, Gumbel-softmax at tau = 1 biased.
    let cols = |name: &str| numbers_after(&out, name);
    let none = cols("score-fn, no baseline");
    let loo = cols("score-fn, leave-one-out");
    let g1 = cols("gumbel-softmax, tau=1 ");
    assert_eq!((none.len(), loo.len()), (3, 3), "{none:?} {loo:?}");
    assert!(none[1] < 5.0 && loo[1] < 5.0, "{none:?} {loo:?}");
    assert!(loo[2] < none[2], "{loo:?} vs {none:?}");
    assert!(g1[1] > 5.0, "gumbel tau=1 max |z| {g1:?}");
}
