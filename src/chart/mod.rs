//! Line charts as PNG images, for `/trend` and the weekly digest, made to be pasted into a slide
//! as they are: a title that names the metric, whose numbers and which platform, a subtitle with
//! the dates, labelled axes over exactly the period, a colour-blind-safe line per brand or
//! platform (ours drawn stronger than competitors'), and the legend beside the data, on a light
//! background unless `[charts] theme` asks for dark.
//!
//! What is drawn where is decided by plain functions in [`style`] (colours and line styles),
//! [`axes`] (spans, ticks and their labels) and [`layout`] (title, plot and legend), each tested
//! directly; this module only hands their decisions to plotters. The canvas is drawn at twice
//! the image's size and scaled down, so lines have smooth edges; the font ships in `assets/`
//! (DejaVu Sans), so charts look the same on every machine.

pub mod axes;
mod canvas;
pub mod layout;
pub mod style;

use chrono::{Datelike, NaiveDate};
use plotters::prelude::*;

use crate::period::Period;
use crate::plugin::Unit;
use axes::{date_ticks, value_axis, x_span};
use canvas::{Canvas, downsample, encode_png, text_width};
use layout::{CANVAS_HEIGHT, CANVAS_WIDTH, TEXT_SIZE};
pub use style::Theme;
use style::line_styles;

/// The image's size: 16:9, like a slide.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 720;

/// One line of a chart: a label for the legend, whether it is a competitor's brand, and its
/// points.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub competitor: bool,
    pub points: Vec<(NaiveDate, f64)>,
}

/// What one point of a line stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Day,
    /// A week, dated by the Monday it starts.
    Week,
}

/// Everything a chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The metric's name: "Engagement rate".
    pub metric: String,
    pub unit: Unit,
    /// Whose numbers: a landscape, a brand, or "all brands".
    pub scope: String,
    /// The platform the chart is narrowed to, if any.
    pub platform: Option<String>,
    pub period: Period,
    pub step: Step,
    pub lines: Vec<Line>,
}

impl Chart {
    /// "Engagement rate · coffee", and the platform when the chart is narrowed to one.
    pub fn title(&self) -> String {
        let mut title = format!("{} · {}", self.metric, self.scope);
        if let Some(platform) = &self.platform {
            title.push_str(" · ");
            title.push_str(platform);
        }
        title
    }

    /// The dates, what a point is, and whether the axis starts later than the period because
    /// nothing was logged in its first days.
    pub fn subtitle(&self, span: Period) -> String {
        let period = self.period;
        let days = period.days();
        let mut subtitle = if period.from == period.to {
            period.to.format("%b %-d, %Y").to_string()
        } else if period.from.year() == period.to.year() {
            format!(
                "{} – {} ({days} days)",
                period.from.format("%b %-d"),
                period.to.format("%b %-d, %Y")
            )
        } else {
            format!(
                "{} – {} ({days} days)",
                period.from.format("%b %-d, %Y"),
                period.to.format("%b %-d, %Y")
            )
        };
        subtitle.push_str(match self.step {
            Step::Day => " · one point per day",
            Step::Week => " · one point per week",
        });
        if span.from > period.from {
            subtitle.push_str(&format!(
                " · nothing logged before {}",
                span.from.format("%b %-d")
            ));
        }
        subtitle
    }
}

/// [`render`] on a blocking thread: drawing is CPU work that must not hold up the threads that
/// answer commands.
pub async fn draw(chart: Chart, theme: Theme) -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(move || render(&chart, theme))
        .await
        .map_err(|err| format!("the chart task failed: {err}"))?
}

/// Draws `chart` as a PNG of [`WIDTH`] by [`HEIGHT`] pixels.
pub fn render(chart: &Chart, theme: Theme) -> Result<Vec<u8>, String> {
    canvas::load_font();
    // Only points that can be placed (a value that is not a number has no height), in order of
    // their days so that a path never runs back.
    let lines: Vec<Line> = chart
        .lines
        .iter()
        .map(|line| {
            let mut points: Vec<(NaiveDate, f64)> = line
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect();
            points.sort_by_key(|p| p.0);
            Line {
                points,
                ..line.clone()
            }
        })
        .filter(|line| !line.points.is_empty())
        .collect();
    let first = lines.iter().flat_map(|l| &l.points).map(|p| p.0).min();
    if first.is_none() {
        return Err("no data to draw".to_string());
    }
    let span = x_span(chart.period, first);
    let values = value_axis(
        lines.iter().flat_map(|l| &l.points).map(|p| p.1),
        chart.unit,
    );
    let competitor: Vec<bool> = lines.iter().map(|l| l.competitor).collect();
    let widest_value = values
        .ticks
        .iter()
        .map(|t| text_width(&t.label, TEXT_SIZE))
        .max()
        .unwrap_or(0);
    let widest_label = lines
        .iter()
        .map(|l| text_width(&l.label, TEXT_SIZE))
        .max()
        .unwrap_or(0);
    let layout = layout::layout(widest_value, layout::legend_rows(&competitor), widest_label);
    let dates = date_ticks(span, f64::from(layout.plot.width()), |text| {
        f64::from(text_width(text, TEXT_SIZE))
    });
    let styles = line_styles(theme, &competitor);

    let mut pixels = vec![0u8; (CANVAS_WIDTH * CANVAS_HEIGHT * 3) as usize];
    {
        let root =
            BitMapBackend::with_buffer(&mut pixels, (CANVAS_WIDTH as u32, CANVAS_HEIGHT as u32))
                .into_drawing_area();
        let canvas = Canvas {
            root: &root,
            layout: &layout,
            theme,
            span,
            low: values.low,
            high: values.high,
        };
        canvas
            .frame(chart, &dates, &values.ticks)
            .map_err(|e| e.to_string())?;
        // Competitors' lines first, so ours are drawn over them.
        let mut order: Vec<usize> = (0..lines.len()).collect();
        order.sort_by_key(|&i| !competitor[i]);
        for i in order {
            canvas
                .line(&lines[i].points, chart.step, &styles[i])
                .map_err(|e| e.to_string())?;
        }
        canvas.legend(&lines, &styles).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    encode_png(&downsample(&pixels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, n).unwrap()
    }

    fn chart(lines: Vec<Line>) -> Chart {
        Chart {
            metric: "Impressions".into(),
            unit: Unit::Count,
            scope: "Acme".into(),
            platform: None,
            period: Period {
                from: day(1),
                to: day(20),
            },
            step: Step::Day,
            lines,
        }
    }

    fn flat(label: &str, competitor: bool, value: f64) -> Line {
        Line {
            label: label.into(),
            competitor,
            points: (1..=20).map(|d| (day(d), value)).collect(),
        }
    }

    /// The image's pixels, row by row, as RGB triples.
    fn pixels(png: &[u8]) -> Vec<[u8; 3]> {
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut bytes = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut bytes).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        bytes.chunks(3).map(|p| [p[0], p[1], p[2]]).collect()
    }

    /// How many pixels of `colour` a column holds, in the middle of the columns that hold any:
    /// a flat line's thickness, whatever its markers and legend sample add.
    fn thickness(image: &[[u8; 3]], colour: RGBColor) -> usize {
        let near = |p: &[u8; 3]| {
            p.iter()
                .zip([colour.0, colour.1, colour.2])
                .all(|(a, b)| a.abs_diff(b) <= 12)
        };
        let mut columns: Vec<usize> = (0..WIDTH as usize)
            .map(|x| {
                (0..HEIGHT as usize)
                    .filter(|y| near(&image[y * WIDTH as usize + x]))
                    .count()
            })
            .filter(|n| *n > 0)
            .collect();
        columns.sort_unstable();
        columns.get(columns.len() / 2).copied().unwrap_or(0)
    }

    fn luminance(p: [u8; 3]) -> u32 {
        (2126 * u32::from(p[0]) + 7152 * u32::from(p[1]) + 722 * u32::from(p[2])) / 10_000
    }

    #[test]
    fn the_default_theme_is_light_and_dark_is_a_setting() {
        let lines = vec![flat("x", false, 1_000.0)];
        assert_eq!(Theme::default(), Theme::Light);
        let light = pixels(&render(&chart(lines.clone()), Theme::Light).unwrap());
        let dark = pixels(&render(&chart(lines), Theme::Dark).unwrap());
        for corner in [0, WIDTH as usize - 1, light.len() - 1] {
            assert!(luminance(light[corner]) > 240, "{:?}", light[corner]);
            assert!(luminance(dark[corner]) < 70, "{:?}", dark[corner]);
        }
    }

    #[test]
    fn a_competitors_line_is_drawn_thinner_than_ours() {
        let lines = vec![flat("Rival", true, 2_000.0), flat("Acme", false, 1_000.0)];
        let image = pixels(&render(&chart(lines), Theme::Light).unwrap());
        let palette = Theme::Light.palette();
        // Ours is listed first and takes the first colour.
        let (ours, theirs) = (thickness(&image, palette[0]), thickness(&image, palette[1]));
        assert!(theirs >= 1, "the competitor's line is not drawn");
        assert!(
            ours > theirs,
            "ours is {ours} pixels thick, the competitor's {theirs}"
        );
    }

    #[test]
    fn the_title_names_the_platform_and_the_subtitle_the_dates() {
        let mut chart = chart(vec![flat("x", false, 1.0)]);
        chart.platform = Some("tiktok".into());
        assert_eq!(chart.title(), "Impressions · Acme · tiktok");
        assert_eq!(
            chart.subtitle(chart.period),
            "Nov 1 – Nov 20, 2026 (20 days) · one point per day"
        );
        let later = Period {
            from: day(9),
            to: day(20),
        };
        assert_eq!(
            chart.subtitle(later),
            "Nov 1 – Nov 20, 2026 (20 days) · one point per day · nothing logged before Nov 9"
        );
        chart.period.from = NaiveDate::from_ymd_opt(2025, 12, 3).unwrap();
        chart.step = Step::Week;
        assert!(
            chart
                .subtitle(chart.period)
                .starts_with("Dec 3, 2025 – Nov 20, 2026 (353 days) · one point per week"),
        );
    }

    #[test]
    fn an_empty_or_unplaceable_chart_is_an_error_not_a_panic() {
        assert!(render(&chart(vec![]), Theme::Light).is_err());
        let nothing = Line {
            label: "x".into(),
            competitor: false,
            points: vec![(day(3), f64::NAN), (day(4), f64::INFINITY)],
        };
        assert!(render(&chart(vec![nothing]), Theme::Light).is_err());
    }

    #[test]
    fn one_day_and_one_point_still_make_a_chart() {
        let mut one = chart(vec![Line {
            label: "x".into(),
            competitor: false,
            points: vec![(day(20), 5.0)],
        }]);
        one.period.from = day(20);
        let image = pixels(&render(&one, Theme::Light).unwrap());
        assert!(
            thickness(&image, Theme::Light.palette()[0]) > 0,
            "the point is not drawn"
        );
    }
}
