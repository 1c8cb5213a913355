//! Splits a TOML document into its table sections without parsing any value, so
//! that a call for one profile parses only that profile's tables.
//!
//! A config with a thousand profiles is about 230 KB; parsing it all into typed
//! profiles costs several times a whole cached token call. The hot path instead
//! parses [`Sections::keep_profile`]'s text: every section except the
//! `[profiles.OTHER…]` tables of other profiles, each of which is replaced by as
//! many newlines as it had, so line numbers in error messages stay those of the
//! file.
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
#[derive(Debug)]
pub struct Sections<'a> {
    text: &'a str,
    /// Header key path (`None` for the root section) and byte range.
    parts: Vec<(Option<Vec<&'a str>>, Range<usize>)>,
}

impl<'a> Sections<'a> {
    /// Scans `text`; `None` when it has a header this scan does not read exactly
    /// or an unterminated string or bracket (the caller then parses everything,
    /// and the TOML parser reports any error).
    pub fn scan(text: &'a str) -> Option<Sections<'a>> {
        let bytes = text.as_bytes();
        let mut parts = Vec::new();
        let (mut start, mut path): (usize, Option<Vec<&str>>) = (0, None);
        let mut depth = 0usize;
        let mut line_start = true;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
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
                    let (header, end) = read_header(text, i)?;
                    parts.push((path.take(), start..line_begin(bytes, i)));
                    start = line_begin(bytes, i);
                    path = Some(header);
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
        parts.push((path, start..bytes.len()));
        Some(Sections { text, parts })
    }

    /// The text with every `[profiles.NAME…]` section whose NAME is not in
    /// `keep` blanked to its newlines. All other sections (the root, `[stores.…]`,
    /// a bare `[profiles]` table) are kept as they are.
    pub fn keep_profiles(&self, keep: &[&str]) -> String {
        let mut out = String::with_capacity(self.text.len());
        for (path, range) in &self.parts {
            let slice = &self.text[range.clone()];
            let dropped = match path.as_deref() {
                Some(["profiles", name, ..]) => !keep.contains(name),
                _ => false,
            };
            if dropped {
                out.extend(std::iter::repeat_n('\n', slice.matches('\n').count()));
            } else {
                out.push_str(slice);
            }
        }
        out
    }

    /// The root section's text (the keys before the first header).
    pub fn root(&self) -> &'a str {
        match self.parts.first() {
            Some((None, range)) => &self.text[range.clone()],
            _ => "",
        }
    }
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
    let escapes = quote == b'"';
    let triple = bytes.get(i..i + 3) == Some(&[quote; 3][..]);
    let mut j = i + if triple { 3 } else { 1 };
    while j < bytes.len() {
        let b = bytes[j];
        if escapes && b == b'\\' {
            j += 2;
            continue;
        }
        if !triple && b == b'\n' {
            return None;
        }
        if b == quote {
            if !triple {
                return Some(j + 1);
            }
            if bytes.get(j..j + 3) == Some(&[quote; 3][..]) {
                // Up to two quotes may end the content right before the closer.
                let mut end = j + 3;
                while end < j + 5 && bytes.get(end) == Some(&quote) {
                    end += 1;
                }
                return Some(end);
            }
        }
        j += 1;
    }
    None
}

/// Reads a `[a.b."c"]` header at `i`: its key path and the index after the
/// line's end. `None` for `[[…]]`, quoted keys with escapes, or anything but
/// whitespace or a comment after the closing bracket.
fn read_header(text: &str, i: usize) -> Option<(Vec<&str>, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(i + 1) == Some(&b'[') {
        return None;
    }
    let mut keys = Vec::new();
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
                keys.push(key);
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
                keys.push(&text[key_start..j]);
            }
        }
        j = skip_blank(bytes, j);
        match bytes.get(j)? {
            b'.' => j += 1,
            b']' => break,
            _ => return None,
        }
    }
    j = skip_blank(bytes, j + 1);
    match bytes.get(j) {
        None | Some(b'\n') => Some((keys, j)),
        Some(b'\r') if bytes.get(j + 1) == Some(&b'\n') => Some((keys, j + 1)),
        Some(b'#') => Some((keys, skip_to_eol(bytes, j))),
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
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<Option<String>> {
        Sections::scan(text)
            .expect("scans")
            .parts
            .iter()
            .map(|(p, _)| p.as_ref().map(|p| p.join(".")))
            .collect()
    }

    #[test]
    fn finds_headers_only_outside_values() {
        let text = r#"default_profile = "a"
x = [
  [1, 2],
  { k = "[profiles.fake]" },
]
s = """
[profiles.in_string]
"""
l = '''
[profiles.in_literal]'''
# [profiles.in_comment]
[profiles.a]   # a comment
base_url = "x"
[ profiles . "b" ]
[profiles.'c'.sub]
[stores.team]
"#;
        assert_eq!(
            paths(text),
            vec![
                None,
                Some("profiles.a".into()),
                Some("profiles.b".into()),
                Some("profiles.c.sub".into()),
                Some("stores.team".into())
            ]
        );
    }

    #[test]
    fn keeps_line_numbers_and_other_sections() {
        let text =
            "d = 1\n[profiles.a]\nk = 1\n\n[profiles.b]\nk = 2\n[profiles]\n[stores.s]\nk = 3\n";
        let kept = Sections::scan(text).unwrap().keep_profiles(&["b"]);
        assert_eq!(
            kept,
            "d = 1\n\n\n\n[profiles.b]\nk = 2\n[profiles]\n[stores.s]\nk = 3\n"
        );
        assert_eq!(kept.lines().count(), text.lines().count());
    }

    #[test]
    fn gives_up_on_what_it_cannot_read_exactly() {
        for text in [
            "[[profiles.a]]\n",
            "[profiles.\"a\\u0062\"]\n",
            "[profiles.a] x = 1\n",
            "x = \"unterminated\n",
            "x = [1,\n",
            "s = \"\"\"never closed\n",
            "[profiles.]\n",
            "]\n",
        ] {
            assert!(Sections::scan(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn multiline_strings_end_with_extra_quotes() {
        let text = "s = \"\"\"a\"\"\"\"\"\n[profiles.a]\nt = '''x'''''\n[profiles.b]\n";
        assert_eq!(
            paths(text),
            vec![None, Some("profiles.a".into()), Some("profiles.b".into())]
        );
        // Escaped quotes do not end a basic string.
        assert_eq!(
            paths("s = \"a\\\"[b]\"\n[t]\n"),
            vec![None, Some("t".into())]
        );
    }
}
