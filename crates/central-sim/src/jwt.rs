//! JWT-shaped tokens: three base64url parts, opaque random values to the
//! simulator (the signature is random bytes).

use crate::encoding::base64url_encode;
use crate::state::State;

/// A JWT-shaped opaque token valid for `ttl`.
pub fn jwt_like(st: &mut State, client_id: &str, ttl: std::time::Duration) -> String {
    let now = st.now_ms() / 1000;
    let header = serde_json::json!({"alg": "RS256", "kid": "central-sim", "typ": "JWT"});
    let payload = serde_json::json!({
        "client_id": client_id,
        "exp": now + ttl.as_secs(),
        "iat": now,
        "iss": "https://sso.common.cloud.hpe.com",
        "jti": st.rng.uuid(),
        "sub": client_id,
    });
    let sig = st.rng.bytes(64);
    format!(
        "{}.{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(payload.to_string().as_bytes()),
        base64url_encode(&sig)
    )
}
