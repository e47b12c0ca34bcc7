//! Comparisons that cannot match (W0004): a text literal compared with a
//! field that holds no such value anywhere in the loaded facts
//! (`u.impact == "Rights-Impacting"` when every cell says
//! `Rights-Impacting\n` or `rights-impacting`). Nothing is wrong with such
//! a policy as written, which is why it ran silently and gave the wrong
//! answer; the warning names the nearest values that do occur.
//!
//! The comparisons looked at are `==`, `!=` and `in` between a field read
//! from a variable (`u.impact`, `u.owner.team`, `m.kind` for `m` in a list
//! of records) and text literals, in rules (`where`, `let`, `require`) and
//! functions. The values of the field are those of every fact of its
//! entity, when the project is loaded.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::FactStore;
use crate::diag::{Code, Diagnostic, FileSpan, Quote, Sources};
use crate::ir::{Builtin, EntityId, Ex, Program, Source, Step, Ty, Value};
use crate::syntax::ast::CmpOp;
use crate::syntax::ast::Span;

/// How many of the values that occur a warning lists.
const SHOWN: usize = 5;

/// Where a field's values are: an entity, then the field indices through
/// its records (a list of records is looked into).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct FieldPath {
    entity: EntityId,
    fields: Vec<u32>,
}

/// A text literal compared with a field, and where it is written.
struct Compared {
    field: FieldPath,
    /// The text functions applied to the field before the comparison,
    /// innermost first (`lower(trim(u.impact))`: trim, lower).
    folds: Vec<Builtin>,
    /// `u.impact` as written.
    path: Arc<str>,
    literal: Arc<str>,
    /// The declaration (or `require`) the comparison is in: the literal is
    /// looked for in it.
    within: FileSpan,
}

/// The warnings of every comparison of a field with a text literal that no
/// fact holds (at most one per field and literal).
pub fn unmatched_literals(program: &Program, sources: &Sources, store: &FactStore) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for rule in &program.rules {
        let mut types: HashMap<u32, Ty> = HashMap::new();
        let mut walk =
            Walk { program, types: &mut types, paths: HashMap::new(), out: &mut found, within: rule.decl.span };
        if let Some(subject) = &rule.subject {
            walk.types.insert(0, Ty::Entity(subject.entity));
            if let Some(filter) = &subject.filter {
                walk.ex(filter);
            }
        }
        for step in rule.steps.iter() {
            match step {
                Step::Let { slot, value } => {
                    walk.within = rule.decl.span;
                    walk.ex(value);
                    if let Some(ty) = walk.ty(value) {
                        walk.types.insert(*slot, ty);
                    }
                }
                Step::Require(r) => {
                    walk.within = r.span;
                    walk.ex(&r.cond);
                }
            }
        }
    }
    for f in &program.fns {
        let mut types: HashMap<u32, Ty> =
            f.params.iter().enumerate().map(|(i, (_, t))| (i as u32, t.clone())).collect();
        Walk { program, types: &mut types, paths: HashMap::new(), out: &mut found, within: f.decl.span }.ex(&f.body);
    }
    // The values of each field compared, counted once, and only for a
    // warning: whether a fact holds the literal is found first, stopping
    // at the first that does (counting 100,000 facts' owners into a map
    // to find an `owner != ""` matched was a tenth of loading them).
    let mut values: HashMap<(FieldPath, Vec<Builtin>), BTreeMap<Arc<str>, u64>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut diags = Vec::new();
    for c in &found {
        let field = (c.field.clone(), c.folds.clone());
        if seen.contains(&(field.clone(), c.literal.clone())) {
            continue;
        }
        let held = match values.get(&field) {
            Some(counts) => counts.contains_key(&c.literal),
            None => !each_value(store, c, &mut |v| *v != c.literal),
        };
        if held {
            continue;
        }
        let counts = values.entry(field.clone()).or_insert_with(|| {
            let mut counts = BTreeMap::new();
            each_value(store, c, &mut |v| {
                *counts.entry(v.clone()).or_insert(0) += 1;
                true
            });
            counts
        });
        if counts.is_empty() {
            continue;
        }
        seen.insert((field, c.literal.clone()));
        let entity = &program.entity(c.field.entity).decl.name;
        let span = literal_span(sources, c.within, &c.literal);
        let mut common: Vec<(&Arc<str>, &u64)> = counts.iter().collect();
        common.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = common
            .iter()
            .take(SHOWN)
            .map(|(v, n)| format!("{} ({})", show(v), super::convert::thousands(**n)))
            .collect();
        let more = counts.len().saturating_sub(SHOWN);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        let d = Diagnostic::warning(
            Code::UnmatchedLiteral,
            format!("no `{entity}` in the facts has `{}` = {}: this comparison never matches", c.path, show(&c.literal)),
        )
        .at_file(c.within.file, span, "no fact holds this value")
        .note(format!("the values of `{}`: {}{more}", c.path, shown.join(", ")))
        .suggest_or(
            &c.literal,
            counts.keys().map(|k| &**k),
            Quote::Literal,
            "compare with a value the facts hold, or read the file's phrases as values with `values` in aims.toml (docs/facts.md)",
        );
        diags.push(d);
    }
    diags
}

/// Each value of the field `c` compares, through its text functions,
/// in the facts' order, while `go_on` says so; false when it stopped.
fn each_value(store: &FactStore, c: &Compared, go_on: &mut dyn FnMut(&Arc<str>) -> bool) -> bool {
    let mut going = true;
    for row in &store.table(c.field.entity).rows {
        if let Some(v) = row.values.get(c.field.fields[0] as usize) {
            texts(v, &c.field.fields[1..], &mut |t| {
                if going {
                    going = if c.folds.is_empty() { go_on(t) } else { go_on(&fold(&c.folds, t)) };
                }
            });
        }
        if !going {
            return false;
        }
    }
    true
}

/// A text through the text functions applied to it.
fn fold(folds: &[Builtin], text: &Arc<str>) -> Arc<str> {
    folds.iter().fold(text.clone(), |t, op| match crate::eval::text::apply(*op, &[Value::Text(t.clone())]) {
        Value::Text(folded) => folded,
        _ => t,
    })
}

/// A text as the warning quotes it: escaped, so a line break shows.
fn show(text: &str) -> String {
    format!("{text:?}")
}

/// The texts of a value at a path of record fields (lists looked into).
fn texts(value: &Value, path: &[u32], f: &mut dyn FnMut(&Arc<str>)) {
    match (value, path.split_first()) {
        (Value::List(items), _) => items.iter().for_each(|v| texts(v, path, f)),
        (Value::Text(t), None) => f(t),
        (Value::Record(fields), Some((first, rest))) => {
            if let Some(v) = fields.get(*first as usize) {
                texts(v, rest, f);
            }
        }
        _ => {}
    }
}

/// The span of the literal as written inside `within`, or `within` when it
/// cannot be found (written with escapes).
fn literal_span(sources: &Sources, within: FileSpan, literal: &str) -> Span {
    let text = sources.text(within.file);
    let range = within.span.range();
    let quoted = format!("\"{literal}\"");
    text.get(range.clone())
        .and_then(|t| t.find(&quoted))
        .map(|at| {
            let start = range.start + at;
            Span::new(start, start + quoted.len())
        })
        .unwrap_or(within.span)
}

/// Walks the expressions of one declaration, knowing the types of its
/// variables.
struct Walk<'a> {
    program: &'a Program,
    types: &'a mut HashMap<u32, Ty>,
    /// Where the records a variable ranges over are (`m` in `for m in s.models`).
    paths: HashMap<u32, FieldPath>,
    out: &'a mut Vec<Compared>,
    within: FileSpan,
}

impl Walk<'_> {
    fn ex(&mut self, ex: &Ex) {
        match ex {
            Ex::Cmp(CmpOp::Eq | CmpOp::Ne, a, b) => {
                self.compared(a, b);
                self.compared(b, a);
            }
            Ex::In { value, list, .. } => {
                // `u.impact in ["a", "b"]`
                if let Ex::List(items) = &**list {
                    items.iter().for_each(|item| self.compared(value, item));
                }
                // `"ops" in u.teams`
                self.compared(list, value);
            }
            Ex::Quantifier { slot, source, .. } | Ex::Aggregate { slot, source, .. } => {
                let ty = match source {
                    Source::Entities(e) => Some(Ty::Entity(*e)),
                    Source::List(list) => self.ty(list).and_then(|t| match t.definite() {
                        Ty::List(el) => Some((**el).clone()),
                        _ => None,
                    }),
                };
                if let (Source::List(list), Some(Ty::Record(_))) = (source, ty.as_ref().map(Ty::definite)) {
                    if let Some(at) = self.record_list_path(list) {
                        self.paths.insert(*slot, at);
                    }
                }
                if let Some(ty) = ty {
                    self.types.insert(*slot, ty);
                }
            }
            _ => {}
        }
        for child in ex.children() {
            self.ex(child);
        }
    }

    /// Records `field` compared with `literal`, when they are a field read
    /// from a variable and a text literal.
    fn compared(&mut self, field: &Ex, literal: &Ex) {
        let Ex::Const(Value::Text(text)) = literal else { return };
        // Through `lower`, `upper` and `trim`.
        let mut folds = Vec::new();
        let mut field = field;
        while let Ex::Builtin(op @ (Builtin::Lower | Builtin::Upper | Builtin::Trim), args) = field {
            let [inner] = args.as_slice() else { return };
            folds.push(*op);
            field = inner;
        }
        folds.reverse();
        let Ex::Field { path, .. } = field else { return };
        if let Some(at) = self.field_path(field) {
            let name = |op: &Builtin| match op {
                Builtin::Lower => "lower",
                Builtin::Upper => "upper",
                _ => "trim",
            };
            let path = folds.iter().fold(path.to_string(), |p, op| format!("{}({p})", name(op)));
            let path = Arc::from(path.as_str());
            self.out.push(Compared { field: at, folds, path, literal: text.clone(), within: self.within });
        }
    }

    /// Where the values a field expression reads are, when it reads text.
    fn field_path(&self, ex: &Ex) -> Option<FieldPath> {
        let Ex::Field { base, field, .. } = ex else { return None };
        let ty = self.field_ty(ex)?;
        if !matches!(ty.definite(), Ty::Text)
            && !matches!(ty.definite(), Ty::List(el) if matches!(el.definite(), Ty::Text))
        {
            return None;
        }
        self.path(base, *field)
    }

    fn path(&self, base: &Ex, field: u32) -> Option<FieldPath> {
        match self.ty(base)?.definite() {
            Ty::Entity(e) => Some(FieldPath { entity: *e, fields: vec![field] }),
            Ty::Record(_) => match base {
                Ex::Field { base: inner, field: f, .. } => {
                    let mut at = self.path(inner, *f)?;
                    at.fields.push(field);
                    Some(at)
                }
                // An element of a list of records.
                Ex::Local(slot, _) => {
                    let mut at = self.paths.get(slot)?.clone();
                    at.fields.push(field);
                    Some(at)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Where a list of records read from a field is.
    fn record_list_path(&self, list: &Ex) -> Option<FieldPath> {
        match list {
            Ex::Field { base, field, .. } => self.path(base, *field),
            _ => None,
        }
    }

    fn field_ty(&self, ex: &Ex) -> Option<Ty> {
        let Ex::Field { base, field, .. } = ex else { return None };
        let def = match self.ty(base)?.definite() {
            Ty::Entity(e) => self.program.entity(*e),
            Ty::Record(r) => &self.program.records[r.index()],
            _ => return None,
        };
        def.fields.get(*field as usize).map(|f| f.ty.clone())
    }

    /// The type of an expression, where it is a variable or a field.
    fn ty(&self, ex: &Ex) -> Option<Ty> {
        match ex {
            Ex::Local(slot, _) => self.types.get(slot).cloned(),
            Ex::Field { .. } => self.field_ty(ex),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::engine::Engine;
    use crate::facts::{Format, Mapping};

    const POLICY: &str = "entity UseCase { id: Text key, impact: Text, teams: [Text] = [], owner: Person?, \
        models: [Model] = [] }\n\
        entity Person { id: Text key, team: Text }\n\
        record Model { kind: Text }\n\
        fn rights(u: UseCase) = u.impact == \"Rights-Impacting\"\n\
        control c for u: UseCase where u.impact in [\"Safety-Impacting\", \"neither\"] {\n\
          let o = u.owner\n\
          require \"ops\" in u.teams or rights(u)\n\
          require all m in u.models: m.kind != \"LLM\"\n\
          require u.owner is some and u.owner.team == \"risk\"\n\
        }\n";

    const FACTS: &str = "{\"UseCase\": [\n\
        {\"id\": \"a\", \"impact\": \"Rights-Impacting\\n\", \"teams\": [\"Ops\"], \"models\": [{\"kind\": \"llm\"}]},\n\
        {\"id\": \"b\", \"impact\": \"Safety-impacting\", \"owner\": \"p\"},\n\
        {\"id\": \"c\", \"impact\": \"neither\", \"teams\": [\"legal\"]}],\n\
        \"Person\": [{\"id\": \"p\", \"team\": \"Risk\"}]}";

    /// The W0004 warnings: (message, underlined text, help, note).
    fn unmatched(policy: &str, facts: &str) -> Vec<(String, String, String, String)> {
        let mapping = Mapping::default();
        let engine = Engine::from_texts("p.aims", policy, &[("f.json", Format::Json, mapping, facts)])
            .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        engine
            .warnings()
            .iter()
            .filter(|d| d.code == Code::UnmatchedLiteral)
            .map(|d| {
                let label = d.primary.as_ref().expect("placed");
                let text = &engine.sources().text(label.at.file)[label.at.span.range()];
                (d.message.clone(), text.to_string(), d.help.clone().unwrap_or_default(), d.notes.join("; "))
            })
            .collect()
    }

    #[test]
    fn literals_no_fact_holds_are_warned_with_the_nearest_values() {
        let found = unmatched(POLICY, FACTS);
        let messages: Vec<(&str, &str, &str)> =
            found.iter().map(|(m, t, h, _)| (m.as_str(), t.as_str(), h.as_str())).collect();
        let never = |path: &str, literal: &str, entity: &str| {
            format!("no `{entity}` in the facts has `{path}` = \"{literal}\": this comparison never matches")
        };
        let wanted = [
            (
                never("u.impact", "Safety-Impacting", "UseCase"),
                "\"Safety-Impacting\"",
                "did you mean \"Safety-impacting\"?",
            ),
            (never("u.teams", "ops", "UseCase"), "\"ops\"", "did you mean \"Ops\"?"),
            (never("m.kind", "LLM", "UseCase"), "\"LLM\"", "did you mean \"llm\"?"),
            (never("u.owner.team", "risk", "Person"), "\"risk\"", "did you mean \"Risk\"?"),
            (
                never("u.impact", "Rights-Impacting", "UseCase"),
                "\"Rights-Impacting\"",
                "did you mean \"Rights-Impacting\\n\"?",
            ),
        ];
        let wanted: Vec<(&str, &str, &str)> = wanted.iter().map(|(m, t, h)| (m.as_str(), *t, *h)).collect();
        assert_eq!(messages, wanted);
        assert_eq!(
            found[0].3,
            "the values of `u.impact`: \"Rights-Impacting\\n\" (1), \"Safety-impacting\" (1), \"neither\" (1)"
        );
    }

    #[test]
    fn literals_that_occur_or_fields_without_facts_raise_nothing() {
        let matching = FACTS.replace("Safety-impacting", "Safety-Impacting").replace("Ops", "ops");
        let found = unmatched(POLICY, &matching);
        assert!(!found.iter().any(|(m, ..)| m.contains("Safety") || m.contains("u.teams")), "{found:?}");
        // No fact of the entity: nothing to compare with.
        let found = unmatched(POLICY, "{\"UseCase\": []}");
        assert_eq!(found, []);
    }

    #[test]
    fn text_functions_fold_the_values_compared() {
        let policy = |cond: &str| {
            format!("entity UseCase {{ id: Text key, impact: Text }}\ncontrol c for u: UseCase where {cond} {{ require true }}\n")
        };
        let facts = "{\"UseCase\": [{\"id\": \"a\", \"impact\": \" Rights-Impacting\\n\"}]}";
        let found = unmatched(&policy("lower(u.impact) == \"Rights-Impacting\""), facts);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].0.contains("`lower(u.impact)` = \"Rights-Impacting\""), "{found:?}");
        assert_eq!(found[0].2, "did you mean \" rights-impacting\\n\"?");
        assert_eq!(unmatched(&policy("upper(trim(u.impact)) == \"RIGHTS-IMPACTING\""), facts), []);
        assert_eq!(unmatched(&policy("\"rights-impacting\" == trim(lower(u.impact))"), facts), []);
    }
}
