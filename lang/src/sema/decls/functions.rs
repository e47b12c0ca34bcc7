//! Functions: signatures, the call graph and its cycles, bodies in
//! dependency order.

use super::{decl, Checker, Items};
use crate::diag::{Code, Diagnostic};
use crate::ir::*;
use crate::sema::source_map::LocalKind;
use crate::syntax::ast::{self};

impl Checker<'_, '_> {
    pub(super) fn functions(&mut self, items: &Items) {
        let mut checked = Vec::new();
        for f in &items.fns {
            let at = f.file.span(f.node.name.span);
            if !self.claim(|n| &mut n.fns, "function", &f.node.name.name, at) {
                continue;
            }
            let params: Vec<Ty> = f.node.params.iter().map(|(_, t)| self.cx.resolve_type(f.file, t)).collect();
            let id = FnId(self.cx.program.fns.len() as u32);
            self.cx.fns.insert(f.node.name.name.clone(), id);
            self.cx.fn_sigs.push((params.clone(), Ty::Error));
            self.cx.program.fns.push(FnDef {
                decl: decl(f.file, f.span, &f.node.name, f.docs),
                params: f.node.params.iter().map(|(n, _)| n.name.clone()).zip(params).collect(),
                ret: Ty::Error,
                body: Ex::Const(Value::Bool(false)),
                slots: 0,
                decides_on_absent: None,
            });
            checked.push(*f);
        }
        // Calls between functions, by name; a cycle is reported and its
        // members are left untyped (their callers get no cascade of errors).
        let n = checked.len();
        let calls: Vec<Vec<usize>> = checked
            .iter()
            .map(|f| {
                let mut names = Vec::new();
                called_names(&f.node.body, &mut names);
                let mut targets: Vec<usize> =
                    names.iter().filter_map(|c| self.cx.fns.get(c).map(|id| id.index())).collect();
                targets.sort_unstable();
                targets.dedup();
                targets
            })
            .collect();
        let order = topological(n, &calls);
        for cycle in &order.cycles {
            let names: Vec<String> = cycle.iter().map(|&i| format!("`{}`", checked[i].node.name.name)).collect();
            let first = checked[cycle[0]];
            let mut d = Diagnostic::error(
                Code::Cycle,
                format!("functions call each other in a cycle: {} → {}", names.join(" → "), names[0]),
            )
            .at(first.file, first.node.name.span, "part of the cycle")
            .help("the language is total: a function may not call itself, directly or through others");
            for &i in &cycle[1..] {
                d = d.also(checked[i].file, checked[i].node.name.span, "part of the cycle");
            }
            self.push(d);
        }
        for i in order.order {
            let f = checked[i];
            let id = FnId(i as u32);
            let params = self.cx.program.fns[i].params.clone();
            let mut ck = self.checker(f.file, f.text);
            for ((name, _), (_, ty)) in f.node.params.iter().zip(&params) {
                ck.bind(name, LocalKind::Parameter, ty.clone(), f.span);
            }
            let (body, ret) = ck.expr(&f.node.body, None);
            let decides_on_absent = ck.decided_on_absent.first().map(|(_, path)| path.clone());
            let slots = ck.slots();
            let diags = std::mem::take(&mut ck.diags);
            self.absorb(diags);
            self.cx.fn_sigs[id.index()].1 = ret.clone();
            let def = &mut self.cx.program.fns[i];
            def.ret = ret;
            def.body = body;
            def.slots = slots;
            def.decides_on_absent = decides_on_absent;
        }
    }
}

/// Names called in an expression (functions or builtins), in source order.
pub(super) fn called_names(e: &ast::Expr, out: &mut Vec<String>) {
    out.extend(e.walk().filter_map(|x| match &x.kind {
        ast::ExprKind::Call(f, _) => Some(f.name.clone()),
        _ => None,
    }));
}

pub(super) struct TopoOrder {
    /// Nodes in an order where callees come before callers (cycles left out).
    order: Vec<usize>,
    cycles: Vec<Vec<usize>>,
}

/// Orders a call graph, finding its cycles (iteratively: no recursion on input).
pub(super) fn topological(n: usize, edges: &[Vec<usize>]) -> TopoOrder {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
        Cyclic,
    }
    let mut mark = vec![Mark::New; n];
    let mut order = Vec::new();
    let mut cycles = Vec::new();
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&target) = edges[node].get(*next) {
                *next += 1;
                match mark[target] {
                    Mark::New => {
                        mark[target] = Mark::Active;
                        stack.push((target, 0));
                    }
                    Mark::Active => {
                        let pos = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let cycle: Vec<usize> = stack[pos..].iter().map(|(n, _)| *n).collect();
                        for &c in &cycle {
                            mark[c] = Mark::Cyclic;
                        }
                        cycles.push(cycle);
                    }
                    Mark::Done | Mark::Cyclic => {}
                }
            } else {
                stack.pop();
                if mark[node] == Mark::Active {
                    // A node that calls into a cycle cannot be typed either.
                    if edges[node].iter().any(|&t| mark[t] == Mark::Cyclic) {
                        mark[node] = Mark::Cyclic;
                    } else {
                        mark[node] = Mark::Done;
                        order.push(node);
                    }
                }
            }
        }
    }
    TopoOrder { order, cycles }
}
