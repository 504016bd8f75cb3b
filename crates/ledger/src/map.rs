//! The authenticated map (`FORMAT.md` §12): a sparse Merkle tree over 256-bit keys with
//! blake3 and domain separation, committed by a checkpoint beside the log's root. It maps
//! each stream to its length and last record hash, and each client (under a keyed hash
//! of the client's identifier, never the identifier itself) to the sorted set of the
//! client's stream ids, so that a bundle can prove it holds *all* of a client's records
//! and *only* the client's.
//!
//! The tree is compact: an empty subtree hashes to 32 zero bytes, and a subtree holding
//! exactly one leaf is that leaf's hash (its key is inside it), so a tree of `n` leaves
//! with random keys costs about `2n` hashes to build and a proof holds about `log2 n`
//! hashes, not 256.

use crate::Hash;

/// The hash of an empty subtree, at every depth.
pub const MAP_EMPTY: Hash = Hash([0; 32]);

const LEAF_PREFIX: &[u8] = b"planledger/map/leaf/v1\0";
const NODE_PREFIX: &[u8] = b"planledger/map/node/v1\0";
const STREAM_KEY_PREFIX: &[u8] = b"planledger/map/stream-key/v1\0";
const CLIENT_KEY_PREFIX: &[u8] = b"planledger/map/client-key/v1\0";
const CLIENT_SALT_PREFIX: &[u8] = b"planledger/map/client-salt/v1\0";

/// The kind byte of a stream leaf's value.
const KIND_STREAM: u8 = 0x01;
/// The kind byte of a client leaf's value.
const KIND_CLIENT: u8 = 0x02;

/// Why a map cannot be built, or a value encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    #[error("two leaves of the map have the same key")]
    DuplicateKey,
    #[error("a client's stream ids must be distinct")]
    DuplicateStream,
    #[error("a stream id is longer than 255 bytes")]
    StreamIdTooLong,
}

/// Why a map proof does not verify. None repeats a key or value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapProofError {
    #[error("the proof has {0} hashes; a map proof has at most 256")]
    TooLong(usize),
    #[error("the proof does not lead to the map root the checkpoint signs")]
    RootMismatch,
    #[error("the leaf the absence proof ends in does not share the key's path")]
    WrongNeighbour,
    #[error("the absence proof ends in the key's own leaf: the key is present")]
    Present,
}

/// Bit `i` (0 = most significant bit of byte 0) of a key: 0 goes left, 1 right.
pub fn key_bit(key: &Hash, i: usize) -> bool {
    key.0[i / 8] >> (7 - i % 8) & 1 == 1
}

/// `blake3("planledger/map/leaf/v1\0" || key || value_hash)`.
pub fn map_leaf_hash(key: &Hash, value_hash: &Hash) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(LEAF_PREFIX);
    h.update(&key.0);
    h.update(&value_hash.0);
    h.finalize().into()
}

/// `blake3("planledger/map/node/v1\0" || left || right)`.
pub fn map_node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(NODE_PREFIX);
    h.update(&left.0);
    h.update(&right.0);
    h.finalize().into()
}

/// A leaf value's hash: plain `blake3(value)`; the value starts with its kind byte.
pub fn map_value_hash(value: &[u8]) -> Hash {
    blake3::hash(value).into()
}

/// The key of a stream's leaf: `blake3("planledger/map/stream-key/v1\0" || stream id)`.
pub fn stream_key(stream_id: &str) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(STREAM_KEY_PREFIX);
    h.update(stream_id.as_bytes());
    h.finalize().into()
}

/// A stream leaf's value: `0x01 || u64 length (LE) || last record hash`.
pub fn stream_value(length: u64, last: &Hash) -> Vec<u8> {
    let mut v = Vec::with_capacity(41);
    v.push(KIND_STREAM);
    v.extend_from_slice(&length.to_le_bytes());
    v.extend_from_slice(&last.0);
    v
}

/// The salt of one client: `blake3_keyed(map key, "planledger/map/client-salt/v1\0" ||
/// client)`. The map key is the ledger's secret; a bundle carries its client's salt
/// only, so that no one can test a guessed identifier against the other leaves.
pub fn client_salt(map_key: &[u8; 32], client: &str) -> Hash {
    let mut h = blake3::Hasher::new_keyed(map_key);
    h.update(CLIENT_SALT_PREFIX);
    h.update(client.as_bytes());
    h.finalize().into()
}

/// The key of a client's leaf: `blake3("planledger/map/client-key/v1\0" || salt ||
/// client)`. Anyone given the salt and the identifier recomputes it.
pub fn client_key(salt: &Hash, client: &str) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(CLIENT_KEY_PREFIX);
    h.update(&salt.0);
    h.update(client.as_bytes());
    h.finalize().into()
}

/// A client leaf's value: `0x02 || u32 count (LE) || (u8 length || stream id)` for each
/// of the client's stream ids in ascending byte order. The ids are sorted here.
pub fn client_value<S: AsRef<str>>(streams: &[S]) -> Result<Vec<u8>, MapError> {
    let mut ids: Vec<&[u8]> = streams.iter().map(|s| s.as_ref().as_bytes()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(MapError::DuplicateStream);
    }
    let mut v = vec![KIND_CLIENT];
    v.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for id in ids {
        let len = u8::try_from(id.len()).map_err(|_| MapError::StreamIdTooLong)?;
        v.push(len);
        v.extend_from_slice(id);
    }
    Ok(v)
}

/// The map: its leaves as `(key, value hash)`, sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Map {
    leaves: Vec<(Hash, Hash)>,
}

/// How a map proof ends, at the depth its sibling list reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapProofEnd {
    /// The subtree holds only the key's own leaf: the key is present.
    Found,
    /// The subtree is empty: the key is absent.
    Empty,
    /// The subtree holds only another key's leaf: the key is absent.
    Other { key: Hash, value_hash: Hash },
}

/// A proof for one key: the sibling hashes from the root down, and how the path ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapProof {
    pub siblings: Vec<Hash>,
    pub end: MapProofEnd,
}

impl Map {
    /// The map of `leaves` (key, value); the order they come in does not matter.
    pub fn new(leaves: impl IntoIterator<Item = (Hash, Vec<u8>)>) -> Result<Map, MapError> {
        Map::from_hashed(
            leaves
                .into_iter()
                .map(|(k, v)| (k, map_value_hash(&v)))
                .collect(),
        )
    }

    /// The map of leaves given as (key, value hash).
    pub fn from_hashed(mut leaves: Vec<(Hash, Hash)>) -> Result<Map, MapError> {
        leaves.sort_unstable_by_key(|a| a.0);
        if leaves.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(MapError::DuplicateKey);
        }
        Ok(Map { leaves })
    }

    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The value hash of `key`'s leaf, if present.
    pub fn get(&self, key: &Hash) -> Option<Hash> {
        self.leaves
            .binary_search_by(|l| l.0.cmp(key))
            .ok()
            .map(|i| self.leaves[i].1)
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        subtree(&self.leaves, 0)
    }

    /// The proof for `key`: of its leaf when present ([`MapProofEnd::Found`]), of its
    /// absence otherwise. Costs one pass over the leaves.
    pub fn prove(&self, key: &Hash) -> MapProof {
        let (mut lo, mut hi, mut depth) = (0, self.leaves.len(), 0);
        let mut siblings = Vec::new();
        loop {
            let slice = &self.leaves[lo..hi];
            match slice {
                [] => {
                    return MapProof {
                        siblings,
                        end: MapProofEnd::Empty,
                    };
                }
                [(k, v)] => {
                    let end = match k == key {
                        true => MapProofEnd::Found,
                        false => MapProofEnd::Other {
                            key: *k,
                            value_hash: *v,
                        },
                    };
                    return MapProof { siblings, end };
                }
                _ => {
                    let split = lo + slice.partition_point(|l| !key_bit(&l.0, depth));
                    if key_bit(key, depth) {
                        siblings.push(subtree(&self.leaves[lo..split], depth + 1));
                        lo = split;
                    } else {
                        siblings.push(subtree(&self.leaves[split..hi], depth + 1));
                        hi = split;
                    }
                    depth += 1;
                }
            }
        }
    }
}

/// The hash of the subtree at `depth` holding `leaves` (sorted, all sharing the key's
/// first `depth` bits).
fn subtree(leaves: &[(Hash, Hash)], depth: usize) -> Hash {
    match leaves {
        [] => MAP_EMPTY,
        [(k, v)] => map_leaf_hash(k, v),
        _ => {
            let split = leaves.partition_point(|l| !key_bit(&l.0, depth));
            map_node_hash(
                &subtree(&leaves[..split], depth + 1),
                &subtree(&leaves[split..], depth + 1),
            )
        }
    }
}

/// Folds `start` (the hash at the proof's depth) up the siblings along `key`'s path.
fn fold(key: &Hash, start: Hash, siblings: &[Hash]) -> Result<Hash, MapProofError> {
    if siblings.len() > 256 {
        return Err(MapProofError::TooLong(siblings.len()));
    }
    let mut h = start;
    for (depth, s) in siblings.iter().enumerate().rev() {
        h = match key_bit(key, depth) {
            false => map_node_hash(&h, s),
            true => map_node_hash(s, &h),
        };
    }
    Ok(h)
}

impl MapProof {
    /// Checks that `key` has the leaf value `value` in the map whose root is `root`.
    pub fn verify_inclusion(
        siblings: &[Hash],
        key: &Hash,
        value: &[u8],
        root: &Hash,
    ) -> Result<(), MapProofError> {
        let leaf = map_leaf_hash(key, &map_value_hash(value));
        match fold(key, leaf, siblings)? == *root {
            true => Ok(()),
            false => Err(MapProofError::RootMismatch),
        }
    }

    /// Checks that this proof shows `key` absent from the map whose root is `root`.
    pub fn verify_absence(&self, key: &Hash, root: &Hash) -> Result<(), MapProofError> {
        let start = match &self.end {
            MapProofEnd::Found => return Err(MapProofError::Present),
            MapProofEnd::Empty => MAP_EMPTY,
            MapProofEnd::Other {
                key: other,
                value_hash,
            } => {
                if other == key {
                    return Err(MapProofError::Present);
                }
                if (0..self.siblings.len()).any(|i| key_bit(other, i) != key_bit(key, i)) {
                    return Err(MapProofError::WrongNeighbour);
                }
                map_leaf_hash(other, value_hash)
            }
        };
        match fold(key, start, &self.siblings)? == *root {
            true => Ok(()),
            false => Err(MapProofError::RootMismatch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The naive definition: a full 256-level tree whose empty subtrees hash to
    /// [`MAP_EMPTY`] and whose one-leaf subtrees are the leaf, recomputed bit by bit.
    fn naive(leaves: &[(Hash, Hash)], depth: usize) -> Hash {
        if leaves.is_empty() {
            return MAP_EMPTY;
        }
        if leaves.len() == 1 {
            return map_leaf_hash(&leaves[0].0, &leaves[0].1);
        }
        let (l, r): (Vec<_>, Vec<_>) = leaves.iter().partition(|x| !key_bit(&x.0, depth));
        map_node_hash(&naive(&l, depth + 1), &naive(&r, depth + 1))
    }

    fn key(i: u32) -> Hash {
        blake3::hash(&i.to_le_bytes()).into()
    }

    #[test]
    fn empty_map_root_is_zero_and_proves_absence() {
        let m = Map::default();
        assert_eq!(m.root(), MAP_EMPTY);
        let p = m.prove(&key(1));
        assert_eq!(p.end, MapProofEnd::Empty);
        p.verify_absence(&key(1), &m.root()).unwrap();
    }

    #[test]
    fn one_leaf_map_root_is_the_leaf() {
        let m = Map::new([(key(1), b"x".to_vec())]).unwrap();
        assert_eq!(m.root(), map_leaf_hash(&key(1), &map_value_hash(b"x")));
        let p = m.prove(&key(1));
        assert!(p.siblings.is_empty());
        MapProof::verify_inclusion(&p.siblings, &key(1), b"x", &m.root()).unwrap();
        assert_eq!(
            MapProof::verify_inclusion(&p.siblings, &key(1), b"y", &m.root()),
            Err(MapProofError::RootMismatch)
        );
    }

    #[test]
    fn duplicates_are_refused() {
        assert_eq!(
            Map::new([(key(1), vec![1]), (key(1), vec![2])]),
            Err(MapError::DuplicateKey)
        );
        assert_eq!(client_value(&["a", "a"]), Err(MapError::DuplicateStream));
        assert_eq!(client_value(&["b", "a"]), client_value(&["a", "b"]));
    }

    #[test]
    fn keys_that_share_a_long_prefix_still_prove() {
        // Two keys that differ only in the last bit: the path is 256 levels deep.
        let a = Hash([0x55; 32]);
        let mut b = a;
        b.0[31] ^= 1;
        let m = Map::new([(a, vec![1]), (b, vec![2])]).unwrap();
        let p = m.prove(&a);
        assert_eq!(p.siblings.len(), 256);
        MapProof::verify_inclusion(&p.siblings, &a, &[1], &m.root()).unwrap();
        assert_eq!(m.root(), naive(&m.leaves, 0));
    }

    proptest! {
        #[test]
        fn compact_root_equals_naive_and_every_proof_verifies(
            ids in proptest::collection::btree_set(0u32..10_000, 0..40),
            probe in 0u32..10_000,
        ) {
            let m = Map::new(ids.iter().map(|&i| (key(i), i.to_le_bytes().to_vec()))).unwrap();
            prop_assert_eq!(m.root(), naive(&m.leaves, 0));
            for &i in &ids {
                let p = m.prove(&key(i));
                prop_assert_eq!(&p.end, &MapProofEnd::Found);
                MapProof::verify_inclusion(&p.siblings, &key(i), &i.to_le_bytes(), &m.root()).unwrap();
                // Another value, or another key, does not verify.
                prop_assert!(MapProof::verify_inclusion(&p.siblings, &key(i), &[9], &m.root()).is_err());
                prop_assert!(p.verify_absence(&key(i), &m.root()).is_err());
            }
            let p = m.prove(&key(probe));
            if ids.contains(&probe) {
                prop_assert_eq!(p.end, MapProofEnd::Found);
            } else {
                p.verify_absence(&key(probe), &m.root()).unwrap();
                prop_assert!(MapProof::verify_inclusion(&p.siblings, &key(probe), &probe.to_le_bytes(), &m.root()).is_err());
            }
        }
    }
}
