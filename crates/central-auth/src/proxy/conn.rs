//! One client connection while the reactor holds it: the bytes read so far,
//! where the request stands (head, body, or answered and closing), and its
//! deadline. The reactor feeds it what the socket has and asks what to do
//! next ([`Step`]); a complete request leaves with the connection for a
//! worker, which hands the connection back for the next request.
//!
//! Deadlines, so no client can hold the proxy with slow bytes:
//! - a new connection has [`HEAD_TIMEOUT`] for its whole request head;
//! - a kept-alive connection may stay silent for [`KEEPALIVE_IDLE`], then has
//!   [`HEAD_TIMEOUT`] from the first byte of its next request;
//! - the body must be complete [`BODY_TIMEOUT`] after the head;
//! - an answered connection that is closing is drained for [`LINGER`] at most.
//!
//! A connection from another user (or one whose user cannot be established)
//! never gets a request read: its bytes are skimmed until the head ends (or
//! [`STRANGER_HEAD_BYTES`], or the deadline), then it gets its 403.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use central_auth_http1::{parse_head, BodyDecoder, Limits, Parsed, RequestHead};

use super::refusal::Refusal;
use super::response::{encode, Persist, Reply};
use super::rules;
use super::transport::{Listening, Stream};

/// Time for a whole request head, from the connection's start (or from the
/// first byte of a kept-alive connection's next request).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for the body, from the end of the head.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a kept-alive connection may wait for its next request.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
/// How long a closing connection is drained so the client reads the answer
/// instead of a reset.
pub const LINGER: Duration = Duration::from_secs(2);
/// Requests served on one connection before it is closed.
pub const MAX_REQUESTS_PER_CONNECTION: u32 = 100;
/// What a stranger's head may cost before it is answered.
pub const STRANGER_HEAD_BYTES: usize = 16 * 1024;
/// Most bytes read from one connection per wake-up (fairness).
const READ_PER_WAKE: usize = 256 * 1024;

/// The limits of one request.
pub const LIMITS: Limits = Limits {
    max_head_bytes: 64 * 1024,
    max_headers: 100,
    max_body_bytes: 4 * 1024 * 1024,
};

/// Who opened the connection.
#[derive(Debug, Clone)]
pub enum Class {
    /// The proxy's owner (or root): requests are served.
    Owner,
    /// Anyone else, or nobody the kernel could name: refused with this.
    Stranger(Refusal),
}

/// A complete request, handed to a worker. No `Debug`: its body and headers
/// may hold credentials.
pub struct Request {
    /// The head.
    pub head: RequestHead,
    /// The path and query to forward (checked by [`rules::check`]).
    pub path: String,
    /// The decoded body.
    pub body: Vec<u8>,
}

/// Where the connection's current request stands (no `Debug`: it holds
/// request bytes).
pub enum State {
    /// Waiting for a request head; `idle` until its first byte.
    Head {
        /// No byte of this request yet.
        idle: bool,
    },
    /// Reading the body.
    Body {
        /// The request's head.
        head: Box<RequestHead>,
        /// The path to forward.
        path: String,
        /// The body so far.
        decoder: BodyDecoder,
    },
    /// Answered: writing `out`, then closing the writing half and draining
    /// what the client still sends, until EOF or the deadline.
    Closing {
        /// Answer bytes not yet written.
        out: Vec<u8>,
        /// The writing half is shut.
        shut: bool,
    },
}

/// What the reactor does with the connection next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Keep polling it.
    Wait,
    /// A request is complete: hand the connection to a worker.
    Dispatch,
    /// Drop it (closes the socket).
    Drop,
}

/// One connection held by the reactor (no `Debug`: it holds request bytes).
pub struct Conn {
    /// The socket (non-blocking).
    pub stream: Stream,
    /// The transport it came in on.
    pub on: Arc<Listening>,
    /// Who opened it.
    pub class: Class,
    /// Bytes read and not consumed yet.
    pub buf: Vec<u8>,
    /// Body bytes decoded so far (held by the decoder).
    body_held: usize,
    /// The current request's state.
    pub state: State,
    /// When the current state ends.
    pub deadline: Instant,
    /// Requests answered on this connection.
    pub served: u32,
    /// Last time bytes arrived (the oldest idle one is evicted first).
    pub last_active: Instant,
    /// The complete request, once [`Step::Dispatch`] was returned.
    pub ready: Option<Request>,
    /// A refusal made while reading, for the `-v` line.
    pub refused: Option<Refusal>,
}

/// The state machine: what the connection holds and owes, and its moves
/// between reading a head, waiting for a worker, writing and closing.
impl Conn {
    /// A new connection accepted at `now`.
    pub fn new(stream: Stream, on: Arc<Listening>, class: Class, now: Instant) -> Conn {
        Conn {
            stream,
            on,
            class,
            buf: Vec::new(),
            body_held: 0,
            state: State::Head { idle: true },
            deadline: now + HEAD_TIMEOUT,
            served: 0,
            last_active: now,
            ready: None,
            refused: None,
        }
    }

    /// Bytes this connection makes the proxy hold.
    pub fn held(&self) -> usize {
        self.buf.len() + self.body_held
    }

    /// Whether it waits between requests with nothing read.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Head { idle: true }) && self.buf.is_empty()
    }

    /// Whether it is closing (answered).
    pub fn is_closing(&self) -> bool {
        matches!(self.state, State::Closing { .. })
    }

    /// Whether the reactor should wait for it to become writable.
    pub fn wants_write(&self) -> bool {
        matches!(&self.state, State::Closing { out, .. } if !out.is_empty())
    }

    /// After a worker answered a request: wait for the next one.
    pub fn kept_alive(&mut self, now: Instant) {
        self.body_held = 0;
        self.state = State::Head { idle: true };
        self.deadline = now + KEEPALIVE_IDLE;
        self.last_active = now;
        self.refused = None;
        if !self.buf.is_empty() {
            self.started_request(now);
        }
    }

    /// After a worker answered with `Connection: close`.
    pub fn answered_closing(&mut self, now: Instant) {
        self.close_with(Vec::new(), now);
    }

    /// Answers `reply` and closes (after a drain).
    pub fn refuse(&mut self, refusal: Refusal, now: Instant) {
        let bytes = encode(&refusal.reply(), false, Persist::Close);
        self.refused = Some(refusal);
        self.close_with(bytes, now);
    }

    /// Answers a reply that is not a refusal and closes.
    pub fn answer_and_close(&mut self, reply: &Reply, now: Instant) {
        self.close_with(encode(reply, false, Persist::Close), now);
    }

    fn close_with(&mut self, out: Vec<u8>, now: Instant) {
        self.buf = Vec::new();
        self.body_held = 0;
        self.state = State::Closing { out, shut: false };
        self.deadline = now + LINGER;
    }

    fn started_request(&mut self, now: Instant) {
        if let State::Head { idle } = &mut self.state {
            if *idle {
                *idle = false;
                self.deadline = self.deadline.min(now + HEAD_TIMEOUT);
            }
        }
    }
}

/// The socket side: reading, writing, parsing the head as it arrives, and
/// the deadlines.
impl Conn {
    /// Reads what the socket has. `room` is how many more bytes the proxy
    /// may hold for all connections. Returns `Step::Drop` on EOF or error
    /// where nothing is owed to the client.
    pub fn read_available(&mut self, room: usize, now: Instant) -> Step {
        let mut scratch = [0u8; 16 * 1024];
        let mut taken = 0;
        loop {
            let closing = self.is_closing();
            let stranger = matches!(self.class, Class::Stranger(_));
            match self.stream.read(&mut scratch) {
                Ok(0) => return self.on_eof(now),
                Ok(n) => {
                    self.last_active = now;
                    if closing {
                        continue;
                    }
                    if stranger {
                        let keep = STRANGER_HEAD_BYTES.saturating_sub(self.buf.len()).min(n);
                        self.buf.extend_from_slice(&scratch[..keep]);
                    } else {
                        if taken + n > room {
                            self.answer_and_close(
                                &Reply::message(
                                    503,
                                    "central-auth proxy: too much request data in flight; retry shortly",
                                )
                                .with_header("Retry-After", "1"),
                                now,
                            );
                            return Step::Wait;
                        }
                        self.buf.extend_from_slice(&scratch[..n]);
                        self.started_request(now);
                    }
                    taken += n;
                    if taken >= READ_PER_WAKE {
                        return Step::Wait;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Step::Wait,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Step::Drop,
            }
        }
    }

    fn on_eof(&mut self, now: Instant) -> Step {
        match (&self.class, &self.state) {
            (_, State::Closing { .. }) => Step::Drop,
            (Class::Stranger(r), _) if !self.buf.is_empty() => {
                // It may still read its answer.
                let r = r.clone();
                self.refuse(r, now);
                Step::Wait
            }
            _ => Step::Drop,
        }
    }

    /// Writes pending answer bytes; shuts the writing half when done.
    pub fn write_pending(&mut self) -> Step {
        let State::Closing { out, shut } = &mut self.state else {
            return Step::Wait;
        };
        while !out.is_empty() {
            match std::io::Write::write(&mut self.stream, out) {
                Ok(0) => return Step::Drop,
                Ok(n) => {
                    out.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Step::Wait,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Step::Drop,
            }
        }
        if !*shut {
            *shut = true;
            self.stream.shutdown_write();
        }
        Step::Wait
    }

    /// Moves the request along with the bytes in hand; `on_continue` sends
    /// `100 Continue`.
    pub fn advance(&mut self, now: Instant) -> Step {
        if let Class::Stranger(refusal) = &self.class {
            if !self.is_closing()
                && (head_ended(&self.buf) || self.buf.len() >= STRANGER_HEAD_BYTES)
            {
                let r = refusal.clone();
                self.refuse(r, now);
            }
            return self.write_pending();
        }
        loop {
            match &mut self.state {
                State::Closing { .. } => return self.write_pending(),
                State::Head { .. } => {
                    if self.buf.is_empty() {
                        return Step::Wait;
                    }
                    let head = match parse_head(&self.buf, &LIMITS) {
                        Ok(Parsed::Partial) => return Step::Wait,
                        Ok(Parsed::Complete(head, used)) => {
                            self.buf.drain(..used);
                            head
                        }
                        Err(e) => {
                            let status = e.status().unwrap_or(400);
                            self.refuse(Refusal::new(status, "bad-request", e.message()), now);
                            continue;
                        }
                    };
                    let path = match rules::check(&head, &self.on) {
                        Ok(path) => path.to_owned(),
                        Err(r) => {
                            self.refuse(r, now);
                            continue;
                        }
                    };
                    let decoder = match BodyDecoder::new(&head.framing, &LIMITS) {
                        Ok(d) => d,
                        Err(e) => {
                            let status = e.status().unwrap_or(400);
                            self.refuse(Refusal::new(status, "bad-request", e.message()), now);
                            continue;
                        }
                    };
                    if head.expects_continue() && head.framing.has_body() && self.buf.is_empty() {
                        // Best effort: 25 bytes fit in any socket buffer.
                        let _ = std::io::Write::write(
                            &mut self.stream,
                            b"HTTP/1.1 100 Continue\r\n\r\n",
                        );
                    }
                    self.deadline = now + BODY_TIMEOUT;
                    self.state = State::Body {
                        head: Box::new(head),
                        path,
                        decoder,
                    };
                }
                State::Body { decoder, .. } => {
                    match decoder.feed(&self.buf) {
                        Ok(used) => {
                            self.buf.drain(..used);
                            self.body_held += used;
                        }
                        Err(e) => {
                            let status = e.status().unwrap_or(400);
                            self.refuse(Refusal::new(status, "bad-request", e.message()), now);
                            continue;
                        }
                    }
                    if !decoder.done() {
                        return Step::Wait;
                    }
                    let State::Body {
                        head,
                        path,
                        decoder,
                    } = std::mem::replace(&mut self.state, State::Head { idle: true })
                    else {
                        return Step::Drop;
                    };
                    self.ready = Some(Request {
                        head: *head,
                        path,
                        body: decoder.into_body(),
                    });
                    return Step::Dispatch;
                }
            }
        }
    }

    /// The deadline passed at `now`.
    pub fn expired(&mut self, now: Instant) -> Step {
        match (&self.class, &self.state) {
            (_, State::Closing { .. }) => Step::Drop,
            (Class::Stranger(r), _) => {
                let r = r.clone();
                self.refuse(r, now);
                self.write_pending()
            }
            (Class::Owner, State::Head { idle: true }) if self.buf.is_empty() => Step::Drop,
            (Class::Owner, State::Head { .. }) => {
                self.refuse(
                    Refusal::new(
                        408,
                        "head-timeout",
                        format!(
                            "the request head did not arrive within {} s",
                            HEAD_TIMEOUT.as_secs()
                        ),
                    ),
                    now,
                );
                self.write_pending()
            }
            (Class::Owner, State::Body { .. }) => {
                self.refuse(
                    Refusal::new(
                        408,
                        "body-timeout",
                        format!(
                            "the request body did not arrive within {} s",
                            BODY_TIMEOUT.as_secs()
                        ),
                    ),
                    now,
                );
                self.write_pending()
            }
        }
    }
}

/// Whether `buf` holds the empty line that ends a head (CRLF or bare LF: a
/// stranger gets its 403 either way).
fn head_ended(buf: &[u8]) -> bool {
    buf.windows(2).any(|w| w == b"\n\n") || buf.windows(4).any(|w| w == b"\r\n\r\n")
}
