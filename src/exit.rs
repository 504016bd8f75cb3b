//! Exit codes, documented in `--help` (`flags::AFTER_HELP`) and the README; scripts
//! depend on them. Command-line errors are printed without the value given: it may be a
//! personnummer or a name.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use planledger_app::Kind;

/// The code of a failure's kind.
pub fn code(kind: Kind) -> ExitCode {
    ExitCode::from(kind.exit_code())
}

/// What planledger prints about its input (a message, a path the user gave), with any
/// personnummer in it masked: the last guard, whatever a message quotes.
pub fn mask(text: impl std::fmt::Display) -> String {
    planledger_plan::json::mask_personnummer(&text.to_string())
}

/// Prints a command-line error and returns its code. clap's own message repeats a
/// rejected value; for those this prints the flag and the rule only, and in every other
/// error (`unexpected argument 'Testperson Ett' found`) a quoted word that is not an
/// option or a subcommand is shown as '…'.
pub fn usage(e: clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::from(e.exit_code() as u8);
    }
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        eprint!("{}", mask(quoted_words(&e.render().to_string())));
        return ExitCode::from(e.exit_code() as u8);
    }
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(a)) => a.clone(),
        _ => "a value".to_owned(),
    };
    let rule = match (
        e.get(ContextKind::ValidValue),
        std::error::Error::source(&e),
    ) {
        (Some(ContextValue::Strings(valid)), _) => format!("use one of: {}", valid.join(", ")),
        (_, Some(source)) => source.to_string(),
        _ => "see --help".to_owned(),
    };
    let rule = mask(rule);
    eprintln!("error: invalid value for {arg}: {rule}\n\nFor more information, try '--help'.");
    ExitCode::from(2)
}

/// `text` with every '…'-quoted part that is not made of options and placeholders
/// (`'--plan <ID>'`) replaced by '…': clap quotes what was typed, which may be a name.
fn quoted_words(text: &str) -> String {
    let option_or_placeholder = |w: &str| {
        (w.starts_with('-')
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            || (w.starts_with('<') && w.ends_with('>'))
    };
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('\'').enumerate() {
        if i > 0 {
            out.push('\'');
        }
        let quoted = i % 2 == 1;
        if quoted && !part.split_whitespace().all(option_or_placeholder) {
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}
