//! The owner of one TCP socket through `NETLINK_SOCK_DIAG` (Linux): an
//! `inet_diag_req_v2` naming the exact 4-tuple, answered by one
//! `inet_diag_msg` carrying the socket's uid and inode (see `sock_diag(7)`).
//! The messages are built and read as byte arrays (the workspace forbids
//! `unsafe`); fixed-width fields are in the host's byte order, ports and
//! addresses in network order, as the kernel's headers define them.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::net::netlink::{SocketAddrNetlink, SOCK_DIAG};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

use super::tcp_peer::TcpPeer;

/// `SOCK_DIAG_BY_FAMILY`, the message type of requests and answers.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `NLMSG_ERROR`.
const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`.
const NLMSG_DONE: u16 = 3;
/// `NLM_F_REQUEST`.
const NLM_F_REQUEST: u16 = 1;
/// `IPPROTO_TCP`.
const IPPROTO_TCP: u8 = 6;
/// `AF_INET`, `AF_INET6`.
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
/// `struct nlmsghdr`.
const NLMSG_HDR: usize = 16;
/// `struct inet_diag_req_v2` (family, protocol, ext, pad, states, sockid).
const REQ_LEN: usize = 8 + SOCKID_LEN;
/// `struct inet_diag_sockid`: sport, dport, src[4], dst[4], if, cookie[2].
const SOCKID_LEN: usize = 48;
/// Offsets in `struct inet_diag_msg` (after the netlink header): family,
/// state, timer, retrans, sockid, expires, rqueue, wqueue, uid, inode.
const MSG_UID: usize = 4 + SOCKID_LEN + 12;
const MSG_INODE: usize = MSG_UID + 4;
/// How long to wait for the kernel's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);

/// A netlink socket for inet diagnostics.
#[derive(Debug)]
pub struct SockDiag {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl SockDiag {
    /// Opens the netlink socket.
    pub fn open() -> std::io::Result<SockDiag> {
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            Some(SOCK_DIAG),
        )?;
        rustix::net::sockopt::set_socket_timeout(
            &fd,
            rustix::net::sockopt::Timeout::Recv,
            Some(ANSWER_TIMEOUT),
        )?;
        Ok(SockDiag {
            fd,
            seq: 0,
            buf: vec![0; 8192],
        })
    }

    /// The uid owning the socket whose local address is `client` and whose
    /// peer is `server`.
    pub fn lookup(&mut self, client: SocketAddr, server: SocketAddr) -> std::io::Result<TcpPeer> {
        self.seq = self.seq.wrapping_add(1);
        let request = request(self.seq, client, server)?;
        rustix::net::sendto(
            &self.fd,
            &request,
            SendFlags::empty(),
            &SocketAddrNetlink::new(0, 0),
        )?;
        loop {
            let (_, n) = rustix::net::recv(&self.fd, &mut self.buf[..], RecvFlags::empty())?;
            let got = self.buf.get(..n).unwrap_or_default();
            if let Some(answer) = answer(got, self.seq)? {
                return Ok(answer);
            }
            // An answer to an earlier request that timed out: read on.
        }
    }
}

/// The request for the socket at `client` connected to `server`.
fn request(seq: u32, client: SocketAddr, server: SocketAddr) -> std::io::Result<Vec<u8>> {
    let family = match (client.ip(), server.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => AF_INET,
        (IpAddr::V6(_), IpAddr::V6(_)) => AF_INET6,
        _ => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "mixed address families",
            ))
        }
    };
    let len = NLMSG_HDR + REQ_LEN;
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    m.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[family, IPPROTO_TCP, 0, 0]);
    // idiag_states: every state (an exact lookup ignores it).
    m.extend_from_slice(&u32::MAX.to_ne_bytes());
    m.extend_from_slice(&client.port().to_be_bytes());
    m.extend_from_slice(&server.port().to_be_bytes());
    m.extend_from_slice(&address(client.ip()));
    m.extend_from_slice(&address(server.ip()));
    m.extend_from_slice(&0u32.to_ne_bytes());
    // INET_DIAG_NOCOOKIE: both halves all ones.
    m.extend_from_slice(&[0xff; 8]);
    debug_assert_eq!(m.len(), len);
    Ok(m)
}

/// `__be32[4]`: an IPv4 address in the first word, IPv6 in all four.
fn address(ip: IpAddr) -> [u8; 16] {
    let mut out = [0; 16];
    match ip {
        IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.copy_from_slice(&v6.octets()),
    }
    out
}

/// Reads one datagram: `Some` answer for `seq`, `None` when it holds only
/// messages of other requests.
fn answer(mut datagram: &[u8], seq: u32) -> std::io::Result<Option<TcpPeer>> {
    let short = || std::io::Error::new(std::io::ErrorKind::InvalidData, "short netlink message");
    while datagram.len() >= NLMSG_HDR {
        let len = u32_at(datagram, 0).ok_or_else(short)? as usize;
        let kind = u16::from_ne_bytes([datagram[4], datagram[5]]);
        let msg_seq = u32_at(datagram, 8).ok_or_else(short)?;
        if len < NLMSG_HDR || len > datagram.len() {
            return Err(short());
        }
        let body = &datagram[NLMSG_HDR..len];
        if msg_seq == seq {
            return match kind {
                SOCK_DIAG_BY_FAMILY => {
                    let uid = u32_at(body, MSG_UID).ok_or_else(short)?;
                    let inode = u32_at(body, MSG_INODE).ok_or_else(short)?;
                    // A socket nobody holds (closed, time-wait) reports uid 0
                    // and inode 0: it proves nothing.
                    Ok(Some(if inode == 0 {
                        TcpPeer::NotFound
                    } else {
                        TcpPeer::Uid(uid)
                    }))
                }
                NLMSG_ERROR => {
                    let errno = i32::from_ne_bytes(
                        body.get(..4)
                            .and_then(|b| b.try_into().ok())
                            .ok_or_else(short)?,
                    );
                    // ENOENT: no such socket.
                    if errno == -2 {
                        Ok(Some(TcpPeer::NotFound))
                    } else {
                        Err(std::io::Error::from_raw_os_error(-errno))
                    }
                }
                NLMSG_DONE => Ok(Some(TcpPeer::NotFound)),
                _ => Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "unexpected netlink message",
                )),
            };
        }
        // Messages are padded to 4 bytes.
        let next = len.div_ceil(4) * 4;
        datagram = datagram.get(next..).unwrap_or_default();
    }
    Ok(None)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn finds_the_owner_of_a_live_connection_and_nothing_for_a_closed_one() {
        let Ok(mut diag) = SockDiag::open() else {
            eprintln!("NETLINK_SOCK_DIAG is not available here; the procfs test covers lookups");
            return;
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, peer) = listener.accept().unwrap();
        let me = rustix::process::geteuid().as_raw();
        let server = accepted.local_addr().unwrap();
        assert_eq!(diag.lookup(peer, server).unwrap(), TcpPeer::Uid(me));
        // The server's own end is not the client's.
        let unknown: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(diag.lookup(unknown, server).unwrap(), TcpPeer::NotFound);
        drop(client);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(diag.lookup(peer, server).unwrap(), TcpPeer::NotFound);
    }

    #[test]
    fn works_over_ipv6_loopback() {
        let (Ok(mut diag), Ok(listener)) = (SockDiag::open(), TcpListener::bind("[::1]:0")) else {
            return;
        };
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, peer) = listener.accept().unwrap();
        let me = rustix::process::geteuid().as_raw();
        assert_eq!(
            diag.lookup(peer, accepted.local_addr().unwrap()).unwrap(),
            TcpPeer::Uid(me)
        );
    }

    #[test]
    fn skips_answers_to_other_requests_and_reads_errors() {
        let mut stale = vec![0u8; NLMSG_HDR + 4];
        stale[..4].copy_from_slice(&((NLMSG_HDR + 4) as u32).to_ne_bytes());
        stale[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        stale[8..12].copy_from_slice(&7u32.to_ne_bytes());
        stale[16..20].copy_from_slice(&(-2i32).to_ne_bytes());
        assert_eq!(answer(&stale, 8).unwrap(), None);
        assert_eq!(answer(&stale, 7).unwrap(), Some(TcpPeer::NotFound));
        stale[16..20].copy_from_slice(&(-13i32).to_ne_bytes());
        assert!(answer(&stale, 7).is_err());
        assert!(answer(&stale[..10], 7).unwrap().is_none());
        let mut bad = stale.clone();
        bad[..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert!(answer(&bad, 7).is_err());
    }
}
