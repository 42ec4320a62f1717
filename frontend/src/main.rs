//! The Concord dashboard: a client-side Leptos app served at `/` that uses only the public
//! `/api/v1` API and the live-update stream.

mod api;
mod app;
mod format;
mod live;
mod load;
mod model;
mod pages;
mod router;
mod session;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
