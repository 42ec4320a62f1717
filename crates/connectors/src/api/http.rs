//! The HTTP layer every connector shares: sends a request and classifies the answer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, Response, StatusCode, header::HeaderMap};
use serde::de::DeserializeOwned;

use super::ConnectorError;

/// How long a platform asked to wait, from `Retry-After` in seconds or as an HTTP-date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        // Negative, not a number, or beyond what a `Duration` holds: no usable wait.
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Sends `request` and reads a JSON answer, classifying failures.
pub async fn json<T: DeserializeOwned>(
    request: RequestBuilder,
) -> Result<(T, HeaderMap), ConnectorError> {
    let response = send(request).await?;
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| ConnectorError::Transient(format!("reading the answer: {e}")))?;
    let value = serde_json::from_slice(&body)
        .map_err(|e| ConnectorError::Permanent(format!("unexpected answer: {e}")))?;
    Ok((value, headers))
}

/// Sends `request`; a 2xx answer is returned, anything else classified.
pub async fn send(request: RequestBuilder) -> Result<Response, ConnectorError> {
    let response = request
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| ConnectorError::Transient(e.without_url().to_string()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let wait = retry_after(response.headers(), Utc::now());
    let text = response.text().await.unwrap_or_default();
    let detail = format!("{status}: {}", text.chars().take(300).collect::<String>());
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => ConnectorError::RateLimited { retry_after: wait },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ConnectorError::Auth(detail),
        StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT => ConnectorError::Transient(detail),
        s if s.is_server_error() => ConnectorError::Transient(detail),
        _ => ConnectorError::Permanent(detail),
    })
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Sat, 28 Nov 2026 10:00:30 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Sat, 28 Nov 2026 09:00:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn retry_after_without_a_usable_wait_is_none_not_a_panic() {
        let now = DateTime::from_timestamp(1_780_000_000, 0).expect("time");
        // Found by the `retry_after` fuzz target: more seconds than a `Duration` holds.
        for value in [
            "0055555555555555555555555555555",
            "1e300",
            "inf",
            "NaN",
            "-1",
            "-0.5",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", HeaderValue::from_static(value));
            assert_eq!(retry_after(&headers, now), None, "{value}");
        }
    }
}
