use super::super::support::*;
use super::*;
use crate::check::Status;

/// What the check finds for my-coder, answered, on the native target.
fn seen(
    ps: &Result<PsResponse, ClientError>,
    samples: &Result<Vec<Vec<GpuInfo>>, GpuError>,
    log: &Result<ServerLog, LogError>,
) -> OffloadSeen {
    offload_finding(
        ps,
        ("my-coder", None),
        &Ok(()),
        samples,
        log,
        None,
        &Advice::Native,
    )
}

#[test]
fn offload_truth_cross_checks_the_api_with_nvml() {
    let full = "load_tensors: offloaded 29/29 layers to GPU";
    let held = offload(
        &ps(5 << 30),
        ("my-coder", None),
        &Ok(()),
        &sample(Some(ollama(5 << 30)), 6 << 30),
        &log(&[full]),
        None,
        &Advice::Native,
    );
    assert_eq!(held.status, Status::Pass, "{}", held.detail);
    let found = seen(
        &ps(5 << 30),
        &sample(Some(ollama(5 << 30)), 6 << 30),
        &log(&[full]),
    );
    assert!(
        matches!(
            &found,
            OffloadSeen::Held {
                held,
                layers: Some(Offload { on_gpu: 29, total: 29 }),
                busy: Some(87),
                ..
            } if *held == 5 << 30
        ),
        "{found:?}"
    );
    // The API claims the GPU; NVML shows nobody holding it.
    let lie = offload(
        &ps(5 << 30),
        ("my-coder", None),
        &Ok(()),
        &sample(Some(vec![]), 400 << 20),
        &log(&[full]),
        None,
        &Advice::Native,
    );
    assert_eq!(lie.status, Status::Fail, "{}", lie.detail);
    assert!(matches!(
        seen(
            &ps(5 << 30),
            &sample(Some(vec![]), 400 << 20),
            &log(&[full])
        ),
        OffloadSeen::NoneHeld { .. }
    ));
    // WSL2: no process list, but the memory is in use.
    let wsl = offload(
        &ps(5 << 30),
        ("my-coder", None),
        &Ok(()),
        &sample(Some(vec![]), 6 << 30),
        &log(&[full]),
        None,
        &Advice::Native,
    );
    assert_eq!(wsl.status, Status::Pass, "{}", wsl.detail);
    let partial = offload(
        &ps(3 << 30),
        ("my-coder", None),
        &Ok(()),
        &sample(Some(ollama(3 << 30)), 4 << 30),
        &log(&["llm_load_tensors: offloaded 20/29 layers to GPU"]),
        None,
        &Advice::Native,
    );
    assert_eq!(partial.status, Status::Warn);
    assert_eq!(partial.value.as_deref(), Some("offloaded 20/29 layers"));
    // All layers placed, tensors of 5 spilled by llama-server's fit.
    let fit = "common_params_fit_impl:   - CUDA0 (NVIDIA GeForce RTX 3060): 29 layers ( 5 overflowing),  11065 MiB used,   1036 MiB free";
    let spilled = offload(
        &ps(5 << 30),
        ("my-coder", None),
        &Ok(()),
        &sample(Some(ollama(5 << 30)), 6 << 30),
        &log(&[fit, full]),
        None,
        &Advice::Native,
    );
    assert_eq!(spilled.status, Status::Warn, "{}", spilled.detail);
    assert_eq!(spilled.value.as_deref(), Some("5 layer(s) overflowing"));
    // Another model loaded after it: its own load's line counts, by its weights.
    let start = |blob: &str| {
        format!("time=2026-01-01T00:00:00Z level=INFO source=server.go:431 msg=\"starting runner\" cmd=\"/usr/bin/ollama runner --model /m/blobs/{blob} --port 1\"")
    };
    let two = log(&[
        &start("sha256-aaa"),
        full,
        &start("sha256-bbb"),
        "load_tensors: offloaded 10/29 layers to GPU",
    ]);
    let of = |blob| {
        offload(
            &ps(5 << 30),
            ("my-coder", blob),
            &Ok(()),
            &sample(Some(ollama(5 << 30)), 6 << 30),
            &two,
            None,
            &Advice::Native,
        )
    };
    assert_eq!(
        of(Some("sha256-aaa")).status,
        Status::Pass,
        "{}",
        of(Some("sha256-aaa")).detail
    );
    assert_eq!(of(Some("sha256-bbb")).status, Status::Warn);
    assert_eq!(
        of(None).status,
        Status::Warn,
        "unknown weights: the last load"
    );
    let cpu = offload(
        &ps(0),
        ("my-coder", None),
        &Ok(()),
        &sample(Some(vec![]), 0),
        &log(&["offloaded 0/29 layers to GPU"]),
        None,
        &Advice::Native,
    );
    assert_eq!(cpu.status, Status::Fail);
    // No CUDA device in the log: discovery is the next place to look.
    assert!(matches!(
        seen(
            &ps(0),
            &sample(Some(vec![]), 0),
            &log(&["offloaded 0/29 layers to GPU"])
        ),
        OffloadSeen::CpuOnly {
            why: NoLayers::NoGpuFound,
            ..
        }
    ));
    // The server found the GPU: discovery is not why nothing is on it.
    let found = compute(UUID, "CUDA");
    let cpu = offload(
        &ps(0),
        ("my-coder", None),
        &Ok(()),
        &sample(Some(vec![]), 11 << 30),
        &log(&[&found, "offloaded 0/29 layers to GPU"]),
        None,
        &Advice::Native,
    );
    assert_eq!(cpu.status, Status::Fail);
    let room = |used| match seen(
        &ps(0),
        &sample(Some(vec![]), used),
        &log(&[&found, "offloaded 0/29 layers to GPU"]),
    ) {
        OffloadSeen::CpuOnly {
            why: NoLayers::Found { line, room, model },
            ..
        } => {
            assert_eq!(
                (line.as_str(), model.as_str()),
                (found.as_str(), "my-coder")
            );
            room
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        room(11 << 30),
        Room::Short {
            free: 1 << 30,
            total: 12 << 30
        }
    );
    // With room for the whole model, VRAM is not blamed.
    assert_eq!(
        room(1 << 30),
        Room::Whole {
            free: 11 << 30,
            total: 12 << 30
        }
    );
    let unknown = offload(
        &ps(5 << 30),
        ("my-coder", None),
        &Ok(()),
        &sample(None, 0),
        &Err("no journalctl on this machine".into()),
        None,
        &Advice::Native,
    );
    assert_eq!(unknown.status, Status::Skip);
    // A log that cannot be read is not one without the line.
    let unread: Result<ServerLog, LogError> = Err("no journalctl on this machine".into());
    assert!(matches!(
        seen(&ps(5 << 30), &sample(None, 0), &unread),
        OffloadSeen::Unlisted {
            layers: None,
            log: Some(_),
            ..
        }
    ));
}

/// Every finding of the check, as a person reads it, on each target where its
/// next step depends on the target.
#[test]
fn findings_read_so() {
    let path = format!(
        "{}/tests/fixtures/logs/004-deepseek2-oom-runner-abort.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let recorded = Ok(ServerLog::new(
        "the pasted log",
        &std::fs::read_to_string(path).unwrap(),
    ));
    let cause = load_failure(&recorded).expect("the log shows the failed load");
    let path = format!(
        "{}/tests/fixtures/logs/015-vision-projector-on-cpu.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let vision = ServerLog::new("the pasted log", &std::fs::read_to_string(path).unwrap());
    let projector = signature::scan_lines(vision.load_of(None));
    let projector = Evidence::of(
        projector
            .of(FindingKind::OffloadProjectorOnCpu)
            .next()
            .expect("the log shows the projector on the CPU"),
        &vision,
    );
    let gib = 1u64 << 30;
    let api = |placement, size_vram| ApiPlacement {
        placement,
        size_vram,
        size: 5 * gib,
    };
    let on_gpu = || api(Placement::Gpu, 5 * gib);
    let layers = |on_gpu, total| Some(Offload { on_gpu, total });
    let error = ClientError::Status {
        endpoint: "POST /api/chat".into(),
        status: 500,
        message: None,
        next: Default::default(),
    };
    let holders = || {
        vec![VramHolder {
            pid: 812,
            name: "/usr/local/bin/ollama".into(),
        }]
    };
    let cpu_only = |why| OffloadSeen::CpuOnly {
        line: "offloaded 0/29 layers to GPU".into(),
        total: 29,
        api: api(Placement::Cpu, 0),
        why,
    };
    let found = |room| NoLayers::Found {
        line: compute(UUID, "CUDA"),
        room,
        model: "my-coder".into(),
    };
    let mut all = vec![
        OffloadSeen::RootDown("the API does not answer (see api.root)".into()),
        OffloadSeen::FailedGeneration {
            error: error.clone(),
            cause,
        },
        OffloadSeen::NoGeneration(error),
        OffloadSeen::NotLoaded(NotLoaded::Absent("my-coder".into())),
        cpu_only(NoLayers::NoGpuFound),
        cpu_only(found(Room::Whole {
            free: 11 * gib,
            total: 12 * gib,
        })),
        cpu_only(found(Room::Short {
            free: gib,
            total: 12 * gib,
        })),
        cpu_only(found(Room::Unknown)),
        OffloadSeen::Partial {
            line: "llm_load_tensors: offloaded 20/29 layers to GPU".into(),
            layers: Offload {
                on_gpu: 20,
                total: 29,
            },
            api: api(Placement::Split { gpu_percent: 60 }, 3 * gib),
        },
        OffloadSeen::Overflowing {
            line: "load_tensors: offloaded 29/29 layers to GPU".into(),
            n: 5,
            lines: vec!["common_params_fit_impl:   - CUDA0 (NVIDIA GeForce RTX 3060): 29 layers ( 5 overflowing),  11065 MiB used,   1036 MiB free".into()],
            api: on_gpu(),
        },
        OffloadSeen::Projector {
            evidence: projector,
            api: on_gpu(),
        },
        OffloadSeen::Unconfirmed {
            nvml: NoGpus::Off,
            layers: layers(43, 43),
        },
        OffloadSeen::Unconfirmed {
            nvml: NoGpus::Unreadable(GpuError::NoDriver {
                detail: "dlopen failed".into(),
            }),
            layers: None,
        },
        OffloadSeen::Unlisted {
            emulated: true,
            layers: layers(29, 29),
            api: on_gpu(),
            log: None,
        },
        OffloadSeen::Unlisted {
            emulated: false,
            layers: None,
            api: on_gpu(),
            log: None,
        },
        OffloadSeen::Unlisted {
            emulated: false,
            layers: None,
            api: on_gpu(),
            log: Some(LogError::NoJournalctl {
                host: "this machine".into(),
            }),
        },
        OffloadSeen::InUse {
            in_use: 6 * gib,
            api: on_gpu(),
            layers: layers(29, 29),
            busy: Some(87),
        },
        OffloadSeen::Idle {
            holders: holders(),
            held: 5 * gib,
            api: on_gpu(),
            layers: None,
        },
        OffloadSeen::Held {
            holders: holders(),
            held: 5 * gib,
            api: on_gpu(),
            layers: layers(29, 29),
            busy: Some(87),
        },
        OffloadSeen::Held {
            holders: holders(),
            held: 5 * gib,
            api: on_gpu(),
            layers: None,
            busy: None,
        },
    ];
    let docker = Advice::Docker {
        id: "0123456789abcdef".into(),
        kept: false,
    };
    for (advice, others) in [
        (Advice::Native, vec![]),
        (docker, vec!["python3".to_string()]),
        (Advice::Emulator, vec![]),
    ] {
        all.push(OffloadSeen::NoneHeld {
            api: on_gpu(),
            others,
            in_use: 400 << 20,
            layers: layers(29, 29),
            advice,
        });
    }
    let all: String = all
        .iter()
        .map(|f| {
            let o = f.outcome();
            o.snapshot_line()
        })
        .collect();
    insta::assert_snapshot!(all);
}
