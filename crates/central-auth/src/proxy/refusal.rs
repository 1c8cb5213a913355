//! Why the proxy refuses a connection or a request: the status, a short
//! reason for the `-v` line and the client, and the one-line JSON answer.
//! Nothing here ever quotes a header value, a target or a body: they may
//! carry credentials.

use super::response::Reply;

/// A refusal: the status and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status answered.
    pub status: u16,
    /// A short reason code (`another-user`, `host`, `origin`, ...), in the
    /// answer's `refused` field and the `-v` line.
    pub code: &'static str,
    /// One line for the client and the log.
    pub message: String,
}

impl Refusal {
    /// A refusal with this status, code and message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }

    /// The answer: `{"message":"central-auth proxy: ...","refused":"CODE"}`.
    pub fn reply(&self) -> Reply {
        Reply::json(
            self.status,
            &serde_json::json!({
                "message": format!("central-auth proxy: {}", self.message),
                "refused": self.code,
            }),
        )
    }

    /// The `-v` line.
    pub fn log_line(&self, what: &str) -> String {
        format!(
            "proxy: refused {what} -> {} ({}: {})",
            self.status, self.code, self.message
        )
    }
}
