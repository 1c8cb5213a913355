//! Free loopback ports for servers the tests and the bench start as separate
//! processes (which cannot be handed a listening socket).

use std::io;
use std::net::TcpListener;

/// A free loopback port whose successor is free too (an OpenBao dev server also
/// listens on its port plus one, for the cluster). Free when asked: a caller
/// that loses a race for it retries with a new pair.
pub fn free_port_pair() -> io::Result<u16> {
    loop {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
}
