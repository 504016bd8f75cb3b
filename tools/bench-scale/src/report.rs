//! The figures of one run as a Markdown table, each next to its limit, and the machine
//! they were measured on.

use std::fmt::Write as _;
use std::time::Duration;

/// One line of the table.
pub struct Row {
    pub what: String,
    pub figure: String,
    pub limit: String,
    /// figure / limit, where both are rates of the same thing.
    pub ratio: Option<f64>,
}

#[derive(Default)]
pub struct Report {
    sections: Vec<(String, Vec<Row>)>,
    notes: Vec<String>,
}

impl Report {
    pub fn section(&mut self, title: &str) {
        self.sections.push((title.to_owned(), Vec::new()));
    }

    pub fn row(&mut self, what: impl Into<String>, figure: impl Into<String>) {
        self.push(Row {
            what: what.into(),
            figure: figure.into(),
            limit: String::new(),
            ratio: None,
        });
    }

    pub fn against(
        &mut self,
        what: impl Into<String>,
        figure: impl Into<String>,
        limit: impl Into<String>,
        ratio: f64,
    ) {
        self.push(Row {
            what: what.into(),
            figure: figure.into(),
            limit: limit.into(),
            ratio: Some(ratio),
        });
    }

    fn push(&mut self, row: Row) {
        eprintln!(
            "  {}: {}{}",
            row.what,
            row.figure,
            match row.ratio {
                Some(r) => format!("  ({:.0} % of {})", r * 100.0, row.limit),
                None => String::new(),
            }
        );
        if self.sections.is_empty() {
            self.section("");
        }
        self.sections.last_mut().expect("one section").1.push(row);
    }

    pub fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        eprintln!("  note: {text}");
        self.notes.push(text);
    }

    pub fn markdown(&self, machine: &str, command: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{machine}\n\nCommand: `{command}`\n");
        for (title, rows) in &self.sections {
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {title}\n");
            let _ = writeln!(out, "| what | figure | limit (same run) | ratio |");
            let _ = writeln!(out, "|---|---:|---:|---:|");
            for r in rows {
                let ratio = r
                    .ratio
                    .map_or(String::new(), |x| format!("{:.0} %", x * 100.0));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    r.what, r.figure, r.limit, ratio
                );
            }
            out.push('\n');
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "Notes:\n");
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

/// The machine, as BENCHMARKS.md states it: cores, CPU model, SIMD, memory, load.
pub fn machine(threads: usize) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    let flags = field("flags");
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    let simd: Vec<&str> = ["sse4_1", "avx2", "avx512f", "avx512vl"]
        .into_iter()
        .filter(|f| has(f))
        .collect();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or("unknown".to_owned(), |kb| {
            format!("{:.0} GiB", kb as f64 / 1048576.0)
        });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "Machine: {cores} cores (nproc), CPU \"{}\", SIMD {}, {mem} RAM; {threads} threads used; load average at start {}",
        field("model name"),
        if simd.is_empty() {
            "none found".to_owned()
        } else {
            simd.join(" ")
        },
        load()
    )
}

/// The 1-minute load average: how noisy the machine was.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// Resident memory of this process now (VmRSS), in bytes.
pub fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// `1234567.8` as `1,234,568`.
pub fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn per_sec(count: u64, t: Duration) -> f64 {
    count as f64 / t.as_secs_f64()
}

pub fn mb_per_sec(bytes: u64, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64()
}

/// A latency for people: µs below a millisecond, ms below a second, s beyond.
pub fn latency(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// Median and 99th percentile (nearest rank) of `samples`.
pub fn median_p99(samples: &mut [Duration]) -> (Duration, Duration) {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_unstable();
    let rank = |p: f64| {
        let r = (p * samples.len() as f64).ceil() as usize;
        samples[r.clamp(1, samples.len()) - 1]
    };
    (rank(0.5), rank(0.99))
}

/// The median of a few repetitions (upper median for an even count).
pub fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort_unstable();
    xs[xs.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits_by_three() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.8), "1,234,568");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut xs: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let (med, p99) = median_p99(&mut xs);
        assert_eq!(med, Duration::from_millis(50));
        assert_eq!(p99, Duration::from_millis(99));
        let mut one = vec![Duration::from_millis(7)];
        assert_eq!(
            median_p99(&mut one),
            (Duration::from_millis(7), Duration::from_millis(7))
        );
    }
}
