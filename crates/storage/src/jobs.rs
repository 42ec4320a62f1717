//! Sync jobs: each reconcile run with its progress (done of total) and its report, so the
//! dashboard and the CLI can show a bar, an ETA and what was found.

use chrono::{DateTime, Utc};
use concord_domain::{ConnectionId, JobId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};

use crate::{
    Scoped, decode,
    entity::job,
    error::{Result, StorageError},
    now,
};

/// A sync job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// The connection it works on.
    pub connection_id: ConnectionId,
    /// `reconcile` (incremental) or `full_reconcile`.
    pub kind: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Items checked so far.
    pub done: i64,
    /// Items to check, when known.
    pub total: Option<i64>,
    /// Discrepancies found.
    pub found: i64,
    /// Discrepancies repaired.
    pub repaired: i64,
    /// Items skipped (each reason is in the report).
    pub skipped: i64,
    /// The report (JSON), when finished.
    pub report: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Progress figures of a running job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Items checked so far.
    pub done: i64,
    /// Items to check, when known.
    pub total: Option<i64>,
    /// Discrepancies found.
    pub found: i64,
    /// Discrepancies repaired.
    pub repaired: i64,
    /// Items skipped.
    pub skipped: i64,
}

impl Scoped<'_> {
    /// Starts a job of `kind` on a connection.
    pub async fn start_job(&self, connection_id: &ConnectionId, kind: &str) -> Result<Job> {
        let txn = self.begin_write().await?;
        let row = job::ActiveModel {
            id: Set(JobId::generate().to_string()),
            tenant_id: Set(self.tenant_id().to_string()),
            connection_id: Set(connection_id.to_string()),
            kind: Set(kind.to_owned()),
            status: Set("running".into()),
            done: Set(0),
            total: Set(None),
            found: Set(0),
            repaired: Set(0),
            skipped: Set(0),
            report: Set(None),
            error: Set(None),
            created_at: Set(now()),
            finished_at: Set(None),
        };
        let inserted = job::Entity::insert(row).exec_with_returning(&txn).await?;
        txn.commit().await?;
        to_job(inserted)
    }

    /// Records a running job's progress.
    pub async fn job_progress(&self, id: &JobId, p: Progress) -> Result<()> {
        let txn = self.begin_write().await?;
        job::Entity::update_many()
            .col_expr(job::Column::Done, Expr::value(p.done))
            .col_expr(job::Column::Total, Expr::value(p.total))
            .col_expr(job::Column::Found, Expr::value(p.found))
            .col_expr(job::Column::Repaired, Expr::value(p.repaired))
            .col_expr(job::Column::Skipped, Expr::value(p.skipped))
            .filter(job::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(job::Column::Id.eq(id.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Finishes a job with its report, or its error.
    pub async fn finish_job(
        &self,
        id: &JobId,
        p: Progress,
        report: String,
        error: Option<String>,
    ) -> Result<Job> {
        self.job_progress(id, p).await?;
        let txn = self.begin_write().await?;
        job::Entity::update_many()
            .col_expr(
                job::Column::Status,
                Expr::value(if error.is_some() { "failed" } else { "done" }),
            )
            .col_expr(job::Column::Report, Expr::value(report))
            .col_expr(job::Column::Error, Expr::value(error))
            .col_expr(job::Column::FinishedAt, Expr::value(now()))
            .filter(job::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(job::Column::Id.eq(id.as_str()))
            .exec(&txn)
            .await?;
        let row = self
            .select::<job::Entity>()
            .filter(job::Column::Id.eq(id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound)?;
        txn.commit().await?;
        to_job(row)
    }

    /// The newest jobs, of one connection if given.
    pub async fn jobs(&self, connection_id: Option<&ConnectionId>, limit: u64) -> Result<Vec<Job>> {
        let txn = self.begin().await?;
        let mut query = self.select::<job::Entity>();
        if let Some(c) = connection_id {
            query = query.filter(job::Column::ConnectionId.eq(c.as_str()));
        }
        let rows = query
            .order_by_desc(job::Column::CreatedAt)
            .order_by_desc(job::Column::Id)
            .limit(limit)
            .all(&txn)
            .await?;
        rows.into_iter().map(to_job).collect()
    }

    /// The newest job of `kind` on a connection.
    pub async fn last_job(&self, connection_id: &ConnectionId, kind: &str) -> Result<Option<Job>> {
        let txn = self.begin().await?;
        self.select::<job::Entity>()
            .filter(job::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(job::Column::Kind.eq(kind))
            .order_by_desc(job::Column::CreatedAt)
            .one(&txn)
            .await?
            .map(to_job)
            .transpose()
    }
}

fn to_job(r: job::Model) -> Result<Job> {
    Ok(Job {
        id: decode::id(&r.id)?,
        connection_id: decode::id(&r.connection_id)?,
        kind: r.kind,
        status: r.status,
        done: r.done,
        total: r.total,
        found: r.found,
        repaired: r.repaired,
        skipped: r.skipped,
        report: r.report,
        error: r.error,
        created_at: r.created_at,
        finished_at: r.finished_at,
    })
}
