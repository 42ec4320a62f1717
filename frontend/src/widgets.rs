//! Small pieces every page uses: loading, error and empty states, action messages,
//! progress bars.

use leptos::prelude::*;

use crate::{
    api::ApiResult,
    load::{Fetched, Load},
};

/// Shows fetched data with `ready`, or its loading or error state.
pub fn loaded<T, V>(
    data: Fetched<T>,
    ready: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || match data.state.get() {
        Load::Loading => view! { <p class="muted" role="status">"Loading…"</p> }.into_any(),
        Load::Failed(e) => view! {
            <p class="error" role="alert">
                {e.message}
            </p>
        }
        .into_any(),
        Load::Ready(value) => ready(value).into_any(),
    }
}

/// What an empty list says instead.
pub fn empty(message: &'static str) -> AnyView {
    view! { <p class="empty">{message}</p> }.into_any()
}

/// The outcome of the last action on a page, shown until the next one.
#[derive(Clone, Copy)]
pub struct Flash(RwSignal<Option<Result<String, String>>>);

impl Flash {
    /// Nothing to say yet.
    pub fn new() -> Self {
        Self(RwSignal::new(None))
    }

    /// Says how an action went: `done` on success, the server's message otherwise.
    pub fn report<T>(&self, outcome: &ApiResult<T>, done: &str) {
        self.0.set(Some(match outcome {
            Ok(_) => Ok(done.to_owned()),
            Err(e) => Err(e.message.clone()),
        }));
    }

    /// Says something went wrong before any call was made.
    pub fn fail(&self, message: impl Into<String>) {
        self.0.set(Some(Err(message.into())));
    }

    /// The message, styled for success or failure.
    pub fn view(self) -> impl IntoView {
        let state = self.0;
        move || match state.get() {
            Some(Ok(m)) => view! { <p class="flash ok" role="status">{m}</p> }.into_any(),
            Some(Err(m)) => view! { <p class="flash error" role="alert">{m}</p> }.into_any(),
            None => ().into_any(),
        }
    }
}

/// A labelled progress bar; `total` unknown shows an indeterminate bar.
pub fn progress(label: String, done: i64, total: Option<i64>) -> impl IntoView {
    let (max, value) = match total {
        Some(t) if t > 0 => (t.to_string(), Some(done.min(t).to_string())),
        _ => ("1".to_owned(), None),
    };
    view! { <progress aria-label=label max=max value=value></progress> }
}
