//! JSON Schemas generated from the types an integrator writes: the import line and the
//! plan content. The files in the repository's `schema/` are these, checked by a test.

use planledger_plan::{ImportLine, PlanContent};

/// The schemas by file name, pretty-printed with a final newline.
pub fn all() -> Vec<(&'static str, String)> {
    let text = |s: schemars::Schema| {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&s).expect("a schema serialises")
        )
    };
    vec![
        (
            "import-line.schema.json",
            text(schemars::schema_for!(ImportLine)),
        ),
        (
            "plan-content.schema.json",
            text(schemars::schema_for!(PlanContent)),
        ),
    ]
}
