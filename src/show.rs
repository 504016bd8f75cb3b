//! `show`: one version of one plan, with its content.

use planledger_app::Result;
use planledger_app::read::{self, Which};

use crate::flags::ShowArgs;
use crate::{Context, stdout};

pub fn show(ctx: &Context, a: ShowArgs) -> Result<()> {
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
