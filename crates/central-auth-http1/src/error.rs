//! Why a request was refused, the status to answer, and a one-line message for
//! the client and the log. No message echoes a header value, a target or a
//! body byte: they may carry credentials.

/// Why a request cannot be read or served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The client closed the connection before sending a request (no answer).
    #[error("connection closed before a request was sent")]
    Closed,
    /// Reading failed or timed out (no answer).
    #[error("reading the request failed: {0}")]
    Io(std::io::ErrorKind),
    /// The connection ended in the middle of a request (400).
    #[error("the connection ended before the request was complete")]
    Truncated,
    /// The request breaks the message syntax or an RFC 9112 framing rule (400).
    #[error("bad request: {0}")]
    Malformed(Malformed),
    /// The head is longer than [`Limits::max_head_bytes`](crate::Limits) (431).
    #[error("request head larger than {limit} bytes")]
    HeadTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// More header (or trailer) lines than [`Limits::max_headers`](crate::Limits) (431).
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// The body is larger than [`Limits::max_body_bytes`](crate::Limits) (413).
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// Chunk extensions and trailers of one body exceed their budget
    /// ([`Limits::max_head_bytes`](crate::Limits)) (413).
    #[error("chunk extensions and trailers larger than {limit} bytes")]
    ChunkMetadataTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A transfer coding other than `chunked` alone (501).
    #[error("transfer codings other than a single `chunked` are not implemented")]
    UnsupportedTransferEncoding,
    /// A well-formed HTTP version other than 1.0 and 1.1 (505).
    #[error("only HTTP/1.0 and HTTP/1.1 are supported")]
    UnsupportedVersion,
}

impl RequestError {
    /// The status to answer, or `None` when there is nobody to answer (the
    /// connection closed before a request, or reading failed).
    pub fn status(&self) -> Option<u16> {
        match self {
            RequestError::Closed | RequestError::Io(_) => None,
            RequestError::Truncated | RequestError::Malformed(_) => Some(400),
            RequestError::HeadTooLarge { .. } | RequestError::TooManyHeaders { .. } => Some(431),
            RequestError::BodyTooLarge { .. } | RequestError::ChunkMetadataTooLarge { .. } => {
                Some(413)
            }
            RequestError::UnsupportedTransferEncoding => Some(501),
            RequestError::UnsupportedVersion => Some(505),
        }
    }

    /// The one-line message (same as `Display`).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl From<Malformed> for RequestError {
    fn from(m: Malformed) -> RequestError {
        RequestError::Malformed(m)
    }
}

impl From<std::io::Error> for RequestError {
    fn from(e: std::io::Error) -> RequestError {
        RequestError::Io(e.kind())
    }
}

/// The syntax or framing rule a request broke (each answered with 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// A line ends in LF without CR (RFC 9112 §2.2).
    #[error("a line ends in a bare LF; end every line with CRLF")]
    BareLf,
    /// A CR not followed by LF (RFC 9112 §2.2).
    #[error("a bare CR in the request; end every line with CRLF")]
    BareCr,
    /// More than one empty line before the request line (RFC 9112 §2.2).
    #[error("more than one empty line before the request line")]
    LeadingEmptyLines,
    /// The request line is not `METHOD SP request-target SP HTTP-version`
    /// (RFC 9112 §3).
    #[error("the request line is not `METHOD TARGET HTTP/1.1` with single spaces")]
    RequestLine,
    /// The request-target has a character outside visible ASCII (RFC 9112 §3.2).
    #[error("the request target has a character that is not visible ASCII")]
    TargetCharacter,
    /// The request-target has a `#` fragment (RFC 9112 §3.2).
    #[error("the request target has a `#` fragment")]
    TargetFragment,
    /// The request-target is in none of the four forms (RFC 9112 §3.2).
    #[error("the request target is not `/path`, `http://host/path`, `host:port` or `*`")]
    TargetForm,
    /// `*` with a method other than OPTIONS (RFC 9112 §3.2.4).
    #[error("the `*` target is only for OPTIONS")]
    AsteriskNotOptions,
    /// authority-form with a method other than CONNECT, or CONNECT without
    /// it (RFC 9112 §3.2.3).
    #[error("the `host:port` target is for CONNECT, and CONNECT takes only it")]
    AuthorityForm,
    /// An authority (in the target or in `Host`) that is not `host[:port]`,
    /// has user information, or is empty where a host is required
    /// (RFC 9110 §4.2.1, §4.2.4, §7.2).
    #[error("invalid host or authority; send `host` or `host:port`")]
    Authority,
    /// A header line starts with whitespace: obsolete line folding
    /// (RFC 9112 §5.2).
    #[error("obsolete line folding (a header line starting with a space or tab)")]
    ObsFold,
    /// A header name that is not a token, or whitespace before the colon
    /// (RFC 9112 §5, §5.1).
    #[error("invalid header name (names are tokens, with no space before the colon)")]
    HeaderName,
    /// A control character in a header value (RFC 9110 §5.5).
    #[error("a header value has a control character")]
    HeaderValue,
    /// A header value that is not UTF-8.
    #[error("a header value is not UTF-8")]
    HeaderValueUtf8,
    /// HTTP/1.1 without `Host` (RFC 9112 §3.2).
    #[error("no Host header; HTTP/1.1 requests need exactly one")]
    MissingHost,
    /// More than one `Host` header (RFC 9112 §3.2).
    #[error("more than one Host header")]
    DuplicateHost,
    /// More than one `Content-Length` header, even with equal values
    /// (RFC 9112 §6.3).
    #[error("more than one Content-Length header")]
    DuplicateContentLength,
    /// A `Content-Length` that is not one decimal number (RFC 9112 §6.3,
    /// RFC 9110 §8.6).
    #[error("Content-Length is not a single decimal number")]
    InvalidContentLength,
    /// `Transfer-Encoding` together with `Content-Length` (RFC 9112 §6.1).
    #[error("both Transfer-Encoding and Content-Length; send only one")]
    TransferEncodingWithContentLength,
    /// `Transfer-Encoding` in an HTTP/1.0 request (RFC 9112 §6.1).
    #[error("Transfer-Encoding in an HTTP/1.0 request")]
    TransferEncodingInHttp10,
    /// `Transfer-Encoding` whose final coding is not `chunked` (RFC 9112 §6.3).
    #[error("Transfer-Encoding whose final coding is not chunked")]
    ChunkedNotFinal,
    /// A chunk-size line that is not hex digits (at most 16) with optional
    /// extensions (RFC 9112 §7.1).
    #[error("invalid chunk size")]
    ChunkSize,
    /// A chunk extension that is not `;name[=value]` (RFC 9112 §7.1.1).
    #[error("invalid chunk extension")]
    ChunkExtension,
    /// Chunk data not followed by CRLF (RFC 9112 §7.1).
    #[error("chunk data is not followed by CRLF")]
    ChunkDataEnd,
    /// A trailer line that is not a valid field line (RFC 9112 §7.1.2).
    #[error("invalid trailer field")]
    Trailer,
}
