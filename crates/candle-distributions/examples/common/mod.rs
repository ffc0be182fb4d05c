//! What the examples share: the error type, a small command-line flag parser, `main`'s
//! error handling (with a CPU-speed workaround for candle) and the plotting boilerplate
//! (the bundled font, a white bitmap canvas, the legend box).
//!
//! An example `examples/x.rs` reaches it with `mod common;`; cargo does not build
//! `examples/common/mod.rs` as an example of its own.

// Every example compiles its own copy of this module and uses only part of it; the rest
// would warn as dead code in that example.
#![allow(dead_code)]

use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The examples' result type: any error, printed by [`run_main`].
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The command line, split into switches (`--quick`) and flags with a value
/// (`--seed 3`). A flag given twice keeps its last value.
pub struct Flags {
    switches: Vec<String>,
    values: Vec<(String, String)>,
}

impl Flags {
    /// Reads `std::env::args()`: each argument must be one of `switches` or one of
    /// `valued` followed by its value. `-h` / `--help` prints `usage` and exits with
    /// status 0; anything else is an error (unknown argument, missing value).
    pub fn parse(usage: &str, valued: &[&str], switches: &[&str]) -> Result<Flags, String> {
        let mut flags = Flags {
            switches: Vec::new(),
            values: Vec::new(),
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let a = arg.as_str();
            if a == "-h" || a == "--help" {
                println!("{usage}");
                std::process::exit(0);
            } else if switches.contains(&a) {
                flags.switches.push(arg);
            } else if valued.contains(&a) {
                let v = it.next().ok_or(format!("{a} needs a value"))?;
                flags.values.push((arg, v));
            } else {
                return Err(format!("unknown argument {a} (try --help)"));
            }
        }
        Ok(flags)
    }

    /// Whether the switch `name` was given.
    pub fn on(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The last value given to `name`.
    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` as a path.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.value(name).map(PathBuf::from)
    }

    /// The value of `name` parsed as a `T` (`None` when the flag is absent).
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        self.value(name)
            .map(|v| v.parse().map_err(|_| format!("{name}: not a number: {v}")))
            .transpose()
    }

    /// The value of `name` as an integer ≥ 1 (`None` when the flag is absent).
    pub fn positive<T: FromStr + PartialOrd + From<u8>>(
        &self,
        name: &str,
    ) -> Result<Option<T>, String> {
        self.value(name)
            .map(|v| {
                v.parse()
                    .ok()
                    .filter(|n| *n >= T::from(1))
                    .ok_or(format!("{name}: not a positive integer: {v}"))
            })
            .transpose()
    }
}

/// An example's `main`: runs `run`; on error prints `error: {e}` to stderr and exits
/// with status 1.
pub fn run_main(run: impl FnOnce() -> Res<()>) {
    // candle 0.11.1 asks `num_cpus::get_physical()` (a read of /proc/cpuinfo) for its
    // thread count on every CPU matmul unless RAYON_NUM_THREADS is set: ~57 reads per
    // SAC update, a third of that run, ~30% of a VAE epoch. Setting it once (to what
    // rayon would use anyway) before any thread starts removes that cost and changes
    // no result; an explicit setting is kept.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// DejaVu Sans, bundled with the CLI, so the plots need no system fonts.
static FONT: &[u8] = include_bytes!("../../../cli/assets/DejaVuSans.ttf");

/// A white `size` bitmap that will be written to `out`: registers the bundled font as
/// "sans-serif" and creates `out`'s directory if needed.
pub fn canvas(out: &Path, size: (u32, u32)) -> Res<DrawingArea<BitMapBackend<'_>, Shift>> {
    register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the bundled font could not be loaded")?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let root = BitMapBackend::new(out, size).into_drawing_area();
    root.fill(&WHITE)?;
    Ok(root)
}

/// A legend key: a short horizontal line in colour `c`, `width` pixels thick (for a
/// series' `.legend(..)`).
pub fn key(c: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(width))
}

/// Draws `chart`'s legend (lower right, 14 px, on a translucent white box with a black
/// border) and writes `root` to its file.
pub fn finish<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, BitMapBackend<'b>, CT>,
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
) -> Res<()> {
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}
