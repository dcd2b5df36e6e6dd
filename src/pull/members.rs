//! Answers for several decks at once, each pulled from its first timestamp (a user with
//! several subscriptions on a new machine): each deck's entry is a gzip member built
//! once and kept, and the answer is those members one after another, base64-encoded
//! on the way out. The add-on's `gzip.decompress` reads every member of the stream.
//! Answers that hold cache-bootstrap entries are put together the same way.

use std::io;
use std::sync::{Arc, LazyLock};

use axum::body::Body;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use tokio::sync::mpsc;

use super::cache::Version;
use super::{assemble, Plan, Puller};
use crate::wire::gzb64;

/// Base64 is written in slices of this many input bytes (a multiple of 3).
const SLICE: usize = 48 * 1024;

static OPEN: LazyLock<Vec<u8>> = LazyLock::new(|| gzb64::member("["));
static COMMA: LazyLock<Vec<u8>> = LazyLock::new(|| gzb64::member(","));
static CLOSE: LazyLock<Vec<u8>> = LazyLock::new(|| gzb64::member("]"));

/// One entry of an answer.
pub enum Part {
    /// An entry that is a gzip member already (a cache-bootstrap entry).
    Ready(Bytes),
    /// A deck's entry built from the database; with the version a full pull's member
    /// must have, it is kept for the next answer.
    Deck(Box<Plan>, Option<Version>),
}

/// Starts the answer made of `parts`.
pub fn stream(puller: Arc<Puller>, parts: Vec<Part>) -> Body {
    super::body::streamed(move |tx| async move { write(&puller, &parts, &tx).await })
}

async fn write(
    puller: &Puller,
    parts: &[Part],
    tx: &mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let mut out = Base64Out {
        tx,
        carry: Vec::new(),
    };
    out.push(&OPEN).await?;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(&COMMA).await?;
        }
        let (plan, version) = match part {
            Part::Ready(member) => {
                out.push(member).await?;
                continue;
            }
            Part::Deck(plan, None) => {
                out.stream_entry(puller, plan).await?;
                continue;
            }
            Part::Deck(plan, Some(version)) => (plan, version),
        };
        let cached = puller
            .members
            .lock()
            .expect("cache lock")
            .get(&plan.hash, *version);
        if let Some(member) = cached {
            out.push(&member).await?;
            continue;
        }
        // Only what the cache can keep is built in memory; a larger entry is sent as it
        // is built instead.
        let limit = puller.members.lock().expect("cache lock").limit();
        match assemble::entry_member(&puller.db, plan, &puller.unfilled, limit).await {
            Ok(built) => {
                let built = Bytes::from(built);
                puller
                    .members
                    .lock()
                    .expect("cache lock")
                    .put(&plan.hash, *version, built.clone());
                out.push(&built).await?;
            }
            Err(e) if assemble::too_large(&e) => out.stream_entry(puller, plan).await?,
            Err(e) => return Err(e),
        }
    }
    out.push(&CLOSE).await?;
    out.finish().await
}

/// Base64 of a byte stream sent in slices; up to two bytes wait for the next piece.
struct Base64Out<'a> {
    tx: &'a mpsc::Sender<io::Result<Bytes>>,
    carry: Vec<u8>,
}

impl Base64Out<'_> {
    /// Sends a deck's entry as a gzip member built while it is sent.
    async fn stream_entry(&mut self, puller: &Puller, plan: &Plan) -> io::Result<()> {
        let (tx, mut rx) = mpsc::channel(4);
        let built = assemble::stream_member(&puller.db, plan, &puller.unfilled, tx);
        let sent = async {
            while let Some(chunk) = rx.recv().await {
                self.push(&chunk?).await?;
            }
            Ok::<_, io::Error>(())
        };
        let (built, sent) = tokio::join!(built, sent);
        built.and(sent)
    }

    async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.tx
            .send(Ok(Bytes::from(STANDARD.encode(bytes))))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }

    async fn push(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !self.carry.is_empty() && self.carry.len() < 3 {
            let Some((first, rest)) = data.split_first() else {
                return Ok(());
            };
            self.carry.push(*first);
            data = rest;
        }
        if self.carry.len() == 3 {
            let whole = std::mem::take(&mut self.carry);
            self.send(&whole).await?;
        }
        for slice in data.chunks(SLICE) {
            let whole = slice.len() / 3 * 3;
            self.send(&slice[..whole]).await?;
            self.carry.extend_from_slice(&slice[whole..]);
        }
        Ok(())
    }

    async fn finish(self) -> io::Result<()> {
        self.send(&self.carry).await
    }
}
