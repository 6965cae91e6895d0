//! The run's facts (`ollama_verify::facts`), gathered when its checks are done from
//! what its session learnt on the way: the GPUs, the version, the model list and the
//! models' `/api/show` are asked once per run, so most are known already. What is not
//! yet known is asked now, each question within a budget; what is not answered in it
//! is left out. A server that is down is asked nothing more.

use ollama_verify::facts::{GpuFacts, HostFacts, ModelFacts, OllamaFacts, RunFacts, SETTINGS};
use ollama_verify::probe::service::ServiceFacts;
use ollama_verify::session::Session;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// The longest a question may take at the end of a finished run.
pub const BUDGET: Duration = Duration::from_secs(5);
/// ... and at the end of a run stopped early (`--deadline`, a signal): what is known
/// is kept, little more is asked.
pub const STOPPED_BUDGET: Duration = Duration::from_secs(1);

/// The unit whose environment holds the server's settings when its log does not.
const UNIT: &str = "ollama";

/// The run's facts, each question to the server or the host within `budget`; all of
/// them are asked at once, so gathering takes at most about twice `budget` (the
/// server's reachability first).
pub async fn gather(session: &Session, budget: Duration) -> RunFacts {
    let models = session.used_models();
    let host = async {
        match session.host() {
            Ok(host) if host.is_container() => {
                HostFacts::of(host, budget.min(session.command_timeout)).await
            }
            // The native target's host, and the emulator's (in this process): read
            // here, whatever the PATH holds.
            _ => HostFacts::this_machine(),
        }
    };
    let gpus = async {
        match within(budget, session.gpus()).await {
            Some(Ok(gpus)) => gpus.iter().map(GpuFacts::from).collect(),
            _ => Vec::new(),
        }
    };
    let api = async {
        let reachable = within(budget, session.unreachable())
            .await
            .is_some_and(|why| why.is_none());
        if !reachable {
            return (None, Vec::new());
        }
        let shows =
            futures_util::future::join_all(models.iter().map(|m| within(budget, session.show(m))));
        let (version, tags, shows) = tokio::join!(
            within(budget, session.server_version()),
            within(budget, session.tags()),
            shows
        );
        let version = version.and_then(|v| v.as_ref().ok().cloned());
        let tags = tags.and_then(|t| t.as_ref().ok().cloned());
        let mut facts = Vec::new();
        for (name, show) in models.iter().zip(shows) {
            let mut m = ModelFacts {
                name: Some(ollama_verify::ModelName::parse(name).display_name()),
                ..Default::default()
            };
            if let Some(info) = tags.as_ref().and_then(|t| t.find(name)) {
                m.digest = some(&info.digest);
                m.quantization = some(&info.details.quantization_level);
                m.parameter_size = some(&info.details.parameter_size);
            }
            if let Some(Ok(show)) = show {
                m.add_show(&show);
            }
            facts.push(m);
        }
        (version, facts)
    };
    let settings = async {
        match models.is_empty() {
            true => BTreeMap::new(),
            false => settings(session, budget).await,
        }
    };
    let (host, gpus, (version, mut models), settings) = tokio::join!(host, gpus, api, settings);
    for m in &mut models {
        m.add_settings(&settings);
    }
    RunFacts {
        host: Some(host).filter(|h| *h != HostFacts::default()),
        gpus,
        ollama: Some(OllamaFacts {
            version,
            target: Some(session.target.to_string()),
        }),
        models,
    }
}

/// The server's parallel slots as its settings say (`OLLAMA_NUM_PARALLEL` in its log's
/// `server config` line, else in its service's environment), or why they do not.
pub async fn parallel_slots(session: &Session) -> Result<u64, String> {
    let settings = settings(session, BUDGET).await;
    match settings.get("OLLAMA_NUM_PARALLEL") {
        None => Err("neither the server's log (its `server config` line) nor its service's environment sets OLLAMA_NUM_PARALLEL".into()),
        Some(v) => ollama_verify::facts::parallel_slots(&settings).ok_or_else(|| {
            format!("OLLAMA_NUM_PARALLEL is {v:?}, which releases before mid-2025 read as 4 or 1 by free memory")
        }),
    }
}

/// The server's settings that a model's facts name: as its log's `server config`
/// line shows them (what it runs with), else as its service's environment sets them.
async fn settings(session: &Session, budget: Duration) -> BTreeMap<String, String> {
    let wanted = |(k, _): &(String, String)| SETTINGS.contains(&k.as_str());
    if let Some(Ok(log)) = within(budget, session.server_log(UNIT)).await {
        if let Some((config, _)) = log.server_config() {
            return config.into_iter().filter(wanted).collect();
        }
    }
    let env = |get: &dyn Fn(&str) -> Option<String>| {
        SETTINGS
            .iter()
            .filter_map(|k| Some((k.to_string(), get(k)?)))
            .collect()
    };
    match within(budget, session.service(UNIT)).await {
        Some(Ok(ServiceFacts::Unit(unit))) => env(&|k| unit.env(k).map(String::from)),
        Some(Ok(ServiceFacts::Container(c))) => env(&|k| c.env(k).map(String::from)),
        _ => BTreeMap::new(),
    }
}

/// `work`'s answer, or `None` when it takes longer than `budget`.
async fn within<T>(budget: Duration, work: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(budget, work).await.ok()
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}
