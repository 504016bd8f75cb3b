//! The command line's syntax: clap derive structs whose doc comments are the `--help`
//! text. Every value is parsed into its domain type here, so `--help` lists the possible
//! values and a bad value fails before anything is opened.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use planledger_app::Limits;
use planledger_app::read::Report;
use planledger_audit::{Format, Lang};
use planledger_plan::{
    ActKind, CloseReason, OrderId, Personnummer, PlanId, RevisionReason, Role, Signer, UnitId,
    UserId,
};

pub const AFTER_HELP: &str = "\
EXIT CODES:
    0  success
    1  verification failure: the ledger, a checkpoint or a bundle does not verify, or
       something in the witness directory is not a checkpoint (the file is named); a
       checkpoint without the cosignatures a witness policy needs; a witness refusing
       a fork or a checkpoint not signed by the log's key
    2  usage error or bad input (a malformed line, an input over a --max-… limit, a
       duplicate JSON key, an invalid personnummer, a command the domain rejects such
       as a wrong role); `import` also exits 2 when any line was rejected (the other
       lines are recorded)
    3  conflict: the plan changed since it was read (another writer); re-run the command;
       a witness request made from another size than the witness last cosigned (the
       witness names its size)
    4  not found: no such plan, client, unit, ledger or file
    5  storage or I/O error (a full disk; another planledger process holding the
       embedded ledger: retry); a --server that cannot be reached or fails
With --server, the server's refusals keep these codes: forbidden, unauthenticated,
bad_input and rejected exit 2, not_found 4, conflict 3.

The ledger is a directory (the embedded default, created by `init`) or a postgres://
URL, given by --ledger or PLANLEDGER_LEDGER. The domain's rules (acts, roles, deadlines,
what each report lists) are in docs/DOMAIN.md; the import format in docs/IMPORT.md.";

/// A value from a fixed list of serde names (snake_case), typed.
fn named<T>(names: impl IntoIterator<Item = &'static str>) -> impl TypedValueParser<Value = T>
where
    T: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names.into_iter().collect::<Vec<_>>())
        .map(|s| serde_json::from_value(s.into()).expect("every listed name parses"))
}

fn roles() -> impl TypedValueParser<Value = Role> {
    named(Role::ALL.map(Role::as_str))
}

fn acts() -> impl TypedValueParser<Value = ActKind> {
    named(ActKind::ALL.map(ActKind::as_str))
}

fn formats() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(["table", "json", "csv"]).map(|s| s.parse().expect("listed"))
}

fn langs() -> impl TypedValueParser<Value = Lang> {
    PossibleValuesParser::new(["sv", "en"]).map(|s| s.parse().expect("listed"))
}

fn reports() -> impl TypedValueParser<Value = Report> {
    PossibleValuesParser::new(Report::ALL.map(|r| PossibleValue::new(r.name()).help(r.describe())))
        .map(|s| s.parse().expect("listed"))
}

/// An RFC 3339 instant (2026-03-02T09:00:00Z).
fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2026-03-02T09:00:00Z ({e})"))
}

/// planledger — an append-only, hash-chained audit ledger for implementation plans
/// (genomförandeplaner) in Swedish social care.
#[derive(Parser, Debug)]
#[command(name = "planledger", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Where the ledger is: a directory for the embedded store (created by `init`), or
    /// a postgres:// URL (the database migrated with `db migrate`).
    #[arg(long, global = true, env = "PLANLEDGER_LEDGER", value_name = "DIR|URL")]
    pub ledger: Option<String>,

    /// The ledger's name inside a PostgreSQL database (one database can hold several).
    #[arg(
        long,
        global = true,
        env = "PLANLEDGER_LEDGER_NAME",
        default_value = "main",
        value_name = "NAME"
    )]
    pub ledger_name: String,

    /// The time this invocation claims it is (RFC 3339, e.g. 2026-03-02T09:00:00+01:00):
    /// what a write records as when the entry happened (for back-filling and tests), and
    /// the day a report is as of unless --as-of. The ledger seals every record with its
    /// own clock whatever this says, and shows both times. Deliberately no environment
    /// variable: a stray one must never re-date what is recorded.
    #[arg(long, global = true, value_name = "RFC3339", value_parser = instant)]
    pub claimed_at: Option<DateTime<Utc>>,

    /// The organisation's deadline policy (TOML; see docs/DOMAIN.md). Read on every
    /// invocation that counts deadlines, and by writers, which index each plan's next
    /// deadline under it (give writers and readers the same one, or `overdue` reads every
    /// plan); the documented defaults without it.
    #[arg(long, global = true, env = "PLANLEDGER_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Longest import line, content file (--content) or policy file, in bytes; a longer
    /// one is refused (an import line on its own, the rest are read).
    #[arg(long, global = true, env = "PLANLEDGER_MAX_LINE_BYTES", value_name = "BYTES",
          default_value_t = Limits::DEFAULT_LINE_BYTES)]
    pub max_line_bytes: u64,

    /// Longest text field of a command (a service's description, a deviation, a note),
    /// in bytes, checked on the decoded command.
    #[arg(long, global = true, env = "PLANLEDGER_MAX_TEXT_BYTES", value_name = "BYTES",
          default_value_t = Limits::DEFAULT_TEXT_FIELD_BYTES)]
    pub max_text_bytes: u64,

    /// Longest witness checkpoint file, key file, witness request, cosignature file or
    /// witness state file, in bytes; never read further.
    #[arg(long, global = true, env = "PLANLEDGER_MAX_FILE_BYTES", value_name = "BYTES",
          default_value_t = Limits::DEFAULT_FILE_BYTES)]
    pub max_file_bytes: u64,

    /// Send the command to a planledger server (`planledger serve`) instead of opening a
    /// ledger: works for the domain commands (order … close), import, show, history and
    /// audit. The token is read from --token-file or PLANLEDGER_TOKEN; the server decides
    /// who you are and in which role (--as and --role must be you, or a user a system
    /// records for).
    #[arg(long, global = true, env = "PLANLEDGER_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// The file holding the bearer token for --server (an OpenID Connect access token or
    /// an API token); without it, the environment variable PLANLEDGER_TOKEN.
    #[arg(
        long,
        global = true,
        env = "PLANLEDGER_TOKEN_FILE",
        value_name = "FILE"
    )]
    pub token_file: Option<PathBuf>,

    /// The key-encryption key (from `kek-gen`, mode 0600): with it, each client's
    /// personal data is encrypted under a key of its own, kept in the key store beside
    /// the ledger (`keys.redb`, or for a postgres:// ledger the tables
    /// planledger.key_stores and planledger.client_keys of its database; made the first
    /// time a KEK is given) and wrapped by this key. A ledger with a key store cannot be
    /// opened without it.
    #[arg(long, global = true, env = "PLANLEDGER_KEK", value_name = "FILE")]
    pub kek: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Cmd,
}

impl Cli {
    /// The limits the flags (or their environment variables) set.
    pub fn limits(&self) -> Limits {
        Limits {
            line_bytes: self.max_line_bytes,
            text_field_bytes: self.max_text_bytes,
            file_bytes: self.max_file_bytes,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create a new, empty ledger at --ledger.
    Init,
    /// Make a checkpoint signing key: writes the secret key (mode 0600) and prints the
    /// public verifier key to give to inspectors.
    Keygen {
        /// The key's name, also the checkpoints' origin (e.g. exempel.se/planledger).
        #[arg(long, value_name = "ORIGIN")]
        name: String,
        /// Where to write the secret key; must not exist yet.
        #[arg(long, value_name = "KEYFILE")]
        out: PathBuf,
    },
    /// Make the ledger's secret map key (FORMAT.md §12.3): it keys the client salts of the
    /// map that checkpoints commit, so that a bundle proves a client's whole history
    /// without letting anyone test other personnummer against the map. Give it to
    /// `checkpoint`, `export` and `verify` with --map-key; keep it as you keep the ledger.
    MapKeygen {
        /// Where to write the map key (mode 0600); must not exist yet.
        #[arg(long, value_name = "MAPKEYFILE")]
        out: PathBuf,
    },
    /// Make a key-encryption key (KEK) for per-client encryption (FORMAT.md §9). Keep it
    /// apart from the ledger and its backups: it unlocks the key store.
    KekGen {
        /// Where to write the KEK (mode 0600); must not exist yet.
        #[arg(long, value_name = "KEKFILE")]
        out: PathBuf,
    },
    /// Rewrap every client key in the key store under a new KEK (--kek is the old one).
    /// Afterwards only the new KEK opens the ledger. After weeding, rotate and then
    /// destroy the old KEK: the copies of destroyed keys that backups, WAL or replicas
    /// still hold are wrapped by it (README, "Weeding").
    RotateKek {
        /// The new KEK (from `kek-gen`).
        #[arg(long, value_name = "KEKFILE")]
        new_kek: PathBuf,
    },
    /// Place or release a legal hold on a client (complaint, inspection, court case): a
    /// held client is not weeded. Recorded as an event, its reason encrypted under the
    /// client's key.
    Hold {
        #[command(subcommand)]
        command: HoldCmd,
    },
    /// Weeding (gallring): list who is due under the policy's retention rules as of a
    /// day and who is held (numbers masked); without --dry-run, weed those due: record
    /// one weeding event per client and destroy the client's key, so that their content
    /// cannot be read by anyone: the key store is rewritten without it (keys.redb
    /// replaced; on PostgreSQL the key table truncated and refilled). The chain and
    /// every checkpoint still verify.
    Weed(WeedArgs),
    /// Record the authority's order (beställning): starts the plan and its deadlines.
    Order(OrderArgs),
    /// Draw up version 1 of a plan from a JSON content file.
    Draft(DraftArgs),
    /// Make a new whole version of a plan from a JSON content file.
    Revise(ReviseArgs),
    /// Record a signature on a version.
    Sign(SignArgs),
    /// Send a version to the authority.
    Submit(VersionArgs),
    /// Approve a submitted version (case officer).
    Approve(VersionArgs),
    /// Ask for a supplement to a version by a due date (case officer).
    RequestSupplement(RequestSupplementArgs),
    /// Deliver a requested supplement as a version.
    Supplement(SupplementArgs),
    /// Record the monthly review (genomgång) of a version.
    Review(ReviewArgs),
    /// Record a follow-up (uppföljning) of a version.
    FollowUp(FollowUpArgs),
    /// Record a deviation (avvikelse) from the plan.
    Deviation(DeviationArgs),
    /// Append a correction (rättelse) to an earlier record of the plan.
    Correct(CorrectArgs),
    /// Close the plan.
    Close(CloseArgs),
    /// Record commands from a JSON Lines file (`-` for stdin), one command per line
    /// (docs/IMPORT.md). Each line is all-or-nothing; rejected lines are reported with
    /// their line number and the run goes on (exit 2 if any was).
    Import {
        /// The JSON Lines file, or `-` for standard input.
        file: String,
    },
    /// Print the JSON Schema of an import line or of a plan's content.
    Schema {
        /// import-line or plan-content.
        #[arg(value_parser = ["import-line", "plan-content"])]
        which: String,
    },
    /// Print the ledger head: size, last record hash, Merkle root.
    Head {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show a plan: the current version, a given version, or the one in force at the
    /// end of a day (Swedish time, as `audit in-force`).
    Show(ShowArgs),
    /// The history of a plan, or of every plan of a client: every version with who drew
    /// it up, signed, sent and approved it and what changed field by field, then every
    /// record with who, when and what.
    History(HistoryArgs),
    /// Check the whole ledger: every record's hash and link, the Merkle tree, the head,
    /// and every checkpoint in the witness directory; then what is kept beside the records
    /// (the plan index and read model, refolded plan by plan; the stored Merkle nodes;
    /// each plan's stream index) and, with --map-key, the map each checkpoint signs.
    Verify(VerifyArgs),
    /// Rebuild the read model (each plan's unit, act and client; its summary; its next
    /// deadline under --policy and its latest record, all kept beside the records) from
    /// the records: after an upgrade that changed it, a change of --policy, or to repair
    /// what `verify` found. Online: writers may go on meanwhile.
    Reindex,
    /// Sign the current tree head (and, with --map-key, the map of plans and clients) and
    /// write it to the witness directory (one new file per checkpoint; none is ever
    /// overwritten).
    Checkpoint {
        /// The secret key file from `keygen`.
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        /// The witness directory (created if missing).
        #[arg(long, value_name = "DIR")]
        witness: PathBuf,
        /// The checkpoint's origin line; the key's name by default.
        #[arg(long, value_name = "NAME")]
        origin: Option<String>,
        /// The map key from `map-keygen`: the checkpoint also commits the map of streams
        /// and clients, so that bundles proven against it prove completeness.
        #[arg(long, value_name = "MAPKEYFILE")]
        map_key: Option<PathBuf>,
    },
    /// Write an evidence bundle of one client: their records, an inclusion proof per
    /// record and the signed checkpoint they lead to (check it with `verify-bundle`).
    Export(ExportArgs),
    /// The complaint dossier: one client's plans as a readable, printable document
    /// (every version in full, who did what and when, diffs, deviations, corrections,
    /// deadlines met or missed), then the proof (checkpoint, witnesses, record hashes)
    /// with the evidence bundle embedded and written beside it as FILE.bundle.json.
    /// HTML, or PDF printed by headless Chromium; both files mode 0600.
    Dossier(DossierArgs),
    /// Independent witnesses (FORMAT.md §13): a second party (the regional archive, IVO, a
    /// neighbouring municipality) cosigns the log's checkpoints with its own key, after
    /// checking that the log extends what it cosigned before; `verify` and
    /// `verify-bundle` then require K of the witnesses they trust (--witness-key,
    /// --witness-threshold). The witness runs `keygen` and `cosign`; the log's operator
    /// runs `request` and `attach`.
    Witness {
        #[command(subcommand)]
        command: WitnessCmd,
    },
    /// Print the consistency proof between the ledger's trees of two sizes (RFC 9162), with
    /// both roots: what shows that a later checkpoint extends an earlier one.
    Proof {
        /// The earlier tree's size (records).
        #[arg(long, value_name = "N")]
        from: u64,
        /// The later tree's size; the ledger's size by default.
        #[arg(long, value_name = "M")]
        to: Option<u64>,
    },
    /// Copy a whole ledger into an empty one (e.g. the embedded store to PostgreSQL);
    /// records keep their bytes, so checkpoints stay valid.
    Copy {
        /// The ledger to copy (directory or postgres:// URL).
        #[arg(long, value_name = "LOC")]
        from: String,
        /// The empty ledger to copy into (created if missing).
        #[arg(long, value_name = "LOC")]
        to: String,
    },
    /// Supervisory reports (docs/DOMAIN.md says exactly which plans each lists).
    Audit(AuditArgs),
    /// The main demonstration: generates a synthetic organisation (units of every act,
    /// a year of plans up to today, some late, unsigned or incomplete), records it into --ledger
    /// (which must not exist yet), verifies it and prints the unit overview.
    Demo {
        /// How many clients (one plan each).
        #[arg(long, default_value_t = 300)]
        clients: usize,
        /// The generator's seed: the same seed gives the same organisation.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Months of activity, ending on --until.
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// The period's last day (YYYY-MM-DD): today (in Sweden) by default, so that
        /// nothing lies in the future; not after today. Nothing is claimed later than
        /// "now" (the clock or --claimed-at).
        #[arg(long, value_name = "DATE")]
        until: Option<NaiveDate>,
    },
    /// Serve the ledger over HTTP: authenticated (OpenID Connect, API tokens), roles and
    /// units from a configuration file, every read of personal data logged.
    Serve(crate::serve::ServeArgs),
    /// Read the access log: a client's extract (--client) or a unit's random sample
    /// (--sample N --unit U --from D --to D). Reading it is logged too.
    AccessLog(crate::serve::AccessLogArgs),
    /// PostgreSQL administration.
    Db {
        #[command(subcommand)]
        command: DbCmd,
    },
    /// Print a shell completion script (e.g. `planledger completions bash >
    /// /etc/bash_completion.d/planledger`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; e.g. `planledger man > planledger.1 && man ./planledger.1`).
    Man,
}

#[derive(Subcommand, Debug)]
pub enum WitnessCmd {
    /// (The witness.) Make a witness key (cosignature/v1, FORMAT.md §13.1): writes the
    /// secret key (mode 0600) and prints the verifier key, for the log's operator and
    /// for whoever verifies with a witness policy.
    Keygen {
        /// The witness's name, e.g. arkiv.region.se/witness.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Where to write the secret key; must not exist yet.
        #[arg(long, value_name = "KEYFILE")]
        out: PathBuf,
    },
    /// (The log's operator.) Print a request for a cosignature of the latest checkpoint in
    /// --witness (C2SP tlog-witness add-checkpoint, FORMAT.md §13.3): the size the witness
    /// last cosigned, the consistency proof from it, and the checkpoint. Refuses (exit 1)
    /// when the ledger does not extend every checkpoint there.
    Request {
        /// The operator's witness directory (where `checkpoint` writes).
        #[arg(long, value_name = "DIR")]
        witness: PathBuf,
        /// The log's verifier key (from `keygen`).
        #[arg(long, value_name = "FILE")]
        pubkey: PathBuf,
        /// The size of the checkpoint the witness last cosigned for this log; 0 for a
        /// witness that never cosigned it. A witness that holds another size refuses
        /// with exit 3 and names its size.
        #[arg(long, value_name = "N")]
        old: u64,
    },
    /// (The witness.) Cosign the checkpoint of a request, and print the cosignature line
    /// to return to the operator. Only if the checkpoint is signed by --log-key, the
    /// request starts from the size this witness last cosigned, and its consistency
    /// proof shows the log extends that checkpoint; the checkpoint is then stored in
    /// --state (atomically) before the answer. A fork (another root at the size it
    /// cosigned, or a proof that does not verify) exits 1, a request from another size
    /// exits 3; the state never moves back.
    Cosign {
        /// The witness's secret key (from `witness keygen`).
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        /// The witness's state directory (created, mode 0700): the latest checkpoint it
        /// cosigned of each log. Keep it, and back it up, with the key.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// The log's verifier key, as its operator published it.
        #[arg(long, value_name = "FILE")]
        log_key: PathBuf,
        /// The request file from `witness request`.
        #[arg(value_name = "REQUEST")]
        request: PathBuf,
    },
    /// (The log's operator.) Keep a witness's answer: append each cosignature line by a
    /// --witness-key to the checkpoint in --witness that it cosigns (the file is replaced
    /// atomically by the same note with one more signature line; the only change a
    /// checkpoint file ever sees). A line that verifies for no checkpoint exits 1.
    Attach {
        /// The operator's witness directory.
        #[arg(long, value_name = "DIR")]
        witness: PathBuf,
        /// The log's verifier key.
        #[arg(long, value_name = "FILE")]
        pubkey: PathBuf,
        /// A witness's verifier key (from `witness keygen`); repeat for several.
        #[arg(long = "witness-key", value_name = "FILE", required = true)]
        witness_keys: Vec<PathBuf>,
        /// The file with a witness's answer (the lines `witness cosign` printed; the
        /// answers of several witnesses may be put in one file).
        #[arg(value_name = "COSIGNATURES")]
        cosignatures: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbCmd {
    /// Bring the database schema to this build's version (idempotent). Run as the
    /// database owner.
    Migrate {
        /// The database (postgres://…); --ledger if not given.
        #[arg(value_name = "URL")]
        url: Option<String>,
    },
}

/// Who gives a command and to which plan.
#[derive(Args, Debug)]
pub struct Who {
    /// The user giving the command (their user id in the organisation).
    #[arg(long = "as", value_name = "USER")]
    pub user: UserId,
    /// The role they act in.
    #[arg(long, value_name = "ROLE", value_parser = roles())]
    pub role: Role,
    /// The plan's id.
    #[arg(long, value_name = "ID")]
    pub plan: PlanId,
    /// Record only if the plan still has exactly N records (the number you read it
    /// at); otherwise exit 3 and record nothing. For scripts that read before writing.
    #[arg(long, value_name = "N")]
    pub expect_version: Option<u64>,
}

#[derive(Args, Debug)]
pub struct OrderArgs {
    #[command(flatten)]
    pub who: Who,
    /// The order's (decision's) id in the case-management system.
    #[arg(long, value_name = "ID")]
    pub order: OrderId,
    /// The unit that carries out the services.
    #[arg(long)]
    pub unit: UnitId,
    /// The act the order is given under.
    #[arg(long, value_parser = acts())]
    pub act: ActKind,
    /// The client's personnummer or samordningsnummer (12 digits, YYYYMMDD-NNNN).
    #[arg(long, value_name = "PNR")]
    pub client: Personnummer,
    /// The day the order reached the provider (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub received_on: NaiveDate,
    /// A granted service (repeat for several).
    #[arg(long = "service", value_name = "TEXT")]
    pub services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DraftArgs {
    #[command(flatten)]
    pub who: Who,
    /// The plan content as JSON (schema/plan-content.schema.json; `planledger schema
    /// plan-content`).
    #[arg(long, value_name = "FILE.json")]
    pub content: PathBuf,
}

#[derive(Args, Debug)]
pub struct ReviseArgs {
    #[command(flatten)]
    pub who: Who,
    /// Why the plan is revised.
    #[arg(long, value_parser = named::<RevisionReason>(RevisionReason::ALL.map(RevisionReason::as_str)))]
    pub reason: RevisionReason,
    /// What changed, in a sentence.
    #[arg(long, default_value = "")]
    pub note: String,
    /// The whole new version as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub content: PathBuf,
}

#[derive(Args, Debug)]
pub struct SignArgs {
    #[command(flatten)]
    pub who: Who,
    /// The version signed.
    #[arg(long)]
    pub version: u32,
    /// Who signed: client, trustee, guardian, or staff:USER (a staff member signs in
    /// their own name). The same spelling as in an import line.
    #[arg(long)]
    pub signer: Signer,
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    #[command(flatten)]
    pub who: Who,
    /// The version.
    #[arg(long)]
    pub version: u32,
}

#[derive(Args, Debug)]
pub struct RequestSupplementArgs {
    #[command(flatten)]
    pub who: Who,
    /// The version asked about.
    #[arg(long)]
    pub version: u32,
    /// What is missing.
    #[arg(long)]
    pub reason: String,
    /// When the supplement is due (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub due_on: NaiveDate,
}

#[derive(Args, Debug)]
pub struct SupplementArgs {
    #[command(flatten)]
    pub who: Who,
    /// The version that answers the request (the one asked about or a revision of it).
    #[arg(long)]
    pub version: u32,
    /// What was supplemented.
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Args, Debug)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub who: Who,
    /// The version reviewed.
    #[arg(long)]
    pub version: u32,
    /// The client's participation and views are described.
    #[arg(long)]
    pub participation_described: bool,
    /// Every service says what, how, when and who, with a clear goal.
    #[arg(long)]
    pub services_and_goals_clear: bool,
    /// Staff new to the client could give the support from the plan alone.
    #[arg(long)]
    pub usable_by_new_staff: bool,
    /// The plan matches the case officer's order.
    #[arg(long)]
    pub matches_order: bool,
    /// What the review found (required: a review without findings is not recorded).
    #[arg(long)]
    pub findings: String,
}

#[derive(Args, Debug)]
pub struct FollowUpArgs {
    #[command(flatten)]
    pub who: Who,
    /// The version followed up.
    #[arg(long)]
    pub version: u32,
    /// What the follow-up found (required).
    #[arg(long)]
    pub findings: String,
    /// The next follow-up (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub next_follow_up_on: Option<NaiveDate>,
}

#[derive(Args, Debug)]
pub struct DeviationArgs {
    #[command(flatten)]
    pub who: Who,
    /// The day it happened (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub occurred_on: NaiveDate,
    /// The service concerned.
    #[arg(long)]
    pub service: Option<String>,
    /// What happened.
    #[arg(long)]
    pub description: String,
}

#[derive(Args, Debug)]
pub struct CorrectArgs {
    #[command(flatten)]
    pub who: Who,
    /// The plan's record corrected, by its number in the plan (stream version).
    #[arg(long, value_name = "N")]
    pub refers_to: u64,
    /// The correction.
    #[arg(long)]
    pub note: String,
}

#[derive(Args, Debug)]
pub struct CloseArgs {
    #[command(flatten)]
    pub who: Who,
    /// Why the plan ends.
    #[arg(long, value_parser = named::<CloseReason>(CloseReason::ALL.map(CloseReason::as_str)))]
    pub reason: CloseReason,
    /// The day the plan ended (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub closed_on: NaiveDate,
}

/// How a read is written; every read takes these.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// The output format.
    #[arg(long, default_value = "table", value_parser = formats())]
    pub format: Format,
    /// Headings and texts in Swedish or English.
    #[arg(long, default_value = "sv", value_parser = langs())]
    pub lang: Lang,
    /// Print personnummer in full (masked otherwise).
    #[arg(long)]
    pub show_personnummer: bool,
    /// With --server: why you read a client's personal data (sent as X-Purpose; the
    /// server logs it with the read). Needed for show and history, and for audit with
    /// --show-personnummer.
    #[arg(long, env = "PLANLEDGER_PURPOSE", value_name = "TEXT")]
    pub purpose: Option<String>,
    /// CSV for a spreadsheet program (implies --format csv): a UTF-8 byte order mark,
    /// `;` between fields, dates, times and versions in columns of their own, and a
    /// history as one rectangular table.
    #[arg(long)]
    pub spreadsheet: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The plan id.
    pub plan: PlanId,
    /// Show this version.
    #[arg(long, conflicts_with = "as_of")]
    pub version: Option<u32>,
    /// Show the version in force at the end of this day (YYYY-MM-DD, Swedish time).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The plan id.
    #[arg(long, required_unless_present = "client", conflicts_with = "client")]
    pub plan: Option<PlanId>,
    /// The client's personnummer (12 digits).
    #[arg(long, value_name = "PNR")]
    pub client: Option<Personnummer>,
    /// The history as it stood at the end of this day (YYYY-MM-DD, Swedish time);
    /// today by default.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The report.
    #[arg(value_parser = reports())]
    pub report: Report,
    /// Ask as of the end of this day (YYYY-MM-DD, Swedish time): nothing recorded later
    /// counts, and deadlines are counted to it. Today by default.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Only this unit.
    #[arg(long)]
    pub unit: Option<UnitId>,
    /// in-force: only this plan.
    #[arg(long, conflicts_with = "client")]
    pub plan: Option<PlanId>,
    /// in-force: only this client's plans (personnummer, 12 digits).
    #[arg(long, value_name = "PNR")]
    pub client: Option<Personnummer>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Check only the records after the latest checkpoint in --witness (whose root is
    /// checked against the stored tree first).
    #[arg(long, requires = "witness")]
    pub since_checkpoint: bool,
    /// Print a JSON report (for a nightly job).
    #[arg(long)]
    pub json: bool,
    /// A witness directory: the ledger must match every checkpoint in it.
    #[arg(long, value_name = "DIR", requires = "pubkey")]
    pub witness: Option<PathBuf>,
    /// The verifier key the witness checkpoints are signed with.
    #[arg(long, value_name = "FILE", requires = "witness")]
    pub pubkey: Option<PathBuf>,
    /// The map key from `map-keygen`: rebuild the map of streams and clients from the
    /// records at the size of every witness checkpoint that commits one, and check it
    /// has the signed root.
    #[arg(long, value_name = "MAPKEYFILE", requires = "witness")]
    pub map_key: Option<PathBuf>,
    #[command(flatten)]
    pub witnesses: WitnessPolicyArgs,
    /// Also write the outcome as a Prometheus textfile (for node_exporter's textfile
    /// collector): when verify last ran, whether the ledger was intact, how many records
    /// it checked. Written on every outcome, replacing the file atomically.
    #[arg(long, value_name = "FILE")]
    pub prom: Option<PathBuf>,
}

/// A witness policy (FORMAT.md §13.5): these independent witnesses' keys, at least K of
/// them.
#[derive(Args, Debug)]
pub struct WitnessPolicyArgs {
    /// A witness's verifier key (from `witness keygen`), repeat for each witness you
    /// trust: the latest checkpoint in --witness must carry valid cosignatures by at
    /// least --witness-threshold of them (exit 1 naming how many it has).
    #[arg(long = "witness-key", value_name = "FILE", requires = "witness")]
    pub witness_keys: Vec<PathBuf>,
    /// How many of the --witness-key witnesses must have cosigned (K of N); all of them
    /// by default.
    #[arg(long, value_name = "K", requires = "witness_keys")]
    pub witness_threshold: Option<usize>,
}

#[derive(Args, Debug)]
pub struct DossierArgs {
    /// The client's personnummer (12 digits).
    #[arg(long, value_name = "PNR")]
    pub client: Personnummer,
    /// The dossier to write: FILE.html, or FILE.pdf (printed by headless Chromium);
    /// mode 0600, never overwritten. The bundle goes beside it as FILE.bundle.json.
    #[arg(long, value_name = "FILE.html|FILE.pdf")]
    pub out: PathBuf,
    /// The dossier's language.
    #[arg(long, default_value = "sv", value_parser = langs())]
    pub lang: Lang,
    /// Sign a fresh checkpoint of the current head with this key into --witness first
    /// (as `export --key`).
    #[arg(long, value_name = "KEYFILE", requires = "witness")]
    pub key: Option<PathBuf>,
    /// The witness directory; without --key, the proof is against its latest checkpoint.
    #[arg(long, value_name = "DIR", required = true)]
    pub witness: Option<PathBuf>,
    /// The verifier key to check the witness checkpoint with (without --key).
    #[arg(long, value_name = "FILE", required_unless_present = "key")]
    pub pubkey: Option<PathBuf>,
    /// The map key, needed when the checkpoint commits a map (as `export`).
    #[arg(long, value_name = "MAPKEYFILE")]
    pub map_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The client's personnummer (12 digits).
    #[arg(long, value_name = "PNR")]
    pub client: Personnummer,
    /// The bundle file to write (mode 0600; never overwritten).
    #[arg(long, value_name = "BUNDLE")]
    pub out: PathBuf,
    /// Sign a fresh checkpoint of the current head with this key, once the ledger is
    /// shown to extend every checkpoint the key signed into --witness (where it is
    /// written too): never a second history.
    #[arg(long, value_name = "KEYFILE", requires = "witness")]
    pub key: Option<PathBuf>,
    /// The witness directory; without --key, the bundle is proven against its latest
    /// checkpoint.
    #[arg(long, value_name = "DIR", required = true)]
    pub witness: Option<PathBuf>,
    /// A checkpoint the recipient already holds (from an earlier export): the bundle
    /// also carries the proof that the log it is proven against extends that one.
    #[arg(long, value_name = "OLD.checkpoint")]
    pub since: Option<PathBuf>,
    /// The verifier key to check the witness checkpoint with (without --key).
    #[arg(long, value_name = "FILE", required_unless_present = "key")]
    pub pubkey: Option<PathBuf>,
    /// The map key from `map-keygen`, needed when the checkpoint commits a map: the
    /// bundle then proves it holds every record of the client up to the checkpoint, and
    /// no one else's. With --key, the fresh checkpoint commits the map too.
    #[arg(long, value_name = "MAPKEYFILE")]
    pub map_key: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum HoldCmd {
    /// Place a hold.
    Add(HoldArgs),
    /// Release a hold.
    Release(HoldArgs),
}

#[derive(Args, Debug)]
pub struct HoldArgs {
    /// The client's personnummer.
    #[arg(long, value_name = "PNR")]
    pub client: Personnummer,
    /// Why (a case number, not a story: it is kept encrypted with the client's data).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The user placing or releasing it.
    #[arg(long = "as", value_name = "USER")]
    pub user: UserId,
    /// Their role (unit_manager or admin).
    #[arg(long, value_name = "ROLE", value_parser = roles())]
    pub role: Role,
}

#[derive(Args, Debug)]
pub struct WeedArgs {
    /// Judge retention as of the end of this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub as_of: NaiveDate,
    /// List only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The weeding decision (gallringsbeslut) weeding is done under: recorded in each
    /// weeding event. Required without --dry-run.
    #[arg(long, value_name = "REF", required_unless_present = "dry_run")]
    pub decision: Option<String>,
    /// The user weeding. Required without --dry-run.
    #[arg(long = "as", value_name = "USER", required_unless_present = "dry_run")]
    pub user: Option<UserId>,
    /// Their role (unit_manager or admin). Required without --dry-run.
    #[arg(long, value_name = "ROLE", value_parser = roles(), required_unless_present = "dry_run")]
    pub role: Option<Role>,
    /// The map key from `map-keygen`, when checkpoints sign a map: each weeded client's
    /// map key (a salted hash, never the number) is kept before their key is destroyed, so
    /// that `verify --map-key` can still rebuild maps signed before the weeding.
    #[arg(long, value_name = "MAPKEYFILE")]
    pub map_key: Option<PathBuf>,
}
