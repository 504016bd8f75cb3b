//! Checks every test vector in `FORMAT.md` (§10) against this implementation, so the
//! specification and the code cannot drift apart. The vectors are parsed from the
//! document itself; an unknown vector kind fails the test instead of being skipped.

use std::collections::HashMap;

use planledger_ledger::{
    Actor, Checkpoint, CheckpointSigner, CheckpointVerifier, ConsistencyProof, Entry, Envelope,
    Hash, InclusionProof, MAP_EMPTY, Map, MapProof, MapProofEnd, MemoryTree, Record, client_key,
    client_salt, client_value, consistency_proof, inclusion_proof, leaf_hash, map_leaf_hash,
    map_node_hash, map_value_hash, node_hash, seal, seal_layout1, stream_key, stream_value,
};
use planledger_ledger::{
    AddCheckpoint, SignedNote, TreeHead, WitnessPolicy, WitnessSigner, WitnessVerifier,
    check_request, cosigned_message,
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
    // Layout 1 has one time, `recorded_at`, read as the claimed time; layout 2 a sealing
    // time and a claimed time, and a command id.
    let layout1 = v.fields.contains_key("recorded_at_micros");
    let entry = Entry {
        stream_id: v.get("stream_id").into(),
        stream_version: v.num("stream_version"),
        claimed_at_micros: v.num(if layout1 {
            "recorded_at_micros"
        } else {
            "claimed_at_micros"
        }),
        command_id: if layout1 {
            String::new()
        } else {
            v.get("command_id").into()
        },
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
    let r = if layout1 {
        seal_layout1(v.num("position"), v.hash("prev_hash"), &entry).unwrap()
    } else {
        seal(
            v.num("position"),
            v.hash("prev_hash"),
            v.num("sealed_at_micros"),
            &entry,
        )
        .unwrap()
    };
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
    assert_eq!(d.format_version(), if layout1 { 1 } else { 2 });
    assert_eq!(
        d.sealed_at_micros(),
        (!layout1).then(|| v.num("sealed_at_micros"))
    );
    assert_eq!(d.hash(), v.hash("hash"));
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// §12.5: keys and values of the map's two kinds of leaves.
fn check_map_leaf(v: &Vector) {
    match v.get("leaf") {
        "stream" => {
            assert_eq!(
                stream_key(v.get("stream_id")),
                v.hash("key"),
                "line {}",
                v.line
            );
            let value = stream_value(v.num("length"), &v.hash("last"));
            assert_eq!(value, v.hex("value"), "line {}", v.line);
        }
        "client" => {
            let map_key: [u8; 32] = v.hex("map_key").try_into().unwrap();
            let salt = client_salt(&map_key, v.get("client"));
            assert_eq!(salt, v.hash("salt"), "line {}", v.line);
            assert_eq!(client_key(&salt, v.get("client")), v.hash("key"));
            let plans: Vec<&str> = v.get("plans").split_whitespace().collect();
            assert_eq!(client_value(&plans).unwrap(), v.hex("value"));
        }
        other => panic!("line {}: unknown map leaf kind {other}", v.line),
    }
    let vh = map_value_hash(&v.hex("value"));
    assert_eq!(vh, v.hash("value_hash"), "line {}", v.line);
    assert_eq!(map_leaf_hash(&v.hash("key"), &vh), v.hash("leaf_hash"));
}

/// §12.5: a map of the leaves given, its root, one inclusion and one absence proof.
fn check_map(v: &Vector) {
    let keys = v.hashes("keys");
    let values: Vec<Vec<u8>> = v.get("values").split_whitespace().map(hex_bytes).collect();
    assert_eq!(keys.len(), values.len(), "line {}", v.line);
    let map = Map::new(keys.iter().copied().zip(values.iter().cloned())).unwrap();
    let root = v.hash("root");
    assert_eq!(map.root(), root, "root, line {}", v.line);
    let (i, siblings) = (v.num::<usize>("prove"), v.hashes("siblings"));
    let proof = map.prove(&keys[i]);
    assert_eq!(proof.end, MapProofEnd::Found);
    assert_eq!(proof.siblings, siblings, "siblings, line {}", v.line);
    MapProof::verify_inclusion(&siblings, &keys[i], &values[i], &root).unwrap();
    let absent = v.hash("absent");
    let proof = map.prove(&absent);
    assert_eq!(
        proof.siblings,
        v.hashes("absent_siblings"),
        "absent_siblings, line {}",
        v.line
    );
    let end: Vec<&str> = v.get("absent_end").split_whitespace().collect();
    let expected = match end.as_slice() {
        ["empty"] => MapProofEnd::Empty,
        ["other", key, value_hash] => MapProofEnd::Other {
            key: Hash::from_hex(key).unwrap(),
            value_hash: Hash::from_hex(value_hash).unwrap(),
        },
        _ => panic!(
            "line {}: absent_end is `empty` or `other KEY VALUE_HASH`",
            v.line
        ),
    };
    assert_eq!(proof.end, expected, "absent_end, line {}", v.line);
    proof.verify_absence(&absent, &root).unwrap();
    // The node rule, checked once by hand: a map of two leaves whose keys differ in the
    // first bit is node(leaf of the 0-key, leaf of the 1-key).
    let (mut a, mut b) = (Hash([0; 32]), Hash([0xff; 32]));
    a.0[31] = 1;
    b.0[31] = 2;
    let two = Map::new([(b, vec![2]), (a, vec![1])]).unwrap();
    assert_eq!(
        two.root(),
        map_node_hash(
            &map_leaf_hash(&a, &map_value_hash(&[1])),
            &map_leaf_hash(&b, &map_value_hash(&[2]))
        )
    );
    assert_eq!(Map::default().root(), MAP_EMPTY);
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
        map_root: v.fields.get("map_root").map(|_| v.hash("map_root")),
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

/// §13.7: a witness key's texts, the signed message and the cosigned note.
fn check_cosignature(v: &Vector) {
    let note = v
        .note
        .as_deref()
        .expect("a cosignature vector is followed by its note");
    let seed: [u8; 32] = v.hex("seed").try_into().unwrap();
    let signer = WitnessSigner::from_seed(v.get("key_name"), seed).unwrap();
    assert_eq!(signer.to_key_text(), v.get("private_key"));
    assert_eq!(signer.verifier().to_text(), v.get("verifier_key"));
    assert_eq!(format!("{:08x}", signer.key_id()), v.get("key_id"));
    let verifier = WitnessVerifier::from_text(v.get("verifier_key")).unwrap();
    let log = CheckpointVerifier::from_text(v.get("log_verifier_key")).unwrap();
    Checkpoint::verify(note, &[log]).unwrap();
    let parsed = SignedNote::parse(note).unwrap();
    let timestamp: u64 = v.num("timestamp");
    assert_eq!(
        cosigned_message(parsed.body, timestamp).as_bytes(),
        v.hex("message").as_slice(),
        "message, line {}",
        v.line
    );
    // The last line is the cosignature, byte for byte (Ed25519 is deterministic).
    let last = parsed.signatures.last().unwrap();
    assert_eq!(
        signer.cosign(parsed.body, timestamp).unwrap(),
        format!("{}\n", last.line),
        "cosignature, line {}",
        v.line
    );
    let found = WitnessPolicy::new(vec![verifier], 1)
        .unwrap()
        .check(note)
        .unwrap();
    assert_eq!(found[0].timestamp, timestamp);
}

/// §13.7: a request parses, re-encodes to the same text, and a witness that cosigned the
/// old tree accepts it.
fn check_witness_request(v: &Vector) {
    let text = v
        .note
        .as_deref()
        .expect("a witness-request vector is followed by the request");
    let request = AddCheckpoint::parse(text).unwrap();
    assert_eq!(request.encode(), text);
    assert_eq!(request.old_size, v.num::<u64>("old_size"));
    let log = CheckpointVerifier::from_text(v.get("log_verifier_key")).unwrap();
    let cp = Checkpoint::verify(&request.note, &[log]).unwrap();
    let tree = blake3_le64_tree(v, cp.size);
    assert_eq!(
        request.proof,
        consistency_proof(&tree, request.old_size, cp.size)
            .unwrap()
            .path
    );
    let old = TreeHead {
        size: request.old_size,
        root: v.hash("old_root"),
    };
    check_request(Some(old), &request, cp.tree_head()).unwrap();
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
            "map-leaf" => check_map_leaf(&v),
            "map" => check_map(&v),
            "cosignature" => check_cosignature(&v),
            "witness-request" => check_witness_request(&v),
            other => panic!("FORMAT.md line {}: unknown vector kind {other}", v.line),
        }
        *counts.entry(kind).or_default() += 1;
    }
    // The document must keep at least these vectors; deleting one fails here.
    for (kind, min) in [
        ("record", 4),
        ("leaf", 2),
        ("node", 1),
        ("tree", 8),
        ("inclusion", 1),
        ("consistency", 1),
        ("checkpoint", 2),
        ("map-leaf", 2),
        ("map", 1),
        ("cosignature", 1),
        ("witness-request", 1),
    ] {
        assert!(
            counts.get(kind).copied().unwrap_or(0) >= min,
            "FORMAT.md has fewer than {min} {kind} vectors: {counts:?}"
        );
    }
}

#[test]
fn format_md_record_offsets_match_the_layout() {
    // §2 gives fixed offsets for both layouts; pin them against sealed records.
    let records: Vec<Vector> = vectors()
        .into_iter()
        .filter(|v| v.get("kind") == "record")
        .collect();
    let v = records
        .iter()
        .find(|v| v.fields.contains_key("sealed_at_micros"))
        .expect("a layout-2 record vector");
    let b = v.hex("bytes");
    assert_eq!(u16::from_le_bytes([b[0], b[1]]), 2);
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
        v.num::<i64>("sealed_at_micros")
    );
    assert_eq!(
        i64::from_le_bytes(b[58..66].try_into().unwrap()),
        v.num::<i64>("claimed_at_micros")
    );
    assert_eq!(
        u16::from_le_bytes([b[66], b[67]]),
        v.num::<u16>("schema_version")
    );
    assert_eq!(usize::from(b[68]), v.get("stream_id").len());

    let v = records
        .iter()
        .find(|v| v.fields.contains_key("recorded_at_micros"))
        .expect("a layout-1 record vector");
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
