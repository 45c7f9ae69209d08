//! Where everything goes on the canvas: the title and subtitle across the top, the plot with the
//! axes' labels around it, and the legend in a column of its own to the right, outside the
//! data, so that no line is ever hidden behind it.
//!
//! Sizes are in canvas pixels: the canvas is drawn at [`SCALE`] times the image's size and
//! scaled down, which smooths the lines' edges.

use super::style::legend_order;
use super::{HEIGHT, WIDTH};

/// How many canvas pixels make one pixel of the image.
pub const SCALE: i32 = 2;
pub const CANVAS_WIDTH: i32 = WIDTH as i32 * SCALE;
pub const CANVAS_HEIGHT: i32 = HEIGHT as i32 * SCALE;

pub const TITLE_SIZE: i32 = 28 * SCALE;
pub const SUBTITLE_SIZE: i32 = 17 * SCALE;
/// Tick labels, axis titles and the legend.
pub const TEXT_SIZE: i32 = 15 * SCALE;

const MARGIN: i32 = 20 * SCALE;
const TITLE_TOP: i32 = 18 * SCALE;
const SUBTITLE_TOP: i32 = TITLE_TOP + TITLE_SIZE + 6 * SCALE;
const PLOT_TOP: i32 = SUBTITLE_TOP + SUBTITLE_SIZE + 22 * SCALE;
/// Between the plot's edge and the tick labels, and between tick labels and the axis title.
const LABEL_GAP: i32 = 8 * SCALE;
/// Room to the right of the plot for half of the last date's label.
const LEGEND_GAP: i32 = 56 * SCALE;
/// The sample of a line's style drawn before its label in the legend.
pub const SAMPLE: i32 = 32 * SCALE;
const SAMPLE_GAP: i32 = 8 * SCALE;
const COLUMN_GAP: i32 = 16 * SCALE;
/// The widest a legend label is drawn in one column, and in each of two; longer names are cut
/// short.
pub const MAX_LABEL_WIDTH: i32 = 220 * SCALE;
const MAX_LABEL_WIDTH_IN_COLUMNS: i32 = 150 * SCALE;
const ROW: i32 = 26 * SCALE;
const MIN_ROW: i32 = 20 * SCALE;
const MAX_COLUMNS: i32 = 2;

/// A rectangle, `left..right` by `top..bottom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

impl Rect {
    pub fn intersects(&self, other: &Rect) -> bool {
        self.left < other.right
            && other.left < self.right
            && self.top < other.bottom
            && other.top < self.bottom
    }

    pub fn width(&self) -> i32 {
        self.right - self.left
    }

    pub fn height(&self) -> i32 {
        self.bottom - self.top
    }
}

/// One row of the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Heading(&'static str),
    /// The line at this index of the chart's lines.
    Line(usize),
    /// This many lines drawn but left out of a full legend.
    More(usize),
}

/// The legend's rows: ours first, under headings when the chart has both ours and
/// competitors'.
pub fn legend_rows(competitor: &[bool]) -> Vec<Row> {
    let ours = competitor.iter().filter(|c| !**c).count();
    let mixed = ours > 0 && ours < competitor.len();
    let mut rows = Vec::with_capacity(competitor.len() + 2);
    for (rank, line) in legend_order(competitor).into_iter().enumerate() {
        if mixed && rank == 0 {
            rows.push(Row::Heading("Our brands"));
        }
        if mixed && rank == ours {
            rows.push(Row::Heading("Competitors"));
        }
        rows.push(Row::Line(line));
    }
    rows
}

/// Where each part of a chart goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Top-left corners of the title and the subtitle.
    pub title: (i32, i32),
    pub subtitle: (i32, i32),
    /// The area the data is drawn in; tick labels sit outside it.
    pub plot: Rect,
    /// The centre of the y-axis title (written upwards), and the top centre of the x-axis
    /// title.
    pub value_title: (i32, i32),
    pub date_title: (i32, i32),
    /// Top of the date labels under the plot, and right edge of the value labels beside it.
    pub date_labels_top: i32,
    pub value_labels_right: i32,
    pub legend: Rect,
    /// The legend's rows that fit, each with the top-left corner of its row.
    pub rows: Vec<(Row, (i32, i32))>,
    pub row_height: i32,
    /// The widest a legend label may be drawn; longer ones are cut short to fit.
    pub label_width: i32,
}

/// Lays a chart out around value labels up to `value_labels_width` wide and a legend of `rows`
/// whose widest label is `label_width` (both measured in the chart's font).
pub fn layout(value_labels_width: i32, mut rows: Vec<Row>, label_width: i32) -> Layout {
    let available = CANVAS_HEIGHT - MARGIN - PLOT_TOP;
    let per_column = available / MIN_ROW;
    let capacity = (per_column * MAX_COLUMNS) as usize;
    if rows.len() > capacity {
        let lines_before = |rows: &[Row]| rows.iter().filter(|r| matches!(r, Row::Line(_))).count();
        let all = lines_before(&rows);
        rows.truncate(capacity - 1);
        rows.push(Row::More(all - lines_before(&rows)));
    }
    let count = rows.len().max(1) as i32;
    let columns = (count + per_column - 1) / per_column;
    let in_column = (count + columns - 1) / columns;
    let row_height = (available / in_column).clamp(MIN_ROW, ROW);
    let label_width = label_width.clamp(
        0,
        if columns > 1 {
            MAX_LABEL_WIDTH_IN_COLUMNS
        } else {
            MAX_LABEL_WIDTH
        },
    );
    let column_width = SAMPLE + SAMPLE_GAP + label_width;

    let legend_right = CANVAS_WIDTH - MARGIN;
    let legend_left = legend_right - columns * column_width - (columns - 1) * COLUMN_GAP;
    let legend = Rect {
        left: legend_left,
        top: PLOT_TOP,
        right: legend_right,
        bottom: PLOT_TOP + in_column * row_height,
    };
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let (column, place) = (i as i32 / in_column, i as i32 % in_column);
            let x = legend_left + column * (column_width + COLUMN_GAP);
            (row, (x, PLOT_TOP + place * row_height))
        })
        .collect();

    let value_title_x = MARGIN + TEXT_SIZE / 2;
    let value_labels_right = MARGIN + TEXT_SIZE + 2 * LABEL_GAP + value_labels_width;
    let plot_bottom = CANVAS_HEIGHT - MARGIN - 2 * TEXT_SIZE - 3 * LABEL_GAP;
    let plot = Rect {
        left: value_labels_right + LABEL_GAP,
        top: PLOT_TOP,
        right: legend_left - LEGEND_GAP,
        bottom: plot_bottom,
    };
    let date_labels_top = plot.bottom + LABEL_GAP;
    Layout {
        title: (MARGIN, TITLE_TOP),
        subtitle: (MARGIN, SUBTITLE_TOP),
        plot,
        value_title: (value_title_x, (plot.top + plot.bottom) / 2),
        date_title: (
            (plot.left + plot.right) / 2,
            date_labels_top + TEXT_SIZE + LABEL_GAP,
        ),
        date_labels_top,
        value_labels_right,
        legend,
        rows,
        row_height,
        label_width,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_never_covers_the_plot_however_many_lines() {
        for lines in 1..=120 {
            for ours in [0, 1, 3] {
                let competitor: Vec<bool> = (0..lines).map(|i| i >= ours).collect();
                let layout = layout(60 * SCALE, legend_rows(&competitor), MAX_LABEL_WIDTH);
                let canvas = Rect {
                    left: 0,
                    top: 0,
                    right: CANVAS_WIDTH,
                    bottom: CANVAS_HEIGHT,
                };
                assert!(
                    !layout.legend.intersects(&layout.plot),
                    "{lines} lines: the legend covers the plot"
                );
                assert!(
                    layout.legend.right <= canvas.right && layout.legend.bottom <= canvas.bottom
                );
                assert!(
                    layout.plot.width() > CANVAS_WIDTH / 2,
                    "{lines} lines leave the plot {} wide",
                    layout.plot.width()
                );
                for (_, (x, y)) in &layout.rows {
                    let row = Rect {
                        left: *x,
                        top: *y,
                        right: x + SAMPLE + SAMPLE_GAP + layout.label_width,
                        bottom: y + layout.row_height,
                    };
                    assert!(
                        !row.intersects(&layout.plot),
                        "{lines} lines: a row is on the plot"
                    );
                    assert!(row.bottom <= layout.legend.bottom && row.left >= layout.legend.left);
                }
                // Every line is listed, or counted in the last row.
                let listed = layout
                    .rows
                    .iter()
                    .filter(|(r, _)| matches!(r, Row::Line(_)))
                    .count();
                let more = match layout.rows.last() {
                    Some((Row::More(n), _)) => *n,
                    _ => 0,
                };
                assert_eq!(listed + more, lines);
            }
        }
    }

    #[test]
    fn a_mixed_legend_lists_our_brands_then_the_competitors_under_headings() {
        assert_eq!(
            legend_rows(&[true, false, true]),
            [
                Row::Heading("Our brands"),
                Row::Line(1),
                Row::Heading("Competitors"),
                Row::Line(0),
                Row::Line(2)
            ]
        );
        assert_eq!(legend_rows(&[false, false]), [Row::Line(0), Row::Line(1)]);
    }

    #[test]
    fn a_short_legend_leaves_the_plot_most_of_the_width() {
        let layout = layout(40 * SCALE, legend_rows(&[false; 5]), 90 * SCALE);
        assert!(
            layout.plot.width() > CANVAS_WIDTH * 3 / 4,
            "{:?}",
            layout.plot
        );
        assert_eq!(layout.legend.top, layout.plot.top);
        assert!(layout.rows.iter().all(|(_, (x, _))| *x > layout.plot.right));
    }
}
