//! Settings as Ollama, a Go program, reads and prints them: `envconfig.Var`'s
//! trimming, `time.ParseDuration`, `Duration.String`, and `envconfig`'s reading of a
//! duration setting. One place, so that the emulator, the log reader and the settings
//! checks agree with the server.

/// The largest duration, in nanoseconds: what Ollama keeps a model "forever" for.
const MAX_NANOS: u128 = i64::MAX as u128;

/// An environment value as `envconfig.Var` reads it: spaces, then quotes, trimmed (a
/// space inside quotes stays).
pub fn env_value(value: &str) -> &str {
    value.trim().trim_matches(['"', '\''])
}

/// Seconds in a Go duration string, exactly as `time.ParseDuration` reads it: a signed
/// sequence of decimal numbers with units (`1h30m`, `-1.5s`, `300ms`), or `0`. Errors
/// are worded as Go's (`time: missing unit in duration "300"`).
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let invalid = || format!("time: invalid duration {}", quote(text));
    let mut s = text.as_bytes();
    let mut negative = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            negative = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0.0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // [0-9]*
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut whole: u128 = 0;
        for &c in &s[..digits] {
            whole = whole * 10 + u128::from(c - b'0');
            if whole > MAX_NANOS + 1 {
                return Err(invalid());
            }
        }
        let mut saw_digits = digits > 0;
        s = &s[digits..];
        // (\.[0-9]*)?
        let (mut fraction, mut scale) = (0.0f64, 1.0f64);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
            for &c in &s[..digits] {
                fraction = fraction * 10.0 + f64::from(c - b'0');
                scale *= 10.0;
            }
            saw_digits |= digits > 0;
            s = &s[digits..];
        }
        if !saw_digits {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .take_while(|c| !(**c == b'.' || c.is_ascii_digit()))
            .count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(text)));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let nanos: u128 = match unit {
            b"ns" => 1,
            // us, µs (U+00B5) and μs (U+03BC)
            b"us" | [0xc2, 0xb5, b's'] | [0xce, 0xbc, b's'] => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                let unit = String::from_utf8_lossy(unit);
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(&unit),
                    quote(text)
                ));
            }
        };
        let mut value = whole * nanos;
        if fraction > 0.0 {
            value += (fraction * (nanos as f64 / scale)) as u128;
        }
        total += value;
        if total > MAX_NANOS + 1 {
            return Err(invalid());
        }
    }
    if !negative && total > MAX_NANOS {
        return Err(invalid());
    }
    let secs = total as f64 / 1e9;
    Ok(if negative { -secs } else { secs })
}

/// A string quoted as Go's `time` package quotes it in errors: `"` and `\` escaped, any
/// byte of a non-ASCII or control character as `\xNN`.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// A duration setting as `envconfig` reads it (`OLLAMA_KEEP_ALIVE`,
/// `OLLAMA_LOAD_TIMEOUT`): spaces and quotes trimmed, a Go duration, else whole
/// seconds, else `default`; in seconds, `f64::INFINITY` for "forever", which a negative
/// value means (and, for `OLLAMA_LOAD_TIMEOUT`, zero too: `zero_is_forever`).
pub fn env_duration(value: &str, default: f64, zero_is_forever: bool) -> f64 {
    let v = env_value(value);
    let secs = parse_duration(v)
        .ok()
        .or_else(|| v.parse::<i64>().ok().map(|n| n as f64))
        .unwrap_or(default);
    if secs < 0.0 || zero_is_forever && secs == 0.0 {
        f64::INFINITY
    } else {
        forever_or(secs)
    }
}

/// `secs`, or `f64::INFINITY` where it is the largest duration (forever).
pub fn forever_or(secs: f64) -> f64 {
    if secs >= MAX_NANOS as f64 / 1e9 {
        f64::INFINITY
    } else {
        secs
    }
}

/// A float64 as Go's `%v` prints it: the shortest digits that read back, in exponent
/// form (`1e+06`, `1.234567e+06`, `1e-05`) from a million up and below 0.0001, as
/// `/api/show` prints a number a Modelfile set (JSON numbers decode to float64).
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if f != 0.0 && !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        f.to_string()
    }
}

/// A duration as Go's `Duration.String` prints it: `30m0s`, `1h0m0s`, `1.5s`, `250ms`;
/// forever (infinite, negative, or past the largest) as the largest duration, which is
/// how Ollama logs a keep-alive of forever.
pub fn format_duration(secs: f64) -> String {
    if secs < 0.0 || !secs.is_finite() || secs >= MAX_NANOS as f64 / 1e9 {
        return "2562047h47m16.854775807s".into();
    }
    let ns = (secs * 1e9).round() as u128;
    // `whole` units of `unit` ns, with the rest as a decimal fraction, zeros trimmed.
    let decimal = |ns: u128, unit: u128| {
        let (whole, rest) = (ns / unit, ns % unit);
        if rest == 0 {
            return whole.to_string();
        }
        let width = unit.ilog10() as usize;
        let fraction = format!("{rest:0width$}");
        format!("{whole}.{}", fraction.trim_end_matches('0'))
    };
    const S: u128 = 1_000_000_000;
    match ns {
        0 => "0s".into(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => format!("{}µs", decimal(n, 1_000)),
        n if n < S => format!("{}ms", decimal(n, 1_000_000)),
        n => {
            let (h, m) = (n / (3600 * S), n / (60 * S) % 60);
            let s = format!("{}s", decimal(n % (60 * S), S));
            match (h, m) {
                (0, 0) => s,
                (0, m) => format!("{m}m{s}"),
                (h, m) => format!("{h}h{m}m{s}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("0", 0.0)]
    #[case("-0", 0.0)]
    #[case("0s", 0.0)]
    #[case("300s", 300.0)]
    #[case("30m", 1800.0)]
    #[case("1h30m", 5400.0)]
    #[case("1.5h", 5400.0)]
    #[case(".5s", 0.5)]
    #[case("5.s", 5.0)]
    #[case("-1s", -1.0)]
    #[case("+250ms", 0.25)]
    #[case("30m0s", 1800.0)]
    #[case("1µs", 1e-6)]
    #[case("1μs", 1e-6)]
    #[case("2562047h47m16.854775807s", 9_223_372_036.854_775)]
    fn parses_as_go_does(#[case] text: &str, #[case] secs: f64) {
        let got = parse_duration(text).unwrap();
        assert!(
            (got - secs).abs() < 1e-9 * secs.abs().max(1.0),
            "{text}: {got}"
        );
    }

    /// Go's own messages for the same inputs.
    #[rstest]
    #[case("300", r#"time: missing unit in duration "300""#)]
    #[case("1.5.5s", r#"time: missing unit in duration "1.5.5s""#)]
    #[case("1..5s", r#"time: missing unit in duration "1..5s""#)]
    #[case("1d", r#"time: unknown unit "d" in duration "1d""#)]
    #[case("1h-30m", r#"time: unknown unit "h-" in duration "1h-30m""#)]
    #[case("1e3s", r#"time: unknown unit "e" in duration "1e3s""#)]
    #[case("", r#"time: invalid duration """#)]
    #[case("+", r#"time: invalid duration "+""#)]
    #[case("m", r#"time: invalid duration "m""#)]
    #[case(".s", r#"time: invalid duration ".s""#)]
    #[case("3000000h", r#"time: invalid duration "3000000h""#)]
    #[case(
        "99999999999999999999s",
        r#"time: invalid duration "99999999999999999999s""#
    )]
    #[case("-2562048h", r#"time: invalid duration "-2562048h""#)]
    #[case("١s", r#"time: invalid duration "\xd9\xa1s""#)]
    #[case("1s\"", r#"time: unknown unit "s\"" in duration "1s\"""#)]
    fn refuses_as_go_does(#[case] text: &str, #[case] message: &str) {
        assert_eq!(parse_duration(text), Err(message.to_string()));
    }

    #[test]
    fn settings_read_as_envconfig_does() {
        assert_eq!(env_duration("30m", 300.0, false), 1800.0);
        assert_eq!(
            env_duration("\"600\"", 300.0, false),
            600.0,
            "whole seconds"
        );
        assert_eq!(env_duration("soon", 300.0, false), 300.0, "the default");
        assert_eq!(env_duration("1.5", 300.0, false), 300.0, "not whole");
        assert_eq!(env_duration("-1", 300.0, false), f64::INFINITY);
        assert_eq!(env_duration("0", 300.0, false), 0.0);
        assert_eq!(
            env_duration("0", 300.0, true),
            f64::INFINITY,
            "a load timeout"
        );
    }

    #[test]
    fn prints_as_go_does() {
        assert_eq!(format_duration(1800.0), "30m0s");
        assert_eq!(format_duration(45.0), "45s");
        assert_eq!(format_duration(3600.0), "1h0m0s");
        assert_eq!(format_duration(1.5), "1.5s");
        assert_eq!(format_duration(0.25), "250ms");
        assert_eq!(format_duration(90.5), "1m30.5s");
        assert_eq!(format_duration(0.0), "0s");
        assert_eq!(format_duration(2e-6), "2µs");
        assert_eq!(
            env_duration("' 30m'", 300.0, false),
            300.0,
            "a space inside quotes stays"
        );
        assert_eq!(format_duration(f64::INFINITY), "2562047h47m16.854775807s");
        assert_eq!(format_duration(-1.0), "2562047h47m16.854775807s");
    }

    #[rstest::rstest]
    #[case(1_000_000.0, "1e+06")]
    #[case(1_234_567.0, "1.234567e+06")]
    #[case(123_456.0, "123456")]
    #[case(16384.0, "16384")]
    #[case(0.30000001192092896, "0.30000001192092896")]
    #[case(0.00001, "1e-05")]
    #[case(0.0001, "0.0001")]
    #[case(-2.5e100, "-2.5e+100")]
    #[case(0.0, "0")]
    fn floats_print_as_go_prints_them(#[case] f: f64, #[case] printed: &str) {
        assert_eq!(format_float(f), printed);
    }
}
