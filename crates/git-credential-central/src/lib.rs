//! git credential helper that answers with the central-auth access token (protocol code; placeholder until written).
