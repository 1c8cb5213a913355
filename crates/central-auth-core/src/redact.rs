//! Redaction of URLs for messages and logs.
//!
//! Central takes `client_secret`, `refresh_token` and `code` in the query string,
//! and Kong accepts `access_token` there too, so any URL that reaches an error or a
//! log line goes through [`redact_url`] first.

/// Query parameter names whose values are secrets.
pub const SECRET_PARAMS: &[&str] = &[
    "client_secret",
    "refresh_token",
    "access_token",
    "code",
    "password",
    "token",
];

/// What replaces a secret value.
pub const REDACTED: &str = "REDACTED";

/// Replaces the values of secret query parameters, and any user info, in `url`.
pub fn redact_url(url: &str) -> String {
    let (without_fragment, _) = url.split_once('#').unwrap_or((url, ""));
    let (base, query) = match without_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (without_fragment, None),
    };
    let base = strip_userinfo(base);
    let Some(query) = query else {
        return base;
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let secret = SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s));
            if secret && !v.is_empty() {
                format!("{k}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

fn strip_userinfo(base: &str) -> String {
    match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://{REDACTED}@{host}{path}"),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_query_are_redacted() {
        let url = "https://apigw.example/oauth2/token?client_id=cid&client_secret=S3CR3T&grant_type=refresh_token&refresh_token=RTRT";
        let r = redact_url(url);
        assert_eq!(
            r,
            "https://apigw.example/oauth2/token?client_id=cid&client_secret=REDACTED&grant_type=refresh_token&refresh_token=REDACTED"
        );
    }

    #[test]
    fn userinfo_and_fragment_are_removed() {
        assert_eq!(
            redact_url("https://user:pw@host.example/p?ACCESS_TOKEN=x#frag"),
            "https://REDACTED@host.example/p?ACCESS_TOKEN=REDACTED"
        );
        assert_eq!(redact_url("http://127.0.0.1:8/x"), "http://127.0.0.1:8/x");
    }
}
