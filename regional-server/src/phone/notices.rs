//! Temporary notices (闭厅通知, 系统维护…) on a hall's and an outlet's phone page: those shown
//! at the server's clock now, the region's and the outlet's own; expired ones go by themselves.

use menpai_model::ContentPack;
use menpai_model::pack::{Notice, NoticeKind};

use crate::Server;
use crate::html::{Markup, html};

/// The notices shown now for `outlet`: the region's and its own, closures first.
pub fn current<'a>(server: &Server, pack: &'a ContentPack, outlet: &str) -> Vec<&'a Notice> {
    let now = server.clock.local_now();
    let mut shown: Vec<&Notice> = pack
        .notices
        .iter()
        .filter(|n| n.outlet.as_deref().is_none_or(|o| o == outlet) && n.shown_at(now))
        .collect();
    shown.sort_by_key(|n| (n.kind != NoticeKind::Closure, n.expires_at));
    shown
}

/// The notices as cards at the top of a page (nothing when there are none).
pub fn cards(notices: &[&Notice]) -> Markup {
    html! {
        @for n in notices {
            div class="card notice" role="status" data-notice=(n.id)
                style=(if n.kind == NoticeKind::Closure {
                    "border-left:6px solid #c62828;background:#fdecea"
                } else {
                    "border-left:6px solid #ef6c00;background:#fff3e0"
                })
            {
                p { b { (n.kind.label()) "：" (n.title) } }
                p { (n.text) }
                p class="muted" { "至 " (n.expires_at.format("%m月%d日 %H:%M")) }
            }
        }
    }
}
