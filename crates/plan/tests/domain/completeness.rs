//! Required contents per act (docs/DOMAIN.md, "What a plan must contain").

use crate::fixtures::*;
use planledger_plan::*;

#[test]
fn a_complete_plan_has_no_gaps_for_any_act() {
    for act in ActKind::ALL {
        assert_eq!(completeness(&content(act), act), [], "{act}");
    }
}

#[test]
fn a_service_must_say_what_when_how_who_and_its_goal_000_001_002() {
    let mut c = content(ActKind::HomeCare);
    c.services.push(Service {
        what: "Inköp".into(),
        ..Service::default()
    });
    c.services[0].who = "-".into(); // vague is as good as missing
    let gaps = completeness(&c, ActKind::HomeCare);
    assert_eq!(
        gaps,
        [
            Gap::Service {
                service: 1,
                field: ServiceField::Who
            },
            Gap::Service {
                service: 2,
                field: ServiceField::When
            },
            Gap::Service {
                service: 2,
                field: ServiceField::How
            },
            Gap::Service {
                service: 2,
                field: ServiceField::Who
            },
            Gap::Service {
                service: 2,
                field: ServiceField::Goal
            },
        ]
    );
    assert_eq!(
        gaps[1].to_string(),
        "service 2 does not say when (weekday and time of day)"
    );
}

#[test]
fn when_needs_a_weekday_and_a_time_or_part_of_day_001() {
    let mut c = content(ActKind::HomeCare);
    c.services[0].when.start = None;
    c.services[0].when.end = None;
    assert_eq!(
        completeness(&c, ActKind::HomeCare),
        [Gap::Service {
            service: 1,
            field: ServiceField::When
        }]
    );
    c.services[0].when.part_of_day = Some(PartOfDay::Forenoon);
    assert_eq!(completeness(&c, ActKind::HomeCare), []);
    c.services[0].when.days.clear();
    assert_eq!(
        completeness(&c, ActKind::HomeCare),
        [Gap::Service {
            service: 1,
            field: ServiceField::When
        }]
    );
}

#[test]
fn the_001_list_dates_key_worker_and_participants() {
    let mut c = content(ActKind::HomeCare);
    c.provider.clear();
    c.key_worker = None;
    c.drawn_up_on = None;
    c.service_starts_on = None;
    c.participants.clear();
    c.follow_up.on = None;
    assert_eq!(
        completeness(&c, ActKind::HomeCare),
        [
            Gap::Provider,
            Gap::KeyWorker,
            Gap::DrawnUpDate,
            Gap::ServiceStartDate,
            Gap::NoParticipants,
            Gap::FollowUpDate,
        ]
    );
    // The service start date is a home-care item (001) only.
    let mut h = content(ActKind::HousingSupport);
    h.service_starts_on = None;
    assert_eq!(completeness(&h, ActKind::HousingSupport), []);
}

#[test]
fn participation_and_how_views_were_considered_002_004() {
    let mut c = content(ActKind::HousingSupport);
    c.participation = Participation::default();
    assert_eq!(
        completeness(&c, ActKind::HousingSupport),
        [Gap::ParticipationNotDescribed, Gap::ViewsNotConsidered]
    );
}

#[test]
fn the_goals_of_the_support_000_003_004() {
    // 000 and 003 ask for the goals of the support itself.
    for act in [ActKind::ResidentialCare, ActKind::LssDailyActivity] {
        let mut c = content(act);
        c.goals.clear();
        assert_eq!(completeness(&c, act), [Gap::NoGoals], "{act}");
    }
    // 004 works with individual goals per service; those suffice.
    let mut c = content(ActKind::HousingSupport);
    c.goals.clear();
    assert_eq!(completeness(&c, ActKind::HousingSupport), []);
    c.services[0].goal.clear();
    assert_eq!(
        completeness(&c, ActKind::HousingSupport),
        [
            Gap::Service {
                service: 1,
                field: ServiceField::Goal
            },
            Gap::NoGoals
        ]
    );
}

#[test]
fn when_and_how_the_plan_is_followed_up_000_001_002() {
    let mut c = content(ActKind::ResidentialCare);
    c.follow_up = FollowUpPlan::default();
    assert_eq!(
        completeness(&c, ActKind::ResidentialCare),
        [Gap::FollowUpDate, Gap::FollowUpHow]
    );
}

#[test]
fn lss_daily_activity_needs_its_life_areas_003() {
    let act = ActKind::LssDailyActivity;
    let mut c = content(act);
    c.life_areas.clear();
    assert_eq!(
        completeness(&c, act),
        [Gap::NoServices, Gap::LifeAreasMissing]
    );
    // Other acts do not have life areas.
    let mut h = content(ActKind::HomeCare);
    h.life_areas.clear();
    assert_eq!(completeness(&h, ActKind::HomeCare), []);

    let mut c = content(act);
    c.life_areas.push(LifeArea {
        area: "Arbete".into(),
        ..LifeArea::default()
    });
    c.life_areas[0].needs_and_services.reverse();
    assert_eq!(
        completeness(&c, act),
        [
            Gap::LifeArea {
                area: 1,
                field: LifeAreaField::Chronology
            },
            Gap::LifeArea {
                area: 2,
                field: LifeAreaField::AssessedFunction
            },
            Gap::LifeArea {
                area: 2,
                field: LifeAreaField::Goal
            },
            Gap::LifeArea {
                area: 2,
                field: LifeAreaField::NeedsAndServices
            },
        ]
    );
}

#[test]
fn a_clinical_order_reference_says_where_to_read_it_003() {
    let act = ActKind::LssDailyActivity;
    let mut c = content(act);
    c.clinical_orders[0].where_to_read.clear();
    assert_eq!(
        completeness(&c, act),
        [Gap::ClinicalOrderLocation { order: 1 }]
    );
}

#[test]
fn unsigned_is_a_gap_client_for_home_care_staff_for_housing_support_001_004() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(ActKind::HomeCare));
    let unsigned_client = Gap::Unsigned {
        required: SignatureRequirement::ClientOrRepresentative,
    };
    assert_eq!(h.state.gaps(1), [unsigned_client]);
    assert_eq!(unsigned_client.seeds(), "000, 001");
    // A staff signature does not sign a home-care plan.
    h.ok(
        &staff(),
        at(2026, 3, 5),
        sign(1, Signer::StaffMember(staff().user)),
    );
    assert_eq!(h.state.gaps(1), [unsigned_client]);
    h.ok(&key_worker(), at(2026, 3, 6), sign(1, Signer::Client));
    assert_eq!(h.state.gaps(1), []);

    let mut h = Harness::ordered(ActKind::HousingSupport, at(2026, 3, 1));
    h.ok(
        &key_worker(),
        at(2026, 3, 5),
        draft(ActKind::HousingSupport),
    );
    h.ok(&key_worker(), at(2026, 3, 6), sign(1, Signer::Client));
    let unsigned_staff = Gap::Unsigned {
        required: SignatureRequirement::StaffMember,
    };
    assert_eq!(h.state.gaps(1), [unsigned_staff]);
    assert_eq!(
        unsigned_staff.to_string(),
        "the version is not signed by a staff member"
    );
    h.ok(
        &staff(),
        at(2026, 3, 6),
        sign(1, Signer::StaffMember(staff().user)),
    );
    assert_eq!(h.state.gaps(1), []);
}

#[test]
fn gap_text_carries_no_personal_data() {
    let mut c = content(ActKind::LssDailyActivity);
    c.client.name.clear();
    c.services.push(Service {
        what: "Testperson Etts dusch".into(),
        ..Service::default()
    });
    for gap in completeness(&c, ActKind::LssDailyActivity) {
        let text = gap.to_string();
        assert!(
            !text.contains("Testperson") && !text.contains("1970"),
            "{text}"
        );
    }
}
