//! A TCP proxy in front of a server, for tests that play with the network between two
//! parts: in front of relays for clients that know one address (a browser does), moved
//! when that relay dies; in front of NATS for a controller, made to swallow what the
//! controller sends (its link looks up, and nothing arrives) or cut.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Proxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    accepting: JoinHandle<()>,
}

struct Shared {
    /// Where new connections go (`host:port`).
    target: Mutex<String>,
    /// What clients send is read and dropped, on every connection.
    swallowing: AtomicBool,
    /// Cancelled to end every connection open now.
    cut: Mutex<CancellationToken>,
}

impl Proxy {
    /// Listens on a free local port, forwarding to `target` (`scheme://host:port`).
    pub async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            target: Mutex::new(host_port(target)),
            swallowing: AtomicBool::new(false),
            cut: Mutex::new(CancellationToken::new()),
        });
        let accepted = shared.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(accepted.clone().forward(client));
            }
        });
        Proxy { address, shared, accepting }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The proxy's address as a NATS client names it.
    pub fn nats_url(&self) -> String {
        format!("nats://{}", self.address)
    }

    /// New connections go to `target` from now on.
    pub fn point_to(&self, target: &str) {
        *self.shared.target.lock().unwrap() = host_port(target);
    }

    /// From now on, what clients send goes nowhere (their connections stay open).
    pub fn swallow(&self) {
        self.shared.swallowing.store(true, Ordering::SeqCst);
    }

    /// Ends every open connection; connections made from now on work again.
    pub fn cut(&self) {
        let old = std::mem::take(&mut *self.shared.cut.lock().unwrap());
        self.shared.swallowing.store(false, Ordering::SeqCst);
        old.cancel();
    }
}

impl Shared {
    async fn forward(self: Arc<Self>, mut client: TcpStream) {
        let cut = self.cut.lock().unwrap().clone();
        let target = self.target.lock().unwrap().clone();
        let Ok(mut upstream) = TcpStream::connect(target).await else { return };
        let (mut client_reads, mut client_writes) = client.split();
        let (mut upstream_reads, mut upstream_writes) = upstream.split();
        let sent = async {
            let mut buffer = vec![0; 16 * 1024];
            loop {
                let read = client_reads.read(&mut buffer).await?;
                if read == 0 {
                    return upstream_writes.shutdown().await;
                }
                if !self.swallowing.load(Ordering::SeqCst) {
                    upstream_writes.write_all(&buffer[..read]).await?;
                }
            }
        };
        let received = async {
            tokio::io::copy(&mut upstream_reads, &mut client_writes).await?;
            client_writes.shutdown().await
        };
        tokio::select! {
            _ = async { tokio::try_join!(sent, received) } => {}
            () = cut.cancelled() => {}
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.shared.cut.lock().unwrap().cancel();
    }
}

fn host_port(url: &str) -> String {
    let address = url.split_once("://").map_or(url, |(_, rest)| rest);
    address.trim_end_matches('/').to_string()
}
