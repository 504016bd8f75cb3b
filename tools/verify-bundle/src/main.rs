//! `verify-bundle`: checks a planledger evidence bundle offline and prints the plan
//! history it proves. See the library documentation for what is checked.

use std::process::ExitCode;

use planledger_ledger::{CheckpointVerifier, WitnessPolicy, WitnessVerifier};
use verify_bundle::report::{self, Lang};

const USAGE: &str = "\
verify-bundle — check a planledger evidence bundle offline

USAGE:
    verify-bundle BUNDLE --pubkey VERIFIERKEY [--since OLD.checkpoint] [--client FILE]
                  [--witness-key FILE ... [--witness-threshold K]]
                  [--show-personnummer] [--max-bundle-bytes N]
                  [--format text|html|json] [--lang sv|en]
    verify-bundle --version

ARGS:
    BUNDLE                 the bundle file written by `planledger export`, or an HTML
                           complaint dossier (`planledger dossier`), which embeds it
    --pubkey FILE          the ledger's public verifier key text (printed by
                           `planledger keygen`), obtained from the organisation by a
                           channel of your own — not from the bundle's sender alone
    --since FILE           a checkpoint you already hold (from an earlier inspection): the
                           bundle must prove that its log extends exactly that one; a
                           bundle whose checkpoint is older than it is stale and fails
    --client FILE          a file holding the personnummer of the client you asked for
                           (12 digits, YYYYMMDD-NNNN): the bundle must be about them
                           (a file, so the number stays out of shell history and ps)
    --witness-key FILE     the verifier key of an independent witness you trust (printed
                           by `planledger witness keygen`, obtained from the witness);
                           repeat for each: the bundle's checkpoint must carry valid
                           cosignatures by at least --witness-threshold of them, and no
                           altered one by any of them (FORMAT.md §13.5)
    --witness-threshold K  how many of the --witness-key witnesses must have cosigned
                           (K of N); all of them by default
    --show-personnummer    print personnummer in full (masked as 19640823-**** otherwise)
    --max-bundle-bytes N   refuse a bundle longer than N bytes (default 268435456,
                           256 MiB); it is never read further
    --format FORMAT        text (the default): the history for people; html: the same
                           as one HTML page (no script) to keep or print; json: a report
                           for programs, and on failure {\"ok\": false, \"error\": …}
    --lang LANG            sv (Swedish) or en (English, the default) for the history,
                           its events and the verdict; times are always Swedish local
                           time (Europe/Stockholm) with the offset
    --version              print the version and the bundle format it reads

Checks the checkpoint's ed25519 signature, each record's hash over its stored bytes,
each record's inclusion proof against the signed root, and that each plan's records
run from version 1 without a gap, and a consistency proof from an earlier checkpoint when
the bundle carries one. When the checkpoint commits a map of the ledger (its `map`
line), checks the bundle's map proofs: that it holds every record of each of the
client's plans up to the checkpoint, every plan of the client, and nothing of anyone
else; it then prints \"complete history of N plans as of checkpoint S\". A checkpoint made
before the map proves inclusion only, and the output says so.
A weeded client's records are sealed (their key destroyed): the bundle carries them as
stored with the weeding record that destroyed the key, both proven, and the output says
\"weeded on DATE under RULE\" in place of their content.

EXIT CODES:
    0  the bundle verifies
    1  the bundle does not verify (the reason is printed), or its checkpoint does not
       meet the witness policy (how many valid cosignatures it carries is printed)
    2  usage error, or the bundle or a key file cannot be read, or is too long, or the
       witness policy cannot be met (a threshold above the number of keys, a key twice)
";

struct Args {
    bundle: String,
    pubkey: String,
    since: Option<String>,
    client: Option<String>,
    witness_keys: Vec<String>,
    witness_threshold: Option<usize>,
    show_personnummer: bool,
    max_bundle_bytes: u64,
    format: Format,
    lang: Lang,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Html,
    Json,
}

/// The default bundle limit: a client's whole history is a few MB at most.
const DEFAULT_MAX_BUNDLE_BYTES: u64 = 256 << 20;
/// A verifier key is one line of about 80 bytes.
const MAX_KEY_BYTES: u64 = 64 << 10;

fn parse_args() -> Result<Args, String> {
    let mut bundle = None;
    let mut pubkey = None;
    let mut since = None;
    let mut client = None;
    let mut witness_keys = Vec::new();
    let mut witness_threshold = None;
    let mut show_personnummer = false;
    let mut max_bundle_bytes = DEFAULT_MAX_BUNDLE_BYTES;
    let mut format = Format::Text;
    let mut lang = Lang::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (arg, inline) = match arg.split_once('=') {
            Some((name, value)) if name == "--format" || name == "--lang" => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "-V" | "--version" => {
                println!(
                    "verify-bundle {} (reads {})",
                    env!("CARGO_PKG_VERSION"),
                    verify_bundle::BUNDLE_FORMAT
                );
                std::process::exit(0);
            }
            "--format" => {
                format = match inline.or_else(|| args.next()).as_deref() {
                    Some("text") => Format::Text,
                    Some("html") => Format::Html,
                    Some("json") => Format::Json,
                    _ => return Err("--format needs text, html or json".into()),
                }
            }
            "--lang" => {
                lang = inline
                    .or_else(|| args.next())
                    .as_deref()
                    .and_then(Lang::parse)
                    .ok_or("--lang needs sv or en")?
            }
            "--pubkey" => pubkey = Some(args.next().ok_or("--pubkey needs a file")?),
            "--since" => since = Some(args.next().ok_or("--since needs a checkpoint file")?),
            "--client" => client = Some(args.next().ok_or("--client needs a file")?),
            "--witness-key" => witness_keys.push(
                args.next()
                    .ok_or("--witness-key needs a witness key file")?,
            ),
            "--witness-threshold" => {
                witness_threshold = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .ok_or("--witness-threshold needs a number of witnesses")?,
                )
            }
            "--show-personnummer" => show_personnummer = true,
            "--max-bundle-bytes" => {
                max_bundle_bytes = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--max-bundle-bytes needs a number of bytes")?
            }
            s if s.starts_with("--pubkey=") => pubkey = Some(s["--pubkey=".len()..].to_owned()),
            // The option only, never a value that came with it.
            s if s.starts_with('-') => {
                let name = s.split('=').next().unwrap_or(s);
                let name = if planledger_plan::looks_like_personnummer(name) {
                    "given"
                } else {
                    name
                };
                return Err(format!("unknown option {name}"));
            }
            _ if bundle.is_none() => bundle = Some(arg),
            _ => return Err("give exactly one bundle".into()),
        }
    }
    if witness_threshold.is_some() && witness_keys.is_empty() {
        return Err("--witness-threshold needs the witnesses' keys (--witness-key FILE)".into());
    }
    Ok(Args {
        bundle: bundle.ok_or("give the bundle file to check")?,
        pubkey: pubkey.ok_or("give the ledger's verifier key with --pubkey FILE")?,
        since,
        client,
        witness_keys,
        witness_threshold,
        show_personnummer,
        max_bundle_bytes,
        format,
        lang,
    })
}

/// Reads at most `limit` bytes of a UTF-8 file (a symlink to `/dev/zero` is refused
/// once past the limit, never read until memory runs out).
fn read(path: &str, what: &str, limit: u64, how: &str) -> Result<String, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read the {what} {path}: {e}");
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "the {what} {path} is longer than the limit of {limit} bytes ({how})"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the {what} {path} is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The witness policy of `--witness-key` and `--witness-threshold`, if any.
fn witness_policy(args: &Args) -> Result<Option<WitnessPolicy>, String> {
    if args.witness_keys.is_empty() {
        return Ok(None);
    }
    let keys = args
        .witness_keys
        .iter()
        .map(|path| {
            let text = read(path, "witness key file", MAX_KEY_BYTES, "a key is one short line")?;
            WitnessVerifier::from_text(&text).map_err(|e| {
                format!(
                    "{path} is not a witness verifier key: {}; use the key `planledger witness keygen` printed",
                    verify_bundle::checkpoint_message(&e)
                )
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let n = keys.len();
    WitnessPolicy::new(keys, args.witness_threshold.unwrap_or(n))
        .map(Some)
        .map_err(|e| format!("--witness-key / --witness-threshold: {e}"))
}

/// Says why the bundle was not verified: on standard error, and with `--format json`
/// also as `{"ok": false, "error": {kind, message, exit_code}}` on standard output. The
/// message never holds a personnummer in full.
fn fail(format: Format, code: u8, kind: &str, message: &str) -> ExitCode {
    let message = planledger_plan::json::mask_personnummer(message);
    eprintln!("verify-bundle: {message}");
    if format == Format::Json {
        let report = serde_json::json!({
            "ok": false,
            "error": { "kind": kind, "message": message, "exit_code": code },
        });
        println!("{report:#}");
    }
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("verify-bundle: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let f = args.format;
    let (bundle, key) = match (
        read(
            &args.bundle,
            "bundle",
            args.max_bundle_bytes,
            "--max-bundle-bytes",
        ),
        read(
            &args.pubkey,
            "key file",
            MAX_KEY_BYTES,
            "a key is one short line",
        ),
    ) {
        (Ok(b), Ok(k)) => (b, k),
        (Err(e), _) | (_, Err(e)) => return fail(f, 2, "bad_input", &e),
    };
    // A complaint dossier (HTML) carries its bundle embedded.
    let bundle = match verify_bundle::bundle_text(&bundle) {
        Some(b) => b.to_owned(),
        None => {
            return fail(
                f,
                2,
                "bad_input",
                &format!(
                    "{} is HTML without an embedded bundle; give the bundle file or a dossier from `planledger dossier`",
                    args.bundle
                ),
            );
        }
    };
    let key = match CheckpointVerifier::from_text(&key) {
        Ok(k) => k,
        Err(e) => {
            return fail(
                f,
                2,
                "bad_input",
                &format!(
                    "{} is not a verifier key: {}; use the key `planledger keygen` printed",
                    args.pubkey,
                    verify_bundle::checkpoint_message(&e)
                ),
            );
        }
    };
    let since = match &args.since {
        None => None,
        Some(path) => match read(
            path,
            "checkpoint",
            MAX_KEY_BYTES,
            "a checkpoint is a few lines",
        ) {
            Ok(text) => Some(text),
            Err(e) => return fail(f, 2, "bad_input", &e),
        },
    };
    let client = match &args.client {
        None => None,
        Some(path) => {
            let parsed = read(
                path,
                "client file",
                MAX_KEY_BYTES,
                "a personnummer is one line",
            )
            .and_then(|text| {
                planledger_plan::Personnummer::parse(text.trim()).map_err(|e| {
                    format!("the client file {path} does not hold a personnummer: {e}")
                })
            });
            match parsed {
                Ok(p) => Some(p),
                Err(e) => return fail(f, 2, "bad_input", &e),
            }
        }
    };
    let policy = match witness_policy(&args) {
        Ok(p) => p,
        Err(e) => return fail(f, 2, "bad_input", &e),
    };
    match verify_bundle::verify_witnessed(
        &bundle,
        &key,
        since.as_deref(),
        client.as_ref(),
        policy.as_ref(),
    ) {
        Ok(proven) => {
            let options = report::Options {
                lang: args.lang,
                show_personnummer: args.show_personnummer,
                witness_policy: policy.as_ref().map(|p| (p.keys().len(), p.threshold())),
            };
            match f {
                Format::Text => print!("{}", report::text(&proven, &options)),
                Format::Html => print!("{}", report::html(&proven, &options)),
                Format::Json => println!("{:#}", report::json(&proven, &options)),
            }
            ExitCode::SUCCESS
        }
        // A plan id in the message comes from the bundle, which is not trusted: one
        // shaped like a personnummer is masked (by `fail`).
        Err(e) => fail(f, 1, "verification", &format!("FAILED: {e}")),
    }
}
