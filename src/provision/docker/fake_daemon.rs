//! A Docker daemon for the tests, answering as each test tells it, or not at all.

use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// A Docker API on a unix socket of its own: each request's path (the API version
/// cut off) goes to `answer`, whose `(status, JSON or text)` goes back; `None` holds
/// the request unanswered while the test runs: a daemon that stopped answering.
pub(super) struct FakeDaemon {
    pub(super) docker: testcontainers::bollard::Docker,
    _dir: tempfile::TempDir,
}

impl FakeDaemon {
    pub(super) fn start(
        answer: impl Fn(&str) -> Option<(u16, String)> + Send + Sync + 'static,
    ) -> Self {
        use std::io::{BufRead, Write};
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let answer = Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let answer = answer.clone();
                std::thread::spawn(move || {
                    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut request = String::new();
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            request.push_str(&line);
                        }
                        let path = request.split_whitespace().nth(1).unwrap_or_default();
                        let path = match path.strip_prefix("/v") {
                            Some(rest) => rest.find('/').map_or(path, |i| &rest[i..]),
                            None => path,
                        };
                        let Some((status, body)) = answer(path) else {
                            std::thread::sleep(Duration::from_secs(3600));
                            return;
                        };
                        let head = format!(
                            "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        if stream
                            .write_all(format!("{head}{body}").as_bytes())
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        let docker = testcontainers::bollard::Docker::connect_with_unix(
            socket.to_str().unwrap(),
            120,
            testcontainers::bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        FakeDaemon { docker, _dir: dir }
    }
}

/// A URL of 127.0.0.1 on a port nothing listens on: an API that never answers.
pub(super) fn unanswered_url() -> Url {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Url::parse(&format!("http://127.0.0.1:{port}")).unwrap()
}

/// Well past each call's own bound, well before bollard's two minutes.
pub(super) const HANG: Duration = Duration::from_secs(20);
