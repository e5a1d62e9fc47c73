//! The operators' console shell: one navigation bar over every back-office page, showing each
//! operator only the sections their role and halls allow.

use maud::{Markup, html};

use super::Page;
use crate::storage::{Operator, Role};

/// The console's look: desktop and phone width, no external files.
pub const CONSOLE_STYLE: &str = "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:0;color:#1b1f24;background:#f4f6f9;font-size:16px;line-height:1.5}\
nav.console{background:#0e3f7e;color:#fff;display:flex;flex-wrap:wrap;align-items:center;gap:4px 14px;padding:8px 16px}\
nav.console a{color:#dfe9f7;text-decoration:none;padding:4px 2px}nav.console a[aria-current=page]{color:#fff;font-weight:bold;border-bottom:2px solid #fff}\
nav.console .who{margin-left:auto;font-size:14px}nav.console form{display:inline}nav.console button{font-size:14px;padding:2px 10px}\
main{padding:12px 16px;max-width:1200px}h1{font-size:22px;color:#0e3f7e;margin:8px 0}h2{font-size:18px;margin:16px 0 6px}\
table{border-collapse:collapse;background:#fff;width:100%}th,td{padding:6px 10px;border-bottom:1px solid #d8dee6;text-align:left;vertical-align:top}\
.card{background:#fff;border-radius:10px;padding:12px;margin:10px 0}.err{color:#c62828;font-weight:bold}.muted{color:#5b6570;font-size:14px}\
.red,tr.escalated,tr.overdue{color:#b71c1c;background:#fdecea}.ok{color:#2e7d32}\
input,select,textarea{font-size:16px;padding:6px;border:1px solid #c3ccd8;border-radius:6px;max-width:100%;box-sizing:border-box}\
button{font-size:16px;padding:6px 14px;border:0;border-radius:6px;background:#1a5fb4;color:#fff}\
@media (max-width:700px){table,tbody,tr,td{display:block;width:100%}th{display:none}td{border:0;padding:2px 6px}tr{border-bottom:1px solid #c3ccd8;padding:6px 0}}";

/// A section of the console, in the order the navigation shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Fleet,
    Staff,
    Duty,
    Requests,
    Cases,
    Operators,
    Audit,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Fleet,
        Section::Staff,
        Section::Duty,
        Section::Requests,
        Section::Cases,
        Section::Operators,
        Section::Audit,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Section::Fleet => "终端状态",
            Section::Staff => "窗口叫号",
            Section::Duty => "大厅值班",
            Section::Requests => "帮办与咨询",
            Section::Cases => "评价整改",
            Section::Operators => "人员管理",
            Section::Audit => "操作日志",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Section::Fleet => "/fleet",
            Section::Staff => "/staff",
            Section::Duty => "/duty",
            Section::Requests => "/requests",
            Section::Cases => "/cases",
            Section::Operators => "/operators",
            Section::Audit => "/audit",
        }
    }

    /// Whether `op` may open this section.
    pub fn open_to(self, op: &Operator) -> bool {
        match self {
            Section::Fleet => true,
            Section::Staff | Section::Duty | Section::Requests => op.role.allows(Role::QueueStaff),
            Section::Cases => op.role.allows(Role::HallManager),
            Section::Operators | Section::Audit => op.role == Role::Admin,
        }
    }
}

/// A console page: the navigation with the sections `op` may open, then `body`.
pub fn console(op: &Operator, current: Section, title: &str, body: Markup) -> Markup {
    let title = format!("{title} · 门牌");
    console_page(op, current, Page::new(&title, CONSOLE_STYLE), body)
}

/// Like [`console`], for a page with its own head or script.
pub fn console_page(op: &Operator, current: Section, page: Page<'_>, body: Markup) -> Markup {
    page.render(html! {
        nav class="console" {
            @for s in Section::ALL.into_iter().filter(|s| s.open_to(op)) {
                a href=(s.path()) aria-current=[(s == current).then_some("page")] { (s.label()) }
            }
            span class="who" {
                (op.name) "（" (op.role.label()) "）"
                form method="post" action="/logout" { button { "退出" } }
            }
        }
        main { (body) }
    })
}
