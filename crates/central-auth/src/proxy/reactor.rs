//! The reactor: one thread that owns the listening socket and every
//! connection waiting for a request (new ones and kept-alive ones), over
//! non-blocking sockets and `poll(2)`. It reads and parses requests, applies
//! the deadlines and the proxy's rules, and hands only complete requests to
//! the worker pool; workers hand connections back when they answered. A
//! worker never reads from a client, so no slow client can occupy one.
//!
//! Who opened a connection is asked at accept (`SO_PEERCRED`, or the kernel's
//! socket table for TCP): another user's connection never reaches a worker;
//! it gets its 403 when its head arrived (or at the deadline) and is closed
//! with a short drain, so the client reads the 403 rather than a reset.
//!
//! Bounds: at most [`OWNER_WAITING`] connections of the owner wait here
//! (when full, the one idle the longest is closed to make room, so the owner
//! is never refused), at most [`STRANGERS_WAITING`] of others (more are
//! answered 403 at once), [`CLOSING`] draining, and [`MAX_BUFFERED`] bytes
//! of requests in all.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};

use super::conn::{Class, Conn, Step};
use super::identity::Identity;
use super::response::Reply;
use super::transport::{Listener, Listening};
use super::workers::{Back, Job};

/// Owner connections waiting for a request.
pub const OWNER_WAITING: usize = 256;
/// Connections of other users waiting for their 403.
pub const STRANGERS_WAITING: usize = 64;
/// Connections draining after their answer.
pub const CLOSING: usize = 128;
/// Request bytes held for all waiting connections.
pub const MAX_BUFFERED: usize = 64 * 1024 * 1024;
/// Connections accepted per wake-up before the others get a turn.
const ACCEPT_BATCH: usize = 64;

/// What stops the reactor or reaches it from other threads.
pub struct Inbox {
    /// The read end of the wake-up socket pair.
    pub wake: UnixStream,
    /// Connections the workers handed back.
    pub back: Receiver<Back>,
    /// The last SIGTERM/SIGINT received (0: none since the last look).
    pub signal: Arc<AtomicUsize>,
}

/// What the reactor asks of its owner between wake-ups.
pub trait Control {
    /// A signal arrived: true to stop.
    fn on_signal(&mut self, signal: i32) -> bool;
    /// Whether to stop now (e.g. the `--exec` child exited).
    fn should_stop(&mut self) -> bool;
}

/// The reactor's state.
pub struct Reactor {
    listener: Option<Listener>,
    on: Arc<Listening>,
    identity: Identity,
    conns: Vec<Option<Conn>>,
    buffered: usize,
    jobs: SyncSender<Job>,
    inbox: Inbox,
    verbose: bool,
}

/// The loop: one `poll` over the listener, the wake-up socket and every
/// connection, until the control says stop.
impl Reactor {
    /// A reactor for `listener`.
    pub fn new(
        listener: Listener,
        on: Listening,
        identity: Identity,
        jobs: SyncSender<Job>,
        inbox: Inbox,
        verbose: bool,
    ) -> Reactor {
        Reactor {
            listener: Some(listener),
            on: Arc::new(on),
            identity,
            conns: Vec::new(),
            buffered: 0,
            jobs,
            inbox,
            verbose,
        }
    }

    /// Serves until `control` says stop. Returns the job sender, which the
    /// caller drops to let the workers finish.
    pub fn run(mut self, control: &mut dyn Control) -> SyncSender<Job> {
        loop {
            let now = Instant::now();
            let timeout = self
                .conns
                .iter()
                .flatten()
                .map(|c| c.deadline.saturating_duration_since(now))
                .min();
            let ready = self.poll(timeout);
            let now = Instant::now();
            if ready.wake {
                self.drain_wake();
                let signal = self.inbox.signal.swap(0, Ordering::SeqCst);
                if signal != 0 && control.on_signal(signal as i32) {
                    break;
                }
                while let Ok(back) = self.inbox.back.try_recv() {
                    self.take_back(back, now);
                }
            }
            if control.should_stop() {
                break;
            }
            if ready.listener {
                self.accept(now);
            }
            for (i, flags) in ready.conns {
                self.serve(i, flags, now);
            }
            self.expire(Instant::now());
            self.conns.retain(Option::is_some);
        }
        // Stop accepting; close everything still waiting.
        self.listener = None;
        self.conns.clear();
        self.jobs
    }

    fn poll(&mut self, timeout: Option<Duration>) -> Ready {
        let mut fds = Vec::with_capacity(2 + self.conns.len());
        fds.push(PollFd::new(&self.inbox.wake, PollFlags::IN));
        if let Some(l) = &self.listener {
            fds.push(PollFd::new(l, PollFlags::IN));
        }
        let base = fds.len();
        for c in self.conns.iter().flatten() {
            let mut flags = PollFlags::IN;
            if c.wants_write() {
                flags |= PollFlags::OUT;
            }
            fds.push(PollFd::from_borrowed_fd(c.stream.as_fd(), flags));
        }
        let timeout = timeout.map(|t| {
            // Round up so a deadline is never polled for as 0 over and over.
            rustix::event::Timespec::try_from(t + Duration::from_millis(1)).unwrap_or(
                rustix::event::Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                },
            )
        });
        if let Err(e) = rustix::event::poll(&mut fds, timeout.as_ref()) {
            if e != rustix::io::Errno::INTR {
                super::log::log(&format!("proxy: poll failed: {e}"));
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let wake = !fds[0].revents().is_empty();
        let listener = base == 2 && !fds[1].revents().is_empty();
        let conns = fds[base..]
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.revents().is_empty())
            .map(|(i, f)| (i, f.revents()))
            .collect();
        Ready {
            wake,
            listener,
            conns,
        }
    }

    fn drain_wake(&mut self) {
        let mut sink = [0u8; 256];
        while matches!(self.inbox.wake.read(&mut sink), Ok(n) if n > 0) {}
    }
}

/// The connection table: accepting, evicting, serving a ready connection,
/// handing a request to the workers and taking the answer back, expiry.
impl Reactor {
    fn accept(&mut self, now: Instant) {
        for _ in 0..ACCEPT_BATCH {
            let Some(listener) = &self.listener else {
                return;
            };
            let stream = match listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors, or a connection reset before accept.
                    super::log::log(&format!("proxy: accept failed: {e}"));
                    return;
                }
            };
            let class = self.identity.classify(&stream);
            if self.verbose {
                if let Class::Stranger(r) = &class {
                    super::log::log(&r.log_line("a connection"));
                }
            }
            let mut conn = Conn::new(stream, Arc::clone(&self.on), class, now);
            match conn.class {
                Class::Owner => {
                    if self.count(|c| matches!(c.class, Class::Owner) && !c.is_closing())
                        >= OWNER_WAITING
                    {
                        self.evict_for_owner();
                    }
                }
                Class::Stranger(ref r) => {
                    if self.count(|c| matches!(c.class, Class::Stranger(_)) && !c.is_closing())
                        >= STRANGERS_WAITING
                    {
                        // No room to wait for its head: answer now, no drain.
                        let r = r.clone();
                        conn.refuse(r, now);
                        let _ = conn.write_pending();
                        continue;
                    }
                }
            }
            self.make_room_for_closing();
            self.conns.push(Some(conn));
        }
    }

    fn count(&self, f: impl Fn(&Conn) -> bool) -> usize {
        self.conns.iter().flatten().filter(|c| f(c)).count()
    }

    /// Closes the owner connection that waited the longest, idle ones first.
    fn evict_for_owner(&mut self) {
        let victim = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
            .filter(|(_, c)| matches!(c.class, Class::Owner) && !c.is_closing())
            .min_by_key(|(_, c)| (!c.is_idle(), c.last_active))
            .map(|(i, _)| i);
        if let Some(i) = victim {
            self.remove(i);
        }
    }

    fn make_room_for_closing(&mut self) {
        if self.count(Conn::is_closing) >= CLOSING {
            let oldest = self
                .conns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
                .filter(|(_, c)| c.is_closing())
                .min_by_key(|(_, c)| c.deadline)
                .map(|(i, _)| i);
            if let Some(i) = oldest {
                self.remove(i);
            }
        }
    }

    fn remove(&mut self, i: usize) -> Option<Conn> {
        let c = self.conns.get_mut(i)?.take()?;
        self.buffered = self.buffered.saturating_sub(c.held());
        Some(c)
    }

    fn serve(&mut self, i: usize, flags: PollFlags, now: Instant) {
        let room = MAX_BUFFERED.saturating_sub(self.buffered);
        let Some(conn) = self.conns.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        let before = conn.held();
        let mut step = Step::Wait;
        if flags.intersects(PollFlags::OUT) {
            step = conn.write_pending();
        }
        if step == Step::Wait
            && flags.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
        {
            step = conn.read_available(room, now);
        }
        if step == Step::Wait {
            step = conn.advance(now);
        }
        let after = conn.held();
        self.buffered = (self.buffered + after).saturating_sub(before);
        self.finish(i, step, now);
    }

    /// Acts on a connection's step.
    fn finish(&mut self, i: usize, step: Step, now: Instant) {
        if self.verbose {
            if let Some(r) = self
                .conns
                .get_mut(i)
                .and_then(Option::as_mut)
                .and_then(|c| c.refused.take())
            {
                if !matches!(r.code, "another-user" | "unknown-user") {
                    super::log::log(&r.log_line("a request"));
                }
            }
        }
        match step {
            Step::Wait => {}
            Step::Drop => {
                self.remove(i);
            }
            Step::Dispatch => {
                let Some(mut conn) = self.remove(i) else {
                    return;
                };
                let Some(request) = conn.ready.take() else {
                    return;
                };
                match self.jobs.try_send(Job { conn, request }) {
                    Ok(()) => {}
                    Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                        let mut conn = job.conn;
                        conn.answer_and_close(
                            &Reply::message(
                                503,
                                "central-auth proxy: too many requests in flight; retry shortly",
                            )
                            .with_header("Retry-After", "1"),
                            now,
                        );
                        let _ = conn.write_pending();
                        self.conns.push(Some(conn));
                    }
                }
            }
        }
    }

    fn take_back(&mut self, back: Back, now: Instant) {
        let mut conn = back.conn;
        if back.keep {
            conn.kept_alive(now);
        } else {
            conn.answered_closing(now);
        }
        self.buffered += conn.held();
        self.make_room_for_closing();
        self.conns.push(Some(conn));
        let i = self.conns.len() - 1;
        // Pipelined bytes may already hold the next request.
        let step = self.conns[i]
            .as_mut()
            .map_or(Step::Drop, |c| c.advance(now));
        self.finish(i, step, now);
    }

    fn expire(&mut self, now: Instant) {
        for i in 0..self.conns.len() {
            let Some(conn) = self.conns[i].as_mut() else {
                continue;
            };
            if conn.deadline > now {
                continue;
            }
            let before = conn.held();
            let step = conn.expired(now);
            let after = conn.held();
            self.buffered = (self.buffered + after).saturating_sub(before);
            self.finish(i, step, now);
        }
    }
}

struct Ready {
    wake: bool,
    listener: bool,
    conns: Vec<(usize, PollFlags)>,
}
