//! Hover: what the name under the cursor is, as Markdown.
//!
//! A type shows its declaration, a field its declared type, a variable its
//! type, a requirement its title, a rule its header; every declaration
//! shows its doc comment.

use std::fmt::Write as _;

use crate::diag::FileId;
use crate::ir::{MeasureTarget, Program, RuleKind, Ty};
use crate::syntax::ast::{ItemKind, Span};

use super::types::Types;
use super::{LocalKind, Symbol, World};
use crate::syntax::tokens::TokenKind;

/// The answer to a hover.
#[derive(Clone, Debug, PartialEq)]
pub struct Hover {
    /// The span of the name hovered.
    pub span: Span,
    /// What the name refers to (`None` for a builtin).
    pub symbol: Option<Symbol>,
    /// Markdown: a code block with the declaration, then the docs.
    pub markdown: String,
}

/// What the name at `offset` is.
pub fn hover(world: World, file: FileId, offset: u32) -> Option<Hover> {
    match world.reference_at(file, offset) {
        Some(reference) => declared(world, reference),
        None => builtin(world.text(file)?, offset),
    }
}

/// A builtin function, type or `today` at `offset` (not in a comment or a text).
fn builtin(text: &str, offset: u32) -> Option<Hover> {
    let (start, end) = crate::syntax::declaration_ranges(text).into_iter().rev().find(|(s, _)| *s as u32 <= offset)?;
    let chunk = &text[start..end];
    let relative = offset.checked_sub(start as u32)?;
    let token = crate::syntax::tokens::tokens(chunk)
        .into_iter()
        .find(|t| t.span.start <= relative && relative <= t.span.end)
        .filter(|t| matches!(t.kind, TokenKind::Ident | TokenKind::Keyword))?;
    let word = token.text(chunk);
    let markdown = if let Some(b) = crate::builtins::lookup(word) {
        format!(
            "{}

{} (builtin)",
            code(&b.signature()),
            b.doc
        )
    } else if let Some(t) = crate::builtins::builtin_type(word) {
        format!(
            "{}

{} (builtin type)",
            code(word),
            t.doc
        )
    } else if word == "today" {
        format!(
            "{}

the evaluation date `as_of`, never the clock",
            code("today: Date")
        )
    } else {
        return None;
    };
    Some(Hover { span: token.span.shifted(start as u32), symbol: None, markdown })
}

fn declared(world: World, reference: &super::Reference) -> Option<Hover> {
    let program = world.program();
    let types = Types::new(program);
    let markdown = match &reference.symbol {
        Symbol::Type(name) => type_text(&types, name)?,
        Symbol::Variant { owner, name } => variant_text(world, &types, owner, name)?,
        Symbol::Field { owner, name } => field_text(&types, owner, name)?,
        Symbol::Rule(name) => rule_text(program, name)?,
        Symbol::Function(name) => function_text(program, name)?,
        Symbol::Exception(name) => exception_text(program, name)?,
        Symbol::Measure(name) => measure_text(program, name)?,
        Symbol::Requirement(id) => requirement_text(program, id),
        Symbol::Local { file, at, name } => {
            let local = world.index(*file)?.local(*at)?;
            let ty = local.ty.as_ref().map_or_else(|| "?".to_string(), |t| types.name(t));
            let how = match local.kind {
                LocalKind::Subject => "bound by the rule's `for`",
                LocalKind::Binder => "bound by a quantifier or aggregate",
                LocalKind::Let => "a `let`",
                LocalKind::Parameter => "a parameter",
            };
            format!("{}\n\n{how}", code(&format!("{name}: {ty}")))
        }
    };
    Some(Hover { span: reference.span, symbol: Some(reference.symbol.clone()), markdown })
}

fn code(text: &str) -> String {
    format!("```aims\n{text}\n```")
}

fn with_docs(mut text: String, docs: Option<&String>) -> String {
    if let Some(docs) = docs {
        let _ = write!(text, "\n\n{docs}");
    }
    text
}

fn type_text(types: &Types, name: &str) -> Option<String> {
    let program = types.program;
    let ty = types.named(name)?;
    let (header, docs) = match ty {
        Ty::Enum(id) => {
            let e = program.enums.get(id.index())?;
            (format!("enum {name} {{ {} }}", e.variants.join(", ")), e.decl.docs.as_ref())
        }
        Ty::Scale(id) => {
            let s = program.scales.get(id.index())?;
            let values: Vec<String> = s.values.iter().map(|(n, v)| format!("{n}: {v}")).collect();
            (format!("scale {name} {{ {} }}", values.join(", ")), s.decl.docs.as_ref())
        }
        Ty::Level(id) => {
            let m = program.matrices.get(id.index())?;
            let axes: Vec<String> = m.axes.iter().map(|s| types.name(&Ty::Scale(*s))).collect();
            let levels: Vec<String> = m.levels.iter().map(|l| format!("{}: {}..{}", l.name, l.low, l.high)).collect();
            let mut text = format!("matrix {name} = {} {{ {} }}", axes.join(" * "), levels.join(", "));
            if let Some(level) = m.appetite.and_then(|a| m.levels.get(a as usize)) {
                let _ = write!(text, "\nappetite {name}.{}", level.name);
            }
            (text, m.decl.docs.as_ref())
        }
        Ty::Record(_) | Ty::Entity(_) => {
            let def = types.structure(ty)?;
            let keyword = if matches!(ty, Ty::Entity(_)) { "entity" } else { "record" };
            let mut text = format!("{keyword} {name} {{\n");
            for (i, f) in def.fields.iter().enumerate() {
                let _ = write!(text, "  {}: {}", f.name, types.name(&f.ty));
                if def.key == Some(i as u32) {
                    text.push_str(" key");
                }
                if let Some(default) = &f.default {
                    let _ = write!(text, " = {}", program.display(default));
                }
                text.push('\n');
            }
            text.push('}');
            (text, def.decl.docs.as_ref())
        }
        _ => return None,
    };
    Some(with_docs(code(&header), docs))
}

fn variant_text(world: World, types: &Types, owner: &str, name: &str) -> Option<String> {
    let program = types.program;
    let ty = types.named(owner)?;
    let detail = match ty {
        Ty::Enum(id) => {
            let e = program.enums.get(id.index())?;
            let at = e.variants.iter().position(|v| v == name)?;
            format!("variant {} of {} of the enum `{owner}`", at + 1, e.variants.len())
        }
        Ty::Scale(id) => {
            let (_, value) = program.scales.get(id.index())?.values.iter().find(|(n, _)| n == name)?;
            format!("value {value} of the scale `{owner}`")
        }
        Ty::Level(id) => {
            let level = program.matrices.get(id.index())?.levels.iter().find(|l| l.name == name)?;
            format!("level of the matrix `{owner}`: scores {} to {}", level.low, level.high)
        }
        _ => return None,
    };
    let text = format!("{}\n\n{detail}", code(&format!("{owner}.{name}")));
    Some(with_docs(text, variant_docs(world, owner, name).as_ref()))
}

/// The doc comment of an enum variant (the program keeps only the names).
fn variant_docs(world: World, owner: &str, name: &str) -> Option<String> {
    world.policy_files().find_map(|f| {
        crate::db::parse_file(world.db, f).file.items.iter().find_map(|item| match &item.kind {
            ItemKind::Enum(e) if e.name.name == owner => {
                e.variants.iter().find(|v| v.name.name == name).and_then(|v| v.docs.clone())
            }
            _ => None,
        })
    })
}

fn field_text(types: &Types, owner: &str, name: &str) -> Option<String> {
    let (def, field) = types.field(types.named(owner)?, name)?;
    let mut text = format!("{owner}.{name}: {}", types.name(&field.ty));
    if def.key.and_then(|k| def.fields.get(k as usize)).is_some_and(|k| k.name == name) {
        text.push_str(" key");
    }
    if let Some(default) = &field.default {
        let _ = write!(text, " = {}", types.program.display(default));
    }
    Some(with_docs(code(&text), field.docs.as_ref()))
}

fn rule_text(program: &Program, name: &str) -> Option<String> {
    let types = Types::new(program);
    if let Some(rule) = program.rules.iter().find(|r| r.decl.name == name) {
        let keyword = match rule.kind {
            RuleKind::Control => "control",
            RuleKind::Audit => "audit",
        };
        let mut header = format!("{keyword} {name}");
        if let Some(title) = &rule.title {
            let _ = write!(header, " {title:?}");
        }
        let mut lines = vec![format!("severity {}", rule.severity.as_str())];
        if let Some(subject) = &rule.subject {
            lines.push(format!("for {}: {}", subject.var, types.name(&Ty::Entity(subject.entity))));
        }
        if let Some(owner) = &rule.owner {
            lines.push(format!("owner {owner:?}"));
        }
        let mut text = code(&format!("{header}\n  {}", lines.join("\n  ")));
        for id in rule.implements.iter().chain(&rule.clauses) {
            let title = program.requirement(id).map_or(String::new(), |r| format!(": {}", r.title));
            let _ = write!(text, "\n- implements `{id}`{title}");
        }
        return Some(with_docs(text, rule.decl.docs.as_ref()));
    }
    if let Some(risk) = program.risks.iter().find(|r| r.decl.name == name) {
        let mut header = format!("risk {name}");
        if let Some(title) = &risk.title {
            let _ = write!(header, " {title:?}");
        }
        let mut text = code(&header);
        let treated: Vec<&str> =
            risk.treated_by.iter().filter_map(|r| program.rules.get(r.index()).map(|r| r.decl.name.as_str())).collect();
        if !treated.is_empty() {
            let _ = write!(text, "\n\ntreated by {}", treated.join(", "));
        }
        return Some(with_docs(text, risk.decl.docs.as_ref()));
    }
    let objective = program.objectives.iter().find(|o| o.decl.name == name)?;
    let mut header = format!("objective {name}");
    if let Some(title) = &objective.title {
        let _ = write!(header, " {title:?}");
    }
    let (op, value, by) = &objective.target;
    let text = format!("{}\n\ntarget {} {} by {by}", code(&header), op.as_str(), crate::num::format(*value));
    Some(with_docs(text, objective.decl.docs.as_ref()))
}

fn function_text(program: &Program, name: &str) -> Option<String> {
    let f = program.fns.iter().find(|f| f.decl.name == name)?;
    let params: Vec<String> = f.params.iter().map(|(n, t)| format!("{n}: {}", program.ty_name(t))).collect();
    let text = format!("fn {name}({}) -> {}", params.join(", "), program.ty_name(&f.ret));
    Some(with_docs(code(&text), f.decl.docs.as_ref()))
}

fn measure_text(program: &Program, name: &str) -> Option<String> {
    let m = program.measures.iter().find(|m| m.decl.name == name)?;
    let ty = match &m.target {
        MeasureTarget::Organisation { ty } => program.ty_name(ty),
        MeasureTarget::Field { entity, field } => program.ty_name(&program.entity(*entity).fields[*field as usize].ty),
    };
    let mut text = format!("measure {name}: {ty}");
    if let Some(plan) = &m.plan {
        let _ = write!(text, "\n  = {}", plan.metric_text());
        let _ = write!(text, "\n  over {}", plan.record);
    }
    Some(with_docs(code(&text), m.decl.docs.as_ref()))
}

fn exception_text(program: &Program, name: &str) -> Option<String> {
    let e = program.exceptions.iter().find(|e| e.decl.name == name)?;
    let rule = program.rules.get(e.rule.index()).map_or("?", |r| r.decl.name.as_str());
    let mut text = format!("exception {name}\n  waives {rule}");
    if let Some((entity, key, _)) = &e.target {
        let _ = write!(text, " for {} {key:?}", program.ty_name(&Ty::Entity(*entity)));
    }
    let _ = write!(text, "\n  until {}", e.until);
    if let Some(by) = &e.approved_by {
        let _ = write!(text, "\n  approved by {by:?}");
    }
    let mut text = code(&text);
    if let Some(because) = &e.because {
        let _ = write!(text, "\n\nbecause {because}");
    }
    Some(with_docs(text, e.decl.docs.as_ref()))
}

fn requirement_text(program: &Program, id: &str) -> String {
    let Some(r) = program.requirement(id) else {
        return format!("{}\n\nnot declared: `use iso42001` declares the ISO/IEC 42001 requirements", code(id));
    };
    let mut text = format!("{}\n\n**{}**", code(id), r.title);
    if let Some(parent) = r.parent.as_deref().and_then(|p| program.requirement(p)) {
        let _ = write!(text, "\n\nunder `{}`: {}", parent.id, parent.title);
    }
    let implementing: Vec<&str> = program
        .rules
        .iter()
        .filter(|rule| rule.implements.iter().any(|i| i == id))
        .map(|rule| rule.decl.name.as_str())
        .collect();
    if !implementing.is_empty() {
        let _ = write!(text, "\n\nimplemented by {}", implementing.join(", "));
    }
    if let Some(x) = program.excludes.iter().find(|x| x.requirement == id) {
        let _ = write!(text, "\n\nexcluded because {}", x.because);
    }
    with_docs(text, r.docs.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::{engine, offset};

    const POLICY: &str = "use iso42001\n\
/// Where a system is in its life.\n\
enum Status {\n  planned\n  /// In production.\n  deployed\n}\n\
entity System {\n  id: Text key\n  /// Since when.\n  since: Date?\n  status: Status = planned\n}\n\
/// Every live system is dated.\n\
control dated \"Dated\" implements A.6.2.4 severity major for s: System where s.status == deployed {\n  require s.since is some\n}\n";

    fn hover_at(needle: &str, nth: usize, within: usize) -> String {
        let (engine, ids) = engine(&[("p.aims", POLICY)]);
        let world = World::new(engine.db(), engine.workspace());
        hover(world, ids[0], offset(POLICY, needle, nth, within)).map(|h| h.markdown).unwrap_or_default()
    }

    #[test]
    fn a_field_shows_its_declared_type_and_docs() {
        let text = hover_at("since is", 0, 1);
        assert!(text.contains("System.since: Date?"), "{text}");
        assert!(text.contains("Since when."), "{text}");
    }

    #[test]
    fn builtins_show_their_docs_but_not_in_comments() {
        let text =
            "entity S { id: Text key, d: Date? }\ncontrol c for s: S { require days_since(s.d ?? today) < 3 } // len\n";
        let (engine, ids) = engine(&[("p.aims", text)]);
        let world = World::new(engine.db(), engine.workspace());
        let at =
            |needle: &str| hover(world, ids[0], offset(text, needle, 0, 1)).map(|h| h.markdown).unwrap_or_default();
        assert!(at("days_since").contains("days from the date to the evaluation date"));
        assert!(at("Text").contains("builtin type"));
        assert!(at("today").contains("never the clock"));
        assert_eq!(at("len"), "", "a word in a comment is not a builtin");
    }

    #[test]
    fn a_measure_of_the_organisation_shows_its_type_metric_and_docs() {
        let text = "record Decision { at: Date, approved: Bool }\n\
                    /// Approvals, last week.\n\
                    measure approvals = count() over d: Decision where d.approved and d.at within 7 days\n\
                    control c { require approvals > 3 }\n";
        let (engine, ids) = engine(&[("p.aims", text)]);
        let world = World::new(engine.db(), engine.workspace());
        let shown = hover(world, ids[0], offset(text, "approvals > 3", 0, 1)).map(|h| h.markdown).unwrap_or_default();
        assert!(shown.contains("measure approvals: Int?"), "{shown}");
        assert!(shown.contains("= count()") && shown.contains("over Decision"), "{shown}");
        assert!(shown.contains("Approvals, last week."), "{shown}");
    }

    #[test]
    fn a_variable_shows_its_type() {
        assert!(hover_at("s.since", 0, 0).contains("s: System"));
    }

    #[test]
    fn a_requirement_shows_its_title_and_implementations() {
        let text = hover_at("A.6.2.4", 0, 3);
        assert!(text.contains("**"), "a title: {text}");
        assert!(text.contains("implemented by dated"), "{text}");
    }

    #[test]
    fn a_type_a_variant_and_a_rule_show_their_declarations_and_docs() {
        let ty = hover_at("Status {", 0, 1);
        assert!(ty.contains("enum Status { planned, deployed }") && ty.contains("Where a system"), "{ty}");
        let variant = hover_at("deployed {", 0, 1);
        assert!(variant.contains("Status.deployed") && variant.contains("In production."), "{variant}");
        let rule = hover_at("dated \"", 0, 1);
        assert!(rule.contains("control dated \"Dated\"") && rule.contains("severity major"), "{rule}");
        assert!(rule.contains("Every live system is dated."), "{rule}");
        let entity = hover_at("System {", 0, 1);
        assert!(entity.contains("status: Status = planned"), "{entity}");
    }
}
