//! Markdown, for pull-request comments and job summaries: the counts, the
//! findings as a table, then risks above appetite, objectives and
//! exceptions. Cells are escaped so that no value can break the table.

use std::fmt::Write as _;

use super::{source_name, Report};

/// What follows an `@` in a cell so that GitHub and GitLab do not read a
/// mention (and notify someone) where a fact says `@team`: U+2060 WORD
/// JOINER, which has no width, so `@team` still reads `@team`.
const MENTION_BREAK: char = '\u{2060}';

/// A table cell: pipes escaped, line breaks flattened, markup characters,
/// `@mentions` and terminal escapes neutralised.
pub(super) fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '@' => {
                out.push('@');
                out.push(MENTION_BREAK);
            }
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    crate::diag::terminal_safe_line(&out).into_owned()
}

impl Report {
    /// The report as GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let s = &self.summary;
        let verdict = if s.findings.total == 0 { "✅" } else { "❌" };
        let _ = writeln!(out, "## {verdict} aims: {} as of {}\n", cell(&self.project), self.as_of);
        let _ = writeln!(out, "| controls | audit rules | pass | fail | waived | n/a | major | minor | observations |");
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.controls,
            s.audits,
            s.outcomes.pass,
            s.outcomes.fail,
            s.outcomes.waived,
            s.outcomes.not_applicable,
            s.findings.major,
            s.findings.minor,
            s.findings.observation
        );
        if self.findings.is_empty() {
            out.push_str("No findings.\n");
        } else {
            let _ = writeln!(out, "### Findings ({})\n", self.findings.len());
            out.push_str("| severity | kind | name | entity | finding | where |\n|---|---|---|---|---|---|\n");
            for f in self.findings.iter() {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    f.severity.as_str(),
                    source_name(f.source),
                    cell(&f.name),
                    cell(&f.entity_shown().unwrap_or_default()),
                    cell(&f.message),
                    cell(&super::location::text(&f.location))
                );
            }
        }
        let above: Vec<_> = self
            .risks
            .iter()
            .flat_map(|r| r.entries.iter().filter(|e| e.above_appetite).map(move |e| (r, e)))
            .collect();
        if !above.is_empty() {
            let _ = writeln!(out, "\n### Risks above appetite ({})\n", above.len());
            out.push_str("| risk | entity | inherent | treatment | residual |\n|---|---|---|---|---|\n");
            for (r, e) in above {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    cell(&r.name),
                    cell(&e.entity),
                    cell(&e.inherent.level),
                    e.treatment,
                    cell(&e.residual.level)
                );
            }
        }
        if !self.objectives.is_empty() {
            out.push_str("\n### Objectives\n\n| objective | status | current | target |\n|---|---|---:|---|\n");
            for o in &self.objectives {
                let current = o.current.map_or("unknown".to_string(), crate::num::format);
                let _ =
                    writeln!(out, "| {} | {} | {} | {} |", cell(&o.name), o.status.as_str(), current, cell(&o.target));
            }
        }
        if !self.exceptions.is_empty() {
            out.push_str(
                "\n### Exceptions\n\n| exception | waives | entity | until | status |\n|---|---|---|---|---|\n",
            );
            for x in &self.exceptions {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    cell(&x.name),
                    cell(&x.waives),
                    cell(x.entity.as_deref().unwrap_or("all")),
                    x.until,
                    x.status
                );
            }
        }
        if let Some(quality) = &self.data_quality {
            let _ = writeln!(
                out,
                "\n### Data quality ({})\n\n| file | column | where | value | problem |\n|---|---|---|---|---|",
                super::count(quality.cells() as usize, "unreadable cell", "unreadable cells")
            );
            for column in &quality.columns {
                for c in &column.cells {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} |",
                        cell(&column.file),
                        cell(&column.column),
                        cell(&c.location()),
                        cell(&c.value),
                        cell(&c.problem)
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\n<c>`d`"), "a\\|b &lt;c&gt;\\`d\\`");
    }

    #[test]
    fn cells_neither_mention_anyone_nor_carry_escapes() {
        assert_eq!(cell("ask @security-team or @org/ai"), "ask @\u{2060}security-team or @\u{2060}org/ai");
        assert_eq!(cell("x\u{1b}[2Jy\nz"), "x\\u{1b}\\[2Jy z");
    }
}
