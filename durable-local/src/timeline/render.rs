//! The timeline as text: the rows in tree order, one line each, in columns that fit the terminal.

use super::{duration, ellipsize, offset, split_event_type, status_of, Row, Status, Timeline, MAX_DEPTH};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Width of the name column at most (names are cut with `…` beyond).
const MAX_NAME: usize = 40;

impl Timeline {
    /// The rows' indices with every operation directly under its parent (children in the order
    /// they first appear); operations whose parent is unknown stay at the top level.
    pub fn tree_order(&self) -> Vec<usize> {
        let index: HashMap<&str, usize> = self.rows.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); self.rows.len()];
        let mut roots = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            match row.parent.as_deref().and_then(|p| index.get(p)).copied().filter(|&p| p != i) {
                Some(parent) => children.get_mut(parent).into_iter().for_each(|c| c.push(i)),
                None => roots.push(i),
            }
        }
        let mut order = Vec::with_capacity(self.rows.len());
        let mut seen = vec![false; self.rows.len()];
        let mut stack: Vec<usize> = roots.into_iter().rev().collect();
        while let Some(i) = stack.pop() {
            if seen.get_mut(i).is_none_or(|seen| std::mem::replace(seen, true)) {
                continue;
            }
            order.push(i);
            stack.extend(children.get(i).into_iter().flatten().rev().copied());
        }
        // A cycle of parents has no root: its rows come last, in their own order.
        order.extend((0..self.rows.len()).filter(|&i| seen.get(i) == Some(&false)));
        order
    }

    /// Renders the timeline as text no wider than `width` columns (where the content allows).
    pub fn render(&self, width: usize) -> String {
        let mut out = String::new();
        if self.rows.is_empty() {
            out.push_str("no operations yet\n");
        }
        let headers = ["OPERATION", "TYPE", "TRIES", "START", "DURATION", "STATUS"];
        let cells: Vec<[String; 6]> = self.rows.iter().map(|row| self.cells(row)).collect();
        // Every column but the name at its content width; the name gets what is left, within bounds.
        let mut widths = headers.map(|h| h.chars().count());
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let others: usize = widths.iter().skip(1).sum::<usize>() + 2 * (widths.len() - 1);
        let name_room = width.saturating_sub(others).clamp(headers[0].len(), MAX_NAME);
        widths[0] = widths[0].min(name_room);
        if !cells.is_empty() {
            push_line(&mut out, &headers.map(str::to_owned), &widths);
        }
        let mut invocation = 1;
        for (row, cells) in self.rows.iter().zip(&cells) {
            if row.invocation != invocation {
                invocation = row.invocation;
                let label = format!("── invocation {invocation} ");
                let rule = "─".repeat(width.saturating_sub(label.chars().count()).min(40));
                let _ = writeln!(out, "{label}{rule}");
            }
            push_line(&mut out, cells, &widths);
        }
        let _ = writeln!(out, "{}", self.summary());
        for row in self.rows.iter().filter(|r| r.status == Status::Waiting) {
            if let Some(id) = &row.callback_id {
                let _ =
                    writeln!(out, "`{}` waits: answer with `durable callback succeed {id} PAYLOAD`", row.name.trim());
            }
        }
        out
    }

    fn cells(&self, row: &Row) -> [String; 6] {
        let indent = "  ".repeat(row.depth.min(MAX_DEPTH));
        let attempts = if row.attempts > 0 { row.attempts.to_string() } else { String::new() };
        let start = match (row.start, self.origin) {
            (Some(start), Some(origin)) => offset(start - origin),
            _ => String::new(),
        };
        let took = match (row.start, row.last) {
            (Some(start), Some(last)) if row.status.is_final() => duration(last - start),
            _ if row.status.is_final() => String::new(),
            _ => "…".to_owned(),
        };
        let status = match &row.error {
            Some(error) if !error.is_empty() => format!("{} ({error})", row.status.label()),
            _ => row.status.label().to_owned(),
        };
        [format!("{indent}{}", row.name), row.kind.clone(), attempts, start, took, status]
    }

    /// The closing line: the outcome, the execution's duration and the invocations.
    pub(super) fn summary(&self) -> String {
        let outcome = match self.outcome.as_deref() {
            Some(event) => {
                let (_, phase) = split_event_type(event);
                let label = status_of("Execution", phase, None).label();
                match (self.origin, self.end) {
                    (Some(origin), Some(end)) => format!("execution {label} after {}", duration(end - origin)),
                    _ => format!("execution {label}"),
                }
            }
            None => "execution running".to_owned(),
        };
        let plural = if self.invocations == 1 { "" } else { "s" };
        format!("{outcome}; {} invocation{plural}, {} operations", self.invocations, self.rows.len())
    }

    /// Short lines for each operation that changed from `before` (for `invoke --follow`).
    pub fn changes_since(&self, before: &Timeline) -> Vec<String> {
        let old: HashMap<&str, &Row> = before.rows.iter().map(|r| (r.id.as_str(), r)).collect();
        self.rows
            .iter()
            .filter(|row| {
                old.get(row.id.as_str()).is_none_or(|was| was.status != row.status || was.attempts != row.attempts)
            })
            .map(|row| {
                let [name, kind, attempts, start, took, status] = self.cells(row);
                let attempts =
                    if attempts.is_empty() || attempts == "1" { String::new() } else { format!(" try {attempts}") };
                let took = if took.is_empty() || took == "…" { String::new() } else { format!(" in {took}") };
                format!("{start:>8}  {} {kind}{attempts}: {status}{took}", name.trim_start())
            })
            .collect()
    }
}

fn push_line(out: &mut String, cells: &[String; 6], widths: &[usize; 6]) {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let cell = ellipsize(cell, *width);
        if i > 0 {
            line.push_str("  ");
        }
        // Numbers right-aligned, text left-aligned.
        if matches!(i, 2..=4) {
            let _ = write!(line, "{cell:>width$}");
        } else {
            let _ = write!(line, "{cell:<width$}");
        }
    }
    let _ = writeln!(out, "{}", line.trim_end());
}
