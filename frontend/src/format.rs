//! How figures, money and times are shown.

/// Minor units as a decimal amount with its currency, e.g. `EUR 12.50`.
pub fn money(minor: i64, currency: &str) -> String {
    let exponent = match currency {
        "JPY" | "KRW" | "ISK" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    };
    if exponent == 0 {
        return format!("{currency} {minor}");
    }
    let scale = 10i64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{currency} {sign}{}.{:0width$}",
        abs / scale as u64,
        abs % scale as u64,
        width = exponent as usize
    )
}

/// An RFC 3339 UTC time as `YYYY-MM-DD HH:MM UTC`.
pub fn time(rfc3339: &str) -> String {
    let trimmed: String = rfc3339.chars().take(16).collect();
    format!("{} UTC", trimmed.replace('T', " "))
}

/// Seconds since an RFC 3339 time, by the browser's clock.
pub fn age_seconds(rfc3339: &str) -> Option<i64> {
    let then = js_sys::Date::parse(rfc3339);
    if then.is_nan() {
        return None;
    }
    Some(((js_sys::Date::now() - then) / 1000.0).max(0.0) as i64)
}

/// A duration in words: `42 s`, `5 min`, `3 h`, `2 d`.
pub fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 90 => format!("{s} s"),
        s if s < 90 * 60 => format!("{} min", s / 60),
        s if s < 36 * 3600 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// How long ago, in words.
pub fn ago(rfc3339: &str) -> String {
    age_seconds(rfc3339)
        .map(|s| format!("{} ago", duration(s)))
        .unwrap_or_else(|| "—".into())
}

/// A snake_case word for people: `compliance_officer` → `compliance officer`.
pub fn words(snake: &str) -> String {
    snake.replace('_', " ")
}
