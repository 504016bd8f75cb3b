//! The generator's random numbers: splitmix64, written out here.
//!
//! Hand-written rather than taken from `rand` on purpose: the stream is part of this
//! crate's contract (the same seed gives the same organisation, byte for byte, in every
//! later version, so fixtures and benchmark inputs can be named by their seed), and
//! `rand`'s generators and range-sampling code have changed their output between
//! releases. splitmix64 is 10 lines, passes BigCrush, and every derived stream below is
//! defined here, so nothing outside this file can shift it.

/// A splitmix64 generator (Steele, Lea and Flood, 2014).
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's output function: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Which independent stream of an organisation's randomness.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Stream {
    /// A client's fixed traits (act, unit, personnummer, flags).
    Profile = 1,
    /// The client's course over time (what happens when).
    Course = 2,
    /// The wording of a client's plan (schedules, life areas).
    Content = 3,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent stream for `(seed, stream, a, b)`: client 42's course does not
    /// depend on how many clients are generated or on anyone else's draws.
    pub(crate) fn derive(seed: u64, stream: Stream, a: u64, b: u64) -> Rng {
        let s = mix(seed ^ mix((stream as u64).wrapping_mul(GAMMA)));
        let s = mix(s ^ mix(a.wrapping_add(GAMMA)));
        Rng::new(mix(s ^ mix(b.wrapping_add(GAMMA.wrapping_mul(3)))))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// Uniform in `0..n` (`n > 0`), by the multiply-shift method; the bias is below
    /// 2^-32 for every `n` used here, and it needs no rejection loop.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        debug_assert!(lo <= hi);
        lo + self.below(u64::from(hi - lo) + 1) as u32
    }

    /// `true` with probability `p` (0 ≤ p ≤ 1).
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        // 53 random bits as a fraction in [0, 1).
        ((self.next_u64() >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_stream() {
        // First outputs of the reference implementation (Vigna's splitmix64.c) for seed 0.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(r.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn below_stays_in_range_and_reaches_both_ends() {
        let mut r = Rng::new(7);
        let draws: Vec<u64> = (0..1000).map(|_| r.below(5)).collect();
        assert!(draws.iter().all(|d| *d < 5));
        assert!(draws.contains(&0) && draws.contains(&4));
    }

    #[test]
    fn derived_streams_differ_by_every_coordinate() {
        let first = |seed, s, a, b| Rng::derive(seed, s, a, b).next_u64();
        let base = first(1, Stream::Course, 2, 3);
        assert_ne!(base, first(2, Stream::Course, 2, 3));
        assert_ne!(base, first(1, Stream::Profile, 2, 3));
        assert_ne!(base, first(1, Stream::Course, 3, 3));
        assert_ne!(base, first(1, Stream::Course, 2, 4));
        assert_eq!(base, first(1, Stream::Course, 2, 3));
    }
}
