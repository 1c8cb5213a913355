//! `central-auth-http1`: the one HTTP/1.1 request reader of the workspace.
//!
//! The loopback proxy (`central-auth proxy`) and the simulator (`central-sim`)
//! read requests with this crate, so both give every request one meaning.
//! Request lines and header lines are tokenised by [`httparse`] (hyper's
//! parser); the strict RFC 9112 rules that decide whether a request may be
//! served sit on top of it:
//!
//! - every line of the head and of the chunked framing ends in CRLF (a bare LF
//!   or bare CR is refused, RFC 9112 §2.2), at most one empty line precedes
//!   the request line, obsolete line folding is refused (§5.2);
//! - the request-target is parsed into its four forms (§3.2) and checked;
//! - `Host` appears exactly once in HTTP/1.1 and at most once in HTTP/1.0
//!   (§3.2), with a valid value;
//! - the body length has one meaning (§6.3): one `Content-Length` of plain
//!   digits, or `Transfer-Encoding: chunked` alone, never both;
//! - the head, the header count, the body and the chunked framing's metadata
//!   are bounded by [`Limits`], and an oversized head is refused before it is
//!   complete so a client cannot make the caller buffer forever.
//!
//! The crate is sans-IO and incremental: [`parse_head`] looks at whatever bytes
//! have arrived and answers [`Parsed::Partial`] until the head is complete (a
//! [`HeadParser`] does the same without looking at a byte twice), and a
//! [`BodyDecoder`] is fed the bytes that follow. A result other than
//! `Partial` never depends on how the bytes were split into reads. For
//! blocking callers [`read_request`] does both on any [`std::io::BufRead`].
//!
//! Errors ([`RequestError`]) carry the status to answer and a one-line message
//! that never echoes a header value.

mod body;
mod error;
mod fields;
mod framing;
mod head;
mod head_rules;
mod limits;
mod parsed;
mod read;
mod request_head;
mod target;
mod tokenizer;
mod version;

pub use body::BodyDecoder;
pub use error::{Malformed, RequestError};
pub use framing::Framing;
pub use head::{parse_head, HeadParser};
pub use limits::Limits;
pub use parsed::Parsed;
pub use read::{read_request, Request};
pub use request_head::RequestHead;
pub use target::Target;
pub use version::Version;
