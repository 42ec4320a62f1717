//! The jurisdiction rules every tenant starts with, from COMPLIANCE.md §1.2. They are seed
//! data, not law: each carries its source and how sure that source is, and a tenant changes
//! them by recording new versions (after counsel's review, for the `U` ones).
//!
//! Mapping notes:
//! - "Block listing and sale" is `block_listing` (it implies no sale); "block delivery to
//!   …" is `block_sale` (the title may still be offered nationally).
//! - Storefront age gates (UK-SITE-GATE, US-SITE-AV-*, FR-SITE, CA-ONLINE) are age checks on
//!   online sales of explicit titles; CA-ONLINE is seeded switched off until S-209 passes.
//! - German ratings below 18 need an age-conform handover per rating: one rule per FSK level.
//! - The Northern Territory's prescribed areas are the jurisdiction `AU-NT-PA` (ship-to
//!   postcodes there map to it).
//! - EU-AV-PRIVACY ("store the boolean result, not DOB or ID") is not a sale rule: the
//!   evidence records have no field that could hold such data (see `evidence`).
//! - Licences (UK sex-establishment, ACT Part 6, BC retailer) are not yet modelled; the
//!   in-store rules say so in their summaries.

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    ChannelKind::{self, Mail, Online, Phone, Pos},
    Jurisdiction,
    rules::{Action, Condition, Rule},
    title::Field,
};

/// Who approved the seeded versions.
pub const SEED_APPROVER: &str = "concord seed (COMPLIANCE.md §1.2; counsel to confirm [U] rules)";

const REMOTE: &[ChannelKind] = &[Online, Phone, Mail];

fn date(y: i32, m: u32, d: u32) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

fn places(codes: &[&str]) -> Vec<Jurisdiction> {
    codes
        .iter()
        .filter_map(|c| Jurisdiction::parse(c).ok())
        .collect()
}

/// A version-1 rule with the common defaults; callers set the rest.
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per column of the COMPLIANCE.md table keeps the seed readable"
)]
fn rule(
    code: &str,
    summary: &str,
    jurisdictions: &[&str],
    channels: &[ChannelKind],
    applies_to: Condition,
    action: Action,
    min_age: Option<u8>,
    source: &str,
    confidence: &str,
) -> Rule {
    Rule {
        code: code.into(),
        version: 1,
        summary: summary.into(),
        jurisdictions: places(jurisdictions),
        channels: channels.to_vec(),
        applies_to,
        requires: Vec::new(),
        action,
        min_age,
        verification: None,
        delivery_control: None,
        enabled: true,
        effective_from: None,
        effective_to: None,
        source: source.into(),
        confidence: confidence.into(),
        approved_by: Some(SEED_APPROVER.into()),
        approved_at: None,
    }
}

fn explicit() -> Condition {
    Condition::is(Field::ExplicitContent, true)
}

fn explicit_or_cover() -> Condition {
    Condition::Any(vec![
        Condition::is(Field::ExplicitContent, true),
        Condition::is(Field::CoverArtExplicit, true),
    ])
}

/// German adult material: §184 pornography, FSK "Keine Jugendfreigabe" or none, or indexed.
fn de_adult() -> Condition {
    Condition::Any(vec![
        Condition::is(Field::DePorn184, true),
        Condition::is_in(Field::DeFsk, &["18", "none"]),
        Condition::is_in(Field::DeIndexed, &["A", "B"]),
    ])
}

fn x18() -> Condition {
    Condition::is_in(Field::AuClass, &["X18+"])
}

fn with_check(mut r: Rule, verification: &str) -> Rule {
    r.verification = Some(verification.into());
    r
}

fn with_delivery(mut r: Rule, control: &str) -> Rule {
    r.delivery_control = Some(control.into());
    r
}

/// The seeded rules, version 1 each.
pub fn seeded_rules() -> Vec<Rule> {
    use Action::*;
    let id_check =
        "ID check (passport, photo driving licence or PASS card) when in doubt; log the result";
    let mut rules = vec![
        rule(
            "UK-R18-REMOTE",
            "BBFC R18 may not be offered or sold remotely in the UK: the offer itself is an offence",
            &["GB"],
            REMOTE,
            Condition::is_in(Field::UkBbfcCategory, &["R18"]),
            BlockListing,
            None,
            "Video Recordings Act 1984 ss.9–12; R v Interfact [2005] (online listing = offer: our reading)",
            "C/U",
        ),
        with_check(
            rule(
                "UK-R18-STORE",
                "BBFC R18 over the counter only in a licensed sex establishment, to adults (licence register not yet modelled)",
                &["GB"],
                &[Pos],
                Condition::is_in(Field::UkBbfcCategory, &["R18"]),
                RequireAgeVerification,
                Some(18),
                "Video Recordings Act 1984 s.12; council licensing guidance",
                "C",
            ),
            id_check,
        ),
        with_check(
            rule(
                "UK-18-REMOTE",
                "BBFC 18 sold online only after age verification (not self-declaration) before dispatch",
                &["GB"],
                &[Online],
                Condition::is_in(Field::UkBbfcCategory, &["18"]),
                RequireAgeVerification,
                Some(18),
                "Video Recordings Act 1984 s.11 and due diligence; AV method per Online Safety Act",
                "C/U",
            ),
            "online AV: document, database, credit card or facial estimation",
        ),
        with_check(
            rule(
                "UK-SITE-GATE",
                "A storefront showing explicit content needs a highly effective age gate; keep a record of the method",
                &["GB"],
                &[Online],
                explicit_or_cover(),
                RequireAgeVerification,
                Some(18),
                "Online Safety Act 2023 Part 5 (applicability to be confirmed)",
                "U",
            ),
            "highly effective age assurance before explicit content is visible",
        ),
        rule(
            "UK-UNCLASS",
            "Titles without a BBFC certificate (unless genuinely exempt) or without a valid label are not supplied in the UK",
            &["GB"],
            &[],
            Condition::Any(vec![
                Condition::is_in(Field::UkBbfcCategory, &["unclassified"]),
                Condition::is(Field::UkLabelOk, false),
                Condition::All(vec![
                    Condition::is_in(Field::UkBbfcCategory, &["exempt"]),
                    Condition::Any(vec![
                        Condition::is(Field::UkWorkExempt, false),
                        Condition::is(Field::ExplicitContent, true),
                    ]),
                ]),
            ]),
            BlockListing,
            None,
            "Video Recordings Act 1984 ss.2(2), 9, 13, 14",
            "C",
        ),
        with_delivery(
            with_check(
                rule(
                    "DE-ADULT-REMOTE",
                    "Pornographic, FSK 18/unlabelled or indexed titles ship only after identity-based AV and a personal handover, to a closed user group",
                    &["DE"],
                    &[Online, Mail],
                    de_adult(),
                    RequireAgeVerification,
                    Some(18),
                    "JuSchG §1(4), §12, §15; StGB §184",
                    "C/2nd",
                ),
                "two-stage: identity-based AV before the order (eID, Postident, SCHUFA-type)",
            ),
            "personal_handover",
        ),
        with_check(
            rule(
                "DE-ADULT-STORE",
                "Pornographic or indexed titles only in areas minors can neither enter nor see, to adults",
                &["DE"],
                &[Pos],
                de_adult(),
                RequireAgeVerification,
                Some(18),
                "JuSchG §15; StGB §184 (layout details to be confirmed)",
                "U",
            ),
            id_check,
        ),
        with_check(
            rule(
                "AU-X-ACT",
                "X18+ over the counter in the ACT on direct request, to adults, in an opaque bag (ACT Part 6 licence not yet modelled)",
                &["AU-ACT"],
                &[Pos],
                x18(),
                RequireAgeVerification,
                Some(18),
                "Classification (Publications, Films and Computer Games) (Enforcement) Act 1995 (ACT)",
                "C",
            ),
            "ID check; hand over in an opaque bag",
        ),
        rule(
            "AU-X-NT",
            "X18+ may not be delivered to the Northern Territory's prescribed areas",
            &["AU-NT-PA"],
            &[],
            x18(),
            BlockSale,
            None,
            "Classification of Publications, Films and Computer Games Act (NT); Stronger Futures (current status to be confirmed)",
            "C/O/U",
        ),
        rule(
            "AU-X-OTHER",
            "X18+ is not sold into the states (mail order included) by default",
            &["AU-NSW", "AU-VIC", "AU-QLD", "AU-SA", "AU-WA", "AU-TAS"],
            &[],
            x18(),
            BlockSale,
            None,
            "State classification enforcement acts (interstate mail-order law to be confirmed)",
            "U",
        ),
        rule(
            "AU-RC",
            "Refused Classification material is never offered in Australia (import included)",
            &["AU"],
            &[],
            Condition::is_in(Field::AuClass, &["RC"]),
            BlockListing,
            None,
            "Classification (Publications, Films and Computer Games) Act 1995 (Cth); Customs regulations",
            "2nd",
        ),
        rule(
            "US-2257",
            "Explicit titles without the 18 U.S.C. §2257 statement are not offered in the US",
            &["US"],
            &[],
            Condition::All(vec![
                Condition::is(Field::ExplicitContent, true),
                Condition::is(Field::Us2257StatementPresent, false),
            ]),
            BlockListing,
            None,
            "18 U.S.C. §2257(f)(4)",
            "2nd",
        ),
        with_delivery(
            rule(
                "US-SHIP",
                "Adult titles ship with the carrier's Adult Signature Required service (21+ at the carrier)",
                &["US"],
                REMOTE,
                explicit(),
                RequireDeliveryControl,
                Some(18),
                "Carrier terms; merchant policy (21+ carrier vs 18+ law to be confirmed)",
                "U",
            ),
            "adult_signature",
        ),
        with_check(
            {
                let mut r = rule(
                    "CA-BC",
                    "Adult titles in British Columbia need a CPBC decal number and go to adults only (retailer licence not yet modelled)",
                    &["CA-BC"],
                    &[],
                    explicit(),
                    RequireAgeVerification,
                    Some(18),
                    "Motion Picture Act (BC); Consumer Protection BC",
                    "C",
                );
                r.requires = vec![Field::CaBcDecalNo];
                r
            },
            id_check,
        ),
        with_delivery(
            rule(
                "CA-OTHER",
                "Adult titles shipped within Canada use Canada Post proof of age (18+); provinces differ",
                &["CA"],
                REMOTE,
                explicit(),
                RequireDeliveryControl,
                Some(18),
                "Provincial film acts (SK/YT via CPBC, MB, QC stamp; none in ON since 2021, AB); Canada Post",
                "C/U",
            ),
            "proof_of_age",
        ),
        with_check(
            {
                let mut r = rule(
                    "CA-ONLINE",
                    "Storefront age verification if Bill S-209 is enacted (switched off: monitor)",
                    &["CA"],
                    &[Online],
                    explicit_or_cover(),
                    RequireAgeVerification,
                    Some(18),
                    "Bill S-209 (pending)",
                    "2nd",
                );
                r.enabled = false;
                r
            },
            "age verification or estimation before explicit content is visible",
        ),
        with_check(
            rule(
                "FR-SITE",
                "A storefront with pornographic content offers a double-anonymity age check",
                &["FR"],
                &[Online],
                explicit_or_cover(),
                RequireAgeVerification,
                Some(18),
                "Loi SREN 2024; Arcom référentiel (applicability to be confirmed)",
                "U",
            ),
            "third-party AV with a double-anonymity option",
        ),
    ];
    for (fsk, age) in [("16", 16), ("12", 12), ("6", 6)] {
        rules.push(with_check(
            rule(
                &format!("DE-RATED-{fsk}"),
                &format!(
                    "FSK {fsk}: show the rating prominently; hand over only to people aged {age}+"
                ),
                &["DE"],
                &[],
                Condition::is_in(Field::DeFsk, &[fsk]),
                RequireAgeVerification,
                Some(age),
                "JuSchG §12",
                "C",
            ),
            "age-conform handover check",
        ));
    }
    for (state, from) in [
        ("US-LA", date(2023, 1, 1)),
        ("US-UT", date(2023, 5, 3)),
        ("US-TX", date(2023, 9, 1)),
    ] {
        let mut r = with_check(
            rule(
                &format!("US-SITE-AV-{}", &state[3..]),
                "Storefronts meeting the 'substantial portion' test verify age at access; retain no identifying information after access",
                &[state],
                &[Online],
                explicit_or_cover(),
                RequireAgeVerification,
                Some(18),
                "LA Act 440 (2022); Utah SB 287 (2023); Texas HB 1181 (2023) (applicability to be confirmed)",
                "C/U",
            ),
            "government ID, digital ID or transactional-data AV through a third party",
        );
        r.effective_from = from;
        rules.push(r);
    }
    rules
}

#[cfg(test)]
mod tests;
