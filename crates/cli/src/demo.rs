//! `candle-dist demo`: the sample-vs-rsample story end to end.
//!
//! 1. `sample()` cuts the graph (no gradient reaches `loc`, `scale`); `rsample()` draws
//!    `x = loc + scale · ε`, so d mean(x)/d loc = 1 and d mean(x)/d scale = mean(ε).
//! 2. Two unbiased estimators of d/dloc E\[x²\] for x ~ Normal(loc = 1, scale = 1) (true
//!    value 2·loc = 2): the pathwise one (through `rsample`) and the score-function one
//!    (REINFORCE: `sample` and `log_prob`), their spread over many repetitions at
//!    several sample counts.
//! 3. PNG plots: a histogram of Normal draws against the density, and the variance of
//!    both estimators against the sample count (log-log).

use crate::output::{Kind, Outputs};
use crate::{plot, stats};
use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{Distribution, Generator, Normal};
use plotters::style::RGBColor;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `candle-dist demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Folder for the PNG plots (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out/demo")]
    pub out: PathBuf,
    /// Seed of the Philox generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Skip writing the plots.
    #[arg(long)]
    pub no_plots: bool,
    /// Repetitions per sample count in the estimator comparison.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(2..=100_000))]
    pub reps: u64,
}

/// Sample counts of the estimator comparison.
pub const SAMPLE_COUNTS: [usize; 6] = [1, 4, 16, 64, 256, 1024];

/// Draws used to show the gradients (a power of two, so 1/n and the sum of n copies of
/// it are exact and d mean(x)/d loc prints as exactly 1).
pub const GRAD_DRAWS: usize = 1 << 14;

/// Draws in the histogram plot.
pub const HIST_DRAWS: usize = 20_000;

/// File name of the histogram plot.
pub const HIST_PNG: &str = "normal_samples_vs_density.png";

/// File name of the estimator-variance plot.
pub const VARIANCE_PNG: &str = "estimator_variance.png";

type DResult<T> = candle_distributions::Result<T>;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn scalar(t: &Tensor) -> DResult<f64> {
    Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}

fn grad_of(grads: &candle_core::backprop::GradStore, v: &Var) -> DResult<Option<f64>> {
    grads.get(v).map(scalar).transpose()
}

fn show(g: Option<f64>) -> String {
    g.map_or_else(|| "None".to_string(), |v| format!("{v}"))
}

/// Runs `candle-dist demo`.
pub fn run(args: &DemoArgs) -> Result<(), String> {
    let t0 = Instant::now();
    let root = Generator::new(args.seed);
    let hist_samples = part1(&root).map_err(s)?;
    let rows = part2(&root, args.reps).map_err(s)?;
    if args.no_plots {
        outln!(
            "\nplots skipped (--no-plots); done in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let (hist_path, var_path) = part3(&args.out, hist_samples, &rows)?;
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned())
    };
    outln!(
        "\nwrote 2 plots to {}: {} (histogram vs density), {} (estimator variance); done in {:.1} s",
        args.out.display(),
        name(&hist_path),
        name(&var_path),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Part 1: gradients through `sample()` and `rsample()`. Returns draws for the histogram
/// and the distribution they come from.
fn part1(root: &Generator) -> DResult<(Normal, Vec<f64>)> {
    let dev = Device::Cpu;
    let (loc0, scale0) = (1.0f64, 2.0f64);
    let loc = Var::new(loc0, &dev)?;
    let scale = Var::new(scale0, &dev)?;
    let d = Normal::new(loc.as_tensor(), scale.as_tensor())?;
    let n = GRAD_DRAWS;
    outln!("== 1. sample() vs rsample(): where do gradients flow? ==");
    outln!("d = Normal(loc, scale) with loc = Var({loc0}), scale = Var({scale0}) (f64); {n} draws each\n");

    let mut rng = root.fold_in(1);
    let x = d.sample(&[n], &mut rng)?;
    let m = x.mean_all()?;
    let grads = m.backward()?;
    outln!("x = d.sample([{n}])       mean(x) = {:.6}", scalar(&m)?);
    outln!(
        "  mean(x).backward():  grads.get(loc) = {}, grads.get(scale) = {}",
        show(grad_of(&grads, &loc)?),
        show(grad_of(&grads, &scale)?)
    );
    outln!("  -> sample() returns data cut from the graph: no gradient reaches loc or scale.\n");

    let x = d.rsample(&[n], &mut rng)?;
    let m = x.mean_all()?;
    let grads = m.backward()?;
    let g_loc = grad_of(&grads, &loc)?;
    let g_scale = grad_of(&grads, &scale)?;
    let eps = x.detach().affine(1.0 / scale0, -loc0 / scale0)?; // (x - loc) / scale
    let mean_eps = scalar(&eps.mean_all()?)?;
    outln!(
        "x = d.rsample([{n}])      mean(x) = {:.6}   (x = loc + scale * eps, eps ~ N(0, 1))",
        scalar(&m)?
    );
    outln!("  mean(x).backward():");
    outln!("    d mean(x)/d loc   = {}", show(g_loc));
    outln!("    d mean(x)/d scale = {}", show(g_scale));
    outln!("    mean(eps) = mean((x - loc)/scale) = {mean_eps}");
    if let Some(g) = g_scale {
        outln!(
            "    |d mean(x)/d scale - mean(eps)| = {:.1e}",
            (g - mean_eps).abs()
        );
    }
    outln!("  -> rsample() is differentiable: dx/dloc = 1 and dx/dscale = eps for every draw.\n");

    let mut rng = root.fold_in(2);
    let h = d.sample(&[HIST_DRAWS], &mut rng)?;
    let h = h.to_vec1::<f64>()?;
    Ok((d, h))
}

/// One row of the estimator comparison.
#[derive(Debug, Clone)]
struct Row {
    n: usize,
    path_sd: f64,
    score_sd: f64,
}

/// Part 2: pathwise vs score-function estimators of d/dloc E\[x²\].
fn part2(root: &Generator, reps: u64) -> DResult<Vec<Row>> {
    let dev = Device::Cpu;
    let (loc0, scale0) = (1.0f64, 1.0f64);
    let loc = Var::new(loc0, &dev)?;
    let scale = Tensor::new(scale0, &dev)?;
    let d = Normal::new(loc.as_tensor(), &scale)?;
    let truth = 2.0 * loc0;
    outln!("== 2. Two gradient estimators of d/dloc E[f(x)], f(x) = x^2, x ~ Normal(loc={loc0}, scale={scale0}) ==");
    outln!("true value: 2*loc = {truth}");
    outln!("pathwise (rsample):        x = d.rsample([n]); mean(x^2).backward()              -> mean(2x)");
    outln!("score function (sample):   x = d.sample([n]);  mean(x^2 * log_prob(x)).backward() -> mean(x^2 (x-loc)/scale^2)");
    outln!("{reps} repetitions per row; repetition r uses generator stream fold_in(r) (both estimators see the same draws)\n");
    outln!(
        "{:>6} {:>6}   {:>22}   {:>22}   {:>10}",
        "n",
        "true",
        "pathwise mean ± sd",
        "score-fn mean ± sd",
        "var ratio"
    );
    let mut rows = Vec::new();
    for &n in &SAMPLE_COUNTS {
        let base = root.fold_in(1000 + n as u64);
        let mut path = Vec::with_capacity(reps as usize);
        let mut score = Vec::with_capacity(reps as usize);
        for r in 0..reps {
            let stream = base.fold_in(r);
            let mut rng = stream.clone();
            let x = d.rsample(&[n], &mut rng)?;
            let g = x.sqr()?.mean_all()?.backward()?;
            path.push(grad_of(&g, &loc)?.unwrap_or(f64::NAN));

            let mut rng = stream;
            let x = d.sample(&[n], &mut rng)?;
            let lp = d.log_prob(&x)?;
            let g = (x.sqr()? * lp)?.mean_all()?.backward()?;
            score.push(grad_of(&g, &loc)?.unwrap_or(f64::NAN));
        }
        let (pm, psd) = stats::mean_std(&path);
        let (sm, ssd) = stats::mean_std(&score);
        outln!(
            "{:>6} {:>6}   {:>22}   {:>22}   {:>10.2}",
            n,
            truth,
            format!("{pm:.4} ± {psd:.4}"),
            format!("{sm:.4} ± {ssd:.4}"),
            (ssd * ssd) / (psd * psd)
        );
        rows.push(Row {
            n,
            path_sd: psd,
            score_sd: ssd,
        });
    }
    outln!("\nBoth are unbiased (means near {truth}); per draw, Var[2x] = 4 while Var[x^2 (x-1)] = 30,");
    outln!(
        "so the score-function estimator needs about 7.5x as many draws for the same precision."
    );
    Ok(rows)
}

/// Part 3: the two PNG plots. Returns their paths.
fn part3(
    out: &Path,
    (d, mut xs): (Normal, Vec<f64>),
    rows: &[Row],
) -> Result<(PathBuf, PathBuf), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let hist_path = out.join(HIST_PNG);
    let var_path = out.join(VARIANCE_PNG);
    // Both plots or neither.
    let mut outputs = Outputs::new();
    let hist_to = outputs.add("--out", &hist_path, Kind::Png)?;
    let var_to = outputs.add("--out", &var_path, Kind::Png)?;
    xs.sort_unstable_by(f64::total_cmp);
    plot::samples_vs_density(
        &hist_to,
        &format!(
            "Normal(loc=1, scale=2): {} draws of sample() vs density",
            xs.len()
        ),
        &d as &dyn Distribution,
        &xs,
    )?;

    let ns: Vec<f64> = rows.iter().map(|r| r.n as f64).collect();
    let theory = |c: f64| ns.iter().map(|&n| (n, c / n)).collect::<Vec<_>>();
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(230, 110, 20);
    let series = vec![
        plot::Series {
            label: "score function (REINFORCE), measured".into(),
            points: rows
                .iter()
                .map(|r| (r.n as f64, r.score_sd * r.score_sd))
                .collect(),
            color: orange,
            dashed: false,
        },
        plot::Series {
            label: "score function, theory 30/n".into(),
            points: theory(30.0),
            color: orange,
            dashed: true,
        },
        plot::Series {
            label: "pathwise (rsample), measured".into(),
            points: rows
                .iter()
                .map(|r| (r.n as f64, r.path_sd * r.path_sd))
                .collect(),
            color: blue,
            dashed: false,
        },
        plot::Series {
            label: "pathwise, theory 4/n".into(),
            points: theory(4.0),
            color: blue,
            dashed: true,
        },
    ];
    plot::loglog(
        &var_to,
        "Variance of d/dloc E[x²] estimators, x ~ Normal(1, 1)",
        "draws per estimate (n)",
        "variance over repetitions",
        &series,
    )?;
    outputs.commit()?;
    Ok((hist_path, var_path))
}
