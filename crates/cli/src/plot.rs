//! Shared plotting helpers: PNG charts through plotters' bitmap backend.
//!
//! Text is rendered with the pure-Rust `ab_glyph` rasterizer from a bundled font
//! (DejaVu Sans, `assets/DejaVuSans.ttf`, license in `assets/LICENSE-DejaVu.txt`), so
//! no system font library is needed at build or run time.
//!
//! The histogram-versus-density chart chooses its own axes: the x-range from robust
//! quantiles of the distribution and of the draws, clipped to the support; the y-range
//! from the histogram and the bulk of the curve, not from its maximum, so a density
//! pole (Gamma(0.5) at 0) is drawn as a clipped curve with a "→ ∞" mark instead of
//! squashing everything else against the axis.

use crate::num::fmt_tick;
use crate::output::Staged;
use crate::stats::{finite_part, quantile_sorted};
use candle_core::Tensor;
use candle_distributions::{Constraint, Distribution};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};
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

fn perr<E: std::fmt::Display>(to: &Staged) -> impl Fn(E) -> String + '_ {
    move |e| format!("writing {}: {e}", to.dest.display())
}

/// A region of a PNG image that one chart is drawn in: the whole image, or one panel
/// of a picture with several.
pub type Panel<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// A white image of `size` pixels at `to`, to draw charts in.
pub fn canvas(to: &Staged, size: (u32, u32)) -> Result<Panel<'_>, String> {
    let root = BitMapBackend::new(&to.file, size).into_drawing_area();
    root.fill(&WHITE).map_err(perr(to))?;
    Ok(root)
}

/// Writes the image drawn on `root`.
pub fn present(root: &Panel, to: &Staged) -> Result<(), String> {
    root.present().map_err(perr(to))
}

/// Draws the legend of a chart.
fn legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, CT>,
    to: &Staged,
    legend_at: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 17))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(legend_at)
        .draw()
        .map_err(perr(to))
}

/// A histogram normalized as a density: bar heights are `count / (n · width)` over
/// `n` = all samples (so mass outside `[lo, hi]` is accounted for, not redistributed).
#[derive(Debug, Clone)]
pub struct Histogram {
    /// Left edge of the first bin.
    pub lo: f64,
    /// Right edge of the last bin.
    pub hi: f64,
    /// Density height of each bin.
    pub heights: Vec<f64>,
    /// Samples outside `[lo, hi]` (infinite and NaN ones included).
    pub outside: usize,
}

impl Histogram {
    /// Bins `samples` into `bins` equal bins on `[lo, hi]`, with heights per `unit` of
    /// x (1 for plain densities; see `axis_scale`).
    pub fn new(samples: &[f64], lo: f64, hi: f64, bins: usize, unit: f64) -> Self {
        let bins = bins.max(1);
        let width = (hi - lo) / bins as f64;
        let mut counts = vec![0u64; bins];
        let mut outside = 0;
        for &x in samples {
            if x >= lo && x <= hi && width > 0.0 {
                let i = (((x - lo) / width) as usize).min(bins - 1);
                counts[i] += 1;
            } else {
                outside += 1;
            }
        }
        // Fractions first: n · width overflows for bins near f64::MAX wide, and
        // 1 / width for subnormal ones.
        let n = samples.len().max(1) as f64;
        let w = width / unit;
        Histogram {
            lo,
            hi,
            heights: counts.iter().map(|&c| c as f64 / n / w).collect(),
            outside,
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

/// Draws a chart with logarithmic x and y axes on `panel` (of the image `to`).
pub fn loglog(
    panel: &Panel,
    to: &Staged,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> Result<(), String> {
    ensure_font()?;
    let e = perr(to);
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
            to.dest.display()
        ));
    }
    let (x0, x1) = (x0 / 1.5, x1 * 1.5);
    let (y0, y1) = (y0 / 2.0, y1 * 2.0);
    let mut chart = ChartBuilder::on(panel)
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
        .x_label_formatter(&|v| fmt_tick(*v, 3, 0.0))
        .y_label_formatter(&|v| fmt_tick(*v, 3, 0.0))
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
    legend(&mut chart, to, SeriesLabelPosition::UpperRight)
}

/// `n` evenly spaced points on `[lo, hi]`.
pub fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if n < 2 {
        return vec![lo];
    }
    (0..n)
        // The fraction first: (hi - lo) · i overflows for ranges near f64::MAX.
        .map(|i| lo + (hi - lo) * (i as f64 / (n - 1) as f64))
        .collect()
}

/// Smallest and largest value of a support (±∞ where unbounded). Tensor bounds
/// (`Uniform(low, high)`) give their smallest low and largest high.
pub fn support_bounds(c: &Constraint) -> (f64, f64) {
    let inf = f64::INFINITY;
    let ends = |t: &Tensor, low: bool| -> f64 {
        let v = crate::dists::host(t).unwrap_or_default();
        let m = if low {
            v.iter().copied().fold(inf, f64::min)
        } else {
            v.iter().copied().fold(-inf, f64::max)
        };
        // An unreadable bound is no bound.
        if m.is_nan() || v.is_empty() {
            if low {
                -inf
            } else {
                inf
            }
        } else {
            m
        }
    };
    #[allow(unreachable_patterns)]
    match c {
        Constraint::Positive | Constraint::NonNegative | Constraint::NonNegativeInteger => {
            (0.0, inf)
        }
        Constraint::PositiveInteger => (1.0, inf),
        Constraint::GreaterThan(b) | Constraint::GreaterThanEq(b) => (*b, inf),
        Constraint::LessThan(b) => (-inf, *b),
        Constraint::Interval(l, h) | Constraint::HalfOpenInterval(l, h) => (*l, *h),
        Constraint::UnitInterval | Constraint::Simplex | Constraint::Boolean => (0.0, 1.0),
        Constraint::IntegerInterval(l, h) => (*l as f64, *h as f64),
        Constraint::DependentInterval { low, high }
        | Constraint::DependentIntegerInterval { low, high } => {
            (ends(low, true), ends(high, false))
        }
        Constraint::DependentGreaterThanEq { low } => (ends(low, true), inf),
        _ => (-inf, inf),
    }
}

/// The 0.5%, 25%, 50%, 75% and 99.5% quantiles from `dist.icdf`, if it has one and
/// they are finite.
fn dist_quantiles(dist: &dyn Distribution) -> Option<[f64; 5]> {
    let p = Tensor::new(&[0.005f64, 0.25, 0.5, 0.75, 0.995], dist.device())
        .and_then(|t| t.to_dtype(dist.dtype()))
        .ok()?;
    let v = crate::dists::host(&dist.icdf(&p).ok()?).ok()?;
    let q: [f64; 5] = v.try_into().ok()?;
    q.iter().all(|x| x.is_finite()).then_some(q)
}

/// The 0.5% to 99.5% quantile range, narrowed to the median ± 3 interquartile ranges
/// (so heavy tails such as Cauchy's do not squash the picture).
fn robust_span([q0, q1, med, q3, q9]: [f64; 5]) -> Option<(f64, f64)> {
    let iqr = q3 - q1;
    let (mut a, mut b) = (q0, q9);
    if iqr.is_finite() {
        a = a.max(med - 3.0 * iqr);
        b = b.min(med + 3.0 * iqr);
    }
    (a.is_finite() && b.is_finite() && b >= a).then_some((a, b))
}

/// Mean ± 3 standard deviations, for distributions without a quantile function.
fn moment_span(dist: &dyn Distribution) -> Option<(f64, f64)> {
    let scalar = |r: candle_distributions::Result<Tensor>| -> Option<f64> {
        let v = crate::dists::host(&r.ok()?).ok()?;
        (v.len() == 1).then(|| v[0])
    };
    let (m, s) = (scalar(dist.mean())?, scalar(dist.stddev())?);
    let (a, b) = (m - 3.0 * s, m + 3.0 * s);
    (s > 0.0 && a.is_finite() && b.is_finite()).then_some((a, b))
}

/// The x-range of the histogram chart: the union of the robust range of the
/// distribution (from its quantiles, else its moments) and of the finite draws (from
/// their quantiles, or all of them when there are few), padded by 5%, clipped to the
/// support and widened to a support edge that is close anyway.
pub fn plot_range(dist: &dyn Distribution, finite: &[f64]) -> Result<(f64, f64), String> {
    let (sl, sh) = support_bounds(&dist.support());
    let mut span: Option<(f64, f64)> = None;
    let mut add = |s: Option<(f64, f64)>| {
        if let Some((a, b)) = s {
            span = Some(span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
    };
    // A bounded support is the last resort (moments can be NaN where the library
    // cannot compute them, and the draws may all be equal).
    let bounded = (sl.is_finite() && sh.is_finite() && sh > sl).then_some((sl, sh));
    add(dist_quantiles(dist)
        .and_then(robust_span)
        .or_else(|| moment_span(dist))
        .or(bounded));
    if finite.len() >= 20 {
        add(robust_span(
            [0.005, 0.25, 0.5, 0.75, 0.995].map(|p| quantile_sorted(finite, p)),
        ));
    } else if let (Some(&a), Some(&b)) = (finite.first(), finite.last()) {
        add(Some((a, b)));
    }
    let (mut a, mut b) = span.ok_or_else(|| {
        "no finite draws and no finite quantiles of the distribution to choose a plotting range from"
            .to_string()
    })?;
    // Take in the far tail of the draws when that costs little width (a Normal's), not
    // when it is far out (a Cauchy's).
    if !finite.is_empty() {
        let (m0, m1) = (
            quantile_sorted(finite, 0.0005),
            quantile_sorted(finite, 0.9995),
        );
        let w = b - a;
        if m0 < a && a - m0 <= 0.3 * w {
            a = m0;
        }
        if m1 > b && m1 - b <= 0.3 * w {
            b = m1;
        }
    }
    let w = b - a;
    let (mut lo, mut hi) = if w > 0.0 && w.is_finite() {
        (a - 0.05 * w, b + 0.05 * w)
    } else if w == 0.0 {
        let h = if a == 0.0 { 0.5 } else { 0.01 * a.abs() };
        (a - h, b + h)
    } else {
        (a, b)
    };
    lo = lo.max(sl);
    hi = hi.min(sh);
    let w = hi - lo;
    if sl.is_finite() && lo > sl && lo - sl < 0.15 * w {
        lo = sl;
    }
    if sh.is_finite() && hi < sh && sh - hi < 0.15 * w {
        hi = sh;
    }
    // Pixel arithmetic needs a finite width.
    lo = lo.max(-f64::MAX / 2.0);
    hi = hi.min(f64::MAX / 2.0);
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return Err(format!(
            "cannot choose a plotting range (draws and quantiles span [{a}, {b}])"
        ));
    }
    if hi - lo <= 1e-12 * lo.abs().max(hi.abs()) {
        return Err(format!(
            "the draws span [{}, {}], too narrow a range around {} to draw at floating-point precision",
            fmt_tick(lo, 17, 0.0),
            fmt_tick(hi, 17, 0.0),
            fmt_tick(0.5 * (lo + hi), 6, 0.0)
        ));
    }
    Ok((lo, hi))
}

/// A density curve: `(x, p(x))` points and which of them lie on the even grid (the
/// others refine the approach to a support edge, where a density may have a pole).
#[derive(Debug, Clone, Default)]
pub struct Curve {
    /// Points in increasing x; `p` may be +∞ (a pole).
    pub points: Vec<(f64, f64)>,
    /// Whether each point is on the even grid.
    pub on_grid: Vec<bool>,
    /// Points where the density came out NaN (left out of `points`).
    pub nan: usize,
}

/// The density `exp(log_prob(x))` of `dist` (in its dtype), per `unit` of x (so that
/// densities beyond f64::MAX over a subnormal range stay finite; see `axis_scale`), on
/// `points` evenly spaced values of `[lo, hi]`, plus points approaching each end of the
/// range that is an edge of the support. Each point is evaluated on its own, and points the distribution
/// rejects (outside its support, as it sees it in its dtype) are left out, so the curve
/// never fails on the range.
pub fn density_curve(
    dist: &dyn Distribution,
    lo: f64,
    hi: f64,
    points: usize,
    unit: f64,
) -> Result<Curve, String> {
    let log_unit = unit.ln();
    let (sl, sh) = support_bounds(&dist.support());
    let step = (hi - lo) / points.max(2) as f64;
    let mut xs: Vec<(f64, bool)> = linspace(lo, hi, points)
        .into_iter()
        .map(|x| (x, true))
        .collect();
    for k in 1..=9 {
        let d = step * 10f64.powi(-k);
        if lo == sl {
            xs.push((lo + d, false));
        }
        if hi == sh {
            xs.push((hi - d, false));
        }
    }
    xs.sort_by(|a, b| a.0.total_cmp(&b.0));
    xs.dedup_by(|a, b| a.0 == b.0);
    let mut curve = Curve::default();
    let mut first_err = None;
    for (x, grid) in xs {
        let lp = Tensor::new(x, dist.device())
            .and_then(|t| t.to_dtype(dist.dtype()))
            .map_err(|e| e.to_string())
            .and_then(|t| dist.log_prob(&t).map_err(|e| e.to_string()))
            .and_then(|t| crate::dists::host(&t));
        match lp {
            Ok(v) if v.len() == 1 && v[0].is_nan() => curve.nan += 1,
            Ok(v) if v.len() == 1 => {
                curve.points.push((x, (v[0] + log_unit).exp()));
                curve.on_grid.push(grid);
            }
            Ok(_) => {}
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if curve.points.is_empty() && curve.nan == 0 {
        return Err(format!(
            "the density could not be evaluated on [{lo}, {hi}]: {}",
            first_err.unwrap_or_default()
        ));
    }
    Ok(curve)
}

/// Splits a polyline into the pieces below `top`, ending each piece where it crosses
/// `top` (a point at +∞ crosses straight up).
fn clip_polyline(pts: &[(f64, f64)], top: f64) -> Vec<Vec<(f64, f64)>> {
    let cross = |(xa, ya): (f64, f64), (xb, yb): (f64, f64)| -> (f64, f64) {
        if !ya.is_finite() {
            (xa, top)
        } else if !yb.is_finite() {
            (xb, top)
        } else {
            (xa + (top - ya) / (yb - ya) * (xb - xa), top)
        }
    };
    let mut out = vec![];
    let mut cur = vec![];
    for (i, &p) in pts.iter().enumerate() {
        let inside = p.1 <= top;
        if i > 0 {
            let q = pts[i - 1];
            let q_in = q.1 <= top;
            if q_in && !inside {
                cur.push(cross(q, p));
                out.push(std::mem::take(&mut cur));
            } else if !q_in && inside {
                cur.push(cross(q, p));
            }
        }
        if inside {
            cur.push(p);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A mark where the curve leaves the top of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Where the curve leaves the chart.
    pub x: f64,
    /// `→ ∞ at x = 0` for a pole at a support edge, `peak 12.3` otherwise.
    pub label: String,
    /// Whether the label goes left of the mark (near the right edge).
    pub text_left: bool,
}

/// The marks for every run of curve points above `top`: a run at an end of the range
/// that is a support edge, where the density grows towards the edge (or is +∞ there),
/// is a pole; any other run is a clipped peak.
fn clip_marks(curve: &Curve, top: f64, lo: f64, hi: f64, support: (f64, f64)) -> Vec<Clip> {
    let pts = &curve.points;
    let mut marks = vec![];
    let mut i = 0;
    while i < pts.len() {
        if pts[i].1 <= top {
            i += 1;
            continue;
        }
        let start = i;
        while i < pts.len() && pts[i].1 > top {
            i += 1;
        }
        let end = i - 1;
        let left_pole = start == 0
            && lo == support.0
            && (pts[0].1.is_infinite() || (end > 0 && pts[0].1 > pts[1].1));
        let right_pole = end == pts.len() - 1
            && hi == support.1
            && (pts[end].1.is_infinite() || (end > start && pts[end].1 > pts[end - 1].1));
        let mid = 0.5 * (lo + hi);
        if left_pole {
            marks.push(Clip {
                x: pts[end].0,
                label: format!("density → ∞ as x → {}", fmt_tick(lo, 4, hi - lo)),
                text_left: false,
            });
        } else if right_pole {
            marks.push(Clip {
                x: pts[start].0,
                label: format!("density → ∞ as x → {}", fmt_tick(hi, 4, hi - lo)),
                text_left: true,
            });
        } else {
            let (x, peak) =
                pts[start..=end]
                    .iter()
                    .copied()
                    .fold((pts[start].0, f64::NEG_INFINITY), |m, p| {
                        if p.1 > m.1 {
                            p
                        } else {
                            m
                        }
                    });
            marks.push(Clip {
                x,
                label: format!("peak {} (clipped)", fmt_tick(peak, 3, 0.0)),
                text_left: x > mid,
            });
        }
    }
    marks
}

/// What a histogram-versus-density chart shows, for the command's summary.
#[derive(Debug, Clone)]
pub struct PlotReport {
    /// Plotted x-range.
    pub lo: f64,
    /// Plotted x-range.
    pub hi: f64,
    /// Draws outside the plotted range (infinite ones included).
    pub outside: usize,
    /// Plotted points where the density came out NaN.
    pub nan_density: usize,
    /// Marks where the curve is clipped.
    pub clips: Vec<Clip>,
}

/// The top of the y-axis: above the histogram and the bulk (95%) of the curve on the
/// even grid, with room for the legend, but not stretched to a pole or a spike.
fn y_top(hist: &Histogram, curve: &Curve) -> f64 {
    let hmax = hist.heights.iter().copied().fold(0.0f64, f64::max);
    let mut grid: Vec<f64> = curve
        .points
        .iter()
        .zip(&curve.on_grid)
        .filter(|(p, g)| **g && p.1.is_finite())
        .map(|(p, _)| p.1)
        .collect();
    grid.sort_unstable_by(f64::total_cmp);
    let level = hmax.max(quantile_sorted(&grid, 0.95)).max(0.0);
    if level > 0.0 && level.is_finite() {
        // The headroom keeps the legend off the data; it cannot overflow (a density
        // level above f64::MAX / 1.3 would be a bin narrower than 1e-308).
        (level * 1.3).min(f64::MAX)
    } else {
        1.0
    }
}

/// Of the top-left, top-middle and top-right thirds, the emptiest, for the legend
/// (right preferred, then left).
fn legend_position(hist: &Histogram, curve: &Curve, top: f64) -> SeriesLabelPosition {
    let (lo, hi) = (hist.lo, hist.hi);
    let third = |x: f64| (((x - lo) / (hi - lo) * 3.0) as usize).min(2);
    let mut occ = [0.0f64; 3];
    for (a, b, h) in hist.bars() {
        for o in &mut occ[third(a)..=third(b)] {
            *o = o.max(h.min(top));
        }
    }
    for p in &curve.points {
        let t = third(p.0);
        occ[t] = occ[t].max(p.1.min(top));
    }
    let order = [
        (2, SeriesLabelPosition::UpperRight),
        (0, SeriesLabelPosition::UpperLeft),
        (1, SeriesLabelPosition::UpperMiddle),
    ];
    let mut best = 0;
    for (k, &(t, _)) in order.iter().enumerate() {
        if occ[t] < occ[order[best].0] - 0.05 * top {
            best = k;
        }
    }
    order[best].1.clone()
}

/// The power of ten the x-axis is drawn in: 1 for ordinary ranges; for ranges wider
/// than 1e10 or narrower than 1e-10 one near the width, since plotters' tick and pixel
/// arithmetic fails at magnitudes such as 1e300 (no ticks, a wrong curve). Densities
/// are drawn per scaled unit, which brings them back near 1 too.
fn axis_scale(lo: f64, hi: f64) -> f64 {
    let w = hi - lo;
    if (1e-10..=1e10).contains(&w) {
        return 1.0;
    }
    // Through text: powi computes 10^-310 as 1 / 10^310 = 0.
    let s: f64 = format!("1e{}", w.log10().floor()).parse().unwrap_or(1.0);
    if s.is_finite() && s > 0.0 {
        s
    } else {
        1.0
    }
}

/// Significant digits that tell apart ticks about `(hi - lo) / 8` apart.
fn tick_digits(lo: f64, hi: f64) -> u32 {
    let m = lo.abs().max(hi.abs());
    let step = (hi - lo) / 8.0;
    let d = (m / step).log10().ceil();
    if d.is_finite() {
        (d as i64 + 2).clamp(3, 15) as u32
    } else {
        3
    }
}

/// Writes a PNG histogram of `sorted` draws (sorted by `f64::total_cmp`; infinite ones
/// allowed, NaN ones not) against the density of `dist`.
pub fn samples_vs_density(
    to: &Staged,
    title: &str,
    dist: &dyn Distribution,
    sorted: &[f64],
) -> Result<PlotReport, String> {
    let root = canvas(to, (960, 600))?;
    let report = samples_vs_density_panel(&root, to, title, dist, sorted)?;
    present(&root, to)?;
    Ok(report)
}

/// Draws the chart of [`samples_vs_density`] on `panel` (of the image `to`).
pub fn samples_vs_density_panel(
    panel: &Panel,
    to: &Staged,
    title: &str,
    dist: &dyn Distribution,
    sorted: &[f64],
) -> Result<PlotReport, String> {
    ensure_font()?;
    let finite = finite_part(sorted);
    let infinite = sorted.iter().filter(|x| x.is_infinite()).count();
    let (lo, hi) = plot_range(dist, finite)?;
    // Densities are per drawing unit from here on, x stays in data units until drawn.
    let sx = axis_scale(lo, hi);
    let bins = ((sorted.len() as f64).sqrt() as usize / 2).clamp(10, 80);
    let hist = Histogram::new(sorted, lo, hi, bins, sx);
    let curve = density_curve(dist, lo, hi, 400, sx)?;
    let top = y_top(&hist, &curve);
    let support = support_bounds(&dist.support());
    let clips = clip_marks(&curve, top, lo, hi, support);
    let pieces = clip_polyline(&curve.points, top);

    let (x_desc, y_desc) = if sx == 1.0 {
        ("x".to_string(), "density".to_string())
    } else {
        let u = fmt_tick(sx, 1, 0.0);
        (format!("x / {u}"), format!("density × {u}"))
    };
    let to_px = |(x, p): (f64, f64)| (x / sx, p);
    let pieces: Vec<Vec<(f64, f64)>> = pieces
        .into_iter()
        .map(|v| v.into_iter().map(to_px).collect())
        .collect();
    let bars: Vec<(f64, f64, f64)> = hist.bars().map(|(a, b, h)| (a / sx, b / sx, h)).collect();
    let (lo_d, hi_d, top_d) = (lo / sx, hi / sx, top);

    let e = perr(to);
    let mut chart = ChartBuilder::on(panel)
        .caption(title, ("sans-serif", 26))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(84)
        .build_cartesian_2d(lo_d..hi_d, 0.0..top_d)
        .map_err(&e)?;
    let (xd, yd) = (tick_digits(lo_d, hi_d), tick_digits(0.0, top_d));
    let (xw, yw) = (hi_d - lo_d, top_d);
    let x_fmt = move |v: &f64| fmt_tick(*v, xd, xw);
    let y_fmt = move |v: &f64| fmt_tick(*v, yd, yw);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(8)
        .y_labels(7)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(&e)?;
    let bar = RGBColor(70, 130, 180);
    let n = sorted.len();
    let mut hist_label = format!("{n} draw{}", if n == 1 { "" } else { "s" });
    if hist.outside > 0 {
        hist_label += &format!(" ({} outside the x-range", hist.outside);
        if infinite > 0 {
            hist_label += &format!(", {infinite} of them ±∞");
        }
        hist_label += ")";
    }
    chart
        .draw_series(
            bars.iter()
                .map(|&(a, b, h)| Rectangle::new([(a, 0.0), (b, h)], bar.mix(0.55).filled())),
        )
        .map_err(&e)?
        .label(hist_label)
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 6), (x + 18, y + 6)], bar.mix(0.55).filled())
        });
    let curve_color = RGBColor(200, 30, 30);
    for (k, piece) in pieces.into_iter().enumerate() {
        let drawn = chart
            .draw_series(LineSeries::new(piece, curve_color.stroke_width(3)))
            .map_err(&e)?;
        if k == 0 {
            drawn
                .label("density exp(log_prob(x))")
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], curve_color.stroke_width(3))
                });
        }
    }
    for c in &clips {
        let (dx, anchor) = if c.text_left {
            (-10, Pos::new(HPos::Right, VPos::Top))
        } else {
            (10, Pos::new(HPos::Left, VPos::Top))
        };
        let font = ("sans-serif", 17)
            .into_font()
            .color(&curve_color)
            .pos(anchor);
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((c.x / sx, top_d))
                    + TriangleMarker::new((0, 8), 7, curve_color.filled())
                    + Text::new(c.label.clone(), (dx, 4), font),
            ))
            .map_err(&e)?;
    }
    legend(&mut chart, to, legend_position(&hist, &curve, top))?;
    Ok(PlotReport {
        lo,
        hi,
        outside: hist.outside,
        nan_density: curve.nan,
        clips,
    })
}

/// The most bars of a pmf chart: wider ranges of integers are grouped into cells of
/// equal width.
pub const MAX_BARS: usize = 60;

/// The most integers whose pmf a chart evaluates one by one.
pub const MAX_PMF_POINTS: i64 = 2_000_000;

/// Points per bar where the range has more than [`MAX_PMF_POINTS`] integers.
pub const PMF_SAMPLES: i64 = 64;

/// What [`frequencies_vs_pmf`] drew.
#[derive(Debug, Clone)]
pub struct PmfReport {
    /// The first and last integer plotted.
    pub lo: i64,
    /// The first and last integer plotted.
    pub hi: i64,
    /// Integers per bar (1 unless the range is wider than [`MAX_BARS`]).
    pub width: i64,
    /// Draws outside `[lo, hi]`.
    pub outside: usize,
}

/// The cells of a pmf chart.
#[derive(Debug, Clone)]
pub struct PmfCells {
    /// The first integer of each cell.
    pub starts: Vec<i64>,
    /// The fraction of all draws in each cell.
    pub freq: Vec<f64>,
    /// The pmf summed over each cell.
    pub pmf: Vec<f64>,
    /// Integers per cell.
    pub width: i64,
    /// Whether each cell's pmf is the exact sum (else a mean over [`PMF_SAMPLES`]
    /// points times the cell's size).
    pub exact: bool,
}

/// Observed frequencies of integer draws and the pmf of `dist` on the same cells: one
/// cell per integer from `lo` to `hi`, grouped `width` at a time when more than
/// [`MAX_BARS`] (the pmf summed over each group).
pub fn pmf_cells(
    dist: &dyn Distribution,
    sorted: &[f64],
    lo: i64,
    hi: i64,
) -> Result<PmfCells, String> {
    let span = (hi - lo + 1).max(1);
    let width = (span + MAX_BARS as i64 - 1) / MAX_BARS as i64;
    let cells = ((span + width - 1) / width) as usize;
    let n = sorted.len() as f64;
    let mut freq = vec![0.0; cells];
    for &x in sorted {
        if x >= lo as f64 && x <= hi as f64 {
            freq[((x as i64 - lo) / width) as usize] += 1.0 / n;
        }
    }
    // Every integer of the range up to MAX_PMF_POINTS of them; beyond that (a
    // Geometric of tiny p), a cell's mass is its integer count times the mean of the pmf
    // at PMF_SAMPLES evenly spaced integers in it (`exact` says which).
    let exact = span <= MAX_PMF_POINTS;
    let ks: Vec<f64> = if exact {
        (lo..=hi).map(|k| k as f64).collect()
    } else {
        (0..cells as i64)
            .flat_map(|c| {
                let a = lo + c * width;
                let len = width.min(hi - a + 1);
                (0..PMF_SAMPLES).map(move |j| (a + j * (len - 1) / (PMF_SAMPLES - 1)) as f64)
            })
            .collect()
    };
    let v = Tensor::new(ks.as_slice(), dist.device())
        .and_then(|t| t.to_dtype(dist.dtype()))
        .map_err(|e| e.to_string())?;
    let lp = dist.log_prob(&v).map_err(|e| e.to_string())?;
    let lp = lp
        .to_dtype(candle_core::DType::F64)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f64>())
        .map_err(|e| e.to_string())?;
    let mut pmf = vec![0.0; cells];
    if exact {
        for (i, l) in lp.iter().enumerate() {
            pmf[i / width as usize] += l.exp();
        }
    } else {
        for (c, chunk) in lp.chunks(PMF_SAMPLES as usize).enumerate() {
            let len = width.min(hi - (lo + c as i64 * width) + 1) as f64;
            pmf[c] = len * chunk.iter().map(|l| l.exp()).sum::<f64>() / PMF_SAMPLES as f64;
        }
    }
    let starts = (0..cells as i64).map(|c| lo + c * width).collect();
    Ok(PmfCells {
        starts,
        freq,
        pmf,
        width,
        exact,
    })
}

/// The integers a pmf chart spans: every observed value when they fit in a few hundred
/// cells, else the draws' 0.05% to 99.95% quantiles (the rest is reported as outside).
pub fn pmf_range(sorted: &[f64]) -> (i64, i64) {
    let (a, b) = (sorted[0], sorted[sorted.len() - 1]);
    if b - a <= 400.0 {
        return (a as i64, b as i64);
    }
    let q = |p: f64| quantile_sorted(sorted, p);
    (q(0.0005).floor() as i64, q(0.9995).ceil() as i64)
}

/// Draws the bars of the observed frequencies of integer draws (`sorted`, all finite
/// integers) and the pmf of `dist` (red markers) into `area`, on the cells of
/// [`pmf_cells`] over [`pmf_range`], with `caption` on top; `small` shrinks the text
/// and leaves the legend out (a panel of several). The caller presents the image.
fn pmf_panel(
    area: &Panel,
    to: &Staged,
    caption: &str,
    dist: &dyn Distribution,
    sorted: &[f64],
    small: bool,
) -> Result<PmfReport, String> {
    let (lo, hi) = pmf_range(sorted);
    let PmfCells {
        starts,
        freq,
        pmf,
        width,
        exact,
    } = pmf_cells(dist, sorted, lo, hi)?;
    let outside = sorted
        .iter()
        .filter(|x| **x < lo as f64 || **x > hi as f64)
        .count();
    let top = freq
        .iter()
        .chain(&pmf)
        .fold(0.0f64, |m, v| m.max(*v))
        .max(1e-300)
        * 1.15;
    let (x_lo, x_hi) = (
        lo as f64 - 0.5 * width as f64,
        (hi + 1) as f64 - 0.5 * width as f64,
    );
    let x_hi = x_hi.max(x_lo + width as f64);

    let e = perr(to);
    let (cap_px, text_px, margin) = if small { (17, 13, 8) } else { (26, 16, 18) };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", cap_px))
        .margin(margin)
        .x_label_area_size(if small { 36 } else { 48 })
        .y_label_area_size(if small { 60 } else { 84 })
        .build_cartesian_2d(x_lo..x_hi, 0.0..top)
        .map_err(&e)?;
    let yd = tick_digits(0.0, top);
    let y_fmt = move |v: &f64| fmt_tick(*v, yd, top);
    // Integers as integers (no ticks between them); wide ranges in the axis's format.
    let (xd, xw) = (tick_digits(x_lo, x_hi), x_hi - x_lo);
    let x_fmt = move |v: &f64| {
        if v.fract() != 0.0 {
            String::new()
        } else if v.abs() < 1e6 {
            format!("{v}")
        } else {
            fmt_tick(*v, xd, xw)
        }
    };
    let (x_desc, y_desc) = if width == 1 {
        ("k".to_string(), "frequency / P(X = k)".to_string())
    } else {
        (
            format!("k ({width} values per bar)"),
            "frequency / P(X in bar)".to_string(),
        )
    };
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(((hi - lo) / width + 1).clamp(2, if small { 6 } else { 12 }) as usize)
        .y_labels(if small { 5 } else { 7 })
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(("sans-serif", text_px))
        .axis_desc_style(("sans-serif", text_px + 2))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(&e)?;
    let bar = RGBColor(70, 130, 180);
    let half = 0.4 * width as f64;
    let centre = |s: i64| s as f64 + 0.5 * (width - 1) as f64;
    let n = sorted.len();
    let mut label = format!(
        "observed frequency ({n} draw{})",
        if n == 1 { "" } else { "s" }
    );
    if outside > 0 {
        label += &format!(", {outside} outside the x-range");
    }
    chart
        .draw_series(starts.iter().zip(&freq).map(|(&s, &f)| {
            Rectangle::new(
                [(centre(s) - half, 0.0), (centre(s) + half, f)],
                bar.mix(0.55).filled(),
            )
        }))
        .map_err(&e)?
        .label(label)
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 6), (x + 18, y + 6)], bar.mix(0.55).filled())
        });
    let red = RGBColor(200, 30, 30);
    chart
        .draw_series(
            starts
                .iter()
                .zip(&pmf)
                .map(|(&s, &p)| Circle::new((centre(s), p), 5, red.filled())),
        )
        .map_err(&e)?
        .label(if exact {
            "pmf exp(log_prob(k))".to_string()
        } else {
            format!("pmf exp(log_prob(k)), mean of {PMF_SAMPLES} points × bar width")
        })
        .legend(move |(x, y)| Circle::new((x + 9, y), 5, red.filled()));
    if !small {
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 17))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(&e)?;
    }
    Ok(PmfReport {
        lo,
        hi,
        width,
        outside,
    })
}

/// Writes a PNG bar chart of the observed frequencies of integer draws (`sorted`, all
/// finite integers) against the pmf of `dist` (red markers), on the cells of
/// [`pmf_cells`] over [`pmf_range`].
pub fn frequencies_vs_pmf(
    to: &Staged,
    title: &str,
    dist: &dyn Distribution,
    sorted: &[f64],
) -> Result<PmfReport, String> {
    ensure_font()?;
    let root = canvas(to, (960, 600))?;
    let report = pmf_panel(&root, to, title, dist, sorted, false)?;
    present(&root, to)?;
    Ok(report)
}

/// Writes a PNG with one pmf bar chart per coordinate of integer vector draws
/// (Multinomial counts): `columns[j]` holds coordinate j of every draw, sorted, and
/// `marginals[j]` its law (Binomial(n, p_j)), whose pmf is drawn over the bars.
pub fn coordinate_pmf_charts(
    to: &Staged,
    title: &str,
    columns: &[Vec<f64>],
    marginals: &[(String, Box<dyn Distribution>)],
) -> Result<Vec<PmfReport>, String> {
    ensure_font()?;
    let k = columns.len().max(1);
    let cols = (1..=4).find(|c| c * c >= k).unwrap_or(4);
    let rows = k.div_ceil(cols);
    let e = perr(to);
    let width = 420 * cols as u32 + 40;
    let root = canvas(to, (width, 300 * rows as u32 + 70))?;
    let title_px = (width as f64 / (0.55 * title.chars().count().max(1) as f64)).clamp(12.0, 24.0);
    let root = root.titled(title, ("sans-serif", title_px)).map_err(&e)?;
    let mut out = Vec::with_capacity(columns.len());
    for (j, ((panel, column), (label, m))) in root
        .split_evenly((rows, cols))
        .iter()
        .zip(columns)
        .zip(marginals)
        .enumerate()
    {
        let caption = format!("x{j}  (bars: frequencies; dots: {label} pmf)");
        out.push(pmf_panel(panel, to, &caption, m.as_ref(), column, true)?);
    }
    present(&root, to)?;
    Ok(out)
}

/// Writes a PNG with one histogram panel per coordinate of vector draws: `columns[j]`
/// holds coordinate j of every draw, sorted by `f64::total_cmp` (no NaN). Each panel
/// spans the support's bounds where they are finite (`[0, 1]` on the simplex) and the
/// coordinate's finite draws otherwise; bars are densities (count / (n · bin width)).
/// Where `marginals` holds the law of each coordinate (Dirichlet's Beta marginals;
/// empty otherwise, LogisticNormal's have no closed form), its density is drawn over
/// the bars, clipped at the top like `samples_vs_density`'s curve.
pub fn coordinate_histograms(
    to: &Staged,
    title: &str,
    support: &Constraint,
    columns: &[Vec<f64>],
    marginals: &[(String, Box<dyn Distribution>)],
) -> Result<(), String> {
    ensure_font()?;
    let k = columns.len().max(1);
    let cols = (1..=4).find(|c| c * c >= k).unwrap_or(4);
    let rows = k.div_ceil(cols);
    let (s_lo, s_hi) = support_bounds(support);
    let e = perr(to);
    let width = 420 * cols as u32 + 40;
    let root = canvas(to, (width, 300 * rows as u32 + 70))?;
    // A long label (many parameters) gets a smaller font rather than running off the
    // image: DejaVu Sans averages about 0.55 em per character.
    let title_px = (width as f64 / (0.55 * title.chars().count().max(1) as f64)).clamp(12.0, 24.0);
    let root = root.titled(title, ("sans-serif", title_px)).map_err(&e)?;
    let bar = RGBColor(70, 130, 180);
    for (j, (panel, column)) in root
        .split_evenly((rows, cols))
        .iter()
        .zip(columns)
        .enumerate()
    {
        let finite = finite_part(column);
        let (d_lo, d_hi) = match (finite.first(), finite.last()) {
            (Some(a), Some(b)) => (*a, *b),
            _ => (0.0, 1.0),
        };
        let lo = if s_lo.is_finite() { s_lo } else { d_lo };
        let mut hi = if s_hi.is_finite() { s_hi } else { d_hi };
        if hi <= lo {
            // All draws equal: a unit-wide window around them.
            hi = lo + 1.0;
        }
        let sx = axis_scale(lo, hi);
        let bins = ((column.len() as f64).sqrt() as usize / 2).clamp(10, 60);
        let hist = Histogram::new(column, lo, hi, bins, sx);
        let marginal = marginals.get(j);
        let curve = match marginal {
            Some((_, m)) => Some(density_curve(m.as_ref(), lo, hi, 200, sx)?),
            None => None,
        };
        let top = match &curve {
            Some(c) => y_top(&hist, c),
            None => {
                let top = hist.heights.iter().copied().fold(0.0f64, f64::max);
                if top > 0.0 && top.is_finite() {
                    top * 1.1
                } else {
                    1.0
                }
            }
        };
        let caption = match marginal {
            Some((label, _)) => format!("x{j}  (curve: {label} density)"),
            None => format!("x{j}"),
        };
        let (lo_d, hi_d) = (lo / sx, hi / sx);
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(56)
            .build_cartesian_2d(lo_d..hi_d, 0.0..top)
            .map_err(&e)?;
        let (xd, yd) = (tick_digits(lo_d, hi_d), tick_digits(0.0, top));
        let (xw, yw) = (hi_d - lo_d, top);
        let x_fmt = move |v: &f64| fmt_tick(*v, xd, xw);
        let y_fmt = move |v: &f64| fmt_tick(*v, yd, yw);
        chart
            .configure_mesh()
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(("sans-serif", 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(&e)?;
        chart
            .draw_series(hist.bars().map(|(a, b, h)| {
                Rectangle::new([(a / sx, 0.0), (b / sx, h)], bar.mix(0.55).filled())
            }))
            .map_err(&e)?;
        if let Some(c) = &curve {
            let curve_color = RGBColor(200, 30, 30);
            for piece in clip_polyline(&c.points, top) {
                let piece = piece.into_iter().map(|(x, p)| (x / sx, p));
                chart
                    .draw_series(LineSeries::new(piece, curve_color.stroke_width(2)))
                    .map_err(&e)?;
            }
        }
    }
    present(&root, to)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pmf cells: one per integer when the range is narrow, groups of `width` summing
    /// the pmf exactly otherwise, and a mean-of-points estimate beyond
    /// [`MAX_PMF_POINTS`]; frequencies count the draws in each cell.
    #[test]
    fn pmf_cells_group_integers_and_sum_the_pmf() {
        use candle_distributions::{Geometric, Poisson};
        let f64_scalar = |v: f64| Tensor::new(v, &candle_core::Device::Cpu).unwrap();
        let pois = Poisson::new(&f64_scalar(3.0)).unwrap();
        let pmf = |k: i64| {
            let lf: f64 = (1..=k).map(|i| (i as f64).ln()).sum();
            (k as f64 * 3f64.ln() - 3.0 - lf).exp()
        };
        let draws = [0.0, 1.0, 1.0, 2.0, 5.0];
        let c = pmf_cells(&pois, &draws, 0, 5).unwrap();
        assert_eq!((c.width, c.exact, c.starts.len()), (1, true, 6));
        assert_eq!(c.freq, vec![0.2, 0.4, 0.2, 0.0, 0.0, 0.2]);
        for (k, p) in c.pmf.iter().enumerate() {
            assert!(
                (p - pmf(k as i64)).abs() < 1e-13 * p,
                "{k}: {p} vs {}",
                pmf(k as i64)
            );
        }
        // 0..=239 in 60 cells of 4 integers.
        let c = pmf_cells(&pois, &draws, 0, 239).unwrap();
        assert_eq!((c.width, c.starts.len()), (4, 60));
        assert_eq!(c.freq[0], 0.8);
        let want: f64 = (0..4).map(pmf).sum();
        assert!((c.pmf[0] - want).abs() < 1e-13 * want);
        assert!((c.pmf.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        // Beyond MAX_PMF_POINTS integers: P(X ≤ h) = 1 − (1 − p)^(h + 1) for a
        // Geometric, estimated within 1e-3.
        let geo = Geometric::new(&f64_scalar(1e-7)).unwrap();
        let hi = 50_000_000;
        let c = pmf_cells(&geo, &[0.0], 0, hi).unwrap();
        assert!(!c.exact);
        let want = 1.0 - (1.0 - 1e-7f64).powf(hi as f64 + 1.0);
        let got: f64 = c.pmf.iter().sum();
        assert!((got - want).abs() < 1e-3, "{got} vs {want}");
    }

    #[test]
    fn clipping_splits_at_the_top_and_cuts_poles() {
        let pts = [
            (0.0, f64::INFINITY),
            (1.0, 3.0),
            (2.0, 1.0),
            (3.0, 5.0),
            (4.0, 1.0),
        ];
        let pieces = clip_polyline(&pts, 2.0);
        assert_eq!(
            pieces,
            vec![
                vec![(1.5, 2.0), (2.0, 1.0), (2.25, 2.0)],
                vec![(3.75, 2.0), (4.0, 1.0)]
            ]
        );
    }

    #[test]
    fn poles_at_support_edges_and_interior_peaks_are_marked() {
        let curve = Curve {
            points: vec![
                (0.001, 50.0),
                (0.01, 9.0),
                (0.5, 1.0),
                (0.7, 9.0),
                (0.8, 1.0),
            ],
            on_grid: vec![true; 5],
            nan: 0,
        };
        let m = clip_marks(&curve, 5.0, 0.0, 1.0, (0.0, f64::INFINITY));
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].label, "density → ∞ as x → 0");
        assert_eq!(m[1].label, "peak 9 (clipped)");
        assert_eq!(m[1].x, 0.7);
        // Not a support edge: a peak, not a pole.
        let m = clip_marks(&curve, 5.0, 0.0, 1.0, (f64::NEG_INFINITY, f64::INFINITY));
        assert_eq!(m[0].label, "peak 50 (clipped)");
    }

    #[test]
    fn ranges_near_the_largest_double_do_not_overflow() {
        let m = f64::MAX / 2.0;
        let xs = linspace(-m, m, 5);
        for (x, want) in xs.iter().zip([-m, -m / 2.0, 0.0, m / 2.0, m]) {
            assert!((x - want).abs() <= 1e-15 * m, "{x} vs {want}");
        }
        let h = Histogram::new(&[-m, 0.0, m], -m, m, 2, 1.0);
        // Each half of the range holds 1 or 2 of 3 draws over a width of m.
        assert_eq!(h.heights, vec![1.0 / 3.0 / m, 2.0 / 3.0 / m]);
    }

    #[test]
    fn histogram_counts_what_it_leaves_out() {
        let inf = f64::INFINITY;
        let h = Histogram::new(&[-inf, 0.25, 0.75, 2.0, inf], 0.0, 1.0, 2, 1.0);
        assert_eq!(h.outside, 3);
        // Each bin holds 1 of 5 draws over a width of 0.5.
        assert_eq!(h.heights, vec![0.4, 0.4]);
    }
}
