//! kube end-to-end tests (placeholder).
