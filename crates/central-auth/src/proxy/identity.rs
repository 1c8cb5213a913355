//! Whose connection is it: the owner's (the proxy's effective user, or root,
//! which can read the token store anyway) or anyone else's. The answer comes
//! from the kernel (`crate::peer`) once per connection, at accept.
//!
//! Without an answer the connection is refused: a connection over TCP whose
//! client socket the kernel does not list any more (closed before the check,
//! or not local), or any lookup error. On platforms where the kernel cannot be
//! asked, TCP runs only with `--allow-unchecked-tcp` (every local user is
//! then served) and the Unix socket relies on its file mode and directory.

use central_auth::peer::{TcpOwners, TcpPeer};

use super::conn::Class;
use super::refusal::Refusal;
use super::transport::Stream;

/// How connections are checked.
#[derive(Debug)]
pub struct Identity {
    owner: u32,
    tcp: TcpOwners,
    unchecked_tcp: bool,
}

impl Identity {
    /// Checks against this process's effective user. `unchecked_tcp` serves
    /// every TCP connection unchecked (only where the platform cannot check).
    pub fn new(unchecked_tcp: bool) -> Identity {
        Identity {
            owner: rustix::process::geteuid().as_raw(),
            tcp: TcpOwners::open(),
            unchecked_tcp,
        }
    }

    /// How TCP peers are looked up, for the `-v` start line.
    pub fn describe(&self) -> &'static str {
        if self.unchecked_tcp {
            return "TCP connections are NOT checked (--allow-unchecked-tcp)";
        }
        match self.tcp.method() {
            Some(central_auth::peer::Method::SockDiag) => {
                "TCP peers are checked with NETLINK_SOCK_DIAG, Unix socket peers with SO_PEERCRED"
            }
            Some(central_auth::peer::Method::Procfs) => {
                "TCP peers are checked in /proc/net/tcp (no NETLINK_SOCK_DIAG here), Unix socket peers with SO_PEERCRED"
            }
            None => "Unix socket peers are admitted by the socket's file mode",
        }
    }

    /// The class of a new connection.
    pub fn classify(&mut self, stream: &Stream) -> Class {
        match self.uid_of(stream) {
            Ok(Some(uid)) if uid == self.owner || uid == 0 => Class::Owner,
            Ok(Some(uid)) => Class::Stranger(Refusal::new(
                403,
                "another-user",
                format!(
                    "this proxy serves only the user who started it (uid {}); the connection came from uid {uid}",
                    self.owner
                ),
            )),
            Ok(None) => Class::Owner,
            Err(why) => Class::Stranger(Refusal::new(
                403,
                "unknown-user",
                format!("the user who opened this connection cannot be established ({why}); refused"),
            )),
        }
    }

    /// `Ok(Some(uid))` from the kernel, `Ok(None)` when the connection is
    /// admitted without a check (see the module doc), `Err` when unknown.
    fn uid_of(&mut self, stream: &Stream) -> Result<Option<u32>, String> {
        match stream {
            Stream::Unix(s) => {
                #[cfg(target_os = "linux")]
                {
                    central_auth::peer::unix_peer_uid(s)
                        .map(Some)
                        .map_err(|e| format!("SO_PEERCRED: {e}"))
                }
                #[cfg(not(target_os = "linux"))]
                {
                    let _ = s;
                    Ok(None)
                }
            }
            Stream::Tcp(_) if self.unchecked_tcp => Ok(None),
            Stream::Tcp(s) => {
                let (Ok(client), Ok(server)) = (s.peer_addr(), s.local_addr()) else {
                    return Err("the connection has no addresses".to_owned());
                };
                match self.tcp.lookup(client, server) {
                    Ok(TcpPeer::Uid(uid)) => Ok(Some(uid)),
                    Ok(TcpPeer::NotFound) => {
                        Err("no local socket holds the client's end".to_owned())
                    }
                    Err(e) => Err(format!("the kernel's socket table: {e}")),
                }
            }
        }
    }
}
