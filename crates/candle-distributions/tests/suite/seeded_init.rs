//! `SeededVarMap`: candle-nn parameters drawn from a seeded `Generator`, reproducible
//! from one seed, independent of creation order and thread count, with candle-nn's
//! initialisation schemes (bounds and moments checked against the formulas).

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_distributions::init::SeededVarMap;
use candle_distributions::Generator;
use candle_nn::init::{FanInOut, NonLinearity, NormalOrUniform, DEFAULT_KAIMING_UNIFORM};
use candle_nn::{Init, Optimizer, VarBuilder};

type R<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A two-layer MLP 8 → 16 → 4 under `vb`.
fn mlp(vb: &VarBuilder) -> candle_core::Result<impl Module> {
    let l1 = candle_nn::linear(8, 16, vb.pp("l1"))?;
    let l2 = candle_nn::linear(16, 4, vb.pp("l2"))?;
    Ok(candle_nn::seq()
        .add(l1)
        .add(candle_nn::Activation::Relu)
        .add(l2))
}

/// Every variable as (name, f64 bit patterns), sorted by name.
type Snapshot = Vec<(String, Vec<u64>)>;

fn snapshot(vm: &SeededVarMap) -> R<Snapshot> {
    vm.named_vars()
        .into_iter()
        .map(|(n, v)| {
            let x = v
                .as_tensor()
                .to_dtype(DType::F64)?
                .flatten_all()?
                .to_vec1::<f64>()?;
            Ok((n, x.into_iter().map(f64::to_bits).collect()))
        })
        .collect()
}

fn values(t: &Tensor) -> R<Vec<f64>> {
    Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?)
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|y| (y - m) * (y - m)).sum::<f64>() / (n - 1.0);
    (m, v)
}

#[test]
fn same_seed_gives_bit_identical_mlp() -> R<()> {
    let build = |seed| -> R<(Snapshot, Vec<f32>)> {
        let vm = SeededVarMap::new(seed);
        let net = mlp(&vm.var_builder(DType::F32, &Device::Cpu))?;
        let x = Tensor::arange(0f32, 16.0, &Device::Cpu)?.reshape((2, 8))?;
        let y = net.forward(&x)?.flatten_all()?.to_vec1::<f32>()?;
        Ok((snapshot(&vm)?, y))
    };
    let (a, ya) = build(3)?;
    let (b, yb) = build(3)?;
    assert_eq!(a.len(), 4);
    assert_eq!(a, b);
    assert_eq!(
        ya.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        yb.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    Ok(())
}

#[test]
fn different_seed_gives_different_weights() -> R<()> {
    let build = |seed| -> R<Snapshot> {
        let vm = SeededVarMap::new(seed);
        mlp(&vm.var_builder(DType::F32, &Device::Cpu))?;
        snapshot(&vm)
    };
    let (a, b) = (build(3)?, build(4)?);
    for ((na, va), (nb, vb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        // Independent continuous draws: coinciding f32 values are rare (< 1 in 1e5).
        let same = va.iter().zip(vb).filter(|(x, y)| x == y).count();
        assert!(same <= 1, "{na}: {same} of {} entries equal", va.len());
    }
    Ok(())
}

#[test]
fn different_names_get_independent_streams() -> R<()> {
    let vm = SeededVarMap::new(11);
    let init = Init::Randn {
        mean: 0.0,
        stdev: 1.0,
    };
    let a = values(&vm.get(&[4096], "a", init, DType::F64, &Device::Cpu)?)?;
    let b = values(&vm.get(&[4096], "b", init, DType::F64, &Device::Cpu)?)?;
    // Sample correlation of independent N(0,1) pairs has sd 1/√n: |r| < 4/√n.
    let r = a.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>() / 4096.0;
    assert!(r.abs() < 4.0 / 64.0, "correlation {r}");
    Ok(())
}

#[test]
fn creation_order_does_not_matter() -> R<()> {
    let dev = Device::Cpu;
    let forward = SeededVarMap::new(5);
    let vb = forward.var_builder(DType::F32, &dev);
    candle_nn::linear(8, 16, vb.pp("l1"))?;
    candle_nn::linear(16, 4, vb.pp("l2"))?;
    candle_nn::linear_no_bias(4, 2, vb.pp("head"))?;
    let backward = SeededVarMap::new(5);
    let vb = backward.var_builder(DType::F32, &dev);
    candle_nn::linear_no_bias(4, 2, vb.pp("head"))?;
    candle_nn::linear(16, 4, vb.pp("l2"))?;
    candle_nn::linear(8, 16, vb.pp("l1"))?;
    assert_eq!(snapshot(&forward)?, snapshot(&backward)?);
    assert_eq!(forward.all_vars().len(), 5);
    Ok(())
}

#[test]
fn kaiming_uniform_respects_bound_and_variance() -> R<()> {
    let (out_dim, in_dim) = (300usize, 200usize);
    let vm = SeededVarMap::new(17);
    let w = vm.get(
        &[out_dim, in_dim],
        "w",
        DEFAULT_KAIMING_UNIFORM,
        DType::F64,
        &Device::Cpu,
    )?;
    let x = values(&w)?;
    let n = x.len() as f64;
    // torch.nn.init.kaiming_uniform_ (ReLU, fan_in): bound = gain·√(3 / fan_in), gain = √2.
    let bound = (6.0 / in_dim as f64).sqrt();
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    assert!(
        lo >= -bound && hi <= bound,
        "range [{lo}, {hi}] vs bound {bound}"
    );
    // The extremes reach the bound: P(max < b(1 − 20/n)) ≈ e^-10.
    assert!(hi > bound * (1.0 - 20.0 / n) && lo < -bound * (1.0 - 20.0 / n));
    let (m, v) = mean_var(&x);
    let var = bound * bound / 3.0;
    // Var(s²) ≈ (μ4 − σ⁴)/n with μ4 = b⁴/5, σ⁴ = b⁴/9 for U(−b, b).
    let se_var = (bound.powi(4) * (1.0 / 5.0 - 1.0 / 9.0) / n).sqrt();
    assert!(
        (v - var).abs() < 4.0 * se_var,
        "var {v} vs {var} (se {se_var})"
    );
    assert!(m.abs() < 4.0 * (var / n).sqrt(), "mean {m}");
    eprintln!("kaiming uniform: n={n} bound={bound} var={v} expected={var} se={se_var}");

    // Fan-out, tanh gain on a conv-shaped weight [8, 4, 3, 3]: fan_out = 8·9.
    let conv = vm.get(
        &[8, 4, 3, 3],
        "conv",
        Init::Kaiming {
            dist: NormalOrUniform::Uniform,
            fan: FanInOut::FanOut,
            non_linearity: NonLinearity::Tanh,
        },
        DType::F32,
        &Device::Cpu,
    )?;
    let b = 5.0 / 3.0 * (3.0 / 72.0f64).sqrt();
    let c = values(&conv)?;
    assert!(c.iter().all(|v| v.abs() <= b * (1.0 + 1e-7)));
    assert!(c.iter().any(|v| v.abs() > 0.9 * b)); // P(all 288 within 0.9b) = 0.9^288
    Ok(())
}

#[test]
fn linear_layer_uses_candle_nn_default_schemes() -> R<()> {
    let in_dim = 400usize;
    let vm = SeededVarMap::new(23);
    let layer = candle_nn::linear(in_dim, 250, vm.var_builder(DType::F64, &Device::Cpu))?;
    // Weight: Kaiming normal, ReLU gain, fan_in: N(0, 2/in).
    let w = values(layer.weight())?;
    let n = w.len() as f64;
    let sd = (2.0 / in_dim as f64).sqrt();
    let (m, v) = mean_var(&w);
    assert!(m.abs() < 4.0 * sd / n.sqrt(), "mean {m}");
    // sd of the sample sd of a normal ≈ σ/√(2n).
    assert!(
        (v.sqrt() - sd).abs() < 4.0 * sd / (2.0 * n).sqrt(),
        "sd {} vs {sd}",
        v.sqrt()
    );
    eprintln!(
        "linear weight: n={n} mean={m} sd={} expected sd={sd}",
        v.sqrt()
    );
    // Bias: U(−1/√in, 1/√in).
    let b = values(layer.bias().expect("linear has a bias"))?;
    let bound = 1.0 / (in_dim as f64).sqrt();
    assert!(b.iter().all(|x| x.abs() <= bound));
    assert!(b.iter().any(|x| x.abs() > 0.9 * bound)); // P(not) = 0.9^250
    Ok(())
}

#[test]
fn randn_mean_and_std_within_four_standard_errors() -> R<()> {
    let (mean, stdev) = (1.5, 0.25);
    let vm = SeededVarMap::new(29);
    let t = vm.get(
        &[50_000],
        "z",
        Init::Randn { mean, stdev },
        DType::F32,
        &Device::Cpu,
    )?;
    let x = values(&t)?;
    let n = x.len() as f64;
    let (m, v) = mean_var(&x);
    let se_mean = stdev / n.sqrt();
    let se_sd = stdev / (2.0 * n).sqrt();
    assert!((m - mean).abs() < 4.0 * se_mean, "mean {m} (se {se_mean})");
    assert!(
        (v.sqrt() - stdev).abs() < 4.0 * se_sd,
        "sd {} (se {se_sd})",
        v.sqrt()
    );
    eprintln!("randn: mean {m} sd {} (se {se_mean}, {se_sd})", v.sqrt());
    Ok(())
}

#[test]
fn const_is_exact() -> R<()> {
    let vm = SeededVarMap::new(0);
    for (name, c) in [
        ("zero", 0.0),
        ("one", 1.0),
        ("third", 1.0 / 3.0),
        ("neg", -2.5),
    ] {
        let t = vm.get(&[2, 3], name, Init::Const(c), DType::F32, &Device::Cpu)?;
        assert!(values(&t)?.iter().all(|&x| x == c as f32 as f64), "{name}");
        let t = vm.get(
            &[2, 3],
            &format!("{name}64"),
            Init::Const(c),
            DType::F64,
            &Device::Cpu,
        )?;
        assert!(values(&t)?.iter().all(|&x| x == c), "{name}64");
    }
    Ok(())
}

#[test]
fn f32_weights_are_f64_weights_rounded() -> R<()> {
    let w = |dtype| -> R<Vec<f64>> {
        let vm = SeededVarMap::new(31);
        let l = candle_nn::linear(32, 16, vm.var_builder(dtype, &Device::Cpu))?;
        values(l.weight())
    };
    let w64 = w(DType::F64)?;
    let w32 = w(DType::F32)?;
    assert!(w64.iter().zip(&w32).all(|(a, b)| *a as f32 as f64 == *b));
    Ok(())
}

#[test]
fn second_get_returns_the_same_var() -> R<()> {
    let dev = Device::Cpu;
    let vm = SeededVarMap::new(2);
    let init = Init::Uniform { lo: -1.0, up: 1.0 };
    let a = vm.get(&[3, 2], "p", init, DType::F32, &dev)?;
    let b = vm.get(&[3, 2], "p", Init::Const(9.0), DType::F32, &dev)?;
    assert_eq!(a.id(), b.id());
    assert_eq!(vm.all_vars().len(), 1);
    // Through a VarBuilder: a layer built twice shares its weight, and updates through
    // the Var are seen by both.
    let vb = vm.var_builder(DType::F32, &dev);
    let l1 = candle_nn::linear(2, 2, vb.pp("fc"))?;
    let l2 = candle_nn::linear(2, 2, vb.pp("fc"))?;
    assert_eq!(l1.weight().id(), l2.weight().id());
    let (_, w) = vm
        .named_vars()
        .into_iter()
        .find(|(n, _)| n == "fc.weight")
        .expect("fc.weight exists");
    w.set(&Tensor::zeros((2, 2), DType::F32, &dev)?)?;
    assert!(values(l2.weight())?.iter().all(|&x| x == 0.0));
    assert!(vm.data().lock().map(|m| m.len() == 3).unwrap_or(false));
    Ok(())
}

#[test]
fn names_are_sorted_and_varmap_is_shared() -> R<()> {
    let vm = SeededVarMap::new(1);
    mlp(&vm.var_builder(DType::F32, &Device::Cpu))?;
    let names: Vec<String> = vm.named_vars().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["l1.bias", "l1.weight", "l2.bias", "l2.weight"]);
    assert_eq!(vm.varmap().all_vars().len(), 4);
    Ok(())
}

#[test]
fn weights_do_not_depend_on_thread_count() -> R<()> {
    // 65 536 weights: above the size where fills go parallel.
    let build = |threads| -> R<Snapshot> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        pool.install(|| {
            let vm = SeededVarMap::new(41);
            let vb = vm.var_builder(DType::F32, &Device::Cpu);
            candle_nn::linear(256, 256, vb.pp("big"))?;
            vm.get(
                &[40_000],
                "u",
                Init::Uniform { lo: 0.0, up: 1.0 },
                DType::F64,
                &Device::Cpu,
            )?;
            snapshot(&vm)
        })
    };
    assert_eq!(build(1)?, build(2)?);
    Ok(())
}

#[test]
fn one_seed_reproduces_a_training_run() -> R<()> {
    let run = |seed| -> R<Vec<u32>> {
        let dev = Device::Cpu;
        let vm = SeededVarMap::new(seed);
        let net = mlp(&vm.var_builder(DType::F32, &dev))?;
        let mut rng = Generator::new(seed).fold_in(1);
        let x = rng.standard_normal(&[64, 8], DType::F32, &dev)?;
        let y = x.sum_keepdim(1)?.broadcast_as((64, 4))?.sin()?;
        let mut opt = candle_nn::AdamW::new_lr(vm.all_vars(), 1e-2)?;
        let mut losses = Vec::new();
        for _ in 0..20 {
            let loss = candle_nn::loss::mse(&net.forward(&x)?, &y)?;
            opt.backward_step(&loss)?;
            losses.push(loss.to_scalar::<f32>()?.to_bits());
        }
        Ok(losses)
    };
    let a = run(8)?;
    assert_eq!(a, run(8)?);
    assert_ne!(a, run(9)?);
    assert!(
        f32::from_bits(a[19]) < f32::from_bits(a[0]),
        "training lowers the loss"
    );
    Ok(())
}

#[test]
fn with_generator_uses_only_the_key() -> R<()> {
    let mut rng = Generator::new(99);
    let child = rng.split();
    let mut advanced = child.clone();
    advanced.next_draw();
    let w = |vm: SeededVarMap| -> R<Snapshot> {
        candle_nn::linear(3, 3, vm.var_builder(DType::F32, &Device::Cpu))?;
        snapshot(&vm)
    };
    assert_eq!(
        w(SeededVarMap::with_generator(&child))?,
        w(SeededVarMap::with_generator(&advanced))?
    );
    assert_ne!(
        w(SeededVarMap::with_generator(&child))?,
        w(SeededVarMap::new(99))?
    );
    Ok(())
}

/// `f` must fail with a message containing every string in `needles`.
fn expect_err<T: std::fmt::Debug, E: std::fmt::Display>(r: Result<T, E>, needles: &[&str]) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let msg = e.to_string();
            for n in needles {
                assert!(msg.contains(n), "`{msg}` lacks `{n}`");
            }
        }
    }
}

#[test]
fn invalid_requests_are_errors_not_panics() -> R<()> {
    let dev = Device::Cpu;
    let vm = SeededVarMap::new(0);
    let randn = Init::Randn {
        mean: 0.0,
        stdev: 1.0,
    };
    expect_err(
        vm.get(&[usize::MAX, 2], "huge", randn, DType::F32, &dev),
        &["SeededVarMap", "huge", "usize"],
    );
    // Empty along one axis but overflowing in product: refused like candle would need.
    expect_err(
        vm.get(&[0, usize::MAX, 2], "empty_huge", randn, DType::F32, &dev),
        &["empty_huge"],
    );
    expect_err(
        vm.get(&[2], "ints", randn, DType::U32, &dev),
        &["ints", "U32"],
    );
    let neg_sd = Init::Randn {
        mean: 0.0,
        stdev: -1.0,
    };
    expect_err(
        vm.get(&[2], "n", neg_sd, DType::F32, &dev),
        &["`n`", "stdev", "-1"],
    );
    let nan_mean = Init::Randn {
        mean: f64::NAN,
        stdev: 1.0,
    };
    expect_err(
        vm.get(&[2], "m", nan_mean, DType::F32, &dev),
        &["mean", "NaN"],
    );
    let inverted = Init::Uniform { lo: 1.0, up: 0.0 };
    expect_err(
        vm.get(&[2], "u", inverted, DType::F32, &dev),
        &["up", ">= lo"],
    );
    let wide = Init::Uniform {
        lo: -1e308,
        up: 1e308,
    };
    expect_err(vm.get(&[2], "w", wide, DType::F64, &dev), &["up - lo"]);
    let bad_gain = Init::Kaiming {
        dist: NormalOrUniform::Normal,
        fan: FanInOut::FanIn,
        non_linearity: NonLinearity::ExplicitGain(f64::INFINITY),
    };
    expect_err(
        vm.get(&[2, 2], "g", bad_gain, DType::F32, &dev),
        &["gain", "inf"],
    );
    expect_err(
        vm.get(&[2], "c", Init::Const(1e300), DType::F32, &dev),
        &["`c`", "not finite in F32"],
    );
    expect_err(
        vm.get(&[2], "h", Init::Const(1e5), DType::F16, &dev),
        &["not finite in F16"],
    );
    // A failed request leaves no variable behind.
    assert!(vm.all_vars().is_empty());
    vm.get(&[2, 3], "p", randn, DType::F32, &dev)?;
    expect_err(
        vm.get(&[3, 2], "p", randn, DType::F32, &dev),
        &["`p`", "[3, 2]"],
    );
    expect_err(
        vm.get(&[2, 3], "p", randn, DType::F64, &dev),
        &["`p`", "F64"],
    );
    // Through candle-nn: the backend's candle error carries the variable's path.
    let vb = vm.var_builder(DType::F32, &dev);
    expect_err(
        candle_nn::linear(usize::MAX, 2, vb.pp("big")),
        &["SeededVarMap", "big.weight"],
    );
    expect_err(vb.get_unchecked("missing"), &["missing"]);
    assert!(vb.get_unchecked("p").is_ok());
    Ok(())
}

#[test]
fn empty_shapes_consume_nothing_and_are_zero_sized() -> R<()> {
    let vm = SeededVarMap::new(0);
    let t = vm.get(
        &[0, 5],
        "e",
        DEFAULT_KAIMING_UNIFORM,
        DType::F32,
        &Device::Cpu,
    )?;
    assert_eq!(t.dims(), [0, 5]);
    let v = Var::from_tensor(&t)?;
    assert_eq!(v.elem_count(), 0);
    Ok(())
}
