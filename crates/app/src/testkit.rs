//! Test helpers (feature `testkit`): a [`MemoryStore`] written through the [`Recorder`],
//! exactly as the CLI records, and synthetic data.
//!
//! Nothing here is a real person: the personnummer are the synthetic ones of docs/DOMAIN.md
//! and samordningsnummer made up with a valid check digit.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use planledger_plan::{
    ActKind, Actor, Client, Collaboration, Command, FollowUpPlan, KeyWorkerRef, LifeArea, OrderId,
    PartOfDay, Participant, ParticipantRole, Participation, Partner, Personnummer, PlanContent,
    PlanId, Role, Schedule, Service, TimeOfDay, TimedNeed, UnitId, UserId, Weekday,
};
use planledger_projection::Projection;

use crate::recorder::Recorder;

/// The store types a test needs beside a scenario (copying records between stores).
pub use planledger_store::{MemoryStore, Store};

/// Why a scenario step was not recorded.
pub type Failure = crate::Error;

/// A ledger in memory, written one command at a time, indexed as a new ledger is.
#[derive(Debug)]
pub struct Scenario {
    store: MemoryStore,
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario::new()
    }
}

impl Scenario {
    pub fn new() -> Scenario {
        let store = MemoryStore::new();
        crate::index::mark_new(&store).expect("a new memory store takes its index marker");
        Scenario { store }
    }

    pub fn store(&self) -> &MemoryStore {
        &self.store
    }

    /// Records `command` through the [`Recorder`], as every writer does. Returns the
    /// plan's stream version after it.
    pub fn run(&self, actor: &Actor, now: DateTime<Utc>, command: Command) -> Result<u64, Failure> {
        let recorded = Recorder::new(&self.store, planledger_plan::DeadlinePolicy::default())
            .record(&command, actor, now, None)?;
        Ok(recorded.last().map_or(0, |r| r.stream_version))
    }

    /// [`Scenario::run`] for steps that must succeed; panics naming the command.
    pub fn ok(&self, actor: &Actor, now: DateTime<Utc>, command: Command) -> u64 {
        let name = command.name();
        match self.run(actor, now, command) {
            Ok(v) => v,
            Err(e) => panic!("{name} was not recorded: {e}"),
        }
    }

    /// A projection rebuilt from position 0.
    pub fn projection(&self) -> Projection {
        match Projection::rebuild(&self.store) {
            Ok(p) => p,
            Err(e) => panic!("rebuild failed: {e}"),
        }
    }
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid test date")
}

/// 09:00 UTC on a day.
pub fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    at_hm(y, m, d, 9, 0)
}

pub fn at_hm(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a valid test time")
}

pub fn actor(user: &str, role: Role) -> Actor {
    Actor::new(UserId::new(user).expect("a valid user id"), role)
}

pub fn key_worker() -> Actor {
    actor("kim-kontakt", Role::KeyWorker)
}

pub fn staff() -> Actor {
    actor("sam-personal", Role::Staff)
}

pub fn manager() -> Actor {
    actor("eva-chef", Role::UnitManager)
}

pub fn officer() -> Actor {
    actor("bo-handlaggare", Role::CaseOfficer)
}

pub fn plan(id: &str) -> PlanId {
    PlanId::new(id).expect("a valid plan id")
}

pub fn unit(id: &str) -> UnitId {
    UnitId::new(id).expect("a valid unit id")
}

/// Synthetic client number `n`: 0 and 1 are docs/DOMAIN.md's examples (19640823-3234,
/// 19701063-2391); 2..=31 are samordningsnummer of October 1970 (day 60 + n) with a
/// valid check digit.
pub fn client(n: u32) -> Personnummer {
    let text = match n {
        0 => "19640823-3234".to_owned(),
        1 => "19701063-2391".to_owned(),
        2..=31 => {
            let nine = format!("7010{}239", 60 + n);
            let sum: u32 = nine
                .bytes()
                .enumerate()
                .map(|(i, b)| {
                    let p = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
                    p / 10 + p % 10
                })
                .sum();
            format!("197010{}-239{}", 60 + n, (10 - sum % 10) % 10)
        }
        _ => panic!("synthetic clients are numbered 0..=31"),
    };
    Personnummer::parse(&text).expect("a valid synthetic personnummer")
}

pub fn time(h: u8, m: u8) -> Option<TimeOfDay> {
    TimeOfDay::new(h, m)
}

/// A service with everything seed 001 asks for: "Dusch", tuesdays 09:00–09:45.
pub fn shower() -> Service {
    Service {
        what: "Dusch".into(),
        when: Schedule {
            days: vec![Weekday::Tuesday],
            start: time(9, 0),
            end: time(9, 45),
            part_of_day: None,
            every_weeks: 1,
            note: String::new(),
        },
        how: "Två personal; kunden tvättar själv ansikte och armar".into(),
        who: "Hemtjänstgrupp Norr, kontaktperson".into(),
        goal: "Kunden känner sig ren och trygg i duschen".into(),
    }
}

/// A complete plan content (no completeness gaps) for `act`, drawn up on `drawn_up`.
pub fn content(
    act: ActKind,
    unit_id: &UnitId,
    who: Personnummer,
    drawn_up: NaiveDate,
) -> PlanContent {
    let mut c = PlanContent {
        provider: "Exempel Omsorg AB".into(),
        unit: unit_id.clone(),
        act,
        client: Client {
            name: "Testperson".into(),
            personnummer: who,
        },
        key_worker: Some(KeyWorkerRef {
            name: "Kim Kontakt".into(),
            user: Some(UserId::new("kim-kontakt").expect("valid")),
        }),
        drawn_up_on: Some(drawn_up),
        adopted_on: Some(drawn_up),
        service_starts_on: Some(drawn_up),
        follow_up: FollowUpPlan {
            on: drawn_up.checked_add_months(chrono::Months::new(6)),
            how: "Uppföljning med kund och kontaktperson".into(),
        },
        services: vec![shower()],
        goals: vec!["Kunden kan bo kvar hemma tryggt".into()],
        participation: Participation {
            client_took_part: true,
            how: "Kunden deltog i planeringsmötet".into(),
            views_considered: "Kunden vill duscha på förmiddagen".into(),
        },
        participants: vec![Participant {
            name: "Närstående".into(),
            role: ParticipantRole::Relative,
        }],
        collaboration: vec![Collaboration {
            with: Partner::CaseOfficer,
            how: "Meddelande i verksamhetssystemet".into(),
        }],
        clinical_orders: vec![],
        life_areas: vec![],
    };
    if act == ActKind::LssDailyActivity {
        c.services.clear();
        c.life_areas = vec![LifeArea {
            area: "Kommunikation".into(),
            assessed_function: "Lindras med bildstöd".into(),
            goal: "Kunden väljer aktivitet själv".into(),
            needs_and_services: vec![TimedNeed {
                part_of_day: PartOfDay::Morning,
                text: "Välja dagens aktivitet med bildschema".into(),
            }],
            routine_notes: vec![],
        }];
    }
    c
}

/// The order that opens a plan.
pub fn order(
    plan_id: &PlanId,
    act: ActKind,
    unit_id: &UnitId,
    who: Personnummer,
    received_on: NaiveDate,
) -> Command {
    Command::ReceiveOrder {
        plan: plan_id.clone(),
        order: OrderId::new(format!("best-{plan_id}")).expect("a valid order id"),
        unit: unit_id.clone(),
        act,
        client: who,
        received_on,
        granted_services: vec!["dusch".into()],
    }
}
