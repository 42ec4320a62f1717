//! Listings: a connection's items (variants, catalog objects) as the platform lists them,
//! matched to Concord's SKUs by SKU code, then barcode, or by hand. A listing is how an
//! inbound item id becomes a SKU and how a push finds the item to write. Polling cursors
//! (per connection and feed) live here too.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use concord_domain::{ConnectionId, SkuId};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{CaseStatement, Expr, OnConflict},
};

use crate::{
    Scoped, decode,
    entity::{availability, connection_location, listing, sku, sync_cursor},
    error::{Result, StorageError},
    now,
};

/// An item as the platform lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteListing {
    /// The platform's id for the sellable item (variant, catalog object, product).
    pub external_item_id: String,
    /// The product it belongs to, where the platform has one.
    pub external_parent_id: Option<String>,
    /// The SKU code on the platform.
    pub sku_code: Option<String>,
    /// The barcode on the platform.
    pub barcode: Option<String>,
    /// The title on the platform.
    pub title: Option<String>,
}

/// A stored listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// Its id.
    pub id: i64,
    /// As the platform lists it.
    pub remote: RemoteListing,
    /// The SKU it is matched to.
    pub sku_id: Option<SkuId>,
    /// How: `sku`, `barcode` or `manual`.
    pub matched_by: Option<String>,
    /// When the platform last listed it.
    pub seen_at: DateTime<Utc>,
}

/// What matching found, reported before anything is written to the platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchReport {
    /// Listings matched now by SKU code.
    pub by_sku: usize,
    /// Listings matched now by barcode.
    pub by_barcode: usize,
    /// Listings already matched earlier.
    pub already: usize,
    /// Listings no SKU matches.
    pub unmatched: Vec<Listing>,
    /// SKU codes (or barcodes) that several listings of the connection carry; none of
    /// those listings is matched automatically.
    pub collisions: Vec<(String, Vec<String>)>,
}

/// Listings upserted per statement.
const CHUNK: usize = 500;

impl Scoped<'_> {
    /// Records the connection's listings as the platform shows them now, keeping earlier
    /// matches.
    pub async fn record_listings(
        &self,
        connection_id: &ConnectionId,
        items: Vec<RemoteListing>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let seen_at = now();
        let rows: Vec<listing::ActiveModel> = items
            .into_iter()
            .map(|item| listing::ActiveModel {
                tenant_id: Set(self.tenant_id().to_string()),
                connection_id: Set(connection_id.to_string()),
                external_item_id: Set(item.external_item_id),
                external_parent_id: Set(item.external_parent_id),
                sku_code: Set(item.sku_code),
                barcode: Set(item.barcode),
                title: Set(item.title),
                sku_id: Set(None),
                matched_by: Set(None),
                seen_at: Set(seen_at),
                ..Default::default()
            })
            .collect();
        for chunk in rows.chunks(CHUNK) {
            listing::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        listing::Column::ConnectionId,
                        listing::Column::ExternalItemId,
                    ])
                    .update_columns([
                        listing::Column::ExternalParentId,
                        listing::Column::SkuCode,
                        listing::Column::Barcode,
                        listing::Column::Title,
                        listing::Column::SeenAt,
                    ])
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Matches the connection's unmatched listings: by SKU code, then by barcode. A code
    /// carried by several listings is a collision and matches none of them.
    pub async fn match_listings(&self, connection_id: &ConnectionId) -> Result<MatchReport> {
        let txn = self.begin_write().await?;
        let listings = self
            .select::<listing::Entity>()
            .filter(listing::Column::ConnectionId.eq(connection_id.as_str()))
            .order_by_asc(listing::Column::Id)
            .all(&txn)
            .await?;
        let skus = self.select::<sku::Entity>().all(&txn).await?;
        let by_code: HashMap<&str, &str> = skus
            .iter()
            .map(|s| (s.code.as_str(), s.id.as_str()))
            .collect();
        let by_barcode: HashMap<&str, &str> = skus
            .iter()
            .filter_map(|s| Some((s.barcode.as_deref()?, s.id.as_str())))
            .collect();
        let mut report = MatchReport::default();
        let mut carriers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for l in &listings {
            if let Some(code) = &l.sku_code {
                carriers
                    .entry(format!("sku {code}"))
                    .or_default()
                    .push(l.external_item_id.clone());
            }
            if let Some(barcode) = &l.barcode {
                carriers
                    .entry(format!("barcode {barcode}"))
                    .or_default()
                    .push(l.external_item_id.clone());
            }
        }
        let shared = |key: String| carriers.get(&key).is_some_and(|v| v.len() > 1);
        let mut matches: Vec<(i64, &str, &str)> = Vec::new();
        for l in &listings {
            if l.sku_id.is_some() {
                report.already += 1;
                continue;
            }
            let by_sku = l
                .sku_code
                .as_deref()
                .filter(|code| !shared(format!("sku {code}")))
                .and_then(|code| by_code.get(code));
            let by_bar = l
                .barcode
                .as_deref()
                .filter(|b| !shared(format!("barcode {b}")))
                .and_then(|b| by_barcode.get(b));
            let (sku_id, how) = match (by_sku, by_bar) {
                (Some(id), _) => (*id, "sku"),
                (None, Some(id)) => (*id, "barcode"),
                (None, None) => {
                    report.unmatched.push(to_listing(l.clone())?);
                    continue;
                }
            };
            if how == "sku" {
                report.by_sku += 1;
            } else {
                report.by_barcode += 1;
            }
            matches.push((l.id, sku_id, how));
        }
        // A few statements for a whole catalog, not one per listing.
        for how in ["sku", "barcode"] {
            let found: Vec<(i64, &str)> = matches
                .iter()
                .filter(|m| m.2 == how)
                .map(|m| (m.0, m.1))
                .collect();
            for chunk in found.chunks(CHUNK) {
                let sku_of = chunk
                    .iter()
                    .fold(CaseStatement::new(), |case, (id, sku_id)| {
                        case.case(listing::Column::Id.eq(*id), Expr::val(*sku_id))
                    });
                listing::Entity::update_many()
                    .col_expr(listing::Column::SkuId, sku_of.into())
                    .col_expr(listing::Column::MatchedBy, Expr::value(how))
                    .filter(listing::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
                    .exec(&txn)
                    .await?;
            }
        }
        report.collisions = carriers.into_iter().filter(|(_, v)| v.len() > 1).collect();
        // Offers of newly matched SKUs are written on the next push pass.
        let matched: Vec<String> = self
            .select::<listing::Entity>()
            .filter(listing::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(listing::Column::SkuId.is_not_null())
            .all(&txn)
            .await?
            .into_iter()
            .filter_map(|l| l.sku_id)
            .collect();
        for chunk in matched.chunks(CHUNK) {
            availability::Entity::update_many()
                .col_expr(availability::Column::PushDue, Expr::value(true))
                .filter(availability::Column::TenantId.eq(self.tenant_id().as_str()))
                .filter(availability::Column::ConnectionId.eq(connection_id.as_str()))
                .filter(availability::Column::SkuId.is_in(chunk.iter().map(String::as_str)))
                .filter(availability::Column::Pushed.is_null())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(report)
    }

    /// The connection's listings, unmatched ones only if asked.
    pub async fn listings(
        &self,
        connection_id: &ConnectionId,
        unmatched_only: bool,
    ) -> Result<Vec<Listing>> {
        let txn = self.begin().await?;
        let mut query = self
            .select::<listing::Entity>()
            .filter(listing::Column::ConnectionId.eq(connection_id.as_str()));
        if unmatched_only {
            query = query.filter(listing::Column::SkuId.is_null());
        }
        let rows = query.order_by_asc(listing::Column::Id).all(&txn).await?;
        rows.into_iter().map(to_listing).collect()
    }

    /// Matches a listing to a SKU by hand.
    pub async fn map_listing(
        &self,
        connection_id: &ConnectionId,
        listing_id: i64,
        sku_id: &SkuId,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        self.select::<sku::Entity>()
            .filter(sku::Column::Id.eq(sku_id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound)?;
        let done = listing::Entity::update_many()
            .col_expr(listing::Column::SkuId, Expr::value(sku_id.as_str()))
            .col_expr(listing::Column::MatchedBy, Expr::value("manual"))
            .filter(listing::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(listing::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(listing::Column::Id.eq(listing_id))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(StorageError::NotFound);
        }
        // The newly mapped item gets the offer written, whatever was written before.
        availability::Entity::update_many()
            .col_expr(availability::Column::PushDue, Expr::value(true))
            .col_expr(
                availability::Column::Reported,
                Expr::value(Option::<i64>::None),
            )
            .filter(availability::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(availability::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(availability::Column::SkuId.eq(sku_id.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The SKU codes of the matched listings among `external_item_ids`.
    pub async fn sku_codes_of_items(
        &self,
        connection_id: &ConnectionId,
        external_item_ids: &[String],
    ) -> Result<HashMap<String, String>> {
        if external_item_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let txn = self.begin().await?;
        let rows = self
            .select::<listing::Entity>()
            .filter(listing::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(
                listing::Column::ExternalItemId.is_in(external_item_ids.iter().map(String::as_str)),
            )
            .filter(listing::Column::SkuId.is_not_null())
            .all(&txn)
            .await?;
        let sku_ids: Vec<String> = rows.iter().filter_map(|r| r.sku_id.clone()).collect();
        let codes: HashMap<String, String> = self
            .select::<sku::Entity>()
            .filter(sku::Column::Id.is_in(sku_ids.iter().map(String::as_str)))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| (s.id, s.code))
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let code = codes.get(r.sku_id.as_deref()?)?.clone();
                Some((r.external_item_id, code))
            })
            .collect())
    }
}

fn to_listing(r: listing::Model) -> Result<Listing> {
    Ok(Listing {
        id: r.id,
        remote: RemoteListing {
            external_item_id: r.external_item_id,
            external_parent_id: r.external_parent_id,
            sku_code: r.sku_code,
            barcode: r.barcode,
            title: r.title,
        },
        sku_id: r.sku_id.as_deref().map(decode::id).transpose()?,
        matched_by: r.matched_by,
        seen_at: r.seen_at,
    })
}

impl Scoped<'_> {
    /// A connection's polling cursor called `name` (e.g. `orders`), if set.
    pub async fn cursor(&self, connection_id: &ConnectionId, name: &str) -> Result<Option<String>> {
        let txn = self.begin().await?;
        Ok(self
            .select::<sync_cursor::Entity>()
            .filter(sync_cursor::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(sync_cursor::Column::Name.eq(name))
            .one(&txn)
            .await?
            .map(|c| c.value))
    }

    /// Moves a connection's polling cursor, after what it covers has been stored.
    pub async fn set_cursor(
        &self,
        connection_id: &ConnectionId,
        name: &str,
        value: String,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        sync_cursor::Entity::insert(sync_cursor::ActiveModel {
            connection_id: Set(connection_id.to_string()),
            name: Set(name.to_owned()),
            tenant_id: Set(self.tenant_id().to_string()),
            value: Set(value),
            updated_at: Set(now()),
        })
        .on_conflict(
            OnConflict::columns([sync_cursor::Column::ConnectionId, sync_cursor::Column::Name])
                .update_columns([sync_cursor::Column::Value, sync_cursor::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

impl Scoped<'_> {
    /// Maps the platform's location `external_id` to the connection's first sourcing
    /// location, where none is mapped yet: the location its offer is written to and its
    /// sales are taken from.
    pub async fn map_platform_location(
        &self,
        connection_id: &ConnectionId,
        external_id: &str,
    ) -> Result<bool> {
        let txn = self.begin_write().await?;
        let links = self
            .select::<connection_location::Entity>()
            .filter(connection_location::Column::ConnectionId.eq(connection_id.as_str()))
            .order_by_asc(connection_location::Column::LocationId)
            .all(&txn)
            .await?;
        let Some(first) = links.first() else {
            return Ok(false);
        };
        if links.iter().any(|l| l.external_location_id.is_some()) {
            return Ok(false);
        }
        connection_location::Entity::update_many()
            .col_expr(
                connection_location::Column::ExternalLocationId,
                Expr::value(external_id),
            )
            .filter(connection_location::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection_location::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(connection_location::Column::LocationId.eq(first.location_id.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(true)
    }
}

impl Scoped<'_> {
    /// Maps one of the connection's sourcing locations to a platform location (`None`
    /// unmaps it).
    pub async fn map_location(
        &self,
        connection_id: &ConnectionId,
        location_id: &concord_domain::LocationId,
        external_id: Option<String>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let done = connection_location::Entity::update_many()
            .col_expr(
                connection_location::Column::ExternalLocationId,
                Expr::value(external_id),
            )
            .filter(connection_location::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection_location::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(connection_location::Column::LocationId.eq(location_id.as_str()))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(StorageError::NotFound);
        }
        txn.commit().await?;
        Ok(())
    }

    /// The connection's sourcing locations with the platform location each is mapped to.
    pub async fn location_map(
        &self,
        connection_id: &ConnectionId,
    ) -> Result<Vec<(concord_domain::LocationId, Option<String>)>> {
        let txn = self.begin().await?;
        let links = self
            .select::<connection_location::Entity>()
            .filter(connection_location::Column::ConnectionId.eq(connection_id.as_str()))
            .order_by_asc(connection_location::Column::LocationId)
            .all(&txn)
            .await?;
        links
            .into_iter()
            .map(|l| Ok((decode::id(&l.location_id)?, l.external_location_id)))
            .collect()
    }
}
