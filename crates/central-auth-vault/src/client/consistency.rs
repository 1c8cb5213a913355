//! Read-your-own-writes on any node of a Vault / OpenBao cluster.
//!
//! OpenBao 2.x standbys with integrated (Raft) storage answer reads from their
//! own copy by default (`disable_standby_reads = false`), and check a KV v2
//! check-and-set against it before they forward the write. A client that
//! writes over its own previous write through a standby that has not applied
//! it yet gets a check-and-set failure although nobody else wrote.
//!
//! Every response of a node on indexed storage carries `X-Vault-Index`, the
//! storage index it reflects. The client keeps the index of its latest write
//! (writes are always applied by the active node, so it is the newest the
//! client caused) and sends it back on every request, with
//! `X-Vault-Inconsistent: forward-active-node`: a node that has not applied
//! that index yet forwards the request to the active node instead of answering
//! from a stale copy. Nothing needs configuring on OpenBao 2.7; Vault
//! Enterprise performance standbys need `allow_forwarding_via_header` in the
//! server's `replication` stanza (docs/fleet.md), and Vault Community standbys
//! forward everything anyway. A node that cannot forward answers `307` to the
//! active node's address; the client follows one such redirect (https, or
//! plain http on loopback only) and otherwise reports the store unavailable.

use std::cell::RefCell;

use central_auth_core::http::{Request, Response};

/// The request header carrying the index the answer must reflect.
pub const INDEX_HEADER: &str = "X-Vault-Index";
/// The request header saying what a node behind that index does.
pub const INCONSISTENT_HEADER: &str = "X-Vault-Inconsistent";
/// Forward to the active node rather than answer from a stale copy.
pub const FORWARD: &str = "forward-active-node";
/// The longest index value kept (OpenBao's own bound is 12 KiB).
const MAX_INDEX: usize = 12 * 1024;

/// The storage index of this client's latest write.
#[derive(Default)]
pub struct Consistency {
    index: RefCell<Option<String>>,
}

impl Consistency {
    /// Adds the consistency headers to `request`.
    pub fn apply(&self, mut request: Request) -> Request {
        if let Some(index) = self.index.borrow().as_deref() {
            request = request.header(INDEX_HEADER, index);
        }
        request.header(INCONSISTENT_HEADER, FORWARD)
    }

    /// Keeps the index of `response`: always after a write, and after a read
    /// only while no write gave one (a read from a standby may reflect an older
    /// index than a write this client made; indices are opaque, so they are
    /// never compared).
    pub fn observe(&self, response: &Response, wrote: bool) {
        let Some(index) = response.header("x-vault-index") else {
            return;
        };
        let plausible = !index.is_empty()
            && index.len() <= MAX_INDEX
            && index.bytes().all(|b| b.is_ascii_graphic());
        if !plausible {
            return;
        }
        let mut held = self.index.borrow_mut();
        if wrote || held.is_none() {
            *held = Some(index.to_owned());
        }
    }

    /// The index last kept, for tests.
    #[cfg(test)]
    pub fn current(&self) -> Option<String> {
        self.index.borrow().clone()
    }
}

/// The active node's address from a standby's `307` answer to `url`: the
/// `Location` header, when it names a URL the client may send the Vault token
/// to (https, or plain http on loopback).
pub fn redirect_target(response: &Response) -> Option<String> {
    if response.status != 307 {
        return None;
    }
    let location = response.header("location")?;
    central_auth_core::net::normalize_url(location, "Location").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use central_auth_core::secret::SecretString;

    fn answer(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: SecretString::from(String::new()),
        }
    }

    #[test]
    fn a_write_index_wins_over_a_later_read_index() {
        let c = Consistency::default();
        c.observe(&answer(200, &[("x-vault-index", "c:5")]), false);
        assert_eq!(c.current().as_deref(), Some("c:5"));
        c.observe(&answer(200, &[("x-vault-index", "c:9")]), true);
        // A lagging standby's read does not move it back.
        c.observe(&answer(200, &[("x-vault-index", "c:7")]), false);
        assert_eq!(c.current().as_deref(), Some("c:9"));
        // Junk from a peer is not echoed.
        c.observe(&answer(200, &[("x-vault-index", "a b\n")]), true);
        assert_eq!(c.current().as_deref(), Some("c:9"));
    }

    #[test]
    fn redirects_are_followed_only_to_safe_urls() {
        let ok = answer(307, &[("location", "http://127.0.0.1:8210/v1/x")]);
        assert_eq!(
            redirect_target(&ok).as_deref(),
            Some("http://127.0.0.1:8210/v1/x")
        );
        let clear = answer(307, &[("location", "http://vault.example.com/v1/x")]);
        assert_eq!(redirect_target(&clear), None);
        assert_eq!(redirect_target(&answer(200, &[])), None);
    }
}
