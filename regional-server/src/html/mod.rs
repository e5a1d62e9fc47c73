//! Server-rendered HTML with maud, which escapes every value by default: the page shell every
//! page uses and the small pieces pages share. `PreEscaped` is only for constant markup, style
//! sheets and scripts written in this crate (and QR codes we render ourselves), never for data.

mod console;
mod layout;
mod partials;

pub use console::{CONSOLE_STYLE, Section, console, console_page};
pub use layout::{PHONE_STYLE, Page};
pub use maud::{Markup, PreEscaped, html};
pub use partials::{back_link, error_line, footer, hidden, list, tel_link};
