//! `diagnose.settings` and `diagnose.service_health`: the unit (container) runs as
//! configured, and does not crash.

use super::{log_of, quote};
use crate::catalog::CheckId;
use crate::check::Outcome;
use crate::probe::logs::{same_setting, ServerLog};
use crate::probe::service::ServiceFacts;
use crate::probe::LogError;
use crate::probe::ProbeError;
use crate::target::Advice;

/// `diagnose.settings`: the unit's (container's) `OLLAMA_*` environment is what the
/// running server logged in its `server config` line, compared by meaning.
pub fn settings(
    facts: &Result<ServiceFacts, ProbeError>,
    log: &Result<ServerLog, LogError>,
) -> Outcome {
    let (env, whose, fix) = match facts {
        Err(e) => {
            return Outcome::skip(format!(
                "the unit could not be read (see {}): {e}",
                CheckId::ServiceActive
            ))
        }
        Ok(ServiceFacts::Unavailable(reason)) => return Outcome::skip(reason.clone()),
        Ok(ServiceFacts::Unit(u)) if !u.exists() => {
            return Outcome::skip(format!(
                "there is no {}.service (see {})",
                u.unit,
                CheckId::ServiceActive
            ))
        }
        Ok(ServiceFacts::Unit(u)) => (
            u.effective_environment(),
            "the unit",
            format!(
                "a change to the unit was not applied: run `sudo systemctl daemon-reload && sudo systemctl restart {}`",
                u.unit
            ),
        ),
        Ok(ServiceFacts::Container(c)) => (
            c.environment.clone(),
            "the container",
            "the container runs with other settings than it was given: recreate it (`docker compose up -d --force-recreate ollama`)".to_string(),
        ),
    };
    let log = match log_of(log) {
        Ok(l) => l,
        Err(o) => return o,
    };
    let Some((running, _)) = log.server_config() else {
        return Outcome::skip(format!(
            "{} since the server's last start holds no `server config` line to compare with",
            log.source
        ));
    };
    let set: Vec<&(String, String)> = env
        .iter()
        .filter(|(k, _)| k.starts_with("OLLAMA_"))
        .collect();
    // Environment files this tool could not read (often root's): what they set is not
    // known here, so it is neither compared nor blamed.
    let unreadable: Vec<&str> = match facts {
        Ok(ServiceFacts::Unit(u)) => u
            .environment_files
            .iter()
            .filter(|f| f.read.is_err())
            .map(|f| f.path.as_str())
            .collect(),
        _ => Vec::new(),
    };
    let unread_note = if unreadable.is_empty() {
        String::new()
    } else {
        format!(
            "; {} could not be read here, so what it sets was not compared (try with sudo)",
            unreadable.join(", ")
        )
    };
    let shown = |k: &str, v: &str| crate::secrets::mask_value(k, v).into_owned();
    let mut differ = Vec::new();
    let mut compared = 0;
    for (k, v) in &set {
        let Some(logged) = running.get(k) else {
            continue; // a setting this server version does not know or print
        };
        compared += 1;
        if !same_setting(k, v, logged) {
            differ.push(format!(
                "{whose} sets {k}={} but the server runs with {k}:{}",
                shown(k, v),
                shown(k, logged)
            ));
        }
    }
    if !differ.is_empty() {
        return Outcome::fail(format!(
            "{} (the `server config` line of {}): {fix}{unread_note}",
            differ.join("; "),
            log.source
        ))
        .with_value(format!("{} of {compared} differ", differ.len()));
    }
    Outcome::pass(format!(
        "the {compared} OLLAMA_* setting(s) of {whose} are what the server logged it runs with{unread_note}"
    ))
    .with_value(format!("{compared} applied"))
}

/// `diagnose.service_health`: the unit does not restart over and over; restarts or a
/// failed last run warn, a restart loop (`loop_at` restarts, or activating /
/// auto-restart now) fails. The log's last error line is quoted.
pub fn service_health(
    facts: &Result<ServiceFacts, ProbeError>,
    log: &Result<ServerLog, LogError>,
    loop_at: u32,
) -> Outcome {
    let u = match facts {
        Err(e) => {
            return Outcome::skip(format!(
                "the unit could not be read (see {}): {e}",
                CheckId::ServiceActive
            ))
        }
        Ok(ServiceFacts::Unavailable(reason)) => return Outcome::skip(reason.clone()),
        Ok(ServiceFacts::Container(c)) if c.status == "restarting" => {
            // Its log, as this run can show it (it removes the container without --keep).
            let container = Advice::Docker {
                id: c.id.clone(),
                kept: c.kept,
            };
            return Outcome::fail(format!(
                "the container {} is restarting: it keeps exiting. Next: {}",
                crate::text::short_id(&c.id),
                container.see_log()
            ))
            .with_value("restarting");
        }
        Ok(ServiceFacts::Container(c)) => {
            return Outcome::pass(format!("the container is {}", c.status))
                .with_value(c.status.clone())
        }
        Ok(ServiceFacts::Unit(u)) if !u.exists() => {
            return Outcome::skip(format!(
                "there is no {}.service (see {})",
                u.unit,
                CheckId::ServiceActive
            ))
        }
        Ok(ServiceFacts::Unit(u)) => u,
    };
    let restarts = u.n_restarts.unwrap_or(0);
    let status = u.exec_main_status.unwrap_or(0);
    let value = format!("{restarts} restart(s), last exit {status}");
    let last_error = log.as_ref().ok().and_then(|l| {
        l.lines
            .iter()
            .rev()
            .find(|x| x.contains("level=ERROR") || x.starts_with("Error:") || x.contains("panic:"))
            .map(|x| format!(" The log's last error: {}.", quote(x)))
    });
    let evidence = last_error.unwrap_or_default();
    let next = format!(
        "Next: `systemctl status {0}` and `journalctl -u {0} -e` for why it exits",
        u.unit
    );
    let looping = u.sub_state == "auto-restart" || u.active_state == "activating";
    if looping || restarts >= loop_at {
        return Outcome::fail(format!(
            "{}.service is in a restart loop: ActiveState={} ({}), NRestarts={restarts}, ExecMainStatus={status}.{evidence} {next}",
            u.unit, u.active_state, u.sub_state
        ))
        .with_value(value);
    }
    if restarts > 0 || status != 0 {
        return Outcome::warn(format!(
            "{}.service has restarted {restarts} time(s) and its main process last exited with {status}: it crashed at least once.{evidence} {next}",
            u.unit
        ))
        .with_value(value);
    }
    Outcome::pass(format!(
        "{}.service has not restarted (NRestarts={}, ExecMainStatus={})",
        u.unit,
        u.n_restarts.map_or("unreported".into(), |n| n.to_string()),
        u.exec_main_status
            .map_or("unreported".into(), |n| n.to_string())
    ))
    .with_value(value)
}

#[cfg(test)]
mod tests {
    use super::super::support::*;
    use super::*;
    use crate::check::Status;

    use crate::probe::service::parse_show;
    use rstest::rstest;

    #[rstest]
    #[case(
        "OLLAMA_FLASH_ATTENTION:true OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_KEEP_ALIVE:30m0s",
        Status::Pass
    )]
    #[case(
        "OLLAMA_FLASH_ATTENTION:false OLLAMA_HOST:http://0.0.0.0:11434 OLLAMA_KEEP_ALIVE:30m0s",
        Status::Fail
    )]
    #[case(
        "OLLAMA_FLASH_ATTENTION:true OLLAMA_HOST:http://127.0.0.1:11434",
        Status::Fail
    )]
    #[case("OLLAMA_HOST:http://0.0.0.0:11434", Status::Pass)]
    fn settings_are_compared_by_meaning(#[case] map: &str, #[case] status: Status) {
        let u = unit("LoadState=loaded\nEnvironment=\"OLLAMA_HOST=0.0.0.0:11434\" OLLAMA_FLASH_ATTENTION=1 OLLAMA_KEEP_ALIVE=30m\n");
        let line = format!(
            "time=x level=INFO source=routes.go:1 msg=\"server config\" env=\"map[{map}]\""
        );
        let o = settings(&u, &log(&[&line]));
        assert_eq!(o.status, status, "{}", o.detail);
        if status == Status::Fail {
            assert!(o.detail.contains("daemon-reload"), "{}", o.detail);
        }
    }

    /// An `EnvironmentFile=` setting is compared too (it wins over `Environment=`), and
    /// one that cannot be read is named as not compared.
    #[test]
    fn settings_from_environment_files_are_compared() {
        use crate::probe::service::EnvironmentFile;
        let mut u = parse_show(
            "ollama",
            "LoadState=loaded\nEnvironment=OLLAMA_KEEP_ALIVE=30m\n",
        );
        let set = |pairs: &[(&str, &str)]| {
            Ok(pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect())
        };
        u.environment_files = vec![
            EnvironmentFile {
                path: "/etc/ollama.env".into(),
                optional: false,
                read: set(&[("OLLAMA_KEEP_ALIVE", "1h"), ("OLLAMA_FLASH_ATTENTION", "1")]),
                mode: Some(0o600),
            },
            EnvironmentFile {
                path: "/etc/root-only.env".into(),
                optional: false,
                read: Err("permission denied".into()),
                mode: None,
            },
        ];
        let facts = Ok(ServiceFacts::Unit(u));
        let line = |map: &str| {
            format!("time=x level=INFO source=routes.go:1 msg=\"server config\" env=\"map[{map}]\"")
        };
        let o = settings(
            &facts,
            &log(&[&line(
                "OLLAMA_FLASH_ATTENTION:true OLLAMA_KEEP_ALIVE:1h0m0s",
            )]),
        );
        assert_eq!(o.status, Status::Pass, "{}", o.detail);
        assert!(
            o.detail.contains("/etc/root-only.env could not be read"),
            "{}",
            o.detail
        );
        let o = settings(
            &facts,
            &log(&[&line("OLLAMA_FLASH_ATTENTION:true OLLAMA_KEEP_ALIVE:30m0s")]),
        );
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(o.detail.contains("OLLAMA_KEEP_ALIVE=1h"), "{}", o.detail);
    }

    #[rstest]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=0\nExecMainStatus=0\n",
        Status::Pass
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=1\nExecMainStatus=0\n",
        Status::Warn
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=0\nExecMainStatus=2\n",
        Status::Warn
    )]
    #[case(
        "ActiveState=active\nSubState=running\nNRestarts=3\nExecMainStatus=1\n",
        Status::Fail
    )]
    #[case(
        "ActiveState=activating\nSubState=auto-restart\nNRestarts=1\nExecMainStatus=1\n",
        Status::Fail
    )]
    #[case("ActiveState=active\nSubState=running\n", Status::Pass)]
    fn restarts_warn_and_loops_fail(#[case] show: &str, #[case] status: Status) {
        let f = unit(&format!("LoadState=loaded\n{show}"));
        let o = service_health(
            &f,
            &log(&["time=x level=ERROR source=server.go:1 msg=\"llama runner terminated\""]),
            3,
        );
        assert_eq!(o.status, status, "{}", o.detail);
        if status != Status::Pass {
            assert!(o.detail.contains("llama runner terminated"), "{}", o.detail);
        }
    }

    /// A restarting container's log is gone once the run removes it: the next step
    /// says to keep it, unless it is kept.
    #[test]
    fn a_restarting_container_says_how_to_read_its_log() {
        use crate::probe::service::ContainerState;
        let facts = |kept| {
            Ok(ServiceFacts::Container(ContainerState {
                id: "0123456789abcdef".into(),
                running: true,
                status: "restarting".into(),
                health: None,
                restart_policy: "unless-stopped".into(),
                environment: vec![],
                kept,
            }))
        };
        let log = Ok(ServerLog::new("the container log", ""));
        let o = service_health(&facts(false), &log, 3);
        assert_eq!(o.status, Status::Fail, "{}", o.detail);
        assert!(
            o.detail
                .contains("run again with --keep, then `docker logs 0123456789ab`"),
            "{}",
            o.detail
        );
        let o = service_health(&facts(true), &log, 3);
        assert!(
            o.detail.contains("(`docker logs 0123456789ab`)") && !o.detail.contains("--keep"),
            "{}",
            o.detail
        );
    }
}
