//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4), generated from
//! perfect-subtree nodes so that a prover never needs the whole tree in memory.
//!
//! Every subtree the RFC's recursive definitions ask for is either a perfect subtree
//! (one stored node, see [`NodeId`]) or the right edge `D[k:n]` of a range that starts at
//! a multiple of a power of two at least as large as the range; such a range is the
//! right fold of the perfect subtrees given by the set bits of its length, exactly as
//! [`Frontier::root`](crate::Frontier::root) folds its peaks. A proof therefore costs
//! `O(log n)` node look-ups.
//!
//! Verification follows the RFC's iterative algorithms, and additionally checks every
//! field before hashing: the leaf index is inside the tree, the sizes are ordered, and
//! the path has exactly the length the sizes imply. (immudb once accepted forged
//! consistency proofs because it skipped such checks.)

use std::collections::HashMap;

use crate::{Frontier, Hash, NodeId, empty_root, leaf_hash, node_hash, peak_ids_from};

/// Where a prover gets perfect-subtree nodes from: a store, or memory in tests.
pub trait NodeSource {
    type Error;

    /// The hash of the perfect-subtree node `id` (level 0: a leaf hash, not a record
    /// hash).
    fn node(&self, id: NodeId) -> Result<Hash, Self::Error>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    type Error = S::Error;
    fn node(&self, id: NodeId) -> Result<Hash, Self::Error> {
        (**self).node(id)
    }
}

/// Proof that the record hash at `index` is a leaf of the tree of `size` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    /// Sibling hashes from the leaf up, as in RFC 9162 §2.1.3.1.
    pub path: Vec<Hash>,
}

/// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    /// Node hashes as in RFC 9162 §2.1.4.1.
    pub path: Vec<Hash>,
}

/// Why a proof could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError<E> {
    #[error("leaf {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("reading Merkle node (level {}, index {}): {source}", .node.level, .node.index)]
    Source { node: NodeId, source: E },
}

/// Why a proof does not verify. Each variant names the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidProof {
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("the proof path has {actual} hashes; these sizes need exactly {expected}")]
    PathLength { expected: usize, actual: usize },
    #[error("the proof leads to root {computed}, not the expected root {expected}")]
    RootMismatch { expected: Hash, computed: Hash },
    #[error("the proof leads to old root {computed}, not the expected old root {expected}")]
    OldRootMismatch { expected: Hash, computed: Hash },
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves `start .. start + len`, where `start` is a multiple of a power of two
/// `>= len` (true of every range the RFC recursions visit).
fn range_root<S: NodeSource>(src: &S, start: u64, len: u64) -> Result<Hash, ProofError<S::Error>> {
    debug_assert!(len > 0);
    let peaks = peak_ids_from(start, len)
        .map(|id| {
            src.node(id)
                .map_err(|source| ProofError::Source { node: id, source })
        })
        .collect::<Result<Vec<Hash>, _>>()?;
    let mut it = peaks.into_iter().rev();
    let last = it.next().expect("len > 0 has a set bit");
    Ok(it.fold(last, |acc, p| node_hash(&p, &acc)))
}

/// The inclusion proof for leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<S: NodeSource>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<InclusionProof, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // RFC 9162 PATH(m, D[start:start+n]), unrolled: siblings are collected top down,
    // then reversed so the path runs from the leaf up.
    let mut path = Vec::new();
    let (mut start, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split(n);
        if m < k {
            path.push(range_root(src, start + k, n - k)?);
            n = k;
        } else {
            path.push(range_root(src, start, k)?);
            start += k;
            n -= k;
            m -= k;
        }
    }
    path.reverse();
    Ok(InclusionProof { index, size, path })
}

/// The consistency proof between the trees of `old_size` and `new_size` leaves.
pub fn consistency_proof<S: NodeSource>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, ProofError<S::Error>> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    let mut path = Vec::new();
    if old_size > 0 && old_size < new_size {
        // RFC 9162 SUBPROOF(m, D[start:start+n], b), unrolled, collected top down.
        let (mut start, mut n, mut m, mut whole) = (0u64, new_size, old_size, true);
        while m != n {
            let k = split(n);
            if m <= k {
                path.push(range_root(src, start + k, n - k)?);
                n = k;
            } else {
                path.push(range_root(src, start, k)?);
                start += k;
                n -= k;
                m -= k;
                whole = false;
            }
        }
        if !whole {
            path.push(range_root(src, start, m)?);
        }
        path.reverse();
    }
    Ok(ConsistencyProof {
        old_size,
        new_size,
        path,
    })
}

/// The path length RFC 9162 gives for an inclusion proof (`index < size`).
fn inclusion_len(index: u64, size: u64) -> usize {
    let (mut n, mut m, mut len) = (size, index, 0);
    while n > 1 {
        let k = split(n);
        if m < k {
            n = k;
        } else {
            n -= k;
            m -= k;
        }
        len += 1;
    }
    len
}

/// The path length RFC 9162 gives for a consistency proof (`0 < old < new`).
fn consistency_len(old: u64, new: u64) -> usize {
    let (mut n, mut m, mut whole, mut len) = (new, old, true, 0);
    while m != n {
        let k = split(n);
        if m <= k {
            n = k;
        } else {
            n -= k;
            m -= k;
            whole = false;
        }
        len += 1;
    }
    len + usize::from(!whole)
}

impl InclusionProof {
    /// Checks that `record_hash` is leaf `self.index` of the tree of `self.size` leaves
    /// whose root is `root` (RFC 9162 §2.1.3.2, plus an exact path-length check).
    pub fn verify(&self, record_hash: &Hash, root: &Hash) -> Result<(), InvalidProof> {
        if self.index >= self.size {
            return Err(InvalidProof::IndexOutOfRange {
                index: self.index,
                size: self.size,
            });
        }
        let expected = inclusion_len(self.index, self.size);
        if self.path.len() != expected {
            return Err(InvalidProof::PathLength {
                expected,
                actual: self.path.len(),
            });
        }
        let (mut fnode, mut snode) = (self.index, self.size - 1);
        let mut r = leaf_hash(record_hash);
        for p in &self.path {
            if snode == 0 {
                // Unreachable after the length check; kept as the RFC states it.
                return Err(InvalidProof::PathLength {
                    expected,
                    actual: self.path.len(),
                });
            }
            if fnode & 1 == 1 || fnode == snode {
                r = node_hash(p, &r);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, p);
            }
            fnode >>= 1;
            snode >>= 1;
        }
        if snode != 0 {
            return Err(InvalidProof::PathLength {
                expected,
                actual: self.path.len(),
            });
        }
        if r != *root {
            return Err(InvalidProof::RootMismatch {
                expected: *root,
                computed: r,
            });
        }
        Ok(())
    }
}

impl ConsistencyProof {
    /// Checks that the tree with root `old_root` of `self.old_size` leaves is a prefix of
    /// the tree with root `new_root` of `self.new_size` leaves (RFC 9162 §2.1.4.2, plus
    /// exact path-length checks and the edge cases the RFC leaves to the caller).
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), InvalidProof> {
        let (old, new) = (self.old_size, self.new_size);
        if old > new {
            return Err(InvalidProof::SizesOutOfOrder {
                old_size: old,
                new_size: new,
            });
        }
        let expected = if old == 0 || old == new {
            0
        } else {
            consistency_len(old, new)
        };
        if self.path.len() != expected {
            return Err(InvalidProof::PathLength {
                expected,
                actual: self.path.len(),
            });
        }
        if old == 0 {
            // Every tree extends the empty tree; the old root must still be the empty one.
            if *old_root != empty_root() {
                return Err(InvalidProof::OldRootMismatch {
                    expected: *old_root,
                    computed: empty_root(),
                });
            }
            return Ok(());
        }
        if old == new {
            if old_root != new_root {
                return Err(InvalidProof::RootMismatch {
                    expected: *new_root,
                    computed: *old_root,
                });
            }
            return Ok(());
        }
        let mut path: Vec<Hash> = Vec::with_capacity(self.path.len() + 1);
        if old.is_power_of_two() {
            path.push(*old_root);
        }
        path.extend_from_slice(&self.path);
        let (mut fnode, mut snode) = (old - 1, new - 1);
        while fnode & 1 == 1 {
            fnode >>= 1;
            snode >>= 1;
        }
        let (mut fr, mut sr) = (path[0], path[0]);
        for c in &path[1..] {
            if snode == 0 {
                return Err(InvalidProof::PathLength {
                    expected,
                    actual: self.path.len(),
                });
            }
            if fnode & 1 == 1 || fnode == snode {
                fr = node_hash(c, &fr);
                sr = node_hash(c, &sr);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                sr = node_hash(&sr, c);
            }
            fnode >>= 1;
            snode >>= 1;
        }
        if snode != 0 {
            return Err(InvalidProof::PathLength {
                expected,
                actual: self.path.len(),
            });
        }
        if fr != *old_root {
            return Err(InvalidProof::OldRootMismatch {
                expected: *old_root,
                computed: fr,
            });
        }
        if sr != *new_root {
            return Err(InvalidProof::RootMismatch {
                expected: *new_root,
                computed: sr,
            });
        }
        Ok(())
    }
}

/// A whole Merkle tree in memory, keeping every perfect-subtree node: a [`NodeSource`]
/// for tests, tools and small ledgers.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    frontier: Frontier,
    nodes: HashMap<NodeId, Hash>,
}

/// A node that a [`MemoryTree`] does not hold (not complete yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Merkle node (level {}, index {}) is not in the tree", .0.level, .0.index)]
pub struct MissingNode(pub NodeId);

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Appends the leaf for `record_hash`.
    pub fn push(&mut self, record_hash: Hash) {
        let nodes = &mut self.nodes;
        self.frontier.push(record_hash, |id, h| {
            nodes.insert(id, h);
        });
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// The root of the tree of the first `size` leaves, from stored nodes.
    pub fn root_at(&self, size: u64) -> Result<Hash, MissingNode> {
        tree_root(self, size).map_err(|e| match e {
            ProofError::Source { source, .. } => source,
            _ => unreachable!("tree_root only fails on the source"),
        })
    }
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;
    fn node(&self, id: NodeId) -> Result<Hash, MissingNode> {
        self.nodes.get(&id).copied().ok_or(MissingNode(id))
    }
}

/// The root of the tree of the first `size` leaves, from perfect-subtree nodes.
pub fn tree_root<S: NodeSource>(src: &S, size: u64) -> Result<Hash, ProofError<S::Error>> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_root(src, 0, size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rh(i: u64) -> Hash {
        Hash(*blake3::hash(&i.to_le_bytes()).as_bytes())
    }

    fn tree(n: u64) -> MemoryTree {
        let mut t = MemoryTree::new();
        for i in 0..n {
            t.push(rh(i));
        }
        t
    }

    /// RFC 9162 PATH written recursively over a slice, as the RFC states it.
    fn reference_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        fn mth(l: &[Hash]) -> Hash {
            match l.len() {
                0 => empty_root(),
                1 => leaf_hash(&l[0]),
                n => {
                    let k = split(n as u64) as usize;
                    node_hash(&mth(&l[..k]), &mth(&l[k..]))
                }
            }
        }
        if leaves.len() <= 1 {
            return vec![];
        }
        let k = split(leaves.len() as u64) as usize;
        if m < k {
            let mut p = reference_path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = reference_path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn inclusion_paths_match_the_rfc_recursion() {
        let leaves: Vec<Hash> = (0..40).map(rh).collect();
        let t = tree(40);
        for n in 1..=40u64 {
            for m in 0..n {
                let p = inclusion_proof(&t, m, n).unwrap();
                assert_eq!(p.path, reference_path(m as usize, &leaves[..n as usize]));
                assert_eq!(p.path.len(), inclusion_len(m, n));
            }
        }
    }

    #[test]
    fn every_proof_in_small_trees_verifies() {
        let t = tree(70);
        for n in 0..=70u64 {
            let root = t.root_at(n).unwrap();
            for m in 0..n {
                inclusion_proof(&t, m, n)
                    .unwrap()
                    .verify(&rh(m), &root)
                    .unwrap();
            }
            for old in 0..=n {
                let p = consistency_proof(&t, old, n).unwrap();
                assert_eq!(
                    p.path.len(),
                    if old == 0 || old == n {
                        0
                    } else {
                        consistency_len(old, n)
                    }
                );
                p.verify(&t.root_at(old).unwrap(), &root).unwrap();
            }
        }
    }

    #[test]
    fn proofs_for_sizes_beyond_the_tree_are_refused() {
        let t = tree(5);
        assert!(matches!(
            inclusion_proof(&t, 5, 5),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        ));
        assert!(matches!(
            consistency_proof(&t, 6, 5),
            Err(ProofError::SizesOutOfOrder { .. })
        ));
        assert!(matches!(
            inclusion_proof(&t, 0, 9),
            Err(ProofError::Source { .. })
        ));
    }

    #[test]
    fn consistency_from_empty_tree_needs_the_empty_root() {
        let t = tree(3);
        let p = consistency_proof(&t, 0, 3).unwrap();
        p.verify(&empty_root(), &t.root()).unwrap();
        assert!(matches!(
            p.verify(&rh(1), &t.root()),
            Err(InvalidProof::OldRootMismatch { .. })
        ));
    }

    /// Every way to forge a proof from a genuine one: each must be rejected.
    fn tampered(path: &[Hash]) -> Vec<Vec<Hash>> {
        let mut out = Vec::new();
        for i in 0..path.len() {
            let mut p = path.to_vec();
            p[i].0[i % 32] ^= 1;
            out.push(p);
            let mut p = path.to_vec();
            p.remove(i);
            out.push(p);
            let mut p = path.to_vec();
            p.insert(i, path[i]);
            out.push(p);
        }
        let mut p = path.to_vec();
        p.push(rh(999));
        out.push(p);
        out
    }

    proptest! {
        #[test]
        fn inclusion_proofs_verify_and_forgeries_do_not(
            (n, m) in (1u64..300).prop_flat_map(|n| (Just(n), 0..n))
        ) {
            let t = tree(n);
            let root = t.root();
            let p = inclusion_proof(&t, m, n).unwrap();
            prop_assert_eq!(p.verify(&rh(m), &root), Ok(()));
            // Wrong leaf.
            prop_assert!(p.verify(&rh(m + 1), &root).is_err());
            // Wrong root.
            prop_assert!(p.verify(&rh(m), &rh(7777)).is_err());
            // Wrong index: every other index in the tree, and one past it.
            for other in (0..=n).filter(|&o| o != m) {
                let q = InclusionProof { index: other, ..p.clone() };
                prop_assert!(q.verify(&rh(m), &root).is_err(), "index {}", other);
            }
            // Wrong size, smaller or larger (the root of the other size too).
            for other in [n.saturating_sub(1), n + 1, n * 2] {
                if other == n { continue; }
                // (The size is bound to the root by the tree head both come from, so
                // the forgery that matters is another size with that size's root.)
                let q = InclusionProof { size: other, ..p.clone() };
                let mut bigger = t.clone();
                while bigger.size() < other { bigger.push(rh(bigger.size())); }
                if other >= 1 && m < other {
                    let other_root = bigger.root_at(other).unwrap();
                    prop_assert!(q.verify(&rh(m), &other_root).is_err(), "size {} with its root", other);
                }
            }
            // Tampered, truncated, extended paths.
            for path in tampered(&p.path) {
                let q = InclusionProof { path, ..p.clone() };
                prop_assert!(q.verify(&rh(m), &root).is_err());
            }
        }

        #[test]
        fn consistency_proofs_verify_and_forgeries_do_not(
            (n, m) in (1u64..300).prop_flat_map(|n| (Just(n), 0..=n))
        ) {
            let t = tree(n);
            let (old_root, new_root) = (t.root_at(m).unwrap(), t.root());
            let p = consistency_proof(&t, m, n).unwrap();
            prop_assert_eq!(p.verify(&old_root, &new_root), Ok(()));
            // Wrong roots.
            prop_assert!(p.verify(&rh(1), &new_root).is_err());
            if m > 0 {
                // (Every tree extends the empty one, so from size 0 only the old root counts.)
                prop_assert!(p.verify(&old_root, &rh(1)).is_err());
            }
            // Swapped roots verify only when they are the same tree.
            if m != n {
                prop_assert!(p.verify(&new_root, &old_root).is_err());
            }
            // Wrong sizes, each paired with the genuine root of that size where one exists.
            for (o, nn) in [(m + 1, n), (m.wrapping_sub(1), n), (m, n + 1), (m, n.wrapping_sub(1)), (n, m)] {
                if (o, nn) == (m, n) || o > 1000 || nn > 1000 { continue; }
                let q = ConsistencyProof { old_size: o, new_size: nn, ..p.clone() };
                if o > nn {
                    prop_assert!(q.verify(&old_root, &new_root).is_err(), "sizes {} {}", o, nn);
                }
                // As for inclusion, sizes are bound to roots by their tree heads: the
                // forgery that matters pairs the other sizes with their own roots.
                if o <= n && nn <= n {
                    let (ro, rn) = (t.root_at(o).unwrap(), t.root_at(nn).unwrap());
                    if ro != old_root || rn != new_root {
                        // A genuine statement about other sizes could only verify with
                        // this path by coincidence of equal path shapes and hashes.
                        let genuine = consistency_proof(&t, o.min(nn), nn.max(o)).unwrap();
                        if genuine.path != p.path {
                            prop_assert!(q.verify(&ro, &rn).is_err(), "sizes {} {} with their roots", o, nn);
                        }
                    }
                }
            }
            for path in tampered(&p.path) {
                let q = ConsistencyProof { path, ..p.clone() };
                prop_assert!(q.verify(&old_root, &new_root).is_err());
            }
        }
    }
}
