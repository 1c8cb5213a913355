//! The answer of an incremental parse ([`Parsed`]): more bytes needed, or
//! complete after so many bytes.

/// The answer of an incremental parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// More bytes are needed.
    Partial,
    /// Complete, after consuming this many bytes of the buffer.
    Complete(T, usize),
}
