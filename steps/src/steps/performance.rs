//! Steps of performance.feature.

use crate::world::VerifyWorld;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use ollama_verify::baseline::changed_facts;
use ollama_verify::check::Outcome;
use ollama_verify::interval::Precision;
use ollama_verify::session::Sampling;
use ollama_verify::verdict;
use ollama_verify::verdict::baseline::{Consequence, Rule};
use ollama_verify::verdict::cloud::Reading;
use std::time::Duration;

#[given("the benchmark prompt:")]
async fn benchmark_prompt(world: &mut VerifyWorld, step: &Step) -> Result<(), String> {
    let prompt = step
        .docstring
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or("the step needs the prompt as a doc string (between \"\"\" lines)")?;
    world.prompt = Some(prompt.to_string());
    Ok(())
}

fn prompt(world: &VerifyWorld) -> Result<String, String> {
    world
        .prompt
        .clone()
        .ok_or_else(|| "add `Given the benchmark prompt:` first".to_string())
}

#[when(
    expr = "the model {string} answers the benchmark prompt {int} times, at most {int} tokens each"
)]
async fn answers(
    world: &mut VerifyWorld,
    model: String,
    count: usize,
    num_predict: u64,
) -> Result<(), String> {
    let prompt = prompt(world)?;
    if count == 0 || num_predict == 0 {
        return Err(format!(
            "expected at least 1 answer of at least 1 token, the step asks for {count} answer(s) of at most {num_predict} token(s); write e.g. `3 times, at most 128 tokens each`"
        ));
    }
    // A cloud model's samples would time its remote host, on the user's cloud quota.
    if world.measurable(&model) {
        world.samples = Some(
            world
                .session
                .samples(&model, &prompt, count, num_predict)
                .await,
        );
    }
    world.precision = None;
    world.model = Some(model);
    Ok(())
}

#[when(
    expr = "the model {string} answers the benchmark prompt {int} to {int} times, at most {int} tokens each, until the median is known within {float}% at {float}% confidence"
)]
async fn answers_until(
    world: &mut VerifyWorld,
    model: String,
    min: usize,
    max: usize,
    num_predict: u64,
    within: f64,
    confidence: f64,
) -> Result<(), String> {
    let prompt = prompt(world)?;
    if min < 2 || max < min || num_predict == 0 {
        return Err(format!(
            "expected from 2 samples (a spread needs two) up to at least as many, of at least 1 token; the step asks for {min} to {max} of at most {num_predict} token(s); write e.g. `3 to 10 times, at most 128 tokens each`"
        ));
    }
    let precision = Precision::new(within, confidence)?;
    if world.measurable(&model) {
        let sampling = Sampling {
            min,
            max,
            precision: Some(precision),
        };
        world.samples = Some(
            world
                .session
                .samples_until(&model, &prompt, sampling, num_predict)
                .await,
        );
    }
    world.precision = Some(precision);
    world.model = Some(model);
    Ok(())
}

/// The most streams a scenario sends at once: each is a connection and an answer.
const MAX_STREAMS: u64 = 64;

#[when(
    expr = "the model {string} answers the benchmark prompt in {int} streams at once, at most {int} tokens each"
)]
async fn streams_at_once(
    world: &mut VerifyWorld,
    model: String,
    streams: u64,
    num_predict: u64,
) -> Result<(), String> {
    if !(2..=MAX_STREAMS).contains(&streams) || num_predict == 0 {
        return Err(format!(
            "expected 2 to {MAX_STREAMS} streams (one shares nothing) of at least 1 token, the step asks for {streams} of at most {num_predict}; write e.g. `in 4 streams at once, at most 64 tokens each`"
        ));
    }
    if world.measurable(&model) {
        world.slots = Some(crate::facts::parallel_slots(&world.session).await);
        measure_streams(world, &model, streams, num_predict).await?;
    }
    world.model = Some(model);
    Ok(())
}

#[when(
    expr = "the model {string} answers the benchmark prompt in as many streams at once as the server has parallel slots \\(at least 2\\), at most {int} tokens each"
)]
async fn streams_per_slot(
    world: &mut VerifyWorld,
    model: String,
    num_predict: u64,
) -> Result<(), String> {
    if num_predict == 0 {
        return Err(
            "expected answers of at least 1 token; write e.g. `at most 64 tokens each`".into(),
        );
    }
    if world.measurable(&model) {
        let slots = crate::facts::parallel_slots(&world.session).await;
        world.slots = Some(slots.clone());
        // Unknown slots leave no number to send: the verdict says so.
        if let Ok(n) = slots {
            measure_streams(world, &model, n.clamp(2, MAX_STREAMS), num_predict).await?;
        }
    }
    world.model = Some(model);
    Ok(())
}

async fn measure_streams(
    world: &mut VerifyWorld,
    model: &str,
    streams: u64,
    num_predict: u64,
) -> Result<(), String> {
    let prompt = prompt(world)?;
    world.streams = Some(
        world
            .session
            .streams_at_once(model, &prompt, streams as usize, num_predict)
            .await,
    );
    Ok(())
}

#[then(
    expr = "the streams together generate at least {float} times as many tokens per second as one stream alone, and none waits more than {float} times as long for its first token"
)]
async fn parallel(world: &mut VerifyWorld, min_gain: f64, max_wait: f64) -> Result<(), String> {
    if !(min_gain.is_finite() && min_gain > 0.0 && max_wait.is_finite() && max_wait >= 1.0) {
        return Err(format!(
            "expected a gain above 0 and a wait of at least 1 times one stream alone's, the step asks for {min_gain} and {max_wait}; write e.g. `at least 1.5 times ... more than 3 times as long`"
        ));
    }
    let expect = verdict::parallel::Expect { min_gain, max_wait };
    conclude(world, Reading::Speed, |w, unreachable| {
        let slots = w
            .slots
            .clone()
            .unwrap_or_else(|| Err("they were not asked".into()));
        Ok(verdict::parallel::parallel(
            w.streams.as_ref(),
            &slots,
            expect,
            unreachable,
        ))
    })
    .await
}

#[when(expr = "the model {string} is unloaded and loaded again")]
async fn reloaded(world: &mut VerifyWorld, model: String) {
    // Without the user's consent the server is left as it is; a cloud model is never
    // loaded here, so there is nothing to unload.
    if world.session.allow_unload && world.measurable(&model) {
        world.cold = Some(world.session.cold_load(&model).await);
    }
    world.model = Some(model);
}

/// The model the scenario measures: the one its samples (or cold load) were asked of,
/// else the Background chat's.
fn measured_model(world: &VerifyWorld) -> String {
    world.model.clone().unwrap_or_else(|| chat_model(world))
}

/// Why the scenario's check is skipped, if it is: the warm-up chat failed (api.chat
/// reports it once), or the model is a cloud model, whose `reading` is not this
/// install's.
fn unmeasured(world: &VerifyWorld, reading: Reading) -> Option<Outcome> {
    world.unmeasured(&measured_model(world), reading)
}

/// Runs `decide` unless [`unmeasured`] skips the check, and compares its figures with
/// the baseline run's.
async fn conclude(
    world: &mut VerifyWorld,
    reading: Reading,
    decide: impl FnOnce(&VerifyWorld, Option<&str>) -> Result<Outcome, String>,
) -> Result<(), String> {
    conclude_as(world, reading, true, decide).await
}

/// [`conclude`], with the baseline compared or not: a figure is compared in the check
/// that judges it, not in every check that shows it.
async fn conclude_as(
    world: &mut VerifyWorld,
    reading: Reading,
    compare: bool,
    decide: impl FnOnce(&VerifyWorld, Option<&str>) -> Result<Outcome, String>,
) -> Result<(), String> {
    let outcome = match unmeasured(world, reading) {
        Some(skip) => skip,
        None => {
            let unreachable = world.session.unreachable().await;
            decide(world, unreachable.as_deref())?
        }
    };
    let model = measured_model(world);
    let outcome = outcome.for_model(&model);
    let outcome = match compare {
        true => against_baseline(world, outcome, &model).await,
        false => outcome,
    };
    world.conclude(outcome)
}

#[given(expr = "a figure more than {float}% worse than the baseline's {word}")]
fn baseline_rule(
    world: &mut VerifyWorld,
    tolerance: f64,
    consequence: String,
) -> Result<(), String> {
    let consequence = match consequence.as_str() {
        "fails" => Consequence::Fails,
        "warns" => Consequence::Warns,
        other => {
            return Err(format!(
                "expected `fails` or `warns` at the end of the sentence, got `{other}`"
            ))
        }
    };
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(format!(
            "expected a tolerance of 0% or more, got {tolerance}%"
        ));
    }
    world.baseline_rule = Some(Rule {
        tolerance_percent: tolerance,
        consequence,
    });
    Ok(())
}

/// What `--baseline` does where the spec states no tolerance: a figure 10% worse warns.
const DEFAULT_RULE: Rule = Rule {
    tolerance_percent: 10.0,
    consequence: Consequence::Warns,
};

/// `outcome` against the baseline run's figures of the same check, where `--baseline`
/// gave one; the facts of this run are gathered only if a figure got worse, to name
/// what changed.
async fn against_baseline(world: &VerifyWorld, outcome: Outcome, model: &str) -> Outcome {
    let (Some(baseline), Some(check)) = (&world.session.baseline, &world.check) else {
        return outcome;
    };
    let rule = world.baseline_rule.unwrap_or(DEFAULT_RULE);
    let compared = verdict::baseline::compare_all(baseline, &check.id, &outcome.figures, rule);
    let changes = match verdict::baseline::any_slower(&compared) {
        true => {
            let now = crate::facts::gather(&world.session, crate::facts::BUDGET).await;
            changed_facts(&baseline.facts, &now, Some(model))
        }
        false => Vec::new(),
    };
    verdict::baseline::judge(outcome, &compared, &changes, rule)
}

const NO_SAMPLES: &str = "add `When the model \"...\" answers the benchmark prompt N times, at most M tokens each` first";

#[then(expr = "the median generation speed is at least {float} tokens per second")]
async fn generation(world: &mut VerifyWorld, target: f64) -> Result<(), String> {
    conclude(world, Reading::Speed, |w, unreachable| {
        let samples = w.samples.as_ref().ok_or(NO_SAMPLES)?;
        Ok(verdict::perf::generation(
            samples,
            target,
            w.precision,
            unreachable,
        ))
    })
    .await
}

#[then(expr = "the median prompt processing speed is at least {float} tokens per second")]
async fn prompt_speed(world: &mut VerifyWorld, target: f64) -> Result<(), String> {
    conclude(world, Reading::Speed, |w, unreachable| {
        let samples = w.samples.as_ref().ok_or(NO_SAMPLES)?;
        Ok(verdict::perf::prompt(
            samples,
            target,
            w.precision,
            unreachable,
        ))
    })
    .await
}

#[then(expr = "the speed measured on the client is within {float}% of the server's")]
async fn streaming(world: &mut VerifyWorld, margin: f64) -> Result<(), String> {
    conclude(world, Reading::Speed, |w, unreachable| {
        let samples = w.samples.as_ref().ok_or(NO_SAMPLES)?;
        Ok(verdict::perf::streaming(samples, margin, unreachable))
    })
    .await
}

#[then(expr = "the median load time is under {int} milliseconds")]
async fn warm_load(world: &mut VerifyWorld, max_ms: u64) -> Result<(), String> {
    conclude(world, Reading::Load, |w, unreachable| {
        let samples = w.samples.as_ref().ok_or(NO_SAMPLES)?;
        Ok(verdict::perf::load_warm(
            samples,
            Duration::from_millis(max_ms),
            unreachable,
        ))
    })
    .await
}

#[then(expr = "the load takes under {int} seconds")]
async fn cold_load(world: &mut VerifyWorld, max_s: u64) -> Result<(), String> {
    let allowed = world.session.allow_unload;
    conclude(world, Reading::Load, |w, unreachable| {
        Ok(verdict::perf::load_cold(
            allowed,
            w.cold.as_ref(),
            Duration::from_secs(max_s),
            unreachable,
        ))
    })
    .await
}

#[then(expr = "the median generation speed is at least {float}% of the memory-bandwidth limit")]
async fn roofline(world: &mut VerifyWorld, min_percent: f64) -> Result<(), String> {
    if let Some(skip) = unmeasured(world, Reading::Speed) {
        return world.conclude(skip);
    }
    // Read now, with the model loaded: the first look may predate the server's process
    // on the GPU, and the GPU the server holds memory on is the one that decides.
    let gpus = world.session.gpus_now().await;
    let tags = world.session.tags().await.clone();
    let experts = match &world.model {
        Some(model) => world
            .session
            .show(model)
            .await
            .ok()
            .and_then(|s| s.experts()),
        None => None,
    };
    // Its generation rate is perf.generation's, compared with the baseline there.
    conclude_as(world, Reading::Speed, false, |w, _| {
        let samples = w.samples.as_ref().ok_or(NO_SAMPLES)?;
        let ps =
            w.ps.as_ref()
                .ok_or("add `And the loaded models are listed` first")?;
        let model = w.model.as_deref().unwrap_or_default();
        Ok(verdict::perf::roofline(
            &gpus,
            &tags,
            ps,
            (model, experts),
            samples,
            min_percent,
        ))
    })
    .await
}

/// The model of the Background's chat: the one loaded for the perf scenarios.
fn chat_model(world: &VerifyWorld) -> String {
    match &world.chat {
        Some(Ok(chat)) => chat.model.clone(),
        _ => world.model.clone().unwrap_or_default(),
    }
}

#[then(expr = "at least {float} GiB of VRAM is free")]
async fn headroom(world: &mut VerifyWorld, gib: f64) -> Result<(), String> {
    if let Some(skip) = unmeasured(world, Reading::Vram) {
        return world.conclude(skip);
    }
    let gpus = world.session.gpus_now().await;
    let min_bytes = (gib * (1u64 << 30) as f64) as u64;
    conclude(world, Reading::Vram, |w, _| {
        let ps =
            w.ps.as_ref()
                .ok_or("add `When the loaded models are listed` first")?;
        Ok(verdict::perf::headroom(
            &gpus,
            ps,
            &chat_model(w),
            min_bytes,
        ))
    })
    .await
}
