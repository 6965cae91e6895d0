//! Measuring speed without disturbing the server: samples, their statistics, streamed
//! timing seen from the client, and the memory-bandwidth limit of decoding.

pub mod parallel;

use crate::client::types::{ChatChunk, ChatRequest, Message, Stats};
use crate::{Client, ClientError};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Median, min and max of a set of figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub count: usize,
}

impl Spread {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
            count: n,
        })
    }
}

/// The prompt of sample `k`: the same length every time, different text, so that the
/// server's prompt cache cannot make later samples look faster.
pub fn sample_prompt(prompt: &str, k: usize, count: usize) -> String {
    format!("{} {prompt}", nonce(k, count))
}

fn nonce(k: usize, count: usize) -> String {
    format!("(sample {:02} of {count:02})", k + 1)
}

/// The messages of sample `k`. The system prompt comes first in what the model reads,
/// so a nonce in the user's text alone leaves the whole system prompt in the server's
/// prompt cache from the request before: those tokens are not processed again, and
/// prompt processing would look several times faster than it is. So a sample sends a
/// system message of its own, which takes the place of the model's, with the nonce
/// first: `system` is the model's `SYSTEM` ("" for none: the nonce alone then takes the
/// place of a template's default, such as Qwen's "You are Qwen…"). Where the model's
/// system prompt is not known (`None`), the user's text alone varies, rather than a
/// guess replacing a system prompt the model has.
pub fn sample_messages(prompt: &str, system: Option<&str>, k: usize, count: usize) -> Vec<Message> {
    let system = system.map(|s| match s.trim() {
        "" => nonce(k, count),
        s => format!("{} {s}", nonce(k, count)),
    });
    system
        .map(|content| Message {
            role: "system".into(),
            content,
            thinking: None,
        })
        .into_iter()
        .chain([Message::user(sample_prompt(prompt, k, count))])
        .collect()
}

/// A chat request that measures: capped at `num_predict`, with the keep-alive given.
/// `None` leaves a loaded model's keep-alive as it is: since Ollama 0.2.0 a request's
/// `keep_alive` replaces the model's from then on, a missing one keeps it.
pub fn sample_request(
    model: &str,
    prompt: &str,
    num_predict: u64,
    keep_alive: Option<Value>,
) -> ChatRequest {
    capped(model, vec![Message::user(prompt)], num_predict, keep_alive)
}

/// The request of speed sample `k` of `count`: [`sample_messages`], capped. It sets no
/// keep-alive, so the loaded model keeps the one it has.
pub fn sample_chat(
    model: &str,
    prompt: &str,
    system: Option<&str>,
    (k, count): (usize, usize),
    num_predict: u64,
) -> ChatRequest {
    let messages = sample_messages(prompt, system, k, count);
    capped(model, messages, num_predict, None)
}

fn capped(
    model: &str,
    messages: Vec<Message>,
    num_predict: u64,
    keep_alive: Option<Value>,
) -> ChatRequest {
    let mut options = serde_json::Map::new();
    options.insert("num_predict".into(), num_predict.into());
    ChatRequest {
        model: model.to_string(),
        messages,
        options: Some(options),
        keep_alive,
        ..Default::default()
    }
}

/// What the client saw of one streamed answer, next to what the server reported.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamTiming {
    /// From sending the request to the first token; `None` if no token arrived.
    pub first_token: Option<Duration>,
    /// Between consecutive tokens.
    pub gaps: Vec<Duration>,
    /// Tokens per second from the mean gap between arrivals with the shortest and longest
    /// tenth left out: one late wake-up or a burst of buffered tokens does not move it,
    /// and timer granularity (gaps of 6 and 7 ms) averages out, as a median would not.
    pub client_rate: Option<f64>,
    pub server: Stats,
}

impl StreamTiming {
    pub fn gap_spread_ms(&self) -> Option<Spread> {
        Spread::of(self.gaps.iter().map(|g| g.as_secs_f64() * 1000.0))
    }
}

/// Streams one answer and times its tokens on arrival.
pub async fn stream_timing(
    client: &Client,
    req: &ChatRequest,
) -> Result<StreamTiming, ClientError> {
    let start = Instant::now();
    let mut stream = client.chat_stream(req).await?;
    let mut arrivals: Vec<Instant> = Vec::new();
    let mut last: Option<ChatChunk> = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if chunk.done {
            last = Some(chunk);
            break;
        }
        // A thinking model's thoughts are tokens too (`eval_count` counts them).
        if chunk.message.has_text() {
            arrivals.push(Instant::now());
        }
    }
    let server = last.map(|c| c.stats).unwrap_or_default();
    let first_token = arrivals.first().map(|t| *t - start);
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    let client_rate = trimmed_mean(&gaps).filter(|g| *g > 0.0).map(|g| 1.0 / g);
    Ok(StreamTiming {
        first_token,
        gaps,
        client_rate,
        server,
    })
}

/// The mean of `gaps` without the shortest and longest tenth (at least one each from
/// ten gaps on), in seconds.
fn trimmed_mean(gaps: &[Duration]) -> Option<f64> {
    let mut v: Vec<f64> = gaps.iter().map(Duration::as_secs_f64).collect();
    v.sort_by(f64::total_cmp);
    let cut = v.len() / 10;
    let kept = &v[cut..v.len() - cut];
    (!kept.is_empty()).then(|| kept.iter().sum::<f64>() / kept.len() as f64)
}

/// What timing a cold load saw (`perf.load_cold`).
#[derive(Debug, Clone, PartialEq)]
pub enum ColdLoad {
    /// The reload's answer reported this `load_duration`.
    Took(Duration),
    /// `/api/ps` still listed the model this long after `keep_alive: 0`.
    StillLoaded(Duration),
    /// The reload's answer carried no `load_duration` (Ollama omits it when zero).
    Unreported,
}

/// The decode limit: every token reads the weights held in VRAM once, so no GPU
/// generates faster than `bandwidth / weight bytes`.
pub fn decode_limit(bandwidth_bytes_per_s: f64, weight_bytes_in_vram: u64) -> Option<f64> {
    (weight_bytes_in_vram > 0 && bandwidth_bytes_per_s.is_finite() && bandwidth_bytes_per_s > 0.0)
        .then(|| bandwidth_bytes_per_s / weight_bytes_in_vram as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(&[3.0, 1.0, 2.0], 2.0, 1.0, 3.0)]
    #[case(&[4.0, 1.0, 2.0, 3.0], 2.5, 1.0, 4.0)]
    #[case(&[5.0], 5.0, 5.0, 5.0)]
    fn spreads(#[case] v: &[f64], #[case] median: f64, #[case] min: f64, #[case] max: f64) {
        let s = Spread::of(v.iter().copied()).unwrap();
        assert_eq!(
            (s.median, s.min, s.max, s.count),
            (median, min, max, v.len())
        );
    }

    #[test]
    fn trimmed_mean_ignores_outliers_and_averages_rounding() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_millis(*m))
                .collect::<Vec<_>>()
        };
        // Gaps of 6 and 7 ms (a 150 tok/s stream on a 1 ms timer), one 200 ms stall, one burst.
        let mut gaps = ms(&[6, 7, 7, 6, 7, 7, 6, 7, 7, 6, 7, 7, 6, 7, 7, 6, 7, 7, 200, 0]);
        let rate = 1.0 / trimmed_mean(&gaps).unwrap();
        assert!((rate - 150.0).abs() < 5.0, "{rate}");
        gaps.truncate(1);
        assert!(trimmed_mean(&gaps).is_some());
        assert_eq!(trimmed_mean(&[]), None);
    }

    #[test]
    fn empty_or_nan_has_no_spread() {
        assert_eq!(Spread::of([]), None);
        assert_eq!(Spread::of([f64::NAN]), None);
    }

    #[test]
    fn samples_carry_the_system_prompt_with_the_nonce_first() {
        let m = sample_messages("Write Go.", Some("You are terse."), 1, 3);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].role.as_str(), m[0].content.as_str()),
            ("system", "(sample 02 of 03) You are terse.")
        );
        assert_eq!(m[1], Message::user("(sample 02 of 03) Write Go."));
        // No system prompt of its own: the nonce alone, in place of a template's default.
        for none in [Some(""), Some("  \n")] {
            let m = sample_messages("Write Go.", none, 0, 3);
            assert_eq!(
                (m[0].role.as_str(), m[0].content.as_str()),
                ("system", "(sample 01 of 03)")
            );
            assert_eq!(m[1], Message::user("(sample 01 of 03) Write Go."));
        }
        // Not known: nothing replaces what the model may have.
        assert_eq!(
            sample_messages("Write Go.", None, 0, 3),
            [Message::user("(sample 01 of 03) Write Go.")]
        );
    }

    #[test]
    fn sample_prompts_differ_but_keep_their_length() {
        let a = sample_prompt("Write Go.", 0, 3);
        let b = sample_prompt("Write Go.", 2, 3);
        assert_ne!(a, b);
        assert_eq!(a.len(), b.len());
    }

    #[test]
    fn the_seeds_rtx_3060_limit() {
        // 360 GB/s over a 4.68 GB model: about 76 tok/s.
        let limit = decode_limit(360e9, 4_683_087_332).unwrap();
        assert!((limit - 76.9).abs() < 0.5, "{limit}");
        assert_eq!(decode_limit(360e9, 0), None);
        assert_eq!(decode_limit(0.0, 4_683_087_332), None);
    }
}
