//! JSON-RPC framing (`aims_lsp::transport::Framer`): any bytes, arriving
//! in any pieces, never panic and never wedge the stream: after any
//! garbage, the second of two well-framed messages comes out whole.
#![no_main]

use aims_lsp::transport::{Frame, Framer};
use libfuzzer_sys::fuzz_target;

const MESSAGE: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (garbage, cuts) = input;
    let mut stream = garbage;
    for _ in 0..2 {
        stream.extend_from_slice(format!("Content-Length: {}\r\n\r\n", MESSAGE.len()).as_bytes());
        stream.extend_from_slice(MESSAGE);
    }
    // Pushed in pieces whose sizes the fuzzer picks.
    let mut framer = Framer::default();
    let mut frames = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::repeat(&255)) {
        if at >= stream.len() {
            break;
        }
        let end = (at + 1 + cut as usize).min(stream.len());
        framer.push(&stream[at..end]);
        at = end;
        frames.extend(std::iter::from_fn(|| framer.next_frame()));
    }
    assert_eq!(frames.last(), Some(&Frame::Message(MESSAGE.to_vec())), "the stream resynchronises: {frames:?}");
});
