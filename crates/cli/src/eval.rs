//! `candle-dist eval`: densities, CDFs and moments of a distribution.

use crate::dists;
use crate::num::{self, fmt_num, Digits};
use crate::DTypeArg;
use candle_core::Tensor;
use candle_distributions::Error;

/// Options of `candle-dist eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The distribution and its parameters.
    #[command(flatten)]
    pub spec: dists::DistArgs,
    /// A point at which to evaluate log_prob and cdf (repeat for several); for
    /// Dirichlet and LogisticNormal, its coordinates comma-separated (0.2,0.3,0.5); for
    /// the discrete families an integer of the support (a class index for Categorical,
    /// a one-hot or count vector for OneHotCategorical and Multinomial), whose pmf is
    /// printed too.
    #[arg(short, long = "value", value_name = "X", allow_hyphen_values = true)]
    pub values: Vec<String>,
    /// Floating-point type of parameters and values.
    #[arg(long, value_enum, default_value_t = DTypeArg::F64)]
    pub dtype: DTypeArg,
    /// Significant digits of the printed numbers (1 to 17), or `full` for the shortest
    /// text that reads back to the exact value.
    #[arg(long, value_name = "N", default_value = "6", value_parser = num::parse_digits)]
    pub digits: Digits,
}

/// A method's scalar result as text: the number, or `n/a` where the distribution does
/// not implement the method. Other errors are returned.
fn scalar_or_na(
    r: candle_distributions::Result<Tensor>,
    dtype: candle_core::DType,
    digits: Digits,
) -> Result<String, String> {
    match r {
        Ok(t) => Ok(dists::host(&t)?
            .iter()
            .map(|v| fmt_num(*v, dtype, digits))
            .collect::<Vec<_>>()
            .join(", ")),
        Err(Error::NotImplemented { .. }) => Ok("n/a".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `candle-dist eval`.
pub fn run(args: &EvalArgs) -> Result<(), String> {
    let dtype = args.dtype.dtype();
    let values: Vec<dists::ParamValue> = args
        .values
        .iter()
        .map(|s| {
            let v = dists::parse_numbers("--value", s)?;
            for x in v.numbers() {
                dists::check_fits(&format!("--value {s}"), *x, dtype)?;
            }
            Ok(v)
        })
        .collect::<Result<_, String>>()?;
    let digits = args.digits;
    let built = dists::build(&args.spec.dist, &args.spec.params, dtype)?;
    let d = built.dist.as_ref();
    let k = built.event_size();
    for (s, v) in args.values.iter().zip(&values) {
        let ok = match v {
            dists::ParamValue::Scalar(_) => !built.is_vector(),
            dists::ParamValue::Vector(xs) => built.is_vector() && xs.len() == k,
        };
        if !ok {
            return Err(if built.is_vector() {
                format!(
                    "--value {s}: a point of {} has {k} coordinates, comma-separated",
                    built.label()
                )
            } else {
                format!(
                    "--value {s}: {} has scalar values (give one number per --value)",
                    built.spec.name
                )
            });
        }
    }

    let rows = [
        ("mean", scalar_or_na(d.mean(), dtype, digits)?),
        ("mode", scalar_or_na(d.mode(), dtype, digits)?),
        ("variance", scalar_or_na(d.variance(), dtype, digits)?),
        ("stddev", scalar_or_na(d.stddev(), dtype, digits)?),
        ("entropy", scalar_or_na(d.entropy(), dtype, digits)?),
    ];
    // Evaluate everything before printing, so that an error prints nothing else.
    let (lp, cdf) = if values.is_empty() {
        (vec![], None)
    } else {
        // Points stacked along a leading dimension: shape [n] or [n, K].
        let flat: Vec<f64> = values.iter().flat_map(|v| v.numbers().to_vec()).collect();
        let shape: Vec<usize> = if built.is_vector() {
            vec![values.len(), k]
        } else {
            vec![values.len()]
        };
        let v = Tensor::from_vec(flat, shape, d.device())
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
        let f = |v: f64| fmt_num(v, dtype, digits);
        // Discrete families also show the mass itself, P(X = x) = exp(log_prob).
        let discrete = dists::is_discrete(built.spec);
        let table: Vec<[String; 4]> = values
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let c = cdf.as_ref().map_or_else(|| "n/a".to_string(), |c| f(c[i]));
                // A point of the event shape prints as its coordinates joined by commas
                // (one field, as typed).
                let x = x.numbers().iter().map(|v| f(*v)).collect::<Vec<_>>();
                let pmf = if discrete {
                    f(lp[i].exp())
                } else {
                    String::new()
                };
                [x.join(","), f(lp[i]), pmf, c]
            })
            .collect();
        let w = table
            .iter()
            .flatten()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(10);
        if discrete {
            outln!(
                "{:>w$} {:>w$} {:>w$} {:>w$}",
                "value",
                "log_prob",
                "pmf",
                "cdf"
            );
            for [x, l, p, c] in &table {
                outln!("{x:>w$} {l:>w$} {p:>w$} {c:>w$}");
            }
        } else {
            outln!("{:>w$} {:>w$} {:>w$}", "value", "log_prob", "cdf");
            for [x, l, _, c] in &table {
                outln!("{x:>w$} {l:>w$} {c:>w$}");
            }
        }
    }
    Ok(())
}
