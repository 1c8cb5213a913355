//! The owner of one TCP socket from `/proc/net/tcp` or `/proc/net/tcp6`
//! (Linux): the line whose local address is the client's and whose remote
//! address is the server's. The kernel prints each address as the host-order
//! hex of its 32-bit words and the port as hex; the line's `uid` and `inode`
//! columns follow. Reading the file makes the kernel print every TCP socket of
//! the network namespace, so a lookup costs time in proportion to their number
//! (the reason [`super::sock_diag`] is tried first).

use std::net::{IpAddr, SocketAddr};

use super::tcp_peer::TcpPeer;

/// The uid owning the socket whose local address is `client` and whose peer
/// is `server`.
pub fn lookup(client: SocketAddr, server: SocketAddr) -> std::io::Result<TcpPeer> {
    let file = match client.ip() {
        IpAddr::V4(_) => "/proc/net/tcp",
        IpAddr::V6(_) => "/proc/net/tcp6",
    };
    let table = std::fs::read_to_string(file)?;
    Ok(find(&table, client, server))
}

/// Finds the line in `table` (the text of `/proc/net/tcp{,6}`).
pub fn find(table: &str, client: SocketAddr, server: SocketAddr) -> TcpPeer {
    let (local, remote) = (column(client), column(server));
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(l), Some(r), Some(uid), Some(inode)) = (f.get(1), f.get(2), f.get(7), f.get(9))
        else {
            continue;
        };
        if !l.eq_ignore_ascii_case(&local) || !r.eq_ignore_ascii_case(&remote) {
            continue;
        }
        // A socket nobody holds (closed, time-wait) shows uid 0 and inode 0.
        if *inode == "0" {
            return TcpPeer::NotFound;
        }
        return match uid.parse() {
            Ok(uid) => TcpPeer::Uid(uid),
            Err(_) => TcpPeer::NotFound,
        };
    }
    TcpPeer::NotFound
}

/// `ADDRESS:PORT` as the kernel prints it.
fn column(addr: SocketAddr) -> String {
    let octets: Vec<u8> = match addr.ip() {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let mut out = String::with_capacity(38);
    for word in octets.chunks_exact(4) {
        let w = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]);
        out.push_str(&format!("{w:08X}"));
    }
    out.push_str(&format!(":{:04X}", addr.port()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn finds_the_owner_of_a_live_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, peer) = listener.accept().unwrap();
        let me = rustix::process::geteuid().as_raw();
        let server = accepted.local_addr().unwrap();
        assert_eq!(lookup(peer, server).unwrap(), TcpPeer::Uid(me));
        // Our own end is the server's, not the client's.
        assert_eq!(lookup(server, peer).unwrap(), TcpPeer::Uid(me));
        let unknown: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(lookup(unknown, server).unwrap(), TcpPeer::NotFound);
        drop(client);
    }

    #[test]
    fn reads_the_kernel_format() {
        let client: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:8470".parse().unwrap();
        let c = column(client);
        let s = column(server);
        let table = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
             \x20  0: {s} {c} 01 00000000:00000000 00:00000000 00000000     0        0 111 1\n\
             \x20  1: {c} {s} 01 00000000:00000000 00:00000000 00000000  1001        0 222 1\n"
        );
        assert_eq!(find(&table, client, server), TcpPeer::Uid(1001));
        let closed = table.replace(" 222 ", " 0 ");
        assert_eq!(find(&closed, client, server), TcpPeer::NotFound);
        if cfg!(target_endian = "little") {
            assert_eq!(c, "0100007F:9C40");
        }
    }
}
