//! Paths in the address bar: the page shown follows them, links change them without a
//! reload, and the browser's back button works.

use leptos::{ev, prelude::*};
use wasm_bindgen::{JsCast, closure::Closure};

/// The current path, shared through context.
#[derive(Clone, Copy)]
pub struct Route(pub RwSignal<String>);

impl Route {
    /// Starts following the address bar.
    pub fn start() -> Self {
        let route = Route(RwSignal::new(current_path()));
        let on_pop = Closure::<dyn Fn()>::new(move || route.0.set(current_path()));
        if let Some(window) = web_sys::window() {
            let _ = window
                .add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
        }
        on_pop.forget();
        route
    }

    /// The route from context.
    pub fn get() -> Self {
        expect_context::<Route>()
    }

    /// The path's first segment, e.g. `inventory` for `/inventory/sku_1`.
    pub fn section(&self) -> String {
        self.0
            .get()
            .trim_start_matches('/')
            .split(['/', '?'])
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Goes to `path`, adding it to the history.
    pub fn go(&self, path: &str) {
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
        }
        self.0.set(path.to_owned());
    }
}

fn current_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into())
}

/// A link that changes the page without reloading (a modified click still opens a tab).
#[component]
pub fn Link(
    /// Where to.
    href: String,
    /// Extra classes.
    #[prop(optional, into)]
    class: String,
    /// Its content.
    children: Children,
) -> impl IntoView {
    let route = Route::get();
    let target = href.clone();
    let current = href.clone();
    view! {
        <a
            href=href
            class=class
            aria-current=move || (route.0.get() == current).then_some("page")
            on:click=move |e: ev::MouseEvent| {
                if !(e.ctrl_key() || e.meta_key() || e.shift_key()) {
                    e.prevent_default();
                    route.go(&target);
                }
            }
        >
            {children()}
        </a>
    }
}
