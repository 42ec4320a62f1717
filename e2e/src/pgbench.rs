//! The yardstick for intake: what PostgreSQL's own `pgbench` measures on the same database,
//! with the same number of clients, for single-row inserts committed one by one (each the
//! size of a stored delivery, into a table of its own that is dropped afterwards).

use std::process::Command;

/// Seconds `pgbench` runs.
const SECONDS: u32 = 10;

/// Transactions per second of one-row inserts by `clients` clients, or why there is no
/// figure (no `pgbench` or `psql` on the path, or it failed).
pub fn insert_tps(database_url: &str, clients: usize) -> Result<f64, String> {
    let table = format!("concord_pgbench_{}", std::process::id());
    psql(
        database_url,
        &format!(
            "CREATE TABLE {table} (id bigserial PRIMARY KEY, external_id text UNIQUE, body text)"
        ),
    )?;
    let script = std::env::temp_dir().join(format!("{table}.sql"));
    let written = std::fs::write(
        &script,
        format!(
            "INSERT INTO {table} (external_id, body) VALUES (md5(random()::text), repeat('x', 300));\n"
        ),
    );
    let ran = written.map_err(|e| e.to_string()).and_then(|()| {
        Command::new("pgbench")
            .args(["-n", "-j", "2", "-c", &clients.to_string()])
            .args(["-T", &SECONDS.to_string(), "-f"])
            .arg(&script)
            .arg(database_url)
            .output()
            .map_err(|e| format!("pgbench: {e}"))
    });
    let _ = std::fs::remove_file(&script);
    psql(database_url, &format!("DROP TABLE {table}"))?;
    let output = ran?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| {
            line.strip_prefix("tps = ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .ok_or_else(|| {
            format!(
                "pgbench printed no tps: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

fn psql(database_url: &str, sql: &str) -> Result<(), String> {
    let output = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", sql, database_url])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
