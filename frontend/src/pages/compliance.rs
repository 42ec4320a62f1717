//! Compliance: orders on hold, the tamper-evident audit log and the compliance reports.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde_json::{Value, json};

use crate::{
    api,
    format::{money, time, words},
    load::fetched,
    model::{AuditEntry, Order, Page, Rule},
    session::Session,
    widgets::{Flash, empty, loaded},
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
    let rules = fetched(move || api::get::<Vec<Rule>>(session.path("/compliance/rules")));
    let flash = Flash::new();
    view! {
        <section>
            <h1>"Compliance"</h1>
            <h2>"Orders on hold"</h2>
            {flash.view()}
            {loaded(holds, move |p: Page<Order>| {
                if p.items.is_empty() {
                    return empty("No order is on hold.");
                }
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Orders on hold"</caption>
                        <thead><tr><th scope="col">"Placed"</th><th scope="col">"Order"</th><th scope="col">"Why"</th><th scope="col" class="num">"Total"</th><th scope="col">"Release"</th></tr></thead>
                        <tbody>
                            {p.items.into_iter().map(|o| view! { <HoldRow order=o flash=flash on_release=move || holds.refresh() /> }).collect_view()}
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
            <h2>"Jurisdiction rules"</h2>
            {loaded(rules, |rs: Vec<Rule>| {
                if rs.is_empty() {
                    return empty("No rules: every sale is allowed.");
                }
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Jurisdiction rules in force"</caption>
                        <thead><tr><th scope="col">"Rule"</th><th scope="col">"Where"</th><th scope="col">"Channels"</th><th scope="col">"Action"</th><th scope="col" class="num">"Min. age"</th><th scope="col">"Version"</th></tr></thead>
                        <tbody>
                            {rs.into_iter().map(|r| view! {
                                <tr class:muted=!r.in_force>
                                    <th scope="row"><code>{r.code}</code><div class="small">{r.summary}</div></th>
                                    <td>{r.jurisdictions.join(", ")}</td>
                                    <td>{r.channels.iter().map(|c| words(c)).collect::<Vec<_>>().join(", ")}</td>
                                    <td>{words(&r.action)}</td>
                                    <td class="num">{r.min_age.map(|a| a.to_string()).unwrap_or_default()}</td>
                                    <td>{format!("v{}{}", r.version, if r.in_force { "" } else { " (not in force)" })}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
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

/// A held order: why (from its compliance record) and, for those who may, a release with a
/// reason.
#[component]
fn HoldRow(
    order: Order,
    flash: Flash,
    on_release: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = Session::get();
    let id = order.id.clone();
    let why = fetched(move || api::get::<Value>(session.path(&format!("/orders/{id}/compliance"))));
    let reason = RwSignal::new(String::new());
    let path = session.path(&format!("/orders/{}/release", order.id));
    let release = move |e: SubmitEvent| {
        e.prevent_default();
        let body = json!({ "reason": reason.get_untracked() });
        let path = path.clone();
        spawn_local(async move {
            let outcome = api::post::<_, Value>(&path, &body).await;
            flash.report(&outcome, "Released; the release is in the audit log.");
            if outcome.is_ok() {
                on_release();
            }
        });
    };
    let label = format!("Reason to release {}", order.external_id);
    view! {
        <tr>
            <td>{time(&order.placed_at)}</td>
            <td>{order.external_id.clone()}</td>
            <td>{move || match why.state.get() {
                crate::load::Load::Ready(v) => v["outstanding"].as_array().map(|o| o.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("; ")).filter(|s| !s.is_empty()).unwrap_or_else(|| if order.oversold { "oversold".into() } else { "held".into() }),
                _ => "…".into(),
            }}</td>
            <td class="num">{money(order.total_minor, &order.currency)}</td>
            <td>
                <Show when=move || session.can_read_reports() fallback=|| "—">
                    <form class="inline" on:submit=release.clone() aria-label="Release">
                        <input type="text" required aria-label=label.clone() placeholder="Checked ID in store"
                            prop:value=move || reason.get() on:input=move |e| reason.set(event_target_value(&e)) />
                        <button type="submit">"Release"</button>
                    </form>
                </Show>
            </td>
        </tr>
    }
}
