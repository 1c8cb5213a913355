//! JSON token program behind the central_auth.central.token Ansible lookup (protocol code; placeholder until written).
