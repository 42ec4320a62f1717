//! Sign in and sign up.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde::Serialize;

use crate::{api, model::Me, router::Route, session::Session, widgets::Flash};

#[derive(Serialize)]
struct Credentials {
    email: String,
    password: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<String>,
}

/// The sign-in and sign-up forms.
#[component]
pub fn AuthPage() -> impl IntoView {
    let session = Session::get();
    let route = Route::get();
    let signing_up = RwSignal::new(route.0.get_untracked() == "/signup");
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let organization = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let flash = Flash::new();
    let submit = move |e: SubmitEvent| {
        e.prevent_default();
        let up = signing_up.get_untracked();
        let form = Credentials {
            email: email.get_untracked(),
            password: password.get_untracked(),
            organization: up.then(|| organization.get_untracked()),
        };
        busy.set(true);
        spawn_local(async move {
            let path = if up {
                "/api/v1/auth/signup"
            } else {
                "/api/v1/auth/login"
            };
            let outcome = api::post::<_, serde_json::Value>(path, &form).await;
            let outcome = match outcome {
                Ok(_) => api::get::<Me>("/api/v1/me").await,
                Err(e) => Err(e),
            };
            busy.set(false);
            match outcome {
                Ok(me) => {
                    session.signed_in(me);
                    route.go(if up { "/connections" } else { "/" });
                }
                Err(e) => flash.report::<()>(&Err(e), ""),
            }
        });
    };
    view! {
        <main class="auth">
            <h1>"Concord"</h1>
            <p class="muted">"One truth about stock, orders and payments across every channel."</p>
            <div class="tabs" role="tablist">
                <button
                    type="button"
                    role="tab"
                    aria-selected=move || (!signing_up.get()).to_string()
                    on:click=move |_| signing_up.set(false)
                >
                    "Sign in"
                </button>
                <button
                    type="button"
                    role="tab"
                    aria-selected=move || signing_up.get().to_string()
                    on:click=move |_| signing_up.set(true)
                >
                    "Sign up"
                </button>
            </div>
            <form on:submit=submit class="card">
                <label>
                    "Email"
                    <input
                        type="email"
                        name="email"
                        autocomplete="username"
                        required
                        prop:value=move || email.get()
                        on:input=move |e| email.set(event_target_value(&e))
                    />
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        autocomplete=move || {
                            if signing_up.get() { "new-password" } else { "current-password" }
                        }
                        required
                        minlength=move || signing_up.get().then_some("10")
                        prop:value=move || password.get()
                        on:input=move |e| password.set(event_target_value(&e))
                    />
                </label>
                <Show when=move || signing_up.get()>
                    <label>
                        "Organization"
                        <input
                            type="text"
                            name="organization"
                            required
                            prop:value=move || organization.get()
                            on:input=move |e| organization.set(event_target_value(&e))
                        />
                    </label>
                </Show>
                {flash.view()}
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if signing_up.get() { "Create account" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
