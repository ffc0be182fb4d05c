//! The one home of location-scale mechanics.
//!
//! A location-scale family has `X = loc + scale · Z` with `Z` drawn from a fixed,
//! parameter-free standard distribution. Everything follows from the standard form:
//! - `rsample`: `loc + scale · z` with `z` from the [`Generator`] (pathwise gradients
//!   dx/dloc = 1, dx/dscale = z);
//! - `log_prob(x) = log f((x − loc)/scale) − ln scale`;
//! - `rsample_and_log_prob`: the log density from `z` directly,
//!   `log f(z) − ln scale` (exact: no subtraction of `loc` from the draw);
//! - `cdf(x) = F((x − loc)/scale)`, `icdf(q) = loc + scale · F⁻¹(q)`;
//! - entropy `H(Z) + ln scale`, mean `loc + scale · E[Z]`, variance `scale² Var(Z)`.
//!
//! Each public family (`Normal`, `Laplace`, `Exponential`, ...) is a
//! [`LocationScale`] over a [`StandardForm`] that says how its user-facing parameters
//! map to `(loc, scale)`.

use crate::constraints::Constraint;
use crate::distribution::{
    broadcast_params, check_param, checked_argument, checked_numel, default_validate_args,
    sample_extent, Distribution,
};
use crate::error::{Error, Result};
use crate::rng::{Draw, Generator};
use crate::special::kernel::{alloc_buffer, apply1, apply2, apply3, par_apply, Map1, Map2, Map3};
use crate::special::scalar::ln_for_f32;
use candle_core::{DType, Device, Tensor};
use std::fmt::Debug;
use std::marker::PhantomData;

type CResult<T> = candle_core::Result<T>;

/// The parameter-free standard member of a location-scale family, and how the
/// family's parameters give `(loc, scale)`.
pub trait StandardForm: Debug + Clone + Send + Sync + 'static {
    /// Name of the family ("Normal").
    const NAME: &'static str;
    /// How the user-facing parameters give `(loc, scale)` ([`LocScaleKind`],
    /// [`ScaleKind`] or [`CustomKind`]); the defaults of `params`, `loc_scale` and
    /// `support` follow it, the constructors too, and custom families override them.
    type Kind: Kind;
    /// Names of the user-facing parameters, in constructor order, with constraints.
    fn params() -> Vec<(&'static str, Constraint)> {
        match <Self::Kind as Kind>::PARAMETERIZATION {
            Parameterization::LocScale => {
                vec![("loc", Constraint::Real), ("scale", Constraint::Positive)]
            }
            Parameterization::Scale => vec![("scale", Constraint::Positive)],
            Parameterization::Custom => vec![],
        }
    }
    /// `(loc, scale)` from the parameters (already broadcast to one shape).
    fn loc_scale(params: &[Tensor]) -> Result<(Tensor, Tensor)> {
        match <Self::Kind as Kind>::PARAMETERIZATION {
            Parameterization::Scale => Ok((params[0].zeros_like()?, params[0].clone())),
            _ => Ok((params[0].clone(), params[1].clone())),
        }
    }
    /// The support of the family (default: the real line, or [0, ∞) for `Scale`).
    fn support(params: &[Tensor]) -> Constraint {
        let _ = params;
        match <Self::Kind as Kind>::PARAMETERIZATION {
            Parameterization::Scale => Constraint::NonNegative,
            _ => Constraint::Real,
        }
    }
    /// Keeps rounded draws inside the support (default: no change). `loc + scale · z`
    /// is rounded to the dtype, and for a bounded support it can land on an excluded
    /// endpoint.
    fn clamp_draw(x: Tensor, params: &[Tensor]) -> Result<Tensor> {
        let _ = params;
        Ok(x)
    }
    /// `loc + scale · z` for standard quantiles `z` (`icdf`); families whose
    /// parameters are not `(loc, scale)` override it where the affine form cancels
    /// (Uniform: `low + (high − low) · 1` need not round to `high`).
    fn quantile_from_standard(
        z: &Tensor,
        loc: &Tensor,
        scale: &Tensor,
        params: &[Tensor],
    ) -> Result<Tensor> {
        let _ = params;
        Ok(z.broadcast_mul(scale)?.broadcast_add(loc)?)
    }
    /// Checks that involve several parameters (run after the per-parameter checks).
    fn check_params(params: &[Tensor]) -> Result<()> {
        let _ = params;
        Ok(())
    }
    /// log f(z) as tensor ops (differentiable).
    fn log_density(z: &Tensor) -> Result<Tensor>;
    /// d/dz log f(z) as tensor ops (differentiable), for the backward pass of the fused
    /// `log_prob` kernel.
    fn dlog_density(z: &Tensor) -> Result<Tensor>;
    /// log f(z), scalar.
    fn log_density_scalar(z: f64) -> f64;
    /// F(z), scalar.
    fn cdf_scalar(z: f64) -> f64;
    /// F⁻¹(q), scalar.
    fn icdf_scalar(q: f64) -> f64;
    /// Fills `out` with standard draws (default: inverse CDF of uniforms).
    fn sample_standard_f64(draw: Draw, out: &mut [f64]) {
        draw.fill_uniform_f64(out);
        par_apply(out, Self::icdf_scalar);
    }
    /// f32 standard draws.
    fn sample_standard_f32(draw: Draw, out: &mut [f32]) {
        draw.fill_uniform_f32(out);
        par_apply(out, |u: f32| Self::icdf_scalar(u as f64) as f32);
    }
    /// H(Z).
    const ENTROPY: f64;
    /// E\[Z\] (NaN if undefined, +∞ if infinite).
    const MEAN: f64;
    /// The mode of Z (NaN if not unique).
    const MODE: f64;
    /// Var(Z).
    const VARIANCE: f64;
}

/// How a family's parameters map to `(loc, scale)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameterization {
    /// Parameters `loc` (real) and `scale` (> 0), support the real line.
    LocScale,
    /// One parameter `scale` (> 0) with `loc = 0`, support [0, ∞) (half distributions).
    Scale,
    /// The family defines `params`, `loc_scale` and `support` itself.
    Custom,
}

/// Type-level [`Parameterization`], so that constructors with different signatures
/// can be generic over families of each kind.
pub trait Kind: Debug + Clone + Send + Sync + 'static {
    /// The parameterization this kind stands for.
    const PARAMETERIZATION: Parameterization;
}

/// `(loc, scale)` families: they get `new(loc, scale)`.
#[derive(Debug, Clone, Copy)]
pub struct LocScaleKind;
/// `scale`-only families: they get `new(scale)`.
#[derive(Debug, Clone, Copy)]
pub struct ScaleKind;
/// Families with their own parameters and constructors.
#[derive(Debug, Clone, Copy)]
pub struct CustomKind;

impl Kind for LocScaleKind {
    const PARAMETERIZATION: Parameterization = Parameterization::LocScale;
}
impl Kind for ScaleKind {
    const PARAMETERIZATION: Parameterization = Parameterization::Scale;
}
impl Kind for CustomKind {
    const PARAMETERIZATION: Parameterization = Parameterization::Custom;
}

/// The rustdoc text of each family's constructor block. A type alias page shows only
/// impls written for that exact type, not the generic `impl<F> LocationScale<F>` nor
/// the `Distribution` impl, so the block names and links them.
macro_rules! alias_methods_doc {
    () => {
        "Constructors of this family. Being a \
         [`LocationScale`](crate::continuous::LocationScale), it also has \
         [`loc`](crate::continuous::LocationScale::loc) and \
         [`scale`](crate::continuous::LocationScale::scale) (broadcast to `batch_shape`), \
         [`param`](crate::continuous::LocationScale::param) (a parameter by its torch name), \
         [`set_validate_args`](crate::continuous::LocationScale::set_validate_args), and \
         every [`Distribution`](crate::Distribution) method: `sample`, `rsample`, \
         `rsample_and_log_prob`, `log_prob`, `cdf`, `icdf`, `entropy`, `mean`, `mode`, \
         `variance`, `stddev`, `expand`. Parameters are tensors or numbers; the dtype \
         rules are in [`distribution`](crate::distribution)."
    };
}
pub(crate) use alias_methods_doc;

/// The constructors of a `(loc, scale)` family (`new`, `new_with_validation`,
/// `from_scalars`), as an inherent impl on its type alias. Parameters are
/// [`Param`](crate::distribution::Param)s: tensors or plain numbers, with the dtype
/// rules of the [`distribution`](crate::distribution) module docs.
macro_rules! loc_scale_constructors {
    ($ty:ident) => {
        #[doc = $crate::continuous::location_scale::alias_methods_doc!()]
        impl $ty {
            /// The distribution with location `loc` and scale `scale` (tensors or
            /// numbers, broadcast against each other), validated if the global default
            /// says so.
            pub fn new(
                loc: impl Into<$crate::distribution::Param>,
                scale: impl Into<$crate::distribution::Param>,
            ) -> Result<Self> {
                Self::from_param_values([loc.into(), scale.into()], None)
            }

            /// As `new`, with argument validation set for this instance.
            pub fn new_with_validation(
                loc: impl Into<$crate::distribution::Param>,
                scale: impl Into<$crate::distribution::Param>,
                validate: bool,
            ) -> Result<Self> {
                Self::from_param_values([loc.into(), scale.into()], Some(validate))
            }

            /// A scalar distribution of `dtype` (f32 or f64) on `device`.
            pub fn from_scalars(
                loc: f64,
                scale: f64,
                dtype: candle_core::DType,
                device: &candle_core::Device,
            ) -> Result<Self> {
                Self::from_scalar_values([loc, scale], dtype, device)
            }
        }
    };
}
pub(crate) use loc_scale_constructors;

/// The constructors of a `scale`-only family.
macro_rules! scale_constructors {
    ($ty:ident) => {
        #[doc = $crate::continuous::location_scale::alias_methods_doc!()]
        impl $ty {
            /// The distribution with scale `scale` (a tensor or a number), validated
            /// if the global default says so.
            pub fn new(scale: impl Into<$crate::distribution::Param>) -> Result<Self> {
                Self::from_param_values([scale.into()], None)
            }

            /// As `new`, with argument validation set for this instance.
            pub fn new_with_validation(
                scale: impl Into<$crate::distribution::Param>,
                validate: bool,
            ) -> Result<Self> {
                Self::from_param_values([scale.into()], Some(validate))
            }

            /// A scalar distribution of `dtype` (f32 or f64) on `device`.
            pub fn from_scalars(
                scale: f64,
                dtype: candle_core::DType,
                device: &candle_core::Device,
            ) -> Result<Self> {
                Self::from_scalar_values([scale], dtype, device)
            }
        }
    };
}
pub(crate) use scale_constructors;

/// A location-scale distribution `loc + scale · Z` (see the module docs).
#[derive(Debug, Clone)]
pub struct LocationScale<F: StandardForm> {
    /// The name errors report: `F::NAME`, or that of a distribution built on this one
    /// (LogNormal on Normal), so users read the name of what they built.
    name: &'static str,
    params: Vec<Tensor>,
    loc: Tensor,
    scale: Tensor,
    batch_shape: Vec<usize>,
    validate: bool,
    _form: PhantomData<F>,
}

impl<F: StandardForm> LocationScale<F> {
    /// Builds the family from its parameters (in `F::params()` order), broadcasting them
    /// and, if `validate` (default: the global switch), checking their constraints.
    pub fn from_params(params: &[&Tensor], validate: Option<bool>) -> Result<Self> {
        Self::named_from_params(F::NAME, params, validate)
    }

    /// [`LocationScale::from_params`] for constructors that take
    /// [`Param`](crate::distribution::Param)s: promotes them to one dtype first.
    pub(crate) fn from_param_values<const N: usize>(
        params: [crate::distribution::Param; N],
        validate: Option<bool>,
    ) -> Result<Self> {
        Self::named_from_param_values(F::NAME, params, validate)
    }

    /// As [`LocationScale::from_param_values`], reporting errors (now and later) as
    /// distribution `name`: for distributions built on this family.
    pub(crate) fn named_from_param_values<const N: usize>(
        name: &'static str,
        params: [crate::distribution::Param; N],
        validate: Option<bool>,
    ) -> Result<Self> {
        let spec = F::params();
        if spec.len() != N {
            return Err(Error::InvalidArgument(format!(
                "{name}: expected {} parameters, got {N}",
                spec.len(),
            )));
        }
        let mut named: [(&'static str, crate::distribution::Param); N] = params.map(|p| ("", p));
        for ((n, _), (s, _)) in named.iter_mut().zip(&spec) {
            *n = s;
        }
        let ts = crate::distribution::promote_params(name, named)?;
        let refs: Vec<&Tensor> = ts.iter().collect();
        Self::named_from_params(name, &refs, validate)
    }

    /// A scalar member of the family in `dtype` on `device` (`from_scalars`).
    pub(crate) fn from_scalar_values<const N: usize>(
        values: [f64; N],
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let ts = crate::distribution::scalar_params(F::NAME, values, dtype, device)?;
        let refs: Vec<&Tensor> = ts.iter().collect();
        Self::from_params(&refs, None)
    }

    fn named_from_params(
        name: &'static str,
        params: &[&Tensor],
        validate: Option<bool>,
    ) -> Result<Self> {
        let spec = F::params();
        if params.len() != spec.len() {
            return Err(Error::InvalidArgument(format!(
                "{name}: expected {} parameters, got {}",
                spec.len(),
                params.len()
            )));
        }
        let named: Vec<(&'static str, &Tensor)> = spec
            .iter()
            .map(|(n, _)| *n)
            .zip(params.iter().copied())
            .collect();
        let (ps, batch_shape) = broadcast_params(name, &named)?;
        let validate = validate.unwrap_or_else(default_validate_args);
        if validate {
            for ((pname, c), t) in spec.iter().zip(&ps) {
                check_param(name, pname, t, c)?;
            }
            F::check_params(&ps).map_err(|e| e.renamed(name))?;
        }
        let (loc, scale) = F::loc_scale(&ps)?;
        Ok(LocationScale {
            name,
            params: ps,
            loc,
            scale,
            batch_shape,
            validate,
            _form: PhantomData,
        })
    }

    /// The location, broadcast to `batch_shape`.
    pub fn loc(&self) -> &Tensor {
        &self.loc
    }

    /// The scale, broadcast to `batch_shape`.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }

    /// A user-facing parameter by name (as passed to the constructor, broadcast).
    pub fn param(&self, name: &str) -> Option<&Tensor> {
        F::params()
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| &self.params[i])
    }

    /// Turns argument checks of `log_prob`/`cdf`/`icdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.validate = on;
    }

    /// Standard draws `z` of shape `sample_shape ++ batch_shape`.
    fn standard(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = sample_extent(
            self.name,
            sample_shape,
            &self.batch_shape,
            &[],
            self.dtype(),
        )?;
        let n = checked_numel(self.name, &shape)?;
        let draw = rng.next_draw();
        let z = match self.dtype() {
            DType::F64 => {
                let mut v = alloc_buffer::<f64>(self.name, n)?;
                F::sample_standard_f64(draw, &mut v);
                Tensor::from_vec(v, shape, &Device::Cpu)?
            }
            _ => {
                let mut v = alloc_buffer::<f32>(self.name, n)?;
                F::sample_standard_f32(draw, &mut v);
                Tensor::from_vec(v, shape, &Device::Cpu)?
            }
        };
        Ok(z.to_device(self.loc.device())?)
    }

    /// `loc + scale · z` in one fused pass, then the family's clamp into its support.
    fn draw_from_noise(&self, z: &Tensor) -> Result<Tensor> {
        let x = apply3(
            &self.loc,
            &self.scale,
            z,
            Map3 {
                name: "loc_scale_affine",
                f: affine_f,
                f32: affine_f,
                bwd: Some(affine_bwd),
            },
        )?;
        F::clamp_draw(x, &self.params)
    }

    /// `value` in this distribution's dtype, broadcast against `batch_shape`, after
    /// the shape check and (if validating) the support check.
    fn checked_value(&self, value: &Tensor) -> Result<Tensor> {
        self.argument("value", value, &self.support())
    }

    /// The shared argument path ([`checked_argument`]) with this instance's name,
    /// shapes, dtype and validation switch.
    fn argument(&self, name: &'static str, value: &Tensor, domain: &Constraint) -> Result<Tensor> {
        checked_argument(
            self.name,
            name,
            value,
            &self.batch_shape,
            &[],
            self.dtype(),
            self.device(),
            self.validate.then_some(domain),
        )
    }

    /// `(value − loc)/scale` after dtype, shape and support checks.
    fn standardize(&self, value: &Tensor) -> Result<Tensor> {
        let v = self.checked_value(value)?;
        Ok(v.broadcast_sub(&self.loc)?.broadcast_div(&self.scale)?)
    }
}

fn affine_f(loc: f64, scale: f64, z: f64) -> f64 {
    loc + scale * z
}

/// Gradients of `loc + scale · z`: (g, g · z); `z` is noise and gets none.
fn affine_bwd(
    _loc: &Tensor,
    _scale: &Tensor,
    z: &Tensor,
    _res: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    Ok((Some(g.clone()), Some((g * z)?), None))
}

/// Gradient of `log f(z) − ln scale` in `scale` for fixed noise `z`: −g/scale.
fn log_scale_bwd(
    scale: &Tensor,
    _z: &Tensor,
    _res: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>)> {
    Ok((Some((g / scale)?.neg()?), None))
}

/// Gradients of `log f(z) − ln scale` with `z = (x − loc)/scale`, as tensor ops:
/// ∂/∂x = f'/f(z)/scale, ∂/∂loc = −∂/∂x, ∂/∂scale = −(z f'/f(z) + 1)/scale.
fn log_prob_bwd<F: StandardForm>(
    x: &Tensor,
    loc: &Tensor,
    scale: &Tensor,
    _res: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    // At x = ±∞ the log density is −∞ whatever loc and scale are: zero gradients
    // there, from z = 0 in place of ±∞ (f'/f(±∞) · ∞ would be NaN for some families).
    let inf = x.abs()?.eq(f64::INFINITY)?;
    let g = &inf.where_cond(&g.zeros_like()?, g)?;
    let z = ((x - loc)? / scale)?;
    let z = inf.where_cond(&z.zeros_like()?, &z)?;
    // z = ±∞ from overflow ((x − loc)/scale with a subnormal scale, or x − loc past
    // MAX): ±MAX instead, where f'/f is finite or ±∞ for every family (Cauchy's
    // −2z/(1 + z²) is ∞/∞ at ∞) and z·f'/f(z) keeps its sign and limit.
    let max = if z.dtype() == DType::F32 {
        f32::MAX as f64
    } else {
        f64::MAX
    };
    let z = z.clamp(-max, max)?;
    let d = F::dlog_density(&z)?;
    let gx = ((g * &d)? / scale)?;
    let gscale = ((g * ((z * d)? + 1.0)?)? / scale)?.neg()?;
    Ok((Some(gx.clone()), Some(gx.neg()?), Some(gscale)))
}

fn cdf_bwd<F: StandardForm>(z: &Tensor, _y: &Tensor, g: &Tensor) -> CResult<Tensor> {
    let pdf = F::log_density(z)?.exp()?;
    g * pdf
}

fn icdf_bwd<F: StandardForm>(_q: &Tensor, z: &Tensor, g: &Tensor) -> CResult<Tensor> {
    let inv_pdf = F::log_density(z)?.neg()?.exp()?;
    g * inv_pdf
}

impl<F: StandardForm> Distribution for LocationScale<F> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn batch_shape(&self) -> &[usize] {
        &self.batch_shape
    }

    fn event_shape(&self) -> &[usize] {
        &[]
    }

    fn support(&self) -> Constraint {
        F::support(&self.params)
    }

    fn device(&self) -> &Device {
        self.loc.device()
    }

    fn dtype(&self) -> DType {
        self.loc.dtype()
    }

    fn has_rsample(&self) -> bool {
        true
    }

    fn validate_args(&self) -> bool {
        self.validate
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let z = self.standard(sample_shape, rng)?;
        self.draw_from_noise(&z)
    }

    fn rsample_and_log_prob(
        &self,
        sample_shape: &[usize],
        rng: &mut Generator,
    ) -> Result<(Tensor, Tensor)> {
        let z = self.standard(sample_shape, rng)?;
        let x = self.draw_from_noise(&z)?;
        let lp = apply2(
            &self.scale,
            &z,
            Map2 {
                name: "loc_scale_log_prob_from_noise",
                f: |scale: f64, z: f64| F::log_density_scalar(z) - scale.ln(),
                f32: |scale: f64, z: f64| F::log_density_scalar(z) - ln_for_f32(scale),
                bwd: Some(log_scale_bwd),
            },
        )?;
        Ok((x, lp))
    }

    // One fused pass: log f((x − loc)/scale) − ln scale.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let v = self.checked_value(value)?;
        apply3(
            &v,
            &self.loc,
            &self.scale,
            Map3 {
                name: "loc_scale_log_prob",
                f: |x: f64, loc: f64, scale: f64| {
                    F::log_density_scalar((x - loc) / scale) - scale.ln()
                },
                f32: |x: f64, loc: f64, scale: f64| {
                    F::log_density_scalar((x - loc) / scale) - ln_for_f32(scale)
                },
                bwd: Some(log_prob_bwd::<F>),
            },
        )
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let z = self.standardize(value)?;
        apply1(
            &z,
            Map1 {
                name: "standard_cdf",
                f: F::cdf_scalar,
                bwd: Some(cdf_bwd::<F>),
            },
        )
    }

    fn icdf(&self, q: &Tensor) -> Result<Tensor> {
        let q = self.argument("q", q, &Constraint::UnitInterval)?;
        let z = apply1(
            &q,
            Map1 {
                name: "standard_icdf",
                f: F::icdf_scalar,
                bwd: Some(icdf_bwd::<F>),
            },
        )?;
        F::quantile_from_standard(&z, &self.loc, &self.scale, &self.params)
    }

    fn entropy(&self) -> Result<Tensor> {
        Ok((self.scale.log()? + F::ENTROPY)?)
    }

    fn mean(&self) -> Result<Tensor> {
        Ok(affine_const(&self.loc, &self.scale, F::MEAN)?)
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(affine_const(&self.loc, &self.scale, F::MODE)?)
    }

    fn variance(&self) -> Result<Tensor> {
        if F::VARIANCE.is_infinite() {
            return Ok((self.scale.zeros_like()? + f64::INFINITY)?);
        }
        Ok((self.scale.sqr()? * F::VARIANCE)?)
    }

    fn stddev(&self) -> Result<Tensor> {
        if F::VARIANCE.is_infinite() {
            return Ok((self.scale.zeros_like()? + f64::INFINITY)?);
        }
        Ok((&self.scale * F::VARIANCE.sqrt())?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        crate::distribution::expand_extent(self.name, batch_shape)?;
        let params = self
            .params
            .iter()
            .map(|p| {
                p.broadcast_as(batch_shape).map_err(|_| {
                    Error::shape(
                        self.name,
                        format!(
                            "cannot expand batch_shape {:?} to {:?}",
                            self.batch_shape, batch_shape
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Tensor> = params.iter().collect();
        Ok(Box::new(
            Self::named_from_params(self.name, &refs, Some(false)).map(|mut d| {
                d.validate = self.validate;
                d
            })?,
        ))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `loc + scale · c` for a constant `c`, where an infinite or NaN `c` gives that value
/// everywhere (scale > 0) rather than 0·∞ = NaN.
fn affine_const(loc: &Tensor, scale: &Tensor, c: f64) -> CResult<Tensor> {
    if !c.is_finite() {
        return loc.zeros_like()? + c;
    }
    if c == 0.0 {
        return Ok(loc.clone());
    }
    loc + (scale * c)?
}

/// 0 where `lo <= z < hi` (either bound optional) and −∞ elsewhere, with no gradient:
/// the log of a support indicator, added to the log density of families on a half line
/// or an interval.
pub(crate) fn log_indicator(z: &Tensor, lo: Option<f64>, hi: Option<f64>) -> Result<Tensor> {
    let mut mask = z.ones_like()?;
    if let Some(lo) = lo {
        mask = (mask * z.ge(lo)?.to_dtype(z.dtype())?)?;
    }
    if let Some(hi) = hi {
        mask = (mask * z.lt(hi)?.to_dtype(z.dtype())?)?;
    }
    Ok(mask.log()?)
}
