//! `candle-dist bench`: our half of the side-by-side benchmark with torch.distributions.
//!
//! The workloads, their names and the timing method match `bench/torch_peer.py`, so
//! `bench/run` can put both sides in one table (see `bench/README.md`). All tensors are
//! f32 on the CPU, argument validation is off, and each workload reports the median
//! time of one iteration in microseconds.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{
    kl_divergence, set_default_validate_args, Beta, Dirichlet, Distribution, Gamma, Generator,
    Normal, TanhNormal,
};
use std::path::PathBuf;
use std::time::{Duration, Instant};

type DResult<T> = candle_distributions::Result<T>;

/// Options of `candle-dist bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// A short pass (fewer repetitions): for smoke tests, not for numbers to quote.
    #[arg(long)]
    pub quick: bool,
    /// Run only the workloads whose name contains this substring.
    #[arg(long, value_name = "SUBSTR")]
    pub filter: Option<String>,
    /// Also write the results to this file as `[{"workload": ..., "ours_us": ...}]`.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

/// One timed iteration; returns an error rather than panicking.
type Iteration = Box<dyn FnMut() -> DResult<()>>;

/// A named workload: `setup` builds the inputs (untimed) and returns the timed step.
struct Workload {
    name: String,
    setup: Box<dyn Fn() -> DResult<Iteration>>,
}

/// How long each workload is measured, and the fewest repetitions.
struct Budget {
    warmup: Duration,
    measure: Duration,
    min_reps: usize,
    max_reps: usize,
}

impl Budget {
    fn new(quick: bool) -> Self {
        if quick {
            Budget {
                warmup: Duration::from_millis(20),
                measure: Duration::from_millis(100),
                min_reps: 3,
                max_reps: 20_000,
            }
        } else {
            Budget {
                warmup: Duration::from_millis(200),
                measure: Duration::from_millis(500),
                min_reps: 5,
                max_reps: 200_000,
            }
        }
    }
}

/// `1e2`, `1e4`, ... for the powers of ten used in workload names.
fn size_label(n: usize) -> String {
    let mut e = 0;
    let mut m = n;
    while m >= 10 && m.is_multiple_of(10) {
        m /= 10;
        e += 1;
    }
    if m == 1 {
        format!("1e{e}")
    } else {
        n.to_string()
    }
}

/// Parameters `(loc, scale)` of size `n`: loc ~ N(0, 1), scale ~ U(0.5, 1.5).
fn params(n: usize, rng: &mut Generator) -> DResult<(Tensor, Tensor)> {
    let loc = rng.standard_normal(&[n], DType::F32, &Device::Cpu)?;
    let scale = (rng.uniform(&[n], DType::F32, &Device::Cpu)? + 0.5)?;
    Ok((loc, scale))
}

fn workloads() -> Vec<Workload> {
    let mut out = Vec::new();
    for n in [100usize, 10_000, 1_000_000] {
        out.push(Workload {
            name: format!("normal_rsample_logprob_backward/{}", size_label(n)),
            setup: Box::new(move || {
                let mut rng = Generator::new(0);
                let (l, s) = params(n, &mut rng)?;
                let loc = Var::from_tensor(&l)?;
                let scale = Var::from_tensor(&s)?;
                Ok(Box::new(move || {
                    let d = Normal::new(loc.as_tensor(), scale.as_tensor())?;
                    let (x, lp) = d.rsample_and_log_prob(&[], &mut rng)?;
                    let grads = (x.sum_all()? + lp.sum_all()?)?.backward()?;
                    debug_assert!(grads.get(&loc).is_some() && grads.get(&scale).is_some());
                    drop(grads);
                    Ok(())
                }) as Iteration)
            }),
        });
    }
    // The SAC actor's policy head: TanhNormal over 6 action dimensions for 256 states,
    // the fused draw and log-density, the log-density summed over actions, backward to
    // loc and scale.
    let (batch, actions) = (256usize, 6usize);
    out.push(Workload {
        name: format!("sac_tanh_normal_policy_backward/{batch}x{actions}"),
        setup: Box::new(move || {
            let mut rng = Generator::new(6);
            let (l, s) = params(batch * actions, &mut rng)?;
            let loc = Var::from_tensor(&l.reshape((batch, actions))?)?;
            let scale = Var::from_tensor(&s.reshape((batch, actions))?)?;
            Ok(Box::new(move || {
                let d = TanhNormal::new(loc.as_tensor(), scale.as_tensor())?;
                let (a, lp) = d.rsample_and_log_prob(&[], &mut rng)?;
                let lp = lp.sum(1)?;
                let grads = (a.sum_all()? + lp.sum_all()?)?.backward()?;
                debug_assert!(grads.get(&loc).is_some() && grads.get(&scale).is_some());
                drop(grads);
                Ok(())
            }) as Iteration)
        }),
    });
    // The VAE's KL term: KL(Normal(loc_p, scale_p) ‖ Normal(loc_q, scale_q)) elementwise,
    // summed, backward to all four parameter tensors.
    let n = 1_000_000usize;
    out.push(Workload {
        name: format!("kl_normal_normal_backward/{}", size_label(n)),
        setup: Box::new(move || {
            let mut rng = Generator::new(7);
            let (lp, sp) = params(n, &mut rng)?;
            let (lq, sq) = params(n, &mut rng)?;
            let (lp, sp) = (Var::from_tensor(&lp)?, Var::from_tensor(&sp)?);
            let (lq, sq) = (Var::from_tensor(&lq)?, Var::from_tensor(&sq)?);
            Ok(Box::new(move || {
                let p = Normal::new(lp.as_tensor(), sp.as_tensor())?;
                let q = Normal::new(lq.as_tensor(), sq.as_tensor())?;
                let grads = kl_divergence(&p, &q)?.sum_all()?.backward()?;
                debug_assert!(grads.get(&lp).is_some() && grads.get(&sq).is_some());
                drop(grads);
                Ok(())
            }) as Iteration)
        }),
    });
    for n in [10_000usize, 1_000_000] {
        out.push(Workload {
            name: format!("normal_log_prob/{}", size_label(n)),
            setup: Box::new(move || {
                let mut rng = Generator::new(1);
                let (loc, scale) = params(n, &mut rng)?;
                let value = rng.standard_normal(&[n], DType::F32, &Device::Cpu)?;
                Ok(Box::new(move || {
                    let d = Normal::new(&loc, &scale)?;
                    let lp = d.log_prob(&value)?;
                    drop(lp);
                    Ok(())
                }) as Iteration)
            }),
        });
    }
    // The implicit-reparameterization family: concentrations U(0.5, 5.5) per element
    // (rate U(1, 2)), the loss the sum of the draws.
    let n = 1_000_000usize;
    out.push(Workload {
        name: format!("gamma_rsample_backward/{}", size_label(n)),
        setup: Box::new(move || {
            let mut rng = Generator::new(3);
            let alpha = Var::from_tensor(
                &(rng
                    .uniform(&[n], DType::F32, &Device::Cpu)?
                    .affine(5.0, 0.5)?),
            )?;
            let rate = Var::from_tensor(&(rng.uniform(&[n], DType::F32, &Device::Cpu)? + 1.0)?)?;
            Ok(Box::new(move || {
                let d = Gamma::new(alpha.as_tensor(), rate.as_tensor())?;
                let grads = d.rsample(&[], &mut rng)?.sum_all()?.backward()?;
                debug_assert!(grads.get(&alpha).is_some());
                drop(grads);
                Ok(())
            }) as Iteration)
        }),
    });
    out.push(Workload {
        name: format!("beta_rsample_backward/{}", size_label(n)),
        setup: Box::new(move || {
            let mut rng = Generator::new(4);
            let a = Var::from_tensor(
                &(rng
                    .uniform(&[n], DType::F32, &Device::Cpu)?
                    .affine(5.0, 0.5)?),
            )?;
            let b = Var::from_tensor(
                &(rng
                    .uniform(&[n], DType::F32, &Device::Cpu)?
                    .affine(5.0, 0.5)?),
            )?;
            Ok(Box::new(move || {
                let d = Beta::new(a.as_tensor(), b.as_tensor())?;
                let grads = d.rsample(&[], &mut rng)?.sum_all()?.backward()?;
                debug_assert!(grads.get(&a).is_some());
                drop(grads);
                Ok(())
            }) as Iteration)
        }),
    });
    out.push(Workload {
        name: format!("dirichlet_rsample_backward/{}x10", size_label(n / 10)),
        setup: Box::new(move || {
            let mut rng = Generator::new(5);
            let c = rng
                .uniform(&[n / 10, 10], DType::F32, &Device::Cpu)?
                .affine(5.0, 0.5)?;
            let conc = Var::from_tensor(&c)?;
            Ok(Box::new(move || {
                let d = Dirichlet::new(conc.as_tensor())?;
                let grads = d.rsample(&[], &mut rng)?.sum_all()?.backward()?;
                debug_assert!(grads.get(&conc).is_some());
                drop(grads);
                Ok(())
            }) as Iteration)
        }),
    });
    // A policy head over 10 actions for 1e5 states: logits from seed-0 normals; the
    // timed step builds the distribution, draws one action per row and scores it.
    let (rows, classes) = (100_000usize, 10usize);
    out.push(Workload {
        name: format!(
            "categorical_logits_sample_log_prob/{}x{classes}",
            size_label(rows)
        ),
        setup: Box::new(move || {
            let mut rng = Generator::new(0);
            let l = rng.standard_normal(&[rows, classes], DType::F32, &Device::Cpu)?;
            Ok(Box::new(move || {
                let d = candle_distributions::Categorical::from_logits(&l)?;
                let x = d.sample(&[], &mut rng)?;
                let lp = d.log_prob(&x)?;
                drop(lp);
                Ok(())
            }) as Iteration)
        }),
    });
    // Bernoulli draws from 1e6 logits (seed-0 normals): the timed step builds the
    // distribution from logits and draws once (the fused sampler; no probs tensor).
    let n = 1_000_000usize;
    out.push(Workload {
        name: format!("bernoulli_logits_sample/{}", size_label(n)),
        setup: Box::new(move || {
            let mut rng = Generator::new(0);
            let l = rng.standard_normal(&[n], DType::F32, &Device::Cpu)?;
            Ok(Box::new(move || {
                let d = candle_distributions::Bernoulli::from_logits(&l)?;
                let x = d.sample(&[], &mut rng)?;
                drop(x);
                Ok(())
            }) as Iteration)
        }),
    });
    let n = 10_000_000usize;
    out.push(Workload {
        name: format!("standard_normal_fill/{}", size_label(n)),
        setup: Box::new(move || {
            let mut rng = Generator::new(2);
            Ok(Box::new(move || {
                let t = rng.standard_normal(&[n], DType::F32, &Device::Cpu)?;
                drop(t);
                Ok(())
            }) as Iteration)
        }),
    });
    out
}

/// Warm-up, then at least `min_reps` timed iterations filling `measure`; returns the
/// median iteration time in microseconds.
fn time_median_us(step: &mut Iteration, budget: &Budget) -> DResult<f64> {
    // Warm-up: at least two iterations, or until the warm-up time has passed.
    let start = Instant::now();
    let mut warm = 0usize;
    while warm < 2 || start.elapsed() < budget.warmup {
        step()?;
        warm += 1;
    }
    let per_iter = start.elapsed().as_secs_f64() / warm as f64;
    let reps = ((budget.measure.as_secs_f64() / per_iter.max(1e-9)).ceil() as usize)
        .clamp(budget.min_reps, budget.max_reps.max(budget.min_reps));
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t0 = Instant::now();
        step()?;
        times.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let m = times.len() / 2;
    Ok(if times.len() % 2 == 1 {
        times[m]
    } else {
        0.5 * (times[m - 1] + times[m])
    })
}

/// One row of the JSON output.
#[derive(serde::Serialize)]
struct Row<'a> {
    workload: &'a str,
    ours_us: f64,
}

/// Runs the workloads selected by `args`, prints a markdown table and optionally writes
/// the JSON rows.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    set_default_validate_args(false);
    let budget = Budget::new(args.quick);
    let selected: Vec<Workload> = workloads()
        .into_iter()
        .filter(|w| args.filter.as_deref().is_none_or(|f| w.name.contains(f)))
        .collect();
    if selected.is_empty() {
        return Err(format!(
            "no workload matches --filter {:?}; workloads: {}",
            args.filter.as_deref().unwrap_or(""),
            workloads()
                .iter()
                .map(|w| w.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    eprintln!(
        "candle-dist bench: {} workload(s), f32 on CPU, {} thread(s){}",
        selected.len(),
        candle_core::utils::get_num_threads(),
        if args.quick { ", quick pass" } else { "" }
    );
    let mut rows: Vec<(String, f64)> = Vec::new();
    for w in &selected {
        let mut step = (w.setup)().map_err(|e| format!("{}: setup failed: {e}", w.name))?;
        let us = time_median_us(&mut step, &budget).map_err(|e| format!("{}: {e}", w.name))?;
        eprintln!("  {:<40} {:>12.1} µs", w.name, us);
        rows.push((w.name.clone(), us));
    }

    println!("| workload | ours µs |");
    println!("|---|---:|");
    for (name, us) in &rows {
        println!("| {name} | {} |", fmt_us(*us));
    }

    if let Some(path) = &args.json {
        let json: Vec<Row> = rows
            .iter()
            .map(|(name, us)| Row {
                workload: name,
                ours_us: (us * 1000.0).round() / 1000.0,
            })
            .collect();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn fmt_us(us: f64) -> String {
    if us >= 100.0 {
        format!("{us:.0}")
    } else if us >= 10.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(size_label(100), "1e2");
        assert_eq!(size_label(10_000_000), "1e7");
        assert_eq!(size_label(250), "250");
    }

    #[test]
    fn every_workload_runs_once() {
        set_default_validate_args(false);
        for w in workloads()
            .into_iter()
            .filter(|w| !w.name.contains("1e6") && !w.name.contains("1e7"))
        {
            let mut step = (w.setup)().unwrap();
            step().unwrap();
        }
    }
}
