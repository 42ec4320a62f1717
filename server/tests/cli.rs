//! The `concord` binary as a user runs it: migrate, serve, worker, configuration errors,
//! graceful shutdown. Runs on SQLite with a clean environment.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

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

/// A SQLite database with one tenant whose audit log holds `n` entries; returns the
/// database, its runtime and the tenant id.
fn audited_database(
    n: usize,
) -> (
    concord_storage::test_support::TestDatabase,
    tokio::runtime::Runtime,
    String,
) {
    use concord_domain::{Email, OrganizationName, audit::AuditAction};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (db, tenant) = rt.block_on(async {
        let db = concord_storage::test_support::TestDatabase::create_on(None, 2)
            .await
            .expect("db");
        let (user, tenant) = db
            .store
            .signup(
                &Email::parse("owner@audit-cli.test").expect("email"),
                "x".into(),
                &OrganizationName::parse("Audit CLI").expect("name"),
            )
            .await
            .expect("signup");
        let scope = db
            .store
            .authorize(&user.id, &tenant.id)
            .await
            .expect("scope");
        for i in 0..n {
            db.store
                .scoped(&scope)
                .audit()
                .append(concord_storage::NewAuditEntry {
                    actor: user.id.to_string(),
                    action: AuditAction::MemberRoleChanged,
                    subject: format!("usr_{i}"),
                    details: serde_json::json!({ "before": "staff", "after": "admin" }),
                })
                .await
                .expect("append");
        }
        (db, tenant.id.to_string())
    });
    (db, rt, tenant)
}

fn audit_verify(url: &str, tenant: Option<&str>) -> Output {
    let dir = temp_dir();
    let mut cmd = concord(&dir);
    cmd.args(["audit", "verify", "--database-url", url]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    let out = cmd.output().expect("run");
    let _ = std::fs::remove_dir_all(dir);
    out
}

/// Rewrites history as someone with control of the database file could.
fn tamper(
    db: &concord_storage::test_support::TestDatabase,
    rt: &tokio::runtime::Runtime,
    sql: &[String],
) {
    rt.block_on(async {
        for t in ["audit_log_no_update", "audit_log_no_delete"] {
            let _ = db.execute(&format!("DROP TRIGGER IF EXISTS {t}")).await;
        }
        for s in sql {
            db.execute(s).await.expect("tamper");
        }
    });
}

#[test]
fn audit_verify_counts_an_intact_chain() {
    let (db, rt, tenant) = audited_database(4);
    let out = audit_verify(&db.url, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("audit log intact: 4 entries in 1 chain(s)"),
        "{stdout}"
    );
    let one = audit_verify(&db.url, Some(&tenant));
    assert_eq!(one.status.code(), Some(0));
    let unknown = audit_verify(&db.url, Some("tnt_0190f0f0f0f07000800000000000abcd"));
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("is it a tenant here"));
    rt.block_on(db.cleanup()).expect("cleanup");
}

#[test]
fn audit_verify_names_an_edited_entry() {
    let (db, rt, tenant) = audited_database(4);
    tamper(
        &db,
        &rt,
        &[format!(
            "UPDATE audit_log SET details = '{{\"after\":\"owner\",\"before\":\"staff\"}}' WHERE tenant_id = '{tenant}' AND seq = 2"
        )],
    );
    let out = audit_verify(&db.url, Some(&tenant));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("BROKEN {tenant}: entry 2: its fields differ")),
        "{stdout}"
    );
    rt.block_on(db.cleanup()).expect("cleanup");
}

#[test]
fn audit_verify_names_a_deleted_entry() {
    let (db, rt, tenant) = audited_database(4);
    tamper(
        &db,
        &rt,
        &[format!(
            "DELETE FROM audit_log WHERE tenant_id = '{tenant}' AND seq = 3"
        )],
    );
    let out = audit_verify(&db.url, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("entry 3 is missing; the next present is 4 (deleted)"),
        "{stdout}"
    );
    rt.block_on(db.cleanup()).expect("cleanup");
}

#[test]
fn audit_verify_names_reordered_entries() {
    let (db, rt, tenant) = audited_database(4);
    let swap: Vec<String> = [(1, -1), (2, 1), (-1, 2)]
        .into_iter()
        .map(|(from, to)| {
            format!("UPDATE audit_log SET seq = {to} WHERE tenant_id = '{tenant}' AND seq = {from}")
        })
        .collect();
    tamper(&db, &rt, &swap);
    let out = audit_verify(&db.url, Some(&tenant));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("entry 1: it was written as entry 2 (reordered)"),
        "{stdout}"
    );
    rt.block_on(db.cleanup()).expect("cleanup");
}

#[test]
fn report_writes_the_file_and_records_its_fingerprint() {
    use concord_domain::{
        audit::{AuditAction, sha256_hex},
        catalog::{Classifications, Format, SkuCode},
        ledger::{LocationKind, MovementReason},
    };
    use concord_storage::{Change, NewMovement, ProductDraft, SkuDraft};
    let (db, rt, tenant) = audited_database(0);
    let scope = rt
        .block_on(
            db.store
                .operator_scope(&concord_domain::TenantId::parse(&tenant).expect("tenant id")),
        )
        .expect("scope");
    rt.block_on(async {
        let repos = db.store.scoped(&scope);
        let shop = repos
            .create_location("Soho".into(), LocationKind::Store)
            .await
            .expect("location");
        let product = repos
            .create_product(ProductDraft {
                title: "Velvet Nights".into(),
                format: Format::Dvd,
                studio: None,
                release_date: None,
                explicit: true,
                us_2257_statement_present: true,
                classifications: Classifications::default(),
            })
            .await
            .expect("product");
        let sku = repos
            .create_sku(SkuDraft {
                product_id: product.id,
                code: SkuCode::parse("VN-DVD").expect("code"),
                barcode: None,
                components: Vec::new(),
            })
            .await
            .expect("sku");
        for (reason, delta) in [
            (MovementReason::Receive, 12),
            (MovementReason::Adjustment, -2),
        ] {
            repos
                .record_movements(vec![NewMovement {
                    sku_id: sku.id.clone(),
                    location_id: shop.id.clone(),
                    reason,
                    change: Change::Delta(delta),
                    idempotency_key: None,
                    source: None,
                    order_line: None,
                    actor: "test".into(),
                    note: Some("cli".into()),
                    occurred_at: chrono::Utc::now(),
                }])
                .await
                .expect("movement");
        }
    });
    let dir = temp_dir();
    let out_file = dir.join("stock.csv");
    let out = concord(&dir)
        .args([
            "report",
            "stock-reconciliation",
            "--tenant",
            &tenant,
            "--format",
            "csv",
            "--out",
        ])
        .arg(&out_file)
        .args(["--database-url", &db.url])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read(&out_file).expect("report file");
    let sha = sha256_hex(&written);
    assert!(stdout.contains(&format!("sha256 {sha}")), "{stdout}");
    assert!(stdout.contains("closing: 10"), "{stdout}");
    let csv = String::from_utf8_lossy(&written);
    assert!(
        csv.starts_with("sku,title,category,location,opening,receipts"),
        "{csv}"
    );
    assert!(
        csv.contains("VN-DVD,Velvet Nights,no compliance record,Soho,0,12,0,0,-2,0,0,10,10,0"),
        "{csv}"
    );
    let logged = rt
        .block_on(
            db.store
                .scoped(&scope)
                .audit()
                .entries(&concord_storage::AuditQuery {
                    action: Some(AuditAction::ReportExported),
                    limit: 10,
                    ..concord_storage::AuditQuery::default()
                }),
        )
        .expect("audit");
    assert_eq!(logged.items[0].details["sha256"], sha.as_str());
    assert_eq!(logged.items[0].actor, "cli");

    let pdf_file = dir.join("rules.pdf");
    let pdf = concord(&dir)
        .args([
            "report",
            "rule-changes",
            "--tenant",
            &tenant,
            "--format",
            "pdf",
            "--from",
            "2026-01-01",
            "--out",
        ])
        .arg(&pdf_file)
        .args(["--database-url", &db.url])
        .output()
        .expect("run");
    assert!(
        pdf.status.success(),
        "{}",
        String::from_utf8_lossy(&pdf.stderr)
    );
    assert!(
        std::fs::read(&pdf_file)
            .expect("pdf")
            .starts_with(b"%PDF-1.4")
    );
    let bad = concord(&dir)
        .args([
            "report",
            "refusals",
            "--tenant",
            &tenant,
            "--format",
            "csv",
            "--from",
            "last week",
            "--out",
        ])
        .arg(dir.join("x.csv"))
        .args(["--database-url", &db.url])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--from: `last week` is not a date"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
    rt.block_on(db.cleanup()).expect("cleanup");
}
