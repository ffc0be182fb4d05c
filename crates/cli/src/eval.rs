//! `candle-dist eval`: densities, CDFs and moments of a distribution.

use crate::dists::{self, fmt_num};
use crate::DTypeArg;
use candle_core::Tensor;
use candle_distributions::Error;

/// Options of `candle-dist eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The distribution and its parameters.
    #[command(flatten)]
    pub spec: dists::DistArgs,
    /// A point at which to evaluate log_prob and cdf (repeat for several).
    #[arg(short, long = "value", value_name = "X", allow_hyphen_values = true)]
    pub values: Vec<String>,
    /// Floating-point type of parameters and values.
    #[arg(long, value_enum, default_value_t = DTypeArg::F64)]
    pub dtype: DTypeArg,
}

/// A method's scalar result as text: the number, or `n/a` where the distribution does
/// not implement the method. Other errors are returned.
fn scalar_or_na(
    r: candle_distributions::Result<Tensor>,
    dtype: candle_core::DType,
) -> Result<String, String> {
    match r {
        Ok(t) => Ok(dists::host(&t)?
            .iter()
            .map(|v| fmt_num(*v, dtype))
            .collect::<Vec<_>>()
            .join(", ")),
        Err(Error::NotImplemented { .. }) => Ok("n/a".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `candle-dist eval`.
pub fn run(args: &EvalArgs) -> Result<(), String> {
    let dtype = args.dtype.dtype();
    let values: Vec<f64> = args
        .values
        .iter()
        .map(|s| dists::parse_number("--value", s))
        .collect::<Result<_, _>>()?;
    let built = dists::build(&args.spec.dist, &args.spec.params, dtype)?;
    let d = built.dist.as_ref();

    let rows = [
        ("mean", scalar_or_na(d.mean(), dtype)?),
        ("mode", scalar_or_na(d.mode(), dtype)?),
        ("variance", scalar_or_na(d.variance(), dtype)?),
        ("stddev", scalar_or_na(d.stddev(), dtype)?),
        ("entropy", scalar_or_na(d.entropy(), dtype)?),
    ];
    // Evaluate everything before printing, so that an error prints nothing else.
    let (lp, cdf) = if values.is_empty() {
        (vec![], None)
    } else {
        let v = Tensor::new(values.as_slice(), d.device())
            .and_then(|t| t.to_dtype(dtype))
            .map_err(|e| e.to_string())?;
        let lp = dists::host(&d.log_prob(&v).map_err(|e| e.to_string())?)?;
        let cdf = match d.cdf(&v) {
            Ok(t) => Some(dists::host(&t)?),
            Err(Error::NotImplemented { .. }) => None,
            Err(e) => return Err(e.to_string()),
        };
        (lp, cdf)
    };

    outln!("{}  [{}]", built.label(), args.dtype);
    for (name, v) in &rows {
        outln!("{name:<10} {v}");
    }
    if !values.is_empty() {
        // Round-trip the values through the dtype so f32 shows what was evaluated.
        outln!();
        outln!("{:>24} {:>24} {:>24}", "value", "log_prob", "cdf");
        for (i, x) in values.iter().enumerate() {
            let c = cdf
                .as_ref()
                .map_or_else(|| "n/a".to_string(), |c| fmt_num(c[i], dtype));
            outln!(
                "{:>24} {:>24} {:>24}",
                fmt_num(*x, dtype),
                fmt_num(lp[i], dtype),
                c
            );
        }
    }
    Ok(())
}
