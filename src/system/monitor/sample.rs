//! One reading of everything the monitor watches: own RSS and CPU, host CPU and
//! memory, the cgroup's memory, free disk space of the data dir, SoC temperature.

use std::path::{Path, PathBuf};
use std::time::Instant;

use procfs::{Current, CurrentSI, WithCurrentSystemInfo};

use super::cgroup::{self, CgroupMemory};

/// Where the readings come from; tests point these at temporary directories.
#[derive(Debug)]
pub struct Sources {
    pub cgroup_dir: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub thermal_dir: PathBuf,
}

/// A reading; each figure is `None` where the system does not offer it.
#[derive(Debug, Default)]
pub struct Sample {
    pub rss_bytes: Option<u64>,
    /// Own CPU use since the previous sample; 100 means one core.
    pub cpu_percent: Option<f64>,
    /// Whole-machine CPU use since the previous sample; 100 means every core busy.
    pub host_cpu_percent: Option<f64>,
    /// Used RAM (total minus available) of the machine.
    pub host_memory_percent: Option<f64>,
    pub cgroup: Option<CgroupMemory>,
    pub disk_used_percent: Option<f64>,
    pub disk_free_bytes: Option<u64>,
    pub temperature_celsius: Option<f64>,
    /// Share of the last 10 s in which some task of the machine waited for memory
    /// (`/proc/pressure/memory`), in percent; kernels without PSI have none.
    pub host_pressure_some_avg10: Option<f64>,
}

impl Sample {
    /// The memory figure thresholds apply to: the cgroup limit if there is one, else RAM.
    pub fn memory_percent(&self) -> Option<f64> {
        self.cgroup
            .and_then(|c| c.percent_of_limit())
            .or(self.host_memory_percent)
    }
}

/// CPU counters of the previous sample, to turn totals into rates.
struct Previous {
    at: Instant,
    own_ticks: u64,
    host_busy: u64,
    host_total: u64,
}

/// Takes samples; remembers the previous one for CPU rates.
pub struct Sampler {
    sources: Sources,
    previous: Option<Previous>,
}

impl Sampler {
    pub fn new(sources: Sources) -> Self {
        Self {
            sources,
            previous: None,
        }
    }

    /// Reads everything once; slow only by a few small file reads.
    pub fn sample(&mut self) -> Sample {
        let now = Instant::now();
        let own = procfs::process::Process::myself()
            .and_then(|p| p.stat())
            .ok();
        let host = procfs::KernelStats::current()
            .ok()
            .map(|k| host_ticks(&k.total));
        let mut sample = Sample {
            rss_bytes: own.as_ref().map(|s| s.rss_bytes().get()),
            host_memory_percent: host_memory_percent(),
            cgroup: self.sources.cgroup_dir.as_deref().and_then(cgroup::read),
            temperature_celsius: temperature(&self.sources.thermal_dir),
            host_pressure_some_avg10: procfs::MemoryPressure::current()
                .ok()
                .map(|p| f64::from(p.some.avg10)),
            ..Sample::default()
        };
        (sample.disk_used_percent, sample.disk_free_bytes) = disk(&self.sources.data_dir).unzip();
        let own_ticks = own.map(|s| s.utime + s.stime);
        if let (Some(prev), Some(own_ticks), Some((busy, total))) =
            (&self.previous, own_ticks, host)
        {
            let seconds = now.duration_since(prev.at).as_secs_f64();
            if seconds > 0.0 {
                let used = own_ticks.saturating_sub(prev.own_ticks) as f64
                    / procfs::ticks_per_second() as f64;
                sample.cpu_percent = Some(used * 100.0 / seconds);
            }
            let total = total.saturating_sub(prev.host_total);
            if total > 0 {
                sample.host_cpu_percent =
                    Some(busy.saturating_sub(prev.host_busy) as f64 * 100.0 / total as f64);
            }
        }
        self.previous = match (own_ticks, host) {
            (Some(own_ticks), Some((host_busy, host_total))) => Some(Previous {
                at: now,
                own_ticks,
                host_busy,
                host_total,
            }),
            _ => None,
        };
        sample
    }
}

/// (busy, total) jiffies of all cores.
fn host_ticks(t: &procfs::CpuTime) -> (u64, u64) {
    let idle = t.idle + t.iowait.unwrap_or(0);
    let busy = t.user
        + t.nice
        + t.system
        + t.irq.unwrap_or(0)
        + t.softirq.unwrap_or(0)
        + t.steal.unwrap_or(0);
    (busy, busy + idle)
}

fn host_memory_percent() -> Option<f64> {
    let m = procfs::Meminfo::current().ok()?;
    let available = m.mem_available?;
    (m.mem_total > 0)
        .then(|| m.mem_total.saturating_sub(available) as f64 * 100.0 / m.mem_total as f64)
}

/// (used percent as `df` computes it, bytes free for unprivileged users).
fn disk(dir: &Path) -> Option<(f64, u64)> {
    let s = nix::sys::statvfs::statvfs(dir).ok()?;
    let used = s.blocks().saturating_sub(s.blocks_free()) as f64;
    let usable = used + s.blocks_available() as f64;
    let percent = if usable > 0.0 {
        used * 100.0 / usable
    } else {
        0.0
    };
    Some((
        percent,
        s.blocks_available() as u64 * s.fragment_size() as u64,
    ))
}

/// The hottest `thermal_zone*/temp` (millidegrees Celsius) under `dir`.
fn temperature(dir: &Path) -> Option<f64> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("thermal_zone"))
        .filter_map(|e| {
            std::fs::read_to_string(e.path().join("temp"))
                .ok()?
                .trim()
                .parse::<i64>()
                .ok()
        })
        .map(|milli| milli as f64 / 1000.0)
        .reduce(f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_process_and_the_given_dirs() {
        let data = tempfile::tempdir().unwrap();
        let thermal = tempfile::tempdir().unwrap();
        for (zone, milli) in [("thermal_zone0", "48312\n"), ("thermal_zone1", "71500\n")] {
            std::fs::create_dir(thermal.path().join(zone)).unwrap();
            std::fs::write(thermal.path().join(zone).join("temp"), milli).unwrap();
        }
        std::fs::create_dir(thermal.path().join("cooling_device0")).unwrap();
        let mut sampler = Sampler::new(Sources {
            cgroup_dir: None,
            data_dir: data.path().to_path_buf(),
            thermal_dir: thermal.path().to_path_buf(),
        });
        let first = sampler.sample();
        assert!(first.rss_bytes.is_some_and(|b| b > 0), "{first:?}");
        assert_eq!(first.cpu_percent, None, "a rate needs two samples");
        assert_eq!(
            first.temperature_celsius,
            Some(71.5),
            "the hottest zone counts"
        );
        assert!(
            first
                .disk_used_percent
                .is_some_and(|p| (0.0..=100.0).contains(&p)),
            "{first:?}"
        );
        assert!(first.disk_free_bytes.is_some());
        assert_eq!(
            first.memory_percent(),
            first.host_memory_percent,
            "no cgroup: RAM decides"
        );
        let second = sampler.sample();
        assert!(second.cpu_percent.is_some_and(|p| p >= 0.0), "{second:?}");
    }
}
