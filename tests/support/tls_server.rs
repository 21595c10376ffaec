//! A minimal HTTPS server on 127.0.0.1 with a certificate from a throw-away CA made at run time
//! (rcgen). It answers every request with one fixed response, or with what a handler makes of
//! the request's path (redirect tests), and records the request heads it received.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A CA and a `localhost`/`127.0.0.1` certificate signed by it.
pub struct TestPki {
    /// The CA certificate, PEM: what a client must trust.
    pub ca_pem: String,
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl TestPki {
    pub fn generate() -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mlsupply test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().unwrap();
        let leaf_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        TestPki {
            ca_pem: ca_cert.pem(),
            server_chain: vec![leaf.der().clone(), ca_cert.der().clone()],
            server_key: leaf_key.serialize_der(),
        }
    }
}

/// Makes the whole raw HTTP response for a request path.
pub type Handler = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

pub struct TlsServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    /// Each request's head (request line and headers), in arrival order.
    pub requests: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsServer {
    /// Serves `body` with `content_type` to every request, over TLS with `pki`'s certificate.
    /// Must be called inside a tokio runtime that keeps running while the server is used.
    pub async fn start(pki: &TestPki, content_type: &str, body: String) -> TlsServer {
        let response = ok_response(content_type, &body);
        TlsServer::start_with(pki, Arc::new(move |_: &str| response.clone())).await
    }

    /// Answers each request with `handler(path)`.
    pub async fn start_with(pki: &TestPki, handler: Handler) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                pki.server_chain.clone(),
                rustls::pki_types::PrivateKeyDer::Pkcs8(pki.server_key.clone().into()),
            )
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let handler = Arc::clone(&handler);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    // A client that rejects the certificate ends the handshake: nothing to do.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&request).into_owned();
                    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                    seen.lock().unwrap().push(head);
                    let _ = tls.write_all(&handler(&path)).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        TlsServer {
            addr,
            task,
            requests,
        }
    }

    /// A server with a fresh CA answering `answer(path, its own port)`, and the CA's PEM file
    /// (in the returned directory) for `SSL_CERT_FILE`.
    pub async fn answering(
        answer: impl Fn(&str, u16) -> Vec<u8> + Send + Sync + 'static,
    ) -> (TlsServer, tempfile::TempDir, String) {
        let pki = TestPki::generate();
        // The handler needs the server's own port, known only once it is bound.
        let port = Arc::new(std::sync::OnceLock::new());
        let seen = Arc::clone(&port);
        let server = TlsServer::start_with(
            &pki,
            Arc::new(move |path: &str| answer(path, *seen.get().unwrap())),
        )
        .await;
        port.set(server.addr.port()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &pki.ca_pem).unwrap();
        let ca = ca.display().to_string();
        (server, dir, ca)
    }

    /// `https://localhost:<port>/simple/`
    pub fn index_url(&self) -> String {
        format!("https://localhost:{}/simple/", self.addr.port())
    }
}

/// A complete `200 OK` response with `body`.
pub fn ok_response(content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A complete `302 Found` response to `location`.
pub fn redirect_response(location: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}
