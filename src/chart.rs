//! Line charts as PNG images, for `/trend` and the weekly digest.
//!
//! Charts are drawn with plotters on a dark background that matches Discord's dark theme, with
//! a font shipped in `assets/` (DejaVu Sans) so that they look the same on every machine and
//! never depend on system fonts.

use std::sync::Once;

use chrono::NaiveDate;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::numbers::thousands;

pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 540;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// Discord's dark theme background, and text colours readable on it.
const BACKGROUND: RGBColor = RGBColor(0x31, 0x33, 0x38);
const TEXT: RGBColor = RGBColor(0xDB, 0xDE, 0xE1);
const GRID: RGBColor = RGBColor(0x4E, 0x50, 0x58);
/// Line colours distinct on the dark background, in the order lines are drawn.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x58, 0x65, 0xF2),
    RGBColor(0x57, 0xF2, 0x87),
    RGBColor(0xFE, 0xE7, 0x5C),
    RGBColor(0xEB, 0x45, 0x9E),
    RGBColor(0xED, 0x42, 0x45),
    RGBColor(0x3B, 0xA5, 0x5C),
    RGBColor(0xF4, 0x7B, 0x67),
    RGBColor(0x9B, 0x84, 0xEE),
];

/// One line of a chart: a label for the legend and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub points: Vec<(NaiveDate, f64)>,
}

/// [`line_chart`] on a blocking thread: drawing is CPU work that must not hold up the threads
/// that answer commands.
pub async fn draw(
    title: String,
    span: (NaiveDate, NaiveDate),
    lines: Vec<Line>,
    percent: bool,
) -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(move || line_chart(&title, span, &lines, percent))
        .await
        .map_err(|err| format!("the chart task failed: {err}"))?
}

/// Draws `lines` over the days `from` to `to` as a PNG. `percent` writes the value axis as
/// percentages.
pub fn line_chart(
    title: &str,
    (from, to): (NaiveDate, NaiveDate),
    lines: &[Line],
    percent: bool,
) -> Result<Vec<u8>, String> {
    static FONT_REGISTERED: Once = Once::new();
    FONT_REGISTERED.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::error!("the chart font in assets/ could not be read");
        }
    });
    let points = lines.iter().flat_map(|l| &l.points);
    if points.clone().next().is_none() {
        return Err("no data to draw".to_string());
    }
    let high = points.clone().map(|p| p.1).fold(f64::MIN, f64::max);
    let low = points.map(|p| p.1).fold(f64::MAX, f64::min).min(0.0);
    let high = if high <= low { low + 1.0 } else { high * 1.08 };
    // One day either side keeps points off the plot's edges.
    let (first, last) = (from.pred_opt().unwrap_or(from), to.succ_opt().unwrap_or(to));

    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        let draw = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&BACKGROUND).map_err(draw)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 26).into_font().color(&TEXT))
            .margin(18)
            .margin_right(40)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(first..last, low..high)
            .map_err(draw)?;
        chart
            .configure_mesh()
            .light_line_style(BACKGROUND)
            .bold_line_style(GRID)
            .axis_style(GRID)
            .label_style(("sans-serif", 15).into_font().color(&TEXT))
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|day| day.format("%b %-d").to_string())
            .y_label_formatter(&|value| axis_label(*value, percent))
            .draw()
            .map_err(draw)?;
        for (i, line) in lines.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().copied(),
                    colour.stroke_width(3),
                ))
                .map_err(draw)?
                .label(line.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
                });
            chart
                .draw_series(
                    line.points
                        .iter()
                        .map(|p| Circle::new(*p, 3, colour.filled())),
                )
                .map_err(draw)?;
        }
        chart
            .configure_series_labels()
            .background_style(BACKGROUND.mix(0.9))
            .border_style(GRID)
            .label_font(("sans-serif", 15).into_font().color(&TEXT))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(draw)?;
        root.present().map_err(draw)?;
    }
    encode_png(&pixels)
}

fn axis_label(value: f64, percent: bool) -> String {
    if percent {
        format!("{value:.1}%")
    } else if value.abs() >= 1_000_000.0 {
        format!("{:.1}M", value / 1e6)
    } else {
        thousands(value.round() as i64)
    }
}

fn encode_png(pixels: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, n).unwrap()
    }

    #[test]
    fn a_chart_is_a_png_of_the_promised_size_with_lines_drawn() {
        let lines = vec![
            Line {
                label: "instagram".into(),
                points: (1..=20)
                    .map(|d| (day(d), 1_000.0 + f64::from(d) * 150.0))
                    .collect(),
            },
            Line {
                label: "x".into(),
                points: (1..=20)
                    .map(|d| (day(d), 2_500.0 - f64::from(d) * 40.0))
                    .collect(),
            },
        ];
        let png = line_chart("Impressions · Acme", (day(1), day(20)), &lines, false).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        let colours: std::collections::HashSet<&[u8]> = pixels.chunks(3).collect();
        let first_line = [PALETTE[0].0, PALETTE[0].1, PALETTE[0].2];
        assert!(
            colours.contains(&first_line[..]),
            "the first line is not drawn"
        );
        assert!(
            colours.len() > 50,
            "only {} colours: no text or lines",
            colours.len()
        );
    }

    #[test]
    fn an_empty_chart_is_an_error_not_a_panic() {
        assert!(line_chart("Nothing", (day(1), day(2)), &[], true).is_err());
    }
}
