//! The tenant's live-update stream (server-sent events): stock, order and job changes
//! arrive here and the pages showing them update without a reload.

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{EventSource, MessageEvent};

/// One offer that changed.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct StockChange {
    /// The SKU.
    pub sku_id: String,
    /// The channel.
    pub connection_id: String,
    /// Its new offer.
    pub available: i64,
}

/// What arrived last, shared through context.
#[derive(Clone, Copy)]
pub struct Live {
    /// The stream is open.
    pub connected: RwSignal<bool>,
    /// The latest batch of offer changes.
    pub stock: RwSignal<Vec<StockChange>>,
    /// Counts order events (pages watch it to refresh).
    pub orders: RwSignal<u64>,
    /// Counts job events.
    pub jobs: RwSignal<u64>,
}

impl Live {
    /// Nothing received yet.
    pub fn new() -> Self {
        Self {
            connected: RwSignal::new(false),
            stock: RwSignal::new(Vec::new()),
            orders: RwSignal::new(0),
            jobs: RwSignal::new(0),
        }
    }

    /// The stream from context.
    pub fn get() -> Self {
        expect_context::<Live>()
    }

    /// Opens the stream of `tenant_id`; the returned source closes when dropped by
    /// [`Live::close`].
    pub fn open(&self, tenant_id: &str) -> Option<EventSource> {
        let source = EventSource::new(&format!("/api/v1/tenants/{tenant_id}/live")).ok()?;
        let live = *self;
        listen(&source, "open", move |_| live.connected.set(true));
        listen(&source, "error", move |_| live.connected.set(false));
        listen(&source, "stock", move |e| {
            if let Some(changes) = data::<Vec<StockChange>>(&e) {
                live.stock.set(changes);
            }
        });
        listen(&source, "order", move |_| live.orders.update(|n| *n += 1));
        listen(&source, "job", move |_| live.jobs.update(|n| *n += 1));
        Some(source)
    }

    /// Closes a stream opened by [`Live::open`].
    pub fn close(&self, source: &EventSource) {
        source.close();
        self.connected.set(false);
    }
}

fn listen(source: &EventSource, kind: &str, on: impl Fn(web_sys::Event) + 'static) {
    let callback = Closure::<dyn Fn(web_sys::Event)>::new(on);
    let _ = source.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
    callback.forget();
}

fn data<T: for<'de> Deserialize<'de>>(e: &web_sys::Event) -> Option<T> {
    let message = e.dyn_ref::<MessageEvent>()?;
    serde_json::from_str(&message.data().as_string()?).ok()
}
