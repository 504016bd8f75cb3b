//! Personnummer, samordningsnummer and opaque ids (docs/DOMAIN.md, "Personnummer and ids").

use crate::fixtures::*;
use planledger_plan::*;
use proptest::prelude::*;

#[test]
fn personnummer_accepts_12_digits_with_or_without_dash() {
    let a = Personnummer::parse("19640823-3234").unwrap();
    let b = Personnummer::parse("196408233234").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.expose(), "19640823-3234");
    assert_eq!(a.birth_date(), date(1964, 8, 23));
    assert!(!a.is_coordination_number());
}

#[test]
fn personnummer_10_digits_takes_the_century_that_makes_the_person_0_to_99() {
    let reference = date(2026, 11, 23);
    let p = Personnummer::parse_with_reference("640823-3234", reference).unwrap();
    assert_eq!(p.expose(), "19640823-3234");
    let q = Personnummer::parse_with_reference("6408233234", reference).unwrap();
    assert_eq!(p, q);
}

#[test]
fn personnummer_10_digits_needs_a_reference_date() {
    assert_eq!(
        Personnummer::parse("640823-3234"),
        Err(PersonnummerError::NeedsReferenceDate)
    );
}

#[test]
fn personnummer_plus_marks_age_100_or_more() {
    // The same ten digits with '+' belong to someone born a century earlier.
    let reference = date(2026, 11, 23);
    let p = Personnummer::parse_with_reference("640823+3234", reference).unwrap();
    assert_eq!(p.expose(), "18640823-3234");
    assert_eq!(
        Personnummer::parse("19640823+3234"),
        Err(PersonnummerError::PlusInFullForm)
    );
}

#[test]
fn personnummer_born_later_this_year_than_reference_goes_back_a_century() {
    // 261224 on 2026-11-23 has not happened yet: 1926, not 2026.
    let digits = with_check("261224123");
    let p = Personnummer::parse_with_reference(&digits, date(2026, 11, 23)).unwrap();
    assert_eq!(p.birth_date(), date(1926, 12, 24));
    let p = Personnummer::parse_with_reference(&digits, date(2026, 12, 24)).unwrap();
    assert_eq!(p.birth_date(), date(2026, 12, 24));
}

#[test]
fn samordningsnummer_is_the_birth_day_plus_60() {
    let s = Personnummer::parse(SAMORDNING).unwrap();
    assert!(s.is_coordination_number());
    assert_eq!(s.birth_date(), date(1970, 10, 3));
    assert_eq!(s.expose(), SAMORDNING);
}

#[test]
fn personnummer_wrong_check_digit_is_named_as_the_check_digit() {
    assert_eq!(
        Personnummer::parse("19640823-3235"),
        Err(PersonnummerError::CheckDigit)
    );
}

#[test]
fn personnummer_errors_say_which_part_is_wrong() {
    use PersonnummerError::*;
    assert_eq!(
        Personnummer::parse("19641323-3234"),
        Err(Month { month: 13 })
    );
    assert_eq!(Personnummer::parse("19640832-3234"), Err(Day { day: 32 }));
    // 30 February does not exist in any year; day 92 is beyond the samordningsnummer range.
    assert_eq!(Personnummer::parse("19640230-3234"), Err(Day { day: 30 }));
    assert_eq!(Personnummer::parse("19640892-3234"), Err(Day { day: 92 }));
    assert_eq!(
        Personnummer::parse("19640823-32x4"),
        Err(NotADigit { position: 12 })
    );
    assert_eq!(
        Personnummer::parse("1964082332341"),
        Err(Length { found: 13 })
    );
    assert_eq!(Personnummer::parse("196408-233234"), Err(Separator));
    // 29 February only in leap years.
    let leap = with_check("000229123");
    assert!(Personnummer::parse(&format!("20{leap}")).is_ok());
    let not_leap = with_check("010229123");
    assert_eq!(
        Personnummer::parse(&format!("20{not_leap}")),
        Err(Day { day: 29 })
    );
}

#[test]
fn personnummer_display_and_debug_mask_the_last_four_digits() {
    let p = pnr();
    assert_eq!(p.to_string(), "19640823-****");
    assert_eq!(format!("{p:?}"), "Personnummer(19640823-****)");
    assert!(!format!("{p:?}").contains("3234"));
}

#[test]
fn personnummer_error_messages_never_repeat_the_number() {
    for bad in [
        "19640823-3235",
        "19641323-3234",
        "19640832-3234",
        "1964082332341",
    ] {
        let message = Personnummer::parse(bad).unwrap_err().to_string();
        assert!(
            !message.contains("3234") && !message.contains("3235"),
            "{message}"
        );
    }
}

#[test]
fn personnummer_serializes_as_12_digits_and_validates_on_read() {
    let json = serde_json::to_string(&pnr()).unwrap();
    assert_eq!(json, "\"196408233234\"");
    assert_eq!(serde_json::from_str::<Personnummer>(&json).unwrap(), pnr());
    assert!(serde_json::from_str::<Personnummer>("\"196408233235\"").is_err());
}

#[test]
fn ids_refuse_anything_that_could_carry_a_personnummer() {
    assert!(matches!(
        PlanId::new("plan-196408233234"),
        Err(IdError::LooksLikePersonnummer { .. })
    ));
    assert!(matches!(
        PlanId::new("plan-640823-3234"),
        Err(IdError::LooksLikePersonnummer { .. })
    ));
    assert!(matches!(PlanId::new(""), Err(IdError::Empty { .. })));
    assert!(matches!(
        PlanId::new("a b"),
        Err(IdError::BadCharacter { .. })
    ));
    assert!(matches!(
        UnitId::new("x".repeat(256)),
        Err(IdError::TooLong { .. })
    ));
    assert!(PlanId::new("plan-2026-000123").is_ok());
    assert!(serde_json::from_str::<PlanId>("\"plan 1\"").is_err());
}

#[test]
fn a_personnummer_is_found_in_any_separator_form() {
    // Separators people and systems use: none, dash, plus, underscore, dot, slash,
    // space, several; the 12- and the 10-digit form; a samordningsnummer (day + 60).
    for s in [
        "plan-19640823_3234",
        "19640823 3234",
        "196408233234",
        "x19640823.3234",
        "u/640823/3234",
        "640823+3234",
        "19640823 - 3234",
        "19701063-2391",
        "org:19640823:3234",
    ] {
        assert!(looks_like_personnummer(s), "{s}");
    }
    for s in [
        "plan-2026-000123",
        "exempel.se/planledger",
        "order-12345678",
        "1964-08-23",
        "20260302-a-3234",
        "unit 12",
    ] {
        assert!(!looks_like_personnummer(s), "{s}");
    }
    assert!(matches!(
        PlanId::new("plan-19640823_3234"),
        Err(IdError::LooksLikePersonnummer { .. })
    ));
    assert!(matches!(
        UserId::new("19640823.3234"),
        Err(IdError::LooksLikePersonnummer { .. })
    ));
    // The message names the kind of id and the rule, never the value.
    let e = OrderId::new("o-19640823_3234").unwrap_err().to_string();
    assert!(
        e.starts_with("order id contains") && !e.contains("3234"),
        "{e}"
    );
}

#[test]
fn actor_converts_to_and_from_the_ledgers_actor() {
    let a = key_worker();
    let l = planledger_ledger::Actor::from(&a);
    assert_eq!(l.role, "key_worker");
    assert_eq!(Actor::try_from(&l).unwrap(), a);
    let bad = planledger_ledger::Actor {
        user_id: "x".into(),
        role: "janitor".into(),
    };
    assert!(Actor::try_from(&bad).is_err());
    for r in Role::ALL {
        assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
    }
}

/// Nine digits (YYMMDDNNN) followed by their Luhn check digit.
fn with_check(nine: &str) -> String {
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let p = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    format!("{nine}{}", (10 - sum % 10) % 10)
}

proptest! {
    #[test]
    fn every_real_date_with_its_check_digit_parses_and_round_trips(
        days in 0i64..(365 * 150),
        serial in 0u32..1000,
        coordination in any::<bool>(),
    ) {
        let born = date(1900, 1, 1) + chrono::Duration::days(days);
        let day = chrono::Datelike::day(&born) + if coordination { 60 } else { 0 };
        let nine = format!(
            "{:02}{:02}{:02}{:03}",
            chrono::Datelike::year(&born) % 100,
            chrono::Datelike::month(&born),
            day,
            serial
        );
        let ten = with_check(&nine);
        let full = format!("{}{}-{}", chrono::Datelike::year(&born) / 100, &ten[..6], &ten[6..]);
        let p = Personnummer::parse(&full).unwrap();
        prop_assert_eq!(p.expose(), full.clone());
        prop_assert_eq!(p.birth_date(), born);
        prop_assert_eq!(p.is_coordination_number(), coordination);
        // The 10-digit form resolves to the same person on a day they are under 100.
        let sep = format!("{}-{}", &ten[..6], &ten[6..]);
        let reference = born + chrono::Duration::days(365 * 50);
        prop_assert_eq!(Personnummer::parse_with_reference(&sep, reference).unwrap(), p);
        // Any other check digit is refused as a check-digit error.
        let wrong = (ten.as_bytes()[9] - b'0' + 1) % 10;
        let bad = format!("{}{}", &full[..12], wrong);
        prop_assert_eq!(Personnummer::parse(&bad), Err(PersonnummerError::CheckDigit));
    }
}

#[test]
fn people_born_on_the_5th_15th_or_25th_are_research_samples_not_weeded() {
    assert!(!pnr().is_research_sample()); // born the 23rd
    assert!(
        !Personnummer::parse(SAMORDNING)
            .unwrap()
            .is_research_sample()
    ); // the 3rd
    for day in ["05", "15", "25", "65", "75", "85"] {
        let digits = with_check(&format!("6408{day}323"));
        let p = Personnummer::parse(&format!("19{digits}")).unwrap();
        assert!(p.is_research_sample(), "day {day}");
    }
    let digits = with_check("640806323");
    assert!(
        !Personnummer::parse(&format!("19{digits}"))
            .unwrap()
            .is_research_sample()
    );
}
