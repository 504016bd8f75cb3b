//! The Merkle tree over record hashes, in the style of RFC 9162 §2.1 with blake3:
//! `leaf = blake3(0x00 || record_hash)`, `node = blake3(0x01 || left || right)`, and the
//! root of the empty tree is `blake3("")`.
//!
//! [`Frontier`] appends incrementally: it keeps only the roots of the perfect subtrees
//! that make up the tree (at most 64 hashes), and reports each perfect-subtree node as
//! it completes so that a store can keep them for proofs without holding the tree in
//! memory.

use crate::Hash;

/// A node of a perfect subtree: `level` 0 is a leaf, and node `(level, index)` covers
/// leaves `index << level .. (index + 1) << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

/// The node ids of the peaks of a tree of `size` leaves: the roots of the perfect
/// subtrees it is made of, one per set bit of `size`, highest level (leftmost subtree)
/// first, the order of [`Frontier::peaks`]. [`peak_ids_from`] walks a range that does
/// not start at leaf 0.
///
/// A verifier that trusts a stored tree of `size` leaves reads these nodes to rebuild
/// its [`Frontier`] with [`Frontier::from_peaks`]; a store checks its head's peaks
/// against them.
pub fn peak_ids(size: u64) -> impl Iterator<Item = NodeId> + Clone {
    peak_ids_from(0, size)
}

/// The peaks of the range of `len` leaves starting at leaf `start`, highest level
/// first, as [`peak_ids`] gives them for a range from leaf 0. `start` must be a
/// multiple of the largest power of two in `len` (true of every range the RFC 9162
/// proof recursions visit): only then is each subtree of the walk aligned to its size,
/// that is, a node of the tree.
pub fn peak_ids_from(start: u64, len: u64) -> impl Iterator<Item = NodeId> + Clone {
    debug_assert!(
        len == 0 || start.trailing_zeros() >= 63 - len.leading_zeros(),
        "leaf {start} does not start a range of {len} leaves made of perfect subtrees"
    );
    // Each set bit of `len`, highest first, is a perfect subtree that starts where the
    // one before it ended.
    let mut at = start;
    (0..64u8)
        .rev()
        .filter(move |level| len & (1u64 << level) != 0)
        .map(move |level| {
            let id = NodeId {
                level,
                index: at >> level,
            };
            at += 1u64 << level;
            id
        })
}

/// The first byte of a leaf's hash input (RFC 9162's domain separation).
const LEAF_PREFIX: u8 = 0x00;
/// The first byte of an interior node's hash input.
const NODE_PREFIX: u8 = 0x01;

/// Records (or nodes) one rayon task hashes in SIMD lanes: enough to fill the lanes of
/// every length class, few enough to share a chunk of records among the cores.
pub(crate) const LANE_TASK: usize = 1024;

/// The Merkle leaf hash of each of `records` (stored record bytes), hashed in SIMD lanes
/// on every core (rayon): for a reader that recomputes the tree of many records at once.
pub fn leaf_hashes<B: AsRef<[u8]> + Sync>(records: &[B]) -> Vec<Hash> {
    use rayon::prelude::*;
    let mut hashes = vec![Hash::ZERO; records.len()];
    let mut leaves = vec![Hash::ZERO; records.len()];
    records
        .par_chunks(LANE_TASK)
        .zip(hashes.par_chunks_mut(LANE_TASK))
        .zip(leaves.par_chunks_mut(LANE_TASK))
        .for_each(|((records, hashes), leaves)| {
            crate::record::hash_records(records, hashes);
            leaf_hashes_of(hashes, leaves);
        });
    leaves
}

/// The leaf hash of each record hash, in SIMD lanes, into `out`.
pub(crate) fn leaf_hashes_of(record_hashes: &[Hash], out: &mut [Hash]) {
    crate::lanes::hash_many(&[LEAF_PREFIX], record_hashes, out);
}

/// The Merkle leaf hash of a record hash.
pub fn leaf_hash(record_hash: &Hash) -> Hash {
    // One contiguous input and `blake3::hash`: for these tiny inputs the incremental
    // `Hasher` costs as much again as the compression itself.
    let mut input = [LEAF_PREFIX; 33];
    input[1..].copy_from_slice(record_hash.as_bytes());
    blake3::hash(&input).into()
}

/// The parent of each pair of `children` (left, right), into `out` (half as long): one
/// level of a tree, whose nodes do not depend on each other, hashed in SIMD lanes and,
/// for a long level, on every core.
fn node_hashes(children: &[Hash], out: &mut [Hash]) {
    use rayon::prelude::*;
    debug_assert_eq!(children.len(), 2 * out.len());
    let level = |children: &[Hash], out: &mut [Hash]| {
        let pairs: Vec<[u8; 64]> = children
            .chunks_exact(2)
            .map(|p| {
                let mut b = [0u8; 64];
                b[..32].copy_from_slice(p[0].as_bytes());
                b[32..].copy_from_slice(p[1].as_bytes());
                b
            })
            .collect();
        crate::lanes::hash_many(&[NODE_PREFIX], &pairs, out);
    };
    if out.len() <= LANE_TASK {
        level(children, out);
    } else {
        children
            .par_chunks(2 * LANE_TASK)
            .zip(out.par_chunks_mut(LANE_TASK))
            .for_each(|(c, o)| level(c, o));
    }
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut input = [0u8; 65];
    input[0] = NODE_PREFIX;
    input[1..33].copy_from_slice(left.as_bytes());
    input[33..].copy_from_slice(right.as_bytes());
    blake3::hash(&input).into()
}

/// The root of the tree with no leaves.
pub fn empty_root() -> Hash {
    blake3::hash(b"").into()
}

/// The right edge of a Merkle tree: enough to append and to compute the root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// Roots of the perfect subtrees, largest (leftmost) first; one per set bit of `size`.
    peaks: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds a frontier from its peaks, as stored. `None` if the count of peaks does
    /// not match the set bits of `size`.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Option<Frontier> {
        (peaks.len() == size.count_ones() as usize).then_some(Frontier { size, peaks })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends the leaf for `record_hash`. `on_node` is called for the new leaf node
    /// and for every perfect-subtree node this append completes, bottom up.
    pub fn push(&mut self, record_hash: Hash, on_node: impl FnMut(NodeId, Hash)) {
        self.push_leaf(leaf_hash(&record_hash), on_node);
    }

    /// [`push`](Self::push) for a leaf hash computed already ([`leaf_hash`]), so that a
    /// verifier can compute leaves in parallel and only merge peaks in sequence.
    pub fn push_leaf(&mut self, leaf: Hash, mut on_node: impl FnMut(NodeId, Hash)) {
        let mut index = self.size;
        let mut level = 0u8;
        let mut h = leaf;
        on_node(NodeId { level, index }, h);
        while index & 1 == 1 {
            let left = self.peaks.pop().expect("a set bit of size has a peak");
            h = node_hash(&left, &h);
            level += 1;
            index >>= 1;
            on_node(NodeId { level, index }, h);
        }
        self.peaks.push(h);
        self.size += 1;
    }

    /// Appends `leaves` (leaf hashes, [`leaf_hash`]) as [`push_leaf`](Self::push_leaf)
    /// would one by one, reporting the same nodes to `on_node` (in another order), but
    /// hashing the nodes a level at a time in SIMD lanes: the leaves are cut into the
    /// largest perfect subtrees that fit where the tree stands, and each is built
    /// bottom up before it joins the peaks.
    pub fn extend_leaves(&mut self, leaves: &[Hash], mut on_node: impl FnMut(NodeId, Hash)) {
        let mut level_hashes: Vec<Hash> = Vec::new();
        let mut parents: Vec<Hash> = Vec::new();
        let mut at = 0;
        while at < leaves.len() {
            let remaining = (leaves.len() - at) as u64;
            // Aligned where the tree stands (size 0 is aligned to any level) and no
            // larger than what remains.
            let level = self
                .size
                .trailing_zeros()
                .min(63 - remaining.leading_zeros()) as u8;
            let n = 1usize << level;
            level_hashes.clear();
            level_hashes.extend_from_slice(&leaves[at..at + n]);
            for (k, h) in level_hashes.iter().enumerate() {
                on_node(
                    NodeId {
                        level: 0,
                        index: self.size + k as u64,
                    },
                    *h,
                );
            }
            for up in 1..=level {
                parents.clear();
                parents.resize(level_hashes.len() / 2, Hash::ZERO);
                node_hashes(&level_hashes, &mut parents);
                let first = self.size >> up;
                for (k, h) in parents.iter().enumerate() {
                    on_node(
                        NodeId {
                            level: up,
                            index: first + k as u64,
                        },
                        *h,
                    );
                }
                std::mem::swap(&mut level_hashes, &mut parents);
            }
            self.push_subtree(level, level_hashes[0], &mut on_node);
            at += n;
        }
    }

    /// Appends the root `h` of a perfect subtree of `level` that starts where the tree
    /// ends (the size is a multiple of its width), merging it with the peaks it completes.
    fn push_subtree(&mut self, level: u8, mut h: Hash, on_node: &mut impl FnMut(NodeId, Hash)) {
        let width = 1u64 << level;
        debug_assert_eq!(
            self.size % width,
            0,
            "a subtree starts aligned to its width"
        );
        let mut index = self.size >> level;
        let mut at = level;
        while index & 1 == 1 {
            let left = self.peaks.pop().expect("a set bit of size has a peak");
            h = node_hash(&left, &h);
            at += 1;
            index >>= 1;
            on_node(NodeId { level: at, index }, h);
        }
        self.peaks.push(h);
        self.size += width;
    }

    /// The tree head's root hash.
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        match peaks.next() {
            None => empty_root(),
            Some(last) => peaks.fold(*last, |acc, p| node_hash(p, &acc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162 §2.1.1 MTH, written recursively as the RFC states it.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn frontier_root_matches_rfc_9162_definition() {
        let leaves: Vec<Hash> = (0..70u8).map(|i| Hash([i; 32])).collect();
        let mut f = Frontier::new();
        assert_eq!(f.root(), reference_root(&[]));
        for n in 1..=leaves.len() {
            f.push(leaves[n - 1], |_, _| {});
            assert_eq!(f.root(), reference_root(&leaves[..n]), "size {n}");
        }
    }

    /// The peaks named by `peak_ids` are exactly the nodes `push` reported whose hashes
    /// the frontier keeps, for every size, in the frontier's order.
    #[test]
    fn peak_ids_name_the_frontier_peaks_highest_first() {
        let mut f = Frontier::new();
        let mut nodes = std::collections::HashMap::new();
        assert_eq!(peak_ids(0).count(), 0, "the empty tree has no peaks");
        for i in 0..300u16 {
            let [a, b] = i.to_le_bytes();
            f.push(Hash([a ^ b; 32]), |id, h| {
                nodes.insert(id, h);
            });
            let ids: Vec<NodeId> = peak_ids(f.size()).collect();
            assert_eq!(ids.len(), f.size().count_ones() as usize);
            assert!(
                ids.windows(2).all(|w| w[0].level > w[1].level),
                "highest level first at size {}",
                f.size()
            );
            let hashes: Vec<Hash> = ids.iter().map(|id| nodes[id]).collect();
            assert_eq!(hashes, f.peaks(), "size {}", f.size());
        }
    }

    #[test]
    fn peak_ids_of_sizes_with_high_bits() {
        let ids: Vec<(u8, u64)> = peak_ids(0b1011).map(|n| (n.level, n.index)).collect();
        // Leaves 0..8, 8..10, 10..11.
        assert_eq!(ids, [(3, 0), (1, 4), (0, 10)]);
        let top = peak_ids(u64::MAX).next().unwrap();
        assert_eq!((top.level, top.index), (63, 0));
        assert_eq!(peak_ids(u64::MAX).count(), 64);
        let last = peak_ids(u64::MAX).last().unwrap();
        assert_eq!((last.level, last.index), (0, u64::MAX - 1));
    }

    #[test]
    fn peak_ids_from_offsets_the_range() {
        // Leaves 16..27: 16..24, 24..26, 26..27.
        let ids: Vec<(u8, u64)> = peak_ids_from(16, 11).map(|n| (n.level, n.index)).collect();
        assert_eq!(ids, [(3, 2), (1, 12), (0, 26)]);
    }

    /// `extend_leaves` gives the tree, the peaks and the nodes `push_leaf` gives one leaf
    /// at a time, from any size and for any number of leaves.
    #[test]
    fn extend_leaves_is_push_leaf_in_lanes() {
        let leaves: Vec<Hash> = (0..300u16)
            .map(|i| {
                let [a, b] = i.to_le_bytes();
                Hash([a ^ b.wrapping_mul(7); 32])
            })
            .collect();
        for start in [0usize, 1, 2, 3, 5, 8, 13, 64, 100] {
            for len in [0usize, 1, 2, 3, 7, 16, 31, 64, 100, 199] {
                let mut one = Frontier::new();
                let mut many = Frontier::new();
                for l in &leaves[..start] {
                    one.push_leaf(*l, |_, _| {});
                    many.push_leaf(*l, |_, _| {});
                }
                let mut by_one = Vec::new();
                for l in &leaves[start..start + len] {
                    one.push_leaf(*l, |id, h| by_one.push((id, h)));
                }
                let mut by_many = Vec::new();
                many.extend_leaves(&leaves[start..start + len], |id, h| by_many.push((id, h)));
                by_one.sort();
                by_many.sort();
                assert_eq!(many, one, "from {start}, {len} leaves");
                assert_eq!(by_many, by_one, "from {start}, {len} leaves");
            }
        }
        // A level long enough to be hashed on several tasks.
        let big: Vec<Hash> = (0..3 * LANE_TASK as u64)
            .map(|i| Hash::from(blake3::hash(&i.to_le_bytes())))
            .collect();
        let mut one = Frontier::new();
        for l in &big {
            one.push_leaf(*l, |_, _| {});
        }
        let mut many = Frontier::new();
        many.extend_leaves(&big, |_, _| {});
        assert_eq!(many, one);
    }

    #[test]
    fn leaf_hashes_are_leaf_hash_of_the_record_hash() {
        let records: Vec<Vec<u8>> = (0..2 * LANE_TASK + 5)
            .map(|i| vec![i as u8; i % 700])
            .collect();
        let expected: Vec<Hash> = records
            .iter()
            .map(|r| leaf_hash(&crate::hash_record_bytes(r)))
            .collect();
        assert_eq!(leaf_hashes(&records), expected);
    }

    #[test]
    fn push_reports_completed_perfect_subtrees() {
        let mut f = Frontier::new();
        let mut nodes = Vec::new();
        for i in 0..4u8 {
            f.push(Hash([i; 32]), |id, _| nodes.push(id));
        }
        let ids: Vec<(u8, u64)> = nodes.iter().map(|n| (n.level, n.index)).collect();
        assert_eq!(
            ids,
            vec![(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)]
        );
    }
}
