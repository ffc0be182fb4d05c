//! Gradient estimators side by side: bias and variance of d/dθ E[f(x)].
//!
//! 1. x ~ Normal(loc = 1, scale = 2), f(x) = (x − 3)²: the exact gradient is
//!    (2(loc − 3), 2·scale) = (−4, 4). Pathwise (`rsample`) against the score function
//!    (REINFORCE) with no baseline, a moving average and leave-one-out.
//! 2. x ~ Categorical(softmax θ) with a fixed reward table r, f(x) = r_x: the exact
//!    gradient by enumeration is p_k (r_k − Σ_j p_j r_j). The three score-function
//!    estimators (unbiased) against Gumbel-softmax at several temperatures (biased,
//!    less so as τ → 0, noisier as it does). (Its straight-through form has the same
//!    gradient here: f is linear in the one-hot vector.)
//!
//! Each estimate uses 4 draws; every estimator is repeated R times (10 000, or 1 000
//! with `--quick`) on the same random streams. Prints a table per part and writes a
//! PNG (`out/gradient_estimators.png`, or `--out FILE`).
//!
//! ```text
//! cargo run --release -p candle-distributions --example gradient_estimators [-- --quick] [--out FILE] [--seed N]
//! ```

use candle_core::{Device, Tensor, Var};
use candle_distributions::estimators::{
    gumbel_softmax, score_function_surrogate, variance_probe, Baseline, GradientStats, LeaveOneOut,
    MovingAverage, NamedEstimator,
};
use candle_distributions::{Categorical, Distribution, Generator, Normal};
use common::{canvas, finish, key, run_main, Flags, Res};
use plotters::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

mod common;

/// Draws per estimate (leave-one-out needs at least 2).
const DRAWS: usize = 4;
/// Decay of the moving-average baseline.
const DECAY: f64 = 0.9;
/// The categorical part: logits θ and the reward of each class.
const THETA: [f64; 4] = [0.5, -0.5, 1.0, 0.0];
const REWARD: [f64; 4] = [6.0, 8.0, 3.0, 5.5];

struct Args {
    quick: bool,
    out: PathBuf,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let f = Flags::parse(
        "gradient_estimators [--quick] [--out FILE.png] [--seed N]",
        &["--out", "--seed"],
        &["--quick"],
    )?;
    Ok(Args {
        quick: f.on("--quick"),
        out: f
            .path("--out")
            .unwrap_or_else(|| PathBuf::from("out/gradient_estimators.png")),
        seed: f.number("--seed")?.unwrap_or(0),
    })
}

fn main() {
    run_main(|| run(&parse_args()?));
}

fn run(args: &Args) -> Res<()> {
    let t0 = Instant::now();
    let reps = if args.quick { 1_000 } else { 10_000 };
    let temps: &[f64] = if args.quick {
        &[0.1, 0.5, 2.0]
    } else {
        &[0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
    };
    let root = Generator::new(args.seed);
    println!(
        "{reps} repetitions of each estimator, {DRAWS} draws per estimate, seed {}\n",
        args.seed
    );
    let normal = normal_part(reps, &root.fold_in(1))?;
    let cat = categorical_part(reps, temps, &root.fold_in(2))?;
    plot(&args.out, &normal, &cat, temps, reps)?;
    println!(
        "\nwrote {}; done in {:.1} s",
        args.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One estimator's numbers against the exact gradient.
struct Row {
    stats: GradientStats,
    bias: Vec<f64>,
    z: f64,
}

impl Row {
    fn new(stats: GradientStats, exact: &[f64]) -> Res<Self> {
        Ok(Row {
            bias: stats.bias(exact)?,
            z: stats.max_abs_z(exact)?,
            stats,
        })
    }
    fn bias_sq(&self) -> f64 {
        self.bias.iter().map(|b| b * b).sum()
    }
}

fn fmt_vec(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:+.3}")).collect();
    format!("({})", parts.join(", "))
}

fn table(rows: &[Row]) {
    println!(
        "{:<28} {:>34} {:>10} {:>8} {:>16}",
        "estimator", "mean gradient", "|bias|", "max |z|", "variance (trace)"
    );
    for r in rows {
        println!(
            "{:<28} {:>34} {:>10.4} {:>8.2} {:>16.4}",
            r.stats.name,
            fmt_vec(&r.stats.mean),
            r.bias_sq().sqrt(),
            r.z,
            r.stats.total_variance()
        );
    }
}

/// Part 1: Normal(1, 2), f(x) = (x − 3)².
fn normal_part(reps: usize, rng: &Generator) -> Res<Vec<Row>> {
    let (loc0, scale0) = (1.0, 2.0);
    let exact = [2.0 * (loc0 - 3.0), 2.0 * scale0];
    let params = [
        Var::new(loc0, &Device::Cpu)?,
        Var::new(scale0, &Device::Cpu)?,
    ];
    let f = |x: &Tensor| (x - 3.0)?.sqr();
    let dist = |p: &[Var]| Normal::new(&p[0], &p[1]);
    let mut ma = MovingAverage::new(DECAY)?;
    let mut estimators = vec![
        NamedEstimator::new("pathwise (rsample)", |p: &[Var], g: &mut Generator| {
            Ok(f(&dist(p)?.rsample(&[DRAWS], g)?)?)
        }),
        NamedEstimator::new("score fn, no baseline", |p: &[Var], g: &mut Generator| {
            let d = dist(p)?;
            let x = d.sample(&[DRAWS], g)?;
            score_function_surrogate(&d.log_prob(&x)?, &f(&x)?, None)
        }),
        NamedEstimator::new(
            "score fn, moving average",
            |p: &[Var], g: &mut Generator| {
                let d = dist(p)?;
                let x = d.sample(&[DRAWS], g)?;
                ma.surrogate(&d.log_prob(&x)?, &f(&x)?)
            },
        ),
        NamedEstimator::new("score fn, leave-one-out", |p: &[Var], g: &mut Generator| {
            let d = dist(p)?;
            let x = d.sample(&[DRAWS], g)?;
            LeaveOneOut::new(0).surrogate(&d.log_prob(&x)?, &f(&x)?)
        }),
    ];
    println!("== 1. d/d(loc, scale) E[(x - 3)^2], x ~ Normal(loc = {loc0}, scale = {scale0}) ==");
    println!("exact gradient: {}\n", fmt_vec(&exact));
    let rows = variance_probe(&params, &mut estimators, reps, rng)?
        .into_iter()
        .map(|s| Row::new(s, &exact))
        .collect::<Res<Vec<_>>>()?;
    table(&rows);
    println!("all unbiased (|z| within a few units); pathwise has the smallest variance.\n");
    Ok(rows)
}

/// Part 2: Categorical(softmax θ), f(x) = r_x.
fn categorical_part(reps: usize, temps: &[f64], rng: &Generator) -> Res<Vec<Row>> {
    let dev = Device::Cpu;
    let k = THETA.len();
    let m = THETA.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = THETA.iter().map(|t| (t - m).exp()).sum();
    let p: Vec<f64> = THETA.iter().map(|t| (t - m).exp() / z).collect();
    let mean_r: f64 = p.iter().zip(REWARD).map(|(p, r)| p * r).sum();
    let exact: Vec<f64> = p
        .iter()
        .zip(REWARD)
        .map(|(p, r)| p * (r - mean_r))
        .collect();
    let params = [Var::new(&THETA, &dev)?];
    let reward = Tensor::new(&REWARD, &dev)?;
    let reward_col = reward.reshape((k, 1))?;

    let score = |p: &[Var], g: &mut Generator| -> candle_distributions::Result<(Tensor, Tensor)> {
        let d = Categorical::from_logits(&p[0])?;
        let x = d.sample(&[DRAWS], g)?;
        Ok((d.log_prob(&x)?, reward.index_select(&x, 0)?))
    };
    let relaxed = |p: &[Var], g: &mut Generator, tau: f64, hard: bool| {
        let logits = p[0].as_tensor().unsqueeze(0)?.broadcast_as((DRAWS, k))?;
        let y = gumbel_softmax(&logits, tau, hard, g)?;
        Ok(y.matmul(&reward_col)?.squeeze(1)?)
    };
    let mut ma = MovingAverage::new(DECAY)?;
    let mut estimators = vec![
        NamedEstimator::new("score fn, no baseline", |p: &[Var], g: &mut Generator| {
            let (lp, f) = score(p, g)?;
            score_function_surrogate(&lp, &f, None)
        }),
        NamedEstimator::new(
            "score fn, moving average",
            |p: &[Var], g: &mut Generator| {
                let (lp, f) = score(p, g)?;
                ma.surrogate(&lp, &f)
            },
        ),
        NamedEstimator::new("score fn, leave-one-out", |p: &[Var], g: &mut Generator| {
            let (lp, f) = score(p, g)?;
            LeaveOneOut::new(0).surrogate(&lp, &f)
        }),
    ];
    for &tau in temps {
        estimators.push(NamedEstimator::new(
            format!("gumbel-softmax, tau = {tau}"),
            move |p: &[Var], g: &mut Generator| relaxed(p, g, tau, false),
        ));
    }
    println!("== 2. d/dtheta E[r(x)], x ~ Categorical(softmax theta) ==");
    println!("theta = {}, r = {}", fmt_vec(&THETA), fmt_vec(&REWARD));
    println!(
        "exact gradient p_k (r_k - sum_j p_j r_j) = {}\n",
        fmt_vec(&exact)
    );
    let rows = variance_probe(&params, &mut estimators, reps, rng)?
        .into_iter()
        .map(|s| Row::new(s, &exact))
        .collect::<Res<Vec<_>>>()?;
    table(&rows);
    println!("score-function estimators: unbiased, baselines cut the variance.");
    println!("gumbel-softmax: gradient of the relaxed objective, biased; the bias shrinks as tau -> 0 while the variance grows.");
    println!("(straight-through, hard = true, has the same gradient here: f is linear in the one-hot vector.)");
    Ok(rows)
}

fn plot(out: &std::path::Path, normal: &[Row], cat: &[Row], temps: &[f64], reps: usize) -> Res<()> {
    let root = canvas(out, (1500, 620))?;
    let (left, right) = root.split_horizontally(620);
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(230, 110, 20);

    // Left: variance of each Normal estimator (bars, log scale).
    let short = ["pathwise", "SF", "SF + MA", "SF + LOO"];
    let vars: Vec<f64> = normal.iter().map(|r| r.stats.total_variance()).collect();
    let (lo, hi) = log_range(vars.iter().copied());
    let mut chart = ChartBuilder::on(&left)
        .caption("Normal(1, 2), f = (x-3)²: variance", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(normal.len() as f64 - 0.5), (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(normal.len())
        .x_label_formatter(&|v| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                short.get(i as usize).copied().unwrap_or("").to_string()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(WHITE)
        .y_desc("variance of one estimate (trace)")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    chart.draw_series(vars.iter().enumerate().map(|(i, &v)| {
        let x = i as f64;
        let c = if i == 0 { blue } else { orange };
        Rectangle::new([(x - 0.3, lo), (x + 0.3, v)], c.filled())
    }))?;

    // Right: the categorical estimators against the temperature.
    let n_sf = 3;
    let gs = &cat[n_sf..n_sf + temps.len()];
    let pts = |f: &dyn Fn(&Row) -> f64| -> Vec<(f64, f64)> {
        temps.iter().zip(gs).map(|(&t, r)| (t, f(r))).collect()
    };
    let bias2 = pts(&|r| r.bias_sq());
    let var_g = pts(&|r| r.stats.total_variance());
    // What an unbiased estimator's squared bias would measure: E‖mean − exact‖² = trace/R.
    let floor = pts(&|r| r.stats.total_variance() / reps as f64);
    let sf: Vec<(String, f64)> = cat[..n_sf]
        .iter()
        .map(|r| (r.stats.name.clone(), r.stats.total_variance()))
        .collect();
    let (lo, hi) = log_range(
        bias2
            .iter()
            .chain(&var_g)
            .chain(&floor)
            .map(|p| p.1)
            .chain(sf.iter().map(|s| s.1)),
    );
    let lo = lo / 10.0; // room for the legend below the lines
    let (t0, t1) = (temps[0] / 1.5, temps[temps.len() - 1] * 1.5);
    let mut chart = ChartBuilder::on(&right)
        .caption(
            "Categorical(softmax θ), f = r_x: bias² and variance",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((t0..t1).log_scale(), (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(WHITE)
        .x_desc("Gumbel-softmax temperature τ")
        .y_desc("squared bias / variance (trace)")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    let green = RGBColor(44, 160, 44);
    let red = RGBColor(214, 39, 40);
    for (label, data, c) in [
        ("Gumbel-softmax: squared bias", &bias2, red),
        ("Gumbel-softmax: variance", &var_g, green),
    ] {
        let data: Vec<(f64, f64)> = data.iter().copied().filter(|p| p.1 > 0.0).collect();
        chart
            .draw_series(LineSeries::new(data.clone(), c.stroke_width(3)))?
            .label(label)
            .legend(key(c, 3));
        chart.draw_series(data.iter().map(|&p| Circle::new(p, 5, c.filled())))?;
    }
    let grey = RGBColor(120, 120, 120);
    chart
        .draw_series(DashedLineSeries::new(floor, 4, 4, grey.stroke_width(2)))?
        .label("squared bias of an unbiased estimator (noise: variance / R)")
        .legend(key(grey, 2));
    let shades = [RGBColor(150, 80, 0), orange, blue];
    for ((name, v), c) in sf.iter().zip(shades) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(t0, *v), (t1, *v)],
                10,
                6,
                c.stroke_width(2),
            ))?
            .label(format!("{name}: variance (unbiased)"))
            .legend(key(c, 2));
    }
    finish(&mut chart, &root)
}

/// A log-axis tick label: only at 1, 2 and 5 times a power of ten (log axes ask for
/// labels at every integer multiple), with a few significant digits.
fn tick(v: f64) -> String {
    if !(v > 0.0 && v.is_finite()) {
        return String::new();
    }
    let e = v.log10().floor();
    let lead = v / 10f64.powf(e);
    if ![1.0, 2.0, 5.0].iter().any(|d| (lead - d).abs() < 1e-6) {
        return String::new();
    }
    if (1e-3..1e4).contains(&v) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// A log-axis range around the positive finite values.
fn log_range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v
        .filter(|x| *x > 0.0 && x.is_finite())
        .fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    if hi == 0.0 {
        (1e-3, 1.0)
    } else {
        (lo / 3.0, hi * 3.0)
    }
}
