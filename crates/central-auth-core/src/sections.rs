//! Splits a TOML document into its table sections without parsing any value, so
//! that a call for one profile parses only that profile's tables.
//!
//! A config with a thousand profiles is about 230 KB; parsing it all into typed
//! profiles costs several times a whole cached token call. The hot path instead
//! parses [`Sections::keep_profiles`]'s text: every section except the
//! `[profiles.OTHER…]` tables of other profiles. (Its line numbers are not the
//! file's: a caller that meets an error parses the whole file again, so the
//! message it shows is the whole parse's.)
//!
//! The scan is a lexer, not a parser: it tracks strings (basic, literal and both
//! multi-line kinds, with escapes), comments and the nesting of array and
//! inline-table values, and takes a `[` that starts a line outside all of them as
//! a table header. A header it cannot read exactly (a quoted key with escapes, an
//! array of tables, anything unexpected) makes the whole scan give up, and the
//! caller parses the whole file: the scan may only ever make the hot path
//! cheaper, never change what a valid file means.

use std::ops::Range;

/// The sections of a TOML document: the root (before the first header) and one
/// per table header, in order, covering the whole text.
#[derive(Debug, PartialEq, Eq)]
pub struct Sections<'a> {
    text: &'a str,
    parts: Vec<Part<'a>>,
}

/// One section: what its header names and its byte range.
#[derive(Debug, PartialEq, Eq)]
struct Part<'a> {
    header: Header<'a>,
    range: Range<usize>,
}

/// What a section's header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header<'a> {
    /// No header: the keys before the first one.
    Root,
    /// `[profiles.NAME]` or a table below it (`[profiles.NAME.sub]`).
    Profile(&'a str),
    /// Any other table (`[stores.team]`, a bare `[profiles]`).
    Other,
}

impl<'a> Sections<'a> {
    /// Scans `text`; `None` when it has a header this scan does not read exactly
    /// or an unterminated string or bracket (the caller then parses everything,
    /// and the TOML parser reports any error).
    ///
    /// A config whose strings are all one line long ([`Sections::scan_lines`])
    /// is split by jumping from bracket to bracket; any other by the lexer
    /// ([`Sections::scan_exact`]). Both give the same sections.
    pub fn scan(text: &'a str) -> Option<Sections<'a>> {
        Sections::scan_lines(text).or_else(|| Sections::scan_exact(text))
    }

    /// The fast split, for a text with no multi-line string: only the lines
    /// holding a `[` or `{` (found with SIMD `memchr`) are looked at. One that
    /// starts with `[` is a header; any other must close every bracket it opens
    /// (checked by lexing that line), else this gives up (`None`) and
    /// [`Sections::scan_exact`] decides. Every other line is a key and a
    /// one-line value, which cannot hide a header.
    pub fn scan_lines(text: &'a str) -> Option<Sections<'a>> {
        let bytes = text.as_bytes();
        if memchr::memmem::find(bytes, b"\"\"\"").is_some()
            || memchr::memmem::find(bytes, b"'''").is_some()
        {
            return None;
        }
        let mut parts = Vec::new();
        let (mut start, mut header) = (0, Header::Root);
        let mut done_to = 0;
        for hit in memchr::memchr2_iter(b'[', b'{', bytes) {
            if hit < done_to {
                continue;
            }
            let line_start = memchr::memrchr(b'\n', &bytes[..hit]).map_or(0, |p| p + 1);
            let line_end = memchr::memchr(b'\n', &bytes[hit..]).map_or(bytes.len(), |p| hit + p);
            if bytes[hit] == b'['
                && bytes[line_start..hit]
                    .iter()
                    .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
            {
                let (next, _) = read_header(text, hit)?;
                parts.push(Part {
                    header,
                    range: start..line_start,
                });
                (start, header) = (line_start, next);
            } else if !closes_its_brackets(bytes, line_start, line_end) {
                return None;
            }
            done_to = line_end;
        }
        parts.push(Part {
            header,
            range: start..bytes.len(),
        });
        Some(Sections { text, parts })
    }

    /// The exact split: a lexer over every byte (strings of every kind,
    /// comments, nested values across lines).
    pub fn scan_exact(text: &'a str) -> Option<Sections<'a>> {
        let bytes = text.as_bytes();
        let mut parts = Vec::new();
        let (mut start, mut header) = (0, Header::Root);
        let mut depth = 0usize;
        let mut line_start = true;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if !SPECIAL[usize::from(b)] {
                // The bulk of a config: keys, `=`, numbers, words. Skip the run.
                i += bytes[i..]
                    .iter()
                    .position(|&b| SPECIAL[usize::from(b)])
                    .unwrap_or(bytes.len() - i);
                line_start = false;
                continue;
            }
            match b {
                b'\n' => {
                    line_start = true;
                    i += 1;
                    continue;
                }
                b' ' | b'\t' | b'\r' => {
                    i += 1;
                    continue;
                }
                b'#' => i = skip_to_eol(bytes, i),
                b'[' if line_start && depth == 0 => {
                    let (next, end) = read_header(text, i)?;
                    let begin = line_begin(bytes, i);
                    parts.push(Part {
                        header,
                        range: start..begin,
                    });
                    (start, header) = (begin, next);
                    i = end;
                }
                b'"' | b'\'' => i = skip_string(bytes, i)?,
                b'[' | b'{' => {
                    depth += 1;
                    i += 1;
                }
                b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    i += 1;
                }
                _ => i += 1,
            }
            line_start = false;
        }
        if depth != 0 {
            return None;
        }
        parts.push(Part {
            header,
            range: start..bytes.len(),
        });
        Some(Sections { text, parts })
    }

    /// The text without the `[profiles.NAME…]` sections whose NAME is not in
    /// `keep`. All other sections (the root, `[stores.…]`, a bare `[profiles]`
    /// table) are kept as they are.
    pub fn keep_profiles(&self, keep: &[&str]) -> String {
        let kept = || {
            self.parts.iter().filter(|p| match p.header {
                Header::Profile(name) => keep.contains(&name),
                _ => true,
            })
        };
        let mut out = String::with_capacity(kept().map(|p| p.range.len()).sum());
        for part in kept() {
            out.push_str(&self.text[part.range.clone()]);
        }
        out
    }

    /// Whether `test` holds for the text of any `[profiles.NAME…]` section that
    /// [`Sections::keep_profiles`] leaves out.
    pub fn dropped_any(&self, keep: &[&str], test: impl Fn(&str) -> bool) -> bool {
        self.parts.iter().any(|p| match p.header {
            Header::Profile(name) => !keep.contains(&name) && test(&self.text[p.range.clone()]),
            _ => false,
        })
    }

    /// Every section in order: what its header names and its byte range (for
    /// `config_index`, which records them).
    pub fn parts(&self) -> impl Iterator<Item = (Header<'a>, Range<usize>)> + '_ {
        self.parts.iter().map(|p| (p.header, p.range.clone()))
    }

    /// The root section's text (the keys before the first header).
    pub fn root(&self) -> &'a str {
        match self.parts.first() {
            Some(Part {
                header: Header::Root,
                range,
            }) => &self.text[range.clone()],
            _ => "",
        }
    }
}

/// The bytes the scan must look at: whitespace ends a line start, the rest
/// open or close strings, comments, headers and nested values.
const SPECIAL: [bool; 256] = table(b"\n \t\r#\"'[]{}");

/// Whether the line `bytes[start..end]` (a key and its value, no header and no
/// multi-line string) closes every bracket and brace it opens.
fn closes_its_brackets(bytes: &[u8], start: usize, end: usize) -> bool {
    let mut depth = 0usize;
    let mut i = start;
    while i < end {
        match bytes[i] {
            b'#' => break,
            b'"' | b'\'' => match skip_string(bytes, i) {
                Some(next) if next <= end => {
                    i = next;
                    continue;
                }
                _ => return false,
            },
            b'[' | b'{' => depth += 1,
            b']' | b'}' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
        i += 1;
    }
    depth == 0
}

/// Index of the first byte of the line holding `i`.
fn line_begin(bytes: &[u8], i: usize) -> usize {
    bytes[..i]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1)
}

/// Index of the newline ending the line at `i` (or the end).
fn skip_to_eol(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| i + p)
}

/// Skips the string starting at `i` (a `"` or `'`); the index after it.
fn skip_string(bytes: &[u8], i: usize) -> Option<usize> {
    let quote = bytes[i];
    let triple = bytes.get(i..i + 3) == Some(&[quote; 3][..]);
    // The bytes that can end or escape this kind of string; the rest is skipped
    // in one run.
    let stops = match (quote, triple) {
        (b'"', false) => &BASIC_STOPS,
        (b'"', true) => &MULTILINE_BASIC_STOPS,
        (_, false) => &LITERAL_STOPS,
        (_, true) => &MULTILINE_LITERAL_STOPS,
    };
    let mut j = i + if triple { 3 } else { 1 };
    loop {
        j += bytes
            .get(j..)?
            .iter()
            .position(|&b| stops[usize::from(b)])?;
        match bytes[j] {
            b'\\' => j += 2,
            b'\n' => return None,
            _ if !triple => return Some(j + 1),
            _ if bytes.get(j..j + 3) == Some(&[quote; 3][..]) => {
                // Up to two quotes may end the content right before the closer.
                let mut end = j + 3;
                while end < j + 5 && bytes.get(end) == Some(&quote) {
                    end += 1;
                }
                return Some(end);
            }
            _ => j += 1,
        }
    }
}

/// A byte table with `true` at `bytes`.
const fn table(bytes: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
}

const BASIC_STOPS: [bool; 256] = table(b"\"\\\n");
const MULTILINE_BASIC_STOPS: [bool; 256] = table(b"\"\\");
const LITERAL_STOPS: [bool; 256] = table(b"'\n");
const MULTILINE_LITERAL_STOPS: [bool; 256] = table(b"'");

/// Reads a `[a.b."c"]` header at `i`: what it names and the index of the line's
/// end. `None` for `[[…]]`, quoted keys with escapes, or anything but
/// whitespace or a comment after the closing bracket.
fn read_header(text: &str, i: usize) -> Option<(Header<'_>, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(i + 1) == Some(&b'[') {
        return None;
    }
    // The first two keys are all that matters: `profiles` and the name.
    let mut keys: [Option<&str>; 2] = [None, None];
    let mut count = 0;
    let mut push = |key| {
        if count < 2 {
            keys[count] = Some(key);
        }
        count += 1;
    };
    let mut j = i + 1;
    loop {
        j = skip_blank(bytes, j);
        let key_start = j;
        match bytes.get(j)? {
            b'"' | b'\'' => {
                let q = bytes[j];
                let close = bytes[j + 1..].iter().position(|&b| b == q || b == b'\n')? + j + 1;
                let key = &text[j + 1..close];
                if bytes[close] != q || (q == b'"' && key.contains('\\')) {
                    return None;
                }
                push(key);
                j = close + 1;
            }
            _ => {
                while bytes
                    .get(j)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
                {
                    j += 1;
                }
                if j == key_start {
                    return None;
                }
                push(&text[key_start..j]);
            }
        }
        j = skip_blank(bytes, j);
        match bytes.get(j)? {
            b'.' => j += 1,
            b']' => break,
            _ => return None,
        }
    }
    let header = match keys {
        [Some("profiles"), Some(name)] => Header::Profile(name),
        _ => Header::Other,
    };
    j = skip_blank(bytes, j + 1);
    match bytes.get(j) {
        None | Some(b'\n') => Some((header, j)),
        Some(b'\r') if bytes.get(j + 1) == Some(&b'\n') => Some((header, j + 1)),
        Some(b'#') => Some((header, skip_to_eol(bytes, j))),
        Some(_) => None,
    }
}

fn skip_blank(bytes: &[u8], mut j: usize) -> usize {
    while matches!(bytes.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    j
}

#[cfg(test)]
mod tests;
