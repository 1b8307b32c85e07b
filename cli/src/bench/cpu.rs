//! The servers' CPU time per operation (a delivery, a send), read from `/proc/<pid>/stat`
//! on Linux when their processes are known (elsewhere the figures are left out): a figure
//! that holds still when the load generator shares their cores, where throughput and
//! latency move with everything else running.

use std::time::Duration;

use serde_json::{Value, json};

/// A process's CPU time so far (user and system, all its threads), if it can be read.
#[cfg(target_os = "linux")]
pub(crate) fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (in parentheses, and it may hold spaces) come the state, ...,
    // and then utime and stime, the 12th and 13th fields, in clock ticks.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / rustix::param::clock_ticks_per_second() as f64))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn cpu_time(_pid: u32) -> Option<Duration> {
    None
}

/// The relay's and the controller's CPU time at one moment.
#[derive(Clone, Copy)]
pub(crate) struct ServerCpu {
    relay: Option<Duration>,
    controller: Option<Duration>,
}

impl ServerCpu {
    pub(crate) fn read(relay_pid: Option<u32>, controller_pid: Option<u32>) -> ServerCpu {
        ServerCpu {
            relay: relay_pid.and_then(cpu_time),
            controller: controller_pid.and_then(cpu_time),
        }
    }

    /// Each server's CPU from `self` until `later`, per operation.
    pub(crate) fn per_operation(&self, later: &ServerCpu, operations: u64) -> CpuPerOperation {
        CpuPerOperation {
            relay_us: micros_per(self.relay, later.relay, operations),
            controller_us: micros_per(self.controller, later.controller, operations),
        }
    }
}

/// Microseconds of CPU per operation between two readings of one process.
pub(crate) fn micros_per(
    before: Option<Duration>,
    after: Option<Duration>,
    operations: u64,
) -> Option<f64> {
    let spent = after?.checked_sub(before?)?;
    (operations > 0).then(|| spent.as_secs_f64() * 1e6 / operations as f64)
}

/// Microseconds of each server's CPU per operation, where known.
#[derive(Clone, Copy, Default)]
pub(crate) struct CpuPerOperation {
    relay_us: Option<f64>,
    controller_us: Option<f64>,
}

impl CpuPerOperation {
    /// The table's headers for [`CpuPerOperation::cells`].
    pub(crate) const HEADER: [&'static str; 2] = ["RELAY CPU", "CONTROLLER CPU"];

    /// Each server's CPU per operation, as table cells.
    pub(crate) fn cells(&self) -> Vec<String> {
        vec![micros(self.relay_us), micros(self.controller_us)]
    }

    /// The controller's, where known.
    pub(crate) fn controller_us(&self) -> Option<f64> {
        self.controller_us
    }

    /// Both servers together, where both are known.
    pub(crate) fn total_us(&self) -> Option<f64> {
        Some(self.relay_us? + self.controller_us?)
    }

    pub(crate) fn json(&self) -> Value {
        json!({ "relay_us": self.relay_us, "controller_us": self.controller_us })
    }
}

/// `12.3 µs`, or `-` when unknown.
pub(crate) fn micros(us: Option<f64>) -> String {
    us.map_or_else(|| "-".into(), |us| format!("{us:.1} µs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_has_spent_cpu_and_a_gone_one_has_none() {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(50) {
            std::hint::black_box(start);
        }
        assert!(cpu_time(std::process::id()).is_some_and(|spent| spent > Duration::ZERO));
        assert_eq!(cpu_time(u32::MAX), None);
    }

    #[test]
    fn per_operation_divides_what_each_server_spent() {
        let at = |relay_ms, controller_ms: Option<u64>| ServerCpu {
            relay: Some(Duration::from_millis(relay_ms)),
            controller: controller_ms.map(Duration::from_millis),
        };
        let cost = at(1_000, Some(500)).per_operation(&at(1_030, Some(502)), 1_000);
        assert_eq!(cost.cells(), ["30.0 µs", "2.0 µs"]);
        let unknown = at(1_000, None).per_operation(&at(1_030, None), 0);
        assert_eq!(unknown.cells(), ["-", "-"]);
    }
}
