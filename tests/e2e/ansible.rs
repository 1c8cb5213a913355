//! ansible end-to-end tests (placeholder).
