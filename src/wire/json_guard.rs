//! A JSON lexer that sits between a byte stream and a parser and refuses, before the
//! parser buffers anything, a string, number or nesting beyond its limits; it also
//! charges the [`meter`](super::meter) with what a parsed tree of the text will keep.
//! It checks only sizes: the parser behind it still judges the syntax.

use std::io::{self, Read};

use super::meter;

/// Longest number, `true`, `false` or `null` token accepted (real numbers are < 30 bytes).
const MAX_SCALAR: u64 = 1024;
/// Bytes a parsed string, array, object or scalar costs beyond its content (its slot in
/// the parent, the allocation's header, a vector's spare capacity).
const VALUE_OVERHEAD: u64 = 32;

/// What one guarded stream may hold.
#[derive(Debug)]
pub struct Limits {
    /// Longest string value, in decoded bytes (a field, a template, CSS).
    pub max_string: u64,
    /// Longest object key, in decoded bytes.
    pub max_key: u64,
    /// Deepest nesting of arrays and objects.
    pub max_depth: u32,
    /// Whether what passes is charged to this thread's meter (off for the envelope,
    /// whose `deck` string is charged by the guard of the deck inside it).
    pub charge: bool,
}

/// Which limit a stream went past; each is the uploader's doing (a 413; too deep a 400).
#[derive(Debug, Clone, thiserror::Error)]
pub enum Exceeded {
    #[error("Invalid data: a string is longer than {0} bytes")]
    String(u64),
    #[error("Invalid data: an object key is longer than {0} bytes")]
    Key(u64),
    #[error("Invalid data: a number or literal is longer than {MAX_SCALAR} bytes")]
    Scalar,
    #[error("Invalid data: nested deeper than {0} levels")]
    Depth(u32),
    #[error("Invalid data: {what} would keep more than {cap} bytes in memory")]
    Retained { what: &'static str, cap: u64 },
    #[error("the server is decoding other large uploads right now; please retry in a minute")]
    Busy,
}

#[derive(Debug, Clone, Copy)]
enum Escape {
    None,
    Backslash,
    /// Hex digits of a `\uXXXX` escape still to come.
    Hex(u8),
}

#[derive(Debug)]
enum State {
    Between,
    Scalar(u64),
    Text { key: bool, len: u64, escape: Escape },
}

/// A [`Read`] adapter enforcing [`Limits`] on the JSON text passing through it.
pub struct Guard<R> {
    inner: R,
    limits: Limits,
    state: State,
    /// Open containers, innermost last: `true` for an object.
    open: Vec<bool>,
    expect_key: bool,
}

impl<R: Read> Guard<R> {
    pub fn new(inner: R, limits: Limits) -> Self {
        Self {
            inner,
            limits,
            state: State::Between,
            open: Vec::new(),
            expect_key: false,
        }
    }

    /// Lexes `bytes`, answering the bytes a parsed tree would keep for them.
    fn scan(&mut self, bytes: &[u8]) -> Result<u64, Exceeded> {
        let mut kept = 0u64;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if let State::Scalar(len) = self.state {
                if is_scalar_byte(b) {
                    if len + 1 > MAX_SCALAR {
                        return Err(Exceeded::Scalar);
                    }
                    self.state = State::Scalar(len + 1);
                    i += 1;
                    continue;
                }
                self.state = State::Between;
            }
            match self.state {
                State::Text {
                    key,
                    len,
                    escape: Escape::None,
                } => {
                    // Plain text up to the next quote or backslash counts byte for byte.
                    let run = memchr::memchr2(b'"', b'\\', &bytes[i..]).unwrap_or(bytes.len() - i);
                    let len = len + run as u64;
                    self.check_text(key, len)?;
                    kept += run as u64;
                    i += run;
                    match bytes.get(i) {
                        Some(b'"') => self.state = State::Between,
                        Some(_) => {
                            self.state = State::Text {
                                key,
                                len,
                                escape: Escape::Backslash,
                            }
                        }
                        None => {
                            self.state = State::Text {
                                key,
                                len,
                                escape: Escape::None,
                            };
                            break;
                        }
                    }
                }
                State::Text { key, len, escape } => {
                    let (grown, escape) = match (escape, b) {
                        // `\uXXXX` stands for up to 3 bytes of UTF-8; count 2 of them here.
                        (Escape::Backslash, b'u') => (2, Escape::Hex(4)),
                        (Escape::Backslash, _) => (1, Escape::None),
                        (Escape::Hex(1), _) => (0, Escape::None),
                        (Escape::Hex(n), _) => (0, Escape::Hex(n - 1)),
                        (Escape::None, _) => unreachable!("plain text is skipped above"),
                    };
                    let len = len + grown;
                    self.check_text(key, len)?;
                    kept += grown;
                    self.state = State::Text { key, len, escape };
                }
                State::Between => kept += self.between(b)?,
                State::Scalar(_) => unreachable!("scalars end above"),
            }
            i += 1;
        }
        Ok(kept)
    }

    /// Refuses a string or key that has grown past its limit.
    fn check_text(&self, key: bool, len: u64) -> Result<(), Exceeded> {
        let max = if key {
            self.limits.max_key
        } else {
            self.limits.max_string
        };
        match (len > max, key) {
            (false, _) => Ok(()),
            (true, true) => Err(Exceeded::Key(max)),
            (true, false) => Err(Exceeded::String(max)),
        }
    }

    /// One byte outside strings and scalars.
    fn between(&mut self, b: u8) -> Result<u64, Exceeded> {
        match b {
            b'"' => {
                let key = self.expect_key && self.open.last() == Some(&true);
                self.expect_key = false;
                self.state = State::Text {
                    key,
                    len: 0,
                    escape: Escape::None,
                };
            }
            b'{' | b'[' => {
                if self.open.len() as u32 >= self.limits.max_depth {
                    return Err(Exceeded::Depth(self.limits.max_depth));
                }
                self.open.push(b == b'{');
                self.expect_key = b == b'{';
            }
            b'}' | b']' => {
                self.open.pop();
                return Ok(0);
            }
            b',' => {
                self.expect_key = self.open.last() == Some(&true);
                return Ok(0);
            }
            b':' => {
                self.expect_key = false;
                return Ok(0);
            }
            b' ' | b'\t' | b'\n' | b'\r' => return Ok(0),
            _ => self.state = State::Scalar(1),
        }
        Ok(VALUE_OVERHEAD)
    }
}

fn is_scalar_byte(b: u8) -> bool {
    !matches!(
        b,
        b'"' | b'{' | b'}' | b'[' | b']' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r'
    )
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let kept = self.scan(&buf[..n]).map_err(io::Error::other)?;
        if self.limits.charge {
            meter::charge(kept).map_err(io::Error::other)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_string: 8,
        max_key: 4,
        max_depth: 3,
        charge: false,
    };

    fn lex(text: &str) -> Result<u64, Exceeded> {
        Guard::new(text.as_bytes(), LIMITS).scan(text.as_bytes())
    }

    fn lex_wide(text: &str) -> u64 {
        Guard::new(text.as_bytes(), LIMITS_WIDE)
            .scan(text.as_bytes())
            .unwrap()
    }

    #[test]
    fn counts_decoded_bytes_of_strings() {
        assert!(lex(r#"{"key": "12345678", "k": ["\"\\\n\u00e9x"]}"#).is_ok());
        assert!(matches!(lex(r#"["123456789"]"#), Err(Exceeded::String(8))));
        assert!(matches!(
            lex(r#"["\u00e9\u00e9\u00e9\u00e9\u00e9"]"#),
            Err(Exceeded::String(8))
        ));
    }

    #[test]
    fn keys_have_their_own_limit() {
        assert!(matches!(
            lex(r#"{"a": 1, "abcde": 2}"#),
            Err(Exceeded::Key(4))
        ));
        assert!(lex(r#"{"a": "abcde", "b": ["abcde"]}"#).is_ok());
    }

    #[test]
    fn depth_and_scalars_are_bounded() {
        assert!(lex("[[[1]]]").is_ok());
        assert!(matches!(lex("[[[[1]]]]"), Err(Exceeded::Depth(3))));
        assert!(matches!(
            lex(&format!("[{}]", "9".repeat(2000))),
            Err(Exceeded::Scalar)
        ));
        assert!(lex(r#"{"a": true, "b": -1.5e300, "c": null}"#).is_ok());
    }

    #[test]
    fn charges_content_and_values() {
        assert_eq!(lex(r#"["ab", 1]"#).unwrap(), 2 + 3 * VALUE_OVERHEAD);
    }

    #[test]
    fn counts_the_same_in_any_read_size() {
        let text = r#"{"key": "ab\"c\\d\u00e9", "list": ["plain text", "x\ny", 12, true]}"#;
        let whole = lex_wide(text);
        for size in 1..text.len() {
            let mut guard = Guard::new(text.as_bytes(), LIMITS_WIDE);
            let kept: u64 = text
                .as_bytes()
                .chunks(size)
                .map(|chunk| guard.scan(chunk).unwrap())
                .sum();
            assert_eq!(kept, whole, "reads of {size} bytes");
        }
    }

    const LIMITS_WIDE: Limits = Limits {
        max_string: 64,
        max_key: 64,
        ..LIMITS
    };

    #[test]
    fn refuses_in_any_read_size() {
        let text = format!(r#"{{"deck": "{}"}}"#, "x".repeat(100));
        let mut guard = Guard::new(
            text.as_bytes(),
            Limits {
                max_string: 50,
                ..LIMITS
            },
        );
        let mut byte = [0u8; 1];
        let err = loop {
            match guard.read(&mut byte) {
                Ok(0) => panic!("the long string passed"),
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        assert!(err.get_ref().is_some_and(|e| e.is::<Exceeded>()));
    }
}
