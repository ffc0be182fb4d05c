//! `candle-dist sample`: draw from a distribution and summarize the draws.

use crate::dists::{self, fmt_num};
use crate::plot;
use crate::DTypeArg;
use candle_distributions::Generator;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;

/// Draws are made in chunks of this many values (each chunk takes the next draw of the
/// generator), whatever `n` is, so a seed gives the same values with or without the
/// progress bar.
pub const CHUNK: usize = 1 << 20;

/// From this many samples on, a progress bar is shown (on a terminal).
pub const PROGRESS_FROM: usize = 10_000_000;

/// The most samples one run keeps in memory (they are sorted for the quantiles).
pub const MAX_N: usize = 200_000_000;

/// Options of `candle-dist sample`.
#[derive(clap::Args, Debug)]
pub struct SampleArgs {
    /// The distribution and its parameters.
    #[command(flatten)]
    pub spec: dists::DistArgs,
    /// Number of samples (integer; 1e6 notation accepted).
    #[arg(
        short = 'n',
        long = "num",
        value_name = "N",
        default_value = "10000",
        allow_hyphen_values = true
    )]
    pub n: String,
    /// Seed of the Philox generator.
    #[arg(short, long, default_value_t = 0)]
    pub seed: u64,
    /// Floating-point type of parameters and samples.
    #[arg(long, value_enum, default_value_t = DTypeArg::F64)]
    pub dtype: DTypeArg,
    /// Write a PNG histogram of the samples against the density.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Write the samples, one per line.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// Parses a sample count: `20000`, `20_000` or `1e6` (must be a positive integer).
pub fn parse_count(s: &str) -> Result<usize, String> {
    let t = s.trim().replace('_', "");
    let v = if let Ok(v) = t.parse::<usize>() {
        v
    } else {
        let f = t
            .parse::<f64>()
            .map_err(|_| format!("-n: `{s}` is not a sample count"))?;
        if !(f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= usize::MAX as f64) {
            return Err(format!("-n: `{s}` is not a whole number of samples"));
        }
        f as usize
    };
    if v == 0 {
        return Err("-n: the number of samples must be at least 1".into());
    }
    if v > MAX_N {
        return Err(format!("-n: at most {MAX_N} samples per run (got {v})"));
    }
    Ok(v)
}

/// The `p` quantile of sorted data, interpolating linearly between order statistics
/// (numpy's default).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let i = h.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + (h - i as f64) * (sorted[j] - sorted[i])
}

/// Mean and sample standard deviation (n − 1 denominator; 0 for one value).
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    let std = if xs.len() > 1 {
        (ss / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (mean, std)
}

/// Runs `candle-dist sample`.
pub fn run(args: &SampleArgs) -> Result<(), String> {
    let n = parse_count(&args.n)?;
    let dtype = args.dtype.dtype();
    let built = dists::build(&args.spec.dist, &args.spec.params, dtype)?;
    let d = built.dist.as_ref();
    for path in args.plot.iter().chain(&args.csv) {
        plot::check_writable(path)?;
    }
    let mut rng = Generator::new(args.seed);

    let bar = if n >= PROGRESS_FROM {
        let pb = ProgressBar::new(n as u64);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} sampling [{bar:40}] {human_pos}/{human_len} ({eta})",
            )
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
        );
        Some(pb)
    } else {
        None
    };
    let mut xs: Vec<f64> = Vec::new();
    xs.try_reserve_exact(n)
        .map_err(|_| format!("-n {n}: not enough memory for the samples"))?;
    let mut left = n;
    while left > 0 {
        let m = left.min(CHUNK);
        let t = d.sample(&[m], &mut rng).map_err(|e| e.to_string())?;
        xs.extend(dists::host(&t)?);
        left -= m;
        if let Some(pb) = &bar {
            pb.inc(m as u64);
        }
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }

    if let Some(path) = &args.csv {
        write_csv(path, &xs, dtype)?;
    }

    let (mean, std) = mean_std(&xs);
    let mut sorted = xs;
    sorted.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| quantile_sorted(&sorted, p);
    let scalar = |r: candle_distributions::Result<candle_core::Tensor>| -> String {
        match r.map_err(|e| e.to_string()).and_then(|t| dists::host(&t)) {
            Ok(v) if v.len() == 1 => fmt_num(v[0], dtype),
            Ok(_) => "?".into(),
            Err(_) => "n/a".into(),
        }
    };
    let f = |v: f64| fmt_num(v, dtype);
    let se = std / (n as f64).sqrt();
    outln!(
        "{}  [{}]  n = {n}, seed = {}",
        built.label(),
        args.dtype,
        args.seed
    );
    outln!("{:<6} {:>22}   {:>22}", "", "samples", "distribution");
    outln!(
        "{:<6} {:>22}   {:>22}   (standard error of the sample mean: {})",
        "mean",
        f(mean),
        scalar(d.mean()),
        f(se)
    );
    outln!("{:<6} {:>22}   {:>22}", "std", f(std), scalar(d.stddev()));
    outln!("{:<6} {:>22}", "min", f(sorted[0]));
    for (name, p) in [
        ("1%", 0.01),
        ("25%", 0.25),
        ("50%", 0.5),
        ("75%", 0.75),
        ("99%", 0.99),
    ] {
        outln!("{:<6} {:>22}", name, f(q(p)));
    }
    outln!("{:<6} {:>22}", "max", f(sorted[sorted.len() - 1]));

    if let Some(path) = &args.plot {
        let title = format!("{}: {} samples vs density", built.label(), n);
        plot::samples_vs_density(path, &title, d, &sorted)?;
        outln!("plot: {}", path.display());
    }
    if let Some(path) = &args.csv {
        outln!("csv:  {}", path.display());
    }
    Ok(())
}

fn write_csv(path: &std::path::Path, xs: &[f64], dtype: candle_core::DType) -> Result<(), String> {
    let e = |err: std::io::Error| format!("writing {}: {err}", path.display());
    let file = std::fs::File::create(path).map_err(e)?;
    let mut w = std::io::BufWriter::new(file);
    for &x in xs {
        writeln!(w, "{}", fmt_num(x, dtype)).map_err(e)?;
    }
    w.flush().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_quantiles() {
        assert_eq!(parse_count("1e3").unwrap(), 1000);
        assert_eq!(parse_count("20_000").unwrap(), 20000);
        assert!(parse_count("0").is_err());
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("abc").is_err());
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
        let (m, sd) = mean_std(&s);
        assert_eq!(m, 2.5);
        assert!((sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
    }
}
