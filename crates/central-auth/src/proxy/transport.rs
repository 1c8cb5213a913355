//! The proxy's two transports behind one type: a loopback TCP listener or a
//! Unix socket, and the accepted connections of either (non-blocking).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

use central_auth_core::Error;

/// Where the proxy listens, as the request rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listening {
    /// Loopback TCP on this port.
    Tcp {
        /// The bound address.
        addr: SocketAddr,
    },
    /// A Unix socket at this path.
    Unix {
        /// The socket's path.
        path: PathBuf,
    },
}

impl Listening {
    /// `http://ADDR` for TCP; for a socket, the URL clients put in front of
    /// paths (`curl --unix-socket PATH http://localhost/...`).
    pub fn base_url(&self) -> String {
        match self {
            Listening::Tcp { addr } => format!("http://{addr}"),
            Listening::Unix { .. } => "http://localhost".to_owned(),
        }
    }

    /// The first stdout line and the `-v` start line.
    pub fn announce(&self) -> String {
        match self {
            Listening::Tcp { addr } => format!("listening on http://{addr}"),
            Listening::Unix { path } => format!("listening on unix:{}", path.display()),
        }
    }
}

/// A listening socket.
#[derive(Debug)]
pub enum Listener {
    /// Loopback TCP.
    Tcp(TcpListener),
    /// Unix socket.
    Unix(UnixListener),
}

/// Binds `addr`, which must be a loopback address; non-blocking.
pub fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, Error> {
    if !addr.ip().is_loopback() {
        return Err(Error::bad_input(format!(
            "--listen {addr} is not a loopback address; use 127.0.0.1:PORT or [::1]:PORT (the proxy adds your token to every request, so it never listens beyond this machine)"
        )));
    }
    let listener = TcpListener::bind(addr).map_err(|e| {
        Error::bad_input(format!(
            "cannot listen on {addr}: {e}; pick another --listen port"
        ))
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::unavailable(format!("cannot use {addr}: {e}")))?;
    Ok(listener)
}

impl Listener {
    /// Accepts one connection, non-blocking (`WouldBlock` when none waits).
    pub fn accept(&self) -> std::io::Result<Stream> {
        let stream = match self {
            Listener::Tcp(l) => Stream::Tcp(l.accept()?.0),
            Listener::Unix(l) => Stream::Unix(l.accept()?.0),
        };
        stream.set_nonblocking()?;
        Ok(stream)
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(l) => l.as_fd(),
            Listener::Unix(l) => l.as_fd(),
        }
    }
}

/// One client connection.
#[derive(Debug)]
pub enum Stream {
    /// Over TCP.
    Tcp(TcpStream),
    /// Over the Unix socket.
    Unix(UnixStream),
}

impl Stream {
    fn set_nonblocking(&self) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => {
                // Responses are written whole; no need to wait for more.
                s.set_nodelay(true)?;
                s.set_nonblocking(true)
            }
            Stream::Unix(s) => s.set_nonblocking(true),
        }
    }

    /// Closes the writing half (the client reads the answer, then EOF).
    pub fn shutdown_write(&self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }
}

/// Writes all of `bytes` to a non-blocking stream by `deadline` (one bound
/// for the whole answer, so a client that reads slowly cannot hold a worker
/// longer).
pub fn write_all_by(
    stream: &mut Stream,
    mut bytes: &[u8],
    deadline: std::time::Instant,
) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(std::io::ErrorKind::TimedOut.into());
                }
                let mut fds = [rustix::event::PollFd::new(
                    &*stream,
                    rustix::event::PollFlags::OUT,
                )];
                let timeout = rustix::event::Timespec::try_from(left)
                    .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
                match rustix::event::poll(&mut fds, Some(&timeout)) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
