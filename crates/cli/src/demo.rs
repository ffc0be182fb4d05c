//! `candle-dist demo`: the sample-vs-rsample story end to end.
//!
//! 1. `sample()` cuts the graph (no gradient reaches `loc`, `scale`); `rsample()` draws
//!    `x = loc + scale · ε`, so d mean(x)/d loc = 1 and d mean(x)/d scale = mean(ε).
//! 2. Two unbiased estimators of d/dloc E\[x²\] for x ~ Normal(loc = 1, scale = 1) (true
//!    value 2·loc = 2): the pathwise one (through `rsample`) and the score-function one
//!    (REINFORCE: `sample` and `log_prob`), their spread over many repetitions at
//!    several sample counts.
//! 3. Discrete draws: a Categorical (or Bernoulli) has no `rsample` (the error says
//!    why); the score function estimates the gradient from `log_prob` (printed against
//!    the exact one, by enumeration); what it costs in variance, with and without a
//!    baseline, against Gumbel-softmax (low variance, biased).
//! 4. One PNG picture, two panels: a histogram of `sample()` draws against the
//!    density, and beside it the variance of the pathwise and score-function gradient
//!    estimates against the number of draws (log-log): what `rsample` buys.

use crate::output::{Kind, Outputs};
use crate::{plot, stats};
use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::estimators::{
    gumbel_softmax, score_function_surrogate, variance_probe, Baseline, LeaveOneOut, NamedEstimator,
};
use candle_distributions::{Bernoulli, Categorical, Distribution, Generator, Normal};
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

/// File name of the picture: histogram and estimator variance side by side.
pub const STORY_PNG: &str = "sample_vs_rsample.png";

/// Pixel size of the picture (two 960 × 600 panels under a title line).
pub const STORY_SIZE: (u32, u32) = (1920, 650);

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
    discrete(&root, args.reps).map_err(s)?;
    if args.no_plots {
        outln!(
            "\nplots skipped (--no-plots); done in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let path = part3(&args.out, hist_samples, &rows)?;
    outln!(
        "\nwrote {} (left: sample() draws vs density; right: gradient-estimate variance, pathwise vs score function); done in {:.1} s",
        path.display(),
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

/// Logits of the categorical toy in part 3.
pub const CAT_THETA: [f64; 4] = [0.5, -0.5, 1.0, 0.0];

/// Reward of each class in part 3.
pub const CAT_REWARD: [f64; 4] = [6.0, 8.0, 3.0, 5.5];

/// Draws per estimate in the variance comparison of part 3.
const CAT_DRAWS: usize = 4;

fn fmt_vec(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:+.4}")).collect();
    format!("({})", parts.join(", "))
}

/// Part 3: discrete draws have no `rsample`; the score function; its variance.
fn discrete(root: &Generator, reps: u64) -> DResult<()> {
    let dev = Device::Cpu;
    let k = CAT_THETA.len();
    let theta = Var::new(&CAT_THETA, &dev)?;
    let reward = Tensor::new(&CAT_REWARD, &dev)?;
    let d = Categorical::from_logits(&theta)?;
    // Exact gradient by enumeration: d/dθ_k Σ_j p_j r_j = p_k (r_k − Σ_j p_j r_j).
    let p = class_probs(&d)?;
    let mean_r: f64 = p.iter().zip(CAT_REWARD).map(|(p, r)| p * r).sum();
    let exact: Vec<f64> = p
        .iter()
        .zip(CAT_REWARD)
        .map(|(p, r)| p * (r - mean_r))
        .collect();
    outln!("\n== 3. Discrete draws: no rsample, the score function instead ==");
    outln!(
        "d = Categorical(logits = theta), theta = Var({CAT_THETA:?}); reward r = {CAT_REWARD:?}; objective E[r(x)]\n"
    );
    let mut rng = root.fold_in(3);
    let show_err = |what: &str, r: DResult<Tensor>| match r {
        Err(e) => outln!("{what} -> error: {e}"),
        Ok(_) => outln!("{what} -> a draw (unexpected)"),
    };
    show_err("d.rsample([4])", d.rsample(&[4], &mut rng));
    let b = Bernoulli::from_logits(&theta)?;
    show_err(
        "Bernoulli(logits = theta).rsample([4])",
        b.rsample(&[4], &mut rng),
    );
    outln!("  -> a discrete draw jumps between values: it is piecewise constant in theta, so its");
    outln!("     derivative is 0 almost everywhere and there is no pathwise gradient to follow.");
    outln!(
        "     The score function uses log_prob instead: grad E[f(x)] = E[f(x) grad log p(x)].\n"
    );

    let n = GRAD_DRAWS;
    let x = d.sample(&[n], &mut rng)?;
    let f = reward.index_select(&x, 0)?;
    let sur = score_function_surrogate(&d.log_prob(&x)?, &f, None)?;
    let value = scalar(&sur.mean_all()?)?;
    let grads = sur.mean_all()?.backward()?;
    let g = grads
        .get(&theta)
        .map(candle_distributions::distribution::to_f64_vec)
        .transpose()?
        .unwrap_or_default();
    outln!("x = d.sample([{n}]); s = score_function_surrogate(d.log_prob(x), r[x], None); mean(s).backward()");
    outln!("  mean(s)       = {value:.4}   (the objective; exact sum_k p_k r_k = {mean_r:.4})");
    outln!("  grad theta    = {}", fmt_vec(&g));
    outln!(
        "  exact         = {}   (p_k (r_k - sum_j p_j r_j), by enumeration)",
        fmt_vec(&exact)
    );
    outln!("  -> right on average, but one estimate is noisy. What that costs:\n");

    let relaxed = |p: &[Var], g: &mut Generator, tau: f64| -> DResult<Tensor> {
        let logits = p[0]
            .as_tensor()
            .unsqueeze(0)?
            .broadcast_as((CAT_DRAWS, k))?;
        let y = gumbel_softmax(&logits, tau, false, g)?;
        Ok(y.matmul(&reward.reshape((k, 1))?)?.squeeze(1)?)
    };
    let score = |p: &[Var], g: &mut Generator| -> DResult<(Tensor, Tensor)> {
        let d = Categorical::from_logits(&p[0])?;
        let x = d.sample(&[CAT_DRAWS], g)?;
        Ok((d.log_prob(&x)?, reward.index_select(&x, 0)?))
    };
    let mut estimators = vec![
        NamedEstimator::new("score-fn, no baseline", |p: &[Var], g: &mut Generator| {
            let (lp, f) = score(p, g)?;
            score_function_surrogate(&lp, &f, None)
        }),
        NamedEstimator::new("score-fn, leave-one-out", |p: &[Var], g: &mut Generator| {
            let (lp, f) = score(p, g)?;
            LeaveOneOut::new(0).surrogate(&lp, &f)
        }),
        NamedEstimator::new("gumbel-softmax, tau=1", |p: &[Var], g: &mut Generator| {
            relaxed(p, g, 1.0)
        }),
        NamedEstimator::new("gumbel-softmax, tau=0.1", |p: &[Var], g: &mut Generator| {
            relaxed(p, g, 0.1)
        }),
    ];
    let probe = variance_probe(
        std::slice::from_ref(&theta),
        &mut estimators,
        reps as usize,
        &root.fold_in(4),
    )?;
    outln!("{reps} estimates of {CAT_DRAWS} draws each (estimate r of every estimator uses stream fold_in(r)):");
    outln!(
        "  {:<26} {:>10} {:>8} {:>10}",
        "estimator",
        "|bias|",
        "max |z|",
        "variance"
    );
    for st in &probe {
        let bias = st.bias(&exact)?;
        outln!(
            "  {:<26} {:>10.4} {:>8.2} {:>10.4}",
            st.name,
            bias.iter().map(|b| b * b).sum::<f64>().sqrt(),
            st.max_abs_z(&exact)?,
            st.total_variance()
        );
    }
    outln!("  (|bias|: distance of the mean estimate from the exact gradient; max |z|: that in");
    outln!(
        "   standard errors, a few units for an unbiased estimator; variance: trace, per estimate)"
    );
    outln!(
        "  -> the score function is unbiased; a leave-one-out baseline keeps it so and cuts the"
    );
    outln!("     variance. Gumbel-softmax differentiates a relaxed objective: low variance but biased,");
    outln!("     less so as tau -> 0 (and noisier).");
    Ok(())
}

/// The class probabilities of `d`, on the host.
fn class_probs(d: &Categorical) -> DResult<Vec<f64>> {
    candle_distributions::distribution::to_f64_vec(&d.probs()?)
}

/// Part 4: the picture, histogram of `sample()` left, estimator variance right.
/// Returns its path.
fn part3(out: &Path, (d, mut xs): (Normal, Vec<f64>), rows: &[Row]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let path = out.join(STORY_PNG);
    let mut outputs = Outputs::new();
    let to = outputs.add("--out", &path, Kind::Png)?;
    let root = plot::canvas(&to, STORY_SIZE)?;
    plot::ensure_font()?;
    let root = root
        .titled(
            "sample() draws the law but cuts the graph; rsample() draws it with a low-variance gradient",
            ("sans-serif", 28),
        )
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    let panels = root.split_evenly((1, 2));
    xs.sort_unstable_by(f64::total_cmp);
    plot::samples_vs_density_panel(
        &panels[0],
        &to,
        &format!("{} draws of Normal(1, 2).sample() vs density", xs.len()),
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
        &panels[1],
        &to,
        "Variance of d/dloc E[x²] estimates, x ~ Normal(1, 1)",
        "draws per estimate (n)",
        "variance over repetitions",
        &series,
    )?;
    plot::present(&root, &to)?;
    outputs.commit()?;
    Ok(path)
}
