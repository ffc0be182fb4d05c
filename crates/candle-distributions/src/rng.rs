//! Counter-based random numbers: Philox4x32-10.
//!
//! Philox (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3",
//! SC'11) maps a 128-bit counter and a 64-bit key to 128 random bits with ten rounds of
//! multiply-xor. Because the output is a pure function of (key, counter), element `i` of
//! a draw is a pure function of (seed, draw index, i): the same seed gives the same
//! tensor whatever the number of threads or the chunking, and a GPU kernel can
//! reproduce it.
//!
//! Counter layout used by every fill in this crate, for draw `d` (each bulk call takes a
//! fresh `d` from the generator) and block `b`:
//! `[b & 0xffff_ffff, b >> 32, d & 0xffff_ffff, (d >> 32) & 0xffff | sub << 16]`,
//! where `sub` numbers extra sub-streams that rejection samplers open per element.

use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use rayon::prelude::*;

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

/// One Philox4x32-10 block: 128 random bits from a counter and a key.
///
/// ```
/// use candle_distributions::rng::philox4x32_10;
/// // Random123 known-answer vector (all-zero counter and key).
/// assert_eq!(philox4x32_10([0; 4], [0; 2]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
/// ```
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let [mut c0, mut c1, mut c2, mut c3] = ctr;
    let [mut k0, mut k1] = key;
    for round in 0..10 {
        if round > 0 {
            k0 = k0.wrapping_add(PHILOX_W0);
            k1 = k1.wrapping_add(PHILOX_W1);
        }
        let p0 = (PHILOX_M0 as u64) * (c0 as u64);
        let p1 = (PHILOX_M1 as u64) * (c2 as u64);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        let n0 = hi1 ^ c1 ^ k0;
        let n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    [c0, c1, c2, c3]
}

const LANES: usize = 8;

/// Eight Philox blocks for consecutive block indices `b0..b0+8` of one draw, written
/// lane-wise so LLVM turns the rounds into vector multiplies.
#[inline(always)]
fn philox_lanes_body(
    key: [u32; 2],
    b0: u64,
    hi_word2: u32,
    hi_word3: u32,
    out: &mut [[u32; 4]; LANES],
) {
    let mut c0 = [0u32; LANES];
    let mut c1 = [0u32; LANES];
    let mut c2 = [hi_word2; LANES];
    let mut c3 = [hi_word3; LANES];
    for l in 0..LANES {
        let b = b0 + l as u64;
        c0[l] = b as u32;
        c1[l] = (b >> 32) as u32;
    }
    let [mut k0, mut k1] = key;
    for round in 0..10 {
        if round > 0 {
            k0 = k0.wrapping_add(PHILOX_W0);
            k1 = k1.wrapping_add(PHILOX_W1);
        }
        for l in 0..LANES {
            let p0 = (PHILOX_M0 as u64) * (c0[l] as u64);
            let p1 = (PHILOX_M1 as u64) * (c2[l] as u64);
            let n0 = ((p1 >> 32) as u32) ^ c1[l] ^ k0;
            let n2 = ((p0 >> 32) as u32) ^ c3[l] ^ k1;
            c0[l] = n0;
            c1[l] = p1 as u32;
            c2[l] = n2;
            c3[l] = p0 as u32;
        }
    }
    for l in 0..LANES {
        out[l] = [c0[l], c1[l], c2[l], c3[l]];
    }
}

/// `GROUPS × 8` consecutive blocks with explicit AVX2: `_mm256_mul_epu32` multiplies
/// the even 32-bit lanes (and, after a 64-bit shift, the odd ones) into 64-bit
/// products, and blends split them into high and low words. Several independent groups
/// run interleaved so the multiplier's latency is hidden.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn philox_groups_avx2(key: [u32; 2], b0: u64, w2: u32, w3: u32, out: &mut [[u32; 4]]) {
    use std::arch::x86_64::*;
    const G: usize = AVX2_GROUPS;
    debug_assert_eq!(out.len(), G * LANES);
    let mut lo = [0u32; G * LANES];
    let mut hi = [0u32; G * LANES];
    for l in 0..G * LANES {
        let b = b0 + l as u64;
        lo[l] = b as u32;
        hi[l] = (b >> 32) as u32;
    }
    let mut c0 = [_mm256_setzero_si256(); G];
    let mut c1 = [_mm256_setzero_si256(); G];
    let mut c2 = [_mm256_set1_epi32(w2 as i32); G];
    let mut c3 = [_mm256_set1_epi32(w3 as i32); G];
    for g in 0..G {
        c0[g] = _mm256_loadu_si256(lo.as_ptr().add(g * LANES) as *const __m256i);
        c1[g] = _mm256_loadu_si256(hi.as_ptr().add(g * LANES) as *const __m256i);
    }
    let m0 = _mm256_set1_epi32(PHILOX_M0 as i32);
    let m1 = _mm256_set1_epi32(PHILOX_M1 as i32);
    let [mut k0, mut k1] = key;
    for round in 0..10 {
        if round > 0 {
            k0 = k0.wrapping_add(PHILOX_W0);
            k1 = k1.wrapping_add(PHILOX_W1);
        }
        let kk0 = _mm256_set1_epi32(k0 as i32);
        let kk1 = _mm256_set1_epi32(k1 as i32);
        for g in 0..G {
            let p0e = _mm256_mul_epu32(c0[g], m0);
            let p0o = _mm256_mul_epu32(_mm256_srli_epi64::<32>(c0[g]), m0);
            let p1e = _mm256_mul_epu32(c2[g], m1);
            let p1o = _mm256_mul_epu32(_mm256_srli_epi64::<32>(c2[g]), m1);
            let lo0 = _mm256_blend_epi32::<0b1010_1010>(p0e, _mm256_slli_epi64::<32>(p0o));
            let hi0 = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(p0e), p0o);
            let lo1 = _mm256_blend_epi32::<0b1010_1010>(p1e, _mm256_slli_epi64::<32>(p1o));
            let hi1 = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(p1e), p1o);
            c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[g]), kk0);
            c2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[g]), kk1);
            c1[g] = lo1;
            c3[g] = lo0;
        }
    }
    let mut w = [[0u32; G * LANES]; 4];
    for g in 0..G {
        _mm256_storeu_si256(w[0].as_mut_ptr().add(g * LANES) as *mut __m256i, c0[g]);
        _mm256_storeu_si256(w[1].as_mut_ptr().add(g * LANES) as *mut __m256i, c1[g]);
        _mm256_storeu_si256(w[2].as_mut_ptr().add(g * LANES) as *mut __m256i, c2[g]);
        _mm256_storeu_si256(w[3].as_mut_ptr().add(g * LANES) as *mut __m256i, c3[g]);
    }
    for (l, o) in out.iter_mut().enumerate() {
        *o = [w[0][l], w[1][l], w[2][l], w[3][l]];
    }
}

#[cfg(target_arch = "x86_64")]
const AVX2_GROUPS: usize = 4;

/// Whether the CPU has AVX2 (checked once); kernels with an AVX2 copy dispatch on it.
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static AVX2: OnceLock<bool> = OnceLock::new();
        *AVX2.get_or_init(|| std::is_x86_feature_detected!("avx2"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Fills `out` with the blocks `b0, b0+1, ...` of one draw/sub-stream. Integer-only, so
/// the AVX2 and portable paths give identical bits.
fn philox_fill_blocks(key: [u32; 2], b0: u64, w2: u32, w3: u32, out: &mut [[u32; 4]]) {
    let mut b = b0;
    let mut rest = out;
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        let mut chunks = rest.chunks_exact_mut(AVX2_GROUPS * LANES);
        for chunk in &mut chunks {
            // SAFETY: the CPU supports AVX2 (checked at run time above).
            unsafe { philox_groups_avx2(key, b, w2, w3, chunk) };
            b += (AVX2_GROUPS * LANES) as u64;
        }
        rest = chunks.into_remainder();
    }
    let mut chunks = rest.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        let arr: &mut [[u32; 4]; LANES] = chunk.try_into().expect("chunk of LANES");
        philox_lanes_body(key, b, w2, w3, arr);
        b += LANES as u64;
    }
    for blk in chunks.into_remainder() {
        *blk = philox4x32_10([b as u32, (b >> 32) as u32, w2, w3], key);
        b += 1;
    }
}

/// Words 2 and 3 of the counter for draw `d` and sub-stream `sub`.
#[inline(always)]
fn draw_words(d: u64, sub: u16) -> (u32, u32) {
    (d as u32, ((d >> 32) as u32 & 0xffff) | ((sub as u32) << 16))
}

/// A uniform in the open interval (0, 1) from the top 52 bits of `x`: midpoints of a
/// 2^-52 grid, so never exactly 0 or 1 and `ln` of it is always finite.
#[inline(always)]
pub fn u64_to_open01_f64(x: u64) -> f64 {
    ((x >> 12) as f64 + 0.5) * (1.0 / 4_503_599_627_370_496.0)
}

/// A uniform in the open interval (0, 1) from the top 23 bits of `x` (f32 grid).
#[inline(always)]
pub fn u32_to_open01_f32(x: u32) -> f32 {
    ((x >> 9) as f32 + 0.5) * (1.0 / 8_388_608.0)
}

/// A seeded counter-based random number generator (Philox4x32-10).
///
/// Each bulk call (`uniform`, `standard_normal`, a distribution's `sample`) consumes one
/// *draw index*; element `i` of that draw depends only on (seed, draw index, i).
///
/// ```
/// use candle_distributions::Generator;
/// use candle_core::{DType, Device};
/// let mut a = Generator::new(42);
/// let mut b = Generator::new(42);
/// let x = a.standard_normal(&[3], DType::F64, &Device::Cpu)?;
/// let y = b.standard_normal(&[3], DType::F64, &Device::Cpu)?;
/// assert_eq!(x.to_vec1::<f64>()?, y.to_vec1::<f64>()?);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    key: [u32; 2],
    draw: u64,
    // Buffered words for the `RngCore` stream interface.
    buf: [u32; 4],
    buf_pos: usize,
}

/// Draw indices are 48-bit (the rest of the counter word numbers sub-streams).
const MAX_DRAW: u64 = 1 << 48;

impl Generator {
    /// A generator seeded with `seed` (the Philox key), starting at draw 0.
    pub fn new(seed: u64) -> Self {
        Generator {
            key: [seed as u32, (seed >> 32) as u32],
            draw: 0,
            buf: [0; 4],
            buf_pos: 4,
        }
    }

    /// The Philox key (the seed, or a key derived by `split`/`fold_in`).
    pub fn key(&self) -> u64 {
        self.key[0] as u64 | ((self.key[1] as u64) << 32)
    }

    /// The index of the next draw.
    pub fn draw_index(&self) -> u64 {
        self.draw
    }

    /// Moves to draw index `draw` (for replaying or skipping ahead).
    pub fn set_draw_index(&mut self, draw: u64) {
        self.draw = draw % MAX_DRAW;
        self.buf_pos = 4;
    }

    /// Takes a fresh draw index; every bulk fill calls this once.
    pub fn next_draw(&mut self) -> Draw {
        let d = self.draw;
        self.draw = (self.draw + 1) % MAX_DRAW;
        Draw {
            key: self.key,
            draw: d,
        }
    }

    fn derive_key(&self, a: u64, tag: u32) -> [u32; 2] {
        let out = philox4x32_10([a as u32, (a >> 32) as u32, 0xffff_ffff, tag], self.key);
        [out[0], out[1]]
    }

    /// A new, statistically independent generator; advances `self` by one draw so that
    /// repeated splits give different children.
    pub fn split(&mut self) -> Generator {
        let d = self.next_draw().draw;
        Generator {
            key: self.derive_key(d, 0x5ea1_0001),
            ..Generator::new(0)
        }
    }

    /// An independent generator derived from this one's key and `n`, without changing
    /// `self` (like JAX's `fold_in`): same `(self, n)`, same child.
    pub fn fold_in(&self, n: u64) -> Generator {
        Generator {
            key: self.derive_key(n, 0x5ea1_0002),
            ..Generator::new(0)
        }
    }

    /// Fills `out` with independent uniforms in (0, 1), using both cores for large
    /// outputs; bit-identical for any thread count.
    pub fn fill_uniform_f64(&mut self, out: &mut [f64]) {
        self.next_draw().fill_uniform_f64(out)
    }

    /// f32 version of [`Generator::fill_uniform_f64`].
    pub fn fill_uniform_f32(&mut self, out: &mut [f32]) {
        self.next_draw().fill_uniform_f32(out)
    }

    /// Fills `out` with independent standard normals (ziggurat).
    pub fn fill_normal_f64(&mut self, out: &mut [f64]) {
        self.next_draw().fill_normal_f64(out)
    }

    /// f32 version of [`Generator::fill_normal_f64`].
    pub fn fill_normal_f32(&mut self, out: &mut [f32]) {
        self.next_draw().fill_normal_f32(out)
    }

    /// A tensor of uniforms in the open interval (0, 1).
    pub fn uniform(&mut self, shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        let d = self.next_draw();
        d.tensor(
            shape,
            dtype,
            device,
            "uniform",
            Draw::fill_uniform_f64,
            Draw::fill_uniform_f32,
        )
    }

    /// A tensor of standard normals.
    pub fn standard_normal(
        &mut self,
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        let d = self.next_draw();
        d.tensor(
            shape,
            dtype,
            device,
            "standard_normal",
            Draw::fill_normal_f64,
            Draw::fill_normal_f32,
        )
    }
}

impl Generator {
    /// Integers drawn uniformly from `low..high` (high exclusive), as an `i64` tensor of
    /// `shape` (torch's `randint`), for minibatch indices and replay buffers.
    ///
    /// Element `i` is a pure function of (seed, draw index, i), as in every bulk draw:
    /// it takes the 64-bit word pair `i % 2` of block `i / 2` and maps it to the range by
    /// Lemire's multiply-shift with rejection ("Fast random integer generation in an
    /// interval", ACM TOMACS 2019), so every integer is exactly equally likely; a
    /// rejected element (probability below (high − low)/2⁶⁴) redraws from its own
    /// element stream, leaving its neighbours untouched.
    ///
    /// ```
    /// use candle_distributions::Generator;
    /// use candle_core::Device;
    /// let mut g = Generator::new(7);
    /// let idx = g.randint(-3, 5, &[1000], &Device::Cpu)?.to_vec1::<i64>()?;
    /// assert!(idx.iter().all(|&k| (-3..5).contains(&k)));
    /// # Ok::<(), candle_distributions::Error>(())
    /// ```
    pub fn randint(
        &mut self,
        low: i64,
        high: i64,
        shape: &[usize],
        device: &Device,
    ) -> Result<Tensor> {
        if low >= high {
            return Err(Error::InvalidArgument(format!(
                "Generator::randint: need low < high, found low = {low}, high = {high}"
            )));
        }
        let context = "Generator::randint";
        let n = crate::distribution::checked_numel(context, shape)?;
        let range = high.wrapping_sub(low) as u64;
        let mut v = crate::special::kernel::alloc_buffer::<i64>(context, n)?;
        let d = self.next_draw();
        Draw::for_chunks(&mut v, CHUNK, |start, part| {
            let blocks = d.blocks(start / 2, part.len().div_ceil(2));
            for (j, o) in part.iter_mut().enumerate() {
                let blk = &blocks[j / 2];
                let h = (j % 2) * 2;
                let word = blk[h] as u64 | ((blk[h + 1] as u64) << 32);
                let k = bounded(word, range, || d.element_stream((start + j) as u64));
                *o = low.wrapping_add(k as i64);
            }
        });
        Ok(Tensor::from_vec(v, shape, &Device::Cpu)?.to_device(device)?)
    }

    /// 0/1 draws with `P(1) = probs`, elementwise, in the dtype and shape of `probs`
    /// (torch's `torch.bernoulli`). Each element compares a 53-bit uniform with its
    /// probability (computed in f64 also for f32 probabilities), so probabilities down
    /// to 1e-16 keep their rate. `probs` must lie in [0, 1]: anything else, NaN
    /// included, is an error naming the first offending element.
    ///
    /// ```
    /// use candle_distributions::Generator;
    /// use candle_core::{Device, Tensor};
    /// let mut g = Generator::new(1);
    /// let p = Tensor::new(&[0.0f32, 1.0, 0.5], &Device::Cpu)?;
    /// let x = g.bernoulli(&p)?.to_vec1::<f32>()?;
    /// assert_eq!((x[0], x[1]), (0.0, 1.0));
    /// # Ok::<(), candle_distributions::Error>(())
    /// ```
    pub fn bernoulli(&mut self, probs: &Tensor) -> Result<Tensor> {
        let context = "Generator::bernoulli";
        let dtype = probs.dtype();
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(Error::DType {
                context: context.into(),
                dtype,
            });
        }
        let p = crate::constraints::host_f64(probs)?;
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if let Some((i, &x)) = p
            .iter()
            .enumerate()
            .find(|(_, &x)| !(0.0..=1.0).contains(&x))
        {
            return Err(Error::InvalidArgument(format!(
                "Generator::bernoulli: `probs` must lie in [0, 1], found {x} at index {i}"
            )));
        }
        let mut v = crate::special::kernel::alloc_buffer::<f64>(context, p.len())?;
        self.next_draw().fill_uniform_f64(&mut v);
        for (u, &q) in v.iter_mut().zip(&p) {
            *u = if *u < q { 1.0 } else { 0.0 };
        }
        let t = Tensor::from_vec(v, probs.dims(), &Device::Cpu)?.to_dtype(dtype)?;
        Ok(t.to_device(probs.device())?)
    }

    /// A uniformly random permutation of `0..n` as an `i64` tensor (torch's
    /// `randperm`): Fisher–Yates shuffling driven by one element stream of a fresh
    /// draw, with unbiased bounded integers (Lemire), so every permutation is equally
    /// likely and the result depends only on the seed and the draw index.
    ///
    /// ```
    /// use candle_distributions::Generator;
    /// use candle_core::Device;
    /// let mut g = Generator::new(3);
    /// let mut p = g.permutation(10, &Device::Cpu)?.to_vec1::<i64>()?;
    /// p.sort();
    /// assert_eq!(p, (0..10).collect::<Vec<i64>>());
    /// # Ok::<(), candle_distributions::Error>(())
    /// ```
    pub fn permutation(&mut self, n: usize, device: &Device) -> Result<Tensor> {
        let context = "Generator::permutation";
        if n as u64 > i64::MAX as u64 {
            return Err(Error::shape(context, format!("n = {n} exceeds i64::MAX")));
        }
        let mut v = crate::special::kernel::alloc_buffer::<i64>(context, n)?;
        for (i, o) in v.iter_mut().enumerate() {
            *o = i as i64;
        }
        let d = self.next_draw();
        let mut stream = d.element_stream(0);
        for i in (1..n).rev() {
            let word = stream.next_u64();
            let j = bounded_with(word, i as u64 + 1, &mut stream);
            v.swap(i, j as usize);
        }
        Ok(Tensor::from_vec(v, &[n], &Device::Cpu)?.to_device(device)?)
    }
}

/// Maps the 64-bit word `word` to `0..range` (range ≥ 1) with exactly equal
/// probabilities: Lemire's multiply-shift, rejecting the low products that would bias
/// it (each try is rejected with probability below 1/2, so the capped loop ends by its
/// bound with probability below 2⁻¹⁰⁰⁰); `stream` is only made on a rejection.
#[inline]
fn bounded(word: u64, range: u64, stream: impl FnOnce() -> ElementStream) -> u64 {
    let m = (word as u128) * (range as u128);
    if (m as u64) >= range {
        return (m >> 64) as u64;
    }
    bounded_with(word, range, &mut stream())
}

/// [`bounded`] with further words from `stream`.
fn bounded_with(word: u64, range: u64, stream: &mut ElementStream) -> u64 {
    let mut m = (word as u128) * (range as u128);
    if (m as u64) < range {
        let threshold = range.wrapping_neg() % range;
        let mut tries = 0;
        while (m as u64) < threshold && tries < 1000 {
            m = (stream.next_u64() as u128) * (range as u128);
            tries += 1;
        }
    }
    (m >> 64) as u64
}

impl Default for Generator {
    fn default() -> Self {
        Generator::new(0)
    }
}

impl rand_core::RngCore for Generator {
    fn next_u32(&mut self) -> u32 {
        if self.buf_pos >= 4 {
            let d = self.next_draw();
            self.buf = d.block(0, 0);
            self.buf_pos = 0;
        }
        let w = self.buf[self.buf_pos];
        self.buf_pos += 1;
        w
    }

    fn next_u64(&mut self) -> u64 {
        let lo = self.next_u32() as u64;
        let hi = self.next_u32() as u64;
        lo | (hi << 32)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(4) {
            let w = self.next_u32().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// Elements per parallel task. Any value gives the same bits; this one keeps each task
/// in L1/L2 and amortises rayon's scheduling.
pub(crate) const CHUNK: usize = 1 << 14;

/// Outputs at or below this size are filled on the calling thread: spawning costs more.
const SERIAL_BELOW: usize = 1 << 15;

/// One draw of a generator: the (key, draw index) pair that all elements of one bulk
/// fill share. `Copy`, so parallel workers each hold one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    key: [u32; 2],
    draw: u64,
}

impl Draw {
    /// Block `b` of sub-stream `sub` of this draw.
    #[inline(always)]
    pub fn block(&self, b: u64, sub: u16) -> [u32; 4] {
        let (w2, w3) = draw_words(self.draw, sub);
        philox4x32_10([b as u32, (b >> 32) as u32, w2, w3], self.key)
    }

    /// The private stream of element `i` for rejection samplers: it starts at sub-stream
    /// 1 (sub-stream 0 is the bulk fill) and walks further sub-streams as it needs more.
    pub fn element_stream(&self, i: u64) -> ElementStream {
        ElementStream {
            draw: *self,
            elem: i,
            sub: 1,
            buf: [0; 4],
            pos: 4,
        }
    }

    /// The first blocks of the element streams of elements `first..first + n`, computed
    /// together on the vectorized Philox path (element `i`'s stream starts with block
    /// `(i, sub-stream 1)`); pass each to [`Draw::element_stream_from`].
    pub(crate) fn first_blocks(&self, first: usize, n: usize) -> Vec<[u32; 4]> {
        let mut blocks = vec![[0u32; 4]; n];
        let (w2, w3) = draw_words(self.draw, 1);
        philox_fill_blocks(self.key, first as u64, w2, w3, &mut blocks);
        blocks
    }

    /// Element `i`'s stream given its first block (from [`Draw::first_blocks`]): the
    /// same words as [`Draw::element_stream`], with the first block already computed.
    #[inline]
    pub(crate) fn element_stream_from(&self, i: u64, first: [u32; 4]) -> ElementStream {
        ElementStream {
            draw: *self,
            elem: i,
            sub: 2,
            buf: first,
            pos: 0,
        }
    }

    /// Runs `f(start_index, chunk)` over `out` in chunks, in parallel when large.
    /// Chunk starts are multiples of `CHUNK` (a multiple of 8), so callers may map
    /// element pairs/quads to blocks.
    pub(crate) fn for_chunks<T: Send>(
        out: &mut [T],
        chunk: usize,
        f: impl Fn(usize, &mut [T]) + Sync,
    ) {
        if out.len() <= SERIAL_BELOW {
            for (c, part) in out.chunks_mut(chunk).enumerate() {
                f(c * chunk, part);
            }
        } else {
            out.par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(c, part)| f(c * chunk, part));
        }
    }

    /// Blocks `first..first + n` of sub-stream 0: the bits every bulk fill maps to its
    /// elements.
    fn blocks(self, first: usize, n: usize) -> Vec<[u32; 4]> {
        let mut blocks = vec![[0u32; 4]; n];
        let (w2, w3) = draw_words(self.draw, 0);
        philox_fill_blocks(self.key, first as u64, w2, w3, &mut blocks);
        blocks
    }

    /// Uniforms in (0, 1): element `i` takes word pair `i % 2` of block `i / 2`.
    pub fn fill_uniform_f64(self, out: &mut [f64]) {
        self.fill_uniform_f64_chunked(out, CHUNK)
    }

    pub(crate) fn fill_uniform_f64_chunked(self, out: &mut [f64], chunk: usize) {
        let chunk = chunk.max(2) & !1;
        Self::for_chunks(out, chunk, |start, part| {
            let blocks = self.blocks(start / 2, part.len().div_ceil(2));
            for (j, o) in part.iter_mut().enumerate() {
                let blk = &blocks[j / 2];
                let h = (j % 2) * 2;
                *o = u64_to_open01_f64(blk[h] as u64 | ((blk[h + 1] as u64) << 32));
            }
        });
    }

    /// Uniforms in (0, 1): element `i` takes word `i % 4` of block `i / 4`.
    pub fn fill_uniform_f32(self, out: &mut [f32]) {
        self.fill_uniform_f32_chunked(out, CHUNK)
    }

    pub(crate) fn fill_uniform_f32_chunked(self, out: &mut [f32], chunk: usize) {
        let chunk = chunk.max(4) & !3;
        Self::for_chunks(out, chunk, |start, part| {
            let blocks = self.blocks(start / 4, part.len().div_ceil(4));
            for (j, o) in part.iter_mut().enumerate() {
                *o = u32_to_open01_f32(blocks[j / 4][j % 4]);
            }
        });
    }

    /// Standard normals: element `i`'s first ziggurat attempt uses word pair `i % 2` of
    /// block `i / 2`; the rare further attempts use its own element stream.
    pub fn fill_normal_f64(self, out: &mut [f64]) {
        self.fill_normal_f64_chunked(out, CHUNK)
    }

    /// f32 standard normals: element `i`'s first attempt uses word `i % 4` of block
    /// `i / 4` (32 bits), so a Philox block serves four draws.
    pub fn fill_normal_f32(self, out: &mut [f32]) {
        self.fill_normal_f32_chunked(out, CHUNK)
    }

    pub(crate) fn fill_normal_f64_chunked(self, out: &mut [f64], chunk: usize) {
        let chunk = chunk.max(2) & !1;
        let zig = ziggurat::tables();
        Self::for_chunks(out, chunk, |start, part| {
            let blocks = self.blocks(start / 2, part.len().div_ceil(2));
            for (j, o) in part.iter_mut().enumerate() {
                let blk = &blocks[j / 2];
                let h = (j % 2) * 2;
                let a = ziggurat::attempt64(blk[h] as u64 | ((blk[h + 1] as u64) << 32));
                *o = match zig.fast(a) {
                    Some(x) => x,
                    None => zig.slow(a, &mut self.element_stream((start + j) as u64)),
                };
            }
        });
    }

    pub(crate) fn fill_normal_f32_chunked(self, out: &mut [f32], chunk: usize) {
        let chunk = chunk.max(4) & !3;
        let zig = ziggurat::tables();
        Self::for_chunks(out, chunk, |start, part| {
            let blocks = self.blocks(start / 4, part.len().div_ceil(4));
            for (j, o) in part.iter_mut().enumerate() {
                let a = ziggurat::attempt32(blocks[j / 4][j % 4]);
                let x = match zig.fast(a) {
                    Some(x) => x,
                    None => zig.slow(a, &mut self.element_stream((start + j) as u64)),
                };
                *o = x as f32;
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn tensor(
        self,
        shape: &[usize],
        dtype: DType,
        device: &Device,
        what: &str,
        f64_fill: fn(Draw, &mut [f64]),
        f32_fill: fn(Draw, &mut [f32]),
    ) -> Result<Tensor> {
        let context = format!("Generator::{what}");
        let n = crate::distribution::checked_numel(&context, shape)?;
        let t = match dtype {
            DType::F64 => {
                let mut v = crate::special::kernel::alloc_buffer::<f64>(&context, n)?;
                f64_fill(self, &mut v);
                Tensor::from_vec(v, shape, &Device::Cpu)?
            }
            DType::F32 => {
                let mut v = crate::special::kernel::alloc_buffer::<f32>(&context, n)?;
                f32_fill(self, &mut v);
                Tensor::from_vec(v, shape, &Device::Cpu)?
            }
            other => {
                return Err(Error::DType {
                    context,
                    dtype: other,
                })
            }
        };
        Ok(t.to_device(device)?)
    }
}

/// The private random stream of one element of a draw, used by rejection samplers so
/// that each element's result does not depend on how many tries its neighbours needed.
#[derive(Debug, Clone)]
pub struct ElementStream {
    draw: Draw,
    elem: u64,
    sub: u16,
    buf: [u32; 4],
    pos: usize,
}

impl ElementStream {
    /// The next 32 random bits of this element's stream.
    #[inline(always)]
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= 4 {
            self.buf = self.draw.block(self.elem, self.sub);
            // Sub-stream 0 belongs to the bulk fill; wrap past it.
            self.sub = if self.sub == u16::MAX {
                1
            } else {
                self.sub + 1
            };
            self.pos = 0;
        }
        let w = self.buf[self.pos];
        self.pos += 1;
        w
    }

    /// The next 64 random bits.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let lo = self.next_u32() as u64;
        lo | ((self.next_u32() as u64) << 32)
    }

    /// A uniform in (0, 1).
    #[inline(always)]
    pub fn uniform_f64(&mut self) -> f64 {
        u64_to_open01_f64(self.next_u64())
    }

    /// A standard normal.
    pub fn normal_f64(&mut self) -> f64 {
        let zig = ziggurat::tables();
        let a = ziggurat::attempt64(self.next_u64());
        match zig.fast(a) {
            Some(x) => x,
            None => zig.slow(a, self),
        }
    }
}

/// The ziggurat method for standard normals with 128 layers, in the form of Doornik,
/// "An Improved Ziggurat Method to Generate Normal Random Samples" (2005): an
/// independent uniform decides the wedge test, and Marsaglia's method covers the tail.
/// Constants R and V are those of Marsaglia & Tsang (J. Stat. Software 5(8), 2000).
mod ziggurat {
    use super::{u64_to_open01_f64, ElementStream};
    use std::sync::OnceLock;

    const C: usize = 128;
    const R: f64 = 3.442_619_855_899;
    const V: f64 = 9.912_563_035_262_17e-3;

    pub(super) struct Tables {
        x: [f64; C + 1],
        ratio: [f64; C],
    }

    pub(super) fn tables() -> &'static Tables {
        static T: OnceLock<Tables> = OnceLock::new();
        T.get_or_init(|| {
            let mut x = [0f64; C + 1];
            let mut f = (-0.5 * R * R).exp();
            x[0] = V / f;
            x[1] = R;
            x[C] = 0.0;
            for i in 2..C {
                x[i] = (-2.0 * (V / x[i - 1] + f).ln()).sqrt();
                f = (-0.5 * x[i] * x[i]).exp();
            }
            let mut ratio = [0f64; C];
            for i in 0..C {
                ratio[i] = x[i + 1] / x[i];
            }
            Tables { x, ratio }
        })
    }

    /// One ziggurat attempt from 64 bits: the low 7 pick the layer, the top 52 give
    /// a uniform in (−1, 1).
    #[inline(always)]
    pub(super) fn attempt64(bits: u64) -> (usize, f64) {
        ((bits & 0x7f) as usize, 2.0 * u64_to_open01_f64(bits) - 1.0)
    }

    /// One attempt from 32 bits (f32 output): the low 7 pick the layer, the top 25
    /// give a uniform in (−1, 1) on a 2^-24 grid, finer than f32's relative spacing.
    #[inline(always)]
    pub(super) fn attempt32(bits: u32) -> (usize, f64) {
        (
            (bits & 0x7f) as usize,
            ((bits >> 7) as f64 + 0.5) * (1.0 / 16_777_216.0) - 1.0,
        )
    }

    impl Tables {
        /// The accept-at-once path (about 98.8% of attempts).
        #[inline(always)]
        pub(super) fn fast(&self, (i, u): (usize, f64)) -> Option<f64> {
            if u.abs() < self.ratio[i] {
                Some(u * self.x[i])
            } else {
                None
            }
        }

        /// Finishes a draw whose first attempt missed the fast path, taking further
        /// randomness from the element's own stream.
        #[cold]
        pub(super) fn slow(&self, (mut i, mut u): (usize, f64), s: &mut ElementStream) -> f64 {
            loop {
                if u.abs() < self.ratio[i] {
                    return u * self.x[i];
                }
                if i == 0 {
                    // Tail beyond R (Marsaglia 1964).
                    loop {
                        let x = s.uniform_f64().ln() / R;
                        let y = s.uniform_f64().ln();
                        if -2.0 * y >= x * x {
                            return if u < 0.0 { x - R } else { R - x };
                        }
                    }
                }
                let x = u * self.x[i];
                let f0 = (-0.5 * (self.x[i] * self.x[i] - x * x)).exp();
                let f1 = (-0.5 * (self.x[i + 1] * self.x[i + 1] - x * x)).exp();
                if f1 + s.uniform_f64() * (f0 - f1) < 1.0 {
                    return x;
                }
                (i, u) = attempt64(s.next_u64());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorized first blocks continue exactly as the element streams do.
    #[test]
    fn element_streams_from_bulk_first_blocks_match() {
        let draw = Generator::new(5).next_draw();
        let first = draw.first_blocks(1000, 37);
        for (j, b) in first.into_iter().enumerate() {
            let i = 1000 + j as u64;
            let mut a = draw.element_stream(i);
            let mut c = draw.element_stream_from(i, b);
            for _ in 0..12 {
                assert_eq!(a.next_u32(), c.next_u32());
            }
        }
    }

    #[test]
    fn lanes_match_scalar() {
        let key = [0x1234_5678, 0x9abc_def0];
        let mut blocks = vec![[0u32; 4]; 37];
        philox_fill_blocks(key, 5, 7, 9, &mut blocks);
        for (j, blk) in blocks.iter().enumerate() {
            let b = 5 + j as u64;
            assert_eq!(*blk, philox4x32_10([b as u32, (b >> 32) as u32, 7, 9], key));
        }
        // The portable path too (the AVX2 one ran above where the CPU has it).
        let mut arr = [[0u32; 4]; LANES];
        philox_lanes_body(key, 5, 7, 9, &mut arr);
        assert_eq!(&arr[..], &blocks[..LANES]);
    }

    #[test]
    fn uniform_bounds_of_the_grid() {
        assert!(u64_to_open01_f64(0) > 0.0);
        assert!(u64_to_open01_f64(u64::MAX) < 1.0);
        assert!(u32_to_open01_f32(0) > 0.0);
        assert!(u32_to_open01_f32(u32::MAX) < 1.0);
    }

    #[test]
    fn chunking_does_not_change_bits() {
        let d = Generator::new(7).next_draw();
        let n = 10_001;
        let mut a = vec![0f64; n];
        let mut b = vec![0f64; n];
        d.fill_normal_f64_chunked(&mut a, 8);
        d.fill_normal_f64_chunked(&mut b, 4096);
        assert_eq!(a, b);
        d.fill_uniform_f64_chunked(&mut a, 2);
        d.fill_uniform_f64_chunked(&mut b, 1000);
        assert_eq!(a, b);
        let mut c = vec![0f32; n];
        let mut e = vec![0f32; n];
        d.fill_uniform_f32_chunked(&mut c, 4);
        d.fill_uniform_f32_chunked(&mut e, 1 << 20);
        assert_eq!(c, e);
        d.fill_normal_f32_chunked(&mut c, 4);
        d.fill_normal_f32_chunked(&mut e, 4096);
        assert_eq!(c, e);
    }
}
