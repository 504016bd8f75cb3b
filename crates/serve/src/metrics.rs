//! Prometheus metrics in the text exposition format (version 0.0.4), written by hand:
//! requests by route and status, request latencies as a histogram, records appended to
//! each ledger, and the last verification and checkpoint. Labels are route templates
//! (`/v1/plans/{plan}`), never a request's values.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    appended: u64,
    access_logged: u64,
    last_verification: Option<(i64, bool)>,
    last_checkpoint: Option<(i64, u64)>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let mut m = self.lock();
        *m.requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let h = m.latency.entry(route.to_owned()).or_default();
        let s = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += s;
    }

    pub fn appended(&self, records: u64) {
        self.lock().appended += records;
    }

    pub fn access_logged(&self, entries: u64) {
        self.lock().access_logged += entries;
    }

    pub fn verified(&self, at_unix: i64, ok: bool) {
        self.lock().last_verification = Some((at_unix, ok));
    }

    pub fn checkpointed(&self, at_unix: i64, size: u64) {
        self.lock().last_checkpoint = Some((at_unix, size));
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# HELP planledger_http_requests_total HTTP requests answered, by method, route and status.\n# TYPE planledger_http_requests_total counter"
        );
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(
                o,
                "planledger_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            o,
            "# HELP planledger_http_request_duration_seconds Time to answer a request, by route.\n# TYPE planledger_http_request_duration_seconds histogram"
        );
        for (route, h) in &m.latency {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "planledger_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                o,
                "planledger_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nplanledger_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\nplanledger_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        let _ = writeln!(
            o,
            "# HELP planledger_records_appended_total Records this service appended to the plans' ledger.\n# TYPE planledger_records_appended_total counter\nplanledger_records_appended_total {}",
            m.appended
        );
        let _ = writeln!(
            o,
            "# HELP planledger_access_log_entries_total Reads of personal data this service logged.\n# TYPE planledger_access_log_entries_total counter\nplanledger_access_log_entries_total {}",
            m.access_logged
        );
        if let Some((at, ok)) = m.last_verification {
            let _ = writeln!(
                o,
                "# HELP planledger_last_verification_timestamp_seconds When the service last verified the plans' ledger.\n# TYPE planledger_last_verification_timestamp_seconds gauge\nplanledger_last_verification_timestamp_seconds {at}\n# HELP planledger_last_verification_ok Whether that verification found the ledger intact (1) or not (0).\n# TYPE planledger_last_verification_ok gauge\nplanledger_last_verification_ok {}",
                u8::from(ok)
            );
        }
        if let Some((at, size)) = m.last_checkpoint {
            let _ = writeln!(
                o,
                "# HELP planledger_last_checkpoint_timestamp_seconds When the service last signed a checkpoint.\n# TYPE planledger_last_checkpoint_timestamp_seconds gauge\nplanledger_last_checkpoint_timestamp_seconds {at}\n# HELP planledger_last_checkpoint_size Records the last checkpoint covers.\n# TYPE planledger_last_checkpoint_size gauge\nplanledger_last_checkpoint_size {size}"
            );
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_are_cumulative() {
        let m = Metrics::default();
        m.request("GET", "/health", 200, Duration::from_millis(3));
        m.request("GET", "/health", 200, Duration::from_millis(300));
        let text = m.render();
        assert!(text.contains(
            "planledger_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
