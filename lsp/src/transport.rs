//! The input side of the transport, made safe against malformed messages.
//!
//! `tower-lsp-server` reads stdin with a `FramedRead`, and a framed stream
//! ends at its first decoding error: one message that is not JSON, or JSON
//! that is not a JSON-RPC message, would stop the server. So stdin passes
//! through [`sanitize`] first, which frames the messages itself ([`Framer`])
//! and forwards every well-formed one unchanged. A malformed one is
//! replaced by a request for [`PARSE_ERROR`] or [`INVALID_REQUEST`], which
//! the server answers with the JSON-RPC error the client is owed (-32700
//! with id `null`, or -32600 with the message's id): the client hears about
//! its mistake and the server carries on.
//!
//! Bad framing (a `Content-Length` that is not a number, a header without
//! one, a length too short or too long) must not desynchronise the stream
//! for good: the framer finds the next `Content-Length:` header wherever it
//! starts, even glued to the tail of a broken message, and a body that
//! holds a raw `Content-Length: N` + CR LF (which no JSON text can hold: raw
//! line breaks only occur between JSON tokens, never in a string) is cut
//! there, so a length too long gives back the messages it swallowed.

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The method a message that is not JSON is replaced by.
pub const PARSE_ERROR: &str = "aims/parseError";
/// The method a JSON value that is not a JSON-RPC message is replaced by.
pub const INVALID_REQUEST: &str = "aims/invalidRequest";

/// The largest message kept (a policy file is at most 8 MiB; escaped in
/// JSON it may double). A longer one is skipped and answered -32700.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// The longest header line kept; a longer one is garbage, of which only
/// the tail is kept (where the next header may start).
const MAX_HEADER_LINE: usize = 64 * 1024;

/// The header name that frames a message, matched without regard to case.
const CONTENT_LENGTH: &[u8] = b"content-length:";

/// Copies LSP messages from `input` to `output`, replacing malformed ones,
/// until `input` ends.
pub async fn sanitize<R, W>(mut input: R, mut output: W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut framer = Framer::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        while let Some(frame) = framer.next_frame() {
            let forwarded = match frame {
                Frame::Message(body) => check(body),
                Frame::Garbage => replacement(PARSE_ERROR, Value::Null),
            };
            let written = async {
                write_frame(&mut output, &forwarded).await?;
                output.flush().await
            };
            if written.await.is_err() {
                return; // the server is gone
            }
        }
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => framer.push(&chunk[..n]),
        }
    }
    let _ = output.shutdown().await;
}

/// Writes one message: its `Content-Length` header, then its body.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(output: &mut W, body: &[u8]) -> std::io::Result<()> {
    output.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).await?;
    output.write_all(body).await
}

/// What the framer cut from the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A body, as long as its `Content-Length` said.
    Message(Vec<u8>),
    /// Headers without a usable `Content-Length`, a body cut short by the
    /// next message's header, or a body too large to keep.
    Garbage,
}

/// Cuts a byte stream into LSP messages, resynchronising after bad framing.
/// Bytes go in with [`Framer::push`]; frames come out of
/// [`Framer::next_frame`] as soon as they are complete. Memory is bounded
/// by [`MAX_MESSAGE`] plus what one `push` brings.
#[derive(Debug, Default)]
pub struct Framer {
    /// Bytes received and not yet consumed.
    buffer: Vec<u8>,
    state: State,
    /// Keep bodies of any length: for messages the server made itself.
    unbounded: bool,
}

impl Framer {
    /// A framer for the server's own messages (see `crate::output`),
    /// which it trusts: no body is too long to keep.
    pub fn unbounded() -> Framer {
        Framer { unbounded: true, ..Framer::default() }
    }
}

#[derive(Debug, Default)]
enum State {
    /// Reading header lines.
    #[default]
    Headers,
    /// Headers read, with their `Content-Length` if usable.
    HeadersSeen(Option<usize>),
    /// Reading a body of this many more bytes; `kept` is false for a body
    /// too large, whose bytes are dropped as they come; `scanned` is how
    /// far the buffer was searched for a header.
    Body { remaining: usize, kept: bool, scanned: usize },
}

impl Framer {
    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, or `None` until more bytes come.
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            match self.state {
                State::Headers | State::HeadersSeen(_) => {
                    let seen = match self.state {
                        State::HeadersSeen(length) => Some(length),
                        _ => None,
                    };
                    let Some(newline) = self.buffer.iter().position(|&b| b == b'\n') else {
                        if self.buffer.len() > MAX_HEADER_LINE {
                            // A line that never ends: garbage, but the next
                            // header may start in its last bytes.
                            let keep = self.buffer.len() - CONTENT_LENGTH.len();
                            self.buffer.drain(..keep);
                            self.state = State::HeadersSeen(None);
                        }
                        return None;
                    };
                    let line: Vec<u8> = self.buffer.drain(..=newline).collect();
                    let line = trim_line_end(&line);
                    if line.is_empty() {
                        match seen {
                            None => continue, // blank lines between messages
                            Some(None) => {
                                self.state = State::Headers;
                                return Some(Frame::Garbage);
                            }
                            Some(Some(length)) => {
                                let kept = self.unbounded || length <= MAX_MESSAGE;
                                self.state = State::Body { remaining: length, kept, scanned: 0 };
                                continue;
                            }
                        }
                    }
                    // The last `Content-Length:` on the line counts, wherever
                    // it starts: a broken message's tail may run into it.
                    let length = match find_last_header(line) {
                        Some(at) => parse_length(&line[at + CONTENT_LENGTH.len()..]),
                        None => seen.flatten(),
                    };
                    self.state = State::HeadersSeen(length);
                }
                State::Body { remaining, kept, scanned } => {
                    let available = self.buffer.len().min(remaining);
                    // A header inside the body means the length was wrong.
                    if let Some(at) = find_header_line(&self.buffer[..available], scanned) {
                        self.buffer.drain(..at);
                        self.state = State::Headers;
                        return Some(Frame::Garbage);
                    }
                    if available == remaining {
                        let body: Vec<u8> = self.buffer.drain(..remaining).collect();
                        self.state = State::Headers;
                        return Some(if kept { Frame::Message(body) } else { Frame::Garbage });
                    }
                    // Keep searching where this search could not finish.
                    let scanned = available.saturating_sub(HEADER_PROBE);
                    if kept {
                        self.state = State::Body { remaining, kept, scanned };
                    } else {
                        self.buffer.drain(..scanned);
                        self.state = State::Body { remaining: remaining - scanned, kept, scanned: 0 };
                    }
                    return None;
                }
            }
        }
    }
}

/// The longest text a header found in a body may need to be recognised:
/// the name, spaces and digits, and CR LF.
const HEADER_PROBE: usize = 64;

fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &line[..end]
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Where the last `Content-Length:` on a header line starts.
fn find_last_header(line: &[u8]) -> Option<usize> {
    (0..line.len()).rev().find(|&i| starts_with_ignore_case(&line[i..], CONTENT_LENGTH))
}

/// The length a `Content-Length:` header's value gives, if it is a number.
fn parse_length(value: &[u8]) -> Option<usize> {
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// Where, in a body, starts a complete `Content-Length: N` line ended by a
/// raw line break, searching from `from`.
fn find_header_line(body: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + CONTENT_LENGTH.len() <= body.len() {
        if starts_with_ignore_case(&body[i..], CONTENT_LENGTH) {
            let rest = &body[i + CONTENT_LENGTH.len()..];
            let spaces = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
            let digits = rest[spaces..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 && matches!(rest.get(spaces + digits), Some(b'\r' | b'\n')) {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}
/// The message itself if it is a JSON-RPC message, else its replacement.
fn check(body: Vec<u8>) -> Vec<u8> {
    let Ok(value) = serde_json::from_slice::<Value>(&body) else { return replacement(PARSE_ERROR, Value::Null) };
    let object = value.as_object();
    let field = |name: &str| object.and_then(|o| o.get(name));
    let version_ok = field("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let id_ok = field("id").is_none_or(|id| id.is_null() || id.is_string() || id.is_i64() || id.is_u64());
    let is_request = field("method").is_some_and(Value::is_string)
        && field("params").is_none_or(|p| p.is_object() || p.is_array() || p.is_null());
    let is_response =
        field("id").is_some() && (field("result").is_some() || field("error").is_some_and(Value::is_object));
    if version_ok && id_ok && (is_request || is_response) {
        return body;
    }
    let id = field("id").filter(|id| id.is_string() || id.is_i64() || id.is_u64()).cloned().unwrap_or(Value::Null);
    replacement(INVALID_REQUEST, id)
}

fn replacement(method: &str, id: Value) -> Vec<u8> {
    json!({ "jsonrpc": "2.0", "id": id, "method": method }).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(input: &str) -> String {
        let mut output = Vec::new();
        sanitize(input.as_bytes(), &mut output).await;
        String::from_utf8(output).expect("utf-8")
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn well_formed_messages_pass_unchanged() {
        let message = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#;
        let response = r#"{"jsonrpc":"2.0","id":"a","result":null}"#;
        let input = format!("{}{}", frame(message), frame(response));
        assert_eq!(run(&input).await, input);
    }

    #[tokio::test]
    async fn malformed_messages_are_replaced() {
        let out = run(&frame("{ not json")).await;
        assert!(out.contains(r#""method":"aims/parseError""#) && out.contains(r#""id":null"#), "{out}");
        let out = run(&frame(r#"{"jsonrpc":"2.0","id":7,"params":{}}"#)).await;
        assert!(out.contains(r#""method":"aims/invalidRequest""#) && out.contains(r#""id":7"#), "{out}");
        let out = run(&frame(r#"{"jsonrpc":"1.0","method":"x"}"#)).await;
        assert!(out.contains("aims/invalidRequest"), "{out}");
        let out = run(&frame("\u{fffd}\u{0}")).await;
        assert!(out.contains("aims/parseError"), "{out}");
    }

    #[tokio::test]
    async fn garbage_headers_do_not_lose_the_next_message() {
        let message = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let input = format!("Content-Type: nothing\r\n\r\n{}", frame(message));
        let out = run(&input).await;
        assert!(out.contains("aims/parseError") && out.ends_with(message), "{out}");
        let truncated = "Content-Length: 100\r\n\r\n{\"jsonrpc\"";
        assert_eq!(run(truncated).await, "", "a message cut short ends the input");
    }

    const NEXT: &str = r#"{"jsonrpc":"2.0","id":9,"method":"shutdown"}"#;

    /// Every kind of bad framing, followed by a good message: the good
    /// message comes through, after a parse error for the bad one.
    fn bad_framings() -> Vec<(&'static str, String)> {
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#;
        vec![
            ("a length that is not a number", format!("Content-Length: abc\r\n\r\n{body}")),
            ("a negative length", format!("Content-Length: -4\r\n\r\n{body}")),
            ("an overflowing length", format!("Content-Length: 99999999999999999999999\r\n\r\n{body}")),
            ("no Content-Length", format!("Content-Type: application/json\r\n\r\n{body}")),
            ("a length too short", format!("Content-Length: 5\r\n\r\n{body}")),
            ("a length too long", format!("Content-Length: {}\r\n\r\n{body}", body.len() + 500)),
            ("a length far too long", format!("Content-Length: 9000000000\r\n\r\n{body}")),
            ("a body with no header", body.to_string()),
            ("a header cut short", "Content-Len".to_string()),
            ("binary noise", "\u{0}\u{1}\r\n\u{7f}:::\n\r\n".to_string()),
        ]
    }

    #[tokio::test]
    async fn bad_framing_is_answered_and_the_stream_resynchronises() {
        for (what, bad) in bad_framings() {
            let out = run(&format!("{bad}{}", frame(NEXT))).await;
            assert!(out.ends_with(&frame(NEXT)), "{what}: the next message is lost: {out}");
            if !matches!(what, "a header cut short" | "binary noise" | "a body with no header") {
                assert!(out.contains("aims/parseError"), "{what}: no parse error: {out}");
            }
        }
    }

    #[test]
    fn framing_does_not_depend_on_how_the_bytes_arrive() {
        for (what, bad) in bad_framings() {
            let input = format!("{bad}{}{}", frame(NEXT), frame(NEXT));
            let whole = {
                let mut framer = Framer::default();
                framer.push(input.as_bytes());
                std::iter::from_fn(|| framer.next_frame()).collect::<Vec<_>>()
            };
            let mut framer = Framer::default();
            let mut bytewise = Vec::new();
            for byte in input.as_bytes() {
                framer.push(std::slice::from_ref(byte));
                bytewise.extend(std::iter::from_fn(|| framer.next_frame()));
            }
            assert_eq!(whole, bytewise, "{what}");
            let next = Frame::Message(NEXT.as_bytes().to_vec());
            assert!(whole.ends_with(&[next.clone(), next]), "{what}: {whole:?}");
        }
    }

    /// The property the `framing` fuzz target checks, on pseudo-random
    /// garbage made of framing's own pieces: after any garbage, the second
    /// of two well-framed messages comes out whole.
    #[test]
    fn after_any_garbage_the_second_of_two_messages_comes_out() {
        let pieces: [&[u8]; 10] = [
            b"Content-Length: ",
            b"content-length:",
            b"12",
            b"99999999999",
            b"\r\n",
            b"\n",
            b"\r",
            b"{\"jsonrpc\":\"2.0\"}",
            b"abc",
            b":",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let mut stream = Vec::new();
            for _ in 0..next() % 12 {
                stream.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            stream.extend_from_slice(frame(NEXT).repeat(2).as_bytes());
            let mut framer = Framer::default();
            let mut frames = Vec::new();
            let mut at = 0;
            while at < stream.len() {
                let end = (at + 1 + (next() % 40) as usize).min(stream.len());
                framer.push(&stream[at..end]);
                at = end;
                frames.extend(std::iter::from_fn(|| framer.next_frame()));
            }
            let garbage = String::from_utf8_lossy(&stream[..stream.len() - 2 * frame(NEXT).len()]).into_owned();
            assert_eq!(frames.last(), Some(&Frame::Message(NEXT.as_bytes().to_vec())), "after {garbage:?}: {frames:?}");
        }
    }

    #[test]
    fn an_endless_header_line_stays_bounded() {
        let mut framer = Framer::default();
        for _ in 0..100 {
            framer.push(&[b'x'; 64 * 1024]);
            assert_eq!(framer.next_frame(), None);
            assert!(framer.buffer.len() <= 2 * 64 * 1024);
        }
        framer.push(format!("\r\n\r\n{}", frame(NEXT)).as_bytes());
        assert_eq!(framer.next_frame(), Some(Frame::Garbage));
        assert_eq!(framer.next_frame(), Some(Frame::Message(NEXT.as_bytes().to_vec())));
    }
}
