//! Request parameters as Kong's `retrieve_parameters()` sees them: the
//! query string merged with a form or JSON body (body values win), plus
//! client credentials from parameters or `Authorization: Basic`.

use crate::encoding::{base64_decode, parse_form};
use crate::http::Request;

/// Merged request parameters; lookups return the first value.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Merges the body parameters (first) with the query parameters.
    pub fn from_request(req: &Request) -> Params {
        let mut pairs = body_params(req);
        pairs.extend(req.query_pairs());
        Params { pairs }
    }

    /// First value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parameters that carry a secret; in a query string they end up in logs.
pub const SECRET_PARAMS: [&str; 5] = [
    "client_secret",
    "refresh_token",
    "code",
    "password",
    "access_token",
];

/// How many secret parameters the query string of `req` carries.
pub fn secrets_in_query(req: &Request) -> u64 {
    req.query_pairs()
        .into_iter()
        .filter(|(k, _)| SECRET_PARAMS.contains(&k.as_str()))
        .count() as u64
}

/// Body parameters: form or JSON by `Content-Type`; without a
/// `Content-Type` a body starting with `{` is read as JSON, else as a form.
fn body_params(req: &Request) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(&req.body);
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let ct = req.content_type();
    let json = match ct.as_deref() {
        Some(c) if c.contains("json") => true,
        Some("application/x-www-form-urlencoded") => false,
        Some(_) => return Vec::new(),
        None => text.starts_with('{'),
    };
    if json {
        json_params(text)
    } else {
        parse_form(text)
    }
}

fn json_params(text: &str) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((k, v))
        })
        .collect()
}

/// Where the client credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// Client id (empty when none was found).
    pub id: String,
    /// Client secret (empty when none was found).
    pub secret: String,
    /// Taken from an `Authorization` header (a failure is then a 401).
    pub from_header: bool,
}

/// Kong's `retrieve_client_credentials()`: `client_id` and `client_secret`
/// parameters when both are present, else the `Authorization: Basic` header.
pub fn client_credentials(req: &Request, params: &Params) -> ClientCredentials {
    if let (Some(id), Some(secret)) = (params.get("client_id"), params.get("client_secret")) {
        return ClientCredentials {
            id: id.to_string(),
            secret: secret.to_string(),
            from_header: false,
        };
    }
    let Some(auth) = req.header("authorization") else {
        return ClientCredentials {
            id: String::new(),
            secret: String::new(),
            from_header: false,
        };
    };
    let decoded = auth
        .trim()
        .split_once(char::is_whitespace)
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| base64_decode(b64.trim()))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let (id, secret) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
    ClientCredentials {
        id: id.to_string(),
        secret: secret.to_string(),
        from_header: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &str, ct: Option<&str>, body: &str, auth: Option<&str>) -> Request {
        let mut headers = Vec::new();
        if let Some(ct) = ct {
            headers.push(("content-type".to_string(), ct.to_string()));
        }
        if let Some(a) = auth {
            headers.push(("authorization".to_string(), a.to_string()));
        }
        Request {
            method: "POST".into(),
            path: "/oauth2/token".into(),
            query: query.into(),
            version: "HTTP/1.1".into(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn merges_query_form_and_json() {
        let r = req(
            "grant_type=x&a=q",
            Some("application/x-www-form-urlencoded"),
            "a=f&b=2",
            None,
        );
        let p = Params::from_request(&r);
        assert_eq!(
            (p.get("a"), p.get("b"), p.get("grant_type")),
            (Some("f"), Some("2"), Some("x"))
        );
        let r = req(
            "a=q",
            Some("application/json; charset=utf-8"),
            r#"{"a":"j","n":5}"#,
            None,
        );
        let p = Params::from_request(&r);
        assert_eq!((p.get("a"), p.get("n")), (Some("j"), Some("5")));
        let r = req("a=q", None, "", None);
        assert_eq!(Params::from_request(&r).get("a"), Some("q"));
    }

    #[test]
    fn credentials_prefer_params_then_basic() {
        let r = req("client_id=p&client_secret=s", None, "", Some("Basic dTpw"));
        let c = client_credentials(&r, &Params::from_request(&r));
        assert_eq!(
            (c.id.as_str(), c.secret.as_str(), c.from_header),
            ("p", "s", false)
        );
        let r = req("client_id=p", None, "", Some("basic dTpw"));
        let c = client_credentials(&r, &Params::from_request(&r));
        assert_eq!(
            (c.id.as_str(), c.secret.as_str(), c.from_header),
            ("u", "p", true)
        );
    }
}
