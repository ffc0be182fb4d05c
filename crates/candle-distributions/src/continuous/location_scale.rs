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
use crate::special::kernel::{
    alloc_buffer, apply1, apply2_reducing, apply3, apply3_reducing, par_apply, sum_ratio_to,
    sum_to, unbroadcast, Map1, Map2, Map3,
};
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
    /// `(x − loc)/scale` for values `x` (checked and broadcast), the argument of
    /// `cdf_scalar`; families whose `scale` can overflow where the standardized value
    /// cannot override it (Uniform: high − low = ∞ for low = −MAX, high = MAX).
    fn standardize_value(
        x: &Tensor,
        loc: &Tensor,
        scale: &Tensor,
        params: &[Tensor],
    ) -> Result<Tensor> {
        let _ = params;
        Ok(x.broadcast_sub(loc)?.broadcast_div(scale)?)
    }
    /// For a family parameterized by a rate λ = 1/scale (Exponential): λ, from the
    /// parameters (already broadcast). `LocationScale` then works from λ itself
    /// (`x = loc + z/λ`, `log f((x − loc)·λ) + ln λ`, entropy `H(Z) − ln λ`), since
    /// 1/λ overflows to ∞ for a subnormal rate and ∞·0 is NaN. Default: none.
    fn rate(params: &[Tensor]) -> Option<Tensor> {
        let _ = params;
        None
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
    /// `log f(dx/scale) − ln scale` where `dx/scale` overflows to ±∞ although `dx` is
    /// finite (a subnormal scale): −∞ (the default) for every family whose log density
    /// falls faster than logarithmically; heavy tails override it (Cauchy:
    /// `−ln π − 2 ln|dx| + ln scale`).
    fn log_density_beyond(dx: f64, ln_scale: f64) -> f64 {
        let _ = (dx, ln_scale);
        f64::NEG_INFINITY
    }
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
    pub(crate) fn standard(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
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

    /// `loc + scale · z` in one fused pass (`loc + z/rate` for a rate family), then the
    /// family's clamp into its support.
    fn draw_from_noise(&self, z: &Tensor) -> Result<Tensor> {
        if let Some(rate) = F::rate(&self.params) {
            let x = rate_affine(&self.loc, &rate, z)?;
            return F::clamp_draw(x, &self.params);
        }
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

    /// This distribution with its parameters in f64 when the argument `value`
    /// promotes it ([`result_dtype`](crate::distribution::result_dtype): an f64 value
    /// given to an f32 distribution), else None. The conversions stay on the graph.
    pub(crate) fn widened_for(&self, value: &Tensor) -> Result<Option<Self>> {
        let dt = crate::distribution::result_dtype(self.dtype(), &self.batch_shape, value);
        if dt == self.dtype() {
            return Ok(None);
        }
        let mut w = self.clone();
        w.params = w
            .params
            .iter()
            .map(|p| p.to_dtype(dt))
            .collect::<candle_core::Result<Vec<_>>>()?;
        // loc and scale anew from the widened parameters: Uniform's width high − low
        // taken in f32 and then widened would keep the f32 rounding.
        (w.loc, w.scale) = F::loc_scale(&w.params)?;
        Ok(Some(w))
    }

    /// `(value − loc)/scale` after dtype, shape and support checks.
    fn standardize(&self, value: &Tensor) -> Result<Tensor> {
        let v = self.checked_value(value)?;
        F::standardize_value(&v, &self.loc, &self.scale, &self.params)
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

/// `loc + z/rate` (draws and quantiles of a rate family), broadcast inside the kernel
/// so that the backward owns its sums ([`apply3_reducing`]).
fn rate_affine(loc: &Tensor, rate: &Tensor, z: &Tensor) -> Result<Tensor> {
    apply3_reducing(
        &unbroadcast(loc)?,
        &unbroadcast(rate)?,
        z,
        Map3 {
            name: "loc_rate_affine",
            f: |loc: f64, rate: f64, z: f64| loc + z / rate,
            f32: |loc: f64, rate: f64, z: f64| loc + z / rate,
            bwd: Some(rate_affine_bwd),
        },
    )
}

/// Gradients of `loc + z/rate`: g, −g·z/rate², g/rate. The rate's is summed over its
/// broadcast dimensions before either division ((Σ g z)/rate/rate): g·z/rate² per
/// element underflows rate² to 0 or overflows, and an empty sum would be 0·∞.
fn rate_affine_bwd(
    loc: &Tensor,
    rate: &Tensor,
    z: &Tensor,
    _res: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let gz = (g * z.broadcast_as(g.dims())?)?;
    let grate = (sum_ratio_to(&gz, rate, rate.dims())? / rate)?.neg()?;
    // Noise has no gradient; the standard quantiles of `icdf` do.
    let gz = on_graph(z, || sum_ratio_to(g, rate, z.dims()))?;
    Ok((Some(sum_to(g, loc.dims())?), Some(grate), gz))
}

/// Gradient of `log f(z) − ln scale` in `scale` for fixed noise `z`: −g/scale, summed
/// over the broadcast dimensions before the division.
fn log_scale_bwd(
    scale: &Tensor,
    _z: &Tensor,
    _res: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>)> {
    Ok((Some(sum_ratio_to(g, scale, scale.dims())?.neg()?), None))
}

/// Gradient of `log f(z) + ln rate` in `rate` for fixed noise `z`: g/rate.
fn log_rate_bwd(
    rate: &Tensor,
    _z: &Tensor,
    _res: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>)> {
    Ok((Some(sum_ratio_to(g, rate, rate.dims())?), None))
}

/// The per-element numerators of the `log_prob` gradients at the full shape of `g`:
/// `g·f'/f(z)` and `g·(z f'/f(z) + 1)`, with `z = (x − loc)/s`, or `(x − loc)·s` for a
/// rate `s`. The callers divide (or multiply) by `s` after summing over broadcast
/// dimensions ([`sum_ratio_to`]).
fn log_prob_terms<F: StandardForm>(
    x: &Tensor,
    loc: &Tensor,
    s: &Tensor,
    g: &Tensor,
    rate: bool,
) -> CResult<(Tensor, Tensor)> {
    let full = g.dims();
    let (x, loc, s) = (
        x.broadcast_as(full)?,
        loc.broadcast_as(full)?,
        s.broadcast_as(full)?,
    );
    // At x = ±∞ the log density is −∞ whatever loc and scale are: zero gradients
    // there, from z = 0 in place of ±∞ (f'/f(±∞) · ∞ would be NaN for some families).
    let inf = x.abs()?.eq(f64::INFINITY)?;
    let g = &inf.where_cond(&g.zeros_like()?, g)?;
    let dx = (x - loc)?;
    let z = if rate { (dx * s)? } else { (dx / s)? };
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
    let nx = (g * &d)?;
    let ns = (g * ((z * d)? + 1.0)?)?;
    Ok((nx, ns))
}

/// `(x − loc)/scale`, or `x/scale − loc/scale` where `x − loc` overflows with both
/// finite (x = MAX, loc = −MAX, scale = MAX has z = 2).
fn standardized(x: f64, loc: f64, scale: f64, z: f64) -> f64 {
    if z.is_infinite() && x.is_finite() && loc.is_finite() {
        x / scale - loc / scale
    } else {
        z
    }
}

/// Gradients of `log f(z) − ln scale` with `z = (x − loc)/scale`, as tensor ops (so
/// they have derivatives of their own): ∂/∂x = f'/f(z)/scale, ∂/∂loc = −∂/∂x,
/// ∂/∂scale = −(z f'/f(z) + 1)/scale, each summed to its input's shape before the
/// division by scale. With a subnormal scale the per-element terms overflow to ±∞ of
/// both signs; the sum first gives the true result, finite or ±∞.
fn log_prob_bwd<F: StandardForm>(
    x: &Tensor,
    loc: &Tensor,
    scale: &Tensor,
    _res: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let (nx, ns) = log_prob_terms::<F>(x, loc, scale, g, false)?;
    // Only inputs on the graph get a gradient: the value is rarely one, and the loc of
    // a scale-only family is a constant 0.
    let gx = on_graph(x, || sum_ratio_to(&nx, scale, x.dims()))?;
    let gloc = on_graph(loc, || match &gx {
        Some(gx) if loc.dims() == x.dims() => gx.neg(),
        _ => sum_ratio_to(&nx, scale, loc.dims())?.neg(),
    })?;
    let gscale = on_graph(scale, || sum_ratio_to(&ns, scale, scale.dims())?.neg())?;
    Ok((gx, gloc, gscale))
}

/// `Some(grad())` if `t` is on the autograd graph (a variable or computed from one).
fn on_graph(t: &Tensor, grad: impl FnOnce() -> CResult<Tensor>) -> CResult<Option<Tensor>> {
    if t.track_op() {
        grad().map(Some)
    } else {
        Ok(None)
    }
}

/// Gradients of `log f(z) + ln rate` with `z = (x − loc)·rate`: ∂/∂x = rate·f'/f(z),
/// ∂/∂loc = −∂/∂x, ∂/∂rate = (z f'/f(z) + 1)/rate, the last summed before the division.
fn log_prob_rate_bwd<F: StandardForm>(
    x: &Tensor,
    loc: &Tensor,
    rate: &Tensor,
    _res: &Tensor,
    g: &Tensor,
) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let (nx, ns) = log_prob_terms::<F>(x, loc, rate, g, true)?;
    let nx = nx.broadcast_mul(rate)?;
    let gx = on_graph(x, || sum_to(&nx, x.dims()))?;
    let gloc = on_graph(loc, || match &gx {
        Some(gx) if loc.dims() == x.dims() => gx.neg(),
        _ => sum_to(&nx, loc.dims())?.neg(),
    })?;
    let grate = on_graph(rate, || sum_ratio_to(&ns, rate, rate.dims()))?;
    Ok((gx, gloc, grate))
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
        if let Some(rate) = F::rate(&self.params) {
            let lp = apply2_reducing(
                &unbroadcast(&rate)?,
                &z,
                Map2 {
                    name: "loc_rate_log_prob_from_noise",
                    f: |rate: f64, z: f64| F::log_density_scalar(z) + rate.ln(),
                    f32: |rate: f64, z: f64| F::log_density_scalar(z) + ln_for_f32(rate),
                    bwd: Some(log_rate_bwd),
                },
            )?;
            return Ok((x, lp));
        }
        let lp = apply2_reducing(
            &unbroadcast(&self.scale)?,
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

    // One fused pass: log f((x − loc)/scale) − ln scale, or log f((x − loc)·rate) + ln
    // rate. The parameters enter at the shapes they vary over ([`unbroadcast`]), so the
    // backward sums their gradients itself ([`log_prob_bwd`]); the value keeps its shape,
    // which is that of the result.
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        if let Some(w) = self.widened_for(value)? {
            return w.log_prob(value);
        }
        let v = self.checked_value(value)?;
        let loc = unbroadcast(&self.loc)?;
        if let Some(rate) = F::rate(&self.params) {
            return apply3_reducing(
                &v,
                &loc,
                &unbroadcast(&rate)?,
                Map3 {
                    name: "loc_rate_log_prob",
                    f: |x: f64, loc: f64, rate: f64| {
                        F::log_density_scalar((x - loc) * rate) + rate.ln()
                    },
                    f32: |x: f64, loc: f64, rate: f64| {
                        F::log_density_scalar((x - loc) * rate) + ln_for_f32(rate)
                    },
                    bwd: Some(log_prob_rate_bwd::<F>),
                },
            );
        }
        apply3_reducing(
            &v,
            &loc,
            &unbroadcast(&self.scale)?,
            Map3 {
                name: "loc_scale_log_prob",
                f: |x: f64, loc: f64, scale: f64| {
                    let dx = x - loc;
                    let z = dx / scale;
                    if z.is_infinite() && dx.is_finite() {
                        return F::log_density_beyond(dx, scale.ln());
                    }
                    F::log_density_scalar(standardized(x, loc, scale, z)) - scale.ln()
                },
                f32: |x: f64, loc: f64, scale: f64| {
                    F::log_density_scalar((x - loc) / scale) - ln_for_f32(scale)
                },
                bwd: Some(log_prob_bwd::<F>),
            },
        )
    }

    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        if let Some(w) = self.widened_for(value)? {
            return w.cdf(value);
        }
        let z = match F::rate(&self.params) {
            Some(rate) => self
                .checked_value(value)?
                .broadcast_sub(&self.loc)?
                .broadcast_mul(&rate)?,
            None => self.standardize(value)?,
        };
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
        if let Some(w) = self.widened_for(q)? {
            return w.icdf(q);
        }
        let q = self.argument("q", q, &Constraint::UnitInterval)?;
        let z = apply1(
            &q,
            Map1 {
                name: "standard_icdf",
                f: F::icdf_scalar,
                bwd: Some(icdf_bwd::<F>),
            },
        )?;
        if let Some(rate) = F::rate(&self.params) {
            return rate_affine(&self.loc, &rate, &z);
        }
        F::quantile_from_standard(&z, &self.loc, &self.scale, &self.params)
    }

    fn entropy(&self) -> Result<Tensor> {
        if let Some(rate) = F::rate(&self.params) {
            return Ok((rate.log()?.neg()? + F::ENTROPY)?);
        }
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
