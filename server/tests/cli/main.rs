//! The `concord` binary as a user runs it: migrate, serve, worker, configuration errors,
//! graceful shutdown. Runs on SQLite with a clean environment. `compliance`: `audit verify`
//! and `report`.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

mod compliance;

fn concord(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CONCORD_DATA_DIR", data_dir)
        .env("CONCORD_LOG_FORMAT", "json");
    cmd
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concord-cli-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A plain HTTP/1.1 GET; returns the status line and body.
fn http_get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

/// A plain HTTP/1.1 POST of a JSON body; returns the status line and body.
fn http_post_json(port: u16, path: &str, body: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

fn wait_until_serving(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http_get(port, "/healthz").is_some_and(|(status, _)| status.contains("200")) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early with {status}");
        }
        sleep(Duration::from_millis(100));
    }
    panic!("server did not answer /healthz within 60 s");
}

fn terminate(child: Child) -> Output {
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(killed.success());
    child.wait_with_output().expect("exit")
}

#[test]
fn migrate_applies_the_schema_once() {
    let dir = temp_dir();
    let url = format!("sqlite://{}?mode=rwc", dir.join("m.db").display());
    let first = concord(&dir)
        .args(["migrate", "--database-url", &url])
        .output()
        .expect("run");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("the schema is up to date") && !stdout.contains("applied 0"),
        "{stdout}"
    );
    let again = concord(&dir)
        .args(["migrate", "--database-url", &url])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&again.stdout).contains("applied 0 migration(s)"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn production_mode_refuses_to_start_without_secrets_and_says_why() {
    let dir = temp_dir();
    let out = concord(&dir)
        .env("CONCORD_MODE", "production")
        .arg("serve")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("session_key: required in production mode"),
        "{stderr}"
    );
    assert!(
        stderr.contains("token_encryption_key: required in production mode"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn production_mode_refuses_pending_migrations() {
    let dir = temp_dir();
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let out = concord(&dir)
        .env("CONCORD_MODE", "production")
        .env("CONCORD_SESSION_KEY", key)
        .env("CONCORD_TOKEN_ENCRYPTION_KEY", key)
        .args(["serve", "--bind", &format!("127.0.0.1:{}", free_port())])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `concord migrate` first"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unknown_configuration_keys_are_refused() {
    let dir = temp_dir();
    let file = dir.join("concord.toml");
    std::fs::write(&file, "bnid = \"127.0.0.1:1\"\n").expect("write");
    let out = concord(&dir)
        .arg("--config")
        .arg(&file)
        .arg("serve")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bnid"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_answers_then_shuts_down_gracefully_on_sigterm() {
    let dir = temp_dir();
    let port = free_port();
    let mut child = concord(&dir)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_until_serving(port, &mut child);
    let (status, body) = http_get(port, "/readyz").expect("readyz");
    assert!(status.contains("200"), "{status} {body}");
    assert!(body.contains("\"queue\":\"embedded\""), "{body}");
    assert!(
        dir.join("concord.db").exists(),
        "SQLite file in the data dir"
    );
    let out = terminate(child);
    assert!(out.status.success(), "exit {:?}", out.status);
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(logs.contains("\"message\":\"stopped\""), "{logs}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn worker_runs_until_sigterm() {
    let dir = temp_dir();
    let mut child = concord(&dir)
        .arg("worker")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read its log on a thread; terminate once it says it started (migrations done).
    let stdout = child.stdout.take().expect("stdout");
    let (lines, seen) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = seen
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the worker never said it started");
        if line.contains("worker started") {
            break;
        }
    }
    let out = terminate(child);
    reader.join().expect("reader");
    let rest: Vec<String> = seen.try_iter().collect();
    assert!(out.status.success(), "exit {:?}", out.status);
    assert!(
        rest.iter().any(|l| l.contains("worker stopped")),
        "{rest:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn import_and_export_round_trip_a_catalog_from_the_command_line() {
    let dir = temp_dir();
    let port = free_port();
    let mut server = concord(&dir)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_until_serving(port, &mut server);
    let (status, body) = http_post_json(
        port,
        "/api/v1/auth/signup",
        r#"{"email":"cli@shop.test","password":"correct horse battery","organization":"CLI Shop"}"#,
    )
    .expect("signup");
    assert!(status.contains("201"), "{status} {body}");
    let tenant = body
        .split("\"tenant\":{\"id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("tenant id")
        .to_owned();
    terminate(server);

    let good = dir.join("catalog.csv");
    std::fs::write(
        &good,
        "sku,title,format,barcode,bbfc\nA-1,Alpha,dvd,5012345678900,18\nA-2,Alpha,blu_ray,,R18\n",
    )
    .expect("write");
    let imported = concord(&dir)
        .args(["import", "catalog"])
        .arg(&good)
        .args(["--tenant", &tenant])
        .output()
        .expect("run");
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(
        String::from_utf8_lossy(&imported.stdout).contains("2 rows read, 2 applied, 0 refused")
    );

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "sku,title,format\nB-1,Beta,dvd\nB-2,Beta,laserdisc\n").expect("write");
    let refused = concord(&dir)
        .args(["import", "catalog"])
        .arg(&bad)
        .args(["--tenant", &tenant])
        .output()
        .expect("run");
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("line 3: format: unknown format `laserdisc`"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was applied"), "{stderr}");

    let out = dir.join("export.csv");
    let exported = concord(&dir)
        .args(["export", "catalog", "--tenant", &tenant, "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let csv = std::fs::read_to_string(&out).expect("export");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.contains("A-1,Alpha,dvd,5012345678900,,,false,false,18,"),
        "{csv}"
    );
    assert!(!csv.contains("B-1"), "the refused file applied nothing");

    let unknown = concord(&dir)
        .args([
            "export",
            "ledger",
            "--tenant",
            "tnt_00000000000000000000000000000000",
        ])
        .output()
        .expect("run");
    assert_eq!(unknown.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn webhook_verify_checks_standard_webhooks_deliveries() {
    let dir = temp_dir();
    let body = dir.join("body.json");
    std::fs::write(&body, br#"{"test": 2432232314}"#).expect("write");
    let run = |secret: &str, now: &str| {
        concord(&dir)
            .args([
                "webhook",
                "verify",
                "--platform",
                "standard-webhooks",
                "--body",
            ])
            .arg(&body)
            .args(["--secret", secret, "--now", now])
            .args(["--header", "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek"])
            .args(["--header", "Webhook-Timestamp: 1614265330"])
            .args([
                "--header",
                "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            ])
            .output()
            .expect("run")
    };
    let valid = run("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "1614265330");
    assert_eq!(
        valid.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&valid.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&valid.stdout).trim(),
        r#"{"valid":true}"#
    );
    let wrong = run("whsec_c2VjcmV0c2VjcmV0c2VjcmV0", "1614265330");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stdout).contains(r#""valid":false"#));
    let stale = run("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "1614275330");
    assert_eq!(stale.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stale.stdout).contains("tolerance"));

    let unknown = concord(&dir)
        .args(["webhook", "verify", "--platform", "myspace", "--body"])
        .arg(&body)
        .output()
        .expect("run");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("shopify, square"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `concord webhook …` with `body` in a file and the given arguments.
fn webhook(
    dir: &std::path::Path,
    command: &str,
    platform: &str,
    body: &str,
    args: &[&str],
) -> std::process::Output {
    let file = dir.join(format!("{platform}-{command}.body"));
    std::fs::write(&file, body).expect("write body");
    concord(dir)
        .args(["webhook", command, "--platform", platform, "--body"])
        .arg(&file)
        .args(args)
        .output()
        .expect("run")
}

#[test]
fn webhook_verify_applies_each_platforms_own_scheme() {
    let dir = temp_dir();
    // Square's own vector (its SDKs' tests): HMAC over the notification URL and the body.
    let square = r#"{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}"#;
    let url = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9";
    let header = "x-square-hmacsha256-signature: GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=";
    let ok = webhook(
        &dir,
        "verify",
        "square",
        square,
        &[
            "--secret",
            "Ibxx_5AKakO-3qeNVR61Dw",
            "--url",
            url,
            "--header",
            header,
        ],
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        r#"{"valid":true}"#
    );
    let other_url = webhook(
        &dir,
        "verify",
        "square",
        square,
        &[
            "--secret",
            "Ibxx_5AKakO-3qeNVR61Dw",
            "--url",
            "https://example.com/hook",
            "--header",
            header,
        ],
    );
    assert_eq!(other_url.status.code(), Some(1));
    let no_url = webhook(
        &dir,
        "verify",
        "square",
        square,
        &["--secret", "Ibxx_5AKakO-3qeNVR61Dw", "--header", header],
    );
    assert_eq!(
        no_url.status.code(),
        Some(2),
        "a scheme that signs the URL needs --url"
    );
    assert!(String::from_utf8_lossy(&no_url.stderr).contains("--url"));

    // Stripe: `t=…,v1=…` over `{t}.{body}`, with a five-minute tolerance.
    let stripe = r#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}"#;
    let signature = "Stripe-Signature: t=1700000000,v1=fe9123591cfc842b2a36277eda9292ea02cef122afc3bd8eef8cbab34b6b6fd9";
    let secret = "whsec_test_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let fresh = webhook(
        &dir,
        "verify",
        "stripe",
        stripe,
        &[
            "--secret",
            secret,
            "--now",
            "1700000100",
            "--header",
            signature,
        ],
    );
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stdout)
    );
    let stale = webhook(
        &dir,
        "verify",
        "stripe",
        stripe,
        &[
            "--secret",
            secret,
            "--now",
            "1700001000",
            "--header",
            signature,
        ],
    );
    assert_eq!(stale.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stale.stdout).contains("tolerance"));

    // A platform that signs nothing says so.
    let unsigned = webhook(&dir, "verify", "prestashop", "{}", &[]);
    assert_eq!(unsigned.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unsigned.stdout).contains(r#""valid":false"#));
    let no_secret = webhook(
        &dir,
        "verify",
        "shopify",
        "{}",
        &["--header", "X-Shopify-Hmac-Sha256: AAAA"],
    );
    assert_eq!(no_secret.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn webhook_parse_prints_normalized_events_and_never_invents_facts() {
    let dir = temp_dir();
    let order = r##"{"id":450789469,"name":"#1001","currency":"gbp","total_price":"25.98","financial_status":"paid",
        "created_at":"2026-11-28T09:00:00Z","updated_at":"2026-11-28T09:00:00Z",
        "line_items":[{"id":1,"sku":"MV-DVD","variant_id":7,"quantity":2,"price":"12.99"}]}"##;
    let parsed = webhook(
        &dir,
        "parse",
        "shopify",
        order,
        &["--header", "X-Shopify-Topic: orders/create"],
    );
    assert_eq!(
        parsed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&parsed.stdout)
    );
    let out: serde_json::Value = serde_json::from_slice(&parsed.stdout).expect("json");
    let event = &out["events"][0];
    assert_eq!(event["kind"], "order");
    assert_eq!(event["external_order_id"], "450789469");
    assert_eq!(event["currency"], "GBP");
    assert_eq!(event["total_minor"], 2598);
    assert_eq!(event["lines"][0]["sku"], "MV-DVD");
    assert_eq!(event["lines"][0]["quantity"], 2);
    assert_eq!(event["lines"][0]["unit_price_minor"], 1299);
    assert!(event["external_refund_id"].is_null() && event["amount_minor"].is_null());

    // A fixture holding the delivery under a key: --json-pointer selects it.
    let wrapped = r#"{"delivery":{"type":"refund.created","id":"evt_9","created":1700000000,
        "data":{"object":{"id":"re_1","object":"refund","amount":500,"currency":"usd","payment_intent":"pi_1","status":"succeeded"}}}}"#;
    let refund = webhook(
        &dir,
        "parse",
        "stripe",
        wrapped,
        &["--json-pointer", "/delivery"],
    );
    assert_eq!(
        refund.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&refund.stdout)
    );
    let out: serde_json::Value = serde_json::from_slice(&refund.stdout).expect("json");
    assert_eq!(out["events"][0]["kind"], "refund");
    assert_eq!(out["events"][0]["external_refund_id"], "re_1");
    assert_eq!(out["events"][0]["amount_minor"], 500);
    assert_eq!(out["events"][0]["currency"], "USD");

    // A thin delivery names what to fetch.
    let thin = r#"{"appId":"A","merchants":{"M1":[{"objectId":"O:ORD1","type":"UPDATE","ts":1700000000000}]}}"#;
    let hint = webhook(&dir, "parse", "clover", thin, &[]);
    let out: serde_json::Value = serde_json::from_slice(&hint.stdout).expect("json");
    assert_eq!(out["events"][0]["kind"], "hint");
    assert_eq!(out["events"][0]["hint"]["resource"], "order");
    assert_eq!(out["events"][0]["hint"]["id"], "ORD1");

    let unknown = webhook(&dir, "parse", "myspace", "{}", &[]);
    assert_eq!(unknown.status.code(), Some(2));
    let bad_pointer = webhook(
        &dir,
        "parse",
        "stripe",
        wrapped,
        &["--json-pointer", "/nothing"],
    );
    assert_eq!(bad_pointer.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}
