//! Orders: the merged feed across channels, with payments, refunds, returns and
//! compliance state; it refreshes when orders arrive.

use leptos::prelude::*;
use serde_json::Value;

use crate::{
    api,
    format::{money, time, words},
    live::Live,
    load::{Load, fetched},
    model::{Connection, Order, Page},
    session::Session,
    widgets::{empty, loaded},
};

const STATUSES: [&str; 4] = ["open", "completed", "cancelled", "on_hold"];

/// The orders page.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let session = Session::get();
    let live = Live::get();
    let channel = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let previous = RwSignal::new(Vec::<Option<String>>::new());
    let cursor = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
    let connections = fetched(move || api::get::<Vec<Connection>>(session.path("/connections")));
    let orders = fetched(move || {
        live.orders.track();
        let mut query = "/orders?limit=50".to_owned();
        for (key, value) in [("channel", channel.get()), ("status", status.get())] {
            if !value.is_empty() {
                query.push_str(&format!("&{key}={value}"));
            }
        }
        if let Some(c) = cursor.get() {
            query.push_str(&format!("&cursor={}", api::encode(&c)));
        }
        api::get::<Page<Order>>(session.path(&query))
    });
    let reset = move || {
        previous.set(Vec::new());
        cursor.set(None);
    };
    let channel_name = move |id: &str| match connections.state.get() {
        Load::Ready(cs) => cs
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.name)
            .unwrap_or_else(|| id.to_owned()),
        _ => id.to_owned(),
    };
    view! {
        <section>
            <h1>"Orders"</h1>
            <div class="filters">
                <label>"Channel"
                    <select on:change=move |e| { reset(); channel.set(event_target_value(&e)); }>
                        <option value="">"All channels"</option>
                        {move || match connections.state.get() {
                            Load::Ready(cs) => cs.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view().into_any(),
                            _ => ().into_any(),
                        }}
                    </select>
                </label>
                <label>"Status"
                    <select on:change=move |e| { reset(); status.set(event_target_value(&e)); }>
                        <option value="">"Any status"</option>
                        {STATUSES.iter().map(|s| view! { <option value=*s>{words(s)}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            {loaded(orders, move |p: Page<Order>| {
                if p.items.is_empty() {
                    return empty("No orders yet: they appear here as channels sell.");
                }
                let next = p.next_cursor.clone();
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Orders across channels, newest first"</caption>
                        <thead><tr>
                            <th scope="col">"Placed"</th><th scope="col">"Channel"</th><th scope="col">"Order"</th>
                            <th scope="col">"Status"</th><th scope="col" class="num">"Total"</th><th scope="col">"Compliance"</th><th scope="col">"Stock"</th>
                        </tr></thead>
                        <tbody>
                            {p.items.into_iter().map(|o| {
                                let id = o.id.clone();
                                view! {
                                    <tr class:warn=o.oversold || o.status == "on_hold">
                                        <td>{time(&o.placed_at)}</td>
                                        <td>{channel_name(&o.connection_id)}</td>
                                        <th scope="row"><button type="button" class="link" on:click=move |_| selected.set(Some(id.clone()))>{o.external_id.clone()}</button></th>
                                        <td><span class=format!("badge {}", o.status)>{words(&o.status)}</span></td>
                                        <td class="num">{money(o.total_minor, &o.currency)}</td>
                                        <td>{o.compliance.clone().map(|c| words(&c)).unwrap_or_else(|| "—".into())}</td>
                                        <td>{if o.oversold { "oversold" } else { "covered" }}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="pager">
                        <button type="button" disabled=move || previous.with(Vec::is_empty)
                            on:click=move |_| { let back = previous.try_update(|p| p.pop()).flatten().flatten(); cursor.set(back); }>"Previous"</button>
                        <button type="button" disabled=next.is_none()
                            on:click=move |_| { previous.update(|p| p.push(cursor.get_untracked())); cursor.set(next.clone()); }>"Next"</button>
                    </div>
                }.into_any()
            })}
            {move || selected.get().map(|id| view! { <OrderDetail id=id close=move || selected.set(None) /> })}
        </section>
    }
}

/// One order's lines, payments, refunds, returns and fulfilments.
#[component]
fn OrderDetail(id: String, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = Session::get();
    let detail = fetched(move || api::get::<Value>(session.path(&format!("/orders/{id}"))));
    view! {
        <aside class="card detail" aria-label="Order detail">
            <div class="row">
                <h2>"Order detail"</h2>
                <button type="button" on:click=move |_| close()>"Close"</button>
            </div>
            {loaded(detail, |d: Value| {
                let currency = d["currency"].as_str().unwrap_or_default().to_owned();
                view! {
                    <p>{format!("{} · {} · {}", d["external_id"].as_str().unwrap_or_default(), words(d["status"].as_str().unwrap_or_default()), money(d["total_minor"].as_i64().unwrap_or_default(), &currency))}</p>
                    {section(&d, "lines", "Lines", &["sku_code", "quantity", "fulfilled_quantity", "unit_price_minor"])}
                    {section(&d, "payments", "Payments", &["external_id", "status", "amount_minor", "occurred_at"])}
                    {section(&d, "refunds", "Refunds", &["external_id", "amount_minor", "restocked", "occurred_at"])}
                    {section(&d, "returns", "Returns", &["external_id", "sku_code", "quantity", "disposition", "received_at"])}
                    {section(&d, "fulfilments", "Fulfilments", &["external_id", "carrier", "tracking", "created_at"])}
                }.into_any()
            })}
        </aside>
    }
}

fn section(
    detail: &Value,
    key: &str,
    title: &'static str,
    columns: &'static [&'static str],
) -> impl IntoView {
    let rows = detail[key].as_array().cloned().unwrap_or_default();
    (!rows.is_empty()).then(|| view! {
        <h3>{title}</h3>
        <table class="grid">
            <thead><tr>{columns.iter().map(|c| view! { <th scope="col">{words(c)}</th> }).collect_view()}</tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>{columns.iter().map(|c| view! { <td>{cell(&r[*c])}</td> }).collect_view()}</tr>
                }).collect_view()}
            </tbody>
        </table>
    })
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
