//! Checks that an uploaded file is what its name claims before it joins the store:
//! images decode completely within memory limits (so bombs and truncated files are
//! refused), audio starts with its container's magic bytes, SVGs carry nothing active.

use std::io::Read;
use std::path::Path;

use image::{ImageReader, Limits};

use super::names::Kind;
use super::svg;

mod jpeg_end;

/// Why a file was refused; every variant is the uploader's fault (a 4xx).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("file is not a {expected} image (its bytes look like {found})")]
    WrongImageType {
        expected: &'static str,
        found: String,
    },
    #[error("image is too large to accept: {0}")]
    ImageTooLarge(String),
    #[error("image is corrupt or truncated: {0}")]
    CorruptImage(String),
    #[error("image uses an encoding that cannot be checked, so it is refused: {0}")]
    UnsupportedImage(String),
    #[error("file is not {0} audio")]
    WrongAudioType(&'static str),
    #[error("SVG is not valid: {0}")]
    InvalidSvg(String),
    #[error("SVG contains scripts, event handlers or external references; sanitise it with /media/sanitize/svg first")]
    UnsafeSvg,
}

/// Largest width or height accepted for an image.
const MAX_DIMENSION: u32 = 16_384;

/// Checks the file at `path` against `kind`; blocking, run it off the async threads.
pub fn check(path: &Path, kind: Kind, max_alloc: u64) -> std::io::Result<Result<(), Refused>> {
    match kind {
        Kind::Image(format) => image(path, format, max_alloc),
        Kind::Mp3 => audio(path, "MP3", is_mp3),
        Kind::Ogg => audio(path, "Ogg", |h| h.starts_with(b"OggS")),
        Kind::Svg => {
            let bytes = std::fs::read(path)?;
            Ok(svg_is_clean(&bytes))
        }
    }
}

fn image(
    path: &Path,
    format: image::ImageFormat,
    max_alloc: u64,
) -> std::io::Result<Result<(), Refused>> {
    let mut head = [0u8; 64];
    let n = read_head(path, &mut head)?;
    match image::guess_format(&head[..n]) {
        Ok(found) if found == format => {}
        found => {
            let found = found
                .map(|f| format!("{f:?}"))
                .unwrap_or_else(|_| "no known image type".into());
            return Ok(Err(Refused::WrongImageType {
                expected: format_name(format),
                found,
            }));
        }
    }
    let mut reader = ImageReader::open(path)?;
    reader.set_format(format);
    reader.limits(decode_limits(max_alloc));
    match reader.decode() {
        Ok(_)
            if format == image::ImageFormat::Jpeg
                && !jpeg_end::reaches_end(std::fs::File::open(path)?)? =>
        {
            Ok(Err(Refused::CorruptImage(
                "the JPEG ends before its end-of-image marker".into(),
            )))
        }
        Ok(_) => Ok(Ok(())),
        Err(e) => refusal(e),
    }
}

/// Every decoder error is the file's fault except a failed read of the spooled file
/// itself, which the operating system reports with an error number. Decoders raise
/// `IoError`s of their own (an LZW strip in a TIFF that is garbage, a file that ends early):
/// those carry no error number and are refusals too.
fn refusal(e: image::ImageError) -> std::io::Result<Result<(), Refused>> {
    use image::ImageError as E;
    Ok(Err(match e {
        E::IoError(e) if e.raw_os_error().is_some() => return Err(e),
        E::Limits(e) => Refused::ImageTooLarge(e.to_string()),
        E::Unsupported(e) => Refused::UnsupportedImage(e.to_string()),
        e @ (E::IoError(_) | E::Decoding(_) | E::Parameter(_) | E::Encoding(_)) => {
            Refused::CorruptImage(e.to_string())
        }
    }))
}

/// The bounds every image decode runs under: its width, height and the memory it may allocate.
pub fn decode_limits(max_alloc: u64) -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(max_alloc);
    limits
}

fn format_name(format: image::ImageFormat) -> &'static str {
    format.extensions_str().first().copied().unwrap_or("known")
}

fn audio(
    path: &Path,
    name: &'static str,
    ok: fn(&[u8]) -> bool,
) -> std::io::Result<Result<(), Refused>> {
    let mut head = [0u8; 4];
    let n = read_head(path, &mut head)?;
    Ok(if ok(&head[..n]) {
        Ok(())
    } else {
        Err(Refused::WrongAudioType(name))
    })
}

/// An ID3 tag or an MPEG audio frame sync.
fn is_mp3(h: &[u8]) -> bool {
    h.starts_with(b"ID3") || (h.len() >= 2 && h[0] == 0xFF && h[1] & 0xE0 == 0xE0)
}

fn read_head(path: &Path, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// A stored SVG must be exactly what the sanitiser makes of it.
pub fn svg_is_clean(bytes: &[u8]) -> Result<(), Refused> {
    let clean = svg::sanitize(bytes).map_err(|e| Refused::InvalidSvg(e.to_string()))?;
    if clean.as_bytes() == bytes {
        Ok(())
    } else {
        Err(Refused::UnsafeSvg)
    }
}
