//! Reading one whole request from a blocking [`BufRead`]: a [`HeadParser`] on
//! the bytes as they arrive, then a [`BodyDecoder`]. Bytes after the request
//! stay in the reader for the next one (pipelining, keep-alive).

use std::io::BufRead;

use crate::body::BodyDecoder;
use crate::error::RequestError;
use crate::head::HeadParser;
use crate::limits::Limits;
use crate::parsed::Parsed;
use crate::request_head::RequestHead;

/// A whole request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Request line and headers.
    pub head: RequestHead,
    /// The body, de-chunked (empty when there is none).
    pub body: Vec<u8>,
}

/// Reads one request from `r`.
///
/// `on_continue` is called once, before the body is read, when the head asks
/// for `Expect: 100-continue` and a body follows; it typically writes
/// `HTTP/1.1 100 Continue`. Returns [`RequestError::Closed`] when the
/// connection ends before a request starts (an ignorable empty line
/// included), and [`RequestError::Truncated`] when it ends inside one.
pub fn read_request(
    r: &mut impl BufRead,
    limits: &Limits,
    mut on_continue: impl FnMut() -> std::io::Result<()>,
) -> Result<Request, RequestError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut parser = HeadParser::new(*limits);
    let head = loop {
        let available = fill(r)?;
        if available.is_empty() {
            return Err(if buf.is_empty() || buf == b"\r\n" {
                RequestError::Closed
            } else {
                RequestError::Truncated
            });
        }
        let before = buf.len();
        buf.extend_from_slice(available);
        match parser.parse(&buf)? {
            Parsed::Partial => {
                let n = available.len();
                r.consume(n);
            }
            Parsed::Complete(head, end) => {
                // The head ends in the bytes just added: the earlier buffer
                // was partial, and the answer never changes with more bytes.
                r.consume(end.saturating_sub(before));
                break head;
            }
        }
    };
    let mut decoder = BodyDecoder::new(&head.framing, limits)?;
    if head.expects_continue() && head.framing.has_body() {
        on_continue()?;
    }
    while !decoder.done() {
        let available = fill(r)?;
        if available.is_empty() {
            return Err(RequestError::Truncated);
        }
        let n = decoder.feed(available)?;
        r.consume(n);
    }
    Ok(Request {
        head,
        body: decoder.into_body(),
    })
}

/// `fill_buf`, retrying on `Interrupted`.
fn fill(r: &mut impl BufRead) -> Result<&[u8], RequestError> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    r.fill_buf().map_err(RequestError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Malformed;
    use crate::framing::Framing;
    use crate::target::Target;
    use std::io::{BufReader, Cursor, Read};

    fn reader(raw: &[u8], capacity: usize) -> BufReader<Cursor<Vec<u8>>> {
        BufReader::with_capacity(capacity, Cursor::new(raw.to_vec()))
    }

    #[test]
    fn reads_pipelined_requests_whatever_the_buffer_size() {
        let raw = b"POST /oauth2/token?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\r\nGET /x HTTP/1.0\r\n\r\nPUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n";
        for capacity in [1, 2, 3, 7, 64, 8192] {
            let mut r = reader(raw, capacity);
            let limits = Limits::default();
            let a = read_request(&mut r, &limits, || Ok(())).expect("first");
            assert_eq!(a.head.target, Target::Origin("/oauth2/token?a=1".into()));
            assert_eq!(a.body, b"abc");
            let b = read_request(&mut r, &limits, || Ok(())).expect("second");
            assert_eq!(b.head.target, Target::Origin("/x".into()));
            assert!(b.body.is_empty());
            let c = read_request(&mut r, &limits, || Ok(())).expect("third");
            assert_eq!(c.head.framing, Framing::Chunked);
            assert_eq!(c.body, b"de");
            assert_eq!(
                read_request(&mut r, &limits, || Ok(())),
                Err(RequestError::Closed),
                "capacity {capacity}"
            );
        }
    }

    #[test]
    fn continue_is_asked_once_before_the_body() {
        let raw =
            b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi";
        let mut calls = 0;
        let req = read_request(&mut reader(raw, 8), &Limits::default(), || {
            calls += 1;
            Ok(())
        })
        .expect("request");
        assert_eq!((calls, req.body.as_slice()), (1, &b"hi"[..]));
        // No body follows: no 100 Continue.
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n";
        let mut calls = 0;
        read_request(&mut reader(raw, 8), &Limits::default(), || {
            calls += 1;
            Ok(())
        })
        .expect("request");
        assert_eq!(calls, 0);
        // A failing continue write ends the read.
        let raw =
            b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi";
        let e = read_request(&mut reader(raw, 8), &Limits::default(), || {
            Err(std::io::ErrorKind::BrokenPipe.into())
        });
        assert_eq!(e, Err(RequestError::Io(std::io::ErrorKind::BrokenPipe)));
    }

    #[test]
    fn closed_truncated_and_refused() {
        let limits = Limits::default();
        let read = |raw: &[u8]| read_request(&mut reader(raw, 4), &limits, || Ok(()));
        assert_eq!(read(b""), Err(RequestError::Closed));
        assert_eq!(read(b"\r\n"), Err(RequestError::Closed));
        assert_eq!(read(b"GET / HTTP/1.1\r\nHo"), Err(RequestError::Truncated));
        assert_eq!(
            read(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab"),
            Err(RequestError::Truncated)
        );
        assert_eq!(RequestError::Truncated.status(), Some(400));
        assert_eq!(RequestError::Closed.status(), None);
        assert_eq!(
            read(b"GET / HTTP/1.1\nHost: x\r\n\r\n"),
            Err(RequestError::Malformed(Malformed::BareLf))
        );
    }

    #[test]
    fn an_endless_head_is_refused_at_the_cap() {
        let limits = Limits {
            max_head_bytes: 1024,
            ..Limits::default()
        };
        let endless = std::io::repeat(b'a').take(1 << 30);
        let mut r = BufReader::with_capacity(100, endless);
        assert_eq!(
            read_request(&mut r, &limits, || Ok(())),
            Err(RequestError::HeadTooLarge { limit: 1024 })
        );
    }

    #[test]
    fn io_errors_are_reported_without_status() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::TimedOut.into())
            }
        }
        let e = read_request(&mut BufReader::new(Failing), &Limits::default(), || Ok(()));
        assert_eq!(e, Err(RequestError::Io(std::io::ErrorKind::TimedOut)));
        assert_eq!(
            RequestError::Io(std::io::ErrorKind::TimedOut).status(),
            None
        );
    }
}
