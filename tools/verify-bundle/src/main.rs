//! `verify-bundle`: checks a planledger evidence bundle offline and prints the plan
//! history it proves. See the library documentation for what is checked.

use std::process::ExitCode;

use planledger_ledger::CheckpointVerifier;

const USAGE: &str = "\
verify-bundle — check a planledger evidence bundle offline

USAGE:
    verify-bundle BUNDLE --pubkey VERIFIERKEY [--show-personnummer]

ARGS:
    BUNDLE                 the bundle file written by `planledger export`
    --pubkey FILE          the ledger's public verifier key text (printed by
                           `planledger keygen`), obtained from the organisation by a
                           channel of your own — not from the bundle's sender alone
    --show-personnummer    print personnummer in full (masked as 19640823-**** otherwise)

Checks the checkpoint's ed25519 signature, each record's hash over its stored bytes,
each record's inclusion proof against the signed root, and that each plan's records
run from version 1 without a gap; then prints the history they prove.

EXIT CODES:
    0  the bundle verifies
    1  the bundle does not verify (the reason is printed)
    2  usage error, or the bundle or key file cannot be read
";

struct Args {
    bundle: String,
    pubkey: String,
    show_personnummer: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut bundle = None;
    let mut pubkey = None;
    let mut show_personnummer = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--pubkey" => pubkey = Some(args.next().ok_or("--pubkey needs a file")?),
            "--show-personnummer" => show_personnummer = true,
            s if s.starts_with("--pubkey=") => pubkey = Some(s["--pubkey=".len()..].to_owned()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ if bundle.is_none() => bundle = Some(arg),
            _ => return Err("give exactly one bundle".into()),
        }
    }
    Ok(Args {
        bundle: bundle.ok_or("give the bundle file to check")?,
        pubkey: pubkey.ok_or("give the ledger's verifier key with --pubkey FILE")?,
        show_personnummer,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("verify-bundle: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let read = |path: &str, what: &str| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the {what} {path}: {e}"))
    };
    let (bundle, key) = match (read(&args.bundle, "bundle"), read(&args.pubkey, "key file")) {
        (Ok(b), Ok(k)) => (b, k),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("verify-bundle: {e}");
            return ExitCode::from(2);
        }
    };
    let key = match CheckpointVerifier::from_text(&key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!(
                "verify-bundle: {} is not a verifier key: {e}; use the key `planledger keygen` printed",
                args.pubkey
            );
            return ExitCode::from(2);
        }
    };
    match verify_bundle::verify(&bundle, &key) {
        Ok(proven) => {
            print!(
                "{}",
                verify_bundle::render_history(&proven, args.show_personnummer)
            );
            println!("OK: the bundle verifies");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("verify-bundle: FAILED: {e}");
            ExitCode::from(1)
        }
    }
}
