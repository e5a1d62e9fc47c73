//! Small pieces of markup the pages share: a way back, an error line, a hidden field, a list,
//! a phone link, the content footer.

use maud::{Markup, html};

/// `<p><a href>label</a></p>`: the way back from a page.
pub fn back_link(href: &str, label: &str) -> Markup {
    html! { p { a href=(href) { (label) } } }
}

/// Why the last submission was refused, above the form.
pub fn error_line(message: &str) -> Markup {
    html! { p class="err" id="error" { (message) } }
}

/// A hidden form field.
pub fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

/// A bulleted list of plain texts.
pub fn list<T: AsRef<str>>(items: &[T]) -> Markup {
    html! { ul { @for i in items { li { (i.as_ref()) } } } }
}

/// A phone number that dials when tapped.
pub fn tel_link(phone: &str) -> Markup {
    html! { a href={ "tel:" (phone) } { (phone) } }
}

/// The phone pages' footer: which content version they show.
pub fn footer(version: &str) -> Markup {
    html! { footer { "内容版本 " (version) " · 以大厅现场公示为准" } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            back_link("/h/\"><x", "<回>").into_string(),
            "<p><a href=\"/h/&quot;&gt;&lt;x\">&lt;回&gt;</a></p>"
        );
        assert_eq!(
            hidden("k", "a\"b").into_string(),
            "<input type=\"hidden\" name=\"k\" value=\"a&quot;b\">"
        );
        assert_eq!(
            tel_link("1<2").into_string(),
            "<a href=\"tel:1&lt;2\">1&lt;2</a>"
        );
    }
}
