//! The drawing itself: the decisions of [`super::style`], [`super::axes`] and
//! [`super::layout`] handed to plotters on a canvas twice the image's size, then scaled down and
//! encoded as a PNG. Nothing here decides where or how something goes.

use std::sync::Once;

use chrono::NaiveDate;
use plotters::element::{DashedPathElement, DottedPathElement};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, register_font};

use super::axes::{Tick, runs, value_title, x_fraction};
use super::layout::{
    CANVAS_WIDTH, Layout, Row, SAMPLE, SCALE, SUBTITLE_SIZE, TEXT_SIZE, TITLE_SIZE,
};
use super::style::{Dash, LineStyle, Marker, Theme};
use super::{Chart, HEIGHT, Line, Step, WIDTH};
use crate::period::Period;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// Points closer than this (in canvas pixels) are drawn as a line alone, without markers.
const MARKED_SPACING: f64 = (14 * SCALE) as f64;

/// Registers the chart font with plotters, once per process.
pub fn load_font() {
    static FONT_REGISTERED: Once = Once::new();
    FONT_REGISTERED.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::error!("the chart font in assets/ could not be read");
        }
    });
}

/// Width of `text` in the chart's font at `size` canvas pixels.
pub fn text_width(text: &str, size: i32) -> i32 {
    ("sans-serif", size)
        .into_font()
        .box_size(text)
        .map(|(w, _)| w as i32)
        // Only if the font failed to load, which the log reports: DejaVu's average advance.
        .unwrap_or(text.chars().count() as i32 * size * 3 / 5)
}

/// `label` cut short with an ellipsis until it is at most `width` wide at `size`.
pub fn fit(label: &str, size: i32, width: i32) -> String {
    if text_width(label, size) <= width {
        return label.to_string();
    }
    let mut chars: Vec<char> = label.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let short = format!("{}…", chars.iter().collect::<String>().trim_end());
        if text_width(&short, size) <= width {
            return short;
        }
    }
    "…".to_string()
}

pub type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
pub type Drawn<'a> =
    Result<(), DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>>;

/// The canvas with the decisions that place things on it.
pub struct Canvas<'c, 'a> {
    pub root: &'c Area<'a>,
    pub layout: &'c Layout,
    pub theme: Theme,
    pub span: Period,
    pub low: f64,
    pub high: f64,
}

impl<'a> Canvas<'_, 'a> {
    fn at(&self, day: NaiveDate, value: f64) -> (i32, i32) {
        let plot = self.layout.plot;
        let x = plot.left as f64 + x_fraction(day, self.span) * f64::from(plot.width());
        let share = (value - self.low) / (self.high - self.low);
        let y = plot.bottom as f64 - share * f64::from(plot.height());
        (x.round() as i32, y.round() as i32)
    }

    fn text(&self, text: &str, at: (i32, i32), size: i32, colour: RGBColor, pos: Pos) -> Drawn<'a> {
        let style = ("sans-serif", size).into_font().color(&colour).pos(pos);
        self.root.draw(&Text::new(text, at, style))
    }

    /// Background, titles, grid, ticks and axis titles.
    pub fn frame(
        &self,
        chart: &Chart,
        dates: &[Tick<NaiveDate>],
        values: &[Tick<f64>],
    ) -> Drawn<'a> {
        let colours = self.theme.colours();
        let (layout, plot) = (self.layout, self.layout.plot);
        let top_left = Pos::new(HPos::Left, VPos::Top);
        self.root.fill(&colours.background)?;
        let width = CANVAS_WIDTH - 2 * layout.title.0;
        let title = fit(&chart.title(), TITLE_SIZE, width);
        self.text(&title, layout.title, TITLE_SIZE, colours.text, top_left)?;
        let subtitle = fit(&chart.subtitle(self.span), SUBTITLE_SIZE, width);
        self.text(
            &subtitle,
            layout.subtitle,
            SUBTITLE_SIZE,
            colours.muted,
            top_left,
        )?;
        let grid = colours.grid.stroke_width(SCALE as u32);
        for tick in values {
            let y = self.at(self.span.from, tick.at).1;
            let colour = if tick.at == 0.0 {
                colours.axis
            } else {
                colours.grid
            };
            let line = vec![(plot.left, y), (plot.right, y)];
            self.root
                .draw(&PathElement::new(line, colour.stroke_width(SCALE as u32)))?;
            let right = Pos::new(HPos::Right, VPos::Center);
            let at = (layout.value_labels_right, y);
            self.text(&tick.label, at, TEXT_SIZE, colours.muted, right)?;
        }
        for tick in dates {
            let x = self.at(tick.at, self.low).0;
            self.root.draw(&PathElement::new(
                vec![(x, plot.top), (x, plot.bottom)],
                grid,
            ))?;
            let top = Pos::new(HPos::Center, VPos::Top);
            let at = (x, layout.date_labels_top);
            self.text(&tick.label, at, TEXT_SIZE, colours.muted, top)?;
        }
        let axis = colours.axis.stroke_width(SCALE as u32);
        let baseline = vec![(plot.left, plot.bottom), (plot.right, plot.bottom)];
        self.root.draw(&PathElement::new(baseline, axis))?;
        let title = value_title(&chart.metric, chart.unit);
        let upwards = ("sans-serif", TEXT_SIZE)
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&colours.text)
            .pos(Pos::new(HPos::Center, VPos::Center));
        self.root
            .draw(&Text::new(title, layout.value_title, upwards))?;
        let dates_title = match chart.step {
            Step::Day => "Date",
            Step::Week => "Week starting",
        };
        let top = Pos::new(HPos::Center, VPos::Top);
        self.text(dates_title, layout.date_title, TEXT_SIZE, colours.text, top)
    }

    /// One line of data, with markers on its points where they are far enough apart to tell
    /// (or where the marker's shape is what tells the line apart).
    pub fn line(&self, points: &[(NaiveDate, f64)], step: Step, style: &LineStyle) -> Drawn<'a> {
        let path: Vec<(i32, i32)> = points.iter().map(|p| self.at(p.0, p.1)).collect();
        let closest = path
            .windows(2)
            .map(|w| f64::from(w[1].0 - w[0].0))
            .fold(f64::MAX, f64::min);
        let marked = style.always_marked || closest >= MARKED_SPACING;
        let mut start = 0;
        for run in runs(points, step) {
            let run_path = &path[start..start + run.len()];
            start += run.len();
            self.stroke(run_path, style)?;
            // A point alone between gaps has no line to show it.
            if marked || run_path.len() == 1 {
                for point in run_path {
                    self.marker(*point, style)?;
                }
            }
        }
        Ok(())
    }

    fn stroke(&self, path: &[(i32, i32)], style: &LineStyle) -> Drawn<'a> {
        let width = style.width as i32;
        let stroke = style.colour.stroke_width(style.width);
        let path = path.to_vec();
        match style.dash {
            Dash::Solid => self.root.draw(&PathElement::new(path, stroke)),
            Dash::Dashed => self.root.draw(&DashedPathElement::new(
                path,
                6 * SCALE + 2 * width,
                4 * SCALE + width,
                stroke,
            )),
            Dash::Dotted => {
                let (radius, colour) = (width / 2 + 1, style.colour);
                self.root.draw(&DottedPathElement::new(
                    path,
                    0,
                    2 * SCALE + 2 * width,
                    move |c| Circle::new(c, radius, colour.filled()),
                ))
            }
        }
    }

    fn marker(&self, (x, y): (i32, i32), style: &LineStyle) -> Drawn<'a> {
        let size = style.width as i32 + 2 * SCALE;
        let fill = style.colour.filled();
        match style.marker {
            Marker::Circle => self.root.draw(&Circle::new((x, y), size, fill)),
            Marker::Square => self.root.draw(&Rectangle::new(
                [(x - size, y - size), (x + size, y + size)],
                fill,
            )),
            Marker::Triangle => self.root.draw(&Polygon::new(
                vec![
                    (x, y - size - 2),
                    (x - size - 2, y + size),
                    (x + size + 2, y + size),
                ],
                fill,
            )),
        }
    }

    pub fn legend(&self, lines: &[Line], styles: &[LineStyle]) -> Drawn<'a> {
        let colours = self.theme.colours();
        let left_centre = Pos::new(HPos::Left, VPos::Center);
        let height = self.layout.row_height;
        for (row, (x, y)) in &self.layout.rows {
            let middle = y + height / 2;
            let label_x = x + SAMPLE + 8 * SCALE;
            match row {
                Row::Heading(heading) => {
                    self.text(heading, (*x, middle), TEXT_SIZE, colours.muted, left_centre)?;
                }
                Row::Line(i) => {
                    let style = &styles[*i];
                    self.stroke(&[(*x, middle), (x + SAMPLE, middle)], style)?;
                    if style.always_marked {
                        self.marker((x + SAMPLE / 2, middle), style)?;
                    }
                    let label = fit(&lines[*i].label, TEXT_SIZE, self.layout.label_width);
                    self.text(
                        &label,
                        (label_x, middle),
                        TEXT_SIZE,
                        colours.text,
                        left_centre,
                    )?;
                }
                Row::More(count) => {
                    let text = format!("and {count} more");
                    self.text(&text, (*x, middle), TEXT_SIZE, colours.muted, left_centre)?;
                }
            }
        }
        Ok(())
    }
}

/// The canvas scaled down to the image: each pixel the average of the [`SCALE`] × [`SCALE`]
/// canvas pixels it covers.
pub fn downsample(canvas: &[u8]) -> Vec<u8> {
    let scale = SCALE as usize;
    let row = CANVAS_WIDTH as usize * 3;
    let mut image = Vec::with_capacity(WIDTH as usize * HEIGHT as usize * 3);
    let mut sums = vec![0u32; WIDTH as usize * 3];
    for band in canvas.chunks_exact(row * scale) {
        sums.fill(0);
        for line in band.chunks_exact(row) {
            for (sum, covered) in sums.chunks_exact_mut(3).zip(line.chunks_exact(scale * 3)) {
                for pixel in covered.chunks_exact(3) {
                    for (s, v) in sum.iter_mut().zip(pixel) {
                        *s += u32::from(*v);
                    }
                }
            }
        }
        let area = (scale * scale) as u32;
        image.extend(sums.iter().map(|s| (s / area) as u8));
    }
    image
}

pub fn encode_png(pixels: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // fdeflate: a sixth of the default's time for a file about a third larger, which keeps a
    // digest well inside its time budget.
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::layout::MAX_LABEL_WIDTH;
    use super::*;

    #[test]
    fn long_names_are_cut_short_to_fit() {
        load_font();
        let name = "The Extraordinarily Long-Named Independent Coffee Roasters of the North";
        let short = fit(name, TEXT_SIZE, MAX_LABEL_WIDTH);
        assert!(short.ends_with('…') && short.len() < name.len(), "{short}");
        assert!(text_width(&short, TEXT_SIZE) <= MAX_LABEL_WIDTH);
        assert_eq!(fit("Acme", TEXT_SIZE, MAX_LABEL_WIDTH), "Acme");
    }
}
