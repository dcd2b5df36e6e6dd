//! Writes pull entries as JSON through gzip and base64 straight onto the response,
//! one note at a time, flushing in chunks.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{mpsc, Notify};

use super::Plan;
use crate::store::{self, notetypes::Notetype, Conn, Db, DeckId, Micros, NoteId, NotetypeId};
use crate::wire::{gzb64, timestamp};

/// Bytes gathered before a chunk goes to the client.
const CHUNK: usize = 64 * 1024;

/// `protected_fields` entry (also the `/GetProtectedFields` answer).
#[derive(Debug, Serialize)]
pub struct ProtectedNotetype {
    pub id: NotetypeId,
    pub name: String,
    pub fields: Vec<ProtectedField>,
}

/// A protected field of a notetype.
#[derive(Debug, Serialize)]
pub struct ProtectedField {
    pub id: i64,
    pub name: String,
    pub protected: bool,
}

/// Protected fields of the notetypes a deck subtree uses.
pub async fn protected_fields(
    conn: &mut Conn,
    deck: DeckId,
) -> sqlx::Result<Vec<ProtectedNotetype>> {
    let ids = ids_json(&public(
        store::pull::subtree(conn, deck, Micros::BEGINNING).await?,
    ));
    let mut out: Vec<ProtectedNotetype> = Vec::new();
    for row in store::pull::protected_fields(conn, &ids).await? {
        if out.last().map(|p| p.id) != Some(row.notetype_id) {
            out.push(ProtectedNotetype {
                id: row.notetype_id,
                name: row.notetype_name,
                fields: Vec::new(),
            });
        }
        out.last_mut().expect("pushed").fields.push(ProtectedField {
            id: row.field_id,
            name: row.field_name,
            protected: true,
        });
    }
    Ok(out)
}

/// Drops decks that exist only for a pending suggestion: unreviewed content is never pulled.
fn public(mut decks: Vec<store::decks::Deck>) -> Vec<store::decks::Deck> {
    decks.retain(|d| d.pending_commit.is_none());
    decks
}

fn ids_json(decks: &[store::decks::Deck]) -> String {
    serde_json::to_string(&decks.iter().map(|d| d.id).collect::<Vec<_>>()).expect("ids serialise")
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("buffer lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What an entry is compressed into: a whole GZB64 answer, or one gzip member of a
/// deck's entry that answers for several decks are put together from.
enum Compressor {
    Gzb64(Box<gzb64::Encoder<Shared>>),
    Gzip(Box<flate2::write::GzEncoder<Shared>>),
}

impl Compressor {
    fn finish(self) -> io::Result<()> {
        match self {
            Compressor::Gzb64(enc) => gzb64::finish(*enc).map(drop),
            Compressor::Gzip(enc) => enc.finish().map(drop),
        }
    }
}

impl Write for Compressor {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::Gzb64(enc) => enc.write(buf),
            Compressor::Gzip(enc) => enc.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The encoder plus the channel to the response (none while building a member), and a
/// copy for the cache.
struct Out {
    enc: Option<Compressor>,
    shared: Shared,
    tx: Option<mpsc::Sender<io::Result<Bytes>>>,
    tee: Option<Vec<u8>>,
    tee_limit: usize,
    /// Note objects built because no stored copy existed.
    built: i64,
}

impl Out {
    async fn flush(&mut self, force: bool) -> io::Result<()> {
        let chunk = {
            let mut buf = self.shared.0.lock().expect("buffer lock");
            if buf.is_empty() || (!force && buf.len() < CHUNK) {
                return Ok(());
            }
            std::mem::take(&mut *buf)
        };
        if let Some(tee) = &mut self.tee {
            if tee.len() + chunk.len() > self.tee_limit {
                self.tee = None;
            } else {
                tee.extend_from_slice(&chunk);
            }
        }
        match &self.tx {
            Some(tx) => tx
                .send(Ok(Bytes::from(chunk)))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away")),
            None if self.tee.is_some() => Ok(()),
            None => Err(member_too_large()),
        }
    }

    fn encoder(&mut self) -> &mut Compressor {
        self.enc
            .as_mut()
            .expect("the encoder is only taken at the end")
    }

    fn json<T: Serialize + ?Sized>(&mut self, v: &T) -> io::Result<()> {
        serde_json::to_writer(self.encoder(), v).map_err(io::Error::other)
    }

    fn raw(&mut self, s: &str) -> io::Result<()> {
        self.encoder().write_all(s.as_bytes())
    }
}

/// Starts writing the entries of `plans` and returns the streaming body at once.
/// `on_complete` receives the whole answer when `cache` is set and it fit; `unfilled`
/// is notified when note objects had to be built for want of a stored copy.
pub fn stream(
    db: Db,
    plans: Vec<Plan>,
    cache: bool,
    unfilled: Arc<Notify>,
    on_complete: impl FnOnce(Bytes) + Send + 'static,
) -> Body {
    let effort = if cache {
        gzb64::Effort::Cached
    } else {
        gzb64::Effort::Streamed
    };
    super::body::streamed(move |tx| async move {
        if let Some(whole) = write_all(&db, &plans, effort, tx, &unfilled).await? {
            on_complete(Bytes::from(whole));
        }
        Ok(())
    })
}

/// Writes every entry; the encoder (a few hundred KB of compressor state) exists only
/// once a stream slot is held, so a thousand waiting pulls cost almost nothing.
async fn write_all(
    db: &Db,
    plans: &[Plan],
    effort: gzb64::Effort,
    tx: mpsc::Sender<io::Result<Bytes>>,
    unfilled: &Notify,
) -> io::Result<Option<Vec<u8>>> {
    let mut read = db.begin_stream().await.map_err(io::Error::other)?;
    let shared = Shared::default();
    let mut out = Out {
        enc: Some(Compressor::Gzb64(Box::new(gzb64::encoder_with(
            shared.clone(),
            effort,
        )))),
        shared,
        tx: Some(tx),
        tee: (effort == gzb64::Effort::Cached).then(Vec::new),
        tee_limit: 64 * 1024 * 1024,
        built: 0,
    };
    let conn = &mut read.tx;
    out.raw("[")?;
    for (i, plan) in plans.iter().enumerate() {
        if i > 0 {
            out.raw(",")?;
        }
        write_entry(conn, &mut out, plan).await?;
    }
    out.raw("]")?;
    if let Some(enc) = out.enc.take() {
        enc.finish()?;
    }
    out.flush(true).await?;
    if out.built > 0 {
        unfilled.notify_one();
    }
    Ok(out.tee.take())
}

/// One deck's entry as a complete gzip member, compressed hard because it is kept; an
/// entry that grows past `limit` compressed bytes is given up as soon as it does, with
/// an error that [`too_large`] recognises.
pub async fn entry_member(
    db: &Db,
    plan: &Plan,
    unfilled: &Notify,
    limit: usize,
) -> io::Result<Vec<u8>> {
    let mut out = member_out(None, Some(limit));
    write_member(db, plan, unfilled, &mut out).await?;
    out.tee.take().ok_or_else(member_too_large)
}

/// One deck's entry as a gzip member sent in chunks to `tx` as it is built, for an
/// entry too large to keep.
pub async fn stream_member(
    db: &Db,
    plan: &Plan,
    unfilled: &Notify,
    tx: mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let mut out = member_out(Some(tx), None);
    write_member(db, plan, unfilled, &mut out).await
}

/// An output for a gzip member: sent to `tx`, or kept up to `keep` bytes.
fn member_out(tx: Option<mpsc::Sender<io::Result<Bytes>>>, keep: Option<usize>) -> Out {
    let shared = Shared::default();
    Out {
        enc: Some(Compressor::Gzip(Box::new(gzb64::gzip_with(
            shared.clone(),
            gzb64::Effort::Cached,
        )))),
        shared,
        tx,
        tee: keep.map(|_| Vec::new()),
        tee_limit: keep.unwrap_or(0),
        built: 0,
    }
}

async fn write_member(db: &Db, plan: &Plan, unfilled: &Notify, out: &mut Out) -> io::Result<()> {
    let mut read = db.begin_stream().await.map_err(io::Error::other)?;
    write_entry(&mut read.tx, out, plan).await?;
    if let Some(enc) = out.enc.take() {
        enc.finish()?;
    }
    out.flush(true).await?;
    if out.built > 0 {
        unfilled.notify_one();
    }
    Ok(())
}

fn member_too_large() -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        "a deck entry too large to keep in memory",
    )
}

/// Whether `entry_member` gave up because the entry outgrew its limit.
pub fn too_large(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::FileTooLarge
}

async fn write_entry(conn: &mut Conn, out: &mut Out, plan: &Plan) -> io::Result<()> {
    let e = io::Error::other;
    let changed = public(
        store::pull::subtree(conn, plan.deck.id, plan.since)
            .await
            .map_err(e)?,
    );
    let all = public(
        store::pull::subtree(conn, plan.deck.id, Micros::BEGINNING)
            .await
            .map_err(e)?,
    );
    let all_ids = ids_json(&all);
    let pairs = store::pull::notetypes_by_deck(conn, &ids_json(&changed), plan.since)
        .await
        .map_err(e)?;
    let mut nt_ids: Vec<NotetypeId> = pairs.iter().map(|p| p.1).collect();
    nt_ids.sort_unstable();
    nt_ids.dedup();
    let notetypes: HashMap<NotetypeId, Notetype> = store::notetypes::load(conn, &nt_ids)
        .await
        .map_err(e)?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let mut by_deck: BTreeMap<DeckId, Vec<NotetypeId>> = BTreeMap::new();
    for (deck, nt) in &pairs {
        by_deck.entry(*deck).or_default().push(*nt);
    }

    out.raw("{\"protected_fields\":")?;
    out.json(&protected_fields(conn, plan.deck.id).await.map_err(e)?)?;
    out.raw(",\"deck\":")?;
    write_tree(conn, out, plan, &changed, &notetypes, &by_deck).await?;
    let changelog: String = store::changelogs::since(conn, plan.deck.id, plan.since)
        .await
        .map_err(e)?
        .into_iter()
        .map(|(at, msg)| {
            format!(
                "--- Changes from {}: ---\n{msg}\n\n",
                timestamp::changelog_header(at)
            )
        })
        .collect();
    out.raw(",\"changelog\":")?;
    out.json(&changelog)?;
    out.raw(",\"deck_hash\":")?;
    out.json(&plan.hash)?;
    out.raw(",\"optional_tags\":")?;
    out.json(
        &store::decks::optional_tag_groups(conn, plan.deck.id)
            .await
            .map_err(e)?,
    )?;
    out.raw(",\"deleted_notes\":")?;
    out.json(
        &store::pull::deleted_guids(conn, &all_ids, plan.since)
            .await
            .map_err(e)?,
    )?;
    out.raw(",\"stats_enabled\":")?;
    out.json(&plan.deck.stats_enabled)?;
    out.raw("}")
}

enum Step {
    Open { index: usize, first: bool },
    Close,
}

async fn write_tree(
    conn: &mut Conn,
    out: &mut Out,
    plan: &Plan,
    decks: &[store::decks::Deck],
    notetypes: &HashMap<NotetypeId, Notetype>,
    by_deck: &BTreeMap<DeckId, Vec<NotetypeId>>,
) -> io::Result<()> {
    let mut children: HashMap<DeckId, Vec<usize>> = HashMap::new();
    for (i, d) in decks.iter().enumerate() {
        if let Some(p) = d.parent {
            children.entry(p).or_default().push(i);
        }
    }
    let root = decks
        .iter()
        .position(|d| d.id == plan.deck.id)
        .ok_or_else(|| io::Error::other("changed deck vanished"))?;
    let mut steps = vec![Step::Open {
        index: root,
        first: true,
    }];
    while let Some(step) = steps.pop() {
        let (index, first) = match step {
            Step::Close => {
                out.raw("]}")?;
                continue;
            }
            Step::Open { index, first } => (index, first),
        };
        let deck = &decks[index];
        if !first {
            out.raw(",")?;
        }
        out.raw("{\"crowdanki_uuid\":")?;
        out.json(&deck.crowdanki_uuid)?;
        out.raw(",\"desc\":")?;
        out.json(&deck.description)?;
        out.raw(",\"name\":")?;
        out.json(&deck.name)?;
        out.raw(",\"note_models\":")?;
        let models: Vec<&Notetype> = by_deck
            .get(&deck.id)
            .into_iter()
            .flatten()
            .filter_map(|id| notetypes.get(id))
            .collect();
        out.json(&models)?;
        out.raw(",\"notes\":[")?;
        write_notes(conn, out, deck.id, plan.since).await?;
        out.raw("],\"children\":[")?;
        steps.push(Step::Close);
        let kids = children.get(&deck.id).map(Vec::as_slice).unwrap_or(&[]);
        for (k, child) in kids.iter().enumerate().rev() {
            steps.push(Step::Open {
                index: *child,
                first: k == 0,
            });
        }
    }
    Ok(())
}

/// Bytes of JSON per SQL round trip (a batch always holds at least one note): about 250
/// notes of ordinary size, so the batch's string (and SQLite's buffer for it, which grows
/// by doubling) stays under the allocator's mmap threshold and reuses heap pages instead
/// of faulting in new ones, and a deck of 4 MiB notes is read one note at a time. Notes
/// this large without a stored copy are built outside SQLite.
pub(crate) const BATCH_BYTES: i64 = 80 * 1024;

/// Note sizes read ahead per round trip.
const SIZES_PER_READ: i64 = 1024;

/// The sizes of the notes after the last batch, read ahead of their JSON.
#[derive(Default)]
struct Sizes {
    pending: VecDeque<i64>,
    /// No notes follow the pending ones.
    complete: bool,
}

impl Sizes {
    /// How many pending notes the next batch takes: every note that starts below
    /// `BATCH_BYTES`.
    fn batch_len(&self) -> usize {
        let mut before = 0;
        self.pending
            .iter()
            .take_while(|&&size| {
                let fits = before < BATCH_BYTES;
                before += size;
                fits
            })
            .count()
    }
}

/// One batch of a deck's notes from `after`, and whether notes may follow it.
async fn read_batch(
    conn: &mut Conn,
    deck: DeckId,
    since: Micros,
    after: NoteId,
    sizes: &mut Sizes,
) -> sqlx::Result<(store::pull::NoteBatch, bool)> {
    if !sizes.complete && sizes.pending.iter().sum::<i64>() < BATCH_BYTES {
        let read = store::pull::next_sizes(conn, deck, since, after, SIZES_PER_READ).await?;
        sizes.pending = read
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect();
        sizes.complete = (sizes.pending.len() as i64) < SIZES_PER_READ;
    }
    let take = sizes.batch_len();
    let batch =
        store::pull::notes_json_batch(conn, deck, since, after, take as i64, BATCH_BYTES).await?;
    if batch.count == take as i64 {
        sizes.pending.drain(..take);
    } else {
        // The deck changed between the two reads: read the sizes again.
        *sizes = Sizes::default();
    }
    Ok((batch, !(sizes.complete && sizes.pending.is_empty())))
}

/// Writes a deck's notes; the next batch is read on SQLite's thread while this one is
/// compressed on ours.
async fn write_notes(
    conn: &mut Conn,
    out: &mut Out,
    deck: DeckId,
    since: Micros,
) -> io::Result<()> {
    let mut after = NoteId::BEFORE_ALL;
    let mut first = true;
    let mut ready: Option<String> = None;
    let mut sizes = Sizes::default();
    loop {
        let (read, written) = tokio::join!(
            read_batch(conn, deck, since, after, &mut sizes),
            write_batch(out, &mut first, ready.take())
        );
        written?;
        let (batch, more) = read.map_err(io::Error::other)?;
        out.built += batch.built;
        ready = batch.json;
        if let Some(note) = batch.deferred {
            write_batch(out, &mut first, ready.take()).await?;
            let json = super::note_object::build(conn, note)
                .await
                .map_err(io::Error::other)?;
            write_batch(out, &mut first, (!json.is_empty()).then_some(json)).await?;
        }
        match batch.last_id {
            Some(last) if more => after = last,
            _ => break,
        }
    }
    write_batch(out, &mut first, ready).await
}

/// Appends one batch of note objects to the deck's `notes` array.
async fn write_batch(out: &mut Out, first: &mut bool, json: Option<String>) -> io::Result<()> {
    let Some(json) = json else {
        return Ok(());
    };
    if !std::mem::take(first) {
        out.raw(",")?;
    }
    out.raw(&json)?;
    out.flush(false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(list: &[i64]) -> Sizes {
        Sizes {
            pending: list.iter().copied().collect(),
            complete: true,
        }
    }

    #[test]
    fn a_batch_takes_every_note_that_starts_below_the_bound() {
        assert_eq!(sizes(&[]).batch_len(), 0);
        assert_eq!(sizes(&[600; 10]).batch_len(), 10);
        // A note too large for any batch still goes alone.
        assert_eq!(sizes(&[4 << 20, 600]).batch_len(), 1);
        // The note that crosses the bound is the batch's last.
        assert_eq!(sizes(&[1000, BATCH_BYTES, 600]).batch_len(), 2);
        let many = sizes(&[1024; 1024]).batch_len() as i64;
        assert_eq!(many, BATCH_BYTES / 1024);
    }
}
