//! What a decoded upload keeps in memory, estimated while it is parsed. Each decode has
//! a cap of its own (a suggestion's tree, a published deck's shape), and every decode
//! draws what it keeps from one [`Pool`] sized from a memory budget, so several hostile
//! uploads at once cannot add up past it. Past [`ALONE`] bytes a decode waits for its
//! turn to grow (one big decode at a time, the others queue with their bodies unread),
//! so big uploads arriving together are decoded one after the other instead of starving
//! each other; a decode the pool still cannot serve is refused as busy (429 with
//! Retry-After) instead of growing the process.
//!
//! serde's derived `Deserialize` cannot carry a meter down to the values, so the meter
//! of the running decode is a thread-local for the duration of [`run`]; the
//! [`Guard`](super::json_guard::Guard) charges it and the spool gives back what it
//! writes out.

use std::cell::RefCell;
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::gzb64::DecodeError;
use super::json_guard::Exceeded;

/// Bytes one pool permit stands for.
const UNIT: u64 = 64 * 1024;
/// Permits taken at once when a decode grows, so the pool is not touched per value.
const STEP: u64 = 16;
/// What a decode may keep before it must wait for the turn to grow further.
pub const ALONE: u64 = 2 * 1024 * 1024;

thread_local! {
    static METER: RefCell<Option<Meter>> = const { RefCell::new(None) };
}

/// The memory all decodes together may keep.
#[derive(Clone)]
pub struct Pool {
    permits: Arc<Semaphore>,
    turn: Arc<Turn>,
}

/// The right to grow past [`ALONE`], held by one decode at a time.
#[derive(Default)]
struct Turn {
    taken: Mutex<bool>,
    freed: Condvar,
}

/// A held [`Turn`]; dropping it lets the next waiting decode grow.
struct HeldTurn(Arc<Turn>);

impl Turn {
    fn wait(self: &Arc<Self>) -> HeldTurn {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        while *taken {
            taken = self.freed.wait(taken).unwrap_or_else(|e| e.into_inner());
        }
        *taken = true;
        HeldTurn(self.clone())
    }
}

impl Drop for HeldTurn {
    fn drop(&mut self) {
        *self.0.taken.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.0.freed.notify_one();
    }
}

impl Pool {
    /// A pool of `bytes` (at least one step, so any decode can start).
    pub fn new(bytes: u64) -> Self {
        let units = usize::try_from((bytes / UNIT).max(STEP)).unwrap_or(usize::MAX);
        Self {
            permits: Arc::new(Semaphore::new(units.min(Semaphore::MAX_PERMITS))),
            turn: Arc::default(),
        }
    }

    /// A budget for one decode of `what`, which may keep at most `cap` bytes.
    pub fn budget(&self, what: &'static str, cap: u64) -> Budget {
        Budget {
            pool: self.permits.clone(),
            turn: self.turn.clone(),
            what,
            cap,
        }
    }
}

/// What one decode may keep, and the pool it draws from.
pub struct Budget {
    pool: Arc<Semaphore>,
    turn: Arc<Turn>,
    what: &'static str,
    cap: u64,
}

/// The share of the pool a decoded value holds; dropping it gives the share back.
pub struct Reservation {
    _permit: Option<OwnedSemaphorePermit>,
    _turn: Option<HeldTurn>,
    peak: u64,
}

impl Reservation {
    /// The most the decode kept at any moment, in estimated bytes.
    pub fn peak(&self) -> u64 {
        self.peak
    }
}

struct Meter {
    budget: Budget,
    retained: u64,
    peak: u64,
    permit: Option<OwnedSemaphorePermit>,
    turn: Option<HeldTurn>,
}

impl Meter {
    fn held(&self) -> u64 {
        self.permit
            .as_ref()
            .map_or(0, |p| p.num_permits() as u64 * UNIT)
    }

    fn charge(&mut self, bytes: u64) -> Result<(), Exceeded> {
        self.retained += bytes;
        self.peak = self.peak.max(self.retained);
        if self.retained > self.budget.cap {
            return Err(Exceeded::Retained {
                what: self.budget.what,
                cap: self.budget.cap,
            });
        }
        let held = self.held();
        if self.retained <= held {
            return Ok(());
        }
        if self.retained > ALONE && self.turn.is_none() {
            self.turn = Some(self.budget.turn.wait());
        }
        let needed = (self.retained - held).div_ceil(UNIT);
        let room = self.budget.cap.div_ceil(UNIT) - held / UNIT;
        let wanted = needed.max(STEP.min(room));
        let got = [wanted, needed]
            .into_iter()
            .find_map(|n| {
                self.budget
                    .pool
                    .clone()
                    .try_acquire_many_owned(n as u32)
                    .ok()
            })
            .ok_or(Exceeded::Busy)?;
        match &mut self.permit {
            Some(p) => p.merge(got),
            None => self.permit = Some(got),
        }
        Ok(())
    }
}

/// Runs `parse` with `budget` as this thread's meter; answers its result and the share
/// of the pool the value keeps.
pub fn run<T>(
    budget: Budget,
    parse: impl FnOnce() -> Result<T, DecodeError>,
) -> (Result<T, DecodeError>, Reservation) {
    METER.with(|m| {
        *m.borrow_mut() = Some(Meter {
            budget,
            retained: 0,
            peak: 0,
            permit: None,
            turn: None,
        })
    });
    let parsed = parse();
    let meter = METER
        .with(|m| m.borrow_mut().take())
        .expect("the meter set above");
    (
        parsed,
        Reservation {
            _permit: meter.permit,
            _turn: meter.turn,
            peak: meter.peak,
        },
    )
}

/// Charges `bytes` to the running decode; without one (a unit test) nothing is counted.
pub fn charge(bytes: u64) -> Result<(), Exceeded> {
    METER.with(|m| {
        m.borrow_mut()
            .as_mut()
            .map_or(Ok(()), |meter| meter.charge(bytes))
    })
}

/// What the running decode keeps right now.
pub fn retained() -> u64 {
    METER.with(|m| m.borrow().as_ref().map_or(0, |meter| meter.retained))
}

/// Forgets what was charged since `level`: the values were written out and dropped.
pub fn release_to(level: u64) {
    METER.with(|m| {
        if let Some(meter) = m.borrow_mut().as_mut() {
            meter.retained = meter.retained.min(level);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decode_stops_at_its_cap() {
        let pool = Pool::new(8 << 20);
        let (parsed, kept) = run(pool.budget("the test", 1 << 20), || {
            charge(1 << 20).map_err(DecodeError::from)?;
            charge(1).map_err(DecodeError::from)
        });
        assert!(matches!(
            parsed,
            Err(DecodeError::Limit(Exceeded::Retained { cap: 1048576, .. }))
        ));
        assert_eq!(kept.peak(), (1 << 20) + 1);
    }

    #[test]
    fn decodes_share_the_pool_until_they_are_dropped() {
        let pool = Pool::new(2 << 20);
        let (first, held) = run(pool.budget("first", 4 << 20), || {
            charge(3 << 19).map_err(DecodeError::from)
        });
        assert!(first.is_ok());
        let (second, _) = run(pool.budget("second", 4 << 20), || {
            charge(1 << 20).map_err(DecodeError::from)
        });
        assert!(matches!(second, Err(DecodeError::Limit(Exceeded::Busy))));
        drop(held);
        let (third, _) = run(pool.budget("third", 4 << 20), || {
            charge(1 << 20).map_err(DecodeError::from)
        });
        assert!(third.is_ok());
    }

    #[test]
    fn written_out_values_are_given_back() {
        let pool = Pool::new(1 << 20);
        let (parsed, kept) = run(pool.budget("notes", 1 << 20), || {
            for _ in 0..100 {
                let level = retained();
                charge(512 << 10).map_err(DecodeError::from)?;
                release_to(level);
            }
            Ok(retained())
        });
        assert_eq!(parsed.unwrap(), 0);
        assert_eq!(kept.peak(), 512 << 10);
    }

    #[test]
    fn big_decodes_take_turns() {
        let pool = Pool::new(8 << 20);
        let (first, held) = run(pool.budget("first", 4 << 20), || {
            charge(3 << 20).map_err(DecodeError::from)
        });
        assert!(first.is_ok());
        let waiting = {
            let pool = pool.clone();
            std::thread::spawn(move || {
                run(pool.budget("second", 4 << 20), || {
                    charge(3 << 20).map_err(DecodeError::from)
                })
                .0
                .is_ok()
            })
        };
        drop(held);
        assert!(
            waiting.join().unwrap(),
            "the second big decode runs once the first is done"
        );
    }
}
