//! CPU time of a process, from `/proc/<pid>/stat` (user + system time of all its
//! threads, in clock ticks).

use std::sync::OnceLock;
use std::time::Duration;

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked).
fn ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
            .filter(|ticks| *ticks > 0)
            .unwrap_or(100)
    })
}

/// The user + system CPU time `pid` has used so far (`None`: no such process, or not
/// Linux).
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat).map(|ticks| Duration::from_secs_f64(ticks as f64 / ticks_per_second() as f64))
}

/// The CPU time used so far by every process whose command name is `name` (e.g. the
/// `postgres` server and backends; processes that ended meanwhile are not counted).
pub fn processes_named(name: &str) -> Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Duration::ZERO };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == name))
        .filter_map(process_cpu)
        .sum()
}

/// The CPU time the whole machine spent busy so far (all cores: user, nice, system,
/// interrupts, steal), from the first line of `/proc/stat`.
pub fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect();
    // user nice system idle iowait irq softirq steal
    let busy: u64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|i| fields.get(*i)).sum();
    Some(Duration::from_secs_f64(busy as f64 / ticks_per_second() as f64))
}

/// Waits (at most `patience`) until the machine has been nearly idle for a second
/// (under a quarter of a core busy), so a measurement does not start in the middle of
/// someone else's build. Returns the last second's load, in cores.
pub async fn wait_quiet(patience: Duration) -> f64 {
    let start = std::time::Instant::now();
    loop {
        let before = machine_busy();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let load = before.zip(machine_busy()).map_or(0.0, |(b, a)| a.saturating_sub(b).as_secs_f64());
        if load < 0.25 || start.elapsed() >= patience {
            return load;
        }
    }
}

/// utime + stime (fields 14 and 15) of a `stat` line, in ticks. The command name
/// (field 2) is in parentheses and may contain spaces, so fields are counted after the
/// last `)`.
fn parse_stat(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state).
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime() {
        let line = "4242 (callhook load) S 1 4242 4242 0 -1 4194560 500 0 0 0 120 30 0 0 20 0 3 0 100 0 0";
        assert_eq!(parse_stat(line), Some(150));
        assert!(process_cpu(std::process::id()).is_some());
    }
}
