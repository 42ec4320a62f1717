//! The platforms' `Retry-After` answers, as any bytes a server may send: reading them never
//! panics and never asks to wait a negative time.

#![no_main]

use chrono::DateTime;
use concord_connectors::api::retry_after;
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, value);
    if let Some(now) = DateTime::from_timestamp(concord_fuzz::DEFAULT_NOW, 0) {
        let _ = retry_after(&headers, now);
    }
});
