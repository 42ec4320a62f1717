//! Compliance: orders on hold, the tamper-evident audit log and the compliance reports.

use leptos::prelude::*;

use crate::{
    api,
    format::{money, time, words},
    load::fetched,
    model::{AuditEntry, Order, Page},
    session::Session,
    widgets::{empty, loaded},
};

/// The reports a compliance officer downloads: path segment and name.
const REPORTS: [(&str, &str); 5] = [
    ("restricted-sales", "Restricted-title sales"),
    ("refusals", "Refusals"),
    ("catalog-gaps", "Catalog gaps"),
    ("stock-reconciliation", "Stock reconciliation"),
    ("rule-changes", "Rule changes"),
];

/// The compliance page.
#[component]
pub fn CompliancePage() -> impl IntoView {
    let session = Session::get();
    let holds =
        fetched(move || api::get::<Page<Order>>(session.path("/orders?status=on_hold&limit=100")));
    let audit = fetched(move || api::get::<Page<AuditEntry>>(session.path("/audit?limit=100")));
    view! {
        <section>
            <h1>"Compliance"</h1>
            <h2>"Orders on hold"</h2>
            {loaded(holds, |p: Page<Order>| {
                if p.items.is_empty() {
                    return empty("No order is on hold.");
                }
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Orders on hold"</caption>
                        <thead><tr><th scope="col">"Placed"</th><th scope="col">"Order"</th><th scope="col">"Reason"</th><th scope="col" class="num">"Total"</th></tr></thead>
                        <tbody>
                            {p.items.into_iter().map(|o| view! {
                                <tr>
                                    <td>{time(&o.placed_at)}</td>
                                    <td>{o.external_id}</td>
                                    <td>{o.compliance.map(|c| words(&c)).unwrap_or_else(|| if o.oversold { "oversold".into() } else { "held".into() })}</td>
                                    <td class="num">{money(o.total_minor, &o.currency)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
            <Show when=move || session.can_read_reports()>
                <h2>"Reports"</h2>
                <ul class="reports">
                    {REPORTS.iter().map(|(kind, name)| view! {
                        <li>
                            {*name}": "
                            <a href=move || session.path(&format!("/reports/{kind}?format=csv")) download>"CSV"</a>" · "
                            <a href=move || session.path(&format!("/reports/{kind}?format=pdf")) download>"PDF"</a>
                        </li>
                    }).collect_view()}
                </ul>
            </Show>
            <h2>"Audit log"</h2>
            {loaded(audit, |p: Page<AuditEntry>| {
                if p.items.is_empty() {
                    return empty("The audit log is empty.");
                }
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Audit log, newest first"</caption>
                        <thead><tr><th scope="col">"#"</th><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Subject"</th></tr></thead>
                        <tbody>
                            {p.items.into_iter().map(|e| view! {
                                <tr><td>{e.seq}</td><td>{time(&e.at)}</td><td>{e.actor}</td><td>{words(&e.action)}</td><td><code>{e.subject}</code></td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}
