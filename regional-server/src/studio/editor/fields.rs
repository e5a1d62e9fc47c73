//! The editors' form fields: each record kind lists its fields once; a record's JSON is
//! rendered into inputs that carry their JSON key and type, and the page's script reads them
//! back into the record (rows added, removed and moved included).

use maud::{Markup, html};
use serde_json::Value;

/// What a field holds and how it is typed in.
#[derive(Debug, Clone, Copy)]
pub(super) enum Input {
    /// A short text.
    Text,
    /// A text of several lines.
    Long,
    /// A short text that is absent when left empty.
    OptText,
    /// A text of several lines that is absent when left empty.
    OptLong,
    /// A whole number.
    Number,
    /// A whole number that is absent when left empty.
    OptNumber,
    /// A number with decimals (coordinates).
    Decimal,
    /// Yes or no.
    Check,
    /// One of these values, as the content spells them.
    Choice(&'static [&'static str]),
    /// A colour like `#1A5FB4`.
    Colour,
    /// One entry per line (a day's opening spans).
    Lines,
    /// Whole numbers separated by commas (window numbers).
    Numbers,
    /// A local date and time (China Standard Time); absent when left empty unless `required`.
    When { required: bool },
    /// An uploaded file: a picture when `image`, else a form (PDF, Word, Excel) or a picture.
    File { image: bool },
    /// A group of fields.
    Group(&'static [Field]),
    /// A group that is absent when every field in it is left empty.
    OptGroup(&'static [Field]),
    /// Rows of a group, each called by the label (材料 1, 材料 2…).
    Rows(&'static [Field], &'static str),
    /// Rows of one text each.
    TextRows,
}

/// Suggestions a text field offers from the draft's content (an HTML datalist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Suggest {
    None,
    Topics,
    Departments,
    LifeEvents,
    TargetGroups,
    Items,
    Outlets,
    Forms,
}

impl Suggest {
    pub(super) fn list_id(self) -> Option<&'static str> {
        match self {
            Suggest::None => None,
            Suggest::Topics => Some("dl-topics"),
            Suggest::Departments => Some("dl-departments"),
            Suggest::LifeEvents => Some("dl-life-events"),
            Suggest::TargetGroups => Some("dl-target-groups"),
            Suggest::Items => Some("dl-items"),
            Suggest::Outlets => Some("dl-outlets"),
            Suggest::Forms => Some("dl-forms"),
        }
    }
}

/// One field of a record: its JSON key, its label on the page, how it is typed in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub suggest: Suggest,
    /// A short hint beside the field; empty for none.
    pub hint: &'static str,
}

impl Field {
    pub(super) const fn new(key: &'static str, label: &'static str, input: Input) -> Field {
        Field {
            key,
            label,
            input,
            suggest: Suggest::None,
            hint: "",
        }
    }

    pub(super) const fn suggest(self, suggest: Suggest) -> Field {
        Field { suggest, ..self }
    }

    pub(super) const fn hint(self, hint: &'static str) -> Field {
        Field { hint, ..self }
    }
}

/// The record's form body: every field of `fields` filled from `record`; the top-level keys in
/// `locked` cannot be changed (a record's id once it exists).
pub(super) fn record_form(fields: &[Field], record: &Value, locked: &[&str]) -> Markup {
    html! {
        div id="record" data-t="obj" {
            @for f in fields { (field(f, record, locked.contains(&f.key))) }
        }
    }
}

fn field(f: &Field, parent: &Value, locked: bool) -> Markup {
    let v = parent.get(f.key).unwrap_or(&Value::Null);
    // Texts of several lines, groups and lists take a whole line of the form's grid.
    let wide = matches!(
        f.input,
        Input::Long
            | Input::OptLong
            | Input::Group(_)
            | Input::OptGroup(_)
            | Input::Rows(..)
            | Input::TextRows
    );
    html! {
        div class={ "f" @if wide { " wide" } } {
            (widget(f, v, Some(f.key), locked))
            @if !f.hint.is_empty() { span class="hint" { (f.hint) } }
            p class="problem" role="alert" {}
        }
    }
}

/// A value as text in an input: strings as they are, numbers written out, nothing for null.
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default()
}

fn rows(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The input for one value. `key`: its JSON key in the parent object (`None` in a row).
fn widget(f: &Field, v: &Value, key: Option<&str>, locked: bool) -> Markup {
    let list = f.suggest.list_id();
    match f.input {
        Input::Text | Input::OptText => {
            let t = if matches!(f.input, Input::Text) {
                "str"
            } else {
                "ostr"
            };
            html! {
                label { span class="l" { (f.label) }
                    input type="text" data-t=(t) data-k=[key] value=(text(v)) list=[list]
                        readonly[locked]; }
            }
        }
        Input::Long | Input::OptLong => {
            let t = if matches!(f.input, Input::Long) {
                "str"
            } else {
                "ostr"
            };
            html! {
                label { span class="l" { (f.label) }
                    textarea data-t=(t) data-k=[key] rows="3" { (text(v)) } }
            }
        }
        Input::Number | Input::OptNumber => {
            let t = if matches!(f.input, Input::Number) {
                "int"
            } else {
                "oint"
            };
            html! {
                label { span class="l" { (f.label) }
                    input type="number" min="0" step="1" class="short" data-t=(t) data-k=[key]
                        value=(text(v)); }
            }
        }
        Input::Decimal => html! {
            label { span class="l" { (f.label) }
                input type="number" step="any" class="short" data-t="num" data-k=[key]
                    value=(text(v)); }
        },
        Input::Check => html! {
            label class="check" {
                input type="checkbox" data-t="bool" data-k=[key] checked[v.as_bool() == Some(true)];
                " " (f.label)
            }
        },
        Input::Choice(options) => {
            let current = text(v);
            html! {
                label { span class="l" { (f.label) }
                    select data-t="str" data-k=[key] {
                        @if !current.is_empty() && !options.contains(&current.as_str()) {
                            option value=(current) selected { (current) }
                        }
                        @for o in options {
                            option value=(o) selected[*o == current] { (o) }
                        }
                    }
                }
            }
        }
        Input::Colour => {
            let c = text(v);
            html! {
                label { span class="l" { (f.label) }
                    span class="colour" {
                        input type="text" class="short" data-t="str" data-k=[key] value=(c)
                            placeholder="#1A5FB4" pattern="#[0-9A-Fa-f]{6}";
                        span class="swatch" style={ "background:" (c) } {}
                    }
                }
            }
        }
        Input::Lines => html! {
            label { span class="l" { (f.label) }
                textarea data-t="lines" data-k=[key] rows="2" { (strings(v).join("\n")) } }
        },
        Input::Numbers => {
            let numbers: Vec<String> = strings(v);
            html! {
                label { span class="l" { (f.label) }
                    input type="text" inputmode="numeric" data-t="ints" data-k=[key]
                        value=(numbers.join(", ")) placeholder="如 3, 4, 5"; }
            }
        }
        Input::When { required } => {
            let t = if required { "when" } else { "owhen" };
            let value: String = text(v).chars().take(16).collect();
            html! {
                label { span class="l" { (f.label) }
                    input type="datetime-local" data-t=(t) data-k=[key] value=(value)
                        required[required]; }
            }
        }
        Input::File { image } => file(f, v, key, image),
        Input::Group(fields) | Input::OptGroup(fields) => {
            let t = if matches!(f.input, Input::Group(_)) {
                "obj"
            } else {
                "opt"
            };
            html! {
                fieldset data-t=(t) data-k=[key] {
                    legend { (f.label) }
                    @for sub in fields { (field(sub, v, false)) }
                }
            }
        }
        Input::Rows(fields, row_label) => {
            let row = |r: &Value| {
                html! {
                    div class="row" data-t="obj" {
                        div class="row-bar" {
                            span class="row-title" { (row_label) }
                            (row_buttons())
                        }
                        @for sub in fields { (field(sub, r, false)) }
                    }
                }
            };
            html! {
                fieldset class="rows-box" {
                    legend { (f.label) }
                    div class="rows" data-t="rows" data-k=[key] {
                        @for r in rows(v) { (row(r)) }
                    }
                    template { (row(&Value::Null)) }
                    button type="button" class="secondary" data-act="add" { "＋ 添加" (row_label) }
                }
            }
        }
        Input::TextRows => {
            let row = |s: &str| {
                html! {
                    div class="row line" {
                        input type="text" data-t="str" value=(s) list=[list];
                        (row_buttons())
                    }
                }
            };
            html! {
                fieldset class="rows-box" {
                    legend { (f.label) }
                    div class="rows" data-t="rows" data-k=[key] {
                        @for s in strings(v) { (row(&s)) }
                    }
                    template { (row("")) }
                    button type="button" class="secondary" data-act="add" { "＋ 添加一行" }
                }
            }
        }
    }
}

fn row_buttons() -> Markup {
    html! {
        span class="row-buttons" {
            button type="button" class="secondary" data-act="up" title="上移" { "↑" }
            button type="button" class="secondary" data-act="down" title="下移" { "↓" }
            button type="button" class="secondary" data-act="del" title="删除这一行" { "删除" }
        }
    }
}

/// An uploaded file: its reference kept as JSON in a hidden input; choosing a file uploads it
/// (the files route answers the reference), 移除 clears it.
fn file(f: &Field, v: &Value, key: Option<&str>, image: bool) -> Markup {
    let shown = if v.is_null() {
        "未上传".to_owned()
    } else {
        let name = text(&v["name"]);
        let size = v["size"].as_u64().unwrap_or(0);
        format!("{name}（{} KB）", size.div_ceil(1024))
    };
    let accept = if image {
        "image/png,image/jpeg,image/webp"
    } else {
        ".pdf,.doc,.docx,.xls,.xlsx,image/png,image/jpeg,image/webp"
    };
    let value = if v.is_null() {
        String::new()
    } else {
        v.to_string()
    };
    let sha = v["sha256"].as_str().filter(|s| s.len() == 64);
    let href = sha.map(|s| format!("/studio/files/{s}"));
    let picture = sha.is_some() && text(&v["media_type"]).starts_with("image/");
    html! {
        div class="file" {
            span class="l" { (f.label) }
            input type="hidden" data-t="file" data-k=[key] value=(value);
            a class="file-link" href=[href.as_deref()] target="_blank" hidden[href.is_none()] {
                img class="thumb" alt="" src=[href.as_deref().filter(|_| picture)] hidden[!picture];
                span class="file-name" { (shown) }
            }
            span class="file-name none" hidden[href.is_some()] { "未上传" }
            label class="button secondary upload" {
                "上传…"
                input type="file" accept=(accept);
            }
            button type="button" class="secondary" data-act="unfile" { "移除" }
            span class="file-state muted" {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROW: &[Field] = &[Field::new("name", "名称", Input::Text)];
    const FIELDS: &[Field] = &[
        Field::new("id", "编号", Input::Text),
        Field::new("rows", "行", Input::Rows(ROW, "材料")),
        Field::new("when", "时间", Input::When { required: false }),
    ];

    #[test]
    fn inputs_carry_their_key_type_and_value_escaped() {
        let html = record_form(
            FIELDS,
            &json!({"id": "P1", "rows": [{"name": "<身份证>"}], "when": "2026-12-04T18:00:00"}),
            &["id"],
        )
        .into_string();
        assert!(html.contains(r#"data-t="str" data-k="id" value="P1" readonly"#));
        assert!(html.contains(r#"value="&lt;身份证&gt;""#));
        assert!(html.contains(r#"value="2026-12-04T18:00""#));
        // One row shown and one empty row in the template for 添加.
        assert_eq!(html.matches(r#"class="row" data-t="obj""#).count(), 2);
    }
}
