//! Which local user is on the other end of a connection to the proxy.
//!
//! - A Unix socket: the kernel records the peer's credentials at `connect()`
//!   (`SO_PEERCRED`), [`unix_peer_uid`].
//! - TCP on loopback (Linux): the client's end of the connection is a socket
//!   of this host, and the kernel says which user created it. [`TcpOwners`] asks
//!   through `NETLINK_SOCK_DIAG` for the exact 4-tuple ([`sock_diag`], what
//!   `ss -e` uses: one round trip, whatever the number of sockets), and falls
//!   back to scanning `/proc/net/tcp{,6}` ([`procfs`]) where netlink is not
//!   available. Both refuse an answer from a socket nobody holds open any more
//!   (inode 0: a closed or time-wait socket reports uid 0, which must not pass
//!   for root).
//!
//! What the kernel reports is the user that *created* the socket (its fsuid at
//! `socket()` for TCP, its credentials at `connect()` for a Unix socket). A
//! socket handed to another process keeps that user.

#[cfg(target_os = "linux")]
pub mod procfs;
#[cfg(target_os = "linux")]
pub mod sock_diag;
mod tcp_peer;

pub use tcp_peer::TcpPeer;

use std::net::SocketAddr;

/// The uid of the process that connected a Unix socket (`SO_PEERCRED`).
#[cfg(target_os = "linux")]
pub fn unix_peer_uid(stream: &std::os::unix::net::UnixStream) -> std::io::Result<u32> {
    let cred = rustix::net::sockopt::socket_peercred(stream)?;
    Ok(cred.uid.as_raw())
}

/// Where a TCP peer lookup found its answer (for the bench and `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `NETLINK_SOCK_DIAG`, exact 4-tuple.
    SockDiag,
    /// A scan of `/proc/net/tcp` or `/proc/net/tcp6`.
    Procfs,
}

/// Looks up the owners of the client ends of accepted loopback connections.
/// Holds one netlink socket, reused for every lookup (not shared between
/// threads).
#[derive(Debug)]
pub struct TcpOwners {
    #[cfg(target_os = "linux")]
    diag: Option<sock_diag::SockDiag>,
}

impl TcpOwners {
    /// Opens the netlink socket; without it (no `NETLINK_SOCK_DIAG` in this
    /// kernel or sandbox) every lookup scans `/proc/net/tcp{,6}`.
    pub fn open() -> TcpOwners {
        TcpOwners {
            #[cfg(target_os = "linux")]
            diag: sock_diag::SockDiag::open().ok(),
        }
    }

    /// Which method lookups use first.
    pub fn method(&self) -> Option<Method> {
        #[cfg(target_os = "linux")]
        {
            Some(if self.diag.is_some() {
                Method::SockDiag
            } else {
                Method::Procfs
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// The owner of the socket at `client` connected to `server` (the
    /// accepted socket's peer and local addresses). `Err` when the kernel could
    /// not be asked.
    pub fn lookup(&mut self, client: SocketAddr, server: SocketAddr) -> std::io::Result<TcpPeer> {
        #[cfg(target_os = "linux")]
        {
            if let Some(diag) = self.diag.as_mut() {
                match diag.lookup(client, server) {
                    Ok(found) => return Ok(found),
                    // A broken netlink socket: scan /proc for this one and
                    // reopen for the next.
                    Err(_) => self.diag = sock_diag::SockDiag::open().ok(),
                }
            }
            procfs::lookup(client, server)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (client, server);
            Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "this platform cannot say which user opened a TCP connection",
            ))
        }
    }
}
