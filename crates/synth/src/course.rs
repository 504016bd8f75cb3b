//! A client's course over time: when the order comes, when the plan is drawn up,
//! signed, sent and decided, and what each month brings (review, deviations, a new
//! decision, the follow-up, closure). Planned as compact [`Step`]s a month at a time, in
//! an order that `decide` accepts; the wording is filled in when a step is emitted.

use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc, Weekday,
};
use planledger_plan::{
    ActDeadlines, ActKind, CloseReason, DeadlinePolicy, RepresentativeKind, RevisionReason,
    SignatureRequirement, swedish_date,
};

use crate::client::Profile;
use crate::content::VersionSpec;
use crate::rng::{Rng, Stream};

/// Share of submissions the case officer answers with a request for a supplement.
const SUPPLEMENT_SHARE: f64 = 0.15;
/// Chance per month of a new decision (nytt biståndsbeslut) adding a service.
const NEW_DECISION_PER_MONTH: f64 = 0.02;
/// Chance per month that a staff member corrects an earlier deviation note.
const CORRECTION_PER_MONTH: f64 = 0.04;

/// Who gives a command, relative to the client (their unit, key worker, case officer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    CaseOfficer,
    KeyWorker,
    /// A staff member of the client's unit, by index.
    Staff(u32),
    UnitManager,
}

/// Who signs: the client, their representative, or the user giving the command (004).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignAs {
    Client,
    Representative(RepresentativeKind),
    Myself,
}

/// One planned command, without its wording.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    Order {
        number: u32,
        received_on: NaiveDate,
        decisions: u32,
    },
    Draft(VersionSpec),
    Revise {
        reason: RevisionReason,
        spec: VersionSpec,
    },
    Sign {
        version: u32,
        signer: SignAs,
    },
    Submit {
        version: u32,
    },
    Approve {
        version: u32,
    },
    RequestSupplement {
        version: u32,
        due_on: NaiveDate,
        text: u8,
    },
    ProvideSupplement {
        version: u32,
    },
    Review {
        version: u32,
        clear: bool,
        text: u8,
    },
    FollowUp {
        version: u32,
        next: NaiveDate,
        text: u8,
    },
    Deviation {
        occurred_on: NaiveDate,
        service: Option<u32>,
        decisions: u32,
        text: u8,
    },
    Correct {
        refers_to: u64,
        occurred_on: NaiveDate,
    },
    Close {
        reason: CloseReason,
        closed_on: NaiveDate,
    },
}

/// A planned step of one client. Steps are emitted by [`Pending::key`]: time, then
/// client, then the client's own sequence, a total order that is the same on every run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub(crate) at: DateTime<Utc>,
    pub(crate) client: u32,
    pub(crate) seq: u32,
    pub(crate) who: Who,
    pub(crate) step: Step,
}

impl Pending {
    pub(crate) fn key(&self) -> (DateTime<Utc>, u32, u32) {
        (self.at, self.client, self.seq)
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// The order arrives at this time.
    Waiting(DateTime<Utc>),
    Active,
    Closed,
}

/// What the planner needs from the organisation.
pub(crate) struct Ctx<'a> {
    pub(crate) policy: &'a DeadlinePolicy,
    pub(crate) end: DateTime<Utc>,
    pub(crate) staff: u32,
    pub(crate) out: &'a mut Vec<Pending>,
}

/// A client's course: where their plan stands, as planned so far.
#[derive(Debug, Clone)]
pub(crate) struct Course {
    r: Rng,
    phase: Phase,
    /// The time of the last planned step; the next comes after it.
    cursor: DateTime<Utc>,
    seq: u32,
    /// Steps planned so far: the stream version of the last one.
    events: u64,
    version: u32,
    orders: u32,
    decisions: u32,
    service_starts_on: NaiveDate,
    follow_up_on: NaiveDate,
    /// When the key worker will hold the next follow-up.
    follow_up_target: DateTime<Utc>,
    last_deviation: Option<(u64, NaiveDate)>,
    /// The day the review clock last restarted: the last review or new version (002).
    review_base: NaiveDate,
    /// A step fell at or after the end: nothing more is planned.
    done: bool,
}

fn minutes(m: u32) -> TimeDelta {
    TimeDelta::minutes(i64::from(m))
}

fn plus_days(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(n)))
        .unwrap_or(NaiveDate::MAX)
}

fn plus_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n))
        .unwrap_or(NaiveDate::MAX)
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// Months between follow-ups the plan itself sets: the act's interval where the policy
/// has one, else half a year (home care follows up at the date in the plan, 001).
fn follow_up_months(rules: &ActDeadlines) -> u32 {
    rules.follow_up_every_months.unwrap_or(6)
}

impl Course {
    /// The course of client `profile.index`, whose order arrives within the first days
    /// of the period given by `arrival_days`.
    pub(crate) fn new(seed: u64, profile: &Profile, start: NaiveDate, arrival_days: u32) -> Course {
        let mut r = Rng::derive(seed, Stream::Course, u64::from(profile.index), 0);
        let day = plus_days(start, r.below(u64::from(arrival_days.max(1))) as u32);
        // Orders arrive on office days.
        let day = match day.weekday() {
            Weekday::Sat => plus_days(day, 2),
            Weekday::Sun => plus_days(day, 1),
            _ => day,
        };
        let arrival = midnight(day) + TimeDelta::hours(7) + minutes(r.range(0, 300));
        Course {
            r,
            phase: Phase::Waiting(arrival),
            cursor: midnight(start),
            seq: 0,
            events: 0,
            version: 0,
            orders: 0,
            decisions: 0,
            service_starts_on: day,
            follow_up_on: day,
            follow_up_target: arrival,
            last_deviation: None,
            review_base: day,
            done: false,
        }
    }

    /// A working-hours time on `d` (07:00–12:00 UTC, 08:00–14:00 in Sweden), when a
    /// day's first bundle of office work starts. Office work falling on a weekend is
    /// done on the Friday before if that is still ahead, else on the Monday after if
    /// that is no later than `latest` (the deadline it serves), else on the weekend.
    fn office(&mut self, d: NaiveDate, latest: NaiveDate) -> DateTime<Utc> {
        let back = match d.weekday() {
            Weekday::Sat => 1,
            Weekday::Sun => 2,
            _ => 0,
        };
        let day = if back == 0 {
            d
        } else {
            let friday = d - TimeDelta::days(back);
            let monday = d + TimeDelta::days(3 - back);
            if friday > self.cursor.date_naive() {
                friday
            } else if monday <= latest {
                monday
            } else {
                d
            }
        };
        self.morning_of(day)
    }

    /// [`Course::office`] for work with no deadline of its own.
    fn morning(&mut self, d: NaiveDate) -> DateTime<Utc> {
        self.office(d, NaiveDate::MAX)
    }

    /// A working-hours time on exactly `d`.
    fn morning_of(&mut self, d: NaiveDate) -> DateTime<Utc> {
        midnight(d) + TimeDelta::hours(7) + minutes(self.r.range(0, 300))
    }

    /// Start of a bundle of same-day steps at or after `desired`: moved to the next
    /// morning when the day is too far gone for the bundle to end on the same date
    /// (LSS sends each version to the authority the day it is made, 003).
    fn bundle_start(&mut self, desired: DateTime<Utc>) -> DateTime<Utc> {
        let t = desired.max(self.cursor + minutes(self.r.range(10, 40)));
        // Only ever later than `t`: a bundle never moves before the month it was
        // planned in.
        if t.hour() >= 15 {
            let next = plus_days(t.date_naive(), 1);
            self.morning_of(next)
        } else if t.hour() < 7 {
            self.morning_of(t.date_naive())
        } else {
            t
        }
    }

    /// A little after the last step, the same day.
    fn soon(&mut self) -> DateTime<Utc> {
        self.cursor + minutes(self.r.range(5, 60))
    }

    fn push(
        &mut self,
        ctx: &mut Ctx<'_>,
        profile: &Profile,
        desired: DateTime<Utc>,
        who: Who,
        step: Step,
    ) {
        if self.done {
            return;
        }
        let mut at = desired.max(self.cursor + minutes(1));
        if at.hour() >= 21 {
            // Late evening UTC is the next day in Sweden, where deadlines are counted;
            // a day's work that piles up that late continues the next morning. Same-day
            // bundles end by 19:00, so none is split.
            let next = plus_days(at.date_naive(), 1);
            at = self.morning_of(next);
        }
        debug_assert_eq!(swedish_date(at), at.date_naive(), "dates are Swedish dates");
        if at >= ctx.end {
            // A plan's course is cut at the end, never reordered: what was planned
            // before stays a valid prefix.
            self.done = true;
            return;
        }
        self.cursor = at;
        self.events += 1;
        self.seq += 1;
        if matches!(
            step,
            Step::Draft(_) | Step::Revise { .. } | Step::Review { .. }
        ) {
            self.review_base = at.date_naive();
        }
        ctx.out.push(Pending {
            at,
            client: profile.index,
            seq: self.seq,
            who,
            step,
        });
    }

    fn spec(&self, drawn_up_on: NaiveDate) -> VersionSpec {
        VersionSpec {
            drawn_up_on,
            service_starts_on: self.service_starts_on,
            follow_up_on: self.follow_up_on,
            decisions: self.decisions,
        }
    }

    fn set_follow_up_target(&mut self, profile: &Profile) {
        let on = self.follow_up_on;
        let day = if profile.late {
            plus_days(on, self.r.range(3, 30))
        } else {
            on.checked_sub_days(Days::new(u64::from(self.r.range(1, 7))))
                .unwrap_or(on)
        };
        let latest = if profile.late { NaiveDate::MAX } else { on };
        self.follow_up_target = self.office(day, latest);
    }

    fn sign(&mut self, ctx: &mut Ctx<'_>, profile: &Profile) {
        if profile.unsigned {
            return;
        }
        let at = self.soon();
        let version = self.version;
        match profile.act.required_signature() {
            SignatureRequirement::ClientOrRepresentative => {
                let signer = profile
                    .representative
                    .map_or(SignAs::Client, SignAs::Representative);
                self.push(
                    ctx,
                    profile,
                    at,
                    Who::KeyWorker,
                    Step::Sign { version, signer },
                );
            }
            SignatureRequirement::StaffMember => {
                let who = if self.r.chance(0.5) {
                    Who::KeyWorker
                } else {
                    Who::Staff(self.r.below(u64::from(ctx.staff)) as u32)
                };
                let step = Step::Sign {
                    version,
                    signer: SignAs::Myself,
                };
                self.push(ctx, profile, at, who, step);
            }
        }
    }

    fn revise(
        &mut self,
        ctx: &mut Ctx<'_>,
        profile: &Profile,
        at: DateTime<Utc>,
        reason: RevisionReason,
    ) {
        self.version += 1;
        let at = at.max(self.cursor + minutes(1));
        let step = Step::Revise {
            reason,
            spec: self.spec(at.date_naive()),
        };
        self.push(ctx, profile, at, Who::KeyWorker, step);
        self.sign(ctx, profile);
    }

    fn submit(&mut self, ctx: &mut Ctx<'_>, profile: &Profile, at: DateTime<Utc>) {
        let step = Step::Submit {
            version: self.version,
        };
        self.push(ctx, profile, at, Who::KeyWorker, step);
    }

    /// The case officer's answer to the version just sent: approval, or a request for
    /// a supplement that the key worker answers with a revised version.
    fn decision(&mut self, ctx: &mut Ctx<'_>, profile: &Profile) {
        let day = plus_days(self.cursor.date_naive(), self.r.range(1, 10));
        let t = self.morning(day);
        if !self.r.chance(SUPPLEMENT_SHARE) {
            let step = Step::Approve {
                version: self.version,
            };
            self.push(ctx, profile, t, Who::CaseOfficer, step);
            return;
        }
        let due_on = plus_days(day, self.r.range(7, 14));
        let text = self.r.below(4) as u8;
        let step = Step::RequestSupplement {
            version: self.version,
            due_on,
            text,
        };
        self.push(ctx, profile, t, Who::CaseOfficer, step);
        let answer_on = if profile.late {
            plus_days(due_on, self.r.range(1, 7))
        } else {
            let room = (due_on - day).num_days() as u32;
            plus_days(day, self.r.range(1, room))
        };
        let latest = if profile.late { NaiveDate::MAX } else { due_on };
        let at = self.office(answer_on, latest);
        self.revise(ctx, profile, at, RevisionReason::Supplement);
        let at = self.soon();
        let step = Step::ProvideSupplement {
            version: self.version,
        };
        self.push(ctx, profile, at, Who::KeyWorker, step);
        let day = plus_days(self.cursor.date_naive(), self.r.range(1, 7));
        let at = self.morning(day);
        let step = Step::Approve {
            version: self.version,
        };
        self.push(ctx, profile, at, Who::CaseOfficer, step);
    }

    /// Order, version 1, signature, submission and decision.
    fn intake(&mut self, ctx: &mut Ctx<'_>, profile: &Profile, arrival: DateTime<Utc>) {
        let rules = *ctx.policy.for_act(profile.act);
        let received_on = arrival.date_naive();
        self.orders = 1;
        let step = Step::Order {
            number: 1,
            received_on,
            decisions: 0,
        };
        self.push(ctx, profile, arrival, Who::CaseOfficer, step);

        let draw = rules.draw_up_days.unwrap_or(14);
        let on_time_limit = draw.min(rules.submit_days_after_order.unwrap_or(u32::MAX));
        let draft_day = if profile.late {
            draw + self.r.range(1, 21)
        } else {
            self.r.range(0, on_time_limit)
        };
        let draft_at = if draft_day == 0 {
            self.cursor + minutes(self.r.range(30, 180))
        } else {
            let latest = if profile.late {
                NaiveDate::MAX
            } else {
                plus_days(received_on, on_time_limit)
            };
            self.office(plus_days(received_on, draft_day), latest)
        };
        let drawn_up_on = draft_at.date_naive();
        self.service_starts_on = received_on;
        self.follow_up_on = plus_months(drawn_up_on, follow_up_months(&rules));
        self.version = 1;
        let step = Step::Draft(self.spec(drawn_up_on));
        self.push(ctx, profile, draft_at, Who::KeyWorker, step);
        self.set_follow_up_target(profile);
        self.sign(ctx, profile);

        let submit_at = match (
            profile.late,
            rules.submit_days_after_version,
            rules.submit_days_after_order,
        ) {
            (false, Some(_), _) => self.soon(),
            (false, None, Some(limit)) => {
                let day = self.r.range(draft_day, limit.max(draft_day));
                if day == draft_day {
                    self.soon()
                } else {
                    self.office(plus_days(received_on, day), plus_days(received_on, limit))
                }
            }
            (false, None, None) | (true, None, None) => {
                let day = self.r.range(0, 7);
                if day == 0 {
                    self.soon()
                } else {
                    self.morning(plus_days(drawn_up_on, day))
                }
            }
            (true, Some(days), _) => {
                let late_by = self.r.range(1, 10);
                self.morning(plus_days(drawn_up_on, days + late_by))
            }
            (true, None, Some(limit)) => {
                let day = (limit + self.r.range(1, 20)).max(draft_day);
                self.morning(plus_days(received_on, day))
            }
        };
        self.submit(ctx, profile, submit_at);
        self.decision(ctx, profile);
    }

    /// The follow-up (uppföljning): recorded, then a renewed version sent and decided.
    fn follow_up(&mut self, ctx: &mut Ctx<'_>, profile: &Profile, desired: DateTime<Utc>) {
        let rules = *ctx.policy.for_act(profile.act);
        let t = self.bundle_start(desired);
        let next = plus_months(t.date_naive(), follow_up_months(&rules));
        let text = self.r.below(3) as u8;
        let step = Step::FollowUp {
            version: self.version,
            next,
            text,
        };
        self.push(ctx, profile, t, Who::KeyWorker, step);
        self.follow_up_on = next;
        let at = self.soon();
        self.revise(ctx, profile, at, RevisionReason::FollowUp);
        let at = self.soon();
        self.submit(ctx, profile, at);
        self.set_follow_up_target(profile);
        self.decision(ctx, profile);
    }

    /// A new decision (nytt beslut) adding a service: a new order, a revised version
    /// within the draw-up deadline (after it for the late share), sent and decided.
    fn new_decision(&mut self, ctx: &mut Ctx<'_>, profile: &Profile, desired: DateTime<Utc>) {
        let rules = *ctx.policy.for_act(profile.act);
        let t = self.bundle_start(desired);
        self.orders += 1;
        self.decisions += 1;
        let step = Step::Order {
            number: self.orders,
            received_on: t.date_naive(),
            decisions: self.decisions,
        };
        self.push(ctx, profile, t, Who::CaseOfficer, step);
        let draw = rules.draw_up_days.unwrap_or(14);
        let days = if profile.late {
            draw + self.r.range(1, 10)
        } else {
            self.r.range(0, draw.min(5))
        };
        let at = if days == 0 {
            self.cursor + minutes(self.r.range(30, 120))
        } else {
            let latest = if profile.late {
                NaiveDate::MAX
            } else {
                plus_days(t.date_naive(), draw.min(5))
            };
            self.office(plus_days(t.date_naive(), days), latest)
        };
        self.revise(ctx, profile, at, RevisionReason::NewDecision);
        let at = self.soon();
        self.submit(ctx, profile, at);
        self.decision(ctx, profile);
    }

    /// Plans the month `[from, to)`: the intake if the order arrives in it, then the
    /// follow-up if due, a new decision now and then, the monthly review (002),
    /// deviations (003), a correction now and then, and closure for a few.
    pub(crate) fn plan_month(
        &mut self,
        ctx: &mut Ctx<'_>,
        profile: &Profile,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) {
        match self.phase {
            Phase::Closed => return,
            Phase::Waiting(arrival) if arrival >= to => return,
            Phase::Waiting(arrival) => {
                self.phase = Phase::Active;
                self.intake(ctx, profile, arrival);
            }
            Phase::Active => {}
        }
        if self.done {
            return;
        }
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        enum Item {
            FollowUp,
            NewDecision,
            Review,
            Deviation,
            Correct,
            Close,
        }
        let days = (to - from).num_days().max(1) as u64;
        let mut items: Vec<(DateTime<Utc>, Item)> = Vec::with_capacity(8);
        let any_time = |r: &mut Rng| {
            from + TimeDelta::days(r.below(days) as i64)
                + TimeDelta::hours(7)
                + minutes(r.range(0, 600))
        };
        if self.follow_up_target < to {
            items.push((self.follow_up_target, Item::FollowUp));
        }
        // A new decision's round (order, version, decision, perhaps a supplement) takes
        // up to about five weeks and the course is sequential: none starts that could
        // push a due follow-up past its date.
        let follow_up_clear = self.follow_up_target >= to + TimeDelta::days(45);
        if self.r.chance(NEW_DECISION_PER_MONTH) && follow_up_clear {
            items.push((weekday(any_time(&mut self.r)), Item::NewDecision));
        }
        // 002: the key worker reviews at least monthly (or at the policy's interval),
        // counted from the last review or version; the late share reviews late.
        let review_months = ctx
            .policy
            .for_act(profile.act)
            .review_every_months
            .unwrap_or(1);
        let review_due = plus_months(self.review_base, review_months);
        let review_day = if profile.late {
            plus_days(review_due, self.r.range(3, 20))
        } else {
            review_due
                .checked_sub_days(Days::new(u64::from(self.r.range(1, 5))))
                .unwrap_or(review_due)
        };
        let latest = if profile.late {
            NaiveDate::MAX
        } else {
            review_due
        };
        let review_at =
            self.office(review_day, latest) + TimeDelta::hours(i64::from(self.r.range(0, 4)));
        if review_at < to {
            items.push((review_at, Item::Review));
        }
        let deviations_per_month = match profile.act {
            ActKind::ResidentialCare => 2.0,
            ActKind::HomeCare => 1.8,
            ActKind::LssDailyActivity => 1.0,
            ActKind::HousingSupport => 0.8,
        };
        for _ in 0..4 {
            if self.r.chance(deviations_per_month / 4.0) {
                items.push((any_time(&mut self.r), Item::Deviation));
            }
        }
        if self.r.chance(CORRECTION_PER_MONTH) {
            items.push((any_time(&mut self.r), Item::Correct));
        }
        let close_per_month = match profile.act {
            ActKind::ResidentialCare => 0.02,
            ActKind::HomeCare => 0.015,
            ActKind::LssDailyActivity => 0.005,
            ActKind::HousingSupport => 0.012,
        };
        if self.r.chance(close_per_month) {
            items.push((weekday(any_time(&mut self.r)), Item::Close));
        }
        items.sort();
        for (t, item) in items {
            if self.done || matches!(self.phase, Phase::Closed) {
                break;
            }
            // Nothing planned now may fall before the month: earlier months are emitted.
            let t = t.max(from);
            let at = t.max(self.cursor + minutes(self.r.range(5, 40)));
            match item {
                Item::FollowUp => self.follow_up(ctx, profile, t),
                Item::NewDecision => self.new_decision(ctx, profile, t),
                Item::Review => {
                    let clear = !profile.incomplete && self.r.chance(0.9);
                    let step = Step::Review {
                        version: self.version,
                        clear,
                        text: self.r.below(3) as u8,
                    };
                    self.push(ctx, profile, at, Who::KeyWorker, step);
                }
                Item::Deviation => {
                    let occurred_on = at
                        .date_naive()
                        .checked_sub_days(Days::new(self.r.below(2)))
                        .unwrap_or(at.date_naive());
                    let service = self
                        .r
                        .chance(0.8)
                        .then(|| self.r.below(u64::from(u32::MAX)) as u32);
                    let step = Step::Deviation {
                        occurred_on,
                        service,
                        decisions: self.decisions,
                        text: self.r.below(64) as u8,
                    };
                    let who = Who::Staff(self.r.below(u64::from(ctx.staff)) as u32);
                    self.push(ctx, profile, at, who, step);
                    if !self.done {
                        self.last_deviation = Some((self.events, occurred_on));
                    }
                }
                Item::Correct => {
                    if let Some((refers_to, occurred_on)) = self.last_deviation {
                        let who = if self.r.chance(0.5) {
                            Who::KeyWorker
                        } else {
                            Who::Staff(self.r.below(u64::from(ctx.staff)) as u32)
                        };
                        let step = Step::Correct {
                            refers_to,
                            occurred_on,
                        };
                        self.push(ctx, profile, at, who, step);
                    }
                }
                Item::Close => {
                    let reason = close_reason(&mut self.r, profile.act);
                    let who = *self
                        .r
                        .pick(&[Who::KeyWorker, Who::UnitManager, Who::CaseOfficer]);
                    let step = Step::Close {
                        reason,
                        closed_on: at.date_naive(),
                    };
                    self.push(ctx, profile, at, who, step);
                    self.phase = Phase::Closed;
                }
            }
        }
    }
}

/// `t`, or the Friday before when `t` falls on a weekend: the office's days.
fn weekday(t: DateTime<Utc>) -> DateTime<Utc> {
    match t.weekday() {
        Weekday::Sat => t - TimeDelta::days(1),
        Weekday::Sun => t - TimeDelta::days(2),
        _ => t,
    }
}

fn close_reason(r: &mut Rng, act: ActKind) -> CloseReason {
    let x = r.below(10);
    match act {
        ActKind::ResidentialCare if x < 7 => CloseReason::Deceased,
        ActKind::ResidentialCare => CloseReason::Moved,
        ActKind::HomeCare if x < 5 => CloseReason::Moved,
        ActKind::HomeCare if x < 8 => CloseReason::Deceased,
        ActKind::HomeCare => CloseReason::Ended,
        _ if x < 6 => CloseReason::Ended,
        _ => CloseReason::Moved,
    }
}
