//! The physical limits each figure is reported next to: plain blake3 over the very bytes
//! a verification hashes, and the disk's rate of durable writes.

use std::hint::black_box;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// A run of stored records, copied into one buffer: `ends[i]` is where record `i` ends.
pub struct Records {
    pub buf: Vec<u8>,
    pub ends: Vec<usize>,
}

impl Records {
    pub fn new() -> Records {
        Records {
            buf: Vec::new(),
            ends: Vec::new(),
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.ends.push(self.buf.len());
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }

    /// Splits the records into `parts` contiguous runs of about equal bytes, at record
    /// boundaries: `(first record, end record)` of each.
    fn split(&self, parts: usize) -> Vec<(usize, usize)> {
        let total = self.buf.len();
        let mut out = Vec::with_capacity(parts);
        let mut first = 0;
        for p in 1..=parts {
            let end = if p == parts {
                self.ends.len()
            } else {
                let target = total * p / parts;
                self.ends.partition_point(|&e| e <= target)
            };
            out.push((first, end.max(first)));
            first = end.max(first);
        }
        out
    }

    fn start_of(&self, record: usize) -> usize {
        if record == 0 {
            0
        } else {
            self.ends[record - 1]
        }
    }

    /// b3sum's way: each of `threads` threads hashes one contiguous share of the bytes
    /// with a single call, so blake3 works on many 1 KiB chunks at once (SIMD).
    pub fn hash_big_buffers(&self, threads: usize) -> Duration {
        let parts = self.split(threads);
        let started = Instant::now();
        std::thread::scope(|s| {
            for (first, end) in parts {
                let bytes = &self.buf[self.start_of(first)..self.start_of(end)];
                s.spawn(move || black_box(blake3::hash(black_box(bytes))));
            }
        });
        started.elapsed()
    }

    /// What a chained verifier must do at least: one blake3 call per record, the
    /// records shared out over `threads` threads.
    pub fn hash_per_record(&self, threads: usize) -> Duration {
        let parts = self.split(threads);
        let started = Instant::now();
        std::thread::scope(|s| {
            for (first, end) in parts {
                s.spawn(move || {
                    for i in first..end {
                        let bytes = &self.buf[self.start_of(i)..self.ends[i]];
                        black_box(blake3::hash(black_box(bytes)));
                    }
                });
            }
        });
        started.elapsed()
    }
}

/// Durable writes per second of the disk under `dir`: `n` small appends to a file, each
/// followed by `fdatasync`, the least an acknowledged append costs.
pub fn fsync_rate(dir: &Path, n: usize) -> anyhow::Result<f64> {
    let path = dir.join("fsync-probe.tmp");
    let mut file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let block = [0x5au8; 512];
    let started = Instant::now();
    for _ in 0..n {
        file.write_all(&block)?;
        file.sync_data()?;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lens: &[usize]) -> Records {
        let mut r = Records::new();
        for (i, &n) in lens.iter().enumerate() {
            r.push(&vec![i as u8; n]);
        }
        r
    }

    #[test]
    fn split_covers_every_record_once_in_order() {
        let r = records(&[10, 500, 3, 3, 700, 1, 90, 90, 90]);
        for parts in 1..=12 {
            let split = r.split(parts);
            assert_eq!(split.len(), parts);
            assert_eq!(split[0].0, 0);
            assert_eq!(split.last().unwrap().1, r.ends.len());
            for w in split.windows(2) {
                assert_eq!(w[0].1, w[1].0, "parts must be contiguous");
            }
        }
    }

    #[test]
    fn split_shares_bytes_about_evenly() {
        let r = records(&[100; 1000]);
        let split = r.split(4);
        for (first, end) in split {
            assert_eq!(end - first, 250);
        }
    }
}
