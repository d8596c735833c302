//! Declarative department mappings: a TOML file per source says how its records become standard
//! records. Compiling a mapping checks it against the standard and collects every problem at
//! once, so a data steward fixes a mapping in one pass and never recompiles the program.
//!
//! ```toml
//! [source]
//! name = "police"            # source name, used in lineage and reports
//! format = "csv"             # csv | jsonl | xml
//! encoding = "gbk"           # utf-8 | gbk
//! file = "police/cases.csv"  # default path inside an export directory
//!
//! [[emit]]                   # one standard record per source record
//! entity = "person"
//! when = "XYRXM"             # optional: emit only when this column is non-empty
//! fields.name = { column = "XYRXM", remove_whitespace = true }
//! fields.sex = { column = "XYRXB", crosswalk = "sex" }
//! fields.birth_date = { column = "XYRCSRQ", format = "%Y%m%d" }
//! # format alternatives are tried in order: "%Y%m%d%H%M%S|%Y%m%d"
//! fields.ethnicity = { column = "XYRMZ", lookup = "name" }
//! fields.id_type = { value = "resident_id" }
//!
//! [crosswalk.sex]
//! "男" = "1"
//! "女" = "2"
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use xiezhi_standard::codes::{table, CodeTable};
use xiezhi_standard::{Entity, FieldType};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    source: SourceSpec,
    #[serde(default)]
    csv: Option<CsvSpec>,
    #[serde(default)]
    xml: Option<XmlSpec>,
    emit: Vec<EmitSpec>,
    #[serde(default)]
    crosswalk: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceSpec {
    name: String,
    format: String,
    encoding: String,
    file: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvSpec {
    #[serde(default)]
    delimiter: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct XmlSpec {
    record_element: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitSpec {
    entity: String,
    #[serde(default)]
    when: Option<String>,
    #[serde(default)]
    for_each: Option<String>,
    fields: BTreeMap<String, FieldSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    #[serde(default)]
    column: Option<String>,
    #[serde(default)]
    value: Option<String>,
    /// Take the value from the current `for_each` item.
    #[serde(default)]
    item: bool,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    split: Option<String>,
    #[serde(default)]
    suffix: Option<String>,
    #[serde(default)]
    lookup: Option<String>,
    #[serde(default)]
    crosswalk: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    remove_whitespace: bool,
    /// The column may be absent from every record of a file (XML elements written only when
    /// they have a value). CSV headers must still carry it.
    #[serde(default)]
    optional: bool,
}

/// Source file formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Csv { delimiter: u8 },
    JsonLines,
    Xml { record_element: String },
}

/// Text encodings of source files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gbk,
}

/// Where a field's raw text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource {
    Column(String),
    Constant(String),
    Item,
}

/// How a code field's raw text becomes a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeMapping {
    /// The raw text is the code.
    Direct,
    /// The raw text is the code's official name.
    ByName,
    /// A crosswalk from the department's own values.
    Crosswalk(BTreeMap<String, String>),
}

/// One field of a compiled plan.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    pub field: &'static str,
    pub ty: FieldType,
    pub source: FieldSource,
    pub date_format: Option<String>,
    pub split: Option<String>,
    pub suffix: Option<String>,
    pub codes: CodeMapping,
    /// Money given in yuan (元) rather than fen.
    pub yuan: bool,
    pub remove_whitespace: bool,
    pub optional: bool,
}

/// One record to emit per source record.
#[derive(Debug, Clone)]
pub struct EmitPlan {
    pub entity: Entity,
    pub when: Option<String>,
    pub for_each: Option<String>,
    pub fields: Vec<FieldPlan>,
}

/// A compiled, checked mapping.
#[derive(Debug, Clone)]
pub struct Plan {
    pub source: String,
    pub description: Option<String>,
    pub format: Format,
    pub encoding: Encoding,
    pub default_file: String,
    pub emits: Vec<EmitPlan>,
    /// The mapping file's name, for lineage.
    pub mapping_name: String,
}

impl Plan {
    /// Every column the plan reads, for checking against a file's header.
    pub fn columns(&self) -> Vec<&str> {
        let mut cols: Vec<&str> = Vec::new();
        for e in &self.emits {
            cols.extend(e.when.as_deref());
            cols.extend(e.for_each.as_deref());
            for f in &e.fields {
                if let FieldSource::Column(c) = &f.source {
                    cols.push(c);
                }
            }
        }
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    /// Columns a CSV header must name: every mapped column except those read only by
    /// `optional` fields (a column a later version of the export added).
    pub fn header_columns(&self) -> Vec<&str> {
        let mut cols: Vec<&str> = Vec::new();
        for e in &self.emits {
            cols.extend(e.when.as_deref());
            cols.extend(e.for_each.as_deref());
            for f in &e.fields {
                if let (FieldSource::Column(c), false) = (&f.source, f.optional) {
                    cols.push(c);
                }
            }
        }
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    /// Columns that some record of a file must carry: every mapped column except `when`,
    /// `for_each` and `optional` ones.
    pub fn required_columns(&self) -> Vec<&str> {
        let mut cols: Vec<&str> = Vec::new();
        for e in &self.emits {
            for f in &e.fields {
                if let FieldSource::Column(c) = &f.source {
                    if !f.optional && e.when.is_none() {
                        cols.push(c);
                    }
                }
            }
        }
        cols.sort_unstable();
        cols.dedup();
        cols
    }
}

/// All problems of a mapping, each naming where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingErrors {
    pub mapping: String,
    pub errors: Vec<String>,
}

impl fmt::Display for MappingErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "映射文件 `{}` 有 {} 处错误 (mapping has {} errors):",
            self.mapping,
            self.errors.len(),
            self.errors.len()
        )?;
        for e in &self.errors {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MappingErrors {}

/// Compiles a mapping's TOML text into a plan, collecting every error.
pub fn compile(mapping_name: &str, text: &str) -> Result<Plan, MappingErrors> {
    let fail = |errors: Vec<String>| MappingErrors {
        mapping: mapping_name.to_string(),
        errors,
    };
    let file: MappingFile = toml::from_str(text).map_err(|e| fail(vec![e.to_string()]))?;
    let mut errors = Vec::new();
    let format = match file.source.format.as_str() {
        "csv" => {
            let d = file
                .csv
                .as_ref()
                .and_then(|c| c.delimiter.clone())
                .unwrap_or_else(|| ",".into());
            if d.len() != 1 {
                errors.push(format!("[csv] delimiter `{d}` must be one ASCII character"));
            }
            Format::Csv {
                delimiter: d.bytes().next().unwrap_or(b','),
            }
        }
        "jsonl" => Format::JsonLines,
        "xml" => match &file.xml {
            Some(x) => Format::Xml {
                record_element: x.record_element.clone(),
            },
            None => {
                errors.push("format `xml` needs an [xml] table with `record_element`".into());
                Format::JsonLines
            }
        },
        other => {
            errors.push(format!(
                "[source] format `{other}` is not one of csv, jsonl, xml"
            ));
            Format::JsonLines
        }
    };
    let encoding = match file.source.encoding.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Encoding::Utf8,
        "gbk" | "gb18030" | "gb2312" => Encoding::Gbk,
        other => {
            errors.push(format!(
                "[source] encoding `{other}` is not one of utf-8, gbk"
            ));
            Encoding::Utf8
        }
    };
    let mut emits = Vec::new();
    for (i, spec) in file.emit.iter().enumerate() {
        let at = format!("[[emit]] #{} ({})", i + 1, spec.entity);
        let Some(entity) = Entity::from_name(&spec.entity) else {
            errors.push(format!("{at}: unknown entity `{}`", spec.entity));
            continue;
        };
        let mut fields = Vec::new();
        for (name, f) in &spec.fields {
            let at = format!("{at} field `{name}`");
            let Some(def) = entity.field(name) else {
                errors.push(format!(
                    "{at}: entity `{}` has no such field",
                    entity.name()
                ));
                continue;
            };
            let source = match (&f.column, &f.value, f.item) {
                (Some(c), None, false) => FieldSource::Column(c.clone()),
                (None, Some(v), false) => FieldSource::Constant(v.clone()),
                (None, None, true) if spec.for_each.is_some() => FieldSource::Item,
                (None, None, true) => {
                    errors.push(format!("{at}: `item` needs `for_each` on its [[emit]]"));
                    continue;
                }
                _ => {
                    errors.push(format!(
                        "{at}: give exactly one of `column`, `value`, `item`"
                    ));
                    continue;
                }
            };
            let is_date = matches!(def.ty, FieldType::Date | FieldType::DateTime);
            if f.format.is_some() != is_date {
                errors.push(if is_date {
                    format!("{at}: a date field needs `format` (e.g. \"%Y%m%d\")")
                } else {
                    format!("{at}: `format` applies to date fields only")
                });
            }
            let code_table = match def.ty {
                FieldType::Code(t) | FieldType::Codes(t) => Some(t),
                _ => None,
            };
            if f.split.is_some() && !matches!(def.ty, FieldType::Codes(_)) {
                errors.push(format!("{at}: `split` applies to code-list fields only"));
            }
            if f.unit.is_some() && def.ty != FieldType::Money {
                errors.push(format!("{at}: `unit` applies to money fields only"));
            }
            let yuan = match f.unit.as_deref() {
                None | Some("fen") => false,
                Some("yuan") => true,
                Some(u) => {
                    errors.push(format!("{at}: unit `{u}` is not one of yuan, fen"));
                    false
                }
            };
            let codes = match (code_table, &f.lookup, &f.crosswalk) {
                (None, None, None) => CodeMapping::Direct,
                (None, _, _) => {
                    errors.push(format!(
                        "{at}: `lookup` and `crosswalk` apply to code fields only"
                    ));
                    CodeMapping::Direct
                }
                (Some(_), Some(l), None) if l == "name" => CodeMapping::ByName,
                (Some(_), Some(l), None) => {
                    errors.push(format!("{at}: lookup `{l}` is not `name`"));
                    CodeMapping::Direct
                }
                (Some(t), None, Some(cw)) => match file.crosswalk.get(cw) {
                    Some(map) => {
                        for (from, to) in map {
                            if !table(t).contains(to) {
                                errors.push(format!("{at}: crosswalk `{cw}` maps `{from}` to `{to}`, which is not in the `{}` table", t.name()));
                            }
                        }
                        CodeMapping::Crosswalk(map.clone())
                    }
                    None => {
                        errors.push(format!("{at}: crosswalk `{cw}` is not defined"));
                        CodeMapping::Direct
                    }
                },
                (Some(_), None, None) => CodeMapping::Direct,
                (Some(_), Some(_), Some(_)) => {
                    errors.push(format!("{at}: give `lookup` or `crosswalk`, not both"));
                    CodeMapping::Direct
                }
            };
            if let (Some(t), FieldSource::Constant(v), CodeMapping::Direct) =
                (code_table, &source, &codes)
            {
                if !table(t).contains(v) {
                    errors.push(format!(
                        "{at}: constant `{v}` is not in the `{}` table",
                        t.name()
                    ));
                }
            }
            fields.push(FieldPlan {
                field: def.name,
                ty: def.ty,
                source,
                date_format: f.format.clone(),
                split: f.split.clone(),
                suffix: f.suffix.clone(),
                codes,
                yuan,
                remove_whitespace: f.remove_whitespace,
                optional: f.optional,
            });
        }
        emits.push(EmitPlan {
            entity,
            when: spec.when.clone(),
            for_each: spec.for_each.clone(),
            fields,
        });
    }
    let subjects = |e: Entity| emits.iter().filter(|p| p.entity == e).count();
    for e in [Entity::Person, Entity::Case, Entity::Organization] {
        if subjects(e) > 1 {
            errors.push(format!(
                "at most one [[emit]] of entity `{}` per source record",
                e.name()
            ));
        }
    }
    if !errors.is_empty() {
        return Err(fail(errors));
    }
    Ok(Plan {
        source: file.source.name,
        description: file.source.description,
        format,
        encoding,
        default_file: file.source.file,
        emits,
        mapping_name: mapping_name.to_string(),
    })
}

/// Code tables are referenced by name in mappings' constants; exposed for `ingest validate`.
pub fn code_table_names() -> Vec<&'static str> {
    CodeTable::ALL.iter().map(|t| t.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[source]
name = "t"
format = "csv"
encoding = "gbk"
file = "t.csv"

[[emit]]
entity = "person"
fields.name = { column = "XM" }
fields.sex = { column = "XB", crosswalk = "sex" }
fields.birth_date = { column = "CSRQ", format = "%Y%m%d" }

[crosswalk.sex]
"男" = "1"
"#;

    #[test]
    fn good_mapping_compiles() {
        let plan = compile("t.toml", GOOD).unwrap();
        assert_eq!(plan.encoding, Encoding::Gbk);
        assert_eq!(plan.columns(), vec!["CSRQ", "XB", "XM"]);
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let bad = GOOD
            .replace(
                "fields.name = { column = \"XM\" }",
                "fields.nmae = { column = \"XM\" }",
            )
            .replace("\"男\" = \"1\"", "\"男\" = \"7\"")
            .replace("format = \"%Y%m%d\"", "unit = \"yuan\"");
        let err = compile("t.toml", &bad).unwrap_err();
        assert_eq!(err.errors.len(), 4, "{err}");
        let all = err.to_string();
        assert!(
            all.contains("`nmae`")
                && all.contains("`7`")
                && all.contains("needs `format`")
                && all.contains("money fields only"),
            "{all}"
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = compile(
            "t.toml",
            &GOOD.replace("encoding = \"gbk\"", "encoding = \"gbk\"\nencodng = \"x\""),
        )
        .unwrap_err();
        assert!(err.to_string().contains("encodng"), "{err}");
    }
}
