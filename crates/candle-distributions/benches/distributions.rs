//! Criterion benchmarks of the side-by-side workloads (`cargo bench -p candle-distributions`).
//!
//! The same workloads, under the same names, as `candle-dist bench` and
//! `bench/torch_peer.py` (see `bench/README.md`), on a smaller set of sizes so that a
//! full `cargo bench` stays short: f32 on the CPU, argument validation off.

use candle_core::{DType, Device, Tensor, Var};
use candle_distributions::{set_default_validate_args, Distribution, Generator, Normal};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

/// Parameters `(loc, scale)` of size `n`: loc ~ N(0, 1), scale ~ U(0.5, 1.5).
fn params(n: usize, rng: &mut Generator) -> (Tensor, Tensor) {
    let loc = rng.standard_normal(&[n], DType::F32, &Device::Cpu).unwrap();
    let scale = (rng.uniform(&[n], DType::F32, &Device::Cpu).unwrap() + 0.5).unwrap();
    (loc, scale)
}

fn rsample_logprob_backward(c: &mut Criterion) {
    set_default_validate_args(false);
    let mut group = c.benchmark_group("normal_rsample_logprob_backward");
    for (label, n) in [("1e2", 100usize), ("1e4", 10_000)] {
        let mut rng = Generator::new(0);
        let (l, s) = params(n, &mut rng);
        let loc = Var::from_tensor(&l).unwrap();
        let scale = Var::from_tensor(&s).unwrap();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| {
                let d = Normal::new(loc.as_tensor(), scale.as_tensor()).unwrap();
                let (x, lp) = d.rsample_and_log_prob(&[], &mut rng).unwrap();
                (x.sum_all().unwrap() + lp.sum_all().unwrap())
                    .unwrap()
                    .backward()
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn log_prob(c: &mut Criterion) {
    set_default_validate_args(false);
    let mut group = c.benchmark_group("normal_log_prob");
    let n = 10_000usize;
    let mut rng = Generator::new(1);
    let (loc, scale) = params(n, &mut rng);
    let value = rng.standard_normal(&[n], DType::F32, &Device::Cpu).unwrap();
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::from_parameter("1e4"), |b| {
        b.iter(|| Normal::new(&loc, &scale).unwrap().log_prob(&value).unwrap())
    });
    group.finish();
}

fn standard_normal_fill(c: &mut Criterion) {
    let mut group = c.benchmark_group("standard_normal_fill");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    let n = 1_000_000usize;
    let mut rng = Generator::new(2);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::from_parameter("1e6"), |b| {
        b.iter(|| rng.standard_normal(&[n], DType::F32, &Device::Cpu).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    rsample_logprob_backward,
    log_prob,
    standard_normal_fill
);
criterion_main!(benches);
