//! The tables of a store file and the encoding of its head. Every integer stored in a
//! value is little-endian; redb encodes the keys itself.

use planledger_ledger::{Frontier, Hash};
use redb::TableDefinition;

use planledger_store::{Chain, StoreError};

/// The layout this crate writes and reads, stored under the `layout` key of the meta
/// table. A file without it is not a planledger store; a file with another value was
/// written by another layout.
pub const LAYOUT: &str = "planledger-store-redb/3";

/// The layout that kept every Merkle node, leaves included. A file of it is read as it
/// is (its low nodes are ignored: they are computed from the records) and upgraded to
/// [`LAYOUT`] when opened for writing, which deletes the nodes below
/// [`LOWEST_KEPT_LEVEL`]. Builds of layout 2 refuse a file of layout 3, so an old binary
/// never reads a node that is not there.
pub const LAYOUT_V2: &str = "planledger-store-redb/2";

/// The lowest level of the Merkle tree kept in [`NODES`]. A node below it covers at
/// most 8 records and is computed from them when a proof needs it (at most 15 leaf
/// and node hashes per proof step): keeping the leaves and the three levels above
/// them cost 1.9 node inserts per appended record and half the file beside the
/// records (BENCHMARKS.md, issue 15); from level 4 up it is 1 node per 8 records.
pub const LOWEST_KEPT_LEVEL: u8 = 4;

/// The layout before the stream tags (the plan index). A file of it is read as it is and
/// upgraded to [`LAYOUT`] when opened for writing; its index is then rebuilt with
/// `planledger reindex`. Builds of layout 1 refuse a file of layout 2, so an old binary
/// can never append records without their tags.
pub const LAYOUT_V1: &str = "planledger-store-redb/1";

/// Command ids -> the position of the command's first record: how an append finds that
/// a command was recorded already. A file without the table holds no command ids.
pub(crate) const COMMANDS: TableDefinition<&str, u64> = TableDefinition::new("commands");
/// Derived bytes kept by name (`Store::derived`). A file without the table has none.
pub(crate) const DERIVED: TableDefinition<&str, &[u8]> = TableDefinition::new("derived");
/// Record bytes by position (0, 1, …).
pub(crate) const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");
/// `(stream id, stream version) -> position`.
pub(crate) const STREAMS: TableDefinition<(&str, u64), u64> = TableDefinition::new("streams");
/// Merkle perfect-subtree nodes from [`LOWEST_KEPT_LEVEL`] up: `(level, index) -> hash`.
pub(crate) const NODES: TableDefinition<(u8, u64), &[u8; 32]> = TableDefinition::new("nodes");
/// Stream tags (`Store`'s derived index, not part of the ledger): `(stream, key) -> value`.
pub(crate) const TAGS: TableDefinition<(&str, &str), &str> = TableDefinition::new("tags");
/// The same tags by value: `(key, value, stream) -> ()`.
pub(crate) const TAGS_BY_VALUE: TableDefinition<(&str, &str, &str), ()> =
    TableDefinition::new("tags_by_value");
/// Stream summaries (`Store`'s derived read model, not part of the ledger):
/// `stream -> (stream version, bytes)`. A file without the table has none yet.
pub(crate) const SUMMARIES: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("summaries");
/// Small named values: the layout and the head.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

pub(crate) const META_LAYOUT: &str = "layout";
pub(crate) const META_HEAD: &str = "head";
/// The last record's sealing time (i64 LE µs); absent while the ledger holds no record
/// of a layout with one, as in a file written before layout 2.
pub(crate) const META_SEALED: &str = "sealed_at";

/// The head as stored: size (u64 LE), last hash, root, then one 32-byte peak per set
/// bit of size, largest subtree first. The root is stored as well as the peaks so that
/// opening can check one against the other.
pub(crate) fn encode_head(chain: &Chain) -> Vec<u8> {
    let peaks = chain.frontier.peaks();
    let mut b = Vec::with_capacity(8 + 64 + 32 * peaks.len());
    b.extend_from_slice(&chain.frontier.size().to_le_bytes());
    b.extend_from_slice(chain.last_hash.as_bytes());
    b.extend_from_slice(chain.frontier.root().as_bytes());
    for p in peaks {
        b.extend_from_slice(p.as_bytes());
    }
    b
}

/// Decodes a stored head into the chain it describes, checking that its size, peaks
/// and root agree.
pub(crate) fn decode_head(b: &[u8]) -> Result<Chain, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        position: 0,
        reason,
    };
    if b.len() < 72 || (b.len() - 72) % 32 != 0 {
        return Err(corrupt(format!(
            "the stored head is {} bytes long",
            b.len()
        )));
    }
    let size = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let hash_at = |at: usize| Hash(b[at..at + 32].try_into().expect("32 bytes"));
    let last_hash = hash_at(8);
    let root = hash_at(40);
    let peaks = (72..b.len()).step_by(32).map(hash_at).collect();
    let frontier = Frontier::from_peaks(size, peaks).ok_or_else(|| StoreError::Corrupt {
        position: size.saturating_sub(1),
        reason: "the stored head's Merkle peaks do not match its size".into(),
    })?;
    if frontier.root() != root {
        return Err(StoreError::Corrupt {
            position: size.saturating_sub(1),
            reason: "the stored head's root does not match its Merkle peaks".into(),
        });
    }
    Ok(Chain {
        last_hash,
        frontier,
        last_sealed_micros: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use planledger_ledger::peak_ids;

    #[test]
    fn head_round_trips_and_its_peaks_are_the_frontier_nodes() {
        let mut chain = Chain::default();
        let mut nodes = std::collections::HashMap::new();
        for i in 0..23u8 {
            chain.last_hash = Hash([i; 32]);
            chain.frontier.push(chain.last_hash, |id, h| {
                nodes.insert((id.level, id.index), h);
            });
            assert_eq!(decode_head(&encode_head(&chain)).unwrap(), chain);
            let from_nodes: Vec<Hash> = peak_ids(chain.frontier.size())
                .map(|id| nodes[&(id.level, id.index)])
                .collect();
            assert_eq!(from_nodes, chain.frontier.peaks());
        }
    }

    #[test]
    fn head_with_a_wrong_root_is_corrupt() {
        let mut chain = Chain::default();
        chain.frontier.push(Hash([1; 32]), |_, _| {});
        let mut b = encode_head(&chain);
        b[40] ^= 1;
        assert!(matches!(decode_head(&b), Err(StoreError::Corrupt { .. })));
    }
}
