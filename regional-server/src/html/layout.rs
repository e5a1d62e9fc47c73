//! The page shell: doctype, head (title, the page family's style sheet, extra head markup),
//! the body, and at most one constant inline script at its end.

use maud::{Markup, PreEscaped, html};

/// The phone pages' look (the plate, guides, outlets, tickets, bookings): phone-sized, no
/// external files.
pub const PHONE_STYLE: &str = "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','PingFang SC',sans-serif;margin:0;padding:12px 14px;color:#1b1f24;background:#f2f5fa;font-size:17px;line-height:1.55}\
h1{color:#0e3f7e;font-size:22px;margin:8px 0}h2{font-size:18px;margin:18px 0 6px;color:#0e3f7e}\
form,.card{background:#fff;border-radius:12px;padding:14px;margin:10px 0}\
a{color:#1a5fb4}ul{padding-left:20px;margin:6px 0}li{margin:4px 0}\
label{display:block;margin:10px 0}input[type=text],input[type=tel],input[type=search]{width:100%;padding:10px;font-size:17px;box-sizing:border-box;border:1px solid #c3ccd8;border-radius:8px}\
.slot{display:inline-block;margin:4px}button{background:#1a5fb4;color:#fff;border:0;border-radius:10px;padding:12px 20px;font-size:18px;width:100%}\
.err{color:#c62828;font-weight:bold}.muted{color:#5b6570;font-size:15px}svg{width:260px;height:260px}\
textarea{width:100%;box-sizing:border-box;font-size:17px;padding:8px;border:1px solid #c3ccd8;border-radius:8px}\
#ticket[data-state=called] .now{background:#fff1c9;border:2px solid #f0a800}\
.tag{display:inline-block;background:#e3ecf7;color:#0e3f7e;border-radius:6px;padding:0 6px;margin:2px 4px 2px 0;font-size:14px}\
.list a{display:block;padding:10px 0;border-bottom:1px solid #e6ebf1;text-decoration:none}.open{color:#2e7d32}.closed{color:#c62828}\
footer{margin:24px 0 8px;color:#5b6570;font-size:14px}";

/// One HTML page: `Page::new(title, STYLE).render(body)`. Chinese, sized for the device it is
/// opened on; style and script are constants of this crate, so they go in unescaped.
#[derive(Debug)]
pub struct Page<'a> {
    title: &'a str,
    style: &'static str,
    head: Markup,
    script: &'static str,
}

impl<'a> Page<'a> {
    pub fn new(title: &'a str, style: &'static str) -> Page<'a> {
        Page {
            title,
            style,
            head: PreEscaped(String::new()),
            script: "",
        }
    }

    /// A phone page (`PHONE_STYLE`).
    pub fn phone(title: &'a str) -> Page<'a> {
        Page::new(title, PHONE_STYLE)
    }

    /// Extra `<head>` markup after the style sheet (a refresh, a `<noscript>`).
    pub fn head(mut self, head: Markup) -> Page<'a> {
        self.head = head;
        self
    }

    /// A small inline script at the end of the body. Its text goes out byte for byte: a
    /// Content-Security-Policy that allows it by its SHA-256 hash must hash this same constant.
    pub fn script(mut self, script: &'static str) -> Page<'a> {
        self.script = script;
        self
    }

    /// The whole document around `body`.
    pub fn render(self, body: Markup) -> Markup {
        html! {
            (PreEscaped("<!doctype html>"))
            html lang="zh-CN" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width,initial-scale=1";
                    title { (self.title) }
                    style { (PreEscaped(self.style)) }
                    (self.head)
                }
                body {
                    (body)
                    @if !self.script.is_empty() {
                        script { (PreEscaped(self.script)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_is_escaped_and_the_script_kept_byte_for_byte() {
        let page = Page::new("<b>&\"", "p{}")
            .head(html! { meta http-equiv="refresh" content="30"; })
            .script("if(a<b&&c)d();")
            .render(html! { p { "x" } })
            .into_string();
        assert_eq!(
            page,
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>&lt;b&gt;&amp;&quot;</title><style>p{}</style>\
             <meta http-equiv=\"refresh\" content=\"30\"></head><body><p>x</p>\
             <script>if(a<b&&c)d();</script></body></html>"
        );
    }
}
