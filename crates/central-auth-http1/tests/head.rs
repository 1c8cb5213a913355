//! The request head's rules (RFC 9112 §2-§6, RFC 9110 §5), through the
//! public parse: `parse_head` and `HeadParser`.

use central_auth_http1::{
    parse_head, Framing, HeadParser, Limits, Malformed, Parsed, RequestError, RequestHead, Target,
    Version,
};

fn limits() -> Limits {
    Limits::default()
}

fn parse(raw: &[u8]) -> Result<Parsed<RequestHead>, RequestError> {
    parse_head(raw, &limits())
}

fn head(raw: &[u8]) -> RequestHead {
    match parse(raw) {
        Ok(Parsed::Complete(h, n)) => {
            assert_eq!(n, raw.len(), "whole buffer is the head");
            h
        }
        other => panic!("not complete: {other:?}"),
    }
}

fn refused(raw: &[u8]) -> RequestError {
    match parse(raw) {
        Err(e) => e,
        other => panic!("accepted: {other:?}"),
    }
}

fn bad(m: Malformed) -> RequestError {
    RequestError::Malformed(m)
}

#[test]
fn parses_a_request_and_stops_at_the_body() {
    let raw = b"POST /oauth2/token?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 3\r\nX-Two:  a b \t\r\n\r\nabcGET";
    let Ok(Parsed::Complete(h, n)) = parse(raw) else {
        panic!("not complete")
    };
    assert_eq!(&raw[n..], b"abcGET");
    assert_eq!(h.method, "POST");
    assert_eq!(h.target, Target::Origin("/oauth2/token?a=1".into()));
    assert_eq!(h.version, Version::Http11);
    assert_eq!(h.framing, Framing::Length(3));
    assert_eq!(h.header("x-two"), Some("a b"));
    assert_eq!(h.host(), Some("127.0.0.1:8080"));
    assert_eq!(h.headers[0].0, "Host", "names kept as sent");
    assert!(h.keep_alive());
    assert!(!h.expects_continue());
}

#[test]
fn every_prefix_is_partial() {
    let raw = b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    for end in 0..raw.len() {
        assert_eq!(parse(&raw[..end]), Ok(Parsed::Partial), "prefix {end}");
    }
    assert!(matches!(parse(raw), Ok(Parsed::Complete(_, n)) if n == raw.len()));
}

#[test]
fn debug_shows_no_header_value_nor_query() {
    let h = head(
        b"GET /p?access_token=SECRET1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRET2\r\n\r\n",
    );
    let debug = format!("{h:?}");
    assert!(!debug.contains("SECRET"), "{debug}");
    assert!(debug.contains("Authorization"), "{debug}");
}

// RFC 9112 §2.2: CRLF only; a bare LF anywhere in the head is refused,
// also before the head is complete.
#[test]
fn bare_lf_is_refused() {
    assert_eq!(
        refused(b"GET / HTTP/1.1\nHost: x\r\n\r\n"),
        bad(Malformed::BareLf)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\n\r\n"),
        bad(Malformed::BareLf)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\n\n"),
        bad(Malformed::BareLf)
    );
    assert_eq!(
        refused(b"\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        bad(Malformed::BareLf)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nA: b\nB"),
        bad(Malformed::BareLf)
    );
}

// RFC 9112 §2.2: a CR only as part of CRLF.
#[test]
fn bare_cr_is_refused() {
    let e = refused(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n");
    assert_eq!(e.status(), Some(400));
    assert_eq!(
        refused(b"\rGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        bad(Malformed::BareCr)
    );
}

// RFC 9112 §2.2: one empty line before the request line is ignored, a
// second one is refused.
#[test]
fn one_leading_empty_line_is_tolerated() {
    let h = head(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(h.method, "GET");
    assert_eq!(
        refused(b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        bad(Malformed::LeadingEmptyLines)
    );
}

// RFC 9112 §5.2: obsolete line folding is refused.
#[test]
fn obs_fold_is_refused() {
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"),
        bad(Malformed::ObsFold)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\tc\r\n\r\n"),
        bad(Malformed::ObsFold)
    );
    // Detected as soon as the folded line is complete.
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\n c\r\n"),
        bad(Malformed::ObsFold)
    );
}

// RFC 9112 §5.1 and RFC 9110 §5.1: names are tokens, no space before the colon.
#[test]
fn header_names_are_tokens() {
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
        bad(Malformed::HeaderName)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n"),
        bad(Malformed::HeaderName)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHo(st: x\r\n\r\n"),
        bad(Malformed::HeaderName)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\n: x\r\n\r\n"),
        bad(Malformed::HeaderName)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nnocolon\r\n\r\n"),
        bad(Malformed::HeaderName)
    );
}

// RFC 9110 §5.5: values are UTF-8 here, with no CR, LF, NUL or other controls.
#[test]
fn header_values_are_clean_utf8() {
    let h = head("GET / HTTP/1.1\r\nHost: x\r\nX: caf\u{e9}\r\n\r\n".as_bytes());
    assert_eq!(h.header("x"), Some("caf\u{e9}"));
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\nX: \xff\xfe\r\n\r\n"),
        bad(Malformed::HeaderValueUtf8)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"),
        bad(Malformed::HeaderValue)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n"),
        bad(Malformed::HeaderValue)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x7fb\r\n\r\n"),
        bad(Malformed::HeaderValue)
    );
}

// RFC 9112 §3: METHOD SP target SP version, single spaces, method a token.
#[test]
fn request_line_shape() {
    for raw in [
        &b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET /  HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b" GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        b"GET /\r\nHost: x\r\n\r\n",
        b"GET / http/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.10\r\nHost: x\r\n\r\n",
    ] {
        assert_eq!(
            refused(raw),
            bad(Malformed::RequestLine),
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}

// RFC 9112 §2.3 and RFC 9110 §15.6.6: other versions get 505.
#[test]
fn other_versions_get_505() {
    for raw in [
        &b"GET / HTTP/2.0\r\n\r\n"[..],
        b"GET / HTTP/1.2\r\nHost: x\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
    ] {
        let e = refused(raw);
        assert_eq!(e, RequestError::UnsupportedVersion);
        assert_eq!(e.status(), Some(505));
    }
    let h = head(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(h.version, Version::Http10);
}

// RFC 9112 §3.2: the target forms (details in target.rs).
#[test]
fn target_rules_apply_to_the_head() {
    assert_eq!(
        refused(b"GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n"),
        bad(Malformed::TargetFragment)
    );
    assert_eq!(
        refused(b"GET a/b HTTP/1.1\r\nHost: x\r\n\r\n"),
        bad(Malformed::TargetForm)
    );
    assert_eq!(
        refused(b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
        bad(Malformed::AsteriskNotOptions)
    );
    assert_eq!(
        refused(b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"),
        bad(Malformed::TargetCharacter)
    );
    assert_eq!(
        refused(b"GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n"),
        bad(Malformed::RequestLine)
    );
    let h = head(b"GET http://evil.example/p HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(
        h.target,
        Target::Absolute {
            scheme: "http".into(),
            authority: "evil.example".into(),
            path_and_query: "/p".into()
        }
    );
    let h = head(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");
    assert_eq!(h.target, Target::Authority("h:443".into()));
    let h = head(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(h.target, Target::Asterisk);
}

// RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0,
// with a valid value.
#[test]
fn host_rules() {
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\n\r\n"),
        bad(Malformed::MissingHost)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
        bad(Malformed::DuplicateHost)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
        bad(Malformed::DuplicateHost)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
        bad(Malformed::Authority)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"),
        bad(Malformed::Authority)
    );
    assert_eq!(
        refused(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
        bad(Malformed::Authority)
    );
    assert_eq!(head(b"GET / HTTP/1.0\r\n\r\n").host(), None);
    assert_eq!(head(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").host(), Some(""));
    assert_eq!(
        head(b"GET / HTTP/1.1\r\nHOST: [::1]:9\r\n\r\n").host(),
        Some("[::1]:9")
    );
}

// RFC 9112 §6.3 and RFC 9110 §8.6: one Content-Length of plain digits.
#[test]
fn content_length_rules() {
    let cl = |v: &str| {
        parse(format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {v}\r\n\r\n").as_bytes())
    };
    assert!(matches!(cl("0"), Ok(Parsed::Complete(h, _)) if h.framing == Framing::Length(0)));
    assert!(matches!(cl(" 12 "), Ok(Parsed::Complete(h, _)) if h.framing == Framing::Length(12)));
    for v in [
        "5, 5",
        "+5",
        "-1",
        "0x10",
        "5a",
        "",
        "184467440737095516160",
    ] {
        assert_eq!(cl(v), Err(bad(Malformed::InvalidContentLength)), "{v}");
    }
    assert_eq!(
        refused(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
        bad(Malformed::DuplicateContentLength)
    );
    assert_eq!(
        refused(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n"),
        bad(Malformed::DuplicateContentLength)
    );
    let big = cl(&(Limits::default().max_body_bytes + 1).to_string());
    assert_eq!(
        big,
        Err(RequestError::BodyTooLarge {
            limit: Limits::default().max_body_bytes
        })
    );
    assert_eq!(big.map(|_| ()).unwrap_err().status(), Some(413));
}

// RFC 9112 §6.1 and §6.3: Transfer-Encoding rules.
#[test]
fn transfer_encoding_rules() {
    let te = |v: &str| {
        parse(format!("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {v}\r\n\r\n").as_bytes())
    };
    assert!(matches!(te("chunked"), Ok(Parsed::Complete(h, _)) if h.framing == Framing::Chunked));
    assert!(matches!(te("ChunKed"), Ok(Parsed::Complete(h, _)) if h.framing == Framing::Chunked));
    for v in [
        "gzip, chunked",
        "chunked, chunked",
        "chunked;x=1",
        "identity, chunked",
    ] {
        let e = te(v).map(|_| ()).unwrap_err();
        assert_eq!(e, RequestError::UnsupportedTransferEncoding, "{v}");
        assert_eq!(e.status(), Some(501));
    }
    for v in ["gzip", "chunked, gzip", "", "identity"] {
        assert_eq!(te(v), Err(bad(Malformed::ChunkedNotFinal)), "{v}");
    }
    assert_eq!(
        refused(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
        RequestError::UnsupportedTransferEncoding
    );
    assert_eq!(
        refused(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
        bad(Malformed::TransferEncodingWithContentLength)
    );
    assert_eq!(
        refused(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
        bad(Malformed::TransferEncodingWithContentLength)
    );
    assert_eq!(
        refused(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        bad(Malformed::TransferEncodingInHttp10)
    );
}

// Head size and header count caps: 431, also on a partial buffer.
#[test]
fn head_caps() {
    let small = Limits {
        max_head_bytes: 64,
        max_headers: 2,
        max_body_bytes: 10,
    };
    let too_big = RequestError::HeadTooLarge { limit: 64 };
    let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\nX: ".to_vec();
    raw.resize(63, b'a');
    assert_eq!(parse_head(&raw, &small), Ok(Parsed::Partial));
    raw.push(b'a');
    assert_eq!(parse_head(&raw, &small), Err(too_big));
    assert_eq!(too_big.status(), Some(431));
    // Exactly at the cap is fine.
    let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\nX: ".to_vec();
    raw.resize(60, b'a');
    raw.extend_from_slice(b"\r\n\r\n");
    assert!(matches!(
        parse_head(&raw, &small),
        Ok(Parsed::Complete(_, 64))
    ));
    // A third header line, complete or not yet.
    let many = b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n";
    assert_eq!(
        parse_head(many, &small),
        Err(RequestError::TooManyHeaders { limit: 2 })
    );
    assert_eq!(
        parse_head(b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n", &small)
            .map(|p| matches!(p, Parsed::Complete(..))),
        Ok(true)
    );
    assert_eq!(
        RequestError::TooManyHeaders { limit: 2 }.status(),
        Some(431)
    );
}

#[test]
fn keep_alive_and_continue() {
    let ka = |raw: &[u8]| head(raw).keep_alive();
    assert!(ka(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert!(!ka(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n"
    ));
    assert!(!ka(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nConnection: x, close\r\n\r\n"
    ));
    assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
    assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    assert!(!ka(
        b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"
    ));
    assert!(head(
        b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n"
    )
    .expects_continue());
    assert!(
        !head(b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
            .expects_continue()
    );
}

#[test]
fn headers_named_in_order() {
    let h = head(b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nb: 2\r\na: 3\r\n\r\n");
    assert_eq!(h.headers_named("A").collect::<Vec<_>>(), ["1", "3"]);
    assert_eq!(h.header("B"), Some("2"));
    assert_eq!(h.header("c"), None);
}

/// Whatever the head, every prefix answers `Partial` or the same as the
/// whole buffer (the fuzz target checks this on arbitrary bytes).
#[test]
fn prefixes_never_disagree_with_the_whole() {
    let samples: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody",
        b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\r\n\r\nGET / HTTP/1.1\r\n",
        b"GET / HTTP/2.0\r\nA: b\nx",
        b"GET / HTTP/1.1 \r\nA: b\r\n\rx\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\n\rx\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD\n",
        b"GET / HTTP/1.1\r\nHost : x\r\n c\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n c\r\nX : y\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];
    let small = Limits {
        max_head_bytes: 64,
        max_headers: 2,
        max_body_bytes: 10,
    };
    for limits in [Limits::default(), small] {
        for raw in samples {
            let whole = parse_head(raw, &limits);
            let mut parser = HeadParser::new(limits);
            for end in 0..raw.len() {
                let part = parse_head(&raw[..end], &limits);
                assert!(
                    part == Ok(Parsed::Partial) || part == whole,
                    "{:?} at {end}: {part:?} vs {whole:?}",
                    String::from_utf8_lossy(raw)
                );
                // The stateful parser, one byte more each call, agrees.
                assert_eq!(parser.parse(&raw[..end]), part, "parser at {end}");
            }
            assert_eq!(parser.parse(raw), whole);
        }
    }
}

#[test]
fn head_parser_starts_over_on_another_buffer() {
    let mut parser = HeadParser::new(limits());
    assert_eq!(parser.parse(b"GET / HTTP/1.1\r\nHo"), Ok(Parsed::Partial));
    let other = b"PUT /x HTTP/1.1\r\nHost: y\r\n\r\n";
    assert_eq!(parser.parse(other), parse(other));
    parser.reset();
    assert_eq!(parser.parse(b"GET / HTTP/1.1\r\n"), Ok(Parsed::Partial));
    assert_eq!(parser.parse(b"G"), Ok(Parsed::Partial));
    // A shorter buffer, and a longer one that starts differently, are
    // read from their first byte.
    let partial = b"GET / HTTP/1.1\r\nHost: x\r\nA: bbbbbbb";
    assert_eq!(parser.parse(partial), Ok(Parsed::Partial));
    assert_eq!(parser.parse(b"GE\n"), Err(bad(Malformed::BareLf)));
    assert_eq!(parser.parse(partial), Ok(Parsed::Partial));
    let other = b"G\nT / HTTP/1.1\r\nHost: x\r\nA: bbbbbbbbbbbbbb";
    assert_eq!(parser.parse(other), Err(bad(Malformed::BareLf)));
}

#[test]
fn messages_are_one_line_and_echo_nothing() {
    let e = refused(b"GET / HTTP/1.1\r\nHost: x\r\nX-Secret: hunter2\x01\r\n\r\n");
    assert!(!e.message().contains("hunter2"));
    assert!(!e.message().contains('\n'));
}
