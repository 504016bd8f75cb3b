//! A client's fixed traits: act, unit, key worker, personnummer, and which flaws their
//! plan will have.

use chrono::{Datelike, Days, Months, NaiveDate};
use planledger_plan::{ActKind, Personnummer, RepresentativeKind};

use crate::config::Organisation;
use crate::rng::{Rng, Stream};

/// About how many clients one key worker has (kontaktmannaskap).
pub(crate) const CLIENTS_PER_KEY_WORKER: usize = 8;
/// Staff members per key worker in a unit.
pub(crate) const STAFF_PER_KEY_WORKER: usize = 2;
/// Clients per case officer (biståndshandläggare) at the authority.
pub(crate) const CLIENTS_PER_CASE_OFFICER: usize = 60;

/// Who a client is and what their plan will be like; fixed for the whole run.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub(crate) index: u32,
    /// Index into [`Organisation::units`].
    pub(crate) unit: u32,
    pub(crate) act: ActKind,
    pub(crate) key_worker: u32,
    pub(crate) case_officer: u32,
    pub(crate) personnummer: Personnummer,
    pub(crate) representative: Option<RepresentativeKind>,
    pub(crate) late: bool,
    pub(crate) unsigned: bool,
    pub(crate) incomplete: bool,
    /// A per-client shuffle of the act's services; the plan holds the first few.
    pub(crate) service_order: u64,
    /// How many services the first plan holds.
    pub(crate) base_services: u8,
}

/// Key workers and staff of each unit, sized from the clients per unit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Staffing {
    pub(crate) key_workers: u32,
    pub(crate) staff: u32,
    pub(crate) case_officers: u32,
}

impl Staffing {
    pub(crate) fn of(org: &Organisation) -> Staffing {
        let per_unit = org.clients.div_ceil(org.units.total().max(1));
        let key_workers = per_unit.div_ceil(CLIENTS_PER_KEY_WORKER).max(1);
        Staffing {
            key_workers: key_workers as u32,
            staff: (key_workers * STAFF_PER_KEY_WORKER) as u32,
            case_officers: org.clients.div_ceil(CLIENTS_PER_CASE_OFFICER).max(1) as u32,
        }
    }
}

impl Profile {
    pub(crate) fn new(
        org: &Organisation,
        acts: &[ActKind],
        staffing: Staffing,
        index: u32,
    ) -> Profile {
        let mut r = Rng::derive(org.seed, Stream::Profile, u64::from(index), 0);
        let unit = r.below(acts.len() as u64) as u32;
        let act = acts[unit as usize];
        let key_worker = r.below(u64::from(staffing.key_workers)) as u32;
        let case_officer = r.below(u64::from(staffing.case_officers)) as u32;
        let personnummer = personnummer(&mut r, org.start, act);
        let representative_share = match act {
            ActKind::LssDailyActivity => 0.35,
            ActKind::ResidentialCare => 0.25,
            ActKind::HousingSupport => 0.10,
            ActKind::HomeCare => 0.05,
        };
        let representative = r.chance(representative_share).then(|| {
            if r.chance(0.7) {
                RepresentativeKind::Trustee
            } else {
                RepresentativeKind::Guardian
            }
        });
        // Each flaw is drawn on its own, so a plan can be late and unsigned at once.
        let late = r.chance(org.late_share);
        let unsigned = r.chance(org.unsigned_share);
        let incomplete = r.chance(org.incomplete_share);
        let service_order = r.next_u64();
        let base_services = r.range(3, 5) as u8;
        Profile {
            index,
            unit,
            act,
            key_worker,
            case_officer,
            personnummer,
            representative,
            late,
            unsigned,
            incomplete,
            service_order,
            base_services,
        }
    }

    /// The client's name in plans: obviously synthetic.
    pub(crate) fn name(&self) -> String {
        format!("Testperson {:04}", self.index + 1)
    }
}

/// Ages typical of each act, in whole years at the start of activity.
fn age_range(act: ActKind) -> (u32, u32) {
    match act {
        ActKind::ResidentialCare => (72, 100),
        ActKind::HomeCare => (65, 98),
        ActKind::LssDailyActivity => (19, 64),
        ActKind::HousingSupport => (20, 70),
    }
}

/// A valid synthetic personnummer (real birth date, Luhn check digit); about one in
/// fifty is a samordningsnummer (day + 60). Numbers may repeat between clients, as one
/// person can hold plans in two units.
pub(crate) fn personnummer(r: &mut Rng, start: NaiveDate, act: ActKind) -> Personnummer {
    let (lo, hi) = age_range(act);
    let years = r.range(lo, hi);
    let birth = start
        .checked_sub_months(Months::new(12 * years))
        .and_then(|d| d.checked_sub_days(Days::new(u64::from(r.range(1, 365)))))
        .expect("validated: the period lies well inside chrono's range");
    let coordination = r.chance(0.02);
    let day = birth.day() + if coordination { 60 } else { 0 };
    let serial = r.below(1000) as u32;
    let mut digits = format!(
        "{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        day,
        serial
    );
    digits.push(char::from(b'0' + luhn(&digits.as_bytes()[2..11])));
    Personnummer::parse(&digits).expect("built valid: real date, Luhn digit")
}

/// The Luhn check digit over nine ASCII digits (weights 2, 1, 2, …).
fn luhn(nine: &[u8]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = u32::from(c - b'0') * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_gives_the_check_digits_of_the_known_valid_numbers() {
        assert_eq!(luhn(b"640823323"), 4);
        assert_eq!(luhn(b"701063239"), 1);
    }

    #[test]
    fn generated_personnummer_parse_and_include_samordningsnummer() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let mut r = Rng::new(3);
        let mut coordination = 0;
        for i in 0..2000 {
            let act = ActKind::ALL[i % 4];
            let p = personnummer(&mut r, start, act);
            // Round trip through the domain's own parser.
            assert_eq!(Personnummer::parse(&p.expose()).unwrap(), p);
            let (lo, hi) = age_range(act);
            let age = start.years_since(p.birth_date()).unwrap();
            assert!(
                (lo..=hi + 1).contains(&age),
                "age {age} outside {lo}..={hi}"
            );
            coordination += usize::from(p.is_coordination_number());
        }
        assert!(
            (10..=100).contains(&coordination),
            "{coordination} samordningsnummer"
        );
    }
}
