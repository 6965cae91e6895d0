//! `diagnose.driver_floor`: the NVIDIA driver is new enough for the server.

use super::{findings, nvml_gpus, quote, said};
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
    (old_from, old_to): ((i32, i32), (i32, i32)),
    log: Option<&Result<ServerLog, LogError>>,
) -> Outcome {
    let log = log.and_then(|l| l.as_ref().ok());
    let found = log.map(findings).unwrap_or_default();
    let source = log.map_or("", |l| l.source.as_str());
    let refused = found.of(FindingKind::DriverTooOld).next();
    let failing = found.cpu_fallback().first().copied();
    let gpus = match nvml_gpus(gpus) {
        Ok(g) => g,
        // Without NVML the log alone may say the driver is too old.
        Err(skip) => {
            return match refused {
                Some(f) => Outcome::fail(format!(
                    "the server's log says {}. NVML is not read here ({}). Next: {}",
                    said(f, source),
                    skip.detail,
                    render::next(f)
                ))
                .with_value("driver too old (log)"),
                None => skip,
            }
        }
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
            return Outcome::skip(format!(
                "the driver version `{}` is not a number to compare",
                g.driver_version
            ));
        };
        let cc = g.compute_capability;
        let old = cc.is_some_and(|c| c >= old_from && c <= old_to);
        let required = if old { old_floor } else { floor };
        let cc_text = cc.map_or("unknown".to_string(), |(a, b)| format!("{a}.{b}"));
        let from = if old { LEGACY_FLOOR_FROM } else { FLOOR_FROM };
        if major < required && !enforces(from) {
            // The version says the GPU is still used; the log says what happened.
            if let Some(f) = failing {
                return Outcome::fail(format!(
                    "{}: driver {} is below {required}, the oldest Ollama {from} and later support for compute capability {cc_text}. This server ({}) does not enforce that floor by its version, but its log shows the GPU failing: {}. Next: install NVIDIA driver {required} or newer, then restart the server",
                    g.name, g.driver_version, version.unwrap_or_default(), said(f, source)
                ))
                .with_value(format!("{}, cc {cc_text}", g.driver_version));
            }
            return Outcome::warn(format!(
                "{}: driver {} is below {required}, the oldest Ollama {from} and later support for compute capability {cc_text}. This server ({}) does not require it yet and still uses the GPU, but upgrading Ollama will drop it to the CPU. Next: install NVIDIA driver {required} or newer before upgrading Ollama",
                g.name, g.driver_version, version.unwrap_or_default()
            ))
            .with_value(format!("{}, cc {cc_text}", g.driver_version));
        }
        if major < required {
            let agrees = refused.map_or(String::new(), |f| {
                format!(" The server's log agrees: {}.", quote(&f.evidence))
            });
            return Outcome::fail(format!(
                "{}: driver {} is below {required}, the oldest current Ollama supports for compute capability {cc_text} ({floor}; {old_floor} for {}.{} to {}.{}): the server falls back to the CPU.{agrees} Next: install NVIDIA driver {required} or newer (`sudo ubuntu-drivers install`, or the Windows driver on WSL2), then restart the server",
                g.name, g.driver_version, old_from.0, old_from.1, old_to.0, old_to.1
            ))
            .with_value(format!("{}, cc {cc_text}", g.driver_version));
        }
        passed.push(format!(
            "{}: driver {} ≥ {required} (compute capability {cc_text})",
            g.name, g.driver_version
        ));
    }
    // NVML's driver is new enough, yet the server refused one: say both.
    if let Some(f) = refused {
        return Outcome::fail(format!(
            "NVML reports {}, but the server's log says {}: the two disagree, so the server did not use the driver NVML reports (it started before the driver was upgraded, or loads another driver library). Next: restart the server and read its log again; check which libcuda it loads (`ldconfig -p | grep libcuda`)",
            passed.join("; "),
            said(f, source)
        ))
        .with_value("log and NVML disagree");
    }
    let first = &gpus[0];
    Outcome::pass(passed.join("; ")).with_value(format!(
        "{}, cc {}",
        first.driver_version,
        first
            .compute_capability
            .map_or("?".to_string(), |(a, b)| format!("{a}.{b}"))
    ))
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
        let o = driver_floor(&Ok(vec![g]), version, 550, 570, ((5, 0), (6, 2)), None);
        assert_eq!(o.status, status, "{}", o.detail);
        if status == Status::Warn {
            assert!(o.detail.contains("still uses the GPU"), "{}", o.detail);
        }
    }
}
