//! After a reboot the agent asked for: in the new slot the health gate decides whether it is
//! kept; back in the old slot the rollback is reported. A reboot that has not happened yet (the
//! same boot id) is waited for, then undone.

use std::time::Duration;

use menpai_model::update::{SystemInfo, UpdatePhase};

use super::pending::{self, Pending, Stage};
use super::report::{self, Told, Unsent};
use super::{gate, rauc};
use crate::Agent;
use crate::sync::client::Client;

/// How long a reboot may take to happen once asked for.
const REBOOT_GRACE: Duration = Duration::from_secs(180);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Asks logind to reboot, recording the boot it was asked in.
async fn reboot(agent: &Agent, bus: &zbus::Connection, p: &mut Pending) -> Result<(), String> {
    p.boot_id = pending::boot_id(agent);
    p.at_ms = now_ms();
    pending::save(agent, p)?;
    crate::host::reboot::now(bus)
        .await
        .map_err(|e| format!("logind refused the reboot: {e}"))
}

/// Tells the server the new slot is kept; then the update is over.
async fn report_committed(
    agent: &Agent,
    client: &Client,
    told: &mut Told,
    p: &Pending,
    system: &SystemInfo,
) -> Result<Option<Duration>, String> {
    let done = "健康检查通过，新系统已确认";
    report::step(client, told, p, UpdatePhase::Done, done, system).await?;
    pending::clear(agent);
    Ok(None)
}

/// `p` is `Rebooting`, `GateFailed` or `Committed`. `Some(wait)`: look again soon.
pub(super) async fn resume(
    agent: &Agent,
    client: &Client,
    bus: &zbus::Connection,
    told: &mut Told,
    mut p: Pending,
    system: &SystemInfo,
) -> Result<Option<Duration>, String> {
    if p.stage == Stage::Committed {
        return report_committed(agent, client, told, &p, system).await;
    }
    if p.boot_id == pending::boot_id(agent) {
        // Asked for during this very boot: the reboot has not happened yet.
        if now_ms() - p.at_ms < REBOOT_GRACE.as_millis() as i64 {
            return Ok(Some(Duration::from_secs(10)));
        }
        if p.stage == Stage::Rebooting {
            // The old slot stays the one to boot; the update ends here.
            let _ = rauc::mark(bus, "active", "booted").await;
            report::step(
                client,
                told,
                &p,
                UpdatePhase::Failed,
                "已请求重启，但终端没有重启",
                system,
            )
            .await?;
            pending::clear(agent);
            return Ok(None);
        }
        // A failed slot still booted: mark it bad again and ask again.
        let _ = rauc::mark(bus, "bad", "booted").await;
        reboot(agent, bus, &mut p).await?;
        return Ok(Some(Duration::from_secs(10)));
    }
    if system.slot == p.from_slot {
        let why = match p.stage {
            Stage::GateFailed => format!("新系统健康检查未通过（{}），已回到原系统", p.why),
            _ => "新系统没能正常启动，已回到原系统".to_owned(),
        };
        tracing::warn!(%why, "Back on the old slot.");
        report::step(client, told, &p, UpdatePhase::RolledBack, &why, system).await?;
        pending::clear(agent);
        // The next round marks this slot good.
        return Ok(Some(Duration::from_secs(1)));
    }
    if p.stage == Stage::GateFailed {
        // Still in the failed slot after a reboot: it must not boot again.
        let _ = rauc::mark(bus, "bad", "booted").await;
        reboot(agent, bus, &mut p).await?;
        return Ok(Some(Duration::from_secs(10)));
    }
    gate(agent, client, bus, told, p, system).await
}

/// The gate: what worked before works again in time — then the slot is marked good; else it
/// is marked bad and the terminal reboots into the old one. The server being away (no route,
/// no answer) is waited for longer than the rest: an outage is not the update's fault; a
/// broken exchange (TLS) is.
async fn gate(
    agent: &Agent,
    client: &Client,
    bus: &zbus::Connection,
    told: &mut Told,
    mut p: Pending,
    system: &SystemInfo,
) -> Result<Option<Duration>, String> {
    let cfg = &agent.config.update;
    let start = tokio::time::Instant::now();
    let (gate_time, away_time) = (
        Duration::from_secs(cfg.gate_timeout_s),
        Duration::from_secs(cfg.server_wait_s.max(cfg.gate_timeout_s)),
    );
    let mut reached = false;
    let problems = loop {
        let mut away = false;
        if !reached {
            match report::step(
                client,
                told,
                &p,
                UpdatePhase::Checking,
                "新系统已启动，正在检查",
                system,
            )
            .await
            {
                Ok(_) => reached = true,
                Err(Unsent::Away(_)) => away = true,
                Err(Unsent::Broken(e)) => {
                    tracing::warn!(error = %e, "The server is reached but the exchange fails.")
                }
            }
        }
        let problems = gate::problems(agent, &p.before, reached);
        let waited = start.elapsed();
        let out_of_time = if away && problems.len() == 1 {
            waited >= away_time
        } else {
            waited >= gate_time
        };
        if problems.is_empty() || out_of_time {
            break problems;
        }
        let pause = if away { 2000 } else { 500 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    };
    if problems.is_empty() {
        rauc::mark(bus, "good", "booted").await?;
        told.marked_good = true;
        p.stage = Stage::Committed;
        pending::save(agent, &p)?;
        tracing::info!(version = %system.version, "The updated slot passed its health gate; marked good.");
        return report_committed(agent, client, told, &p, system).await;
    }
    p.why = problems.join("；");
    tracing::error!(problems = %p.why, "The updated slot failed its health gate; going back.");
    p.stage = Stage::GateFailed;
    pending::save(agent, &p)?;
    if let Err(e) = rauc::mark(bus, "bad", "booted").await {
        // The bootloader's try counter still returns to the old slot.
        tracing::error!(error = %e, "The failed slot could not be marked bad.");
    }
    let why = format!("健康检查未通过：{}；回到原系统", p.why);
    let _ = report::step(client, told, &p, UpdatePhase::Failed, &why, system).await;
    reboot(agent, bus, &mut p).await?;
    Ok(Some(Duration::from_secs(10)))
}
