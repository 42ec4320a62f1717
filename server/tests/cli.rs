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
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.join("concord.db").exists() && Instant::now() < deadline {
        assert!(
            child.try_wait().expect("poll").is_none(),
            "worker exited early"
        );
        sleep(Duration::from_millis(100));
    }
    sleep(Duration::from_millis(500));
    let out = terminate(child);
    assert!(out.status.success(), "exit {:?}", out.status);
    assert!(String::from_utf8_lossy(&out.stdout).contains("worker stopped"));
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
