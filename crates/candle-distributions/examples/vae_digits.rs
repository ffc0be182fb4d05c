//! A variational autoencoder (Kingma & Welling 2014, "Auto-Encoding Variational
//! Bayes") on the 8×8 handwritten digits, trained on the ELBO with reparameterised
//! Gaussian draws, an analytic KL term and a Bernoulli likelihood.
//!
//! - Data: the 1 797 8×8 digits of UCI "Optical Recognition of Handwritten Digits"
//!   (the copy shipped with scikit-learn; `data/digits/README.md`), pixel values 0..16
//!   binarised by the fixed rule `x = 1 if v >= 8 else 0`. Image `i` is a test image iff
//!   `i % 5 == 0`: 360 test, 1 437 training images.
//! - Model: encoder MLP 64 → 128 (ReLU) → 2·8 giving `(μ, ln σ)`, posterior
//!   `q(z|x) = Independent(Normal(μ, σ), 1)` on z ∈ ℝ⁸; prior `Independent(Normal(0, 1),
//!   1)`; decoder MLP 8 → 128 (ReLU) → 64 logits ℓ, likelihood `p(x|z) =
//!   Independent(Bernoulli::from_logits(ℓ), 1)`.
//! - Objective: `ELBO(x) = E_q[ln p(x|z)] − KL(q(z|x) ‖ p(z))`, the expectation by one
//!   reparameterised draw `z = μ + σ·ε` (`q.rsample`) per image, the KL in closed form
//!   (`kl_divergence(&q, &prior)`). Adam (AdamW with weight decay 0), lr 1e-3, batches of
//!   64 (the last one of an epoch smaller), a new order each epoch from
//!   `Generator::permutation`.
//! - Initialisation: every linear layer draws weight and bias from `U(±1/√in)`, torch's
//!   `nn.Linear` law, through `SeededVarMap` and `get_with_hints(.., Init::Uniform)`
//!   (candle-nn's `linear` would use Kaiming-normal weights), so this program and its
//!   torch twin `reference/vae_digits_torch.py` train the same model from the same law.
//!
//! Why Bernoulli: the Bernoulli mass is a probability only for x ∈ {0, 1}. Applied to
//! grey levels in [0, 1] (the common "binary cross-entropy on intensities") it is not a
//! normalised density, so its "ELBO" is not a bound on any likelihood; the continuous
//! Bernoulli (`ContinuousBernoulli`, Loaiza-Ganem & Cunningham 2019, "The continuous
//! Bernoulli: fixing a pervasive error in variational autoencoders") adds the missing
//! normaliser C(λ) and is the right choice for intensities. Here the data are binarised
//! first, so the plain Bernoulli is the exact likelihood and the ELBO a true bound on
//! ln p(x) in nats.
//!
//! Prints, per epoch, the mean training ELBO of the epoch's single-draw estimates, the
//! test ELBO (10 draws per image) and the seconds spent training (evaluation excluded);
//! at the end the test ELBO averaged over 100 draws per image, with its Monte-Carlo
//! standard error. Writes into `out/vae_digits/` (or `--out DIR`): `elbo.png` (train and
//! test ELBO against epoch), `reconstructions.png` (test images and the decoder's
//! probabilities at z = μ as grey levels) and `prior_samples.png` (decoder probabilities
//! at 64 draws z ~ N(0, I)). `--quick` trains 2 epochs on 256 images (a few seconds).
//!
//! ```text
//! cargo run --release -p candle-distributions --example vae_digits [-- --quick] [--epochs N] [--seed S] [--out DIR]
//! ```
//!
//! `RAYON_NUM_THREADS` is set (to the available parallelism) when it is unset, by
//! `common::run_main`: otherwise candle-core 0.11's CPU matmul reads `/proc/cpuinfo` to
//! count cores on every call, about 30% of an epoch. Results do not depend on it.

use candle_core::{DType, Device, Module, Tensor};
use candle_distributions::init::SeededVarMap;
use candle_distributions::transforms::Independent;
use candle_distributions::{kl_divergence, Bernoulli, Distribution, Generator, Normal};
use candle_nn::{Init, Linear, Optimizer, ParamsAdamW, VarBuilder};
use common::{canvas, finish, key, run_main, Flags, Res};
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod common;

/// 1 797 records of one label byte and 64 pixel bytes (0..16, row-major).
static DATA: &[u8] = include_bytes!("data/digits/digits_8x8.bin");
const N_IMAGES: usize = 1797;
const PIXELS: usize = 64;
const RECORD: usize = 1 + PIXELS;
/// A pixel is on iff its value (0..16) is at least this.
const THRESHOLD: u8 = 8;
/// Image `i` is a test image iff `i % TEST_EVERY == 0`.
const TEST_EVERY: usize = 5;
/// Width of the hidden layers.
const HIDDEN: usize = 128;
/// Dimension of the latent z.
const LATENT: usize = 8;
const BATCH: usize = 64;
/// Adam's learning rate.
const LR: f64 = 1e-3;
const EPOCHS: usize = 300;
/// Draws of z per test image: for the per-epoch curve and for the final estimate.
const CURVE_DRAWS: usize = 10;
const FINAL_DRAWS: usize = 100;
/// `--quick`: epochs and training images.
const QUICK_EPOCHS: usize = 2;
const QUICK_TRAIN: usize = 256;

struct Args {
    quick: bool,
    epochs: usize,
    seed: u64,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let f = Flags::parse(
        "vae_digits [--quick] [--epochs N] [--seed S] [--out DIR]",
        &["--epochs", "--seed", "--out"],
        &["--quick"],
    )?;
    let quick = f.on("--quick");
    Ok(Args {
        quick,
        epochs: f
            .positive("--epochs")?
            .unwrap_or(if quick { QUICK_EPOCHS } else { EPOCHS }),
        seed: f.number("--seed")?.unwrap_or(0),
        out: f
            .path("--out")
            .unwrap_or_else(|| PathBuf::from("out/vae_digits")),
    })
}

fn main() {
    run_main(|| run(&parse_args()?));
}

/// The binarised images as `[n, 64]` f32 tensors: (train, test).
fn load_digits(dev: &Device) -> Res<(Tensor, Tensor)> {
    if DATA.len() != N_IMAGES * RECORD {
        return Err(format!(
            "digits_8x8.bin: expected {} bytes, found {}",
            N_IMAGES * RECORD,
            DATA.len()
        )
        .into());
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, rec) in DATA.chunks_exact(RECORD).enumerate() {
        if rec[0] > 9 || rec[1..].iter().any(|&v| v > 16) {
            return Err(format!("digits_8x8.bin: record {i} is out of range").into());
        }
        let dst = if i % TEST_EVERY == 0 {
            &mut test
        } else {
            &mut train
        };
        dst.extend(
            rec[1..]
                .iter()
                .map(|&v| f32::from(u8::from(v >= THRESHOLD))),
        );
    }
    let n_test = test.len() / PIXELS;
    let n_train = train.len() / PIXELS;
    Ok((
        Tensor::from_vec(train, (n_train, PIXELS), dev)?,
        Tensor::from_vec(test, (n_test, PIXELS), dev)?,
    ))
}

/// A linear layer with torch's `nn.Linear` initialisation: weight and bias
/// `U(−1/√in, 1/√in)`.
fn torch_linear(in_dim: usize, out_dim: usize, vb: VarBuilder) -> candle_core::Result<Linear> {
    let bound = 1.0 / (in_dim as f64).sqrt();
    let init = Init::Uniform {
        lo: -bound,
        up: bound,
    };
    let w = vb.get_with_hints((out_dim, in_dim), "weight", init)?;
    let b = vb.get_with_hints(out_dim, "bias", init)?;
    Ok(Linear::new(w, Some(b)))
}

struct Vae {
    enc_hidden: Linear,
    enc_out: Linear,
    dec_hidden: Linear,
    dec_out: Linear,
}

impl Vae {
    fn new(vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Vae {
            enc_hidden: torch_linear(PIXELS, HIDDEN, vb.pp("enc.0"))?,
            enc_out: torch_linear(HIDDEN, 2 * LATENT, vb.pp("enc.2"))?,
            dec_hidden: torch_linear(LATENT, HIDDEN, vb.pp("dec.0"))?,
            dec_out: torch_linear(HIDDEN, PIXELS, vb.pp("dec.2"))?,
        })
    }

    /// `(μ, ln σ)`, each `[n, LATENT]`.
    fn encode(&self, x: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let h = self.enc_out.forward(&self.enc_hidden.forward(x)?.relu()?)?;
        Ok((h.narrow(1, 0, LATENT)?, h.narrow(1, LATENT, LATENT)?))
    }

    /// The 64 logits for z of shape `[.., LATENT]`.
    fn decode(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        self.dec_out.forward(&self.dec_hidden.forward(z)?.relu()?)
    }

    /// The single-draw ELBO estimate of each image of `x` (`[n, 64]`): `ln p(x|z) −
    /// KL(q ‖ prior)` with one reparameterised `z ~ q(z|x)` per image; `[n]`, on the
    /// graph of the weights.
    fn elbo(&self, x: &Tensor, rng: &mut Generator) -> Res<Tensor> {
        let (mu, log_sigma) = self.encode(x)?;
        let q = Independent::new(Box::new(Normal::new(&mu, &log_sigma.exp()?)?), 1)?;
        let prior = Independent::new(Box::new(Normal::new(&mu.zeros_like()?, 1.0)?), 1)?;
        let kl = kl_divergence(&q, &prior)?; // [n], analytic
        let z = q.rsample(&[], rng)?; // [n, LATENT], z = mu + sigma * eps
        let logits = self.decode(&z)?; // [n, 64]
        let lik = Independent::new(Box::new(Bernoulli::from_logits(&logits)?), 1)?;
        Ok((lik.log_prob(x)? - kl)?)
    }
}

/// Mean test ELBO over `draws` draws per image, and the Monte-Carlo standard error of
/// that mean (the spread over draws of the mean over images, divided by √draws).
fn test_elbo(vae: &Vae, test: &Tensor, draws: usize, rng: &mut Generator) -> Res<(f64, f64)> {
    // One draw at a time keeps the per-draw means for the standard error.
    let mut per_draw = Vec::with_capacity(draws);
    for _ in 0..draws {
        let e = vae.elbo(test, rng)?.detach();
        per_draw.push(e.mean_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?);
    }
    let n = per_draw.len() as f64;
    let mean = per_draw.iter().sum::<f64>() / n;
    let var = per_draw.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    Ok((mean, (var / n).sqrt()))
}

struct EpochStats {
    train_elbo: f64,
    test_elbo: f64,
    seconds: f64,
}

fn run(args: &Args) -> Res<()> {
    let t0 = Instant::now();
    let dev = Device::Cpu;
    let (mut train, test) = load_digits(&dev)?;
    if args.quick {
        train = train.narrow(0, 0, QUICK_TRAIN)?;
    }
    let n_train = train.dim(0)?;
    println!(
        "VAE on 8x8 digits (binarised at v >= {THRESHOLD}): {n_train} train / {} test images, \
         MLP 64-{HIDDEN}-2x{LATENT} / {LATENT}-{HIDDEN}-64 (ReLU), Adam lr {LR}, batch {BATCH}, \
         {} epochs, seed {}\n",
        test.dim(0)?,
        args.epochs,
        args.seed
    );

    let root = Generator::new(args.seed);
    let vm = SeededVarMap::with_generator(&root.fold_in(0));
    let mut shuffle_rng = root.fold_in(1);
    let mut train_rng = root.fold_in(2);
    let mut eval_rng = root.fold_in(3);
    let vae = Vae::new(vm.var_builder(DType::F32, &dev))?;
    let params = ParamsAdamW {
        lr: LR,
        weight_decay: 0.0, // torch.optim.Adam
        ..Default::default()
    };
    let mut opt = candle_nn::AdamW::new(vm.all_vars(), params)?;

    println!(
        "{:>6} {:>12} {:>18} {:>10}",
        "epoch", "train ELBO", "test ELBO (10 z)", "train s"
    );
    let mut stats = Vec::with_capacity(args.epochs);
    for epoch in 1..=args.epochs {
        let te = Instant::now();
        let order = shuffle_rng.permutation(n_train, &dev)?;
        let mut sum = 0.0f64;
        for start in (0..n_train).step_by(BATCH) {
            let len = BATCH.min(n_train - start);
            let x = train.index_select(&order.narrow(0, start, len)?, 0)?;
            let elbo = vae.elbo(&x, &mut train_rng)?;
            sum += elbo.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            opt.backward_step(&elbo.mean_all()?.neg()?)?;
        }
        let seconds = te.elapsed().as_secs_f64();
        let (test_elbo, _) = test_elbo(&vae, &test, CURVE_DRAWS, &mut eval_rng)?;
        let s = EpochStats {
            train_elbo: sum / n_train as f64,
            test_elbo,
            seconds,
        };
        println!(
            "{epoch:>6} {:>12.3} {:>18.3} {:>10.4}",
            s.train_elbo, s.test_elbo, s.seconds
        );
        stats.push(s);
    }

    let (final_elbo, se) = test_elbo(&vae, &test, FINAL_DRAWS, &mut eval_rng)?;
    let mut secs: Vec<f64> = stats.iter().map(|s| s.seconds).collect();
    let mean_s = secs.iter().sum::<f64>() / secs.len() as f64;
    secs.sort_by(f64::total_cmp);
    let m = secs.len() / 2;
    let median_s = if secs.len() % 2 == 1 {
        secs[m]
    } else {
        0.5 * (secs[m - 1] + secs[m])
    };
    println!(
        "\nfinal test ELBO ({FINAL_DRAWS} z per image): {final_elbo:.4} nats \
         (Monte-Carlo s.e. {se:.4})"
    );
    println!("seconds per epoch (training only): mean {mean_s:.4}, median {median_s:.4}");

    plot_elbo(&args.out.join("elbo.png"), &stats, final_elbo)?;

    // Reconstructions of the first 32 test images: decoder probabilities at z = μ.
    let shown = test.narrow(0, 0, 32)?;
    let (mu, _) = vae.encode(&shown)?;
    let recon = Bernoulli::from_logits(&vae.decode(&mu)?.detach())?.probs()?;
    let mut rows = Vec::new();
    for block in 0..2 {
        rows.push(shown.narrow(0, 16 * block, 16)?);
        rows.push(recon.narrow(0, 16 * block, 16)?);
    }
    let grid = Tensor::cat(&rows, 0)?.to_vec2::<f32>()?;
    plot_grid(
        &args.out.join("reconstructions.png"),
        "test images (rows 1, 3) and reconstructions p(x | z = mu) (rows 2, 4)",
        &grid,
        16,
    )?;

    // Samples from the prior: decoder probabilities at z ~ N(0, I).
    let z = eval_rng.standard_normal(&[64, LATENT], DType::F32, &dev)?;
    let probs = Bernoulli::from_logits(&vae.decode(&z)?.detach())?.probs()?;
    plot_grid(
        &args.out.join("prior_samples.png"),
        "decoder probabilities at z ~ N(0, I)",
        &probs.to_vec2::<f32>()?,
        8,
    )?;

    println!(
        "\nwrote elbo.png, reconstructions.png, prior_samples.png in {}; done in {:.1} s",
        args.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn plot_elbo(out: &Path, stats: &[EpochStats], final_elbo: f64) -> Res<()> {
    let root = canvas(out, (1000, 620))?;
    let n = stats.len();
    let values = stats.iter().flat_map(|s| [s.train_elbo, s.test_elbo]);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = 0.05 * (hi - lo).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("VAE on 8x8 digits: ELBO per image (final test {final_elbo:.2} nats)"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(1f64..(n as f64).max(2.0), (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_labels(n.clamp(2, 10))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .x_desc("epoch")
        .y_desc("ELBO (nats per image)")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    type Series = (&'static str, RGBColor, fn(&EpochStats) -> f64);
    let series: [Series; 2] = [
        (
            "train (1 z per image, during the epoch)",
            RGBColor(31, 119, 180),
            |s| s.train_elbo,
        ),
        (
            "test (10 z per image, after the epoch)",
            RGBColor(214, 39, 40),
            |s| s.test_elbo,
        ),
    ];
    for (label, c, f) in series {
        let pts: Vec<(f64, f64)> = stats
            .iter()
            .enumerate()
            .map(|(e, s)| ((e + 1) as f64, f(s)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
            .label(label)
            .legend(key(c, 2));
    }
    finish(&mut chart, &root)
}

/// Draws 8×8 images (rows of `images`, values in [0, 1], 1 = white ink on black) in a
/// grid of `cols` columns under a title.
fn plot_grid(out: &Path, title: &str, images: &[Vec<f32>], cols: usize) -> Res<()> {
    const CELL: i32 = 7; // screen pixels per image pixel
    const GAP: i32 = 6;
    const TITLE: i32 = 36;
    let side = 8 * CELL;
    let rows = images.len().div_ceil(cols);
    let width = (cols as i32 * (side + GAP) + GAP).max(560);
    let height = TITLE + rows as i32 * (side + GAP) + GAP;
    let root = canvas(out, (width as u32, height as u32))?;
    root.draw(&Text::new(
        title.to_string(),
        (GAP, 10),
        ("sans-serif", 16).into_font(),
    ))?;
    for (k, img) in images.iter().enumerate() {
        let (r, c) = ((k / cols) as i32, (k % cols) as i32);
        let (x0, y0) = (GAP + c * (side + GAP), TITLE + r * (side + GAP));
        // A blue frame, so white ink at an image's edge stays distinct from the gaps.
        root.draw(&Rectangle::new(
            [(x0 - 2, y0 - 2), (x0 + side + 2, y0 + side + 2)],
            RGBColor(70, 110, 170).filled(),
        ))?;
        for (p, &v) in img.iter().enumerate() {
            let g = (255.0 * v.clamp(0.0, 1.0)).round() as u8;
            let (px, py) = (x0 + (p % 8) as i32 * CELL, y0 + (p / 8) as i32 * CELL);
            root.draw(&Rectangle::new(
                [(px, py), (px + CELL, py + CELL)],
                RGBColor(g, g, g).filled(),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}
