//! Listing-time enforcement: a channel never offers a title its jurisdiction's rules forbid
//! offering there (UK R18 online: the offer itself is the offence). The offer is computed as
//! 0, so the push writes 0, and each title withheld from a channel that would otherwise have
//! offered it is entered in the refusals register.
//!
//! Kits are judged by their own product's record: a box set is certified as one work.

use std::collections::HashMap;

use concord_domain::compliance::{
    evidence::RefusalReason,
    rules::{Decision, judge},
    title::version_at,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;

use super::{load_rules, titles::versions_of};
use crate::{
    Connection, Scoped, decode,
    entity::{refusal, sku},
    error::Result,
    now,
};

/// Why an offer is withheld: the decision, and the title's category for the register.
pub(crate) type Withheld = (Decision, String);

/// Offers the rules forbid now, keyed by (SKU id, connection id).
pub(crate) async fn forbidden_offers(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    connections: &[Connection],
    skus: &[sku::Model],
) -> Result<HashMap<(String, String), Withheld>> {
    let mut out = HashMap::new();
    let judged: Vec<&Connection> = connections
        .iter()
        .filter(|c| c.compliance.is_some())
        .collect();
    if judged.is_empty() || skus.is_empty() {
        return Ok(out);
    }
    let rules = load_rules(scoped, db).await?;
    let mut products: Vec<_> = skus
        .iter()
        .map(|s| decode::id(&s.product_id))
        .collect::<Result<_>>()?;
    products.sort();
    products.dedup();
    let versions = versions_of(scoped, db, &products).await?;
    let at = now();
    for s in skus {
        let title = versions.get(&s.product_id).and_then(|v| version_at(v, at));
        for c in &judged {
            let Some(place) = &c.compliance else { continue };
            let decision = judge(title, &rules, &place.jurisdiction, place.kind, at);
            if !decision.listable {
                let category =
                    title.map_or_else(|| "no compliance record".into(), |t| t.fields.category());
                out.insert((s.id.clone(), c.id.to_string()), (decision, category));
            }
        }
    }
    Ok(out)
}

/// Enters withheld offers in the refusals register: (SKU, connection, decision) each.
pub(crate) async fn register_withheld(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    withheld: Vec<(&sku::Model, &Connection, &Withheld)>,
) -> Result<()> {
    let at = now();
    let rows: Vec<refusal::ActiveModel> = withheld
        .into_iter()
        .map(|(s, c, (d, category))| refusal::ActiveModel {
            id: Set(format!("ref_{}", uuid::Uuid::now_v7().simple())),
            tenant_id: Set(scoped.tenant_id().to_string()),
            at: Set(at),
            kind: Set("listing_withheld".into()),
            reason: Set(RefusalReason::ListingForbidden.as_str().into()),
            location_id: Set(None),
            connection_id: Set(Some(c.id.to_string())),
            verifier: Set(None),
            title_category: Set(category.clone()),
            order_id: Set(None),
            sku_id: Set(Some(s.id.clone())),
            detail: Set(json!({
                "sku": s.code,
                "jurisdiction": c.compliance.as_ref().map(|x| x.jurisdiction.to_string()),
                "channel_kind": c.compliance.as_ref().map(|x| x.kind),
                "rules": d.reasons.iter().map(|r| format!("{}#{}", r.code, r.version)).collect::<Vec<_>>(),
                "missing_fields": d.missing_fields,
            })
            .to_string()),
            recorded_by: Set("system".into()),
        })
        .collect();
    for chunk in rows.chunks(200) {
        refusal::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
