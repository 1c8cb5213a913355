//! Finds an `access_token` a client put in its request, in every place Kong
//! 0.14's oauth2 plugin reads one from: it takes the parameter before the
//! `Authorization` header, so a client's own `access_token` would be checked
//! instead of the broker's token, and its 401 would look like the broker's
//! token died (a forced refresh). Such a request is never forwarded (the
//! proxy answers 400) rather than edited.
//!
//! Kong's `retrieve_parameters()` merges the query string with body
//! parameters chosen by `Content-Type`: `multipart/form-data` part names,
//! `application/json` object keys, and for anything else (no type, a form,
//! `text/plain`, ...) the body parsed as a form. Names are compared after
//! decoding (`%61ccess_token`, `+`), ignoring ASCII case. On top of Kong:
//! JSON keys are looked for at every depth (serde_json decodes `\u0061`), a
//! body of any other type that parses as JSON is also read as JSON (the
//! simulator, and gateways that sniff, read it so), and a body declared JSON
//! that does not parse is refused, since it cannot be checked.

/// The parameter Kong reads a token from.
const NAME: &str = "access_token";

/// Where a client-supplied `access_token` was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// In the query string.
    Query,
    /// In a form body (or a body of another type, read as a form).
    Form,
    /// As a key of a JSON body.
    Json,
    /// As a multipart part name.
    Multipart,
    /// A body declared JSON that cannot be parsed (so cannot be checked).
    UncheckableJson,
}

impl Found {
    /// The reason, for the client and the `-v` line.
    pub fn reason(self) -> &'static str {
        match self {
            Found::Query => "an access_token parameter in the query",
            Found::Form => "an access_token parameter in the form body",
            Found::Json => "an access_token key in the JSON body",
            Found::Multipart => "an access_token part in the multipart body",
            Found::UncheckableJson => "a JSON body that does not parse",
        }
    }
}

fn is_name(candidate: &str) -> bool {
    candidate.eq_ignore_ascii_case(NAME)
}

/// Whether the query of `path_and_query` names `access_token`.
pub fn in_target(path_and_query: &str) -> Option<Found> {
    let (_, query) = path_and_query.split_once('?')?;
    in_form(query.as_bytes()).then_some(Found::Query)
}

/// Whether a body of this `Content-Type` carries `access_token`.
pub fn in_body(content_type: Option<&str>, body: &[u8]) -> Option<Found> {
    if body.is_empty() {
        return None;
    }
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if ct.contains("multipart/form-data") {
        return in_multipart(content_type.unwrap_or_default(), body).then_some(Found::Multipart);
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if ct.contains("application/json") {
        return match json {
            Some(v) => has_key(&v).then_some(Found::Json),
            None => Some(Found::UncheckableJson),
        };
    }
    if json.as_ref().is_some_and(has_key) {
        return Some(Found::Json);
    }
    in_form(body).then_some(Found::Form)
}

fn in_form(bytes: &[u8]) -> bool {
    form_urlencoded::parse(bytes).any(|(k, _)| is_name(&k))
}

/// Any object key, at any depth.
fn has_key(v: &serde_json::Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if is_name(k) {
                        return true;
                    }
                    stack.push(v);
                }
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

/// The part names of a multipart body (`Content-Disposition: form-data;
/// name="..."`, also `name*=utf-8''...`). Without a boundary parameter every
/// line is looked at.
fn in_multipart(content_type: &str, body: &[u8]) -> bool {
    let boundary = content_type.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| format!("--{}", v.trim().trim_matches('"')))
    });
    let text = String::from_utf8_lossy(body);
    let mut in_headers = boundary.is_none();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(b) = &boundary {
            if line.trim_end().starts_with(b.as_str()) {
                in_headers = true;
                continue;
            }
            if in_headers && line.is_empty() {
                in_headers = false;
                continue;
            }
        }
        if in_headers && disposition_names_it(line) {
            return true;
        }
    }
    false
}

fn disposition_names_it(line: &str) -> bool {
    let Some((field, value)) = line.split_once(':') else {
        return false;
    };
    if !field.trim().eq_ignore_ascii_case("content-disposition") {
        return false;
    }
    value.split(';').skip(1).any(|param| {
        let Some((k, v)) = param.split_once('=') else {
            return false;
        };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim();
        match k.as_str() {
            "name" => {
                let unquoted = v.trim_matches('"').replace("\\\"", "\"");
                is_name(&unquoted)
                    || is_name(&percent_encoding::percent_decode_str(&unquoted).decode_utf8_lossy())
            }
            // RFC 5987: charset'language'percent-encoded.
            "name*" => v.rsplit('\'').next().is_some_and(|enc| {
                is_name(&percent_encoding::percent_decode_str(enc).decode_utf8_lossy())
            }),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_spelling_in_the_query() {
        for q in [
            "/a?access_token=x",
            "/a?limit=1&ACCESS_TOKEN=x",
            "/a?%61ccess_token=x",
            "/a?access%5Ftoken=x",
            "/a?%41%43%43%45%53%53%5f%54%4f%4b%45%4e=x",
            "/a?x=1&access_token",
            "/a?access_token=",
        ] {
            assert_eq!(in_target(q), Some(Found::Query), "{q}");
        }
        for q in [
            "/a",
            "/a?limit=1",
            "/access_token",
            "/a?x=access_token",
            "/a?access_tokens=1",
            "/a?access+token=1",
            "/a?%2561ccess_token=1",
        ] {
            assert_eq!(in_target(q), None, "{q}");
        }
    }

    #[test]
    fn finds_it_in_form_json_and_multipart_bodies() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(in_body(form, b"a=1&access_token=x"), Some(Found::Form));
        assert_eq!(in_body(form, b"a=1&%61ccess_token=x"), Some(Found::Form));
        assert_eq!(in_body(form, b"a=access_token"), None);
        // No type, or another type: Kong reads the body as a form.
        assert_eq!(in_body(None, b"access_token=x"), Some(Found::Form));
        assert_eq!(
            in_body(Some("text/plain"), b"access_token=x"),
            Some(Found::Form)
        );
        let json = Some("application/json; charset=utf-8");
        assert_eq!(in_body(json, br#"{"access_token":"x"}"#), Some(Found::Json));
        assert_eq!(
            in_body(json, br#"{"a":[{"b":{"\u0061ccess_TOKEN":1}}]}"#),
            Some(Found::Json)
        );
        assert_eq!(in_body(json, br#"{"a":"access_token"}"#), None);
        assert_eq!(in_body(json, b"{not json"), Some(Found::UncheckableJson));
        assert_eq!(in_body(None, br#"{"access_token":"x"}"#), Some(Found::Json));
        // A JSON value holding `&access_token=` is not a form.
        assert_eq!(in_body(json, br#"{"a":"b&access_token=c"}"#), None);
        let mp = Some("multipart/form-data; boundary=XyZ");
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\naccess_token=1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\nx\r\n--XyZ--\r\n";
        assert_eq!(in_body(mp, body), Some(Found::Multipart));
        let clean = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nContent-Disposition: form-data; name=\"access_token\"\r\n--XyZ--\r\n";
        assert_eq!(
            in_body(mp, clean),
            None,
            "a line of part content is content"
        );
        let star = b"--XyZ\r\nContent-Disposition: form-data; name*=utf-8''%61ccess_token\r\n\r\nx\r\n--XyZ--\r\n";
        assert_eq!(in_body(mp, star), Some(Found::Multipart));
        assert_eq!(in_body(None, b""), None);
    }
}
