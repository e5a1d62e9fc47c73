//! The open help calls as a panel (the duty view and the staff page): a table with 马上到 and
//! 已处理 on each row, and the script that keeps it live (the operators' live channel, a
//! fetch of the panel, a short beep when a new call arrives).

use maud::{Markup, PreEscaped, html};
use menpai_model::help::HelpStage;

use super::calls::CallView;
use crate::html::hidden;
use crate::web::FormToken;

/// Where the panel fetches itself from, and where its buttons send the browser back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Back {
    Duty,
    Staff,
}

impl Back {
    pub fn path(self) -> &'static str {
        match self {
            Back::Duty => "/duty",
            Back::Staff => "/staff",
        }
    }

    pub fn parse(s: &str) -> Back {
        if s == "/staff" {
            Back::Staff
        } else {
            Back::Duty
        }
    }
}

/// The panel's own look, scoped to `#help-calls` (the duty view and the staff page).
pub const STYLE: &str = "#help-calls table{border-collapse:collapse;background:#fff;width:100%}\
#help-calls th,#help-calls td{padding:6px 10px;border-bottom:1px solid #d8dee6;text-align:left;vertical-align:top}\
#help-calls tr.escalated{color:#b71c1c;background:#fdecea}#help-calls form{display:inline}\
#help-calls button{font-size:16px;padding:6px 14px;margin:2px;border:0;border-radius:6px;background:#1a5fb4;color:#fff}\
#help-calls button.done{background:#2e7d32}.muted{color:#5b6570}";

/// Keeps `#help-calls` live: on each help note (and after a reconnect) it fetches the panel
/// again from the box's `data-src`; a call not seen before beeps (Web Audio, no file) and its
/// arrival time is kept in `window.helpShown[id]` (the channel is `window.helpLive`).
pub const SCRIPT: &str = "(function(){var box=document.getElementById('help-calls');if(!box)return;\
var seen={};window.helpShown={};window.helpBeeps=0;\
box.querySelectorAll('tr[data-id]').forEach(function(r){seen[r.dataset.id]=1});\
function beep(){window.helpBeeps++;try{var C=window.AudioContext||window.webkitAudioContext;\
var a=window.helpAudio||(window.helpAudio=new C());if(a.state==='suspended')a.resume();\
var o=a.createOscillator(),g=a.createGain();o.type='sine';o.frequency.value=880;g.gain.value=0.25;\
o.connect(g);g.connect(a.destination);o.start();o.stop(a.currentTime+0.35)}catch(e){}}\
function load(){fetch(box.dataset.src,{credentials:'same-origin',cache:'no-store'})\
.then(function(r){return r.ok?r.text():null}).then(function(t){if(t===null)return;box.innerHTML=t;\
var fresh=false;box.querySelectorAll('tr[data-id]').forEach(function(r){var id=r.dataset.id;\
if(!seen[id]){seen[id]=1;fresh=true;window.helpShown[id]=Date.now()}});if(fresh)beep()})\
.catch(function(){})}\
var es=window.helpLive=new EventSource('/console/live?topics=help');es.addEventListener('help',load);\
es.addEventListener('lagged',load);es.onopen=load;setInterval(load,15000)})();";

/// The box the script fills: the table now, fetched again from `src` on every change.
pub fn live_box(src: &str, inner: Markup) -> Markup {
    html! {
        div id="help-calls" data-src=(src) { (inner) }
    }
}

/// The script, as a `<script>` element (pages whose shell has a script of its own).
pub fn script_element() -> Markup {
    html! { script { (PreEscaped(SCRIPT)) } }
}

/// The calls, newest first; escalated ones in red.
pub fn table(calls: &[CallView], token: &FormToken, back: Back) -> Markup {
    html! {
        @if calls.is_empty() {
            p class="muted" id="no-calls" { "现在没有待处理的呼叫。" }
        } @else {
            table id="calls" {
                tr {
                    th { "呼叫时间" } th { "大厅" } th { "终端位置" } th { "群众在看" }
                    th { "已等" } th { "状态" } th { "处理" }
                }
                @for c in calls {
                    @let escalated = c.stage == HelpStage::Escalated;
                    tr data-id=(c.id) data-stage=(stage_key(c.stage))
                        class=[escalated.then_some("escalated")] {
                        td class="called" { (c.called_at) }
                        td class="hall" { (c.hall_name) }
                        td class="position" { (c.position_name) }
                        td class="view" {
                            (c.screen_name)
                            @if !c.item.is_empty() {
                                " · " (c.item) " " (c.item_name)
                            }
                        }
                        td class="waited" { (c.waiting()) }
                        td class="stage" {
                            (c.stage_label())
                            @if let Some(by) = &c.acknowledged_by {
                                " · " (by) " 马上到"
                            }
                        }
                        td class="acts" {
                            @if matches!(c.stage, HelpStage::Waiting | HelpStage::Escalated) {
                                (action(c, "acknowledge", "马上到", "ack", token, back))
                            }
                            (action(c, "resolve", "已处理", "done", token, back))
                        }
                    }
                }
            }
        }
    }
}

fn stage_key(s: HelpStage) -> &'static str {
    match s {
        HelpStage::Waiting => "waiting",
        HelpStage::Escalated => "escalated",
        HelpStage::Acknowledged => "acknowledged",
        HelpStage::Resolved => "resolved",
    }
}

fn action(
    c: &CallView,
    verb: &str,
    label: &str,
    class: &str,
    token: &FormToken,
    back: Back,
) -> Markup {
    html! {
        form method="post" action={ "/duty/calls/" (c.id) "/" (verb) } {
            (token.field())
            (hidden("back", back.path()))
            button class=(class) { (label) }
        }
    }
}
