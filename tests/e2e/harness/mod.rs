//! The test infrastructure for the proxy's owner-only tests, proven on its own
//! against plain local servers and `central-sim`: another local user really is
//! another user (and can reach loopback TCP, the threat, but not a private Unix
//! socket); every browser attempt really reaches a server that accepts it (so
//! "0 reached" behind the proxy means the proxy refused); and the slow clients
//! really starve a naive one-thread-per-connection server.

use std::io::Write;
use std::net::SocketAddr;

use central_auth_e2e::Sim;

mod browser;
mod other_user;
mod owner_clients;
mod slow_clients;

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

/// The simulator's address.
fn sim_addr(sim: &Sim) -> SocketAddr {
    sim.url().strip_prefix("http://").unwrap().parse().unwrap()
}
