//! Inline `style` attributes: declarations that could load something or run script are
//! dropped, the rest is kept byte for byte.
//!
//! The style is split at every `;`. A declaration goes when, with case and whitespace
//! folded away, it holds `url(` or another function that loads a resource, an old
//! script hook (`expression(`, `behavior`, `-moz-binding`), a script scheme or
//! `@import` — or a backslash or `/*`, because CSS escapes and comments could hide one
//! of those from this check. No forbidden token can span two kept pieces: CSS tokens
//! never contain a `;` outside strings, and strings do not load anything.

use std::borrow::Cow;

/// What a kept declaration must not contain once folded.
const FORBIDDEN: &[&str] = &[
    "url(",
    "image(",
    "image-set(",
    "src(",
    "expression(",
    "behavior",
    "-moz-binding",
    "javascript:",
    "vbscript:",
    "livescript:",
    "@import",
    "\\",
    "/*",
];

/// The style with its dangerous declarations removed, or `None` when nothing is left.
pub fn filter(value: &str) -> Option<Cow<'_, str>> {
    if value.split(';').all(is_safe) {
        return Some(Cow::Borrowed(value));
    }
    let kept: Vec<&str> = value
        .split(';')
        .filter(|d| is_safe(d) && !d.trim().is_empty())
        .collect();
    if kept.is_empty() {
        None
    } else {
        Some(Cow::Owned(kept.join(";")))
    }
}

fn is_safe(declaration: &str) -> bool {
    let folded: String = declaration
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect();
    !FORBIDDEN.iter().any(|f| folded.contains(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_and_scripted_declarations_go_the_rest_stays() {
        assert_eq!(filter("color: red"), Some(Cow::Borrowed("color: red")));
        assert_eq!(
            filter("color: red; background: URL (javascript:x)").as_deref(),
            Some("color: red")
        );
        assert_eq!(
            filter("background:u\\72l(x); font-weight: bold").as_deref(),
            Some(" font-weight: bold")
        );
        assert_eq!(filter("width: expression(alert(1))"), None);
        assert_eq!(
            filter("color:red;/* x */background:url(y)").as_deref(),
            Some("color:red")
        );
        assert_eq!(filter("behavior: url(x.htc)"), None);
        let once = filter("a:1; b: image-set('x.png' 1x); c:3")
            .unwrap()
            .into_owned();
        assert_eq!(
            filter(&once).as_deref(),
            Some(once.as_str()),
            "a fixed point"
        );
    }
}
