//! Analytics: store and online sales merged — by channel, by day, store vs online.

use leptos::prelude::*;

use crate::{
    api,
    format::money,
    load::{Load, fetched},
    model::{Connection, SalesReport},
    session::Session,
    widgets::{empty, loaded},
};

/// The analytics page.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let session = Session::get();
    let days = RwSignal::new(30u32);
    let report = fetched(move || {
        api::get::<SalesReport>(session.path(&format!("/analytics/sales?days={}", days.get())))
    });
    let connections = fetched(move || api::get::<Vec<Connection>>(session.path("/connections")));
    view! {
        <section>
            <h1>"Analytics"</h1>
            <label>"Period"
                <select on:change=move |e| days.set(event_target_value(&e).parse().unwrap_or(30))>
                    <option value="7">"Last 7 days"</option>
                    <option value="30" selected>"Last 30 days"</option>
                    <option value="90">"Last 90 days"</option>
                </select>
            </label>
            {loaded(report, move |r: SalesReport| {
                if r.by_channel.is_empty() {
                    return empty("No sales in this period yet.");
                }
                let names = match connections.state.get() { Load::Ready(c) => c, _ => Vec::new() };
                let peak = r.by_day.iter().map(|d| d.revenue_minor).max().unwrap_or(1).max(1);
                let currency = r.by_channel.first().map(|c| c.currency.clone()).unwrap_or_default();
                view! {
                    <div class="tiles">
                        {r.by_kind.iter().map(|k| view! {
                            <div class="tile"><span class="muted">{if k.kind == "store" { "In store" } else { "Online" }}</span>
                                <strong>{money(k.revenue_minor, &currency)}</strong><span>{format!("{} orders", k.orders)}</span></div>
                        }).collect_view()}
                    </div>
                    <h2>"Sales by channel"</h2>
                    <table class="grid">
                        <caption class="visually-hidden">"Sales by channel"</caption>
                        <thead><tr><th scope="col">"Channel"</th><th scope="col" class="num">"Orders"</th><th scope="col" class="num">"Units"</th><th scope="col" class="num">"Revenue"</th><th scope="col" class="num">"Refunded"</th></tr></thead>
                        <tbody>
                            {r.by_channel.into_iter().map(|c| {
                                let name = names.iter().find(|n| n.id == c.connection_id).map(|n| n.name.clone()).unwrap_or(c.connection_id.clone());
                                view! {
                                    <tr><th scope="row">{name}</th><td class="num">{c.orders}</td><td class="num">{c.units}</td>
                                        <td class="num">{money(c.revenue_minor, &c.currency)}</td><td class="num">{money(c.refunded_minor, &c.currency)}</td></tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h2>"Sales by day"</h2>
                    <ol class="bars" aria-label="Revenue by day">
                        {r.by_day.into_iter().map(|d| {
                            let width = format!("width: {}%", (d.revenue_minor * 100 / peak).max(1));
                            let text = format!("{}: {} in {} orders", d.day, money(d.revenue_minor, &currency), d.orders);
                            view! { <li><span class="day">{d.day.clone()}</span><span class="bar" style=width></span><span class="visually-hidden">{text}</span><span class="value">{money(d.revenue_minor, &currency)}</span></li> }
                        }).collect_view()}
                    </ol>
                }.into_any()
            })}
        </section>
    }
}
