//! Completion: what can be written at the cursor.
//!
//! The declaration being typed rarely parses, so the context is read off
//! the text before the cursor (the keyword or punctuation just before the
//! word being typed). Where a type matters (after a dot, where a value is
//! expected) the file is checked again with a placeholder name in place of
//! the word, and the source map `sema` records gives the type of the
//! expression before the dot, the variables in scope and the type a value
//! position expects. When even that does not parse, the binding of the variable
//! before the dot is looked up in the text, and failing that every field
//! is offered.

use std::collections::BTreeSet;

use crate::diag::FileId;
use crate::ir::Ty;
use crate::syntax::ast::Span;
use crate::syntax::{self, tokens::TokenKind, DECLARATION_KEYWORDS};

use super::types::Types;
use super::{SourceMap, World};

/// What a completion inserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompletionKind {
    /// A keyword.
    Keyword,
    /// A declaration template with placeholders.
    Snippet,
    /// A builtin or declared type.
    Type,
    /// An enum variant, a scale value or a matrix level.
    Variant,
    /// A field of a record or an entity.
    Field,
    /// A control, audit, risk or objective.
    Rule,
    /// A `fn` of the policy or a builtin, inserted with its parentheses.
    Function,
    /// A variable in scope.
    Variable,
    /// A requirement identifier.
    Requirement,
    /// A module to `use`.
    Module,
}

/// One thing that can be written at the cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The text shown in the list.
    pub label: String,
    /// What it completes (the editor picks its icon from it).
    pub kind: CompletionKind,
    /// A short detail shown beside the label (a type, a title, a signature).
    pub detail: Option<String>,
    /// Longer documentation, Markdown, when there is some.
    pub documentation: Option<String>,
    /// The text inserted in place of `replace`.
    pub insert: String,
    /// Whether `insert` is a snippet with `${1:placeholders}`.
    pub snippet: bool,
    /// The text the completion replaces (the word typed so far).
    pub replace: Span,
    /// Completions that fit the context best come first.
    pub preferred: bool,
}

/// Duration units, offered with the words of the language.
const DURATION_UNITS: &[&str] = &["days", "weeks", "months", "years"];

/// A name no policy uses, put where the word being typed is.
const PLACEHOLDER: &str = "__aims_completion__";

/// Completions at `offset` of a policy file.
pub fn complete(world: World, file: FileId, offset: u32) -> Vec<Completion> {
    let Some(text) = world.text(file) else { return Vec::new() };
    let mut offset = (offset as usize).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let cx = Context::new(world, file, text, offset);
    let mut out = cx.completions();
    out.sort_by(|a, b| b.preferred.cmp(&a.preferred).then_with(|| a.label.cmp(&b.label)));
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert((c.label.clone(), c.kind)));
    out
}

struct Context<'w> {
    world: World<'w>,
    types: Types<'w>,
    file: FileId,
    text: &'w str,
    offset: usize,
    /// Start of the word being typed.
    word_start: usize,
    /// Start of the declaration the cursor is in.
    chunk: (usize, usize),
    /// The significant tokens of the declaration before the word.
    before: Vec<String>,
}

impl<'w> Context<'w> {
    fn new(world: World<'w>, file: FileId, text: &'w str, offset: usize) -> Context<'w> {
        let word_start = text[..offset]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
            .last()
            .map_or(offset, |(i, _)| i);
        let chunk = syntax::declaration_ranges(text)
            .into_iter()
            .rev()
            .find(|(start, _)| *start <= word_start)
            .unwrap_or((0, text.len()));
        let head = &text[chunk.0..word_start];
        let before = syntax::tokens::tokens(head)
            .into_iter()
            .filter(|t| !matches!(t.kind, TokenKind::Comment | TokenKind::DocComment))
            .map(|t| t.text(head).to_string())
            .collect();
        Context { world, types: Types::new(world.program()), file, text, offset, word_start, chunk, before }
    }

    fn replace(&self) -> Span {
        Span::new(self.word_start, self.offset)
    }

    fn back(&self, n: usize) -> Option<&str> {
        self.before.len().checked_sub(n + 1).map(|i| self.before[i].as_str())
    }

    fn item(&self, label: &str, kind: CompletionKind, detail: Option<String>) -> Completion {
        Completion {
            label: label.to_string(),
            kind,
            detail,
            documentation: None,
            insert: label.to_string(),
            snippet: false,
            replace: self.replace(),
            preferred: false,
        }
    }

    fn completions(&self) -> Vec<Completion> {
        let line_start = self.text[..self.word_start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        if line_start == self.word_start {
            return self.declarations();
        }
        if let Some(out) = self.requirements() {
            return out;
        }
        match self.back(0) {
            Some(".") => return self.members(),
            Some("waives") => return self.rules(true),
            Some("expect") => {
                let mut out = self.rules(false);
                out.extend(["risk", "objective"].iter().map(|k| self.item(k, CompletionKind::Keyword, None)));
                return out;
            }
            Some("severity") => {
                return ["major", "minor", "observation"]
                    .iter()
                    .map(|s| self.item(s, CompletionKind::Keyword, Some("severity".into())))
                    .collect()
            }
            Some("use") => {
                return crate::stdlib::names()
                    .iter()
                    .map(|m| self.item(m, CompletionKind::Module, Some("standard library module".into())))
                    .collect()
            }
            Some(":") if matches!(self.back(2), Some("for" | "exists" | "all")) => return self.types(true),
            Some(":") if self.in_fields_or_params() => return self.types(false),
            _ => {}
        }
        if self.in_treated_by() {
            return self.rules(true);
        }
        self.expression()
    }

    /// At the start of a line: a new declaration.
    fn declarations(&self) -> Vec<Completion> {
        let mut out: Vec<Completion> =
            DECLARATION_KEYWORDS.iter().map(|k| self.item(k, CompletionKind::Keyword, None)).collect();
        for (label, detail, body) in self.snippets() {
            out.push(Completion {
                documentation: Some(body.replace("${", "").replace('}', "")),
                insert: body,
                snippet: true,
                preferred: true,
                ..self.item(label, CompletionKind::Snippet, Some(detail.into()))
            });
        }
        out
    }

    fn snippets(&self) -> Vec<(&'static str, &'static str, String)> {
        let program = self.types.program;
        let entity = program.entities.first().map_or("Entity", |e| e.decl.name.as_str());
        let requirement = program.requirements.iter().find(|r| r.id.starts_with("A.")).map_or("A.6.2.4", |r| &r.id);
        let control = format!(
            "control ${{1:name}} \"${{2:What it checks}}\"\n  implements ${{3:{requirement}}}\n  severity ${{4|major,minor,observation|}}\n  for ${{5:s}}: ${{6:{entity}}} where ${{7:true}}\n{{\n  require ${{8:condition}}\n    because \"${{9:why it matters}}\"\n}}"
        );
        let axes: Vec<String> = match program.matrices.first() {
            Some(m) => m
                .axes
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let scale = program.scales.get(s.index())?;
                    let first = scale.values.first().map_or("value", |(n, _)| n.as_str());
                    Some(format!("  {}: ${{{}:{first}}}", crate::sema::axis_name(&scale.decl.name), i + 5))
                })
                .collect(),
            None => vec!["  likelihood: ${5:possible}".into(), "  impact: ${6:moderate}".into()],
        };
        let next = axes.len() + 5;
        let risk = format!(
            "risk ${{1:name}} \"${{2:What could go wrong}}\"\n  for ${{3:s}}: ${{4:{entity}}}\n{{\n{}\n  treated by ${{{next}:control}}\n}}",
            axes.join("\n")
        );
        let objective = format!(
            "objective ${{1:name}} \"${{2:What is measured}}\"\n{{\n  measure ${{3:count(x for x: {entity})}}\n  target ${{4|>=,<=,>,<,==|}} ${{5:1}} by ${{6:2027-12-31}}\n}}"
        );
        vec![
            ("control", "a new control", control),
            ("risk", "a new risk", risk),
            ("objective", "a new objective", objective),
        ]
    }

    /// After `implements`, `clause`, `exclude`, `map .. to` or a requirement's `in`.
    fn requirements(&self) -> Option<Vec<Completion>> {
        // The identifier typed so far may hold `.` and `-`.
        let start = self.text[..self.offset]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            .last()
            .map_or(self.offset, |(i, _)| i);
        let head = &self.text[self.chunk.0..start];
        let mut words = head.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).rev();
        let keyword = words.find(|w| !is_requirement_id(w))?;
        let is_requirement_in = keyword == "in" && head.trim_start().starts_with("requirement");
        if !matches!(keyword, "implements" | "clause" | "exclude" | "to" | "map") && !is_requirement_in {
            return None;
        }
        let replace = Span::new(start, self.offset);
        Some(
            self.types
                .program
                .requirements
                .iter()
                .map(|r| Completion {
                    detail: Some(r.title.clone()),
                    documentation: r.docs.clone(),
                    replace,
                    ..self.item(&r.id, CompletionKind::Requirement, None)
                })
                .collect(),
        )
    }

    fn rules(&self, controls_only: bool) -> Vec<Completion> {
        let program = self.types.program;
        let mut out: Vec<Completion> =
            program.rules.iter().map(|r| self.item(&r.decl.name, CompletionKind::Rule, r.title.clone())).collect();
        if !controls_only {
            out.extend(program.risks.iter().map(|r| self.item(&r.decl.name, CompletionKind::Rule, r.title.clone())));
            out.extend(
                program.objectives.iter().map(|o| self.item(&o.decl.name, CompletionKind::Rule, o.title.clone())),
            );
        }
        out
    }

    fn types(&self, entities_only: bool) -> Vec<Completion> {
        let program = self.types.program;
        let mut out: Vec<Completion> = program
            .entities
            .iter()
            .map(|e| Completion {
                documentation: e.decl.docs.clone(),
                ..self.item(&e.decl.name, CompletionKind::Type, Some("entity".into()))
            })
            .collect();
        if entities_only {
            return out;
        }
        out.extend(
            crate::builtins::TYPES.iter().map(|t| self.item(t.name, CompletionKind::Type, Some("builtin".into()))),
        );
        let named = program
            .records
            .iter()
            .map(|r| (&r.decl, "record"))
            .chain(program.enums.iter().map(|e| (&e.decl, "enum")))
            .chain(program.scales.iter().map(|s| (&s.decl, "scale")))
            .chain(program.matrices.iter().map(|m| (&m.decl, "matrix")));
        out.extend(named.map(|(d, what)| Completion {
            documentation: d.docs.clone(),
            ..self.item(&d.name, CompletionKind::Type, Some(what.into()))
        }));
        out
    }

    /// Inside an `entity`, a `record` or a `fn`'s parameters: a type goes after `:`.
    fn in_fields_or_params(&self) -> bool {
        matches!(self.before.first().map(String::as_str), Some("entity" | "record"))
            || (self.before.first().map(String::as_str) == Some("fn") && !self.before.iter().any(|t| t == "="))
    }

    /// In `treated by a, b, ..`.
    fn in_treated_by(&self) -> bool {
        let mut i = self.before.len();
        while i > 0 {
            i -= 1;
            match self.before[i].as_str() {
                "," => continue,
                "by" => return i > 0 && self.before[i - 1] == "treated",
                word if word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    if i + 1 < self.before.len() && self.before[i + 1] != "," {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        false
    }

    /// The file's source map with the word replaced by a placeholder, when
    /// the declaration then parses.
    fn repaired(&self) -> Option<SourceMap> {
        let (start, end) = self.chunk;
        let end = end.max(self.offset);
        let word_end = self.text[self.offset..end]
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(end, |(i, _)| self.offset + i);
        let repaired = format!("{}{PLACEHOLDER}{}", &self.text[start..self.word_start], &self.text[word_end..end]);
        let parse = syntax::parse(&repaired);
        let at = (self.word_start - start) as u32;
        let covered = parse.file.items.iter().map(|i| i.absolute(i.span)).any(|s| s.start <= at && at <= s.end);
        if !covered {
            return None;
        }
        let source = self.world.file(self.file)?;
        // A rule being typed is checked on its own; anything else, with
        // the whole program.
        if let Some(map) =
            crate::db::rules_source_map(self.world.db, self.world.ws, source, start as u32, &repaired, &parse)
        {
            return Some(map);
        }
        let whole = format!("{}{PLACEHOLDER}{}", &self.text[..self.word_start], &self.text[word_end..]);
        let mut checked = crate::db::checked_with_text(self.world.db, self.world.ws, source, &whole);
        Some(checked.model.take_file(self.file).unwrap_or_default())
    }

    /// Where the placeholder starts in the repaired file.
    fn placeholder_at(&self) -> u32 {
        self.word_start as u32
    }

    /// After `x.`: the fields of `x`'s type, or the variants of a type.
    fn members(&self) -> Vec<Completion> {
        let base = match self.repaired() {
            Some(index) => index.member_at(self.placeholder_at()).and_then(|m| m.base.clone()),
            None => self.chain_type(),
        };
        match base {
            Some(ty) if !self.types.variant_names(&ty).is_empty() => self.variants_of(&ty, true),
            Some(ty) if self.types.structure(&ty).is_some() => self.fields_of(&ty),
            Some(Ty::List(_)) | Some(Ty::Opt(_)) => self.all_fields(),
            _ => self.all_fields(),
        }
    }

    fn fields_of(&self, ty: &Ty) -> Vec<Completion> {
        let Some(def) = self.types.structure(ty) else { return Vec::new() };
        def.fields
            .iter()
            .map(|f| Completion {
                documentation: f.docs.clone(),
                preferred: true,
                ..self.item(
                    &f.name,
                    CompletionKind::Field,
                    Some(format!("{}: {}", def.decl.name, self.types.name(&f.ty))),
                )
            })
            .collect()
    }

    fn all_fields(&self) -> Vec<Completion> {
        let program = self.types.program;
        let mut out = Vec::new();
        for def in program.entities.iter().chain(&program.records) {
            for f in &def.fields {
                out.push(Completion {
                    documentation: f.docs.clone(),
                    ..self.item(
                        &f.name,
                        CompletionKind::Field,
                        Some(format!("{}.{}: {}", def.decl.name, f.name, self.types.name(&f.ty))),
                    )
                });
            }
        }
        out
    }

    fn variants_of(&self, ty: &Ty, preferred: bool) -> Vec<Completion> {
        let owner = self.types.owner_name(ty).unwrap_or("?");
        self.types
            .variant_names(ty)
            .into_iter()
            .map(|v| Completion { preferred, ..self.item(v, CompletionKind::Variant, Some(owner.to_string())) })
            .collect()
    }

    /// The type of `a.b.c` before the dot, from the variable's binding in
    /// the text (when the declaration does not parse even repaired).
    fn chain_type(&self) -> Option<Ty> {
        let mut chain: Vec<&str> = Vec::new();
        let mut i = self.before.len().checked_sub(1)?;
        loop {
            if self.before[i] != "." || i == 0 {
                break;
            }
            let word = self.before[i - 1].as_str();
            if !super::is_identifier(word) {
                break;
            }
            chain.push(word);
            if i < 2 {
                break;
            }
            i -= 2;
        }
        chain.reverse();
        let (first, rest) = chain.split_first()?;
        let mut ty = match self.types.named(first) {
            Some(t) if !self.types.variant_names(t).is_empty() => return Some(t.clone()),
            _ => self.binding_type(first)?,
        };
        for field in rest {
            ty = self.types.field(&ty, field)?.1.ty.clone();
        }
        Some(ty)
    }

    /// The type of a variable from `name: Type` or `name in a.b` in the declaration.
    fn binding_type(&self, name: &str) -> Option<Ty> {
        let tokens = &self.before;
        let at = tokens
            .iter()
            .enumerate()
            .rev()
            .find(|(i, t)| *t == name && matches!(tokens.get(i + 1).map(String::as_str), Some(":" | "in" | "=")))?;
        let i = at.0;
        match tokens.get(i + 1).map(String::as_str) {
            Some(":") => {
                let written = tokens.get(i + 2)?;
                if written == "[" {
                    return None;
                }
                crate::builtins::builtin_type(written)
                    .map(|t| t.ty.clone())
                    .or_else(|| self.types.named(written).cloned())
            }
            _ => {
                // `name in a.b.c` or `let name = a.b.c`: follow the path.
                let mut j = i + 2;
                let mut ty = self.binding_type(tokens.get(j)?)?;
                while tokens.get(j + 1).map(String::as_str) == Some(".") {
                    ty = self.types.field(&ty, tokens.get(j + 2)?)?.1.ty.clone();
                    j += 2;
                }
                let ty = ty.definite().clone();
                Some(match ty {
                    Ty::List(el) if tokens.get(i + 1).map(String::as_str) == Some("in") => *el,
                    other => other,
                })
            }
        }
    }

    /// Where an expression or a clause goes.
    fn expression(&self) -> Vec<Completion> {
        let mut out: Vec<Completion> = syntax::CLAUSE_KEYWORDS
            .iter()
            .chain(DURATION_UNITS)
            .map(|k| self.item(k, CompletionKind::Keyword, None))
            .collect();
        let repaired = self.repaired();
        let at = self.placeholder_at();
        // Variables in scope.
        let mut variables: BTreeSet<(String, String)> = BTreeSet::new();
        if let Some(index) = &repaired {
            for local in index.locals_at(at) {
                let ty = local.ty.as_ref().map_or_else(|| "?".to_string(), |t| self.types.name(t));
                variables.insert((local.name.clone(), ty));
            }
        } else {
            for (i, t) in self.before.iter().enumerate() {
                let next = self.before.get(i + 1).map(String::as_str);
                let prev = i.checked_sub(1).map(|p| self.before[p].as_str());
                let binds = matches!(prev, Some("for" | "exists" | "all" | "let" | "(" | ","))
                    && matches!(next, Some(":" | "in" | "="));
                if binds && super::is_identifier(t) && t != PLACEHOLDER {
                    let ty = self.binding_type(t).map_or_else(|| "?".to_string(), |ty| self.types.name(&ty));
                    variables.insert((t.clone(), ty));
                }
            }
        }
        for (name, ty) in variables {
            out.push(Completion { preferred: true, ..self.item(&name, CompletionKind::Variable, Some(ty)) });
        }
        // Values of the type expected here first, then every value.
        let expected =
            repaired.as_ref().and_then(|index| index.name_at(at)).and_then(|n| n.expected.clone()).map(|t| {
                match t.definite() {
                    Ty::List(el) => el.definite().clone(),
                    other => other.clone(),
                }
            });
        if let Some(ty) = &expected {
            out.extend(self.variants_of(ty, true));
        }
        let program = self.types.program;
        let owners = program
            .enums
            .iter()
            .map(|e| (&e.decl.name, e.variants.iter().collect::<Vec<_>>()))
            .chain(program.scales.iter().map(|s| (&s.decl.name, s.values.iter().map(|(n, _)| n).collect())))
            .chain(program.matrices.iter().map(|m| (&m.decl.name, m.levels.iter().map(|l| &l.name).collect())));
        for (owner, names) in owners {
            for name in names {
                let label =
                    if self.types.with_variant(name).len() > 1 { format!("{owner}.{name}") } else { name.clone() };
                out.push(self.item(&label, CompletionKind::Variant, Some(owner.clone())));
            }
        }
        // Measures of the organisation are values read by their names.
        for m in &program.measures {
            if let crate::ir::MeasureTarget::Organisation { ty } = &m.target {
                out.push(Completion {
                    documentation: m.decl.docs.clone(),
                    ..self.item(
                        &m.decl.name,
                        CompletionKind::Variable,
                        Some(format!("measure: {}", self.types.name(ty))),
                    )
                });
            }
        }
        for f in &program.fns {
            let params: Vec<String> = f.params.iter().map(|(n, t)| format!("{n}: {}", self.types.name(t))).collect();
            let detail = format!("fn({}) -> {}", params.join(", "), self.types.name(&f.ret));
            out.push(Completion {
                documentation: f.decl.docs.clone(),
                insert: format!("{}($1)", f.decl.name),
                snippet: true,
                ..self.item(&f.decl.name, CompletionKind::Function, Some(detail))
            });
        }
        for b in crate::builtins::BUILTINS {
            out.push(Completion {
                documentation: Some(b.doc.to_string()),
                insert: format!("{}($1)", b.name),
                snippet: true,
                ..self.item(b.name, CompletionKind::Function, Some(b.signature().replace('\n', " or ")))
            });
        }
        for (decl, what) in program
            .enums
            .iter()
            .map(|e| (&e.decl, "enum"))
            .chain(program.scales.iter().map(|s| (&s.decl, "scale")))
            .chain(program.matrices.iter().map(|m| (&m.decl, "matrix")))
            .chain(program.entities.iter().map(|e| (&e.decl, "entity")))
        {
            out.push(Completion {
                documentation: decl.docs.clone(),
                ..self.item(&decl.name, CompletionKind::Type, Some(what.into()))
            });
        }
        out
    }
}

/// Whether a word is (a prefix of) a requirement identifier.
fn is_requirement_id(word: &str) -> bool {
    word.starts_with('"')
        || word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            && word.chars().any(|c| c.is_ascii_digit() || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::engine;

    const SCHEMA: &str = "use iso42001\nenum Status { planned, deployed }\nenum Tier { low, high }\nscale Impact { minor: 1, high: 2 }\n\
entity Person { id: Text key, name: Text }\nrecord Evidence { approved: Bool }\n\
entity System { id: Text key, status: Status, tier: Tier, owner: Person?, evidence: [Evidence] }\n\
fn live(s: System) = s.status == deployed\ncontrol ok for s: System { require true }\n";

    /// Completions with the cursor at `|` in `text`, appended as a second file.
    fn at(text: &str) -> Vec<Completion> {
        let cursor = text.find('|').expect("a cursor");
        let source = text.replacen('|', "", 1);
        let (engine, ids) = engine(&[("schema.aims", SCHEMA), ("edit.aims", &source)]);
        complete(World::new(engine.db(), engine.workspace()), ids[1], cursor as u32)
    }

    fn labels(found: &[Completion]) -> Vec<&str> {
        found.iter().map(|c| c.label.as_str()).collect()
    }

    #[test]
    fn fields_after_a_dot_follow_the_type_before_it() {
        let found = at("control c for s: System {\n  require s.|\n}\n");
        assert_eq!(labels(&found), vec!["evidence", "id", "owner", "status", "tier"], "the fields of System only");
        let found = at("control c for s: System {\n  require s.owner.n|\n");
        assert!(labels(&found).contains(&"name") && !labels(&found).contains(&"status"), "{:?}", labels(&found));
        assert_eq!(found[0].replace.end - found[0].replace.start, 1, "the typed `n` is replaced");
        let found = at("control c for s: System {\n  require all e in s.evidence: e.|\n");
        assert_eq!(labels(&found), vec!["approved"]);
    }

    #[test]
    fn without_a_known_type_every_field_is_offered() {
        let found = at("control c {\n  require nobody.|\n}\n");
        assert!(labels(&found).contains(&"approved") && labels(&found).contains(&"status"), "{:?}", labels(&found));
    }

    #[test]
    fn variants_follow_a_type_name_and_the_expected_type() {
        assert_eq!(labels(&at("control c for s: System { require s.tier == Tier.| }\n")), vec!["high", "low"]);
        let found = at("control c for s: System {\n  require s.status == |\n}\n");
        let first: Vec<&str> = found.iter().take_while(|c| c.preferred).map(|c| c.label.as_str()).collect();
        assert!(first.contains(&"deployed") && first.contains(&"planned") && first.contains(&"s"), "{first:?}");
        assert!(labels(&found).contains(&"Impact.high"), "an ambiguous value is offered qualified");
    }

    #[test]
    fn a_measure_of_the_organisation_is_offered_with_its_type() {
        let found =
            at("measure approvals = count() over d: Evidence where d.approved\ncontrol c {\n  require app|\n}\n");
        let measure = found.iter().find(|c| c.label == "approvals").expect("offered");
        assert_eq!(measure.detail.as_deref(), Some("measure: Int?"));
    }

    #[test]
    fn requirement_ids_follow_implements() {
        let found = at("control c\n  implements A.6.|\n");
        assert!(labels(&found).contains(&"A.6.2.4"), "{:?}", &labels(&found)[..5.min(found.len())]);
        assert!(found.iter().all(|c| c.kind == CompletionKind::Requirement));
        let found = at("control c\n  implements A.6.2.4, |\n");
        assert!(found.iter().any(|c| c.label == "A.5.2" && c.detail.is_some()));
    }

    #[test]
    fn a_line_start_offers_declarations_and_snippets() {
        let found = at("|");
        let snippets: Vec<&str> = found.iter().filter(|c| c.snippet).map(|c| c.label.as_str()).collect();
        assert_eq!(snippets, vec!["control", "objective", "risk"]);
        let control = found.iter().find(|c| c.snippet && c.label == "control").expect("a control snippet");
        assert!(control.insert.contains("for ${5:s}: ${6:Person}"), "{}", control.insert);
        assert!(labels(&found).contains(&"entity"));
    }

    #[test]
    fn clauses_offer_what_they_name() {
        assert!(labels(&at("exception e waives |")).contains(&"ok"));
        assert_eq!(labels(&at("control c severity |")), vec!["major", "minor", "observation"]);
        assert!(labels(&at("control c for s: |")).contains(&"System"));
        assert!(labels(&at("entity E { id: |")).contains(&"Text"));
        assert!(labels(&at("use |")).contains(&"iso42001"));
    }

    #[test]
    fn expressions_offer_variables_functions_and_keywords() {
        let found = at("control c for s: System where |");
        for wanted in ["s", "live", "len", "exists", "deployed"] {
            assert!(labels(&found).contains(&wanted), "{wanted} in {:?}", labels(&found));
        }
        let live = found.iter().find(|c| c.label == "live").expect("live");
        assert_eq!(live.detail.as_deref(), Some("fn(s: System) -> Bool"));
    }
}
