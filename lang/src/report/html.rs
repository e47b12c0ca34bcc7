//! HTML: one self-contained page (inline CSS, no script, no external asset,
//! so it opens offline and makes no request): the summary, the findings
//! with what each failing `require` saw, the Statement of Applicability, a
//! heat map per risk matrix (inherent and residual counts per cell),
//! objective progress, and the exceptions with their expiry.
//!
//! Elements tests and tools read carry stable `id`s and `data-` attributes
//! (`#finding-count`, `data-cell="inherent:likely:major"`).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{source_name, MatrixView, Report};

/// Text made safe for HTML (the same escaping as XML's).
fn esc(text: &str) -> String {
    super::junit::xml_escape(text)
}

/// The page style, shared with the Statement of Applicability page.
pub(super) const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d232b}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d8dde3;padding-bottom:.3rem}
.muted{color:#5b6570}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d8dde3;border-radius:8px;padding:.7rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.6rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #d8dde3;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f7}.major{color:#a3141c;font-weight:600}.minor{color:#9a5b00;font-weight:600}.observation{color:#2d5f8b}
.saw{font-family:ui-monospace,monospace;font-size:12px;color:#38424c}
.heat{width:auto}.heat td{width:4.2rem;height:2.6rem;text-align:center;font-weight:600}
.lvl0{background:#d9f2d9}.lvl1{background:#fff1b8}.lvl2{background:#ffd0a1}.lvl3{background:#f7a1a1}.lvl4{background:#e36b6b}
.bar{background:#e8ecef;border-radius:4px;height:.8rem;width:12rem;display:inline-block;vertical-align:middle}
.bar i{display:block;height:100%;border-radius:4px;background:#3b7dd8}
.status-failing,.status-not-addressed,.status-overdue,.status-no-evidence,.status-missed,.status-at_risk,.status-expired{color:#a3141c;font-weight:600}
.status-passing,.status-met,.status-on_track,.status-active{color:#1f7a1f;font-weight:600}
";

impl Report {
    /// The report as one self-contained HTML page.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        let title = format!("aims: {} as of {}", self.project, self.as_of);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            esc(&title)
        );
        let _ = writeln!(out, "<h1>{}</h1>\n<p class=\"muted\">as of {}</p>", esc(&self.project), esc(&self.as_of));
        self.html_summary(&mut out);
        self.html_findings(&mut out);
        self.html_gap(&mut out);
        self.html_soa(&mut out);
        self.html_heat_maps(&mut out);
        self.html_objectives(&mut out);
        self.html_exceptions(&mut out);
        out.push_str("</body>\n</html>\n");
        out
    }

    fn html_summary(&self, out: &mut String) {
        let s = &self.summary;
        let card = |out: &mut String, id: &str, n: usize, label: &str| {
            let _ = writeln!(out, "<div class=\"card\"><b id=\"{id}\">{n}</b>{label}</div>");
        };
        out.push_str("<section class=\"cards\" id=\"summary\">\n");
        card(out, "finding-count", s.findings.total, "findings");
        card(out, "major-count", s.findings.major, "major");
        card(out, "minor-count", s.findings.minor, "minor");
        card(out, "control-count", s.controls, "controls");
        card(out, "audit-count", s.audits, "audit rules");
        card(out, "pass-count", s.outcomes.pass, "outcomes pass");
        card(out, "fail-count", s.outcomes.fail, "outcomes fail");
        out.push_str("</section>\n");
    }

    fn html_findings(&self, out: &mut String) {
        let _ = writeln!(out, "<h2 id=\"findings\">Findings ({})</h2>", self.findings.len());
        if self.findings.is_empty() {
            out.push_str("<p>No findings.</p>\n");
            return;
        }
        let rules: HashMap<&str, &super::RuleView> = self.rules.iter().map(|r| (r.name.as_str(), r)).collect();
        let titles = self.titles();
        out.push_str(
            "<table id=\"findings-table\"><thead><tr><th>severity</th><th>kind</th><th>name</th><th>entity</th>\
             <th>finding and trace</th><th>where</th></tr></thead><tbody>\n",
        );
        for f in self.findings.iter() {
            let mut trace = String::new();
            // A rule of the organisation has its one outcome under `-`.
            let key = f.entity.as_deref().unwrap_or("-");
            let rule = rules.get(f.name.as_str());
            if let Some((rule, o)) = rule.and_then(|r| Some((r, r.outcomes.find(key)?))) {
                for failure in &o.failures {
                    let seen: Vec<String> =
                        failure.observed.iter().map(|v| format!("{} = {}", v.path, v.value)).collect();
                    let _ = write!(trace, "<div class=\"saw\">require {}", esc(&failure.require));
                    if !seen.is_empty() {
                        let _ = write!(trace, "<br>saw {}", esc(&seen.join(", ")));
                    }
                    for measured in failure.observed.iter().filter_map(|v| self.measured_trace(rule, key, &v.path)) {
                        let _ = write!(trace, "<br>measured: {}", esc(&measured));
                    }
                    trace.push_str("</div>");
                }
            }
            let name = match titles.get(f.name.as_str()) {
                Some(t) => format!("{}<div class=\"muted\">{}</div>", esc(&f.name), esc(t)),
                None => esc(&f.name),
            };
            let _ = writeln!(
                out,
                "<tr class=\"finding\"><td class=\"{sev}\">{sev}</td><td>{}</td><td>{name}</td><td>{}</td><td>{}{trace}</td><td class=\"saw\">{}</td></tr>",
                source_name(f.source),
                esc(&f.entity_shown().unwrap_or_default()),
                esc(&f.message),
                esc(&super::location::text(&f.location)),
                sev = f.severity.as_str(),
            );
        }
        out.push_str("</tbody></table>\n");
    }

    fn html_gap(&self, out: &mut String) {
        let Some(gap) = &self.gap else { return };
        let percent = |p: Option<f64>| p.map_or("n/a".to_string(), |p| format!("{p:.1}%"));
        let _ = writeln!(
            out,
            "<h2 id=\"gap\">Gap analysis</h2>\n<p>Readiness <b id=\"readiness\">{}</b> ({} of {} clauses and Annex A controls passing; see docs/gap.md)</p>",
            percent(gap.overall.percent),
            gap.overall.passing,
            gap.overall.applicable
        );
        out.push_str(
            "<table id=\"gap-groups\"><tr><th>group</th><th>title</th><th>passing</th><th>readiness</th></tr>\n",
        );
        for g in &gap.groups {
            let width = g.percent.unwrap_or(0.0);
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}/{}</td><td><span class=\"bar\"><i style=\"width:{width:.0}%\"></i></span> {}</td></tr>",
                esc(&g.group),
                esc(&g.title),
                g.passing,
                g.applicable,
                percent(g.percent)
            );
        }
        out.push_str("</table>\n");
        let open: Vec<&super::gap::GapRow> = gap
            .clauses
            .iter()
            .chain(&gap.controls)
            .chain(&gap.documents)
            .filter(|r| !matches!(r.status, super::gap::GapStatus::Passing | super::gap::GapStatus::Excluded))
            .collect();
        let _ = writeln!(out, "<h3>Open gaps ({})</h3>", open.len());
        out.push_str("<table id=\"gap-table\"><tr><th>id</th><th>title</th><th>status</th><th>gap</th></tr>\n");
        for r in open {
            let status = r.status.as_str();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"status-{}\">{status}</td><td>{}</td></tr>",
                esc(&r.id),
                esc(&r.title),
                status.replace(' ', "-"),
                esc(&super::gap::gaps(r))
            );
        }
        out.push_str("</table>\n");
    }

    fn html_soa(&self, out: &mut String) {
        if self.soa.is_empty() {
            return;
        }
        let applicable = self.soa.iter().filter(|r| r.applicable).count();
        let _ = writeln!(
            out,
            "<h2 id=\"soa\">Statement of Applicability</h2>\n<p class=\"muted\">{} controls, {applicable} applicable</p>",
            self.soa.len()
        );
        out.push_str(
            "<table id=\"soa-table\"><thead><tr><th>control</th><th>title</th><th>applicable</th>\
             <th>implemented by / justification</th><th>status</th></tr></thead><tbody>\n",
        );
        for r in &self.soa {
            let detail =
                if r.implemented_by.is_empty() { esc(&r.justification) } else { esc(&r.implemented_by.join(", ")) };
            let status = r.status.as_str();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{detail}</td><td class=\"status-{}\">{status}</td></tr>",
                esc(&r.id),
                esc(&r.title),
                if r.applicable { "yes" } else { "no" },
                status.replace(' ', "-"),
            );
        }
        out.push_str("</tbody></table>\n");
    }

    fn html_heat_maps(&self, out: &mut String) {
        if self.risks.is_empty() {
            return;
        }
        out.push_str("<h2 id=\"risks\">Risk heat map</h2>\n");
        for matrix in &self.matrices {
            let entries: Vec<_> =
                self.risks.iter().filter(|r| r.matrix == matrix.name).flat_map(|r| r.entries.iter()).collect();
            if entries.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "<h3>{} <span class=\"muted\">({} assessments{})</span></h3>",
                esc(&matrix.name),
                entries.len(),
                matrix.appetite.as_deref().map(|a| format!(", appetite {}", esc(a))).unwrap_or_default()
            );
            if matrix.axes.len() != 2 {
                // Three or more axes do not fit a grid: count per level.
                out.push_str("<table><tr><th>level</th><th>inherent</th><th>residual</th></tr>\n");
                for level in &matrix.levels {
                    let inherent = entries.iter().filter(|e| e.inherent.level == level.name).count();
                    let residual = entries.iter().filter(|e| e.residual.level == level.name).count();
                    let _ = writeln!(
                        out,
                        "<tr><td>{}</td><td data-level=\"inherent:{0}\">{inherent}</td><td data-level=\"residual:{0}\">{residual}</td></tr>",
                        esc(&level.name)
                    );
                }
                out.push_str("</table>\n");
                continue;
            }
            out.push_str("<div class=\"cards\">\n");
            for (which, pick) in [("inherent", true), ("residual", false)] {
                let mut counts: HashMap<(&str, &str), usize> = HashMap::new();
                for e in &entries {
                    let level = if pick { &e.inherent } else { &e.residual };
                    if let [a, b] = level.axes.as_slice() {
                        *counts.entry((a.as_str(), b.as_str())).or_default() += 1;
                    }
                }
                self.heat_grid(out, matrix, which, &counts);
            }
            out.push_str("</div>\n");
        }
    }

    fn heat_grid(&self, out: &mut String, matrix: &MatrixView, which: &str, counts: &HashMap<(&str, &str), usize>) {
        let (rows, cols) = (&matrix.axes[0], &matrix.axes[1]);
        let _ = writeln!(
            out,
            "<table class=\"heat\" id=\"heat-{which}-{}\"><caption>{which}</caption>\n<tr><th>{} \\ {}</th>{}</tr>",
            esc(&matrix.name),
            esc(&rows.name),
            esc(&cols.name),
            cols.values.iter().map(|(n, _)| format!("<th>{}</th>", esc(n))).collect::<String>()
        );
        for (row, rv) in rows.values.iter().rev() {
            let _ = write!(out, "<tr><th>{}</th>", esc(row));
            for (col, cv) in &cols.values {
                let score = rv * cv;
                let level = matrix.levels.iter().position(|l| l.low <= score && score <= l.high).unwrap_or(0);
                let n = counts.get(&(row.as_str(), col.as_str())).copied().unwrap_or(0);
                let _ = write!(
                    out,
                    "<td class=\"lvl{}\" data-cell=\"{which}:{}:{}\" title=\"score {score}\">{}</td>",
                    level.min(4),
                    esc(row),
                    esc(col),
                    if n == 0 { String::new() } else { n.to_string() }
                );
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }

    fn html_objectives(&self, out: &mut String) {
        if self.objectives.is_empty() {
            return;
        }
        out.push_str("<h2 id=\"objectives\">Objectives</h2>\n<table id=\"objectives-table\"><tr><th>objective</th><th>status</th><th>progress</th><th>target</th></tr>\n");
        for o in &self.objectives {
            let target: Option<f64> = o.target.split_whitespace().nth(1).and_then(|t| t.parse().ok());
            let at_least = o.target.starts_with('>');
            let fraction = match (o.current.map(crate::num::to_f64), target) {
                (Some(c), Some(t)) if at_least && t > 0.0 => (c / t).clamp(0.0, 1.0),
                (Some(c), Some(t)) if !at_least && c > 0.0 => (t / c).clamp(0.0, 1.0),
                (Some(_), Some(_)) => 1.0,
                _ => 0.0,
            };
            let current = o.current.map_or("unknown".to_string(), crate::num::format);
            let status = o.status.as_str();
            let _ = writeln!(
                out,
                "<tr><td>{}{}</td><td class=\"status-{status}\">{status}</td><td><span class=\"bar\"><i style=\"width:{:.0}%\"></i></span> {current}</td><td>{}</td></tr>",
                esc(&o.name),
                o.title.as_deref().map(|t| format!("<div class=\"muted\">{}</div>", esc(t))).unwrap_or_default(),
                fraction * 100.0,
                esc(&o.target),
            );
        }
        out.push_str("</table>\n");
    }

    fn html_exceptions(&self, out: &mut String) {
        if self.exceptions.is_empty() {
            return;
        }
        out.push_str("<h2 id=\"exceptions\">Exceptions</h2>\n<table id=\"exceptions-table\"><tr><th>exception</th><th>waives</th><th>entity</th><th>until</th><th>approved by</th><th>status</th></tr>\n");
        for x in &self.exceptions {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"status-{status}\">{status}</td></tr>",
                esc(&x.name),
                esc(&x.waives),
                esc(x.entity.as_deref().unwrap_or("all")),
                esc(&x.until),
                esc(x.approved_by.as_deref().unwrap_or("")),
                status = x.status
            );
        }
        out.push_str("</table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup() {
        // A control character is shown, not dropped (the key stays recognisable).
        assert_eq!(esc("<script>\"x\" & 'y'\u{7}"), "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;\\u{7}");
    }
}
