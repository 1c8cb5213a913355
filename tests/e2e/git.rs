//! git end-to-end tests (placeholder).
