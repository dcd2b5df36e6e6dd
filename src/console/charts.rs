//! Charts drawn on the server as SVG (plotters' SVG backend): one time series with an
//! optional warning threshold, as a labelled horizontal line, and bar charts (one bar per
//! labelled category, series stacked, upright or lying). The SVG uses presentation
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

/// A bar colour, from the console's palette.
#[derive(Debug, Clone, Copy)]
pub enum Tone {
    Blue,
    Green,
    Red,
    Grey,
}

impl Tone {
    fn rgb(self) -> RGBColor {
        match self {
            Self::Blue => LINE,
            Self::Green => RGBColor(0x1d, 0x7a, 0x3a),
            Self::Red => WARN,
            Self::Grey => RGBColor(0x8a, 0x94, 0xa3),
        }
    }
}

/// One series of a bar chart: a value per category.
#[derive(Debug)]
pub struct Series<'a> {
    /// Shown in the legend when there is more than one series.
    pub name: &'a str,
    pub tone: Tone,
    pub values: Vec<f64>,
}

/// What one bar chart shows.
#[derive(Debug)]
pub struct Bars<'a> {
    pub title: &'a str,
    /// One label per category, in order (left to right, or top to bottom when lying).
    pub labels: &'a [String],
    /// Stacked in this order, the first at the base.
    pub series: &'a [Series<'a>],
    /// Bars lying along the value axis, labels on the left: for long labels.
    pub lying: bool,
    /// Appended to the value axis's numbers, e.g. `%`.
    pub unit: &'a str,
    /// The value axis reaches at least this far (100 for percentages).
    pub max: f64,
    /// Category labels shown at most (evenly spread) on an upright chart.
    pub max_labels: usize,
    /// Written across a chart whose bars are all zero.
    pub empty: &'a str,
}

/// Category labels of a lying chart are cut to this many characters.
const LABEL_CHARS: usize = 21;
/// Height of one lying bar, in CSS pixels.
const ROW: u32 = 22;

/// The height of a lying chart of `bars` bars: a row each, and room for the axes.
pub fn lying_height(bars: usize) -> u32 {
    (bars as u32 * ROW + 76).max(HEIGHT / 2 + 20)
}

impl Bars<'_> {
    /// The chart's height: [`HEIGHT`], or [`lying_height`] for a lying chart.
    pub fn height(&self) -> u32 {
        if self.lying {
            lying_height(self.labels.len())
        } else {
            HEIGHT
        }
    }
}

/// The bar chart as a standalone SVG document, [`WIDTH`] by [`Bars::height`].
pub fn bars_svg(bars: &Bars) -> anyhow::Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, bars.height())).into_drawing_area();
        draw_bars(&root, bars).map_err(|e| anyhow::anyhow!("drawing chart {}: {e}", bars.title))?;
        root.present()
            .map_err(|e| anyhow::anyhow!("writing chart {}: {e}", bars.title))?;
    }
    Ok(out)
}

/// `label` cut to `chars` characters, with an ellipsis when it was longer.
fn cut(label: &str, chars: usize) -> String {
    if label.chars().count() <= chars {
        label.to_string()
    } else {
        let mut short: String = label.chars().take(chars - 1).collect();
        short.push('…');
        short
    }
}

fn draw_bars(root: &Area<'_>, b: &Bars) -> DrawResult {
    root.fill(&WHITE)?;
    let n = b.labels.len();
    let totals: Vec<f64> = (0..n)
        .map(|i| b.series.iter().filter_map(|s| s.values.get(i)).sum())
        .collect();
    let highest = totals.iter().copied().fold(0.0, f64::max);
    let top = b.max.max(highest * 1.15);
    // Larger than the dashboard's: a lying chart's labels must read on a phone.
    let font = ("sans-serif", 16).into_font().color(&TEXT);
    let legend = b.series.len() > 1;
    let slots = n.max(1) as f64;
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(b.title, ("sans-serif", 18).into_font().color(&TEXT))
        .margin(8)
        .margin_right(20);
    if legend {
        builder.set_label_area_size(LabelAreaPosition::Top, 24);
    }
    let unit = spaced(b.unit);
    let value_label = |v: &f64| format!("{v:.0}{unit}");
    if b.lying {
        let mut chart = builder
            .x_label_area_size(22)
            .y_label_area_size(165)
            .build_cartesian_2d(0.0..top, 0.0..slots)?;
        chart
            .configure_mesh()
            .x_labels(5)
            .y_labels(0)
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(GRID)
            .label_style(font.clone())
            .x_label_formatter(&value_label)
            .draw()?;
        // The first category on top.
        let row = |i: usize| slots - i as f64;
        let mut base = vec![0.0; n];
        for s in b.series {
            let color = s.tone.rgb();
            let rects: Vec<_> = (0..n)
                .map(|i| {
                    let v = s.values.get(i).copied().unwrap_or(0.0);
                    let r = Rectangle::new(
                        [(base[i], row(i) - 0.8), (base[i] + v, row(i) - 0.2)],
                        color.filled(),
                    );
                    base[i] += v;
                    r
                })
                .collect();
            chart.draw_series(rects)?;
        }
        let style = font.clone().pos(Pos::new(HPos::Right, VPos::Center));
        for (i, label) in b.labels.iter().enumerate() {
            let (_, y) = chart.backend_coord(&(0.0, row(i) - 0.5));
            let (x, _) = chart.backend_coord(&(0.0, 0.0));
            root.draw(&Text::new(
                cut(label, LABEL_CHARS),
                (x - 6, y),
                style.clone(),
            ))?;
        }
        if legend {
            let (x, y) = chart.backend_coord(&(0.0, slots));
            series_legend(root, b, (x, y - 14), &font)?;
        }
        if highest <= 0.0 {
            empty_text(&mut chart, b.empty, (top / 2.0, slots / 2.0), &font)?;
        }
    } else {
        let mut chart = builder
            .x_label_area_size(22)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..slots, 0.0..top)?;
        chart
            .configure_mesh()
            .x_labels(0)
            .y_labels(5)
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(GRID)
            .label_style(font.clone())
            .y_label_formatter(&value_label)
            .draw()?;
        let mut base = vec![0.0; n];
        for s in b.series {
            let color = s.tone.rgb();
            let rects: Vec<_> = (0..n)
                .map(|i| {
                    let v = s.values.get(i).copied().unwrap_or(0.0);
                    let x = i as f64;
                    let r = Rectangle::new(
                        [(x + 0.15, base[i]), (x + 0.85, base[i] + v)],
                        color.filled(),
                    );
                    base[i] += v;
                    r
                })
                .collect();
            chart.draw_series(rects)?;
        }
        // Every k-th label, the last one always shown.
        let every = n.div_ceil(b.max_labels.max(1)).max(1);
        let style = font.clone().pos(Pos::new(HPos::Center, VPos::Top));
        for (i, label) in b.labels.iter().enumerate() {
            if (n - 1 - i) % every != 0 {
                continue;
            }
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(label.clone(), (x, y + 5), style.clone()))?;
        }
        if legend {
            let (x, y) = chart.backend_coord(&(0.0, top));
            series_legend(root, b, (x, y - 14), &font)?;
        }
        if highest <= 0.0 {
            empty_text(&mut chart, b.empty, (slots / 2.0, top / 2.0), &font)?;
        }
    }
    Ok(())
}

type BarChart<'b> = ChartContext<
    'b,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The series' names in a row above the plot, each after a swatch of its colour.
fn series_legend(root: &Area<'_>, b: &Bars, (x, y): (i32, i32), font: &TextStyle) -> DrawResult {
    let style = font.clone().pos(Pos::new(HPos::Left, VPos::Center));
    let mut x = x;
    for s in b.series {
        root.draw(&Rectangle::new(
            [(x, y - 5), (x + 10, y + 5)],
            s.tone.rgb().filled(),
        ))?;
        root.draw(&Text::new(s.name.to_string(), (x + 14, y), style.clone()))?;
        x += 14 + 7 * s.name.chars().count() as i32 + 16;
    }
    Ok(())
}

fn empty_text(
    chart: &mut BarChart<'_>,
    text: &str,
    at: (f64, f64),
    font: &TextStyle,
) -> DrawResult {
    let style = font.clone().pos(Pos::new(HPos::Center, VPos::Center));
    chart.draw_series(std::iter::once(Text::new(text.to_string(), at, style)))?;
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
    fn bars_stack_their_series_label_every_category_and_cut_long_labels() {
        let labels = ["Geography::Europe".to_string(), "A".repeat(40)];
        let series = [
            Series {
                name: "approved",
                tone: Tone::Green,
                values: vec![2.0, 0.0],
            },
            Series {
                name: "denied",
                tone: Tone::Red,
                values: vec![1.0, 3.0],
            },
        ];
        let mut bars = Bars {
            title: "Suggestions",
            labels: &labels,
            series: &series,
            lying: true,
            unit: "",
            max: 4.0,
            max_labels: 2,
            empty: "nothing yet",
        };
        let svg = bars_svg(&bars).unwrap();
        assert!(
            !svg.contains("style="),
            "CSP forbids style attributes: {svg}"
        );
        assert!(
            svg.contains("Geography::Europe") && svg.contains("approved"),
            "{svg}"
        );
        assert!(svg.contains(&format!("{}…", "A".repeat(20))), "{svg}");
        assert!(!svg.contains(&"A".repeat(21)), "{svg}");
        assert!(!svg.contains("nothing yet"));
        assert_eq!(
            svg.matches("fill=\"#1D7A3A\"").count(),
            3,
            "two bars and a swatch"
        );
        assert_eq!(bars.height(), lying_height(2));
        bars.lying = false;
        let zero = [Series {
            name: "notes",
            tone: Tone::Blue,
            values: vec![0.0, 0.0],
        }];
        bars.series = &zero;
        let svg = bars_svg(&bars).unwrap();
        assert!(svg.contains("nothing yet"), "{svg}");
        assert_eq!(bars.height(), HEIGHT);
    }

    #[test]
    fn an_empty_chart_says_so() {
        let svg = svg(&chart(&[], None)).unwrap();
        assert!(svg.contains("no readings yet"), "{svg}");
        assert!(!svg.contains("warning at"));
    }
}
