//! The JSON Schemas in the repository's `schema/` are the ones the types generate, and the
//! integrator's page documents every command they allow.

use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
}

#[test]
fn the_schema_files_are_generated_from_the_types() {
    for (name, generated) in planledger_app::schema::all() {
        let path = repo().join("schema").join(name);
        if std::env::var_os("PLANLEDGER_WRITE_SCHEMAS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            stored == generated,
            "{} differs from the types; regenerate it with \
             `PLANLEDGER_WRITE_SCHEMAS=1 cargo test -p planledger-app --test schema`",
            path.display()
        );
    }
}

#[test]
fn every_command_of_the_schema_is_documented_for_integrators() {
    let (_, line) = &planledger_app::schema::all()[0];
    let schema: serde_json::Value = serde_json::from_str(line).unwrap();
    let docs = std::fs::read_to_string(repo().join("docs/IMPORT.md")).unwrap();
    let mut names = Vec::new();
    collect_consts(&schema, &mut names);
    assert!(
        names.len() >= 13,
        "the schema names the commands: {names:?}"
    );
    for name in names {
        assert!(
            docs.contains(&format!("### `{name}`")),
            "docs/IMPORT.md has no section for the command {name}"
        );
    }
}

/// Every `"command": {"const": NAME}` in the schema.
fn collect_consts(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(name) = m
                .get("command")
                .and_then(|c| c.get("const"))
                .and_then(|c| c.as_str())
            {
                out.push(name.to_owned());
            }
            m.values().for_each(|v| collect_consts(v, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_consts(v, out)),
        _ => {}
    }
}
