//! Terraform external-data-source program backed by central-auth (protocol code; placeholder until written).
