//! Whether a JPEG reaches its end-of-image marker. The JPEG decoder fills a scan that
//! stops early with grey and reports success, so a truncated upload would be stored;
//! walking the marker structure finds where the image really ends.

use std::io::{self, BufRead, BufReader, Read};

/// Standalone markers that carry no length: TEM and the restart markers RST0–RST7.
fn is_standalone(marker: u8) -> bool {
    marker == 0x01 || (0xD0..=0xD7).contains(&marker)
}

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// True when the segments after SOI and the entropy-coded scans after each SOS lead to an
/// EOI marker; bytes after it (camera trailers, padding) do not matter.
pub fn reaches_end(file: impl Read) -> io::Result<bool> {
    let mut r = BufReader::new(file);
    if next(&mut r)? != Some(0xFF) || next(&mut r)? != Some(SOI) {
        return Ok(false);
    }
    let mut marker = match segment_marker(&mut r)? {
        Some(m) => m,
        None => return Ok(false),
    };
    loop {
        match marker {
            EOI => return Ok(true),
            m if is_standalone(m) => {}
            m => {
                if !skip_segment(&mut r)? {
                    return Ok(false);
                }
                if m == SOS {
                    match scan_end(&mut r)? {
                        Some(m) => {
                            marker = m;
                            continue;
                        }
                        None => return Ok(false),
                    }
                }
            }
        }
        marker = match segment_marker(&mut r)? {
            Some(m) => m,
            None => return Ok(false),
        };
    }
}

fn next(r: &mut impl BufRead) -> io::Result<Option<u8>> {
    let mut b = [0u8; 1];
    Ok(match r.read(&mut b)? {
        0 => None,
        _ => Some(b[0]),
    })
}

/// The marker byte of the next segment: `0xFF`, optional fill `0xFF`s, the marker.
fn segment_marker(r: &mut impl BufRead) -> io::Result<Option<u8>> {
    if next(r)? != Some(0xFF) {
        return Ok(None);
    }
    loop {
        match next(r)? {
            Some(0xFF) => {}
            other => return Ok(other),
        }
    }
}

/// Skips a segment's payload after reading its two-byte length; false at end of file.
fn skip_segment(r: &mut impl BufRead) -> io::Result<bool> {
    let (Some(hi), Some(lo)) = (next(r)?, next(r)?) else {
        return Ok(false);
    };
    let len = u64::from(u16::from_be_bytes([hi, lo]));
    if len < 2 {
        return Ok(false);
    }
    let want = len - 2;
    Ok(io::copy(&mut r.by_ref().take(want), &mut io::sink())? == want)
}

/// Reads entropy-coded data up to the next marker that is not a stuffed zero or a restart.
fn scan_end(r: &mut impl BufRead) -> io::Result<Option<u8>> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|&b| b == 0xFF) {
            None => {
                let n = buf.len();
                r.consume(n);
            }
            Some(i) => {
                r.consume(i + 1);
                let mut after = next(r)?;
                while after == Some(0xFF) {
                    after = next(r)?;
                }
                match after {
                    None => return Ok(None),
                    Some(0x00) => {}
                    Some(m) if (0xD0..=0xD7).contains(&m) => {}
                    Some(m) => return Ok(Some(m)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg() -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([x as u8 * 9, y as u8 * 13, 77]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn a_whole_jpeg_reaches_its_end_and_trailers_do_not_matter() {
        let mut j = jpeg();
        assert!(reaches_end(&j[..]).unwrap());
        j.extend(b"camera trailer \xFF\x00 bytes");
        assert!(reaches_end(&j[..]).unwrap());
    }

    #[test]
    fn every_truncation_is_caught() {
        let j = jpeg();
        for cut in 0..j.len() - 1 {
            assert!(
                !reaches_end(&j[..cut]).unwrap(),
                "cut at {cut} of {}",
                j.len()
            );
        }
    }
}
