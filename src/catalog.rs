//! The check catalogue: every built-in check once, with its area, default severity, what
//! it needs, what it may change and which diagnoses explain its failure. `--list`, the
//! report order, the diagnoses attached to a failure, the docs' catalogue and the tests
//! read it; code names a check by its [`CheckId`], never by a string.
//!
//! The feature files remain the specification a user edits: a scenario's `@check.<id>`
//! tag binds it to an entry here, and its `@warn` tag sets the severity of that run
//! (a test keeps the built-in feature files and this table in agreement).

use serde::Serialize;
use std::fmt;

/// A built-in check. Its string form (`api.chat`) is the `@check.<id>` tag and the id in
/// every report; a user's own scenarios may carry other ids, which reports keep as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    GpuVisible,
    ServiceActive,
    ServiceEnabled,
    ServiceOverride,
    ServiceHost,
    ServiceFlashAttention,
    CliAvailable,
    ModelsBase,
    ModelsCustom,
    ApiRoot,
    ApiTags,
    ApiChat,
    ApiOpenai,
    GpuOffload,
    PerfGeneration,
    DiagnoseContext,
    DiagnoseDriverFloor,
    DiagnoseGpuDiscovered,
    DiagnoseOffload,
    DiagnosePlatform,
    DiagnosePortOwner,
    DiagnoseServiceHealth,
    DiagnoseSettings,
    DiagnoseVulnerable,
    ModelfileParameters,
    ModelfileSystem,
    ModelfileWeights,
    PerfLoadCold,
    PerfLoadWarm,
    PerfParallel,
    PerfPrompt,
    PerfRoofline,
    PerfStreaming,
    PerfVramHeadroom,
    SecurityExposure,
    SecurityMasking,
    SecurityRemoteReachable,
}

/// The part of the install a check looks at: the id's first word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Gpu,
    Service,
    Cli,
    Models,
    Api,
    Perf,
    Modelfile,
    Security,
    Diagnose,
}

/// What a check needs from the target; without it the check is skipped with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// The server's HTTP API.
    Api,
    /// A chat with the custom model, which loads it into memory.
    Chat,
    /// GPU facts, from NVML or nvidia-smi (`@gpu`).
    Gpu,
    /// Files, processes and commands of the server's host (`@host`).
    Host,
    /// The ollama systemd unit (`@systemd`).
    Systemd,
    /// The server's log.
    Log,
}

impl Need {
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Api => "api",
            Need::Chat => "chat",
            Need::Gpu => "gpu",
            Need::Host => "host",
            Need::Systemd => "systemd",
            Need::Log => "log",
        }
    }

    /// The feature-file tag that says so, for the needs a tag carries.
    pub fn tag(self) -> Option<&'static str> {
        match self {
            Need::Gpu => Some("gpu"),
            Need::Host => Some("host"),
            Need::Systemd => Some("systemd"),
            Need::Api | Need::Chat | Need::Log => None,
        }
    }
}

/// What a check may change on the server it verifies; most change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Changes {
    Nothing,
    /// Loads the custom model into memory, as any chat does (its keep_alive applies).
    LoadsModel,
    /// Unloads the custom model to time a cold load, only with `--allow-unload`.
    UnloadsModel,
}

impl Changes {
    pub fn describe(self) -> &'static str {
        match self {
            Changes::Nothing => "nothing",
            Changes::LoadsModel => "loads the custom model into memory, as any chat does",
            Changes::UnloadsModel => {
                "unloads the custom model to time a cold load (only with --allow-unload)"
            }
        }
    }
}

/// How much a check's failure matters: `@warn` scenarios report, they do not fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fail,
    Warn,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub id: CheckId,
    pub severity: Severity,
    pub needs: &'static [Need],
    pub changes: Changes,
    /// The diagnoses whose findings explain this check's failure, in the order reports
    /// list them.
    pub explained_by: &'static [CheckId],
}

use CheckId::*;
use Need::*;

const fn check(
    id: CheckId,
    severity: Severity,
    needs: &'static [Need],
    explained_by: &'static [CheckId],
) -> Check {
    let changes = if matches!(id, PerfLoadCold) {
        Changes::UnloadsModel
    } else {
        let mut i = 0;
        let mut loads = false;
        while i < needs.len() {
            loads |= matches!(needs[i], Chat);
            i += 1;
        }
        if loads {
            Changes::LoadsModel
        } else {
            Changes::Nothing
        }
    };
    Check {
        id,
        severity,
        needs,
        changes,
        explained_by,
    }
}

const F: Severity = Severity::Fail;
const W: Severity = Severity::Warn;

/// Every built-in check in report order: the [`CLASSIC`] checks in their historic order,
/// then the others by id.
pub const CATALOGUE: [Check; 37] = [
    check(
        GpuVisible,
        F,
        &[Gpu],
        &[DiagnoseDriverFloor, DiagnosePlatform],
    ),
    check(
        ServiceActive,
        F,
        &[Host, Systemd],
        &[DiagnoseServiceHealth, DiagnosePortOwner],
    ),
    check(ServiceEnabled, W, &[Host, Systemd], &[]),
    check(ServiceOverride, W, &[Host, Systemd], &[]),
    check(ServiceHost, W, &[Host, Systemd], &[DiagnoseSettings]),
    check(
        ServiceFlashAttention,
        W,
        &[Host, Systemd],
        &[DiagnoseSettings],
    ),
    check(CliAvailable, F, &[Host], &[DiagnosePortOwner]),
    check(ModelsBase, F, &[Api], &[]),
    check(ModelsCustom, F, &[Api], &[]),
    check(
        ApiRoot,
        F,
        &[Api],
        &[DiagnosePortOwner, DiagnoseServiceHealth],
    ),
    check(ApiTags, F, &[Api], &[]),
    check(
        ApiChat,
        F,
        &[Api, Chat],
        &[DiagnoseContext, DiagnoseServiceHealth],
    ),
    check(
        GpuOffload,
        F,
        &[Api, Chat, Gpu],
        &[
            DiagnoseOffload,
            DiagnoseGpuDiscovered,
            DiagnoseDriverFloor,
            DiagnoseContext,
            DiagnosePlatform,
        ],
    ),
    check(
        PerfGeneration,
        F,
        &[Api, Chat],
        &[
            DiagnoseOffload,
            DiagnoseGpuDiscovered,
            DiagnoseDriverFloor,
            DiagnoseContext,
        ],
    ),
    check(ApiOpenai, F, &[Api, Chat], &[DiagnoseServiceHealth]),
    check(DiagnoseContext, F, &[Api, Chat, Gpu, Log], &[]),
    check(DiagnoseDriverFloor, F, &[Api, Gpu], &[]),
    check(DiagnoseGpuDiscovered, F, &[Gpu, Log], &[]),
    check(DiagnoseOffload, F, &[Api, Chat, Gpu], &[]),
    check(DiagnosePlatform, F, &[Host, Gpu], &[]),
    check(DiagnosePortOwner, F, &[Host], &[]),
    check(DiagnoseServiceHealth, F, &[Host, Systemd, Log], &[]),
    check(DiagnoseSettings, W, &[Host, Log], &[]),
    check(DiagnoseVulnerable, F, &[Api], &[]),
    check(ModelfileParameters, F, &[Api], &[]),
    check(ModelfileSystem, F, &[Api], &[]),
    check(ModelfileWeights, W, &[Api], &[]),
    check(PerfLoadCold, W, &[Api, Chat], &[]),
    check(PerfLoadWarm, W, &[Api, Chat], &[]),
    check(PerfParallel, W, &[Api, Chat], &[DiagnoseSettings]),
    check(
        PerfPrompt,
        F,
        &[Api, Chat],
        &[DiagnoseOffload, DiagnoseContext],
    ),
    check(
        PerfRoofline,
        W,
        &[Api, Chat, Gpu],
        &[DiagnoseOffload, DiagnoseGpuDiscovered],
    ),
    check(PerfStreaming, F, &[Api, Chat], &[]),
    check(PerfVramHeadroom, W, &[Api, Chat, Gpu], &[]),
    check(SecurityExposure, W, &[Host, Systemd], &[DiagnoseVulnerable]),
    check(SecurityMasking, W, &[Host, Systemd], &[]),
    check(SecurityRemoteReachable, W, &[Host, Api], &[]),
];

impl CheckId {
    /// The id as tags and reports spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            GpuVisible => "gpu.visible",
            ServiceActive => "service.active",
            ServiceEnabled => "service.enabled",
            ServiceOverride => "service.override",
            ServiceHost => "service.host",
            ServiceFlashAttention => "service.flash_attention",
            CliAvailable => "cli.available",
            ModelsBase => "models.base",
            ModelsCustom => "models.custom",
            ApiRoot => "api.root",
            ApiTags => "api.tags",
            ApiChat => "api.chat",
            ApiOpenai => "api.openai",
            GpuOffload => "gpu.offload",
            PerfGeneration => "perf.generation",
            DiagnoseContext => "diagnose.context",
            DiagnoseDriverFloor => "diagnose.driver_floor",
            DiagnoseGpuDiscovered => "diagnose.gpu_discovered",
            DiagnoseOffload => "diagnose.offload",
            DiagnosePlatform => "diagnose.platform",
            DiagnosePortOwner => "diagnose.port_owner",
            DiagnoseServiceHealth => "diagnose.service_health",
            DiagnoseSettings => "diagnose.settings",
            DiagnoseVulnerable => "diagnose.vulnerable",
            ModelfileParameters => "modelfile.parameters",
            ModelfileSystem => "modelfile.system",
            ModelfileWeights => "modelfile.weights",
            PerfLoadCold => "perf.load_cold",
            PerfLoadWarm => "perf.load_warm",
            PerfParallel => "perf.parallel",
            PerfPrompt => "perf.prompt",
            PerfRoofline => "perf.roofline",
            PerfStreaming => "perf.streaming",
            PerfVramHeadroom => "perf.vram_headroom",
            SecurityExposure => "security.exposure",
            SecurityMasking => "security.masking",
            SecurityRemoteReachable => "security.remote_reachable",
        }
    }

    /// The built-in check of that id, if it is one.
    pub fn parse(id: &str) -> Option<CheckId> {
        CATALOGUE.iter().map(|c| c.id).find(|c| c.as_str() == id)
    }

    /// Its catalogue entry.
    pub fn entry(self) -> &'static Check {
        CATALOGUE
            .iter()
            .find(|c| c.id == self)
            .expect("every CheckId has an entry (tested)")
    }

    pub fn area(self) -> Area {
        match self.as_str().split('.').next() {
            Some("gpu") => Area::Gpu,
            Some("service") => Area::Service,
            Some("cli") => Area::Cli,
            Some("models") => Area::Models,
            Some("api") => Area::Api,
            Some("perf") => Area::Perf,
            Some("modelfile") => Area::Modelfile,
            Some("security") => Area::Security,
            _ => Area::Diagnose,
        }
    }

    /// Whether this is a `diagnose.*` check: one that explains others' failures.
    pub fn is_diagnosis(self) -> bool {
        self.area() == Area::Diagnose
    }

    /// The checks whose failure this diagnosis explains.
    pub fn explains(self) -> impl Iterator<Item = CheckId> {
        CATALOGUE
            .iter()
            .filter(move |c| c.explained_by.contains(&self))
            .map(|c| c.id)
    }
}

/// The classic checks, in their historic order.
pub fn classic() -> impl Iterator<Item = CheckId> {
    CATALOGUE[..CLASSIC].iter().map(|c| c.id)
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How many checks open the catalogue in their historic order (the classic script's).
pub const CLASSIC: usize = 14;

/// Where a check id stands in reports: the classic checks in their order, then every other
/// id (built-in or a user's own) by name, which is the catalogue's order for built-in ones.
pub fn order(id: &str) -> (usize, String) {
    let pos = CATALOGUE[..CLASSIC]
        .iter()
        .position(|c| c.id.as_str() == id);
    (pos.unwrap_or(CLASSIC), id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_id_has_one_entry_and_reads_back() {
        let ids: HashSet<CheckId> = CATALOGUE.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), CATALOGUE.len(), "an id is listed twice");
        for c in &CATALOGUE {
            assert_eq!(CheckId::parse(c.id.as_str()), Some(c.id));
            assert_eq!(c.id.entry().id, c.id);
        }
        assert_eq!(CheckId::parse("api.chatter"), None);
    }

    #[test]
    fn only_diagnoses_explain_and_they_explain_something() {
        for c in &CATALOGUE {
            for d in c.explained_by {
                assert!(d.is_diagnosis(), "{} explained by {d}", c.id);
            }
        }
        for c in CATALOGUE.iter().filter(|c| c.id.is_diagnosis()) {
            assert!(c.id.explains().count() > 0, "{} explains nothing", c.id);
        }
        assert_eq!(
            DiagnoseSettings.explains().collect::<Vec<_>>(),
            [ServiceHost, ServiceFlashAttention, PerfParallel]
        );
    }

    #[test]
    fn reports_follow_the_catalogue_then_other_ids_by_name() {
        let mut ids = vec![
            "zzz.extra",
            "perf.generation",
            "api.root",
            "gpu.visible",
            "aaa.extra",
            "security.masking",
            "diagnose.context",
        ];
        ids.sort_by_key(|id| order(id));
        assert_eq!(
            ids,
            [
                "gpu.visible",
                "api.root",
                "perf.generation",
                "aaa.extra",
                "diagnose.context",
                "security.masking",
                "zzz.extra"
            ]
        );
    }

    #[test]
    fn the_classic_fourteen_come_first_then_the_rest_by_id() {
        let rest: Vec<&str> = CATALOGUE[CLASSIC..].iter().map(|c| c.id.as_str()).collect();
        let mut sorted = rest.clone();
        sorted.sort();
        assert_eq!(rest, sorted);
    }

    #[test]
    fn only_chats_load_and_only_the_cold_load_unloads() {
        assert_eq!(ApiChat.entry().changes, Changes::LoadsModel);
        assert_eq!(PerfLoadCold.entry().changes, Changes::UnloadsModel);
        assert_eq!(ApiTags.entry().changes, Changes::Nothing);
    }

    /// The built-in feature files and the catalogue agree: one scenario per entry, its
    /// `@warn` as the severity, its `@host`/`@systemd` as the needs (and `@gpu`, which the
    /// performance feature carries for all its scenarios).
    #[test]
    fn the_builtin_feature_files_agree_with_the_catalogue() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let mut feature_tags: Vec<&str> = Vec::new();
            let mut in_feature = false;
            for line in text.lines().map(str::trim) {
                in_feature |= line.starts_with("Feature:");
                if !line.starts_with('@') {
                    continue;
                }
                let tags: Vec<&str> = line.split_whitespace().map(|t| &t[1..]).collect();
                if !in_feature {
                    feature_tags.extend(&tags);
                    continue;
                }
                let Some(id) = tags.iter().find_map(|t| t.strip_prefix("check.")) else {
                    continue;
                };
                let id = CheckId::parse(id).unwrap_or_else(|| panic!("{id} is not catalogued"));
                let c = id.entry();
                let severity = if tags.contains(&"warn") {
                    Severity::Warn
                } else {
                    Severity::Fail
                };
                assert_eq!(c.severity, severity, "{id}: @warn and the catalogue differ");
                for need in [Host, Systemd, Gpu] {
                    let tag = need.tag().unwrap();
                    let tagged = tags.contains(&tag);
                    let inherited = feature_tags.contains(&tag);
                    let needs = c.needs.contains(&need);
                    assert!(
                        needs == tagged || (needs && inherited),
                        "{id}: @{tag} on the scenario is {tagged}, the catalogue's need {needs}"
                    );
                }
                seen.push(id);
            }
        }
        seen.sort();
        let mut all: Vec<CheckId> = CATALOGUE.iter().map(|c| c.id).collect();
        all.sort();
        assert_eq!(seen, all, "each catalogued check has exactly one scenario");
    }
}
