//! What organisation to generate: size, period, shares of flawed plans, units.

use chrono::{DateTime, Months, NaiveDate, NaiveTime, Utc};
use planledger_plan::{ActKind, DeadlinePolicy, UnitId};

/// How many units (utförarenheter) of each act the organisation runs. Clients are
/// spread evenly over all units, so the acts' shares of clients follow these counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitCounts {
    pub residential_care: usize,
    pub home_care: usize,
    pub lss_daily_activity: usize,
    pub housing_support: usize,
}

impl UnitCounts {
    /// The count for `act`.
    pub fn get(&self, act: ActKind) -> usize {
        match act {
            ActKind::ResidentialCare => self.residential_care,
            ActKind::HomeCare => self.home_care,
            ActKind::LssDailyActivity => self.lss_daily_activity,
            ActKind::HousingSupport => self.housing_support,
        }
    }

    /// All units together.
    pub fn total(&self) -> usize {
        ActKind::ALL.iter().map(|a| self.get(*a)).sum()
    }
}

impl Default for UnitCounts {
    /// A mid-sized municipality's mix: home care is the largest act.
    fn default() -> UnitCounts {
        UnitCounts {
            residential_care: 3,
            home_care: 4,
            lss_daily_activity: 2,
            housing_support: 2,
        }
    }
}

/// A synthetic organisation: everything the generator needs, and nothing else. The
/// same `Organisation` always gives the same commands.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    /// Seeds every random choice.
    pub seed: u64,
    /// Number of clients, one plan each.
    pub clients: usize,
    /// First day of activity (UTC).
    pub start: NaiveDate,
    /// Months of activity from `start`; nothing is generated at or after the end.
    pub months: u32,
    /// Share of plans drawn up or submitted after the deadline (and whose later
    /// supplements and follow-ups come late too).
    pub late_share: f64,
    /// Share of plans never signed by whoever their act requires.
    pub unsigned_share: f64,
    /// Share of plans whose every version lacks required content (a service without
    /// who or when, no description of the client's participation, …).
    pub incomplete_share: f64,
    pub units: UnitCounts,
    /// The provider's name, written in every plan.
    pub provider: String,
    /// The deadlines the on-time plans keep (and the late ones miss).
    pub policy: DeadlinePolicy,
}

impl Default for Organisation {
    fn default() -> Organisation {
        Organisation {
            seed: 1,
            clients: 1000,
            start: NaiveDate::from_ymd_opt(2026, 1, 5).expect("a real date"),
            months: 12,
            late_share: 0.10,
            unsigned_share: 0.05,
            incomplete_share: 0.10,
            units: UnitCounts::default(),
            provider: "Exempelkommunens vård och omsorg".to_owned(),
            policy: DeadlinePolicy::default(),
        }
    }
}

/// Why an [`Organisation`] cannot be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{field} is {value}; a share lies between 0 and 1")]
    Share { field: &'static str, value: f64 },
    #[error("months is 0; give at least one month of activity")]
    NoMonths,
    #[error("months is {months}; at most {max} are supported")]
    TooManyMonths { months: u32, max: u32 },
    #[error("clients is {clients}; at most {max} are supported")]
    TooManyClients { clients: usize, max: usize },
    #[error("there are no units; give at least one unit of some act")]
    NoUnits,
    #[error("{act} has {count} units; at most {max} are supported")]
    TooManyUnits {
        act: ActKind,
        count: usize,
        max: usize,
    },
    #[error("the provider's name is empty")]
    NoProvider,
    #[error("the period starting {start} for {months} months runs past the dates supported")]
    Period { start: NaiveDate, months: u32 },
}

/// Most clients: plan ids and user ids stay well short of 10 digits (ids with a run of
/// 10 digits are refused as possible personnummer).
pub const MAX_CLIENTS: usize = 100_000_000;
/// Most months: plans follow up yearly at most, and 50 years is beyond any benchmark.
pub const MAX_MONTHS: u32 = 600;
/// Most units of one act (unit ids carry the number).
pub const MAX_UNITS_PER_ACT: usize = 10_000;

impl Organisation {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("late_share", self.late_share),
            ("unsigned_share", self.unsigned_share),
            ("incomplete_share", self.incomplete_share),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::Share { field, value });
            }
        }
        if self.months == 0 {
            return Err(ConfigError::NoMonths);
        }
        if self.months > MAX_MONTHS {
            return Err(ConfigError::TooManyMonths {
                months: self.months,
                max: MAX_MONTHS,
            });
        }
        if self.clients > MAX_CLIENTS {
            return Err(ConfigError::TooManyClients {
                clients: self.clients,
                max: MAX_CLIENTS,
            });
        }
        if self.units.total() == 0 {
            return Err(ConfigError::NoUnits);
        }
        for act in ActKind::ALL {
            let count = self.units.get(act);
            if count > MAX_UNITS_PER_ACT {
                return Err(ConfigError::TooManyUnits {
                    act,
                    count,
                    max: MAX_UNITS_PER_ACT,
                });
            }
        }
        if self.provider.trim().is_empty() {
            return Err(ConfigError::NoProvider);
        }
        // Birth dates reach 101 years back; the end must be representable too.
        let back = self.start.checked_sub_months(Months::new(12 * 102));
        let end = self.start.checked_add_months(Months::new(self.months + 24));
        if back.is_none() || end.is_none() {
            return Err(ConfigError::Period {
                start: self.start,
                months: self.months,
            });
        }
        Ok(())
    }

    /// The first instant of activity.
    pub fn start_at(&self) -> DateTime<Utc> {
        self.start.and_time(NaiveTime::MIN).and_utc()
    }

    /// The end of activity (exclusive): midnight after the last day.
    pub fn end_at(&self) -> DateTime<Utc> {
        self.month_start(self.months)
    }

    /// The first instant of month `m` of the period (month 0 starts at `start`).
    pub(crate) fn month_start(&self, m: u32) -> DateTime<Utc> {
        self.start
            .checked_add_months(Months::new(m))
            .unwrap_or(NaiveDate::MAX)
            .and_time(NaiveTime::MIN)
            .and_utc()
    }

    /// The organisation's units, in the order clients are assigned to them.
    pub fn units(&self) -> Vec<Unit> {
        let mut units = Vec::with_capacity(self.units.total());
        for act in ActKind::ALL {
            for i in 0..self.units.get(act) {
                units.push(Unit::new(act, i));
            }
        }
        units
    }
}

/// A unit (utförarenhet) of the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: UnitId,
    /// Its name in plans ("Hemtjänst Norr").
    pub name: String,
    pub act: ActKind,
}

/// Place names for units; beyond the list a number is added.
const AREAS: [(&str, &str); 10] = [
    ("Norr", "norr"),
    ("Söder", "soder"),
    ("Öster", "oster"),
    ("Väster", "vaster"),
    ("Centrum", "centrum"),
    ("Ekbacken", "ekbacken"),
    ("Lindgården", "lindgarden"),
    ("Solgläntan", "solglantan"),
    ("Björkhagen", "bjorkhagen"),
    ("Tallåsen", "tallasen"),
];

impl Unit {
    fn new(act: ActKind, i: usize) -> Unit {
        let (name_prefix, id_prefix) = match act {
            ActKind::ResidentialCare => ("Vård- och omsorgsboendet", "sabo"),
            ActKind::HomeCare => ("Hemtjänst", "hemtjanst"),
            ActKind::LssDailyActivity => ("Daglig verksamhet", "dv"),
            ActKind::HousingSupport => ("Boendestöd", "boendestod"),
        };
        let (area, area_id) = AREAS[i % AREAS.len()];
        let round = i / AREAS.len();
        let (name, id) = if round == 0 {
            (
                format!("{name_prefix} {area}"),
                format!("{id_prefix}-{area_id}"),
            )
        } else {
            (
                format!("{name_prefix} {area} {}", round + 1),
                format!("{id_prefix}-{area_id}-{}", round + 1),
            )
        };
        Unit {
            id: UnitId::new(id).expect("unit ids are short ASCII words"),
            name,
            act,
        }
    }
}
