//! The input side of the transport, made safe against malformed messages.
//!
//! `tower-lsp-server` reads stdin with a `FramedRead`, and a framed stream
//! ends at its first decoding error: one message that is not JSON, or JSON
//! that is not a JSON-RPC message, would stop the server. So stdin passes
//! through [`sanitize`] first, which frames the messages itself and
//! forwards every well-formed one unchanged. A malformed one is replaced
//! by a request for [`PARSE_ERROR`] or [`INVALID_REQUEST`], which the
//! server answers with the JSON-RPC error the client is owed (-32700 with
//! id `null`, or -32600 with the message's id): the client hears about its
//! mistake and the server carries on.

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// The method a message that is not JSON is replaced by.
pub const PARSE_ERROR: &str = "aims/parseError";
/// The method a JSON value that is not a JSON-RPC message is replaced by.
pub const INVALID_REQUEST: &str = "aims/invalidRequest";

/// The largest message read (a policy file is at most 8 MiB; escaped in
/// JSON it may double).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Copies LSP messages from `input` to `output`, replacing malformed ones,
/// until `input` ends.
pub async fn sanitize<R, W>(input: R, mut output: W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = BufReader::new(input);
    loop {
        let forwarded = match read_message(&mut input).await {
            Read::End => break,
            Read::Message(body) => check(body),
            Read::Garbage => replacement(PARSE_ERROR, Value::Null),
        };
        let frame = format!("Content-Length: {}\r\n\r\n", forwarded.len());
        let written = async {
            output.write_all(frame.as_bytes()).await?;
            output.write_all(&forwarded).await?;
            output.flush().await
        };
        if written.await.is_err() {
            break; // the server is gone
        }
    }
    let _ = output.shutdown().await;
}

enum Read {
    Message(Vec<u8>),
    /// Headers without a usable `Content-Length`, or a body too large.
    Garbage,
    End,
}

async fn read_message<R: AsyncRead + Unpin>(input: &mut BufReader<R>) -> Read {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return Read::End,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !saw_header {
                continue; // blank lines between messages
            }
            break;
        }
        saw_header = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let Some(length) = length else { return Read::Garbage };
    if length > MAX_MESSAGE {
        // Skip the body without keeping it.
        let skipped = tokio::io::copy(&mut (&mut *input).take(length as u64), &mut tokio::io::sink()).await;
        return match skipped {
            Ok(n) if n == length as u64 => Read::Garbage,
            _ => Read::End,
        };
    }
    let mut body = vec![0; length];
    match input.read_exact(&mut body).await {
        Ok(_) => Read::Message(body),
        Err(_) => Read::End,
    }
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
}
