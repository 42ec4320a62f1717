//! Every platform's delivery verifier on fuzzed bodies, headers, keys and clocks: it never
//! panics, and a body signed the way its platform signs it is always accepted (unless the
//! body itself says it has expired: a Wix JWT's `exp`).

#![no_main]

use concord_connectors::{Platform, Rejection};
use concord_fuzz::Case;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let case = Case::new(data);
    for &platform in &case.platforms {
        let verdict = case.verdict(platform);
        if !case.signed {
            continue;
        }
        let accepted = match &verdict {
            None | Some(Ok(()) | Err(Rejection::Unsigned(_))) => true,
            Some(Err(Rejection::Stale(_))) => platform == Platform::Wix,
            Some(Err(_)) => false,
        };
        assert!(
            accepted,
            "{platform} refuses a delivery it signed itself: {verdict:?}"
        );
    }
});
