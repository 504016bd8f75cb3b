//! Strict JSON: serde_json keeps the last of two equal keys in an object without a
//! word, so `{"version":1,"version":2}` would be read as version 2. Every JSON text the
//! project reads (import lines, content files, evidence bundles) goes through
//! [`check_duplicate_keys`] first. And [`redact`] takes the values out of a serde
//! message, which may quote a personnummer or a name.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// A JSON text that holds an object with the same key twice, or is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictJsonError {
    /// The key is a field name from the text; it is named (a key is a schema word such
    /// as `version`) unless it looks like personal data, then it is left out.
    #[error(
        "the key `{key}` appears twice in one object (at `{path}`); each key may be given once"
    )]
    DuplicateKey { key: String, path: String },
    #[error("a key appears twice in one object (at `{path}`); each key may be given once")]
    DuplicateUnnamedKey { path: String },
    /// Not JSON at all; the message is redacted.
    #[error("not valid JSON: {0}")]
    Syntax(String),
}

/// Deepest nesting walked: serde_json itself stops at 128, so this is never the limit
/// that bites, but it keeps the walker's own recursion bounded.
const MAX_DEPTH: usize = 128;

/// Checks that no object in `text` holds the same key twice. Run it before the typed
/// parse; it reads nothing else and allocates only the keys of the object being read.
pub fn check_duplicate_keys(text: &str) -> Result<(), StrictJsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut path = Vec::new();
    let mut found = None;
    let walked = Walk {
        path: &mut path,
        found: &mut found,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match (found, walked) {
        (Some(dup), _) => Err(dup),
        (None, Err(e)) => Err(StrictJsonError::Syntax(redact(&e.to_string()))),
        (None, Ok(())) => Ok(()),
    }
}

/// The walker: reads the whole text (serde_json insists that an object is read to its
/// end) and keeps the first duplicate it finds.
struct Walk<'p> {
    path: &'p mut Vec<String>,
    found: &'p mut Option<StrictJsonError>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(serde::de::Error::custom("nested too deeply"));
        }
        let mut index = 0usize;
        loop {
            self.path.push(index.to_string());
            let item = seq.next_element_seed(Walk {
                path: self.path,
                found: self.found,
                depth: self.depth + 1,
            });
            self.path.pop();
            if item?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(serde::de::Error::custom("nested too deeply"));
        }
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let word = is_schema_word(&key);
            if self.found.is_none() && seen.contains(&key) {
                let path = if self.path.is_empty() {
                    ".".to_owned()
                } else {
                    self.path.join(".")
                };
                *self.found = Some(if word {
                    StrictJsonError::DuplicateKey {
                        key: key.clone(),
                        path,
                    }
                } else {
                    StrictJsonError::DuplicateUnnamedKey { path }
                });
            }
            self.path
                .push(if word { key.clone() } else { "…".to_owned() });
            seen.insert(key);
            let value = map.next_value_seed(Walk {
                path: self.path,
                found: self.found,
                depth: self.depth + 1,
            });
            self.path.pop();
            value?;
        }
        Ok(())
    }
}

/// Whether a key may be repeated in a message: a short snake_case word such as every
/// field name of the formats, never digits (a personnummer) or a space (a name).
fn is_schema_word(key: &str) -> bool {
    !key.is_empty() && key.len() <= 40 && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// A serde error message without the values it quotes: serde repeats a wrongly typed
/// value (`invalid type: integer `196408233234``, `invalid value: string "…"`), which
/// may be a personnummer or a name. Quoted strings become `"…"`, a value in backticks
/// after `variant`, `integer`, `string`, `value` or similar becomes `` `…` ``, and any
/// run of ten to twelve digits (a personnummer with or without its separator) becomes `…`.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    let mut digits = String::new();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || continues_number(&digits, c) {
            digits.push(c);
            continue;
        }
        flush_digits(&mut digits, &mut out);
        if c == '`' {
            // `unknown variant `…``, `invalid type: integer `…``: a value given where a
            // name or another type belongs, never kept; a name in backticks (`unknown
            // field `folow_up``, `expected `client``) is kept when it looks like a field
            // name, since it says what to fix, and masked otherwise (a key of the input
            // may be anything).
            let mut quoted = String::new();
            for q in chars.by_ref() {
                if q == '`' {
                    break;
                }
                quoted.push(q);
            }
            let value = VALUE_BEFORE_BACKTICK.iter().any(|w| out.ends_with(w));
            if value || !is_field_name(&quoted) {
                out.push_str("`…`");
            } else {
                out.push('`');
                out.push_str(&quoted);
                out.push('`');
            }
            continue;
        }
        if c == '"' {
            // Skip to the closing quote; keep the quotes.
            for q in chars.by_ref() {
                if q == '"' {
                    break;
                }
            }
            out.push_str("\"…\"");
            continue;
        }
        out.push(c);
    }
    flush_digits(&mut digits, &mut out);
    out
}

/// `text` with every run of ten to twelve digits (a personnummer in any separator form:
/// `19640823-3234`, `19640823_3234`, `640823+3234`) replaced by `…`; the rest as it is.
/// Longer runs are not a personnummer's shape and are kept: a checkpoint's file name
/// starts with its tree size in 20 digits, and a message must name that file.
/// The last guard on what planledger prints about its input: a file name the user gave
/// (`--out 19640823-3234.json`) is shown masked.
pub fn mask_personnummer(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() || continues_number(&digits, c) {
            digits.push(c);
            continue;
        }
        flush_digits(&mut digits, &mut out);
        out.push(c);
    }
    flush_digits(&mut digits, &mut out);
    out
}

/// Whether `c` continues the run of digits in `digits` as a personnummer's separator:
/// the same rule as [`crate::looks_like_personnummer`] (one to three characters that are
/// not letters or digits, right after six (YYMMDD) or eight (YYYYMMDD) digits), so that
/// every number an id is refused for is also masked; a date and time (`2026-03-02
/// 10:00`) is not a number.
fn continues_number(digits: &str, c: char) -> bool {
    let count = digits.chars().filter(char::is_ascii_digit).count();
    let separators = digits
        .chars()
        .rev()
        .take_while(|d| !d.is_ascii_digit())
        .count();
    !c.is_alphanumeric() && c != '\n' && matches!(count, 6 | 8) && separators < 3
}

/// Writes a run of digits and separators: `…` for ten to twelve digits, else as it was.
fn flush_digits(digits: &mut String, out: &mut String) {
    // Separators taken in after the last digit are not part of the number.
    let end = digits.trim_end_matches(|c: char| !c.is_ascii_digit()).len();
    let count = digits.chars().filter(char::is_ascii_digit).count();
    out.push_str(if (10..=12).contains(&count) {
        "…"
    } else {
        &digits[..end]
    });
    out.push_str(&digits[end..]);
    digits.clear();
}

/// A field or variant name as the formats spell them: lowercase ASCII, digits, `_`,
/// `-`, `.`, `:` (`staff:USER`), at most 40 characters, never a personnummer.
fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | ':')
        })
        && !crate::id::looks_like_personnummer(s)
}

/// Words after which serde puts a value (not a field name) in backticks.
const VALUE_BEFORE_BACKTICK: &[&str] = &[
    "variant ",
    "integer ",
    "string ",
    "value ",
    "number ",
    "character ",
    "floating point ",
    "sequence ",
    "map ",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_key_is_named_with_where_it_is() {
        let e = check_duplicate_keys(r#"{"a":1,"b":{"version":1,"version":2}}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the key `version` appears twice in one object (at `b`); each key may be given once"
        );
        let e = check_duplicate_keys(r#"{"a":[{"x":1},{"x":1,"x":2}]}"#).unwrap_err();
        assert!(
            e.to_string().contains("`x`") && e.to_string().contains("a.1"),
            "{e}"
        );
    }

    #[test]
    fn a_duplicate_key_that_may_be_personal_data_is_not_repeated() {
        let e = check_duplicate_keys(r#"{"196408233234":1,"196408233234":2}"#).unwrap_err();
        assert!(!e.to_string().contains("3234"), "{e}");
        let e = check_duplicate_keys(r#"{"Testperson Ett":{"Testperson Ett":{"k":1,"k":1}}}"#)
            .unwrap_err();
        assert!(!e.to_string().contains("Testperson"), "{e}");
    }

    #[test]
    fn equal_keys_in_different_objects_and_valid_json_pass() {
        check_duplicate_keys(r#"{"a":{"x":1},"b":{"x":1},"c":[1,"s",null,true,1.5]}"#).unwrap();
        check_duplicate_keys("[]").unwrap();
    }

    #[test]
    fn trailing_text_and_bad_json_are_syntax_errors_without_values() {
        assert!(matches!(
            check_duplicate_keys(r#"{"a":1} x"#),
            Err(StrictJsonError::Syntax(_))
        ));
        let e = check_duplicate_keys(r#"{"a":"Testperson Ett}"#).unwrap_err();
        assert!(!e.to_string().contains("Testperson"), "{e}");
    }

    #[test]
    fn redact_hides_quoted_values_and_personnummer_but_keeps_the_rule() {
        assert_eq!(
            redact("invalid type: integer `196408233234`, expected a string"),
            "invalid type: integer `…`, expected a string"
        );
        assert_eq!(
            redact("invalid value: string \"Testperson Ett\", expected u32 at line 1"),
            "invalid value: string \"…\", expected u32 at line 1"
        );
        assert_eq!(redact("19640823-3234"), "…");
        assert_eq!(redact("19640823_3234 and 19640823 3234"), "… and …");
        assert_eq!(
            mask_personnummer("w/00000000000000000009-1.checkpoint, 6408233234"),
            "w/00000000000000000009-1.checkpoint, …"
        );
        assert_eq!(
            mask_personnummer("2026-03-02 10:00 +01:00, 640823+3234"),
            "2026-03-02 10:00 +01:00, …"
        );
        assert_eq!(
            redact("unknown variant `Testperson Ett`, expected `client` or `trustee`"),
            "unknown variant `…`, expected `client` or `trustee`"
        );
        assert_eq!(
            redact("unknown field `Testperson Ett`, expected `format`"),
            "unknown field `…`, expected `format`"
        );
        assert_eq!(
            redact("missing field `due_on` at line 1 column 12"),
            "missing field `due_on` at line 1 column 12"
        );
    }

    #[test]
    fn every_number_an_id_is_refused_for_is_masked_too() {
        for form in [
            "19640823 - 3234",
            "19640823\u{2013}3234",
            "19640823_3234",
            "196408233234",
        ] {
            assert!(crate::looks_like_personnummer(form), "{form}");
            assert_eq!(mask_personnummer(&format!("a {form} b")), "a … b", "{form}");
        }
    }
}
