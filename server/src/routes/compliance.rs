//! Compliance configuration: the jurisdiction rule table (versions), each title's
//! compliance fields (versions), what the rules decide for a title, and where each
//! connection sells. Every change is audited by the storage layer.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, Permission, ProductId, ValidationError,
    compliance::{
        ChannelKind, Jurisdiction,
        rules::{Action, Condition, Decision, Rule},
        title::{Field, TitleFields, TitleOverride, TitleVersion, version_at},
    },
    validate::parse_label,
};
use concord_storage::{RuleRecord, TitleDraft};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiResult, ErrorBody},
    routes::path_id,
    state::AppState,
};

/// Most evidence references one title version may carry.
const MAX_EVIDENCE_REFS: usize = 50;

/// A new version of a jurisdiction rule (the version number is assigned).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleIn {
    /// Stable code, e.g. `UK-R18-REMOTE`; a known code gets its next version.
    pub code: String,
    /// What it says, in a sentence.
    pub summary: String,
    /// Where it applies (`GB`, `AU-NSW`); each covers its subdivisions.
    pub jurisdictions: Vec<String>,
    /// The kinds of channel it applies to (empty: all).
    #[serde(default)]
    pub channels: Vec<ChannelKind>,
    /// The titles it applies to.
    pub applies_to: Condition,
    /// Fields a title it applies to must have (fail closed).
    #[serde(default)]
    pub requires: Vec<Field>,
    /// What it does.
    pub action: Action,
    /// Minimum age.
    pub min_age: Option<u8>,
    /// The age checks it accepts.
    pub verification: Option<String>,
    /// The carrier control a shipment needs.
    pub delivery_control: Option<String>,
    /// Switched on (default) or off.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// In force from (absent: always).
    pub effective_from: Option<DateTime<Utc>>,
    /// In force until, exclusive (absent: open-ended).
    pub effective_to: Option<DateTime<Utc>>,
    /// The statute, guidance or decision it rests on.
    pub source: String,
    /// How sure the source is (`C`, `2nd`, `U`…); `U` when absent.
    pub confidence: Option<String>,
    /// Who approved it (the caller when absent).
    pub approved_by: Option<String>,
    /// When (now when absent).
    pub approved_at: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

/// One version of a jurisdiction rule.
#[derive(Serialize, ToSchema)]
pub struct RuleOut {
    /// `rul_…`
    pub id: String,
    /// Stable code.
    pub code: String,
    /// Version of the code.
    pub version: i32,
    /// Whether this version speaks for its code right now.
    pub in_force: bool,
    /// What it says.
    pub summary: String,
    /// Where it applies.
    pub jurisdictions: Vec<String>,
    /// The kinds of channel (empty: all).
    pub channels: Vec<ChannelKind>,
    /// The titles it applies to.
    pub applies_to: Condition,
    /// Fields a title must have.
    pub requires: Vec<Field>,
    /// What it does.
    pub action: Action,
    /// Minimum age.
    pub min_age: Option<u8>,
    /// The age checks it accepts.
    pub verification: Option<String>,
    /// The carrier control a shipment needs.
    pub delivery_control: Option<String>,
    /// Switched on.
    pub enabled: bool,
    /// In force from.
    pub effective_from: Option<DateTime<Utc>>,
    /// In force until.
    pub effective_to: Option<DateTime<Utc>>,
    /// Its source.
    pub source: String,
    /// How sure the source is.
    pub confidence: String,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl RuleOut {
    fn new(r: RuleRecord, in_force: bool) -> Self {
        let rule = r.rule;
        Self {
            id: r.id,
            in_force,
            code: rule.code,
            version: rule.version,
            summary: rule.summary,
            jurisdictions: rule.jurisdictions.into_iter().map(String::from).collect(),
            channels: rule.channels,
            applies_to: rule.applies_to,
            requires: rule.requires,
            action: rule.action,
            min_age: rule.min_age,
            verification: rule.verification,
            delivery_control: rule.delivery_control,
            enabled: rule.enabled,
            effective_from: rule.effective_from,
            effective_to: rule.effective_to,
            source: rule.source,
            confidence: rule.confidence,
            approved_by: rule.approved_by,
            approved_at: rule.approved_at,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// Rule listing filters.
#[derive(Deserialize, IntoParams)]
pub struct RuleParams {
    /// Only the versions in force now.
    #[serde(default)]
    pub current: bool,
}

/// The jurisdiction rules, every version (seeded from COMPLIANCE.md on first use).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/compliance/rules", tag = "compliance",
    params(("tenant_id" = String, Path), RuleParams),
    responses((status = 200, body = Vec<RuleOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_rules(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<RuleParams>,
) -> ApiResult<web::Json<Vec<RuleOut>>> {
    access.require(Permission::Read)?;
    let records = access.repos(&state).compliance_rules().await?;
    let rules: Vec<Rule> = records.iter().map(|r| r.rule.clone()).collect();
    let now = Utc::now();
    let speaking = concord_domain::compliance::rules::in_force(&rules, now);
    let is_speaking = |r: &RuleRecord| {
        speaking
            .iter()
            .any(|s| s.code == r.rule.code && s.version == r.rule.version)
    };
    Ok(web::Json(
        records
            .into_iter()
            .map(|r| {
                let live = is_speaking(&r);
                (r, live)
            })
            .filter(|(_, live)| !params.current || *live)
            .map(|(r, live)| RuleOut::new(r, live))
            .collect(),
    ))
}

/// Records a new version of a rule (owner, admin, compliance officer); audited.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/compliance/rules", tag = "compliance",
    params(("tenant_id" = String, Path)), request_body = RuleIn,
    responses((status = 201, body = RuleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<RuleIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageCompliance)?;
    let b = body.into_inner();
    let text = |field, v: Option<String>, max| v.map(|v| parse_label(field, &v, max)).transpose();
    let rule = Rule {
        code: b.code.trim().to_owned(),
        version: 0,
        summary: parse_label("summary", &b.summary, 500)?,
        jurisdictions: b
            .jurisdictions
            .iter()
            .map(|j| Jurisdiction::parse(j))
            .collect::<Result<_, _>>()?,
        channels: b.channels,
        applies_to: b.applies_to,
        requires: b.requires,
        action: b.action,
        min_age: b.min_age,
        verification: text("verification", b.verification, 500)?,
        delivery_control: text("delivery_control", b.delivery_control, 60)?,
        enabled: b.enabled,
        effective_from: b.effective_from,
        effective_to: b.effective_to,
        source: parse_label("source", &b.source, 500)?,
        confidence: text("confidence", b.confidence, 20)?.unwrap_or_else(|| "U".into()),
        approved_by: text("approved_by", b.approved_by, 200)?,
        approved_at: b.approved_at,
    };
    rule.validate()?;
    let created = access
        .repos(&state)
        .create_rule_version(rule, access.caller.user_id().as_str())
        .await?;
    let live = created.rule.enabled && created.rule.window_contains(Utc::now());
    Ok(HttpResponse::Created().json(RuleOut::new(created, live)))
}

/// A new version of a title's compliance record.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TitleComplianceIn {
    /// The fields (unknown ones absent or null).
    pub fields: TitleFields,
    /// Restrictions beyond the law (e.g. never list online).
    #[serde(default)]
    pub rule_overrides: Vec<TitleOverride>,
    /// References to uploaded evidence (certificate scans).
    #[serde(default)]
    pub evidence_refs: Vec<String>,
    /// Where the classification came from (BBFC database, distributor sheet).
    pub source: Option<String>,
    /// Who checked it.
    pub verified_by: Option<String>,
    /// When it was checked.
    pub verified_at: Option<DateTime<Utc>>,
    /// From when it applies (now when absent; never before the current version's start).
    pub valid_from: Option<DateTime<Utc>>,
}

/// One version of a title's compliance record.
#[derive(Serialize, ToSchema)]
pub struct TitleVersionOut {
    /// 1, 2, …
    pub version: i32,
    /// The fields.
    pub fields: TitleFields,
    /// Restrictions beyond the law.
    pub rule_overrides: Vec<TitleOverride>,
    /// Evidence references.
    pub evidence_refs: Vec<String>,
    /// Where the classification came from.
    pub source: Option<String>,
    /// Who checked it.
    pub verified_by: Option<String>,
    /// When.
    pub verified_at: Option<DateTime<Utc>>,
    /// Valid from.
    pub valid_from: DateTime<Utc>,
    /// Valid until (exclusive); absent while current.
    pub valid_to: Option<DateTime<Utc>>,
}

impl From<TitleVersion> for TitleVersionOut {
    fn from(v: TitleVersion) -> Self {
        Self {
            version: v.version,
            fields: v.fields,
            rule_overrides: v.overrides,
            evidence_refs: v.evidence_refs,
            source: v.source,
            verified_by: v.verified_by,
            verified_at: v.verified_at,
            valid_from: v.valid_from,
            valid_to: v.valid_to,
        }
    }
}

/// Which version to read.
#[derive(Deserialize, IntoParams)]
pub struct TitleParams {
    /// Only the version valid at this time (RFC 3339).
    pub at: Option<DateTime<Utc>>,
}

/// A title's compliance versions, newest first (or the one valid at `at`).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/products/{product_id}/compliance", tag = "compliance",
    params(("tenant_id" = String, Path), ("product_id" = String, Path), TitleParams),
    responses((status = 200, body = Vec<TitleVersionOut>), (status = 404, body = ErrorBody)))]
pub async fn get_title(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    params: web::Query<TitleParams>,
) -> ApiResult<web::Json<Vec<TitleVersionOut>>> {
    access.require(Permission::Read)?;
    let id: ProductId = path_id(&path.1)?;
    let versions = access.repos(&state).title_compliance(&id).await?;
    let chosen = match params.at {
        Some(at) => version_at(&versions, at).cloned().into_iter().collect(),
        None => versions,
    };
    Ok(web::Json(chosen.into_iter().map(Into::into).collect()))
}

/// Records a new version of a title's compliance fields (owner, admin, staff); audited.
/// A field a jurisdiction's rules need but the title lacks makes it unsellable there.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/products/{product_id}/compliance", tag = "compliance",
    params(("tenant_id" = String, Path), ("product_id" = String, Path)), request_body = TitleComplianceIn,
    responses((status = 201, body = TitleVersionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "valid_from is not after the current version's"),
        (status = 422, body = ErrorBody)))]
pub async fn set_title(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<TitleComplianceIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let id: ProductId = path_id(&path.1)?;
    let b = body.into_inner();
    for o in &b.rule_overrides {
        o.validate()?;
    }
    if b.evidence_refs.len() > MAX_EVIDENCE_REFS {
        return Err(ValidationError {
            field: "evidence_refs",
            message: format!("at most {MAX_EVIDENCE_REFS} references"),
        }
        .into());
    }
    let evidence_refs = b
        .evidence_refs
        .iter()
        .map(|r| parse_label("evidence_refs", r, 500))
        .collect::<Result<_, _>>()?;
    let optional = |field, v: Option<String>| v.map(|v| parse_label(field, &v, 200)).transpose();
    let draft = TitleDraft {
        fields: b.fields.validated()?,
        overrides: b.rule_overrides,
        evidence_refs,
        source: optional("source", b.source)?,
        verified_by: optional("verified_by", b.verified_by)?,
        verified_at: b.verified_at,
        valid_from: b.valid_from,
    };
    let created = access
        .repos(&state)
        .set_title_compliance(&id, draft, access.caller.user_id().as_str())
        .await?;
    Ok(HttpResponse::Created().json(TitleVersionOut::from(created)))
}

/// Where and how a sale would happen.
#[derive(Deserialize, IntoParams)]
pub struct DecisionParams {
    /// The jurisdiction (`GB`, `AU-NSW`).
    pub jurisdiction: String,
    /// online, phone, mail or pos.
    pub channel: ChannelKind,
    /// When (now when absent).
    pub at: Option<DateTime<Utc>>,
}

/// What the rules decide for a title sold somewhere, against its version valid then.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/products/{product_id}/compliance/decision", tag = "compliance",
    params(("tenant_id" = String, Path), ("product_id" = String, Path), DecisionParams),
    responses((status = 200, body = Decision), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decision(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    params: web::Query<DecisionParams>,
) -> ApiResult<web::Json<Decision>> {
    access.require(Permission::Read)?;
    let id: ProductId = path_id(&path.1)?;
    let place = Jurisdiction::parse(&params.jurisdiction)?;
    let at = params.at.unwrap_or_else(Utc::now);
    Ok(web::Json(
        access
            .repos(&state)
            .title_decision(&id, &place, params.channel, at)
            .await?,
    ))
}

/// Where a connection sells, for the jurisdiction rules.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelComplianceIn {
    /// The jurisdiction its sales are judged in (`GB`); null clears it.
    pub jurisdiction: Option<String>,
    /// online, phone, mail or pos; required with a jurisdiction.
    pub channel_kind: Option<ChannelKind>,
}

/// Sets where a connection sells (owner, admin, compliance officer); audited. Its offers
/// are recomputed: a title the rules forbid offering there is offered as 0.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/compliance", tag = "compliance",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)), request_body = ChannelComplianceIn,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_channel(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<ChannelComplianceIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageCompliance)?;
    let id: ConnectionId = path_id(&path.1)?;
    let setting = match (body.jurisdiction.as_deref(), body.channel_kind) {
        (None, _) => None,
        (Some(j), Some(kind)) => Some((Jurisdiction::parse(j)?, kind)),
        (Some(_), None) => {
            return Err(ValidationError {
                field: "channel_kind",
                message: "is required with a jurisdiction (online, phone, mail or pos)".into(),
            }
            .into());
        }
    };
    access
        .repos(&state)
        .set_channel_compliance(&id, setting, access.caller.user_id().as_str())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
