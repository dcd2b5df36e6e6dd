//! The last 24 hours of monitor readings for the console's charts: one point per minute
//! (the average of that minute's samples), at most 1,440 per series, in memory only.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::sample::Sample;
use crate::config::Config;

/// Minutes kept: one day.
pub const MINUTES: usize = 24 * 60;

/// A figure the dashboard charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Cpu,
    Memory,
    Disk,
    Temperature,
    Pressure,
}

impl Metric {
    /// Every charted figure, in the dashboard's order.
    pub const ALL: [Metric; 5] = [
        Metric::Cpu,
        Metric::Memory,
        Metric::Disk,
        Metric::Temperature,
        Metric::Pressure,
    ];

    /// The name in chart URLs (`/console/admin/box/chart/<slug>.svg`).
    pub fn slug(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu",
            Metric::Memory => "memory",
            Metric::Disk => "disk",
            Metric::Temperature => "temperature",
            Metric::Pressure => "pressure",
        }
    }

    /// The metric a chart URL names.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.slug() == slug)
    }

    /// What a person reads as the chart's title.
    pub fn title(self) -> &'static str {
        match self {
            Metric::Cpu => "CPU (whole machine)",
            Metric::Memory => "Memory",
            Metric::Disk => "Disk (data directory)",
            Metric::Temperature => "SoC temperature",
            Metric::Pressure => "Memory pressure (PSI some avg10)",
        }
    }

    /// The unit values are shown in.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Temperature => "°C",
            _ => "%",
        }
    }

    /// The configured warning threshold the monitor logs crossings of.
    pub fn threshold(self, c: &Config) -> f64 {
        match self {
            Metric::Cpu => c.cpu_warn_percent,
            Metric::Memory => c.memory_warn_percent,
            Metric::Disk => c.disk_warn_percent,
            Metric::Temperature => c.temperature_warn_celsius,
            Metric::Pressure => c.memory_pressure_warn_percent,
        }
    }

    /// This figure in a sample; `None` where the system does not offer it.
    pub fn of(self, s: &Sample) -> Option<f64> {
        match self {
            Metric::Cpu => s.host_cpu_percent,
            Metric::Memory => s.memory_percent(),
            Metric::Disk => s.disk_used_percent,
            Metric::Temperature => s.temperature_celsius,
            Metric::Pressure => s.host_pressure_some_avg10,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Sums and counts of one minute's readings, per metric.
#[derive(Debug, Clone, Copy, Default)]
struct Minute {
    minute: i64,
    sums: [f32; 5],
    counts: [u16; 5],
}

impl Minute {
    fn average(&self, m: Metric) -> Option<f64> {
        let i = m.index();
        (self.counts[i] > 0).then(|| f64::from(self.sums[i]) / f64::from(self.counts[i]))
    }
}

#[derive(Debug, Default)]
struct Ring {
    minutes: VecDeque<Minute>,
    latest: Option<(i64, [Option<f64>; 5])>,
}

/// The monitor's day of readings, shared with the console through the app state.
#[derive(Debug, Default)]
pub struct History {
    ring: Mutex<Ring>,
}

impl History {
    /// Adds a sample taken at `unix` seconds; minutes older than a day fall out.
    pub fn record(&self, unix: i64, sample: &Sample) {
        let values = Metric::ALL.map(|m| m.of(sample));
        let minute = unix.div_euclid(60);
        let mut ring = self.ring.lock().expect("history lock");
        ring.latest = Some((unix, values));
        if ring.minutes.back().is_some_and(|last| last.minute > minute) {
            // The clock went back (a Pi without a battery clock before NTP): start over.
            ring.minutes.clear();
        }
        if ring.minutes.back().is_none_or(|last| last.minute != minute) {
            ring.minutes.push_back(Minute {
                minute,
                ..Minute::default()
            });
        }
        let current = ring.minutes.back_mut().expect("just pushed");
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                current.sums[i] += *v as f32;
                current.counts[i] = current.counts[i].saturating_add(1);
            }
        }
        while ring.minutes.len() > MINUTES
            || ring
                .minutes
                .front()
                .is_some_and(|m| m.minute <= minute - MINUTES as i64)
        {
            ring.minutes.pop_front();
        }
    }

    /// `(unix seconds, value)` per minute that had a reading, oldest first.
    pub fn series(&self, metric: Metric) -> Vec<(i64, f64)> {
        let ring = self.ring.lock().expect("history lock");
        ring.minutes
            .iter()
            .filter_map(|m| m.average(metric).map(|v| (m.minute * 60, v)))
            .collect()
    }

    /// The newest sample's time and figures, unaveraged.
    pub fn latest(&self) -> Option<(i64, [Option<f64>; 5])> {
        self.ring.lock().expect("history lock").latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(v: f64) -> Sample {
        Sample {
            host_cpu_percent: Some(v),
            ..Sample::default()
        }
    }

    #[test]
    fn averages_each_minute_and_keeps_one_day() {
        let h = History::default();
        h.record(60, &cpu(10.0));
        h.record(90, &cpu(30.0));
        h.record(125, &cpu(50.0));
        assert_eq!(h.series(Metric::Cpu), vec![(60, 20.0), (120, 50.0)]);
        assert_eq!(h.series(Metric::Disk), vec![], "no disk readings");
        assert_eq!(h.latest().unwrap().1[0], Some(50.0));
        for minute in 3..3 + MINUTES as i64 + 100 {
            h.record(minute * 60, &cpu(1.0));
        }
        let series = h.series(Metric::Cpu);
        assert_eq!(series.len(), MINUTES);
        let newest = series.last().unwrap().0;
        assert!(series[0].0 > newest - 86_400, "nothing older than a day");
    }
}
