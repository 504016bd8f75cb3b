//! The complaint dossier: one client's plans as a readable, printable document (every
//! version in full, who did what and when in Swedish local time, the diffs, deviations
//! and corrections, deadlines met or missed), then the proof (the ledger's identity, the
//! signed checkpoint and its witnesses' cosignatures, every record's hash, and how to
//! check it independently: the evidence bundle embedded, and the `verify-bundle`
//! command). HTML, or PDF printed from that HTML by headless Chromium.
//!
//! The dossier holds personal data: its files are created mode 0600, never overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use maud::{Markup, PreEscaped, html};
use planledger_audit::{Lang, Scope, Subject, text};
use planledger_ledger::CheckpointVerifier;
use planledger_plan::{DeadlinePolicy, Personnummer, PlanId, swedish_date};
use planledger_store::Store;

use crate::error::{Error, Kind, Result};
use crate::html::{self, local};
use crate::map::MapKey;
use crate::witness::Witnessed;

/// The id of the `<script type="application/json">` element that carries the evidence
/// bundle in an HTML dossier (`verify-bundle` reads a dossier by it).
pub const BUNDLE_ELEMENT_ID: &str = verify_bundle::DOSSIER_BUNDLE_ID;

/// A dossier's file format, from the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DossierFormat {
    Html,
    Pdf,
}

impl DossierFormat {
    /// `.html`/`.htm` or `.pdf`.
    pub fn of_path(path: &Path) -> Result<DossierFormat> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("html") | Some("htm") => Ok(DossierFormat::Html),
            Some("pdf") => Ok(DossierFormat::Pdf),
            _ => Err(Error::new(
                Kind::BadInput,
                "--out must end in .html or .pdf (the dossier's format)",
            )),
        }
    }
}

/// A rendered dossier.
pub struct Dossier {
    /// The whole HTML document, the bundle embedded.
    pub html: String,
    /// The evidence bundle (JSON), for `verify-bundle`.
    pub bundle: String,
    pub plans: usize,
    pub records: usize,
}

/// What a dossier is made of.
pub struct DossierInput<'a> {
    pub store: &'a dyn Store,
    pub client: &'a Personnummer,
    pub policy: &'a DeadlinePolicy,
    pub lang: Lang,
    /// The signed checkpoint the bundle is proven against.
    pub checkpoint: &'a Witnessed,
    /// The key that verifies it (shown, for the reader to compare with the one the
    /// organisation publishes).
    pub verifier: &'a CheckpointVerifier,
    pub map_key: Option<&'a MapKey>,
    /// When it is made, and by whom (shown on the first page).
    pub now: DateTime<Utc>,
    pub made_by: &'a str,
}

/// Builds the dossier of `input.client`: the history as of today, each version's
/// content, the deadlines, and the evidence bundle.
pub fn build(input: &DossierInput) -> Result<Dossier> {
    let lang = input.lang;
    let today = swedish_date(input.now);
    let plans = crate::read::plans(input.store)?;
    let mut scope = Scope::new(today);
    scope.reveal_personnummer = true;
    let history = planledger_audit::history(&plans, &scope, &Subject::Client(*input.client))?;
    let mut contents = BTreeMap::new();
    let mut deadlines = Vec::new();
    let mut ids: Vec<PlanId> = history.versions.iter().map(|v| v.plan.clone()).collect();
    ids.extend(history.events.iter().map(|e| e.plan.clone()));
    ids.sort();
    ids.dedup();
    for id in &ids {
        let state = crate::load_plan(input.store, id)?;
        for v in state.versions() {
            if let Some(c) = state.content(v.number) {
                contents.insert(
                    (id.to_string(), v.number),
                    serde_json::to_value(c).expect("plan content serialises"),
                );
            }
        }
        for due in state.due_dates(input.policy) {
            deadlines.push((id.clone(), due));
        }
    }
    let (bundle, exported) = crate::evidence::bundle(
        input.store,
        input.client,
        input.checkpoint,
        None,
        input.map_key,
    )?;
    let bundle_json = serde_json::to_string_pretty(&bundle).expect("a bundle serialises");
    let cp = &input.checkpoint.checkpoint;
    let title = format!(
        "{} {}",
        lang.pick("Klagomålsakt", "Complaint dossier"),
        input.client.expose()
    );
    let deadline_rows: Vec<Markup> = deadlines
        .iter()
        .map(|(plan, d)| {
            let (status, bad) = match (d.met_on, d.met_late_by()) {
                (Some(_), None) => (lang.pick("i tid", "in time").to_owned(), false),
                (Some(_), Some(n)) => (
                    format!(
                        "{} {n} {}",
                        lang.pick("sent,", "late,"),
                        lang.pick("dagar", "days")
                    ),
                    true,
                ),
                (None, _) if d.due_on < today => (
                    format!(
                        "{} {} {}",
                        lang.pick("ej uppfylld,", "missed,"),
                        (today - d.due_on).num_days(),
                        lang.pick("dagar", "days")
                    ),
                    true,
                ),
                (None, _) => (lang.pick("ännu inte", "not yet due").to_owned(), false),
            };
            html! { tr {
                td { (plan) }
                td { (text::due_kind(lang, d.kind)) }
                td { (d.version.map(|v| v.to_string()).unwrap_or_default()) }
                td { (d.due_on) }
                td { (d.met_on.map(|m| m.to_string()).unwrap_or_else(|| "–".into())) }
                @if bad { td.bad { (status) } } @else { td { (status) } }
            } }
        })
        .collect();
    let in_bundle: Vec<&planledger_audit::EventRow> = history
        .events
        .iter()
        .filter(|e| e.position < cp.size)
        .collect();
    let later = history.events.len() - in_bundle.len();
    let cosignatures: Vec<&str> = input
        .checkpoint
        .note
        .lines()
        .skip_while(|l| !l.is_empty())
        .filter(|l| l.starts_with('—') || l.starts_with("- "))
        .collect();
    let body = html! {
        main {
            h1 { (title) }
            dl.facts {
                dt { (lang.pick("Klient", "Client")) } dd { (input.client.expose()) }
                dt { (lang.pick("Upprättad", "Made")) } dd { (local(input.now)) ", " (input.made_by) }
                dt { (lang.pick("Planer", "Plans")) } dd { (ids.len()) }
                dt { (lang.pick("Tider", "Times")) } dd { (lang.pick(
                    "svensk lokal tid (Europe/Stockholm) med UTC-förskjutning; \"enligt anteckningen\" är den tid posten anger, \"i liggaren\" när liggaren förseglade den",
                    "Swedish local time (Europe/Stockholm) with its UTC offset; \"according to the entry\" is the time the entry claims, \"in the ledger\" when the ledger sealed it")) }
            }
            p.noprint { (lang.pick(
                "Dokumentet innehåller personuppgifter. Förvara det som en handling i ärendet.",
                "This document holds personal data. Keep it as a document of the case.")) }
            h2 { (lang.pick("1. Planerna, version för version", "1. The plans, version by version")) }
            (html::timeline(lang, &history, &contents))
            h2 { (lang.pick("2. Tidsfrister", "2. Deadlines")) }
            table {
                caption { (lang.pick("Varje tidsfrist enligt organisationens regler, och när den uppfylldes", "Every deadline under the organisation's rules, and when it was met")) }
                thead { tr {
                    th scope="col" { (lang.pick("plan", "plan")) }
                    th scope="col" { (lang.pick("frist", "deadline")) }
                    th scope="col" { (lang.pick("version", "version")) }
                    th scope="col" { (lang.pick("senast", "due on")) }
                    th scope="col" { (lang.pick("uppfylld", "met on")) }
                    th scope="col" { (lang.pick("utfall", "outcome")) }
                } }
                tbody { @for r in &deadline_rows { (r) } }
            }
            h2 { (lang.pick("3. Beviset", "3. The proof")) }
            p { (lang.pick(
                "Varje post ovan är förseglad i en append-only liggare där varje post bär hashen av den före (blake3). Liggarens tillstånd är undertecknat i en kontrollpunkt; oberoende vittnen kan ha kontrasignerat den. Bilagan (evidenspaketet) innehåller klientens poster som de är lagrade, ett inklusionsbevis per post och kontrollpunkten, så att vem som helst kan kontrollera att inget har ändrats i efterhand.",
                "Every record above is sealed in an append-only ledger where each record carries the hash of the one before (blake3). The ledger's state is signed in a checkpoint, which independent witnesses may have cosigned. The attachment (the evidence bundle) holds the client's records as stored, an inclusion proof for each, and the checkpoint, so that anyone can check that nothing was altered afterwards.")) }
            dl.facts {
                dt { (lang.pick("Liggarens identitet (origin)", "Ledger identity (origin)")) } dd { code { (cp.origin) } }
                dt { (lang.pick("Verifieringsnyckel", "Verifier key")) } dd { code { (input.verifier.to_text()) } }
                dt { (lang.pick("Kontrollpunkt: antal poster", "Checkpoint: records")) } dd { (cp.size) }
                dt { (lang.pick("Kontrollpunkt: rothash", "Checkpoint: root hash")) } dd { code { (cp.root.to_hex()) } }
                dt { (lang.pick("Kontrollpunkt: tid", "Checkpoint: time")) } dd { (DateTime::from_timestamp_micros(cp.time_micros).map(local).unwrap_or_default()) }
                dt { (lang.pick("Fullständighet", "Completeness")) } dd { @if cp.map_root.is_some() {
                    (lang.pick("kontrollpunkten omfattar en karta över liggaren: paketet bevisar att det innehåller alla klientens poster fram till den", "the checkpoint commits a map of the ledger: the bundle proves it holds all of the client's records up to it"))
                } @else {
                    (lang.pick("kontrollpunkten saknar karta: paketet bevisar att posterna finns i liggaren, inte att de är alla", "the checkpoint commits no map: the bundle proves inclusion, not that it holds all of the client's records"))
                } }
                dt { (lang.pick("Vittnen", "Witnesses")) } dd {
                    @if cosignatures.is_empty() { (lang.pick("inga kontrasignaturer", "no cosignatures")) }
                    @else { (cosignatures.len()) " " (lang.pick("signaturer på kontrollpunkten (se nedan)", "signatures on the checkpoint (below)")) }
                }
            }
            h3 { (lang.pick("Den undertecknade kontrollpunkten", "The signed checkpoint")) }
            pre { (input.checkpoint.note) }
            table {
                caption { (lang.pick("Postenas hashar", "The records' hashes")) }
                thead { tr {
                    th scope="col" { (lang.pick("post", "record")) }
                    th scope="col" { (lang.pick("plan", "plan")) }
                    th scope="col" { (lang.pick("nr", "no")) }
                    th scope="col" { (lang.pick("händelse", "event")) }
                    th scope="col" { "blake3" }
                } }
                tbody { @for e in &in_bundle { tr {
                    td { (e.position) } td { (e.plan) } td { "#" (e.stream_version) } td { (e.event_type) } td { code { (e.hash) } }
                } } }
            }
            @if later > 0 {
                p.bad { (later) " " (lang.pick(
                    "poster är senare än kontrollpunkten och ingår inte i beviset; gör en ny kontrollpunkt och en ny akt.",
                    "records are later than the checkpoint and not in the proof; make a new checkpoint and a new dossier.")) }
            }
            h3 { (lang.pick("Kontrollera själv", "Check it yourself")) }
            ol {
                li { (lang.pick("Hämta organisationens verifieringsnyckel från organisationen själv (inte från den som skickade akten) och jämför den med nyckeln ovan; spara den som ", "Get the organisation's verifier key from the organisation itself (not from whoever sent this dossier), compare it with the key above, and save it as ")) code { "ledger.pub" } "." }
                li { (lang.pick("Spara bilagan: den följer med akten som filen ", "Save the attachment: it comes with the dossier as the file ")) code { "AKT.bundle.json" } (lang.pick(" (och finns inbäddad i HTML-versionen; verify-bundle läser den direkt ur HTML-filen).", " (and is embedded in the HTML version; verify-bundle reads it straight from the HTML file).")) }
                li { (lang.pick("Kör det fristående verktyget (", "Run the stand-alone tool (")) code { "cargo install --locked --path tools/verify-bundle" } "):" pre { "verify-bundle AKT.bundle.json --pubkey ledger.pub\nverify-bundle AKT.html --pubkey ledger.pub" } }
                li { (lang.pick("Utfallet 0 och \"verified\" betyder att varje post ovan finns oförändrad i liggaren som kontrollpunkten undertecknar; lägg till --witness-key för varje vittne du litar på.", "Exit code 0 and \"verified\" mean every record above is in the ledger the checkpoint signs, unaltered; add --witness-key for each witness you trust.")) }
            }
            // The bundle, embedded for verify-bundle (not executed: a JSON data block).
            script type="application/json" id=(BUNDLE_ELEMENT_ID) { (PreEscaped(bundle_json.replace("</", "<\\/"))) }
        }
    };
    let doc = html::document(lang, &title, body);
    Ok(Dossier {
        html: doc.into_string(),
        bundle: bundle_json,
        plans: exported.plans,
        records: exported.records,
    })
}

/// The path of the bundle written beside a dossier: `FILE.bundle.json`.
pub fn bundle_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".bundle.json");
    PathBuf::from(s)
}

/// Writes the dossier to `out` (HTML or PDF by its extension) and its bundle beside it
/// (`FILE.bundle.json`), both mode 0600, neither overwriting anything.
pub fn write(dossier: &Dossier, out: &Path) -> Result<PathBuf> {
    let format = DossierFormat::of_path(out)?;
    let bundle_at = bundle_path(out);
    if bundle_at.symlink_metadata().is_ok() {
        return Err(Error::new(
            Kind::BadInput,
            format!(
                "{} already exists; it is never overwritten",
                bundle_at.display()
            ),
        ));
    }
    match format {
        DossierFormat::Html => crate::files::write_new(out, &dossier.html, true)?,
        DossierFormat::Pdf => {
            let pdf = print_pdf(&dossier.html)?;
            crate::files::write_new_bytes(out, &pdf, true)?
        }
    }
    crate::files::write_new(&bundle_at, &dossier.bundle, true)?;
    Ok(bundle_at)
}

/// The Chromium to print with: `PLANLEDGER_CHROMIUM`, else the first of `chromium`,
/// `chromium-browser`, `google-chrome` on the path.
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PLANLEDGER_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// A private temporary directory (mode 0700), removed when dropped.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> Result<PrivateDir> {
        use std::os::unix::fs::DirBuilderExt;
        let mut random = [0u8; 16];
        getrandom::fill(&mut random)
            .map_err(|e| Error::new(Kind::Storage, format!("no randomness: {e}")))?;
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("planledger-dossier-{name}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::io("cannot create a private temporary directory", e))?;
        Ok(PrivateDir(dir))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Prints `html` to PDF with headless Chromium (A4, its own text with embedded fonts,
/// the page has no scripts), in a private temporary directory that is removed afterwards.
pub fn print_pdf(html: &str) -> Result<Vec<u8>> {
    let chromium = chromium().ok_or_else(|| {
        Error::new(
            Kind::NotFound,
            "a PDF dossier is printed by headless Chromium, which is not installed \
             (apt-get install chromium, or set PLANLEDGER_CHROMIUM); write .html instead",
        )
    })?;
    let dir = PrivateDir::new()?;
    let page = dir.0.join("dossier.html");
    let pdf = dir.0.join("dossier.pdf");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&page)
            .map_err(|e| Error::io("cannot write the page to print", e))?;
        f.write_all(html.as_bytes())
            .map_err(|e| Error::io("cannot write the page to print", e))?;
    }
    let mut child = Command::new(&chromium)
        .arg("--headless")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--no-first-run")
        .arg("--disable-extensions")
        .arg("--no-pdf-header-footer")
        .arg(format!(
            "--user-data-dir={}",
            dir.0.join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .env("HOME", &dir.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::io("cannot start Chromium to print the dossier", e))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > Duration::from_secs(120) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::new(
                    Kind::Storage,
                    "Chromium did not print the dossier within 120 seconds",
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(Error::io("cannot wait for Chromium", e)),
        }
    };
    let bytes = std::fs::read(&pdf).unwrap_or_default();
    if !status.success() || !bytes.starts_with(b"%PDF") {
        return Err(Error::new(
            Kind::Storage,
            "Chromium failed to print the dossier to PDF",
        ));
    }
    Ok(bytes)
}
