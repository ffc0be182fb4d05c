//! Shared plotting helpers: PNG charts through plotters' bitmap backend.
//!
//! Text is rendered with the pure-Rust `ab_glyph` rasterizer from a bundled font
//! (DejaVu Sans, `assets/DejaVuSans.ttf`, license in `assets/LICENSE-DejaVu.txt`), so
//! no system font library is needed at build or run time.

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::Path;
use std::sync::OnceLock;

/// The bundled font (DejaVu Sans).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the bundled font as plotters' "sans-serif" (once per process).
pub fn ensure_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the bundled font could not be loaded".to_string())
    })
    .clone()
}

fn perr<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> String + '_ {
    move |e| format!("writing {}: {e}", path.display())
}

/// Draws the legend (upper right) and writes the image.
fn finish<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, CT>,
    root: &DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>,
    path: &Path,
) -> Result<(), String> {
    let e = perr(path);
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 17))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// Fails early, with the operating system's plain message, if `path` cannot be written
/// (plotters would report the same problem only after drawing, and less readably).
pub fn check_writable(path: &Path) -> Result<(), String> {
    std::fs::File::create(path)
        .map(drop)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// A histogram normalized as a density: bar heights are `count / (n · width)` over
/// `n` = all samples (so mass outside `[lo, hi)` is accounted for, not redistributed).
#[derive(Debug, Clone)]
pub struct Histogram {
    /// Left edge of the first bin.
    pub lo: f64,
    /// Right edge of the last bin.
    pub hi: f64,
    /// Density height of each bin.
    pub heights: Vec<f64>,
}

impl Histogram {
    /// Bins `samples` into `bins` equal bins on `[lo, hi]`.
    pub fn new(samples: &[f64], lo: f64, hi: f64, bins: usize) -> Self {
        let bins = bins.max(1);
        let width = (hi - lo) / bins as f64;
        let mut counts = vec![0u64; bins];
        for &x in samples {
            if x >= lo && x <= hi && width > 0.0 {
                let i = (((x - lo) / width) as usize).min(bins - 1);
                counts[i] += 1;
            }
        }
        let norm = samples.len().max(1) as f64 * width;
        Histogram {
            lo,
            hi,
            heights: counts.iter().map(|&c| c as f64 / norm).collect(),
        }
    }

    /// `(left, right, height)` of each bin.
    pub fn bars(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        let w = (self.hi - self.lo) / self.heights.len() as f64;
        self.heights
            .iter()
            .enumerate()
            .map(move |(i, &h)| (self.lo + i as f64 * w, self.lo + (i + 1) as f64 * w, h))
    }
}

/// Writes a PNG of a density histogram with the density curve `density` (points
/// `(x, p(x))`) drawn over it.
pub fn histogram_vs_density(
    path: &Path,
    title: &str,
    hist: &Histogram,
    hist_label: &str,
    density: &[(f64, f64)],
    density_label: &str,
) -> Result<(), String> {
    ensure_font()?;
    check_writable(path)?;
    let e = perr(path);
    let ymax = hist
        .heights
        .iter()
        .copied()
        .chain(density.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.12 } else { 1.0 };
    let root = BitMapBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 26))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(hist.lo..hist.hi, 0.0..ymax)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("density")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(&e)?;
    let bar = RGBColor(70, 130, 180);
    chart
        .draw_series(
            hist.bars()
                .map(|(a, b, h)| Rectangle::new([(a, 0.0), (b, h)], bar.mix(0.55).filled())),
        )
        .map_err(&e)?
        .label(hist_label)
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 6), (x + 18, y + 6)], bar.mix(0.55).filled())
        });
    let curve = RGBColor(200, 30, 30);
    chart
        .draw_series(LineSeries::new(
            density.iter().copied().filter(|p| p.1.is_finite()),
            curve.stroke_width(3),
        ))
        .map_err(&e)?
        .label(density_label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], curve.stroke_width(3)));
    finish(&mut chart, &root, path)
}

/// One line of a log-log chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// `(x, y)` points; non-positive values are skipped (log axes).
    pub points: Vec<(f64, f64)>,
    /// Line colour.
    pub color: RGBColor,
    /// Dashed line without markers (for reference curves) instead of a solid line
    /// with markers (for measurements).
    pub dashed: bool,
}

/// Writes a PNG chart with logarithmic x and y axes.
pub fn loglog(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> Result<(), String> {
    ensure_font()?;
    check_writable(path)?;
    let e = perr(path);
    let pts = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0 > 0.0 && p.1 > 0.0 && p.0.is_finite() && p.1.is_finite())
    };
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, 0.0f64, f64::INFINITY, 0.0f64);
    for p in pts() {
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1);
        y1 = y1.max(p.1);
    }
    if x1 <= 0.0 || y1 <= 0.0 {
        return Err(format!(
            "{}: nothing positive to plot on log axes",
            path.display()
        ));
    }
    let (x0, x1) = (x0 / 1.5, x1 * 1.5);
    let (y0, y1) = (y0 / 2.0, y1 * 2.0);
    let root = BitMapBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 26))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .x_label_formatter(&|v| format!("{v}"))
        .y_label_formatter(&|v| fmt_tick(*v))
        .draw()
        .map_err(&e)?;
    for s in series {
        let data: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0 > 0.0 && p.1 > 0.0 && p.0.is_finite() && p.1.is_finite())
            .collect();
        let c = s.color;
        if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(data, 10, 6, c.stroke_width(2)))
                .map_err(&e)?
                .label(s.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 8, y)], c.stroke_width(2))
                });
        } else {
            chart
                .draw_series(LineSeries::new(data.iter().copied(), c.stroke_width(3)))
                .map_err(&e)?
                .label(s.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                });
            chart
                .draw_series(data.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(&e)?;
        }
    }
    finish(&mut chart, &root, path)
}

/// Compact tick label: `0.01`, `10`, `1e-5`.
fn fmt_tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// `n` evenly spaced points on `[lo, hi]`.
pub fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if n < 2 {
        return vec![lo];
    }
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

/// `(x, p(x))` on `points` evenly spaced values of `[lo, hi]`, with the density taken as
/// `exp(log_prob(x))` of `dist` (in its dtype). `[lo, hi]` must lie in the support.
pub fn density_curve(
    dist: &dyn candle_distributions::Distribution,
    lo: f64,
    hi: f64,
    points: usize,
) -> Result<Vec<(f64, f64)>, String> {
    let xs = linspace(lo, hi, points);
    let t = candle_core::Tensor::new(xs.as_slice(), dist.device())
        .and_then(|t| t.to_dtype(dist.dtype()))
        .map_err(|e| e.to_string())?;
    let p = dist
        .log_prob(&t)
        .map_err(|e| e.to_string())?
        .exp()
        .map_err(|e| e.to_string())?;
    let ps = crate::dists::host(&p)?;
    Ok(xs.into_iter().zip(ps).collect())
}

/// The plotting range of sorted samples: the 0.5% to 99.5% quantiles, narrowed to the
/// median ± 3 interquartile ranges (so heavy tails such as Cauchy's do not squash the
/// picture), widened by 5% but never past the smallest or largest sample (so the range
/// stays inside the support).
pub fn sample_range(sorted: &[f64]) -> (f64, f64) {
    let q = |p: f64| crate::sample::quantile_sorted(sorted, p);
    let (med, iqr) = (q(0.5), q(0.75) - q(0.25));
    let (a, b) = (q(0.005).max(med - 3.0 * iqr), q(0.995).min(med + 3.0 * iqr));
    let pad = 0.05 * (b - a);
    let lo = (a - pad).max(sorted[0]);
    let hi = (b + pad).min(sorted[sorted.len() - 1]);
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

/// Writes a histogram of `sorted` samples against the density of `dist` to `path`.
pub fn samples_vs_density(
    path: &Path,
    title: &str,
    dist: &dyn candle_distributions::Distribution,
    sorted: &[f64],
) -> Result<(), String> {
    if sorted.is_empty() {
        return Err("no samples to plot".into());
    }
    let (lo, hi) = sample_range(sorted);
    let bins = ((sorted.len() as f64).sqrt() as usize / 2).clamp(10, 80);
    let hist = Histogram::new(sorted, lo, hi, bins);
    let curve = density_curve(dist, lo, hi, 400)?;
    histogram_vs_density(
        path,
        title,
        &hist,
        &format!("{} samples", sorted.len()),
        &curve,
        "density exp(log_prob(x))",
    )
}
