//! `candle-dist kl P Q`: the Kullback–Leibler divergence KL(P ‖ Q), in closed form and
//! optionally by Monte Carlo.

use crate::dists;
use crate::num::{self, fmt_num, Digits};
use crate::DTypeArg;
use candle_distributions::{kl_divergence, kl_divergence_mc, Error, Generator};

/// Options of `candle-dist kl`.
///
/// Example: `candle-dist kl normal normal --p-param loc=0 --p-param scale=1
/// --q-param loc=1 --q-param scale=2 --mc 100000`; discrete pairs alike
/// (`candle-dist kl bernoulli poisson --p-param logits=-1 --q-param rate=0.5`).
#[derive(clap::Args, Debug)]
pub struct KlArgs {
    /// The first distribution P (the one the expectation is over), by name as in
    /// `sample` and `eval`.
    pub p: String,
    /// The second distribution Q.
    pub q: String,
    /// A parameter of P by its torch name, as NAME=VALUE (repeat for each; vectors
    /// comma-separated, as in `sample`).
    #[arg(
        long = "p-param",
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub p_params: Vec<String>,
    /// A parameter of Q by its torch name, as NAME=VALUE (repeat for each; vectors
    /// comma-separated, as in `sample`).
    #[arg(
        long = "q-param",
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub q_params: Vec<String>,
    /// Also estimate KL(P ‖ Q) by Monte Carlo from N draws of P (N >= 2), with its
    /// standard error; works for pairs without a closed form too.
    #[arg(long, value_name = "N")]
    pub mc: Option<usize>,
    /// Seed of the Philox generator (for --mc).
    #[arg(short, long, default_value_t = 0)]
    pub seed: u64,
    /// Floating-point type of the parameters and the result.
    #[arg(long, value_enum, default_value_t = DTypeArg::F64)]
    pub dtype: DTypeArg,
    /// Significant digits of the printed numbers (1 to 17), or `full`.
    #[arg(long, value_name = "N", default_value = "6", value_parser = num::parse_digits)]
    pub digits: Digits,
}

/// Runs `candle-dist kl`.
pub fn run(args: &KlArgs) -> Result<(), String> {
    let dtype = args.dtype.dtype();
    let p = dists::build(&args.p, &args.p_params, dtype).map_err(|e| format!("P: {e}"))?;
    let q = dists::build(&args.q, &args.q_params, dtype).map_err(|e| format!("Q: {e}"))?;
    let f = |v: f64| fmt_num(v, dtype, args.digits);

    // Compute everything before printing, so that an error prints nothing else.
    let closed = match kl_divergence(p.dist.as_ref(), q.dist.as_ref()) {
        Ok(t) => Some(dists::host(&t)?[0]),
        Err(Error::NotImplemented { .. }) if args.mc.is_some() => None,
        Err(Error::NotImplemented { reason, .. }) => {
            // The library's reason where it says more than "no closed form" (Binomial
            // pairs with a larger q.total_count).
            let why = reason
                .as_deref()
                .and_then(|r| r.split_once(": "))
                .and_then(|(_, r)| r.split(';').next())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            return Err(format!(
                "no closed form for KL({} ‖ {}){why}; add --mc N for a Monte Carlo estimate",
                p.spec.display, q.spec.display
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let mc = match args.mc {
        None => None,
        Some(n) => {
            let mut rng = Generator::new(args.seed);
            match kl_divergence_mc(p.dist.as_ref(), q.dist.as_ref(), n, &mut rng) {
                Ok((est, se)) => Some(Some((dists::host(&est)?[0], dists::host(&se)?[0]))),
                // A draw of P outside the support of Q: the divergence is +∞.
                Err(Error::OutOfSupport { .. }) => Some(None),
                Err(e) => return Err(e.to_string()),
            }
        }
    };

    outln!("KL({} ‖ {})  [{}]", p.label(), q.label(), args.dtype);
    match closed {
        Some(v) => outln!("closed form  {}", f(v)),
        None => outln!("closed form  n/a (no closed form for this pair)"),
    }
    if let (Some(r), Some(n)) = (mc, args.mc) {
        match r {
            Some((est, se)) => outln!(
                "monte carlo  {} ± {}  (standard error; n = {n}, seed = {})",
                f(est),
                f(se),
                args.seed
            ),
            None => outln!(
                "monte carlo  inf  (draws of P fall outside the support of Q; n = {n}, seed = {})",
                args.seed
            ),
        }
    }
    Ok(())
}
