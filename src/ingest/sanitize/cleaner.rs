//! The ammonia allow-list every stored piece of HTML goes through: balanced markup, no
//! script elements, no event handlers, no script URLs, inline styles without URLs.

use std::borrow::Cow;
use std::sync::LazyLock;

use ammonia::Builder;

use super::style;

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.add_tags([
        "font", "span", "div", "u", "s", "audio", "video", "source", "hr", "br", "ruby", "rt", "rp",
    ])
    .add_generic_attributes(["style", "class", "id", "dir", "lang", "title", "align"])
    .add_tag_attributes("font", ["color", "face", "size"])
    .add_tag_attributes("img", ["width", "height", "alt", "title"])
    .add_tag_attributes("audio", ["src", "controls"])
    .add_tag_attributes("video", ["src", "controls"])
    .add_tag_attributes("source", ["src", "type"])
    .attribute_filter(|_element, attribute, value| {
        if attribute == "style" {
            style::filter(value)
        } else {
            Some(Cow::Borrowed(value))
        }
    })
    .link_rel(None)
    .strip_comments(true);
    b
});

/// The allow-list's rebuild of `input`, serialised the html5ever way (attribute values
/// in double quotes, text with `&`, `<`, `>` and no-break spaces escaped).
pub fn clean(input: &str) -> String {
    CLEANER.clean(input).to_string()
}
