//! A plain-http server on 127.0.0.1 that answers every request with a `200` whose body comes
//! one byte per interval: it never trips a read timeout, only a total deadline.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

pub struct TrickleServer {
    pub addr: SocketAddr,
}

impl TrickleServer {
    /// Starts the server on threads of its own (one per connection; each ends when the client
    /// hangs up).
    pub fn start(interval: Duration) -> TrickleServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let header = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\nContent-Length: 1000000\r\n\r\n";
                    if stream.write_all(header.as_bytes()).is_err() {
                        return;
                    }
                    loop {
                        if stream
                            .write_all(b" ")
                            .and_then(|()| stream.flush())
                            .is_err()
                        {
                            return;
                        }
                        std::thread::sleep(interval);
                    }
                });
            }
        });
        TrickleServer { addr }
    }

    /// `http://127.0.0.1:<port>/simple/`
    pub fn index_url(&self) -> String {
        format!("http://{}/simple/", self.addr)
    }
}
