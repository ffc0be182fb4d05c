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

/// The elements of `data` described by `layout`, in logical (row-major) order.
pub(crate) fn gather<'a, T: Copy>(data: &'a [T], layout: &Layout) -> Cow<'a, [T]> {
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
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return Cow::Owned(out);
    }
    let mut idx = vec![0usize; dims.len()];
    let mut off = layout.start_offset();
    for _ in 0..n {
        out.push(data[off]);
        // Odometer increment, right-most dimension fastest.
        for d in (0..dims.len()).rev() {
            idx[d] += 1;
            off += stride[d];
            if idx[d] < dims[d] {
                break;
            }
            off -= stride[d] * dims[d];
            idx[d] = 0;
        }
    }
    Cow::Owned(out)
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
        let out = match (s1, s2, s3) {
            (CpuStorage::F64(a), CpuStorage::F64(b), CpuStorage::F64(c)) => {
                let (a, b, c) = (
                    try_gather(self.name, a, l1)?,
                    try_gather(self.name, b, l2)?,
                    try_gather(self.name, c, l3)?,
                );
                CpuStorage::F64(try_par_fill(self.name, a.len(), |s, o| {
                    zip3(s, o, &a, &b, &c, f)
                })?)
            }
            (CpuStorage::F32(a), CpuStorage::F32(b), CpuStorage::F32(c)) => {
                let (a, b, c) = (
                    try_gather(self.name, a, l1)?,
                    try_gather(self.name, b, l2)?,
                    try_gather(self.name, c, l3)?,
                );
                CpuStorage::F32(try_par_fill(self.name, a.len(), |s, o| {
                    zip3(s, o, &a, &b, &c, |x: f32, y: f32, z: f32| {
                        g(x as f64, y as f64, z as f64) as f32
                    })
                })?)
            }
            (other, _, _) => return Err(dtype_err(self.name, other)),
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
        let out = match (s1, s2, s3) {
            (CpuStorage::F64(a), CpuStorage::F64(b), CpuStorage::F64(c)) => {
                let (a, b, c) = (
                    try_gather(self.name, a, l1)?,
                    try_gather(self.name, b, l2)?,
                    try_gather(self.name, c, l3)?,
                );
                let pairs = try_par_fill(self.name, a.len(), |s, o| zip3(s, o, &a, &b, &c, f))?;
                CpuStorage::F64(pairs.into_iter().flat_map(|(x, y)| [x, y]).collect())
            }
            (CpuStorage::F32(a), CpuStorage::F32(b), CpuStorage::F32(c)) => {
                let (a, b, c) = (
                    try_gather(self.name, a, l1)?,
                    try_gather(self.name, b, l2)?,
                    try_gather(self.name, c, l3)?,
                );
                let pairs = try_par_fill(self.name, a.len(), |s, o| {
                    zip3(s, o, &a, &b, &c, |x: f32, y: f32, z: f32| {
                        let (p, q) = g(x as f64, y as f64, z as f64);
                        (p as f32, q as f32)
                    })
                })?;
                CpuStorage::F32(pairs.into_iter().flat_map(|(x, y)| [x, y]).collect())
            }
            (other, _, _) => return Err(dtype_err(self.name, other)),
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
