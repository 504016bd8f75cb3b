//! Checks every test vector in `FORMAT.md` (§10) against this implementation, so the
//! specification and the code cannot drift apart. The vectors are parsed from the
//! document itself; an unknown vector kind fails the test instead of being skipped.

use std::collections::HashMap;

use planledger_ledger::{
    Actor, Checkpoint, CheckpointSigner, CheckpointVerifier, ConsistencyProof, Entry, Envelope,
    Hash, InclusionProof, MemoryTree, Record, consistency_proof, inclusion_proof, leaf_hash,
    node_hash, seal,
};

struct Vector {
    /// Line in FORMAT.md where the block starts, for failure messages.
    line: usize,
    fields: HashMap<String, String>,
    /// The contents of a ```note block that follows the vector, if any.
    note: Option<String>,
}

impl Vector {
    fn get(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("vector at line {}: no field {key}", self.line))
    }
    fn hash(&self, key: &str) -> Hash {
        Hash::from_hex(self.get(key))
            .unwrap_or_else(|e| panic!("vector at line {}: {key}: {e}", self.line))
    }
    fn hex(&self, key: &str) -> Vec<u8> {
        let s = self.get(key);
        assert!(
            s.len() % 2 == 0,
            "vector at line {}: {key}: odd hex",
            self.line
        );
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    fn num<T: std::str::FromStr>(&self, key: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        self.get(key).parse().unwrap()
    }
    fn hashes(&self, key: &str) -> Vec<Hash> {
        self.get(key)
            .split_whitespace()
            .map(|h| Hash::from_hex(h).unwrap())
            .collect()
    }
}

fn vectors() -> Vec<Vector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../FORMAT.md");
    let doc = std::fs::read_to_string(path).expect("FORMAT.md at the repository root");
    let lines: Vec<&str> = doc.lines().collect();
    let mut out: Vec<Vector> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let info = lines[i].strip_prefix("```").map(str::trim);
        if let Some(kind @ ("vector" | "note")) = info {
            let start = i + 1;
            let mut end = start;
            while lines[end] != "```" {
                end += 1;
            }
            let body = &lines[start..end];
            if kind == "vector" {
                let fields = body
                    .iter()
                    .map(|l| {
                        let (k, v) = l
                            .split_once(" =")
                            .unwrap_or_else(|| panic!("line {}: not key = value", start + 1));
                        (k.trim().to_string(), v.trim().to_string())
                    })
                    .collect();
                out.push(Vector {
                    line: start,
                    fields,
                    note: None,
                });
            } else {
                let last = out.last_mut().expect("a note block follows a vector");
                last.note = Some(body.iter().map(|l| format!("{l}\n")).collect());
            }
            i = end;
        }
        i += 1;
    }
    out
}

/// The tree-vector leaves: record hash `i` is blake3 of `i` as a little-endian u64.
fn blake3_le64_tree(v: &Vector, size: u64) -> MemoryTree {
    assert_eq!(v.get("leaves"), "blake3-le64");
    let mut t = MemoryTree::new();
    for i in 0..size {
        t.push(Hash(*blake3::hash(&i.to_le_bytes()).as_bytes()));
    }
    t
}

fn check_record(v: &Vector) {
    let entry = Entry {
        stream_id: v.get("stream_id").into(),
        stream_version: v.num("stream_version"),
        recorded_at_micros: v.num("recorded_at_micros"),
        actor: Actor {
            user_id: v.get("actor_id").into(),
            role: v.get("actor_role").into(),
        },
        event_type: v.get("event_type").into(),
        schema_version: v.num("schema_version"),
        envelope: Envelope {
            key_id: v.hex("key_id"),
            nonce: v.hex("nonce"),
        },
        payload: v.hex("payload"),
    };
    let r = seal(v.num("position"), v.hash("prev_hash"), &entry).unwrap();
    assert_eq!(
        r.bytes(),
        v.hex("bytes").as_slice(),
        "bytes, line {}",
        v.line
    );
    assert_eq!(r.hash(), v.hash("hash"), "hash, line {}", v.line);
    // And from the other side: the stored bytes decode to the same entry and hash.
    let d = Record::decode(v.hex("bytes")).unwrap();
    assert_eq!(d.entry(), &entry);
    assert_eq!(d.hash(), v.hash("hash"));
}

fn check_checkpoint(v: &Vector) {
    let note = v
        .note
        .as_deref()
        .expect("a checkpoint vector is followed by its note");
    let seed: [u8; 32] = v.hex("seed").try_into().unwrap();
    let signer = CheckpointSigner::from_seed(v.get("key_name"), seed).unwrap();
    assert_eq!(signer.to_key_text(), v.get("private_key"));
    assert_eq!(signer.verifier().to_text(), v.get("verifier_key"));
    let verifier = CheckpointVerifier::from_text(v.get("verifier_key")).unwrap();
    let cp = Checkpoint {
        origin: v.get("origin").into(),
        size: v.num("size"),
        root: v.hash("root"),
        time_micros: v.num("time_micros"),
    };
    assert_eq!(signer.sign(&cp).unwrap(), note, "note, line {}", v.line);
    assert_eq!(Checkpoint::verify(note, &[verifier]).unwrap(), cp);
    // The root is that of the tree vectors of the same size.
    let tree = blake3_le64_tree(
        &Vector {
            line: v.line,
            fields: HashMap::from([("leaves".into(), "blake3-le64".into())]),
            note: None,
        },
        cp.size,
    );
    assert_eq!(tree.root(), cp.root);
}

#[test]
fn format_md_test_vectors_hold() {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for v in vectors() {
        let kind = v.get("kind").to_string();
        match kind.as_str() {
            "record" => check_record(&v),
            "leaf" => assert_eq!(leaf_hash(&v.hash("record_hash")), v.hash("leaf_hash")),
            "node" => assert_eq!(
                node_hash(&v.hash("left"), &v.hash("right")),
                v.hash("node_hash")
            ),
            "tree" => {
                let size = v.num("size");
                assert_eq!(
                    blake3_le64_tree(&v, size).root(),
                    v.hash("root"),
                    "line {}",
                    v.line
                );
            }
            "inclusion" => {
                let (index, size) = (v.num("index"), v.num("size"));
                let t = blake3_le64_tree(&v, size);
                let p = InclusionProof {
                    index,
                    size,
                    path: v.hashes("path"),
                };
                assert_eq!(inclusion_proof(&t, index, size).unwrap(), p);
                let leaf = Hash(*blake3::hash(&index.to_le_bytes()).as_bytes());
                p.verify(&leaf, &v.hash("root")).unwrap();
            }
            "consistency" => {
                let (old, new) = (v.num("old_size"), v.num("new_size"));
                let t = blake3_le64_tree(&v, new);
                let p = ConsistencyProof {
                    old_size: old,
                    new_size: new,
                    path: v.hashes("path"),
                };
                assert_eq!(consistency_proof(&t, old, new).unwrap(), p);
                p.verify(&v.hash("old_root"), &v.hash("new_root")).unwrap();
            }
            "checkpoint" => check_checkpoint(&v),
            other => panic!("FORMAT.md line {}: unknown vector kind {other}", v.line),
        }
        *counts.entry(kind).or_default() += 1;
    }
    // The document must keep at least these vectors; deleting one fails here.
    for (kind, min) in [
        ("record", 2),
        ("leaf", 2),
        ("node", 1),
        ("tree", 8),
        ("inclusion", 1),
        ("consistency", 1),
        ("checkpoint", 1),
    ] {
        assert!(
            counts.get(kind).copied().unwrap_or(0) >= min,
            "FORMAT.md has fewer than {min} {kind} vectors: {counts:?}"
        );
    }
}

#[test]
fn format_md_record_offsets_match_the_layout() {
    // §2 gives fixed offsets; pin them against a sealed record.
    let v = vectors()
        .into_iter()
        .find(|v| v.get("kind") == "record")
        .unwrap();
    let b = v.hex("bytes");
    assert_eq!(u16::from_le_bytes([b[0], b[1]]), 1);
    assert_eq!(
        u64::from_le_bytes(b[2..10].try_into().unwrap()),
        v.num::<u64>("position")
    );
    assert_eq!(&b[10..42], v.hash("prev_hash").as_bytes());
    assert_eq!(
        u64::from_le_bytes(b[42..50].try_into().unwrap()),
        v.num::<u64>("stream_version")
    );
    assert_eq!(
        i64::from_le_bytes(b[50..58].try_into().unwrap()),
        v.num::<i64>("recorded_at_micros")
    );
    assert_eq!(
        u16::from_le_bytes([b[58], b[59]]),
        v.num::<u16>("schema_version")
    );
    assert_eq!(usize::from(b[60]), v.get("stream_id").len());
}
