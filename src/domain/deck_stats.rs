//! A deck's statistics for its owner, maintainers and the box's administrators: review
//! figures subscribers uploaded (per subdeck, the hardest notes, how notes spread over
//! retention and lapses), subscribers and suggestions per week. Subscribers and
//! strangers are refused.

use super::decks::by_hash;
use super::{Actor, DomainError, DomainResult};
use crate::store::{self, deck_stats, decks::Deck, Conn, Db, Micros};

pub use crate::store::deck_stats::{NoteFigures, SubdeckFigures};

/// Subdecks listed at most, lowest retention first.
pub const SUBDECKS: usize = 30;
/// Hardest notes listed.
pub const HARDEST: i64 = 10;
/// Notes need figures from this many subscribers to count among the hardest (fewer while
/// fewer subscribers report).
pub const MIN_REPORTERS: i64 = 2;
/// Weeks the charts over time reach back, this one included.
pub const WEEKS: usize = 26;

const WEEK_MICROS: i64 = 7 * 86_400 * 1_000_000;
/// 1970-01-01 was a Thursday: weeks start on the Monday three days before.
const MONDAY_OFFSET_MICROS: i64 = 3 * 86_400 * 1_000_000;

/// The deck and what the reader may do with its statistics.
#[derive(Debug)]
pub struct Overview {
    pub deck: Deck,
    /// Owner or maintainer: may turn statistics on and off.
    pub can_switch: bool,
    pub figures: deck_stats::TreeFigures,
}

/// The subdecks with figures, lowest mean retention first.
#[derive(Debug)]
pub struct Subdecks {
    pub subdecks: Vec<SubdeckFigures>,
    /// More subdecks have figures than [`SUBDECKS`].
    pub more: bool,
}

/// The hardest notes and the bar they had to pass.
#[derive(Debug)]
pub struct Hardest {
    pub notes: Vec<NoteFigures>,
    /// Subscribers a note needed figures from to count.
    pub min_reporters: i64,
}

/// How many notes fall in each bucket of mean retention and of mean lapses.
#[derive(Debug, Default, PartialEq)]
pub struct Spread {
    /// 0–9 %, 10–19 %, …, 90–100 %.
    pub retention: [i64; 10],
    /// 0, 1, 2, 3–4, 5–9 and 10 or more lapses per subscriber.
    pub lapses: [i64; 6],
}

/// One week of the charts over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    /// Monday 00:00 UTC.
    pub start: Micros,
    /// Subscribers at the end of the week (today for this week), among the current ones.
    pub subscribers: i64,
    pub pending: i64,
    pub approved: i64,
    pub denied: i64,
}

/// The root deck `hash` names, if `actor` may read its statistics: its owner, a
/// maintainer of the tree, or an administrator. Answers whether they may switch them.
async fn readable(conn: &mut Conn, actor: Actor, hash: &str) -> DomainResult<(Deck, bool)> {
    let deck = by_hash(conn, hash).await?;
    if deck.parent.is_some() || deck.pending_commit.is_some() {
        return Err(DomainError::NoDeck(hash.to_string()));
    }
    let id = match actor {
        Actor::Admin => return Ok((deck, true)),
        Actor::User(id) => id,
    };
    if store::decks::can_maintain(conn, deck.id, id).await? {
        return Ok((deck, true));
    }
    if store::users::is_admin(conn, id).await? {
        return Ok((deck, false));
    }
    Err(DomainError::NotMaintainer)
}

/// The deck, whether the reader may switch statistics, and its figures in all.
pub async fn overview(db: &Db, actor: Actor, hash: &str) -> DomainResult<Overview> {
    let mut conn = db.reader().acquire().await?;
    let (deck, can_switch) = readable(&mut conn, actor, hash).await?;
    let figures = deck_stats::tree_figures(&mut conn, deck.id).await?;
    Ok(Overview {
        deck,
        can_switch,
        figures,
    })
}

/// Figures per subdeck, at most [`SUBDECKS`] of them.
pub async fn subdecks(db: &Db, actor: Actor, hash: &str) -> DomainResult<Subdecks> {
    let mut conn = db.reader().acquire().await?;
    let (deck, _) = readable(&mut conn, actor, hash).await?;
    let mut subdecks = deck_stats::subdecks(&mut conn, deck.id, SUBDECKS as i64 + 1).await?;
    let more = subdecks.len() > SUBDECKS;
    subdecks.truncate(SUBDECKS);
    Ok(Subdecks { subdecks, more })
}

/// The [`HARDEST`] notes: lowest mean retention, then most lapses per review.
pub async fn hardest(db: &Db, actor: Actor, hash: &str) -> DomainResult<Hardest> {
    let mut conn = db.reader().acquire().await?;
    let (deck, _) = readable(&mut conn, actor, hash).await?;
    let reporters = deck_stats::tree_figures(&mut conn, deck.id)
        .await?
        .reporters;
    let min_reporters = MIN_REPORTERS.min(reporters).max(1);
    let notes = deck_stats::hardest(&mut conn, deck.id, min_reporters, HARDEST).await?;
    Ok(Hardest {
        notes,
        min_reporters,
    })
}

/// How the deck's notes spread over mean retention and mean lapses.
pub async fn spread(db: &Db, actor: Actor, hash: &str) -> DomainResult<Spread> {
    let mut conn = db.reader().acquire().await?;
    let (deck, _) = readable(&mut conn, actor, hash).await?;
    let mut spread = Spread::default();
    for (kind, bucket, notes) in deck_stats::spread(&mut conn, deck.id).await? {
        let slot = match kind.as_str() {
            "retention" => spread.retention.get_mut(bucket as usize),
            _ => spread.lapses.get_mut(bucket as usize),
        };
        if let Some(slot) = slot {
            *slot = notes;
        }
    }
    Ok(spread)
}

/// The last [`WEEKS`] weeks up to `now`, oldest first: subscribers (a removed
/// subscription drops out of every week) and suggestions by status (approved and denied
/// by the week they were made, not decided).
pub async fn weeks(db: &Db, actor: Actor, hash: &str, now: Micros) -> DomainResult<Vec<Week>> {
    let mut conn = db.reader().acquire().await?;
    let (deck, _) = readable(&mut conn, actor, hash).await?;
    let this_week = (now.0 + MONDAY_OFFSET_MICROS).div_euclid(WEEK_MICROS);
    let start = Micros((this_week + 1 - WEEKS as i64) * WEEK_MICROS - MONDAY_OFFSET_MICROS);
    let mut weeks: Vec<Week> = (0..WEEKS as i64)
        .map(|w| Week {
            start: Micros(start.0 + w * WEEK_MICROS),
            subscribers: 0,
            pending: 0,
            approved: 0,
            denied: 0,
        })
        .collect();
    let mut new = vec![0; WEEKS];
    for (w, n) in deck_stats::subscribed_per_week(&mut conn, deck.id, start, WEEK_MICROS).await? {
        if let Some(slot) = new.get_mut(w as usize) {
            *slot += n;
        }
    }
    let mut total = deck_stats::subscribed_before(&mut conn, deck.id, start).await?;
    for (week, n) in weeks.iter_mut().zip(new) {
        total += n;
        week.subscribers = total;
    }
    for (w, status, n) in
        deck_stats::suggested_per_week(&mut conn, deck.id, start, WEEK_MICROS).await?
    {
        let Some(week) = weeks.get_mut(w as usize) else {
            continue;
        };
        match status.as_str() {
            "pending" => week.pending += n,
            "approved" => week.approved += n,
            _ => week.denied += n,
        }
    }
    Ok(weeks)
}
