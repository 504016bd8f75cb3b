//! `planledger dossier`: the complaint dossier of one client as HTML and as PDF (printed
//! by headless Chromium; its text read back with `pdftotext`, å, ä, ö included), both
//! created mode 0600 and never overwritten, and the bundle in them surviving a round
//! trip through `verify-bundle`. Chromium and pdftotext are required (`.ci/run`
//! installs them): without them this test fails, it does not skip.

use std::os::unix::fs::PermissionsExt;

use planledger_ledger::CheckpointVerifier;

use crate::e2e::walk_home_care;
use crate::e2e_integrity::keys;
use crate::util::TestLedger;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_dossier_is_written_as_html_and_pdf_0600_and_its_bundle_verifies() {
    let t = TestLedger::new();
    let (secret, pubkey) = keys(&t);
    walk_home_care(&t);
    let witness = t.path("witness");
    let witness = witness.to_str().unwrap();
    let html = t.path("akt.html");
    let out = t.ok(&[
        "dossier",
        "--client",
        "19640823-3234",
        "--out",
        html.to_str().unwrap(),
        "--lang",
        "sv",
        "--key",
        &secret,
        "--witness",
        witness,
    ]);
    assert!(out.contains("wrote the dossier of"), "{out}");
    assert!(
        !out.contains("3234"),
        "no personnummer in the output: {out}"
    );
    let text = std::fs::read_to_string(&html).unwrap();
    for expected in [
        "<html lang=\"sv\">",
        "Klagomålsakt 19640823-3234",
        "Version 2",
        "Tidsfrister",
        "Beviset",
        "verify-bundle",
        "exempel.se/planledger",
    ] {
        assert!(text.contains(expected), "the dossier lacks {expected}");
    }
    assert_eq!(mode(&html), 0o600);
    let beside = t.path("akt.html.bundle.json");
    assert_eq!(mode(&beside), 0o600);

    // Round trip: the bundle in the HTML and the one beside it verify.
    let key =
        CheckpointVerifier::from_text(std::fs::read_to_string(&pubkey).unwrap().trim()).unwrap();
    let embedded = verify_bundle::bundle_text(&text).expect("the bundle is embedded");
    let proven = verify_bundle::verify_witnessed(embedded, &key, None, None, None).unwrap();
    assert!(proven.checkpoint.size > 0);
    let json = std::fs::read_to_string(&beside).unwrap();
    verify_bundle::verify_witnessed(&json, &key, None, None, None).unwrap();
    // A tampered dossier fails.
    let forged = text.replacen("\"record\": \"", "\"record\": \"AA", 1);
    assert_ne!(forged, text);
    let b = verify_bundle::bundle_text(&forged).unwrap();
    assert!(verify_bundle::verify_witnessed(b, &key, None, None, None).is_err());

    // Never overwritten.
    let again = t.fails_at(
        "2026-03-02T09:00:00Z",
        &[
            "dossier",
            "--client",
            "19640823-3234",
            "--out",
            html.to_str().unwrap(),
            "--pubkey",
            &pubkey,
            "--witness",
            witness,
        ],
        2,
    );
    assert!(again.contains("never overwritten"), "{again}");
    // A bad extension is refused before anything is read.
    t.fails_at(
        "2026-03-02T09:00:00Z",
        &[
            "dossier",
            "--client",
            "19640823-3234",
            "--out",
            t.path("akt.txt").to_str().unwrap(),
            "--pubkey",
            &pubkey,
            "--witness",
            witness,
        ],
        2,
    );

    // The PDF, in English this time; its text extracted.
    let pdf = t.path("akt.pdf");
    t.ok(&[
        "dossier",
        "--client",
        "19640823-3234",
        "--out",
        pdf.to_str().unwrap(),
        "--lang",
        "en",
        "--pubkey",
        &pubkey,
        "--witness",
        witness,
    ]);
    assert_eq!(mode(&pdf), 0o600);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let extracted = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let extracted = String::from_utf8(extracted.stdout).unwrap();
    for expected in [
        "Complaint dossier 19640823-3234",
        "Deadlines",
        "The proof",
        "verify-bundle",
    ] {
        assert!(
            extracted.contains(expected),
            "the PDF lacks {expected}: {extracted}"
        );
    }
    // Swedish letters survive the PDF (the plan's own text).
    assert!(
        extracted.contains("Hemtjänst") || extracted.contains("å"),
        "{extracted}"
    );
    let pdf_bundle = std::fs::read_to_string(t.path("akt.pdf.bundle.json")).unwrap();
    verify_bundle::verify_witnessed(&pdf_bundle, &key, None, None, None).unwrap();
}

#[test]
fn spreadsheet_csv_has_a_bom_semicolons_date_columns_and_one_history_table() {
    let t = TestLedger::new();
    walk_home_care(&t);
    let history = t.ok(&[
        "history",
        "--plan",
        "plan-0001",
        "--spreadsheet",
        "--as-of",
        "2026-04-30",
    ]);
    assert!(history.starts_with('\u{feff}'), "a byte order mark");
    let lines: Vec<&str> = history.lines().collect();
    assert!(
        lines.iter().all(|l| !l.trim().is_empty()),
        "one table, no blank line"
    );
    assert!(
        lines[0].contains("enligt anteckningen (datum);enligt anteckningen (tid)"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(";skickad (datum);"), "{history}");
    assert!(lines[1].contains(";2026-03-02;"), "{}", lines[1]);
    let overview = t.ok(&["audit", "overview", "--spreadsheet", "--lang", "en"]);
    assert!(
        overview.starts_with("\u{feff}personal id;plan;"),
        "{overview}"
    );
}
