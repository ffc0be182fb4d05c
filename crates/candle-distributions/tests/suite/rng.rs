//! Generator: Random123 known answers, reproducibility across thread counts and
//! chunkings, stream independence, and uniform/normal fills.

use candle_core::{DType, Device};
use candle_distributions::rng::{philox4x32_10, u32_to_open01_f32, u64_to_open01_f64};
use candle_distributions::Generator;
use rand_core::RngCore;

/// The philox4x32-10 lines of Random123's `kat_vectors` (counter, key, expected).
#[test]
fn philox_matches_random123_known_answers() {
    let cases: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        (
            [0; 4],
            [0; 2],
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
        ),
        (
            [u32::MAX; 4],
            [u32::MAX; 2],
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
        ),
        (
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0],
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
        ),
    ];
    for (ctr, key, want) in cases {
        assert_eq!(philox4x32_10(ctr, key), want);
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Large enough for the parallel path (several chunks per thread).
const BIG: usize = 300_001;

#[test]
fn same_seed_same_bits_for_any_thread_count() {
    for dtype in [DType::F32, DType::F64] {
        let draw = |threads: usize| {
            in_pool(threads, || {
                let mut g = Generator::new(1234);
                let u = g.uniform(&[BIG], dtype, &Device::Cpu).unwrap();
                let n = g.standard_normal(&[BIG], dtype, &Device::Cpu).unwrap();
                let u = u.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap();
                let n = n.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap();
                (u, n)
            })
        };
        let (u1, n1) = draw(1);
        let (u2, n2) = draw(2);
        let (u3, n3) = draw(3);
        assert!(u1.iter().zip(&u2).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(n1.iter().zip(&n2).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(u1.iter().zip(&u3).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(n1.iter().zip(&n3).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

#[test]
fn element_i_does_not_depend_on_the_draw_size() {
    // Element i is a function of (seed, draw index, i) only: a prefix of a larger draw
    // equals a smaller draw from the same state.
    let mut a = Generator::new(9);
    let mut b = Generator::new(9);
    let small = a
        .standard_normal(&[1000], DType::F64, &Device::Cpu)
        .unwrap();
    let big = b.standard_normal(&[BIG], DType::F64, &Device::Cpu).unwrap();
    let small = small.to_vec1::<f64>().unwrap();
    let big = big.to_vec1::<f64>().unwrap();
    assert_eq!(&big[..1000], &small[..]);
}

#[test]
fn draws_splits_and_fold_ins_differ() {
    let mut g = Generator::new(5);
    let a = g
        .uniform(&[64], DType::F64, &Device::Cpu)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let b = g
        .uniform(&[64], DType::F64, &Device::Cpu)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    assert_ne!(a, b, "consecutive draws must differ");

    let mut parent = Generator::new(5);
    let mut c1 = parent.split();
    let mut c2 = parent.split();
    assert_ne!(c1.key(), c2.key());
    let x1 = c1
        .uniform(&[64], DType::F64, &Device::Cpu)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let x2 = c2
        .uniform(&[64], DType::F64, &Device::Cpu)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    assert_ne!(x1, x2);

    let base = Generator::new(5);
    assert_eq!(base.fold_in(3), base.fold_in(3));
    assert_ne!(base.fold_in(3).key(), base.fold_in(4).key());
    assert_ne!(Generator::new(6).fold_in(3).key(), base.fold_in(3).key());
}

#[test]
fn replaying_a_draw_index_reproduces_it() {
    let mut g = Generator::new(77);
    let _ = g.uniform(&[10], DType::F32, &Device::Cpu).unwrap();
    let at = g.draw_index();
    let first = g
        .standard_normal(&[10], DType::F32, &Device::Cpu)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    g.set_draw_index(at);
    let again = g
        .standard_normal(&[10], DType::F32, &Device::Cpu)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(first, again);
}

#[test]
fn uniforms_are_strictly_inside_the_unit_interval() {
    assert!(u64_to_open01_f64(0) > 0.0 && u64_to_open01_f64(u64::MAX) < 1.0);
    assert!(u32_to_open01_f32(0) > 0.0 && u32_to_open01_f32(u32::MAX) < 1.0);
    let mut g = Generator::new(0);
    let u = g
        .uniform(&[BIG], DType::F32, &Device::Cpu)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!(u.iter().all(|&x| x > 0.0 && x < 1.0 && x.ln().is_finite()));
}

/// Moments of the bulk fills with thresholds from the sampling distribution of the
/// mean and variance (6 standard errors: a fixed seed, and p < 1e-8 under H0).
#[test]
fn bulk_fill_moments() {
    let n = 1_000_000usize;
    let mut g = Generator::new(2024);
    let z = g
        .standard_normal(&[n], DType::F64, &Device::Cpu)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let mean = z.iter().sum::<f64>() / n as f64;
    let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    let kurt = z.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64 / (var * var);
    let se_mean = (1.0 / n as f64).sqrt();
    let se_var = (2.0 / n as f64).sqrt();
    let se_kurt = (24.0 / n as f64).sqrt();
    assert!(mean.abs() < 6.0 * se_mean, "mean {mean}");
    assert!((var - 1.0).abs() < 6.0 * se_var, "var {var}");
    assert!((kurt - 3.0).abs() < 6.0 * se_kurt, "kurtosis {kurt}");

    let u = g
        .uniform(&[n], DType::F64, &Device::Cpu)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let mean = u.iter().sum::<f64>() / n as f64;
    let se = (1.0 / 12.0 / n as f64).sqrt();
    assert!((mean - 0.5).abs() < 6.0 * se, "uniform mean {mean}");
    // Lag-1 correlation of consecutive elements (neighbours share a Philox block).
    let c = u
        .windows(2)
        .map(|w| (w[0] - 0.5) * (w[1] - 0.5))
        .sum::<f64>()
        / (n - 1) as f64
        * 12.0;
    assert!(c.abs() < 6.0 / (n as f64).sqrt(), "lag-1 correlation {c}");
}

#[test]
fn rng_core_stream_is_reproducible() {
    let mut a = Generator::new(11);
    let mut b = Generator::new(11);
    let xs: Vec<u64> = (0..10).map(|_| a.next_u64()).collect();
    let ys: Vec<u64> = (0..10).map(|_| b.next_u64()).collect();
    assert_eq!(xs, ys);
    let mut buf = [0u8; 13];
    a.fill_bytes(&mut buf);
    assert!(buf.iter().any(|&x| x != 0));
}
