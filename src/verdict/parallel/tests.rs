use super::*;
use crate::check::Status;
use crate::client::types::Stats;
use crate::perf::parallel::Stream;
use crate::perf::StreamTiming;
use std::time::Duration;

const EXPECT: Expect = Expect {
    min_gain: 1.5,
    max_wait: 3.0,
};

/// A stream of 64 tokens sent at 0, its first token at `first` ms, done at `done` ms,
/// generating at `rate` tok/s by the server's count.
fn stream(first: u64, done: u64, rate: f64) -> Stream {
    let eval = 64.0 / rate;
    Stream {
        timing: StreamTiming {
            first_token: Some(Duration::from_millis(first)),
            gaps: vec![],
            client_rate: None,
            server: Stats {
                eval_count: Some(64),
                eval_duration: Some((eval * 1e9) as u64),
                ..Default::default()
            },
        },
        sent: Duration::ZERO,
        done: Duration::from_millis(done),
    }
}

/// One stream alone: 64 tokens at 64 tok/s after a 50 ms first token.
fn alone() -> Stream {
    stream(50, 1050, 64.0)
}

/// Four streams on one slot: each waits for the one before.
fn one_slot() -> Streams {
    Streams {
        alone: alone(),
        together: (0..4)
            .map(|k| stream(50 + 1000 * k, 1050 + 1000 * k, 64.0))
            .collect(),
    }
}

/// Four streams on four slots: together, each at 64 / 1.3 tok/s.
fn four_slots() -> Streams {
    Streams {
        alone: alone(),
        together: (0..4).map(|_| stream(60, 1360, 64.0 / 1.3)).collect(),
    }
}

/// Four streams side by side on a GPU with no room: each four times slower.
fn saturated() -> Streams {
    Streams {
        alone: alone(),
        together: (0..4).map(|_| stream(60, 4050, 16.0)).collect(),
    }
}

fn find(streams: Streams, slots: Result<u64, String>) -> Finding {
    finding(Some(&Ok(streams)), &slots, EXPECT, None)
}

#[test]
fn one_slot_queues_the_streams() {
    let Finding::Queued(m) = find(one_slot(), Ok(1)) else {
        panic!("expected Queued")
    };
    assert_eq!(
        (m.streams, m.waited, m.at_once, m.slots),
        (4, 3, 1, Some(1))
    );
    assert!((m.gain() - (256.0 / 4.05) / (64.0 / 1.05)).abs() < 1e-9);
    assert!((m.worst_first_token() - 3.05).abs() < 1e-9);
    assert!(m.wait_ratio() > 60.0);
}

#[test]
fn four_slots_share_the_gpu() {
    let Finding::Shared(m) = find(four_slots(), Ok(4)) else {
        panic!("expected Shared")
    };
    assert_eq!((m.waited, m.at_once), (0, 4));
    assert!((m.gain() - 256.0 / 1.36 / (64.0 / 1.05)).abs() < 1e-9);
    assert!((m.stream_rates[0] - 64.0 / 1.3).abs() < 1e-6);
}

#[test]
fn side_by_side_without_gain_is_no_gain() {
    let Finding::NoGain(m) = find(saturated(), Ok(4)) else {
        panic!("expected NoGain")
    };
    assert_eq!((m.waited, m.at_once), (0, 4));
    assert!(m.gain() < EXPECT.min_gain);
}

/// The thresholds are the spec's: a looser one passes what a stricter one queues.
#[test]
fn the_specs_thresholds_decide() {
    let loose = Expect {
        min_gain: 0.9,
        max_wait: 100.0,
    };
    let f = finding(Some(&Ok(one_slot())), &Ok(1), loose, None);
    assert!(matches!(f, Finding::Shared(_)), "{f:?}");
    let strict = Expect {
        min_gain: 3.5,
        max_wait: 3.0,
    };
    let f = finding(Some(&Ok(four_slots())), &Ok(4), strict, None);
    assert!(matches!(f, Finding::NoGain(_)), "{f:?}");
}

#[test]
fn what_was_not_measured_says_why() {
    let unknown = finding(
        None,
        &Err("the log has no server config".into()),
        EXPECT,
        None,
    );
    assert!(matches!(unknown, Finding::SlotsUnknown(_)), "{unknown:?}");
    assert_eq!(unknown.outcome().status, Status::Skip);
    assert!(matches!(
        finding(None, &Ok(1), EXPECT, None),
        Finding::NotSent
    ));
    let mut silent = four_slots();
    silent.together[2].timing.first_token = None;
    assert!(matches!(
        find(silent, Ok(4)),
        Finding::Untimed("a first token")
    ));
    let mut unreported = four_slots();
    unreported.alone.timing.server.eval_count = None;
    assert!(matches!(
        find(unreported, Ok(4)),
        Finding::Untimed("eval_count")
    ));
    let refused = ClientError::ConnectionRefused {
        addr: "127.0.0.1:11434".into(),
        next: Default::default(),
    };
    let f = finding(Some(&Err(refused)), &Ok(1), EXPECT, Some("down"));
    assert!(matches!(f, Finding::Unanswered { .. }), "{f:?}");
    assert_eq!(f.outcome().status, Status::Skip, "api.root reports it once");
}

/// Figures for the summary JSON: together against the least gain, each stream's speed,
/// and the slowest first token against the longest wait allowed.
#[test]
fn the_figures_carry_the_numbers_and_their_targets() {
    let o = find(one_slot(), Ok(1)).outcome();
    let q: Vec<Quantity> = o.figures.iter().map(|f| f.quantity).collect();
    assert_eq!(
        q,
        [
            Quantity::AggregateRate,
            Quantity::StreamRate,
            Quantity::FirstTokenUnderLoad
        ]
    );
    let [aggregate, each, first] = &o.figures[..] else {
        unreachable!()
    };
    assert_eq!(aggregate.meets_target(), Some(false));
    assert!((aggregate.target.unwrap() - 1.5 * 64.0 / 1.05).abs() < 1e-9);
    assert_eq!(each.samples.len(), 4);
    assert_eq!(first.value, 3.05);
    assert_eq!(first.target, Some(3.0 * 0.05));
    assert_eq!(first.meets_target(), Some(false));
    let o = find(four_slots(), Ok(4)).outcome();
    assert!(o.figures.iter().all(|f| f.meets_target() != Some(false)));
}

#[test]
fn findings_read_so() {
    let cases = [
        find(one_slot(), Ok(1)),
        find(one_slot(), Err("unknown".into())),
        find(one_slot(), Ok(4)),
        find(four_slots(), Ok(4)),
        find(saturated(), Ok(4)),
        finding(
            None,
            &Err("OLLAMA_NUM_PARALLEL is 0: the server picks 4 or 1 by free memory".into()),
            EXPECT,
            None,
        ),
        finding(None, &Ok(1), EXPECT, None),
        Finding::Untimed("eval_count"),
    ];
    let all: String = cases
        .iter()
        .map(|f| {
            let o = f.outcome();
            o.snapshot_line()
        })
        .collect();
    insta::assert_snapshot!(all);
}
