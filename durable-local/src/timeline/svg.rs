//! The timeline as a standalone SVG picture (`durable history ARN --svg FILE`): a row per operation
//! (children under their parent, indented), a bar per attempt coloured by how it ended, waits drawn
//! hollow with a mark at their wake time, and an axis of offsets from the execution's start.
//!
//! The picture has no external references (no fonts, styles or scripts to fetch), so it can be
//! attached to an issue or committed beside documentation as it is.

use super::{duration, ellipsize, offset, Row, Status, Timeline};
use std::fmt::Write as _;

/// Width of the whole picture.
const WIDTH: f64 = 960.0;
/// Where the bars' area begins and ends.
const CHART_LEFT: f64 = 300.0;
const CHART_RIGHT: f64 = 920.0;
/// Height of one row.
const ROW: f64 = 24.0;
/// Where the first row begins (below the title and the axis).
const TOP: f64 = 58.0;
/// Indentation per nesting level of the name column.
const INDENT: f64 = 14.0;
/// Characters of the name column at most (at depth 0).
const NAME_CHARS: usize = 34;

/// The fill of a bar in `status`.
fn colour(status: Status) -> &'static str {
    match status {
        Status::Running => "#3b82f6",
        Status::Waiting => "#a855f7",
        Status::Retrying => "#f59e0b",
        Status::Succeeded => "#16a34a",
        Status::Failed | Status::TimedOut => "#dc2626",
        Status::Stopped | Status::Cancelled => "#6b7280",
        Status::Unknown => "#9ca3af",
    }
}

/// `text` with the characters XML gives meaning to escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A tick spacing of 1, 2 or 5 times a power of ten that gives at most about eight ticks over
/// `span` seconds.
fn tick_step(span: f64) -> f64 {
    let raw = (span / 8.0).max(1e-3);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|step| *step >= raw).unwrap_or(10.0 * power)
}

impl Timeline {
    /// The time span the picture shows: from the origin to the last thing drawn.
    fn span(&self) -> (f64, f64) {
        let origin = self.origin.unwrap_or(0.0);
        let mut last = [self.end, self.latest].into_iter().flatten().fold(origin, f64::max);
        for row in &self.rows {
            let ends = row.segments.iter().flat_map(|s| [s.start, s.end]).chain([row.wake, row.last]);
            last = ends.flatten().fold(last, f64::max);
        }
        (origin, if last > origin { last } else { origin + 1.0 })
    }

    /// The timeline as a standalone SVG document.
    pub fn svg(&self) -> String {
        let (t0, t1) = self.span();
        let x = |t: f64| CHART_LEFT + (t - t0) / (t1 - t0) * (CHART_RIGHT - CHART_LEFT);
        let order = self.tree_order();
        let height = TOP + ROW * order.len().max(1) as f64 + 16.0;
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="12">"#
        );
        let _ = writeln!(out, r##"<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>"##);
        let _ =
            writeln!(out, r##"<text x="10" y="20" font-size="14" fill="#111827">{}</text>"##, escape(&self.summary()));
        // The axis: a tick and an offset label every `step` seconds, with a faint line down the rows.
        let step = tick_step(t1 - t0);
        let bottom = height - 12.0;
        let _ = writeln!(
            out,
            r##"<line x1="{CHART_LEFT}" y1="46" x2="{CHART_RIGHT}" y2="46" stroke="#9ca3af" stroke-width="1"/>"##
        );
        let mut tick = 0.0;
        while tick <= t1 - t0 + 1e-9 {
            let at = x(t0 + tick);
            let _ = writeln!(
                out,
                r##"<line x1="{at:.1}" y1="42" x2="{at:.1}" y2="{bottom:.1}" stroke="#e5e7eb" stroke-width="1"/><text x="{at:.1}" y="38" text-anchor="middle" fill="#4b5563" font-size="10">{}</text>"##,
                escape(&offset(tick))
            );
            tick += step;
        }
        for (line, &i) in order.iter().enumerate() {
            let Some(row) = self.rows.get(i) else { continue };
            let y = TOP + ROW * line as f64;
            self.svg_row(&mut out, row, y, &x);
        }
        if order.is_empty() {
            let _ = writeln!(out, r##"<text x="10" y="{}" fill="#6b7280">no operations yet</text>"##, TOP + 16.0);
        }
        out.push_str("</svg>\n");
        out
    }

    fn svg_row(&self, out: &mut String, row: &Row, y: f64, x: &dyn Fn(f64) -> f64) {
        let depth = row.depth.min(8);
        let name = ellipsize(&row.name, NAME_CHARS.saturating_sub(depth * 2).max(8));
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" fill="#111827">{}<tspan fill="#6b7280" font-size="10"> {}</tspan></text>"##,
            10.0 + INDENT * depth as f64,
            y + 16.0,
            escape(&name),
            escape(&row.kind)
        );
        let now = self.end.or(self.latest);
        let mut right = CHART_LEFT;
        for (n, segment) in row.segments.iter().enumerate() {
            let Some(start) = segment.start else { continue };
            let end = segment.end.or(now).unwrap_or(start).max(start);
            let (left, width) = (x(start), (x(end) - x(start)).max(2.0));
            right = right.max(left + width);
            let mut title = format!("{} {}", row.name, segment.status.label());
            if row.segments.len() > 1 {
                title = format!("{} attempt {} {}", row.name, n + 1, segment.status.label());
            }
            if let Some(error) = &segment.error {
                let _ = write!(title, ": {error}");
            }
            if let Some(message) = &segment.message {
                let _ = write!(title, " ({message})");
            }
            let _ = write!(title, ", {}", duration(end - start));
            let fill = colour(segment.status);
            if row.kind == "Wait" {
                // A wait is time the execution spends suspended: hollow, not a bar of work.
                let _ = writeln!(
                    out,
                    r##"<rect x="{left:.1}" y="{:.1}" width="{width:.1}" height="12" fill="none" stroke="{fill}" stroke-width="1.5" stroke-dasharray="4 3"><title>{}</title></rect>"##,
                    y + 6.0,
                    escape(&title)
                );
            } else {
                let _ = writeln!(
                    out,
                    r#"<rect x="{left:.1}" y="{:.1}" width="{width:.1}" height="12" rx="2" fill="{fill}"><title>{}</title></rect>"#,
                    y + 6.0,
                    escape(&title)
                );
            }
        }
        if let Some(wake) = row.wake.filter(|_| !row.status.is_final()) {
            let at = x(wake);
            let _ = writeln!(
                out,
                r##"<line x1="{at:.1}" y1="{:.1}" x2="{at:.1}" y2="{:.1}" stroke="#a855f7" stroke-width="2"><title>wakes at +{}</title></line>"##,
                y + 3.0,
                y + 21.0,
                escape(&duration(wake - self.origin.unwrap_or(wake)))
            );
            right = right.max(at);
        }
        let mut label = row.status.label().to_owned();
        if let Some(error) = &row.error {
            let _ = write!(label, " ({error})");
        }
        if row.attempts > 1 {
            let _ = write!(label, ", {} tries", row.attempts);
        }
        // The label right of the bars, or left of them when they reach the right edge.
        let (lx, anchor) = if right + 8.0 + 7.0 * label.chars().count() as f64 <= WIDTH {
            (right + 6.0, "start")
        } else {
            (x(row.start.unwrap_or(0.0)) - 6.0, "end")
        };
        let _ = writeln!(
            out,
            r##"<text x="{lx:.1}" y="{:.1}" text-anchor="{anchor}" fill="#374151" font-size="10">{}</text>"##,
            y + 16.0,
            escape(&label)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(10.0), 2.0);
        assert_eq!(tick_step(32.8), 5.0);
        assert_eq!(tick_step(3600.0), 500.0);
        assert!((tick_step(0.0) - 1e-3).abs() < 1e-12);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
        assert_eq!(escape("a\u{1}b"), "a\u{fffd}b");
    }
}
