//! Field changes as a reviewer reads them: a word-level diff of two cleaned HTML fields,
//! and the field's media pointed at the console's previews.

use std::sync::LazyLock;
use std::time::Duration;

use regex::{Captures, Regex};
use similar::{ChangeTag, TextDiff};

use crate::media::scan::{decode_entities, is_local};

/// Splits HTML into tags, runs of whitespace and words, so a diff never cuts a tag.
fn tokenize(html: &str) -> Vec<&str> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let end = if bytes[i] == b'<' {
            html[i..].find('>').map_or(bytes.len(), |e| i + e + 1)
        } else if bytes[i].is_ascii_whitespace() {
            html[i..]
                .find(|c: char| !c.is_ascii_whitespace())
                .map_or(bytes.len(), |e| i + e)
        } else {
            html[i..]
                .find(|c: char| c == '<' || c.is_ascii_whitespace())
                .map_or(bytes.len(), |e| i + e)
        };
        out.push(&html[i..end]);
        i = end;
    }
    out
}

/// Marks what changed between two texts a reviewer reads as source (card templates,
/// styling): every word escaped, removed ones in `<del>`, added ones in `<ins>`.
pub fn source_diff(old: &str, new: &str) -> String {
    let diff = TextDiff::configure()
        .timeout(Duration::from_millis(50))
        .diff_words(old, new);
    let mut out = String::with_capacity(old.len() + new.len() + 32);
    for change in diff.iter_all_changes() {
        let text = askama::filters::escape(change.value(), askama::filters::Html)
            .map(|t| t.to_string())
            .unwrap_or_default();
        match change.tag() {
            ChangeTag::Equal => out.push_str(&text),
            ChangeTag::Delete => out.push_str(&format!("<del>{text}</del>")),
            ChangeTag::Insert => out.push_str(&format!("<ins>{text}</ins>")),
        }
    }
    out
}

/// Marks words removed from `old` with `<del>` and added in `new` with `<ins>`. Both sides
/// are cleaned HTML; markup is taken from the new side only (an image counts as a word),
/// so the marks never straddle a tag. Spaces between changed words join their runs, so a
/// rewritten sentence reads as one deletion and one insertion, not word by word. A diff
/// that takes too long falls back to coarser runs.
pub fn word_diff(old: &str, new: &str) -> String {
    let (a, b) = (tokenize(old), tokenize(new));
    let diff = TextDiff::configure()
        .timeout(Duration::from_millis(50))
        .diff_slices(&a, &b);
    let mut out = String::with_capacity(old.len() + new.len() + 32);
    let mut run = Run::default();
    for change in diff.iter_all_changes() {
        let (tag, token) = (change.tag(), change.value());
        let markup = token.starts_with('<') && !token.starts_with("<img");
        let space = token.bytes().all(|c| c.is_ascii_whitespace());
        if tag == ChangeTag::Equal && space && !run.is_empty() {
            run.gap.push_str(token);
        } else if tag == ChangeTag::Equal || markup {
            run.flush(&mut out);
            if tag != ChangeTag::Delete {
                out.push_str(token);
            }
        } else {
            run.push(tag == ChangeTag::Insert, token);
        }
    }
    run.flush(&mut out);
    out
}

/// Changed words waiting to be written as one `<del>` and one `<ins>`: the old and the
/// new text of one stretch of the field, and the unchanged spaces seen since its last
/// changed word.
#[derive(Default)]
struct Run {
    del: String,
    ins: String,
    gap: String,
}

impl Run {
    fn is_empty(&self) -> bool {
        self.del.is_empty() && self.ins.is_empty()
    }

    /// Adds a changed word; the spaces before it, unchanged, belong to both sides.
    fn push(&mut self, inserted: bool, token: &str) {
        self.del.push_str(&self.gap);
        self.ins.push_str(&self.gap);
        self.gap.clear();
        if inserted {
            &mut self.ins
        } else {
            &mut self.del
        }
        .push_str(token);
    }

    /// Writes the run; a side that is only spaces is no change to mark, and the new
    /// side's spaces are kept so the new text reads whole.
    fn flush(&mut self, out: &mut String) {
        let blank = |s: &str| s.bytes().all(|c| c.is_ascii_whitespace());
        if !blank(&self.del) {
            out.push_str("<del>");
            out.push_str(&self.del);
            out.push_str("</del>");
        }
        if blank(&self.ins) {
            out.push_str(&self.ins);
        } else {
            out.push_str("<ins>");
            out.push_str(&self.ins);
            out.push_str("</ins>");
        }
        out.push_str(&self.gap);
        self.del.clear();
        self.ins.clear();
        self.gap.clear();
    }
}

/// An image's `src`, quoted either way or (as the field cleaner writes it) not at all.
static IMG_SRC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(<img\b[^>]*?\bsrc=)(?:"([^"]*)"|'([^']*)'|([^\s>"']+))"#).expect("valid regex")
});
static SOUND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[sound:([^\]<>]+)\]").expect("valid regex"));

/// Points a field's images at their previews and turns `[sound:…]` into a player; `base`
/// is the suggestion's media address (names are appended, percent-encoded).
pub fn with_previews(html: &str, base: &str) -> String {
    let link = |name: &str| -> Option<String> {
        let name = decode_entities(name.trim());
        is_local(&name).then(|| {
            let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
            format!("{base}?name={encoded}")
        })
    };
    let images = IMG_SRC.replace_all(html, |c: &Captures| {
        let name = c.iter().skip(2).flatten().next().map_or("", |m| m.as_str());
        match link(name) {
            Some(url) => format!("{}\"{}\"", &c[1], html_escape(&url)),
            None => format!("{}\"\"", &c[1]),
        }
    });
    SOUND
        .replace_all(&images, |c: &Captures| match link(&c[1]) {
            Some(url) => format!(
                "<audio controls preload=\"none\" src=\"{}\"></audio>",
                html_escape(&url)
            ),
            None => String::new(),
        })
        .into_owned()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_marked_and_tags_never_split() {
        let old = "<p>The mitochondria is the <b>powerhouse</b> of the cell</p>";
        let new = "<p>The mitochondrion is the <i>powerhouse</i> of a cell &amp; more</p>";
        assert_eq!(
            word_diff(old, new),
            "<p>The <del>mitochondria</del><ins>mitochondrion</ins> is the <i>powerhouse</i> of \
             <del>the</del><ins>a</ins> cell<ins> &amp; more</ins></p>"
        );
        assert_eq!(word_diff("", "new"), "<ins>new</ins>");
        assert_eq!(
            source_diff("{{Front}} <hr>", "{{Front}} <b>x</b>"),
            "{{Front}} <del>&#60;hr&#62;</del><ins>&#60;b&#62;x&#60;/b&#62;</ins>"
        );
        assert_eq!(word_diff("same", "same"), "same");
        assert_eq!(
            word_diff("<img src=\"a.png\">", "<img src=\"b.png\">"),
            "<del><img src=\"a.png\"></del><ins><img src=\"b.png\"></ins>"
        );
    }

    #[test]
    fn a_rewritten_stretch_is_one_deletion_and_one_insertion() {
        assert_eq!(
            word_diff("keep one two three end", "keep uno dos tres end"),
            "keep <del>one two three</del><ins>uno dos tres</ins> end"
        );
        assert_eq!(
            word_diff("foo a b bar", "foo bar"),
            "foo <del>a b </del>bar",
            "the new text keeps its one space"
        );
        assert_eq!(word_diff("x y", "x  y"), "x  y");
    }

    #[test]
    fn media_points_at_previews_and_remote_links_go() {
        let html =
            "<img src=\"my&#32;cat.png\"> [sound:hi&amp;lo.mp3] <img src=\"https://x/y.png\">";
        assert_eq!(
            with_previews(html, "/m"),
            "<img src=\"/m?name=my+cat.png\"> <audio controls preload=\"none\" \
             src=\"/m?name=hi%26lo.mp3\"></audio> <img src=\"\">"
        );
    }
}
