//! GZB64 = base64(gzip(JSON)), decoded and encoded as streams with hard caps so a
//! hostile body (a gzip bomb, an endless stream) costs neither memory nor disk.

use std::io::{self, Read, Write};

use base64::engine::general_purpose::STANDARD;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::json_guard::Exceeded;

/// Why a GZB64 body could not be read; each maps to one clear 4xx answer.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("Invalid data: request body exceeds {0} bytes")]
    BodyTooLarge(usize),
    #[error("Invalid data: body is not valid base64")]
    NotBase64,
    #[error("Invalid data: body is not valid gzip ({0})")]
    NotGzip(String),
    #[error("Invalid data: decompressed body exceeds {0} bytes")]
    TooLarge(u64),
    #[error("Invalid data: body ended early")]
    Truncated,
    #[error("Invalid data: {0}")]
    Json(String),
    #[error("Invalid data: could not read request body ({0})")]
    Transport(String),
    #[error("The server could not keep the upload on disk right now ({0}); please retry later.")]
    Spool(String),
    /// A string, the nesting or the memory a decode keeps went past its limit (or the
    /// shared pool is in use by other uploads).
    #[error("{0}")]
    Limit(#[from] Exceeded),
}

/// Marks which layer of the pipeline an I/O error came from.
#[derive(Debug, thiserror::Error)]
enum Layer {
    #[error("body too large")]
    Body(usize),
    #[error("base64")]
    Base64,
    #[error("decompressed too large")]
    Inflated(u64),
}

/// Counts raw body bytes and stops at `limit`.
pub struct BodyCap<R> {
    inner: R,
    left: usize,
    limit: usize,
}

impl<R: Read> BodyCap<R> {
    pub fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            left: limit,
            limit,
        }
    }
}

impl<R: Read> Read for BodyCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > self.left {
            return Err(io::Error::other(Layer::Body(self.limit)));
        }
        self.left -= n;
        Ok(n)
    }
}

/// Drops ASCII whitespace (a trailing newline from curl or a wrapped base64 body).
struct SkipWhitespace<R>(R);

impl<R: Read> Read for SkipWhitespace<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.0.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut w = 0;
            for r in 0..n {
                if !buf[r].is_ascii_whitespace() {
                    buf[w] = buf[r];
                    w += 1;
                }
            }
            if w > 0 {
                return Ok(w);
            }
        }
    }
}

/// Tags base64 failures so they can be told apart from gzip failures later.
struct TagBase64<R>(R);

impl<R: Read> Read for TagBase64<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| match e.get_ref().map(|i| i.is::<Layer>()) {
                Some(true) => e,
                _ => io::Error::new(io::ErrorKind::InvalidData, Layer::Base64),
            })
    }
}

/// Stops the decompressed stream at `limit` bytes.
struct InflateCap<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for InflateCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(Layer::Inflated(self.limit)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Wraps a raw GZB64 body into a reader of the JSON it carries.
pub fn decoder<R: Read>(body: R, max_inflated: u64) -> impl Read {
    let b64 = base64::read::DecoderReader::new(SkipWhitespace(body), &STANDARD);
    InflateCap {
        inner: MultiGzDecoder::new(TagBase64(b64)),
        left: max_inflated,
        limit: max_inflated,
    }
}

/// Turns an I/O error from the decoder pipeline into the reason a client should read.
pub fn classify(err: &io::Error) -> DecodeError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.get_ref().map(|e| e as _);
    while let Some(e) = source {
        if let Some(limit) = e.downcast_ref::<Exceeded>() {
            return DecodeError::Limit(limit.clone());
        }
        if let Some(layer) = e.downcast_ref::<Layer>() {
            return match layer {
                Layer::Body(limit) => DecodeError::BodyTooLarge(*limit),
                Layer::Base64 => DecodeError::NotBase64,
                Layer::Inflated(limit) => DecodeError::TooLarge(*limit),
            };
        }
        if let Some(inner) = e.downcast_ref::<io::Error>() {
            if inner.kind() == io::ErrorKind::UnexpectedEof {
                return DecodeError::Truncated;
            }
        }
        source = e.source();
    }
    match err.kind() {
        io::ErrorKind::UnexpectedEof => DecodeError::Truncated,
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            DecodeError::NotGzip(err.to_string())
        }
        _ => DecodeError::Transport(err.to_string()),
    }
}

/// Turns a serde_json failure (which may hide a pipeline I/O error) into a client-facing reason.
pub fn classify_json(err: serde_json::Error) -> DecodeError {
    if err.is_io() {
        let io: io::Error = err.into();
        return classify(&io);
    }
    if err.is_eof() {
        return DecodeError::Truncated;
    }
    DecodeError::Json(err.to_string())
}

/// A writer that GZB64-encodes everything written into `W` (gzip first, then base64).
pub type Encoder<W> =
    GzEncoder<base64::write::EncoderWriter<'static, base64::engine::GeneralPurpose, W>>;

/// How hard an answer is compressed. A streamed answer is built for one request, so it
/// trades a little size for CPU; an answer kept in the cache is built once and sent
/// many times, so it is compressed harder; not level 6, which takes nearly three times
/// as long for 12 % less (zlib-rs, 32 MB of pulled JSON: level 2 → 4.2 MB in 76 ms,
/// level 4 → 3.66 MB in 162 ms, level 6 → 3.22 MB in 446 ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effort {
    Streamed,
    Cached,
}

impl Effort {
    fn level(self) -> Compression {
        match self {
            Effort::Streamed => Compression::new(2),
            Effort::Cached => Compression::new(4),
        }
    }
}

/// Starts a GZB64 encoder; call [`finish`] to flush the gzip trailer and base64 padding.
pub fn encoder<W: Write>(out: W) -> Encoder<W> {
    encoder_with(out, Effort::Streamed)
}

/// [`encoder`] with a chosen compression effort.
pub fn encoder_with<W: Write>(out: W, effort: Effort) -> Encoder<W> {
    GzEncoder::new(
        base64::write::EncoderWriter::new(out, &STANDARD),
        effort.level(),
    )
}

/// A plain gzip encoder (no base64) with the same settings: whole gzip members that a
/// GZB64 answer can concatenate, since the add-on's `gzip.decompress` reads every member.
pub fn gzip_with<W: Write>(out: W, effort: Effort) -> GzEncoder<W> {
    GzEncoder::new(out, effort.level())
}

/// `text` as one complete gzip member.
pub fn member(text: &str) -> Vec<u8> {
    let mut enc = gzip_with(Vec::new(), Effort::Cached);
    enc.write_all(text.as_bytes())
        .expect("writing to memory cannot fail");
    enc.finish().expect("writing to memory cannot fail")
}

/// Completes an encoder and hands back the sink.
pub fn finish<W: Write>(enc: Encoder<W>) -> io::Result<W> {
    let mut b64 = enc.finish()?;
    b64.finish()
}

/// Encodes a whole value at once, for small answers and tests.
pub fn encode_value<T: serde::Serialize>(value: &T) -> io::Result<String> {
    let mut enc = encoder(Vec::new());
    serde_json::to_writer(&mut enc, value)?;
    let bytes = finish(enc)?;
    Ok(String::from_utf8(bytes).expect("base64 is ASCII"))
}

/// Encodes bytes that are already text (JSON as a client wrote it), for tests and
/// benchmarks that send exact bodies.
pub fn encode_bytes(bytes: &[u8]) -> String {
    let mut enc = encoder(Vec::new());
    enc.write_all(bytes).expect("writing to memory cannot fail");
    let out = finish(enc).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("base64 is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str, cap: u64) -> Result<serde_json::Value, DecodeError> {
        serde_json::from_reader(decoder(s.as_bytes(), cap)).map_err(classify_json)
    }

    #[test]
    fn protocol_vectors() {
        assert_eq!(
            decode("H4sIAAAAAAACA4uOBQApu0wNAgAAAA==", 1 << 20).unwrap(),
            serde_json::json!([])
        );
        let v = decode("H4sIAAAAAAACAw3L2wmAMAwAwFVKvs0CLlOCDU2wJNCHoqW76/3fhMTHGYWawB5AvOM7ykC1pNmRNUtnNmyUkAqZGsMWoPKlfEfR1r0+/5xrfbX+zOJLAAAA", 1 << 20).unwrap();
        assert_eq!(v["deck_hash"], "hot-zulu-indigo-eighteen-sad-alanine");
        let round = encode_value(&v).unwrap();
        assert_eq!(decode(&round, 1 << 20).unwrap(), v);
    }

    #[test]
    fn bad_bodies_are_classified() {
        assert!(matches!(
            decode("not base64 at all!", 1 << 20),
            Err(DecodeError::NotBase64)
        ));
        assert!(matches!(
            decode("aGVsbG8gd29ybGQ=", 1 << 20),
            Err(DecodeError::NotGzip(_))
        ));
        let good = encode_value(&serde_json::json!({"a": "x".repeat(1000)})).unwrap();
        assert!(matches!(
            decode(&good[..good.len() / 2 / 4 * 4], 1 << 20),
            Err(DecodeError::Truncated)
        ));
        assert!(matches!(
            decode(&good, 100),
            Err(DecodeError::TooLarge(100))
        ));
    }
}
