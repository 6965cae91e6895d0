//! Deterministic answers paced at a configured rate, with statistics that tell the
//! truth about the time they took.

use super::slots::{stream_rate, Slots};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every answer is made of: a Go answer to the benchmark prompt, cut into tokens.
const ANSWER: &str = "Here is a thread-safe counter in Go:\n\n```go\npackage counter\n\nimport \"sync\"\n\n// Counter is safe for concurrent use.\ntype Counter struct {\n\tmu    sync.Mutex\n\tvalue int64\n}\n\n// Increment adds one.\nfunc (c *Counter) Increment() {\n\tc.mu.Lock()\n\tdefer c.mu.Unlock()\n\tc.value++\n}\n\n// Decrement subtracts one.\nfunc (c *Counter) Decrement() {\n\tc.mu.Lock()\n\tdefer c.mu.Unlock()\n\tc.value--\n}\n\n// Value returns the current count.\nfunc (c *Counter) Value() int64 {\n\tc.mu.Lock()\n\tdefer c.mu.Unlock()\n\treturn c.value\n}\n```\n\nThe mutex guards every access, so concurrent calls never race.\n";

/// The pieces of the answer, about one token each: a word with its leading whitespace.
pub fn tokens() -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = ANSWER.as_bytes();
    for i in 1..bytes.len() {
        let boundary = (bytes[i].is_ascii_whitespace() && !bytes[i - 1].is_ascii_whitespace())
            || (bytes[i].is_ascii_punctuation() != bytes[i - 1].is_ascii_punctuation()
                && !bytes[i - 1].is_ascii_whitespace());
        if boundary {
            out.push(&ANSWER[start..i]);
            start = i;
        }
    }
    out.push(&ANSWER[start..]);
    out
}

/// The `n`-th token of an endless answer (it starts over when it runs out).
pub fn token(n: usize) -> &'static str {
    use std::sync::OnceLock;
    static TOKENS: OnceLock<Vec<&'static str>> = OnceLock::new();
    let t = TOKENS.get_or_init(tokens);
    t[n % t.len()]
}

/// Roughly how many tokens a text is: about four characters each, at least one.
pub fn count_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

/// Paces tokens: token `i` (1-based) is due one token's time after token `i - 1`, from
/// the start; alone a token takes `1 / rate`. While other requests generate on the same
/// load's slots, each token takes longer ([`stream_rate`]), by how many generate as it
/// is made. Deadlines add up from the start, so sleeps do not drift.
pub struct Pacer {
    start: Instant,
    /// A token's time alone.
    alone: Duration,
    rate: f64,
    /// The last token paced, and when it is due.
    paced: u64,
    due: Instant,
    /// The slots shared with other requests, and how much each slows the others.
    sharing: Option<(Arc<Slots>, f64)>,
}

impl Pacer {
    /// A stream that has the GPU to itself.
    pub fn new(rate: f64) -> Self {
        let start = Instant::now();
        Pacer {
            start,
            alone: Duration::from_secs_f64(1.0 / rate),
            rate,
            paced: 0,
            due: start,
            sharing: None,
        }
    }

    /// A stream on one of `slots`, which slows by `slowdown` for every other one
    /// generating beside it.
    pub(super) fn sharing(rate: f64, slots: Arc<Slots>, slowdown: f64) -> Self {
        Pacer {
            sharing: Some((slots, slowdown)),
            ..Pacer::new(rate)
        }
    }

    /// Waits until token `i` is due.
    pub async fn wait_for(&mut self, i: u64) {
        // With slots to share, how many generate can change at any token: each one's
        // time is taken as it is due.
        let token_by_token = self.sharing.as_ref().is_some_and(|(s, _)| s.size() > 1);
        while self.paced < i {
            self.paced += 1;
            self.due += self.token_time();
            if token_by_token && self.paced < i {
                tokio::time::sleep_until(self.due.into()).await;
            }
        }
        tokio::time::sleep_until(self.due.into()).await;
    }

    /// The next token's time: alone, or shared with the other requests generating now.
    fn token_time(&self) -> Duration {
        match &self.sharing {
            Some((slots, slowdown)) if slots.busy() > 1 => {
                Duration::from_secs_f64(1.0 / stream_rate(self.rate, slots.busy(), *slowdown))
            }
            _ => self.alone,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

pub fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

/// A deterministic unit vector for an embedding.
pub fn embedding(text: &str, dims: usize) -> Vec<f32> {
    let mut state = text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    let mut v: Vec<f32> = (0..dims)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2000) as f32 / 1000.0 - 1.0
        })
        .collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_rebuild_the_answer() {
        assert_eq!(tokens().concat(), ANSWER);
        assert!(tokens().len() > 100);
    }

    #[test]
    fn embeddings_are_unit_length_and_stable() {
        let a = embedding("hello", 768);
        assert_eq!(a, embedding("hello", 768));
        assert_ne!(a, embedding("world", 768));
        let norm: f32 = a.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}
