//! kubectl exec credential plugin backed by central-auth (protocol code; placeholder until written).
