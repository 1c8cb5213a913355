//! The rules that need the whole head (RFC 9112 §3, §5, §6; RFC 9110 §5.5):
//! a token method, a valid target, clean UTF-8 values, exactly one valid
//! `Host` in HTTP/1.1, and one body length; they turn httparse's tokens into a
//! [`RequestHead`].

use crate::error::{Malformed, RequestError};
use crate::fields;
use crate::framing;
use crate::limits::Limits;
use crate::request_head::RequestHead;
use crate::target::{check_authority, parse_target};
use crate::version::Version;

/// Applies the rules that need the whole head.
pub(crate) fn build_head(
    request: &httparse::Request<'_, '_>,
    limits: &Limits,
) -> Result<RequestHead, RequestError> {
    let (Some(method), Some(path), Some(minor)) = (request.method, request.path, request.version)
    else {
        return Err(Malformed::RequestLine.into());
    };
    let version = match minor {
        0 => Version::Http10,
        1 => Version::Http11,
        _ => return Err(RequestError::UnsupportedVersion),
    };
    // RFC 9112 §3: the method is a token (httparse checks it too).
    if !fields::is_token(method.as_bytes()) {
        return Err(Malformed::RequestLine.into());
    }
    let target = parse_target(method, path)?;
    let mut headers = Vec::with_capacity(request.headers.len());
    for h in request.headers.iter() {
        // RFC 9110 §5.5: CR, LF and NUL never belong in a value (httparse
        // refuses them and every other control but HTAB already).
        if !h.value.iter().all(|&b| fields::is_field_value_byte(b)) {
            return Err(Malformed::HeaderValue.into());
        }
        let value = std::str::from_utf8(h.value).map_err(|_| Malformed::HeaderValueUtf8)?;
        headers.push((h.name.to_owned(), fields::trim_ows(value).to_owned()));
    }
    let named = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1 (at most one in 1.0), with a
    // valid value; otherwise 400.
    match (named("host").as_slice(), version) {
        ([], Version::Http11) => return Err(Malformed::MissingHost.into()),
        ([], Version::Http10) => {}
        ([host], _) => check_authority(host, false)?,
        _ => return Err(Malformed::DuplicateHost.into()),
    }
    let framing = framing::framing(
        version,
        &named("content-length"),
        &named("transfer-encoding"),
        limits,
    )?;
    Ok(RequestHead {
        method: method.to_owned(),
        target,
        version,
        headers,
        framing,
    })
}
