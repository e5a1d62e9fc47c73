//! The queue authority of every hall: tickets issued online and leased for offline use,
//! windows' actions, waiting estimates, and the live stream that carries calls to terminals.

pub mod staff;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use axum::http::StatusCode;
use menpai_model::hours::{DayKind, WeeklyHours};
use menpai_model::queue::{
    BusinessQueue, DeviceTicketRequest, IssuedTicket, Priority, QueueView, StaffAction,
    TicketStatus, WindowCall,
};
use menpai_model::sync::StreamEvent;
use menpai_model::{BusinessType, ContentPack, Region};

use crate::Server;
use crate::clock::{day, stamp};
use crate::error::AppError;
use crate::storage::{Act, Device, NewTicket, StorageError, Ticket};

/// Recent services averaged for the waiting estimate.
const RECENT_SERVICES: u32 = 20;
/// Calls on the panel at most.
const PANEL_CALLS: usize = 12;

/// A hall as the queue needs it: business types and the windows serving each.
#[derive(Debug, Clone, PartialEq)]
pub struct HallInfo {
    pub id: String,
    pub name: String,
    pub business_types: Vec<BusinessType>,
    /// Window number → prefixes it serves.
    pub windows: BTreeMap<u32, Vec<String>>,
    pub hours: WeeklyHours,
    /// Items offered here: id → (name, ticket prefix).
    pub items: HashMap<String, (String, String)>,
}

impl HallInfo {
    pub fn business(&self, prefix: &str) -> Option<&BusinessType> {
        self.business_types.iter().find(|b| b.prefix == prefix)
    }

    pub fn windows_for(&self, prefix: &str) -> Vec<u32> {
        self.windows
            .iter()
            .filter(|(_, types)| types.iter().any(|t| t == prefix))
            .map(|(n, _)| *n)
            .collect()
    }
}

/// The halls of the published content (and the region's holidays), refreshed on every publish.
#[derive(Debug, Default)]
pub struct Halls(RwLock<HallMap>);

type HallMap = (HashMap<String, Arc<HallInfo>>, Option<Region>);

impl Halls {
    pub fn from_pack(pack: &ContentPack) -> Halls {
        let halls = Halls::default();
        halls.replace(pack);
        halls
    }

    pub fn replace(&self, pack: &ContentPack) {
        let map = pack
            .outlets
            .iter()
            .filter(|o| !o.business_types.is_empty())
            .map(|o| {
                let windows = pack
                    .floor_plans
                    .iter()
                    .filter(|p| p.hall == o.id)
                    .flat_map(|p| &p.floors)
                    .flat_map(|f| &f.windows)
                    .map(|w| (w.number, w.business_types.clone()))
                    .collect();
                let items = o
                    .items
                    .iter()
                    .filter_map(|id| pack.items.iter().find(|i| &i.id == id))
                    .filter_map(|i| {
                        let prefix = i
                            .business_type
                            .clone()
                            .filter(|p| o.business_types.iter().any(|b| &b.prefix == p))
                            .or_else(|| o.business_types.first().map(|b| b.prefix.clone()))?;
                        Some((i.id.clone(), (i.name.clone(), prefix)))
                    })
                    .collect();
                let info = HallInfo {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    business_types: o.business_types.clone(),
                    windows,
                    hours: o.hours.clone(),
                    items,
                };
                (o.id.clone(), Arc::new(info))
            })
            .collect();
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = (map, pack.region.clone());
    }

    /// Whether a date is a working day, weekend or holiday in the region.
    pub fn day_kind(&self, date: chrono::NaiveDate) -> DayKind {
        let g = self.0.read().unwrap_or_else(|e| e.into_inner());
        g.1.as_ref()
            .map(|r| r.day_kind(date))
            .unwrap_or(DayKind::Normal)
    }

    /// Takes the halls of a newly published version.
    pub fn replace_with(&self, other: Halls) {
        let map = std::mem::take(&mut *other.0.write().unwrap_or_else(|e| e.into_inner()));
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = map;
    }

    pub fn get(&self, id: &str) -> Option<Arc<HallInfo>> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .get(id)
            .cloned()
    }

    pub fn all(&self) -> Vec<Arc<HallInfo>> {
        let mut v: Vec<_> = self
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}

fn refused(e: StorageError) -> AppError {
    match e {
        StorageError::Conflict(m) => AppError::new(StatusCode::CONFLICT, m),
        e => AppError::internal(e),
    }
}

fn hall_of(server: &Server, id: &str) -> Result<Arc<HallInfo>, AppError> {
    server.halls.get(id).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            format!("已发布的内容里没有大厅 {id}"),
        )
    })
}

fn minutes(server: &Server, hall: &str, queue: &str) -> f64 {
    server
        .storage
        .service_minutes(hall, queue, RECENT_SERVICES)
        .ok()
        .flatten()
        .unwrap_or(server.config.queue_service_min as f64)
}

/// Minutes until `ahead` people are served by the windows of a queue.
fn estimate(server: &Server, hall: &HallInfo, queue: &str, ahead: u32) -> u32 {
    let windows = hall.windows_for(queue).len().max(1);
    (ahead as f64 * minutes(server, &hall.id, queue) / windows as f64).ceil() as u32
}

/// The hall's queue panel now.
pub fn view(server: &Server, hall: &HallInfo) -> Result<QueueView, StorageError> {
    let today = day(server.clock.local_now());
    let counts: HashMap<String, u32> = server
        .storage
        .waiting_counts(&hall.id, &today)?
        .into_iter()
        .collect();
    let businesses = hall
        .business_types
        .iter()
        .map(|b| {
            let waiting = counts.get(&b.prefix).copied().unwrap_or(0);
            BusinessQueue {
                prefix: b.prefix.clone(),
                name: b.name.clone(),
                waiting,
                estimated_wait_min: estimate(server, hall, &b.prefix, waiting),
                windows: hall.windows_for(&b.prefix),
            }
        })
        .collect();
    Ok(QueueView {
        hall: hall.name.clone(),
        calls: server
            .storage
            .current_calls(&hall.id, &today, PANEL_CALLS)?,
        businesses,
        taking: true,
        closed_reason: None,
    })
}

/// Tells the hall's terminals (and staff pages) what changed, on every replica.
pub fn broadcast(server: &Server, hall: &HallInfo, call: Option<WindowCall>) {
    broadcast_here(server, hall, call.clone());
    crate::bus::tell(
        server,
        crate::bus::Signal::Queue {
            hall: hall.id.clone(),
            call,
        },
    );
}

/// Tells the terminals and staff pages connected to this replica.
pub fn broadcast_here(server: &Server, hall: &HallInfo, call: Option<WindowCall>) {
    server
        .live
        .send(&hall.id, crate::live::Topic::Queue, hall.id.clone());
    match view(server, hall) {
        Ok(view) => {
            let _ = server.stream.send(StreamEvent::Queue {
                hall: hall.id.clone(),
                view,
                call,
            });
        }
        Err(e) => tracing::error!(error = %e, hall = %hall.id, "The queue view could not be made."),
    }
}

/// Broadcasts the halls whose queue changed by arriving offline tickets.
pub fn changed(server: &Server, halls: &[String]) {
    for id in halls {
        if let Some(h) = server.halls.get(id) {
            broadcast(server, &h, None);
        }
    }
}

pub fn status(server: &Server, hall: &HallInfo, t: &Ticket) -> TicketStatus {
    let today = day(server.clock.local_now());
    let ahead = match t.state {
        menpai_model::queue::TicketState::Waiting => server
            .storage
            .people_ahead(&hall.id, &today, &t.queue, t)
            .unwrap_or(0),
        _ => 0,
    };
    TicketStatus {
        number: t.number.clone(),
        business: t.business.clone(),
        prefix: t.queue.clone(),
        priority: t.priority,
        state: t.state,
        issued_at: t.issued_at.clone(),
        window: t.window,
        offline: t.offline,
        people_ahead: ahead,
        estimated_wait_min: estimate(server, hall, &t.queue, ahead),
        conflict: t.conflict.clone(),
    }
}

/// Issues a ticket for a terminal of the hall (online).
pub fn issue(
    server: &Server,
    device: &Device,
    r: &DeviceTicketRequest,
) -> Result<IssuedTicket, AppError> {
    if r.request_id.is_empty() || r.request_id.len() > 64 {
        return Err(AppError::bad_request("request_id 应为 1–64 个字符"));
    }
    let hall = hall_of(server, &device.hall)?;
    let business = hall
        .business(&r.prefix)
        .ok_or_else(|| AppError::bad_request(format!("本大厅没有“{}”类业务", r.prefix)))?;
    if r.priority == Priority::Appointment && r.appointment_id.is_none() {
        return Err(AppError::bad_request("预约优先号需要预约编号"));
    }
    if let Some(id) = &r.appointment_id {
        let a = server
            .storage
            .appointment(id)
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "查不到这个预约，请到咨询台"))?;
        if a.claims.hall != hall.id {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                "这个预约不在本大厅办理",
            ));
        }
    }
    let local = server.clock.local_now();
    let (today, drawn) = (day(local), stamp(local));
    let t = server
        .storage
        .issue_ticket(&NewTicket {
            hall: &hall.id,
            day: &today,
            prefix: &r.prefix,
            business: &business.name,
            priority: r.priority,
            issued_at: Some(&drawn),
            device: &device.id,
            request_id: &r.request_id,
            appointment_id: r.appointment_id.as_deref(),
        })
        .map_err(refused)?;
    let s = status(server, &hall, &t);
    broadcast(server, &hall, None);
    Ok(IssuedTicket {
        number: t.number,
        prefix: t.prefix,
        business: t.business,
        priority: t.priority,
        people_ahead: s.people_ahead,
        estimated_wait_min: s.estimated_wait_min,
        follow_url: String::new(),
        issued_at: t.issued_at.get(..16).unwrap_or_default().to_owned(),
        offline: false,
        windows: hall.windows_for(&r.prefix),
        printed: false,
        print_error: None,
    })
}

/// A window's action; what it touched, and the call to announce if it called.
pub fn act(
    server: &Server,
    hall_id: &str,
    window: u32,
    action: &StaffAction,
    actor: &str,
) -> Result<Option<TicketStatus>, AppError> {
    let hall = hall_of(server, hall_id)?;
    let serves = hall.windows.get(&window).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            format!("{} 没有 {window} 号窗口", hall.name),
        )
    })?;
    let target;
    let act = match action {
        StaffAction::CallNext => Act::CallNext,
        StaffAction::Recall => Act::Recall,
        StaffAction::Serve => Act::Serve,
        StaffAction::Finish => Act::Finish,
        StaffAction::NoShow => Act::NoShow,
        StaffAction::Transfer { prefix, window: to } => {
            target = hall
                .business(prefix)
                .ok_or_else(|| AppError::bad_request(format!("本大厅没有“{prefix}”类业务")))?;
            if let Some(w) = to
                && !hall.windows.get(w).is_some_and(|t| t.contains(prefix))
            {
                return Err(AppError::bad_request(format!(
                    "{w} 号窗口不办理{}",
                    target.name
                )));
            }
            Act::Transfer {
                queue: &target.prefix,
                business: &target.name,
                window: *to,
            }
        }
    };
    let local = server.clock.local_now();
    let now = stamp(local);
    let touched = server
        .storage
        .act(&hall.id, &day(local), window, serves, act, &now, actor)
        .map_err(refused)?;
    let detail = format!(
        "{} 窗口 {window} {}{}",
        hall.id,
        action.label(),
        touched
            .as_ref()
            .map(|t| format!(" {}", t.number))
            .unwrap_or_default()
    );
    let _ = server.storage.audit(actor, "queue.act", &detail, "ok");
    let call = match action {
        StaffAction::CallNext | StaffAction::Recall => touched.as_ref().and_then(|t| t.call(&now)),
        _ => None,
    };
    broadcast(server, &hall, call);
    Ok(touched.map(|t| status(server, &hall, &t)))
}
