//! Identifiers: personnummer / samordningsnummer, and the opaque ids of plans, orders,
//! users and units.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Swedish personal identity number (personnummer) or coordination number
/// (samordningsnummer, birth day + 60), stored as 12 digits with the century.
///
/// `Display` and `Debug` mask the last four digits (`19640823-****`) so that a number
/// cannot reach a log line by accident; [`Personnummer::expose`] gives the full form.
/// Serde writes the full 12 digits (`"196408233234"`): payloads are personal data and
/// are protected as such, logs are not.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Personnummer {
    digits: [u8; 12],
}

/// Which part of a personnummer is wrong. Messages never repeat the number itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PersonnummerError {
    #[error(
        "a personnummer has 10 digits (YYMMDD-NNNN) or 12 digits (YYYYMMDD-NNNN); found {found} digits"
    )]
    Length { found: usize },
    #[error("character {position} is not a digit")]
    NotADigit { position: usize },
    #[error(
        "the separator before the last four digits must be '-' (or '+' for age 100 or more in the 10-digit form)"
    )]
    Separator,
    #[error("'+' only belongs in the 10-digit form, where it marks age 100 or more")]
    PlusInFullForm,
    #[error("the 10-digit form needs a reference date to choose the century")]
    NeedsReferenceDate,
    #[error("month {month} is not a month (01-12)")]
    Month { month: u32 },
    #[error(
        "day {day} does not exist in that month (a samordningsnummer adds 60 to the day: 61-91)"
    )]
    Day { day: u32 },
    #[error("the birth date lies after the reference date")]
    BirthAfterReference,
    #[error("the check digit (last digit) does not match the Luhn sum of the others")]
    CheckDigit,
}

impl Personnummer {
    /// Parses the 12-digit form, `YYYYMMDD-NNNN` or `YYYYMMDDNNNN`.
    pub fn parse(s: &str) -> Result<Personnummer, PersonnummerError> {
        Self::parse_inner(s, None)
    }

    /// Parses the 12-digit form or the 10-digit form (`YYMMDD-NNNN`, `YYMMDD+NNNN` for
    /// age 100 or more, or `YYMMDDNNNN`). The century of a 10-digit number is the one
    /// that makes the person 0–99 years old on `reference` (100 or more with `+`).
    pub fn parse_with_reference(
        s: &str,
        reference: NaiveDate,
    ) -> Result<Personnummer, PersonnummerError> {
        Self::parse_inner(s, Some(reference))
    }

    fn parse_inner(
        s: &str,
        reference: Option<NaiveDate>,
    ) -> Result<Personnummer, PersonnummerError> {
        let mut digits = Vec::with_capacity(12);
        let mut separator = None;
        for (position, c) in s.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c as u8 - b'0'),
                '-' | '+' if separator.is_none() && (digits.len() == 6 || digits.len() == 8) => {
                    separator = Some((c, digits.len()))
                }
                '-' | '+' => return Err(PersonnummerError::Separator),
                _ => {
                    return Err(PersonnummerError::NotADigit {
                        position: position + 1,
                    });
                }
            }
        }
        if let Some((_, at)) = separator {
            if digits.len() != at + 4 {
                return Err(if digits.len() == 10 || digits.len() == 12 {
                    PersonnummerError::Separator
                } else {
                    PersonnummerError::Length {
                        found: digits.len(),
                    }
                });
            }
        }
        let full: [u8; 12] = match digits.len() {
            12 => {
                if matches!(separator, Some(('+', _))) {
                    return Err(PersonnummerError::PlusInFullForm);
                }
                digits.as_slice().try_into().expect("length checked")
            }
            10 => {
                let reference = reference.ok_or(PersonnummerError::NeedsReferenceDate)?;
                let centenarian = matches!(separator, Some(('+', _)));
                let yy = u32::from(digits[0]) * 10 + u32::from(digits[1]);
                let (month, day) = month_day(&digits[2..6])?;
                let year = choose_century(yy, month, day, reference, centenarian)?;
                let mut full = [0u8; 12];
                full[0] = (year / 1000) as u8;
                full[1] = (year / 100 % 10) as u8;
                full[2..].copy_from_slice(&digits);
                full
            }
            found => return Err(PersonnummerError::Length { found }),
        };
        let year = full[..4].iter().fold(0i32, |a, d| a * 10 + i32::from(*d));
        let (month, day) = month_day(&full[4..8])?;
        NaiveDate::from_ymd_opt(year, month, day).ok_or(PersonnummerError::Day {
            day: raw_day(&full[6..8]),
        })?;
        if luhn_check_digit(&full[2..11]) != full[11] {
            return Err(PersonnummerError::CheckDigit);
        }
        Ok(Personnummer { digits: full })
    }

    /// The full number, `YYYYMMDD-NNNN`. Call it only where the number must be shown.
    /// The 12 digits, without separator (how it is stored and indexed).
    pub fn digits(&self) -> String {
        self.digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    pub fn expose(&self) -> String {
        let mut s = String::with_capacity(13);
        for (i, d) in self.digits.iter().enumerate() {
            if i == 8 {
                s.push('-');
            }
            s.push(char::from(b'0' + d));
        }
        s
    }

    /// The date of birth (for a samordningsnummer, with the 60 taken off the day).
    pub fn birth_date(&self) -> NaiveDate {
        let year = self.digits[..4]
            .iter()
            .fold(0i32, |a, d| a * 10 + i32::from(*d));
        let (month, day) = month_day(&self.digits[4..8]).expect("validated on parse");
        NaiveDate::from_ymd_opt(year, month, day).expect("validated on parse")
    }

    /// Whether the person was born on the 5th, 15th or 25th of a month: SoL case files
    /// of such people are kept for research instead of weeded (docs/DOMAIN.md, "Retention and weeding").
    pub fn is_research_sample(&self) -> bool {
        matches!(chrono::Datelike::day(&self.birth_date()), 5 | 15 | 25)
    }

    /// Whether this is a samordningsnummer (coordination number: day + 60).
    pub fn is_coordination_number(&self) -> bool {
        raw_day(&self.digits[6..8]) > 60
    }
}

fn raw_day(d: &[u8]) -> u32 {
    u32::from(d[0]) * 10 + u32::from(d[1])
}

/// Month and real day of `MMDD`, taking the samordningsnummer's 60 off the day.
fn month_day(d: &[u8]) -> Result<(u32, u32), PersonnummerError> {
    let month = u32::from(d[0]) * 10 + u32::from(d[1]);
    if !(1..=12).contains(&month) {
        return Err(PersonnummerError::Month { month });
    }
    let day = raw_day(&d[2..4]);
    let real = if day > 60 { day - 60 } else { day };
    if !(1..=31).contains(&real) {
        return Err(PersonnummerError::Day { day });
    }
    Ok((month, real))
}

fn choose_century(
    yy: u32,
    month: u32,
    day: u32,
    reference: NaiveDate,
    centenarian: bool,
) -> Result<i32, PersonnummerError> {
    // The latest year ending in `yy` whose birthday is not after the reference date.
    let ref_year = reference.year();
    let mut year = ref_year - (ref_year.rem_euclid(100)) + yy as i32;
    let born = |y: i32| NaiveDate::from_ymd_opt(y, month, day);
    // A day that does not exist in the chosen year (29 February) fails the date check
    // of the full number afterwards.
    while year > ref_year || born(year).is_some_and(|b| b > reference) {
        year -= 100;
    }
    if centenarian {
        year -= 100;
    }
    if year < 0 {
        return Err(PersonnummerError::BirthAfterReference);
    }
    Ok(year)
}

/// The Luhn check digit of nine digits (weights 2,1,2,1,…).
fn luhn_check_digit(nine: &[u8]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = u32::from(*d) * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Personnummer {
    /// Masked: `19640823-****`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = self.expose();
        write!(f, "{}-****", &full[..8])
    }
}

impl fmt::Debug for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Personnummer({self})")
    }
}

impl std::str::FromStr for Personnummer {
    type Err = PersonnummerError;
    /// The 12-digit form only: the 10-digit form needs a reference date.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Personnummer::parse(s)
    }
}

impl Serialize for Personnummer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        s.serialize_str(&digits)
    }
}

impl<'de> Deserialize<'de> for Personnummer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Personnummer::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Personnummer {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Personnummer".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]{8}[-+]?[0-9]{4}$",
            "description": "A personnummer or samordningsnummer: 12 digits (YYYYMMDDNNNN or YYYYMMDD-NNNN) with a valid check digit"
        })
    }
}

/// Why a string is not a valid opaque id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is {len} bytes long; at most {max} fit in a record")]
    TooLong {
        kind: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{kind} contains a control character or whitespace")]
    BadCharacter { kind: &'static str },
    #[error(
        "{kind} contains a run of 10 or more digits, which could be a personnummer; ids must not carry personal data"
    )]
    LooksLikePersonnummer { kind: &'static str },
}

/// Longest id: the ledger stores stream and actor ids with a one-byte length.
const MAX_ID_LEN: usize = 255;

fn check_id(kind: &'static str, s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong {
            kind,
            len: s.len(),
            max: MAX_ID_LEN,
        });
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(IdError::BadCharacter { kind });
    }
    if looks_like_personnummer(s) {
        return Err(IdError::LooksLikePersonnummer { kind });
    }
    Ok(())
}

/// Whether `s` holds something that could be a personnummer or samordningsnummer: ten
/// or more digits in a row, where a personnummer's separator after six (YYMMDD) or eight
/// (YYYYMMDD) digits may be any one to three characters that are not letters or digits
/// (`19640823-3234`, `19640823_3234`, `19640823 3234`, `640823+3234`,
/// `19640823 - 3234`). Ids, key names and checkpoint origins end up in stream ids,
/// indexes, file contents and messages, so they must never carry one. A separator
/// elsewhere ends the run, so that "2026-000123" stays an id.
pub fn looks_like_personnummer(s: &str) -> bool {
    let mut run = 0;
    let mut separators = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            run += 1;
            separators = 0;
            if run >= 10 {
                return true;
            }
        } else if !c.is_alphanumeric() && (run == 6 || run == 8) && separators < 3 {
            separators += 1;
        } else {
            run = 0;
            separators = 0;
        }
    }
    false
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Result<$name, IdError> {
                let s = s.into();
                check_id($kind, &s)?;
                Ok($name(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                $name::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                $name::new(s)
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "minLength": 1,
                    "description": concat!("A ", $kind, ": letters, digits, '-', '_', '.', ':' and '/'; never a personnummer")
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// A plan's id; also the id of its stream in the ledger. Opaque, and never derived
    /// from the client's personnummer.
    PlanId,
    "plan id"
);
opaque_id!(
    /// The id of an order (beställning / uppdrag) from the authority.
    OrderId,
    "order id"
);
opaque_id!(
    /// A user's id (who recorded an event).
    UserId,
    "user id"
);
opaque_id!(
    /// A provider's unit (utförare / verksamhet / enhet): the tenant a plan belongs to.
    UnitId,
    "unit id"
);
opaque_id!(
    /// The source system's id of one command (an import line's `id`, an HTTP request's
    /// `Idempotency-Key`): a command whose id the ledger holds is never recorded again.
    CommandId,
    "command id"
);

impl CommandId {
    /// The id of an import line that gives none: derived from the line's bytes, so the
    /// same line sent again (a re-run after a crash) is recognised, and two identical
    /// lines are one command.
    pub fn of_line(line: &[u8]) -> CommandId {
        let hash = blake3::hash(line);
        CommandId(format!("line:{}", &hash.to_hex()[..32]))
    }
}
