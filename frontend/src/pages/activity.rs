//! Activity: sync and reconcile jobs with progress and ETA, dead letters with replay, and
//! the webhook delivery log; job progress arrives live.

use leptos::{prelude::*, task::spawn_local};
use serde_json::json;

use crate::{
    api,
    format::{age_seconds, ago, duration, time, words},
    live::Live,
    load::fetched,
    model::{Delivery, Job},
    session::Session,
    widgets::{Flash, empty, loaded, progress},
};

/// The activity page.
#[component]
pub fn ActivityPage() -> impl IntoView {
    let session = Session::get();
    let live = Live::get();
    let jobs = fetched(move || {
        live.jobs.track();
        api::get::<Vec<Job>>(session.path("/jobs"))
    });
    let dead =
        fetched(move || api::get::<Vec<Delivery>>(session.path("/inbound-events?status=dead")));
    let log = fetched(move || {
        live.orders.track();
        api::get::<Vec<Delivery>>(session.path("/inbound-events"))
    });
    let flash = Flash::new();
    view! {
        <section>
            <h1>"Activity"</h1>
            <h2>"Sync and reconcile jobs"</h2>
            {loaded(jobs, |rows: Vec<Job>| {
                if rows.is_empty() {
                    return empty("No job has run yet.");
                }
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Jobs"</caption>
                        <thead><tr><th scope="col">"Started"</th><th scope="col">"Kind"</th><th scope="col">"Status"</th><th scope="col">"Progress"</th><th scope="col">"ETA"</th><th scope="col">"Found / repaired"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|j| {
                                let label = format!("{} progress", words(&j.kind));
                                view! {
                                    <tr class:warn=j.error.is_some()>
                                        <td>{time(&j.created_at)}</td>
                                        <td>{words(&j.kind)}</td>
                                        <td><span class=format!("badge {}", j.status)>{words(&j.status)}</span>{j.error.clone().map(|e| view! { <div class="small error">{e}</div> })}</td>
                                        <td>{progress(label, j.done, j.total)}" "{match j.total { Some(t) => format!("{} of {t}", j.done), None => j.done.to_string() }}</td>
                                        <td>{eta(&j)}</td>
                                        <td>{format!("{} / {}", j.found, j.repaired)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
            <h2>"Dead letters"</h2>
            {flash.view()}
            {loaded(dead, move |rows: Vec<Delivery>| {
                if rows.is_empty() {
                    return empty("No dead letters: every delivery was applied.");
                }
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Dead letters"</caption>
                        <thead><tr><th scope="col">"Received"</th><th scope="col">"Event"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th><th scope="col"></th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|d| {
                                let path = session.path(&format!("/inbound-events/{}/replay", d.id));
                                view! {
                                    <tr>
                                        <td>{time(&d.received_at)}</td>
                                        <td><code>{d.external_id.clone()}</code></td>
                                        <td>{d.attempts}</td>
                                        <td>{d.last_error.clone().unwrap_or_default()}</td>
                                        <td>
                                            <Show when=move || session.can_operate()>
                                                <button type="button" on:click={
                                                    let path = path.clone();
                                                    move |_| {
                                                        let path = path.clone();
                                                        spawn_local(async move {
                                                            let outcome = api::post::<_, serde_json::Value>(&path, &json!({})).await;
                                                            flash.report(&outcome, "Queued again.");
                                                            dead.refresh();
                                                        });
                                                    }
                                                }>"Replay"</button>
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
            <h2>"Webhook deliveries"</h2>
            {loaded(log, |rows: Vec<Delivery>| {
                if rows.is_empty() {
                    return empty("No webhook delivery received yet.");
                }
                view! {
                    <table class="grid">
                        <caption class="visually-hidden">"Webhook deliveries"</caption>
                        <thead><tr><th scope="col">"Received"</th><th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().take(100).map(|d| view! {
                                <tr class:warn=d.status == "dead">
                                    <td title=time(&d.received_at)>{ago(&d.received_at)}</td>
                                    <td><code>{d.external_id}</code></td>
                                    <td>{words(&d.status)}</td>
                                    <td>{d.attempts}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// Time left at the job's pace so far.
fn eta(job: &Job) -> String {
    if job.finished_at.is_some() {
        return "done".into();
    }
    match (job.total, age_seconds(&job.created_at)) {
        (Some(total), Some(elapsed)) if job.done > 0 && total > job.done => {
            duration(elapsed * (total - job.done) / job.done)
        }
        _ => "—".into(),
    }
}
