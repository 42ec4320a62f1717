//! Every platform's parser and event id on fuzzed bodies and headers: they never panic, and
//! the event id is always storable (no NUL character).

#![no_main]

use concord_connectors::{event_id, parse};
use concord_fuzz::Case;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let case = Case::new(data);
    for &platform in &case.platforms {
        let body = case.body_for(platform);
        let delivery = case.delivery(&body, &case.headers);
        let id = event_id(platform, &delivery);
        assert!(!id.contains('\0'), "{platform}: event id {id:?}");
        let _ = parse(platform, &delivery);
    }
});
