//! The content-addressed file store: `<media>/<aa>/<md5>`. Uploads stream into a temporary
//! file on the same filesystem, hashed on the way, and are renamed into place only after
//! every check passed; a dropped upload (error, disconnect) leaves nothing behind.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;

/// Where media files live.
#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
}

/// Why receiving an upload stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("upload is larger than the {0} bytes allowed for it")]
    TooLarge(u64),
    #[error("upload was interrupted: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// An upload on disk that is not yet part of the store; removed on drop unless persisted.
#[derive(Debug)]
pub struct Received {
    path: tempfile::TempPath,
    /// MD5 of the bytes, lowercase hex.
    pub md5_hex: String,
    /// The raw 16-byte digest, to compare with `Content-MD5`.
    pub md5_raw: [u8; 16],
    pub size: u64,
}

impl Received {
    /// The temporary file, for content checks.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl FileStore {
    /// Opens the store under `root`, creating it and its temporary directory.
    pub fn open(root: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))
            .with_context(|| format!("creating media directory {}", root.display()))?;
        Ok(Self { root })
    }

    /// The path relative to the store root, as nginx's internal location sees it.
    pub fn relative(hash: &str) -> String {
        format!("{}/{hash}", &hash[..2])
    }

    /// Where the file with this MD5 lives (or would live).
    pub fn path_of(&self, hash: &str) -> PathBuf {
        self.root.join(Self::relative(hash))
    }

    /// Whether the file with this MD5 is stored.
    pub fn contains(&self, hash: &str) -> bool {
        self.path_of(hash).is_file()
    }

    /// Temporary uploads directory (same filesystem, so renames are atomic).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Deck archives for new subscribers (not media: no row, never in a backup).
    pub fn archives_dir(&self) -> PathBuf {
        self.root.join("archives")
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Streams `body` into a temporary file, hashing it, refusing more than `limit` bytes.
    pub async fn receive<S, E>(&self, mut body: S, limit: u64) -> Result<Received, ReceiveError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp_dir = self.tmp_dir();
        let (file, path) = tokio::task::spawn_blocking(move || {
            // 0666 less the umask, as a plain create would make it: nginx may serve the
            // file once it is in place (tempfile's own default is 0600).
            tempfile::Builder::new()
                .prefix("up-")
                .permissions(std::fs::Permissions::from_mode(0o666))
                .tempfile_in(tmp_dir)
                .map(tempfile::NamedTempFile::into_parts)
        })
        .await
        .map_err(std::io::Error::other)??;
        let mut file = tokio::fs::File::from_std(file);
        let mut received = Received {
            path,
            md5_hex: String::new(),
            md5_raw: [0; 16],
            size: 0,
        };
        let mut md5 = Md5::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ReceiveError::Interrupted(e.to_string()))?;
            received.size += chunk.len() as u64;
            if received.size > limit {
                return Err(ReceiveError::TooLarge(limit));
            }
            md5.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        received.md5_raw = md5.finalize().into();
        received.md5_hex = hex::encode(received.md5_raw);
        Ok(received)
    }

    /// Moves a checked upload into place under its hash and makes the rename durable.
    pub fn persist(&self, received: Received) -> std::io::Result<()> {
        let target = self.path_of(&received.md5_hex);
        let dir = target.parent().expect("hash paths have a parent");
        std::fs::create_dir_all(dir)?;
        received.path.persist(&target).map_err(|e| e.error)?;
        std::fs::File::open(dir)?.sync_all()
    }

    /// Removes a stored file and its preview; a file that is already gone is not an error.
    pub fn remove(&self, hash: &str) -> std::io::Result<()> {
        let _ = std::fs::remove_file(self.root.join("thumbs").join(format!("{hash}.png")));
        match std::fs::remove_file(self.path_of(hash)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
