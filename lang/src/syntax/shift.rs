//! Moving a parsed declaration to another offset of its file.
//!
//! Declarations are parsed on their own (see [`super::declaration_ranges`])
//! so that an edit re-parses only the declaration it touches; the trees of
//! the others are reused and moved to where they now start. Moving adds
//! the offset to every span, except the empty default span the builder
//! gives a part that is missing, which stays as parsing the whole file
//! would leave it.

use super::ast::*;
use super::{Parse, SyntaxError};

impl Parse {
    /// This parse of a declaration that starts `by` bytes into its file.
    pub fn shifted(mut self, by: u32) -> Parse {
        if by != 0 {
            self.file.items.iter_mut().for_each(|item| item.shift(by));
            self.errors.iter_mut().for_each(|error: &mut SyntaxError| error.span = error.span.shifted(by));
        }
        self
    }
}

trait Shift {
    fn shift(&mut self, by: u32);
}

impl Shift for Span {
    fn shift(&mut self, by: u32) {
        if *self != Span::default() {
            *self = self.shifted(by);
        }
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, by: u32) {
        self.iter_mut().for_each(|x| x.shift(by));
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, by: u32) {
        if let Some(x) = self {
            x.shift(by);
        }
    }
}

impl<T: Shift> Shift for Box<T> {
    fn shift(&mut self, by: u32) {
        (**self).shift(by);
    }
}

impl Shift for Ident {
    fn shift(&mut self, by: u32) {
        self.span.shift(by);
    }
}

impl Shift for Text {
    fn shift(&mut self, by: u32) {
        self.span.shift(by);
    }
}

impl Shift for ReqRef {
    fn shift(&mut self, by: u32) {
        self.span.shift(by);
    }
}

impl Shift for Item {
    fn shift(&mut self, by: u32) {
        self.span.shift(by);
        match &mut self.kind {
            ItemKind::Use(u) => u.span.shift(by),
            ItemKind::Enum(e) => {
                e.name.shift(by);
                e.variants.iter_mut().for_each(|v| v.name.shift(by));
            }
            ItemKind::Record(s) | ItemKind::Entity(s) => {
                s.name.shift(by);
                for f in &mut s.fields {
                    f.name.shift(by);
                    f.ty.shift(by);
                    f.default.shift(by);
                }
            }
            ItemKind::Extend(x) => {
                x.name.shift(by);
                x.variants.iter_mut().for_each(|v| v.name.shift(by));
                for f in &mut x.fields {
                    f.name.shift(by);
                    f.ty.shift(by);
                    f.default.shift(by);
                }
            }
            ItemKind::Fact(f) => f.shift(by),
            ItemKind::Requirement(r) => {
                r.id.shift(by);
                r.title.shift(by);
                r.parent.shift(by);
            }
            ItemKind::Control(r) | ItemKind::Audit(r) => {
                r.name.shift(by);
                r.title.shift(by);
                r.header.shift(by);
                r.body.shift(by);
            }
            ItemKind::Scale(s) => {
                s.name.shift(by);
                s.values.iter_mut().for_each(|(name, _)| name.shift(by));
            }
            ItemKind::Matrix(m) => {
                m.name.shift(by);
                m.axes.shift(by);
                for level in &mut m.levels {
                    level.name.shift(by);
                    level.span.shift(by);
                }
            }
            ItemKind::Appetite(a) => {
                a.matrix.shift(by);
                a.level.shift(by);
            }
            ItemKind::Risk(r) => {
                r.name.shift(by);
                r.title.shift(by);
                r.header.shift(by);
                r.lets.shift(by);
                for (axis, value) in r.axes.iter_mut().chain(r.residual.iter_mut()) {
                    axis.shift(by);
                    value.shift(by);
                }
                r.treated_by.shift(by);
            }
            ItemKind::Objective(o) => {
                o.name.shift(by);
                o.title.shift(by);
                o.header.shift(by);
                o.measures.shift(by);
                for (value, _, span) in &mut o.baselines {
                    value.shift(by);
                    span.shift(by);
                }
                for t in &mut o.targets {
                    t.value.shift(by);
                    t.span.shift(by);
                }
                for h in &mut o.histories {
                    h.value.shift(by);
                    h.date.shift(by);
                    h.binder.shift(by);
                    h.filter.shift(by);
                    h.span.shift(by);
                }
            }
            ItemKind::Exception(e) => {
                e.name.shift(by);
                e.waives.shift(by);
                if let Some((entity, key)) = &mut e.target {
                    entity.shift(by);
                    key.shift(by);
                }
                if let Some((_, span)) = &mut e.until {
                    span.shift(by);
                }
                e.approved_by.shift(by);
                e.because.shift(by);
            }
            ItemKind::Exclude(x) => {
                x.requirements.shift(by);
                x.because.shift(by);
            }
            ItemKind::Map(m) => {
                m.from.shift(by);
                m.to.shift(by);
            }
            ItemKind::Fn(f) => {
                f.name.shift(by);
                for (name, ty) in &mut f.params {
                    name.shift(by);
                    ty.shift(by);
                }
                f.body.shift(by);
            }
            ItemKind::Test(t) => {
                t.name.shift(by);
                if let Some((_, span)) = &mut t.as_of {
                    span.shift(by);
                }
                t.given.shift(by);
                t.expects.shift(by);
            }
        }
    }
}

impl Shift for FactDecl {
    fn shift(&mut self, by: u32) {
        self.entity.shift(by);
        self.fields.shift(by);
        self.body_span.shift(by);
    }
}

impl Shift for FieldInit {
    fn shift(&mut self, by: u32) {
        self.name.shift(by);
        self.value.shift(by);
    }
}

impl Shift for RuleHeader {
    fn shift(&mut self, by: u32) {
        self.implements.shift(by);
        self.clauses.shift(by);
        if let Some((_, span)) = &mut self.severity {
            span.shift(by);
        }
        self.owner.shift(by);
        if let Some(s) = &mut self.subject {
            s.var.shift(by);
            s.entity.shift(by);
            s.filter.shift(by);
        }
        self.clause_spans.iter_mut().for_each(|(_, span)| span.shift(by));
    }
}

impl Shift for Stmt {
    fn shift(&mut self, by: u32) {
        match self {
            Stmt::Let { name, value, span } => {
                name.shift(by);
                value.shift(by);
                span.shift(by);
            }
            Stmt::Require { cond, because, span } => {
                cond.shift(by);
                because.shift(by);
                span.shift(by);
            }
        }
    }
}

impl Shift for Expectation {
    fn shift(&mut self, by: u32) {
        match self {
            Expectation::Outcome { rule, outcome, entity, span } => {
                rule.shift(by);
                outcome.shift(by);
                entity.shift(by);
                span.shift(by);
            }
            Expectation::Risk { risk, entity, level, span } => {
                risk.shift(by);
                entity.shift(by);
                level.shift(by);
                span.shift(by);
            }
            Expectation::Objective { objective, status, span } => {
                objective.shift(by);
                status.shift(by);
                span.shift(by);
            }
        }
    }
}

impl Shift for TypeExpr {
    fn shift(&mut self, by: u32) {
        match self {
            TypeExpr::Named { name, span, .. } => {
                name.shift(by);
                span.shift(by);
            }
            TypeExpr::List { element, span, .. } => {
                element.shift(by);
                span.shift(by);
            }
        }
    }
}

impl Shift for Binder {
    fn shift(&mut self, by: u32) {
        self.var.shift(by);
        match &mut self.source {
            BinderSource::Entity(name) => name.shift(by),
            BinderSource::List(list) => list.shift(by),
        }
    }
}

impl Shift for Expr {
    fn shift(&mut self, by: u32) {
        // Chains of operators nest as deep as they are long.
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
            self.span.shift(by);
            match &mut self.kind {
                ExprKind::Bool(_)
                | ExprKind::Int(_)
                | ExprKind::Number(_)
                | ExprKind::Percent(_)
                | ExprKind::Text(_)
                | ExprKind::Date(_)
                | ExprKind::Duration(_)
                | ExprKind::Today => {}
                ExprKind::Name(name) => name.shift(by),
                ExprKind::Field(base, field) => {
                    base.shift(by);
                    field.shift(by);
                }
                ExprKind::Call(func, args) => {
                    func.shift(by);
                    args.shift(by);
                }
                ExprKind::Aggregate { func, value, binder, filter } => {
                    func.shift(by);
                    value.shift(by);
                    binder.shift(by);
                    filter.shift(by);
                }
                ExprKind::List(items) => items.shift(by),
                ExprKind::Record(fields) => fields.shift(by),
                ExprKind::Unary(_, operand) | ExprKind::Paren(operand) => operand.shift(by),
                ExprKind::Binary(_, l, r) | ExprKind::Compare(_, l, r) | ExprKind::Within(l, r) => {
                    l.shift(by);
                    r.shift(by);
                }
                ExprKind::In { value, collection, .. } => {
                    value.shift(by);
                    collection.shift(by);
                }
                ExprKind::Is { value, .. } => value.shift(by),
                ExprKind::If { branches, otherwise } => {
                    for (cond, then) in branches {
                        cond.shift(by);
                        then.shift(by);
                    }
                    otherwise.shift(by);
                }
                ExprKind::Exists { binder, filter } => {
                    binder.shift(by);
                    filter.shift(by);
                }
                ExprKind::All { binder, filter, body } => {
                    binder.shift(by);
                    filter.shift(by);
                    body.shift(by);
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{declaration_ranges, parse};

    /// Parsing declaration by declaration and moving each into place gives
    /// what parsing the whole file gives.
    fn assert_same(text: &str) {
        let whole = parse(text);
        let mut pieces = super::Parse::default();
        for (start, end) in declaration_ranges(text) {
            let mut piece = parse(&text[start..end]).shifted(start as u32);
            pieces.file.items.append(&mut piece.file.items);
            pieces.errors.append(&mut piece.errors);
        }
        assert_eq!(whole, pieces, "{text}");
    }

    #[test]
    fn declarations_parsed_apart_equal_the_whole_file() {
        for (_, text) in crate::stdlib::MODULES {
            assert_same(text);
        }
        assert_same(
            "// head\nuse iso42001\n/// Doc.\nenum A { x, y }\nentity S { id: Text key, a: A = x, d: Date? }\n\
             control c \"t\" implements A.6.2.4 severity major for s: S where s.a == x {\n  let n = count(t for t: S where t.d is some)\n  require n > 0 because \"why\"\n}\n\
             exception e waives c for S \"k\" until 2026-01-01 approved by \"me\"\n\
             test \"t\" { as of 2026-01-01 given S { id: \"k\", a: y } expect c fails for \"k\" }\n",
        );
    }

    #[test]
    fn every_policy_in_the_repository_parses_the_same_apart() {
        fn visit(dir: &std::path::Path, count: &mut usize) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    visit(&path, count);
                } else if path.extension().is_some_and(|e| e == "aims") {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        assert_same(&text);
                        *count += 1;
                    }
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut count = 0;
        visit(&root.join("examples"), &mut count);
        visit(&root.join("tests").join("corpus"), &mut count);
        assert!(count > 10, "the examples and the broken-input corpus were read: {count}");
    }

    #[test]
    fn broken_declarations_parsed_apart_equal_the_whole_file() {
        assert_same("enum A { x, y }\ncontrol broken { require }\nenum B { z }\ncontrol also_broken for s: { }\n");
        assert_same("entity System {\n  id: Text key\n}\n@@ junk ##\ncontrol c for s: System { require true }\n");
        assert_same("requirement R \"t\"\nexclude R\nfact S { d: 2026-02-30, t: \"\\q\" }\n");
        assert_same(&format!("enum A {{ x }}\nfn f() = {}1{}\n", "(".repeat(100), ")".repeat(100)));
    }
}
