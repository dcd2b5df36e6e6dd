//! The resource monitor: samples on a timer, logs threshold crossings once,
//! refreshes STATUS and metrics, and sheds load when memory runs short so the
//! kernel does not have to kill deckd.

pub mod alarm;
pub mod cgroup;
pub mod history;
pub mod sample;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use self::alarm::{Alarm, Change};
use self::sample::{Sample, Sampler, Sources};
use super::{notify, prometheus, status};
use crate::config::Config;
use crate::http::AppState;
use crate::store;

const THERMAL_DIR: &str = "/sys/class/thermal";

/// The four warnings of seed 000's monitor script, with configurable thresholds.
struct Alarms {
    cpu: Alarm,
    memory: Alarm,
    disk: Alarm,
    temperature: Alarm,
}

impl Alarms {
    fn new(config: &Config) -> Self {
        Self {
            cpu: Alarm::new("CPU", config.cpu_warn_percent),
            memory: Alarm::new("memory", config.memory_warn_percent),
            disk: Alarm::new("disk", config.disk_warn_percent),
            temperature: Alarm::new("temperature", config.temperature_warn_celsius),
        }
    }

    /// Logs each crossing once: a warning when raised, a notice when cleared.
    fn check(&mut self, s: &Sample) {
        let readings = [
            (&mut self.cpu, s.host_cpu_percent, "%"),
            (&mut self.memory, s.memory_percent(), "%"),
            (&mut self.disk, s.disk_used_percent, "%"),
            (&mut self.temperature, s.temperature_celsius, "°C"),
        ];
        for (alarm, value, unit) in readings {
            let (name, threshold) = (alarm.name, alarm.threshold);
            match alarm.update(value) {
                Some(Change::Raised(v)) => {
                    tracing::warn!(
                        resource = name,
                        value = v,
                        threshold,
                        "{name} high: {v:.1}{unit} (threshold {threshold}{unit})"
                    )
                }
                Some(Change::Cleared(v)) => {
                    tracing::info!(
                        resource = name,
                        value = v,
                        threshold,
                        "{name} back to normal: {v:.1}{unit}"
                    )
                }
                None => {}
            }
        }
    }
}

/// Memory is short when the cgroup nears its limit or tasks stall on memory (PSI).
/// Host RAM alone never sheds load: other programs' use is not deckd's to fix.
pub fn memory_short(sample: &Sample, config: &Config) -> bool {
    let Some(c) = sample.cgroup else { return false };
    c.percent_of_limit()
        .is_some_and(|p| p >= config.memory_warn_percent)
        || c.pressure_some_avg10
            .is_some_and(|p| p >= config.memory_pressure_warn_percent)
}

/// Samples every `monitor_interval_secs` until shutdown begins.
pub async fn run(state: AppState, stop: CancellationToken) {
    let config = state.config.clone();
    let cgroup_dir = config.monitor_cgroup_dir.clone().or_else(cgroup::own_dir);
    match &cgroup_dir {
        Some(dir) => tracing::debug!(dir = %dir.display(), "watching cgroup memory"),
        None => tracing::info!(
            "no cgroup v2 memory files found: no load shedding, RAM use is only warned about"
        ),
    }
    let mut sampler = Sampler::new(Sources {
        cgroup_dir,
        data_dir: config.data_dir.clone(),
        thermal_dir: THERMAL_DIR.into(),
    });
    let mut alarms = Alarms::new(&config);
    let mut ticks = tokio::time::interval(config.monitor_interval_secs);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.cancelled() => return,
        }
        let sample = sampler.sample();
        state
            .history
            .record(time::OffsetDateTime::now_utc().unix_timestamp(), &sample);
        alarms.check(&sample);
        let short = memory_short(&sample, &config);
        protect(&state, short);
        prometheus::publish(&sample, short);
        prometheus::maintenance(&state.maintenance.snapshot());
        prometheus::upkeep();
        let overview = store::overview::read(&state.db)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "counting decks failed"))
            .ok();
        notify::status(&format!(
            "{} | {}",
            status::line(state.vitals.requests(), overview, &sample, short),
            state.maintenance.status_line()
        ));
    }
}

/// Flips load shedding and empties the pull cache while memory is short.
fn protect(state: &AppState, short: bool) {
    let was_short = state.vitals.set_memory_pressure(short);
    if short {
        let freed = state.puller.clear_cache();
        if !was_short {
            tracing::warn!(
                freed_bytes = freed,
                "memory is short: refusing large uploads and emptying the pull cache"
            );
        }
    } else if was_short {
        tracing::info!("memory pressure is over: large uploads are accepted again");
    }
}
