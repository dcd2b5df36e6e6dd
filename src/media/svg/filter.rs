//! The streaming pass: each XML event is checked against the allow-list and written at
//! once, so memory is the output plus one frame per open element.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::values::{self, SVG_NS};
use super::{allow, SvgError, MAX_DEPTH, MAX_ELEMENTS, MAX_OUTPUT_BYTES};

/// One open element.
struct Frame {
    name: String,
    /// Written to the output (false inside a dropped element).
    kept: bool,
    /// A kept `<style>`: its text is collected and written only if it is safe.
    style: Option<Style>,
}

struct Style {
    /// Where its start tag begins in the output, to take it back if the CSS is unsafe.
    start: usize,
    css: String,
}

#[derive(Default)]
struct Filter {
    out: String,
    stack: Vec<Frame>,
    elements: usize,
    root_seen: bool,
    root_closed: bool,
}

fn not_svg(e: impl std::fmt::Display) -> SvgError {
    SvgError::NotSvg(e.to_string())
}

/// Sanitises the SVG text `input`.
pub fn run(input: &str) -> Result<String, SvgError> {
    let mut reader = Reader::from_str(input);
    let mut f = Filter {
        out: String::with_capacity(input.len()),
        ..Filter::default()
    };
    loop {
        match reader.read_event().map_err(not_svg)? {
            Event::Start(e) => f.open(&e, false)?,
            Event::Empty(e) => f.open(&e, true)?,
            Event::End(_) => f.close(),
            Event::Text(t) => f.text(&t.decode().map_err(not_svg)?),
            Event::CData(c) => f.text(&c.decode().map_err(not_svg)?),
            Event::GeneralRef(r) => f.text(&resolve(&r)?.to_string()),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
        if f.out.len() > MAX_OUTPUT_BYTES {
            return Err(SvgError::TooLarge);
        }
    }
    if !f.root_seen {
        return Err(not_svg("no <svg> element"));
    }
    if !f.stack.is_empty() {
        return Err(not_svg("an element is not closed"));
    }
    Ok(f.out)
}

/// The character an entity or character reference stands for; only XML's five entities
/// exist (a DOCTYPE's own are refused), and characters XML forbids are refused.
fn resolve(r: &BytesRef) -> Result<char, SvgError> {
    let c = match r.resolve_char_ref().map_err(not_svg)? {
        Some(c) => c,
        None => match r.decode().map_err(not_svg)?.as_ref() {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            other => return Err(not_svg(format!("undefined entity &{other};"))),
        },
    };
    if c < ' ' && !matches!(c, '\t' | '\n' | '\r') {
        return Err(not_svg("a control character"));
    }
    Ok(c)
}

impl Filter {
    fn open(&mut self, e: &BytesStart, empty: bool) -> Result<(), SvgError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SvgError::TooDeep);
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(SvgError::TooManyElements);
        }
        let name = std::str::from_utf8(e.name().as_ref())
            .map_err(not_svg)?
            .to_string();
        let is_root = !self.root_seen;
        if is_root {
            if name != "svg" {
                return Err(not_svg(format!("the root element is <{name}>")));
            }
            self.root_seen = true;
        } else if self.root_closed {
            return Err(not_svg("content after the <svg> element"));
        }
        let parent_kept = self
            .stack
            .last()
            .is_none_or(|p| p.kept && p.style.is_none());
        let kept = parent_kept && allow::element(&name);
        let start = self.out.len();
        if kept {
            self.write_start(e, &name, is_root)?;
            self.out.push_str(if empty { "/>" } else { ">" });
        }
        if empty {
            self.root_closed |= self.stack.is_empty();
        } else {
            let style = (kept && name == "style").then(|| Style {
                start,
                css: String::new(),
            });
            self.stack.push(Frame { name, kept, style });
        }
        Ok(())
    }

    fn write_start(&mut self, e: &BytesStart, name: &str, is_root: bool) -> Result<(), SvgError> {
        self.out.push('<');
        self.out.push_str(name);
        let mut has_ns = false;
        for a in e.attributes() {
            let a = a.map_err(not_svg)?;
            let key = std::str::from_utf8(a.key.as_ref()).map_err(not_svg)?;
            let value = a.unescape_value().map_err(not_svg)?;
            if values::keep_attribute(name, key, &value) {
                has_ns |= key == "xmlns";
                self.out.push(' ');
                self.out.push_str(key);
                self.out.push_str("=\"");
                escape_into(&value, true, &mut self.out);
                self.out.push('"');
            }
        }
        if is_root && !has_ns {
            self.out.push_str(" xmlns=\"");
            self.out.push_str(SVG_NS);
            self.out.push('"');
        }
        Ok(())
    }

    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        self.root_closed |= self.stack.is_empty();
        if !frame.kept {
            return;
        }
        if let Some(style) = frame.style {
            if !values::css_is_safe(&style.css) {
                self.out.truncate(style.start);
                return;
            }
            escape_into(&style.css, false, &mut self.out);
        }
        self.out.push_str("</");
        self.out.push_str(&frame.name);
        self.out.push('>');
    }

    fn text(&mut self, text: &str) {
        match self.stack.last_mut() {
            Some(Frame {
                style: Some(style), ..
            }) => style.css.push_str(text),
            Some(Frame { kept: true, .. }) => escape_into(text, false, &mut self.out),
            _ => {}
        }
    }
}

/// XML-escapes `text` (`"` too inside an attribute value).
fn escape_into(text: &str, attribute: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}
