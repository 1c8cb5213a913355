//! Bounds on what one request may make the reader hold ([`Limits`]).

/// Bounds on what one request may make the reader hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head: request line, header lines and the empty line
    /// that ends them (and the one tolerated empty line before the request
    /// line). Also the budget for chunk extensions and trailers of one body.
    pub max_head_bytes: usize,
    /// Most header lines in one head (and most trailer lines in one body).
    pub max_headers: usize,
    /// Largest body, after chunked decoding.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    /// 64 KiB of head, 100 headers, 1 MiB of body.
    fn default() -> Limits {
        Limits {
            max_head_bytes: 64 * 1024,
            max_headers: 100,
            max_body_bytes: 1024 * 1024,
        }
    }
}
