//! Soft Actor-Critic on Pendulum-v1: a tanh-squashed Gaussian policy trained with the
//! fused reparameterized draw and log-density of [`TanhNormal`].
//!
//! Algorithm: Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"
//! (arXiv:1812.05905), algorithm 1: twin Q critics with Polyak-averaged targets, the
//! clipped double-Q soft target, and automatic entropy tuning towards the target
//! entropy `−|A|` (here −1).
//!
//! - Environment: Gym's Pendulum-v1 swing-up (g = 10, m = 1, l = 1, dt = 0.05,
//!   max speed 8, max torque 2), written below. State `(θ, θ̇)`, observation
//!   `(cos θ, sin θ, θ̇)`; reward `−(norm(θ)² + 0.1 θ̇² + 0.001 u²)` with the clipped
//!   torque `u`, before the semi-implicit Euler step
//!   `θ̇ ← clip(θ̇ + (3g/(2l) sin θ + 3/(m l²) u) dt, ±8)`, `θ ← θ + θ̇ dt`. Episodes are
//!   truncated at 200 steps (never terminated, so the critic bootstraps through the
//!   cut); initial `θ ~ U(−π, π)`, `θ̇ ~ U(−1, 1)` from our [`Generator`].
//! - Policy: MLP 3 → H → H → (μ, s) with ReLU, `log σ = tanh(s)` rescaled into
//!   [−5, 2], `π(·|o) = TanhNormal(μ, σ)`; the torque is `2a`. Acting and both updates
//!   draw `(a, ln π(a|o))` with one fused `rsample_and_log_prob` (exact also where
//!   `tanh` saturates). The first `START` steps act uniformly at random.
//! - Critics: `Q₁, Q₂`: MLP (o, a) → H → H → 1, targets `Q̄ᵢ` copied from them at the
//!   start and moved by `Q̄ ← (1 − τ) Q̄ + τ Q` after every update. With a batch
//!   `(o, a, r, o')` sampled uniformly from the replay buffer (with replacement):
//!   `y = r + γ (min_i Q̄ᵢ(o', a') − α ln π(a'|o'))`, `a' ~ π(·|o')`;
//!   critic loss `Σᵢ mean (Qᵢ(o, a) − y)²`; actor loss
//!   `mean (α ln π(ã|o) − min_i Qᵢ(o, ã))`, `ã ~ π(·|o)` reparameterized;
//!   temperature loss `−mean ln α · (ln π(ã|o) + target entropy)`. Actions live in
//!   [−1, 1] (the buffer, critics and log-densities), torques are `2a`.
//!   One gradient step per environment step from step `START` on; three Adam
//!   optimizers (AdamW with weight decay 0).
//! - One seed drives everything: `Generator::new(seed)` and `split()` give the weight
//!   streams ([`SeededVarMap`]), the environment, the exploration noise, the replay
//!   sampling ([`Generator::randint`]) and the update noise, so a seed fixes the curve.
//!
//! Prints, per seed, the environment step at which the mean return over the last 10
//! episodes first exceeds −200, the final mean over the last 10 episodes and the wall
//! time (with `--verbose`, every episode's return), and writes a PNG of the episode
//! returns against environment steps (`out/sac_pendulum.png`, or `--out FILE`).
//!
//! ```text
//! cargo run --release -p candle-distributions --example sac_pendulum [-- --quick] [--seeds K] [--steps N] [--out FILE] [--verbose]
//! ```

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_distributions::init::SeededVarMap;
use candle_distributions::{Distribution, Generator, TanhNormal};
use candle_nn::{Linear, Optimizer, ParamsAdamW, VarBuilder};
use common::{canvas, finish, key, run_main, Flags, Res};
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

mod common;

/// Width of both hidden layers of every network.
const HIDDEN: usize = 64;
/// Adam's learning rate (actor, critics and temperature).
const LR: f64 = 1e-3;
/// Discount.
const GAMMA: f64 = 0.99;
/// Polyak coefficient of the target critics.
const TAU: f64 = 0.005;
/// Minibatch size of every update.
const BATCH: usize = 256;
/// Uniformly random steps before the policy acts and the updates start.
const START: usize = 1000;
/// Replay capacity (a ring; larger than a default run, so nothing is overwritten).
const BUFFER: usize = 100_000;
/// Range of the policy's log standard deviation.
const LOG_STD_MIN: f64 = -5.0;
const LOG_STD_MAX: f64 = 2.0;
/// Initial temperature α.
const INIT_ALPHA: f64 = 1.0;
/// Target entropy −|A|.
const TARGET_ENTROPY: f64 = -1.0;
/// The acceptance threshold on the mean return of the last `WINDOW` episodes.
const THRESHOLD: f64 = -200.0;
const WINDOW: usize = 10;

struct Args {
    quick: bool,
    verbose: bool,
    seeds: u64,
    steps: usize,
    start: usize,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let f = Flags::parse(
        "sac_pendulum [--quick] [--seeds K] [--steps N] [--out FILE.png] [--verbose]",
        &["--seeds", "--steps", "--out"],
        &["--quick", "--verbose"],
    )?;
    let quick = f.on("--quick");
    Ok(Args {
        quick,
        verbose: f.on("--verbose"),
        seeds: f.positive("--seeds")?.unwrap_or(if quick { 1 } else { 3 }),
        // --quick: a few seconds, 3 episodes, updates from step 200 on.
        steps: f
            .positive("--steps")?
            .unwrap_or(if quick { 600 } else { 20_000 }),
        start: if quick { 200 } else { START },
        out: f
            .path("--out")
            .unwrap_or_else(|| PathBuf::from("out/sac_pendulum.png")),
    })
}

fn main() {
    run_main(|| run(&parse_args()?));
}

/// Gym Pendulum-v1's constants.
const G: f64 = 10.0;
const M: f64 = 1.0;
const L: f64 = 1.0;
const DT: f64 = 0.05;
const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f64 = 2.0;
/// Pendulum-v1's time limit (a truncation).
const EPISODE: usize = 200;

/// One pendulum: angle θ (0 is upright) and angular velocity θ̇.
struct Pendulum {
    th: f64,
    thdot: f64,
}

impl Pendulum {
    fn reset(rng: &mut Generator) -> candle_distributions::Result<Self> {
        let u = rng
            .uniform(&[2], DType::F64, &Device::Cpu)?
            .to_vec1::<f64>()?;
        let pi = std::f64::consts::PI;
        Ok(Pendulum {
            th: -pi + 2.0 * pi * u[0],
            thdot: -1.0 + 2.0 * u[1],
        })
    }

    fn obs(&self) -> [f32; 3] {
        [
            self.th.cos() as f32,
            self.th.sin() as f32,
            self.thdot as f32,
        ]
    }

    /// Applies torque `u` (clipped to ±2) for one step; returns the step's reward.
    fn step(&mut self, u: f64) -> f64 {
        let u = u.clamp(-MAX_TORQUE, MAX_TORQUE);
        let pi = std::f64::consts::PI;
        let norm = (self.th + pi).rem_euclid(2.0 * pi) - pi;
        let reward = -(norm * norm + 0.1 * self.thdot * self.thdot + 0.001 * u * u);
        let acc = 3.0 * G / (2.0 * L) * self.th.sin() + 3.0 / (M * L * L) * u;
        self.thdot = (self.thdot + acc * DT).clamp(-MAX_SPEED, MAX_SPEED);
        self.th += self.thdot * DT;
        reward
    }
}

/// A ReLU MLP of candle-nn linear layers.
struct Mlp(Vec<Linear>);

impl Mlp {
    fn new(sizes: &[usize], vb: VarBuilder) -> Res<Self> {
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| candle_nn::linear(w[0], w[1], vb.pp(i.to_string())))
            .collect::<candle_core::Result<_>>()?;
        Ok(Mlp(layers))
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for (i, layer) in self.0.iter().enumerate() {
            h = layer.forward(&h)?;
            if i + 1 < self.0.len() {
                h = h.relu()?;
            }
        }
        Ok(h)
    }
}

/// π(·|o) for a batch of observations `[B, 3]`: a `[B, 1]` batch of tanh-normals.
fn policy(actor: &Mlp, obs: &Tensor) -> Res<TanhNormal> {
    let out = actor.forward(obs)?;
    let mu = out.narrow(1, 0, 1)?;
    let half = 0.5 * (LOG_STD_MAX - LOG_STD_MIN);
    let log_std = out
        .narrow(1, 1, 1)?
        .tanh()?
        .affine(half, LOG_STD_MIN + half)?;
    Ok(TanhNormal::new(&mu, &log_std.exp()?)?)
}

/// The twin critics `Q₁, Q₂` (online or target), both `[B, 1]`.
struct Twin(Mlp, Mlp);

impl Twin {
    fn new(vb: VarBuilder) -> Res<Self> {
        let sizes = [4, HIDDEN, HIDDEN, 1];
        Ok(Twin(
            Mlp::new(&sizes, vb.pp("q1"))?,
            Mlp::new(&sizes, vb.pp("q2"))?,
        ))
    }

    /// Both critics' values `(Q₁(o, a), Q₂(o, a))`.
    fn both(&self, obs: &Tensor, act: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let x = Tensor::cat(&[obs, act], 1)?;
        Ok((self.0.forward(&x)?, self.1.forward(&x)?))
    }

    /// `min(Q₁(o, a), Q₂(o, a))`, the clipped double-Q estimate.
    fn min(&self, obs: &Tensor, act: &Tensor) -> candle_core::Result<Tensor> {
        let (q1, q2) = self.both(obs, act)?;
        q1.minimum(&q2)
    }
}

/// Uniform replay of `(o, a, r, o')` transitions in flat `f32` rings.
struct Replay {
    obs: Vec<f32>,
    act: Vec<f32>,
    rew: Vec<f32>,
    next: Vec<f32>,
    len: usize,
    pos: usize,
}

impl Replay {
    fn new() -> Self {
        Replay {
            obs: vec![0.0; BUFFER * 3],
            act: vec![0.0; BUFFER],
            rew: vec![0.0; BUFFER],
            next: vec![0.0; BUFFER * 3],
            len: 0,
            pos: 0,
        }
    }

    fn push(&mut self, obs: &[f32; 3], act: f32, rew: f32, next: &[f32; 3]) {
        let p = self.pos;
        self.obs[p * 3..p * 3 + 3].copy_from_slice(obs);
        self.act[p] = act;
        self.rew[p] = rew;
        self.next[p * 3..p * 3 + 3].copy_from_slice(next);
        self.pos = (p + 1) % BUFFER;
        self.len = (self.len + 1).min(BUFFER);
    }

    /// `BATCH` transitions drawn uniformly with replacement: `(o, a, r, o')`.
    fn sample(&self, rng: &mut Generator, dev: &Device) -> Res<[Tensor; 4]> {
        let idx = rng
            .randint(0, self.len as i64, &[BATCH], dev)?
            .to_vec1::<i64>()?;
        let mut o = Vec::with_capacity(BATCH * 3);
        let mut a = Vec::with_capacity(BATCH);
        let mut r = Vec::with_capacity(BATCH);
        let mut n = Vec::with_capacity(BATCH * 3);
        for &i in &idx {
            let i = i as usize;
            o.extend_from_slice(&self.obs[i * 3..i * 3 + 3]);
            a.push(self.act[i]);
            r.push(self.rew[i]);
            n.extend_from_slice(&self.next[i * 3..i * 3 + 3]);
        }
        Ok([
            Tensor::from_vec(o, (BATCH, 3), dev)?,
            Tensor::from_vec(a, (BATCH, 1), dev)?,
            Tensor::from_vec(r, (BATCH, 1), dev)?,
            Tensor::from_vec(n, (BATCH, 3), dev)?,
        ])
    }
}

/// One training run: `(env step at the episode's end, return)` per episode.
struct RunResult {
    episodes: Vec<(usize, f64)>,
    seconds: f64,
    update_ms: f64,
}

impl RunResult {
    /// The first env step ending a window of 10 episodes whose mean return > −200.
    fn reached_at(&self) -> Option<usize> {
        (WINDOW..=self.episodes.len())
            .find(|&e| mean_return(&self.episodes[e - WINDOW..e]) > THRESHOLD)
            .map(|e| self.episodes[e - 1].0)
    }
    fn final_mean(&self) -> f64 {
        let w = WINDOW.min(self.episodes.len());
        mean_return(&self.episodes[self.episodes.len() - w..])
    }
}

fn mean_return(eps: &[(usize, f64)]) -> f64 {
    eps.iter().map(|e| e.1).sum::<f64>() / eps.len().max(1) as f64
}

fn run(args: &Args) -> Res<()> {
    let t0 = Instant::now();
    println!(
        "SAC on Pendulum-v1: {} steps, {} seed(s), MLPs of 2x{HIDDEN} (ReLU), batch {BATCH}, \
         Adam lr {LR}, gamma {GAMMA}, tau {TAU}, {} random steps, target entropy {TARGET_ENTROPY}\n",
        args.steps, args.seeds, args.start
    );
    println!(
        "{:>5} {:>26} {:>20} {:>9} {:>10}",
        "seed", "mean(last 10) > -200 at", "final mean(last 10)", "wall (s)", "ms/update"
    );
    let mut runs = Vec::new();
    for seed in 0..args.seeds {
        let r = train(seed, args)?;
        let reached = r
            .reached_at()
            .map_or("not reached".to_string(), |s| format!("step {s}"));
        println!(
            "{:>5} {:>26} {:>20.1} {:>9.1} {:>10.2}",
            seed,
            reached,
            r.final_mean(),
            r.seconds,
            r.update_ms
        );
        runs.push(r);
    }
    if !args.quick {
        let ok = runs.iter().all(|r| r.reached_at().is_some());
        println!(
            "\nacceptance (every seed's mean return over {WINDOW} episodes exceeds {THRESHOLD} \
             within {} steps): {}",
            args.steps,
            if ok { "PASS" } else { "FAIL" }
        );
    }
    plot(&args.out, &runs, args.steps)?;
    println!(
        "\nwrote {}; done in {:.1} s",
        args.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Copies `src`'s variables into `dst`'s (`τ = 1`) or moves them by Polyak averaging.
fn soft_update(pairs: &[(Var, Var)], tau: f64) -> candle_core::Result<()> {
    for (target, online) in pairs {
        let mixed = if tau >= 1.0 {
            online.as_tensor().clone()
        } else {
            ((target.as_tensor() * (1.0 - tau))? + (online.as_tensor() * tau)?)?
        };
        target.set(&mixed.detach())?;
    }
    Ok(())
}

fn adam(vars: Vec<Var>) -> candle_core::Result<candle_nn::AdamW> {
    let params = ParamsAdamW {
        lr: LR,
        weight_decay: 0.0,
        ..Default::default()
    };
    candle_nn::AdamW::new(vars, params)
}

/// Trains SAC for `args.steps` environment steps from `seed`.
fn train(seed: u64, args: &Args) -> Res<RunResult> {
    let t0 = Instant::now();
    let dev = Device::Cpu;
    let mut root = Generator::new(seed);
    let actor_vm = SeededVarMap::with_generator(&root.split());
    let critic_vm = SeededVarMap::with_generator(&root.split());
    let target_vm = SeededVarMap::with_generator(&root.split());
    let mut env_rng = root.split();
    let mut act_rng = root.split();
    let mut replay_rng = root.split();
    let mut update_rng = root.split();

    let actor = Mlp::new(
        &[3, HIDDEN, HIDDEN, 2],
        actor_vm.var_builder(DType::F32, &dev),
    )?;
    let critic = Twin::new(critic_vm.var_builder(DType::F32, &dev))?;
    let target = Twin::new(target_vm.var_builder(DType::F32, &dev))?;
    // Both maps list their variables sorted by name, and the names agree.
    let pairs: Vec<(Var, Var)> = target_vm
        .named_vars()
        .into_iter()
        .zip(critic_vm.named_vars())
        .map(|((nt, t), (nc, c))| {
            debug_assert_eq!(nt, nc);
            (t, c)
        })
        .collect();
    soft_update(&pairs, 1.0)?;
    let log_alpha = Var::new(&[INIT_ALPHA.ln() as f32], &dev)?;
    let mut actor_opt = adam(actor_vm.all_vars())?;
    let mut critic_opt = adam(critic_vm.all_vars())?;
    let mut alpha_opt = adam(vec![log_alpha.clone()])?;

    let bar = ProgressBar::new(args.steps as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "seed {prefix} {bar:30} {pos}/{len} steps [{elapsed_precise}<{eta_precise}] {msg}",
        )?
        .progress_chars("=> "),
    );
    bar.set_prefix(seed.to_string());

    let mut replay = Replay::new();
    let mut env = Pendulum::reset(&mut env_rng)?;
    let mut ep_return = 0.0;
    let mut ep_len = 0;
    let mut episodes = Vec::new();
    let mut update_secs = 0.0;
    let mut updates = 0usize;
    for step in 0..args.steps {
        let obs = env.obs();
        let a = if step < args.start {
            let u = act_rng.uniform(&[1], DType::F32, &dev)?.to_vec1::<f32>()?;
            2.0 * u[0] - 1.0
        } else {
            let o = Tensor::from_slice(&obs, (1, 3), &dev)?;
            let (a, _) = policy(&actor, &o)?.rsample_and_log_prob(&[], &mut act_rng)?;
            a.detach().flatten_all()?.to_vec1::<f32>()?[0]
        };
        let r = env.step(MAX_TORQUE * a as f64);
        ep_return += r;
        ep_len += 1;
        // Truncation only: the stored transition always bootstraps from o'.
        replay.push(&obs, a, r as f32, &env.obs());
        if ep_len == EPISODE {
            episodes.push((step + 1, ep_return));
            let recent = &episodes[episodes.len().saturating_sub(WINDOW)..];
            bar.set_message(format!(
                "last return {ep_return:.0}, mean of last {} {:.0}",
                recent.len(),
                mean_return(recent)
            ));
            if args.verbose {
                let line = format!(
                    "seed {seed} episode {} step {} return {ep_return:.4}",
                    episodes.len(),
                    step + 1
                );
                // A hidden bar (output not a terminal) drops its `println`s.
                if bar.is_hidden() {
                    println!("{line}");
                } else {
                    bar.println(line);
                }
            }
            env = Pendulum::reset(&mut env_rng)?;
            ep_return = 0.0;
            ep_len = 0;
        }
        if step + 1 >= args.start {
            let tu = Instant::now();
            let [o, act, rew, next] = replay.sample(&mut replay_rng, &dev)?;
            let alpha = log_alpha.as_tensor().exp()?.detach();
            // Critics: regress on the soft clipped double-Q target.
            let (a2, lp2) = policy(&actor, &next)?.rsample_and_log_prob(&[], &mut update_rng)?;
            let soft_v = target
                .min(&next, &a2)?
                .broadcast_sub(&lp2.broadcast_mul(&alpha)?)?;
            let y = (rew + (soft_v * GAMMA)?)?.detach();
            let (q1, q2) = critic.both(&o, &act)?;
            let critic_loss = ((q1 - &y)?.sqr()?.mean_all()? + (q2 - &y)?.sqr()?.mean_all()?)?;
            critic_opt.backward_step(&critic_loss)?;
            // Actor: reparameterized draw and its exact log-density in one call.
            let (a_new, lp) = policy(&actor, &o)?.rsample_and_log_prob(&[], &mut update_rng)?;
            let q_pi = critic.min(&o, &a_new)?;
            let actor_loss = (lp.broadcast_mul(&alpha)? - q_pi)?.mean_all()?;
            actor_opt.backward_step(&actor_loss)?;
            // Temperature: push the policy's entropy towards the target.
            let gap = (lp.detach() + TARGET_ENTROPY)?;
            let alpha_loss = gap
                .broadcast_mul(log_alpha.as_tensor())?
                .mean_all()?
                .neg()?;
            alpha_opt.backward_step(&alpha_loss)?;
            soft_update(&pairs, TAU)?;
            update_secs += tu.elapsed().as_secs_f64();
            updates += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(RunResult {
        episodes,
        seconds: t0.elapsed().as_secs_f64(),
        update_ms: 1e3 * update_secs / updates.max(1) as f64,
    })
}

fn plot(out: &std::path::Path, runs: &[RunResult], steps: usize) -> Res<()> {
    let root = canvas(out, (1000, 620))?;
    let lowest = runs
        .iter()
        .flat_map(|r| r.episodes.iter().map(|e| e.1))
        .fold(THRESHOLD, f64::min);
    let y_min = (lowest / 100.0).floor() * 100.0 - 50.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("SAC on Pendulum-v1: episode return, {} seed(s)", runs.len()),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..steps as f64, y_min..50f64)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_desc("environment steps")
        .y_desc("episode return")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    let colors = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(230, 110, 20),
    ];
    for (seed, r) in runs.iter().enumerate() {
        let c = colors[seed % colors.len()];
        let pts: Vec<(f64, f64)> = r.episodes.iter().map(|&(s, g)| (s as f64, g)).collect();
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
            .label(format!("seed {seed}"))
            .legend(key(c, 2));
    }
    let grey = RGBColor(120, 120, 120);
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, THRESHOLD), (steps as f64, THRESHOLD)],
            8,
            6,
            grey.stroke_width(2),
        ))?
        .label("-200")
        .legend(key(grey, 2));
    finish(&mut chart, &root)
}
