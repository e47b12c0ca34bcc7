//! The output side of the transport: every message the server sends goes
//! through one writer, whole, in the order it was made.
//!
//! `tower-lsp-server` serializes what it sends through a
//! `serde_json::Value` tree. For `publishDiagnostics` on a policy with
//! hundreds of failing controls, that is milliseconds per keystroke spent
//! copying diagnostics that did not change. So the server writes those
//! notifications itself (see `crate::publish`): their bodies join the JSON
//! of each diagnostic, kept from one update to the next. Its other
//! messages come from `tower-lsp-server` through [`ServerOutput`], which
//! cuts them apart with the input side's [`Framer`], so that the two
//! streams of messages meet only between messages.
//!
//! The channel to the writer is bounded: a client that stops reading
//! stops the server's output, as a full pipe would, instead of growing
//! its memory.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::PollSender;

use crate::transport::{write_frame, Frame, Framer};

/// How many messages may wait for the writer.
const QUEUED: usize = 16;

/// What the writer is sent.
#[derive(Debug)]
enum Message {
    /// A JSON-RPC message's body; the writer adds the header.
    Body(Vec<u8>),
    /// Nothing more will be written.
    End,
}

/// Sends whole messages to the writer (cheap to clone).
#[derive(Clone, Debug)]
pub struct Messages(mpsc::Sender<Message>);

impl Messages {
    /// Queues a message's body, waiting while the queue is full; does
    /// nothing once the output has ended.
    pub async fn send(&self, body: Vec<u8>) {
        let _ = self.0.send(Message::Body(body)).await;
    }

    /// Tells the writer to stop after the messages already queued.
    pub async fn end(&self) {
        let _ = self.0.send(Message::End).await;
    }
}

/// The output `tower-lsp-server` writes to: its bytes are cut into
/// messages, each sent to the writer whole.
pub struct ServerOutput {
    framer: Framer,
    sender: PollSender<Message>,
    /// Complete messages waiting for room in the queue.
    pending: VecDeque<Vec<u8>>,
}

impl ServerOutput {
    /// Sends the pending messages while the queue has room.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            ready!(self.sender.poll_reserve(cx)).map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
            let Some(body) = self.pending.pop_front() else { break };
            self.sender.send_item(Message::Body(body)).map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ServerOutput {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // Take no more bytes while earlier messages wait: the server's
        // writes wait as they would on a full pipe.
        ready!(self.poll_pending(cx))?;
        self.framer.push(buf);
        while let Some(frame) = self.framer.next_frame() {
            // `tower-lsp-server` frames every message well: nothing else comes out.
            if let Frame::Message(body) = frame {
                self.pending.push_back(body);
            }
        }
        // What cannot be sent now is sent at the next write or flush.
        let _ = self.poll_pending(cx)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_pending(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// The writer: takes the messages in the order they were queued and
/// writes each, framed, to the real output.
pub struct Writer(mpsc::Receiver<Message>);

impl Writer {
    /// Writes until [`Messages::end`]. If the output fails (the client
    /// went away), later messages are dropped, so that no sender waits.
    pub async fn run<O: AsyncWrite + Unpin>(mut self, mut output: O) {
        let mut broken = false;
        while let Some(Message::Body(body)) = self.0.recv().await {
            if broken {
                continue;
            }
            let mut written = write_frame(&mut output, &body).await;
            if written.is_ok() && self.0.is_empty() {
                written = output.flush().await;
            }
            broken = written.is_err();
        }
        let _ = output.flush().await;
    }
}

/// The three ends of the output: where the server's own messages are
/// sent, what `tower-lsp-server` writes to, and the writer.
pub fn output() -> (Messages, ServerOutput, Writer) {
    let (sender, receiver) = mpsc::channel(QUEUED);
    let server =
        ServerOutput { framer: Framer::unbounded(), sender: PollSender::new(sender.clone()), pending: VecDeque::new() };
    (Messages(sender), server, Writer(receiver))
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// Both streams of messages come out whole, however the server's bytes
    /// are cut, each in its order.
    #[tokio::test]
    async fn messages_come_out_whole_and_in_order() {
        let (messages, mut server, writer) = output();
        let (client, out) = tokio::io::duplex(1 << 20);
        let writing = tokio::spawn(writer.run(out));
        let theirs = format!("{}{}", frame(r#"{"id":1}"#), frame(r#"{"id":2,"result":"x"}"#));
        // Cut inside the first header and inside the second body.
        server.write_all(&theirs.as_bytes()[..7]).await.expect("write");
        messages.send(br#"{"mine":1}"#.to_vec()).await;
        server.write_all(&theirs.as_bytes()[7..40]).await.expect("write");
        server.write_all(&theirs.as_bytes()[40..]).await.expect("write");
        server.flush().await.expect("flush");
        messages.send(br#"{"mine":2}"#.to_vec()).await;
        messages.end().await;
        writing.await.expect("the writer ends");
        let mut written = String::new();
        let mut client = client;
        client.read_to_string(&mut written).await.expect("read");
        let mut framer = Framer::default();
        framer.push(written.as_bytes());
        let bodies: Vec<String> = std::iter::from_fn(|| framer.next_frame())
            .map(|frame| match frame {
                Frame::Message(body) => String::from_utf8(body).expect("text"),
                Frame::Garbage => panic!("garbage in {written:?}"),
            })
            .collect();
        let theirs: Vec<&String> = bodies.iter().filter(|b| b.contains("id")).collect();
        let mine: Vec<&String> = bodies.iter().filter(|b| b.contains("mine")).collect();
        assert_eq!(theirs, [r#"{"id":1}"#, r#"{"id":2,"result":"x"}"#]);
        assert_eq!(mine, [r#"{"mine":1}"#, r#"{"mine":2}"#]);
        assert_eq!(bodies.len(), 4, "{written:?}");
    }

    /// The server's own messages are never too long, unlike a client's.
    #[tokio::test]
    async fn a_message_longer_than_the_input_limit_passes_whole() {
        let (messages, mut server, writer) = output();
        let (mut client, out) = tokio::io::duplex(1 << 20);
        let writing = tokio::spawn(writer.run(out));
        let long = format!(r#"{{"id":1,"result":"{}"}}"#, "x".repeat(65 * 1024 * 1024));
        let reading = tokio::spawn(async move {
            let mut written = Vec::new();
            client.read_to_end(&mut written).await.expect("read");
            written
        });
        server.write_all(frame(&long).as_bytes()).await.expect("write");
        server.flush().await.expect("flush");
        messages.end().await;
        writing.await.expect("the writer ends");
        let written = reading.await.expect("read");
        assert_eq!(written.len(), frame(&long).len());
        assert!(written.ends_with(b"\"}"));
    }

    /// A client that went away does not block the server's senders.
    #[tokio::test]
    async fn a_closed_output_drops_messages_without_blocking() {
        let (messages, _server, writer) = output();
        let (client, out) = tokio::io::duplex(64);
        drop(client);
        let writing = tokio::spawn(writer.run(out));
        for _ in 0..(QUEUED * 4) {
            messages.send(vec![b'x'; 1024]).await;
        }
        messages.end().await;
        writing.await.expect("the writer ends");
    }
}
