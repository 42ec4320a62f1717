//! Portfolio: every organization the user belongs to, with its health; agencies start here.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde::Serialize;

use crate::{
    api,
    format::{ago, words},
    load::fetched,
    model::{Health, Me, Tenant},
    router::Route,
    session::Session,
    widgets::{Flash, empty, loaded},
};

#[derive(Serialize)]
struct NewTenant {
    name: String,
}

/// The portfolio overview.
#[component]
pub fn PortfolioPage() -> impl IntoView {
    let session = Session::get();
    let route = Route::get();
    let health = fetched(move || {
        session.me.track();
        api::get::<Vec<Health>>("/api/v1/portfolio")
    });
    let name = RwSignal::new(String::new());
    let flash = Flash::new();
    let create = move |e: SubmitEvent| {
        e.prevent_default();
        let body = NewTenant {
            name: name.get_untracked(),
        };
        spawn_local(async move {
            let outcome = api::post::<_, Tenant>("/api/v1/tenants", &body).await;
            flash.report(&outcome, "Organization created.");
            if let (Ok(tenant), Ok(me)) = (outcome, api::get::<Me>("/api/v1/me").await) {
                session.signed_in(me);
                session.switch(&tenant.id);
                name.set(String::new());
            }
        });
    };
    view! {
        <section>
            <h1>"Portfolio"</h1>
            <p class="muted">"Every organization you work in, and how its sync is doing."</p>
            {loaded(
                health,
                move |rows: Vec<Health>| {
                    if rows.is_empty() {
                        return empty("You belong to no organization yet: create one below.");
                    }
                    let memberships = session.me.get().map(|m| m.memberships).unwrap_or_default();
                    view! {
                        <table class="grid">
                            <caption class="visually-hidden">"Organizations and their health"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Organization"</th>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"Connections OK"</th>
                                    <th scope="col">"Discrepancies"</th>
                                    <th scope="col">"Holds"</th>
                                    <th scope="col">"Dead letters"</th>
                                    <th scope="col">"Last sync"</th>
                                    <th scope="col"></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|h| {
                                        let member = memberships.iter().find(|m| m.tenant_id == h.tenant_id).cloned();
                                        let (tenant_name, role) = member
                                            .map(|m| (m.tenant_name, m.role))
                                            .unwrap_or_default();
                                        let tenant = h.tenant_id.clone();
                                        let healthy = h.connections_ok == h.connections && h.dead_letters == 0;
                                        let label = format!("Open {tenant_name}");
                                        view! {
                                            <tr class:warn=!healthy>
                                                <th scope="row">{tenant_name}</th>
                                                <td>{words(&role)}</td>
                                                <td>{format!("{} of {}", h.connections_ok, h.connections)}</td>
                                                <td class:bad={h.discrepancies > 0}>{h.discrepancies}</td>
                                                <td class:bad={h.holds > 0}>{h.holds}</td>
                                                <td class:bad={h.dead_letters > 0}>{h.dead_letters}</td>
                                                <td>{h.last_sync_at.as_deref().map(ago).unwrap_or_else(|| "never".into())}</td>
                                                <td>
                                                    <button
                                                        type="button"
                                                        aria-label=label
                                                        on:click=move |_| {
                                                            session.switch(&tenant);
                                                            route.go("/inventory");
                                                        }
                                                    >
                                                        "Open"
                                                    </button>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                },
            )}
            <h2>"New organization"</h2>
            <form class="inline" on:submit=create aria-label="New organization">
                <label>
                    "Name"
                    <input
                        type="text"
                        required
                        maxlength="120"
                        prop:value=move || name.get()
                        on:input=move |e| name.set(event_target_value(&e))
                    />
                </label>
                <button type="submit">"Create organization"</button>
            </form>
            {flash.view()}
        </section>
    }
}
