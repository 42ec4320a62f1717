//! Bulk catalog and stock files: imports that stream row by row, report errors per line and
//! apply nothing unless every row is good (or the caller asks for a partial import), and
//! the paged reads exports are written from.

use std::collections::HashMap;

use concord_domain::{
    Barcode, LocationId, SkuId,
    catalog::SkuCode,
    ledger::{MovementReason, StockLevel},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, sea_query::Expr,
};

use crate::{
    Change, KitComponent, Movement, NewMovement, Product, ProductDraft, Scoped, Sku, SkuDraft,
    catalog::{insert_product, insert_sku, refresh_search_text, to_product, to_sku},
    decode,
    entity::{kit_component, location, product, sku, stock_level, stock_movement},
    error::{Result, StorageError},
    ledger::{self, to_movement},
};

/// Stock rows recorded per ledger write during an import.
const STOCK_CHUNK: usize = 500;
/// Rows between planner-statistics refreshes during a PostgreSQL import: a bulk load
/// outgrows the statistics the query plans were made with.
const ANALYZE_EVERY: u64 = 10_000;
/// Row errors kept in a report (the count covers all of them).
const MAX_REPORTED_ERRORS: usize = 1000;

/// One line of a catalog file, already parsed.
#[derive(Debug, Clone)]
pub struct CatalogRow {
    /// The SKU code (the key: an existing SKU is updated).
    pub sku: SkuCode,
    /// Its barcode.
    pub barcode: Option<Barcode>,
    /// The title it is an edition of (matched by title and format).
    pub product: ProductDraft,
    /// Kit components by SKU code, defined earlier in the file or already in the catalog.
    pub components: Vec<(SkuCode, i64)>,
}

/// One line of a stock-count file, already parsed.
#[derive(Debug, Clone)]
pub struct StockRow {
    /// The SKU code.
    pub sku: String,
    /// The location, by name or id.
    pub location: String,
    /// The counted on-hand figure.
    pub quantity: i64,
}

/// A line that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The 1-based line number in the file.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// Rows applied.
    pub applied: u64,
    /// Rows refused (all of them, even past the ones listed).
    pub error_count: u64,
    /// The first refused rows, with reasons.
    pub errors: Vec<RowError>,
    /// Whether anything was written: false when a row failed and partial import was off.
    pub committed: bool,
}

impl ImportReport {
    fn refuse(&mut self, line: u64, message: String) {
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError { line, message });
        }
    }
}

/// A catalog entry for export: a SKU with its product and component codes.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    /// The SKU.
    pub sku: Sku,
    /// Its product.
    pub product: Product,
    /// Components as (code, units per kit).
    pub component_codes: Vec<(String, i64)>,
}

/// A stock level for export.
#[derive(Debug, Clone)]
pub struct StockEntry {
    /// SKU code.
    pub sku: String,
    /// Location name.
    pub location: String,
    /// The figures.
    pub level: StockLevel,
}

/// A ledger entry for export.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    /// The movement.
    pub movement: Movement,
    /// Its SKU's code.
    pub sku: String,
    /// Its location's name.
    pub location: String,
}

impl Scoped<'_> {
    /// Imports catalog rows: new SKU codes are added (under the product with the same title
    /// and format, created if missing), existing ones get the row's product fields and
    /// barcode. `rows` yields parsed rows or per-line parse errors, with line numbers.
    pub async fn import_catalog(
        &self,
        rows: impl Iterator<Item = (u64, std::result::Result<CatalogRow, String>)>,
        partial: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport> {
        let txn = self.begin_write().await?;
        let mut report = ImportReport::default();
        let mut kits = Vec::new();
        // Kits wait until every plain SKU of the file exists, so components may come later.
        let mut deferred = Vec::new();
        for (line, row) in rows {
            report.rows += 1;
            progress(report.rows);
            match row {
                Err(message) => report.refuse(line, message),
                Ok(row) if !row.components.is_empty() => deferred.push((line, row)),
                Ok(row) => kits.extend(apply_row(self, &txn, &mut report, line, row).await?),
            }
            if report.rows.is_multiple_of(ANALYZE_EVERY) {
                refresh_statistics(&txn, "skus, products").await?;
            }
        }
        for (line, row) in deferred {
            kits.extend(apply_row(self, &txn, &mut report, line, row).await?);
        }
        finish(self, txn, report, partial, kits).await
    }

    /// Imports stock counts: each row sets a SKU's on-hand figure at a location, recorded
    /// as a `count` movement (the difference) with `actor`.
    pub async fn import_stock(
        &self,
        rows: impl Iterator<Item = (u64, std::result::Result<StockRow, String>)>,
        partial: bool,
        actor: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportReport> {
        let txn = self.begin_write().await?;
        let mut report = ImportReport::default();
        let locations = self.select::<location::Entity>().all(&txn).await?;
        let mut skus: HashMap<String, Option<(SkuId, bool)>> = HashMap::new();
        let mut pending = Vec::new();
        for (line, row) in rows {
            report.rows += 1;
            progress(report.rows);
            let row = match row {
                Ok(row) => row,
                Err(message) => {
                    report.refuse(line, message);
                    continue;
                }
            };
            let Some(location) = locations
                .iter()
                .find(|l| l.name == row.location || l.id == row.location)
            else {
                report.refuse(line, format!("no location named {}", row.location));
                continue;
            };
            let sku = match skus.get(&row.sku) {
                Some(found) => found.clone(),
                None => {
                    let found = self
                        .select::<sku::Entity>()
                        .filter(sku::Column::Code.eq(row.sku.as_str()))
                        .one(&txn)
                        .await?
                        .map(|s| Ok::<_, StorageError>((decode::id(&s.id)?, s.is_kit)))
                        .transpose()?;
                    skus.insert(row.sku.clone(), found.clone());
                    found
                }
            };
            let sku_id = match sku {
                None => {
                    report.refuse(line, format!("no SKU {} in the catalog", row.sku));
                    continue;
                }
                Some((_, true)) => {
                    report.refuse(line, format!("{} is a kit; count its components", row.sku));
                    continue;
                }
                Some((id, false)) => id,
            };
            pending.push(NewMovement {
                sku_id,
                location_id: decode::id::<LocationId>(&location.id)?,
                reason: MovementReason::Count,
                change: Change::CountTo(row.quantity),
                idempotency_key: None,
                source: None,
                order_line: None,
                actor: actor.to_owned(),
                note: Some("stock count import".into()),
                occurred_at: crate::now(),
            });
            report.applied += 1;
            if pending.len() >= STOCK_CHUNK && (partial || report.error_count == 0) {
                ledger::record(self, &txn, std::mem::take(&mut pending)).await?;
            }
            if report.rows.is_multiple_of(ANALYZE_EVERY) {
                refresh_statistics(&txn, "stock_levels, stock_movements, availability").await?;
            }
        }
        if partial || report.error_count == 0 {
            ledger::record(self, &txn, pending).await?;
        }
        finish(self, txn, report, partial, Vec::new()).await
    }

    /// One page of the catalog for export, by SKU code.
    pub async fn catalog_entries(
        &self,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<CatalogEntry>> {
        let txn = self.begin().await?;
        let mut query = self
            .select::<sku::Entity>()
            .find_also_related(product::Entity)
            .order_by_asc(sku::Column::Code)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(sku::Column::Code.gt(after));
        }
        let rows = query.all(&txn).await?;
        let kit_ids: Vec<&str> = rows
            .iter()
            .filter(|(s, _)| s.is_kit)
            .map(|(s, _)| s.id.as_str())
            .collect();
        let components = self
            .select::<kit_component::Entity>()
            .filter(kit_component::Column::KitSkuId.is_in(kit_ids))
            .find_also_related(sku::Entity)
            .all(&txn)
            .await?;
        txn.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for (s, p) in rows {
            let Some(p) = p else { continue };
            let mine: Vec<_> = components
                .iter()
                .filter(|(c, _)| c.kit_sku_id == s.id)
                .collect();
            let mut component_codes: Vec<(String, i64)> = mine
                .iter()
                .filter_map(|(c, part)| part.as_ref().map(|part| (part.code.clone(), c.quantity)))
                .collect();
            component_codes.sort();
            let parts = mine
                .iter()
                .map(|(c, _)| {
                    Ok(KitComponent {
                        sku_id: decode::id(&c.component_sku_id)?,
                        quantity: c.quantity,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(CatalogEntry {
                sku: to_sku(s, parts)?,
                product: to_product(p)?,
                component_codes,
            });
        }
        Ok(out)
    }

    /// One page of stock levels for export, by SKU code then location name; `after` is the
    /// last (code, location name) of the previous page.
    pub async fn stock_entries(
        &self,
        after: Option<(&str, &str)>,
        limit: u64,
    ) -> Result<Vec<StockEntry>> {
        let txn = self.begin().await?;
        let locations = location_names(self, &txn).await?;
        let mut query = self
            .select::<sku::Entity>()
            .filter(sku::Column::IsKit.eq(false))
            .order_by_asc(sku::Column::Code)
            .limit(limit);
        if let Some((code, _)) = after {
            query = query.filter(sku::Column::Code.gte(code));
        }
        let skus = query.all(&txn).await?;
        let levels = self
            .select::<stock_level::Entity>()
            .filter(stock_level::Column::SkuId.is_in(skus.iter().map(|s| s.id.as_str())))
            .all(&txn)
            .await?;
        txn.commit().await?;
        let mut out = Vec::new();
        for s in &skus {
            let mut here: Vec<StockEntry> = levels
                .iter()
                .filter(|l| l.sku_id == s.id)
                .map(|l| StockEntry {
                    sku: s.code.clone(),
                    location: locations
                        .get(&l.location_id)
                        .cloned()
                        .unwrap_or_else(|| l.location_id.clone()),
                    level: StockLevel {
                        on_hand: l.on_hand,
                        committed: l.committed,
                    },
                })
                .collect();
            here.sort_by(|a, b| a.location.cmp(&b.location));
            out.extend(here.into_iter().filter(|e| {
                after.is_none_or(|(code, loc)| (e.sku.as_str(), e.location.as_str()) > (code, loc))
            }));
        }
        Ok(out)
    }

    /// One page of the whole ledger for export, in sequence order after `after`.
    pub async fn ledger_entries(&self, after: Option<i64>, limit: u64) -> Result<Vec<LedgerEntry>> {
        let txn = self.begin().await?;
        let locations = location_names(self, &txn).await?;
        let mut query = self
            .select::<stock_movement::Entity>()
            .order_by_asc(stock_movement::Column::Id)
            .limit(limit);
        if let Some(after) = after {
            query = query.filter(stock_movement::Column::Id.gt(after));
        }
        let rows = query.all(&txn).await?;
        let codes: HashMap<String, String> = self
            .select::<sku::Entity>()
            .filter(sku::Column::Id.is_in(rows.iter().map(|m| m.sku_id.as_str())))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| (s.id, s.code))
            .collect();
        txn.commit().await?;
        rows.into_iter()
            .map(|m| {
                let sku = codes
                    .get(&m.sku_id)
                    .cloned()
                    .unwrap_or_else(|| m.sku_id.clone());
                let location = locations
                    .get(&m.location_id)
                    .cloned()
                    .unwrap_or_else(|| m.location_id.clone());
                Ok(LedgerEntry {
                    movement: to_movement(m)?,
                    sku,
                    location,
                })
            })
            .collect()
    }
}

/// Applies one catalog row under a savepoint, so a refused row leaves no trace; returns the
/// id of a new kit.
async fn apply_row(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
    report: &mut ImportReport,
    line: u64,
    row: CatalogRow,
) -> Result<Option<SkuId>> {
    let savepoint = txn.begin().await?;
    match upsert_catalog_row(scoped, &savepoint, row).await {
        Ok(kit) => {
            savepoint.commit().await?;
            report.applied += 1;
            Ok(kit)
        }
        Err(StorageError::Conflict(message)) => {
            savepoint.rollback().await?;
            report.refuse(line, message);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// Refreshes PostgreSQL's statistics for `tables` mid-import (a no-op on SQLite, whose
/// planner does not depend on them this way).
async fn refresh_statistics(txn: &DatabaseTransaction, tables: &str) -> Result<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared(&format!("ANALYZE {tables}")).await?;
    }
    Ok(())
}

/// Location names by id, for exports that show names.
async fn location_names(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
) -> Result<HashMap<String, String>> {
    Ok(scoped
        .select::<location::Entity>()
        .all(txn)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect())
}

/// Commits when every row was good or partial import was asked for; otherwise rolls back.
async fn finish(
    scoped: &Scoped<'_>,
    txn: DatabaseTransaction,
    mut report: ImportReport,
    partial: bool,
    kits: Vec<SkuId>,
) -> Result<ImportReport> {
    if report.error_count > 0 && !partial {
        txn.rollback().await?;
        report.applied = 0;
        return Ok(report);
    }
    for chunk in kits.chunks(STOCK_CHUNK) {
        ledger::recompute_availability(scoped, &txn, chunk).await?;
    }
    txn.commit().await?;
    report.committed = true;
    Ok(report)
}

/// Adds or updates one catalog row; returns the SKU id when it is a new kit (whose offer
/// must be computed).
async fn upsert_catalog_row(
    scoped: &Scoped<'_>,
    db: &DatabaseTransaction,
    row: CatalogRow,
) -> Result<Option<SkuId>> {
    let existing = scoped
        .select::<sku::Entity>()
        .filter(sku::Column::Code.eq(row.sku.as_str()))
        .one(db)
        .await?;
    if let Some(found) = existing {
        let classifications = serde_json::to_string(&row.product.classifications)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        product::Entity::update_many()
            .col_expr(
                product::Column::Title,
                Expr::value(row.product.title.clone()),
            )
            .col_expr(
                product::Column::Format,
                Expr::value(row.product.format.as_str()),
            )
            .col_expr(
                product::Column::Studio,
                Expr::value(row.product.studio.clone()),
            )
            .col_expr(
                product::Column::ReleaseDate,
                Expr::value(row.product.release_date),
            )
            .col_expr(product::Column::Explicit, Expr::value(row.product.explicit))
            .col_expr(
                product::Column::Us2257StatementPresent,
                Expr::value(row.product.us_2257_statement_present),
            )
            .col_expr(
                product::Column::Classifications,
                Expr::value(classifications),
            )
            .col_expr(product::Column::UpdatedAt, Expr::value(crate::now()))
            .filter(product::Column::TenantId.eq(scoped.tenant_id().as_str()))
            .filter(product::Column::Id.eq(found.product_id.as_str()))
            .exec(db)
            .await?;
        sku::Entity::update_many()
            .col_expr(
                sku::Column::Barcode,
                Expr::value(row.barcode.as_ref().map(ToString::to_string)),
            )
            .col_expr(
                sku::Column::Gtin14,
                Expr::value(row.barcode.as_ref().map(Barcode::gtin14)),
            )
            .filter(sku::Column::TenantId.eq(scoped.tenant_id().as_str()))
            .filter(sku::Column::Id.eq(found.id.as_str()))
            .exec(db)
            .await
            .map_err(|e| match StorageError::from(e) {
                StorageError::Conflict(_) => {
                    StorageError::Conflict(format!("barcode of {} is used by another SKU", row.sku))
                }
                other => other,
            })?;
        refresh_search_text(
            scoped,
            db,
            &decode::id(&found.product_id)?,
            &row.product.title,
        )
        .await?;
        return Ok(None);
    }
    let title = row.product.title.clone();
    let product_id = match scoped
        .select::<product::Entity>()
        .filter(product::Column::Title.eq(row.product.title.as_str()))
        .filter(product::Column::Format.eq(row.product.format.as_str()))
        .one(db)
        .await?
    {
        Some(p) => decode::id(&p.id)?,
        None => insert_product(scoped, db, row.product).await?.id,
    };
    let mut components = Vec::with_capacity(row.components.len());
    for (code, quantity) in row.components {
        let part = scoped
            .select::<sku::Entity>()
            .filter(sku::Column::Code.eq(code.as_str()))
            .one(db)
            .await?
            .ok_or_else(|| {
                StorageError::Conflict(format!(
                    "kit component {code} is neither in the catalog nor in this file"
                ))
            })?;
        components.push(KitComponent {
            sku_id: decode::id(&part.id)?,
            quantity,
        });
    }
    let is_kit = !components.is_empty();
    let created = insert_sku(
        scoped,
        db,
        SkuDraft {
            product_id,
            code: row.sku,
            barcode: row.barcode,
            components,
        },
        &title,
    )
    .await?;
    Ok(is_kit.then_some(created.id))
}
