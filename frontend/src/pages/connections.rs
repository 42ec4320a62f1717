//! Connections: connect a platform (OAuth or a key form), see each channel's health,
//! reconnect or disconnect, and map its listings to SKUs.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    api::{self, Nothing},
    format::{ago, duration, words},
    load::{Fetched, fetched},
    model::{Connection, InventoryRow, Listing, MatchReport, Page, PlatformLocation},
    session::Session,
    widgets::{Flash, empty, loaded},
};

/// Platforms Concord can call, with whether they connect by OAuth.
const PLATFORMS: [(&str, &str, bool); 5] = [
    ("shopify", "Shopify", true),
    ("square", "Square", true),
    ("woocommerce", "WooCommerce", false),
    ("lightspeed-r", "Lightspeed Retail (R-Series)", true),
    ("stripe", "Stripe", false),
];

fn platform_name(slug: &str) -> String {
    PLATFORMS
        .iter()
        .find(|(s, _, _)| *s == slug)
        .map(|(_, name, _)| name.to_string())
        .unwrap_or_else(|| slug.to_owned())
}

/// The connections page.
#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let session = Session::get();
    let connections = fetched(move || api::get::<Vec<Connection>>(session.path("/connections")));
    let mapping = RwSignal::new(None::<Connection>);
    let reconnect = RwSignal::new(None::<Connection>);
    view! {
        <section>
            <h1>"Connections"</h1>
            <p class="muted">"The platforms whose stock, orders and payments Concord keeps in step."</p>
            {loaded(connections, move |rows: Vec<Connection>| {
                if rows.is_empty() {
                    return empty("No platform is connected yet. Connect one below.");
                }
                view! { <ConnectionTable rows=rows connections=connections mapping=mapping reconnect=reconnect /> }.into_any()
            })}
            <Show when=move || session.can_manage()>
                <ConnectForm connections=connections reconnect=reconnect />
            </Show>
            {move || mapping.get().map(|c| view! { <Mapping connection=c /> })}
        </section>
    }
}

#[component]
fn ConnectionTable(
    rows: Vec<Connection>,
    connections: Fetched<Vec<Connection>>,
    mapping: RwSignal<Option<Connection>>,
    reconnect: RwSignal<Option<Connection>>,
) -> impl IntoView {
    let session = Session::get();
    let flash = Flash::new();
    let act = move |path: String, body: Value, done: &'static str| {
        spawn_local(async move {
            let outcome = api::post::<_, Value>(&path, &body).await;
            flash.report(&outcome, done);
            connections.refresh();
        });
    };
    view! {
        <table class="grid">
            <caption class="visually-hidden">"Connections"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Platform"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Last sync"</th>
                    <th scope="col">"Lag"</th>
                    <th scope="col">"Rate-limit headroom"</th>
                    <th scope="col">"Write errors"</th>
                    <th scope="col">"Actions"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|c| {
                        let id = c.id.clone();
                        let (sync_id, hooks_id, rec_id, del_id) = (id.clone(), id.clone(), id.clone(), id.clone());
                        let for_map = c.clone();
                        let for_reconnect = c.clone();
                        let headroom = c
                            .rate_headroom
                            .as_ref()
                            .map(|h| format!("{:.0} of {:.0}", h.available, h.burst))
                            .unwrap_or_else(|| "—".into());
                        let ok = c.status == "active" && c.push_errors == 0;
                        view! {
                            <tr class:warn=!ok data-connection=id.clone()>
                                <th scope="row">
                                    {c.name.clone()}
                                    {c.simulator_url.clone().map(|u| view! { <div class="muted small">"Simulator: " <code>{u}</code></div> })}
                                </th>
                                <td>{platform_name(&c.platform)}</td>
                                <td><span class=format!("badge {}", c.status)>{words(&c.status)}</span></td>
                                <td>{c.last_sync_at.as_deref().map(ago).unwrap_or_else(|| "never".into())}</td>
                                <td>{c.lag_seconds.map(duration).unwrap_or_else(|| "none".into())}</td>
                                <td>{headroom}</td>
                                <td class:bad={c.push_errors > 0}>{c.push_errors}</td>
                                <td class="actions">
                                    <button type="button" on:click=move |_| mapping.set(Some(for_map.clone()))>"SKU mapping"</button>
                                    <Show when=move || session.can_manage()>
                                        <button type="button" on:click={
                                            let id = sync_id.clone();
                                            move |_| act(session.path(&format!("/connections/{id}/listings/sync")), json!({}), "Listings matched.")
                                        }>"Match listings"</button>
                                        <button type="button" on:click={
                                            let id = hooks_id.clone();
                                            move |_| act(session.path(&format!("/connections/{id}/webhooks")), json!({}), "Webhooks registered on the platform.")
                                        }>"Register webhooks"</button>
                                        <button type="button" on:click={
                                            let id = rec_id.clone();
                                            move |_| act(session.path(&format!("/connections/{id}/reconcile")), json!({"full": true}), "Full reconcile started: see Activity.")
                                        }>"Reconcile"</button>
                                        <button type="button" on:click={
                                            let c = for_reconnect.clone();
                                            move |_| reconnect.set(Some(c.clone()))
                                        }>"Reconnect"</button>
                                        <button type="button" class="danger" on:click={
                                            let id = del_id.clone();
                                            move |_| {
                                                let path = session.path(&format!("/connections/{id}"));
                                                spawn_local(async move {
                                                    let outcome = api::delete(&path).await;
                                                    flash.report(&outcome, "Disconnected: Concord no longer reads or writes this account.");
                                                    connections.refresh();
                                                });
                                            }
                                        }>"Disconnect"</button>
                                    </Show>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        {flash.view()}
    }
}

#[derive(Serialize)]
struct NewConnection {
    platform: String,
    name: String,
}

/// Connects a new account, or gives an existing connection new access.
#[component]
fn ConnectForm(
    connections: Fetched<Vec<Connection>>,
    reconnect: RwSignal<Option<Connection>>,
) -> impl IntoView {
    let session = Session::get();
    let platform = RwSignal::new("shopify".to_owned());
    let name = RwSignal::new(String::new());
    let base_url = RwSignal::new(String::new());
    let use_oauth = RwSignal::new(true);
    let token = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let webhook_secret = RwSignal::new(String::new());
    let flash = Flash::new();
    Effect::new(move |_| {
        if let Some(c) = reconnect.get() {
            platform.set(c.platform.clone());
            name.set(c.name.clone());
            if let Some(url) = c.simulator_url {
                base_url.set(url);
            }
        }
    });
    let oauth_capable = move || PLATFORMS.iter().any(|(s, _, o)| *s == platform.get() && *o);
    let oauth = move || oauth_capable() && use_oauth.get();
    let submit = move |e: SubmitEvent| {
        e.prevent_default();
        let existing = reconnect.get_untracked().map(|c| c.id);
        let new = NewConnection {
            platform: platform.get_untracked(),
            name: name.get_untracked(),
        };
        let url = base_url.get_untracked();
        let by_oauth = oauth();
        let credentials = if platform.get_untracked() == "woocommerce" {
            json!({ "api_key": key.get_untracked(), "api_secret": secret.get_untracked() })
        } else {
            json!({ "access_token": token.get_untracked() })
        };
        let hook_secret = Some(webhook_secret.get_untracked()).filter(|s| !s.is_empty());
        spawn_local(async move {
            let id = match existing {
                Some(id) => id,
                None => match api::post::<_, Connection>(&session.path("/connections"), &new).await
                {
                    Ok(c) => c.id,
                    Err(e) => return flash.fail(e.message),
                },
            };
            if by_oauth {
                let started = api::post::<_, Value>(
                    &session.path(&format!("/connections/{id}/oauth")),
                    &json!({ "base_url": url }),
                )
                .await;
                match started.map(|v| v["authorize_url"].as_str().map(str::to_owned)) {
                    Ok(Some(to)) => {
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().assign(&to);
                        }
                    }
                    Ok(None) => flash.fail("the platform gave no approval page"),
                    Err(e) => flash.fail(e.message),
                }
                connections.refresh();
                return;
            }
            let access = json!({ "base_url": url, "credentials": credentials, "webhook_secret": hook_secret });
            let outcome = api::put::<_, Nothing>(
                &session.path(&format!("/connections/{id}/access")),
                &access,
            )
            .await;
            flash.report(
                &outcome,
                "Connected. Match its listings next (SKU mapping).",
            );
            if outcome.is_ok() {
                reconnect.set(None);
            }
            connections.refresh();
        });
    };
    view! {
        <h2>{move || if reconnect.get().is_some() { "Reconnect" } else { "Connect a platform" }}</h2>
        <form class="card" on:submit=submit aria-label="Connect a platform">
            <label>
                "Platform"
                <select
                    name="platform"
                    aria-label="Platform"
                    disabled=move || reconnect.get().is_some()
                    prop:value=move || platform.get()
                    on:change=move |e| platform.set(event_target_value(&e))
                >
                    {PLATFORMS.iter().map(|(slug, label, _)| view! { <option value=*slug>{*label}</option> }).collect_view()}
                </select>
            </label>
            <label>
                "Name"
                <input type="text" name="name" required placeholder="Online store"
                    disabled=move || reconnect.get().is_some()
                    prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e)) />
            </label>
            <label>
                "Store address (API base URL)"
                <input type="url" name="base_url" required placeholder="https://shop.example.com"
                    prop:value=move || base_url.get() on:input=move |e| base_url.set(event_target_value(&e)) />
            </label>
            <Show when=oauth_capable>
                <fieldset>
                    <legend>"How to connect"</legend>
                    <label class="check">
                        <input type="radio" name="how" checked=move || use_oauth.get() on:change=move |_| use_oauth.set(true) />
                        "Approve Concord on the platform (OAuth)"
                    </label>
                    <label class="check">
                        <input type="radio" name="how" checked=move || !use_oauth.get() on:change=move |_| use_oauth.set(false) />
                        "Paste an access token"
                    </label>
                </fieldset>
            </Show>
            <Show when=move || !oauth()>
                <Show
                    when=move || platform.get() == "woocommerce"
                    fallback=move || view! {
                        <label>
                            {move || if platform.get() == "stripe" { "Secret key" } else { "Access token" }}
                            <input type="password" name="access_token" autocomplete="off"
                                prop:value=move || token.get() on:input=move |e| token.set(event_target_value(&e)) />
                        </label>
                    }
                >
                    <label>
                        "Consumer key"
                        <input type="text" name="api_key" autocomplete="off"
                            prop:value=move || key.get() on:input=move |e| key.set(event_target_value(&e)) />
                    </label>
                    <label>
                        "Consumer secret"
                        <input type="password" name="api_secret" autocomplete="off"
                            prop:value=move || secret.get() on:input=move |e| secret.set(event_target_value(&e)) />
                    </label>
                </Show>
                <label>
                    "Webhook signing secret (optional)"
                    <input type="password" name="webhook_secret" autocomplete="off"
                        prop:value=move || webhook_secret.get() on:input=move |e| webhook_secret.set(event_target_value(&e)) />
                </label>
            </Show>
            {flash.view()}
            <div class="row">
                <button type="submit" class="primary">
                    {move || if oauth() { "Continue to the platform" } else { "Connect" }}
                </button>
                <Show when=move || reconnect.get().is_some()>
                    <button type="button" on:click=move |_| reconnect.set(None)>"Cancel"</button>
                </Show>
            </div>
        </form>
    }
}

/// A connection's listings: matching report, unmatched listings and collisions, manual
/// mapping by SKU code.
#[component]
fn Mapping(connection: Connection) -> impl IntoView {
    let session = Session::get();
    let id = connection.id.clone();
    let listings = {
        let id = id.clone();
        fetched(move || {
            api::get::<Vec<Listing>>(session.path(&format!("/connections/{id}/listings")))
        })
    };
    let report = RwSignal::new(None::<MatchReport>);
    let flash = Flash::new();
    let sync_id = id.clone();
    let match_now = move |_| {
        let path = session.path(&format!("/connections/{sync_id}/listings/sync"));
        spawn_local(async move {
            let outcome = api::post::<_, MatchReport>(&path, &json!({})).await;
            flash.report(&outcome, "Listings matched.");
            report.set(outcome.ok());
            listings.refresh();
        });
    };
    view! {
        <section class="card" aria-label="SKU mapping">
            <h2>{format!("SKU mapping — {}", connection.name)}</h2>
            <Show when=move || session.can_manage()>
                <button type="button" on:click=match_now.clone()>"Match by SKU, then barcode"</button>
            </Show>
            {flash.view()}
            {move || report.get().map(|r| view! {
                <p class="summary">
                    {format!("{} listings: {} matched by SKU, {} by barcode, {} already matched, {} unmatched, {} duplicate codes.",
                        r.listed, r.matched_by_sku, r.matched_by_barcode, r.already_matched, r.unmatched.len(), r.collisions.len())}
                </p>
                {(!r.collisions.is_empty()).then(|| view! {
                    <h3>"Collisions"</h3>
                    <ul>{r.collisions.into_iter().map(|c| view! { <li><code>{c.code}</code>": " {c.external_item_ids.join(", ")}</li> }).collect_view()}</ul>
                })}
            })}
            <PlatformLocations connection_id=connection.id.clone() />
            {loaded(listings, move |rows: Vec<Listing>| {
                if rows.is_empty() {
                    return empty("No listings read from this platform yet: match listings to read them.");
                }
                let unmatched = rows.iter().filter(|l| l.sku_id.is_none()).count();
                let id = id.clone();
                view! {
                    <p>{format!("{} listings, {} unmatched.", rows.len(), unmatched)}</p>
                    <table class="grid">
                        <caption class="visually-hidden">"Listings"</caption>
                        <thead><tr>
                            <th scope="col">"Listing"</th><th scope="col">"Title"</th><th scope="col">"SKU code"</th>
                            <th scope="col">"Barcode"</th><th scope="col">"Matched"</th><th scope="col">"Map to SKU"</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|l| view! { <ListingRow listing=l connection_id=id.clone() listings=listings /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn ListingRow(
    listing: Listing,
    connection_id: String,
    listings: Fetched<Vec<Listing>>,
) -> impl IntoView {
    let session = Session::get();
    let code = RwSignal::new(String::new());
    let flash = Flash::new();
    let listing_id = listing.id;
    let map = move |e: SubmitEvent| {
        e.prevent_default();
        let wanted = code.get_untracked();
        let search = session.path(&format!(
            "/inventory?limit=5&search={}",
            api::encode(&wanted)
        ));
        let path = session.path(&format!(
            "/connections/{connection_id}/listings/{listing_id}"
        ));
        spawn_local(async move {
            let found = api::get::<Page<InventoryRow>>(&search).await;
            let sku = match found {
                Ok(page) => page
                    .items
                    .into_iter()
                    .find(|r| r.code.eq_ignore_ascii_case(&wanted)),
                Err(e) => return flash.fail(e.message),
            };
            let Some(sku) = sku else {
                return flash.fail(format!("no SKU has the code {wanted}"));
            };
            let outcome = api::put::<_, Nothing>(&path, &json!({ "sku_id": sku.sku_id })).await;
            flash.report(&outcome, "Mapped.");
            listings.refresh();
        });
    };
    let label = format!("SKU code for listing {}", listing.external_item_id);
    view! {
        <tr class:warn=listing.sku_id.is_none()>
            <td><code>{listing.external_item_id.clone()}</code></td>
            <td>{listing.title.clone().unwrap_or_default()}</td>
            <td>{listing.sku_code.clone().unwrap_or_default()}</td>
            <td>{listing.barcode.clone().unwrap_or_default()}</td>
            <td>{listing.matched_by.clone().map(|m| words(&m)).unwrap_or_else(|| "unmatched".into())}</td>
            <td>
                <Show when=move || session.can_manage() fallback=|| "—">
                    <form class="inline" on:submit=map.clone()>
                        <input type="text" aria-label=label.clone() placeholder="SKU code" required
                            prop:value=move || code.get() on:input=move |e| code.set(event_target_value(&e)) />
                        <button type="submit">"Map"</button>
                    </form>
                </Show>
                {flash.view()}
            </td>
        </tr>
    }
}

/// The platform's locations and the Concord location each one's stock and sales belong to.
#[component]
fn PlatformLocations(connection_id: String) -> impl IntoView {
    let session = Session::get();
    let id = connection_id.clone();
    let places = fetched(move || {
        api::get::<Vec<PlatformLocation>>(
            session.path(&format!("/connections/{id}/platform-locations")),
        )
    });
    let ours = fetched(move || api::get::<Vec<crate::model::Location>>(session.path("/locations")));
    let flash = Flash::new();
    view! {
        <h3>"Locations"</h3>
        {flash.view()}
        {loaded(places, move |rows: Vec<PlatformLocation>| {
            if rows.is_empty() {
                return empty("The platform lists no locations.");
            }
            let options = match ours.state.get() {
                crate::load::Load::Ready(ls) => ls,
                _ => Vec::new(),
            };
            let connection_id = connection_id.clone();
            view! {
                <table class="grid">
                    <caption class="visually-hidden">"Platform locations"</caption>
                    <thead><tr><th scope="col">"On the platform"</th><th scope="col">"Concord location"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|p| {
                            let path = session.path(&format!("/connections/{connection_id}/location-map"));
                            let label = format!("Concord location for {}", p.name);
                            let external = p.id.clone();
                            view! {
                                <tr>
                                    <th scope="row">{p.name.clone()}</th>
                                    <td>
                                        <select aria-label=label disabled=move || !session.can_manage() on:change=move |e| {
                                            let chosen = event_target_value(&e);
                                            let body = if chosen.is_empty() {
                                                json!({ "location_id": p.mapped_to, "external_location_id": null })
                                            } else {
                                                json!({ "location_id": chosen, "external_location_id": external })
                                            };
                                            let path = path.clone();
                                            spawn_local(async move {
                                                let outcome = api::put::<_, Nothing>(&path, &body).await;
                                                flash.report(&outcome, "Location mapped.");
                                                places.refresh();
                                            });
                                        }>
                                            <option value="">"Not mapped"</option>
                                            {options.iter().map(|l| view! {
                                                <option value=l.id.clone() selected=p.mapped_to.as_deref() == Some(l.id.as_str())>{l.name.clone()}</option>
                                            }).collect_view()}
                                        </select>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        })}
    }
}
