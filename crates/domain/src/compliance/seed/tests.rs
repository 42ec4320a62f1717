//! Every seeded rule, one allowed and one restricted case each, through [`judge`] with the
//! whole seeded table in force, plus the judge's general behaviour (fail closed, versions,
//! effective dates, title overrides).

use chrono::{DateTime, Duration, Utc};

use super::{SEED_APPROVER, date, seeded_rules};
use crate::compliance::{
    ChannelKind::{self, Mail, Online, Pos},
    Jurisdiction,
    rules::{Action, Decision, SaleChecks, Verdict, in_force, judge},
    title::{Field, TitleFields, TitleOverride, TitleVersion},
};

/// A title that every seeded rule knows everything about and none restricts.
fn clean() -> TitleFields {
    TitleFields {
        uk_bbfc_category: Some("15".into()),
        uk_bbfc_cert_no: Some("AFF123456".into()),
        uk_label_ok: Some(true),
        uk_work_exempt: Some(false),
        de_fsk: Some("0".into()),
        de_indexed: Some("none".into()),
        de_porn_184: Some(false),
        au_class: Some("M".into()),
        ca_bc_decal_no: Some("BC-0001".into()),
        ca_bc_class: Some("general".into()),
        us_2257_statement_present: Some(true),
        explicit_content: Some(false),
        cover_art_explicit: Some(false),
        ..TitleFields::default()
    }
}

fn now() -> DateTime<Utc> {
    date(2026, 12, 1).unwrap_or_else(Utc::now)
}

fn version(fields: TitleFields) -> TitleVersion {
    TitleVersion {
        version: 1,
        fields,
        overrides: Vec::new(),
        evidence_refs: Vec::new(),
        source: None,
        verified_by: None,
        verified_at: None,
        valid_from: now() - Duration::days(3650),
        valid_to: None,
    }
}

fn place(code: &str) -> Jurisdiction {
    Jurisdiction::parse(code).expect("jurisdiction")
}

struct Case {
    fields: TitleFields,
    place: &'static str,
    channel: ChannelKind,
    at: DateTime<Utc>,
}

fn at(fields: TitleFields, place: &'static str, channel: ChannelKind) -> Case {
    Case {
        fields,
        place,
        channel,
        at: now(),
    }
}

fn decide(case: &Case) -> Decision {
    judge(
        Some(&version(case.fields.clone())),
        &seeded_rules(),
        &place(case.place),
        case.channel,
        case.at,
    )
}

fn fired(d: &Decision, code: &str) -> bool {
    d.reasons
        .iter()
        .any(|r| r.code == code && r.missing.is_empty())
}

/// Every check a seeded rule can ask for, done.
fn all_checks() -> SaleChecks {
    SaleChecks {
        age_verified: true,
        delivery_controls: vec![
            "adult_signature".into(),
            "personal_handover".into(),
            "proof_of_age".into(),
        ],
    }
}

fn with(f: impl FnOnce(&mut TitleFields)) -> TitleFields {
    let mut t = clean();
    f(&mut t);
    t
}

fn explicit(t: &mut TitleFields) {
    t.explicit_content = Some(true);
    t.cover_art_explicit = Some(true);
    t.uk_bbfc_category = Some("18".into());
    t.de_fsk = Some("18".into());
    t.au_class = Some("R18+".into());
}

/// (code, allowed case, restricted case, what the restriction is).
fn cases() -> Vec<(&'static str, Case, Case, Action)> {
    use Action::*;
    let r18 = || with(|t| t.uk_bbfc_category = Some("R18".into()));
    let x18 = || with(|t| t.au_class = Some("X18+".into()));
    vec![
        (
            "UK-R18-REMOTE",
            at(r18(), "GB", Pos),
            at(r18(), "GB", Online),
            BlockListing,
        ),
        (
            "UK-R18-STORE",
            at(clean(), "GB", Pos),
            at(r18(), "GB", Pos),
            RequireAgeVerification,
        ),
        (
            "UK-18-REMOTE",
            at(clean(), "GB", Online),
            at(
                with(|t| t.uk_bbfc_category = Some("18".into())),
                "GB",
                Online,
            ),
            RequireAgeVerification,
        ),
        (
            "UK-SITE-GATE",
            at(clean(), "GB", Online),
            at(with(|t| t.cover_art_explicit = Some(true)), "GB", Online),
            RequireAgeVerification,
        ),
        (
            "UK-UNCLASS",
            at(clean(), "GB", Mail),
            at(with(|t| t.uk_label_ok = Some(false)), "GB", Pos),
            BlockListing,
        ),
        (
            "DE-ADULT-REMOTE",
            at(with(|t| t.de_porn_184 = Some(true)), "DE", Pos),
            at(with(|t| t.de_porn_184 = Some(true)), "DE", Online),
            RequireAgeVerification,
        ),
        (
            "DE-ADULT-STORE",
            at(clean(), "DE", Pos),
            at(with(|t| t.de_indexed = Some("B".into())), "DE", Pos),
            RequireAgeVerification,
        ),
        (
            "DE-RATED-16",
            at(clean(), "DE", Pos),
            at(with(|t| t.de_fsk = Some("16".into())), "DE", Pos),
            RequireAgeVerification,
        ),
        (
            "DE-RATED-12",
            at(clean(), "DE", Online),
            at(with(|t| t.de_fsk = Some("12".into())), "DE", Online),
            RequireAgeVerification,
        ),
        (
            "DE-RATED-6",
            at(clean(), "DE", Mail),
            at(with(|t| t.de_fsk = Some("6".into())), "DE", Mail),
            RequireAgeVerification,
        ),
        (
            "AU-X-ACT",
            at(x18(), "AU-ACT", Online),
            at(x18(), "AU-ACT", Pos),
            RequireAgeVerification,
        ),
        (
            "AU-X-NT",
            at(x18(), "AU-NT", Online),
            at(x18(), "AU-NT-PA", Online),
            BlockSale,
        ),
        (
            "AU-X-OTHER",
            at(x18(), "AU-ACT", Online),
            at(x18(), "AU-NSW", Online),
            BlockSale,
        ),
        (
            "AU-RC",
            at(x18(), "AU-ACT", Pos),
            at(with(|t| t.au_class = Some("RC".into())), "AU-ACT", Pos),
            BlockListing,
        ),
        (
            "US-2257",
            at(with(explicit), "US-NY", Pos),
            at(
                with(|t| {
                    explicit(t);
                    t.us_2257_statement_present = Some(false)
                }),
                "US-NY",
                Pos,
            ),
            BlockListing,
        ),
        (
            "US-SHIP",
            at(with(explicit), "US-NY", Pos),
            at(with(explicit), "US-NY", Mail),
            RequireDeliveryControl,
        ),
        (
            "US-SITE-AV-LA",
            at(with(explicit), "US-NY", Online),
            at(with(explicit), "US-LA", Online),
            RequireAgeVerification,
        ),
        (
            "US-SITE-AV-UT",
            at(clean(), "US-UT", Online),
            at(with(explicit), "US-UT", Online),
            RequireAgeVerification,
        ),
        (
            "US-SITE-AV-TX",
            Case {
                fields: with(explicit),
                place: "US-TX",
                channel: Online,
                at: date(2023, 8, 31).unwrap_or_else(Utc::now),
            },
            at(with(explicit), "US-TX", Online),
            RequireAgeVerification,
        ),
        (
            "CA-BC",
            at(clean(), "CA-BC", Pos),
            at(with(explicit), "CA-BC", Pos),
            RequireAgeVerification,
        ),
        (
            "CA-OTHER",
            at(with(explicit), "CA-ON", Pos),
            at(with(explicit), "CA-ON", Online),
            RequireDeliveryControl,
        ),
        (
            "FR-SITE",
            at(with(explicit), "FR", Pos),
            at(with(explicit), "FR", Online),
            RequireAgeVerification,
        ),
    ]
}

#[test]
fn every_seeded_rule_has_an_allowed_and_a_restricted_case() {
    let seeded: Vec<String> = seeded_rules().into_iter().map(|r| r.code).collect();
    let mut covered: Vec<&str> = cases().iter().map(|c| c.0).collect();
    covered.push("CA-ONLINE");
    let mut expected = seeded.clone();
    expected.sort();
    covered.sort();
    assert_eq!(covered, expected, "add a case for every seeded rule");
    for (code, allowed, restricted, action) in cases() {
        let ok = decide(&allowed);
        assert!(!fired(&ok, code), "{code}: allowed case restricted: {ok:?}");
        assert!(ok.missing_fields.is_empty(), "{code}: {ok:?}");
        assert!(
            ok.permits(&all_checks()),
            "{code}: allowed case refused: {ok:?}"
        );

        let no = decide(&restricted);
        assert!(
            fired(&no, code),
            "{code}: restricted case not restricted: {no:?}"
        );
        assert!(
            !no.permits(&SaleChecks::default()),
            "{code}: sold without checks: {no:?}"
        );
        match action {
            Action::BlockListing => {
                assert!(
                    !no.listable && no.verdict == Verdict::Blocked,
                    "{code}: {no:?}"
                )
            }
            Action::BlockSale => {
                assert!(
                    no.listable && no.verdict == Verdict::Blocked,
                    "{code}: {no:?}"
                )
            }
            Action::Hold => assert_eq!(no.verdict, Verdict::Hold, "{code}"),
            Action::RequireAgeVerification => {
                assert!(no.age_check.is_some(), "{code}: {no:?}");
                assert!(no.listable, "{code}");
                assert!(
                    no.permits(&all_checks()),
                    "{code}: checks done but refused: {no:?}"
                );
            }
            Action::RequireDeliveryControl => {
                assert!(!no.delivery_controls.is_empty(), "{code}: {no:?}");
                assert!(
                    no.permits(&all_checks()),
                    "{code}: checks done but refused: {no:?}"
                );
            }
        }
    }
}

#[test]
fn the_pending_canadian_storefront_rule_acts_only_once_switched_on() {
    let case = at(with(explicit), "CA-ON", Online);
    assert!(!fired(&decide(&case), "CA-ONLINE"), "seeded switched off");
    let mut rules = seeded_rules();
    let mut on = rules
        .iter()
        .find(|r| r.code == "CA-ONLINE")
        .cloned()
        .expect("seeded");
    on.version = 2;
    on.enabled = true;
    rules.push(on);
    let d = judge(
        Some(&version(case.fields)),
        &rules,
        &place("CA-ON"),
        Online,
        now(),
    );
    assert!(fired(&d, "CA-ONLINE"));
    assert!(!d.permits(&SaleChecks {
        age_verified: false,
        ..all_checks()
    }));
}

#[test]
fn every_seeded_rule_is_valid_and_approved() {
    for rule in seeded_rules() {
        rule.validate()
            .unwrap_or_else(|e| panic!("{}: {e}", rule.code));
        assert_eq!(rule.approved_by.as_deref(), Some(SEED_APPROVER));
        assert!(!rule.jurisdictions.is_empty(), "{}", rule.code);
    }
}

#[test]
fn a_title_missing_a_needed_field_fails_closed() {
    let no_record = judge(None, &seeded_rules(), &place("GB"), Pos, now());
    assert_eq!(no_record.verdict, Verdict::Blocked);
    assert!(!no_record.listable && no_record.no_record);
    assert!(no_record.missing_fields.contains(&Field::UkBbfcCategory));
    let no_decal = decide(&at(
        with(|t| {
            explicit(t);
            t.ca_bc_decal_no = None
        }),
        "CA-BC",
        Pos,
    ));
    assert_eq!(no_decal.verdict, Verdict::Blocked);
    assert_eq!(no_decal.missing_fields, [Field::CaBcDecalNo]);
    assert!(no_decal.outstanding(&all_checks())[0].contains("ca_bc_decal_no"));
    // The same title sells where no rule needs the field.
    let elsewhere = judge(None, &seeded_rules(), &place("JP"), Online, now());
    assert_eq!(elsewhere.verdict, Verdict::Allowed);
}

#[test]
fn a_later_version_replaces_a_rule_from_its_effective_date() {
    let mut rules = seeded_rules();
    let mut v2 = rules
        .iter()
        .find(|r| r.code == "UK-18-REMOTE")
        .cloned()
        .expect("seeded");
    v2.version = 2;
    v2.action = Action::Hold;
    v2.effective_from = Some(now());
    rules.push(v2);
    let eighteen = version(with(|t| t.uk_bbfc_category = Some("18".into())));
    let before = judge(
        Some(&eighteen),
        &rules,
        &place("GB"),
        Online,
        now() - Duration::days(1),
    );
    assert_eq!(before.verdict, Verdict::Conditional);
    let after = judge(Some(&eighteen), &rules, &place("GB"), Online, now());
    assert_eq!(after.verdict, Verdict::Hold);
    assert_eq!(
        in_force(&rules, now())
            .iter()
            .filter(|r| r.code == "UK-18-REMOTE")
            .count(),
        1
    );
}

#[test]
fn a_title_override_only_restricts() {
    let mut title = version(clean());
    title.overrides.push(TitleOverride {
        action: Action::BlockListing,
        jurisdictions: Vec::new(),
        channels: vec![Online],
        reason: "never list online".into(),
    });
    let online = judge(Some(&title), &seeded_rules(), &place("GB"), Online, now());
    assert!(!online.listable);
    assert_eq!(online.reasons[0].code, "TITLE-OVERRIDE");
    let store = judge(Some(&title), &seeded_rules(), &place("GB"), Pos, now());
    assert_eq!(store.verdict, Verdict::Allowed);
}
