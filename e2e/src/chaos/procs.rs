//! The processes a chaos run starts, kills and restarts: a private `redis-server` and the
//! `concord serve` / `concord worker` roles. Every child is killed when its handle drops,
//! so an aborted run leaves nothing behind.

use std::{
    fs::OpenOptions,
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

/// A free loopback port (bound, then released).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits until something accepts connections on `port`.
async fn wait_for_port(port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A child process that can be killed (`SIGKILL`) and started again the same way.
pub(crate) struct Proc {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
    /// Times it was killed.
    pub(crate) kills: u32,
    /// Times it exited by itself and was started again.
    pub(crate) exits: u32,
}

impl Proc {
    /// Starts `program args`, its output appended to `log`.
    pub(crate) fn start(
        name: &'static str,
        program: impl Into<PathBuf>,
        args: &[&str],
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let mut proc = Self {
            name,
            program: program.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            log,
            child: None,
            kills: 0,
            exits: 0,
        };
        proc.spawn()?;
        Ok(proc)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot open {}", self.log.display()))?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // The children read their configuration from the file named on the command line
        // only: nothing from this environment may point them at shared services.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CONCORD_") || key == "DATABASE_URL" || key == "REDIS_URL" {
                command.env_remove(key.as_ref());
            }
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", self.program.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// `kill -9`, and waits until it is gone.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            self.kills += 1;
        }
    }

    /// Starts it again after a kill.
    pub(crate) fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.spawn()
    }

    /// Starts it again if it exited by itself, as a supervisor (systemd, Kubernetes) would;
    /// a killed one stays down until restarted.
    pub(crate) fn revive(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            eprintln!(
                "chaos: {} exited by itself ({status}); starting it again",
                self.name
            );
            self.exits += 1;
            self.spawn()?;
        }
        Ok(())
    }

    /// Fails if it exited on its own.
    pub(crate) fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            anyhow::bail!(
                "{} exited by itself with {status}; see {}",
                self.name,
                self.log.display()
            );
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Redis of the run's own on a free port, without persistence: a restart empties it, so
/// stopping and starting it never touches a Redis anyone else uses.
pub(crate) struct PrivateRedis {
    proc: Proc,
    port: u16,
}

impl PrivateRedis {
    /// Starts `redis-server` and waits until it accepts connections.
    pub(crate) async fn start(dir: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let port_arg = port.to_string();
        let proc = Proc::start(
            "redis-server",
            "redis-server",
            &[
                "--port",
                &port_arg,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            dir.join("redis.log"),
        )
        .context("redis-server must be installed")?;
        let redis = Self { proc, port };
        redis.wait().await?;
        Ok(redis)
    }

    async fn wait(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            wait_for_port(self.port, Duration::from_secs(10)).await,
            "the private Redis did not start on port {}",
            self.port
        );
        Ok(())
    }

    /// Its URL.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it.
    pub(crate) fn stop(&mut self) {
        self.proc.kill();
    }

    /// Starts it again (empty) and waits until it answers.
    pub(crate) async fn resume(&mut self) -> anyhow::Result<()> {
        self.proc.restart()?;
        self.wait().await
    }

    /// Times it was stopped.
    pub(crate) fn restarts(&self) -> u32 {
        self.proc.kills
    }
}

/// `concord serve` and `concord worker`, each its own process, sharing one configuration
/// file.
pub(crate) struct Concord {
    /// The HTTP server.
    pub(crate) server: Proc,
    /// The background worker.
    pub(crate) worker: Proc,
    /// The server's port, fixed for the run so webhook addresses stay valid.
    pub(crate) port: u16,
}

impl Concord {
    /// Starts both roles with `config`, and waits until the server answers `/healthz`.
    pub(crate) async fn start(bin: &Path, config: &Path, port: u16) -> anyhow::Result<Self> {
        let config = config.to_string_lossy().into_owned();
        let dir = Path::new(&config)
            .parent()
            .context("the configuration file has no directory")?;
        let server = Proc::start(
            "concord serve",
            bin,
            &["--config", &config, "serve"],
            dir.join("serve.log"),
        )?;
        let worker = Proc::start(
            "concord worker",
            bin,
            &["--config", &config, "worker"],
            dir.join("worker.log"),
        )?;
        let mut concord = Self {
            server,
            worker,
            port,
        };
        concord.wait_serving(Duration::from_secs(120)).await?;
        Ok(concord)
    }

    /// The server's base URL.
    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts again a role that exited by itself.
    pub(crate) fn revive(&mut self) -> anyhow::Result<()> {
        self.server.revive()?;
        self.worker.revive()
    }

    /// Waits until `/healthz` answers 200.
    pub(crate) async fn wait_serving(&mut self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        let url = format!("{}/healthz", self.base());
        while Instant::now() < deadline {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            self.server.check_alive()?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server did not answer /healthz within {limit:?}")
    }
}
