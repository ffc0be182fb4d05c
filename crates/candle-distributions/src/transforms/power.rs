//! The power map `y = x^exponent` on the positive reals.

use super::affine::{
    broadcast_with_params, check_param_values, check_result_shape, needs_f64, param_eq, param_like,
    widened,
};
use super::Transform;
use crate::constraints::Constraint;
use crate::distribution::Param;
use crate::error::Result;
use crate::special;
use candle_core::{DType, Tensor};
use std::any::Any;

/// `y = x^a` from `(0, ∞)` onto `(0, ∞)` (torch's `PowerTransform`), `a` the exponent.
///
/// - inverse: `x = y^{1/a}`;
/// - `log|dy/dx| = ln|a| + (a − 1)·ln x = ln|a| + (1 − 1/a)·ln y`, per element from
///   whichever logarithm is larger in magnitude: torch's `ln|a·y/x|` loses everything
///   once `y` under- or overflows (`x = 1e−200`, `a = 2` gives `y = 0` in f64 and
///   `−∞`), and the `x` form alone loses it where `x` rounded to 1 while `y` did not
///   (the inverse map of a huge power); this stays exact in both. At `a = 1` the term
///   is exactly 0 (also at `x = 0` or `∞`).
///
/// The exponent is a plain number or a tensor ([`Param`]) broadcast against `x` (a
/// tensor is converted to `x`'s dtype and device on the autograd graph, so it receives
/// gradients; an f32 `x` is evaluated in f64 when the exponent is an f64 tensor or a
/// number f32 cannot hold). It must be finite and nonzero (`a = 0` maps everything to 1 and has no
/// inverse): numbers are always checked, tensors when validation is on; a violation is
/// [`crate::Error::InvalidParameter`] naming `PowerTransform` and `exponent`. `sign()`
/// is the sign of the exponent when known. Inputs are not validated: `x < 0` gives NaN.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use candle_distributions::transforms::{PowerTransform, Transform};
/// let t = PowerTransform::new(2.0)?;
/// let x = Tensor::new(&[0.5f64, 3.0], &Device::Cpu)?;
/// let (y, ladj) = t.forward_and_log_det(&x)?;
/// assert_eq!(y.to_vec1::<f64>()?, vec![0.25, 9.0]);
/// assert!((ladj.to_vec1::<f64>()?[1] - 6f64.ln()).abs() < 1e-15); // dy/dx = 2x
/// assert!((t.inverse(&y)?.to_vec1::<f64>()?[1] - 3.0).abs() < 1e-15);
/// assert!(PowerTransform::new(0.0).is_err());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PowerTransform {
    exponent: Param,
    sign: Option<i8>,
}

const POWER: &str = "PowerTransform";

impl PowerTransform {
    /// `y = x^exponent`.
    pub fn new(exponent: impl Into<Param>) -> Result<Self> {
        let exponent = exponent.into();
        let sign = check_param_values(POWER, "exponent", &exponent, true)?;
        Ok(PowerTransform { exponent, sign })
    }

    /// The exponent.
    pub fn exponent(&self) -> &Param {
        &self.exponent
    }

    /// `forward` in the dtype of `x`.
    fn forward_in(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match &self.exponent {
            Param::Number(a) => x.powf(*a)?,
            Param::Tensor(a) => x.broadcast_pow(&param_like(a, x)?)?,
        })
    }

    /// `inverse` in the dtype of `y`.
    fn inverse_in(&self, y: &Tensor) -> Result<Tensor> {
        Ok(match &self.exponent {
            Param::Number(a) => y.powf(1.0 / a)?,
            // exp(ln y / a), not y^(1/a): 1/a overflows for a subnormal exponent.
            Param::Tensor(a) => y.log()?.broadcast_div(&param_like(a, y)?)?.exp()?,
        })
    }

    /// `log_abs_det_jacobian` in the dtype of `x`.
    fn log_abs_det_in(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        if let Param::Number(a) = &self.exponent {
            if *a == 1.0 {
                return Ok(x.zeros_like()?);
            }
        }
        // (a − 1)·ln x = (1 − 1/a)·ln y on y = x^a. Each form is exact where its
        // logarithm kept the information: ln x where y under- or overflowed, ln y where
        // x rounded to 1 but y did not (the inverse of x^(1e300) at y = 1e300 is x = 1).
        // Per element the larger |ln| is used; the other side's input is replaced by 1
        // (not only masked) so that no 0·∞ reaches the gradients.
        let full = self.forward_shape(x.dims())?;
        let (x, mask) = if y.dims() == full.as_slice() {
            let x = x.broadcast_as(full.as_slice())?;
            let (lx, ly) = (x.detach().log()?.abs()?, y.detach().log()?.abs()?);
            let mask = ly.gt(&lx)?.mul(&ly.lt(f64::INFINITY)?)?;
            (x, Some(mask))
        } else {
            (x.clone(), None)
        };
        let ones = x.ones_like()?;
        let (x_safe, y_safe) = match &mask {
            Some(m) => (m.where_cond(&ones, &x)?, m.where_cond(y, &ones)?),
            None => (x.clone(), ones),
        };
        let (x_form, y_form, log_a) = match &self.exponent {
            Param::Number(a) => (
                x_safe.log()?.affine(a - 1.0, 0.0)?,
                y_safe.log()?.affine(1.0 - 1.0 / a, 0.0)?,
                Tensor::new(a.abs().ln(), x.device())?.to_dtype(x.dtype())?,
            ),
            Param::Tensor(a) => {
                let a = param_like(a, &x)?;
                let a1 = (&a - 1.0)?;
                // xlogy(0, ·) = 0: exact at a = 1 also where the logarithm is infinite.
                (
                    special::xlogy(&a1, &x_safe)?,
                    special::xlogy(&a1.broadcast_div(&a)?, &y_safe)?,
                    a.abs()?.log()?,
                )
            }
        };
        let term = match &mask {
            Some(m) => m.where_cond(&y_form, &x_form)?,
            None => x_form,
        };
        Ok(term.broadcast_add(&log_a)?)
    }
}

impl Transform for PowerTransform {
    fn name(&self) -> &'static str {
        POWER
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_result_shape(POWER, x, &[&self.exponent])?;
        widened(x, &[&self.exponent], |x| self.forward_in(x))
    }

    fn inverse(&self, y: &Tensor) -> Result<Tensor> {
        check_result_shape(POWER, y, &[&self.exponent])?;
        widened(y, &[&self.exponent], |y| self.inverse_in(y))
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        check_result_shape(POWER, x, &[&self.exponent])?;
        if needs_f64(x, &[&self.exponent]) {
            let wide = self.log_abs_det_in(&x.to_dtype(DType::F64)?, &y.to_dtype(DType::F64)?)?;
            return Ok(wide.to_dtype(DType::F32)?);
        }
        self.log_abs_det_in(x, y)
    }

    fn domain(&self) -> Constraint {
        Constraint::Positive
    }

    fn codomain(&self) -> Constraint {
        Constraint::Positive
    }

    fn sign(&self) -> Option<i8> {
        self.sign
    }

    fn forward_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        broadcast_with_params(POWER, shape, &[&self.exponent])
    }

    fn inverse_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        broadcast_with_params(POWER, shape, &[&self.exponent])
    }

    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(self.clone())
    }

    fn equals(&self, other: &dyn Transform) -> bool {
        other
            .as_any()
            .downcast_ref::<PowerTransform>()
            .is_some_and(|o| param_eq(&self.exponent, &o.exponent))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
