//! The plan domain's tests: one test binary (the machine has two cores), one module per
//! topic. Test names say the rule they pin and the seed it comes from.
//!
//! Where each rule of docs/DOMAIN.md is pinned:
//!
//! | docs/DOMAIN.md | tests |
//! |---|---|
//! | Who is who: roles and who may do what | `roles` (every command × every role), `properties` |
//! | What a plan must contain (000–004) | `completeness` (one test per item, named by seed) |
//! | Lifecycle table: each act's own deadlines | `deadlines::each_seed_sets_its_own_deadlines_for_the_same_order` and one test per seed (000, 001, 002, 003, 004) |
//! | A new version follows a decision, changed needs, a follow-up or a request (000, 001) | `lifecycle::every_reason_for_a_new_version_is_accepted_000_001`, `deadlines::a_new_decision_restarts_the_draw_up_and_submit_clocks_001` |
//! | Approval or a supplement with a due date (001) | `lifecycle::a_supplement_has_a_due_date_and_blocks_approval_until_delivered_001`, `deadlines::an_undelivered_supplement_is_overdue_after_its_due_date_001` |
//! | New-client fee (001) | `fee` |
//! | Every inactive plan is kept; corrections append (000) | `lifecycle::every_earlier_version_is_kept_whole_as_a_journal_record_000`, `lifecycle::a_correction_is_a_new_entry_and_the_original_stays_readable`, `lifecycle::revising_a_closed_plan_is_rejected_but_a_correction_is_not_000` |
//! | Reviews documented (002), deviations recorded (003) | `lifecycle::a_review_that_finds_gaps_must_say_what_they_are_002`, `roles::staff_records_deviations_003`, `scenario` |
//! | Research sample by birth day (retention) | `ids::people_born_on_the_5th_15th_or_25th_are_research_samples_not_weeded` |
//! | Personnummer and samordningsnummer | `ids` |
//! | Who asks what: overdue, unsigned, unapproved, incomplete, late, fee, version in force, what changed | `deadlines`, `completeness`, `fee`, `lifecycle::the_version_in_force_is_the_latest_recorded_by_then_until_closure`, `changes` |
//! | A whole first year (001, 003) | `scenario` |
//! | Stored events never change shape | `events::every_event_variant_encodes_to_its_pinned_bytes` |

mod fixtures;

mod changes;
mod completeness;
mod deadlines;
mod events;
mod fee;
mod ids;
mod lifecycle;
mod policy;
mod properties;
mod roles;
mod scenario;
