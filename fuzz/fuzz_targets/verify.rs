//! Every platform's delivery verifier on fuzzed bodies, headers, keys and clocks: it never
//! panics, and a body signed the way its platform signs it is always accepted.

#![no_main]

use concord_connectors::{Rejection, sign, verify};
use concord_fuzz::Case;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let case = Case::new(data);
    for &platform in &case.platforms {
        let keys = case.keys(platform);
        if !case.signed {
            let body = case.body_for(platform);
            let delivery = case.delivery(&body, &case.headers);
            let _ = verify(platform, &delivery, &keys, case.now);
            continue;
        }
        let Some(body) = case.signed_body(platform) else {
            continue;
        };
        let Ok(mut headers) = sign(platform, &body, &keys, case.url.as_deref(), case.now) else {
            continue;
        };
        headers.extend(case.context_headers().cloned());
        let delivery = case.delivery(&body, &headers);
        let verdict = verify(platform, &delivery, &keys, case.now);
        assert!(
            matches!(verdict, Ok(()) | Err(Rejection::Unsigned(_))),
            "{platform} refuses a delivery it signed itself: {verdict:?}"
        );
    }
});
