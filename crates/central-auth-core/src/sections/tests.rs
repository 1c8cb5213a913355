//! Unit tests of the section split.

use super::*;

fn headers(text: &str) -> Vec<Header<'_>> {
    Sections::scan(text)
        .expect("scans")
        .parts
        .iter()
        .map(|p| p.header)
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
        headers(text),
        vec![
            Header::Root,
            Header::Profile("a"),
            Header::Profile("b"),
            Header::Profile("c"),
            Header::Other
        ]
    );
}

#[test]
fn keeps_the_named_profiles_and_every_other_section() {
    let text = "d = 1\n[profiles.a]\nk = 1\n\n[profiles.b]\nk = 2\n[profiles]\n[stores.s]\nk = 3\n[profiles.a.sub]\n";
    let sections = Sections::scan(text).unwrap();
    assert_eq!(
        sections.keep_profiles(&["b"]),
        "d = 1\n[profiles.b]\nk = 2\n[profiles]\n[stores.s]\nk = 3\n"
    );
    assert_eq!(sections.keep_profiles(&["a", "b"]), text);
    assert_eq!(sections.root(), "d = 1\n");
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
        assert!(Sections::scan_exact(text).is_none(), "{text:?}");
    }
    // Headers it cannot read stop either split; a broken one-line value is
    // left to the TOML parser (the section holding it is parsed, or, in
    // another profile, not this call's business).
    for text in [
        "[[profiles.a]]\n",
        "[profiles.\"a\\u0062\"]\n",
        "[profiles.a] x = 1\n",
        "x = [1,\n",
    ] {
        assert!(Sections::scan(text).is_none(), "{text:?}");
    }
}

#[test]
fn the_line_split_agrees_with_the_lexer_or_leaves_it_the_file() {
    let plain = "d = \"main\"\n[profiles.a]\nhosts = [\"x\", \"[y]\"] # [z]\nt = { a = 1 }\n  [profiles.b]  \n# [profiles.c]\ns = 'it''s'\n[stores.s]\n";
    let fast = Sections::scan_lines(plain).expect("one-line values");
    assert_eq!(Some(&fast), Sections::scan_exact(plain).as_ref());
    assert_eq!(
        fast.parts.iter().map(|p| p.header).collect::<Vec<_>>(),
        vec![
            Header::Root,
            Header::Profile("a"),
            Header::Profile("b"),
            Header::Other
        ]
    );
    // A value over several lines, or a multi-line string: the lexer decides.
    for text in [
        "x = [\n  [1],\n]\n[profiles.a]\n",
        "s = \"\"\"\n[profiles.fake]\n\"\"\"\n[profiles.a]\n",
        "x = { a = [\n1] }\n",
    ] {
        assert!(Sections::scan_lines(text).is_none(), "{text:?}");
        assert_eq!(Sections::scan(text), Sections::scan_exact(text), "{text:?}");
    }
}

#[test]
fn multiline_strings_end_with_extra_quotes() {
    let text = "s = \"\"\"a\"\"\"\"\"\n[profiles.a]\nt = '''x'''''\n[profiles.b]\n";
    assert_eq!(
        headers(text),
        vec![Header::Root, Header::Profile("a"), Header::Profile("b")]
    );
    // Escaped quotes do not end a basic string.
    assert_eq!(
        headers("s = \"a\\\"[b]\"\n[t]\n"),
        vec![Header::Root, Header::Other]
    );
}
