//! The slips Menpai prints: queue tickets and personal materials checklists, Chinese first.

use super::{Align, Job, QrLevel, wrap};

/// A queue ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub hall: String,
    /// e.g. `A023`.
    pub number: String,
    /// Business type name, e.g. 公积金业务.
    pub business: String,
    pub people_ahead: u32,
    /// Minutes, when an estimate exists.
    pub estimated_wait_min: Option<u32>,
    /// e.g. 预约优先 or 老年人优先.
    pub priority: Option<String>,
    /// Short URL to follow the ticket on a phone.
    pub follow_url: String,
    /// Local time of issue, e.g. `2026-11-23 10:05`.
    pub issued_at: String,
}

impl Ticket {
    /// The ticket as an ESC/POS job for a receipt `cols` characters wide.
    pub fn job(&self, cols: usize) -> Job {
        let mut j = Job::new();
        j.align(Align::Center)
            .bold(true)
            .line(&self.hall)
            .bold(false)
            .feed(1);
        j.size(3, 3)
            .bold(true)
            .line(&self.number)
            .size(1, 1)
            .bold(false);
        j.size(1, 2).line(&self.business).size(1, 1);
        if let Some(p) = &self.priority {
            j.bold(true).line(&format!("【{p}】")).bold(false);
        }
        j.feed(1).align(Align::Left);
        j.line(&format!("前面还有 {} 人", self.people_ahead));
        if let Some(m) = self.estimated_wait_min {
            j.line(&format!("预计等候约 {m} 分钟"));
        }
        j.line("请留意叫号屏幕和广播，过号请重新取号。");
        // A training ticket has no page to follow.
        if !self.follow_url.is_empty() {
            j.align(Align::Center).qr(&self.follow_url, 6, QrLevel::M);
            j.line("微信扫码，手机上看排队进度");
        }
        j.line(&"-".repeat(cols.min(48)));
        j.line(&format!("取号时间 {}", self.issued_at))
            .feed(3)
            .cut();
        j
    }
}

/// One material on a checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistLine {
    pub name: String,
    /// e.g. 原件和复印件.
    pub form: String,
    pub copies: u8,
    /// When the material is needed only sometimes.
    pub condition: Option<String>,
}

/// A personal materials checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistSlip {
    pub item_name: String,
    pub situations: Vec<String>,
    pub lines: Vec<ChecklistLine>,
    /// Where to go, e.g. 福田区政务服务中心 17-20号窗口.
    pub where_to_go: Vec<String>,
    pub promised: String,
    pub follow_url: String,
    pub printed_at: String,
}

impl ChecklistSlip {
    pub fn job(&self, cols: usize) -> Job {
        let mut j = Job::new();
        j.align(Align::Center)
            .bold(true)
            .size(1, 2)
            .line("办事材料清单")
            .size(1, 1)
            .bold(false);
        for l in wrap(&self.item_name, cols) {
            j.bold(true).line(&l).bold(false);
        }
        j.align(Align::Left).line(&"-".repeat(cols.min(48)));
        if !self.situations.is_empty() {
            for l in wrap(&format!("您的情形：{}", self.situations.join("、")), cols) {
                j.line(&l);
            }
        }
        for (n, m) in self.lines.iter().enumerate() {
            let head = format!("{}. {}（{} {}份）", n + 1, m.name, m.form, m.copies);
            for l in wrap(&head, cols) {
                j.line(&l);
            }
            if let Some(c) = &m.condition {
                for l in wrap(&format!("   仅当：{c}"), cols) {
                    j.line(&l);
                }
            }
        }
        j.line(&"-".repeat(cols.min(48)));
        for w in &self.where_to_go {
            for l in wrap(&format!("办理地点：{w}"), cols) {
                j.line(&l);
            }
        }
        j.line(&format!("办理时限：{}", self.promised));
        j.align(Align::Center).qr(&self.follow_url, 5, QrLevel::M);
        j.line("扫码把清单带到手机上");
        j.line(&format!("打印时间 {}", self.printed_at))
            .feed(3)
            .cut();
        j
    }
}

/// An appointment booked at the plate: its slot and the check-in QR code.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentSlip {
    pub hall: String,
    pub item_name: String,
    /// e.g. 11月24日（周二）10:00-10:30.
    pub slot: String,
    /// e.g. 手机尾号5678.
    pub holder: String,
    /// The signed check-in token the QR code carries.
    pub token: String,
    pub printed_at: String,
}

impl AppointmentSlip {
    pub fn job(&self, cols: usize) -> Job {
        let mut j = Job::new();
        j.align(Align::Center)
            .bold(true)
            .size(1, 2)
            .line("预约凭条")
            .size(1, 1)
            .bold(false);
        for l in wrap(&self.hall, cols) {
            j.line(&l);
        }
        j.align(Align::Left).line(&"-".repeat(cols.min(48)));
        for l in wrap(&format!("事项：{}", self.item_name), cols) {
            j.bold(true).line(&l).bold(false);
        }
        for l in wrap(&format!("时间：{}", self.slot), cols) {
            j.line(&l);
        }
        j.line(&format!("预约人：{}", self.holder));
        j.line(&"-".repeat(cols.min(48)));
        j.align(Align::Center).qr(&self.token, 4, QrLevel::M);
        for l in wrap("到大厅后在门牌终端扫此码签到取号", cols) {
            j.line(&l);
        }
        j.line(&format!("打印时间 {}", self.printed_at))
            .feed(3)
            .cut();
        j
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Element, decode};
    use super::*;

    #[test]
    fn a_ticket_shows_number_business_queue_and_qr() {
        let t = Ticket {
            hall: "福田区政务服务中心".into(),
            number: "E017".into(),
            business: "公积金".into(),
            people_ahead: 4,
            estimated_wait_min: Some(12),
            priority: None,
            follow_url: "https://m.menpai.example/t/abc".into(),
            issued_at: "2026-11-23 10:05".into(),
        };
        let e = decode(t.job(32).bytes());
        let texts: Vec<&str> = e
            .iter()
            .filter_map(|x| match x {
                Element::Line { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            texts.contains(&"E017")
                && texts.contains(&"前面还有 4 人")
                && texts.contains(&"预计等候约 12 分钟")
        );
        assert!(e.contains(&Element::Qr("https://m.menpai.example/t/abc".into())));
        assert_eq!(e.last(), Some(&Element::Cut));
    }
}
