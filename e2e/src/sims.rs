//! The simulated channels a scenario drives, in this process or in one of their own.
//! Hosted out of process (`concord-bench sim-host`), the simulators' catalogs do not count
//! in the scenario's memory figures, and the scenario drives them over their `/_sim`
//! control API, as a test harness drives a real sandbox.

use std::process::Stdio;

use concord_connectors::{Platform, api::Credentials};
use concord_simulators::{
    AdjustRequest, RateLimit, RunningSim, SaleRequest, SeedProduct, SimConfig, Simulator, Stats,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};

use crate::scenarios::sku_code;

/// One simulator to start: its platform and catalog (`skus` SKUs, `stock` units each).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SimSpec {
    /// The platform's slug.
    pub(crate) platform: String,
    /// SKUs `S000000`… listed.
    pub(crate) skus: usize,
    /// Units of each.
    pub(crate) stock: i64,
    /// Whether the simulator's own rate limit is lifted (Concord's request budget still
    /// paces every call).
    pub(crate) unlimited: bool,
}

impl SimSpec {
    /// Starts the simulator in this process.
    pub(crate) fn start(&self) -> anyhow::Result<RunningSim> {
        let platform: Platform = self
            .platform
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown platform {}", self.platform))?;
        let mut config = SimConfig::new(platform);
        config.seed = (0..self.skus)
            .map(|i| {
                SeedProduct::new(
                    sku_code(i),
                    "",
                    format!("Title {i}"),
                    1999,
                    "USD",
                    self.stock,
                )
            })
            .collect();
        config.time_scale = 0.001;
        if self.unlimited {
            config.rate_limit = Some(RateLimit {
                capacity: 1e9,
                per_second: 1e9,
            });
        }
        Ok(Simulator::start(config)?)
    }
}

/// A simulated channel, in this process or hosted out of it.
pub(crate) enum Sim {
    /// Started in this process.
    Local(RunningSim),
    /// Running in the host process, driven over HTTP.
    Hosted(HostedSim),
}

/// A simulator in the host process, as its `/_sim/info` described it.
pub(crate) struct HostedSim {
    platform: Platform,
    base_url: String,
    info: Value,
    http: reqwest::Client,
}

impl Sim {
    /// The platform simulated.
    pub(crate) fn platform(&self) -> Platform {
        match self {
            Sim::Local(sim) => sim.platform(),
            Sim::Hosted(sim) => sim.platform,
        }
    }

    /// Its base URL.
    pub(crate) fn base_url(&self) -> &str {
        match self {
            Sim::Local(sim) => sim.base_url(),
            Sim::Hosted(sim) => &sim.base_url,
        }
    }

    /// The credentials Concord connects with: WooCommerce's key pair, otherwise the
    /// pre-installed access token.
    pub(crate) fn credentials(&self) -> Credentials {
        let (client_id, client_secret, token) = match self {
            Sim::Local(sim) => (
                sim.config().client_id.clone(),
                sim.config().client_secret.clone(),
                sim.access_token().to_owned(),
            ),
            Sim::Hosted(sim) => (
                sim.text("client_id"),
                sim.text("client_secret"),
                sim.text("access_token"),
            ),
        };
        match self.platform() {
            Platform::WooCommerce => Credentials {
                api_key: Some(client_id),
                api_secret: Some(client_secret),
                ..Credentials::default()
            },
            _ => Credentials {
                access_token: Some(token),
                ..Credentials::default()
            },
        }
    }

    /// The secret its webhooks are signed with.
    pub(crate) fn webhook_secret(&self) -> String {
        match self {
            Sim::Local(sim) => sim.config().webhook_secret.clone(),
            Sim::Hosted(sim) => sim.text("webhook_secret"),
        }
    }

    /// Points its webhooks at `url`.
    pub(crate) async fn set_webhook_url(&self, url: String) -> anyhow::Result<()> {
        match self {
            Sim::Local(sim) => sim.set_webhook_url(Some(url)),
            Sim::Hosted(sim) => {
                sim.call("webhook", &serde_json::json!({ "url": url }))
                    .await?;
            }
        }
        Ok(())
    }

    /// The figure it shows for `sku`, if it lists it.
    pub(crate) async fn stock(&self, sku: &str) -> Option<i64> {
        match self {
            Sim::Local(sim) => sim.stock(sku, None).ok().map(|s| s.quantity),
            Sim::Hosted(sim) => {
                let answer: Value = sim
                    .http
                    .get(format!("{}/_sim/stock", sim.base_url))
                    .query(&[("sku", sku)])
                    .send()
                    .await
                    .ok()?
                    .error_for_status()
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                answer["quantity"].as_i64()
            }
        }
    }

    /// A customer buys.
    pub(crate) async fn sale(&self, request: &SaleRequest) -> anyhow::Result<()> {
        match self {
            Sim::Local(sim) => sim
                .sale(request)
                .map(drop)
                .map_err(|e| anyhow::anyhow!("sale refused: {e:?}")),
            Sim::Hosted(sim) => sim.call("sale", request).await.map(drop),
        }
    }

    /// The merchant edits a figure.
    pub(crate) async fn adjust(&self, request: &AdjustRequest) -> anyhow::Result<()> {
        match self {
            Sim::Local(sim) => sim
                .adjust(request)
                .map(drop)
                .map_err(|e| anyhow::anyhow!("the simulator refused the edit: {e:?}")),
            Sim::Hosted(sim) => sim.call("adjust", request).await.map(drop),
        }
    }

    /// Its counters.
    pub(crate) async fn stats(&self) -> anyhow::Result<Stats> {
        match self {
            Sim::Local(sim) => Ok(sim.stats()),
            Sim::Hosted(sim) => Ok(sim
                .http
                .get(format!("{}/_sim/stats", sim.base_url))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?),
        }
    }

    /// Stops it (a hosted one stops with its host).
    pub(crate) async fn stop(self) {
        if let Sim::Local(sim) = self {
            sim.stop().await;
        }
    }
}

impl HostedSim {
    fn text(&self, key: &str) -> String {
        self.info[key].as_str().unwrap_or_default().to_owned()
    }

    async fn call(&self, action: &str, body: &impl Serialize) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}/_sim/{action}", self.base_url))
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        anyhow::ensure!(
            status.is_success(),
            "the simulator refused {action}: {answer}"
        );
        Ok(answer)
    }
}

/// The host process and the simulators it runs; dropping it ends the host.
pub(crate) struct SimHost {
    _child: Child,
}

impl SimHost {
    /// Starts `concord-bench sim-host` with `specs`; returns it and its simulators, in order.
    pub(crate) async fn spawn(specs: &[SimSpec]) -> anyhow::Result<(Self, Vec<Sim>)> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("sim-host")
            .arg("--specs")
            .arg(serde_json::to_string(specs)?)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("the simulator host has no output"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await?;
        let infos: Vec<Value> = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("the simulator host did not start: {e}"))?;
        let http = reqwest::Client::new();
        let sims = infos
            .into_iter()
            .map(|info| {
                let platform = info["platform"]
                    .as_str()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| anyhow::anyhow!("a hosted simulator names no platform"))?;
                Ok(Sim::Hosted(HostedSim {
                    platform,
                    base_url: info["base_url"].as_str().unwrap_or_default().to_owned(),
                    info,
                    http: http.clone(),
                }))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok((Self { _child: child }, sims))
    }
}

/// `concord-bench sim-host`: starts the simulators `specs` (JSON) names, prints their
/// `/_sim/info` as one JSON array line, and serves them until standard input closes (the
/// scenario that started it ended).
pub(crate) async fn host(specs: &str) -> anyhow::Result<()> {
    let specs: Vec<SimSpec> = serde_json::from_str(specs)?;
    let sims = specs
        .iter()
        .map(SimSpec::start)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let infos: Vec<Value> = sims.iter().map(RunningSim::info).collect();
    println!("{}", serde_json::to_string(&infos)?);
    let mut rest = Vec::new();
    tokio::io::stdin().read_to_end(&mut rest).await?;
    for sim in sims {
        sim.stop().await;
    }
    Ok(())
}
