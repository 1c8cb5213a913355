//! cli end-to-end tests (placeholder).
