//! Admission of connections, for every port a process serves: at most so many open per
//! client address (more are closed at once), a deadline for a new connection's first bytes,
//! a limit on how long one may go with nothing read or written, and an accept loop that
//! backs off when the process runs out of file descriptors instead of spinning, and
//! recovers by itself once some close.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tokio_stream::Stream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Config `[connections]`: applies to each port of the process on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// Open connections per client IP address; 0 for no limit. Behind a load balancer that
    /// does not pass the client's address, every client shares its address: raise or
    /// disable this there.
    pub max_per_ip: usize,
    /// How long a new connection may take to send its first bytes.
    pub handshake_timeout_ms: u64,
    /// How long a connection may go with nothing read or written before it is closed
    /// (checked once a period, so it goes after one to two of them). HTTP/2 keep-alive
    /// pings (every 30 s) keep a quiet but live gRPC connection moving.
    pub idle_timeout_secs: u64,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits { max_per_ip: 1024, handshake_timeout_ms: 10_000, idle_timeout_secs: 300 }
    }
}

impl ConnectionLimits {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(100..=600_000).contains(&self.handshake_timeout_ms) {
            return Err("connections.handshake_timeout_ms: must be 100 to 600000".into());
        }
        if !(1..=86_400).contains(&self.idle_timeout_secs) {
            return Err("connections.idle_timeout_secs: must be 1 to 86400".into());
        }
        Ok(())
    }
}

/// How often a gRPC server pings a quiet HTTP/2 connection, and how long it waits for the
/// answer before closing it (a peer that vanished without a word).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Accept-loop backoff when the process is out of descriptors (or memory): from this...
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// ...doubling up to this.
const LAST_BACKOFF: Duration = Duration::from_secs(1);

/// Open connections per client address.
type OpenCounts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// A listener that admits connections by [`ConnectionLimits`].
pub struct GuardedListener {
    listener: TcpListener,
    limits: ConnectionLimits,
    /// Open connections per address; each [`GuardedStream`] gives its place back on drop.
    open: OpenCounts,
    /// Connections closed at once for being over their address's limit, since start.
    refused: u64,
}

impl GuardedListener {
    pub fn new(listener: TcpListener, limits: ConnectionLimits) -> Self {
        GuardedListener { listener, limits, open: OpenCounts::default(), refused: 0 }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next admitted connection. Never fails: out of descriptors it waits (backing
    /// off, warning once per episode) for some to close; other accept errors concern one
    /// connection only and are skipped.
    pub async fn accept(&mut self) -> (GuardedStream, SocketAddr) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.listener.accept().await {
                Ok((stream, address)) => {
                    if let Some(place) = self.place_for(address.ip()) {
                        let _ = stream.set_nodelay(true);
                        return (GuardedStream::new(stream, place, &self.limits), address);
                    }
                    self.refused += 1;
                    if self.refused.is_power_of_two() {
                        tracing::warn!(%address, refused = self.refused, limit = self.limits.max_per_ip, "connection over the per-address limit closed");
                    }
                }
                Err(error) if out_of_resources(&error) => {
                    if backoff == FIRST_BACKOFF {
                        tracing::warn!(%error, "cannot accept connections: out of resources; waiting for some to close");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(LAST_BACKOFF);
                }
                Err(error) => tracing::debug!(%error, "a connection failed while accepted"),
            }
        }
    }

    /// Takes a place for one more connection from `ip`, if it has one left.
    fn place_for(&self, ip: IpAddr) -> Option<Place> {
        let mut open = self.open.lock().expect("connection counts poisoned");
        let count = open.entry(ip).or_insert(0);
        if self.limits.max_per_ip != 0 && *count >= self.limits.max_per_ip {
            return None;
        }
        *count += 1;
        Some(Place { open: self.open.clone(), ip })
    }

    /// The admitted connections as a stream, for `tonic`'s `serve_with_incoming`.
    pub fn into_stream(self) -> impl Stream<Item = io::Result<GuardedStream>> + Send {
        futures_util::stream::unfold(self, |mut listener| async move {
            let (stream, _) = listener.accept().await;
            Some((Ok(stream), listener))
        })
    }
}

/// Whether an accept error is the process (or system) running out of something, which
/// retrying at once cannot fix.
fn out_of_resources(error: &io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux.
    matches!(error.raw_os_error(), Some(24 | 23 | 105 | 12))
}

/// One address's place in the open counts, given back on drop.
struct Place {
    open: OpenCounts,
    ip: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("connection counts poisoned");
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// An admitted connection: fails with TimedOut once its first bytes are late, or once a
/// whole idle period passed with nothing read or written (so an idle connection goes
/// after one to two periods).
pub struct GuardedStream {
    stream: TcpStream,
    _place: Place,
    /// When the current period ends.
    deadline: Pin<Box<Sleep>>,
    /// Whether anything was read or written in the current period; set on every read and
    /// write (a flag, not a clock reading: the relay writes once per delivery).
    moved: bool,
    /// Whether the first bytes arrived: until then the period is the handshake timeout.
    started: bool,
    idle_timeout: Duration,
}

impl GuardedStream {
    fn new(stream: TcpStream, place: Place, limits: &ConnectionLimits) -> Self {
        let handshake = Duration::from_millis(limits.handshake_timeout_ms);
        GuardedStream {
            stream,
            _place: place,
            deadline: Box::pin(tokio::time::sleep(handshake)),
            moved: false,
            started: false,
            idle_timeout: Duration::from_secs(limits.idle_timeout_secs),
        }
    }

    /// Whether the connection has timed out; starts a new period when it has not.
    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        while self.deadline.as_mut().poll(cx).is_ready() {
            if !(self.started && self.moved) {
                return true;
            }
            self.moved = false;
            let next = Instant::now() + self.idle_timeout;
            self.deadline.as_mut().reset(next);
        }
        false
    }

    fn timed_out_error(&self) -> io::Error {
        let what = if self.started { "idle" } else { "sent nothing" };
        io::Error::new(io::ErrorKind::TimedOut, format!("connection {what} for too long"))
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    if !self.started {
                        // The first bytes: from now on the idle limit applies.
                        self.started = true;
                        let next = Instant::now() + self.idle_timeout;
                        self.deadline.as_mut().reset(next);
                    }
                    self.moved = true;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if self.timed_out(cx) => Poll::Ready(Err(self.timed_out_error())),
            other => other,
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            self.moved |= n > 0;
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = written {
            self.moved |= n > 0;
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Connected for GuardedStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}
