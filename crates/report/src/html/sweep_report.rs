//! `sweep-report.html`: the best rows of a sweep and a scatter of every simulated combination's mean
//! CPU against its max CPU, coloured by whether it meets the constraint, with the constraint's line
//! when it bounds one of the two figures.

use std::fmt::Write;

use super::STYLE;
use crate::format::escape;

/// One simulated combination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    pub mean_cpu: f64,
    pub max_cpu: f64,
    pub meets: bool,
    /// 1 for the best row.
    pub rank: Option<usize>,
}

/// A bound the constraint puts on one axis of the scatter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CpuBound {
    MaxCpu(f64),
    MeanCpu(f64),
}

impl CpuBound {
    /// The bound in a constraint such as `max_cpu<50` or `max_cpu <= 50 && ...` (the first
    /// `max_cpu`/`mean_cpu` compared with a number), if any.
    pub fn parse(constraint: &str) -> Option<Self> {
        let text: String = constraint.chars().filter(|c| !c.is_whitespace()).collect();
        for (name, make) in [
            ("max_cpu", Self::MaxCpu as fn(f64) -> Self),
            ("mean_cpu", Self::MeanCpu),
        ] {
            if let Some(at) = text.find(name) {
                let rest = text[at + name.len()..].trim_start_matches(['<', '>', '=']);
                let number: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                if let Ok(value) = number.parse() {
                    return Some(make(value));
                }
            }
        }
        None
    }
}

/// What the sweep page shows.
#[derive(Debug, Clone)]
pub struct SweepPage<'a> {
    pub lines: &'a [String],
    pub headers: &'a [&'a str],
    pub best: &'a [Vec<String>],
    pub points: &'a [SweepPoint],
    pub constraint: Option<&'a str>,
}

const SIZE: f64 = 420.0;
const MARGIN: f64 = 48.0;

/// The report page of a sweep.
pub fn sweep_report(page: &SweepPage) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>scalelab sweep</title><style>{STYLE}</style></head><body>\n\
         <header><h1>scalelab sweep</h1>"
    );
    for line in page.lines.iter().filter(|l| !l.is_empty()) {
        let _ = write!(out, "<p>{}</p>", escape(line));
    }
    out.push_str("</header>\n<h2>Best rows</h2>\n<table><tr>");
    for header in page.headers {
        let _ = write!(out, "<th>{}</th>", escape(header));
    }
    out.push_str("</tr>");
    for row in page.best {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");
    out.push_str(&scatter(page));
    out.push_str("</body></html>\n");
    out
}

fn scatter(page: &SweepPage) -> String {
    let plot = SIZE - 2.0 * MARGIN;
    let x = |v: f64| MARGIN + v.clamp(0.0, 100.0) / 100.0 * plot;
    let y = |v: f64| SIZE - MARGIN - v.clamp(0.0, 100.0) / 100.0 * plot;
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"panel\"><h3>Mean CPU against max CPU</h3><p class=\"note\">Each simulated \
         combination: green meets {}, grey does not, the best row is ringed.</p>",
        escape(page.constraint.unwrap_or("no constraint (all meet it)"))
    );
    let _ = write!(
        out,
        "<svg class=\"chart scatter\" style=\"max-width:{SIZE}px\" viewBox=\"0 0 {SIZE} {SIZE}\" role=\"img\" aria-label=\"mean CPU against max CPU\"><g class=\"grid\">"
    );
    for tick in (0..=100).step_by(25) {
        let v = f64::from(tick);
        let _ = write!(
            out,
            "<line x1=\"{MARGIN}\" x2=\"{:.1}\" y1=\"{py:.1}\" y2=\"{py:.1}\"/><text class=\"y\" x=\"{:.1}\" y=\"{:.1}\">{tick}</text>\
             <line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{MARGIN}\" y2=\"{:.1}\"/><text class=\"x\" x=\"{px:.1}\" y=\"{:.1}\">{tick}</text>",
            SIZE - MARGIN,
            MARGIN - 6.0,
            y(v) + 4.0,
            SIZE - MARGIN,
            SIZE - MARGIN + 16.0,
            py = y(v),
            px = x(v),
        );
    }
    let _ = write!(
        out,
        "</g><text class=\"unit\" x=\"{:.1}\" y=\"{:.1}\">mean CPU %</text>\
         <text class=\"unit\" x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\">max CPU %</text>",
        SIZE / 2.0,
        SIZE - 8.0,
        SIZE / 2.0,
        SIZE / 2.0
    );
    match page.constraint.and_then(CpuBound::parse) {
        Some(CpuBound::MaxCpu(limit)) => {
            let _ = write!(
                out,
                "<line class=\"constraint\" x1=\"{MARGIN}\" x2=\"{:.1}\" y1=\"{py:.1}\" y2=\"{py:.1}\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"><title>max_cpu {limit}</title></line>",
                SIZE - MARGIN,
                py = y(limit)
            );
        }
        Some(CpuBound::MeanCpu(limit)) => {
            let _ = write!(
                out,
                "<line class=\"constraint\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{MARGIN}\" y2=\"{:.1}\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"><title>mean_cpu {limit}</title></line>",
                SIZE - MARGIN,
                px = x(limit)
            );
        }
        None => {}
    }
    for p in page.points {
        let _ = write!(
            out,
            "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{}\" stroke=\"{}\"><title>mean {:.1} %, max {:.1} %</title></circle>",
            x(p.mean_cpu),
            y(p.max_cpu),
            if p.rank == Some(1) { 6 } else { 3 },
            if p.meets { "#2ca02c" } else { "#999999" },
            if p.rank == Some(1) { "#000000" } else { "none" },
            p.mean_cpu,
            p.max_cpu
        );
    }
    out.push_str("</svg></section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constraint_bounds_an_axis_when_it_names_one() {
        assert_eq!(CpuBound::parse("max_cpu<50"), Some(CpuBound::MaxCpu(50.0)));
        assert_eq!(
            CpuBound::parse("unserved_requests == 0 && mean_cpu >= 30.5"),
            Some(CpuBound::MeanCpu(30.5))
        );
        assert_eq!(CpuBound::parse("unserved_requests == 0"), None);
    }

    #[test]
    fn every_point_is_drawn_where_its_figures_say() {
        let points = [
            SweepPoint {
                mean_cpu: 25.0,
                max_cpu: 50.0,
                meets: true,
                rank: Some(1),
            },
            SweepPoint {
                mean_cpu: 100.0,
                max_cpu: 0.0,
                meets: false,
                rank: None,
            },
        ];
        let html = sweep_report(&SweepPage {
            lines: &[],
            headers: &["rank"],
            best: &[vec!["1".into()]],
            points: &points,
            constraint: Some("max_cpu<50"),
        });
        // Plot 48..372: mean 25 -> x 129, max 50 -> y 210; mean 100 -> x 372, max 0 -> y 372.
        assert!(
            html.contains("cx=\"129.0\" cy=\"210.0\" r=\"6\" fill=\"#2ca02c\""),
            "{html}"
        );
        assert!(
            html.contains("cx=\"372.0\" cy=\"372.0\" r=\"3\" fill=\"#999999\""),
            "{html}"
        );
        assert!(
            html.contains("class=\"constraint\" x1=\"48\" x2=\"372.0\" y1=\"210.0\""),
            "{html}"
        );
    }
}
