//! What a name in a policy stands for: the symbols of the semantic model
//! that `sema` records, as the analyses name them.

pub use crate::sema::source_map::{LocalKind, Reference, Symbol};
