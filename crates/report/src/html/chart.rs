//! Line charts over the seconds of a run, as inline SVG: axes with round ticks, a grid, and one
//! polyline per series. No script and no external resource: the browser draws them as they are.

use std::fmt::Write;

use crate::format::escape;

/// One line of a chart: a label, a colour and (second, value) points in order of second. A dashed
/// line stays visible where it runs on top of a solid one.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub label: String,
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// A chart: a title, what the values are in, a sentence on what it shows, and its lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub unit: String,
    pub note: String,
    pub lines: Vec<Line>,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// The panel as an HTML `<section>`: title, note, legend and the SVG chart, its x axis running
/// from second 0 to `last_second`.
pub fn panel_html(panel: &Panel, last_second: f64) -> String {
    xy_panel_html(panel, last_second, "s")
}

/// [`panel_html`] over any x quantity: the axis runs from 0 to `x_max`, its ticks end in `x_suffix`.
pub fn xy_panel_html(panel: &Panel, x_max: f64, x_suffix: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"panel\"><h3>{}</h3><p class=\"note\">{}</p><ul class=\"legend\">",
        escape(&panel.title),
        escape(&panel.note)
    );
    for line in &panel.lines {
        let _ = write!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            line.color,
            escape(&line.label)
        );
    }
    out.push_str("</ul>");
    out.push_str(&svg(panel, x_max, x_suffix));
    out.push_str("</section>\n");
    out
}

fn svg(panel: &Panel, x_max: f64, x_suffix: &str) -> String {
    let x_max = x_max.max(1.0);
    let y_top = panel
        .lines
        .iter()
        .flat_map(|line| line.points.iter().map(|&(_, y)| y))
        .fold(0.0_f64, f64::max);
    let y_step = nice_step(y_top.max(1e-9) / 4.0);
    let y_max = if y_top > 0.0 {
        (y_top / y_step).ceil() * y_step
    } else {
        1.0
    };
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x = |second: f64| LEFT + second / x_max * plot_width;
    let y = |value: f64| TOP + plot_height - value / y_max * plot_height;

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(&panel.title)
    );
    out.push_str("<g class=\"grid\">");
    let y_ticks = if y_top > 0.0 {
        (y_max / y_step).round() as usize
    } else {
        1
    };
    for i in 0..=y_ticks {
        let value = if y_top > 0.0 {
            i as f64 * y_step
        } else {
            i as f64
        };
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{py:.1}\" y2=\"{py:.1}\"/>\
             <text class=\"y\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y(value) + 4.0,
            tick_label(value),
            py = y(value),
        );
    }
    let x_step = nice_step(x_max / 8.0).max(1.0);
    let mut second = 0.0;
    while second <= x_max + 1e-9 {
        let _ = write!(
            out,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{TOP}\" y2=\"{:.1}\"/>\
             <text class=\"x\" x=\"{px:.1}\" y=\"{:.1}\">{}{}</text>",
            TOP + plot_height,
            HEIGHT - 10.0,
            tick_label(second),
            escape(x_suffix),
            px = x(second),
        );
        second += x_step;
    }
    let _ = write!(
        out,
        "</g><text class=\"unit\" x=\"{:.1}\" y=\"{:.1}\" transform=\"rotate(-90 {:.1} {:.1})\">{}</text>",
        14.0,
        TOP + plot_height / 2.0,
        14.0,
        TOP + plot_height / 2.0,
        escape(&panel.unit)
    );
    for line in &panel.lines {
        let points: Vec<String> = line
            .points
            .iter()
            .map(|&(s, v)| format!("{:.1},{:.1}", x(s), y(v)))
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"line\" data-series=\"{}\" data-points=\"{}\" stroke=\"{}\"{} points=\"{}\">\
             <title>{}</title></polyline>",
            escape(&line.label),
            line.points.len(),
            line.color,
            if line.dashed {
                " stroke-dasharray=\"6 4\""
            } else {
                ""
            },
            points.join(" "),
            escape(&line.label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A round tick step near `raw`: 1, 2 or 5 times a power of ten.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// A tick value without needless decimals: `0`, `2.5`, `1,200`.
fn tick_label(value: f64) -> String {
    if value >= 1000.0 {
        crate::format::count(value.round() as u64)
    } else if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.5), 2.0);
        assert_eq!(nice_step(37.0), 50.0);
        assert_eq!(nice_step(0.03), 0.05);
        assert_eq!(tick_label(2.5), "2.5");
        assert_eq!(tick_label(1200.0), "1,200");
        assert_eq!(tick_label(0.05), "0.05");
    }

    #[test]
    fn lines_span_the_plot_area() {
        let panel = Panel {
            title: "t".into(),
            unit: "u".into(),
            note: "n".into(),
            lines: vec![Line {
                label: "a<b".into(),
                color: "#123456",
                dashed: false,
                points: vec![(0.0, 0.0), (10.0, 37.0)],
            }],
        };
        let html = panel_html(&panel, 10.0);
        // y axis rounds 37 up to 40; the last point is at the right edge, 37/40 of the way up.
        let top = TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - 37.0 / 40.0);
        assert!(
            html.contains(&format!(
                "points=\"{LEFT:.1},{:.1} {:.1},{top:.1}\"",
                HEIGHT - BOTTOM,
                WIDTH - RIGHT
            )),
            "{html}"
        );
        assert!(html.contains("data-series=\"a&lt;b\" data-points=\"2\""));
        assert!(html.contains(">40</text>"));
    }
}
