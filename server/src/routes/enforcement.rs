//! Enforcement records: an order's standing with the rules and its release, the evidence
//! kept per restricted sale, the refusals register and the online age-check failure log.
//! None of them holds personal data: categories, codes and ids a provider can confirm.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, LocationId, OrderId, Permission, ValidationError,
    compliance::{
        ChannelKind, OrderState,
        evidence::{
            CheckMethod, CheckResult, CheckType, DeliveryControl, RefusalReason, short_text,
        },
    },
};
use concord_storage::{
    AgeCheckFailure, AgeCheckFailureDraft, EvidenceDraft, OrderCompliance, Period, Refusal,
    RefusalDraft, SaleEvidence,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiResult, ErrorBody},
    routes::path_id,
    state::AppState,
};

/// Most records one listing returns.
const MAX_RECORDS: u64 = 1000;

/// An order's standing with the rules, with its evidence.
#[derive(Serialize, ToSchema)]
pub struct OrderComplianceOut {
    /// clear, held, released or unchecked; absent if never judged (imported before).
    pub state: Option<OrderState>,
    /// The jurisdiction it was judged in.
    pub jurisdiction: Option<String>,
    /// How it was sold.
    pub channel_kind: Option<ChannelKind>,
    /// Each SKU's judgement: title version, category, the rules' decision.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<Value>,
    /// What stands in the way of the sale.
    pub outstanding: Vec<String>,
    /// When it was judged.
    pub judged_at: Option<DateTime<Utc>>,
    /// Who released it.
    pub released_by: Option<String>,
    /// When.
    pub released_at: Option<DateTime<Utc>>,
    /// Why.
    pub release_reason: Option<String>,
    /// The evidence recorded for it.
    pub evidence: Vec<EvidenceOut>,
}

impl OrderComplianceOut {
    fn new(c: Option<OrderCompliance>, evidence: Vec<SaleEvidence>) -> Self {
        let evidence = evidence.into_iter().map(Into::into).collect();
        match c {
            None => Self {
                state: None,
                jurisdiction: None,
                channel_kind: None,
                lines: Vec::new(),
                outstanding: Vec::new(),
                judged_at: None,
                released_by: None,
                released_at: None,
                release_reason: None,
                evidence,
            },
            Some(c) => Self {
                state: Some(c.state),
                jurisdiction: c.jurisdiction,
                channel_kind: c.channel_kind,
                lines: c
                    .lines
                    .iter()
                    .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
                    .collect(),
                outstanding: c.outstanding,
                judged_at: Some(c.judged_at),
                released_by: c.released_by,
                released_at: c.released_at,
                release_reason: c.release_reason,
                evidence,
            },
        }
    }
}

/// An order's standing with the rules and the evidence recorded for it.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/orders/{order_id}/compliance", tag = "compliance",
    params(("tenant_id" = String, Path), ("order_id" = String, Path)),
    responses((status = 200, body = OrderComplianceOut), (status = 404, body = ErrorBody)))]
pub async fn order_compliance(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<OrderComplianceOut>> {
    access.require(Permission::Read)?;
    let id: OrderId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let standing = repos.order_compliance(&id).await?;
    let evidence = repos.evidence_of(&id).await?;
    Ok(web::Json(OrderComplianceOut::new(standing, evidence)))
}

/// Why a held order is released.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseIn {
    /// The reason, kept in the audit log.
    pub reason: String,
}

/// Releases an order the rules held (owner, admin, compliance officer): an audited
/// override. Refused with 409 when the order is not held for compliance.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/orders/{order_id}/release", tag = "compliance",
    params(("tenant_id" = String, Path), ("order_id" = String, Path)), request_body = ReleaseIn,
    responses((status = 200, body = OrderComplianceOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn release(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<ReleaseIn>,
) -> ApiResult<web::Json<OrderComplianceOut>> {
    access.require(Permission::ManageCompliance)?;
    let id: OrderId = path_id(&path.1)?;
    let reason = short_text("reason", &body.reason, 500)?;
    let repos = access.repos(&state);
    let released = repos
        .release_order(&id, &reason, access.caller.user_id().as_str())
        .await?;
    let evidence = repos.evidence_of(&id).await?;
    Ok(web::Json(OrderComplianceOut::new(Some(released), evidence)))
}

/// Evidence for a sale. No field holds a birth date, a document number or an image.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceIn {
    /// How age was checked.
    pub check_type: CheckType,
    /// The document category (passport, driving_licence, pass_card) or provider method.
    pub method: Option<CheckMethod>,
    /// pass, fail, refused or abandoned.
    pub result: CheckResult,
    /// A staff user id, or the provider and its transaction/session id.
    pub verifier: String,
    /// When (UTC).
    pub checked_at: DateTime<Utc>,
    /// The clock the time came from (`pos`, `provider`).
    pub source_clock: Option<String>,
    /// The carrier control booked.
    pub delivery_control: Option<DeliveryControl>,
    /// The POS fiscal signature reference (TSE/NF525), if any.
    pub fiscal_ref: Option<String>,
}

/// One evidence record.
#[derive(Serialize, ToSchema)]
pub struct EvidenceOut {
    /// `sev_…`
    pub id: String,
    /// The order.
    #[schema(value_type = String)]
    pub order_id: OrderId,
    /// Channel, order and line ids, fiscal reference.
    #[schema(value_type = Object)]
    pub sale_ref: Value,
    /// Jurisdiction and rule versions applied.
    #[schema(value_type = Object)]
    pub jurisdiction_basis: Value,
    /// Titles with their classification snapshot.
    #[schema(value_type = Vec<Object>)]
    pub titles: Value,
    /// How age was checked.
    pub check_type: CheckType,
    /// The category or method.
    pub method: Option<CheckMethod>,
    /// The result.
    pub result: CheckResult,
    /// Who checked.
    pub verifier: String,
    /// When.
    pub checked_at: DateTime<Utc>,
    /// The clock.
    pub source_clock: Option<String>,
    /// The carrier control.
    pub delivery_control: Option<DeliveryControl>,
    /// The fiscal reference.
    pub fiscal_ref: Option<String>,
    /// SHA-256 of the record, also in the audit chain.
    pub sha256: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

impl From<SaleEvidence> for EvidenceOut {
    fn from(e: SaleEvidence) -> Self {
        Self {
            id: e.id,
            order_id: e.order_id,
            sale_ref: e.sale_ref,
            jurisdiction_basis: e.jurisdiction_basis,
            titles: e.titles,
            check_type: e.check_type,
            method: e.method,
            result: e.result,
            verifier: e.verifier,
            checked_at: e.checked_at,
            source_clock: e.source_clock,
            delivery_control: e.delivery_control,
            fiscal_ref: e.fiscal_ref,
            sha256: e.hash,
            recorded_by: e.recorded_by,
            recorded_at: e.recorded_at,
        }
    }
}

/// Records the age check (and carrier control) for a sale (owner, admin, staff). A hold
/// waiting only for these checks ends; a failed online check enters the failure log.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/orders/{order_id}/evidence", tag = "compliance",
    params(("tenant_id" = String, Path), ("order_id" = String, Path)), request_body = EvidenceIn,
    responses((status = 201, body = EvidenceOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn record_evidence(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<EvidenceIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let id: OrderId = path_id(&path.1)?;
    let b = body.into_inner();
    let draft = EvidenceDraft {
        check_type: b.check_type,
        method: b.method,
        result: b.result,
        verifier: short_text("verifier", &b.verifier, 200)?,
        checked_at: b.checked_at,
        source_clock: b
            .source_clock
            .map(|s| short_text("source_clock", &s, 60))
            .transpose()?,
        delivery_control: b
            .delivery_control
            .map(DeliveryControl::validated)
            .transpose()?,
        fiscal_ref: b
            .fiscal_ref
            .map(|s| short_text("fiscal_ref", &s, 200))
            .transpose()?,
    };
    let recorded = access
        .repos(&state)
        .record_sale_evidence(&id, draft, access.caller.user_id().as_str())
        .await?;
    Ok(HttpResponse::Created().json(EvidenceOut::from(recorded)))
}

/// A period of records.
#[derive(Deserialize, IntoParams)]
pub struct PeriodParams {
    /// From (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Until (RFC 3339), exclusive.
    pub to: Option<DateTime<Utc>>,
    /// At most this many records, 1–1000 (default 1000).
    pub limit: Option<u64>,
}

impl PeriodParams {
    fn period(&self) -> Period {
        Period {
            from: self.from,
            to: self.to,
        }
    }

    fn limit(&self) -> u64 {
        self.limit.unwrap_or(MAX_RECORDS).clamp(1, MAX_RECORDS)
    }
}

/// Evidence recorded in a period, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/compliance/evidence", tag = "compliance",
    params(("tenant_id" = String, Path), PeriodParams),
    responses((status = 200, body = Vec<EvidenceOut>), (status = 404, body = ErrorBody)))]
pub async fn list_evidence(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<PeriodParams>,
) -> ApiResult<web::Json<Vec<EvidenceOut>>> {
    access.require(Permission::Read)?;
    let found = access
        .repos(&state)
        .sale_evidence(params.period(), params.limit())
        .await?;
    Ok(web::Json(found.into_iter().map(Into::into).collect()))
}

/// An in-store refusal, with no customer identity.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusalIn {
    /// When (now when absent).
    pub at: Option<DateTime<Utc>>,
    /// no_id, under_age, suspected_proxy, …
    pub reason: RefusalReason,
    /// The store.
    pub location_id: Option<String>,
    /// The POS connection.
    pub connection_id: Option<String>,
    /// The staff member who refused.
    pub verifier: Option<String>,
    /// The title's category (`BBFC R18`).
    pub title_category: String,
}

/// A refusals-register entry.
#[derive(Serialize, ToSchema)]
pub struct RefusalOut {
    /// `ref_…`
    pub id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// in_store, order_blocked or listing_withheld.
    pub kind: String,
    /// Why.
    pub reason: String,
    /// The store.
    pub location_id: Option<String>,
    /// The channel.
    pub connection_id: Option<String>,
    /// The staff member or provider.
    pub verifier: Option<String>,
    /// The title's category.
    pub title_category: String,
    /// The blocked order.
    pub order_id: Option<String>,
    /// The withheld SKU.
    pub sku_id: Option<String>,
    /// Rules, jurisdiction and fields involved.
    #[schema(value_type = Object)]
    pub detail: Value,
    /// Who recorded it.
    pub recorded_by: String,
}

impl From<Refusal> for RefusalOut {
    fn from(r: Refusal) -> Self {
        Self {
            id: r.id,
            at: r.at,
            kind: r.kind,
            reason: r.reason,
            location_id: r.location_id,
            connection_id: r.connection_id,
            verifier: r.verifier,
            title_category: r.title_category,
            order_id: r.order_id,
            sku_id: r.sku_id,
            detail: r.detail,
            recorded_by: r.recorded_by,
        }
    }
}

/// Enters an in-store refusal in the register (owner, admin, staff).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/compliance/refusals", tag = "compliance",
    params(("tenant_id" = String, Path)), request_body = RefusalIn,
    responses((status = 201, body = RefusalOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_refusal(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<RefusalIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let b = body.into_inner();
    let repos = access.repos(&state);
    let location_id = match b.location_id.as_deref() {
        Some(raw) => Some(known_location(&repos, raw).await?),
        None => None,
    };
    let connection_id = match b.connection_id.as_deref() {
        Some(raw) => Some(known_connection(&repos, raw).await?),
        None => None,
    };
    let draft = RefusalDraft {
        at: b.at.unwrap_or_else(Utc::now),
        reason: b.reason,
        location_id,
        connection_id,
        verifier: b
            .verifier
            .map(|v| short_text("verifier", &v, 200))
            .transpose()?,
        title_category: short_text("title_category", &b.title_category, 120)?,
    };
    let created = repos
        .record_refusal(draft, access.caller.user_id().as_str())
        .await?;
    Ok(HttpResponse::Created().json(RefusalOut::from(created)))
}

/// The refusals register: in-store refusals, orders a destination's rule blocked, offers
/// withheld from a channel. Oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/compliance/refusals", tag = "compliance",
    params(("tenant_id" = String, Path), PeriodParams),
    responses((status = 200, body = Vec<RefusalOut>), (status = 404, body = ErrorBody)))]
pub async fn list_refusals(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<PeriodParams>,
) -> ApiResult<web::Json<Vec<RefusalOut>>> {
    access.require(Permission::Read)?;
    let found = access
        .repos(&state)
        .refusals(params.period(), params.limit())
        .await?;
    Ok(web::Json(found.into_iter().map(Into::into).collect()))
}

/// An online age-check failure, with no customer identity.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgeCheckFailureIn {
    /// When (now when absent).
    pub at: Option<DateTime<Utc>>,
    /// The storefront connection.
    pub connection_id: Option<String>,
    /// The AV provider.
    pub provider: String,
    /// Its method.
    pub method: Option<CheckMethod>,
    /// fail, refused or abandoned.
    pub result: CheckResult,
    /// The title's category.
    pub title_category: String,
}

/// An age-check failure log entry.
#[derive(Serialize, ToSchema)]
pub struct AgeCheckFailureOut {
    /// `avf_…`
    pub id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The channel.
    pub connection_id: Option<String>,
    /// The provider.
    pub provider: String,
    /// Its method.
    pub method: Option<CheckMethod>,
    /// The result.
    pub result: CheckResult,
    /// The title's category.
    pub title_category: String,
    /// The order, if one was placed.
    pub order_id: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
}

impl From<AgeCheckFailure> for AgeCheckFailureOut {
    fn from(f: AgeCheckFailure) -> Self {
        Self {
            id: f.id,
            at: f.at,
            connection_id: f.connection_id,
            provider: f.provider,
            method: f.method,
            result: f.result,
            title_category: f.title_category,
            order_id: f.order_id,
            recorded_by: f.recorded_by,
        }
    }
}

/// Logs an online age-check failure (owner, admin, staff; or an AV provider's callback
/// through an API token).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/compliance/age-check-failures", tag = "compliance",
    params(("tenant_id" = String, Path)), request_body = AgeCheckFailureIn,
    responses((status = 201, body = AgeCheckFailureOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn record_age_check_failure(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<AgeCheckFailureIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let b = body.into_inner();
    let repos = access.repos(&state);
    let connection_id = match b.connection_id.as_deref() {
        Some(raw) => Some(known_connection(&repos, raw).await?),
        None => None,
    };
    let draft = AgeCheckFailureDraft {
        at: b.at.unwrap_or_else(Utc::now),
        connection_id,
        provider: short_text("provider", &b.provider, 200)?,
        method: b.method,
        result: b.result,
        title_category: short_text("title_category", &b.title_category, 120)?,
        order_id: None,
    };
    let created = repos
        .record_age_check_failure(draft, access.caller.user_id().as_str())
        .await?;
    Ok(HttpResponse::Created().json(AgeCheckFailureOut::from(created)))
}

/// The online age-check failure log, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/compliance/age-check-failures", tag = "compliance",
    params(("tenant_id" = String, Path), PeriodParams),
    responses((status = 200, body = Vec<AgeCheckFailureOut>), (status = 404, body = ErrorBody)))]
pub async fn list_age_check_failures(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<PeriodParams>,
) -> ApiResult<web::Json<Vec<AgeCheckFailureOut>>> {
    access.require(Permission::Read)?;
    let found = access
        .repos(&state)
        .age_check_failures(params.period(), params.limit())
        .await?;
    Ok(web::Json(found.into_iter().map(Into::into).collect()))
}

async fn known_location(repos: &concord_storage::Scoped<'_>, raw: &str) -> ApiResult<LocationId> {
    let unknown = || ValidationError {
        field: "location_id",
        message: "names no location of this organization".into(),
    };
    let id = LocationId::parse(raw).map_err(|_| unknown())?;
    if !repos.locations().await?.iter().any(|l| l.id == id) {
        return Err(unknown().into());
    }
    Ok(id)
}

async fn known_connection(
    repos: &concord_storage::Scoped<'_>,
    raw: &str,
) -> ApiResult<ConnectionId> {
    let unknown = || ValidationError {
        field: "connection_id",
        message: "names no connection of this organization".into(),
    };
    let id = ConnectionId::parse(raw).map_err(|_| unknown())?;
    if !repos.connections().await?.iter().any(|c| c.id == id) {
        return Err(unknown().into());
    }
    Ok(id)
}
