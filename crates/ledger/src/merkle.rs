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

/// The Merkle leaf hash of a record hash.
/// The Merkle leaf hash of each of `records` (stored record bytes), hashed on every core
/// (rayon): for a reader that recomputes the tree of many records at once.
pub fn leaf_hashes<B: AsRef<[u8]> + Sync>(records: &[B]) -> Vec<Hash> {
    use rayon::prelude::*;
    records
        .par_iter()
        .map(|b| leaf_hash(&crate::hash_record_bytes(b.as_ref())))
        .collect()
}

pub fn leaf_hash(record_hash: &Hash) -> Hash {
    // One contiguous input and `blake3::hash`: for these tiny inputs the incremental
    // `Hasher` costs as much again as the compression itself.
    let mut input = [0u8; 33];
    input[1..].copy_from_slice(record_hash.as_bytes());
    blake3::hash(&input).into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut input = [0u8; 65];
    input[0] = 0x01;
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
