//! The Generator's integer draws: `randint`, `bernoulli`, `permutation`. Each is
//! checked for its law (chi-square at p ≥ 1e-3, fixed seeds), its errors, and
//! thread-count independence.

use crate::common;

use candle_core::{DType, Device, Tensor};
use candle_distributions::Generator;
use common::{chi_square, in_pool};

#[test]
fn randint_is_uniform_on_small_and_odd_ranges() {
    let dev = Device::Cpu;
    for (seed, low, high, n) in [
        (1u64, 0i64, 10i64, 200_000usize),
        (2, -7, 6, 130_000),
        (3, 5, 6, 1000),
    ] {
        let x = Generator::new(seed)
            .randint(low, high, &[n], &dev)
            .unwrap()
            .to_vec1::<i64>()
            .unwrap();
        let k = (high - low) as usize;
        let mut counts = vec![0.0; k];
        for v in &x {
            assert!((low..high).contains(v), "{v} outside {low}..{high}");
            counts[(v - low) as usize] += 1.0;
        }
        let expected = vec![n as f64 / k as f64; k];
        let (stat, df, p) = chi_square(&counts, &expected);
        assert!(
            p >= 1e-3,
            "randint({low}, {high}): chi² = {stat} on {df} df, p = {p}"
        );
    }
}

#[test]
fn randint_on_a_range_near_two_to_the_64_keeps_its_halves_balanced() {
    // range = 2^64 − 1: the rejection threshold is 1, so this exercises the full-width
    // multiply; each half of the range must get half of the draws.
    let n = 100_000;
    let x = Generator::new(9)
        .randint(i64::MIN, i64::MAX, &[n], &Device::Cpu)
        .unwrap()
        .to_vec1::<i64>()
        .unwrap();
    let below = x.iter().filter(|&&v| v < -1).count() as f64;
    let counts = [below, n as f64 - below];
    let (_, _, p) = chi_square(&counts, &[n as f64 / 2.0; 2]);
    assert!(p >= 1e-3, "halves {counts:?}, p = {p}");
}

#[test]
fn randint_rejects_empty_ranges_and_overflowing_shapes() {
    let dev = Device::Cpu;
    let mut g = Generator::new(0);
    for (low, high) in [(3, 3), (5, -5)] {
        let e = g.randint(low, high, &[2], &dev).unwrap_err().to_string();
        assert!(e.contains("randint") && e.contains("low < high"), "{e}");
    }
    assert!(g.randint(0, 2, &[usize::MAX, 2], &dev).is_err());
    assert_eq!(g.randint(0, 2, &[0], &dev).unwrap().dims(), &[0]);
}

#[test]
fn integer_draws_do_not_depend_on_the_thread_count() {
    let dev = Device::Cpu;
    let draw = |threads| {
        in_pool(threads, || {
            let mut g = Generator::new(42);
            let a = g
                .randint(0, 1000, &[100_003], &dev)
                .unwrap()
                .to_vec1::<i64>()
                .unwrap();
            let p = Tensor::full(0.3f64, 100_003, &dev).unwrap();
            let b = g.bernoulli(&p).unwrap().to_vec1::<f64>().unwrap();
            let c = g.permutation(5000, &dev).unwrap().to_vec1::<i64>().unwrap();
            (a, b, c)
        })
    };
    assert_eq!(draw(1), draw(2));
}

#[test]
fn bernoulli_keeps_tiny_rates_and_the_dtype() {
    let dev = Device::Cpu;
    let n = 400_000;
    for (p, dtype) in [
        (0.25, DType::F64),
        (0.25, DType::F32),
        (1e-5, DType::F32),
        (1.0 - 1e-5, DType::F64),
    ] {
        let probs = Tensor::full(p, n, &dev).unwrap().to_dtype(dtype).unwrap();
        let x = Generator::new(5).bernoulli(&probs).unwrap();
        assert_eq!(x.dtype(), dtype);
        let v = common::host(&x);
        assert!(v.iter().all(|&b| b == 0.0 || b == 1.0));
        let ones: f64 = v.iter().sum();
        let pf = common::host(&probs)[0];
        let expected = [n as f64 * (1.0 - pf), n as f64 * pf];
        // Two cells: chi-square with one degree of freedom (no pooling needed when both
        // expect ≥ 5, which holds for every case here).
        let (stat, _, pv) = chi_square(&[n as f64 - ones, ones], &expected);
        assert!(
            pv >= 1e-3,
            "p = {p} ({dtype:?}): {ones} ones, chi² = {stat}, p-value {pv}"
        );
    }
}

#[test]
fn bernoulli_at_zero_and_one_is_exact_and_bad_probabilities_are_errors() {
    let dev = Device::Cpu;
    let mut g = Generator::new(8);
    let p = Tensor::new(&[0.0f64, 1.0, 0.0, 1.0], &dev)
        .unwrap()
        .repeat(1000)
        .unwrap();
    let x = g.bernoulli(&p).unwrap();
    assert_eq!(common::host(&x), common::host(&p));
    for bad in [-0.1, 1.5, f64::NAN] {
        let t = Tensor::new(&[0.5, bad], &dev).unwrap();
        let e = g.bernoulli(&t).unwrap_err().to_string();
        assert!(e.contains("bernoulli") && e.contains("index 1"), "{e}");
    }
    let ints = Tensor::new(&[1u32], &dev).unwrap();
    assert!(g.bernoulli(&ints).is_err());
}

#[test]
fn permutations_are_permutations_and_uniform_over_the_six_orders_of_three() {
    let dev = Device::Cpu;
    let mut g = Generator::new(11);
    for n in [0usize, 1, 2, 17, 10_000] {
        let mut p = g.permutation(n, &dev).unwrap().to_vec1::<i64>().unwrap();
        p.sort();
        assert_eq!(p, (0..n as i64).collect::<Vec<_>>());
    }
    let reps = 60_000;
    let mut counts = [0.0; 6];
    let orders: [[i64; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for _ in 0..reps {
        let p = g.permutation(3, &dev).unwrap().to_vec1::<i64>().unwrap();
        let k = orders.iter().position(|o| o[..] == p[..]).unwrap();
        counts[k] += 1.0;
    }
    let (stat, df, pv) = chi_square(&counts, &[reps as f64 / 6.0; 6]);
    assert!(pv >= 1e-3, "{counts:?}: chi² = {stat} on {df} df, p = {pv}");
}

#[test]
fn shapes_whose_strides_overflow_are_errors_not_panics() {
    let dev = Device::Cpu;
    let mut g = Generator::new(0);
    let shape = [0usize, usize::MAX, 2];
    assert!(g.randint(0, 3, &shape, &dev).is_err());
    assert!(g.uniform(&shape, DType::F32, &dev).is_err());
    assert!(g.standard_normal(&shape, DType::F64, &dev).is_err());
}
