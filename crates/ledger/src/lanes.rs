//! BLAKE3 of many short inputs at once, one input per SIMD lane.
//!
//! A record is about 300 bytes: far less than blake3's 1 KiB chunk, so the `blake3`
//! crate hashes it one block after another, one compression at a time, while over a big
//! buffer it compresses 8 or 16 chunks side by side (AVX2, AVX-512). Its multi-input
//! `hash_many` is not public API. This module is that, a chunk per lane: state word `i`
//! of 16 chunks is one vector of 16 lanes (one AVX-512 register, two AVX2 ones), so
//! every step of the compression is one instruction for all of them.
//!
//! Safe Rust only (the workspace forbids `unsafe`): the lane code is generic over pulp's
//! vector types and always inlined into [`pulp::Arch::dispatch`], which runs it inside a
//! function compiled for the widest vector extension the CPU has (AVX-512, AVX2, else
//! scalar code a lane at a time), after checking at run time that the CPU has it. The
//! same compression on plain arrays (`compress`) hashes the few parent nodes of long
//! inputs and is the fallback for vectors of another width.
//!
//! What is hashed is exactly `blake3::hash(prefix || input)`, the unkeyed hash mode
//! (the only one the format uses): an input of one chunk (up to 1 KiB with the prefix:
//! nearly every record, every Merkle leaf and node) is that chunk's up to 16 blocks,
//! `CHUNK_START` on the first, `CHUNK_END | ROOT` on the last; a longer input (about 6 %
//! of the records of a typical ledger, but 40 % of its bytes) is a lane per chunk, with
//! the chunk's counter and no `ROOT`, then a tree of `PARENT` compressions. Chunks are
//! grouped by their count of blocks and whether they are the root, so that every lane
//! of a batch compresses the same number of blocks with the same flags; only the length
//! of the last block and the counter differ from lane to lane.

use crate::Hash;

/// The BLAKE3 initialisation vector (the SHA-256 IV).
const IV: [u32; 8] = [
    0x6A09_E667,
    0xBB67_AE85,
    0x3C6E_F372,
    0xA54F_F53A,
    0x510E_527F,
    0x9B05_688C,
    0x1F83_D9AB,
    0x5BE0_CD19,
];

const CHUNK_START: u32 = 1;
const CHUNK_END: u32 = 2;
const PARENT: u32 = 4;
const ROOT: u32 = 8;

const BLOCK_LEN: usize = 64;
/// One blake3 chunk: the bytes one lane hashes.
pub const CHUNK_LEN: usize = 1024;
const MAX_BLOCKS: usize = CHUNK_LEN / BLOCK_LEN;

/// The message word order of each of the 7 rounds: the BLAKE3 permutation applied
/// `round` times, computed rather than copied so that it cannot be mistyped.
const SCHEDULE: [[usize; 16]; 7] = {
    const PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
    let mut s = [[0usize; 16]; 7];
    let mut i = 0;
    while i < 16 {
        s[0][i] = i;
        i += 1;
    }
    let mut r = 1;
    while r < 7 {
        let mut i = 0;
        while i < 16 {
            s[r][i] = s[r - 1][PERMUTATION[i]];
            i += 1;
        }
        r += 1;
    }
    s
};

/// Lanes per batch: 16 fills an AVX-512 register per state word; narrower vectors take
/// the batch a vector at a time (measured on AVX-512: 16 lanes hash 18 % faster than 8).
const LANES: usize = 16;

/// One word of the state or message, in every lane.
type Word<const N: usize> = [u32; N];

#[inline(always)]
fn add<const N: usize>(a: &mut Word<N>, b: &Word<N>) {
    for i in 0..N {
        a[i] = a[i].wrapping_add(b[i]);
    }
}

#[inline(always)]
fn xor_rot<const N: usize>(a: &mut Word<N>, b: &Word<N>, by: u32) {
    for i in 0..N {
        a[i] = (a[i] ^ b[i]).rotate_right(by);
    }
}

/// The quarter-round on state words `a`, `b`, `c`, `d` with message words `x`, `y`.
#[inline(always)]
fn g<const N: usize>(v: &mut [Word<N>; 16], [a, b, c, d]: [usize; 4], x: &Word<N>, y: &Word<N>) {
    let (mut va, mut vb, mut vc, mut vd) = (v[a], v[b], v[c], v[d]);
    add(&mut va, &vb);
    add(&mut va, x);
    xor_rot(&mut vd, &va, 16);
    add(&mut vc, &vd);
    xor_rot(&mut vb, &vc, 12);
    add(&mut va, &vb);
    add(&mut va, y);
    xor_rot(&mut vd, &va, 8);
    add(&mut vc, &vd);
    xor_rot(&mut vb, &vc, 7);
    (v[a], v[b], v[c], v[d]) = (va, vb, vc, vd);
}

/// Round `R` of the compression: the columns, then the diagonals. A function per round,
/// so that every message index is a constant.
#[inline(always)]
fn round<const R: usize, const N: usize>(v: &mut [Word<N>; 16], m: &[Word<N>; 16]) {
    let s = &SCHEDULE[R];
    g(v, [0, 4, 8, 12], &m[s[0]], &m[s[1]]);
    g(v, [1, 5, 9, 13], &m[s[2]], &m[s[3]]);
    g(v, [2, 6, 10, 14], &m[s[4]], &m[s[5]]);
    g(v, [3, 7, 11, 15], &m[s[6]], &m[s[7]]);
    g(v, [0, 5, 10, 15], &m[s[8]], &m[s[9]]);
    g(v, [1, 6, 11, 12], &m[s[10]], &m[s[11]]);
    g(v, [2, 7, 8, 13], &m[s[12]], &m[s[13]]);
    g(v, [3, 4, 9, 14], &m[s[14]], &m[s[15]]);
}

/// Compresses one block in every lane: `cv` becomes the chaining value after it (for
/// the last block of a chunk with `ROOT`, the first 32 bytes of the hash), `counter`
/// each lane's chunk index.
#[inline(always)]
fn compress<const N: usize>(
    cv: &mut [Word<N>; 8],
    m: &[Word<N>; 16],
    block_len: &Word<N>,
    counter: &Word<N>,
    flags: u32,
) {
    let mut v = [[0u32; N]; 16];
    v[..8].copy_from_slice(cv);
    for i in 0..4 {
        v[8 + i] = [IV[i]; N];
    }
    // The chunk counter: its low word (its high word, v[13], is 0).
    v[12] = *counter;
    v[14] = *block_len;
    v[15] = [flags; N];
    round::<0, N>(&mut v, m);
    round::<1, N>(&mut v, m);
    round::<2, N>(&mut v, m);
    round::<3, N>(&mut v, m);
    round::<4, N>(&mut v, m);
    round::<5, N>(&mut v, m);
    round::<6, N>(&mut v, m);
    let (lo, hi) = v.split_at(8);
    for (c, (lo, hi)) in cv.iter_mut().zip(lo.iter().zip(hi)) {
        for l in 0..N {
            c[l] = lo[l] ^ hi[l];
        }
    }
}

/// Rotates each lane of `x` right by `n` bits (shifts and an or, which the compiler
/// makes one rotate where the CPU has one).
#[inline(always)]
fn rotr<S: pulp::Simd>(simd: S, x: S::u32s, n: u32) -> S::u32s {
    simd.or_u32s(
        simd.wrapping_dyn_shr_u32s(x, simd.splat_u32s(n)),
        simd.wrapping_dyn_shl_u32s(x, simd.splat_u32s(32 - n)),
    )
}

/// [`compress`] on `S`'s vectors, a vector of lanes at a time: the state is sixteen
/// vector values (not an array in memory), so it stays in registers.
#[inline(always)]
fn compress_simd<S: pulp::Simd>(
    simd: S,
    cv: &mut [Word<LANES>; 8],
    m: &[Word<LANES>; 16],
    block_len: &Word<LANES>,
    counter: &Word<LANES>,
    flags: u32,
) {
    let width = core::mem::size_of::<S::u32s>() / 4;
    if width == 0 || width > LANES || LANES % width != 0 {
        return compress(cv, m, block_len, counter, flags);
    }
    for group in 0..LANES / width {
        let lanes = group * width..(group + 1) * width;
        let load = |w: &Word<LANES>| S::as_simd_u32s(&w[lanes.clone()]).0[0];
        let msg: [S::u32s; 16] = std::array::from_fn(|i| load(&m[i]));
        let mut v: [S::u32s; 16] = [
            load(&cv[0]),
            load(&cv[1]),
            load(&cv[2]),
            load(&cv[3]),
            load(&cv[4]),
            load(&cv[5]),
            load(&cv[6]),
            load(&cv[7]),
            simd.splat_u32s(IV[0]),
            simd.splat_u32s(IV[1]),
            simd.splat_u32s(IV[2]),
            simd.splat_u32s(IV[3]),
            load(counter),
            simd.splat_u32s(0),
            load(block_len),
            simd.splat_u32s(flags),
        ];
        macro_rules! g {
            ($a:literal, $b:literal, $c:literal, $d:literal, $x:expr, $y:expr) => {
                v[$a] = simd.add_u32s(simd.add_u32s(v[$a], v[$b]), $x);
                v[$d] = rotr(simd, simd.xor_u32s(v[$d], v[$a]), 16);
                v[$c] = simd.add_u32s(v[$c], v[$d]);
                v[$b] = rotr(simd, simd.xor_u32s(v[$b], v[$c]), 12);
                v[$a] = simd.add_u32s(simd.add_u32s(v[$a], v[$b]), $y);
                v[$d] = rotr(simd, simd.xor_u32s(v[$d], v[$a]), 8);
                v[$c] = simd.add_u32s(v[$c], v[$d]);
                v[$b] = rotr(simd, simd.xor_u32s(v[$b], v[$c]), 7);
            };
        }
        // Seven rounds, unrolled so that every message index is a constant.
        macro_rules! rounds {
            ($($r:literal)*) => {$(
                let s = &SCHEDULE[$r];
                g!(0, 4, 8, 12, msg[s[0]], msg[s[1]]);
                g!(1, 5, 9, 13, msg[s[2]], msg[s[3]]);
                g!(2, 6, 10, 14, msg[s[4]], msg[s[5]]);
                g!(3, 7, 11, 15, msg[s[6]], msg[s[7]]);
                g!(0, 5, 10, 15, msg[s[8]], msg[s[9]]);
                g!(1, 6, 11, 12, msg[s[10]], msg[s[11]]);
                g!(2, 7, 8, 13, msg[s[12]], msg[s[13]]);
                g!(3, 4, 9, 14, msg[s[14]], msg[s[15]]);
            )*};
        }
        rounds!(0 1 2 3 4 5 6);
        for i in 0..8 {
            S::as_mut_simd_u32s(&mut cv[i][lanes.clone()]).0[0] = simd.xor_u32s(v[i], v[i + 8]);
        }
    }
}

/// A lane's message: its chunk of `prefix || input`, then zeros to the end of its last
/// block. Each chunk is copied once, and every block is then read at a fixed size
/// (copies of a variable length, block by block, cost more than the compressions did).
const SCRATCH: usize = CHUNK_LEN + BLOCK_LEN;

/// One chunk to compress: chunk `chunk` of `prefix || inputs[input]`.
#[derive(Debug, Clone, Copy, Default)]
struct Job {
    input: usize,
    chunk: usize,
}

/// Copies bytes `start..end` of `prefix || input` to the start of `dst`.
#[inline(always)]
fn copy_range(prefix: &[u8], input: &[u8], start: usize, end: usize, dst: &mut [u8]) {
    let p = prefix.len();
    if start < p {
        let n = end.min(p) - start;
        dst[..n].copy_from_slice(&prefix[start..start + n]);
    }
    let (from, to) = (start.max(p) - p, end.max(p) - p);
    let at = start.max(p) - start;
    dst[at..at + (to - from)].copy_from_slice(&input[from..to]);
}

/// Compresses `N` chunks of `blocks` blocks each (chunk `jobs[l]` in lane `l`), with
/// `ROOT` on the last block when `root` (an input of one chunk): each lane's chaining
/// value, or with `root` the hash's words. `scratch` is any buffer.
#[inline(always)]
fn hash_batch<S: pulp::Simd, B: AsRef<[u8]>>(
    simd: S,
    prefix: &[u8],
    inputs: &[B],
    jobs: [Job; LANES],
    blocks: usize,
    root: bool,
    scratch: &mut [[u8; SCRATCH]; LANES],
) -> [[u32; 8]; LANES] {
    const N: usize = LANES;
    let mut len = [0u32; N];
    let mut counter = [0u32; N];
    for l in 0..N {
        let Job { input, chunk } = jobs[l];
        let input = inputs[input].as_ref();
        let start = chunk * CHUNK_LEN;
        let end = (prefix.len() + input.len()).min(start + CHUNK_LEN);
        copy_range(prefix, input, start, end, &mut scratch[l]);
        scratch[l][end - start..end - start + BLOCK_LEN].fill(0);
        // The length of the last block: 1..=64 (0 for the empty input).
        len[l] = (end - start - (blocks - 1) * BLOCK_LEN) as u32;
        counter[l] = u32::try_from(chunk).expect("inputs of less than 4 TiB");
    }
    let mut cv = [[0u32; N]; 8];
    for i in 0..8 {
        cv[i] = [IV[i]; N];
    }
    let mut m = [[0u32; N]; 16];
    for b in 0..blocks {
        // Transposed: word w of every lane's block side by side.
        for (w, word) in m.iter_mut().enumerate() {
            let at = b * BLOCK_LEN + 4 * w;
            for l in 0..N {
                let s = &scratch[l];
                word[l] = u32::from_le_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]]);
            }
        }
        let mut flags = 0;
        if b == 0 {
            flags |= CHUNK_START;
        }
        if b + 1 == blocks {
            flags |= CHUNK_END;
            if root {
                flags |= ROOT;
            }
        }
        let block_len = if b + 1 == blocks {
            len
        } else {
            [BLOCK_LEN as u32; N]
        };
        compress_simd(simd, &mut cv, &m, &block_len, &counter, flags);
    }
    std::array::from_fn(|l| std::array::from_fn(|i| cv[i][l]))
}

/// The hash (little-endian bytes) of a root's words.
fn to_hash(words: &[u32; 8]) -> Hash {
    let mut h = Hash::ZERO;
    for (i, w) in words.iter().enumerate() {
        h.0[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    h
}

/// The chaining value of the parent of `left` and `right`, or with `root` the words of
/// the input's hash.
fn parent(left: &[u32; 8], right: &[u32; 8], root: bool) -> [u32; 8] {
    let mut m = [[0u32; 1]; 16];
    for i in 0..8 {
        m[i] = [left[i]];
        m[8 + i] = [right[i]];
    }
    let mut cv = IV.map(|w| [w]);
    let flags = PARENT | if root { ROOT } else { 0 };
    compress(&mut cv, &m, &[BLOCK_LEN as u32], &[0], flags);
    cv.map(|[w]| w)
}

/// The root of an input's tree from its chunks' chaining values (at least two): the
/// left subtree holds the largest power of two of chunks that leaves one or more for the
/// right, as BLAKE3 builds it.
fn merge(cvs: &[[u32; 8]], root: bool) -> [u32; 8] {
    if cvs.len() == 1 {
        return cvs[0];
    }
    let left = 1usize << (usize::BITS - 1 - (cvs.len() - 1).leading_zeros());
    parent(
        &merge(&cvs[..left], false),
        &merge(&cvs[left..], false),
        root,
    )
}

/// Chunks of `prefix || input`, `len` bytes: the empty input is one (empty) chunk.
fn chunks_of(len: usize) -> usize {
    len.div_ceil(CHUNK_LEN).max(1)
}

/// A class of jobs: the same count of blocks, and whether the chunk is its input's
/// root (the only chunk), so that a batch of lanes compresses alike.
const CLASSES: usize = 2 * MAX_BLOCKS;

fn class(blocks: usize, root: bool) -> usize {
    (blocks - 1) + if root { MAX_BLOCKS } else { 0 }
}

/// `blake3::hash(prefix || input)` for every input, into `out` (same length), hashed
/// on the calling thread 16 chunks at a time: an input of one chunk (up to
/// [`CHUNK_LEN`] bytes with the prefix) takes one lane; a longer one a lane per chunk,
/// and its tree of chunks is then merged (a parent compression per chunk, one at a
/// time; records that long are few).
pub fn hash_many<B: AsRef<[u8]>>(prefix: &[u8], inputs: &[B], out: &mut [Hash]) {
    hash_many_on(prefix, inputs, out, |batches| {
        pulp::Arch::new().dispatch(batches)
    });
}

/// [`hash_many`], with the lanes run by `run` (tests run each vector extension this
/// way, not only the widest).
fn hash_many_on<B: AsRef<[u8]>>(
    prefix: &[u8],
    inputs: &[B],
    out: &mut [Hash],
    run: impl FnOnce(Batches<'_, B>),
) {
    assert_eq!(inputs.len(), out.len(), "one output per input");
    // Each input's first chaining value in `cvs`, for inputs of several chunks.
    let mut first_cv = vec![usize::MAX; inputs.len()];
    let mut cv_count = 0;
    // The jobs in class order (a counting sort).
    let mut count = [0usize; CLASSES + 1];
    let job_classes = |i: usize, b: &B| {
        let total = prefix.len() + b.as_ref().len();
        let chunks = chunks_of(total);
        (0..chunks).map(move |c| {
            let len = total.min((c + 1) * CHUNK_LEN) - c * CHUNK_LEN;
            let blocks = len.div_ceil(BLOCK_LEN).max(1);
            (Job { input: i, chunk: c }, class(blocks, chunks == 1))
        })
    };
    for (i, b) in inputs.iter().enumerate() {
        let chunks = chunks_of(prefix.len() + b.as_ref().len());
        if chunks > 1 {
            first_cv[i] = cv_count;
            cv_count += chunks;
        }
        for (_, c) in job_classes(i, b) {
            count[c + 1] += 1;
        }
    }
    for c in 1..count.len() {
        count[c] += count[c - 1];
    }
    let starts = count;
    let mut jobs = vec![Job::default(); starts[CLASSES]];
    for (i, b) in inputs.iter().enumerate() {
        for (job, c) in job_classes(i, b) {
            jobs[count[c]] = job;
            count[c] += 1;
        }
    }
    let mut cvs = vec![[0u32; 8]; cv_count];
    run(Batches {
        prefix,
        inputs,
        jobs: &jobs,
        starts: &starts,
        first_cv: &first_cv,
        out,
        cvs: &mut cvs,
    });
    for (i, &first) in first_cv.iter().enumerate() {
        if first != usize::MAX {
            let chunks = chunks_of(prefix.len() + inputs[i].as_ref().len());
            out[i] = to_hash(&merge(&cvs[first..first + chunks], true));
        }
    }
}

/// The jobs of [`hash_many`], by class, for [`pulp::Arch::dispatch`]: its `with_simd` is
/// compiled once per vector extension, and everything it calls is inlined into it
/// (`inline(always)`), so that the lane code is vectorised for each.
struct Batches<'a, B> {
    prefix: &'a [u8],
    inputs: &'a [B],
    jobs: &'a [Job],
    starts: &'a [usize; CLASSES + 1],
    first_cv: &'a [usize],
    /// The hashes of inputs of one chunk.
    out: &'a mut [Hash],
    /// The chunks' chaining values of longer inputs.
    cvs: &'a mut [[u32; 8]],
}

impl<B: AsRef<[u8]>> pulp::WithSimd for Batches<'_, B> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Batches {
            prefix,
            inputs,
            jobs,
            starts,
            first_cv,
            out,
            cvs,
        } = self;
        let mut scratch = Box::new([[0u8; SCRATCH]; LANES]);
        for root in [false, true] {
            for blocks in 1..=MAX_BLOCKS {
                let c = class(blocks, root);
                for batch in jobs[starts[c]..starts[c + 1]].chunks(LANES) {
                    // A short last batch fills its spare lanes with its first job.
                    let lanes: [Job; LANES] =
                        std::array::from_fn(|l| batch[l.min(batch.len() - 1)]);
                    let words = hash_batch(simd, prefix, inputs, lanes, blocks, root, &mut scratch);
                    for (job, words) in batch.iter().zip(&words) {
                        if root {
                            out[job.input] = to_hash(words);
                        } else {
                            cvs[first_cv[job.input] + job.chunk] = *words;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(prefix: &[u8], input: &[u8]) -> Hash {
        let mut h = blake3::Hasher::new();
        h.update(prefix);
        h.update(input);
        h.finalize().into()
    }

    /// `hash_many` on every vector extension this CPU has, not only the widest: what
    /// the dispatch picks on another machine.
    fn on_every_isa<B: AsRef<[u8]>>(prefix: &[u8], inputs: &[B]) -> Vec<Vec<Hash>> {
        use pulp::Simd;
        let mut outs = Vec::new();
        let mut out = vec![Hash::ZERO; inputs.len()];
        hash_many(prefix, inputs, &mut out);
        outs.push(out);
        let mut out = vec![Hash::ZERO; inputs.len()];
        hash_many_on(prefix, inputs, &mut out, |b| {
            Simd::vectorize(pulp::Scalar, b)
        });
        outs.push(out);
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            if let Some(v3) = pulp::x86::V3::try_new() {
                let mut out = vec![Hash::ZERO; inputs.len()];
                hash_many_on(prefix, inputs, &mut out, |b| Simd::vectorize(v3, b));
                outs.push(out);
            }
            if let Some(v4) = pulp::x86::V4::try_new() {
                let mut out = vec![Hash::ZERO; inputs.len()];
                hash_many_on(prefix, inputs, &mut out, |b| Simd::vectorize(v4, b));
                outs.push(out);
            }
        }
        outs
    }

    fn check(prefix: &[u8], inputs: &[Vec<u8>]) {
        for out in on_every_isa(prefix, inputs) {
            for (input, h) in inputs.iter().zip(&out) {
                assert_eq!(
                    *h,
                    reference(prefix, input),
                    "prefix of {} bytes, input of {} bytes",
                    prefix.len(),
                    input.len()
                );
            }
        }
    }

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Every length class: empty, one byte, each side of every block boundary, a whole
    /// chunk, and several, with the prefixes the format uses.
    #[test]
    fn every_length_class_matches_the_blake3_crate() {
        let mut lens = vec![0, 1, 2, 31, 32, 33];
        for b in 1..=17 {
            lens.extend([64 * b - 1, 64 * b, 64 * b + 1]);
        }
        // Several chunks: trees of two to a hundred chunks, balanced or not.
        lens.extend([
            2047, 2048, 2049, 3071, 3072, 3073, 4096, 4097, 5000, 9000, 100_000,
        ]);
        for prefix in [&b""[..], &[0u8], &[1u8], crate::record::RECORD_DOMAIN] {
            // Alone, and all together in one call (mixed batches, every class).
            for &len in &lens {
                check(prefix, &[bytes(len, 7)]);
            }
            let all: Vec<Vec<u8>> = lens
                .iter()
                .enumerate()
                .map(|(k, &len)| bytes(len, k as u8))
                .collect();
            check(prefix, &all);
        }
    }

    /// Every input length of one chunk, each in a full batch of lanes and in a short one.
    #[test]
    fn every_length_up_to_a_chunk_in_full_and_short_batches() {
        for len in 0..=CHUNK_LEN {
            let full: Vec<Vec<u8>> = (0..LANES + 3).map(|k| bytes(len, k as u8)).collect();
            check(b"", &full);
            check(crate::record::RECORD_DOMAIN, &full[..1]);
        }
    }

    #[test]
    fn no_inputs_no_outputs() {
        hash_many::<&[u8]>(b"", &[], &mut []);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_inputs_hash_as_the_blake3_crate_does(
            prefix in proptest::collection::vec(any::<u8>(), 0..80),
            inputs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3300), 0..40),
        ) {
            for out in on_every_isa(&prefix, &inputs) {
                for (input, h) in inputs.iter().zip(&out) {
                    prop_assert_eq!(*h, reference(&prefix, input));
                }
            }
        }
    }
}
