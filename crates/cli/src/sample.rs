//! `candle-dist sample`: draw from a distribution and summarize the draws.

use crate::dists;
use crate::num::{self, fmt_num, Digits};
use crate::output::{self, Kind, Outputs, Staged};
use crate::plot;
use crate::stats::{finite_part, mean_std, quantile_sorted, NonFinite};
use crate::DTypeArg;
use candle_distributions::{Distribution, Generator};
use indicatif::{ProgressBar, ProgressStyle};
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
    /// Significant digits of the printed numbers (1 to 17), or `full` for the shortest
    /// text that reads back to the exact value. The CSV always holds exact values.
    #[arg(long, value_name = "N", default_value = "6", value_parser = num::parse_digits)]
    pub digits: Digits,
    /// Write a PNG histogram of the samples against the density (the name must end in
    /// .png); for Dirichlet and LogisticNormal, one histogram panel per coordinate (at
    /// most 16 coordinates); for the discrete families, a bar chart of the observed
    /// frequencies against the pmf (OneHotCategorical: of the class indices).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Write the samples, one per line, each in the shortest form that reads back to
    /// the exact value (a draw of Dirichlet or LogisticNormal: its coordinates,
    /// comma-separated; of OneHotCategorical: the index of its class).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// Parses a sample count: `20000`, `20_000` or `1e6` (a whole number from 1 to
/// [`MAX_N`]).
pub fn parse_count(s: &str) -> Result<usize, String> {
    let t = s.trim().replace('_', "");
    let too_many = || format!("-n {s}: at most {MAX_N} samples per run");
    let v = if let Ok(v) = t.parse::<u128>() {
        usize::try_from(v).map_err(|_| too_many())?
    } else {
        let f = t
            .parse::<f64>()
            .ok()
            .filter(|f| !f.is_nan())
            .ok_or_else(|| format!("-n: `{s}` is not a sample count"))?;
        if f < 1.0 {
            return Err(format!("-n {s}: the number of samples must be at least 1"));
        }
        if f > MAX_N as f64 {
            return Err(too_many());
        }
        if f.fract() != 0.0 {
            return Err(format!("-n: `{s}` is not a whole number of samples"));
        }
        f as usize
    };
    if v == 0 {
        return Err("-n: the number of samples must be at least 1".into());
    }
    if v > MAX_N {
        return Err(too_many());
    }
    Ok(v)
}

/// Runs `candle-dist sample`.
pub fn run(args: &SampleArgs) -> Result<(), String> {
    let n = parse_count(&args.n)?;
    let dtype = args.dtype.dtype();
    let built = dists::build(&args.spec.dist, &args.spec.params, dtype)?;
    let d = built.dist.as_ref();
    // Output names and folders are checked before the sampling, which may be long.
    let mut outputs = Outputs::new();
    let plot_to = args
        .plot
        .as_deref()
        .map(|p| outputs.add("--plot", p, Kind::Png))
        .transpose()?;
    let csv_to = args
        .csv
        .as_deref()
        .map(|p| outputs.add("--csv", p, Kind::Text))
        .transpose()?;
    // OneHotCategorical: its draws are summarized and plotted as class indices, against
    // the Categorical of the same parameter (the position of the 1 is that law).
    let as_index = match built.spec.name {
        "onehotcategorical" => Some(dists::build("categorical", &args.spec.params, dtype)?),
        _ => None,
    };
    if built.is_vector() && as_index.is_none() {
        return run_vector(args, &built, n, outputs, plot_to, csv_to);
    }
    let xs = match &as_index {
        Some(_) => {
            let k = built.event_size();
            draw(d, n, args.seed)?
                .chunks(k)
                .map(|row| {
                    row.iter()
                        .position(|x| *x == 1.0)
                        .map_or(f64::NAN, |i| i as f64)
                })
                .collect()
        }
        None => draw(d, n, args.seed)?,
    };
    let d = as_index.as_ref().map_or(d, |c| c.dist.as_ref());

    let counts = NonFinite::count(&xs);
    if counts.nan > 0 {
        return Err(format!(
            "{}: {} of {n} draws are NaN, so there is nothing sound to summarize (no file written)",
            built.label(),
            counts.nan
        ));
    }
    if let Some(to) = &csv_to {
        write_csv(to, &xs, dtype)?;
    }

    let mut sorted = xs;
    sorted.sort_unstable_by(f64::total_cmp);
    let discrete = dists::is_discrete(built.spec);
    let pmf_report = match &plot_to {
        Some(to) if discrete => {
            let draws = if n == 1 { "draw" } else { "draws" };
            let what = if as_index.is_some() {
                "class index of "
            } else {
                ""
            };
            let title = format!("{}: {what}{n} {draws} vs pmf", built.label());
            Some(plot::frequencies_vs_pmf(to, &title, d, &sorted)?)
        }
        _ => None,
    };
    let report = match &plot_to {
        Some(_) if discrete => None,
        Some(to) => {
            let draws = if n == 1 { "draw" } else { "draws" };
            let title = format!("{}: {n} {draws} vs density", built.label());
            Some(plot::samples_vs_density(to, &title, d, &sorted)?)
        }
        None => None,
    };
    outputs.commit()?;

    // The moments of the draws are over the finite ones (a note says so when some are
    // infinite); quantiles are over all of them.
    let finite = finite_part(&sorted);
    let (mean, std) = mean_std(finite);
    let f = |v: f64| fmt_num(v, dtype, args.digits);
    let na = |v: f64| {
        if finite.is_empty() {
            "n/a".to_string()
        } else {
            f(v)
        }
    };
    let scalar = |r: candle_distributions::Result<candle_core::Tensor>| -> String {
        match r.map_err(|e| e.to_string()).and_then(|t| dists::host(&t)) {
            Ok(v) if v.len() == 1 => f(v[0]),
            Ok(_) => "?".into(),
            Err(_) => "n/a".into(),
        }
    };
    let q = |p: f64| quantile_sorted(&sorted, p);
    let mut rows: Vec<(&str, String, String)> = vec![
        ("mean", na(mean), scalar(d.mean())),
        ("std", na(std), scalar(d.stddev())),
        ("min", f(sorted[0]), String::new()),
    ];
    for (name, p) in [
        ("1%", 0.01),
        ("25%", 0.25),
        ("50%", 0.5),
        ("75%", 0.75),
        ("99%", 0.99),
    ] {
        rows.push((name, f(q(p)), String::new()));
    }
    rows.push(("max", f(sorted[sorted.len() - 1]), String::new()));
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(7);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(12);

    outln!(
        "{}  [{}]  n = {n}, seed = {}",
        built.label(),
        args.dtype,
        args.seed
    );
    outln!("{:<6} {:>w1$}   {:>w2$}", "", "samples", "distribution");
    for (name, a, b) in &rows {
        if *name == "mean" {
            let se = na(std / (finite.len() as f64).sqrt());
            outln!("{name:<6} {a:>w1$}   {b:>w2$}   (standard error of the sample mean: {se})");
        } else if b.is_empty() {
            outln!("{name:<6} {a:>w1$}");
        } else {
            outln!("{name:<6} {a:>w1$}   {b:>w2$}");
        }
    }
    if counts.infinite() > 0 {
        let moments = if finite.is_empty() {
            "no draw is finite, so mean and std are n/a".to_string()
        } else {
            format!("mean and std are over the {} finite draws", finite.len())
        };
        outln!(
            "note: {} of {n} draws are infinite ({} -inf, {} +inf), beyond the {} range; {moments}",
            counts.infinite(),
            counts.neg_inf,
            counts.pos_inf,
            args.dtype,
        );
    }
    if discrete {
        print_counts(d, &sorted, dtype, args.digits)?;
    }
    if let (Some(to), Some(r)) = (&plot_to, &pmf_report) {
        let mut line = format!("plot: {}", to.dest.display());
        if r.width > 1 {
            line += &format!(" (bars of {} values)", r.width);
        }
        if r.outside > 0 {
            line += &format!(
                " ({} of {n} draws lie outside the plotted range [{}, {}])",
                r.outside, r.lo, r.hi
            );
        }
        outln!("{line}");
    }
    if let (Some(to), Some(r)) = (&plot_to, &report) {
        let mut line = format!("plot: {}", to.dest.display());
        if r.outside > 0 {
            line += &format!(
                " ({} of {n} draws lie outside the plotted range [{}, {}])",
                r.outside,
                f(r.lo),
                f(r.hi)
            );
        }
        outln!("{line}");
        for c in &r.clips {
            outln!("      the curve is clipped at the top: {}", c.label);
        }
        if r.nan_density > 0 {
            outln!(
                "note: the density is NaN at {} plotted points, which are left out of the curve",
                r.nan_density
            );
        }
    }
    if let Some(to) = &csv_to {
        outln!("csv:  {}", to.dest.display());
    }
    Ok(())
}

/// The most distinct values [`print_counts`] lists one by one.
pub const MAX_COUNT_ROWS: usize = 30;

/// The table of a discrete family's draws: each observed value, its count, its
/// frequency and the pmf there (exp(log_prob)), when there are at most
/// [`MAX_COUNT_ROWS`] distinct values; a one-line note otherwise.
fn print_counts(
    d: &dyn Distribution,
    sorted: &[f64],
    dtype: candle_core::DType,
    digits: Digits,
) -> Result<(), String> {
    let mut cells: Vec<(f64, usize)> = vec![];
    for &x in sorted {
        match cells.last_mut() {
            Some((v, c)) if *v == x => *c += 1,
            _ => cells.push((x, 1)),
        }
    }
    if cells.len() > MAX_COUNT_ROWS {
        outln!(
            "{} distinct values (more than {MAX_COUNT_ROWS}: no table; --plot draws their frequencies against the pmf)",
            cells.len()
        );
        return Ok(());
    }
    let ks: Vec<f64> = cells.iter().map(|c| c.0).collect();
    let v = candle_core::Tensor::new(ks.as_slice(), d.device())
        .and_then(|t| t.to_dtype(dtype))
        .map_err(|e| e.to_string())?;
    let pmf = dists::host(&d.log_prob(&v).map_err(|e| e.to_string())?)?;
    let n = sorted.len() as f64;
    let f = |v: f64| fmt_num(v, dtype, digits);
    let rows: Vec<[String; 4]> = cells
        .iter()
        .zip(&pmf)
        .map(|((k, c), lp)| {
            [
                fmt_num(*k, candle_core::DType::F64, Digits::Full),
                c.to_string(),
                f(*c as f64 / n),
                f(lp.exp()),
            ]
        })
        .collect();
    let w = rows
        .iter()
        .flatten()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(9);
    outln!();
    outln!(
        "{:>w$} {:>w$} {:>w$} {:>w$}",
        "value",
        "count",
        "frequency",
        "pmf"
    );
    for [k, c, fr, p] in &rows {
        outln!("{k:>w$} {c:>w$} {fr:>w$} {p:>w$}");
    }
    Ok(())
}

/// `n` draws of `d` (each of `event_size` coordinates, flattened in draw order), made
/// in chunks of [`CHUNK`] draws from one generator seeded with `seed`, with a progress
/// bar from [`PROGRESS_FROM`] draws on.
fn draw(d: &dyn Distribution, n: usize, seed: u64) -> Result<Vec<f64>, String> {
    let k: usize = d.event_shape().iter().product();
    let mut rng = Generator::new(seed);
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
    n.checked_mul(k)
        .and_then(|len| xs.try_reserve_exact(len).ok())
        .ok_or_else(|| format!("-n {n}: not enough memory for the samples"))?;
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
    Ok(xs)
}

/// The most coordinates `--plot` draws (one histogram panel each).
pub const MAX_PLOT_COORDS: usize = 16;

/// `sample` for distributions whose draws are vectors of K coordinates: per-coordinate
/// summaries (a column each), CSV lines of K comma-separated coordinates, and a PNG with
/// one histogram panel per coordinate.
fn run_vector(
    args: &SampleArgs,
    built: &dists::Built,
    n: usize,
    outputs: Outputs,
    plot_to: Option<Staged>,
    csv_to: Option<Staged>,
) -> Result<(), String> {
    let d = built.dist.as_ref();
    let dtype = args.dtype.dtype();
    let k = built.event_size();
    if plot_to.is_some() && k > MAX_PLOT_COORDS {
        return Err(format!(
            "--plot: a draw of {} has {k} coordinates, and plots show at most {MAX_PLOT_COORDS} (one panel each); leave out --plot (--csv keeps every coordinate)",
            built.label()
        ));
    }
    let xs = draw(d, n, args.seed)?;
    let nan = xs.iter().filter(|x| x.is_nan()).count();
    if nan > 0 {
        return Err(format!(
            "{}: {nan} of {} draw coordinates are NaN, so there is nothing sound to summarize (no file written)",
            built.label(),
            xs.len()
        ));
    }
    if let Some(to) = &csv_to {
        let lines = xs.chunks(k).map(|row| {
            row.iter()
                .map(|&x| fmt_num(x, dtype, Digits::Full))
                .collect::<Vec<_>>()
                .join(",")
        });
        output::write_lines(to, lines)?;
    }
    // One sorted column per coordinate.
    let mut columns: Vec<Vec<f64>> = (0..k)
        .map(|j| xs.iter().skip(j).step_by(k).copied().collect())
        .collect();
    drop(xs);
    for c in &mut columns {
        c.sort_unstable_by(f64::total_cmp);
    }
    if let Some(to) = &plot_to {
        let draws = if n == 1 { "draw" } else { "draws" };
        let title = format!("{}: {n} {draws}, one panel per coordinate", built.label());
        let marginals = built.marginals();
        if dists::is_discrete(built.spec) && marginals.len() == columns.len() {
            plot::coordinate_pmf_charts(to, &title, &columns, &marginals)?;
        } else {
            plot::coordinate_histograms(to, &title, &d.support(), &columns, &marginals)?;
        }
    }
    outputs.commit()?;

    let f = |v: f64| fmt_num(v, dtype, args.digits);
    // The distribution's mean and std per coordinate, or n/a where it has none in
    // closed form.
    let exact = |r: candle_distributions::Result<candle_core::Tensor>| -> Vec<String> {
        match r.map_err(|e| e.to_string()).and_then(|t| dists::host(&t)) {
            Ok(v) if v.len() == k => v.into_iter().map(f).collect(),
            _ => vec!["n/a".into(); k],
        }
    };
    let mut infinite = 0;
    let mut rows: Vec<(&str, Vec<String>)> = vec![
        ("mean", vec![]),
        ("mean*", exact(d.mean())),
        ("std", vec![]),
        ("std*", exact(d.stddev())),
        ("se", vec![]),
        ("min", vec![]),
        ("1%", vec![]),
        ("25%", vec![]),
        ("50%", vec![]),
        ("75%", vec![]),
        ("99%", vec![]),
        ("max", vec![]),
    ];
    for c in &columns {
        let finite = finite_part(c);
        infinite += c.len() - finite.len();
        let (mean, std) = mean_std(finite);
        let na = |v: f64| {
            if finite.is_empty() {
                "n/a".to_string()
            } else {
                f(v)
            }
        };
        let se = std / (finite.len() as f64).sqrt();
        let q = |p: f64| f(quantile_sorted(c, p));
        for (name, cells) in &mut rows {
            let cell = match *name {
                "mean" => na(mean),
                "std" => na(std),
                "se" => na(se),
                "min" => f(c[0]),
                "1%" => q(0.01),
                "25%" => q(0.25),
                "50%" => q(0.5),
                "75%" => q(0.75),
                "99%" => q(0.99),
                "max" => f(c[c.len() - 1]),
                _ => continue,
            };
            cells.push(cell);
        }
    }
    let w = rows
        .iter()
        .flat_map(|r| r.1.iter().map(String::len))
        .max()
        .unwrap_or(0)
        .max(8);

    outln!(
        "{}  [{}]  n = {n}, seed = {}, {k} coordinates per draw",
        built.label(),
        args.dtype,
        args.seed
    );
    let head: Vec<String> = (0..k).map(|j| format!("{:>w$}", format!("x{j}"))).collect();
    outln!("{:<6} {}", "", head.join(" "));
    for (name, cells) in &rows {
        let cells: Vec<String> = cells.iter().map(|c| format!("{c:>w$}")).collect();
        outln!("{name:<6} {}", cells.join(" "));
    }
    outln!(
        "(mean*, std*: of the distribution, n/a where it has no closed form; se: standard error of the sample mean)"
    );
    if infinite > 0 {
        outln!(
            "note: {infinite} draw coordinates are infinite, beyond the {} range; mean and std are over the finite ones",
            args.dtype
        );
    }
    if let Some(to) = &plot_to {
        outln!("plot: {}", to.dest.display());
    }
    if let Some(to) = &csv_to {
        outln!("csv:  {}", to.dest.display());
    }
    Ok(())
}

fn write_csv(to: &Staged, xs: &[f64], dtype: candle_core::DType) -> Result<(), String> {
    output::write_lines(to, xs.iter().map(|&x| fmt_num(x, dtype, Digits::Full)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(parse_count("1e3").unwrap(), 1000);
        assert_eq!(parse_count("20_000").unwrap(), 20000);
        for (s, msg) in [
            ("0", "at least 1"),
            ("-5", "at least 1"),
            ("1.5", "whole number"),
            ("abc", "not a sample count"),
            ("nan", "not a sample count"),
            ("1e30", "at most"),
            ("inf", "at most"),
            ("18446744073709551615", "at most"),
            ("340282366920938463463374607431768211456", "at most"),
        ] {
            let e = parse_count(s).unwrap_err();
            assert!(e.contains(msg), "{s}: {e}");
        }
    }
}
