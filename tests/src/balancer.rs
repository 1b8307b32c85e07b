//! A TCP load balancer in front of relays, for clients that know one address (a browser
//! does): it forwards each new connection to its current target, which a test can move
//! when that relay dies.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Balancer {
    address: SocketAddr,
    target: Arc<Mutex<String>>,
    accepting: JoinHandle<()>,
}

impl Balancer {
    /// Listens on a free local port, forwarding to `target` (`http://host:port`).
    pub async fn start(target: &str) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the balancer");
        let address = listener.local_addr().expect("the balancer's address");
        let target = Arc::new(Mutex::new(host_port(target)));
        let current = target.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = current.lock().unwrap().clone();
                tokio::spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        Balancer { address, target, accepting }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// New connections go to `target` from now on.
    pub fn point_to(&self, target: &str) {
        *self.target.lock().unwrap() = host_port(target);
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://").trim_end_matches('/').to_string()
}
