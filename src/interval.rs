//! How well a median is known: a confidence interval for it, and whether a stated
//! precision ("within 2% at 95%") is reached, so that sampling can stop there.
//!
//! From 6 samples on the interval is distribution-free: the order statistics whose ranks
//! the binomial distribution B(n, ½) gives (the median lies below each sample with
//! probability ½), which assumes nothing about the shape of the noise. With fewer samples
//! no pair of ranks reaches 95%, so a Student-t interval of the mean stands in: it
//! assumes roughly normal noise, where mean and median agree.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, StudentsT};

/// The precision a spec asks of a median: its interval at `confidence` reaches no
/// further than `within_percent` of it on either side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    pub within_percent: f64,
    /// As a fraction: 0.95.
    pub confidence: f64,
}

impl Precision {
    /// Whether `values` pin their median down as closely as asked.
    pub fn reached(&self, values: &[f64]) -> bool {
        Interval::of_median(values, self.confidence)
            .is_some_and(|i| i.half_width_percent() <= self.within_percent)
    }

    /// What a spec states, or why it cannot be met: a percentage above 0 and a
    /// confidence strictly between 0 and 100%.
    pub fn new(within_percent: f64, confidence_percent: f64) -> Result<Precision, String> {
        if !(within_percent > 0.0 && within_percent.is_finite()) {
            return Err(format!(
                "expected a precision above 0%, the spec gives {within_percent}%"
            ));
        }
        if !(confidence_percent > 0.0 && confidence_percent < 100.0) {
            return Err(format!(
                "expected a confidence between 0% and 100% (such as 95%), the spec gives {confidence_percent}%"
            ));
        }
        Ok(Precision {
            within_percent,
            confidence: confidence_percent / 100.0,
        })
    }
}

/// How an interval was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Order statistics, from the binomial distribution: no assumption on the noise.
    OrderStatistics,
    /// The mean ± t · s / √n: assumes roughly normal noise.
    StudentT,
}

/// Where the median lies, with the confidence it has there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    /// The median of the samples, which the interval is judged against.
    pub median: f64,
    /// The confidence the interval has: at least the one asked; for order statistics
    /// the binomial's own, which steps (96.9% for 6 samples asked 95%).
    pub confidence: f64,
    pub method: Method,
    pub count: usize,
}

impl Interval {
    /// The interval of the median of `values` at `confidence` (a fraction), or `None`
    /// for fewer than 2 finite values, or values whose median is not positive (a
    /// precision relative to it would mean nothing).
    pub fn of_median(values: &[f64], confidence: f64) -> Option<Interval> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let n = v.len();
        if n < 2 || !(confidence > 0.0 && confidence < 1.0) {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        if median <= 0.0 {
            return None;
        }
        let order = (n >= 6)
            .then(|| order_ranks(n, confidence))
            .flatten()
            .map(|(k, covered)| Interval {
                low: v[k - 1],
                high: v[n - k],
                median,
                confidence: covered,
                method: Method::OrderStatistics,
                count: n,
            });
        order.or_else(|| student_t(&v, median, confidence))
    }

    /// The farther end's distance from the median, in percent of it.
    pub fn half_width_percent(&self) -> f64 {
        (self.high - self.median).max(self.median - self.low) / self.median * 100.0
    }

    /// Whether `x` lies inside (ends included).
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// The largest rank `k` with `[x_(k), x_(n-k+1)]` covering the median with at least
/// `confidence`, and the coverage it has: `1 - 2·P(B(n, ½) ≤ k - 1)`.
fn order_ranks(n: usize, confidence: f64) -> Option<(usize, f64)> {
    let b = Binomial::new(0.5, n as u64).ok()?;
    let tail = (1.0 - confidence) / 2.0;
    (1..=n / 2)
        .rev()
        .map(|k| (k, b.cdf(k as u64 - 1)))
        .find(|(_, below)| *below <= tail)
        .map(|(k, below)| (k, 1.0 - 2.0 * below))
}

fn student_t(sorted: &[f64], median: f64, confidence: f64) -> Option<Interval> {
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let var = sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .ok()?
        .inverse_cdf(0.5 + confidence / 2.0);
    let half = t * (var / n).sqrt();
    Some(Interval {
        low: mean - half,
        high: mean + half,
        median,
        confidence,
        method: Method::StudentT,
        count: sorted.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    /// t(0.975, 2) = 4.302653 from the tables: 2 ± 4.302653 / √3 for 1, 2, 3.
    #[test]
    fn three_samples_take_students_t() {
        let i = Interval::of_median(&[3.0, 1.0, 2.0], 0.95).unwrap();
        assert_eq!(i.method, Method::StudentT);
        let half = 4.302653 / 3f64.sqrt();
        assert!(
            close(i.low, 2.0 - half) && close(i.high, 2.0 + half),
            "{i:?}"
        );
        // t(0.975, 4) = 2.776445: five samples of sd 1 around 10.
        let v = [
            10.0 - 1.2649,
            10.0 - 0.6325,
            10.0,
            10.0 + 0.6325,
            10.0 + 1.2649,
        ];
        let i = Interval::of_median(&v, 0.95).unwrap();
        assert!(close(i.high - 10.0, 2.776445 / 5f64.sqrt()), "{i:?}");
    }

    /// The ranks of the distribution-free interval at 95%, as tables give them
    /// (n = 6: 1 and 6; 10: 2 and 9; 20: 6 and 15), with their exact coverage.
    #[rstest]
    #[case(6, 1, 0.96875)]
    #[case(10, 2, 0.978516)]
    #[case(20, 6, 0.958611)]
    fn order_statistics_from_six_samples(
        #[case] n: usize,
        #[case] rank: usize,
        #[case] coverage: f64,
    ) {
        let v: Vec<f64> = (1..=n).map(|x| x as f64).collect();
        let i = Interval::of_median(&v, 0.95).unwrap();
        assert_eq!(i.method, Method::OrderStatistics);
        assert_eq!((i.low, i.high), (rank as f64, (n + 1 - rank) as f64));
        assert!(close(i.confidence, coverage), "{i:?}");
    }

    /// 6 samples cannot reach 99% by ranks (1/64 > 0.5%): Student's t stands in.
    #[test]
    fn too_few_for_the_ranks_falls_back_to_t() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(
            Interval::of_median(&v, 0.99).unwrap().method,
            Method::StudentT
        );
    }

    #[test]
    fn precision_is_reached_on_steady_figures_only() {
        let p = Precision::new(2.0, 95.0).unwrap();
        assert!(p.reached(&[65.0, 65.0, 65.0]));
        assert!(p.reached(&[64.9, 65.0, 65.1]));
        assert!(!p.reached(&[60.0, 65.0, 70.0]));
        assert!(!p.reached(&[65.0]), "one sample tells no spread");
        assert!(!p.reached(&[]));
        let i = Interval::of_median(&[60.0, 65.0, 70.0], 0.95).unwrap();
        assert!(i.contains(65.0) && !i.contains(100.0));
        assert!(i.half_width_percent() > 2.0);
    }

    #[rstest]
    #[case(0.0, 95.0)]
    #[case(2.0, 100.0)]
    #[case(2.0, 0.0)]
    #[case(f64::NAN, 95.0)]
    fn impossible_precisions_are_refused(#[case] within: f64, #[case] confidence: f64) {
        assert!(Precision::new(within, confidence).is_err());
    }
}
