//! `show`: one version of one plan, with its content.

use std::io::Write;

use planledger_app::read::{self, Which};
use planledger_app::{Error, Result};

use crate::flags::ShowArgs;
use crate::{Context, stdout};
use planledger_serve::client::{query, segment};

pub fn show(ctx: &Context, a: ShowArgs) -> Result<()> {
    if let Some(server) = ctx.server()? {
        let purpose = crate::audit::purpose(&a.output, true)?;
        let path = format!(
            "/v1/plans/{}{}",
            segment(a.plan.as_str()),
            query(&[
                ("version", a.version.map(|v| v.to_string())),
                ("as_of", a.as_of.map(|d| d.to_string())),
                (
                    "reveal_personnummer",
                    a.output.show_personnummer.then(|| "true".into())
                ),
                (
                    "format",
                    Some(crate::audit::output(&a.output).format.name().into())
                ),
                ("lang", Some(a.output.lang.name().into())),
            ])
        );
        let body = server.get(&path, purpose.as_deref())?;
        return stdout()
            .write_all(&body)
            .map_err(|e| Error::io("cannot write the output", e));
    }
    let which = match (a.version, a.as_of) {
        (Some(n), _) => Which::Number(n),
        (None, Some(day)) => Which::InForceOn(day),
        (None, None) => Which::Current,
    };
    let store = ctx.open()?;
    read::show(
        store.as_ref(),
        &a.plan,
        which,
        a.output.show_personnummer,
        crate::audit::output(&a.output),
        &mut stdout(),
    )
}
