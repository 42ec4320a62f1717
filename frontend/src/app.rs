//! The application shell: sign-in gate, header with tenant switcher, navigation, and the
//! page the address bar names.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    live::Live,
    model::Me,
    pages,
    router::{Link, Route},
    session::Session,
};

/// The pages in the navigation, in order: path and name.
const NAV: [(&str, &str); 8] = [
    ("/", "Portfolio"),
    ("/connections", "Connections"),
    ("/inventory", "Inventory"),
    ("/orders", "Orders"),
    ("/activity", "Activity"),
    ("/compliance", "Compliance"),
    ("/analytics", "Analytics"),
    ("/settings", "Settings"),
];

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    let route = Route::start();
    let live = Live::new();
    provide_context(session);
    provide_context(route);
    provide_context(live);
    let checked = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(me) = api::get::<Me>("/api/v1/me").await {
            session.signed_in(me);
        }
        checked.set(true);
    });
    view! {
        {move || {
            if !checked.get() {
                view! { <p class="boot" role="status">"Loading Concord…"</p> }.into_any()
            } else if session.me.with(Option::is_none) {
                view! { <pages::auth::AuthPage /> }.into_any()
            } else {
                view! { <Shell /> }.into_any()
            }
        }}
    }
}

/// Header, navigation and the current page.
#[component]
fn Shell() -> impl IntoView {
    let session = Session::get();
    let route = Route::get();
    let live = Live::get();
    let stream = StoredValue::new_local(None::<web_sys::EventSource>);
    Effect::new(move |_| {
        let tenant = session.tenant.get();
        stream.update_value(|open| {
            if let Some(old) = open.take() {
                live.close(&old);
            }
            *open = tenant.as_deref().and_then(|t| live.open(t));
        });
    });
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::post::<_, api::Nothing>("/api/v1/auth/logout", &()).await;
            session.signed_out();
            route.go("/");
        });
    };
    view! {
        <header class="top">
            <span class="brand">"Concord"</span>
            <TenantSwitcher />
            <span class="live" class:on=move || live.connected.get() role="status">
                {move || if live.connected.get() { "Live" } else { "Offline" }}
            </span>
            <span class="who">
                {move || session.me.with(|m| m.as_ref().map(|m| m.user.email.clone()))}
                " · "
                {move || session.role().map(|r| crate::format::words(&r))}
            </span>
            <button type="button" class="link" on:click=sign_out>"Sign out"</button>
        </header>
        <nav class="side" aria-label="Main">
            <ul>
                {NAV
                    .iter()
                    .map(|(path, name)| {
                        view! {
                            <li>
                                <Link href=path.to_string()>{*name}</Link>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
        <main id="main" tabindex="-1">
            {move || {
                let _tenant = session.tenant.get();
                match route.section().as_str() {
                    "" => view! { <pages::portfolio::PortfolioPage /> }.into_any(),
                    "connections" => view! { <pages::connections::ConnectionsPage /> }.into_any(),
                    "inventory" => view! { <pages::inventory::InventoryPage /> }.into_any(),
                    "orders" => view! { <pages::orders::OrdersPage /> }.into_any(),
                    "activity" => view! { <pages::activity::ActivityPage /> }.into_any(),
                    "compliance" => view! { <pages::compliance::CompliancePage /> }.into_any(),
                    "analytics" => view! { <pages::analytics::AnalyticsPage /> }.into_any(),
                    "settings" => view! { <pages::settings::SettingsPage /> }.into_any(),
                    _ => {
                        view! {
                            <section>
                                <h1>"Not found"</h1>
                                <p>"There is no page here. Pick one from the navigation."</p>
                            </section>
                        }
                            .into_any()
                    }
                }
            }}
        </main>
    }
}

/// Picks the tenant being viewed.
#[component]
fn TenantSwitcher() -> impl IntoView {
    let session = Session::get();
    view! {
        <label class="tenant">
            <span class="visually-hidden">"Organization"</span>
            <select
                aria-label="Organization"
                on:change=move |e| session.switch(&event_target_value(&e))
                prop:value=move || session.tenant.get().unwrap_or_default()
            >
                {move || {
                    session
                        .me
                        .get()
                        .map(|me| me.memberships)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| {
                            let selected = session.tenant.get().as_deref() == Some(&m.tenant_id);
                            view! {
                                <option value=m.tenant_id.clone() selected=selected>
                                    {m.tenant_name.clone()}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
