//! Inventory: the unified table — one row per SKU, stock per location, offer per channel,
//! discrepancies highlighted — with search, filters, keyset pagination, live updates, a
//! SKU's ledger history and manual adjustments.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde_json::json;

use crate::{
    api,
    format::{time, words},
    live::Live,
    load::{Load, fetched},
    model::{Connection, InventoryRow, Location, Movement, Page},
    session::Session,
    widgets::{Flash, empty, loaded},
};

const PAGE_SIZE: u32 = 50;

/// The inventory page.
#[component]
pub fn InventoryPage() -> impl IntoView {
    let session = Session::get();
    let live = Live::get();
    let typed = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let only_discrepancies = RwSignal::new(false);
    let location = RwSignal::new(String::new());
    // Cursors of the pages before the current one, and the current one's.
    let previous = RwSignal::new(Vec::<Option<String>>::new());
    let cursor = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<InventoryRow>);
    let connections = fetched(move || api::get::<Vec<Connection>>(session.path("/connections")));
    let locations = fetched(move || api::get::<Vec<Location>>(session.path("/locations")));
    let page = fetched(move || {
        let mut query = format!("/inventory?limit={PAGE_SIZE}");
        let q = search.get();
        if !q.is_empty() {
            query.push_str(&format!("&search={}", api::encode(&q)));
        }
        if only_discrepancies.get() {
            query.push_str("&discrepancies=true");
        }
        let at = location.get();
        if !at.is_empty() {
            query.push_str(&format!("&location={at}"));
        }
        if let Some(c) = cursor.get() {
            query.push_str(&format!("&cursor={}", api::encode(&c)));
        }
        api::get::<Page<InventoryRow>>(session.path(&query))
    });
    // Typing settles for 250 ms before the search runs.
    let pending = StoredValue::new(0u32);
    Effect::new(move |_| {
        let text = typed.get();
        let ticket = pending.get_value() + 1;
        pending.set_value(ticket);
        set_timeout(
            move || {
                if pending.get_value() == ticket && search.get_untracked() != text {
                    previous.set(Vec::new());
                    cursor.set(None);
                    search.set(text);
                }
            },
            std::time::Duration::from_millis(250),
        );
    });
    // Offers that change arrive live: shown at once, then the page is read again for stock.
    Effect::new(move |_| {
        let changes = live.stock.get();
        if changes.is_empty() {
            return;
        }
        page.state.update(|state| {
            if let Load::Ready(p) = state {
                for row in &mut p.items {
                    for change in changes.iter().filter(|c| c.sku_id == row.sku_id) {
                        if let Some(a) = row
                            .availability
                            .iter_mut()
                            .find(|a| a.connection_id == change.connection_id)
                        {
                            a.available = change.available;
                        }
                    }
                }
            }
        });
        set_timeout(
            move || page.refresh(),
            std::time::Duration::from_millis(300),
        );
    });
    let reset = move || {
        previous.set(Vec::new());
        cursor.set(None);
    };
    view! {
        <section>
            <h1>"Inventory"</h1>
            <div class="filters" role="search">
                <label>
                    "Search"
                    <input type="search" placeholder="SKU code, title or barcode"
                        prop:value=move || typed.get() on:input=move |e| typed.set(event_target_value(&e)) />
                </label>
                <label>
                    "Location"
                    <select on:change=move |e| { reset(); location.set(event_target_value(&e)); }>
                        <option value="">"All locations"</option>
                        {move || match locations.state.get() {
                            Load::Ready(ls) => ls.into_iter().map(|l| view! { <option value=l.id>{l.name}</option> }).collect_view().into_any(),
                            _ => ().into_any(),
                        }}
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" on:change=move |e| { reset(); only_discrepancies.set(event_target_checked(&e)); } />
                    "Only discrepancies"
                </label>
            </div>
            {loaded(page, move |p: Page<InventoryRow>| {
                if p.items.is_empty() {
                    return empty("No SKU matches. Import a catalog or clear the filters.");
                }
                // Payment processors hold no stock: no column for them.
                let channels: Vec<Connection> = match connections.state.get() {
                    Load::Ready(c) => c.into_iter().filter(|c| c.platform != "stripe").collect(),
                    _ => Vec::new(),
                };
                let next = p.next_cursor.clone();
                view! {
                    <div class="scroll">
                    <table class="grid inventory">
                        <caption class="visually-hidden">"Stock and channel offers per SKU"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"SKU"</th>
                                <th scope="col">"Title"</th>
                                <th scope="col">"Format"</th>
                                <th scope="col" class="num">"On hand"</th>
                                <th scope="col" class="num">"Committed"</th>
                                {channels.iter().map(|c| view! { <th scope="col" class="num" title=c.platform.clone()>{c.name.clone()}</th> }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            {p.items.into_iter().map(|row| {
                                let cells = channels.iter().map(|c| {
                                    let offer = row.availability.iter().find(|a| a.connection_id == c.id).cloned();
                                    match offer {
                                        None => view! { <td class="num muted">"—"</td> }.into_any(),
                                        Some(a) => {
                                            let title = match (a.discrepancy, a.reported, &a.push_error) {
                                                (_, _, Some(err)) => format!("writing failed: {err}"),
                                                (true, Some(r), _) => format!("the platform shows {r}"),
                                                _ => "in step".to_owned(),
                                            };
                                            view! {
                                                <td class="num" class:bad=a.discrepancy || a.push_error.is_some() title=title
                                                    data-sku=row.code.clone() data-channel=c.name.clone()>
                                                    {a.available}
                                                    {a.discrepancy.then(|| view! { <span class="shows">{format!(" (shows {})", a.reported.unwrap_or_default())}</span> })}
                                                </td>
                                            }.into_any()
                                        }
                                    }
                                }).collect_view();
                                let open = row.clone();
                                view! {
                                    <tr class:warn=row.discrepancy>
                                        <th scope="row">
                                            <button type="button" class="link" on:click=move |_| selected.set(Some(open.clone()))>{row.code.clone()}</button>
                                        </th>
                                        <td>{row.title.clone()}{row.is_kit.then_some(" (kit)")}</td>
                                        <td>{words(&row.format)}</td>
                                        <td class="num">{row.on_hand}</td>
                                        <td class="num">{row.committed}</td>
                                        {cells}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                    <div class="pager">
                        <button type="button" disabled=move || previous.with(Vec::is_empty)
                            on:click=move |_| { let back = previous.try_update(|p| p.pop()).flatten().flatten(); cursor.set(back); }>
                            "Previous"
                        </button>
                        <button type="button" disabled=next.is_none()
                            on:click=move |_| { previous.update(|p| p.push(cursor.get_untracked())); cursor.set(next.clone()); }>
                            "Next"
                        </button>
                    </div>
                }.into_any()
            })}
            {move || selected.get().map(|row| view! { <SkuDetail row=row locations=locations.state.get() on_change=move || page.refresh() close=move || selected.set(None) /> })}
        </section>
    }
}

/// A SKU's ledger history and the manual adjustment form.
#[component]
fn SkuDetail(
    row: InventoryRow,
    locations: Load<Vec<Location>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = Session::get();
    let sku = row.sku_id.clone();
    let history = {
        let sku = sku.clone();
        fetched(move || {
            api::get::<Page<Movement>>(session.path(&format!("/skus/{sku}/movements?limit=50")))
        })
    };
    let locations = match locations {
        Load::Ready(l) => l,
        _ => Vec::new(),
    };
    let location_names = locations.clone();
    let at = RwSignal::new(locations.first().map(|l| l.id.clone()).unwrap_or_default());
    let quantity = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let flash = Flash::new();
    let adjust = move |e: SubmitEvent| {
        e.prevent_default();
        let Ok(units) = quantity.get_untracked().trim().parse::<i64>() else {
            return flash.fail("Units must be a whole number, e.g. -2 or 5.");
        };
        let body = json!({ "location_id": at.get_untracked(), "reason": "adjustment", "quantity": units, "note": note.get_untracked() });
        let path = session.path(&format!("/skus/{}/adjustments", sku));
        spawn_local(async move {
            let outcome = api::post::<_, serde_json::Value>(&path, &body).await;
            flash.report(&outcome, "Adjusted; every channel is updated.");
            if outcome.is_ok() {
                quantity.set(String::new());
                note.set(String::new());
                history.refresh();
                on_change();
            }
        });
    };
    view! {
        <aside class="card detail" aria-label="SKU detail">
            <div class="row">
                <h2>{format!("{} — {}", row.code, row.title)}</h2>
                <button type="button" on:click=move |_| close() aria-label="Close SKU detail">"Close"</button>
            </div>
            <p class="muted">{row.barcode.clone().map(|b| format!("Barcode {b}"))}</p>
            <Show when=move || session.can_operate() && !row.is_kit>
                <form class="inline" on:submit=adjust.clone() aria-label="Manual adjustment">
                    <label>"Location"
                        <select on:change=move |e| at.set(event_target_value(&e))>
                            {locations.iter().map(|l| view! { <option value=l.id.clone()>{l.name.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Units (+/−)"
                        <input type="number" step="1" required prop:value=move || quantity.get() on:input=move |e| quantity.set(event_target_value(&e)) />
                    </label>
                    <label>"Reason"
                        <input type="text" required placeholder="Damaged in store" prop:value=move || note.get() on:input=move |e| note.set(event_target_value(&e)) />
                    </label>
                    <button type="submit" class="primary">"Adjust"</button>
                </form>
            </Show>
            {flash.view()}
            <h3>"Ledger history"</h3>
            {loaded(history, move |p: Page<Movement>| {
                if p.items.is_empty() {
                    return empty("No movements yet.");
                }
                let names = location_names.clone();
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Ledger history"</caption>
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Where"</th><th scope="col">"Why"</th><th scope="col" class="num">"Units"</th><th scope="col">"By"</th><th scope="col">"Note"</th></tr></thead>
                        <tbody>
                            {p.items.into_iter().map(|m| {
                                let place = names.iter().find(|l| l.id == m.location_id).map(|l| l.name.clone()).unwrap_or(m.location_id.clone());
                                view! {
                                    <tr>
                                        <td>{time(&m.occurred_at)}</td>
                                        <td>{place}</td>
                                        <td>{words(&m.reason)}</td>
                                        <td class="num">{if m.delta > 0 { format!("+{}", m.delta) } else { m.delta.to_string() }}</td>
                                        <td>{m.actor.clone()}</td>
                                        <td>{m.note.clone().unwrap_or_default()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </aside>
    }
}
