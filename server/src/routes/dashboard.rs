//! The dashboard bundle: its static files from `dashboard_dir` (gzipped when the browser
//! accepts it and the build wrote a `.gz`), and `index.html` for the app's own paths so a
//! reload or a link lands on the right page.

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY},
    web,
};

use crate::state::AppState;

/// The app's pages: the first path segment the dashboard routes itself.
pub const PAGES: [&str; 9] = [
    "signup",
    "connections",
    "inventory",
    "orders",
    "activity",
    "compliance",
    "analytics",
    "settings",
    "portfolio",
];

/// The bundle's files and their content types.
const ASSETS: [(&str, &str); 4] = [
    ("dashboard.js", "text/javascript; charset=utf-8"),
    ("dashboard_bg.wasm", "application/wasm"),
    ("style.css", "text/css; charset=utf-8"),
    ("favicon.svg", "image/svg+xml"),
];

/// Registers `/`, the app's pages and the bundle's files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(index)));
    for page in PAGES {
        cfg.service(web::resource(format!("/{page}")).route(web::get().to(index)))
            .service(web::resource(format!("/{page}/{{rest:.*}}")).route(web::get().to(index)));
    }
    for (file, _) in ASSETS {
        cfg.service(web::resource(format!("/{file}")).route(web::get().to(asset)));
    }
}

/// The app's page: `index.html`, or how to build the dashboard when it is missing.
async fn index(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match send(&state, &req, "index.html", "text/html; charset=utf-8").await {
        Some(response) => response,
        None => HttpResponse::ServiceUnavailable()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><title>Concord</title><h1>The dashboard is not built</h1>\
                 <p>Build it with <code>cargo run --release --manifest-path frontend/Cargo.toml -p xtask</code> \
                 (it looks in <code>{}</code>), or use the API: <a href=\"/api/docs/\">/api/docs/</a>.</p>",
                state.settings.dashboard_dir.display()
            )),
    }
}

/// One of the bundle's files.
async fn asset(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let name = req.path().trim_start_matches('/');
    let Some((file, content_type)) = ASSETS.iter().find(|(f, _)| *f == name) else {
        return HttpResponse::NotFound().finish();
    };
    send(&state, &req, file, content_type)
        .await
        .unwrap_or_else(|| HttpResponse::NotFound().finish())
}

/// Reads `file` from the dashboard directory, preferring its gzipped copy.
async fn send(
    state: &AppState,
    req: &HttpRequest,
    file: &str,
    content_type: &str,
) -> Option<HttpResponse> {
    let dir = &state.settings.dashboard_dir;
    let gzip_ok = req
        .headers()
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    let cache = if file == "index.html" {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    let zipped = if gzip_ok {
        tokio::fs::read(dir.join(format!("{file}.gz"))).await.ok()
    } else {
        None
    };
    if let Some(bytes) = zipped {
        return Some(
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, content_type))
                .insert_header((CONTENT_ENCODING, "gzip"))
                .insert_header((VARY, "Accept-Encoding"))
                .insert_header((CACHE_CONTROL, cache))
                .body(bytes),
        );
    }
    let bytes = tokio::fs::read(dir.join(file)).await.ok()?;
    Some(
        HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, content_type))
            .insert_header((VARY, "Accept-Encoding"))
            .insert_header((CACHE_CONTROL, cache))
            .body(bytes),
    )
}
