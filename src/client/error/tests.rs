use super::*;

/// One of each error that a target can advise, as the client makes it: no advice.
fn unadvised() -> Vec<ClientError> {
    let endpoint = || "POST http://127.0.0.1:11434/api/chat".to_string();
    let timeout = |phase, budget| ClientError::Timeout {
        endpoint: endpoint(),
        phase,
        after: Duration::from_secs(2),
        budget,
        next: NextStep::default(),
    };
    let status = |status, message: &str| ClientError::Status {
        endpoint: endpoint(),
        status,
        message: Some(message.into()),
        next: NextStep::default(),
    };
    vec![
        ClientError::ConnectionRefused {
            addr: "127.0.0.1:11434".into(),
            next: NextStep::default(),
        },
        ClientError::Connect {
            addr: "127.0.0.1:11434".into(),
            message: "network unreachable".into(),
            next: NextStep::default(),
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
        status(400, "bad"),
        status(418, "teapot"),
        ClientError::AuthRequired {
            endpoint: endpoint(),
            status: 401,
            message: None,
            next: NextStep::default(),
        },
        ClientError::Interrupted {
            endpoint: endpoint(),
            bytes: 20,
            next: NextStep::default(),
        },
        ClientError::StreamError {
            endpoint: endpoint(),
            message: "CUDA error: out of memory".into(),
            next: NextStep::default(),
        },
        ClientError::StreamIncomplete {
            endpoint: endpoint(),
            chunks: 3,
            end: FINAL_CHUNK,
            next: NextStep::default(),
        },
    ]
}

/// The client knows no target: its errors name no log, service, container, flag or
/// check; they say what was expected and what was seen.
#[test]
fn errors_name_no_target_flag_or_check() {
    for e in unadvised() {
        let text = e.to_string();
        for target in [
            "journalctl",
            "systemctl",
            "docker",
            "--",
            "diagnose.",
            "service.active",
            "emulator",
        ] {
            assert!(!text.contains(target), "{target}: {text}");
        }
        assert_eq!(e.next_step(), None, "{text}");
    }
}

/// Advice ends the message where the error has room for it; an error that needs no
/// target to say what to do keeps its words.
#[test]
fn advice_ends_the_message() {
    for e in unadvised() {
        let plain = e.to_string();
        let advised = e.advised(Some("; look here".into()));
        assert_eq!(advised.to_string(), format!("{plain}; look here"));
        assert_eq!(advised.next_step(), Some("; look here"));
    }
    let missing = ClientError::EndpointMissing {
        endpoint: "GET http://127.0.0.1:11434/api/ps".into(),
        message: None,
        added: Added::In("0.1.38"),
    };
    let plain = missing.to_string();
    assert_eq!(missing.advised(Some("; x".into())).to_string(), plain);
}
