//! Data that arrives from the API: loading, ready or failed, refetched when the signals its
//! fetch reads change, and never overwritten by an answer older than the latest request.

use std::{cell::Cell, future::Future, rc::Rc};

use leptos::{prelude::*, task::spawn_local};

use crate::api::{ApiError, ApiResult};

/// The state of fetched data.
#[derive(Clone, Debug, PartialEq)]
pub enum Load<T> {
    /// The first answer is on its way.
    Loading,
    /// The latest answer.
    Ready(T),
    /// The latest call failed.
    Failed(ApiError),
}

/// Fetched data and a way to fetch it again.
pub struct Fetched<T: Send + Sync + 'static> {
    /// The data's state.
    pub state: RwSignal<Load<T>>,
    again: Trigger,
}

impl<T: Send + Sync + 'static> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Fetched<T> {}

impl<T: Send + Sync + 'static> Fetched<T> {
    /// Fetches again, keeping what is shown until the answer arrives.
    pub fn refresh(&self) {
        self.again.notify();
    }
}

/// Runs `fetch` now and whenever a signal it reads (before its first `.await`) changes.
pub fn fetched<T, F, Fut>(fetch: F) -> Fetched<T>
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = ApiResult<T>> + 'static,
{
    let state = RwSignal::new(Load::Loading);
    let again = Trigger::new();
    let latest = Rc::new(Cell::new(0u64));
    Effect::new(move |_| {
        again.track();
        let call = fetch();
        let generation = latest.get() + 1;
        latest.set(generation);
        let latest = latest.clone();
        spawn_local(async move {
            let answer = call.await;
            if latest.get() == generation {
                state.set(match answer {
                    Ok(value) => Load::Ready(value),
                    Err(err) => Load::Failed(err),
                });
            }
        });
    });
    Fetched { state, again }
}
