//! Where the CPU goes: processor time each kind of process spent during a run, read from
//! `/proc` before and after it. Unlike wall time this hardly moves with the machine's other
//! load, so it says which part of a stack costs what.

use std::collections::BTreeMap;

/// The unit of `/proc/<pid>/stat`'s times: USER_HZ, 100 on every Linux this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// Processor ticks by process name (`/proc/<pid>/comm`, as the kernel cuts it to 15 bytes).
pub struct Usage(BTreeMap<u32, (String, u64)>);

impl Usage {
    pub fn now() -> Usage {
        let mut by_pid = BTreeMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Usage(by_pid);
        };
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // `pid (comm) state ...`: the name may hold spaces and parentheses.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
            // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
            let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
            if let (Some(user), Some(system)) = (ticks(11), ticks(12)) {
                by_pid.insert(pid, (stat[open + 1..close].to_string(), user + system));
            }
        }
        Usage(by_pid)
    }

    /// Seconds of processor time spent since `before`, by name, for processes alive at both
    /// reads.
    pub fn since(&self, before: &Usage) -> BTreeMap<String, f64> {
        let mut spent: BTreeMap<String, f64> = BTreeMap::new();
        for (pid, (name, ticks)) in &self.0 {
            let Some((old_name, old)) = before.0.get(pid) else {
                continue;
            };
            if old_name == name && ticks > old {
                *spent.entry(name.clone()).or_default() += (ticks - old) as f64 / TICKS_PER_SECOND;
            }
        }
        spent
    }
}

/// One line: milliseconds of processor time per `unit` for each name in `parts`
/// (label, process name), and their sum.
pub fn line(spent: &BTreeMap<String, f64>, units: usize, unit: &str, parts: &[(&str, &str)]) {
    let per = |name: &str| spent.get(name).copied().unwrap_or(0.0) * 1000.0 / units as f64;
    let shown: Vec<String> = parts
        .iter()
        .map(|(label, name)| format!("{label} {:.2}", per(name)))
        .collect();
    let total: f64 = parts.iter().map(|(_, name)| per(name)).sum();
    println!(
        "    CPU ms per {unit}: {} (sum {total:.2})",
        shown.join(", ")
    );
}
