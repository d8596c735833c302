//! The Cedar policy files and their schema.
//!
//! Policies live as text in `policies/*.cedar` (compiled in with `include_str!`, or loaded from a
//! directory that a data steward edits). Every policy carries `@id("…")`, which becomes its Cedar
//! policy id, and a Chinese `@reason("…")`, which explanations quote. At load the whole set is
//! validated against `policies/xiezhi.cedarschema` in strict mode; a set that fails is refused
//! with every validator message.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{PolicyId, PolicySet, Schema, ValidationMode, Validator};

use crate::AccessError;

/// The Cedar schema text.
pub const SCHEMA: &str = include_str!("../policies/xiezhi.cedarschema");

/// The built-in policy files, by file name.
pub const BUILTIN_POLICIES: &[(&str, &str)] = &[
    (
        "organization.cedar",
        include_str!("../policies/organization.cedar"),
    ),
    (
        "supervision.cedar",
        include_str!("../policies/supervision.cedar"),
    ),
    (
        "restrictions.cedar",
        include_str!("../policies/restrictions.cedar"),
    ),
    (
        "statistics.cedar",
        include_str!("../policies/statistics.cedar"),
    ),
    ("grant.cedar", include_str!("../policies/grant.cedar")),
    ("admin.cedar", include_str!("../policies/admin.cedar")),
];

/// Name of the schema file inside a policy directory.
pub const SCHEMA_FILE: &str = "xiezhi.cedarschema";

/// Id of the data-request grant template.
pub const GRANT_TEMPLATE: &str = "grant";

/// A validated policy set with its schema and the explanation of every policy.
#[derive(Debug, Clone)]
pub struct PolicyStore {
    pub(crate) schema: Schema,
    pub(crate) set: PolicySet,
    /// Policy or template id → `@reason`.
    reasons: HashMap<String, String>,
    /// Policy or template id → file it came from.
    origin: BTreeMap<String, String>,
    warnings: Vec<String>,
}

impl PolicyStore {
    /// The compiled-in schema and policy files.
    pub fn builtin() -> Result<PolicyStore, AccessError> {
        PolicyStore::from_sources(SCHEMA, BUILTIN_POLICIES)
    }

    /// Loads every `*.cedar` file of `dir` (in file-name order) and validates it against the
    /// directory's `xiezhi.cedarschema`, or the built-in schema when the directory has none.
    pub fn from_dir(dir: &Path) -> Result<PolicyStore, AccessError> {
        let io = |path: &Path, source| AccessError::Io {
            path: path.to_path_buf(),
            source,
        };
        let schema_path = dir.join(SCHEMA_FILE);
        let schema = if schema_path.exists() {
            std::fs::read_to_string(&schema_path).map_err(|e| io(&schema_path, e))?
        } else {
            SCHEMA.to_string()
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            if path.extension().is_some_and(|x| x == "cedar") {
                let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push((name, text));
            }
        }
        if files.is_empty() {
            return Err(AccessError::NoPolicies {
                dir: dir.to_path_buf(),
            });
        }
        files.sort();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        PolicyStore::from_sources(&schema, &refs)
    }

    /// Parses a schema and policy files `(file name, text)`, renames every policy and template
    /// to its `@id`, and validates the set.
    pub fn from_sources(schema: &str, files: &[(&str, &str)]) -> Result<PolicyStore, AccessError> {
        let (schema, schema_warnings) =
            Schema::from_cedarschema_str(schema).map_err(|e| AccessError::Schema {
                message: e.to_string(),
            })?;
        let mut warnings: Vec<String> = schema_warnings.map(|w| w.to_string()).collect();
        let mut set = PolicySet::new();
        let mut reasons = HashMap::new();
        let mut origin = BTreeMap::new();
        for (file, text) in files {
            let parsed = PolicySet::from_str(text).map_err(|e| AccessError::PolicyParse {
                file: file.to_string(),
                message: e.to_string(),
            })?;
            let annotations = |policy: &PolicyId,
                               get: &dyn Fn(&'static str) -> Option<String>|
             -> Result<(String, String), AccessError> {
                let missing = |annotation| AccessError::MissingAnnotation {
                    file: file.to_string(),
                    policy: policy.to_string(),
                    annotation,
                };
                let id = get("id").ok_or_else(|| missing("id"))?;
                let reason = get("reason").ok_or_else(|| missing("reason"))?;
                Ok((id, reason))
            };
            let mut claim = |id: &str, reason: String| -> Result<(), AccessError> {
                if origin.contains_key(id) {
                    return Err(AccessError::DuplicatePolicyId {
                        id: id.to_string(),
                        file: file.to_string(),
                    });
                }
                origin.insert(id.to_string(), file.to_string());
                reasons.insert(id.to_string(), reason);
                Ok(())
            };
            for policy in parsed.policies() {
                let (id, reason) =
                    annotations(policy.id(), &|k| policy.annotation(k).map(str::to_string))?;
                claim(&id, reason)?;
                set.add(policy.new_id(PolicyId::new(&id)))
                    .map_err(AccessError::cedar)?;
            }
            for template in parsed.templates() {
                let (id, reason) = annotations(template.id(), &|k| {
                    template.annotation(k).map(str::to_string)
                })?;
                claim(&id, reason)?;
                set.add_template(template.new_id(PolicyId::new(&id)))
                    .map_err(AccessError::cedar)?;
            }
        }
        let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
        if !result.validation_passed() {
            let messages = result
                .validation_errors()
                .map(|e| {
                    let id = e.policy_id().to_string();
                    let file = origin.get(&id).map(String::as_str).unwrap_or("?");
                    format!("{file}: 策略 {id}: {e}")
                })
                .collect();
            return Err(AccessError::PolicyValidation { messages });
        }
        warnings.extend(result.validation_warnings().map(|w| w.to_string()));
        Ok(PolicyStore {
            schema,
            set,
            reasons,
            origin,
            warnings,
        })
    }

    /// Ids of the static policies and templates, with the file each came from.
    pub fn policy_files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.origin.iter().map(|(id, f)| (id.as_str(), f.as_str()))
    }

    /// The `@reason` of a static policy or template.
    pub fn reason(&self, id: &str) -> Option<&str> {
        self.reasons.get(id).map(String::as_str)
    }

    /// Validator and schema warnings (not fatal).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Number of policies in force (static and template-linked).
    pub fn len(&self) -> usize {
        self.set.num_of_policies()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The Cedar schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The Cedar policy set (static policies, templates and links).
    pub fn policy_set(&self) -> &PolicySet {
        &self.set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policies_load_and_validate() {
        let store = PolicyStore::builtin().unwrap();
        let ids: Vec<&str> = store.policy_files().map(|(id, _)| id).collect();
        for id in [
            "org-participant",
            "transfer-receiver",
            "supervisor-procedural",
            "public-no-records",
            "admin-separation",
            "l4-needs-l4-clearance",
            "investigation-confidential",
            "aggregate-procedural",
            "grant",
            "sysadmin-duties",
            "secadmin-duties",
            "auditor-duties",
        ] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
            assert!(store.reason(id).is_some_and(|r| !r.is_ascii()), "{id}");
        }
        assert_eq!(store.len(), 11, "static policies");
        assert!(store.warnings().is_empty(), "{:?}", store.warnings());
    }

    #[test]
    fn a_policy_without_reason_is_refused() {
        let bad = r#"@id("x") permit(principal, action, resource);"#;
        let err = PolicyStore::from_sources(SCHEMA, &[("bad.cedar", bad)]).unwrap_err();
        assert!(matches!(
            err,
            AccessError::MissingAnnotation {
                annotation: "reason",
                ..
            }
        ));
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let p = r#"@id("x") @reason("甲") permit(principal, action, resource);"#;
        let err = PolicyStore::from_sources(SCHEMA, &[("a.cedar", p), ("b.cedar", p)]).unwrap_err();
        assert!(
            matches!(err, AccessError::DuplicatePolicyId { .. }),
            "{err}"
        );
    }
}
