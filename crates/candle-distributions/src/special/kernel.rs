//! The one home of elementwise kernels: candle `CustomOp`s built from scalar functions.
//!
//! Forward passes run a scalar kernel over the (possibly strided or broadcast) inputs,
//! on both cores for large tensors. Backward passes are written with candle tensor ops
//! (which may themselves be these kernels), so gradients of any order work and stay on
//! the graph. f32 tensors are evaluated through the f64 kernel and rounded: scalar code
//! costs the same in either width and the result is as accurate as f32 can hold.

use crate::distribution::broadcast_to;
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;
use std::borrow::Cow;

/// Tensors at or above this many elements are mapped on all rayon threads.
const PAR_MIN: usize = 1 << 15;
const PAR_CHUNK: usize = 1 << 13;
/// The size from which [`eval3_multi`]'s costlier kernels run on several threads.
const PAR_MIN_HEAVY: usize = 1 << 14;

/// The elements of `data` described by `layout`, in logical (row-major) order.
pub(crate) fn gather<'a, T: Copy>(data: &'a [T], layout: &Layout) -> Cow<'a, [T]> {
    // A zero-size view (candle's `narrow` of an empty tensor) may carry a start offset
    // past the end of its storage: it holds nothing, so nothing is read.
    if layout.shape().elem_count() == 0 {
        return Cow::Borrowed(&[]);
    }
    if let Some((s, e)) = layout.contiguous_offsets() {
        return Cow::Borrowed(&data[s..e]);
    }
    let dims = layout.dims();
    let stride = layout.stride();
    let n: usize = dims.iter().product();
    if n > 0 && stride.iter().all(|&s| s == 0) {
        // A broadcast scalar (the upstream gradient of a sum, a scalar parameter).
        return Cow::Owned(vec![data[layout.start_offset()]; n]);
    }
    Cow::Owned(
        strided_offsets(dims, stride, layout.start_offset())
            .map(|off| data[off])
            .collect(),
    )
}

/// The offsets `start + Σ_d idx_d · strides_d` of every index of `dims`, in logical
/// (row-major) order: an odometer, right-most dimension fastest. A zero stride repeats
/// (broadcasts) along its dimension.
pub(crate) fn strided_offsets<'a>(
    dims: &'a [usize],
    strides: &'a [usize],
    start: usize,
) -> impl Iterator<Item = usize> + 'a {
    let n: usize = dims.iter().product();
    let mut idx = vec![0usize; dims.len()];
    let mut off = start;
    (0..n).map(move |_| {
        let here = off;
        for d in (0..dims.len()).rev() {
            idx[d] += 1;
            off += strides[d];
            if idx[d] < dims[d] {
                break;
            }
            off -= strides[d] * dims[d];
            idx[d] = 0;
        }
        here
    })
}

/// [`gather`] after checking that the materialized copy (of a strided or broadcast
/// input, as large as the logical shape) can be allocated: an impossible size is an
/// error naming `context`, not an abort.
pub(crate) fn try_gather<'a, T: Copy>(
    context: &str,
    data: &'a [T],
    layout: &Layout,
) -> crate::Result<Cow<'a, [T]>> {
    if layout.contiguous_offsets().is_none() {
        let dims = layout.dims();
        let n = crate::distribution::checked_numel(context, dims)?;
        crate::distribution::check_allocatable(context, dims, n, std::mem::size_of::<T>())?;
    }
    Ok(gather(data, layout))
}

/// A buffer of `n` default elements, or [`Error::Shape`](crate::Error::Shape) naming
/// `context` when it cannot be allocated: every buffer the crate allocates for a
/// user-sized result goes through here (`vec![..; n]` would abort the process).
pub(crate) fn alloc_buffer<U: Default + Clone>(context: &str, n: usize) -> crate::Result<Vec<U>> {
    let mut out: Vec<U> = Vec::new();
    out.try_reserve_exact(n).map_err(|_| {
        crate::Error::shape(
            context,
            format!(
                "cannot allocate a buffer of {n} elements of {} bytes",
                std::mem::size_of::<U>()
            ),
        )
    })?;
    out.resize(n, U::default());
    Ok(out)
}

/// A new vector of `n` elements filled chunk by chunk by `fill(start, chunk)`, on all
/// rayon threads when large. Callers zip the chunk with the matching input slices so
/// the inner loops have no bounds checks and vectorize. The buffer comes from
/// [`alloc_buffer`], so an impossible size is an error.
pub(crate) fn try_par_fill<U: Send + Default + Clone>(
    context: &str,
    n: usize,
    fill: impl Fn(usize, &mut [U]) + Sync + Send,
) -> crate::Result<Vec<U>> {
    let mut out = alloc_buffer::<U>(context, n)?;
    fill_chunks(&mut out, fill);
    Ok(out)
}

/// As [`try_par_fill`] for callers that cannot return an error yet (the samplers'
/// per-element loops); new code should call [`try_par_fill`].
pub(crate) fn par_fill<U: Send + Default + Clone>(
    n: usize,
    fill: impl Fn(usize, &mut [U]) + Sync + Send,
) -> Vec<U> {
    let mut out = vec![U::default(); n];
    fill_chunks(&mut out, fill);
    out
}

fn fill_chunks<U: Send>(out: &mut [U], fill: impl Fn(usize, &mut [U]) + Sync + Send) {
    let n = out.len();
    if n >= PAR_MIN {
        out.par_chunks_mut(PAR_CHUNK)
            .enumerate()
            .for_each(|(c, part)| fill(c * PAR_CHUNK, part));
    } else {
        fill(0, out);
    }
}

/// `x = f(x)` for every element, in place, on all rayon threads when large.
pub(crate) fn par_apply<T: Copy + Send + Sync>(out: &mut [T], f: impl Fn(T) -> T + Sync + Send) {
    let run = |part: &mut [T]| part.iter_mut().for_each(|v| *v = f(*v));
    if out.len() >= PAR_MIN {
        out.par_chunks_mut(PAR_CHUNK).for_each(run);
    } else {
        run(out);
    }
}

/// `out[i] = f(a[i])` over a chunk starting at `start`.
#[inline(always)]
fn zip1_body<A: Copy, U>(start: usize, out: &mut [U], a: &[A], f: impl Fn(A) -> U) {
    let a = &a[start..start + out.len()];
    for (o, &x) in out.iter_mut().zip(a) {
        *o = f(x);
    }
}

/// [`zip1_body`] compiled for AVX2 where the CPU has it (the same arithmetic, so the
/// same bits; only wider vectors).
#[inline(always)]
fn zip1<A: Copy, U>(start: usize, out: &mut [U], a: &[A], f: impl Fn(A) -> U) {
    #[cfg(target_arch = "x86_64")]
    if crate::rng::has_avx2() {
        #[target_feature(enable = "avx2")]
        unsafe fn wide<A: Copy, U>(start: usize, out: &mut [U], a: &[A], f: impl Fn(A) -> U) {
            zip1_body(start, out, a, f)
        }
        // SAFETY: AVX2 is present (checked at run time).
        return unsafe { wide(start, out, a, f) };
    }
    zip1_body(start, out, a, f)
}

/// `out[i] = f(a[i], b[i])` over a chunk starting at `start`.
#[inline(always)]
fn zip2_body<A: Copy, B: Copy, U>(
    start: usize,
    out: &mut [U],
    a: &[A],
    b: &[B],
    f: impl Fn(A, B) -> U,
) {
    let n = out.len();
    let (a, b) = (&a[start..start + n], &b[start..start + n]);
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

/// [`zip2_body`] compiled for AVX2 where the CPU has it (the same arithmetic, so the
/// same bits; only wider vectors).
#[inline(always)]
fn zip2<A: Copy, B: Copy, U>(start: usize, out: &mut [U], a: &[A], b: &[B], f: impl Fn(A, B) -> U) {
    #[cfg(target_arch = "x86_64")]
    if crate::rng::has_avx2() {
        #[target_feature(enable = "avx2")]
        unsafe fn wide<A: Copy, B: Copy, U>(
            start: usize,
            out: &mut [U],
            a: &[A],
            b: &[B],
            f: impl Fn(A, B) -> U,
        ) {
            zip2_body(start, out, a, b, f)
        }
        // SAFETY: AVX2 is present (checked at run time).
        return unsafe { wide(start, out, a, b, f) };
    }
    zip2_body(start, out, a, b, f)
}

/// `out[i] = f(a[i], b[i], c[i])` over a chunk starting at `start`.
#[inline(always)]
fn zip3_body<A: Copy, B: Copy, C: Copy, U>(
    start: usize,
    out: &mut [U],
    a: &[A],
    b: &[B],
    c: &[C],
    f: impl Fn(A, B, C) -> U,
) {
    let n = out.len();
    let (a, b, c) = (
        &a[start..start + n],
        &b[start..start + n],
        &c[start..start + n],
    );
    for (((o, &x), &y), &z) in out.iter_mut().zip(a).zip(b).zip(c) {
        *o = f(x, y, z);
    }
}

/// [`zip3_body`] compiled for AVX2 where the CPU has it (the same arithmetic, so the
/// same bits; only wider vectors).
#[inline(always)]
fn zip3<A: Copy, B: Copy, C: Copy, U>(
    start: usize,
    out: &mut [U],
    a: &[A],
    b: &[B],
    c: &[C],
    f: impl Fn(A, B, C) -> U,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::rng::has_avx2() {
        #[target_feature(enable = "avx2")]
        unsafe fn wide<A: Copy, B: Copy, C: Copy, U>(
            start: usize,
            out: &mut [U],
            a: &[A],
            b: &[B],
            c: &[C],
            f: impl Fn(A, B, C) -> U,
        ) {
            zip3_body(start, out, a, b, c, f)
        }
        // SAFETY: AVX2 is present (checked at run time).
        return unsafe { wide(start, out, a, b, c, f) };
    }
    zip3_body(start, out, a, b, c, f)
}

fn dtype_err(name: &str, s: &CpuStorage) -> candle_core::Error {
    candle_core::Error::Msg(format!(
        "{name}: unsupported dtype {:?} (expected f32 or f64)",
        s.dtype()
    ))
}

/// Backward rule of a one-input kernel: (input, output, output gradient) → input gradient.
pub(crate) type Bwd1 = fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor>;
/// Backward rule of a two-input kernel: gradients of both inputs (None: not differentiable).
pub(crate) type Bwd2 =
    fn(&Tensor, &Tensor, &Tensor, &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)>;
/// Backward rule of a three-input kernel.
pub(crate) type Bwd3 = fn(
    &Tensor,
    &Tensor,
    &Tensor,
    &Tensor,
    &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)>;

/// A unary elementwise op: `y = f(x)`.
#[derive(Clone, Copy)]
pub(crate) struct Map1<F> {
    pub name: &'static str,
    pub f: F,
    pub bwd: Option<Bwd1>,
}

impl<F: Fn(f64) -> f64 + Copy + Send + Sync> CustomOp1 for Map1<F> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let f = self.f;
        let out = match s {
            CpuStorage::F64(v) => {
                let x = try_gather(self.name, v, l)?;
                CpuStorage::F64(try_par_fill(self.name, x.len(), |s, o| zip1(s, o, &x, f))?)
            }
            CpuStorage::F32(v) => {
                let x = try_gather(self.name, v, l)?;
                CpuStorage::F32(try_par_fill(self.name, x.len(), |s, o| {
                    zip1(s, o, &x, |v: f32| f(v as f64) as f32)
                })?)
            }
            other => return Err(dtype_err(self.name, other)),
        };
        Ok((out, l.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, res: &Tensor, g: &Tensor) -> candle_core::Result<Option<Tensor>> {
        match self.bwd {
            Some(b) => b(arg, res, g).map(Some),
            None => Err(candle_core::Error::BackwardNotSupported { op: self.name }),
        }
    }
}

/// A binary elementwise op on inputs of one shape: `y = f(a, b)`.
#[derive(Clone, Copy)]
pub(crate) struct Map2<F, G> {
    pub name: &'static str,
    pub f: F,
    /// The kernel used for f32 tensors: same inputs in f64, allowed to be less exact
    /// (about 1e-9 relative, far below f32's rounding) where that makes it faster.
    pub f32: G,
    pub bwd: Option<Bwd2>,
}

impl<F: Fn(f64, f64) -> f64 + Copy + Send + Sync, G: Fn(f64, f64) -> f64 + Copy + Send + Sync>
    CustomOp2 for Map2<F, G>
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (f, g) = (self.f, self.f32);
        let out = match (s1, s2) {
            (CpuStorage::F64(a), CpuStorage::F64(b)) => {
                let (a, b) = (try_gather(self.name, a, l1)?, try_gather(self.name, b, l2)?);
                CpuStorage::F64(try_par_fill(self.name, a.len(), |s, o| {
                    zip2(s, o, &a, &b, f)
                })?)
            }
            (CpuStorage::F32(a), CpuStorage::F32(b)) => {
                let (a, b) = (try_gather(self.name, a, l1)?, try_gather(self.name, b, l2)?);
                CpuStorage::F32(try_par_fill(self.name, a.len(), |s, o| {
                    zip2(s, o, &a, &b, |x: f32, y: f32| g(x as f64, y as f64) as f32)
                })?)
            }
            (other, _) => return Err(dtype_err(self.name, other)),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        match self.bwd {
            Some(f) => f(a, b, res, g),
            None => Err(candle_core::Error::BackwardNotSupported { op: self.name }),
        }
    }
}

/// A ternary elementwise op on inputs of one shape: `y = f(a, b, c)`.
#[derive(Clone, Copy)]
pub(crate) struct Map3<F, G> {
    pub name: &'static str,
    pub f: F,
    /// The kernel used for f32 tensors: same inputs in f64, allowed to be less exact
    /// (about 1e-9 relative, far below f32's rounding) where that makes it faster.
    pub f32: G,
    pub bwd: Option<Bwd3>,
}

impl<
        F: Fn(f64, f64, f64) -> f64 + Copy + Send + Sync,
        G: Fn(f64, f64, f64) -> f64 + Copy + Send + Sync,
    > CustomOp3 for Map3<F, G>
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (f, g) = (self.f, self.f32);
        let out = match gather3(self.name, [s1, s2, s3], [l1, l2, l3])? {
            Inputs3::F64(a, b, c) => CpuStorage::F64(try_par_fill(self.name, a.len(), |s, o| {
                zip3(s, o, &a, &b, &c, f)
            })?),
            Inputs3::F32(a, b, c) => CpuStorage::F32(try_par_fill(self.name, a.len(), |s, o| {
                zip3(s, o, &a, &b, &c, |x: f32, y: f32, z: f32| {
                    g(x as f64, y as f64, z as f64) as f32
                })
            })?),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        c: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        match self.bwd {
            Some(f) => f(a, b, c, res, g),
            None => Err(candle_core::Error::BackwardNotSupported { op: self.name }),
        }
    }
}

/// The inputs of a ternary kernel in logical order, all f64 or all f32.
enum Inputs3<'a> {
    F64(Cow<'a, [f64]>, Cow<'a, [f64]>, Cow<'a, [f64]>),
    F32(Cow<'a, [f32]>, Cow<'a, [f32]>, Cow<'a, [f32]>),
}

/// Reads three storages through their layouts ([`try_gather`]); a dtype other than
/// f32/f64, or a mix, is an error naming the kernel.
fn gather3<'a>(
    name: &str,
    s: [&'a CpuStorage; 3],
    l: [&Layout; 3],
) -> candle_core::Result<Inputs3<'a>> {
    Ok(match (s[0], s[1], s[2]) {
        (CpuStorage::F64(a), CpuStorage::F64(b), CpuStorage::F64(c)) => Inputs3::F64(
            try_gather(name, a, l[0])?,
            try_gather(name, b, l[1])?,
            try_gather(name, c, l[2])?,
        ),
        (CpuStorage::F32(a), CpuStorage::F32(b), CpuStorage::F32(c)) => Inputs3::F32(
            try_gather(name, a, l[0])?,
            try_gather(name, b, l[1])?,
            try_gather(name, c, l[2])?,
        ),
        (other, _, _) => return Err(dtype_err(name, other)),
    })
}

/// Runs a CPU kernel on a tensor of any device: non-CPU tensors make a round trip
/// through host memory (the copies are on the graph, so gradients still flow).
pub(crate) fn on_cpu(
    inputs: &[&Tensor],
    run: impl FnOnce(&[Tensor]) -> candle_core::Result<Tensor>,
) -> crate::Result<Tensor> {
    let device = inputs[0].device().clone();
    if device.is_cpu() {
        let v: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
        return Ok(run(&v)?);
    }
    let v = inputs
        .iter()
        .map(|t| t.to_device(&candle_core::Device::Cpu))
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(run(&v)?.to_device(&device)?)
}

pub(crate) fn apply1<F: Fn(f64) -> f64 + Copy + Send + Sync + 'static>(
    x: &Tensor,
    op: Map1<F>,
) -> crate::Result<Tensor> {
    on_cpu(&[x], |v| v[0].apply_op1(op))
}

/// Applies a binary kernel after broadcasting both inputs to their common shape.
pub(crate) fn apply2<
    F: Fn(f64, f64) -> f64 + Copy + Send + Sync + 'static,
    G: Fn(f64, f64) -> f64 + Copy + Send + Sync + 'static,
>(
    a: &Tensor,
    b: &Tensor,
    op: Map2<F, G>,
) -> crate::Result<Tensor> {
    let shape = a.shape().broadcast_shape_binary_op(b.shape(), op.name)?;
    let (a, b) = (
        broadcast_to(a, shape.dims())?,
        broadcast_to(b, shape.dims())?,
    );
    on_cpu(&[&a, &b], |v| v[0].apply_op2(&v[1], op))
}

/// Applies a ternary kernel after broadcasting the inputs to their common shape.
pub(crate) fn apply3<
    F: Fn(f64, f64, f64) -> f64 + Copy + Send + Sync + 'static,
    G: Fn(f64, f64, f64) -> f64 + Copy + Send + Sync + 'static,
>(
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    op: Map3<F, G>,
) -> crate::Result<Tensor> {
    let shape = a
        .shape()
        .broadcast_shape_binary_op(b.shape(), op.name)?
        .broadcast_shape_binary_op(c.shape(), op.name)?;
    let (a, b, c) = (
        broadcast_to(a, shape.dims())?,
        broadcast_to(b, shape.dims())?,
        broadcast_to(c, shape.dims())?,
    );
    on_cpu(&[&a, &b, &c], |v| v[0].apply_op3(&v[1], &v[2], op))
}

/// A ternary kernel with two outputs, `(y1, y2) = f(a, b, c)`, computed in one pass:
/// the op's output has a trailing dimension of 2 that [`apply3_pair`] splits. No
/// backward (used for gradients, whose own derivatives are not provided).
#[derive(Clone, Copy)]
struct Map3Pair<F, G> {
    name: &'static str,
    f: F,
    f32: G,
}

impl<
        F: Fn(f64, f64, f64) -> (f64, f64) + Copy + Send + Sync,
        G: Fn(f64, f64, f64) -> (f64, f64) + Copy + Send + Sync,
    > CustomOp3 for Map3Pair<F, G>
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (f, g) = (self.f, self.f32);
        let out = match gather3(self.name, [s1, s2, s3], [l1, l2, l3])? {
            Inputs3::F64(a, b, c) => {
                let pairs = try_par_fill(self.name, a.len(), |s, o| zip3(s, o, &a, &b, &c, f))?;
                CpuStorage::F64(pairs.into_iter().flat_map(|(x, y)| [x, y]).collect())
            }
            Inputs3::F32(a, b, c) => {
                let pairs = try_par_fill(self.name, a.len(), |s, o| {
                    zip3(s, o, &a, &b, &c, |x: f32, y: f32, z: f32| {
                        let (p, q) = g(x as f64, y as f64, z as f64);
                        (p as f32, q as f32)
                    })
                })?;
                CpuStorage::F32(pairs.into_iter().flat_map(|(x, y)| [x, y]).collect())
            }
        };
        let mut dims = l1.dims().to_vec();
        dims.push(2);
        Ok((out, Shape::from(dims)))
    }
}

/// Applies a two-output ternary kernel after broadcasting; returns both outputs.
pub(crate) fn apply3_pair<
    F: Fn(f64, f64, f64) -> (f64, f64) + Copy + Send + Sync + 'static,
    G: Fn(f64, f64, f64) -> (f64, f64) + Copy + Send + Sync + 'static,
>(
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    name: &'static str,
    f: F,
    f32: G,
) -> crate::Result<(Tensor, Tensor)> {
    let shape = a
        .shape()
        .broadcast_shape_binary_op(b.shape(), name)?
        .broadcast_shape_binary_op(c.shape(), name)?;
    let (a, b, c) = (
        broadcast_to(a, shape.dims())?,
        broadcast_to(b, shape.dims())?,
        broadcast_to(c, shape.dims())?,
    );
    let op = Map3Pair { name, f, f32 };
    let both = on_cpu(&[&a, &b, &c], |v| v[0].apply_op3_no_bwd(&v[1], &v[2], &op))?;
    let last = both.rank() - 1;
    Ok((
        both.narrow(last, 0, 1)?.squeeze(last)?,
        both.narrow(last, 1, 1)?.squeeze(last)?,
    ))
}

/// A [`Map2`] or [`Map3`] over inputs of broadcast-compatible shapes that broadcasts
/// them inside the kernel rather than before it. Its backward rule then sees every
/// input at the input's own shape and returns that input's gradient at that shape: the
/// rule owns the reduction over the broadcast dimensions. candle's own broadcast
/// backward sums per-element gradients in the tensor's dtype, so with a subnormal scale
/// the terms (x − loc)/scale² overflow to +∞ and −∞ and their sum is NaN where the true
/// sum, (Σ (x − loc))/scale², is finite or a single-signed infinity.
#[derive(Clone, Copy)]
struct Reducing<M>(M);

/// The common shape of `layouts` and each layout broadcast to it.
fn broadcast_layouts<const N: usize>(
    name: &'static str,
    layouts: [&Layout; N],
) -> candle_core::Result<(Shape, [Layout; N])> {
    let mut shape = layouts[0].shape().clone();
    for l in &layouts[1..] {
        shape = shape.broadcast_shape_binary_op(l.shape(), name)?;
    }
    let mut out = layouts.map(|l| l.clone());
    for l in out.iter_mut() {
        *l = l.broadcast_as(shape.clone())?;
    }
    Ok((shape, out))
}

impl<F: Fn(f64, f64) -> f64 + Copy + Send + Sync, G: Fn(f64, f64) -> f64 + Copy + Send + Sync>
    CustomOp2 for Reducing<Map2<F, G>>
{
    fn name(&self) -> &'static str {
        self.0.name
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if l1.shape() == l2.shape() {
            return self.0.cpu_fwd(s1, l1, s2, l2);
        }
        let (_, [l1, l2]) = broadcast_layouts(self.0.name, [l1, l2])?;
        self.0.cpu_fwd(s1, &l1, s2, &l2)
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        self.0.bwd(a, b, res, g)
    }
}

impl<
        F: Fn(f64, f64, f64) -> f64 + Copy + Send + Sync,
        G: Fn(f64, f64, f64) -> f64 + Copy + Send + Sync,
    > CustomOp3 for Reducing<Map3<F, G>>
{
    fn name(&self) -> &'static str {
        self.0.name
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if l1.shape() == l2.shape() && l1.shape() == l3.shape() {
            return self.0.cpu_fwd(s1, l1, s2, l2, s3, l3);
        }
        let (_, [l1, l2, l3]) = broadcast_layouts(self.0.name, [l1, l2, l3])?;
        self.0.cpu_fwd(s1, &l1, s2, &l2, s3, &l3)
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        c: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        self.0.bwd(a, b, c, res, g)
    }
}

/// As [`apply2`], but the inputs keep their own shapes on the graph and the backward
/// rule returns gradients at those shapes ([`Reducing`]): rules written for it reduce
/// with [`sum_to`] and [`sum_ratio_to`]. Pass parameters through [`unbroadcast`] first
/// so that the reduction reaches the shape the user gave.
pub(crate) fn apply2_reducing<
    F: Fn(f64, f64) -> f64 + Copy + Send + Sync + 'static,
    G: Fn(f64, f64) -> f64 + Copy + Send + Sync + 'static,
>(
    a: &Tensor,
    b: &Tensor,
    op: Map2<F, G>,
) -> crate::Result<Tensor> {
    a.shape().broadcast_shape_binary_op(b.shape(), op.name)?;
    on_cpu(&[a, b], |v| v[0].apply_op2(&v[1], Reducing(op)))
}

/// The three-input [`apply2_reducing`].
pub(crate) fn apply3_reducing<
    F: Fn(f64, f64, f64) -> f64 + Copy + Send + Sync + 'static,
    G: Fn(f64, f64, f64) -> f64 + Copy + Send + Sync + 'static,
>(
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    op: Map3<F, G>,
) -> crate::Result<Tensor> {
    a.shape()
        .broadcast_shape_binary_op(b.shape(), op.name)?
        .broadcast_shape_binary_op(c.shape(), op.name)?;
    on_cpu(&[a, b, c], |v| v[0].apply_op3(&v[1], &v[2], Reducing(op)))
}

/// `t` with each broadcast dimension (stride 0, size > 1) narrowed to size 1: the same
/// values at the smallest shape they vary over. A parameter broadcast to the batch shape
/// goes through here before a [`Reducing`] kernel, so that the kernel's backward sums
/// over those dimensions itself; candle's backward of the narrow pads with zeros and
/// that of the broadcast adds them, which is exact.
pub(crate) fn unbroadcast(t: &Tensor) -> candle_core::Result<Tensor> {
    let mut out = t.clone();
    for (d, (&n, &s)) in t.dims().iter().zip(t.stride()).enumerate() {
        if s == 0 && n > 1 {
            out = out.narrow(d, 0, 1)?;
        }
    }
    Ok(out)
}

/// The dimensions of `full` that a tensor of shape `target` is broadcast along
/// (right-aligned, as candle and torch broadcast).
fn broadcast_dims(full: &[usize], target: &[usize]) -> Vec<usize> {
    let lead = full.len() - target.len();
    (0..full.len())
        .filter(|&d| d < lead || (target[d - lead] == 1 && full[d] != 1))
        .collect()
}

/// `t` summed down to `target`, a shape that broadcasts to `t`'s (the gradient of a
/// broadcast input, as candle's broadcast backward computes it).
pub(crate) fn sum_to(t: &Tensor, target: &[usize]) -> candle_core::Result<Tensor> {
    if t.dims() == target {
        return Ok(t.clone());
    }
    let dims = broadcast_dims(t.dims(), target);
    let s = if dims.is_empty() {
        t.clone()
    } else {
        t.sum_keepdim(dims)?
    };
    s.reshape(target)
}

/// Σ n/s summed down to `target` (see [`sum_to`]), for `n` of the full shape and `s > 0`
/// of a shape that broadcasts to it, with the correct result where the terms n/s
/// overflow: the sum itself when it is in range, ±∞ when it is not, never ∞ − ∞.
///
/// Along the summed dimensions where `s` is constant (all of them for the gradient of
/// `s` itself) 1/s comes out of the sum: the numerators are summed first, so terms
/// that cancel do so exactly, and then divided. What remains, a sum over different
/// values of `s`, is taken in f64; if that overflows, the terms with s below 2⁻⁵⁰⁰
/// are summed scaled by 2⁻⁶⁰⁰ apart from the others and the two sums joined at the end.
pub(crate) fn sum_ratio_to(
    n: &Tensor,
    s: &Tensor,
    target: &[usize],
) -> candle_core::Result<Tensor> {
    if n.dims() == target && s.dims() == target {
        return n / s;
    }
    let full = n.dims().to_vec();
    if full.contains(&0) {
        return Tensor::zeros(target, n.dtype(), n.device());
    }
    let summed = broadcast_dims(&full, target);
    let s_lead = full.len() - s.rank();
    let s_const = |d: usize| d < s_lead || s.dims()[d - s_lead] == 1;
    if summed.iter().all(|&d| s_const(d)) {
        // `s` without its leading dims that `target` lacks (all of size 1 here), so
        // that it broadcasts against the reduced sum.
        let lead = full.len() - target.len();
        let drop = lead.saturating_sub(s_lead);
        let sp = if drop > 0 {
            s.reshape(&s.dims()[drop..])?
        } else {
            s.clone()
        };
        return sum_to(n, target)?.broadcast_div(&sp);
    }
    let dtype = n.dtype();
    let n = n.to_dtype(candle_core::DType::F64)?;
    let s = s.to_dtype(candle_core::DType::F64)?;
    let common: Vec<usize> = summed.iter().copied().filter(|&d| s_const(d)).collect();
    let n = if common.is_empty() {
        n
    } else {
        n.sum_keepdim(common)?
    };
    let s = s.broadcast_as(n.dims())?;
    let direct = sum_to(&(&n / &s)?, target)?;
    if all_finite(&direct)? {
        return direct.to_dtype(dtype);
    }
    let scale = 2f64.powi(600);
    let tiny = s.lt(2f64.powi(-500))?;
    let s_up = tiny.where_cond(&(&s * scale)?, &s)?;
    let t = (&n / &s_up)?;
    let zero = t.zeros_like()?;
    let hi = sum_to(&tiny.where_cond(&t, &zero)?, target)?;
    let lo = sum_to(&tiny.where_cond(&zero, &t)?, target)?;
    ((hi * scale)? + lo)?.to_dtype(dtype)
}

/// Whether every element of `t` is finite (one reduction; the answer is read on the host).
fn all_finite(t: &Tensor) -> candle_core::Result<bool> {
    // 0·x is 0 for finite x and NaN for ±∞ and NaN.
    let d = t
        .affine(0.0, 0.0)?
        .sum_all()?
        .to_dtype(candle_core::DType::F64)?;
    Ok(d.to_scalar::<f64>()? == 0.0)
}

/// Zero, with gradient `coef` (detached, the shape of `theta`) with respect to
/// `theta`: attaches a gradient computed in closed form to a value computed another
/// way (TruncatedNormal, StudentT draws). Where the incoming gradient is 0 (a branch
/// `where_cond` did not select) the result is 0 even if `coef` is ±∞.
pub(crate) fn grad_carrier(coef: &Tensor, theta: &Tensor) -> crate::Result<Tensor> {
    fn zero(_: f64, _: f64) -> f64 {
        0.0
    }
    fn bwd(
        coef: &Tensor,
        _theta: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let dtheta = g.eq(0.0)?.where_cond(&g.zeros_like()?, &(g * coef)?)?;
        Ok((None, Some(dtheta)))
    }
    apply2(
        &coef.detach(),
        theta,
        Map2 {
            name: "grad_carrier",
            f: zero,
            f32: zero,
            bwd: Some(bwd),
        },
    )
}

/// How [`scaled_carrier`] applies a per-parameter factor to the summed gradient.
pub(crate) enum Scaling<'a> {
    /// Σ g·num.
    None,
    /// Σ g·num/s ([`sum_ratio_to`]).
    Divide(&'a Tensor),
    /// Σ g·num·m ([`sum_product_to`]).
    Multiply(&'a Tensor),
}

/// Zero (the broadcast shape of `num` and `theta`), with gradient Σ g·num (divided or
/// multiplied by a factor, see [`Scaling`]) with respect to `theta`, the sum taken
/// over the dimensions `theta` is broadcast along. The factor comes out of the sum
/// where it is constant along them, so per-element terms that overflow (a scale of
/// 5e-324 divides, one of f64::MAX multiplies) still give the correct finite or ±∞
/// total, never ∞ − ∞. Pass parameters through [`unbroadcast`] so the reduction
/// reaches the shape the user gave.
pub(crate) fn scaled_carrier(
    num: &Tensor,
    scaling: Scaling,
    theta: &Tensor,
) -> crate::Result<Tensor> {
    fn zero2(_: f64, _: f64) -> f64 {
        0.0
    }
    fn zero3(_: f64, _: f64, _: f64) -> f64 {
        0.0
    }
    // g·num, 0 where g is 0 whatever num is.
    fn weighted(g: &Tensor, num: &Tensor) -> candle_core::Result<Tensor> {
        let g = g.broadcast_as(num.dims())?;
        g.eq(0.0)?.where_cond(&g.zeros_like()?, &(&g * num)?)
    }
    type Grads3 = (Option<Tensor>, Option<Tensor>, Option<Tensor>);
    fn bwd2(
        num: &Tensor,
        theta: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((None, Some(sum_to(&weighted(g, num)?, theta.dims())?)))
    }
    // A zero sum stays zero whatever the factor (0/5e-324 is 0, but 0·∞ is not).
    fn zero_stays(full: &Tensor, r: Tensor, target: &[usize]) -> candle_core::Result<Tensor> {
        let z = sum_to(full, target)?;
        z.eq(0.0)?.where_cond(&z, &r)
    }
    fn bwd_div(
        num: &Tensor,
        s: &Tensor,
        theta: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<Grads3> {
        let full = weighted(g, num)?;
        let r = sum_ratio_to(&full, s, theta.dims())?;
        Ok((None, None, Some(zero_stays(&full, r, theta.dims())?)))
    }
    fn bwd_mul(
        num: &Tensor,
        m: &Tensor,
        theta: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<Grads3> {
        let full = weighted(g, num)?;
        let r = sum_product_to(&full, m, theta.dims())?;
        Ok((None, None, Some(zero_stays(&full, r, theta.dims())?)))
    }
    let num = num.detach();
    let op3 = |s: &Tensor, name: &'static str, bwd: Bwd3| {
        apply3_reducing(
            &num,
            &s.detach(),
            theta,
            Map3 {
                name,
                f: zero3,
                f32: zero3,
                bwd: Some(bwd),
            },
        )
    };
    match scaling {
        Scaling::None => apply2_reducing(
            &num,
            theta,
            Map2 {
                name: "carrier",
                f: zero2,
                f32: zero2,
                bwd: Some(bwd2),
            },
        ),
        Scaling::Divide(s) => op3(s, "carrier_over_scale", bwd_div),
        Scaling::Multiply(m) => op3(m, "carrier_times_scale", bwd_mul),
    }
}

/// Σ n·m summed down to `target` (see [`sum_to`]), for `n` of the full shape and `m`
/// of a shape that broadcasts to it: m comes out of the sum where it is constant along
/// the summed dimensions (terms n·m with m = f64::MAX overflow with both signs where
/// the total need not), else the products are summed, in two scaled parts if that
/// overflows.
pub(crate) fn sum_product_to(
    n: &Tensor,
    m: &Tensor,
    target: &[usize],
) -> candle_core::Result<Tensor> {
    let full = n.dims().to_vec();
    let summed = broadcast_dims(&full, target);
    let m_lead = full.len() - m.rank();
    let m_const = |d: usize| d < m_lead || m.dims()[d - m_lead] == 1;
    if !summed.is_empty() && summed.iter().all(|&d| m_const(d)) {
        let lead = full.len() - target.len();
        let drop = lead.saturating_sub(m_lead);
        let mp = if drop > 0 {
            m.reshape(&m.dims()[drop..])?
        } else {
            m.clone()
        };
        return sum_to(n, target)?.broadcast_mul(&mp);
    }
    let direct = sum_to(&n.broadcast_mul(m)?, target)?;
    if all_finite(&direct)? {
        return Ok(direct);
    }
    // The products overflow: those with m above 2⁵⁰⁰ are summed scaled by 2⁻⁶⁰⁰ apart
    // from the others, and the two sums joined at the end (±∞ only if the total is).
    let dtype = n.dtype();
    let n = n.to_dtype(candle_core::DType::F64)?;
    let m = m
        .to_dtype(candle_core::DType::F64)?
        .broadcast_as(n.dims())?;
    let scale = 2f64.powi(600);
    let big = m.gt(2f64.powi(500))?;
    let m_down = big.where_cond(&(&m / scale)?, &m)?;
    let t = (&n * &m_down)?;
    let zero = t.zeros_like()?;
    let hi = sum_to(&big.where_cond(&t, &zero)?, target)?;
    let lo = sum_to(&big.where_cond(&zero, &t)?, target)?;
    ((hi * scale)? + lo)?.to_dtype(dtype)
}

/// `t` (an f64 tensor, detached) broadcast to `dims` and read on the host: the
/// per-element inputs of the closed-form gradient coefficients of [`grad_carrier`].
pub(crate) fn host_at(t: &Tensor, dims: &[usize]) -> crate::Result<Vec<f64>> {
    let t = broadcast_to(&t.detach(), dims)?;
    Ok(t.flatten_all()?.to_vec1::<f64>()?)
}

/// `N` empty coefficient buffers with room for `n` elements each (`try_reserve`, so an
/// impossible size is an error).
pub(crate) fn coef_buffers<const N: usize>(n: usize) -> crate::Result<[Vec<f64>; N]> {
    let mut out: [Vec<f64>; N] = std::array::from_fn(|_| Vec::new());
    for c in out.iter_mut() {
        c.try_reserve_exact(n).map_err(|_| {
            crate::Error::shape("gradient", format!("cannot allocate {n} coefficients"))
        })?;
    }
    Ok(out)
}

/// The per-element function of an [`eval3_multi`] kernel. A trait with a static
/// function rather than a closure: the call then inlines into the AVX2/FMA loop (a
/// closure's or fn pointer's `Fn::call` does not).
pub(crate) trait Kernel3<const K: usize>: Copy + Send + Sync + 'static {
    /// The `K` outputs at one element.
    fn eval(a: f64, b: f64, c: f64) -> [f64; K];
}

/// A kernel with `K` outputs, `f(a, b, c) → [f64; K]`, evaluated once per element of
/// the broadcast of its inputs (in f64; results rounded to the dtype of `a`), that
/// returns all `K` as detached tensors of the broadcast shape: one pass computes a
/// value and the coefficients of its gradient, which [`stored3`] then puts on the graph
/// without a second evaluation in the backward pass.
pub(crate) fn eval3_multi<const K: usize, F>(
    name: &'static str,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    f: F,
) -> crate::Result<[Tensor; K]>
where
    F: Kernel3<K>,
{
    let op = MultiEval::<F, K> {
        name,
        f,
        rest: std::sync::Mutex::new(Vec::new()),
    };
    let first = on_cpu(&[&a.detach(), &b.detach(), &c.detach()], |v| {
        v[0].apply_op3_no_bwd(&v[1], &v[2], &op)
    })?;
    let shape = first.dims().to_vec();
    let device = a.device();
    let rest =
        std::mem::take(&mut *op.rest.lock().map_err(|_| {
            crate::Error::InvalidArgument(format!("{name}: a kernel thread panicked"))
        })?);
    let mut out = Vec::with_capacity(K);
    out.push(first);
    for s in rest {
        let t = match s {
            CpuStorage::F64(v) => Tensor::from_vec(v, shape.as_slice(), &candle_core::Device::Cpu)?,
            CpuStorage::F32(v) => Tensor::from_vec(v, shape.as_slice(), &candle_core::Device::Cpu)?,
            other => return Err(dtype_err(name, &other).into()),
        };
        out.push(t.to_device(device)?);
    }
    out.try_into()
        .map_err(|_| crate::Error::InvalidArgument(format!("{name}: wrong output count")))
}

struct MultiEval<F, const K: usize> {
    name: &'static str,
    f: F,
    /// Outputs 1..K of the last forward pass (output 0 is the op's result).
    rest: std::sync::Mutex<Vec<CpuStorage>>,
}

impl<F, const K: usize> MultiEval<F, K>
where
    F: Kernel3<K>,
{
    fn run<T: Copy + Send + Sync + Default>(
        &self,
        a: &[T],
        b: &[T],
        c: &[T],
        to: impl Fn(T) -> f64 + Copy + Send + Sync,
        from: impl Fn(f64) -> T + Copy + Send + Sync,
    ) -> candle_core::Result<Vec<Vec<T>>> {
        let f = self.f;
        let n = a.len();
        let mut outs: Vec<Vec<T>> = Vec::with_capacity(K);
        for _ in 0..K {
            outs.push(alloc_buffer::<T>(self.name, n)?);
        }
        // These kernels cost tens of nanoseconds per element (several transcendental
        // functions), so splitting pays before the cheap kernels' 2^15; but waking the
        // pool costs ~40 µs here (measured: the 256x6 SAC head went from 66 to 110 µs
        // with a split at 2^10), so not below 2^14 elements (~300 µs of work).
        let threads = rayon::current_num_threads();
        let chunk = if n >= PAR_MIN_HEAVY && threads > 1 {
            n.div_ceil(threads).min(PAR_CHUNK)
        } else {
            n.max(1)
        };
        let mut parts: Vec<Vec<&mut [T]>> = (0..n.div_ceil(chunk))
            .map(|_| Vec::with_capacity(K))
            .collect();
        for o in outs.iter_mut() {
            for (ci, part) in o.chunks_mut(chunk).enumerate() {
                parts[ci].push(part);
            }
        }
        let run = |(ci, mut p): (usize, Vec<&mut [T]>)| {
            let s = ci * chunk;
            let m = p.first().map_or(0, |x| x.len());
            multi_body(
                f,
                &a[s..s + m],
                &b[s..s + m],
                &c[s..s + m],
                &mut p,
                to,
                from,
            );
        };
        if parts.len() > 1 {
            parts.into_par_iter().enumerate().for_each(run);
        } else {
            parts.into_iter().enumerate().for_each(run);
        }
        Ok(outs)
    }
}

/// `outs[k][i] = f(a[i], b[i], c[i])[k]`, compiled for AVX2 and FMA where the CPU has
/// both (the same arithmetic, so the same bits; `mul_add` becomes one instruction
/// instead of a library call).
#[inline(always)]
fn multi_body<T: Copy, F, const K: usize>(
    f: F,
    a: &[T],
    b: &[T],
    c: &[T],
    outs: &mut [&mut [T]],
    to: impl Fn(T) -> f64 + Copy,
    from: impl Fn(f64) -> T + Copy,
) where
    F: Kernel3<K>,
{
    #[inline(always)]
    fn body<T: Copy, F, const K: usize>(
        f: F,
        a: &[T],
        b: &[T],
        c: &[T],
        outs: &mut [&mut [T]],
        to: impl Fn(T) -> f64 + Copy,
        from: impl Fn(f64) -> T + Copy,
    ) where
        F: Kernel3<K>,
    {
        let n = a.len().min(b.len()).min(c.len());
        if outs.len() != K || outs.iter().any(|o| o.len() < n) {
            return;
        }
        let _ = f;
        // Blocks of LANES elements evaluated into a local array, then written one output
        // slice at a time (sequential stores instead of K interleaved streams).
        const LANES: usize = 8;
        let mut i = 0;
        while i + LANES <= n {
            let mut r = [[0.0f64; K]; LANES];
            for (l, rl) in r.iter_mut().enumerate() {
                *rl = F::eval(to(a[i + l]), to(b[i + l]), to(c[i + l]));
            }
            for (k, o) in outs.iter_mut().enumerate() {
                for (l, rl) in r.iter().enumerate() {
                    o[i + l] = from(rl[k]);
                }
            }
            i += LANES;
        }
        for j in i..n {
            let r = F::eval(to(a[j]), to(b[j]), to(c[j]));
            for (k, o) in outs.iter_mut().enumerate() {
                o[j] = from(r[k]);
            }
        }
    }
    #[cfg(target_arch = "x86_64")]
    if crate::rng::has_avx2() && has_fma() {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn wide<T: Copy, F, const K: usize>(
            f: F,
            a: &[T],
            b: &[T],
            c: &[T],
            outs: &mut [&mut [T]],
            to: impl Fn(T) -> f64 + Copy,
            from: impl Fn(f64) -> T + Copy,
        ) where
            F: Kernel3<K>,
        {
            body(f, a, b, c, outs, to, from)
        }
        // SAFETY: AVX2 and FMA are present (checked at run time).
        return unsafe { wide(f, a, b, c, outs, to, from) };
    }
    body(f, a, b, c, outs, to, from)
}

/// Whether the CPU has FMA (fused multiply-add gives the same bits as `mul_add`'s
/// software path, which is correctly rounded too).
#[cfg(target_arch = "x86_64")]
fn has_fma() -> bool {
    use std::sync::OnceLock;
    static FMA: OnceLock<bool> = OnceLock::new();
    *FMA.get_or_init(|| std::is_x86_feature_detected!("fma"))
}

impl<F, const K: usize> CustomOp3 for MultiEval<F, K>
where
    F: Kernel3<K>,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (shape, [l1, l2, l3]) = broadcast_layouts(self.name, [l1, l2, l3])?;
        let mut outs: Vec<CpuStorage> = match gather3(self.name, [s1, s2, s3], [&l1, &l2, &l3])? {
            Inputs3::F64(a, b, c) => self
                .run(&a, &b, &c, |x| x, |x| x)?
                .into_iter()
                .map(CpuStorage::F64)
                .collect(),
            Inputs3::F32(a, b, c) => self
                .run(&a, &b, &c, |x| x as f64, |x| x as f32)?
                .into_iter()
                .map(CpuStorage::F32)
                .collect(),
        };
        let first = outs.remove(0);
        *self
            .rest
            .lock()
            .map_err(|_| candle_core::Error::Msg(format!("{}: poisoned", self.name)))? = outs;
        Ok((first, shape))
    }
}

/// The backward rule of a [`stored3`] node: (a, b, c, output gradient) → gradients of
/// a, b, c at their own shapes.
pub(crate) type StoredBwd = std::sync::Arc<
    dyn Fn(
            &Tensor,
            &Tensor,
            &Tensor,
            &Tensor,
        ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)>
        + Send
        + Sync,
>;

/// `value` (computed beforehand, e.g. by [`eval3_multi`]) as the output of a graph
/// node with inputs `a, b, c` and backward rule `bwd` (which typically multiplies the
/// output gradient by coefficients computed in the same pass as `value`).
pub(crate) fn stored3(
    name: &'static str,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    value: &Tensor,
    bwd: StoredBwd,
) -> crate::Result<Tensor> {
    let op = Stored {
        name,
        value: value.detach(),
        bwd,
    };
    on_cpu(&[a, b, c], |v| v[0].apply_op3(&v[1], &v[2], op))
}

struct Stored {
    name: &'static str,
    value: Tensor,
    bwd: StoredBwd,
}

impl CustomOp3 for Stored {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let v = self.value.to_device(&candle_core::Device::Cpu)?;
        let (st, l) = v.storage_and_layout();
        let out = match &*st {
            candle_core::Storage::Cpu(CpuStorage::F64(d)) => {
                CpuStorage::F64(gather(d, l).into_owned())
            }
            candle_core::Storage::Cpu(CpuStorage::F32(d)) => {
                CpuStorage::F32(gather(d, l).into_owned())
            }
            _ => {
                return Err(candle_core::Error::Msg(format!(
                    "{}: stored value is not f32/f64 on the CPU",
                    self.name
                )))
            }
        };
        Ok((out, l.shape().clone()))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        c: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        (self.bwd)(a, b, c, g)
    }
}
