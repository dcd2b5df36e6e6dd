//! Small previews of stored images for review pages: made on first use with `image`,
//! kept under `<media>/thumbs/`, and the cache trimmed (oldest first) to a byte budget.

use std::path::{Path, PathBuf};

use anyhow::Context;
use image::ImageReader;

use super::names::Kind;
use super::Media;
use crate::store::{self, Db};

/// Longest side of a preview, in pixels.
pub const THUMB_SIZE: u32 = 160;
/// Bytes the preview cache may use on disk.
pub const THUMB_CACHE_BYTES: u64 = 32 * 1024 * 1024;

impl Media {
    /// The preview of stored image `hash`, made now if it is not cached; `None` for non-images.
    pub async fn thumbnail(&self, db: &Db, hash: &str) -> anyhow::Result<Option<PathBuf>> {
        let mut conn = db.reader().acquire().await?;
        let Some(file) = store::media::by_hash(&mut conn, hash).await? else {
            anyhow::bail!("no stored media file {hash}");
        };
        drop(conn);
        // `image/png` → `png`, `image/jpeg` → `jpeg`; SVG and audio are not previewed.
        let Some(Kind::Image(format)) =
            Kind::from_extension(file.mime.rsplit('/').next().unwrap_or(""))
        else {
            return Ok(None);
        };
        let dir = self.files.root().join("thumbs");
        let target = dir.join(format!("{hash}.png"));
        if target.is_file() {
            return Ok(Some(target));
        }
        let _permit = self.decode.acquire().await?;
        let source = self.files.path_of(hash);
        let max_alloc = self.limits.image_max_alloc;
        let made = target.clone();
        tokio::task::spawn_blocking(move || make(&source, format, max_alloc, &dir, &made))
            .await??;
        Ok(Some(target))
    }
}

fn make(
    source: &Path,
    format: image::ImageFormat,
    max_alloc: u64,
    dir: &Path,
    target: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut reader = ImageReader::open(source)?;
    reader.set_format(format);
    reader.limits(super::verify::decode_limits(max_alloc));
    let img = reader
        .decode()
        .context("decoding the image for its preview")?;
    let small = img.thumbnail(THUMB_SIZE, THUMB_SIZE);
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4()));
    small.save_with_format(&tmp, image::ImageFormat::Png)?;
    std::fs::rename(&tmp, target)?;
    trim(dir, THUMB_CACHE_BYTES)
}

/// Deletes the oldest previews until the cache fits in `budget` bytes.
fn trim(dir: &Path, budget: u64) -> anyhow::Result<()> {
    let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = std::fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
    entries.sort();
    for (_, len, path) in entries {
        if total <= budget {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
    Ok(())
}
