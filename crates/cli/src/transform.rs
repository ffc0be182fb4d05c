//! `candle-dist transform NAME --value x`: apply a transform (or its inverse) to a
//! point, with the log-determinant of its Jacobian and the round trip.

use crate::dists::{self, ParamValue};
use crate::num::{self, fmt_num, Digits};
use crate::DTypeArg;
use candle_core::{Device, Tensor};
use candle_distributions::transforms::{
    AbsTransform, AffineTransform, CorrCholeskyTransform, ExpTransform, LowerCholeskyTransform,
    PositiveDefiniteTransform, PowerTransform, SigmoidTransform, SoftmaxTransform,
    SoftplusTransform, StickBreakingTransform, TanhTransform, Transform,
};

/// Options of `candle-dist transform`.
///
/// Example: `candle-dist transform stickbreaking --value 0.5,-1,2`.
#[derive(clap::Args, Debug)]
pub struct TransformArgs {
    /// The transform: exp, power (exponent), sigmoid, softplus, tanh, abs, affine (loc,
    /// scale), softmax, stickbreaking, lowercholesky, corrcholesky, positivedefinite
    /// (case-insensitive; `_` and `-` ignored). Matrix transforms take the D×D entries
    /// row by row (corrcholesky: the D(D−1)/2 unconstrained entries).
    pub name: String,
    /// A parameter by its torch name, as NAME=VALUE (power: exponent; affine: loc and
    /// scale).
    #[arg(
        short,
        long = "param",
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub params: Vec<String>,
    /// The point: one number or comma-separated numbers (one event).
    #[arg(short, long, value_name = "X", allow_hyphen_values = true)]
    pub value: String,
    /// Apply the inverse transform instead.
    #[arg(long)]
    pub inverse: bool,
    /// Floating-point type of the computation.
    #[arg(long, value_enum, default_value_t = DTypeArg::F64)]
    pub dtype: DTypeArg,
    /// Significant digits of the printed numbers (1 to 17), or `full`.
    #[arg(long, value_name = "N", default_value = "6", value_parser = num::parse_digits)]
    pub digits: Digits,
}

/// The known names, for errors and help.
const NAMES: &str = "exp, power, sigmoid, softplus, tanh, abs, affine, softmax, stickbreaking, \
                     lowercholesky, corrcholesky, positivedefinite";

/// Runs `candle-dist transform`.
pub fn run(args: &TransformArgs) -> Result<(), String> {
    let dtype = args.dtype.dtype();
    let key: String = args
        .name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    let params = parse_params(&args.params)?;
    let t = build(&key, &params)?;
    let name = t.name();
    let t: Box<dyn Transform> = if args.inverse { t.inv() } else { t };
    let x = dists::parse_numbers("--value", &args.value)?;
    let xs = x.numbers().to_vec();
    let shape = event_shape(&key, args.inverse, xs.len())?;
    let xt = Tensor::from_vec(xs, shape.as_slice(), &Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .map_err(|e| e.to_string())?;
    let (y, ladj) = t.forward_and_log_det(&xt).map_err(|e| e.to_string())?;
    let back = t.inverse(&y).map_err(|e| e.to_string())?;
    let f = |v: &[f64]| {
        v.iter()
            .map(|x| fmt_num(*x, dtype, args.digits))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ladj_text = f(&dists::host(&ladj)?);
    outln!(
        "{}{}  [{}]  domain: {}  codomain: {}",
        name,
        if args.inverse { " (inverse)" } else { "" },
        args.dtype,
        t.domain(),
        t.codomain()
    );
    outln!("x              [{}]", f(&dists::host(&xt)?));
    outln!("y = f(x)       [{}]", f(&dists::host(&y)?));
    outln!("log|det J|     {ladj_text}");
    outln!("f⁻¹(y)         [{}]", f(&dists::host(&back)?));
    Ok(())
}

fn parse_params(params: &[String]) -> Result<Vec<(String, f64)>, String> {
    params
        .iter()
        .map(|p| {
            let (k, v) = dists::parse_param(p)?;
            match v {
                ParamValue::Scalar(x) => Ok((k, x)),
                ParamValue::Vector(_) => {
                    Err(format!("transform parameter `{k}` must be one number"))
                }
            }
        })
        .collect()
}

fn build(key: &str, params: &[(String, f64)]) -> Result<Box<dyn Transform>, String> {
    let get = |name: &str| -> Result<f64, String> {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("{key}: missing parameter `{name}`"))
    };
    let allowed: &[&str] = match key {
        "power" => &["exponent"],
        "affine" => &["loc", "scale"],
        _ => &[],
    };
    if let Some((k, _)) = params.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "{key}: unknown parameter `{k}` (takes: {})",
            if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            }
        ));
    }
    let e = |e: candle_distributions::Error| e.to_string();
    Ok(match key {
        "exp" => Box::new(ExpTransform),
        "power" => Box::new(PowerTransform::new(get("exponent")?).map_err(e)?),
        "sigmoid" => Box::new(SigmoidTransform),
        "softplus" => Box::new(SoftplusTransform),
        "tanh" => Box::new(TanhTransform),
        "abs" => Box::new(AbsTransform),
        "affine" => Box::new(AffineTransform::new(get("loc")?, get("scale")?).map_err(e)?),
        "softmax" => Box::new(SoftmaxTransform),
        "stickbreaking" => Box::new(StickBreakingTransform),
        "lowercholesky" => Box::new(LowerCholeskyTransform),
        "corrcholesky" => Box::new(CorrCholeskyTransform),
        "positivedefinite" => Box::new(PositiveDefiniteTransform),
        _ => return Err(format!("unknown transform `{key}`; known: {NAMES}")),
    })
}

/// The shape of one event of the input: a scalar or vector as given, a D×D matrix for
/// the matrix transforms (and the inverse of CorrCholesky), which need n = D² entries.
fn event_shape(key: &str, inverse: bool, n: usize) -> Result<Vec<usize>, String> {
    let square =
        matches!(key, "lowercholesky" | "positivedefinite") || (key == "corrcholesky" && inverse);
    if square {
        let d = (n as f64).sqrt().round() as usize;
        if d * d != n || d == 0 {
            return Err(format!(
                "{key}: --value needs D×D entries (row by row), got {n}"
            ));
        }
        return Ok(vec![d, d]);
    }
    let vector = matches!(key, "softmax" | "stickbreaking" | "corrcholesky");
    Ok(if vector || n > 1 { vec![n] } else { vec![] })
}
