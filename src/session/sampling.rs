//! The perf checks' measurements: speed samples, taken once per run with the server
//! alone and shared, several streams at once, and the timed cold load.

use super::{shared, Session};
use crate::client::ClientError;
use std::time::Duration;

/// How many speed samples to take: `min`, then more until the median generation speed
/// is known to `precision`, at most `max`. Without a precision, `min` (= `max`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    pub min: usize,
    pub max: usize,
    pub precision: Option<crate::interval::Precision>,
}

impl Sampling {
    /// Whether `taken` pin the median generation speed down as asked.
    fn enough(&self, taken: &[crate::perf::StreamTiming]) -> bool {
        let rates: Vec<f64> = taken
            .iter()
            .filter_map(|t| t.server.generation_rate())
            .collect();
        self.precision.is_none_or(|p| p.reached(&rates))
    }

    /// Tells samplings apart: the same sentence shares its samples.
    fn key(&self) -> String {
        match self.precision {
            None => format!("{}", self.max),
            Some(p) => format!(
                "{}-{}@{}%/{}",
                self.min, self.max, p.within_percent, p.confidence
            ),
        }
    }
}

impl Session {
    /// `count` streamed answers to `prompt`: [`Session::samples_until`] with a fixed count.
    pub async fn samples(
        &self,
        model: &str,
        prompt: &str,
        count: usize,
        num_predict: u64,
    ) -> Result<Vec<crate::perf::StreamTiming>, ClientError> {
        let fixed = Sampling {
            min: count,
            max: count,
            precision: None,
        };
        self.samples_until(model, prompt, fixed, num_predict).await
    }

    /// Streamed answers to `prompt` (varied per sample), each capped at `num_predict`
    /// tokens, one after the other, timed on the client as tokens arrive: `sampling.min`
    /// of them, then more until the median generation speed is known to the precision
    /// asked, or `sampling.max` are taken. Made once per run and shared by the perf
    /// checks (the server's statistics arrive in the last chunk, so one request gives
    /// both views). Made with the server alone: no other request of the suite is in
    /// flight meanwhile.
    pub async fn samples_until(
        &self,
        model: &str,
        prompt: &str,
        sampling: Sampling,
        num_predict: u64,
    ) -> Result<Vec<crate::perf::StreamTiming>, ClientError> {
        let key = format!(
            "{}|{}|{num_predict}|{prompt}",
            crate::ModelName::parse(model).canonical(),
            sampling.key()
        );
        let cell = shared(&self.samples, &key);
        cell.get_or_init(|| async {
            // The model's system prompt ("" for none), which each sample varies (see
            // `perf::sample_messages`); asked before the server is ours alone, since
            // `show` takes a turn. Unknown, the samples vary the user's text only.
            let system = self
                .show(model)
                .await
                .ok()
                .map(|s| s.system.unwrap_or_default());
            let _alone = self.alone().await;
            let mut out = Vec::with_capacity(sampling.max);
            for k in 0..sampling.max {
                if k >= sampling.min && sampling.enough(&out) {
                    break;
                }
                let req = crate::perf::sample_chat(
                    model,
                    prompt,
                    system.as_deref(),
                    (k, sampling.max),
                    num_predict,
                );
                let timing = crate::perf::stream_timing(&self.client, &req).await;
                out.push(self.advice.advised(timing)?);
            }
            Ok(out)
        })
        .await
        .clone()
    }

    /// One stream of `model`'s answer to `prompt` alone, then `streams` at once, each
    /// varied and capped at `num_predict` tokens ([`crate::perf::parallel::measure`]),
    /// with the server alone: other clients of the suite would share its slots.
    pub async fn streams_at_once(
        &self,
        model: &str,
        prompt: &str,
        streams: usize,
        num_predict: u64,
    ) -> Result<crate::perf::parallel::Streams, ClientError> {
        // Asked before the server is ours alone, as for the samples.
        let system = self
            .show(model)
            .await
            .ok()
            .map(|s| s.system.unwrap_or_default());
        let _alone = self.alone().await;
        let measured = crate::perf::parallel::measure(
            &self.client,
            model,
            prompt,
            system.as_deref(),
            streams,
            num_predict,
        )
        .await;
        self.advice.advised(measured)
    }

    /// Unloads `model` (`keep_alive: 0`), waits until `/api/ps` no longer lists it (the
    /// server unloads in the background), then times its load with a one-token answer,
    /// with the server alone. Changes the server's state: only with `allow_unload`.
    pub async fn cold_load(&self, model: &str) -> Result<crate::perf::ColdLoad, ClientError> {
        let _alone = self.alone().await;
        self.advice.advised(self.unload_and_load(model).await)
    }

    /// [`cold_load`](Session::cold_load)'s work, with the server alone.
    async fn unload_and_load(&self, model: &str) -> Result<crate::perf::ColdLoad, ClientError> {
        use crate::client::types::GenerateRequest;
        use crate::perf::ColdLoad;
        const UNLOAD_WAIT: Duration = Duration::from_secs(30);
        // The reload gets the server's default keep-alive, as any fresh load does, or
        // forever again if the model had that.
        let forever = self.loaded_forever(model).await;
        let unload = GenerateRequest {
            model: model.to_string(),
            keep_alive: Some(0.into()),
            ..Default::default()
        };
        self.client.generate(&unload).await?;
        let started = std::time::Instant::now();
        while self.client.ps().await?.find(model).is_some() {
            if started.elapsed() >= UNLOAD_WAIT {
                return Ok(ColdLoad::StillLoaded(started.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let req = crate::perf::sample_request(model, "Say OK.", 1, forever.then(|| (-1).into()));
        let answer = self.client.chat(&req).await?;
        Ok(match answer.stats.load_duration {
            Some(ns) if ns > 0 => ColdLoad::Took(Duration::from_nanos(ns)),
            _ => ColdLoad::Unreported,
        })
    }
}
