//! The Rust snippets of `docs/PORTING.md`, copied verbatim (each between the
//! `// --- guide ---` markers), so the guide's code is known to compile and run; the
//! assertions after each snippet check its results against closed forms.

use candle_core::{DType, Tensor};
use candle_distributions::Result;

fn v1(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?)
}

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    let worst = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max);
    eprintln!("max abs error {worst:.3e} (tolerance {tol:.0e})");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "index {i}: got {g}, want {w}");
    }
}

#[test]
fn normal_policy_rsample_gradients_are_pathwise() -> Result<()> {
    // --- guide ---
    use candle_core::{Device, Var};
    use candle_distributions::prelude::*;

    let loc = Var::new(&[0.0f32, 1.0], &Device::Cpu)?;
    let scale = Var::new(&[1.0f32, 0.5], &Device::Cpu)?;
    let mut rng = Generator::new(0);
    let dist = Normal::new(&loc, &scale)?;
    let x = dist.rsample(&[], &mut rng)?; // [2], on the graph of loc and scale
    let (x2, log_p) = dist.rsample_and_log_prob(&[], &mut rng)?; // one fused pass
    let loss = (x.sqr()?.sum_all()? + x2.sum_all()? + log_p.sum_all()?)?;
    let grads = loss.backward()?;
    let d_loc = grads.get(&loc).unwrap(); // d loss / d loc

    // --- guide ---
    // x = loc + scale·ε: d(x²)/dloc = 2x, d(x2)/dloc = 1, and log N(x2) = −ε²/2 − ln s − c
    // has zero total derivative in loc; in scale: 2xε₁ + ε₂ − 1/s.
    let (xv, x2v) = (v1(&x)?, v1(&x2)?);
    let (l, s) = ([0.0, 1.0], [1.0, 0.5]);
    let want_loc: Vec<f64> = xv.iter().map(|x| 2.0 * x + 1.0).collect();
    close(&v1(d_loc)?, &want_loc, 1e-5);
    let want_scale: Vec<f64> = (0..2)
        .map(|i| {
            let (e1, e2) = ((xv[i] - l[i]) / s[i], (x2v[i] - l[i]) / s[i]);
            2.0 * xv[i] * e1 + e2 - 1.0 / s[i]
        })
        .collect();
    close(&v1(grads.get(&scale).unwrap())?, &want_scale, 1e-4);
    Ok(())
}

#[test]
fn tanh_normal_matches_transformed_normal() -> Result<()> {
    // --- guide ---
    use candle_core::{Device, Var};
    use candle_distributions::prelude::*;

    let mu = Var::new(&[[0.0f32, 0.5]], &Device::Cpu)?; // [batch 1, action dims 2]
    let std = Var::new(&[[1.0f32, 0.2]], &Device::Cpu)?;
    let pi = TanhNormal::new(&mu, &std)?;
    let mut rng = Generator::new(0);
    let (a, log_pi) = pi.rsample_and_log_prob(&[], &mut rng)?; // [1, 2] each
    let log_pi = log_pi.sum_keepdim(1)?; // [1, 1], torch: .sum(-1, keepdim=True)
    let actor_loss = (log_pi * 0.2)?.mean_all()?; // α·log π − Q(s, a) in a real actor
    actor_loss.backward()?;
    // --- guide ---
    // The torch composition, Normal then TanhTransform, gives the same density.
    use candle_distributions::transforms::{TanhTransform, TransformedDistribution};
    let composed = TransformedDistribution::new(
        Box::new(Normal::new(&mu, &std)?),
        vec![Box::new(TanhTransform)],
    )?;
    let want: f64 = v1(&composed.log_prob(&a)?)?.iter().sum();
    // independent closed form: log N(atanh a; μ, σ) − log(1 − a²)
    let (av, m, s) = (v1(&a)?, [0.0, 0.5], [1.0, 0.2]);
    let closed: f64 = (0..2)
        .map(|i| {
            let u = av[i].atanh();
            let z = (u - m[i]) / s[i];
            -0.5 * z * z
                - f64::ln(s[i])
                - 0.5 * (2.0 * std::f64::consts::PI).ln()
                - (1.0 - av[i] * av[i]).ln()
        })
        .sum();
    let got = v1(&(actor_loss / 0.2)?)?[0];
    eprintln!(
        "vs composed {:.3e}, vs closed form {:.3e}",
        (got - want).abs(),
        (got - closed).abs()
    );
    assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    assert!((got - closed).abs() < 1e-4, "{got} vs {closed}");
    Ok(())
}

#[test]
fn vae_elbo_terms_match_closed_forms() -> Result<()> {
    // --- guide ---
    use candle_core::{DType, Device, Tensor, Var};
    use candle_distributions::prelude::*;
    use candle_distributions::transforms::Independent;

    let dev = Device::Cpu;
    let mu = Var::new(&[[0.1f32, -0.3], [0.5, 0.0]], &dev)?; // encoder output [N, D]
    let log_sigma = Var::new(&[[0.0f32, -1.0], [0.2, 0.3]], &dev)?;
    let q = Independent::new(Box::new(Normal::new(&mu, &log_sigma.exp()?)?), 1)?;
    let zeros = Tensor::zeros((2, 2), DType::F32, &dev)?;
    let prior = Independent::new(Box::new(Normal::new(&zeros, 1.0)?), 1)?;
    let z = q.rsample(&[], &mut Generator::new(0))?; // [N, D]
    let kl = kl_divergence(&q, &prior)?; // [N]
    let logits = (z * 3.0)?; // the decoder, in a real model
    let x = Tensor::new(&[[1.0f32, 0.0], [0.0, 1.0]], &dev)?; // binary data
    let lik = Independent::new(Box::new(Bernoulli::from_logits(&logits)?), 1)?;
    let elbo = (lik.log_prob(&x)? - &kl)?.mean_all()?;
    let grads = elbo.backward()?;
    // --- guide ---
    // KL(N(μ, σ²) ‖ N(0, 1)) = −ln σ + (σ² + μ²)/2 − 1/2, summed over D.
    let (m, ls) = ([0.1, -0.3, 0.5, 0.0], [0.0f64, -1.0, 0.2, 0.3]);
    let kl_want: Vec<f64> = (0..2)
        .map(|r| {
            (0..2)
                .map(|c| {
                    let (m, ls) = (m[2 * r + c], ls[2 * r + c]);
                    -ls + ((2.0 * ls).exp() + m * m) / 2.0 - 0.5
                })
                .sum()
        })
        .collect();
    close(&v1(&kl)?, &kl_want, 1e-6);
    // Bernoulli(logits l): x·l − ln(1 + e^l), summed over D.
    let (lv, xv) = (v1(&logits)?, [1.0, 0.0, 0.0, 1.0]);
    let lik_want: Vec<f64> = (0..2)
        .map(|r| {
            (0..2)
                .map(|c| {
                    let l = lv[2 * r + c];
                    xv[2 * r + c] * l - l.exp().ln_1p()
                })
                .sum()
        })
        .collect();
    close(&v1(&lik.log_prob(&x)?)?, &lik_want, 1e-5);
    assert!(grads.get(&mu).is_some() && grads.get(&log_sigma).is_some());
    Ok(())
}

#[test]
fn categorical_reinforce_gradient_is_the_score_function() -> Result<()> {
    // --- guide ---
    use candle_core::{Device, Tensor, Var};
    use candle_distributions::prelude::*;

    let dev = Device::Cpu;
    let logits = Var::new(&[[1.0f32, 0.0, -1.0], [0.0, 0.0, 0.0]], &dev)?; // [N, K]
    let pi = Categorical::from_logits(&logits)?;
    let mut rng = Generator::new(0);
    let a = pi.sample(&[], &mut rng)?; // [N], DType::I64
    let log_p = pi.log_prob(&a)?; // [N], on the graph of logits
    let entropy = pi.entropy()?; // [N]
    let old_log_p = log_p.detach(); // stored at rollout time, in PPO
    let ratio = (&log_p - &old_log_p)?.exp()?; // PPO's importance ratio
    let reward = Tensor::new(&[1.0f32, 0.5], &dev)?;
    let mut baseline = MovingAverage::new(0.9)?; // or LeaveOneOut::new(0)
    let surrogate = baseline.surrogate(&log_p, &reward)?; // value: reward; grad: REINFORCE
    let loss = (surrogate.mean_all()?.neg()? - (entropy.mean_all()? * 0.01)?)?;
    let grads = loss.backward()?;
    // --- guide ---
    assert_eq!(a.dtype(), DType::I64);
    assert_eq!(v1(&ratio)?, vec![1.0, 1.0]);
    let av: Vec<i64> = a.to_vec1::<i64>()?;
    let rows = [[1.0f64, 0.0, -1.0], [0.0, 0.0, 0.0]];
    // log p = l_a − logsumexp(l); the first baseline is 0, so the gradient of −mean(s)
    // is −r_i (onehot(a_i) − softmax_i)/N, plus −0.01 d mean(H)/dl.
    let mut want_grad = vec![];
    for (i, row) in rows.iter().enumerate() {
        let lse = row.iter().map(|l| l.exp()).sum::<f64>().ln();
        let p: Vec<f64> = row.iter().map(|l| (l - lse).exp()).collect();
        let lp_want = row[av[i] as usize] - lse;
        assert!((v1(&log_p)?[i] - lp_want).abs() < 1e-6);
        let h: f64 = -p.iter().map(|p| p * p.ln()).sum::<f64>();
        assert!((v1(&entropy)?[i] - h).abs() < 1e-6);
        let r = [1.0, 0.5][i];
        for (k, pk) in p.iter().enumerate() {
            let onehot = if k as i64 == av[i] { 1.0 } else { 0.0 };
            // dH/dl_k = −p_k (ln p_k + H)
            let dh = -pk * (pk.ln() + h);
            want_grad.push(-r * (onehot - pk) / 2.0 - 0.01 * dh / 2.0);
        }
    }
    close(&v1(grads.get(&logits).unwrap())?, &want_grad, 1e-6);
    Ok(())
}

#[test]
fn biject_to_positive_is_exp() -> Result<()> {
    // --- guide ---
    use candle_core::{Device, Var};
    use candle_distributions::{biject_to, Constraint};

    let raw = Var::new(&[-2.0f32, 0.0, 3.0], &Device::Cpu)?; // unconstrained, optimized
    let to_positive = biject_to(&Constraint::Positive)?; // Box<dyn Transform>
    let scale = to_positive.forward(&raw)?; // exp(raw) > 0, on the graph of raw
    let log_det = to_positive.log_abs_det_jacobian(&raw, &scale)?; // for densities
    let back = to_positive.inverse(&scale)?; // ≈ raw

    // --- guide ---
    let want: Vec<f64> = [-2.0f64, 0.0, 3.0].iter().map(|x| x.exp()).collect();
    close(&v1(&scale)?, &want, 1e-5);
    close(&v1(&log_det)?, &[-2.0, 0.0, 3.0], 1e-6);
    close(&v1(&back)?, &[-2.0, 0.0, 3.0], 1e-6);
    let g = scale.sum_all()?.backward()?;
    close(&v1(g.get(&raw).unwrap())?, &want, 1e-5);
    Ok(())
}

#[test]
fn same_seed_same_draws_and_split_streams_differ() -> Result<()> {
    // --- guide ---
    use candle_core::{DType, Device};
    use candle_distributions::prelude::*;

    let normal = Normal::from_scalars(0.0, 1.0, DType::F32, &Device::Cpu)?;
    let mut rng = Generator::new(0); // torch.manual_seed(0), but explicit
    let x = normal.sample(&[4], &mut rng)?;
    let again = normal.sample(&[4], &mut Generator::new(0))?; // same seed, same draws
    let mut env_rng = rng.split(); // an independent stream, e.g. for the environment
    let y = normal.sample(&[4], &mut env_rng)?;
    // --- guide ---
    assert_eq!(v1(&x)?, v1(&again)?);
    assert_ne!(v1(&x)?, v1(&y)?);
    Ok(())
}

#[test]
fn one_seed_reproduces_model_weights() -> Result<()> {
    let build = || -> Result<(Vec<f64>, Vec<f64>)> {
        // --- guide ---
        use candle_core::{DType, Device, Module};
        use candle_distributions::prelude::*;
        use candle_nn::{Optimizer, ParamsAdamW};

        let dev = Device::Cpu;
        let mut rng = Generator::new(0); // torch.manual_seed(0)
        let vm = SeededVarMap::with_generator(&rng.split()); // the weights' own stream
        let vb = vm.var_builder(DType::F32, &dev);
        let policy = candle_nn::seq()
            .add(candle_nn::linear(3, 64, vb.pp("0"))?)
            .add(candle_nn::Activation::Relu)
            .add(candle_nn::linear(64, 2, vb.pp("2"))?);
        let params = ParamsAdamW {
            lr: 3e-4,
            weight_decay: 0.0, // candle's AdamW defaults to 0.01; torch's Adam has none
            ..Default::default()
        };
        let mut opt = candle_nn::AdamW::new(vm.all_vars(), params)?; // torch.optim.Adam
        let obs = rng.standard_normal(&[4, 3], DType::F32, &dev)?; // torch.randn(4, 3)
        let loss = policy.forward(&obs)?.sqr()?.mean_all()?;
        opt.backward_step(&loss)?;
        // --- guide ---
        let w = vm.all_vars()[0].as_tensor().clone();
        Ok((v1(&w)?, v1(&policy.forward(&obs)?)?))
    };
    let (a, b) = (build()?, build()?);
    // The same seed reproduces the weights after a step, and the outputs, bit for bit.
    assert_eq!(a, b);
    assert!(a.0.iter().any(|&x| x != 0.0));
    Ok(())
}

#[test]
fn errors_name_distribution_parameter_and_value() -> Result<()> {
    // --- guide ---
    use candle_core::Device;
    use candle_distributions::prelude::*;

    let err = Normal::from_scalars(0.0, -1.0, candle_core::DType::F32, &Device::Cpu)
        .unwrap_err()
        .to_string();
    // "Normal: parameter `scale` must satisfy positive (x > 0), found -1 at index 0"
    // --- guide ---
    assert!(err.starts_with("Normal: parameter `scale`"), "{err}");
    assert!(err.contains("found -1 at index 0"), "{err}");
    // Switched off per instance, the same parameters build.
    assert!(Normal::new(0.0f32, -1.0f32).is_err());
    assert!(Normal::new_with_validation(0.0f32, -1.0f32, false).is_ok());
    Ok(())
}

/// The code between each pair of markers above, dedented by the marker's indentation,
/// in order.
fn guide_snippets_of(source: &str) -> Vec<String> {
    let mut out = vec![];
    let mut current: Option<(usize, Vec<&str>)> = None;
    for line in source.lines() {
        if line.trim_start() == "// --- guide ---" {
            let indent = line.len() - line.trim_start().len();
            match current.take() {
                None => current = Some((indent, vec![])),
                Some((_, lines)) => out.push(lines.join("\n").trim_end().to_string()),
            }
        } else if let Some((indent, lines)) = current.as_mut() {
            lines.push(line.get(*indent..).unwrap_or(line.trim_start()));
        }
    }
    out
}

/// The ```rust blocks of a markdown text, in order.
fn rust_blocks_of(markdown: &str) -> Vec<String> {
    let mut out = vec![];
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        match (&mut current, line) {
            (None, "```rust") => current = Some(vec![]),
            (Some(lines), "```") => {
                out.push(lines.join("\n").trim_end().to_string());
                current = None;
            }
            (Some(lines), _) => lines.push(line),
            (None, _) => {}
        }
    }
    out
}

#[test]
fn guide_rust_blocks_are_the_tested_snippets() {
    let guide = rust_blocks_of(include_str!("../../../../docs/PORTING.md"));
    let tested = guide_snippets_of(include_str!("porting_guide.rs"));
    assert_eq!(guide.len(), 8, "the guide has 8 Rust blocks");
    assert_eq!(tested.len(), guide.len());
    for (g, t) in guide.iter().zip(&tested) {
        assert!(
            tested.contains(g),
            "a guide block is not tested verbatim:\n{g}"
        );
        assert!(
            guide.contains(t),
            "a tested snippet is not in the guide:\n{t}"
        );
    }
}
