//! Event payloads: postcard bytes pinned per variant, round trips, JSON shape.

use crate::fixtures::*;
use planledger_plan::*;
use proptest::prelude::*;

/// One instance of every event variant, in tag order. Small on purpose: the pinned
/// bytes below must stay readable.
fn samples() -> Vec<Event> {
    let mut content = content(ActKind::HomeCare);
    content.services.truncate(1);
    content.participants.clear();
    content.collaboration.clear();
    content.goals = vec!["Trygg".into()];
    content.services[0] = Service {
        what: "Dusch".into(),
        when: Schedule {
            days: vec![Weekday::Tuesday],
            start: time(9, 0),
            end: time(9, 45),
            part_of_day: Some(PartOfDay::Morning),
            every_weeks: 1,
            note: String::new(),
        },
        how: "Stöd".into(),
        who: "Grupp".into(),
        goal: "Ren".into(),
    };
    content.life_areas = vec![LifeArea {
        area: "Arbete".into(),
        assessed_function: "Lätt".into(),
        goal: "Mål".into(),
        needs_and_services: vec![TimedNeed {
            part_of_day: PartOfDay::Night,
            text: "Vila".into(),
        }],
        routine_notes: vec![RoutineNote {
            topic: RoutineTopic::OralCare,
            note: "Själv".into(),
        }],
    }];
    content.clinical_orders = vec![ClinicalOrderRef {
        by: Clinician::Nurse,
        subject: "Lift".into(),
        where_to_read: "Akt".into(),
    }];
    vec![
        Event::OrderReceived(OrderReceived {
            plan: plan_id(),
            order: OrderId::new("best-1").unwrap(),
            unit: unit(),
            act: ActKind::HomeCare,
            client: pnr(),
            received_on: date(2026, 3, 1),
            granted_services: vec!["dusch".into()],
        }),
        Event::PlanDrafted(PlanDrafted {
            version: 1,
            content: content.clone(),
        }),
        Event::PlanRevised(PlanRevised {
            version: 2,
            reason: RevisionReason::RelativeRequest,
            note: "Önskemål".into(),
            content,
        }),
        Event::PlanSigned(PlanSigned {
            version: 2,
            signer: Signer::Representative(RepresentativeKind::Guardian),
        }),
        Event::PlanSubmitted(PlanSubmitted { version: 2 }),
        Event::PlanApproved(PlanApproved { version: 2 }),
        Event::SupplementRequested(SupplementRequested {
            version: 2,
            reason: "Tider".into(),
            due_on: date(2026, 3, 20),
        }),
        Event::SupplementProvided(SupplementProvided {
            version: 3,
            note: "Klart".into(),
        }),
        Event::ReviewDone(ReviewDone {
            version: 3,
            checklist: ReviewChecklist {
                participation_described: true,
                services_and_goals_clear: false,
                usable_by_new_staff: true,
                matches_order: false,
            },
            findings: "Mål oklara".into(),
        }),
        Event::FollowUpDone(FollowUpDone {
            version: 3,
            findings: "Bra".into(),
            next_follow_up_on: Some(date(2027, 3, 1)),
        }),
        Event::DeviationRecorded(DeviationRecorded {
            occurred_on: date(2026, 4, 2),
            service: None,
            description: "Uteblev".into(),
        }),
        Event::CorrectionNoted(CorrectionNoted {
            refers_to: 11,
            note: "Fel dag".into(),
        }),
        Event::PlanClosed(PlanClosed {
            reason: CloseReason::Deceased,
            closed_on: date(2026, 12, 31),
        }),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The payload of each sample, schema version 1. If this test fails, the stored form of
/// an event changed: that is a new schema version, never an edit of these lines.
const PINNED: [&str; 13] = [
    "0009706c616e2d3030303106626573742d310e68656d746a616e73742d6e6f7272010c3139363430383233333233340a323032362d30332d303101056475736368",
    "0101114578656d70656c204f6d736f72672041420e68656d746a616e73742d6e6f7272010e54657374706572736f6e204574740c313936343038323333323334010b4b696d204b6f6e74616b74010b6b696d2d6b6f6e74616b74010a323032362d30332d3130010a323032362d30332d3130010a323032362d30332d3131010a323032362d30392d31303555707066c3b66c6a6e696e67206d6564206b756e642c206ec3a4727374c3a5656e6465206f6368206b6f6e74616b74706572736f6e010544757363680101010530393a3030010530393a343501000100055374c3b6640547727570700352656e0105547279676701294b756e64656e2064656c746f67206920706c616e6572696e67736dc3b674657420692068656d6d65743a4b756e64656e2076696c6c206475736368612070c3a52066c3b6726d6964646167656e2c2076696c6b657420706c616e656e2066c3b66c6a657200000100044c69667403416b740106417262657465054cc3a47474044dc3a56c01040456696c61010806536ac3a46c76",
    "0202040ac3966e736b656dc3a56c114578656d70656c204f6d736f72672041420e68656d746a616e73742d6e6f7272010e54657374706572736f6e204574740c313936343038323333323334010b4b696d204b6f6e74616b74010b6b696d2d6b6f6e74616b74010a323032362d30332d3130010a323032362d30332d3130010a323032362d30332d3131010a323032362d30392d31303555707066c3b66c6a6e696e67206d6564206b756e642c206ec3a4727374c3a5656e6465206f6368206b6f6e74616b74706572736f6e010544757363680101010530393a3030010530393a343501000100055374c3b6640547727570700352656e0105547279676701294b756e64656e2064656c746f67206920706c616e6572696e67736dc3b674657420692068656d6d65743a4b756e64656e2076696c6c206475736368612070c3a52066c3b6726d6964646167656e2c2076696c6b657420706c616e656e2066c3b66c6a657200000100044c69667403416b740106417262657465054cc3a47474044dc3a56c01040456696c61010806536ac3a46c76",
    "03020101",
    "0402",
    "0502",
    "06020554696465720a323032362d30332d3230",
    "0703054b6c617274",
    "0803010001000b4dc3a56c206f6b6c617261",
    "090303427261010a323032372d30332d3031",
    "0a0a323032362d30342d30320007557465626c6576",
    "0b0b0746656c20646167",
    "0c020a323032362d31322d3331",
];

#[test]
fn every_event_variant_encodes_to_its_pinned_bytes() {
    let samples = samples();
    assert_eq!(samples.len(), EVENT_TYPES.len(), "a sample per variant");
    let actual: Vec<String> = samples.iter().map(|e| hex(&e.encode())).collect();
    if actual != PINNED {
        // Printed for review when a new schema version is made on purpose.
        eprintln!("const PINNED: [&str; 13] = {actual:#?};");
    }
    for (i, (a, p)) in actual.iter().zip(PINNED).enumerate() {
        assert_eq!(a, p, "{} (tag {i}) changed its bytes", EVENT_TYPES[i]);
    }
    assert_eq!(SCHEMA_VERSION, 1);
}

#[test]
fn every_event_round_trips_through_its_payload_and_names_its_type() {
    for (i, e) in samples().into_iter().enumerate() {
        let bytes = e.encode();
        assert_eq!(bytes[0] as usize, i);
        assert_eq!(e.event_type(), EVENT_TYPES[i]);
        assert_eq!(Event::decode(&bytes).unwrap(), e);
        assert_eq!(Event::decode_versioned(SCHEMA_VERSION, &bytes).unwrap(), e);
    }
    assert_eq!(
        EVENT_TYPES,
        [
            "order_received",
            "plan_drafted",
            "plan_revised",
            "plan_signed",
            "plan_submitted",
            "plan_approved",
            "supplement_requested",
            "supplement_provided",
            "review_done",
            "follow_up_done",
            "deviation_recorded",
            "correction_noted",
            "plan_closed",
        ]
    );
}

#[test]
fn a_payload_with_trailing_bytes_an_unknown_tag_or_nothing_is_rejected() {
    let mut bytes = samples()[4].encode();
    bytes.push(0);
    assert_eq!(
        Event::decode(&bytes),
        Err(DecodeError::TrailingBytes {
            event_type: "plan_submitted",
            count: 1
        })
    );
    assert_eq!(Event::decode(&[13]), Err(DecodeError::UnknownTag(13)));
    assert_eq!(Event::decode(&[]), Err(DecodeError::Empty));
    assert!(matches!(
        Event::decode(&[0, 3]),
        Err(DecodeError::Body {
            event_type: "order_received",
            ..
        })
    ));
    assert_eq!(
        Event::decode_versioned(2, &samples()[4].encode()),
        Err(DecodeError::UnsupportedSchema(2))
    );
}

#[test]
fn a_payload_with_an_invalid_personnummer_is_rejected() {
    let bytes = samples()[0].encode();
    let text = hex(&bytes);
    let tampered = text.replacen(&hex(b"196408233234"), &hex(b"196408233235"), 1);
    assert_ne!(tampered, text);
    let tampered: Vec<u8> = (0..tampered.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&tampered[i..i + 2], 16).unwrap())
        .collect();
    assert!(Event::decode(&tampered).is_err());
}

#[test]
fn events_in_json_are_tagged_by_event_with_plain_dates_and_times() {
    let e = &samples()[1];
    let json = serde_json::to_value(e).unwrap();
    assert_eq!(json["event"], "plan_drafted");
    assert_eq!(json["content"]["services"][0]["when"]["start"], "09:00");
    assert_eq!(json["content"]["drawn_up_on"], "2026-03-10");
    assert_eq!(json["content"]["client"]["personnummer"], "196408233234");
    for e in samples() {
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e, "{text}");
    }
}

#[test]
fn commands_in_json_are_tagged_by_command() {
    for c in one_of_each(ActKind::HomeCare) {
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["command"], c.name());
        assert_eq!(json["plan"], "plan-0001");
        let back: Command = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }
    let bad = r#"{"command":"submit","plan":"plan-0001","version":"one"}"#;
    assert!(serde_json::from_str::<Command>(bad).is_err());
    let bad_time = r#"{"days":["monday"],"start":"9:00"}"#;
    assert!(serde_json::from_str::<Schedule>(bad_time).is_err());
    let bad_time = r#"{"days":["monday"],"start":"24:00"}"#;
    assert!(serde_json::from_str::<Schedule>(bad_time).is_err());
}

proptest! {
    #[test]
    fn free_text_and_dates_round_trip_through_payloads(
        description in ".*",
        service in proptest::option::of(".*"),
        days in 0u64..40_000,
        refers_to in any::<u64>(),
    ) {
        let occurred_on = date(1970, 1, 1) + chrono::Days::new(days);
        for e in [
            Event::DeviationRecorded(DeviationRecorded { occurred_on, service: service.clone(), description: description.clone() }),
            Event::CorrectionNoted(CorrectionNoted { refers_to, note: description.clone() }),
        ] {
            prop_assert_eq!(Event::decode(&e.encode()).unwrap(), e);
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Event::decode(&bytes);
    }
}

#[test]
fn an_event_goes_into_a_ledger_entry_and_back_into_the_fold() {
    let mut h = Harness::ordered(ActKind::HomeCare, at(2026, 3, 1));
    h.ok(&key_worker(), at(2026, 3, 5), draft(ActKind::HomeCare));
    let mut folded = PlanState::new();
    for (i, (e, when, who)) in h.log.iter().enumerate() {
        let entry = e.to_entry(&plan_id(), i as u64 + 1, *when, who);
        assert_eq!(entry.stream_id, "plan-0001");
        assert_eq!(entry.event_type, e.event_type());
        assert_eq!(entry.schema_version, SCHEMA_VERSION);
        assert_eq!(entry.actor.role, who.role.as_str());
        assert_eq!(&folded.apply_entry(&entry).unwrap(), e);
    }
    assert_eq!(folded, h.state);

    let mut entry = h.log[1]
        .0
        .to_entry(&plan_id(), 2, at(2026, 3, 5), &key_worker());
    entry.event_type = "plan_revised".into();
    assert!(matches!(
        Event::from_entry(&entry),
        Err(EntryError::EventTypeMismatch {
            stream_version: 2,
            ..
        })
    ));
    entry.event_type = "plan_drafted".into();
    entry.actor.role = "janitor".into();
    assert!(matches!(
        Event::from_entry(&entry),
        Err(EntryError::Actor { .. })
    ));
    entry.actor.role = "key_worker".into();
    entry.schema_version = 9;
    assert!(matches!(
        Event::from_entry(&entry),
        Err(EntryError::Decode {
            source: DecodeError::UnsupportedSchema(9),
            ..
        })
    ));
}
