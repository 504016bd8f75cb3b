//! JSON Schemas generated from the types an integrator writes: the import line and the
//! plan content. The files in the repository's `schema/` are these, checked by a test.

use planledger_plan::{ImportLine, PlanContent};

/// The schemas by file name, pretty-printed with a final newline.
pub fn all() -> Vec<(&'static str, String)> {
    let text = |s: schemars::Schema| {
        let json = serde_json::to_string_pretty(&s).expect("a schema serialises");
        format!("{json}\n")
    };
    let mut line = schemars::schema_for!(ImportLine);
    // The command's fields stand beside the line's (serde's flatten), so only a keyword
    // that sees the line's properties and the chosen command's together can refuse a
    // field that is neither's, as the reader does.
    line.insert("unevaluatedProperties".into(), false.into());
    vec![
        ("import-line.schema.json", text(line)),
        (
            "plan-content.schema.json",
            text(schemars::schema_for!(PlanContent)),
        ),
    ]
}
