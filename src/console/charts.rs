//! Charts drawn on the server as SVG (plotters' SVG backend): one time series with an
//! optional warning threshold, as a labelled horizontal line. The SVG uses presentation
//! attributes only (`fill=`, `stroke=`), never `style=`, so the console's
//! Content-Security-Policy (`style-src 'self'`) allows it.
//!
//! Text needs no font files: without plotters' `ttf` feature its built-in estimate sizes
//! labels, and the SVG backend writes them as `<text>` the browser sets in its own font.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Chart size in CSS pixels; pages scale it down to fit a phone.
pub const WIDTH: u32 = 400;
/// See [`WIDTH`].
pub const HEIGHT: u32 = 200;

/// Two points further apart than this are not joined by a line (the server was down).
const MAX_GAP_SECS: i64 = 10 * 60;

const LINE: RGBColor = RGBColor(0x24, 0x57, 0xc5);
const WARN: RGBColor = RGBColor(0xb3, 0x26, 0x1e);
const TEXT: RGBColor = RGBColor(0x3b, 0x44, 0x52);
const GRID: RGBColor = RGBColor(0xe4, 0xe8, 0xee);

/// What one chart shows.
#[derive(Debug)]
pub struct Chart<'a> {
    pub title: &'a str,
    /// Appended to the threshold's label, e.g. `%` or `°C`.
    pub unit: &'a str,
    /// `(unix seconds, value)`, oldest first.
    pub points: &'a [(i64, f64)],
    /// The warning level, drawn as a labelled horizontal line.
    pub threshold: Option<f64>,
    /// The y axis reaches at least this far (100 for percentages).
    pub y_max: f64,
    /// The right end of the time axis, in unix seconds.
    pub now: i64,
    /// How far back the time axis reaches, in hours.
    pub hours: u32,
    /// Written across an empty chart.
    pub empty: &'a str,
}

/// The chart as a standalone SVG document.
pub fn svg(chart: &Chart) -> anyhow::Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, chart).map_err(|e| anyhow::anyhow!("drawing chart {}: {e}", chart.title))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("writing chart {}: {e}", chart.title))?;
    }
    Ok(out)
}

type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;
type DrawResult =
    Result<(), DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>;

fn draw(root: &Area<'_>, c: &Chart) -> DrawResult {
    root.fill(&WHITE)?;
    let hours = f64::from(c.hours.max(1));
    let highest = c.points.iter().map(|p| p.1).fold(0.0, f64::max);
    let top = c
        .y_max
        .max(highest * 1.15)
        .max(c.threshold.unwrap_or(0.0) * 1.15);
    // plotters' SVG backend writes sizes divided by 1.24: these are 12 and 14.5 px.
    let font = ("sans-serif", 15).into_font().color(&TEXT);
    let mut chart = ChartBuilder::on(root)
        .caption(c.title, ("sans-serif", 18).into_font().color(&TEXT))
        .margin(8)
        .margin_right(20)
        .x_label_area_size(22)
        .y_label_area_size(36)
        .build_cartesian_2d(-hours..0.0, 0.0..top)?;
    chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(5)
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(GRID)
        .label_style(font.clone())
        .x_label_formatter(&|h| {
            if *h >= 0.0 {
                "now".to_string()
            } else {
                format!("{h:.0} h")
            }
        })
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let at = |t: i64| (t - c.now) as f64 / 3600.0;
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut previous: Option<i64> = None;
    for &(t, v) in c.points {
        if at(t) < -hours {
            continue;
        }
        if previous.is_none_or(|p| t - p > MAX_GAP_SECS) {
            runs.push(Vec::new());
        }
        runs.last_mut().expect("pushed").push((at(t), v));
        previous = Some(t);
    }
    for run in runs {
        chart.draw_series(LineSeries::new(run, LINE.stroke_width(2)))?;
    }
    match c.points.last() {
        Some(&(t, v)) => {
            chart.draw_series(std::iter::once(Circle::new((at(t), v), 3, LINE.filled())))?;
        }
        None => {
            let style = font.clone().pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series(std::iter::once(Text::new(
                c.empty.to_string(),
                (-hours / 2.0, top / 2.0),
                style,
            )))?;
        }
    }
    if let Some(level) = c.threshold {
        chart.draw_series(LineSeries::new(
            [(-hours, level), (0.0, level)],
            WARN.stroke_width(1),
        ))?;
        let label = format!("warning at {level}{}", spaced(c.unit));
        let style = font.color(&WARN).pos(Pos::new(HPos::Left, VPos::Bottom));
        chart.draw_series(std::iter::once(Text::new(
            label,
            (-hours + hours / 60.0, level + top / 60.0),
            style,
        )))?;
    }
    Ok(())
}

/// `%` reads as `80 %`; `°C` as `70 °C`.
fn spaced(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart<'a>(points: &'a [(i64, f64)], threshold: Option<f64>) -> Chart<'a> {
        Chart {
            title: "CPU",
            unit: "%",
            points,
            threshold,
            y_max: 100.0,
            now: 100_000,
            hours: 24,
            empty: "no readings yet",
        }
    }

    #[test]
    fn draws_the_series_and_a_labelled_threshold_without_style_attributes() {
        let points = [(90_000, 20.0), (99_940, 40.0), (100_000, 90.0)];
        let svg = svg(&chart(&points, Some(80.0))).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("warning at 80 %"), "{svg}");
        assert!(svg.contains("stroke=\"#B3261E\""), "threshold line: {svg}");
        assert!(
            !svg.contains("style="),
            "CSP forbids style attributes: {svg}"
        );
        let line = "<polyline fill=\"none\" opacity=\"1\" stroke=\"#2457C5\"";
        assert_eq!(svg.matches(line).count(), 2, "a gap splits the line: {svg}");
    }

    #[test]
    fn an_empty_chart_says_so() {
        let svg = svg(&chart(&[], None)).unwrap();
        assert!(svg.contains("no readings yet"), "{svg}");
        assert!(!svg.contains("warning at"));
    }
}
