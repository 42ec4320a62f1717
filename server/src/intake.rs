//! Group commits for webhook intake. Every delivery must be stored before it is
//! acknowledged, and a commit costs the same for one row as for hundreds; so deliveries
//! arriving together are stored together. A delivery waits for no timer: each writer takes
//! whatever has queued while the previous commit ran (up to [`MOST_PER_COMMIT`]) and
//! answers every request in it once its transaction commits.

use std::{collections::HashMap, sync::Arc};

use concord_domain::ConnectionId;
use concord_storage::{NewInbound, Store, TenantScope};
use tokio::sync::{Mutex, mpsc, oneshot};

/// The most deliveries one commit stores.
pub const MOST_PER_COMMIT: usize = 256;
/// Deliveries that may wait for a writer before senders wait too.
const QUEUE_DEPTH: usize = 4096;

/// A verified delivery to store.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its tenant.
    pub scope: TenantScope,
    /// The connection it came to.
    pub connection_id: ConnectionId,
    /// The platform's id for it (or a hash of the body).
    pub external_id: String,
    /// The body as received.
    pub body: String,
    /// Its headers, a JSON array of `[name, value]` pairs.
    pub headers: String,
    /// Whether its signature was checked.
    pub verified: bool,
}

/// A delivery that could not be stored (so it is not acknowledged: the platform sends it
/// again).
#[derive(Debug, thiserror::Error)]
#[error("cannot store the delivery: {0}")]
pub struct NotStored(String);

struct Waiting {
    delivery: Received,
    answer: oneshot::Sender<Result<bool, NotStored>>,
}

/// The intake's writers; cheap to clone.
#[derive(Clone)]
pub struct IntakeQueue {
    store: Store,
    queue: mpsc::Sender<Waiting>,
}

impl IntakeQueue {
    /// Starts `writers` writers on the current runtime (one for SQLite, which has a single
    /// writer; a few for PostgreSQL, so one gathers while another commits).
    pub fn start(store: Store, writers: usize) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches(store.clone(), receiver.clone()));
        }
        Self { store, queue }
    }

    /// Stores a delivery; `false` when it was already received (a redelivery). Should the
    /// writers be gone, it is stored on its own.
    pub async fn store(&self, delivery: Received) -> Result<bool, NotStored> {
        let (answer, answered) = oneshot::channel();
        match self.queue.send(Waiting { delivery, answer }).await {
            Ok(()) => answered
                .await
                .map_err(|_| NotStored("the intake writer stopped".to_owned()))?,
            Err(mpsc::error::SendError(waiting)) => {
                let stored = store_group(&self.store, vec![waiting.delivery]).await?;
                Ok(stored == [true])
            }
        }
    }
}

/// One writer: takes what has queued, stores it per tenant, answers, and starts again.
async fn write_batches(store: Store, receiver: Arc<Mutex<mpsc::Receiver<Waiting>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            match receiver.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
            while batch.len() < MOST_PER_COMMIT {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        let mut by_tenant: HashMap<String, Vec<Waiting>> = HashMap::new();
        for waiting in batch {
            by_tenant
                .entry(waiting.delivery.scope.tenant_id().to_string())
                .or_default()
                .push(waiting);
        }
        for group in by_tenant.into_values() {
            let (deliveries, answers): (Vec<_>, Vec<_>) =
                group.into_iter().map(|w| (w.delivery, w.answer)).unzip();
            match store_group(&store, deliveries).await {
                Ok(fresh) => {
                    for (answer, fresh) in answers.into_iter().zip(fresh) {
                        let _ = answer.send(Ok(fresh));
                    }
                }
                Err(NotStored(why)) => {
                    tracing::warn!(error = %why, "cannot store webhook deliveries");
                    for answer in answers {
                        let _ = answer.send(Err(NotStored(why.clone())));
                    }
                }
            }
        }
    }
}

/// Stores one tenant's deliveries in one transaction.
async fn store_group(store: &Store, deliveries: Vec<Received>) -> Result<Vec<bool>, NotStored> {
    let Some(scope) = deliveries.first().map(|d| d.scope.clone()) else {
        return Ok(Vec::new());
    };
    let (keys, contents): (Vec<_>, Vec<_>) = deliveries
        .into_iter()
        .map(|d| {
            (
                (d.connection_id, d.external_id),
                (d.body, d.headers, d.verified),
            )
        })
        .unzip();
    let rows = keys
        .iter()
        .zip(contents)
        .map(
            |((connection_id, external_id), (body, headers, verified))| NewInbound {
                connection_id,
                external_id,
                body,
                headers,
                verified,
            },
        )
        .collect();
    store
        .scoped(&scope)
        .store_inbound_many(rows)
        .await
        .map_err(|e| NotStored(e.to_string()))
}
