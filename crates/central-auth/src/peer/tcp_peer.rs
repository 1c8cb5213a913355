//! The answer of a TCP peer lookup, shared by both ways of asking the kernel.

/// The answer about one TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpPeer {
    /// The client's socket was created by this uid.
    Uid(u32),
    /// No live socket of this host holds the client's end (it closed, or the
    /// client is not local).
    NotFound,
}
