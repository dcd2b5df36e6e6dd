//! Finding media names in card HTML, as the add-on expects of
//! `/media/missing`: `[sound:…]`, `src=`/`xlink:href=` attributes, CSS `url()`, and
//! LaTeX images.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::names::unsafe_name_reason;

static PATTERNS: LazyLock<[Regex; 4]> = LazyLock::new(|| {
    [
        Regex::new(r"\[sound:([^\]]+)\]").expect("valid regex"),
        Regex::new(r#"(?i)\b(?:src|xlink:href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))"#)
            .expect("valid regex"),
        Regex::new(r#"(?i)url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]+))\s*\)"#).expect("valid regex"),
        Regex::new(r"(latex-image-[0-9a-zA-Z]+\.png)").expect("valid regex"),
    ]
});

/// Adds every local media file name referenced in `html` to `out`.
pub fn media_names(html: &str, out: &mut BTreeSet<String>) {
    for re in PATTERNS.iter() {
        for caps in re.captures_iter(html) {
            if let Some(m) = caps.iter().skip(1).flatten().next() {
                let name = decode_entities(m.as_str().trim());
                if is_local(&name) && unsafe_name_reason(&name).is_none() {
                    out.insert(name);
                }
            }
        }
    }
}

/// Remote URLs and inline data are not media files.
pub(crate) fn is_local(name: &str) -> bool {
    !name.contains(':')
        || !name
            .split(':')
            .next()
            .unwrap_or("")
            .bytes()
            .all(|b| b.is_ascii_alphabetic())
}

/// Undoes the character references the field cleaner writes, named and numeric alike
/// (`my&#32;photo.jpg` is the unquoted attribute form of `my photo.jpg`).
pub(crate) fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match rest
            .find(';')
            .and_then(|end| Some((entity(&rest[1..end])?, end)))
        {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character one reference (without `&` and `;`) stands for.
fn entity(name: &str) -> Option<char> {
    let code = match name {
        "amp" => return Some('&'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        _ => match name.strip_prefix('#')? {
            hex if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16).ok()?,
            dec => dec.parse().ok()?,
        },
    };
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_forms_cards_use() {
        let mut out = BTreeSet::new();
        media_names(
            r#"[sound:hello.mp3] <img src="red1x1.png"> <IMG SRC='b&amp;w.jpg'> <img src=bare.gif>
               <image xlink:href="x.svg"/> <div style="background: url('bg.webp')"></div>
               latex-image-0a1b2c.png <img src="https://example.org/remote.png"> <img src="data:image/png;base64,AAA">
               <img src="../escape.png"> <img src="sub/dir.png"> <img src=my&#32;photo&#x2E;png> <img src=a&b.png>"#,
            &mut out,
        );
        let got: Vec<&str> = out.iter().map(String::as_str).collect();
        assert_eq!(
            got,
            [
                "a&b.png",
                "b&w.jpg",
                "bare.gif",
                "bg.webp",
                "hello.mp3",
                "latex-image-0a1b2c.png",
                "my photo.png",
                "red1x1.png",
                "x.svg"
            ]
        );
    }
}
