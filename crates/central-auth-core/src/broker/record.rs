//! Building records: copies, fresh pairs from Central, imported pairs.

use time::OffsetDateTime;

use crate::import::ImportedToken;
use crate::oauth::TokenResponse;
use crate::secret::duplicate;
use crate::token::{StoredToken, TokenOrigin, FORMAT_VERSION};

/// A copy of a record (secrets duplicated, never exposed).
pub(super) fn copy_record(t: &StoredToken) -> StoredToken {
    StoredToken {
        format: t.format,
        generation: t.generation,
        access_token: duplicate(&t.access_token),
        refresh_token: t.refresh_token.as_ref().map(duplicate),
        token_type: t.token_type.clone(),
        issued_at: t.issued_at,
        expires_at: t.expires_at,
        refresh_issued_at: t.refresh_issued_at,
        origin: t.origin,
        access_rejected: t.access_rejected,
        rotating: t.rotating.clone(),
        lost: t.lost.clone(),
        tenant_id: t.tenant_id.clone(),
        tenant_name: t.tenant_name.clone(),
    }
}

pub(super) fn new_record(
    response: TokenResponse,
    expected: Option<u64>,
    origin: TokenOrigin,
) -> StoredToken {
    let now = OffsetDateTime::now_utc();
    StoredToken {
        format: FORMAT_VERSION,
        generation: expected.map_or(1, |g| g + 1),
        access_token: response.access_token,
        refresh_issued_at: response.refresh_token.as_ref().map(|_| now),
        refresh_token: response.refresh_token,
        token_type: response.token_type,
        issued_at: now,
        expires_at: crate::token::expiry_after(now, response.expires_in),
        origin,
        access_rejected: false,
        rotating: None,
        lost: None,
        tenant_id: None,
        tenant_name: None,
    }
}

/// The record after a refresh: the validated classic answer always carries the
/// new refresh token.
pub(super) fn record_from_response(
    response: TokenResponse,
    previous: &StoredToken,
    origin: TokenOrigin,
) -> StoredToken {
    new_record(response, Some(previous.generation), origin)
}

pub(super) fn record_from_import(imported: ImportedToken, expected: Option<u64>) -> StoredToken {
    StoredToken {
        format: FORMAT_VERSION,
        generation: expected.map_or(1, |g| g + 1),
        access_token: imported.access_token,
        refresh_token: Some(imported.refresh_token),
        token_type: imported.token_type,
        issued_at: imported.issued_at,
        expires_at: crate::token::expiry_after(imported.issued_at, imported.expires_in),
        refresh_issued_at: Some(imported.issued_at),
        origin: TokenOrigin::Import,
        access_rejected: false,
        rotating: None,
        lost: None,
        tenant_id: None,
        tenant_name: None,
    }
}
