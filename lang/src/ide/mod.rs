//! Editor analyses over a checked program: what the language server asks
//! (hover, definitions, references, completion, symbols). Plain data in,
//! plain data out: no LSP types, no JSON-RPC.
