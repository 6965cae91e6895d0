use super::*;
use crate::client::{Budget, ClientError, Phase, FINAL_CHUNK};
use rstest::rstest;
use std::time::Duration;

/// Each timeout names the flag that sets the deadline that ran out: a silent `GET /`
/// is `--request-timeout`'s (a model load has nothing to do with it).
#[rstest]
#[case(Phase::Connect, Budget::Metadata, "--connect-timeout")]
#[case(Phase::Connect, Budget::Generation, "--connect-timeout")]
#[case(Phase::FirstByte, Budget::Metadata, "--request-timeout")]
#[case(Phase::FirstByte, Budget::Generation, "--load-timeout")]
#[case(Phase::Idle, Budget::Metadata, "--request-timeout")]
#[case(Phase::Total, Budget::Metadata, "--request-timeout")]
#[case(Phase::Total, Budget::Generation, "--generation-timeout")]
fn timeouts_name_their_flag(#[case] phase: Phase, #[case] budget: Budget, #[case] flag: &str) {
    let e = ClientError::Timeout {
        endpoint: "GET http://127.0.0.1:11434/".into(),
        phase,
        after: Duration::from_secs(15),
        budget,
        next: Default::default(),
    };
    let text = Advice::Native.advise(e).to_string();
    assert!(text.contains(&format!("({flag})")), "{text}");
    let flags = [
        "--connect-timeout",
        "--request-timeout",
        "--load-timeout",
        "--generation-timeout",
    ];
    for other in flags.iter().filter(|f| **f != flag) {
        assert!(!text.contains(other), "{text}");
    }
    if budget == Budget::Metadata {
        assert!(!text.contains("loading"), "{text}");
    }
}

/// Every error that names where to look says it for the server the client talks
/// to: the journal for a native service, the container's log (with --keep, as the
/// run removes it otherwise) on the docker target, the fault config on the
/// emulator target; never systemd where there is none.
#[test]
fn the_next_step_is_the_targets() {
    let all = |server: Advice| -> Vec<String> {
        let endpoint = || "POST http://127.0.0.1:11434/api/chat".to_string();
        let timeout = |phase, budget| ClientError::Timeout {
            endpoint: endpoint(),
            phase,
            after: Duration::from_secs(2),
            budget,
            next: Default::default(),
        };
        let status = |status| ClientError::Status {
            endpoint: endpoint(),
            status,
            message: Some("runner died".into()),
            next: Default::default(),
        };
        [
            ClientError::ConnectionRefused {
                addr: "127.0.0.1:11434".into(),
                next: Default::default(),
            },
            timeout(Phase::FirstByte, Budget::Metadata),
            timeout(Phase::FirstByte, Budget::Generation),
            timeout(Phase::Idle, Budget::Metadata),
            timeout(Phase::Idle, Budget::Generation),
            status(500),
            status(503),
            status(401),
            ClientError::Interrupted {
                endpoint: endpoint(),
                bytes: 20,
                next: Default::default(),
            },
            ClientError::StreamError {
                endpoint: endpoint(),
                message: "CUDA error: out of memory".into(),
                next: Default::default(),
            },
            ClientError::StreamIncomplete {
                endpoint: endpoint(),
                chunks: 3,
                end: FINAL_CHUNK,
                next: Default::default(),
            },
        ]
        .into_iter()
        .map(|e| server.advise(e).to_string())
        .collect()
    };
    for text in all(Advice::Native).iter().skip(1) {
        assert!(text.contains("`journalctl -u ollama`"), "{text}");
    }
    assert!(all(Advice::Native)[0].contains("systemctl status ollama"));
    let id = "0123456789abcdef0123";
    for (server, says) in [
        (
            Advice::Docker {
                id: id.into(),
                kept: true,
            },
            "`docker logs 0123456789ab`",
        ),
        (
            Advice::Docker {
                id: id.into(),
                kept: false,
            },
            "run again with --keep, then `docker logs 0123456789ab`",
        ),
        (Advice::Emulator, "`[[faults]]` of --emulator-config"),
    ] {
        let texts = all(server.clone());
        for text in &texts {
            for native in ["journalctl", "systemctl", "diagnose.port_owner"] {
                assert!(!text.contains(native), "{server:?}: {text}");
            }
        }
        // Each but the refused connection on the emulator (its own bug) says where.
        for text in texts.iter().skip(usize::from(server == Advice::Emulator)) {
            assert!(text.contains(says), "{server:?}: {text}");
        }
    }
}

/// A missing model is pulled natively, provisioned on the docker target, and
/// configured on the emulator.
#[test]
fn a_missing_model_says_how_this_target_gets_it() {
    let missing = |server: Advice| {
        let e = ClientError::Status {
            endpoint: "POST http://127.0.0.1:11434/api/chat".into(),
            status: 404,
            message: Some("model 'my-coder' not found".into()),
            next: Default::default(),
        };
        server.advise(e).to_string()
    };
    assert!(missing(Advice::Native).contains("`ollama pull <model>`"));
    let docker = missing(Advice::Docker {
        id: "0123456789abcdef".into(),
        kept: false,
    });
    assert!(
        docker.contains("--no-provision")
            && docker.contains("docker exec 0123456789ab ollama pull"),
        "{docker}"
    );
    assert!(!docker.contains("`ollama list`"), "{docker}");
    let emulated = missing(Advice::Emulator);
    assert!(
        emulated.contains("`installed`") && !emulated.contains("ollama pull"),
        "{emulated}"
    );
}

/// An address that does not connect is the user's OLLAMA_HOST or --host natively;
/// on the docker and emulator targets the run chose it, and neither is read.
#[test]
fn a_connect_failure_names_where_the_address_came_from() {
    let texts = |server: Advice| {
        [
            ClientError::Connect {
                addr: "127.0.0.1:32768".into(),
                message: "network unreachable".into(),
                next: Default::default(),
            },
            ClientError::Timeout {
                endpoint: "GET http://127.0.0.1:32768/".into(),
                phase: Phase::Connect,
                after: Duration::from_secs(3),
                budget: Budget::Metadata,
                next: Default::default(),
            },
        ]
        .map(|e| server.advise(e).to_string())
    };
    for text in texts(Advice::Native) {
        assert!(text.contains("OLLAMA_HOST or --host"), "{text}");
    }
    let container = Advice::Docker {
        id: "0123456789abcdef".into(),
        kept: false,
    };
    for (server, says) in [
        (container, "`docker port 0123456789ab`"),
        (Advice::Emulator, "the in-process emulator's own"),
    ] {
        for text in texts(server) {
            assert!(text.contains(says) && !text.contains("--host"), "{text}");
            assert!(
                text.contains("(--connect-timeout)") || text.contains(". The address"),
                "{text}"
            );
        }
    }
}

/// Every advised message of every target, as a person reads it.
#[test]
fn advised_messages_read_so() {
    let endpoint = || "POST http://127.0.0.1:11434/api/chat".to_string();
    let timeout = |phase, budget| ClientError::Timeout {
        endpoint: endpoint(),
        phase,
        after: Duration::from_secs(2),
        budget,
        next: Default::default(),
    };
    let status = |status, message: &str| ClientError::Status {
        endpoint: endpoint(),
        status,
        message: Some(message.into()),
        next: Default::default(),
    };
    let errors = [
        ClientError::ConnectionRefused {
            addr: "127.0.0.1:11434".into(),
            next: Default::default(),
        },
        ClientError::Connect {
            addr: "127.0.0.1:11434".into(),
            message: "network unreachable".into(),
            next: Default::default(),
        },
        timeout(Phase::Connect, Budget::Metadata),
        timeout(Phase::FirstByte, Budget::Metadata),
        timeout(Phase::FirstByte, Budget::Generation),
        timeout(Phase::Idle, Budget::Metadata),
        timeout(Phase::Idle, Budget::Generation),
        timeout(Phase::Total, Budget::Generation),
        status(500, "runner died"),
        status(500, "pull model manifest: file does not exist"),
        status(503, "server busy"),
        status(404, "model 'x' not found"),
        status(404, "404 page not found"),
        status(400, "bad"),
        status(418, "teapot"),
        ClientError::AuthRequired {
            endpoint: endpoint(),
            status: 401,
            message: None,
            next: Default::default(),
        },
        ClientError::Interrupted {
            endpoint: endpoint(),
            bytes: 20,
            next: Default::default(),
        },
        ClientError::StreamError {
            endpoint: endpoint(),
            message: "CUDA error: out of memory".into(),
            next: Default::default(),
        },
        ClientError::StreamError {
            endpoint: endpoint(),
            message: "pull model manifest: file does not exist".into(),
            next: Default::default(),
        },
        ClientError::StreamIncomplete {
            endpoint: endpoint(),
            chunks: 3,
            end: FINAL_CHUNK,
            next: Default::default(),
        },
    ];
    let targets = [
        Advice::Native,
        Advice::Docker {
            id: "0123456789abcdef".into(),
            kept: false,
        },
        Advice::Docker {
            id: "0123456789abcdef".into(),
            kept: true,
        },
        Advice::Emulator,
    ];
    let mut all = String::new();
    for target in &targets {
        all.push_str(&format!("== {target:?}\n"));
        for e in &errors {
            all.push_str(&format!("{}\n", target.advise(e.clone())));
        }
    }
    insta::assert_snapshot!(all);
}
