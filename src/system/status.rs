//! The `STATUS=` line: what a person reads in `systemctl status deckd`.

use super::monitor::sample::Sample;
use crate::store::overview::Overview;

const MIB: f64 = 1024.0 * 1024.0;

/// What the status line leads with until the console's setup made an account; never the
/// token itself, since every local user can read the line.
pub const SETUP_PENDING: &str =
    "SETUP PENDING: open the console in a browser; `deckd setup-token` prints the token";

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line, most important first; figures the system lacks are left out.
pub fn line(
    requests: u64,
    overview: Option<Overview>,
    sample: &Sample,
    memory_pressure: bool,
) -> String {
    let mut parts = vec![format!("{requests} requests served")];
    if overview.as_ref().is_some_and(|o| o.users == 0) {
        parts.insert(0, SETUP_PENDING.to_string());
    }
    if let Some(o) = overview {
        parts.push(plural(o.decks, "deck", "decks"));
        parts.push(plural(
            o.pending_suggestions,
            "pending suggestion",
            "pending suggestions",
        ));
    }
    if let Some(rss) = sample.rss_bytes {
        parts.push(format!("RSS {:.1} MiB", rss as f64 / MIB));
    }
    if let Some(c) = sample.cgroup {
        match (c.limit(), c.percent_of_limit()) {
            (Some(limit), Some(pct)) => parts.push(format!(
                "memory {:.1} of {:.0} MiB ({pct:.0}%)",
                c.current as f64 / MIB,
                limit as f64 / MIB
            )),
            _ => parts.push(format!("memory {:.1} MiB", c.current as f64 / MIB)),
        }
    }
    if let Some(cpu) = sample.cpu_percent {
        parts.push(format!("CPU {cpu:.0}%"));
    }
    if let Some(disk) = sample.disk_used_percent {
        parts.push(format!("disk {disk:.0}% used"));
    }
    if let Some(t) = sample.temperature_celsius {
        parts.push(format!("{t:.0}°C"));
    }
    let mut text = parts.join(", ");
    if memory_pressure {
        text.push_str(" | MEMORY SHORT: large uploads paused");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::monitor::cgroup::CgroupMemory;

    #[test]
    fn reads_like_a_sentence() {
        let sample = Sample {
            rss_bytes: Some(12 * 1024 * 1024),
            cgroup: Some(CgroupMemory {
                current: 56 << 20,
                high: Some(224 << 20),
                max: Some(256 << 20),
                pressure_some_avg10: None,
            }),
            cpu_percent: Some(3.2),
            temperature_celsius: Some(48.3),
            ..Sample::default()
        };
        let overview = Overview {
            decks: 1,
            pending_suggestions: 2,
            users: 1,
        };
        assert_eq!(
            line(42, Some(overview), &sample, false),
            "42 requests served, 1 deck, 2 pending suggestions, RSS 12.0 MiB, memory 56.0 of 224 MiB (25%), CPU 3%, 48°C"
        );
        assert!(
            line(0, None, &Sample::default(), true).ends_with("MEMORY SHORT: large uploads paused")
        );
        let fresh = Overview {
            decks: 0,
            pending_suggestions: 0,
            users: 0,
        };
        assert!(line(0, Some(fresh), &Sample::default(), false).starts_with(SETUP_PENDING));
    }
}
