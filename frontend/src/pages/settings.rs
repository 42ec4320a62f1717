//! Settings: the organization (oversell policy, reconcile schedules), each channel's
//! buffer and allocation, members and roles, and API tokens.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde_json::{Value, json};

use crate::{
    api,
    format::{time, words},
    load::{Fetched, fetched},
    model::{ApiToken, Connection, Member, Tenant},
    session::Session,
    widgets::{Flash, empty, loaded},
};

const ROLES: [&str; 5] = ["owner", "admin", "staff", "compliance_officer", "viewer"];

/// The settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let session = Session::get();
    let tenant = fetched(move || api::get::<Tenant>(session.path("")));
    let connections = fetched(move || api::get::<Vec<Connection>>(session.path("/connections")));
    let members = fetched(move || api::get::<Vec<Member>>(session.path("/members")));
    let tokens = fetched(move || api::get::<Vec<ApiToken>>(session.path("/api-tokens")));
    view! {
        <section>
            <h1>"Settings"</h1>
            <h2>"Organization"</h2>
            {loaded(tenant, |t: Tenant| view! { <TenantForm tenant=t /> })}
            <h2>"Channel offers"</h2>
            {loaded(connections, move |cs: Vec<Connection>| {
                if cs.is_empty() {
                    return empty("Connect a platform to set its buffer and allocation.");
                }
                cs.into_iter().map(|c| view! { <OfferForm connection=c connections=connections /> }).collect_view().into_any()
            })}
            <h2>"Members and roles"</h2>
            {loaded(members, move |ms: Vec<Member>| view! { <Members members=ms list=members /> })}
            <h2>"API tokens"</h2>
            {loaded(tokens, move |ts: Vec<ApiToken>| view! { <Tokens tokens=ts list=tokens /> })}
        </section>
    }
}

#[component]
fn TenantForm(tenant: Tenant) -> impl IntoView {
    let session = Session::get();
    let name = RwSignal::new(tenant.name);
    let policy = RwSignal::new(tenant.oversell_policy);
    let every = RwSignal::new(tenant.reconcile_every_minutes.to_string());
    let full = RwSignal::new(tenant.full_reconcile_every_hours.to_string());
    let flash = Flash::new();
    let save = move |e: SubmitEvent| {
        e.prevent_default();
        let (Ok(minutes), Ok(hours)) = (
            every.get_untracked().parse::<i32>(),
            full.get_untracked().parse::<i32>(),
        ) else {
            return flash.fail("Schedules are whole numbers.");
        };
        let body = json!({ "name": name.get_untracked(), "oversell_policy": policy.get_untracked(),
            "reconcile_every_minutes": minutes, "full_reconcile_every_hours": hours });
        let path = session.path("");
        spawn_local(async move {
            let outcome = api::patch::<_, Tenant>(&path, &body).await;
            flash.report(&outcome, "Saved.");
        });
    };
    let read_only = move || !session.can_manage();
    view! {
        <form class="card" on:submit=save aria-label="Organization settings">
            <fieldset disabled=read_only>
                <label>"Name"<input type="text" required maxlength="120" prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e)) /></label>
                <label>"When the last unit sells twice"
                    <select prop:value=move || policy.get() on:change=move |e| policy.set(event_target_value(&e))>
                        <option value="cancel">"Cancel the later order"</option>
                        <option value="backorder">"Backorder it"</option>
                        <option value="hold">"Hold it for review"</option>
                    </select>
                </label>
                <label>"Incremental reconcile every (minutes)"<input type="number" min="5" max="1440" prop:value=move || every.get() on:input=move |e| every.set(event_target_value(&e)) /></label>
                <label>"Full reconcile every (hours)"<input type="number" min="1" max="168" prop:value=move || full.get() on:input=move |e| full.set(event_target_value(&e)) /></label>
                <Show when=move || session.can_manage()><button type="submit" class="primary">"Save"</button></Show>
            </fieldset>
            {flash.view()}
        </form>
    }
}

#[component]
fn OfferForm(connection: Connection, connections: Fetched<Vec<Connection>>) -> impl IntoView {
    let session = Session::get();
    let buffer = RwSignal::new(connection.settings.safety_buffer.to_string());
    let (kind, value) = match &connection.settings.allocation_cap {
        Some(cap) => (
            cap["kind"].as_str().unwrap_or("none").to_owned(),
            cap["value"].to_string(),
        ),
        None => ("none".to_owned(), String::new()),
    };
    let cap_kind = RwSignal::new(kind);
    let cap_value = RwSignal::new(value);
    let sourcing = connection.settings.sourcing.clone();
    let flash = Flash::new();
    let id = connection.id.clone();
    let save = move |e: SubmitEvent| {
        e.prevent_default();
        let Ok(units) = buffer.get_untracked().parse::<i64>() else {
            return flash.fail("The buffer is a whole number of units.");
        };
        let cap: Value = match cap_kind.get_untracked().as_str() {
            "none" => Value::Null,
            kind => match cap_value.get_untracked().parse::<i64>() {
                Ok(v) => json!({ "kind": kind, "value": v }),
                Err(_) => return flash.fail("The cap is a whole number."),
            },
        };
        let body =
            json!({ "safety_buffer": units, "allocation_cap": cap, "sourcing": sourcing.clone() });
        let path = session.path(&format!("/connections/{id}/settings"));
        spawn_local(async move {
            let outcome = api::put::<_, Value>(&path, &body).await;
            flash.report(&outcome, "Saved; offers are recomputed.");
            connections.refresh();
        });
    };
    let label = format!("Offer settings for {}", connection.name);
    view! {
        <form class="card inline" on:submit=save aria-label=label>
            <strong>{connection.name.clone()}</strong>
            <fieldset disabled=move || !session.can_manage()>
                <label>"Safety buffer (units)"<input type="number" min="0" prop:value=move || buffer.get() on:input=move |e| buffer.set(event_target_value(&e)) /></label>
                <label>"Allocation cap"
                    <select prop:value=move || cap_kind.get() on:change=move |e| cap_kind.set(event_target_value(&e))>
                        <option value="none">"None"</option>
                        <option value="percent">"Percent of stock"</option>
                        <option value="units">"Units"</option>
                    </select>
                </label>
                <label>"Cap value"<input type="number" min="0" disabled=move || cap_kind.get() == "none" prop:value=move || cap_value.get() on:input=move |e| cap_value.set(event_target_value(&e)) /></label>
                <Show when=move || session.can_manage()><button type="submit">"Save"</button></Show>
            </fieldset>
            {flash.view()}
        </form>
    }
}

#[component]
fn Members(members: Vec<Member>, list: Fetched<Vec<Member>>) -> impl IntoView {
    let session = Session::get();
    let flash = Flash::new();
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("staff".to_owned());
    let invite = move |e: SubmitEvent| {
        e.prevent_default();
        let body = json!({ "email": email.get_untracked(), "role": role.get_untracked() });
        let path = session.path("/invitations");
        spawn_local(async move {
            let outcome = api::post::<_, Value>(&path, &body).await;
            flash.report(&outcome, "Invitation sent.");
            email.set(String::new());
        });
    };
    view! {
        <table class="grid">
            <caption class="visually-hidden">"Members"</caption>
            <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th></tr></thead>
            <tbody>
                {members.into_iter().map(|m| {
                    let path = session.path(&format!("/members/{}", m.user_id));
                    let label = format!("Role of {}", m.email);
                    let current = m.role.clone();
                    view! {
                        <tr>
                            <th scope="row">{m.email.clone()}</th>
                            <td>
                                <Show when=move || session.can_manage() fallback={ let r = current.clone(); move || words(&r) }>
                                    <select aria-label=label.clone() on:change={
                                        let path = path.clone();
                                        move |e| {
                                            let body = json!({ "role": event_target_value(&e) });
                                            let path = path.clone();
                                            spawn_local(async move {
                                                let outcome = api::patch::<_, Value>(&path, &body).await;
                                                flash.report(&outcome, "Role changed.");
                                                list.refresh();
                                            });
                                        }
                                    }>
                                        {ROLES.iter().map(|r| view! { <option value=*r selected=*r == m.role>{words(r)}</option> }).collect_view()}
                                    </select>
                                </Show>
                            </td>
                            <td>{time(&m.joined_at)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <Show when=move || session.can_manage()>
            <form class="inline" on:submit=invite aria-label="Invite a member">
                <label>"Email"<input type="email" required prop:value=move || email.get() on:input=move |e| email.set(event_target_value(&e)) /></label>
                <label>"Role"
                    <select on:change=move |e| role.set(event_target_value(&e))>
                        {ROLES.iter().map(|r| view! { <option value=*r selected=*r == "staff">{words(r)}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Invite"</button>
            </form>
        </Show>
        {flash.view()}
    }
}

#[component]
fn Tokens(tokens: Vec<ApiToken>, list: Fetched<Vec<ApiToken>>) -> impl IntoView {
    let session = Session::get();
    let flash = Flash::new();
    let name = RwSignal::new(String::new());
    let created = RwSignal::new(None::<String>);
    let create = move |e: SubmitEvent| {
        e.prevent_default();
        let body = json!({ "name": name.get_untracked() });
        let path = session.path("/api-tokens");
        spawn_local(async move {
            let outcome = api::post::<_, ApiToken>(&path, &body).await;
            flash.report(
                &outcome,
                "Token created: copy it now, it is not shown again.",
            );
            created.set(outcome.ok().and_then(|t| t.secret));
            name.set(String::new());
            list.refresh();
        });
    };
    view! {
        {if tokens.is_empty() { empty("No API tokens.") } else { view! {
            <table class="grid">
                <caption class="visually-hidden">"API tokens"</caption>
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Starts with"</th><th scope="col">"Last used"</th><th scope="col"></th></tr></thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let path = session.path(&format!("/api-tokens/{}", t.id));
                        let label = format!("Revoke {}", t.name);
                        view! {
                            <tr>
                                <th scope="row">{t.name.clone()}</th><td>{words(&t.role)}</td><td><code>{t.prefix.clone()}</code></td>
                                <td>{t.last_used_at.as_deref().map(time).unwrap_or_else(|| "never".into())}</td>
                                <td><Show when=move || session.can_operate()>
                                    <button type="button" class="danger" aria-label=label.clone() on:click={
                                        let path = path.clone();
                                        move |_| {
                                            let path = path.clone();
                                            spawn_local(async move {
                                                let outcome = api::delete(&path).await;
                                                flash.report(&outcome, "Revoked.");
                                                list.refresh();
                                            });
                                        }
                                    }>"Revoke"</button>
                                </Show></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any() }}
        <Show when=move || session.can_operate()>
            <form class="inline" on:submit=create aria-label="Create an API token">
                <label>"Name"<input type="text" required prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e)) /></label>
                <button type="submit">"Create token"</button>
            </form>
        </Show>
        {move || created.get().map(|s| view! { <p class="card">"New token: "<code>{s}</code></p> })}
        {flash.view()}
    }
}
