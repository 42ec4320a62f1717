//! A small local webhook receiver that records every delivery (headers and raw body) and
//! answers with a status the test chooses — for tests and for watching a simulator by hand.

use std::{
    collections::VecDeque,
    io,
    net::TcpListener,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, dev::ServerHandle, web};

use crate::server::{lock, run_on_thread};

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query it was posted to.
    pub path: String,
    /// Headers as received (names lower-case).
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The status the sink answered.
    pub answered: u16,
}

impl Received {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[derive(Debug, Default)]
struct State {
    received: Vec<Received>,
    /// Statuses for the next deliveries, in order; 200 once empty.
    script: VecDeque<u16>,
    /// Status for every delivery once the script is empty.
    default_status: Option<u16>,
}

/// A running receiver.
pub struct WebhookSink {
    base_url: String,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl WebhookSink {
    /// Starts a receiver on a free port of 127.0.0.1.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let app_state = web::Data::from(state.clone());
        let (handle, thread) = run_on_thread(
            "webhook-sink".into(),
            move || {
                Ok(HttpServer::new(move || {
                    App::new()
                        .app_data(app_state.clone())
                        .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                        .default_service(web::to(receive))
                })
                .workers(1)
                .disable_signals()
                .shutdown_timeout(1)
                .listen(listener)?
                .run())
            },
            || {},
        )?;
        Ok(Self {
            base_url,
            state,
            handle,
            thread: Some(thread),
        })
    }

    /// The URL to point webhooks at (`…/webhooks`; any path is accepted).
    pub fn url(&self) -> String {
        format!("{}/webhooks", self.base_url)
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// Answers the next deliveries with these statuses, in order, then as before.
    pub fn script(&self, statuses: &[u16]) {
        lock(&self.state).script.extend(statuses.iter().copied());
    }

    /// Answers every delivery with `status` (`None`: 200) once the script is used up.
    pub fn always(&self, status: Option<u16>) {
        lock(&self.state).default_status = status;
    }

    /// Forgets what was received.
    pub fn clear(&self) {
        lock(&self.state).received.clear();
    }

    /// Waits until at least `count` deliveries matching `filter` have arrived, or
    /// `timeout`; returns the matching ones.
    pub async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
        filter: impl Fn(&Received) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let matching: Vec<Received> =
                self.received().into_iter().filter(|r| filter(r)).collect();
            if matching.len() >= count || Instant::now() >= deadline {
                return matching;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the receiver.
    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        if let (Some(thread), Ok(runtime)) =
            (self.thread.take(), tokio::runtime::Handle::try_current())
        {
            let _ = runtime.spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        if self.thread.is_some() {
            drop(self.handle.stop(false));
        }
    }
}

async fn receive(
    state: web::Data<Mutex<State>>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let mut state = lock(&state);
    let status = state
        .script
        .pop_front()
        .or(state.default_status)
        .unwrap_or(200);
    state.received.push(Received {
        path: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned()),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        answered: status,
    });
    let status =
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
    HttpResponse::build(status).finish()
}
