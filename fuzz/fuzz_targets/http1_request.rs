//! Fuzzes the strict HTTP/1.1 request reader shared by the proxy and the
//! simulator: no panic on any bytes, and the same answer however the bytes are
//! split into reads. The first 4 bytes choose the limits and the split; the
//! rest is the stream from the client.
//!
//! For the head, every prefix at a split point answers `Partial` or exactly
//! what the whole stream answers, and a `HeadParser` fed the growing buffer
//! answers the same as `parse_head` at every split; for the body, feeding the pieces gives the
//! same body, count and error as one feed; `read_request` over a small
//! `BufReader` agrees with both and leaves exactly the bytes after the request.
#![no_main]

use std::io::{BufRead, BufReader, Cursor};

use central_auth_http1::{
    parse_head, read_request, BodyDecoder, Framing, HeadParser, Limits, Parsed, Request,
    RequestError, RequestHead, Version,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((ctl, input)) = data.split_first_chunk::<4>() else {
        return;
    };
    let limits = Limits {
        max_head_bytes: 16 + usize::from(ctl[0]) * 4,
        max_headers: usize::from(ctl[1] % 24),
        max_body_bytes: usize::from(ctl[2]) * 4,
    };
    let ends = cuts(ctl[3], input.len());

    let whole = parse_head(input, &limits);
    check_error(&whole);
    let mut first = None;
    let mut parser = HeadParser::new(limits);
    for &end in &ends {
        let part = parse_head(&input[..end], &limits);
        // The stateful parser, given the growing buffer, agrees at every cut.
        assert_eq!(parser.parse(&input[..end]), part, "HeadParser disagrees");
        if part == Ok(Parsed::Partial) {
            // A buffer at the cap is never left waiting for more.
            assert!(end < limits.max_head_bytes, "partial at {end} bytes");
            continue;
        }
        first = Some(part);
        break;
    }
    match first {
        Some(part) => assert_eq!(part, whole, "a prefix disagrees with the whole"),
        None => assert_eq!(whole, Ok(Parsed::Partial)),
    }

    let mut expected: Result<(RequestHead, Vec<u8>, usize), RequestError> =
        Err(RequestError::Truncated);
    match &whole {
        Ok(Parsed::Complete(head, n)) => {
            assert!(*n <= input.len() && *n <= limits.max_head_bytes);
            check_head(head, &limits);
            let rest = &input[*n..];
            let one = decode(head, rest, &[rest.len()], &limits);
            let pieces = decode(
                head,
                rest,
                &cuts(ctl[3].rotate_left(3), rest.len()),
                &limits,
            );
            assert_eq!(one, pieces, "body decoding depends on the split");
            check_error(&one);
            expected = match one {
                Ok((body, used, true)) => Ok((head.clone(), body, n + used)),
                Ok((_, _, false)) => Err(RequestError::Truncated),
                Err(e) => Err(e),
            };
        }
        Ok(Parsed::Partial) if input.is_empty() || input == b"\r\n" => {
            expected = Err(RequestError::Closed);
        }
        Ok(Parsed::Partial) => {}
        Err(e) => expected = Err(*e),
    }

    // The blocking reader agrees, and leaves the next request's bytes.
    let capacity = 1 + usize::from(ctl[3] % 32);
    let mut reader = BufReader::with_capacity(capacity, Cursor::new(input));
    let mut continues = 0;
    let got = read_request(&mut reader, &limits, || {
        continues += 1;
        Ok(())
    });
    assert!(continues <= 1);
    match (got, expected) {
        (Ok(Request { head, body }), Ok((want_head, want_body, used))) => {
            assert_eq!(head, want_head);
            assert_eq!(body, want_body);
            assert_eq!(
                continues,
                u8::from(head.expects_continue() && head.framing.has_body())
            );
            let mut left = Vec::new();
            loop {
                let buf = reader.fill_buf().expect("cursor");
                if buf.is_empty() {
                    break;
                }
                left.extend_from_slice(buf);
                let n = buf.len();
                reader.consume(n);
            }
            assert_eq!(left, &input[used..], "bytes after the request");
        }
        (Err(e), Err(want)) => assert_eq!(e, want),
        (got, want) => panic!("read_request {got:?}, parse {want:?}"),
    }
});

/// Split points: increasing ends of pieces of 1 to 16 bytes, the last the whole.
fn cuts(seed: u8, len: usize) -> Vec<usize> {
    let mut state = u32::from(seed) | 0x100;
    let mut end = 0;
    let mut out = Vec::new();
    while end < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let piece = 1 + (state % u32::from(1 + seed % 16)) as usize;
        end = (end + piece).min(len);
        out.push(end);
    }
    if out.last() != Some(&len) {
        out.push(len);
    }
    out
}

/// Feeds `rest` cut at `ends`; the body, bytes consumed and completeness.
fn decode(
    head: &RequestHead,
    rest: &[u8],
    ends: &[usize],
    limits: &Limits,
) -> Result<(Vec<u8>, usize, bool), RequestError> {
    let mut d = BodyDecoder::new(&head.framing, limits)?;
    let mut used = 0;
    for &end in ends {
        if d.done() {
            break;
        }
        // Until the body is complete the decoder takes every byte offered.
        let n = d.feed(&rest[used..end])?;
        used += n;
        assert!(d.done() || used == end, "bytes left before the end");
    }
    let done = d.done();
    let body = d.into_body();
    assert!(body.len() <= limits.max_body_bytes);
    if let (Framing::Length(n), true) = (head.framing, done) {
        assert_eq!(body.len(), n);
        assert_eq!(used, n);
    }
    Ok((body, used, done))
}

/// What every accepted head guarantees.
fn check_head(head: &RequestHead, limits: &Limits) {
    assert!(!head.method.is_empty());
    assert!(head.headers.len() <= limits.max_headers);
    for (name, value) in &head.headers {
        assert!(!name.is_empty() && !name.contains([' ', '\t', ':']));
        assert!(!value.contains(['\r', '\n', '\0']));
        assert_eq!(value.trim_matches([' ', '\t']), value);
    }
    let hosts = head.headers_named("host").count();
    match head.version {
        Version::Http11 => assert_eq!(hosts, 1),
        Version::Http10 => assert!(hosts <= 1),
    }
    let lengths = head.headers_named("content-length").count();
    let codings = head.headers_named("transfer-encoding").count();
    match head.framing {
        Framing::None => assert_eq!((lengths, codings), (0, 0)),
        Framing::Length(n) => {
            assert_eq!((lengths, codings), (1, 0));
            assert!(n <= limits.max_body_bytes);
        }
        Framing::Chunked => {
            assert_eq!((lengths, codings, head.version), (0, 1, Version::Http11));
        }
    }
}

/// Errors are one line and carry the status of their kind.
fn check_error<T>(r: &Result<T, RequestError>) {
    if let Err(e) = r {
        let message = e.message();
        assert!(!message.is_empty() && !message.contains(['\n', '\r']));
        assert!(matches!(e.status(), Some(400 | 413 | 431 | 501 | 505)));
    }
}
