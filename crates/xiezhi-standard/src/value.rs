//! Typed values of standard fields and the record that holds them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::Serialize;

use crate::schema::{Entity, FieldType};

/// A field value. Normalised text kinds (ID numbers, phones, case numbers) are `Text` after
/// their validator has accepted them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Code(String),
    Codes(Vec<String>),
    /// Money in fen (分).
    Money(i64),
    Int(i64),
}

/// The number written by ASCII digits (none other), for the canonical date forms: reading the
/// store's dates is on every case read's path, and a format-string parse costs several times
/// more.
fn canonical_date_digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`, exactly.
fn canonical_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = canonical_date_digits(&b[0..4])?;
    let m = canonical_date_digits(&b[5..7])?;
    let d = canonical_date_digits(&b[8..10])?;
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// `YYYY-MM-DDTHH:MM:SS`, exactly.
fn canonical_datetime(s: &str) -> Option<NaiveDateTime> {
    let (day, time) = s.split_once('T')?;
    let b = time.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h = canonical_date_digits(&b[0..2])?;
    let m = canonical_date_digits(&b[3..5])?;
    let sec = canonical_date_digits(&b[6..8])?;
    canonical_date(day)?.and_hms_opt(h, m, sec)
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) | Value::Code(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::DateTime(t) => Some(t.date()),
            _ => None,
        }
    }

    /// The time of a date-time value (a date alone has none).
    pub fn as_datetime(&self) -> Option<chrono::NaiveDateTime> {
        match self {
            Value::DateTime(t) => Some(*t),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) | Value::Money(n) => Some(*n),
            _ => None,
        }
    }

    /// Whether the value has the shape its field type asks for.
    pub fn fits(&self, ty: FieldType) -> bool {
        matches!(
            (self, ty),
            (
                Value::Text(_),
                FieldType::Text
                    | FieldType::IdNumber
                    | FieldType::Phone
                    | FieldType::CreditCode
                    | FieldType::CourtCaseNo
                    | FieldType::ProcuratorateDocNo
                    | FieldType::Sha256
                    | FieldType::Polygon
            ) | (Value::Date(_), FieldType::Date)
                | (Value::DateTime(_), FieldType::DateTime)
                | (Value::Code(_), FieldType::Code(_))
                | (Value::Codes(_), FieldType::Codes(_))
                | (Value::Money(_), FieldType::Money)
                | (
                    Value::Int(_),
                    FieldType::Int | FieldType::Longitude | FieldType::Latitude
                )
        )
    }

    /// Canonical text form, used for storage and content hashes. Dates are ISO 8601, code
    /// lists are joined with `;`, money is in fen.
    pub fn canonical(&self) -> String {
        match self {
            Value::Text(s) | Value::Code(s) => s.clone(),
            // Written out by hand: chrono's formatter interprets the pattern on every call, and
            // ingest formats millions of dates.
            Value::Date(d) => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            Value::DateTime(t) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            Value::Codes(c) => c.join(";"),
            Value::Money(n) | Value::Int(n) => n.to_string(),
        }
    }

    /// Parses the canonical text form back into a value of the given type.
    pub fn from_canonical(ty: FieldType, s: &str) -> Option<Value> {
        Some(match ty {
            // The fixed-width forms first, the format-string parse for anything else.
            FieldType::Date => Value::Date(
                canonical_date(s).or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())?,
            ),
            FieldType::DateTime => Value::DateTime(
                canonical_datetime(s)
                    .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok())?,
            ),
            FieldType::Code(_) => Value::Code(s.to_string()),
            FieldType::Codes(_) => Value::Codes(
                s.split(';')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            FieldType::Money => Value::Money(s.parse().ok()?),
            FieldType::Int | FieldType::Longitude | FieldType::Latitude => {
                Value::Int(s.parse().ok()?)
            }
            _ => Value::Text(s.to_string()),
        })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// One record of a standard entity: the fields it carries, by field name. A record need not
/// carry every field; which ones it must carry is the validator's business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub entity: Entity,
    pub fields: BTreeMap<&'static str, Value>,
}

impl Record {
    pub fn new(entity: Entity) -> Record {
        Record {
            entity,
            fields: BTreeMap::new(),
        }
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    pub fn text(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(Value::as_str)
    }

    pub fn date(&self, field: &str) -> Option<NaiveDate> {
        self.get(field).and_then(Value::as_date)
    }

    /// A date-time field (a plain date counts as its midnight).
    pub fn datetime(&self, field: &str) -> Option<NaiveDateTime> {
        match self.get(field)? {
            Value::DateTime(t) => Some(*t),
            Value::Date(d) => d.and_hms_opt(0, 0, 0),
            _ => None,
        }
    }

    pub fn int(&self, field: &str) -> Option<i64> {
        self.get(field).and_then(Value::as_int)
    }

    /// Sets a field known to the entity. Returns an error naming the field when the entity has
    /// no such field or the value does not fit its type: a mapping defect, not a data defect.
    pub fn set(&mut self, field: &str, value: Value) -> Result<(), String> {
        let def = self
            .entity
            .field(field)
            .ok_or_else(|| format!("entity `{}` has no field `{field}`", self.entity.name()))?;
        if !value.fits(def.ty) {
            return Err(format!(
                "value `{value}` does not fit field `{}.{field}` of type {:?}",
                self.entity.name(),
                def.ty
            ));
        }
        self.fields.insert(def.name, value);
        Ok(())
    }

    /// The date the record speaks of, against which code validity is judged.
    pub fn reference_date(&self) -> Option<NaiveDate> {
        let field = match self.entity {
            crate::Entity::Case => "occurred_at",
            crate::Entity::Event => "occurred_at",
            crate::Entity::Sentence => "judgment_date",
            crate::Entity::Execution => "start_date",
            crate::Entity::Document => "issued_on",
            crate::Entity::Evidence => "collected_at",
            crate::Entity::Petition => "received_on",
            crate::Entity::Person => "birth_date",
            crate::Entity::CorrectionSubject => "effective_date",
            crate::Entity::CorrectionEvent => "occurred_at",
            crate::Entity::LocationFix => "fixed_at",
            crate::Entity::Fence => "valid_from",
            crate::Entity::Mediation => "received_on",
            crate::Entity::LegalAid => "applied_on",
            crate::Entity::SentencingProposal => "proposed_on",
            _ => return None,
        };
        self.date(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::CodeTable;

    #[test]
    fn set_rejects_unknown_fields_and_wrong_types() {
        let mut r = Record::new(Entity::Person);
        assert!(r.set("name", Value::Text("张三".into())).is_ok());
        assert!(r
            .set("nmae", Value::Text("x".into()))
            .unwrap_err()
            .contains("`nmae`"));
        assert!(r.set("birth_date", Value::Text("x".into())).is_err());
    }

    proptest::proptest! {
        /// The fixed-width readers agree with the format-string parse on every input.
        #[test]
        fn fast_date_reading_agrees_with_chrono(
            y in 0i32..10_000, m in 0u32..14, d in 0u32..33,
            h in 0u32..26, mi in 0u32..61, s in 0u32..61,
            junk in "[-0-9T: ]{0,20}",
        ) {
            for text in [
                format!("{y:04}-{m:02}-{d:02}"),
                format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
                junk.clone(),
            ] {
                proptest::prop_assert_eq!(
                    Value::from_canonical(FieldType::Date, &text),
                    NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok().map(Value::Date)
                );
                proptest::prop_assert_eq!(
                    Value::from_canonical(FieldType::DateTime, &text),
                    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S")
                        .ok()
                        .map(Value::DateTime)
                );
            }
        }
    }

    #[test]
    fn canonical_round_trips() {
        let d = NaiveDate::from_ymd_opt(2023, 2, 28).unwrap();
        let cases = [
            (FieldType::Date, Value::Date(d)),
            (
                FieldType::DateTime,
                Value::DateTime(d.and_hms_opt(8, 30, 0).unwrap()),
            ),
            (
                FieldType::Codes(CodeTable::Charge),
                Value::Codes(vec!["C264.1".into(), "C266.1".into()]),
            ),
            (FieldType::Money, Value::Money(123456)),
        ];
        for (ty, v) in cases {
            assert_eq!(Value::from_canonical(ty, &v.canonical()), Some(v));
        }
    }
}
