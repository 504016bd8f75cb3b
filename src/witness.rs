//! `witness`: independent witnesses (FORMAT.md §13). The witness makes its key and
//! cosigns; the log's operator asks (`request`) and keeps the answers (`attach`).

use std::io::Write;

use planledger_app::{Error, Result, cosign, keys};

use crate::flags::WitnessCmd;
use crate::{Context, exit};

pub fn run(ctx: &Context, command: WitnessCmd) -> Result<()> {
    match command {
        WitnessCmd::Keygen { name, out } => {
            let signer = keys::witness_keygen(&name, &out)?;
            eprintln!(
                "wrote the witness's secret key to {} (mode 0600); keep it on the witness's own machine. \
                 The witness's verifier key, for the log's operator and for whoever verifies with a witness policy:",
                exit::mask(out.display())
            );
            println!("{}", signer.verifier().to_text());
            Ok(())
        }
        WitnessCmd::Request {
            witness,
            pubkey,
            old,
        } => {
            let key = keys::load_verifier(&pubkey, &ctx.limits)?;
            let store = ctx.open()?;
            let (request, latest) =
                cosign::request(store.as_ref(), &witness, &key, old, &ctx.limits)?;
            crate::stdout()
                .write_all(request.encode().as_bytes())
                .map_err(|e| Error::io("cannot write the request", e))?;
            eprintln!(
                "a request for the checkpoint of {} records, proven from {} records; give it to the witness",
                latest.checkpoint.size, old
            );
            Ok(())
        }
        WitnessCmd::Cosign {
            key,
            state,
            log_key,
            request,
        } => {
            let signer = keys::load_witness_signer(&key, &ctx.limits)?;
            let log = keys::load_verifier(&log_key, &ctx.limits)?;
            let done = cosign::cosign(
                &signer,
                &state,
                &log,
                &request,
                chrono::Utc::now(),
                &ctx.limits,
            )?;
            crate::stdout()
                .write_all(done.line.as_bytes())
                .map_err(|e| Error::io("cannot write the cosignature", e))?;
            eprintln!(
                "cosigned the checkpoint of {} records (this witness had cosigned {} before); give the line above to the log's operator",
                done.checkpoint.size, done.previous
            );
            Ok(())
        }
        WitnessCmd::Attach {
            witness,
            pubkey,
            witness_keys,
            cosignatures,
        } => {
            let log = keys::load_verifier(&pubkey, &ctx.limits)?;
            let witnesses = witness_keys
                .iter()
                .map(|f| keys::load_witness_verifier(f, &ctx.limits))
                .collect::<Result<Vec<_>>>()?;
            for a in cosign::attach(&witness, &log, &witnesses, &[cosignatures], &ctx.limits)? {
                println!(
                    "{} the cosignature by {} to the checkpoint of {} records in {}",
                    if a.added {
                        "attached"
                    } else {
                        "kept (already there)"
                    },
                    a.witness,
                    a.size,
                    exit::mask(a.file.display())
                );
            }
            Ok(())
        }
    }
}
