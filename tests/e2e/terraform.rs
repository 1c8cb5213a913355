//! terraform end-to-end tests (placeholder).
