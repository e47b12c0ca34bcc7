//! Document and workspace symbols: the outline of a file, and the
//! declarations of every policy file matching a query.

use crate::diag::{FileId, FileSpan};
use crate::syntax::ast::{Item, ItemKind, Span};

use super::World;

/// What kind of declaration an outline entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutlineKind {
    /// `use`: a module imported.
    Use,
    /// `enum`: a closed set of variants.
    Enum,
    /// A variant of an enum, a value of a scale or a level of a matrix.
    Variant,
    /// `record`: a value with fields.
    Record,
    /// `entity`: a type of fact.
    Entity,
    /// `extend`: members added to a type declared elsewhere.
    Extend,
    /// A field of a record or an entity.
    Field,
    /// `fact`: a fact written in the policy.
    Fact,
    /// `requirement`: a requirement of a standard.
    Requirement,
    /// `control`: a rule the organisation operates.
    Control,
    /// `audit`: a rule that checks the management system.
    Audit,
    /// `scale`: ordered values for a risk matrix.
    Scale,
    /// `matrix`: a risk matrix.
    Matrix,
    /// `appetite`: the highest level a matrix accepts.
    Appetite,
    /// `risk`: a risk scored on a matrix.
    Risk,
    /// `objective`: a measure with a target.
    Objective,
    /// `exception`: a waiver of a rule until a date.
    Exception,
    /// `exclude`: requirements declared not applicable.
    Exclude,
    /// `map`: a crosswalk between requirements.
    Map,
    /// `fn`: a function.
    Function,
    /// `test`: a test of the policy.
    Test,
    /// `measure`: a value of each fact of an entity, computed from a log.
    Measure,
}

/// One entry of a file's outline.
#[derive(Clone, Debug, PartialEq)]
pub struct OutlineItem {
    /// The name shown (for a `use`, the module path).
    pub name: String,
    /// A title or a type, shown next to the name.
    pub detail: Option<String>,
    /// What kind of declaration it is (the editor picks its icon from it).
    pub kind: OutlineKind,
    /// The whole declaration.
    pub span: Span,
    /// The name (what the editor selects).
    pub name_span: Span,
    /// The entries nested in it (variants, fields, levels), in source order.
    pub children: Vec<OutlineItem>,
}

fn leaf(name: &str, kind: OutlineKind, span: Span) -> OutlineItem {
    OutlineItem { name: name.to_string(), detail: None, kind, span, name_span: span, children: Vec::new() }
}

/// The outline of a file's declarations, in source order.
pub fn outline(items: &[Item], text: &str) -> Vec<OutlineItem> {
    items.iter().map(|item| in_file(outline_item(item, text), item)).collect()
}

/// An entry built from an item's tree (spans relative to the item), with
/// its spans as ranges of the file.
fn in_file(entry: OutlineItem, item: &Item) -> OutlineItem {
    OutlineItem {
        span: item.absolute(entry.span),
        name_span: item.absolute(entry.name_span),
        children: entry.children.into_iter().map(|child| in_file(child, item)).collect(),
        ..entry
    }
}

fn outline_item(item: &Item, text: &str) -> OutlineItem {
    let title = |t: &Option<crate::syntax::ast::Text>| t.as_ref().map(|t| t.value.clone());
    let source = |span: Span| text.get(item.absolute(span).range()).unwrap_or("").to_string();
    let (name, name_span, kind, detail, children) = match &item.kind {
        ItemKind::Use(u) => (u.path.clone(), u.span, OutlineKind::Use, None, Vec::new()),
        ItemKind::Enum(e) => {
            let variants = e.variants.iter().map(|v| leaf(&v.name.name, OutlineKind::Variant, v.name.span)).collect();
            (e.name.name.clone(), e.name.span, OutlineKind::Enum, None, variants)
        }
        ItemKind::Record(s) | ItemKind::Entity(s) => {
            let kind = if matches!(item.kind, ItemKind::Entity(_)) { OutlineKind::Entity } else { OutlineKind::Record };
            let fields = s
                .fields
                .iter()
                .map(|f| OutlineItem {
                    detail: Some(source(f.ty.span())),
                    span: f.name.span.cover(f.ty.span()),
                    ..leaf(&f.name.name, OutlineKind::Field, f.name.span)
                })
                .collect();
            (s.name.name.clone(), s.name.span, kind, None, fields)
        }
        ItemKind::Extend(x) => {
            let mut members: Vec<OutlineItem> =
                x.variants.iter().map(|v| leaf(&v.name.name, OutlineKind::Variant, v.name.span)).collect();
            members.extend(x.fields.iter().map(|f| OutlineItem {
                detail: Some(source(f.ty.span())),
                span: f.name.span.cover(f.ty.span()),
                ..leaf(&f.name.name, OutlineKind::Field, f.name.span)
            }));
            (x.name.name.clone(), x.name.span, OutlineKind::Extend, None, members)
        }
        ItemKind::Fact(f) => {
            let key = f.fields.first().map(|i| source(i.value.span));
            (f.entity.name.clone(), f.entity.span, OutlineKind::Fact, key, Vec::new())
        }
        ItemKind::Requirement(r) => {
            (r.id.id.clone(), r.id.span, OutlineKind::Requirement, Some(r.title.value.clone()), Vec::new())
        }
        ItemKind::Control(r) => (r.name.name.clone(), r.name.span, OutlineKind::Control, title(&r.title), Vec::new()),
        ItemKind::Audit(r) => (r.name.name.clone(), r.name.span, OutlineKind::Audit, title(&r.title), Vec::new()),
        ItemKind::Scale(s) => {
            let values = s.values.iter().map(|(v, _)| leaf(&v.name, OutlineKind::Variant, v.span)).collect();
            (s.name.name.clone(), s.name.span, OutlineKind::Scale, None, values)
        }
        ItemKind::Matrix(m) => {
            let levels = m.levels.iter().map(|l| leaf(&l.name.name, OutlineKind::Variant, l.name.span)).collect();
            (m.name.name.clone(), m.name.span, OutlineKind::Matrix, None, levels)
        }
        ItemKind::Appetite(a) => (a.level.name.clone(), a.level.span, OutlineKind::Appetite, None, Vec::new()),
        ItemKind::Risk(r) => (r.name.name.clone(), r.name.span, OutlineKind::Risk, title(&r.title), Vec::new()),
        ItemKind::Objective(o) => {
            (o.name.name.clone(), o.name.span, OutlineKind::Objective, title(&o.title), Vec::new())
        }
        ItemKind::Exception(e) => {
            let waives = e.waives.as_ref().map(|w| format!("waives {}", w.name));
            (e.name.name.clone(), e.name.span, OutlineKind::Exception, waives, Vec::new())
        }
        ItemKind::Exclude(x) => {
            let ids: Vec<&str> = x.requirements.iter().map(|r| r.id.as_str()).collect();
            let span = x.requirements.first().map_or(item.span, |r| r.span);
            (ids.join(", "), span, OutlineKind::Exclude, None, Vec::new())
        }
        ItemKind::Map(m) => (m.from.id.clone(), m.from.span, OutlineKind::Map, None, Vec::new()),
        ItemKind::Fn(f) => (f.name.name.clone(), f.name.span, OutlineKind::Function, None, Vec::new()),
        ItemKind::Test(t) => (t.name.value.clone(), t.name.span, OutlineKind::Test, None, Vec::new()),
        ItemKind::Measure(m) => {
            let detail = match &m.subject {
                Some((subject, _)) => format!("{}.{} over {}", subject.name, m.name.name, m.record.name),
                None => format!("{} over {}", m.name.name, m.record.name),
            };
            (m.name.name.clone(), m.name.span, OutlineKind::Measure, Some(detail), Vec::new())
        }
    };
    OutlineItem { name, detail, kind, span: item.span, name_span, children }
}

/// A declaration found by a workspace search.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundSymbol {
    /// The declaration's name.
    pub name: String,
    /// What kind of declaration it is.
    pub kind: OutlineKind,
    /// Where the name is declared.
    pub at: FileSpan,
    /// The declaration it sits in (an entity for a field).
    pub container: Option<String>,
}

/// The declarations of every policy file whose name matches `query`
/// (its characters in order, ignoring case); at most `limit`.
pub fn workspace_symbols(world: World, query: &str, limit: usize) -> Vec<FoundSymbol> {
    let mut out = Vec::new();
    for f in world.policy_files() {
        let file = FileId(f.id(world.db));
        let parse = crate::db::parse_file(world.db, f);
        for item in outline(&parse.file.items, f.text(world.db)) {
            if matches(&item.name, query) && !matches!(item.kind, OutlineKind::Use | OutlineKind::Exclude) {
                let at = FileSpan { file, span: item.name_span };
                out.push(FoundSymbol { name: item.name.clone(), kind: item.kind, at, container: None });
            }
            for child in &item.children {
                if matches(&child.name, query) {
                    let at = FileSpan { file, span: child.name_span };
                    let container = Some(item.name.clone());
                    out.push(FoundSymbol { name: child.name.clone(), kind: child.kind, at, container });
                }
            }
            if out.len() >= limit {
                out.truncate(limit);
                return out;
            }
        }
    }
    out
}

/// Whether the characters of `query` appear in `name` in order, ignoring case.
fn matches(name: &str, query: &str) -> bool {
    let mut chars = name.chars().map(|c| c.to_ascii_lowercase());
    query.chars().map(|c| c.to_ascii_lowercase()).all(|q| chars.any(|c| c == q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::engine;

    const POLICY: &str = "enum Status { planned, deployed }\nentity System { id: Text key, status: Status }\n\
control live_systems \"Live\" for s: System { require s.status == deployed }\ncontrol broken { require }\n\
fn is_live(s: System) = s.status == deployed\n";

    #[test]
    fn the_outline_has_every_declaration_and_their_members() {
        let parse = crate::syntax::parse(POLICY);
        let items = outline(&parse.file.items, POLICY);
        let names: Vec<(&str, OutlineKind)> = items.iter().map(|i| (i.name.as_str(), i.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("Status", OutlineKind::Enum),
                ("System", OutlineKind::Entity),
                ("live_systems", OutlineKind::Control),
                ("is_live", OutlineKind::Function)
            ],
            "the broken control is left out, the rest is there"
        );
        assert_eq!(items[1].children[1].name, "status");
        assert_eq!(items[1].children[1].detail.as_deref(), Some("Status"));
        assert_eq!(items[2].detail.as_deref(), Some("Live"));
        assert_eq!(&POLICY[items[2].name_span.range()], "live_systems");
    }

    #[test]
    fn workspace_symbols_match_in_order_ignoring_case() {
        let (engine, _) = engine(&[("p.aims", POLICY)]);
        let world = World::new(engine.db(), engine.workspace());
        let found: Vec<String> = workspace_symbols(world, "lvsy", 10).into_iter().map(|s| s.name).collect();
        assert_eq!(found, vec!["live_systems"]);
        let found = workspace_symbols(world, "STATUS", 10);
        assert_eq!(found.len(), 2, "the enum and the field: {found:?}");
        assert_eq!(found[1].container.as_deref(), Some("System"));
        assert_eq!(workspace_symbols(world, "", 3).len(), 3, "the limit holds");
    }
}
