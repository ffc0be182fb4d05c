//! `candle-dist`: the command-line front end of candle-distributions.
//!
//! - `demo`: sample() versus rsample(), with gradients, an estimator-variance table and
//!   PNG plots;
//! - `sample DIST --param k=v ... -n N`: draw and summarize (optionally plot / CSV);
//! - `eval DIST --param k=v ... --value x`: log_prob, cdf and moments;
//! - `kl P Q --p-param k=v ... --q-param k=v ... [--mc N]`: KL(P ‖ Q), closed form and
//!   Monte Carlo;
//! - `bench`: throughput of the main workloads.
//!
//! Bad input prints one `error: ...` line to stderr and exits with status 2.

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// `println!` that never panics: a closed pipe (`candle-dist ... | head`) ends the
/// program quietly, any other write error with `error: ...` and status 2.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::stdout_failed(e)
        }
    }};
}

/// Ends the program after a failed write to stdout (see `outln!`).
pub fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: writing to stdout: {e}");
    std::process::exit(2)
}

/// Large tensors are allocated and freed on every training step; glibc's allocator
/// hands such blocks back to the kernel and page-faults them in again each time, which
/// cost more than the arithmetic in the benchmarks (torch keeps its own caching
/// allocator for the same reason). mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's option API (the library is linked through the `mimalloc` crate).
extern "C" {
    fn mi_option_set(option: std::os::raw::c_int, value: std::os::raw::c_long);
}

/// `mi_option_purge_delay` in mimalloc.h (v2 and v3).
const MI_OPTION_PURGE_DELAY: std::os::raw::c_int = 15;

/// Keeps freed memory mapped: by default mimalloc returns it to the OS 10 ms after a
/// free, and a training step longer than that then page-faults (and zeroes) every
/// tensor it allocates again (profiled: ~20% of a Gamma rsample + backward step at
/// 1e6 elements went to `clear_page`).
fn keep_freed_memory() {
    // SAFETY: a plain setter of a global option, called before any parallel work.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

mod bench;
mod demo;
mod dists;
mod eval;
mod kl;
mod num;
mod output;
mod plot;
mod sample;
mod stats;
mod transform;

/// Probability distributions with differentiable sampling, from the command line.
#[derive(Parser, Debug)]
#[command(name = "candle-dist", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// The sample-vs-rsample story: gradients, estimator variance, plots.
    Demo(demo::DemoArgs),
    /// Draw samples and print summary statistics (optionally plot or save them).
    Sample(sample::SampleArgs),
    /// Evaluate log_prob, cdf and moments of a distribution.
    Eval(eval::EvalArgs),
    /// KL(P ‖ Q) in closed form, and by Monte Carlo with --mc N (parameters of each
    /// side with --p-param / --q-param NAME=VALUE).
    Kl(kl::KlArgs),
    /// Apply a transform (or its inverse) to a point: the image, log|det J| and the
    /// round trip.
    Transform(transform::TransformArgs),
    /// Time the main workloads (throughput table).
    Bench(bench::BenchArgs),
}

/// Floating-point type chosen on the command line.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DTypeArg {
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

impl DTypeArg {
    /// The candle dtype.
    pub fn dtype(self) -> candle_core::DType {
        match self {
            DTypeArg::F32 => candle_core::DType::F32,
            DTypeArg::F64 => candle_core::DType::F64,
        }
    }
}

impl std::fmt::Display for DTypeArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DTypeArg::F32 => "f32",
            DTypeArg::F64 => "f64",
        })
    }
}

/// Help and version go to stdout as clap writes them; a usage error becomes the one
/// `error: ...` line with status 2 that every other error gives (clap's own rendering
/// spans several lines with usage and a "try --help" hint).
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit()
    }
    let text = e.render().to_string();
    let line = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect::<Vec<_>>()
        .join(" ");
    let line = line.strip_prefix("error:").unwrap_or(&line).trim();
    eprintln!("error: {line}");
    std::process::exit(2)
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    let result = match &cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Sample(a) => sample::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Kl(a) => kl::run(a),
        Command::Transform(a) => transform::run(a),
        Command::Bench(a) => bench::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            // One line, whatever the message contains.
            let line = msg.split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("error: {line}");
            ExitCode::from(2)
        }
    }
}
