//! Synthetic test data: no real person anywhere.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use planledger_plan::*;

/// Valid synthetic personnummer (docs/DOMAIN.md).
pub const PNR: &str = "19640823-3234";
/// Valid synthetic samordningsnummer (day 63 = 3rd).
pub const SAMORDNING: &str = "19701063-2391";

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// 09:00 UTC on a day.
pub fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()
}

pub fn actor(user: &str, role: Role) -> Actor {
    Actor::new(UserId::new(user).unwrap(), role)
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
pub fn admin_officer() -> Actor {
    actor("fia-forvaltning", Role::AdministrativeOfficer)
}
pub fn inspector() -> Actor {
    actor("ivo-1", Role::Inspector)
}
pub fn admin() -> Actor {
    actor("root", Role::Admin)
}

pub fn plan_id() -> PlanId {
    PlanId::new("plan-0001").unwrap()
}

pub fn unit() -> UnitId {
    UnitId::new("hemtjanst-norr").unwrap()
}

pub fn pnr() -> Personnummer {
    Personnummer::parse(PNR).unwrap()
}

pub fn client_for(act: ActKind) -> Personnummer {
    match act {
        ActKind::LssDailyActivity => Personnummer::parse(SAMORDNING).unwrap(),
        _ => pnr(),
    }
}

pub fn time(h: u8, m: u8) -> Option<TimeOfDay> {
    TimeOfDay::new(h, m)
}

/// A service with everything seed 001 asks for.
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
        how: "Två personal; kunden tvättar själv ansikte och armar, personal hjälper med rygg och ben"
            .into(),
        who: "Hemtjänstgrupp Norr, kontaktperson".into(),
        goal: "Kunden känner sig ren och trygg i duschen".into(),
    }
}

/// A complete plan content for `act`: completeness finds nothing missing.
pub fn content(act: ActKind) -> PlanContent {
    let mut c = PlanContent {
        provider: "Exempel Omsorg AB".into(),
        unit: unit(),
        act,
        client: Client {
            name: "Testperson Ett".into(),
            personnummer: client_for(act),
        },
        key_worker: Some(KeyWorkerRef {
            name: "Kim Kontakt".into(),
            user: Some(UserId::new("kim-kontakt").unwrap()),
        }),
        drawn_up_on: Some(date(2026, 3, 10)),
        adopted_on: Some(date(2026, 3, 10)),
        service_starts_on: Some(date(2026, 3, 11)),
        follow_up: FollowUpPlan {
            on: Some(date(2026, 9, 10)),
            how: "Uppföljning med kund, närstående och kontaktperson".into(),
        },
        services: vec![shower()],
        goals: vec!["Kunden kan bo kvar hemma tryggt".into()],
        participation: Participation {
            client_took_part: true,
            how: "Kunden deltog i planeringsmötet i hemmet".into(),
            views_considered: "Kunden vill duscha på förmiddagen, vilket planen följer".into(),
        },
        participants: vec![Participant {
            name: "Närstående".into(),
            role: ParticipantRole::Relative,
        }],
        collaboration: vec![Collaboration {
            with: Partner::CaseOfficer,
            how: "Meddelande i verksamhetssystemet vid förändring".into(),
        }],
        clinical_orders: vec![],
        life_areas: vec![],
    };
    if act == ActKind::LssDailyActivity {
        c.services.clear();
        c.life_areas = vec![LifeArea {
            area: "Kommunikation".into(),
            assessed_function: "Svår, lindras med bildstöd".into(),
            goal: "Kunden kan välja aktivitet själv med bildstöd".into(),
            needs_and_services: vec![
                TimedNeed {
                    part_of_day: PartOfDay::Morning,
                    text: "Ankomst: stöd att hänga av ytterkläder, välja dagens aktivitet med bildschema".into(),
                },
                TimedNeed {
                    part_of_day: PartOfDay::Afternoon,
                    text: "Vila 20 minuter efter lunch".into(),
                },
            ],
            routine_notes: vec![RoutineNote {
                topic: RoutineTopic::Communication,
                note: "Använder AKK (bildkartor); ge tid att svara".into(),
            }],
        }];
        c.clinical_orders = vec![ClinicalOrderRef {
            by: Clinician::Habilitation,
            subject: "förflyttning".into(),
            where_to_read: "kundens akt, flik ordinationer".into(),
        }];
    }
    c
}

/// A plan under test: decides each command, folds the events, keeps the log.
pub struct Harness {
    pub state: PlanState,
    pub log: Vec<(Event, DateTime<Utc>, Actor)>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness {
            state: PlanState::new(),
            log: Vec::new(),
        }
    }

    /// A plan with its order received on `received`, by the case officer.
    pub fn ordered(act: ActKind, received: DateTime<Utc>) -> Harness {
        let mut h = Harness::new();
        h.run(
            &officer(),
            received,
            receive_order(act, "best-1", received.date_naive()),
        )
        .unwrap();
        h
    }

    pub fn run(
        &mut self,
        actor: &Actor,
        now: DateTime<Utc>,
        command: Command,
    ) -> Result<Vec<Event>, Rejection> {
        let events = decide(&self.state, &command, actor, now)?;
        for e in &events {
            self.state.apply(e, now, actor);
            self.log.push((e.clone(), now, actor.clone()));
        }
        Ok(events)
    }

    /// Like `run`, for steps that must succeed.
    pub fn ok(&mut self, actor: &Actor, now: DateTime<Utc>, command: Command) {
        let name = command.name();
        if let Err(r) = self.run(actor, now, command) {
            panic!("{name} was rejected: {r}");
        }
    }

    pub fn current(&self) -> u32 {
        self.state.current_version().unwrap().number
    }

    /// The state folded afresh from the log (checks that the fold is a pure function of it).
    pub fn refold(&self) -> PlanState {
        PlanState::from_events(self.log.iter().map(|(e, at, a)| (e, *at, a)))
    }
}

pub fn receive_order(act: ActKind, order: &str, received_on: NaiveDate) -> Command {
    Command::ReceiveOrder {
        plan: plan_id(),
        order: OrderId::new(order).unwrap(),
        unit: unit(),
        act,
        client: client_for(act),
        received_on,
        granted_services: vec!["personlig omvårdnad".into(), "dusch".into()],
    }
}

pub fn draft(act: ActKind) -> Command {
    Command::Draft {
        plan: plan_id(),
        content: content(act),
    }
}

pub fn revise(act: ActKind, reason: RevisionReason) -> Command {
    Command::Revise {
        plan: plan_id(),
        reason,
        note: "Ändrat efter samtal med kunden".into(),
        content: content(act),
    }
}

pub fn sign(version: u32, signer: Signer) -> Command {
    Command::Sign {
        plan: plan_id(),
        version,
        signer,
    }
}

pub fn submit(version: u32) -> Command {
    Command::Submit {
        plan: plan_id(),
        version,
    }
}

pub fn approve(version: u32) -> Command {
    Command::Approve {
        plan: plan_id(),
        version,
    }
}

pub fn request_supplement(version: u32, due_on: NaiveDate) -> Command {
    Command::RequestSupplement {
        plan: plan_id(),
        version,
        reason: "Ange tid för inköp".into(),
        due_on,
    }
}

pub fn provide_supplement(version: u32) -> Command {
    Command::ProvideSupplement {
        plan: plan_id(),
        version,
        note: "Tid för inköp tillagd".into(),
    }
}

pub fn all_clear() -> ReviewChecklist {
    ReviewChecklist {
        participation_described: true,
        services_and_goals_clear: true,
        usable_by_new_staff: true,
        matches_order: true,
    }
}

pub fn review(version: u32) -> Command {
    Command::RecordReview {
        plan: plan_id(),
        version,
        checklist: all_clear(),
        findings: String::new(),
    }
}

pub fn follow_up(version: u32, next: Option<NaiveDate>) -> Command {
    Command::RecordFollowUp {
        plan: plan_id(),
        version,
        findings: "Insatserna fungerar som planerat".into(),
        next_follow_up_on: next,
    }
}

pub fn deviation(occurred_on: NaiveDate) -> Command {
    Command::RecordDeviation {
        plan: plan_id(),
        occurred_on,
        service: Some("Dusch".into()),
        description: "Duschen uteblev på grund av personalbrist".into(),
    }
}

pub fn correct(refers_to: u64) -> Command {
    Command::Correct {
        plan: plan_id(),
        refers_to,
        note: "Avvikelsen gällde dagen efter".into(),
    }
}

pub fn close(reason: CloseReason, closed_on: NaiveDate) -> Command {
    Command::Close {
        plan: plan_id(),
        reason,
        closed_on,
    }
}

/// One command of each kind, for role tables.
pub fn one_of_each(act: ActKind) -> Vec<Command> {
    vec![
        receive_order(act, "best-2", date(2026, 3, 1)),
        draft(act),
        revise(act, RevisionReason::ChangedNeeds),
        sign(1, Signer::Client),
        submit(1),
        approve(1),
        request_supplement(1, date(2026, 12, 1)),
        provide_supplement(1),
        review(1),
        follow_up(1, None),
        deviation(date(2026, 3, 1)),
        correct(1),
        close(CloseReason::Ended, date(2026, 3, 1)),
    ]
}
