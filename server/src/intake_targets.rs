//! The connections webhook deliveries name, kept in memory for a few seconds: each
//! delivery needs its connection's tenant, platform and signing secret, and reading them
//! from the database for every one would cost a round trip per delivery.
//!
//! An entry is read again once it is [`FRESH_FOR`] old, and at once when a delivery does
//! not verify with the secret it holds (a secret just issued elsewhere). This process
//! forgets a connection as soon as its secret changes or it is disconnected; another
//! server process follows within [`FRESH_FOR`].

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use concord_domain::ConnectionId;
use concord_storage::{Store, TenantScope};

use crate::{error::ApiError, secret_box::SecretBox};

/// How long an entry is used before it is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(5);
/// Entries kept before the stale ones are dropped.
const MOST_KEPT: usize = 10_000;

/// Where a delivery for a connection goes, with its secret opened.
#[derive(Debug)]
pub struct Target {
    /// The connection's tenant.
    pub scope: TenantScope,
    /// The connection's platform slug.
    pub platform: String,
    /// Its signing secret; `None` until one is set.
    pub secret: Option<String>,
}

/// A target and whether it came from memory (and so may be behind the database).
pub struct Found {
    /// The target.
    pub target: Arc<Target>,
    /// Read from memory rather than the database just now.
    pub remembered: bool,
}

/// Each connection's target and when it was read.
type Entries = HashMap<ConnectionId, (Arc<Target>, Instant)>;

/// The cache; cheap to clone.
#[derive(Clone, Default)]
pub struct IntakeTargets {
    entries: Arc<Mutex<Entries>>,
}

impl IntakeTargets {
    /// The target of `id`, from memory while fresh.
    pub async fn get(
        &self,
        store: &Store,
        secrets: &SecretBox,
        id: &ConnectionId,
    ) -> Result<Found, ApiError> {
        let remembered = self
            .lock()
            .get(id)
            .filter(|(_, read_at)| read_at.elapsed() < FRESH_FOR)
            .map(|(target, _)| target.clone());
        match remembered {
            Some(target) => Ok(Found {
                target,
                remembered: true,
            }),
            None => Ok(Found {
                target: self.read(store, secrets, id).await?,
                remembered: false,
            }),
        }
    }

    /// Reads the target of `id` from the database and remembers it.
    pub async fn read(
        &self,
        store: &Store,
        secrets: &SecretBox,
        id: &ConnectionId,
    ) -> Result<Arc<Target>, ApiError> {
        let found = store.intake_target(id).await?;
        let secret = found
            .sealed_secret
            .as_deref()
            .map(|sealed| secrets.open(sealed))
            .transpose()
            .map_err(ApiError::internal)?;
        let target = Arc::new(Target {
            scope: found.scope,
            platform: found.platform,
            secret,
        });
        let mut entries = self.lock();
        if entries.len() >= MOST_KEPT {
            entries.retain(|_, (_, read_at)| read_at.elapsed() < FRESH_FOR);
        }
        entries.insert(id.clone(), (target.clone(), Instant::now()));
        Ok(target)
    }

    /// Forgets `id` (its secret changed, or it was disconnected).
    pub fn forget(&self, id: &ConnectionId) {
        self.lock().remove(id);
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
