//! Notes of a published deck, written to an unnamed temporary file while the deck JSON
//! is parsed, so a 50,000-note tree never sits in memory: the parsed tree keeps only
//! where each node's notes lie in the file, and publishing reads them back in batches.
//!
//! serde's derived `Deserialize` cannot carry a writer down to the notes, so the file
//! being recorded is a thread-local for the duration of [`Spool::record`]; only
//! [`NotesSpan`]'s `Deserialize` touches it.

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, Error as _, SeqAccess, Visitor};

use super::crowdanki::{DeckOf, Note};
use super::gzb64::DecodeError;
use super::meter;

/// A deck tree whose notes are in a [`Spool`].
pub type SpooledDeck = DeckOf<NotesSpan>;

thread_local! {
    static RECORDING: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

struct Recorder {
    out: BufWriter<File>,
    written: u64,
}

/// Where one deck node's notes lie in the spool: `count` framed notes from byte `start`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NotesSpan {
    start: u64,
    len: u64,
    pub count: usize,
}

impl<'de> Deserialize<'de> for NotesSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(SpanVisitor)
    }
}

struct SpanVisitor;

impl<'de> Visitor<'de> for SpanVisitor {
    type Value = NotesSpan;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of notes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NotesSpan, A::Error> {
        RECORDING.with(|cell| {
            let mut recording = cell.borrow_mut();
            let r = recording
                .as_mut()
                .ok_or_else(|| A::Error::custom("notes can only be read into a spool"))?;
            let start = r.written;
            let mut count = 0;
            let kept = meter::retained();
            while let Some(note) = seq.next_element::<Note>()? {
                let json = serde_json::to_vec(&note).map_err(A::Error::custom)?;
                let frame = (json.len() as u64).to_le_bytes();
                r.out
                    .write_all(&frame)
                    .and_then(|()| r.out.write_all(&json))
                    .map_err(|e| A::Error::custom(SpoolFailed(e)))?;
                r.written += (frame.len() + json.len()) as u64;
                count += 1;
                // The note is on disk now: what it cost the meter is free again.
                meter::release_to(kept);
            }
            Ok(NotesSpan {
                start,
                len: r.written - start,
                count,
            })
        })
    }
}

/// Marks a write failure of the spool itself (a full disk), told apart from bad JSON.
struct SpoolFailed(io::Error);

impl fmt::Display for SpoolFailed {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{SPOOL_FAILED}{}", self.0)
    }
}

const SPOOL_FAILED: &str = "spool write failed: ";

/// The notes of one upload, in an unnamed file that disappears when this is dropped
/// (or the process dies).
pub struct Spool {
    file: File,
}

impl Spool {
    /// Runs `parse` while the notes it meets go to a new spool file in `dir`.
    pub fn record<T>(
        dir: &Path,
        parse: impl FnOnce() -> Result<T, DecodeError>,
    ) -> Result<(T, Spool), DecodeError> {
        let spool_error = |e: io::Error| DecodeError::Spool(e.to_string());
        let file = tempfile::tempfile_in(dir).map_err(spool_error)?;
        let out = BufWriter::new(file.try_clone().map_err(spool_error)?);
        RECORDING.with(|cell| *cell.borrow_mut() = Some(Recorder { out, written: 0 }));
        let parsed = parse();
        let recorder = RECORDING
            .with(|cell| cell.borrow_mut().take())
            .expect("the recorder set above");
        let value = parsed.map_err(|e| match e {
            DecodeError::Json(msg) if msg.contains(SPOOL_FAILED) => DecodeError::Spool(msg),
            other => other,
        })?;
        recorder
            .out
            .into_inner()
            .map_err(|e| spool_error(e.into_error()))?;
        Ok((value, Spool { file }))
    }

    /// A node's notes, in upload order. Reads are positional, so several readers never
    /// disturb each other. Each note is read whole and parsed from memory, which is many
    /// times faster than parsing from a stream; it was whole in memory when it was written.
    pub fn notes(&self, span: NotesSpan) -> impl Iterator<Item = serde_json::Result<Note>> + '_ {
        let mut frames = BufReader::with_capacity(
            READ_BUF,
            At {
                file: &self.file,
                pos: span.start,
                end: span.start + span.len,
            },
        );
        let mut json = Vec::new();
        (0..span.count).map(move |_| {
            let mut frame = [0u8; 8];
            frames
                .read_exact(&mut frame)
                .map_err(serde_json::Error::io)?;
            let len = usize::try_from(u64::from_le_bytes(frame))
                .map_err(|e| serde_json::Error::io(io::Error::other(e)))?;
            json.clear();
            json.try_reserve(len)
                .map_err(|e| serde_json::Error::io(io::Error::other(e)))?;
            json.resize(len, 0);
            frames
                .read_exact(&mut json)
                .map_err(serde_json::Error::io)?;
            let note = serde_json::from_slice(&json);
            if json.capacity() > KEEP_BUF {
                json = Vec::new();
            }
            note
        })
    }
}

/// Largest note buffer kept for the next note; a bigger one is given back at once.
const KEEP_BUF: usize = 256 * 1024;

/// Spool bytes read per system call.
const READ_BUF: usize = 64 * 1024;

/// Reads `file` from `pos` up to `end`.
struct At<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end - self.pos).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_go_to_the_file_and_come_back_per_node() {
        let json = r#"{"crowdanki_uuid": "r", "name": "Root",
            "children": [{"crowdanki_uuid": "c", "name": "Child", "notes": [
                {"guid": "c1", "fields": ["a", "b"], "note_model_uuid": "m", "tags": ["t"]}]}],
            "notes": [{"guid": "r1", "fields": ["x"], "note_model_uuid": "m"},
                      {"guid": "r2", "fields": ["y"], "note_model_uuid": "m", "id": null}]}"#;
        let dir = tempfile::tempdir().unwrap();
        let (deck, spool) = Spool::record(dir.path(), || {
            serde_json::from_str::<SpooledDeck>(json).map_err(|e| DecodeError::Json(e.to_string()))
        })
        .unwrap();
        assert_eq!((deck.notes.count, deck.children[0].notes.count), (2, 1));
        let guids = |span| {
            spool
                .notes(span)
                .map(|n| n.unwrap().guid)
                .collect::<Vec<_>>()
        };
        assert_eq!(guids(deck.notes), ["r1", "r2"]);
        assert_eq!(guids(deck.children[0].notes), ["c1"]);
        assert_eq!(
            spool
                .notes(deck.children[0].notes)
                .next()
                .unwrap()
                .unwrap()
                .tags,
            ["t"]
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the spool file has no name to leave behind"
        );
    }

    #[test]
    fn big_notes_between_small_ones_come_back_whole() {
        let big = "é\\u0001".repeat(200_000);
        let json = format!(
            r#"{{"crowdanki_uuid": "r", "name": "R", "notes": [
                {{"guid": "a", "fields": ["small"], "note_model_uuid": "m"}},
                {{"guid": "b", "fields": ["{big}"], "note_model_uuid": "m"}},
                {{"guid": "c", "fields": ["small again"], "note_model_uuid": "m"}}]}}"#
        );
        let dir = tempfile::tempdir().unwrap();
        let (deck, spool) = Spool::record(dir.path(), || {
            serde_json::from_str::<SpooledDeck>(&json).map_err(|e| DecodeError::Json(e.to_string()))
        })
        .unwrap();
        let notes: Vec<Note> = spool.notes(deck.notes).map(Result::unwrap).collect();
        assert_eq!(notes.len(), 3);
        assert_eq!(notes[1].fields[0], "é\u{1}".repeat(200_000));
        assert_eq!(notes[2].fields, ["small again"]);
    }

    #[test]
    fn notes_outside_a_recording_are_an_error() {
        assert!(serde_json::from_str::<SpooledDeck>(
            r#"{"crowdanki_uuid": "r", "name": "R", "notes": []}"#
        )
        .is_err());
    }
}
