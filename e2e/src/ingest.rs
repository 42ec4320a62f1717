//! The `ingest` scenario: signed webhook deliveries to the real HTTP server on loopback,
//! acknowledged by the intake, then applied by the worker; the ledger is checked after.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    time::{Duration, Instant},
};

use actix_web::HttpServer;
use concord_connectors::standard_webhooks;
use concord_domain::ConnectionId;
use concord_server::{app::app, state::AppState, worker};
use concord_storage::test_support::TestDatabase;
use serde_json::json;

use crate::scenarios::{START_STOCK, percentile_ms, round, settings, shop};

/// SKUs the deliveries spread over.
const SKUS: usize = 1000;

/// Sends `events` deliveries with `concurrency` keep-alive connections, as fast as they are
/// answered or, with a `rate`, on a schedule of that many per second; every tenth is sent
/// twice (a redelivery) to check it is acknowledged but applied once.
pub async fn ingest(
    database_url: Option<String>,
    redis_url: Option<String>,
    events: usize,
    concurrency: usize,
    rate: Option<f64>,
    writers: usize,
) -> anyhow::Result<String> {
    // The yardstick first, on its own: single-row inserts as PostgreSQL's pgbench commits them.
    let yardstick = match database_url.clone() {
        Some(url) if url.starts_with("postgres") => Some(
            tokio::task::spawn_blocking(move || crate::pgbench::insert_tps(&url, concurrency))
                .await?,
        ),
        _ => None,
    };
    let db = TestDatabase::create_on(database_url.as_deref(), 16).await?;
    let settings = settings(
        redis_url,
        &format!("redis_prefix = \"concord-bench\"\nintake_writers = {writers}"),
    )?;
    let state = AppState::build(settings, db.store.clone()).await?;
    let (connection, secret) = setup(&state).await?;
    let (addr, control) = start_server(state.clone())?;

    let started = Instant::now();
    let mut clients = Vec::new();
    for worker in 0..concurrency {
        let (connection, secret) = (connection.to_string(), secret.clone());
        let share = Share {
            worker,
            workers: concurrency,
            events,
            schedule: rate.map(|per_s| (started, per_s)),
        };
        clients.push(tokio::task::spawn_blocking(move || {
            send_share(addr, &connection, &secret, share)
        }));
    }
    let mut latencies = Vec::with_capacity(events);
    for client in clients {
        latencies.extend(client.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    while worker::process_inbound(&state).await > 0 {}

    let stored = db.count("SELECT count(*) FROM inbound_events").await?;
    let processed = db
        .count("SELECT count(*) FROM inbound_events WHERE status = 'processed'")
        .await?;
    let on_hand = db
        .count("SELECT CAST(sum(on_hand) AS BIGINT) FROM stock_levels")
        .await?;
    let removed = SKUS as i64 * START_STOCK - on_hand;
    latencies.sort();
    let line = json!({
        "scenario": "ingest",
        "backend": if db.schema().is_some() { "postgres" } else { "sqlite" },
        "events": events,
        "concurrency": concurrency,
        "intake_writers": writers,
        "rate_per_s": rate,
        "pgbench_insert_tps": yardstick.as_ref().and_then(|y| y.as_ref().ok()).map(|tps| round(*tps)),
        "pgbench_note": yardstick.and_then(Result::err),
        "events_per_s": round(latencies.len() as f64 / seconds),
        "p50_ms": percentile_ms(&latencies, 0.50),
        "p99_ms": percentile_ms(&latencies, 0.99),
        "lost": (events as i64 - stored).max(0) + (events as i64 - processed).max(0) + (events as i64 - removed).max(0),
        "duplicates_applied": (stored - events as i64).max(0) + (removed - events as i64).max(0),
    });
    // Pool connections opened on the server's runtime die with it: finish with the database
    // before stopping the server.
    db.cleanup().await?;
    control.stop(true).await;
    Ok(line.to_string())
}

/// Runs the HTTP server on its own actix system thread; returns its address and handle.
pub(crate) fn start_server(
    state: AppState,
) -> anyhow::Result<(SocketAddr, actix_web::dev::ServerHandle)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let bound = HttpServer::new(move || app(state.clone()))
                .workers(2)
                .bind(("127.0.0.1", 0));
            match bound {
                Ok(server) => {
                    let addr = server.addrs()[0];
                    let running = server.run();
                    let _ = tx.send(Ok((addr, running.handle())));
                    let _ = running.await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    Ok(rx.recv()??)
}

async fn setup(state: &AppState) -> anyhow::Result<(ConnectionId, String)> {
    let shop = shop(&state.store, SKUS, 1, "standard-webhooks").await?;
    let connection = shop.connections[0].clone();
    let secret = "whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtYmVuY2gtd2ViaG9vaw==".to_owned();
    let sealed = state.secrets.seal(&secret)?;
    state
        .store
        .scoped(&shop.scope)
        .set_webhook_secret(&connection, sealed, "bench")
        .await?;
    Ok((connection, secret))
}

/// One client's share of the deliveries: every `workers`-th from `worker` on.
struct Share {
    worker: usize,
    workers: usize,
    events: usize,
    /// When the run started and the deliveries per second all clients send together; `None`
    /// sends each as soon as the previous one is answered.
    schedule: Option<(Instant, f64)>,
}

/// One client's share of the deliveries, over one keep-alive connection; returns each
/// acknowledgement's latency. On a schedule, latency counts from when the delivery was due,
/// so a slow answer that delays the next delivery is counted in full.
fn send_share(
    addr: SocketAddr,
    connection: &str,
    secret: &str,
    share: Share,
) -> anyhow::Result<Vec<Duration>> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut stream = BufReader::new(stream);
    let mut latencies = Vec::new();
    for n in (share.worker..share.events).step_by(share.workers) {
        let due = share.schedule.map(|(started, per_s)| {
            let due = started + Duration::from_secs_f64(n as f64 / per_s);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            due
        });
        let body = json!({ "events": [{ "event_id": format!("e-{n}"), "occurred_at": "2026-11-28T09:00:00Z",
            "type": "stock_adjusted", "sku": crate::scenarios::sku_code(n % SKUS), "location": null, "delta": -1, "note": null }] })
        .to_string();
        let id = format!("msg-{n}");
        let sends = if n % 10 == 0 { 2 } else { 1 };
        for attempt in 0..sends {
            let timestamp = chrono::Utc::now().timestamp().to_string();
            let signature = standard_webhooks::signature(secret, &id, &timestamp, body.as_bytes())?;
            let request = format!(
                "POST /webhooks/standard-webhooks/{connection} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nwebhook-id: {id}\r\nwebhook-timestamp: {timestamp}\r\nwebhook-signature: v1,{signature}\r\n\r\n{body}",
                body.len()
            );
            let sent = Instant::now();
            stream.get_mut().write_all(request.as_bytes())?;
            let status = read_response(&mut stream)?;
            anyhow::ensure!(
                status == 202 || (attempt == 1 && status == 200),
                "delivery {id} answered {status}"
            );
            if attempt == 0 {
                latencies.push(due.unwrap_or(sent).elapsed());
            }
        }
    }
    Ok(latencies)
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns its status.
fn read_response(stream: &mut BufReader<TcpStream>) -> anyhow::Result<u16> {
    let mut status = 0;
    let mut length = 0;
    let mut line = String::new();
    loop {
        line.clear();
        anyhow::ensure!(stream.read_line(&mut line)? > 0, "connection closed");
        if line == "\r\n" {
            break;
        }
        if status == 0 {
            status = line
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        } else if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(status)
}
