//! How each line of a chart looks: the theme's colours, the colour-blind-safe palette, and the
//! width, dash and marker of every line, decided here as plain data so that tests read the
//! decision rather than the pixels.
//!
//! The palette is Okabe and Ito's (2002), which stays distinguishable under every common form of
//! colour blindness, less the one colour that vanishes against the theme's background (yellow
//! on white, black on dark). Once a chart has more lines than colours, the colours repeat
//! dashed, then dotted, then with markers, so twenty lines still differ. Our brands come first
//! in the legend and take the first colours; when a chart mixes ours and competitors', ours are
//! drawn thick and solid in colours no competitor gets, and the competitors' thin, so a slide
//! shows at once which is which.

use plotters::style::RGBColor;
use serde::{Deserialize, Deserializer};

/// The background a chart is drawn on: light by default, because charts end up on slides and
/// in documents; dark to sit in Discord's dark theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

impl<'de> Deserialize<'de> for Theme {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Theme, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "light" => Ok(Theme::Light),
            "dark" => Ok(Theme::Dark),
            _ => Err(serde::de::Error::custom(format!(
                "charts.theme is \"{text}\"; use \"light\" or \"dark\""
            ))),
        }
    }
}

/// The colours of everything that is not a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Colours {
    pub background: RGBColor,
    pub text: RGBColor,
    /// The subtitle and tick labels: readable, but quieter than the title.
    pub muted: RGBColor,
    pub grid: RGBColor,
    pub axis: RGBColor,
}

const OKABE_ITO_BLACK: RGBColor = RGBColor(0x00, 0x00, 0x00);
const OKABE_ITO_ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const OKABE_ITO_SKY_BLUE: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
const OKABE_ITO_BLUISH_GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const OKABE_ITO_YELLOW: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
const OKABE_ITO_BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const OKABE_ITO_VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const OKABE_ITO_REDDISH_PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);

/// The Okabe-Ito palette on white, strongest first (the first colours go to our brands).
const LIGHT_PALETTE: [RGBColor; 7] = [
    OKABE_ITO_BLUE,
    OKABE_ITO_VERMILLION,
    OKABE_ITO_BLUISH_GREEN,
    OKABE_ITO_REDDISH_PURPLE,
    OKABE_ITO_ORANGE,
    OKABE_ITO_SKY_BLUE,
    OKABE_ITO_BLACK,
];

/// The Okabe-Ito palette on a dark background, brightest first.
const DARK_PALETTE: [RGBColor; 7] = [
    OKABE_ITO_SKY_BLUE,
    OKABE_ITO_ORANGE,
    OKABE_ITO_BLUISH_GREEN,
    OKABE_ITO_REDDISH_PURPLE,
    OKABE_ITO_YELLOW,
    OKABE_ITO_VERMILLION,
    OKABE_ITO_BLUE,
];

impl Theme {
    pub fn colours(self) -> Colours {
        match self {
            Theme::Light => Colours {
                background: RGBColor(0xFF, 0xFF, 0xFF),
                text: RGBColor(0x1F, 0x23, 0x28),
                muted: RGBColor(0x4D, 0x55, 0x5E),
                grid: RGBColor(0xE4, 0xE7, 0xEB),
                axis: RGBColor(0x8C, 0x95, 0x9F),
            },
            // Discord's dark theme.
            Theme::Dark => Colours {
                background: RGBColor(0x31, 0x33, 0x38),
                text: RGBColor(0xF2, 0xF3, 0xF5),
                muted: RGBColor(0xB5, 0xBA, 0xC1),
                grid: RGBColor(0x45, 0x47, 0x4E),
                axis: RGBColor(0x80, 0x84, 0x8E),
            },
        }
    }

    /// The line colours, in the order lines take them.
    pub fn palette(self) -> &'static [RGBColor] {
        match self {
            Theme::Light => &LIGHT_PALETTE,
            Theme::Dark => &DARK_PALETTE,
        }
    }
}

/// How a line's path is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// The shape drawn on a line's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
}

/// How one line is drawn, in canvas pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineStyle {
    pub colour: RGBColor,
    pub width: u32,
    pub dash: Dash,
    pub marker: Marker,
    /// Markers on every point even where the points are dense: once colours and dashes have
    /// both run out, the marker's shape is what tells two lines apart.
    pub always_marked: bool,
}

/// What a line stands for, which decides how strongly it is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    /// One of our brands in a chart that also shows competitors.
    Ours,
    /// A competitor's brand in a chart that also shows ours.
    Competitor,
    /// Every line in a chart of one kind only (the platforms of one brand, or only competitors).
    Plain,
}

impl Emphasis {
    /// Stroke width in canvas pixels (the canvas is drawn at twice the image's size).
    pub fn width(self) -> u32 {
        match self {
            Emphasis::Ours => 8,
            Emphasis::Plain => 5,
            Emphasis::Competitor => 3,
        }
    }
}

/// The emphasis of each line, given whether each is a competitor's.
pub fn emphases(competitor: &[bool]) -> Vec<Emphasis> {
    let mixed = competitor.iter().any(|c| *c) && competitor.iter().any(|c| !*c);
    competitor
        .iter()
        .map(|&competitor| match (mixed, competitor) {
            (false, _) => Emphasis::Plain,
            (true, false) => Emphasis::Ours,
            (true, true) => Emphasis::Competitor,
        })
        .collect()
}

/// The order lines are listed in the legend and take their colours: ours first, each kind in
/// the order given.
pub fn legend_order(competitor: &[bool]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..competitor.len()).collect();
    order.sort_by_key(|&i| competitor[i]);
    order
}

/// The style of the line at `place` among lines sharing `colours`: a colour from them; after
/// them, the same colours dashed, then dotted; after those, each again with square, then
/// triangle markers on every point.
fn line_style(colours: &[RGBColor], place: usize, emphasis: Emphasis) -> LineStyle {
    const DASHES: [Dash; 3] = [Dash::Solid, Dash::Dashed, Dash::Dotted];
    const MARKERS: [Marker; 3] = [Marker::Circle, Marker::Square, Marker::Triangle];
    let round = place / colours.len();
    LineStyle {
        colour: colours[place % colours.len()],
        width: emphasis.width(),
        dash: DASHES[round % DASHES.len()],
        marker: MARKERS[(round / DASHES.len()) % MARKERS.len()],
        always_marked: round >= DASHES.len(),
    }
}

/// Every line's style, indexed like `competitor` (one flag per line). Lines take the palette's
/// colours in legend order; when a chart mixes ours and competitors', our brands' colours are
/// theirs alone (as long as colours remain for the competitors), so no competitor's line can
/// pass for ours.
pub fn line_styles(theme: Theme, competitor: &[bool]) -> Vec<LineStyle> {
    let palette = theme.palette();
    let emphases = emphases(competitor);
    let ours = competitor.iter().filter(|c| !**c).count();
    let reserved = if emphases.contains(&Emphasis::Ours) && ours < palette.len() {
        ours
    } else {
        0
    };
    let mut styles = vec![line_style(palette, 0, Emphasis::Plain); competitor.len()];
    for (rank, line) in legend_order(competitor).into_iter().enumerate() {
        styles[line] = if competitor[line] && reserved > 0 {
            line_style(&palette[reserved..], rank - ours, emphases[line])
        } else {
            line_style(palette, rank, emphases[line])
        };
    }
    styles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear_rgb(colour: RGBColor) -> [f64; 3] {
        [colour.0, colour.1, colour.2].map(|c| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        })
    }

    /// CIELAB of a colour as seen with a colour-vision deficiency, simulated with the matrices
    /// of Machado, Oliveira and Fernandes (2009) at full severity, in linear RGB.
    fn seen(colour: RGBColor, deficiency: Option<[[f64; 3]; 3]>) -> [f64; 3] {
        let rgb = linear_rgb(colour);
        let [r, g, b] = match deficiency {
            None => rgb,
            Some(m) => {
                m.map(|row| (row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2]).clamp(0.0, 1.0))
            }
        };
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        [
            116.0 * f(y) - 16.0,
            500.0 * (f(x) - f(y)),
            200.0 * (f(y) - f(z)),
        ]
    }

    const PROTANOPIA: [[f64; 3]; 3] = [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ];
    const DEUTERANOPIA: [[f64; 3]; 3] = [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ];
    const TRITANOPIA: [[f64; 3]; 3] = [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ];

    /// WCAG contrast ratio between two colours.
    fn contrast(a: RGBColor, b: RGBColor) -> f64 {
        let luminance = |c: RGBColor| {
            let [r, g, b] = linear_rgb(c);
            0.2126 * r + 0.7152 * g + 0.0722 * b
        };
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn no_two_line_colours_are_confusable_with_any_common_colour_blindness() {
        for theme in [Theme::Light, Theme::Dark] {
            let palette = theme.palette();
            assert!(palette.len() >= 7);
            for (name, deficiency) in [
                ("normal vision", None),
                ("protanopia", Some(PROTANOPIA)),
                ("deuteranopia", Some(DEUTERANOPIA)),
                ("tritanopia", Some(TRITANOPIA)),
            ] {
                for (i, a) in palette.iter().enumerate() {
                    for b in &palette[i + 1..] {
                        let distance = {
                            let (a, b) = (seen(*a, deficiency), seen(*b, deficiency));
                            ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2))
                                .sqrt()
                        };
                        // Discord's old palette came to 11.8 under deuteranopia (red against
                        // salmon); Okabe-Ito's closest pair is 16.1.
                        assert!(
                            distance > 15.0,
                            "{theme:?}: {a:?} and {b:?} are {distance:.1} apart with {name}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_line_colour_stands_out_from_its_background() {
        for theme in [Theme::Light, Theme::Dark] {
            let background = theme.colours().background;
            for colour in theme.palette() {
                let ratio = contrast(*colour, background);
                assert!(
                    ratio >= 2.0,
                    "{theme:?}: {colour:?} has contrast {ratio:.2}"
                );
            }
        }
    }

    #[test]
    fn twenty_one_lines_all_look_different_and_ours_stay_solid_and_thickest() {
        let mut competitor = vec![true; 21];
        competitor[5] = false;
        competitor[17] = false;
        let styles = line_styles(Theme::Light, &competitor);
        let looks: std::collections::HashSet<_> = styles
            .iter()
            .map(|s| (s.colour.0, s.colour.1, s.colour.2, s.dash, s.marker))
            .collect();
        assert_eq!(looks.len(), 21, "two of 21 lines look alike");
        for (i, style) in styles.iter().enumerate() {
            if competitor[i] {
                assert!(
                    style.width < styles[5].width,
                    "line {i} is as thick as ours"
                );
            } else {
                assert_eq!(style.dash, Dash::Solid);
            }
        }
        // Ours take the first colours of the palette, and no competitor takes them.
        assert_eq!(styles[5].colour, LIGHT_PALETTE[0]);
        assert_eq!(styles[17].colour, LIGHT_PALETTE[1]);
        for (i, style) in styles.iter().enumerate().filter(|(i, _)| competitor[*i]) {
            assert!(
                !LIGHT_PALETTE[..2].contains(&style.colour),
                "competitor {i} looks like ours"
            );
        }
    }

    #[test]
    fn the_first_eight_lines_of_a_landscape_differ_in_colour_or_dash() {
        let styles = line_styles(Theme::Dark, &[true; 8]);
        let looks: std::collections::HashSet<_> = styles
            .iter()
            .map(|s| (s.colour.0, s.colour.1, s.colour.2, s.dash))
            .collect();
        assert_eq!(looks.len(), 8);
        assert_eq!(styles[7].dash, Dash::Dashed);
    }

    #[test]
    fn lines_of_one_kind_are_drawn_alike_without_emphasis() {
        assert_eq!(emphases(&[false, false]), vec![Emphasis::Plain; 2]);
        assert_eq!(emphases(&[true, true]), vec![Emphasis::Plain; 2]);
        assert_eq!(
            emphases(&[true, false]),
            vec![Emphasis::Competitor, Emphasis::Ours]
        );
        assert!(Emphasis::Competitor.width() < Emphasis::Plain.width());
        assert!(Emphasis::Plain.width() < Emphasis::Ours.width());
    }

    #[test]
    fn the_legend_lists_our_brands_first_keeping_the_given_order() {
        assert_eq!(legend_order(&[true, false, true, false]), vec![1, 3, 0, 2]);
    }
}
