//! Answers for several decks at once, each pulled from its first timestamp (a user with
//! several subscriptions on a new machine): each deck's entry is a gzip member built
//! once and kept, and the answer is those members one after another, base64-encoded
//! on the way out. The add-on's `gzip.decompress` reads every member of the stream.

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

/// Starts the answer for `plans` (each with the version its member must have).
pub fn stream(puller: Arc<Puller>, plans: Vec<(Plan, Version)>) -> Body {
    super::body::streamed(move |tx| async move { write(&puller, &plans, &tx).await })
}

async fn write(
    puller: &Puller,
    plans: &[(Plan, Version)],
    tx: &mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let mut out = Base64Out {
        tx,
        carry: Vec::new(),
    };
    out.push(&OPEN).await?;
    for (i, (plan, version)) in plans.iter().enumerate() {
        if i > 0 {
            out.push(&COMMA).await?;
        }
        let cached = puller
            .members
            .lock()
            .expect("cache lock")
            .get(&plan.hash, *version);
        let member = match cached {
            Some(m) => m,
            None => {
                let built =
                    Bytes::from(assemble::entry_member(&puller.db, plan, &puller.unfilled).await?);
                puller
                    .members
                    .lock()
                    .expect("cache lock")
                    .put(&plan.hash, *version, built.clone());
                built
            }
        };
        out.push(&member).await?;
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
