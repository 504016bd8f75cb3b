//! The generator: every client's course, merged into one stream in time order, each
//! step given its wording as it is emitted.

use std::collections::VecDeque;

use chrono::{DateTime, Days, Utc};
use planledger_plan::{
    ActKind, Actor, Command, OrderId, PlanId, ReviewChecklist, Role, Signer, UserId,
};

use crate::client::{Profile, Staffing};
use crate::config::{ConfigError, Organisation, Unit};
use crate::content::{KeyWorker, granted_services, plan_content, service_name};
use crate::course::{Course, Ctx, Pending, SignAs, Step, Who};

/// The commands of an [`Organisation`], in time order: `(at, actor, command)`.
///
/// Applied in this order, every command is accepted by [`planledger_plan::decide`].
/// Planning runs a month ahead of what is emitted, so memory holds every client's small
/// state and about a month of planned steps, not the whole history.
#[derive(Debug)]
pub struct Commands {
    org: Organisation,
    units: Vec<Unit>,
    staffing: Staffing,
    profiles: Vec<Profile>,
    courses: Vec<Course>,
    /// Planned steps before `window_end`, in emission order.
    ready: VecDeque<Pending>,
    /// Planned steps at or after `window_end` (a cycle running into the next month).
    later: Vec<Pending>,
    next_month: u32,
    /// Every step before this instant is planned.
    window_end: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Organisation {
    /// The organisation's commands in time order, or why the configuration is unusable.
    pub fn commands(&self) -> Result<Commands, ConfigError> {
        self.validate()?;
        let units = self.units();
        let acts: Vec<_> = units.iter().map(|u| u.act).collect();
        let staffing = Staffing::of(self);
        // Orders arrive over the first third of the period, so that most plans have
        // their whole course inside it.
        let arrival_days = ((self.end_at() - self.start_at()).num_days() / 3).max(1) as u32;
        let profiles: Vec<Profile> = (0..self.clients as u32)
            .map(|i| Profile::new(self, &acts, staffing, i))
            .collect();
        let courses = profiles
            .iter()
            .map(|p| Course::new(self.seed, p, self.start, arrival_days))
            .collect();
        Ok(Commands {
            org: self.clone(),
            units,
            staffing,
            profiles,
            courses,
            ready: VecDeque::new(),
            later: Vec::new(),
            next_month: 0,
            window_end: self.start_at(),
            end: self.end_at(),
        })
    }
}

/// The plan id of client `index` (0-based): `plan-000001` for the first.
pub fn plan_id(index: u32) -> PlanId {
    PlanId::new(format!("plan-{:06}", u64::from(index) + 1)).expect("short ASCII id")
}

impl Commands {
    fn plan_next_month(&mut self) {
        let from = self.org.month_start(self.next_month);
        let to = self.org.month_start(self.next_month + 1);
        let mut ctx = Ctx {
            policy: &self.org.policy,
            end: self.end,
            staff: self.staffing.staff,
            out: &mut self.later,
        };
        for (course, profile) in self.courses.iter_mut().zip(&self.profiles) {
            course.plan_month(&mut ctx, profile, from, to);
        }
        // One sort per month instead of a heap: the month's steps are all known before
        // any is emitted, and sorting a vector is several times cheaper than popping a
        // heap of the same size.
        self.later.sort_unstable_by_key(Pending::key);
        let split = self.later.partition_point(|p| p.at < to);
        self.ready.extend(self.later.drain(..split));
        self.next_month += 1;
        self.window_end = to;
    }

    fn user(&self, unit: &Unit, profile: &Profile, who: Who) -> UserId {
        let id = match who {
            Who::CaseOfficer => format!("handlaggare-{}", profile.case_officer + 1),
            Who::KeyWorker => format!("kontakt-{}-{}", unit.id, profile.key_worker + 1),
            Who::Staff(s) => format!("personal-{}-{}", unit.id, s + 1),
            Who::UnitManager => format!("chef-{}", unit.id),
        };
        UserId::new(id).expect("short ASCII id without long digit runs")
    }

    fn materialise(&self, p: &Pending) -> (DateTime<Utc>, Actor, Command) {
        let profile = &self.profiles[p.client as usize];
        let unit = &self.units[profile.unit as usize];
        let user = self.user(unit, profile, p.who);
        let role = match p.who {
            Who::CaseOfficer => Role::CaseOfficer,
            Who::KeyWorker => Role::KeyWorker,
            Who::Staff(_) => Role::Staff,
            Who::UnitManager => Role::UnitManager,
        };
        let plan = plan_id(profile.index);
        let content = |spec| {
            let kw_user = self.user(unit, profile, Who::KeyWorker);
            let kw_name = format!("Kontaktperson {}, {}", profile.key_worker + 1, unit.name);
            let key_worker = KeyWorker {
                name: &kw_name,
                user: &kw_user,
            };
            plan_content(&self.org, unit, profile, key_worker, spec)
        };
        let command = match p.step {
            Step::Order {
                number,
                received_on,
                decisions,
            } => Command::ReceiveOrder {
                plan,
                order: OrderId::new(format!("best-{:06}-{number}", u64::from(profile.index) + 1))
                    .expect("short ASCII id"),
                unit: unit.id.clone(),
                act: profile.act,
                client: profile.personnummer,
                received_on,
                granted_services: granted_services(profile, decisions),
            },
            Step::Draft(spec) => Command::Draft {
                plan,
                content: content(spec),
            },
            Step::Revise { reason, spec } => Command::Revise {
                plan,
                reason,
                note: revision_note(reason, profile, spec.decisions),
                content: content(spec),
            },
            Step::Sign { version, signer } => Command::Sign {
                plan,
                version,
                signer: match signer {
                    SignAs::Client => Signer::Client,
                    SignAs::Representative(kind) => Signer::Representative(kind),
                    SignAs::Myself => Signer::StaffMember(user.clone()),
                },
            },
            Step::Submit { version } => Command::Submit { plan, version },
            Step::Approve { version } => Command::Approve { plan, version },
            Step::RequestSupplement {
                version,
                due_on,
                text,
            } => Command::RequestSupplement {
                plan,
                version,
                reason: SUPPLEMENT_REASONS[usize::from(text) % SUPPLEMENT_REASONS.len()].to_owned(),
                due_on,
            },
            Step::ProvideSupplement { version } => Command::ProvideSupplement {
                plan,
                version,
                note: "Planen är kompletterad enligt handläggarens begäran".to_owned(),
            },
            Step::Review {
                version,
                clear,
                text,
            } => {
                let (checklist, findings) = if clear {
                    (
                        ReviewChecklist {
                            participation_described: true,
                            services_and_goals_clear: true,
                            usable_by_new_staff: true,
                            matches_order: true,
                        },
                        REVIEW_CLEAR[usize::from(text) % REVIEW_CLEAR.len()],
                    )
                } else if profile.incomplete {
                    (
                        ReviewChecklist {
                            participation_described: false,
                            services_and_goals_clear: false,
                            usable_by_new_staff: true,
                            matches_order: true,
                        },
                        REVIEW_GAPS[usize::from(text) % REVIEW_GAPS.len()],
                    )
                } else {
                    (
                        ReviewChecklist {
                            participation_described: true,
                            services_and_goals_clear: true,
                            usable_by_new_staff: false,
                            matches_order: true,
                        },
                        "Morgonrutinen behöver beskrivas tydligare för vikarier; kontaktpersonen skriver till det",
                    )
                };
                Command::RecordReview {
                    plan,
                    version,
                    checklist,
                    findings: findings.to_owned(),
                }
            }
            Step::FollowUp {
                version,
                next,
                text,
            } => Command::RecordFollowUp {
                plan,
                version,
                findings: FOLLOW_UP_FINDINGS[usize::from(text) % FOLLOW_UP_FINDINGS.len()]
                    .to_owned(),
                next_follow_up_on: Some(next),
            },
            Step::Deviation {
                occurred_on,
                service,
                decisions,
                text,
            } => {
                let causes = deviation_causes(profile.act);
                let cause = causes[usize::from(text) % causes.len()];
                let action =
                    DEVIATION_ACTIONS[usize::from(text) / causes.len() % DEVIATION_ACTIONS.len()];
                Command::RecordDeviation {
                    plan,
                    occurred_on,
                    service: service
                        .map(|pick| service_name(profile, decisions, u64::from(pick)).to_owned()),
                    description: format!("{cause}; {action}"),
                }
            }
            Step::Correct {
                refers_to,
                occurred_on,
            } => {
                let actual = occurred_on
                    .checked_sub_days(Days::new(1))
                    .unwrap_or(occurred_on);
                Command::Correct {
                    plan,
                    refers_to,
                    note: format!(
                        "Rättelse: avvikelsen inträffade {actual}, inte {occurred_on} som först angavs"
                    ),
                }
            }
            Step::Close { reason, closed_on } => Command::Close {
                plan,
                reason,
                closed_on,
            },
        };
        (p.at, Actor::new(user, role), command)
    }
}

impl Iterator for Commands {
    type Item = (DateTime<Utc>, Actor, Command);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // Later months plan nothing before `window_end`, so `ready` is final.
            if let Some(p) = self.ready.pop_front() {
                return Some(self.materialise(&p));
            }
            if self.next_month >= self.org.months {
                debug_assert!(self.later.is_empty(), "nothing is planned past the end");
                return None;
            }
            self.plan_next_month();
        }
    }
}

fn revision_note(
    reason: planledger_plan::RevisionReason,
    profile: &Profile,
    decisions: u32,
) -> String {
    use planledger_plan::RevisionReason as R;
    match reason {
        R::Supplement => "Komplettering på biståndshandläggarens begäran".to_owned(),
        R::FollowUp => "Planen förnyad efter uppföljning".to_owned(),
        R::NewDecision => {
            let services = granted_services(profile, decisions);
            match services.last() {
                Some(added) if decisions > 0 => {
                    format!("Nytt beslut: {} tillkommer", added.to_lowercase())
                }
                _ => "Nytt beslut".to_owned(),
            }
        }
        _ => "Ny version".to_owned(),
    }
}

const SUPPLEMENT_REASONS: [&str; 4] = [
    "Ange dag och tid för inköp",
    "Beskriv hur kunden har varit delaktig i planeringen",
    "Ange vem som utför insatserna",
    "Komplettera med mål för varje insats",
];

const REVIEW_CLEAR: [&str; 3] = [
    "Planen är aktuell och följs",
    "Genomgången med kunden visar att planen stämmer",
    "Inga brister; kunden är nöjd med tiderna",
];

const REVIEW_GAPS: [&str; 3] = [
    "Tid och utförare saknas för en insats och delaktigheten är inte beskriven; kontaktpersonen kompletterar",
    "Det framgår inte hur kunden varit delaktig; tas upp vid nästa möte",
    "En insats saknar dag och tid; åtgärdas före nästa genomgång",
];

const FOLLOW_UP_FINDINGS: [&str; 3] = [
    "Insatserna fungerar väl; kunden vill fortsätta som idag",
    "Kunden behöver mer stöd på morgonen; tiderna justeras",
    "Målen är delvis uppnådda; nya delmål formulerade tillsammans med kunden",
];

/// What went wrong, in the words of each act's staff (003: deviations from the plan).
fn deviation_causes(act: ActKind) -> &'static [&'static str] {
    match act {
        ActKind::HomeCare => &[
            "Insatsen uteblev på grund av personalbrist",
            "Besöket blev 45 minuter försenat",
            "Kunden avböjde insatsen vid besöket",
            "Vikarie kände inte till rutinen i planen",
            "Kunden var inte hemma vid besökstiden",
            "Insatsen utfördes av en personal i stället för två",
            "Matlådan levererades inte",
            "Fel tid meddelades kunden",
        ],
        ActKind::ResidentialCare => &[
            "Insatsen uteblev på grund av personalbrist",
            "Kunden avböjde insatsen",
            "Vikarie kände inte till rutinen i planen",
            "Förflyttningen gjordes av en personal i stället för två",
            "Kunden blev orolig och insatsen avbröts",
            "Måltiden serverades 45 minuter sent",
            "Nattillsynen klockan 03 gjordes inte",
            "Kunden fick vänta 30 minuter på hjälp efter larm",
        ],
        ActKind::LssDailyActivity => &[
            "Kunden kom inte till daglig verksamhet och ingen frånvaro var anmäld",
            "Bildschemat var inte uppdaterat för dagen",
            "Vikarie kände inte till rutinen i planen",
            "Kunden blev orolig i den stora gruppen och aktiviteten avbröts",
            "Vilan blev inte av på grund av utflykt",
            "Fikat innehöll nötter trots allergi; kunden åt inte av det",
            "Hemtransporten blev 40 minuter sen",
            "Kunden avböjde arbetspasset",
        ],
        ActKind::HousingSupport => &[
            "Stödpersonen kom 30 minuter sent",
            "Kunden var inte hemma vid besökstiden",
            "Besöket ställdes in på grund av sjukdom i personalgruppen",
            "Kunden avböjde stödet vid besöket",
            "En räkning betalades inte i tid",
            "Promenaden ställdes in på grund av personalbrist",
            "Fel tid meddelades kunden",
            "Vikarie kände inte till planen",
        ],
    }
}

const DEVIATION_ACTIONS: [&str; 4] = [
    "kunden informerades och ny tid bokades",
    "kontaktpersonen ringde närstående",
    "enhetschefen informerades",
    "tas upp på arbetsplatsträffen",
];
