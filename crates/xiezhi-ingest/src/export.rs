//! Ingesting a whole export directory (one file per department) with the shipped mappings.

use std::path::Path;

use crate::mapping::{compile, MappingErrors, Plan};
use crate::pipeline::{FileReport, IngestError, IngestOptions, Ingestor};
use xiezhi_store::Store;

/// The mappings shipped with Xiezhi, in ingest order: master data first, then the departments
/// in procedural order.
pub const SHIPPED_MAPPINGS: [(&str, &str); 16] = [
    (
        "organizations.toml",
        include_str!("../../../mappings/organizations.toml"),
    ),
    ("police.toml", include_str!("../../../mappings/police.toml")),
    (
        "police-acts.toml",
        include_str!("../../../mappings/police-acts.toml"),
    ),
    (
        "police-dossier.toml",
        include_str!("../../../mappings/police-dossier.toml"),
    ),
    (
        "procuratorate.toml",
        include_str!("../../../mappings/procuratorate.toml"),
    ),
    ("court.toml", include_str!("../../../mappings/court.toml")),
    (
        "court-acts.toml",
        include_str!("../../../mappings/court-acts.toml"),
    ),
    (
        "justice.toml",
        include_str!("../../../mappings/justice.toml"),
    ),
    (
        "justice-commutations.toml",
        include_str!("../../../mappings/justice-commutations.toml"),
    ),
    (
        "justice-corrections.toml",
        include_str!("../../../mappings/justice-corrections.toml"),
    ),
    (
        "justice-correction-events.toml",
        include_str!("../../../mappings/justice-correction-events.toml"),
    ),
    (
        "justice-location-fixes.toml",
        include_str!("../../../mappings/justice-location-fixes.toml"),
    ),
    (
        "justice-fences.toml",
        include_str!("../../../mappings/justice-fences.toml"),
    ),
    (
        "petitions.toml",
        include_str!("../../../mappings/petitions.toml"),
    ),
    (
        "mediation.toml",
        include_str!("../../../mappings/mediation.toml"),
    ),
    (
        "legal-aid.toml",
        include_str!("../../../mappings/legal-aid.toml"),
    ),
];

/// Compiles the shipped mappings.
pub fn shipped_plans() -> Result<Vec<Plan>, MappingErrors> {
    SHIPPED_MAPPINGS
        .iter()
        .map(|(name, text)| compile(name, text))
        .collect()
}

/// Loads mappings from a directory (`*.toml`), in the shipped order first, others after by
/// name. Every mapping's errors are collected.
pub fn plans_from_dir(dir: &Path) -> Result<Vec<Plan>, Vec<MappingErrors>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| {
            vec![MappingErrors {
                mapping: dir.display().to_string(),
                errors: vec![e.to_string()],
            }]
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    let rank = |n: &String| {
        SHIPPED_MAPPINGS
            .iter()
            .position(|(s, _)| s == n)
            .unwrap_or(usize::MAX)
    };
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for n in names {
        match std::fs::read_to_string(dir.join(&n)) {
            Ok(text) => match compile(&n, &text) {
                Ok(p) => plans.push(p),
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(MappingErrors {
                mapping: n,
                errors: vec![e.to_string()],
            }),
        }
    }
    if errors.is_empty() {
        Ok(plans)
    } else {
        Err(errors)
    }
}

/// Ingests every plan's default file under `export_dir` that exists. A file without records
/// (a header, or nothing) has nothing to ingest and is skipped: a department with no acts of
/// a kind in the period still writes its file. Ingesting that one file on its own
/// ([`Ingestor::ingest_file`]) refuses it, since there the caller asked for its records.
pub fn ingest_export<S: Store + Send>(
    store: &mut S,
    plans: &[Plan],
    export_dir: &Path,
    opts: &IngestOptions,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Vec<FileReport>, IngestError> {
    let mut ingestor = Ingestor::new(store)?;
    let mut reports = Vec::new();
    for plan in plans {
        let path = export_dir.join(&plan.default_file);
        if !path.exists() {
            continue;
        }
        let source = plan.source.clone();
        let report =
            ingestor.ingest_file(plan, &path, &plan.default_file, opts, &mut |done, total| {
                progress(&source, done, total)
            });
        match report {
            Ok(r) => reports.push(r),
            Err(IngestError::File(crate::read::FileError::Empty { .. })) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_mappings_compile() {
        let plans = shipped_plans().unwrap_or_else(|e| panic!("{e}"));
        let sources: Vec<&str> = plans.iter().map(|p| p.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                "organizations",
                "police",
                "police_acts",
                "police_dossier",
                "procuratorate",
                "court",
                "court_acts",
                "justice",
                "justice_commutations",
                "justice_corrections",
                "justice_correction_events",
                "justice_location_fixes",
                "justice_fences",
                "petitions",
                "mediation",
                "legal_aid"
            ]
        );
    }
}
