//! Decoding the body that follows a head, incrementally: `Content-Length`
//! bodies and the chunked transfer coding (RFC 9112 §7.1), with the body size,
//! the chunk extensions and the trailers bounded by [`Limits`].
//!
//! The decoder is a byte-level state machine: its answer never depends on how
//! the input was split into calls of [`BodyDecoder::feed`].

use crate::error::{Malformed, RequestError};
use crate::fields::{check_field_line, FieldLineError};
use crate::framing::Framing;
use crate::limits::Limits;

/// Most hex digits in a chunk size (16 digits reach `u64::MAX`).
const MAX_SIZE_DIGITS: usize = 16;

/// Collects the body of one request from the bytes that follow its head.
#[derive(Debug)]
pub struct BodyDecoder {
    state: State,
    body: Vec<u8>,
    max_body: usize,
    /// Bytes of chunk extensions and trailers still allowed.
    meta_left: usize,
    meta_limit: usize,
    trailers_left: usize,
    trailers_limit: usize,
    /// The current chunk-size or trailer line, without its LF.
    line: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `Content-Length`: this many bytes still to come.
    Length(usize),
    /// Reading a chunk-size line.
    SizeLine,
    /// Reading chunk data: this many bytes still to come.
    Data(usize),
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// Reading a trailer line (or the final empty line).
    TrailerLine,
    /// The body is complete.
    Done,
}

impl BodyDecoder {
    /// A decoder for a body with this framing. A `Length` above
    /// `max_body_bytes` is refused (413).
    pub fn new(framing: &Framing, limits: &Limits) -> Result<BodyDecoder, RequestError> {
        let state = match *framing {
            Framing::None | Framing::Length(0) => State::Done,
            Framing::Length(n) if n > limits.max_body_bytes => {
                return Err(RequestError::BodyTooLarge {
                    limit: limits.max_body_bytes,
                })
            }
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::SizeLine,
        };
        Ok(BodyDecoder {
            state,
            body: Vec::new(),
            max_body: limits.max_body_bytes,
            meta_left: limits.max_head_bytes,
            meta_limit: limits.max_head_bytes,
            trailers_left: limits.max_headers,
            trailers_limit: limits.max_headers,
            line: Vec::new(),
        })
    }

    /// Feeds bytes that follow the head (or earlier fed bytes). Returns how many
    /// it consumed: all of them until the body is complete, then none (what is
    /// left belongs to the next request). After an error the decoder must not
    /// be fed again.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<usize, RequestError> {
        let mut at = 0;
        while at < bytes.len() && self.state != State::Done {
            at += self.step(&bytes[at..])?;
        }
        Ok(at)
    }

    /// Whether the whole body has been read.
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    /// The decoded body so far (all of it once [`done`](Self::done)).
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// Consumes a non-empty prefix of `bytes` for the current state.
    fn step(&mut self, bytes: &[u8]) -> Result<usize, RequestError> {
        match self.state {
            State::Length(left) | State::Data(left) => {
                let take = left.min(bytes.len());
                self.body.extend_from_slice(&bytes[..take]);
                let left = left - take;
                self.state = match self.state {
                    State::Length(_) if left == 0 => State::Done,
                    State::Length(_) => State::Length(left),
                    _ if left == 0 => State::DataCr,
                    _ => State::Data(left),
                };
                Ok(take)
            }
            // RFC 9112 §7.1: chunk data is followed by exactly CRLF.
            State::DataCr => match bytes[0] {
                b'\r' => {
                    self.state = State::DataLf;
                    Ok(1)
                }
                b'\n' => Err(Malformed::BareLf.into()),
                _ => Err(Malformed::ChunkDataEnd.into()),
            },
            State::DataLf => match bytes[0] {
                b'\n' => {
                    self.state = State::SizeLine;
                    Ok(1)
                }
                _ => Err(Malformed::BareCr.into()),
            },
            State::SizeLine | State::TrailerLine => self.line_step(bytes),
            State::Done => Ok(0),
        }
    }

    /// Collects a chunk-size or trailer line; handles it once its LF arrives.
    fn line_step(&mut self, bytes: &[u8]) -> Result<usize, RequestError> {
        let lf = bytes.iter().position(|&b| b == b'\n');
        let piece = &bytes[..lf.unwrap_or(bytes.len())];
        // Bound the line before holding it: a size line is at most the digits,
        // the extension budget left and its CR; a trailer line the budget and CR.
        let cap = match self.state {
            State::SizeLine => MAX_SIZE_DIGITS + self.meta_left + 1,
            _ => self.meta_left + 1,
        };
        if self.line.len() + piece.len() > cap {
            return Err(RequestError::ChunkMetadataTooLarge {
                limit: self.meta_limit,
            });
        }
        self.line.extend_from_slice(piece);
        let Some(lf) = lf else {
            return Ok(bytes.len());
        };
        let line = std::mem::take(&mut self.line);
        // RFC 9112 §2.2 (and §7.1): lines end in CRLF, never a bare LF.
        let Some(line) = line.strip_suffix(b"\r") else {
            return Err(Malformed::BareLf.into());
        };
        if line.contains(&b'\r') {
            return Err(Malformed::BareCr.into());
        }
        if self.state == State::SizeLine {
            self.size_line(line)?;
        } else {
            self.trailer_line(line)?;
        }
        Ok(lf + 1)
    }

    /// RFC 9112 §7.1: `chunk-size [ chunk-ext ] CRLF`.
    fn size_line(&mut self, line: &[u8]) -> Result<(), RequestError> {
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        // RFC 9112 §7.1: guard against overflow; 16 digits fill a u64.
        if digits == 0 || digits > MAX_SIZE_DIGITS {
            return Err(Malformed::ChunkSize.into());
        }
        let size = line[..digits].iter().try_fold(0u64, |n, &d| {
            let d = char::from(d).to_digit(16).map(u64::from);
            d.and_then(|d| n.checked_mul(16)?.checked_add(d))
        });
        let size = size
            .and_then(|s| usize::try_from(s).ok())
            .ok_or(Malformed::ChunkSize)?;
        let ext = &line[digits..];
        check_extensions(ext)?;
        // RFC 9112 §7.1.1: a server limits the extensions it accepts.
        self.meta_left =
            self.meta_left
                .checked_sub(ext.len())
                .ok_or(RequestError::ChunkMetadataTooLarge {
                    limit: self.meta_limit,
                })?;
        if size == 0 {
            self.state = State::TrailerLine;
            return Ok(());
        }
        if size > self.max_body - self.body.len() {
            return Err(RequestError::BodyTooLarge {
                limit: self.max_body,
            });
        }
        self.state = State::Data(size);
        Ok(())
    }

    /// RFC 9112 §7.1.2: trailer fields are checked, counted and discarded.
    fn trailer_line(&mut self, line: &[u8]) -> Result<(), RequestError> {
        if line.is_empty() {
            self.state = State::Done;
            return Ok(());
        }
        match check_field_line(line) {
            Ok(()) => {}
            Err(FieldLineError::ObsFold) => return Err(Malformed::ObsFold.into()),
            Err(FieldLineError::Name | FieldLineError::Value) => {
                return Err(Malformed::Trailer.into())
            }
        }
        self.trailers_left =
            self.trailers_left
                .checked_sub(1)
                .ok_or(RequestError::TooManyHeaders {
                    limit: self.trailers_limit,
                })?;
        self.meta_left =
            self.meta_left
                .checked_sub(line.len())
                .ok_or(RequestError::ChunkMetadataTooLarge {
                    limit: self.meta_limit,
                })?;
        Ok(())
    }
}

/// RFC 9112 §7.1.1: `*( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`,
/// `ext-val = token / quoted-string`.
fn check_extensions(mut s: &[u8]) -> Result<(), Malformed> {
    let bws = |s: &[u8]| -> usize { s.iter().take_while(|&&b| b == b' ' || b == b'\t').count() };
    let token = |s: &[u8]| -> usize {
        s.iter()
            .take_while(|&&b| crate::fields::is_tchar(b))
            .count()
    };
    loop {
        s = &s[bws(s)..];
        let Some(rest) = s.strip_prefix(b";") else {
            return if s.is_empty() {
                Ok(())
            } else {
                Err(Malformed::ChunkExtension)
            };
        };
        s = &rest[bws(rest)..];
        let name = token(s);
        if name == 0 {
            return Err(Malformed::ChunkExtension);
        }
        s = &s[name..];
        let after = &s[bws(s)..];
        let Some(value) = after.strip_prefix(b"=") else {
            continue;
        };
        s = &value[bws(value)..];
        let len = if s.first() == Some(&b'"') {
            quoted_string(s).ok_or(Malformed::ChunkExtension)?
        } else {
            token(s)
        };
        if len == 0 {
            return Err(Malformed::ChunkExtension);
        }
        s = &s[len..];
    }
}

/// The length of the RFC 9110 §5.6.4 quoted-string at the start of `s`.
fn quoted_string(s: &[u8]) -> Option<usize> {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                let next = *s.get(i + 1)?;
                if !(next == b'\t' || next == b' ' || (next >= 0x21 && next != 0x7f)) {
                    return None;
                }
                i += 2;
            }
            b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => i += 1,
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_head_bytes: 64,
            max_headers: 2,
            max_body_bytes: 16,
        }
    }

    /// Decodes `raw` in one call and byte by byte; both must agree.
    fn decode(framing: Framing, raw: &[u8]) -> Result<(Vec<u8>, usize), RequestError> {
        let one_shot = (|| {
            let mut d = BodyDecoder::new(&framing, &limits())?;
            let n = d.feed(raw)?;
            assert!(d.done(), "incomplete");
            Ok((d.into_body(), n))
        })();
        let bytewise = (|| {
            let mut d = BodyDecoder::new(&framing, &limits())?;
            let mut n = 0;
            for b in raw {
                if d.done() {
                    break;
                }
                n += d.feed(std::slice::from_ref(b))?;
            }
            assert!(d.done(), "incomplete");
            Ok((d.into_body(), n))
        })();
        assert_eq!(one_shot, bytewise);
        one_shot
    }

    fn chunked(raw: &[u8]) -> Result<Vec<u8>, RequestError> {
        decode(Framing::Chunked, raw).map(|(b, _)| b)
    }

    fn bad(m: Malformed) -> Result<Vec<u8>, RequestError> {
        Err(RequestError::Malformed(m))
    }

    #[test]
    fn length_bodies_stop_at_the_length() {
        assert_eq!(
            decode(Framing::Length(3), b"abcGET"),
            Ok((b"abc".to_vec(), 3))
        );
        assert_eq!(decode(Framing::None, b"GET"), Ok((Vec::new(), 0)));
        assert_eq!(
            BodyDecoder::new(&Framing::Length(17), &limits()).map(|_| ()),
            Err(RequestError::BodyTooLarge { limit: 16 })
        );
        let mut d = BodyDecoder::new(&Framing::Length(4), &limits()).expect("decoder");
        assert_eq!(d.feed(b"ab"), Ok(2));
        assert!(!d.done());
    }

    #[test]
    fn chunked_bodies_decode_and_stop_at_the_end() {
        let raw = b"3\r\nabc\r\n02;x=y ; z = \"q\\\"s\"\r\nde\r\n0\r\nT: v\r\n\r\nNEXT";
        assert_eq!(
            decode(Framing::Chunked, raw),
            Ok((b"abcde".to_vec(), raw.len() - 4))
        );
        assert_eq!(
            chunked(b"A\r\n0123456789\r\n0\r\n\r\n"),
            Ok(b"0123456789".to_vec())
        );
    }

    // RFC 9112 §7.1: chunk sizes are hex, checked for overflow.
    #[test]
    fn chunk_sizes() {
        assert_eq!(chunked(b"\r\n"), bad(Malformed::ChunkSize));
        assert_eq!(chunked(b"-1\r\n"), bad(Malformed::ChunkSize));
        assert_eq!(chunked(b"0x1\r\n"), bad(Malformed::ChunkExtension));
        assert_eq!(chunked(b" 1\r\n"), bad(Malformed::ChunkSize));
        assert_eq!(chunked(b"00000000000000000\r\n"), bad(Malformed::ChunkSize));
        assert_eq!(
            chunked(b"ffffffffffffffff\r\n"),
            Err(RequestError::BodyTooLarge { limit: 16 })
        );
        assert_eq!(
            chunked(b"11\r\n"),
            Err(RequestError::BodyTooLarge { limit: 16 })
        );
        assert_eq!(
            chunked(b"8\r\n01234567\r\n9\r\n"),
            Err(RequestError::BodyTooLarge { limit: 16 })
        );
    }

    // RFC 9112 §7.1.1: extensions are `;name[=value]`, and bounded.
    #[test]
    fn chunk_extensions() {
        assert_eq!(
            chunked(b"1;a\r\nx\r\n0;b=c;d=\"e f\"\r\n\r\n"),
            Ok(b"x".to_vec())
        );
        assert_eq!(chunked(b"1;\r\nx\r\n"), bad(Malformed::ChunkExtension));
        assert_eq!(chunked(b"1 x\r\nx\r\n"), bad(Malformed::ChunkExtension));
        assert_eq!(chunked(b"1;a=\r\nx\r\n"), bad(Malformed::ChunkExtension));
        assert_eq!(chunked(b"1;a=\"x\r\nx\r\n"), bad(Malformed::ChunkExtension));
        assert_eq!(chunked(b"1;a=b c\r\nx\r\n"), bad(Malformed::ChunkExtension));
        // 64 bytes of budget: one extension of 60 fits, a second does not.
        let ext60 = format!(";{}", "a".repeat(59));
        let ok = format!("1{ext60}\r\nx\r\n0\r\n\r\n");
        assert_eq!(chunked(ok.as_bytes()), Ok(b"x".to_vec()));
        let over = format!("1{ext60}\r\nx\r\n1{ext60}\r\ny\r\n0\r\n\r\n");
        assert_eq!(
            chunked(over.as_bytes()),
            Err(RequestError::ChunkMetadataTooLarge { limit: 64 })
        );
        // A line that can never fit is refused before its end arrives.
        let mut d = BodyDecoder::new(&Framing::Chunked, &limits()).expect("decoder");
        let long = format!("1;{}", "a".repeat(100));
        assert_eq!(
            d.feed(long.as_bytes()),
            Err(RequestError::ChunkMetadataTooLarge { limit: 64 })
        );
    }

    // RFC 9112 §7.1 and §2.2: CRLF after data exactly, CRLF line ends.
    #[test]
    fn chunk_line_endings() {
        assert_eq!(chunked(b"1\nx\r\n0\r\n\r\n"), bad(Malformed::BareLf));
        assert_eq!(chunked(b"1\r\nx\n0\r\n\r\n"), bad(Malformed::BareLf));
        assert_eq!(chunked(b"1\r\nx\r0\r\n\r\n"), bad(Malformed::BareCr));
        assert_eq!(
            chunked(b"1\r\nxy\r\n0\r\n\r\n"),
            bad(Malformed::ChunkDataEnd)
        );
        assert_eq!(chunked(b"1\r\nx\r\n0\r\n\n"), bad(Malformed::BareLf));
        assert_eq!(
            chunked(b"1\r\nx\r\n0\r\nA: b\n\r\n"),
            bad(Malformed::BareLf)
        );
        assert_eq!(chunked(b"1\r\r\nx\r\n0\r\n\r\n"), bad(Malformed::BareCr));
    }

    // RFC 9112 §7.1.2: trailers are field lines, bounded, discarded.
    #[test]
    fn trailers() {
        assert_eq!(chunked(b"0\r\nA: 1\r\nB: 2\r\n\r\n"), Ok(Vec::new()));
        assert_eq!(
            chunked(b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
            Err(RequestError::TooManyHeaders { limit: 2 })
        );
        assert_eq!(chunked(b"0\r\nA : 1\r\n\r\n"), bad(Malformed::Trailer));
        assert_eq!(chunked(b"0\r\nA: 1\r\n 2\r\n\r\n"), bad(Malformed::ObsFold));
        assert_eq!(chunked(b"0\r\nA: \x01\r\n\r\n"), bad(Malformed::Trailer));
        let long = format!("0\r\nA: {}\r\n\r\n", "b".repeat(70));
        assert_eq!(
            chunked(long.as_bytes()),
            Err(RequestError::ChunkMetadataTooLarge { limit: 64 })
        );
    }

    #[test]
    fn bytes_after_the_body_are_left() {
        let mut d = BodyDecoder::new(&Framing::Chunked, &limits()).expect("decoder");
        assert_eq!(d.feed(b"0\r\n\r\nGET / HTTP/1.1\r\n"), Ok(5));
        assert!(d.done());
        assert_eq!(d.feed(b"more"), Ok(0));
    }
}
