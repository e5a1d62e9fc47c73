//! The kinds of record the studio edits: their names, fields, a new record's starting values,
//! and a record read from or parsed for a pack.

use menpai_model::{ContentPack, Faq, Form, Item, Notice, Outlet, Region, Slide};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::fields::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Item,
    Outlet,
    Faq,
    Slide,
    Notice,
    Form,
    /// The region itself: its calendar, hotline and categories (edited, never created).
    Region,
}

/// A record as a browsing list shows it.
#[derive(Debug)]
pub(super) struct Listed {
    pub key: String,
    pub title: String,
    /// A second column: an item's code, an outlet's kind, a notice's expiry…
    pub extra: String,
    /// Words search looks at besides key and title (aliases, answers…).
    pub words: String,
}

impl Kind {
    pub(super) const ALL: [Kind; 7] = [
        Kind::Item,
        Kind::Outlet,
        Kind::Faq,
        Kind::Slide,
        Kind::Notice,
        Kind::Form,
        Kind::Region,
    ];

    /// The record kind as the bundle and the drafts name it.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kind::Item => "item",
            Kind::Outlet => "outlet",
            Kind::Faq => "faq",
            Kind::Slide => "slide",
            Kind::Notice => "notice",
            Kind::Form => "form",
            Kind::Region => "region",
        }
    }

    /// Whether records of this kind are created and deleted (a region is only edited).
    pub(super) fn creatable(self) -> bool {
        self != Kind::Region
    }

    pub(super) fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Kind::Item => "事项",
            Kind::Outlet => "办事地点",
            Kind::Faq => "常见问题",
            Kind::Slide => "轮播图",
            Kind::Notice => "临时通知",
            Kind::Form => "表格",
            Kind::Region => "地区与节假日",
        }
    }

    pub(super) fn fields(self) -> &'static [Field] {
        match self {
            Kind::Item => super::item::FIELDS,
            Kind::Outlet => super::outlet::FIELDS,
            Kind::Faq => super::faq::FIELDS,
            Kind::Slide => super::slide::FIELDS,
            Kind::Notice => super::notice::FIELDS,
            Kind::Form => super::form::FIELDS,
            Kind::Region => super::region::FIELDS,
        }
    }

    /// A new record's starting values.
    pub(super) fn blank(self) -> Value {
        match self {
            Kind::Item => super::item::blank(),
            Kind::Outlet => super::outlet::blank(),
            Kind::Faq => super::faq::blank(),
            Kind::Slide => super::slide::blank(),
            Kind::Notice => super::notice::blank(),
            Kind::Form => super::form::blank(),
            Kind::Region => Value::Null,
        }
    }

    /// Record `key` of `pack` as JSON.
    pub(super) fn record(self, pack: &ContentPack, key: &str) -> Option<Value> {
        fn find<T: Serialize>(list: &[T], id: impl Fn(&T) -> &str, key: &str) -> Option<Value> {
            list.iter()
                .find(|r| id(r) == key)
                .and_then(|r| serde_json::to_value(r).ok())
        }
        match self {
            Kind::Item => find(&pack.items, |r| &r.id, key),
            Kind::Outlet => find(&pack.outlets, |r| &r.id, key),
            Kind::Faq => find(&pack.faqs, |r| &r.id, key),
            Kind::Slide => find(&pack.slides, |r| &r.id, key),
            Kind::Notice => find(&pack.notices, |r| &r.id, key),
            Kind::Form => find(&pack.forms, |r| &r.id, key),
            Kind::Region => find(pack.region.as_slice(), |r| &r.id, key),
        }
    }

    /// Every record of this kind in `pack`, as a list shows them.
    pub(super) fn listed(self, pack: &ContentPack) -> Vec<Listed> {
        let l = |key: &str, title: &str, extra: String, words: String| Listed {
            key: key.to_owned(),
            title: title.to_owned(),
            extra,
            words,
        };
        match self {
            Kind::Item => pack
                .items
                .iter()
                .map(|i| l(&i.id, &i.name, i.code.clone(), i.aliases.join(" ")))
                .collect(),
            Kind::Outlet => pack
                .outlets
                .iter()
                .map(|o| l(&o.id, &o.name, o.kind.label().into(), o.address.clone()))
                .collect(),
            Kind::Faq => pack
                .faqs
                .iter()
                .map(|f| l(&f.id, &f.question, f.category.clone(), f.answer.clone()))
                .collect(),
            Kind::Slide => pack
                .slides
                .iter()
                .map(|s| {
                    let until = s.expires_at.map(|e| format!("至 {e}")).unwrap_or_default();
                    l(&s.id, &s.title, until, s.subtitle.clone())
                })
                .collect(),
            Kind::Notice => pack
                .notices
                .iter()
                .map(|n| {
                    let extra = format!("{} · 至 {}", n.kind.label(), n.expires_at);
                    l(&n.id, &n.title, extra, n.text.clone())
                })
                .collect(),
            Kind::Form => pack
                .forms
                .iter()
                .map(|f| {
                    let files = f.files().count();
                    l(&f.id, &f.name, format!("{files} 个文件"), f.url.clone())
                })
                .collect(),
            Kind::Region => pack
                .region
                .iter()
                .map(|r| {
                    let extra = format!("{} 个节假日", r.holidays.len());
                    l(&r.id, &r.name, extra, r.hotline.clone())
                })
                .collect(),
        }
    }

    /// The record's body as the bundle writes it (fields in order, absent ones as the model
    /// serialises them), so an unchanged record keeps its SHA-256; `None` when it does not
    /// parse.
    pub(super) fn canonical(self, body: &[u8]) -> Option<Vec<u8>> {
        fn again<T: DeserializeOwned + Serialize>(body: &[u8]) -> Option<Vec<u8>> {
            let record: T = serde_json::from_slice(body).ok()?;
            serde_json::to_vec(&record).ok()
        }
        match self {
            Kind::Item => again::<Item>(body),
            Kind::Outlet => again::<Outlet>(body),
            Kind::Faq => again::<Faq>(body),
            Kind::Slide => again::<Slide>(body),
            Kind::Notice => again::<Notice>(body),
            Kind::Form => again::<Form>(body),
            Kind::Region => again::<Region>(body),
        }
    }

    /// Parses a record's JSON body as this kind: its id, or where it does not fit (field
    /// path, message).
    pub(super) fn parse_record(self, body: &[u8]) -> Result<String, (String, String)> {
        fn parse<T: DeserializeOwned>(
            body: &[u8],
            id: impl Fn(&T) -> String,
        ) -> Result<String, (String, String)> {
            let de = &mut serde_json::Deserializer::from_slice(body);
            serde_path_to_error::deserialize::<_, T>(de)
                .map(|r| id(&r))
                .map_err(|e| {
                    let path = e.path().to_string();
                    let path = if path == "." { String::new() } else { path };
                    (path, format!("格式不对：{}", e.into_inner()))
                })
        }
        match self {
            Kind::Item => parse::<Item>(body, |r| r.id.clone()),
            Kind::Outlet => parse::<Outlet>(body, |r| r.id.clone()),
            Kind::Faq => parse::<Faq>(body, |r| r.id.clone()),
            Kind::Slide => parse::<Slide>(body, |r| r.id.clone()),
            Kind::Notice => parse::<Notice>(body, |r| r.id.clone()),
            Kind::Form => parse::<Form>(body, |r| r.id.clone()),
            Kind::Region => parse::<Region>(body, |r| r.id.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_field_is_named_by_its_path() {
        let (path, message) = Kind::Faq
            .parse_record(br#"{"id":"f1","question":"q","answer":"a","category":"c","items":[1]}"#)
            .unwrap_err();
        assert_eq!(path, "items[0]");
        assert!(message.starts_with("格式不对"), "{message}");
        assert_eq!(
            Kind::Faq
                .parse_record(br#"{"id":"f1","question":"q","answer":"a","category":"c"}"#)
                .unwrap(),
            "f1"
        );
    }
}
