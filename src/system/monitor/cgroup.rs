//! The memory figures of a cgroup v2 directory: use, limits and pressure (PSI).

use std::path::{Path, PathBuf};

use procfs::FromRead;

/// Root of the unified (v2) cgroup hierarchy.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One reading of a cgroup's memory files; limits are `None` when set to `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgroupMemory {
    pub current: u64,
    pub high: Option<u64>,
    pub max: Option<u64>,
    /// Share of the last 10 s in which some task waited for memory, in percent.
    pub pressure_some_avg10: Option<f64>,
}

impl CgroupMemory {
    /// The limit deckd should stay under: `memory.high` (throttling starts) before `memory.max` (OOM kill).
    pub fn limit(&self) -> Option<u64> {
        self.high.or(self.max).filter(|&l| l > 0)
    }

    /// Use as a percentage of [`Self::limit`].
    pub fn percent_of_limit(&self) -> Option<f64> {
        self.limit()
            .map(|limit| self.current as f64 * 100.0 / limit as f64)
    }
}

/// This process's own cgroup v2 directory, if the unified hierarchy is mounted there.
pub fn own_dir() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let relative = text.lines().find_map(|line| line.strip_prefix("0::"))?;
    let dir = Path::new(CGROUP_ROOT).join(relative.trim_start_matches('/'));
    dir.join("memory.current").is_file().then_some(dir)
}

/// Reads `memory.current`, `memory.high`, `memory.max` and `memory.pressure` under `dir`.
pub fn read(dir: &Path) -> Option<CgroupMemory> {
    let current = read_bytes(&dir.join("memory.current"))??;
    let pressure = procfs::MemoryPressure::from_file(dir.join("memory.pressure")).ok();
    Some(CgroupMemory {
        current,
        high: read_bytes(&dir.join("memory.high")).flatten(),
        max: read_bytes(&dir.join("memory.max")).flatten(),
        pressure_some_avg10: pressure.map(|p| f64::from(p.some.avg10)),
    })
}

/// `None` if the file is missing or unreadable; `Some(None)` for `max` (no limit).
fn read_bytes(path: &Path) -> Option<Option<u64>> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    if text == "max" {
        return Some(None);
    }
    text.parse().ok().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_files_and_prefers_memory_high() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), None, "no memory.current, no reading");
        std::fs::write(dir.path().join("memory.current"), "900\n").unwrap();
        std::fs::write(dir.path().join("memory.max"), "max\n").unwrap();
        let m = read(dir.path()).unwrap();
        assert_eq!(
            (m.current, m.limit(), m.pressure_some_avg10),
            (900, None, None)
        );
        std::fs::write(dir.path().join("memory.max"), "1000\n").unwrap();
        assert_eq!(read(dir.path()).unwrap().percent_of_limit(), Some(90.0));
        std::fs::write(dir.path().join("memory.high"), "1800\n").unwrap();
        std::fs::write(
            dir.path().join("memory.pressure"),
            "some avg10=12.50 avg60=3.00 avg300=1.00 total=12345\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=100\n",
        )
        .unwrap();
        let m = read(dir.path()).unwrap();
        assert_eq!(
            (m.limit(), m.percent_of_limit(), m.pressure_some_avg10),
            (Some(1800), Some(50.0), Some(12.5))
        );
    }
}
