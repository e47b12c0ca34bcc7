//! The Statement of Applicability of `aims soa` as Markdown and as one
//! self-contained HTML page (inline CSS, no script, no external asset,
//! like the HTML report): document control with the as-of date, a legend
//! that tells "nothing to check" from an exclusion, one table row per
//! control (decision, justification, implementation status with the due
//! date of a planned control, test result, note, evidence, checks,
//! waivers), the organisation's own controls, and the totals.

use std::fmt::Write as _;

use super::markdown::cell;
use super::soa::{Framework, SoaStatus};
use super::soa_detail::{SoaEntry, Statement};

/// What the words of the statement mean, for a reader without the docs.
pub const LEGEND: [(&str, &str); 4] = [
    (
        "excluded",
        "the control is not part of the AIMS; the justification is the policy's `exclude ... because`",
    ),
    (
        "nothing to check",
        "the control is included and its rules are in place, but no fact is in their scope on this date (no incident yet, no system built in-house): this is not an exclusion",
    ),
    ("not addressed", "neither implemented nor excluded: the statement has a gap there"),
    (
        "planned",
        "not implemented yet; an open ActionPlan names the owner and the due date (OVERDUE once the date has passed)",
    ),
];

/// The implementation column: the status, with the due date of a plan.
pub fn implementation(e: &SoaEntry) -> String {
    match (e.row.implementation, &e.row.plan) {
        (Some(i), Some(plan)) => {
            format!("{}, due {}{}", i.as_str(), plan.due, if plan.overdue { " (OVERDUE)" } else { "" })
        }
        (Some(i), None) => i.as_str().to_string(),
        (None, _) => "excluded".to_string(),
    }
}

/// The evidence of a row, one reference per item.
pub fn evidence(e: &SoaEntry) -> Vec<String> {
    e.evidence.iter().map(|x| x.to_string()).collect()
}

/// The totals line that closes every view.
pub fn totals(statement: &Statement) -> String {
    let all = statement.rows.iter().chain(&statement.organisation_controls);
    let planned = all.clone().filter(|e| e.row.plan.is_some()).count();
    let overdue = all.filter(|e| e.row.plan.as_ref().is_some_and(|p| p.overdue)).count();
    format!("{}; {planned} with an open action plan, {overdue} of them overdue", counts(statement))
}

/// How many rows the statement has, by applicability and status.
pub fn counts(statement: &Statement) -> String {
    let rows = &statement.rows;
    let count = |s: SoaStatus| rows.iter().filter(|e| e.row.status == s).count();
    format!(
        "{} rows: {} applicable, {} excluded, {} not addressed; {} passing, {} failing, {} nothing to check",
        rows.len(),
        rows.iter().filter(|e| e.row.applicable).count(),
        count(SoaStatus::Excluded),
        count(SoaStatus::NotAddressed),
        count(SoaStatus::Passing),
        count(SoaStatus::Failing),
        count(SoaStatus::NothingToCheck),
    )
}

/// Document control as label and value pairs, "not recorded" where empty.
pub fn document_control(statement: &Statement) -> Vec<(&'static str, String)> {
    let d = &statement.document;
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "not recorded".to_string());
    let mut out = vec![
        ("record", v(&d.record)),
        ("title", v(&d.title)),
        ("version", v(&d.version)),
        ("owner", v(&d.owner)),
        ("approver", v(&d.approver)),
        ("approval date", v(&d.approval_date)),
        ("as of", d.as_of.clone()),
    ];
    if let Some(note) = &d.note {
        out.push(("note", note.clone()));
    }
    out
}

/// The statement as GitHub-flavoured Markdown.
pub fn to_markdown(project: &str, framework: Framework, statement: &Statement) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Statement of Applicability: {} ({})\n\nAs of {}.\n",
        cell(project),
        framework.name(),
        statement.document.as_of
    );
    out.push_str("## Document control\n\n| field | value |\n|---|---|\n");
    for (label, value) in document_control(statement) {
        let _ = writeln!(out, "| {label} | {} |", cell(&value));
    }
    out.push_str("\n## Reading the statement\n\n");
    for (word, meaning) in LEGEND {
        let _ = writeln!(out, "- **{word}**: {}", meaning.replace('`', ""));
    }
    let tables = [("Controls", &statement.rows), ("The organisation's own controls", &statement.organisation_controls)];
    for (heading, entries) in tables {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n## {heading}\n\n| id | control | decision | justification | implementation | test result | note | evidence | checked by | waivers |\n\
             |---|---|---|---|---|---|---|---|---|---|"
        );
        for e in entries.iter() {
            let r = &e.row;
            let waivers: Vec<String> = e.waivers.iter().map(|w| w.to_string()).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&r.id),
                cell(&r.title),
                if r.applicable { "included" } else { "excluded" },
                cell(&r.justification),
                cell(&implementation(e)),
                r.status.as_str(),
                cell(r.note.as_deref().unwrap_or("")),
                cell(&evidence(e).join("; ")),
                cell(&r.implemented_by.join(", ")),
                cell(&waivers.join("; ")),
            );
        }
    }
    let _ = writeln!(out, "\n{}", totals(statement));
    out
}

/// Text made safe for HTML.
fn esc(text: &str) -> String {
    super::junit::xml_escape(text)
}

/// The statement as one self-contained HTML page.
pub fn to_html(project: &str, framework: Framework, statement: &Statement) -> String {
    let mut out = String::new();
    let title =
        format!("Statement of Applicability: {project} ({}) as of {}", framework.name(), statement.document.as_of);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        esc(&title),
        super::html::STYLE
    );
    let _ = writeln!(
        out,
        "<h1>Statement of Applicability: {}</h1>\n<p class=\"muted\">{}, as of <span id=\"as-of\">{}</span></p>",
        esc(project),
        framework.name(),
        esc(&statement.document.as_of)
    );
    out.push_str("<h2 id=\"document-control\">Document control</h2>\n<table id=\"document\">\n");
    for (label, value) in document_control(statement) {
        let _ = writeln!(out, "<tr><th>{label}</th><td>{}</td></tr>", esc(&value));
    }
    out.push_str("</table>\n<h2 id=\"legend\">Reading the statement</h2>\n<dl>\n");
    for (word, meaning) in LEGEND {
        let _ = writeln!(out, "<dt>{word}</dt><dd>{}</dd>", esc(&meaning.replace('`', "")));
    }
    out.push_str("</dl>\n");
    let tables = [
        ("controls", "Controls", &statement.rows),
        ("organisation-controls", "The organisation's own controls", &statement.organisation_controls),
    ];
    for (id, heading, entries) in tables {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h2 id=\"{id}\">{heading}</h2>\n<table id=\"{id}-table\"><thead><tr><th>id</th><th>control</th><th>decision</th>\
             <th>justification</th><th>implementation</th><th>test result</th><th>note</th><th>evidence</th>\
             <th>checked by</th><th>waivers</th></tr></thead><tbody>"
        );
        for e in entries.iter() {
            let r = &e.row;
            let list = |items: Vec<String>| -> String {
                if items.is_empty() {
                    return String::new();
                }
                let li: Vec<String> = items.iter().map(|i| format!("<li>{}</li>", esc(i))).collect();
                format!("<ul>{}</ul>", li.concat())
            };
            let status = r.status.as_str();
            let overdue = r.plan.as_ref().is_some_and(|p| p.overdue);
            let _ = writeln!(
                out,
                "<tr data-control=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td>\
                 <td class=\"status-{}\">{status}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.id),
                esc(&r.id),
                esc(&r.title),
                if r.applicable { "included" } else { "excluded" },
                esc(&r.justification),
                if overdue { " class=\"status-overdue\"" } else { "" },
                esc(&implementation(e)),
                status.replace(' ', "-"),
                esc(r.note.as_deref().unwrap_or("")),
                list(evidence(e)),
                esc(&r.implemented_by.join(", ")),
                list(e.waivers.iter().map(|w| w.to_string()).collect()),
            );
        }
        out.push_str("</tbody></table>\n");
    }
    let _ = writeln!(out, "<p id=\"totals\">{}</p>\n</body>\n</html>", esc(&totals(statement)));
    out
}
