//! The tokens of a policy file, read per declaration as parsing is and
//! memoized by the declaration's text: after an edit only the edited
//! declaration is read again (semantic highlighting and formatting both
//! read them; reading a 10,000-line file again on every request took most
//! of a formatting request's time).

use std::sync::Arc;

use crate::db::{self, DeclarationText, SourceFile};
use crate::syntax::tokens::{tokens, Token};

/// The tokens of one declaration, relative to its start.
#[salsa::tracked(returns(clone))]
fn declaration_tokens<'db>(db: &'db dyn salsa::Database, declaration: DeclarationText<'db>) -> Arc<Vec<Token>> {
    Arc::new(tokens(declaration.text(db)))
}

/// Every token of a file, in order, with spans that are ranges of the
/// file: what [`tokens`] gives for the whole text.
pub(crate) fn file_tokens(db: &dyn salsa::Database, file: SourceFile) -> Vec<Token> {
    let text = file.text(db);
    let mut out = Vec::new();
    for &(start, end) in db::declaration_ranges(db, file) {
        let declaration = DeclarationText::new(db, text[start..end].to_string());
        out.extend(
            declaration_tokens(db, declaration).iter().map(|t| Token { span: t.span.shifted(start as u32), ..*t }),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_support::engine;

    #[test]
    fn a_file_s_tokens_are_those_of_its_whole_text() {
        for (name, text) in crate::stdlib::MODULES.iter().chain(
            [("edge", "// head\n\n/// doc\n\n// between\ncontrol c { require 1 < 2 } // tail\nfn f(x: Int) = -x\n")]
                .iter(),
        ) {
            let (engine, ids) = engine(&[("p.aims", text)]);
            let world = crate::ide::World::new(engine.db(), engine.workspace());
            let file = world.file(ids[0]).expect("a policy file");
            assert_eq!(file_tokens(world.db, file), tokens(text), "{name}");
        }
    }
}
