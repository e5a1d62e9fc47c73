//! What happens to a help call: taken from a terminal, acknowledged, resolved, escalated; each
//! change told to the operators' pages (an id on the live channel) and to the terminal (its
//! new stage on the device stream); and how a call reads on a page (names, not ids).

use menpai_model::help::{HelpStage, HelpUpdate, masked_name};
use menpai_model::sync::StreamEvent;
use serde::Serialize;

use crate::Server;
use crate::error::AppError;
use crate::live::Topic;
use crate::storage::StorageError;
use crate::storage::help::HelpCallRecord;

/// Open calls a page lists at most.
pub const LIST_LIMIT: usize = 200;

/// Now in UTC as calls keep it (sorts as text).
pub fn now(server: &Server) -> String {
    stamp(server.clock.utc_now())
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Tells the hall's open pages and the calling terminal that `call` changed, on every replica.
pub fn publish(server: &Server, call: &HelpCallRecord) {
    publish_here(server, call);
    crate::bus::tell(
        server,
        crate::bus::Signal::Help {
            call: call.id.clone(),
        },
    );
}

/// Tells the pages and the terminal connected to this replica.
pub fn publish_here(server: &Server, call: &HelpCallRecord) {
    server.live.send(&call.hall, Topic::Help, call.id.clone());
    let _ = server.stream.send(StreamEvent::Help {
        update: update_of(call),
    });
}

/// The call's state as its terminal is told (who is coming masked: 王*).
pub fn update_of(call: &HelpCallRecord) -> HelpUpdate {
    let by = match call.stage {
        HelpStage::Acknowledged | HelpStage::Resolved => {
            call.acknowledged_name.as_deref().map(masked_name)
        }
        _ => None,
    };
    HelpUpdate {
        id: call.id.clone(),
        device: call.device.clone(),
        stage: call.stage,
        by,
    }
}

/// A terminal's calls of the last half hour, as it is told when its stream (re)connects: a
/// change made while it was away still reaches its screen.
pub fn recent_updates(server: &Server, device: &str) -> Vec<StreamEvent> {
    let since = (server.clock.utc_now() - chrono::Duration::minutes(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match server.storage.device_help_calls(device, &since) {
        Ok(calls) => calls
            .iter()
            .map(|c| StreamEvent::Help {
                update: update_of(c),
            })
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "A terminal's recent help calls could not be read.");
            Vec::new()
        }
    }
}

fn refused(e: StorageError) -> AppError {
    match e {
        StorageError::Conflict(m) => AppError::new(axum::http::StatusCode::CONFLICT, m),
        e => AppError::internal(e),
    }
}

/// The call `id`, or 404.
pub fn find(server: &Server, id: &str) -> Result<HelpCallRecord, AppError> {
    server
        .storage
        .help_call(id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(axum::http::StatusCode::NOT_FOUND, "没有这个呼叫"))
}

/// 马上到: `operator` (login name) with their full name is coming. Audited, told.
pub fn acknowledge(
    server: &Server,
    id: &str,
    operator: &str,
    name: &str,
) -> Result<HelpCallRecord, AppError> {
    let done = server
        .storage
        .acknowledge_help_call(id, operator, name, &now(server));
    audit(server, operator, "help.acknowledge", id, done.is_ok());
    let call = done.map_err(refused)?;
    publish(server, &call);
    Ok(call)
}

/// 已处理. Audited, told.
pub fn resolve(server: &Server, id: &str, operator: &str) -> Result<HelpCallRecord, AppError> {
    let done = server.storage.resolve_help_call(id, operator, &now(server));
    audit(server, operator, "help.resolve", id, done.is_ok());
    let call = done.map_err(refused)?;
    publish(server, &call);
    Ok(call)
}

fn audit(server: &Server, operator: &str, action: &str, id: &str, ok: bool) {
    let hall = server
        .storage
        .help_call(id)
        .ok()
        .flatten()
        .map(|c| c.hall)
        .unwrap_or_default();
    let _ = server.storage.audit_in_hall(
        operator,
        action,
        &hall,
        &format!("{hall} {id}"),
        if ok { "ok" } else { "refused" },
    );
}

/// Escalates the calls nobody acknowledged within `help_escalate_after_s`; how many.
pub fn escalate_due(server: &Server) -> usize {
    let now = server.clock.utc_now();
    let after = chrono::Duration::seconds(server.config.help_escalate_after_s as i64);
    let due = match server
        .storage
        .escalate_help_calls(&stamp(now - after), &stamp(now))
    {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "Escalating help calls failed.");
            return 0;
        }
    };
    for call in &due {
        tracing::warn!(hall = %call.hall, id = %call.id, "A help call was not answered in time: escalated.");
        let _ = server.storage.audit_in_hall(
            "system",
            "help.escalate",
            &call.hall,
            &format!("{} {}", call.hall, call.id),
            "ok",
        );
        publish(server, call);
    }
    due.len()
}

/// A call as a page or the JSON API shows it: names, not ids.
#[derive(Debug, Clone, Serialize)]
pub struct CallView {
    pub id: String,
    pub hall: String,
    pub hall_name: String,
    pub position: String,
    pub position_name: String,
    pub screen: String,
    pub screen_name: String,
    pub item: String,
    pub item_name: String,
    pub stage: HelpStage,
    /// When it came, hall time `HH:MM:SS`.
    pub called_at: String,
    pub waiting_s: i64,
    /// Who is coming (their full name: staff see each other's names).
    pub acknowledged_by: Option<String>,
}

impl CallView {
    pub fn stage_label(&self) -> &'static str {
        match self.stage {
            HelpStage::Waiting => "等待应答",
            HelpStage::Escalated => "超时未应答，已通知值班主任",
            HelpStage::Acknowledged => "已应答",
            HelpStage::Resolved => "已处理",
        }
    }

    /// `2 分 05 秒`.
    pub fn waiting(&self) -> String {
        let s = self.waiting_s.max(0);
        if s < 60 {
            format!("{s} 秒")
        } else {
            format!("{} 分 {:02} 秒", s / 60, s % 60)
        }
    }
}

/// The kiosk's screen names in Chinese (its `Screen` variants).
pub fn screen_name(screen: &str) -> String {
    let name = match screen {
        "Attract" => "待机画面",
        "Home" => "首页",
        "Browse" => "分类查找",
        "Items" => "事项列表",
        "Guide" => "办事指南",
        "Checklist" => "材料清单",
        "Search" => "搜索事项",
        "Map" => "大厅地图",
        "Outlets" => "附近网点",
        "Help" => "有事请教",
        "Rating" => "服务评价",
        "Phone" => "手机继续办",
        "Queue" => "排队取号",
        "Ticket" => "我的排队号",
        "CheckIn" => "预约签到",
        "Assist" => "帮办代办",
        "" => "",
        other => other,
    };
    name.to_owned()
}

/// How the open calls of `halls` (`None`: all; `training_only`: for a training login) read
/// on a page, newest first.
pub fn open_views(
    server: &Server,
    halls: Option<&[String]>,
    training_only: bool,
) -> Result<Vec<CallView>, AppError> {
    let calls = server
        .storage
        .open_help_calls(halls, training_only, LIST_LIMIT)
        .map_err(AppError::internal)?;
    Ok(calls.iter().map(|c| view(server, c)).collect())
}

/// A kiosk position's name in its hall's floor plan (its id when the plan has none).
pub fn position_name(server: &Server, hall: &str, position: &str) -> String {
    let published = server.phone.current();
    published
        .as_ref()
        .and_then(|p| p.pack.floor_plans.iter().find(|f| f.hall == hall))
        .and_then(|f| {
            f.floors
                .iter()
                .flat_map(|fl| &fl.kiosk_positions)
                .find(|k| k.id == position)
        })
        .map(|k| k.name.clone())
        .unwrap_or_else(|| position.to_owned())
}

pub fn view(server: &Server, c: &HelpCallRecord) -> CallView {
    let published = server.phone.current();
    let pack = published.as_ref().map(|p| &p.pack);
    let position_name = position_name(server, &c.hall, &c.position);
    let item_name = pack
        .and_then(|p| p.items.iter().find(|i| i.id == c.item))
        .map(|i| i.name.clone())
        .unwrap_or_default();
    let created = chrono::DateTime::parse_from_rfc3339(&c.created_at)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| server.clock.utc_now());
    let local = crate::clock::local_of(created);
    let hall_name = server
        .halls
        .get(&c.hall)
        .map(|h| h.name.clone())
        .unwrap_or_else(|| c.hall.clone());
    CallView {
        id: c.id.clone(),
        hall: c.hall.clone(),
        // A training terminal's call is practice: it says so wherever it is shown.
        hall_name: if c.training {
            format!("{hall_name}（培训终端，练习呼叫）")
        } else {
            hall_name
        },
        position: c.position.clone(),
        position_name,
        screen: c.screen.clone(),
        screen_name: screen_name(&c.screen),
        item: c.item.clone(),
        item_name,
        stage: c.stage,
        called_at: local.format("%H:%M:%S").to_string(),
        waiting_s: (server.clock.utc_now() - created).num_seconds(),
        acknowledged_by: c.acknowledged_name.clone(),
    }
}
