//! Small inline SVG charts of a verdict's figures ([`Figure`]): the speed of each
//! sample against the target, the measured speed against the bandwidth's limit, and a
//! GPU's memory in use against what must stay free. Inline, so the page needs nothing
//! from elsewhere; each has a `<title>` for readers that do not see it.

use crate::figure::{Figure, Quantity};
use maud::{html, Markup};

const WIDTH: f64 = 360.0;
/// Room at the left for the scale's labels.
const LEFT: f64 = 44.0;

/// The chart of a check's figures, or nothing where they cannot be drawn (none, or not
/// finite): the roofline where there is a limit, the VRAM where there is a total, the
/// streams at once against the least they should make, else each sampled speed
/// against its target.
pub(super) fn chart(figures: &[Figure]) -> Markup {
    let find = |q: Quantity| figures.iter().find(|f| f.quantity == q);
    if let (Some(measured), Some(limit)) =
        (find(Quantity::GenerationRate), find(Quantity::DecodeLimit))
    {
        // The least speed that passes, as a share of the limit.
        let floor = measured.target.unwrap_or(0.0);
        return roofline(measured.value, limit.value, floor / limit.value * 100.0);
    }
    if let (Some(free), Some(total)) = (find(Quantity::VramFree), find(Quantity::VramTotal)) {
        let min_free = free.target.map_or(0, free_bytes);
        let (free, total) = (free_bytes(free.value), free_bytes(total.value));
        return vram(total.saturating_sub(free), total, min_free);
    }
    if let Some((together, least)) =
        find(Quantity::AggregateRate).and_then(|f| Some((f.value, f.target?)))
    {
        return aggregate(together, least);
    }
    html! {
        @for f in figures.iter().filter(|f| matches!(f.quantity, Quantity::GenerationRate | Quantity::PromptRate)) {
            @if let Some(target) = f.target {
                (speed(&f.samples, target))
            }
        }
    }
}

/// A byte count held as a figure's f64, back as bytes (negative or not finite: none).
fn free_bytes(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v as u64
    } else {
        0
    }
}

/// One bar per sample, a dashed line at the target; bars under it are red.
fn speed(samples: &[f64], target: f64) -> Markup {
    let samples: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if samples.is_empty() || !target.is_finite() {
        return html! {};
    }
    let (height, bottom) = (120.0, 16.0);
    let plot_h = height - bottom - 8.0;
    let top = samples
        .iter()
        .copied()
        .fold(target, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.15;
    let y = |v: f64| 8.0 + plot_h * (1.0 - v.max(0.0) / top);
    let slot = (WIDTH - LEFT - 4.0) / samples.len() as f64;
    let title = format!(
        "Speed of each of {} samples (tok/s) against the target of {target} tok/s",
        samples.len()
    );
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(title) {
            title { (title) }
            line.axis x1=(LEFT) y1=(y(0.0)) x2=(WIDTH) y2=(y(0.0)) {}
            text.label x=(LEFT - 4.0) y=(y(top) + 8.0) text-anchor="end" { (num(top)) }
            @if y(0.0) - y(target) > 12.0 {
                text.label x=(LEFT - 4.0) y=(y(0.0)) text-anchor="end" { "0" }
            }
            @for (i, v) in samples.iter().enumerate() {
                rect.(if *v >= target { "bar-ok" } else { "bar-low" })
                    x=(fixed(LEFT + 2.0 + i as f64 * slot + slot * 0.1))
                    y=(fixed(y(*v)))
                    width=(fixed(slot * 0.8))
                    height=(fixed(y(0.0) - y(*v))) {
                    title { (format!("sample {}: {v:.1} tok/s", i + 1)) }
                }
            }
            line.target x1=(LEFT) y1=(fixed(y(target))) x2=(WIDTH) y2=(fixed(y(target))) {}
            text.label x=(LEFT - 4.0) y=(fixed(y(target) + 4.0)) text-anchor="end" { (num(target)) }
            text.label x=(LEFT + 4.0) y=(height - 3.0) { "tok/s per sample; dashed: target" }
        }
    }
}

/// The measured speed as a bar against the limit; a tick at the least share asked for.
fn roofline(measured: f64, limit: f64, min_percent: f64) -> Markup {
    if !(measured.is_finite() && limit.is_finite() && min_percent.is_finite()) || limit <= 0.0 {
        return html! {};
    }
    let scale = measured.max(limit) * 1.05;
    let floor = limit * min_percent / 100.0;
    let title = format!(
        "{measured:.1} tok/s measured, {:.0}% of the {limit:.1} tok/s the memory bandwidth allows (at least {min_percent:.0}% expected)",
        measured / limit * 100.0
    );
    let ok = measured >= floor && measured <= limit * 1.1;
    let bars = [
        Bar::room("limit", limit / scale),
        Bar::filled("measured", measured / scale, ok),
    ];
    let caption =
        format!("{measured:.1} of {limit:.1} tok/s; dashed: {min_percent:.0}% of the limit");
    bar_chart(&title, &bars, floor / scale, &caption)
}

/// Several streams' tokens per second together as a bar; a tick at the least they
/// should make.
fn aggregate(together: f64, least: f64) -> Markup {
    if !(together.is_finite() && least.is_finite()) || together.max(least) <= 0.0 {
        return html! {};
    }
    let scale = together.max(least) * 1.1;
    let x = |v: f64| LEFT + (WIDTH - LEFT - 4.0) * v.max(0.0) / scale;
    let title =
        format!("{together:.1} tok/s by the streams together (at least {least:.1} expected)");
    let class = if together >= least {
        "bar-ok"
    } else {
        "bar-low"
    };
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} 44")) role="img" aria-label=(title) {
            title { (title) }
            text.label x=(LEFT - 4.0) y="18" text-anchor="end" { "together" }
            rect.(class) x=(LEFT) y="8" width=(fixed(x(together) - LEFT)) height="14" {}
            line.target x1=(fixed(x(least))) y1="4" x2=(fixed(x(least))) y2="26" {}
            text.label x=(LEFT) y="38" {
                (format!("{together:.1} tok/s; dashed: the least expected, {least:.1}"))
            }
        }
    }
}

/// The GPU's memory: in use, free, and the line past which too little stays free.
fn vram(used: u64, total: u64, min_free: u64) -> Markup {
    if total == 0 {
        return html! {};
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let share = |b: u64| b.min(total) as f64 / total as f64;
    let free = total.saturating_sub(used);
    let title = format!(
        "{:.1} GiB of {:.1} GiB VRAM in use, {:.1} GiB free (at least {:.1} GiB should stay free)",
        gib(used),
        gib(total),
        gib(free),
        gib(min_free)
    );
    let bar = Bar {
        fill: share(used),
        ..Bar::room("VRAM", 1.0)
    }
    .ok(free >= min_free);
    let caption = format!(
        "{:.1} GiB used, {:.1} GiB free of {:.1}; dashed: the most that may be used",
        gib(used),
        gib(free),
        gib(total)
    );
    bar_chart(
        &title,
        &[bar],
        share(total.saturating_sub(min_free)),
        &caption,
    )
}

/// One row of a bar chart: its label, the room it may take (drawn pale) and the part
/// filled, as shares of the plot's width.
struct Bar {
    label: &'static str,
    room: f64,
    fill: f64,
    class: &'static str,
}

impl Bar {
    fn room(label: &'static str, room: f64) -> Bar {
        Bar {
            label,
            room,
            fill: 0.0,
            class: "bar-ok",
        }
    }

    fn filled(label: &'static str, fill: f64, ok: bool) -> Bar {
        Bar {
            fill,
            ..Bar::room(label, 0.0)
        }
        .ok(ok)
    }

    fn ok(self, ok: bool) -> Bar {
        let class = if ok { "bar-ok" } else { "bar-low" };
        Bar { class, ..self }
    }
}

/// Horizontal bars, one row each, a dashed tick across them at `tick` (a share of the
/// width) and a caption under them.
fn bar_chart(title: &str, bars: &[Bar], tick: f64, caption: &str) -> Markup {
    let x = |share: f64| LEFT + (WIDTH - LEFT - 4.0) * share.clamp(0.0, 1.0);
    let row = |i: usize| 8.0 + 20.0 * i as f64;
    let height = row(bars.len()) + 16.0;
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(title) {
            title { (title) }
            @for (i, bar) in bars.iter().enumerate() {
                text.label x=(LEFT - 4.0) y=(row(i) + 10.0) text-anchor="end" { (bar.label) }
                @if bar.room > 0.0 {
                    rect.bar-room x=(LEFT) y=(row(i)) width=(fixed(x(bar.room) - LEFT)) height="14" {}
                }
                @if bar.fill > 0.0 {
                    rect.(bar.class) x=(LEFT) y=(row(i)) width=(fixed(x(bar.fill) - LEFT)) height="14" {}
                }
            }
            line.target x1=(fixed(x(tick))) y1="4" x2=(fixed(x(tick))) y2=(row(bars.len()) - 2.0) {}
            text.label x=(LEFT) y=(height - 6.0) { (caption) }
        }
    }
}

/// A coordinate with one decimal: enough for a drawing, and short.
fn fixed(v: f64) -> String {
    format!("{v:.1}")
}

/// A scale label: whole above 10, else one decimal.
fn num(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speed_of(samples: Vec<f64>, target: f64) -> Vec<Figure> {
        vec![Figure::new(Quantity::GenerationRate, 0.0)
            .samples(samples)
            .target(target)]
    }

    fn vram_of(free: u64, total: u64, min_free: u64) -> Vec<Figure> {
        vec![
            Figure::new(Quantity::VramFree, free as f64).target(min_free as f64),
            Figure::new(Quantity::VramTotal, total as f64),
        ]
    }

    #[test]
    fn a_chart_needs_finite_figures() {
        let drawn = |f: Vec<Figure>| chart(&f).into_string();
        assert!(drawn(speed_of(vec![], 40.0)).is_empty());
        assert!(drawn(speed_of(vec![f64::NAN], 40.0)).is_empty());
        assert!(drawn(vram_of(1, 0, 0)).is_empty());
        let roofline = vec![
            Figure::new(Quantity::GenerationRate, 1.0).target(0.5),
            Figure::new(Quantity::DecodeLimit, 0.0),
        ];
        assert!(drawn(roofline).is_empty());
        // A figure without a target (a cold load's) has no chart.
        assert!(drawn(vec![Figure::new(Quantity::ColdLoad, 2.0)]).is_empty());
        let svg = drawn(speed_of(vec![30.0, 50.0], 40.0));
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2);
        assert_eq!(
            svg.matches("bar-low").count(),
            1,
            "the sample under the target"
        );
        let svg = drawn(vram_of(4 << 30, 24 << 30, 2 << 30));
        assert!(svg.contains("20.0 GiB used, 4.0 GiB free of 24.0"), "{svg}");
        let svg = drawn(vec![
            Figure::new(Quantity::GenerationRate, 65.0).target(19.2),
            Figure::new(Quantity::DecodeLimit, 76.9),
        ]);
        assert!(svg.contains("65.0 of 76.9 tok/s; dashed: 25"), "{svg}");
        let streams = |together: f64| {
            drawn(vec![
                Figure::new(Quantity::AggregateRate, together).target(91.4),
                Figure::new(Quantity::StreamRate, 49.2).samples(vec![49.2; 4]),
            ])
        };
        let svg = streams(196.9);
        assert!(
            svg.contains("196.9 tok/s; dashed: the least expected, 91.4"),
            "{svg}"
        );
        assert!(svg.contains("bar-ok") && !svg.contains("bar-low"), "{svg}");
        assert!(streams(63.2).contains("bar-low"));
        assert!(streams(f64::NAN).is_empty());
    }
}
