//! The ticket desk, one call per thing a citizen does: where a ticket comes from (the regional
//! server when enrolled and reachable, else a block it leased to this terminal; this terminal's
//! own numbers when it stands alone), whether the hall is open, and what is printed.

use std::time::Instant;

use chrono::NaiveDateTime;
use menpai_model::api::AgentEvent;
use menpai_model::appointment::{TokenError, token_in_scan, verify, verifying_key};
use menpai_model::queue::{
    CheckedIn, DeviceTicketRequest, IssuedTicket, Priority, QueueView, WindowCall,
};

use super::{Hall, Numbering, QueueError, TicketRequest};
use crate::Agent;
use crate::catalog::Catalog;
use crate::sync::queue::LinkError;

/// The hall this terminal stands in.
pub fn this_hall<'c>(agent: &Agent, c: &'c Catalog) -> Result<Hall<'c>, QueueError> {
    let outlet = c.outlet(&agent.config.terminal.hall).ok_or_else(|| {
        QueueError::Unavailable("终端所在大厅不在办事指南内容里，请联系工作人员".into())
    })?;
    Ok(Hall {
        outlet,
        plan: c.floor_plan(&outlet.id),
    })
}

/// Why tickets cannot be taken now, if they cannot.
fn closed_reason(agent: &Agent, c: &Catalog, hall: Hall, now: NaiveDateTime) -> Option<String> {
    if agent.config.queue.allow_outside_hours {
        return None;
    }
    let s = c.outlet_summary(hall.outlet, hall.outlet.location, now);
    (!s.open_now).then(|| {
        format!(
            "现在不是办公时间（今日{}），请在办公时间内取号",
            s.hours_today
        )
    })
}

/// The queue panel: the hall's queue as the server last pushed it when enrolled, else this
/// terminal's own; with whether tickets can be taken now.
pub fn view(agent: &Agent, c: &Catalog, now: NaiveDateTime) -> Result<QueueView, QueueError> {
    let hall = this_hall(agent, c)?;
    let pushed = agent
        .hall_queue
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut view = match pushed {
        Some(v) => v,
        None => super::view(&agent.store, hall, now, &agent.config.queue)?,
    };
    view.closed_reason = closed_reason(agent, c, hall, now);
    view.taking = view.closed_reason.is_none();
    Ok(view)
}

/// Takes a ticket and prints it; a ticket that could not be printed is still valid and says why.
pub async fn take_ticket(
    agent: &Agent,
    c: &Catalog,
    prefix: &str,
    priority: Priority,
    now: NaiveDateTime,
) -> Result<IssuedTicket, QueueError> {
    paced(agent)?;
    let hall = this_hall(agent, c)?;
    if let Some(reason) = closed_reason(agent, c, hall, now) {
        return Err(QueueError::Closed(reason));
    }
    let request = TicketRequest {
        prefix,
        priority,
        appointment: None,
        now,
        phone_base_url: &agent.config.phone_base_url,
        ticket_key: agent.ticket_key.as_ref(),
    };
    let mut ticket = issue(agent, hall, &request).await?;
    agent.notify(AgentEvent::QueueChanged);
    print(agent, &hall.outlet.name, &mut ticket, None).await;
    Ok(ticket)
}

/// Checks in an appointment by the scan of its QR code, and issues and prints its priority
/// ticket.
pub async fn check_in(
    agent: &Agent,
    c: &Catalog,
    scan: &str,
    now: NaiveDateTime,
) -> Result<CheckedIn, QueueError> {
    let token = token_in_scan(scan).ok_or(TokenError::NotAToken)?;
    let key = verifying_key(&agent.config.queue.appointment_public_key)
        .ok_or_else(|| QueueError::Unavailable("本终端暂不能签到预约，请到咨询台办理".into()))?;
    let claims = verify(token, &key).inspect_err(|e| {
        if *e == TokenError::BadSignature {
            tracing::warn!("An appointment token with a bad signature was scanned.");
        }
    })?;
    let hall = this_hall(agent, c)?;
    let other = c.outlet(&claims.hall).map(|o| o.name.as_str());
    super::check_appointment(&claims, hall, other, now, &agent.config.queue)?;
    paced(agent)?;
    let request = TicketRequest {
        prefix: &claims.prefix,
        priority: Priority::Appointment,
        appointment: Some(&claims),
        now,
        phone_base_url: &agent.config.phone_base_url,
        ticket_key: agent.ticket_key.as_ref(),
    };
    let mut ticket = issue(agent, hall, &request).await?;
    agent.notify(AgentEvent::QueueChanged);
    print(agent, &hall.outlet.name, &mut ticket, Some(&claims.holder)).await;
    Ok(CheckedIn {
        item_name: claims.item_name.clone(),
        holder: claims.holder.clone(),
        slot: claims.slot_label(),
        ticket,
    })
}

/// A standalone terminal's window calls its next ticket: the LED bar, the voice and every UI
/// are told. None when nobody waits for that window.
pub fn call_next(
    agent: &Agent,
    c: &Catalog,
    window: u32,
    now: NaiveDateTime,
) -> Result<Option<WindowCall>, QueueError> {
    let hall = this_hall(agent, c)?;
    let call = super::call_next(&agent.store, hall, window, now)?;
    if let Some(call) = &call {
        agent.announce_call(call);
    }
    Ok(call)
}

/// Refuses a ticket while this terminal hands them out faster than its configured rate.
fn paced(agent: &Agent) -> Result<(), QueueError> {
    agent.ticket_rate.take(Instant::now()).map_err(|wait| {
        tracing::warn!("Tickets were asked for faster than this terminal hands them out.");
        QueueError::TooFast(wait.as_secs().max(1))
    })
}

/// Issues a ticket: from the regional server when enrolled and it answers, else from a block
/// it leased to this terminal; from the terminal's own numbers when it stands alone or trains.
async fn issue(
    agent: &Agent,
    hall: Hall<'_>,
    r: &TicketRequest<'_>,
) -> Result<IssuedTicket, QueueError> {
    let cfg = &agent.config.queue;
    if agent.training.on() {
        // A training ticket never joins the hall's queue, and has no page to follow.
        let mut t = super::issue(&agent.store, hall, r, cfg, &Numbering::Training)?;
        t.follow_url.clear();
        return Ok(t);
    }
    let Some(link) = agent.queue_link.get() else {
        return super::issue(&agent.store, hall, r, cfg, &Numbering::Local);
    };
    let appointment_id = r.appointment.map(|a| a.id.clone());
    if let Some(id) = &appointment_id {
        // Checked in here before (perhaps offline): refuse without asking.
        if let Some(number) = super::checked_in(&agent.store, id)? {
            return Err(QueueError::Refused(
                409,
                format!("这个预约已经签到过了，票号 {number}"),
            ));
        }
    }
    let mut replaces = None;
    if link.reachable() {
        let request = DeviceTicketRequest {
            request_id: link.request_id(),
            prefix: r.prefix.to_owned(),
            priority: r.priority,
            appointment_id: appointment_id.clone(),
        };
        match link.take(&request).await {
            Ok(mut t) => {
                t.follow_url = super::follow_url(
                    &agent.config.phone_base_url,
                    &hall.outlet.id,
                    t.issued_at.get(..10).unwrap_or_default(),
                    &t.number,
                    r.ticket_key,
                );
                super::record_online(&agent.store, &hall.outlet.id, &t, appointment_id.as_deref())?;
                return Ok(t);
            }
            Err(LinkError::Refused(code, message)) => {
                return Err(QueueError::Refused(code, message));
            }
            Err(e) => {
                tracing::warn!(error = %e, "The regional server gave no ticket; issuing from a leased block.");
                replaces = Some(request.request_id);
            }
        }
    }
    super::issue(&agent.store, hall, r, cfg, &Numbering::Leased { replaces })
}

/// Prints a ticket; a failure is recorded on it in plain words.
async fn print(agent: &Agent, hall: &str, ticket: &mut IssuedTicket, holder: Option<&str>) {
    let priority = if agent.training.on() {
        Some("培训票 不是真实排队号".to_owned())
    } else {
        ticket.priority.label().map(|l| match holder {
            Some(h) => format!("{l} {h}"),
            None => l.to_owned(),
        })
    };
    let slip = menpai_drivers::escpos::Ticket {
        hall: hall.to_owned(),
        number: ticket.number.clone(),
        business: ticket.business.clone(),
        people_ahead: ticket.people_ahead,
        estimated_wait_min: Some(ticket.estimated_wait_min),
        priority,
        follow_url: ticket.follow_url.clone(),
        issued_at: ticket.issued_at.clone(),
    };
    match agent
        .devices
        .print(slip.job(agent.devices.columns()).into_bytes())
        .await
    {
        Ok(()) => ticket.printed = true,
        Err(e) => ticket.print_error = Some(format!("{}，请记下票号或扫码用手机查看", e.reason)),
    }
}
