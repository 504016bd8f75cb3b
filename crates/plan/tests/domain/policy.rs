//! The deadline policy file (docs/DOMAIN.md: "deadlines are policy per organisation and act").

use planledger_plan::*;

#[test]
fn defaults_are_domain_md_table() {
    let p = DeadlinePolicy::default();
    let r = p.for_act(ActKind::ResidentialCare);
    assert_eq!(
        (
            r.draw_up_days,
            r.submit_days_after_order,
            r.follow_up_every_months
        ),
        (Some(28), Some(28), Some(6)),
        "000: begun at move-in, drawn up by the time it is sent"
    );
    let h = p.for_act(ActKind::HomeCare);
    assert_eq!(
        (
            h.draw_up_days,
            h.submit_days_after_order,
            h.follow_up_every_months,
            h.follow_up_at_date_in_plan
        ),
        (Some(14), Some(15), None, true),
        "001"
    );
    let l = p.for_act(ActKind::LssDailyActivity);
    assert_eq!(
        (
            l.draw_up_days,
            l.submit_days_after_order,
            l.submit_days_after_version,
            l.follow_up_every_months
        ),
        (Some(14), None, Some(0), Some(12)),
        "003"
    );
    let b = p.for_act(ActKind::HousingSupport);
    assert_eq!(
        (
            b.draw_up_days,
            b.submit_days_after_order,
            b.submit_days_after_version,
            b.follow_up_every_months
        ),
        (Some(14), None, None, Some(12)),
        "004"
    );
    assert!(
        ActKind::ALL
            .iter()
            .all(|a| p.for_act(*a).review_every_months.is_none())
    );
}

#[test]
fn a_revision_is_sent_like_the_first_plan_by_default_001_003() {
    let p = DeadlinePolicy::default();
    let revision = |act| p.for_act(act).submit_revision_days;
    assert_eq!(
        revision(ActKind::ResidentialCare),
        Some(28),
        "000: four weeks"
    );
    assert_eq!(revision(ActKind::HomeCare), Some(15), "001: 15 days");
    assert_eq!(
        revision(ActKind::LssDailyActivity),
        Some(0),
        "003: when updated"
    );
    assert_eq!(revision(ActKind::HousingSupport), None, "004 sends nothing");
    let own = DeadlinePolicy::from_toml(
        "[all]\nsubmit_revision_days = 10\n[housing_support]\nsubmit_revision_days = \"off\"\n",
    )
    .unwrap();
    assert_eq!(
        own.for_act(ActKind::HomeCare).submit_revision_days,
        Some(10)
    );
    assert_eq!(
        own.for_act(ActKind::HousingSupport).submit_revision_days,
        None
    );
    let e = DeadlinePolicy::from_toml("[home_care]\nsubmit_revision_days = 400\n").unwrap_err();
    assert_eq!(e.field(), Some("home_care.submit_revision_days"), "{e}");
}

#[test]
fn an_empty_file_is_the_defaults() {
    assert_eq!(
        DeadlinePolicy::from_toml("").unwrap(),
        DeadlinePolicy::default()
    );
}

#[test]
fn an_organisation_sets_its_own_deadlines_per_act() {
    let p = DeadlinePolicy::from_toml(
        r#"
organisation = "Exempelkommunen"

[all]
review_every_months = 1

[home_care]
draw_up_days = 10
submit_days_after_order = "off"

[lss_daily_activity]
submit_days_after_version = 7
follow_up_every_months = 6
follow_up_at_date_in_plan = false
review_every_months = "off"
"#,
    )
    .unwrap();
    assert_eq!(p.organisation.as_deref(), Some("Exempelkommunen"));
    let h = p.for_act(ActKind::HomeCare);
    assert_eq!(
        (
            h.draw_up_days,
            h.submit_days_after_order,
            h.review_every_months
        ),
        (Some(10), None, Some(1))
    );
    let l = p.for_act(ActKind::LssDailyActivity);
    assert_eq!(
        (
            l.submit_days_after_version,
            l.follow_up_every_months,
            l.follow_up_at_date_in_plan,
            l.review_every_months
        ),
        (Some(7), Some(6), false, None)
    );
    // Untouched acts keep their defaults, plus [all].
    let r = p.for_act(ActKind::ResidentialCare);
    assert_eq!(
        (r.submit_days_after_order, r.review_every_months),
        (Some(28), Some(1))
    );
}

fn error(text: &str) -> (usize, Option<String>, String) {
    let e = DeadlinePolicy::from_toml(text).unwrap_err();
    let message = e.to_string();
    (e.line(), e.field().map(str::to_owned), message)
}

#[test]
fn an_unknown_key_is_rejected_with_its_line_and_field() {
    let (line, field, message) = error("[home_care]\ndraw_up_days = 14\ndraw_up_dayz = 10\n");
    assert_eq!(line, 3, "{message}");
    assert_eq!(
        field.as_deref(),
        Some("home_care.draw_up_dayz"),
        "{message}"
    );
    assert!(message.contains("draw_up_dayz"), "{message}");
}

#[test]
fn an_unknown_act_is_rejected_with_its_line() {
    let (line, _, message) = error("organisation = \"x\"\n\n[home_cair]\ndraw_up_days = 14\n");
    assert_eq!(line, 3, "{message}");
    assert!(message.contains("home_cair"), "{message}");
}

#[test]
fn a_value_of_the_wrong_type_is_rejected_with_its_line_and_field() {
    let (line, field, message) =
        error("[all]\n\n[housing_support]\nfollow_up_every_months = 1.5\n");
    assert_eq!(line, 4, "{message}");
    assert_eq!(
        field.as_deref(),
        Some("housing_support.follow_up_every_months"),
        "{message}"
    );
    let (line, field, _) = error("[home_care]\nfollow_up_at_date_in_plan = \"yes\"\n");
    assert_eq!(
        (line, field.as_deref()),
        (2, Some("home_care.follow_up_at_date_in_plan"))
    );
}

#[test]
fn an_out_of_range_or_unknown_setting_is_rejected_with_its_line_and_field() {
    let (line, field, message) =
        error("[home_care]\ndraw_up_days = 14\nsubmit_days_after_order = -1\n");
    assert_eq!(
        (line, field.as_deref()),
        (3, Some("home_care.submit_days_after_order")),
        "{message}"
    );
    assert!(message.contains("out of range"), "{message}");
    let (line, field, message) = error("[all]\nreview_every_months = 0\n");
    assert_eq!(
        (line, field.as_deref()),
        (2, Some("all.review_every_months")),
        "{message}"
    );
    let (line, field, message) =
        error("\n[residential_care]\nfollow_up_every_months = \"never\"\n");
    assert_eq!(
        (line, field.as_deref()),
        (3, Some("residential_care.follow_up_every_months"))
    );
    assert!(message.contains("\"off\""), "{message}");
}

#[test]
fn a_syntax_error_is_rejected_with_its_line() {
    let (line, _, message) = error("[home_care]\ndraw_up_days = = 14\n");
    assert_eq!(line, 2, "{message}");
}

#[test]
fn a_key_given_twice_in_the_policy_file_is_refused_with_its_line() {
    // The TOML reader refuses a duplicate key itself (the last one does not silently
    // win, as it would in serde_json); this pins that behaviour down.
    let text = "[home_care]\ndraw_up_days = 14\ndraw_up_days = 30\n";
    let e = DeadlinePolicy::from_toml(text).unwrap_err().to_string();
    assert!(e.contains("line 3"), "{e}");
    assert!(e.contains("draw_up_days"), "{e}");
    let table_twice = "[home_care]\ndraw_up_days = 14\n[home_care]\ndraw_up_days = 14\n";
    assert!(DeadlinePolicy::from_toml(table_twice).is_err());
}
