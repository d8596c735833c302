//! Validation findings: which field, which rule, what value, said in Chinese and English.

use std::fmt;

use serde::Serialize;

/// Whether a finding stops the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The value was changed into its standard form (a lower-case `x`, a 15-digit ID). The
    /// record is accepted and the repair is kept in its lineage.
    Repaired,
    /// Suspicious but acceptable; reported in quality figures.
    Warning,
    /// The record cannot enter the store; it is quarantined with this reason.
    Error,
}

/// One finding about one field of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// `entity.field` (`person.id_number`), or `entity` for a rule over several fields.
    pub field: String,
    /// Stable machine code of the rule (`id_number.checksum`).
    pub rule: &'static str,
    pub severity: Severity,
    /// The offending value as found, if any.
    pub value: Option<String>,
    pub message_zh: String,
    pub message_en: String,
}

impl Issue {
    pub fn error(
        field: impl Into<String>,
        rule: &'static str,
        value: Option<&str>,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Issue {
        Issue {
            field: field.into(),
            rule,
            severity: Severity::Error,
            value: value.map(str::to_string),
            message_zh: zh.into(),
            message_en: en.into(),
        }
    }

    pub fn with_severity(mut self, severity: Severity) -> Issue {
        self.severity = severity;
        self
    }

    /// Prefixes the field path with an entity name (`id_number` → `person.id_number`).
    pub fn in_entity(mut self, entity: &str) -> Issue {
        if !self.field.starts_with(entity) {
            self.field = if self.field.is_empty() {
                entity.to_string()
            } else {
                format!("{entity}.{}", self.field)
            };
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.field, self.rule)?;
        if let Some(v) = &self.value {
            write!(f, " `{v}`")?;
        }
        write!(f, ": {} ({})", self.message_zh, self.message_en)
    }
}
