//! The operators' console shell: one navigation bar over every back-office page, showing each
//! operator only the sections their role and halls allow.

use maud::{Markup, html};

use super::Page;
use crate::storage::{Operator, Role};

/// The console's look: desktop and phone width (390 px), no external files.
pub const CONSOLE_STYLE: &str = "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','PingFang SC',sans-serif;margin:0;color:#1b1f24;background:#f4f6f9;font-size:16px;line-height:1.5}\
nav.console{background:#0e3f7e;color:#fff;display:flex;flex-wrap:wrap;align-items:center;gap:2px 4px;padding:6px 12px;position:sticky;top:0;z-index:5;box-shadow:0 1px 4px rgba(0,0,0,.2)}\
nav.console .brand{font-weight:bold;margin-right:10px;color:#fff;white-space:nowrap}nav.console .sections{display:flex;flex-wrap:wrap;gap:2px 4px}\
nav.console a.section{color:#dfe9f7;text-decoration:none;padding:6px 10px;border-radius:6px;white-space:nowrap}\
nav.console a.section:hover{background:#1a5fb4}nav.console a[aria-current=page]{color:#0e3f7e;background:#fff;font-weight:bold}\
nav.console .who{margin-left:auto;font-size:14px;display:flex;align-items:center;gap:8px;white-space:nowrap}nav.console .who a{color:#fff}\
div.training-login{background:#fff3cd;color:#7a4b00;border-bottom:2px solid #e0a800;padding:6px 12px;font-weight:bold}\
nav.console form{display:inline;margin:0}nav.console button{font-size:14px;padding:3px 10px;background:#fff;color:#0e3f7e}\
main{padding:12px 16px;max-width:1200px;margin:0 auto}h1{font-size:22px;color:#0e3f7e;margin:8px 0}h2{font-size:18px;margin:18px 0 6px;color:#0e3f7e}\
table{border-collapse:collapse;background:#fff;width:100%;border-radius:10px;overflow:hidden}th{background:#e8eef6;font-weight:600;white-space:nowrap}\
th,td{padding:7px 10px;border-bottom:1px solid #d8dee6;text-align:left;vertical-align:top}\
.card{background:#fff;border-radius:10px;padding:12px 14px;margin:10px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}\
summary{cursor:pointer;padding:2px 0}.stack label{display:block;margin:8px 0}.stack input,.stack select{display:block;width:100%;max-width:420px;margin-top:2px}\
.filters{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:flex-end}.filters label{display:flex;flex-direction:column;font-size:14px}\
.buttons{display:flex;gap:8px;align-items:center}\
.err{color:#c62828;font-weight:bold}.muted{color:#5b6570;font-size:14px}.ok{color:#1b5e20;background:#e8f5e9}\
.red,tr.escalated,tr.overdue{color:#b71c1c;background:#fdecea}tr.refused td{color:#8a1c1c}\
td.actions form{display:inline-flex;gap:4px;margin:2px 6px 2px 0;flex-wrap:wrap}td.actions input{width:11em}\
.state.disabled{color:#8a1c1c}.state.must-change{color:#8a5a00}\
input,select,textarea{font-size:16px;padding:6px;border:1px solid #c3ccd8;border-radius:6px;max-width:100%;box-sizing:border-box;background:#fff}\
button,a.button{font-size:16px;padding:6px 14px;border:0;border-radius:6px;background:#1a5fb4;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}\
button.secondary,a.button.secondary{background:#e3ecf7;color:#0e3f7e}button.danger{background:#c62828}\
.pager a{margin-right:16px}\
@media (max-width:700px){main{padding:8px 10px}nav.console{padding:6px 8px}nav.console .who{margin-left:auto}\
nav.console .sections{order:3;width:100%}nav.console a.section{padding:4px 8px}\
td[data-label]::before{content:attr(data-label) '：';color:#5b6570;font-size:14px}\
table,thead,tbody,tr,td{display:block;width:100%;box-sizing:border-box}thead{display:none}td{border:0;padding:2px 8px}tr{border-bottom:1px solid #c3ccd8;padding:8px 0}\
td.actions input{width:100%}.filters label{width:100%}}";

/// A section of the console, in the order the navigation shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Fleet,
    Staff,
    Duty,
    Requests,
    Cases,
    Statistics,
    Monitor,
    /// The content studio: drafts and the editors.
    Studio,
    /// Change sets to review, versions and rollback.
    Review,
    Operators,
    Audit,
    /// The operator's own password (not in the navigation: their name leads there).
    Account,
}

impl Section {
    pub const ALL: [Section; 11] = [
        Section::Fleet,
        Section::Staff,
        Section::Duty,
        Section::Requests,
        Section::Cases,
        Section::Statistics,
        Section::Monitor,
        Section::Studio,
        Section::Review,
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
            Section::Statistics => "统计分析",
            Section::Monitor => "大厅监控",
            Section::Studio => "内容编辑",
            Section::Review => "审核发布",
            Section::Operators => "人员管理",
            Section::Audit => "操作日志",
            Section::Account => "修改密码",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Section::Fleet => "/fleet",
            Section::Staff => "/staff",
            Section::Duty => "/duty",
            Section::Requests => "/requests",
            Section::Cases => "/cases",
            Section::Statistics => "/statistics",
            Section::Monitor => "/monitor",
            Section::Studio => "/studio",
            Section::Review => "/studio/review",
            Section::Operators => "/operators",
            Section::Audit => "/audit",
            Section::Account => "/account/password",
        }
    }

    /// Whether `op` may open this section (none but their password while it must change).
    pub fn open_to(self, op: &Operator) -> bool {
        if op.must_change_password || op.disabled {
            return self == Section::Account;
        }
        match self {
            Section::Fleet | Section::Account | Section::Statistics | Section::Monitor => true,
            Section::Staff | Section::Duty | Section::Requests => op.role.allows(Role::QueueStaff),
            Section::Cases => op.role.allows(Role::HallManager),
            Section::Studio => op.role.allows(Role::ContentEditor) && !op.training,
            Section::Review => {
                (op.role.allows(Role::Reviewer) || op.role == Role::ContentEditor) && !op.training
            }
            Section::Operators | Section::Audit => op.role == Role::Admin && !op.training,
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
            span class="brand" { "门牌管理" }
            div class="sections" {
                @for s in Section::ALL.into_iter().filter(|s| s.open_to(op)) {
                    a class="section" href=(s.path()) data-section=(s.path())
                        aria-current=[(s == current).then_some("page")] { (s.label()) }
                }
            }
            span class="who" {
                a href=(Section::Account.path()) id="me" title="修改密码" {
                    (op.display_name) "（" (op.role.label()) "）"
                }
                form method="post" action="/logout" { button id="logout" { "退出" } }
            }
        }
        @if op.training {
            div class="training-login" id="training-login" role="status" {
                "培训登录：这里只有培训记录，所做的操作都是练习，不会叫真实号码，也不会处理群众的真实事项。"
            }
        }
        main { (body) }
    })
}
