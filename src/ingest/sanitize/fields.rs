//! Note fields, safe wherever a card template places them.
//!
//! Anki substitutes a field's stored text into its template verbatim, so a field must
//! be safe as text between tags, inside a double- or single-quoted attribute
//! (`<img src="{{Front}}">`, `<div title='{{Back}}'>`) and next to another field. Every
//! stored field therefore:
//! - is the allow-list cleaner's output, so it is balanced markup on its own and a
//!   half tag in one field cannot combine with the next;
//! - holds no `"`, `'` or backtick at all: in text they become `&quot;`, `&#39;`,
//!   `&#96;`, and attribute values are written unquoted with character references for
//!   whitespace, quotes, `=`, `<` and `>` (`<img src=my&#32;photo.png>`), which a browser
//!   reads exactly like the quoted form — so no field can open or close an attribute;
//! - does not start with a script URL scheme (`javascript:` and friends, also with
//!   whitespace or controls inside, which browsers ignore): such text gets a leading
//!   zero-width space, invisible as text and a harmless relative URL in `src`/`href`.
//!
//! Templates that put a field in an unquoted attribute (`<img src={{Front}}>`) cannot be
//! made safe by any field content with spaces; Anki's own notetypes quote them.

/// Schemes that run script when a URL attribute holds them.
const SCRIPT_SCHEMES: &[&str] = &["javascript", "vbscript", "livescript"];

/// Cleans a field in place; what the cleaner would return unchanged (see
/// [`is_simple_markup`]) is left alone without allocating.
pub fn field_in_place(s: &mut String) {
    if !is_simple_markup(s) {
        *s = without_quotes(&super::cleaner::clean(s));
    }
    if starts_with_script_scheme(s) {
        s.insert(0, '\u{200b}');
    }
}

/// Tags the fast path accepts: attribute-less, and in the HTML5 tree builder neither
/// closing an open element nor reopening one when they nest properly.
const SIMPLE_TAGS: &[&str] = &[
    "b", "i", "u", "s", "em", "strong", "sub", "sup", "span", "div",
];

/// True only for what the cleaner returns unchanged: text with no entity, quote,
/// backtick, `>` or character the HTML5 parser normalises (carriage return, NUL,
/// byte-order mark, the no-break space it writes as `&nbsp;`), between properly nested
/// lowercase [`SIMPLE_TAGS`] without attributes and bare `<br>`s. For such input the
/// tree builder creates exactly the elements written (no implied end tags, no
/// adoption-agency moves, no reconstruction) and the serialiser writes them back byte
/// for byte.
fn is_simple_markup(s: &str) -> bool {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = s;
    loop {
        let text_end = rest.find('<').unwrap_or(rest.len());
        if !is_plain_text(&rest[..text_end]) {
            return false;
        }
        rest = &rest[text_end..];
        if rest.is_empty() {
            return open.is_empty();
        }
        let Some(close) = rest.find('>') else {
            return false;
        };
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop() != Some(name) {
                return false;
            }
        } else if SIMPLE_TAGS.contains(&tag) {
            open.push(tag);
        } else if tag != "br" {
            return false;
        }
    }
}

fn is_plain_text(t: &str) -> bool {
    !t.bytes()
        .any(|b| matches!(b, b'>' | b'&' | b'"' | b'\'' | b'`' | b'\r' | b'\0'))
        && !t.contains(['\u{a0}', '\u{feff}'])
}

/// Rewrites the cleaner's serialisation so it holds no quote: html5ever writes text
/// with `&`, `<`, `>` escaped and every attribute as `name="value"` with `"` and `&`
/// escaped, so a `<` always opens a tag and the next `"` after `="` closes its value.
fn without_quotes(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut rest = html;
    while let Some(at) = rest.find(['<', '"', '\'', '`']) {
        let (text, tail) = rest.split_at(at);
        out.push_str(text);
        if tail.starts_with('<') {
            let end = tag_end(tail);
            rewrite_tag(&tail[..end], &mut out);
            rest = &tail[end..];
        } else {
            out.push_str(escape_quote(tail.as_bytes()[0]));
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Length of the tag at the start of `s`, through its `>` (values never hold one).
fn tag_end(s: &str) -> usize {
    s.find('>').map_or(s.len(), |i| i + 1)
}

/// Copies a tag, writing each `="value"` unquoted (an empty value as the bare name).
fn rewrite_tag(tag: &str, out: &mut String) {
    let mut rest = tag;
    while let Some(at) = rest.find("=\"") {
        out.push_str(&rest[..at]);
        let value_start = &rest[at + 2..];
        let close = value_start.find('"').unwrap_or(value_start.len());
        let value = &value_start[..close];
        if !value.is_empty() {
            out.push('=');
            for c in value.chars() {
                match c {
                    ' ' => out.push_str("&#32;"),
                    '\t' => out.push_str("&#9;"),
                    '\n' => out.push_str("&#10;"),
                    '\x0c' => out.push_str("&#12;"),
                    '\r' => out.push_str("&#13;"),
                    '=' => out.push_str("&#61;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' | '\'' | '`' => out.push_str(escape_quote(c as u8)),
                    c => out.push(c),
                }
            }
        }
        rest = value_start.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
}

fn escape_quote(b: u8) -> &'static str {
    match b {
        b'"' => "&quot;",
        b'\'' => "&#39;",
        _ => "&#96;",
    }
}

/// Whether a browser reading `s` as a URL would see a script scheme: leading spaces and
/// controls are skipped and tabs or newlines inside the scheme ignored.
fn starts_with_script_scheme(s: &str) -> bool {
    let mut scheme = String::new();
    for c in s.trim_start_matches(|c: char| c <= ' ').chars() {
        match c {
            ':' => return SCRIPT_SCHEMES.contains(&scheme.as_str()),
            '\t' | '\n' | '\r' => {}
            c if c.is_ascii_alphanumeric() && scheme.len() < 16 => {
                scheme.push(c.to_ascii_lowercase())
            }
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> String {
        let mut s = s.to_string();
        field_in_place(&mut s);
        s
    }

    #[test]
    fn fields_hold_no_quotes_and_stay_balanced() {
        assert_eq!(
            field(r#"" onerror="alert(1)"#),
            "&quot; onerror=&quot;alert(1)"
        );
        assert_eq!(field("Tom's `x`"), "Tom&#39;s &#96;x&#96;");
        assert_eq!(
            field(r#"<img src="my photo.png" alt="a 'b' = c">"#),
            "<img src=my&#32;photo.png alt=a&#32;&#39;b&#39;&#32;&#61;&#32;c>"
        );
        assert_eq!(field("<img src=x title='"), "");
        assert_eq!(
            field("' onerror='alert(1)'>"),
            "&#39; onerror=&#39;alert(1)&#39;&gt;"
        );
        assert_eq!(field("<b title=\"\">x"), "<b title>x</b>");
        assert_eq!(
            field("<div style=\"color: red; background: url(javascript:x)\">r</div>"),
            "<div style=color:&#32;red>r</div>"
        );
    }

    #[test]
    fn ordinary_fields_keep_their_meaning() {
        for (input, stored) in [
            ("plain text", "plain text"),
            (
                "[sound:x.mp3] {{c1::Paris::capital}}",
                "[sound:x.mp3] {{c1::Paris::capital}}",
            ),
            (
                "<b>b</b><br><img src=\"x.png\">",
                "<b>b</b><br><img src=x.png>",
            ),
            ("a&nbsp;b \\(x < y\\)", "a&nbsp;b \\(x &lt; y\\)"),
            ("<ruby>漢<rt>kan</rt></ruby>", "<ruby>漢<rt>kan</rt></ruby>"),
        ] {
            assert_eq!(field(input), stored, "{input}");
        }
    }

    #[test]
    fn script_schemes_are_defused() {
        for bad in [
            "javascript:alert(1)",
            " \tJaVa\tScRiPt:x",
            "vbscript:msgbox",
            "&#106;avascript:x",
            "\u{1}java\nscript:x",
        ] {
            let f = field(bad);
            assert!(f.starts_with('\u{200b}'), "{bad} -> {f:?}");
            assert_eq!(field(&f), f, "a fixed point");
        }
        assert_eq!(
            field("JavaScript is a language"),
            "JavaScript is a language"
        );
        assert_eq!(field("<b>javascript:x</b>"), "<b>javascript:x</b>");
    }

    #[test]
    fn cleaning_is_a_fixed_point() {
        for s in [
            "<img src=\"a b.png\" title='x\"y'>",
            "\"'`<>&",
            "<table><tr><td>a</td></tr></table>",
            "a\r\nb\u{a0}c",
        ] {
            let once = field(s);
            assert_eq!(field(&once), once, "{s}");
        }
    }

    /// The fast path is the cleaner's identity: what it skips comes out of the cleaner unchanged.
    #[test]
    fn skipped_markup_is_what_the_cleaner_would_return() {
        const TEXT: &[&str] = &[
            "a", "Z", " ", "\t", "\n", "\u{c}", "\u{1}", "é", "漢", "🎌", "=", "/", "{{", "}}",
            ":", ";", "\u{200b}",
        ];
        const NOISE: &[&str] = &[
            "<p>", "</p>", "<B>", "<b >", "</br>", "<li>", "<", "&amp;", "'", "<br/>",
        ];
        struct Rng(u64);
        impl Rng {
            fn below(&mut self, n: usize) -> usize {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 % n as u64) as usize
            }
            fn markup(&mut self, depth: usize, out: &mut String) {
                for _ in 0..self.below(5) {
                    match self.below(10) {
                        0..=4 => out.push_str(TEXT[self.below(TEXT.len())]),
                        5 => out.push_str("<br>"),
                        6 => out.push_str(NOISE[self.below(NOISE.len())]),
                        _ if depth < 6 => {
                            let tag = SIMPLE_TAGS[self.below(SIMPLE_TAGS.len())];
                            out.push_str(&format!("<{tag}>"));
                            self.markup(depth + 1, out);
                            out.push_str(&format!("</{tag}>"));
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut skipped = 0;
        for _ in 0..5_000 {
            let mut s = String::new();
            rng.markup(0, &mut s);
            if is_simple_markup(&s) {
                skipped += 1;
                assert_eq!(
                    without_quotes(&super::super::cleaner::clean(&s)),
                    s,
                    "{s:?}"
                );
            }
        }
        assert!(
            skipped > 1_000,
            "the generator exercises the fast path: {skipped}"
        );
    }
}
