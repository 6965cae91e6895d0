//! A median judged with the precision the spec asked for: its interval goes into the
//! figure, and a target inside the interval is a warning ("cannot tell"), never the
//! coin flip a bare median would make of it.

use crate::check::Outcome;
use crate::figure::Figure;
use crate::interval::{Interval, Method, Precision};

/// What the samples tell about a median and its target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Told {
    /// No precision was asked (a fixed number of samples): the median decides.
    Unasked,
    /// Too few samples for an interval.
    NoInterval,
    /// The whole interval lies on one side of the target: the median decides.
    Clear(Interval),
    /// The target lies inside the interval.
    Straddled(Interval),
}

/// Judges `values` (their median is the figure's value) against `target`.
pub fn tell(values: &[f64], target: f64, precision: Option<Precision>) -> Told {
    let Some(p) = precision else {
        return Told::Unasked;
    };
    match Interval::of_median(values, p.confidence) {
        None => Told::NoInterval,
        Some(i) if i.contains(target) => Told::Straddled(i),
        Some(i) => Told::Clear(i),
    }
}

impl Told {
    pub fn interval(&self) -> Option<&Interval> {
        match self {
            Told::Clear(i) | Told::Straddled(i) => Some(i),
            _ => None,
        }
    }

    /// The figure, with the interval where there is one.
    pub fn figure(&self, figure: Figure) -> Figure {
        match self.interval() {
            Some(i) => figure.interval(i),
            None => figure,
        }
    }

    /// What the detail adds: how well the median is known, and whether the precision
    /// asked was reached.
    pub fn note(&self, precision: Option<Precision>, unit: &str) -> String {
        let (Some(i), Some(p)) = (self.interval(), precision) else {
            return match precision {
                Some(p) => format!(
                    "; too few samples for a {:.0}% interval",
                    p.confidence * 100.0
                ),
                None => String::new(),
            };
        };
        let how = match i.method {
            Method::OrderStatistics => "order statistics",
            Method::StudentT => "Student's t",
        };
        let reached = if i.half_width_percent() <= p.within_percent {
            String::new()
        } else {
            format!(
                ", short of the ±{}% asked after {} samples",
                p.within_percent, i.count
            )
        };
        format!(
            "; {:.0}% interval {:.1}–{:.1} {unit} (±{:.1}%, {how}, n={}){reached}",
            i.confidence * 100.0,
            i.low,
            i.high,
            i.half_width_percent(),
            i.count
        )
    }

    /// The warning for a straddled target, or `None` when the median decides.
    pub fn straddled(&self, target: f64, unit: &str) -> Option<Outcome> {
        let Told::Straddled(i) = self else {
            return None;
        };
        Some(Outcome::warn(format!(
            "cannot tell at this precision: the median {:.1} {unit} of {} samples lies in {:.1}–{:.1} {unit} ({:.0}% interval), which contains the target {target} {unit}. More samples (a wider range in the spec) or a steadier server (nothing else on the GPU) would tell",
            i.median,
            i.count,
            i.low,
            i.high,
            i.confidence * 100.0
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

    fn p() -> Option<Precision> {
        Some(Precision::new(2.0, 95.0).unwrap())
    }

    #[test]
    fn a_target_inside_the_interval_warns() {
        let values = [38.0, 41.0, 44.0, 39.0, 42.0, 40.5];
        let told = tell(&values, 40.0, p());
        assert!(matches!(told, Told::Straddled(_)), "{told:?}");
        let o = told.straddled(40.0, "tok/s").unwrap();
        assert_eq!(o.status, Status::Warn);
        insta::assert_snapshot!(o.detail);
        assert!(matches!(tell(&values, 30.0, p()), Told::Clear(_)));
        assert_eq!(tell(&values, 40.0, None), Told::Unasked);
        assert_eq!(tell(&[40.0], 40.0, p()), Told::NoInterval);
    }

    #[test]
    fn the_note_says_whether_the_precision_was_reached() {
        let steady = tell(&[65.0, 65.1, 64.9], 40.0, p());
        insta::assert_snapshot!(steady.note(p(), "tok/s"), @"; 95% interval 64.8–65.2 tok/s (±0.4%, Student's t, n=3)");
        let noisy = tell(&[55.0, 70.0, 60.0, 75.0, 58.0, 66.0], 40.0, p());
        insta::assert_snapshot!(noisy.note(p(), "tok/s"), @"; 97% interval 55.0–75.0 tok/s (±19.0%, order statistics, n=6), short of the ±2% asked after 6 samples");
        let f = noisy.figure(Figure::new(crate::figure::Quantity::GenerationRate, 63.0));
        assert_eq!(f.interval, Some((55.0, 75.0)));
    }
}
