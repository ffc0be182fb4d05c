//! The von Mises distribution on the circle.

use crate::constraints::Constraint;
use crate::distribution::{params_methods, Distribution, Params};
use crate::error::Result;
use crate::rng::Generator;
use crate::samplers::von_mises_rsample;
use crate::special::kernel::{apply1, apply2, Map1, Map2};
use crate::special::{i0e, i1e, von_mises as vm};
use candle_core::Tensor;
use std::f64::consts::PI;

/// The von Mises distribution with mean direction `loc` and `concentration` κ > 0.
///
/// Density `p(x) = e^{κ cos(x − loc)} / (2π I₀(κ))`, periodic in x (angles in
/// radians). Mean and mode loc, circular variance 1 − I₁(κ)/I₀(κ) (torch's
/// `variance`), entropy κ(1 − I₁/I₀) + ln(2π I₀(κ)). `rsample` draws by Best & Fisher's
/// method and differentiates implicitly, dθ/dκ = −(∂F/∂κ)/p (torch has no VonMises
/// rsample).
///
/// # Circle convention
///
/// Angles are real numbers taken modulo 2π. Draws are wrapped into the principal
/// interval [−π, π) whatever `loc` is (as torch's `sample`), and `log_prob` accepts any
/// real angle (the density is 2π-periodic). `cdf(x)` is the mass of the arc that starts
/// half a turn before the mean direction: `∫_{loc−π}^{x} p(t) dt` for x in
/// [loc − π, loc + π] (there it equals `scipy.stats.vonmises.cdf`); any other x is
/// first reduced by whole turns into [loc − π, loc + π). So `cdf` accepts every real
/// value, `cdf(sample)` is uniform on [0, 1] for every `loc`, and `cdf` is
/// differentiable in x, loc and κ (d/dx = p, d/dloc = −p).
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_distributions::{Distribution, Generator, VonMises};
/// let kappa = Var::new(4.0f64, &Device::Cpu)?;
/// let d = VonMises::new(&Tensor::new(0.5f64, &Device::Cpu)?, kappa.as_tensor())?;
/// let x = d.rsample(&[100], &mut Generator::new(3))?;
/// let g = x.cos()?.mean_all()?.backward()?; // d E[cos x]/dκ through the draws
/// assert!(g.get(&kappa).is_some());
/// # Ok::<(), candle_distributions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct VonMises {
    p: Params,
}

const NAME: &str = "VonMises";

impl VonMises {
    crate::distribution::params_constructors! {
        /// VonMises(loc, concentration), broadcast against each other. Parameters are tensors
        /// or numbers (dtype rules: [`distribution`](crate::distribution)).
        "VonMises", Self::build; loc, concentration
    }

    fn build(loc: &Tensor, concentration: &Tensor, validate: Option<bool>) -> Result<Self> {
        let p = Params::new(
            NAME,
            &[
                ("loc", loc, Constraint::Real),
                ("concentration", concentration, Constraint::Positive),
            ],
            validate,
        )?;
        Ok(VonMises { p })
    }

    /// The mean direction, broadcast to `batch_shape`.
    pub fn loc(&self) -> &Tensor {
        self.p.get(0)
    }

    /// κ, broadcast to `batch_shape`.
    pub fn concentration(&self) -> &Tensor {
        self.p.get(1)
    }

    /// Turns argument checks of `log_prob`/`cdf` on or off for this instance.
    pub fn set_validate_args(&mut self, on: bool) {
        self.p.set_validate(on);
    }

    /// A(κ) = I₁(κ)/I₀(κ), the mean resultant length.
    fn resultant(&self) -> Result<Tensor> {
        let k = self.p.w(1);
        Ok((i1e(k)? / i0e(k)?)?)
    }

    /// ln(2π I₀(κ)) − κ = ln(2π i0e(κ)).
    fn log_norm_minus_kappa(&self, k: &Tensor) -> Result<Tensor> {
        Ok((i0e(k)?.log()? + (2.0 * PI).ln())?)
    }
}

impl Distribution for VonMises {
    params_methods!(p);
    fn name(&self) -> &'static str {
        NAME
    }

    fn support(&self) -> Constraint {
        Constraint::Real
    }

    fn rsample(&self, sample_shape: &[usize], rng: &mut Generator) -> Result<Tensor> {
        let shape = self.p.sample_shape(sample_shape)?;
        let k = self.concentration().broadcast_as(shape.as_slice())?;
        let theta = von_mises_rsample(&k, rng.next_draw())?;
        // loc is wrapped first: for |loc| ≫ 2π (loc = −3.4e38 in f32) θ + loc would
        // lose θ and a wrap by subtracting whole turns would lose everything.
        let x = theta.broadcast_add(&wrap_angle(self.loc())?)?;
        wrap_angle(&x)
    }

    // κ (cos(x − loc) − 1) − ln(2π i0e(κ))
    fn log_prob(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Real)?;
        let (loc, k) = (self.p.w_at(0, &x)?, self.p.w_at(1, &x)?);
        let c = ((x - loc)?.cos()? - 1.0)?;
        self.p
            .out_for(value, ((&k * c)? - self.log_norm_minus_kappa(&k)?)?)
    }

    // F(θ) of the centred law at θ = x − loc reduced into [−π, π] (see "Circle
    // convention").
    fn cdf(&self, value: &Tensor) -> Result<Tensor> {
        let x = self.p.wide_value(value, &Constraint::Real)?;
        let (loc, k) = (self.p.w_at(0, &x)?, self.p.w_at(1, &x)?);
        let theta = reduce_angle(&(x - loc)?)?;
        let f = apply2(
            &theta,
            &k,
            Map2 {
                name: "von_mises_cdf",
                f: vm::von_mises_cdf,
                f32: vm::von_mises_cdf,
                bwd: Some(cdf_bwd),
            },
        )?;
        self.p.out_for(value, f)
    }

    fn entropy(&self) -> Result<Tensor> {
        let k = self.p.w(1);
        let a = self.resultant()?;
        self.p
            .out(((k * (1.0 - a)?)? + self.log_norm_minus_kappa(k)?)?)
    }

    fn mean(&self) -> Result<Tensor> {
        Ok(self.loc().clone())
    }

    fn mode(&self) -> Result<Tensor> {
        Ok(self.loc().clone())
    }

    fn variance(&self) -> Result<Tensor> {
        self.p.out((1.0 - self.resultant()?)?)
    }

    fn expand(&self, batch_shape: &[usize]) -> Result<Box<dyn Distribution>> {
        let t = self.p.expanded(batch_shape)?;
        let mut d = VonMises::build(&t[0], &t[1], Some(false))?;
        d.set_validate_args(self.validate_args());
        Ok(Box::new(d))
    }
}

/// θ itself on [−π, π], else θ less the whole turns that bring it into [−π, π).
/// The turns carry no gradient, so d(result)/dθ = 1.
/// `x` wrapped into [−π, π) by an exact floating remainder in f64 (`rem_euclid`, which
/// has no rounding error, unlike x − 2π·⌊(x + π)/2π⌋ for large |x|); the whole turns
/// carry no gradient, so d/dx = 1.
fn wrap_angle(x: &Tensor) -> Result<Tensor> {
    apply1(
        x,
        Map1 {
            name: "von_mises_wrap_angle",
            f: |x: f64| {
                // Angles already on the principal arc are kept bit for bit (x + π would
                // round away a draw of 1e-150 at κ = 1e300).
                if (-PI..PI).contains(&x) {
                    return x;
                }
                let r = (x + PI).rem_euclid(2.0 * PI) - PI;
                // rem_euclid may return 2π itself for tiny negative x + π.
                if r >= PI {
                    r - 2.0 * PI
                } else {
                    r
                }
            },
            bwd: Some(|_x, _y, g| Ok(g.clone())),
        },
    )
}

fn reduce_angle(theta: &Tensor) -> Result<Tensor> {
    let turns = ((theta + PI)? / (2.0 * PI))?.floor()?.detach();
    // Keep θ = π as is (F(π) = 1, the end of the arc), so values in [loc − π, loc + π]
    // are never moved.
    let inside = theta.abs()?.le(PI)?;
    let turns = inside.where_cond(&turns.zeros_like()?, &turns)?;
    Ok((theta - (turns * (2.0 * PI))?)?)
}

/// Gradients of F(θ; κ): the density in θ, ∂F/∂κ in κ.
fn cdf_bwd(
    theta: &Tensor,
    k: &Tensor,
    _f: &Tensor,
    g: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
    let log_norm = (i0e(k)?.log()? + (2.0 * PI).ln())?;
    let pdf = ((k * (theta.cos()? - 1.0)?)? - log_norm)?.exp()?;
    let dk = apply2(
        theta,
        k,
        Map2 {
            name: "von_mises_cdf_dkappa",
            f: vm::von_mises_cdf_dkappa,
            f32: vm::von_mises_cdf_dkappa,
            bwd: None,
        },
    )?;
    Ok((Some((g * pdf)?), Some((g * dk)?)))
}
