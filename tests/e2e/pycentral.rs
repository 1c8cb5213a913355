//! pycentral end-to-end tests (placeholder).
