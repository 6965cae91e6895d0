//! Several clients at once (`perf.parallel`): one stream alone, then `n` streams sent
//! together, each timed on the client as its tokens arrive. Together they should make
//! more tokens per second than one alone, and none should wait for another client's
//! answer before its first token.

use super::{sample_chat, stream_timing, StreamTiming};
use crate::{Client, ClientError};
use std::time::{Duration, Instant};

/// One streamed answer of the measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// The client's timing (first token from its request) and the server's statistics.
    pub timing: StreamTiming,
    /// When it was sent, from the first request of its round.
    pub sent: Duration,
    /// When its last chunk arrived, likewise.
    pub done: Duration,
}

impl Stream {
    /// When its first token arrived, from the first request of its round.
    pub fn first_token(&self) -> Option<Duration> {
        self.timing.first_token.map(|t| self.sent + t)
    }

    /// The tokens the server says it generated.
    pub fn tokens(&self) -> Option<u64> {
        self.timing.server.eval_count
    }
}

/// One stream alone, then `streams` sent at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Streams {
    pub alone: Stream,
    pub together: Vec<Stream>,
}

impl Streams {
    /// Tokens per second of one stream alone: its tokens over the time from its request
    /// to its end, as [`Streams::aggregate_rate`] reads several.
    pub fn alone_rate(&self) -> Option<f64> {
        rate(
            self.alone.tokens()?,
            self.alone.done.saturating_sub(self.alone.sent),
        )
    }

    /// Tokens per second of the streams together: all their tokens over the time from
    /// the first request sent to the last answer done.
    pub fn aggregate_rate(&self) -> Option<f64> {
        let tokens: Option<u64> = self.together.iter().map(Stream::tokens).sum();
        let first = self.together.iter().map(|s| s.sent).min()?;
        let last = self.together.iter().map(|s| s.done).max()?;
        rate(tokens?, last.saturating_sub(first))
    }

    /// How many streams got their first token only after another stream's answer had
    /// ended: they waited for a slot.
    pub fn waited(&self) -> usize {
        self.together
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                s.first_token().is_some_and(|first| {
                    self.together
                        .iter()
                        .enumerate()
                        .any(|(j, other)| j != *i && other.done <= first)
                })
            })
            .count()
    }

    /// The most streams generating at one moment (between their first token and their
    /// end): the slots the server gave them.
    pub fn at_once(&self) -> usize {
        let spans: Vec<(Duration, Duration)> = self
            .together
            .iter()
            .filter_map(|s| Some((s.first_token()?, s.done)))
            .collect();
        spans
            .iter()
            .map(|(start, _)| {
                spans
                    .iter()
                    .filter(|(from, to)| from <= start && start < to)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }
}

fn rate(tokens: u64, took: Duration) -> Option<f64> {
    (tokens > 0 && !took.is_zero()).then(|| tokens as f64 / took.as_secs_f64())
}

/// Streams `model`'s answers to `prompt` (varied per stream, the model's `system`
/// prompt too, as the speed samples do), each capped at `num_predict` tokens: one
/// alone, then `streams` sent at once. The caller has the server alone.
pub async fn measure(
    client: &Client,
    model: &str,
    prompt: &str,
    system: Option<&str>,
    streams: usize,
    num_predict: u64,
) -> Result<Streams, ClientError> {
    let count = streams + 1;
    let request = |k: usize| sample_chat(model, prompt, system, (k, count), num_predict);
    let one = |k: usize, t0: Instant| {
        let req = request(k);
        async move {
            let sent = t0.elapsed();
            let timing = stream_timing(client, &req).await?;
            Ok::<_, ClientError>(Stream {
                timing,
                sent,
                done: t0.elapsed(),
            })
        }
    };
    let alone = one(0, Instant::now()).await?;
    let t0 = Instant::now();
    let together = futures_util::future::join_all((1..count).map(|k| one(k, t0)))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Streams { alone, together })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::types::Stats;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A stream sent at `sent`, its first token `first` ms after, done at `done`.
    fn stream(sent: u64, first: u64, done: u64, tokens: u64) -> Stream {
        Stream {
            timing: StreamTiming {
                first_token: Some(ms(first)),
                gaps: vec![],
                client_rate: None,
                server: Stats {
                    eval_count: Some(tokens),
                    ..Default::default()
                },
            },
            sent: ms(sent),
            done: ms(done),
        }
    }

    #[test]
    fn one_slot_serves_one_stream_at_a_time() {
        // Each answer takes 100 ms; the 2nd and 3rd wait for the one before.
        let s = Streams {
            alone: stream(0, 10, 100, 50),
            together: vec![
                stream(0, 10, 100, 50),
                stream(0, 110, 200, 50),
                stream(0, 210, 300, 50),
            ],
        };
        assert_eq!(s.alone_rate(), Some(500.0));
        assert_eq!(s.aggregate_rate(), Some(500.0), "150 tokens in 0.3 s");
        assert_eq!((s.waited(), s.at_once()), (2, 1));
    }

    #[test]
    fn enough_slots_serve_every_stream_at_once() {
        let s = Streams {
            alone: stream(0, 10, 100, 50),
            together: vec![
                stream(0, 12, 130, 50),
                stream(1, 12, 131, 50),
                stream(1, 13, 130, 50),
            ],
        };
        let aggregate = s.aggregate_rate().unwrap();
        assert!((aggregate - 150.0 / 0.131).abs() < 1e-6, "{aggregate}");
        assert_eq!((s.waited(), s.at_once()), (0, 3));
    }

    #[test]
    fn streams_without_tokens_have_no_rate() {
        let mut s = Streams {
            alone: stream(0, 10, 100, 0),
            together: vec![stream(0, 10, 100, 50)],
        };
        assert_eq!(s.alone_rate(), None);
        s.together[0].timing.server.eval_count = None;
        assert_eq!(s.aggregate_rate(), None);
        s.together.clear();
        assert_eq!((s.aggregate_rate(), s.waited(), s.at_once()), (None, 0, 0));
    }
}
