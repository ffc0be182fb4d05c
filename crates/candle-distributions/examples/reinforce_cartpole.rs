//! REINFORCE on CartPole-v1: policy gradients with the score-function surrogate and
//! three baselines (none, a moving average, leave-one-out across a batch of episodes).
//!
//! - Environment: Gym's CartPole-v1 dynamics (Barto, Sutton & Anderson 1983, with the
//!   same constants and explicit Euler step as Gym), written below; reward 1 per step,
//!   termination at |x| > 2.4 or |θ| > 12°, truncation at 500 steps, initial state
//!   U(−0.05, 0.05)⁴ from our [`Generator`]. Everything is deterministic for a seed.
//! - Policy: an MLP 4 → 64 → 2 (tanh) built with [`SeededVarMap`], logits →
//!   [`Categorical::from_logits`]; actions from `sample(&[], rng)`, `log_prob` of the
//!   stored episodes for the update. Adam (AdamW with weight decay 0).
//! - Update: every batch of `N` episodes, run in lockstep. Returns-to-go
//!   `G_t = Σ_{k ≥ t} γ^{k−t} r_k` (γ = 0.99) on a `[N, 500]` grid, zero after an
//!   episode ends; the surrogate `score_function_surrogate(ln π(a_t|s_t), G_t, b_t)` is
//!   summed over time and averaged over episodes. The baseline is **per time step**:
//!   `MovingAverage::over_dim(0.9, 0)` keeps one average of `G_t` per `t` across
//!   batches; `LeaveOneOut::new(0)` uses, for episode i, the mean `G_t` of the other
//!   `N − 1` episodes of its batch (an ended episode's `G_t` is 0, which is its true
//!   return-to-go, so the baseline stays independent of episode i and unbiased).
//!
//! Prints, per baseline and seed, the first episode at which the mean return over the
//! last 100 episodes reaches 195, the final mean return (last 100 episodes) and the wall
//! time; writes a PNG of the mean return (over seeds, moving average of 20 episodes)
//! against episodes (`out/reinforce_cartpole.png`, or `--out FILE`).
//!
//! ```text
//! cargo run --release -p candle-distributions --example reinforce_cartpole [-- --quick] [--seeds K] [--episodes M] [--out FILE]
//! ```

use candle_core::{DType, Device, Module, Tensor};
use candle_distributions::estimators::{
    score_function_surrogate, Baseline, LeaveOneOut, MovingAverage,
};
use candle_distributions::init::SeededVarMap;
use candle_distributions::{Categorical, Distribution, Generator};
use candle_nn::{Optimizer, ParamsAdamW};
use common::{canvas, finish, key, run_main, Flags, Res};
use plotters::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

mod common;

/// Episodes per update (leave-one-out needs at least 2).
const BATCH: usize = 8;
/// Adam's learning rate.
const LR: f64 = 1e-2;
/// Width of the hidden layer.
const HIDDEN: usize = 64;
/// Discount of the returns-to-go.
const GAMMA: f64 = 0.99;
/// Decay of the moving-average baseline.
const DECAY: f64 = 0.9;
/// CartPole-v1's step cap.
const MAX_STEPS: usize = 500;
/// The "solved" threshold on the mean return over 100 consecutive episodes.
const SOLVED: f64 = 195.0;
const WINDOW: usize = 100;
/// Moving average of the plotted curves.
const SMOOTH: usize = 20;

struct Args {
    quick: bool,
    seeds: u64,
    episodes: usize,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let f = Flags::parse(
        "reinforce_cartpole [--quick] [--seeds K] [--episodes M] [--out FILE.png]",
        &["--seeds", "--episodes", "--out"],
        &["--quick"],
    )?;
    let quick = f.on("--quick");
    Ok(Args {
        quick,
        seeds: f.positive("--seeds")?.unwrap_or(if quick { 1 } else { 3 }),
        episodes: f
            .positive("--episodes")?
            .unwrap_or(if quick { 40 } else { 1000 }),
        out: f
            .path("--out")
            .unwrap_or_else(|| PathBuf::from("out/reinforce_cartpole.png")),
    })
}

fn main() {
    run_main(|| run(&parse_args()?));
}

/// Gym CartPole-v1's physical constants.
const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_CART + MASS_POLE;
/// Half the pole's length (Gym calls it `length`).
const HALF_LENGTH: f64 = 0.5;
const POLE_MASS_LENGTH: f64 = MASS_POLE * HALF_LENGTH;
const FORCE: f64 = 10.0;
const TAU: f64 = 0.02;
const X_LIMIT: f64 = 2.4;
const THETA_LIMIT: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;

/// One cart-pole: `[x, ẋ, θ, θ̇]`.
#[derive(Clone, Copy)]
struct CartPole([f64; 4]);

impl CartPole {
    fn reset(rng: &mut Generator) -> candle_distributions::Result<Self> {
        let u = rng
            .uniform(&[4], DType::F64, &Device::Cpu)?
            .to_vec1::<f64>()?;
        Ok(CartPole(std::array::from_fn(|k| -0.05 + 0.1 * u[k])))
    }

    /// One Euler step of the equations of motion under a push left (0) or right (1);
    /// returns whether the episode terminated (the step's reward, 1, is given either way).
    fn step(&mut self, action: i64) -> bool {
        let [x, x_dot, theta, theta_dot] = self.0;
        let force = if action == 1 { FORCE } else { -FORCE };
        let (sin, cos) = theta.sin_cos();
        let temp = (force + POLE_MASS_LENGTH * theta_dot * theta_dot * sin) / TOTAL_MASS;
        let theta_acc = (GRAVITY * sin - cos * temp)
            / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * cos * cos / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
        self.0 = [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ];
        self.0[0].abs() > X_LIMIT || self.0[2].abs() > THETA_LIMIT
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    MovingAverage,
    LeaveOneOut,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::None, Kind::MovingAverage, Kind::LeaveOneOut];
    fn name(self) -> &'static str {
        match self {
            Kind::None => "no baseline",
            Kind::MovingAverage => "moving average",
            Kind::LeaveOneOut => "leave-one-out",
        }
    }
}

/// One training run's episode returns and timing.
struct RunResult {
    returns: Vec<f64>,
    seconds: f64,
}

impl RunResult {
    /// The first episode (1-based) ending a window of 100 whose mean return is ≥ 195.
    fn solved_at(&self) -> Option<usize> {
        (WINDOW..=self.returns.len())
            .find(|&e| self.returns[e - WINDOW..e].iter().sum::<f64>() / WINDOW as f64 >= SOLVED)
    }
    fn final_mean(&self) -> f64 {
        let w = WINDOW.min(self.returns.len());
        self.returns[self.returns.len() - w..].iter().sum::<f64>() / w as f64
    }
}

fn run(args: &Args) -> Res<()> {
    let t0 = Instant::now();
    println!(
        "REINFORCE on CartPole-v1: {} episodes, {} seed(s), batches of {BATCH} episodes, \
         MLP 4-{HIDDEN}-2 (tanh), Adam lr {LR}, gamma {GAMMA}\n",
        args.episodes, args.seeds
    );
    println!(
        "{:<16} {:>5} {:>22} {:>22} {:>9}",
        "baseline", "seed", "mean(last 100) >= 195", "final mean(last 100)", "wall (s)"
    );
    let mut all: Vec<(Kind, Vec<RunResult>)> = Vec::new();
    for kind in Kind::ALL {
        let mut runs = Vec::new();
        for seed in 0..args.seeds {
            let r = train(kind, seed, args.episodes)?;
            let solved = r
                .solved_at()
                .map_or("not reached".to_string(), |e| format!("episode {e}"));
            println!(
                "{:<16} {:>5} {:>22} {:>22.1} {:>9.1}",
                kind.name(),
                seed,
                solved,
                r.final_mean(),
                r.seconds
            );
            runs.push(r);
        }
        all.push((kind, runs));
    }
    if !args.quick {
        let ok = all
            .iter()
            .filter(|(k, _)| *k == Kind::LeaveOneOut)
            .flat_map(|(_, runs)| runs)
            .all(|r| r.solved_at().is_some());
        println!(
            "\nacceptance (leave-one-out solves every seed within {} episodes): {}",
            args.episodes,
            if ok { "PASS" } else { "FAIL" }
        );
    }
    plot(&args.out, &all, args.episodes)?;
    println!(
        "\nwrote {}; done in {:.1} s",
        args.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Trains a fresh policy for `episodes` episodes; one seed gives the same initial
/// weights, initial states and sampling stream to every baseline.
fn train(kind: Kind, seed: u64, episodes: usize) -> Res<RunResult> {
    let t0 = Instant::now();
    let dev = Device::Cpu;
    let root = Generator::new(seed);
    let vm = SeededVarMap::with_generator(&root.fold_in(0));
    let mut env_rng = root.fold_in(1);
    let mut act_rng = root.fold_in(2);
    let vb = vm.var_builder(DType::F32, &dev);
    let policy = candle_nn::seq()
        .add(candle_nn::linear(4, HIDDEN, vb.pp("0"))?)
        .add(candle_nn::func(|x: &Tensor| x.tanh()))
        .add(candle_nn::linear(HIDDEN, 2, vb.pp("2"))?);
    let params = ParamsAdamW {
        lr: LR,
        weight_decay: 0.0,
        ..Default::default()
    };
    let mut opt = candle_nn::AdamW::new(vm.all_vars(), params)?;
    let mut ma = MovingAverage::over_dim(DECAY, 0)?;
    let mut loo = LeaveOneOut::new(0);

    let mut returns = Vec::with_capacity(episodes);
    while returns.len() < episodes {
        // Roll out BATCH episodes in lockstep, one policy evaluation per time step.
        let mut envs: Vec<CartPole> = (0..BATCH)
            .map(|_| CartPole::reset(&mut env_rng))
            .collect::<candle_distributions::Result<_>>()?;
        let mut len = [0usize; BATCH];
        let mut alive = [true; BATCH];
        let mut obs = vec![0f32; BATCH * MAX_STEPS * 4];
        let mut acts = vec![0i64; BATCH * MAX_STEPS];
        for t in 0..MAX_STEPS {
            if !alive.iter().any(|&a| a) {
                break;
            }
            let state: Vec<f32> = envs.iter().flat_map(|e| e.0.map(|v| v as f32)).collect();
            let logits = policy.forward(&Tensor::from_slice(&state, (BATCH, 4), &dev)?)?;
            let a = Categorical::from_logits(&logits.detach())?
                .sample(&[], &mut act_rng)?
                .to_vec1::<i64>()?;
            for i in 0..BATCH {
                if !alive[i] {
                    continue;
                }
                let at = i * MAX_STEPS + t;
                obs[at * 4..at * 4 + 4].copy_from_slice(&state[i * 4..i * 4 + 4]);
                acts[at] = a[i];
                len[i] = t + 1;
                if envs[i].step(a[i]) {
                    alive[i] = false;
                }
            }
        }
        // Returns-to-go on the padded grid (zero after each episode's end) and the mask.
        let mut g = vec![0f32; BATCH * MAX_STEPS];
        let mut mask = vec![0f32; BATCH * MAX_STEPS];
        for i in 0..BATCH {
            let mut acc = 0.0f64;
            for t in (0..len[i]).rev() {
                acc = 1.0 + GAMMA * acc;
                g[i * MAX_STEPS + t] = acc as f32;
                mask[i * MAX_STEPS + t] = 1.0;
            }
            returns.push(len[i] as f64);
        }
        let obs = Tensor::from_vec(obs, (BATCH * MAX_STEPS, 4), &dev)?;
        let acts = Tensor::from_vec(acts, BATCH * MAX_STEPS, &dev)?;
        let g = Tensor::from_vec(g, (BATCH, MAX_STEPS), &dev)?;
        let mask = Tensor::from_vec(mask, (BATCH, MAX_STEPS), &dev)?;
        let log_p = Categorical::from_logits(&policy.forward(&obs)?)?
            .log_prob(&acts)?
            .reshape((BATCH, MAX_STEPS))?
            .mul(&mask)?;
        let s = match kind {
            Kind::None => score_function_surrogate(&log_p, &g, None)?,
            Kind::MovingAverage => ma.surrogate(&log_p, &g)?,
            Kind::LeaveOneOut => loo.surrogate(&log_p, &g)?,
        };
        // Gradient ascent on E[Σ_t G_t]: minimise the negated per-episode sum.
        let loss = (s.sum_all()? / -(BATCH as f64))?;
        opt.backward_step(&loss)?;
    }
    returns.truncate(episodes);
    Ok(RunResult {
        returns,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn plot(out: &std::path::Path, all: &[(Kind, Vec<RunResult>)], episodes: usize) -> Res<()> {
    let root = canvas(out, (1000, 620))?;
    let seeds = all.first().map_or(0, |(_, r)| r.len());
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("REINFORCE on CartPole-v1: mean return over {seeds} seed(s)"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..episodes as f64, 0f64..(MAX_STEPS as f64 + 20.0))?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_desc("episode")
        .y_desc(format!("return (moving average of {SMOOTH} episodes)"))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    let colors = [
        RGBColor(214, 39, 40),
        RGBColor(230, 110, 20),
        RGBColor(31, 119, 180),
    ];
    for ((kind, runs), c) in all.iter().zip(colors) {
        let n = runs.iter().map(|r| r.returns.len()).min().unwrap_or(0);
        let mean: Vec<f64> = (0..n)
            .map(|e| runs.iter().map(|r| r.returns[e]).sum::<f64>() / runs.len() as f64)
            .collect();
        let smooth: Vec<(f64, f64)> = (0..n)
            .map(|e| {
                let w = &mean[(e + 1).saturating_sub(SMOOTH)..=e];
                ((e + 1) as f64, w.iter().sum::<f64>() / w.len() as f64)
            })
            .collect();
        chart
            .draw_series(LineSeries::new(smooth, c.stroke_width(2)))?
            .label(kind.name())
            .legend(key(c, 2));
    }
    let grey = RGBColor(120, 120, 120);
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, SOLVED), (episodes as f64, SOLVED)],
            8,
            6,
            grey.stroke_width(2),
        ))?
        .label("solved: 195")
        .legend(key(grey, 2));
    finish(&mut chart, &root)
}
