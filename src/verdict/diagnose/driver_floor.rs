//! `diagnose.driver_floor`: the NVIDIA driver is new enough for the server. The
//! verdict finds what NVML and the log show (a typed finding), and one renderer words
//! it.

use super::{findings, nvml_gpus, quote, Evidence, NoGpus};
use crate::check::Outcome;
use crate::probe::gpu::{GpuError, GpuInfo};
use crate::probe::logs::ServerLog;
use crate::probe::LogError;
use crate::signature::{render, FindingKind};
use crate::version::version_key;

/// `5.0` → (5, 0).
pub fn parse_capability(text: &str) -> Option<(i32, i32)> {
    let (a, b) = text.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The first builds whose GPU discovery drops a GPU on a driver below the floors:
/// 0.30.0-rc0 the 570 of compute capability below 7 (`filterOldCUDADriver`),
/// 0.30.11-rc1 the 550 of all the others. An older server still uses the GPU on an older driver.
const LEGACY_FLOOR_FROM: &str = "0.30.0-rc0";
const FLOOR_FROM: &str = "0.30.11-rc1";

/// The floors: `floor`, or `old_floor` for compute capabilities from `old_from` to
/// `old_to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floors {
    pub floor: u32,
    pub old_floor: u32,
    pub old_from: (i32, i32),
    pub old_to: (i32, i32),
}

/// A GPU's driver against the floor its compute capability needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverOf {
    pub gpu: String,
    pub driver: String,
    pub compute_capability: Option<(i32, i32)>,
    pub required: u32,
}

impl DriverOf {
    fn cc(&self) -> String {
        self.compute_capability
            .map_or("unknown".to_string(), |(a, b)| format!("{a}.{b}"))
    }

    fn value(&self) -> String {
        format!("{}, cc {}", self.driver, self.cc())
    }
}

/// What `diagnose.driver_floor` found.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverFloor {
    /// NVML is not read, and the log says nothing of the driver.
    NoGpus(NoGpus),
    /// NVML is not read, and the log says the driver is too old.
    RefusedByLog { refused: Evidence, nvml: NoGpus },
    /// A driver version that is no number.
    Unnumbered { driver: String },
    /// Below a floor this server (`version`) does not enforce yet (from `since`), and
    /// its log shows the GPU failing.
    FailingBelow {
        driver: DriverOf,
        since: &'static str,
        version: String,
        failing: Evidence,
    },
    /// Below a floor this server does not enforce yet: it still uses the GPU.
    BelowLater {
        driver: DriverOf,
        since: &'static str,
        version: String,
    },
    /// Below the floor: the server falls back to the CPU; `refused` where its log says
    /// so too.
    Below {
        driver: DriverOf,
        floors: Floors,
        refused: Option<Evidence>,
    },
    /// Every driver is new enough, yet the log refused one.
    Disagree {
        passed: Vec<DriverOf>,
        refused: Evidence,
    },
    /// Every driver is new enough.
    Met { passed: Vec<DriverOf> },
}

/// `diagnose.driver_floor`: every GPU's driver is at least `floor`, or `old_floor` for
/// compute capabilities from `old_from` to `old_to`. Below it, a server that enforces
/// the floor (by `version`; unknown counts as current) drops the GPU: that fails. One
/// older than that still uses it: that warns, since upgrading Ollama will need it.
/// The server's `log`, where read, wins over the version: a GPU the log shows failing
/// is not "still used", and a driver the log refuses is quoted beside NVML's.
pub fn driver_floor(
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    version: Option<&str>,
    floor: u32,
    old_floor: u32,
    old: ((i32, i32), (i32, i32)),
    log: Option<&Result<ServerLog, LogError>>,
) -> Outcome {
    driver_floor_finding(gpus, version, floor, old_floor, old, log).outcome()
}

pub fn driver_floor_finding(
    gpus: &Result<Vec<GpuInfo>, GpuError>,
    version: Option<&str>,
    floor: u32,
    old_floor: u32,
    (old_from, old_to): ((i32, i32), (i32, i32)),
    log: Option<&Result<ServerLog, LogError>>,
) -> DriverFloor {
    let log = log.and_then(|l| l.as_ref().ok());
    let found = log.map(findings).unwrap_or_default();
    let quoted = |kind: Option<&crate::signature::Finding>| {
        kind.zip(log).map(|(f, log)| Evidence::of(f, log))
    };
    let refused = quoted(found.of(FindingKind::DriverTooOld).next());
    let failing = quoted(found.cpu_fallback().first().copied());
    let gpus = match nvml_gpus(gpus) {
        Ok(g) => g,
        // Without NVML the log alone may say the driver is too old.
        Err(nvml) => {
            return match refused {
                Some(refused) => DriverFloor::RefusedByLog { refused, nvml },
                None => DriverFloor::NoGpus(nvml),
            }
        }
    };
    let floors = Floors {
        floor,
        old_floor,
        old_from,
        old_to,
    };
    let server = version
        .and_then(version_key)
        .filter(|(n, _, _)| n.iter().any(|&x| x > 0));
    let enforces = |from: &str| match (&server, version_key(from)) {
        (Some(have), Some(need)) => *have >= need,
        _ => true,
    };
    let mut passed = Vec::new();
    for g in gpus {
        let Some(major) = g
            .driver_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
        else {
            return DriverFloor::Unnumbered {
                driver: g.driver_version.clone(),
            };
        };
        let cc = g.compute_capability;
        let old = cc.is_some_and(|c| c >= old_from && c <= old_to);
        let driver = DriverOf {
            gpu: g.name.clone(),
            driver: g.driver_version.clone(),
            compute_capability: cc,
            required: if old { old_floor } else { floor },
        };
        let since = if old { LEGACY_FLOOR_FROM } else { FLOOR_FROM };
        let version = version.unwrap_or_default().to_string();
        if major < driver.required && !enforces(since) {
            // The version says the GPU is still used; the log says what happened.
            return match failing {
                Some(failing) => DriverFloor::FailingBelow {
                    driver,
                    since,
                    version,
                    failing,
                },
                None => DriverFloor::BelowLater {
                    driver,
                    since,
                    version,
                },
            };
        }
        if major < driver.required {
            return DriverFloor::Below {
                driver,
                floors,
                refused,
            };
        }
        passed.push(driver);
    }
    // NVML's driver is new enough, yet the server refused one: say both.
    match refused {
        Some(refused) => DriverFloor::Disagree { passed, refused },
        None => DriverFloor::Met { passed },
    }
}

impl DriverFloor {
    /// The finding in words, with its status and value.
    pub fn outcome(&self) -> Outcome {
        let passed = |passed: &[DriverOf]| {
            passed
                .iter()
                .map(|d| {
                    format!(
                        "{}: driver {} ≥ {} (compute capability {})",
                        d.gpu,
                        d.driver,
                        d.required,
                        d.cc()
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        match self {
            DriverFloor::NoGpus(nvml) => nvml.outcome(),
            DriverFloor::RefusedByLog { refused, nvml } => Outcome::fail(format!(
                "the server's log says {}. NVML is not read here ({}). Next: {}",
                refused.said(),
                nvml.reason(),
                render::next(&refused.finding)
            ))
            .with_value("driver too old (log)"),
            DriverFloor::Unnumbered { driver } => Outcome::skip(format!(
                "the driver version `{driver}` is not a number to compare"
            )),
            DriverFloor::FailingBelow {
                driver: d,
                since,
                version,
                failing,
            } => Outcome::fail(format!(
                "{}: driver {} is below {}, the oldest Ollama {since} and later support for compute capability {}. This server ({version}) does not enforce that floor by its version, but its log shows the GPU failing: {}. Next: install NVIDIA driver {} or newer, then restart the server",
                d.gpu, d.driver, d.required, d.cc(), failing.said(), d.required
            ))
            .with_value(d.value()),
            DriverFloor::BelowLater {
                driver: d,
                since,
                version,
            } => Outcome::warn(format!(
                "{}: driver {} is below {}, the oldest Ollama {since} and later support for compute capability {}. This server ({version}) does not require it yet and still uses the GPU, but upgrading Ollama will drop it to the CPU. Next: install NVIDIA driver {} or newer before upgrading Ollama",
                d.gpu, d.driver, d.required, d.cc(), d.required
            ))
            .with_value(d.value()),
            DriverFloor::Below {
                driver: d,
                floors: f,
                refused,
            } => {
                let agrees = refused.as_ref().map_or(String::new(), |r| {
                    format!(" The server's log agrees: {}.", quote(&r.finding.evidence))
                });
                let (from, to) = (f.old_from, f.old_to);
                let floors = format!(
                    "{}; {} for {}.{} to {}.{}",
                    f.floor, f.old_floor, from.0, from.1, to.0, to.1
                );
                Outcome::fail(format!(
                    "{}: driver {} is below {}, the oldest current Ollama supports for compute capability {} ({floors}): the server falls back to the CPU.{agrees} Next: install NVIDIA driver {} or newer (`sudo ubuntu-drivers install`, or the Windows driver on WSL2), then restart the server",
                    d.gpu, d.driver, d.required, d.cc(), d.required
                ))
                .with_value(d.value())
            }
            DriverFloor::Disagree {
                passed: p,
                refused,
            } => {
                let next = "Next: restart the server and read its log again; check which libcuda it loads (`ldconfig -p | grep libcuda`)";
                Outcome::fail(format!(
                    "NVML reports {}, but the server's log says {}: the two disagree, so the server did not use the driver NVML reports (it started before the driver was upgraded, or loads another driver library). {next}",
                    passed(p),
                    refused.said()
                ))
                .with_value("log and NVML disagree")
            }
            DriverFloor::Met { passed: p } => {
                let value = p.first().map(|first| {
                    let cc = first
                        .compute_capability
                        .map_or("?".to_string(), |(a, b)| format!("{a}.{b}"));
                    format!("{}, cc {cc}", first.driver)
                });
                let o = Outcome::pass(passed(p));
                match value {
                    Some(v) => o.with_value(v),
                    None => o,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::check::Status;

    use crate::probe::gpu::emulated;

    use rstest::rstest;

    #[rstest]
    #[case("560.94", Some((8, 6)), Status::Pass)]
    #[case("535.183.01", Some((8, 6)), Status::Fail)]
    #[case("560.35", Some((6, 1)), Status::Fail)]
    #[case("570.86", Some((6, 1)), Status::Pass)]
    #[case("550.54", Some((5, 0)), Status::Fail)]
    #[case("550.54", None, Status::Pass)]
    fn driver_floor_depends_on_compute_capability(
        #[case] driver: &str,
        #[case] cc: Option<(i32, i32)>,
        #[case] status: Status,
    ) {
        let g = GpuInfo {
            driver_version: driver.into(),
            compute_capability: cc,
            ..emulated()
        };
        let o = driver_floor(&Ok(vec![g]), None, 550, 570, ((5, 0), (6, 2)), None);
        assert_eq!(o.status, status, "{}", o.detail);
    }

    /// The floors came with 0.30.0 (570 for compute capability below 7) and 0.30.11
    /// (550): an older server still uses the GPU, so an old driver only warns there.
    #[rstest]
    #[case("535.183", Some((8, 6)), Some("0.17.1"), Status::Warn)]
    #[case("535.183", Some((8, 6)), Some("0.30.10"), Status::Warn)]
    #[case("535.183", Some((8, 6)), Some("0.30.11"), Status::Fail)]
    #[case("535.183", Some((8, 6)), Some("0.0.0"), Status::Fail)] // from source: current
    #[case("535.183", Some((8, 6)), None, Status::Fail)]
    #[case("560.35", Some((6, 1)), Some("0.29.5"), Status::Warn)]
    #[case("560.35", Some((6, 1)), Some("0.30.0"), Status::Fail)]
    #[case("560.35", Some((6, 1)), Some("0.30.0-rc3"), Status::Fail)]
    #[case("535.183", Some((8, 6)), Some("0.30.11-rc0"), Status::Warn)]
    #[case("535.183", Some((8, 6)), Some("0.30.11-rc1"), Status::Fail)]
    #[case("570.86", Some((8, 6)), Some("0.17.1"), Status::Pass)]
    fn driver_floor_depends_on_the_server(
        #[case] driver: &str,
        #[case] cc: Option<(i32, i32)>,
        #[case] version: Option<&str>,
        #[case] status: Status,
    ) {
        let g = GpuInfo {
            driver_version: driver.into(),
            compute_capability: cc,
            ..emulated()
        };
        let gpus = Ok(vec![g]);
        let o = driver_floor(&gpus, version, 550, 570, ((5, 0), (6, 2)), None);
        assert_eq!(o.status, status, "{}", o.detail);
        if status == Status::Warn {
            // The server does not enforce the floor yet: it still uses the GPU.
            let found = driver_floor_finding(&gpus, version, 550, 570, ((5, 0), (6, 2)), None);
            assert!(
                matches!(&found, DriverFloor::BelowLater { version: v, .. } if Some(v.as_str()) == version),
                "{found:?}"
            );
        }
    }

    /// Every finding of the check, as a person reads it.
    #[test]
    fn findings_read_so() {
        // A recorded log of a server refusing a 535 driver: it falls back to the CPU.
        let path = format!(
            "{}/tests/fixtures/logs/020-driver-535-too-old-0.30.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let log = ServerLog::new(
            "journalctl -u ollama",
            &std::fs::read_to_string(path).unwrap(),
        );
        let found = findings(&log);
        let evidence = |kind| Evidence::of(found.of(kind).next().expect("the line matches"), &log);
        let refused = evidence(FindingKind::DriverTooOld);
        let failing = Evidence::of(found.cpu_fallback()[0], &log);
        let driver = |gpu: &str, driver: &str, cc, required| DriverOf {
            gpu: gpu.into(),
            driver: driver.into(),
            compute_capability: cc,
            required,
        };
        let rtx = |d: &str, required| driver("NVIDIA GeForce RTX 3060", d, Some((8, 6)), required);
        let p40 = driver("Tesla P40", "570.86", Some((6, 1)), 570);
        let floors = Floors {
            floor: 550,
            old_floor: 570,
            old_from: (5, 0),
            old_to: (6, 2),
        };
        let all_found = [
            DriverFloor::NoGpus(NoGpus::Off),
            DriverFloor::NoGpus(NoGpus::Unreadable(GpuError::NoDriver {
                detail: "dlopen failed".into(),
            })),
            DriverFloor::NoGpus(NoGpus::NoneListed),
            DriverFloor::RefusedByLog {
                refused: refused.clone(),
                nvml: NoGpus::Off,
            },
            DriverFloor::Unnumbered {
                driver: "unknown".into(),
            },
            DriverFloor::FailingBelow {
                driver: rtx("535.183", 550),
                since: FLOOR_FROM,
                version: "0.17.1".into(),
                failing,
            },
            DriverFloor::BelowLater {
                driver: driver("Tesla P40", "560.35", Some((6, 1)), 570),
                since: LEGACY_FLOOR_FROM,
                version: "0.29.5".into(),
            },
            DriverFloor::Below {
                driver: rtx("535.183", 550),
                floors,
                refused: None,
            },
            DriverFloor::Below {
                driver: driver("Tesla P40", "560.35", Some((6, 1)), 570),
                floors,
                refused: Some(refused.clone()),
            },
            DriverFloor::Disagree {
                passed: vec![rtx("570.86", 550)],
                refused,
            },
            DriverFloor::Met {
                passed: vec![rtx("570.86", 550), p40],
            },
            DriverFloor::Met {
                passed: vec![driver("NVIDIA GeForce RTX 3060", "550.54", None, 550)],
            },
        ];
        let all: String = all_found
            .iter()
            .map(|f| {
                let o = f.outcome();
                o.snapshot_line()
            })
            .collect();
        insta::assert_snapshot!(all);
    }
}
