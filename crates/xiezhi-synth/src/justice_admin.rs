//! The justice-administration side of the province: community-corrections subjects flowing
//! from the court's judgments, their acts (notice, report-in, check-ins, visits, leaves,
//! warnings, electronic monitoring, revocation, release), daily location fixes near home,
//! electronic fences, petitions about cases, people's mediation cases with planted space-time
//! hot spots, and legal-aid matters.
//!
//! Built after the case world, from its own random streams, so the four case-flow exports stay
//! as they were (but for the convicts planted as 漏管, who are left out of the justice
//! register). Planted supervision marks go into the cases' marks (subject rules) or into the
//! petitions (petition rules); both reach `supervision-truth.jsonl`. Statutory periods are the
//! texts' own: 社区矫正法 第20条 (5 days), 第21条 (10 days), 第27条 (approved leave), 第29条
//! (3 months of monitoring), 第44条 (release notice), 第48条 (30 days); 信访工作条例 第23条
//! (15 days), 第34条 (60 days, extension at most 30), 第35条 and 第36条 (30 days).
//!
//! One platform setting is not statutory: [`CONTACT_GAP_DAYS`], the longest a subject may go
//! without any contact (report, check-in, visit or location fix) before the platform calls it
//! 脱管. The synthetic province keeps ordinary check-ins at most 28 days apart.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::cases::{export_date, World};
use crate::sentence::Penalty;
use crate::util::{add_days, chance, stream};
use crate::violations::{last_lawful_day, rule, Limit, Mark};

/// Longest gap without contact the platform tolerates (a platform setting, not a statutory
/// period; the supervision rule carries the same figure).
pub const CONTACT_GAP_DAYS: i64 = 30;

/// Days of location fixes before the export date (inclusive of it).
pub const FIX_WINDOW_DAYS: i64 = 60;

const STREAM_SUBJECTS: u64 = 20;
const STREAM_FIXES: u64 = 21;
const STREAM_PETITIONS: u64 = 22;
const STREAM_MEDIATION: u64 = 23;
const STREAM_LEGAL_AID: u64 = 24;
const STREAM_BAD: u64 = 25;
const STREAM_PETITION_SURGES: u64 = 26;

/// Per mille of applicable subjects or petitions planted late (and, where a boundary exists,
/// planted exactly on the last lawful day).
const PLANT_PER_MILLE: u32 = 40;

/// A point in micro-degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geo {
    pub lon: i64,
    pub lat: i64,
}

/// One act of community corrections.
#[derive(Debug, Clone)]
pub(crate) struct Act {
    pub kind: &'static str,
    pub at: NaiveDateTime,
    pub organ: usize,
    /// Approved-until day (leave, monitoring period).
    pub until: Option<NaiveDate>,
    pub document_no: String,
}

/// An electronic fence of one subject.
#[derive(Debug, Clone)]
pub(crate) struct Fence {
    /// `no_entry` or `no_exit`.
    pub rule: &'static str,
    pub name: String,
    /// Corners, counter-clockwise.
    pub corners: Vec<Geo>,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub document_no: String,
}

/// A location fix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fix {
    pub at: NaiveDateTime,
    pub received: NaiveDateTime,
    pub at_geo: Geo,
}

/// A community-corrections subject.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub case: usize,
    pub person: usize,
    /// `surveillance` or `probation`.
    pub kind: &'static str,
    pub decision_organ: usize,
    pub executing_organ: usize,
    pub effective: NaiveDate,
    pub reported: NaiveDate,
    pub end: NaiveDate,
    pub prohibition: Option<&'static str>,
    pub employment: &'static str,
    pub home: Geo,
    pub acts: Vec<Act>,
    pub fences: Vec<Fence>,
    pub fixes: Vec<Fix>,
    pub device: String,
    /// The latent risk multiplier (per mille) the subject's misconduct is drawn with.
    pub risk_pm: u32,
    /// Whether the subject misbehaved during the correction: a warning, a revocation
    /// proposal, a leave overrun, lost contact or a fence breach (the risk model's label).
    pub violated: bool,
}

/// A petition (信访事项).
#[derive(Debug, Clone)]
pub(crate) struct Petition {
    pub no: String,
    pub channel: &'static str,
    pub kind: &'static str,
    /// The case it is about, if any (index into the world's cases).
    pub case: Option<usize>,
    pub person: usize,
    pub division: &'static str,
    pub organ: usize,
    pub received: NaiveDate,
    pub accepted: Option<NaiveDate>,
    pub extended_days: Option<i64>,
    pub answered: Option<NaiveDate>,
    pub review_requested: Option<NaiveDate>,
    pub review_answered: Option<NaiveDate>,
    pub recheck_requested: Option<NaiveDate>,
    pub recheck_answered: Option<NaiveDate>,
    pub content: String,
    pub marks: Vec<(&'static str, Mark)>,
    /// A bad copy: answered before it was received (quarantined on ingest).
    pub bad: bool,
}

/// A people's mediation case.
#[derive(Debug, Clone)]
pub(crate) struct Mediation {
    pub no: String,
    pub county: usize,
    pub committee: String,
    pub kind: &'static str,
    pub parties: u8,
    pub received: NaiveDate,
    pub closed: Option<NaiveDate>,
    pub outcome: Option<&'static str>,
    pub confirmed: Option<NaiveDate>,
}

/// A legal-aid matter.
#[derive(Debug, Clone)]
pub(crate) struct LegalAid {
    pub no: String,
    pub kind: &'static str,
    pub organ: usize,
    pub person: usize,
    pub case: Option<usize>,
    pub applied: NaiveDate,
    pub decided: NaiveDate,
    pub granted: bool,
    pub lawyer: String,
}

/// A planted mediation hot spot: one county, one dispute kind, a run of months with extra cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotSpotTruth {
    pub hot_spot: usize,
    pub division: String,
    pub division_name: String,
    pub dispute_kind: String,
    /// First day of each month with planted cases.
    pub months: Vec<NaiveDate>,
    pub planted_cases: usize,
}

/// Everything the justice-administration side holds.
#[derive(Debug, Default)]
pub(crate) struct Admin {
    pub subjects: Vec<Subject>,
    pub petitions: Vec<Petition>,
    pub mediations: Vec<Mediation>,
    pub hot_spots: Vec<HotSpotTruth>,
    /// Planted petition surges (`dispute_kind` = `petition`).
    pub petition_hot_spots: Vec<HotSpotTruth>,
    pub legal_aid: Vec<LegalAid>,
    /// Extra bad rows (file, rule the ingest must quarantine them by), planted per file.
    pub bad_subjects: Vec<usize>,
    pub bad_fixes: Vec<(usize, BadFix)>,
}

/// A planted bad location fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadFix {
    /// A latitude that does not exist.
    ImpossibleCoordinates,
    /// Fixed an hour after the platform received it.
    TimeTravel,
}

/// The centre of a county: a stable point inside Guizhou's extent, from the county's index.
pub(crate) fn county_centre(county: usize) -> Geo {
    // 104.0–109.2 E, 24.8–28.9 N, on a 9 × 11 grid with a stable jitter.
    let col = (county % 9) as i64;
    let row = ((county / 9) % 11) as i64;
    let jitter = ((county as i64 * 7_919) % 50_000) - 25_000;
    Geo {
        lon: 104_200_000 + col * 560_000 + jitter,
        lat: 25_000_000 + row * 360_000 - jitter,
    }
}

fn at(day: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default())
}

fn around(rng: &mut ChaCha8Rng, p: Geo, micro: i64) -> Geo {
    Geo {
        lon: p.lon + rng.gen_range(-micro..=micro),
        lat: p.lat + rng.gen_range(-micro..=micro),
    }
}

fn square(centre: Geo, half: i64) -> Vec<Geo> {
    vec![
        Geo {
            lon: centre.lon - half,
            lat: centre.lat - half,
        },
        Geo {
            lon: centre.lon + half,
            lat: centre.lat - half,
        },
        Geo {
            lon: centre.lon + half,
            lat: centre.lat + half,
        },
        Geo {
            lon: centre.lon - half,
            lat: centre.lat + half,
        },
    ]
}

const PROHIBITIONS: [&str; 3] = [
    "禁止进入夜总会、酒吧、迪厅、网吧等娱乐场所",
    "禁止进入中小学校区、幼儿园园区及周边地区",
    "禁止进入被害人住所周边区域",
];

/// 前科 in the sentence's circumstances (bit 8 of `sentence::CIRCUMSTANCES`).
const PRIOR_RECORD: u16 = 1 << 8;

/// The latent risk multiplier of a subject's misconduct, per mille, from what the platform
/// holds about him at intake: age, work or study, a prior record, the charge. Points map
/// through a fixed table (integers only: the province is byte-identical everywhere). The
/// model in `xiezhi-insight` must learn this from the data; these are the generator's
/// choices, not findings about real people.
pub fn risk_per_mille(age: i32, employment: &str, prior: bool, charge: &str) -> u32 {
    let mut points: i32 = match age {
        ..=24 => 3,
        25..=34 => 2,
        35..=49 => 1,
        _ => 0,
    };
    points += match employment {
        "unemployed" => 3,
        "employed" => 0,
        _ => -1,
    };
    if prior {
        points += 3;
    }
    points += match charge {
        "盗窃罪" | "诈骗罪" | "寻衅滋事罪" | "走私、贩卖、运输、制造毒品罪" | "开设赌场罪" => {
            2
        }
        "危险驾驶罪" | "交通肇事罪" => -1,
        _ => 0,
    };
    const TABLE: [u32; 11] = [300, 400, 550, 700, 900, 1150, 1450, 1800, 2200, 2700, 3300];
    TABLE[points.clamp(0, 10) as usize]
}

/// Per mille for the acts few subjects have (monitoring, revocation, a leave, the last two
/// months of fixes), so that a small province still plants each.
const RARE_PER_MILLE: u32 = 100;

/// Marks of one planted rule: violation, near-miss or none, at [`PLANT_PER_MILLE`] each.
fn draw(rng: &mut ChaCha8Rng, near_miss: bool) -> Option<Mark> {
    draw_per_mille(rng, near_miss, PLANT_PER_MILLE)
}

fn draw_per_mille(rng: &mut ChaCha8Rng, near_miss: bool, per_mille: u32) -> Option<Mark> {
    let r = rng.gen_range(0..1000);
    if r < per_mille {
        Some(Mark::Violation)
    } else if near_miss && r < 2 * per_mille {
        Some(Mark::NearMiss)
    } else {
        None
    }
}

/// Builds the justice-administration side and plants its marks into the world's cases.
pub(crate) fn build(world: &mut World, seed: u64) -> Admin {
    let mut admin = Admin::default();
    subjects(world, seed, &mut admin);
    fixes(world, seed, &mut admin);
    petitions(world, seed, &mut admin);
    petition_surges(world, seed, &mut admin);
    mediations(world, seed, &mut admin);
    legal_aid(world, seed, &mut admin);
    admin
}

fn subjects(world: &mut World, seed: u64, admin: &mut Admin) {
    let mut rng = stream(seed, STREAM_SUBJECTS);
    let export = export_date();
    for ci in 0..world.cases.len() {
        let single = world.cases[ci].defendants.len() == 1;
        for k in 0..world.cases[ci].defendants.len() {
            let case = &world.cases[ci];
            let d = &case.defendants[k];
            let (Some(e), Some(s), Some(court)) = (&d.execution, &d.sentence, &case.court) else {
                continue;
            };
            if e.prison {
                continue;
            }
            let (effective, penalty, person_ix) = (court.effective, s.penalty, d.person);
            let (executing, reported, term_end) = (e.organ, e.report, e.end);
            let decision_organ = world.province.counties[case.county].court;
            let residence = world.persons[person_ix].residence;
            let county_name = world.province.counties[residence].name;
            let court_no = case.court_no.clone();
            let home = around(&mut rng, county_centre(residence), 40_000);
            // 漏管: the convict never reaches the executing organ; the justice register leaves
            // him out. Single-defendant cases whose judgment is on record, with no planted late
            // report, so the case's truth stays one mark per rule.
            let reported_late = case
                .marks
                .iter()
                .any(|(r, _)| *r == rule::COMMUNITY_CORRECTION_REPORT);
            if single
                && !reported_late
                && !case.hide_effective
                && add_days(effective, 30) < export
                && rng.gen_range(0..1000) < PLANT_PER_MILLE
            {
                world.cases[ci]
                    .marks
                    .push((rule::MISSED_INTAKE, Mark::Violation));
                world.cases[ci].defendants[k].execution = None;
                continue;
            }
            let mut marks: Vec<(&'static str, Mark)> = Vec::new();
            let employment = match rng.gen_range(0..100) {
                0..=59 => "employed",
                60..=64 => "studying",
                65..=89 => "unemployed",
                _ => "retired",
            };
            let age = effective.year() - world.persons[person_ix].birth.year();
            let prior = s.circumstances & PRIOR_RECORD != 0;
            let charge = world.charges[world.cases[ci].charges[0]].name;
            let risk_pm = risk_per_mille(age, employment, prior, charge);
            let scaled = |per_mille: u32| per_mille * risk_pm / 1000;
            let mut violated = false;
            let mut acts = Vec::new();
            let doc = |prefix: &str, n: usize| format!("{prefix}〔{}〕{}号", effective.year(), n);
            // 第20条: the decision organ notifies within 5 days.
            let notice_due = last_lawful_day(Limit::Days(5).expiry(effective), false);
            let observable = add_days(effective, 30) < export;
            let notified = match draw(&mut rng, observable) {
                Some(Mark::Violation) if observable => {
                    marks.push((rule::DECISION_NOTICE, Mark::Violation));
                    add_days(notice_due, rng.gen_range(1..=15))
                }
                Some(Mark::NearMiss) => {
                    marks.push((rule::DECISION_NOTICE, Mark::NearMiss));
                    notice_due
                }
                _ => {
                    add_days(effective, rng.gen_range(0..=5)).min(Limit::Days(5).expiry(effective))
                }
            };
            acts.push(Act {
                kind: "notified",
                at: at(notified, 10, 0),
                organ: decision_organ,
                until: None,
                document_no: doc("矫通", ci + 1),
            });
            for kind in ["report_in", "intake"] {
                acts.push(Act {
                    kind,
                    at: at(reported, 9, 30),
                    organ: executing,
                    until: None,
                    document_no: String::new(),
                });
            }
            // Revocation (第46、48条): proposal, ruling within 30 days; the correction ends.
            let mut stop = term_end.min(export);
            let mut revoked = None;
            if rng.gen_range(0..1000) < scaled(50) && (stop - reported).num_days() > 120 {
                violated = true;
                let proposed = add_days(
                    reported,
                    rng.gen_range(60..(stop - reported).num_days() - 40),
                );
                let due = last_lawful_day(Limit::Days(30).expiry(proposed), false);
                let ruled = match draw_per_mille(&mut rng, true, RARE_PER_MILLE) {
                    Some(m) => {
                        marks.push((rule::REVOCATION_RULING, m));
                        if m == Mark::Violation {
                            add_days(due, rng.gen_range(1..=40))
                        } else {
                            due
                        }
                    }
                    None => add_days(proposed, rng.gen_range(5..=25)),
                };
                acts.push(Act {
                    kind: "revocation_proposed",
                    at: at(proposed, 15, 0),
                    organ: executing,
                    until: None,
                    document_no: doc("矫撤建", ci + 1),
                });
                if ruled <= export {
                    acts.push(Act {
                        kind: "revocation_ruled",
                        at: at(ruled, 11, 0),
                        organ: decision_organ,
                        until: None,
                        document_no: doc("刑更", ci + 1),
                    });
                    stop = stop.min(ruled);
                    revoked = Some(ruled);
                } else {
                    // Still pending on the export date: the subject stays under correction.
                }
            }
            // 脱管: contact stops well before the export date (or, near-miss, exactly the
            // tolerated gap before it).
            let active_at_export = revoked.is_none() && term_end > export;
            let mut contact_until = stop;
            if active_at_export && (export - reported).num_days() > 120 {
                match draw_per_mille(&mut rng, true, scaled(RARE_PER_MILLE)) {
                    Some(Mark::Violation) => {
                        violated = true;
                        marks.push((rule::LOST_CONTACT, Mark::Violation));
                        contact_until = add_days(export, -rng.gen_range(45..=100));
                    }
                    Some(Mark::NearMiss) => {
                        marks.push((rule::LOST_CONTACT, Mark::NearMiss));
                        contact_until = add_days(export, -CONTACT_GAP_DAYS);
                    }
                    None => {}
                }
            }
            // Or contact lapses for a while in the middle of the term and resumes (the subject
            // is found again): no check-in or visit strictly inside the gap.
            let mut gap: Option<(NaiveDate, NaiveDate)> = None;
            let term_days = (stop - reported).num_days();
            if contact_until == stop && term_days > 200 {
                let mark = draw_per_mille(&mut rng, true, scaled(PLANT_PER_MILLE));
                let g0 = add_days(reported, rng.gen_range(40..term_days - 150));
                match mark {
                    Some(Mark::Violation) => {
                        violated = true;
                        marks.push((rule::LOST_CONTACT, Mark::Violation));
                        gap = Some((g0, add_days(g0, rng.gen_range(45..=100))));
                    }
                    Some(Mark::NearMiss) => {
                        marks.push((rule::LOST_CONTACT, Mark::NearMiss));
                        gap = Some((g0, add_days(g0, CONTACT_GAP_DAYS)));
                    }
                    None => {}
                }
            }
            if let Some((g0, g1)) = gap {
                for day in [g0, g1] {
                    acts.push(Act {
                        kind: "check_in",
                        at: at(day, 10, 30),
                        organ: executing,
                        until: None,
                        document_no: String::new(),
                    });
                }
            }
            let in_gap = |day: NaiveDate| gap.is_some_and(|(g0, g1)| day > g0 && day < g1);
            // Check-ins every 20–28 days, visits every 80–100 days, while in contact; the last
            // contact falls on `contact_until` itself when contact stops early.
            let mut day = reported;
            loop {
                day = add_days(day, rng.gen_range(20..=28));
                if day > contact_until {
                    break;
                }
                if in_gap(day) {
                    continue;
                }
                acts.push(Act {
                    kind: "check_in",
                    at: at(day, rng.gen_range(9..=16), rng.gen_range(0..60)),
                    organ: executing,
                    until: None,
                    document_no: String::new(),
                });
            }
            if contact_until < stop {
                acts.push(Act {
                    kind: "check_in",
                    at: at(contact_until, 10, 0),
                    organ: executing,
                    until: None,
                    document_no: String::new(),
                });
            }
            let mut day = reported;
            loop {
                day = add_days(day, rng.gen_range(80..=100));
                if day >= contact_until {
                    break;
                }
                if in_gap(day) {
                    continue;
                }
                acts.push(Act {
                    kind: "visit",
                    at: at(day, 14, rng.gen_range(0..60)),
                    organ: executing,
                    until: None,
                    document_no: String::new(),
                });
            }
            // A leave (第27条) for some: approved until a day, back on or before it.
            let span = (contact_until - reported).num_days();
            if span > 60 && gap.is_none() && chance(&mut rng, 20) {
                let approved = add_days(reported, rng.gen_range(20..span - 30));
                let until = add_days(approved, rng.gen_range(3..=10));
                let back = match draw_per_mille(&mut rng, true, scaled(RARE_PER_MILLE)) {
                    Some(m) => {
                        violated |= m == Mark::Violation;
                        marks.push((rule::LEAVE_OVERRUN, m));
                        if m == Mark::Violation {
                            add_days(until, rng.gen_range(1..=10))
                        } else {
                            until
                        }
                    }
                    None => add_days(until, -rng.gen_range(0..=2)),
                };
                acts.push(Act {
                    kind: "leave_approved",
                    at: at(approved, 9, 0),
                    organ: executing,
                    until: Some(until),
                    document_no: doc("矫假", ci + 1),
                });
                acts.push(Act {
                    kind: "leave_returned",
                    at: at(back, 17, 0),
                    organ: executing,
                    until: None,
                    document_no: String::new(),
                });
            }
            // A warning and electronic monitoring (第28、29条) for some: at most three months
            // per period.
            if span > 150 && gap.is_none() && rng.gen_range(0..1000) < scaled(150) {
                violated = true;
                let warned = add_days(reported, rng.gen_range(20..span - 130));
                acts.push(Act {
                    kind: "warning",
                    at: at(warned, 10, 0),
                    organ: executing,
                    until: None,
                    document_no: doc("矫警", ci + 1),
                });
                let started = add_days(warned, rng.gen_range(1..=5));
                let expiry = Limit::MonthsDays(3, 0).expiry(started);
                // A longest duration, not an act's deadline: no rest-day extension.
                let due = expiry;
                let ended = match draw_per_mille(&mut rng, true, RARE_PER_MILLE) {
                    Some(m) => {
                        marks.push((rule::MONITORING_LIMIT, m));
                        if m == Mark::Violation {
                            add_days(due, rng.gen_range(1..=20))
                        } else {
                            due
                        }
                    }
                    None => add_days(started, rng.gen_range(30..=80)),
                };
                acts.push(Act {
                    kind: "monitoring_started",
                    at: at(started, 10, 0),
                    organ: executing,
                    until: Some(expiry),
                    document_no: doc("矫电", ci + 1),
                });
                acts.push(Act {
                    kind: "monitoring_ended",
                    at: at(ended, 10, 0),
                    organ: executing,
                    until: None,
                    document_no: String::new(),
                });
            }
            // Release at the end of the term (第44条), and the notice of it.
            if revoked.is_none() && term_end <= export {
                acts.push(Act {
                    kind: "released",
                    at: at(term_end, 9, 0),
                    organ: executing,
                    until: None,
                    document_no: doc("解矫", ci + 1),
                });
                if add_days(term_end, 3) < export && rng.gen_range(0..1000) < PLANT_PER_MILLE {
                    marks.push((rule::RELEASE_NOTICE, Mark::Violation));
                } else {
                    let notice = add_days(term_end, rng.gen_range(0..=3)).min(export);
                    acts.push(Act {
                        kind: "release_notified",
                        at: at(notice, 16, 0),
                        organ: executing,
                        until: None,
                        document_no: String::new(),
                    });
                }
            }
            acts.retain(|a| a.at.date() <= export);
            acts.sort_by_key(|a| a.at);
            let prohibition = (chance(&mut rng, 25)).then(|| PROHIBITIONS[rng.gen_range(0..3)]);
            let mut fences = vec![Fence {
                rule: "no_exit",
                name: format!("{county_name}行政区域"),
                corners: square(county_centre(residence), 200_000),
                from: effective,
                until: term_end,
                document_no: String::new(),
            }];
            if let Some(p) = prohibition {
                let offset = Geo {
                    lon: home.lon + rng.gen_range(15_000..=40_000),
                    lat: home.lat + rng.gen_range(15_000..=40_000),
                };
                fences.push(Fence {
                    rule: "no_entry",
                    name: p.trim_start_matches("禁止进入").to_string(),
                    corners: square(offset, 3_000),
                    from: effective,
                    until: term_end,
                    document_no: format!("{court_no}禁止令"),
                });
            }
            for m in &marks {
                world.cases[ci].marks.push(*m);
            }
            let kind = if penalty == Penalty::Surveillance {
                "surveillance"
            } else {
                "probation"
            };
            let n = admin.subjects.len();
            admin.subjects.push(Subject {
                case: ci,
                person: person_ix,
                kind,
                decision_organ,
                executing_organ: executing,
                effective,
                reported,
                end: term_end,
                prohibition,
                employment,
                home,
                acts,
                fences,
                fixes: Vec::new(),
                device: format!("DW{:07}", n + 1),
                risk_pm,
                violated,
            });
            // A report-in registered before the judgment took effect: a second, wrong register
            // row for the first subject and about 1 % of the rest, which the ingest must
            // quarantine.
            if admin.bad_subjects.is_empty() || chance(&mut rng, 1) {
                admin.bad_subjects.push(n);
            }
        }
    }
}

/// Daily fixes (morning and evening) near home for subjects under correction in the last
/// [`FIX_WINDOW_DAYS`] days, until contact stops; fence breaches planted among them.
fn fixes(world: &mut World, seed: u64, admin: &mut Admin) {
    let mut rng = stream(seed, STREAM_FIXES);
    let mut bad = stream(seed, STREAM_BAD);
    let export = export_date();
    let first = add_days(export, -(FIX_WINDOW_DAYS - 1));
    for (si, s) in admin.subjects.iter_mut().enumerate() {
        let ended = s
            .acts
            .iter()
            .any(|a| a.kind == "revocation_ruled" || a.kind == "released");
        let last_contact = s
            .acts
            .iter()
            .filter(|a| a.kind == "check_in" || a.kind == "report_in")
            .map(|a| a.at.date())
            .max()
            .unwrap_or(s.reported);
        let planted_stop = world.cases[s.case]
            .marks
            .iter()
            .any(|(r, _)| *r == rule::LOST_CONTACT);
        let until = if planted_stop { last_contact } else { export };
        if ended || s.end <= export || s.reported > first {
            continue;
        }
        let mut day = first;
        while day <= until {
            for (h0, h1) in [(8, 10), (20, 22)] {
                let t = at(day, rng.gen_range(h0..h1), rng.gen_range(0..60));
                s.fixes.push(Fix {
                    at: t,
                    received: t + chrono::TimeDelta::seconds(rng.gen_range(5..=120)),
                    at_geo: around(&mut rng, s.home, 8_000),
                });
            }
            day = add_days(day, 1);
        }
        let leave_in_window = s
            .acts
            .iter()
            .any(|a| a.kind == "leave_approved" && a.until.is_some_and(|u| u >= first));
        if s.fixes.len() < 10 || planted_stop || leave_in_window {
            continue;
        }
        // A fence breach: three fixes a quarter-hour apart inside a no-entry zone (or outside
        // the county); the near-miss is one stray fix (GPS drift), which the rule tolerates.
        // Few subjects have fixes (the last two months), so breaches are planted at a higher
        // rate than the other acts.
        if let Some(m) = draw_per_mille(&mut rng, true, 2 * RARE_PER_MILLE * s.risk_pm / 1000) {
            s.violated |= m == Mark::Violation;
            let fence = s
                .fences
                .iter()
                .find(|f| f.rule == "no_entry")
                .unwrap_or(&s.fences[0]);
            let target = if fence.rule == "no_entry" {
                Geo {
                    lon: (fence.corners[0].lon + fence.corners[2].lon) / 2,
                    lat: (fence.corners[0].lat + fence.corners[2].lat) / 2,
                }
            } else {
                Geo {
                    lon: fence.corners[2].lon + 50_000,
                    lat: fence.corners[2].lat + 50_000,
                }
            };
            let day = add_days(first, rng.gen_range(5..(until - first).num_days().max(6)));
            let n = if m == Mark::Violation { 3 } else { 1 };
            for i in 0..n {
                let t = at(day, 13, 0) + chrono::TimeDelta::minutes(15 * i);
                s.fixes.push(Fix {
                    at: t,
                    received: t + chrono::TimeDelta::seconds(30),
                    at_geo: around(&mut rng, target, 500),
                });
            }
            s.fixes.sort_by_key(|f| f.at);
            world.cases[s.case].marks.push((rule::FENCE_BREACH, m));
        }
        // Bad copies for 2 % of subjects, and always for the first one with fixes, so a small
        // province has both kinds.
        let first_with_fixes = admin.bad_fixes.is_empty();
        if first_with_fixes || chance(&mut bad, 2) {
            admin.bad_fixes.push((si, BadFix::ImpossibleCoordinates));
        }
        if first_with_fixes || chance(&mut bad, 2) {
            admin.bad_fixes.push((si, BadFix::TimeTravel));
        }
    }
}

/// Petition surges: `max(1, cases / 2000)` counties whose residents hand in at least eight
/// extra petitions a month for 1–2 months (from the tenth month of 2023 on), none about a
/// case, each answered in time (so they plant no deadline marks). Stream of their own.
fn petition_surges(world: &mut World, seed: u64, admin: &mut Admin) {
    let mut rng = stream(seed, STREAM_PETITION_SURGES);
    if world.persons.is_empty() {
        return;
    }
    let first = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
    let month_start = |m: u32| {
        first
            .checked_add_months(chrono::Months::new(m))
            .unwrap_or(first)
    };
    let spots = (world.cases.len() / 2000).max(1);
    for h in 0..spots {
        let person = rng.gen_range(0..world.persons.len());
        let county = world.persons[person].residence;
        let residents: Vec<usize> = (0..world.persons.len())
            .filter(|&p| world.persons[p].residence == county)
            .collect();
        let code = world.province.counties[county].code;
        let organ = world.province.organs[world.province.counties[county].corrections]
            .parent
            .unwrap_or(world.province.counties[county].corrections);
        let run = rng.gen_range(1..=2);
        let m0 = rng.gen_range(9..42 - run);
        let mut months = Vec::new();
        let mut planted = 0;
        for m in m0..m0 + run {
            let start = month_start(m);
            months.push(start);
            let days = (month_start(m + 1) - start).num_days();
            for _ in 0..8 {
                let received = add_days(start, rng.gen_range(0..days));
                let accepted = add_days(received, rng.gen_range(1..=14));
                let n = admin.petitions.len() + 1;
                admin.petitions.push(Petition {
                    no: format!("XF{}{:06}S", received.year(), n),
                    channel: ["online", "letter", "visit"][rng.gen_range(0..3)],
                    kind: "complaint",
                    case: None,
                    person: residents[rng.gen_range(0..residents.len())],
                    division: code,
                    organ,
                    received,
                    accepted: Some(accepted),
                    extended_days: None,
                    answered: Some(add_days(accepted, rng.gen_range(20..=55))),
                    review_requested: None,
                    review_answered: None,
                    recheck_requested: None,
                    recheck_answered: None,
                    content: "反映征地拆迁补偿问题".to_string(),
                    marks: Vec::new(),
                    bad: false,
                });
                planted += 1;
            }
        }
        admin.petition_hot_spots.push(HotSpotTruth {
            hot_spot: h + 1,
            division: code.to_string(),
            division_name: world.province.counties[county].name.to_string(),
            dispute_kind: "petition".to_string(),
            months,
            planted_cases: planted,
        });
    }
}

const PETITION_CONTENT: [&str; 4] = [
    "对判决认定事实提出异议，请求复查",
    "反映案件办理超期，请求督促",
    "反映执行机关未依法送达法律文书",
    "对社区矫正机构的管理措施提出意见",
];

fn petitions(world: &mut World, seed: u64, admin: &mut Admin) {
    let mut rng = stream(seed, STREAM_PETITIONS);
    let export = export_date();
    let judged: Vec<usize> = (0..world.cases.len())
        .filter(|&i| world.cases[i].court.is_some())
        .collect();
    if world.persons.is_empty() {
        return;
    }
    let n = (world.cases.len() / 5).max(4);
    for i in 0..n {
        let about_case = !judged.is_empty() && chance(&mut rng, 60);
        let case = about_case.then(|| judged[rng.gen_range(0..judged.len())]);
        let person = match case {
            Some(c) => world.cases[c].defendants[0].person,
            None => rng.gen_range(0..world.persons.len()),
        };
        let residence = world.persons[person].residence;
        let county = &world.province.counties[residence];
        let organ = match case {
            Some(c) => world.province.counties[world.cases[c].county].court,
            None => world.province.organs[county.corrections]
                .parent
                .unwrap_or(county.corrections),
        };
        let earliest = case
            .and_then(|c| world.cases[c].court.as_ref().map(|s| s.effective))
            .unwrap_or_else(|| NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default())
            .max(NaiveDate::from_ymd_opt(2022, 6, 1).unwrap_or_default());
        let span = (add_days(export, -20) - earliest).num_days();
        if span < 10 {
            continue;
        }
        let received = add_days(earliest, rng.gen_range(1..span));
        let mut marks = Vec::new();
        let mut step = |rng: &mut ChaCha8Rng,
                        from: NaiveDate,
                        days: i64,
                        rule_id: &'static str,
                        ordinary: std::ops::RangeInclusive<i64>|
         -> NaiveDate {
            let due = last_lawful_day(Limit::Days(days).expiry(from), false);
            // A deadline still to come on the export date cannot be judged: nothing planted.
            match draw(rng, true).filter(|_| due < export) {
                Some(Mark::Violation) => {
                    marks.push((rule_id, Mark::Violation));
                    add_days(due, rng.gen_range(1..=30))
                }
                Some(Mark::NearMiss) => {
                    marks.push((rule_id, Mark::NearMiss));
                    due
                }
                None => add_days(from, rng.gen_range(ordinary)),
            }
        };
        let accepted = step(&mut rng, received, 15, rule::PETITION_ACCEPTANCE, 1..=14);
        let extended_days = chance(&mut rng, 10).then(|| rng.gen_range(10..=30));
        let limit = 60 + extended_days.unwrap_or(0);
        let answered = step(&mut rng, accepted, limit, rule::PETITION_HANDLING, 20..=55);
        let mut p = Petition {
            no: format!("XF{}{:06}", received.year(), i + 1),
            channel: ["online", "letter", "phone", "visit", "online"][rng.gen_range(0..5)],
            kind: match rng.gen_range(0..10) {
                0..=6 => "complaint",
                7..=8 => "accusation",
                _ => "suggestion",
            },
            case,
            person,
            division: county.code,
            organ,
            received,
            accepted: Some(accepted),
            extended_days,
            answered: Some(answered),
            review_requested: None,
            review_answered: None,
            recheck_requested: None,
            recheck_answered: None,
            content: PETITION_CONTENT[rng.gen_range(0..PETITION_CONTENT.len())].to_string(),
            marks: Vec::new(),
            bad: false,
        };
        if chance(&mut rng, 25) {
            let asked = add_days(answered, rng.gen_range(3..=30));
            p.review_requested = Some(asked);
            p.review_answered = Some(step(&mut rng, asked, 30, rule::PETITION_REVIEW, 10..=28));
            if chance(&mut rng, 30) {
                let again = add_days(p.review_answered.unwrap_or(asked), rng.gen_range(3..=30));
                p.recheck_requested = Some(again);
                p.recheck_answered =
                    Some(step(&mut rng, again, 30, rule::PETITION_RECHECK, 10..=28));
            }
        }
        // Acts after the export date are not on record yet: the matter is still open.
        for d in [
            &mut p.accepted,
            &mut p.answered,
            &mut p.review_requested,
            &mut p.review_answered,
            &mut p.recheck_requested,
            &mut p.recheck_answered,
        ] {
            if d.is_some_and(|d| d > export) {
                *d = None;
            }
        }
        // Order is kept: a later step without its earlier one cannot be on record.
        if p.accepted.is_none() {
            p.answered = None;
        }
        if p.answered.is_none() {
            p.review_requested = None;
        }
        if p.review_requested.is_none() {
            p.review_answered = None;
        }
        if p.review_answered.is_none() {
            p.recheck_requested = None;
        }
        if p.recheck_requested.is_none() {
            p.recheck_answered = None;
        }
        p.marks = marks;
        // The first petition and 1 % of the rest get a bad copy.
        let bad_copy = admin.petitions.is_empty() || chance(&mut rng, 1);
        admin.petitions.push(p.clone());
        if bad_copy {
            // Answered before it was received: quarantined on ingest.
            let mut b = p;
            b.no = format!("{}B", b.no);
            b.answered = Some(add_days(b.received, -rng.gen_range(1..=20)));
            b.accepted = None;
            b.review_requested = None;
            b.review_answered = None;
            b.recheck_requested = None;
            b.recheck_answered = None;
            b.marks = Vec::new();
            b.bad = true;
            admin.petitions.push(b);
        }
    }
}

const DISPUTE_KINDS: [(&str, u32); 9] = [
    ("family", 25),
    ("neighbour", 22),
    ("contract", 10),
    ("damages", 12),
    ("labour", 8),
    ("land", 10),
    ("property", 5),
    ("traffic", 5),
    ("other", 3),
];

/// Mediation cases: a steady base load per county and month, plus planted hot spots (one
/// county, one dispute kind, 1–2 months at several times its usual volume).
fn mediations(world: &mut World, seed: u64, admin: &mut Admin) {
    let mut rng = stream(seed, STREAM_MEDIATION);
    let counties = world.province.counties.len();
    let first = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
    let months = 44; // 2023-01 .. 2026-08
    let per_month = (world.cases.len() as f64 / 1000.0 * 40.0).max(8.0) as usize;
    let month_start = |m: i64| {
        first
            .checked_add_months(chrono::Months::new(m as u32))
            .unwrap_or(first)
    };
    let kind_pick = |rng: &mut ChaCha8Rng| *crate::util::pick(rng, &DISPUTE_KINDS);
    let add = |rng: &mut ChaCha8Rng,
               county: usize,
               kind: &'static str,
               day: NaiveDate,
               _hot: Option<usize>,
               out: &mut Vec<Mediation>| {
        let n = out.len() + 1;
        let closed = add_days(day, rng.gen_range(1..=30)).min(export_date());
        let outcome = match rng.gen_range(0..100) {
            0..=84 => "agreement",
            85..=95 => "failed",
            _ => "refused",
        };
        let confirmed = (outcome == "agreement" && chance(rng, 10))
            .then(|| add_days(closed, rng.gen_range(1..=30)))
            .filter(|d| *d <= export_date());
        out.push(Mediation {
            no: format!("TJ{}{:06}", day.year(), n),
            county,
            committee: format!(
                "{}第{}人民调解委员会",
                world.province.counties[county].name,
                rng.gen_range(1..=6)
            ),
            kind,
            parties: rng.gen_range(2..=4),
            received: day,
            closed: Some(closed),
            outcome: Some(outcome),
            confirmed,
        });
    };
    let mut out = Vec::new();
    for m in 0..months {
        let start = month_start(m);
        let days = (month_start(m + 1) - start).num_days();
        for _ in 0..per_month {
            let county = rng.gen_range(0..counties);
            let kind = kind_pick(&mut rng);
            let day = add_days(start, rng.gen_range(0..days));
            add(&mut rng, county, kind, day, None, &mut out);
        }
    }
    // Hot spots: a county's usual volume of one kind is per_month × share / counties a month;
    // a hot spot adds at least 8 cases a month and four times the usual, whichever is more.
    let spots = (world.cases.len() / 500).max(1);
    for h in 0..spots {
        let county = rng.gen_range(0..counties);
        let (kind, weight) = DISPUTE_KINDS[rng.gen_range(0..DISPUTE_KINDS.len())];
        let usual = per_month as f64 * f64::from(weight) / 100.0 / counties as f64;
        let extra = ((usual * 4.0).ceil() as usize).max(8);
        let run = rng.gen_range(1..=2);
        let m0 = rng.gen_range(9..months - run);
        let mut planted = 0;
        let mut month_days = Vec::new();
        for m in m0..m0 + run {
            let start = month_start(m);
            month_days.push(start);
            let days = (month_start(m + 1) - start).num_days();
            for _ in 0..extra {
                let day = add_days(start, rng.gen_range(0..days));
                add(&mut rng, county, kind, day, Some(h), &mut out);
                planted += 1;
            }
        }
        admin.hot_spots.push(HotSpotTruth {
            hot_spot: h + 1,
            division: world.province.counties[county].code.to_string(),
            division_name: world.province.counties[county].name.to_string(),
            dispute_kind: kind.to_string(),
            months: month_days,
            planted_cases: planted,
        });
    }
    out.sort_by(|a, b| a.received.cmp(&b.received).then(a.no.cmp(&b.no)));
    for (i, m) in out.iter_mut().enumerate() {
        m.no = format!("TJ{}{:06}", m.received.year(), i + 1);
    }
    admin.mediations = out;
}

/// 认罪认罚 among the sentence's circumstances (bit 5 of `sentence::CIRCUMSTANCES`).
const PLEA: u16 = 1 << 5;

/// Legal aid: criminal defence on notice for about one prosecuted defendant in eight
/// (法律援助法 第36条), and a duty lawyer (值班律师, 第30条) for every other defendant who
/// pleaded (认罪认罚), since the plea is signed with a defender or a duty lawyer present
/// (刑事诉讼法 第174条). Planted: a single defendant's plea with neither on record.
fn legal_aid(world: &mut World, seed: u64, admin: &mut Admin) {
    let mut rng = stream(seed, STREAM_LEGAL_AID);
    for ci in 0..world.cases.len() {
        let c = &world.cases[ci];
        let Some(prosecuted) = c.prosecuted else {
            continue;
        };
        let single = c.defendants.len() == 1;
        let county = &world.province.counties[c.county];
        let organ = world.province.organs[county.corrections]
            .parent
            .unwrap_or(county.corrections);
        let mut planted = false;
        for d in &c.defendants {
            let plea = d
                .sentence
                .as_ref()
                .is_some_and(|s| s.circumstances & PLEA != 0);
            let (kind, applied) = if chance(&mut rng, 12) {
                (
                    "criminal_defence",
                    add_days(prosecuted, rng.gen_range(1..=10)),
                )
            } else if plea {
                if single && c.court.is_some() && rng.gen_range(0..1000) < PLANT_PER_MILLE {
                    planted = true;
                    continue;
                }
                let review = c.transferred.unwrap_or(prosecuted);
                (
                    "duty_lawyer",
                    add_days(review, rng.gen_range(1..=5)).min(prosecuted),
                )
            } else {
                continue;
            };
            let applied = applied.min(export_date());
            let n = admin.legal_aid.len() + 1;
            admin.legal_aid.push(LegalAid {
                no: format!("FY{}{:06}", applied.year(), n),
                kind,
                organ,
                person: d.person,
                case: Some(ci),
                applied,
                decided: add_days(applied, rng.gen_range(0..=3)).min(export_date()),
                granted: true,
                lawyer: format!(
                    "{}律师",
                    ["王", "李", "张", "刘", "陈", "杨"][rng.gen_range(0..6)]
                ),
            });
        }
        if planted {
            world.cases[ci]
                .marks
                .push((rule::PLEA_WITHOUT_COUNSEL, Mark::Violation));
        }
    }
}
