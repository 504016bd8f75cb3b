//! What changed between versions (the inspector's view of every version, docs/DOMAIN.md).

use crate::fixtures::*;
use planledger_plan::*;

#[test]
fn an_unchanged_version_has_no_changes() {
    assert_eq!(
        changes(&content(ActKind::HomeCare), &content(ActKind::HomeCare)),
        []
    );
}

#[test]
fn services_are_compared_by_what_they_are() {
    let old = content(ActKind::HomeCare);
    let mut new = old.clone();
    new.services[0].when.start = time(10, 0);
    new.services[0].who = "Kvällsgruppen".into();
    new.services.push(Service {
        what: "Inköp".into(),
        ..Service::default()
    });
    new.goals.push("Träffa grannar".into());
    new.follow_up.on = Some(date(2026, 12, 1));
    let c = changes(&old, &new);
    assert_eq!(
        c,
        [
            Change::FollowUp,
            Change::ServiceChanged {
                what: "Dusch".into(),
                fields: vec![ServiceField::When, ServiceField::Who]
            },
            Change::ServiceAdded {
                what: "Inköp".into()
            },
            Change::Goals,
        ]
    );
    assert_eq!(
        c[1].to_string(),
        "service Dusch changed: when (weekday and time of day), who"
    );
    assert_eq!(
        changes(&new, &old)[1],
        Change::ServiceRemoved {
            what: "Inköp".into()
        }
    );
}

#[test]
fn life_areas_are_compared_by_name_003() {
    let old = content(ActKind::LssDailyActivity);
    let mut new = old.clone();
    new.life_areas[0].goal = "Nytt mål".into();
    new.life_areas.push(LifeArea {
        area: "Arbete".into(),
        ..LifeArea::default()
    });
    assert_eq!(
        changes(&old, &new),
        [
            Change::LifeAreaChanged {
                area: "Kommunikation".into()
            },
            Change::LifeAreaAdded {
                area: "Arbete".into()
            },
        ]
    );
}

#[test]
fn the_state_gives_each_versions_changes_from_the_one_before() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(ActKind::HomeCare));
    let mut c = content(ActKind::HomeCare);
    c.services.clear();
    h.ok(
        &key_worker(),
        at(2026, 4, 5),
        Command::Revise {
            plan: plan_id(),
            reason: RevisionReason::ChangedNeeds,
            note: String::new(),
            content: c,
        },
    );
    assert_eq!(h.state.changes(1), []);
    assert_eq!(
        h.state.changes(2),
        [Change::ServiceRemoved {
            what: "Dusch".into()
        }]
    );
    assert_eq!(h.state.changes(3), []);
}
