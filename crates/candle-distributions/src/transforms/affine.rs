//! The affine map `y = loc + scale·x`, and the parameter handling that the
//! parameterized elementwise transforms (Affine, Power) share.

use super::compose::with_event_dim;
use super::{check_event_rank, sum_rightmost, Transform};
use crate::constraints::{host_f64, Constraint};
use crate::distribution::{
    broadcast_shapes, checked_numel, default_validate_args, sample_extent, Param,
};
use crate::error::{Error, Result};
use candle_core::{DType, Tensor};
use std::any::Any;

/// `y = loc + scale·x` elementwise (torch's `AffineTransform`), with events of
/// `event_dim` rightmost dimensions (default 0).
///
/// - domain and codomain: the reals (as `Independent(Real, event_dim)` when
///   `event_dim > 0`);
/// - inverse: `x = (y − loc)/scale`;
/// - `log|det J| = Σ_event log|scale|`: `log|scale|` broadcast to the shape of `y` and
///   summed over the `event_dim` rightmost dimensions, so a scalar `scale` on events
///   of `n` elements gives `n·log|scale|`.
///
/// `loc` and `scale` are plain numbers or tensors ([`Param`]). Numbers are applied in
/// the dtype of `x` (one fused `affine` when both are numbers); tensors are converted
/// to the dtype and device of `x` on the autograd graph, broadcast against it, and
/// receive gradients (they may be `Var`s). The output shape is `x`'s broadcast with the
/// parameters' shapes. An f32 `x` is evaluated in f64 (and the result rounded to f32)
/// when a parameter is an f64 tensor or a number f32 cannot hold (`scale = 1e300`
/// would become ∞ and give `∞·0 = NaN` at `x = 0`).
///
/// Parameters must be finite, and `scale` nonzero (a zero scale is not invertible):
/// numbers are always checked, tensors when validation is on
/// ([`crate::set_default_validate_args`]); a violation is
/// [`Error::InvalidParameter`] naming `AffineTransform` and the parameter. torch
/// accepts any value; here a NaN or zero scale would make every later result NaN.
/// `sign()` is the sign of `scale` when known: always for a number, for a tensor when
/// validation read it at construction (`None` when its entries differ in sign).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{AffineTransform, Transform};
/// let dev = Device::Cpu;
/// let t = AffineTransform::new(1.0, -2.0)?;
/// let x = Tensor::new(&[0.0f64, 3.0], &dev)?;
/// let (y, ladj) = t.forward_and_log_det(&x)?;
/// assert_eq!(y.to_vec1::<f64>()?, vec![1.0, -5.0]);
/// assert!((ladj.to_vec1::<f64>()?[0] - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(t.inverse(&y)?.to_vec1::<f64>()?, vec![0.0, 3.0]);
/// assert_eq!(t.sign(), Some(-1));
/// // Events of 2 elements: the log-det is summed over them.
/// let v = AffineTransform::new(0.0, 3.0)?.with_event_dim(1);
/// let ladj = v.log_abs_det_jacobian(&x, &v.forward(&x)?)?;
/// assert!((ladj.to_scalar::<f64>()? - 2.0 * 3f64.ln()).abs() < 1e-15);
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AffineTransform {
    loc: Param,
    scale: Param,
    event_dim: usize,
    sign: Option<i8>,
}

const AFFINE: &str = "AffineTransform";

impl AffineTransform {
    /// `y = loc + scale·x` with event dimension 0 (see [`AffineTransform::with_event_dim`]).
    pub fn new(loc: impl Into<Param>, scale: impl Into<Param>) -> Result<Self> {
        let loc = loc.into();
        let scale = scale.into();
        check_param_values(AFFINE, "loc", &loc, false)?;
        let sign = check_param_values(AFFINE, "scale", &scale, true)?;
        Ok(AffineTransform {
            loc,
            scale,
            event_dim: 0,
            sign,
        })
    }

    /// The same map acting on events of `event_dim` rightmost dimensions: the log-det is
    /// summed over them (torch's `event_dim` argument).
    pub fn with_event_dim(mut self, event_dim: usize) -> Self {
        self.event_dim = event_dim;
        self
    }

    /// The shift.
    pub fn loc(&self) -> &Param {
        &self.loc
    }

    /// The scale factor.
    pub fn scale(&self) -> &Param {
        &self.scale
    }

    /// The number of rightmost dimensions of one event.
    pub fn event_dim(&self) -> usize {
        self.event_dim
    }

    /// The shape of `y` (and of `x` for the inverse): `shape` broadcast with the
    /// parameters' shapes.
    fn out_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        broadcast_with_params(AFFINE, shape, &[&self.loc, &self.scale])
    }

    /// `forward` in the dtype of `x`.
    fn forward_in(&self, x: &Tensor) -> Result<Tensor> {
        let scaled = match (&self.loc, &self.scale) {
            (Param::Number(l), Param::Number(s)) => return Ok(x.affine(*s, *l)?),
            (_, Param::Number(s)) => x.affine(*s, 0.0)?,
            (_, Param::Tensor(s)) => x.broadcast_mul(&param_like(s, x)?)?,
        };
        Ok(match &self.loc {
            Param::Number(l) => scaled.affine(1.0, *l)?,
            Param::Tensor(l) => scaled.broadcast_add(&param_like(l, x)?)?,
        })
    }

    /// `inverse` in the dtype of `y`.
    fn inverse_in(&self, y: &Tensor) -> Result<Tensor> {
        let shifted = match &self.loc {
            Param::Number(l) => y.affine(1.0, -*l)?,
            Param::Tensor(l) => y.broadcast_sub(&param_like(l, y)?)?,
        };
        // A true division (not a multiplication by 1/scale, which overflows for a
        // subnormal scale).
        let scale = match &self.scale {
            Param::Number(s) => Tensor::new(*s, y.device())?.to_dtype(y.dtype())?,
            Param::Tensor(s) => param_like(s, y)?,
        };
        Ok(shifted.broadcast_div(&scale)?)
    }

    /// `log_abs_det_jacobian` in the dtype of `x`.
    fn log_abs_det_in(&self, x: &Tensor) -> Result<Tensor> {
        check_event_rank(AFFINE, x, self.event_dim)?;
        let full = self.out_shape(x.dims())?;
        let (batch, event) = full.split_at(full.len() - self.event_dim);
        match &self.scale {
            Param::Number(s) => {
                let n: f64 = event.iter().map(|&d| d as f64).product();
                let v = n * s.abs().ln();
                Ok(Tensor::zeros(batch, x.dtype(), x.device())?.affine(1.0, v)?)
            }
            Param::Tensor(s) => {
                let l = param_like(s, x)?.abs()?.log()?;
                sum_rightmost(&l.broadcast_as(full.as_slice())?, self.event_dim)
            }
        }
    }
}

impl Transform for AffineTransform {
    fn name(&self) -> &'static str {
        AFFINE
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_result_shape(AFFINE, x, &[&self.loc, &self.scale])?;
        widened(x, &[&self.loc, &self.scale], |x| self.forward_in(x))
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        check_result_shape(AFFINE, y, &[&self.loc, &self.scale])?;
        widened(y, &[&self.loc, &self.scale], |y| self.inverse_in(y))
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, _y: &Tensor) -> Result<Tensor> {
        check_result_shape(AFFINE, x, &[&self.loc, &self.scale])?;
        widened(x, &[&self.scale], |x| self.log_abs_det_in(x))
    }

    fn domain(&self) -> Constraint {
        with_event_dim(Constraint::Real, self.event_dim)
    }

    fn codomain(&self) -> Constraint {
        with_event_dim(Constraint::Real, self.event_dim)
    }

    fn sign(&self) -> Option<i8> {
        self.sign
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.out_shape(shape)
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        self.out_shape(shape)
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(self.clone())
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<AffineTransform>()
            .is_some_and(|o| {
                o.event_dim == self.event_dim
                    && param_eq(&self.loc, &o.loc)
                    && param_eq(&self.scale, &o.scale)
            })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Whether f32 inputs must be evaluated in f64 for these parameters: a plain number
/// that f32 cannot hold (|v| > f32::MAX becomes ∞, so `∞·0` would give NaN where the
/// true product is 0; 0 < |v| < f32::MIN_POSITIVE loses its value), or an f64 tensor.
pub(crate) fn needs_f64(x: &Tensor, params: &[&Param]) -> bool {
    x.dtype() == DType::F32
        && params.iter().any(|p| match p {
            Param::Number(v) => {
                let a = v.abs();
                a != 0.0 && !(f32::MIN_POSITIVE as f64..=f32::MAX as f64).contains(&a)
            }
            Param::Tensor(t) => t.dtype() == DType::F64,
        })
}

/// `f(x)`, evaluated in f64 and rounded back to f32 where [`needs_f64`] says f32 would
/// lose the parameters (on the graph: gradients reach `x` and the parameters).
pub(crate) fn widened(
    x: &Tensor,
    params: &[&Param],
    f: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    if needs_f64(x, params) {
        Ok(f(&x.to_dtype(DType::F64)?)?.to_dtype(DType::F32)?)
    } else {
        f(x)
    }
}

/// A tensor parameter in the dtype and on the device of `x`, on the autograd graph (so
/// gradients reach the caller's tensor in its own dtype).
pub(crate) fn param_like(p: &Tensor, x: &Tensor) -> Result<Tensor> {
    let p = if p.device().same_device(x.device()) {
        p.clone()
    } else {
        p.to_device(x.device())?
    };
    Ok(p.to_dtype(x.dtype())?)
}

/// Checks a transform parameter: finite, and nonzero when `nonzero`. Numbers are
/// always checked; tensors must be f32 or f64 and have their values checked when
/// validation is on. Returns the common sign of the values where it is known.
pub(crate) fn check_param_values(
    transform: &'static str,
    parameter: &'static str,
    p: &Param,
    nonzero: bool,
) -> Result<Option<i8>> {
    let constraint = if nonzero {
        "finite and nonzero (0 < |x| < inf)"
    } else {
        "finite (|x| < inf)"
    };
    let ok = |v: f64| v.is_finite() && (!nonzero || v != 0.0);
    let invalid = |found: f64, index: usize| Error::InvalidParameter {
        distribution: transform,
        parameter,
        constraint: constraint.to_string(),
        found,
        index,
    };
    let values = match p {
        Param::Number(v) => vec![*v],
        Param::Tensor(t) => {
            if !matches!(t.dtype(), DType::F32 | DType::F64) {
                return Err(Error::DType {
                    context: format!("{transform}: parameter `{parameter}`"),
                    dtype: t.dtype(),
                });
            }
            if !default_validate_args() {
                return Ok(None);
            }
            host_f64(t)?
        }
    };
    if let Some(i) = values.iter().position(|&v| !ok(v)) {
        return Err(invalid(values[i], i));
    }
    Ok(if values.is_empty() {
        None
    } else if values.iter().all(|&v| v > 0.0) {
        Some(1)
    } else if values.iter().all(|&v| v < 0.0) {
        Some(-1)
    } else {
        None
    })
}

/// The shape of a parameter (`[]` for a number).
pub(crate) fn param_dims(p: &Param) -> &[usize] {
    match p {
        Param::Number(_) => &[],
        Param::Tensor(t) => t.dims(),
    }
}

/// `shape` broadcast with the shapes of `params`; [`Error::Shape`] naming the
/// transform when they do not broadcast.
pub(crate) fn broadcast_with_params(
    transform: &str,
    shape: &[usize],
    params: &[&Param],
) -> Result<Vec<usize>> {
    let mut out = shape.to_vec();
    for p in params {
        out = broadcast_shapes(&out, param_dims(p)).ok_or_else(|| {
            Error::shape(
                transform,
                format!(
                    "shape {shape:?} does not broadcast with a parameter of shape {:?}",
                    param_dims(p)
                ),
            )
        })?;
    }
    checked_numel(transform, &out)?;
    Ok(out)
}

/// Checks the shape of a result that broadcasts `x` with tensor parameters: it must
/// broadcast ([`Error::Shape`] naming the transform otherwise) and, where it is larger
/// than `x`, fit in memory (an error before any work, not an abort).
pub(crate) fn check_result_shape(transform: &str, x: &Tensor, params: &[&Param]) -> Result<()> {
    if params.iter().all(|p| matches!(p, Param::Number(_))) {
        return Ok(());
    }
    let full = broadcast_with_params(transform, x.dims(), params)?;
    if full.as_slice() != x.dims() {
        sample_extent(transform, &[], &full, &[], x.dtype())?;
    }
    Ok(())
}

/// Whether two parameters hold the same values (after broadcasting, as torch's
/// `(a == b).all()`); unequal shapes that do not broadcast, or any failure, are unequal.
pub(crate) fn param_eq(a: &Param, b: &Param) -> bool {
    fn host(p: &Param) -> Option<(Vec<usize>, Vec<f64>)> {
        match p {
            Param::Number(v) => Some((vec![], vec![*v])),
            Param::Tensor(t) => Some((t.dims().to_vec(), host_f64(t).ok()?)),
        }
    }
    if let (Param::Number(x), Param::Number(y)) = (a, b) {
        return x == y;
    }
    let (Some((sa, va)), Some((sb, vb))) = (host(a), host(b)) else {
        return false;
    };
    let Some(full) = broadcast_shapes(&sa, &sb) else {
        return false;
    };
    let n: usize = full.iter().product();
    (0..n).all(|i| va[broadcast_index(&full, &sa, i)] == vb[broadcast_index(&full, &sb, i)])
}

/// The flat index into a tensor of shape `src` of element `i` of its broadcast to
/// `full`.
fn broadcast_index(full: &[usize], src: &[usize], mut i: usize) -> usize {
    let off = full.len() - src.len();
    let mut idx = 0;
    let mut stride = 1;
    for d in (0..full.len()).rev() {
        let coord = i % full[d];
        i /= full[d];
        if d >= off {
            let s = src[d - off];
            if s != 1 {
                idx += coord * stride;
            }
            stride *= s;
        }
    }
    idx
}
