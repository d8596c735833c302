//! The acts the case exports do not carry, each department's second export: the police's
//! procedural acts (times of 拘留, notice to the family, 取保候审 and 监视居住 and their lifting,
//! 执行逮捕, re-submission after 退回补充侦查) and its dossier catalogue (documents and evidence),
//! and the prisons' commutation and parole proposals with the court's rulings.
//!
//! Built after the case flow from a random stream of its own, so the case exports are unchanged
//! (but for the time of day of 拘留). Each act plants marks for its catalog rule the way the
//! case flow does ([`crate::violations`]): late acts, and acts on the last lawful day.
//!
//! Bounds (from the rules' own sources):
//! * notice to the family within 24 hours of 拘留 or 逮捕 (刑事诉讼法 第85条第2款, 第93条第2款);
//! * 取保候审 at most 12 months, 监视居住 at most 6 (第79条);
//! * arrest only with approval (第80条): planted as an arrest executed after a 不批准逮捕;
//! * supplementary investigation within a month of the return (第175条第3款);
//! * 逮捕证 and 起诉意见书 in the file (第93条, 第162条), and for 盗窃罪 a price determination
//!   among the evidence at the transfer (盗窃解释 2013 第4条) — `required-documents.tsv`;
//! * the first commutation after one year of a term under five years, eighteen months of five to
//!   ten, two years of ten or more, two years for a 累犯; commutations one year apart (eighteen
//!   months from ten years up) (最高法减刑假释规定 2016 第6条, 第7条);
//! * parole after half of the term (刑法 第81条第1款), never for a 累犯 (第2款).

use chrono::{Months, NaiveDate, NaiveDateTime, TimeDelta};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::cases::{Case, World};
use crate::sentence::{Penalty, PLEA, RECIDIVIST};
use crate::util::{add_days, stream};
use crate::violations::{last_lawful_day, rule, Limit, Mark, Planner};

/// The stream of this module (the case flow's are 1–5).
const STREAM_PROCEDURE: u64 = 6;
/// Per mille of applicable acts planted late, and planted on the last lawful day.
const PER_MILLE: u32 = 25;
/// The same for the lifting of a measure, and for paroles: rarer opportunities.
const MEASURE_PER_MILLE: u32 = 200;
const PAROLE_PER_MILLE: u32 = 150;
const PROPERTY_PER_MILLE: u32 = 150;
const PROPOSAL_PER_MILLE: u32 = 25;
/// Commutations of sole convicts are few: their waiting time and interval are planted more
/// often.
const INTERVAL_PER_MILLE: u32 = 150;

/// One procedural act of a department's second export.
#[derive(Debug, Clone)]
pub(crate) struct Act {
    /// Event kind code (`event-kinds.tsv`).
    pub kind: &'static str,
    pub at: NaiveDateTime,
    /// Organ index of the organ that acted.
    pub organ: usize,
    pub document_no: String,
}

/// A document of the police dossier.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// Document kind code (`document-kinds.tsv`).
    pub kind: &'static str,
    pub number: String,
    pub issued: NaiveDate,
}

/// An evidence item of the police dossier.
#[derive(Debug, Clone)]
pub(crate) struct Evidence {
    /// Evidence kind code (`evidence-kinds.tsv`).
    pub kind: &'static str,
    pub name: &'static str,
    pub collected: NaiveDate,
}

/// What one case's second exports carry.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaseActs {
    /// The time of 拘留 (the case export writes it in `JLSJ`).
    pub detained_at: Option<NaiveDateTime>,
    /// The 起诉意见书 number the case export cites with the transfer.
    pub transfer_document: Option<String>,
    pub police: Vec<Act>,
    pub documents: Vec<Document>,
    pub evidence: Vec<Evidence>,
    /// Commutation and parole proposals (by the prison) and rulings (by the court).
    pub sentence_changes: Vec<Act>,
    /// The procuratorate's sentencing proposal per defendant (by index), for those who pleaded
    /// guilty and accepted punishment (认罪认罚).
    pub proposals: Vec<Option<Proposal>>,
}

/// 量刑建议 (刑事诉讼法 第176条第2款).
#[derive(Debug, Clone)]
pub(crate) struct Proposal {
    pub proposed: NaiveDate,
    pub plea_signed: NaiveDate,
    pub penalty: Penalty,
    pub min_months: u16,
    pub max_months: u16,
    pub probation: bool,
}

fn at(day: NaiveDate, rng: &mut ChaCha8Rng, hours: std::ops::RangeInclusive<u32>) -> NaiveDateTime {
    day.and_hms_opt(rng.gen_range(hours), rng.gen_range(0..60), 0)
        .unwrap_or_default()
}

fn noon(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(10, 0, 0).unwrap_or_default()
}

/// `n` months after `day` (the last day of the month when it has no such date).
fn months_after(day: NaiveDate, n: u32) -> NaiveDate {
    day.checked_add_months(Months::new(n))
        .unwrap_or(NaiveDate::MAX)
}

/// A mark at [`PER_MILLE`]: `Some(Violation)`, `Some(NearMiss)` or `None`.
fn draw(rng: &mut ChaCha8Rng) -> Option<Mark> {
    draw_at(rng, PER_MILLE)
}

/// A mark at a rate of its own, for an act whose opportunity is rare.
fn draw_at(rng: &mut ChaCha8Rng, per_mille: u32) -> Option<Mark> {
    match rng.gen_range(0..1000) {
        r if r < per_mille => Some(Mark::Violation),
        r if r < 2 * per_mille => Some(Mark::NearMiss),
        _ => None,
    }
}

/// Builds every case's second exports and plants their marks into the cases.
pub(crate) fn build(world: &mut World, seed: u64) -> Vec<CaseActs> {
    let mut rng = stream(seed, STREAM_PROCEDURE);
    let mut all = Vec::with_capacity(world.cases.len());
    for ci in 0..world.cases.len() {
        let mut acts = CaseActs::default();
        let mut plan = Planner::default();
        police(world, ci, &mut rng, &mut plan, &mut acts);
        dossier(world, ci, &mut rng, &mut plan, &mut acts);
        sentence_changes(world, ci, &mut rng, &mut plan, &mut acts);
        proposals(world, ci, &mut rng, &mut plan, &mut acts);
        world.cases[ci].marks.extend(plan.marks);
        all.push(acts);
    }
    similar_case_marks(world);
    all
}

/// Marks the thefts planted far from their similar cases (150, 180 or 181 months where the
/// natural terms stay under 50): the rule judges a cohort — single-charge fixed terms for
/// 盗窃罪 of 1,000 to 9,999 yuan — of at least 30 sentences, so they are marked only when
/// their cohort is that large; in a smaller province they are silent and unmarked.
fn similar_case_marks(world: &mut World) {
    let theft = world.charges.iter().position(|c| c.name == "盗窃罪");
    let in_cohort = |c: &Case| {
        c.charges.len() == 1
            && Some(c.charges[0]) == theft
            && c.court.is_some()
            && c.amount_fen
                .is_some_and(|f| (100_000..1_000_000).contains(&f))
    };
    let terms = |c: &Case| -> Vec<u16> {
        c.defendants
            .iter()
            .filter_map(|d| d.sentence.as_ref())
            .filter(|s| s.penalty == Penalty::FixedTerm)
            .map(|s| s.term_months)
            .collect()
    };
    let size: usize = world
        .cases
        .iter()
        .filter(|c| in_cohort(c))
        .map(|c| terms(c).len())
        .sum();
    if size < 30 {
        return;
    }
    for c in world.cases.iter_mut() {
        if in_cohort(c) && terms(c).iter().any(|t| matches!(t, 150 | 180 | 181)) {
            c.marks.push((rule::SIMILAR_CASE, Mark::Violation));
        }
    }
}

/// Whether the suspect is in custody after the police stage, as the engine reads the events.
fn custody(c: &Case) -> bool {
    c.arrest_approved.is_some() || (c.detained.is_some() && c.arrest_denied.is_none())
}

fn police(world: &World, ci: usize, rng: &mut ChaCha8Rng, plan: &mut Planner, acts: &mut CaseActs) {
    let c = &world.cases[ci];
    let organ = world.province.counties[c.county].police;
    let short = &world.province.counties[c.county].short;
    let notice = |rng: &mut ChaCha8Rng, act: NaiveDateTime| {
        act + TimeDelta::minutes(rng.gen_range(30..=20 * 60))
    };
    // 拘留 and the notice to the family.
    if let Some(day) = c.detained {
        let detained = at(day, rng, 7..=23);
        acts.detained_at = Some(detained);
        let told = match draw(rng) {
            Some(mark) => {
                plan.marks.push((rule::FAMILY_NOTICE, mark));
                match mark {
                    Mark::Violation => {
                        detained + TimeDelta::minutes(rng.gen_range(25 * 60..=60 * 60))
                    }
                    Mark::NearMiss => detained + TimeDelta::hours(24),
                }
            }
            None => notice(rng, detained),
        };
        acts.police.push(Act {
            kind: "family_notified",
            at: told,
            organ,
            document_no: String::new(),
        });
    }
    // 执行逮捕 on the day of the approval, with its warrant and the notice.
    let year = |d: NaiveDate| chrono::Datelike::year(&d);
    let mut executed = c.arrest_approved;
    let mut unapproved = false;
    // Planted: an arrest executed after the procuratorate refused it (刑事诉讼法 第80条), only
    // in a case with no other mark (the arrest puts the suspect in custody, which moves the
    // engine's holiday extension of later limits), and no later than the transfer allows.
    if let (Some(denied), Some(t), true) = (c.arrest_denied, c.transferred, c.marks.is_empty()) {
        if (t - denied).num_days() <= 55 && !c.hide_transfer && rng.gen_range(0..1000) < 150 {
            plan.marks
                .push((rule::ARREST_WITHOUT_APPROVAL, Mark::Violation));
            executed = Some(add_days(denied, rng.gen_range(1..=3)));
            unapproved = true;
        }
    }
    if let Some(day) = executed {
        let when = at(day, rng, 9..=18);
        let number = format!("{short}公逮字〔{}〕{}号", year(day), 1000 + ci);
        acts.police.push(Act {
            kind: "arrest_executed",
            at: when,
            organ,
            document_no: number.clone(),
        });
        acts.police.push(Act {
            kind: "family_notified",
            at: notice(rng, when),
            organ,
            document_no: String::new(),
        });
        acts.documents.push(Document {
            kind: "arrest_warrant",
            number,
            issued: day,
        });
    }
    // 取保候审 / 监视居住 of a suspect never detained nor asked to be arrested; lifted when the
    // case stays with the police, else ended by the transfer.
    if c.detained.is_none() && c.arrest_requested.is_none() {
        let r = rng.gen_range(0..100);
        let measure = match r {
            0..40 => Some(("bail", rule::BAIL_LIMIT, 12, 30..=300)),
            40..48 => Some((
                "residential_surveillance",
                rule::SURVEILLANCE_LIMIT,
                6,
                20..=150,
            )),
            _ => None,
        };
        if let Some((kind, id, months, ordinary)) = measure {
            let from = add_days(c.filed, rng.gen_range(0..=5));
            acts.police.push(Act {
                kind,
                at: noon(from),
                organ,
                document_no: String::new(),
            });
            if c.transferred.is_none() {
                // Lifted inside the limit, or (at a rate of its own: few cases stay with the
                // police) late, or on the last lawful day.
                let last = last_lawful_day(Limit::MonthsDays(months, 0).expiry(from), false);
                let lifted = match draw_at(rng, MEASURE_PER_MILLE) {
                    Some(Mark::Violation) => {
                        plan.marks.push((id, Mark::Violation));
                        add_days(last, rng.gen_range(1..=30))
                    }
                    Some(Mark::NearMiss) => {
                        plan.marks.push((id, Mark::NearMiss));
                        last
                    }
                    None => add_days(from, rng.gen_range(ordinary)),
                };
                acts.police.push(Act {
                    kind: "measure_lifted",
                    at: noon(lifted),
                    organ,
                    document_no: String::new(),
                });
            }
        }
    }
    // Re-submission after each 退回补充侦查, within a month (第175条第3款), before the next act.
    if !c.hide_transfer {
        let custody = custody(c) || unapproved;
        for (k, &r) in c.returns.iter().enumerate() {
            let next = c
                .returns
                .get(k + 1)
                .copied()
                .or(c.prosecuted)
                .or(c.not_prosecuted)
                .unwrap_or_else(|| add_days(r, 31));
            // Inside the month, and at most 40 days before the next act, so that the
            // procuratorate's review counted from the re-submission (1 month 15 days) holds.
            let expiry = Limit::MonthsDays(1, 0).expiry(r);
            let latest = expiry.min(add_days(next, -5));
            let earliest = add_days(r, 10).max(add_days(next, -40)).min(latest);
            let mut day = add_days(
                earliest,
                rng.gen_range(0..=(latest - earliest).num_days().max(0)),
            );
            let last = last_lawful_day(expiry, custody);
            match draw(rng) {
                Some(Mark::Violation) if add_days(last, 1) < next => {
                    plan.marks
                        .push((rule::SUPPLEMENTARY_INVESTIGATION_PERIOD, Mark::Violation));
                    let room = (next - last).num_days() - 1;
                    day = add_days(last, rng.gen_range(1..=room.clamp(1, 10)));
                }
                Some(Mark::NearMiss) if last < next => {
                    plan.marks
                        .push((rule::SUPPLEMENTARY_INVESTIGATION_PERIOD, Mark::NearMiss));
                    day = last;
                }
                _ => {}
            }
            acts.police.push(Act {
                kind: "transferred_for_prosecution",
                at: noon(day),
                organ,
                document_no: String::new(),
            });
        }
    }
    acts.police.sort_by_key(|a| a.at);
}

/// The police dossier: the 起诉意见书 cited with the transfer, the arrest warrants (above), and
/// the evidence; planted gaps for `required-documents.tsv`.
fn dossier(
    world: &World,
    ci: usize,
    rng: &mut ChaCha8Rng,
    plan: &mut Planner,
    acts: &mut CaseActs,
) {
    let c = &world.cases[ci];
    // Only a case transferred on record has its catalogue exported with the transfer; the
    // warrants of the others stay (their arrest acts cite them).
    let Some(t) = c.transferred.filter(|_| !c.hide_transfer) else {
        return;
    };
    let short = &world.province.counties[c.county].short;
    let number = format!(
        "{short}公诉字〔{}〕{}号",
        chrono::Datelike::year(&t),
        1000 + ci
    );
    acts.transfer_document = Some(number.clone());
    let mut planted_document = false;
    if rng.gen_range(0..1000) < PER_MILLE {
        // Planted: the 起诉意见书 the transfer cites is not in the file (第162条).
        plan.marks.push((rule::REQUIRED_DOCUMENT, Mark::Violation));
        planted_document = true;
    } else {
        acts.documents.push(Document {
            kind: "prosecution_opinion",
            number,
            issued: t,
        });
    }
    // Planted: an arrest warrant missing from the file (第93条), where the 起诉意见书 is there.
    if !planted_document
        && acts.documents.iter().any(|d| d.kind == "arrest_warrant")
        && rng.gen_range(0..1000) < PER_MILLE
    {
        plan.marks.push((rule::REQUIRED_DOCUMENT, Mark::Violation));
        acts.documents.retain(|d| d.kind != "arrest_warrant");
    }
    let collected = |rng: &mut ChaCha8Rng| add_days(c.filed, rng.gen_range(0..=10)).min(t);
    acts.evidence.push(Evidence {
        kind: "suspect_statement",
        name: "犯罪嫌疑人讯问笔录",
        collected: collected(rng),
    });
    acts.evidence.push(Evidence {
        kind: "victim_statement",
        name: "被害人询问笔录",
        collected: collected(rng),
    });
    if c.charges.iter().any(|&k| world.charges[k].name == "盗窃罪") {
        // Planted: a theft transferred without a price determination (盗窃解释 第4条).
        if rng.gen_range(0..1000) < PER_MILLE {
            plan.marks.push((rule::REQUIRED_EVIDENCE, Mark::Violation));
        } else {
            acts.evidence.push(Evidence {
                kind: "documentary",
                name: "涉案财物价格认定结论书",
                collected: collected(rng),
            });
        }
    }
}

/// Commutations and paroles of a case's one prisoner (the rules judge a case with one
/// execution row only, since events name no person).
fn sentence_changes(
    world: &World,
    ci: usize,
    rng: &mut ChaCha8Rng,
    plan: &mut Planner,
    acts: &mut CaseActs,
) {
    commutations_and_paroles(world, ci, rng, plan, acts);
    // The review of the fine before the first proposal (法释〔2024〕5号): paid, or found unable
    // to pay; planted missing where a ruling falls on or after 2024-05-01.
    let c = &world.cases[ci];
    let Some(first) = acts.sentence_changes.first().map(|a| a.at.date()) else {
        return;
    };
    let fined = c.defendants[0]
        .sentence
        .as_ref()
        .is_some_and(|s| s.fine > 0);
    let Some(stage) = c.court.as_ref().filter(|_| fined) else {
        return;
    };
    let in_force = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap_or_default();
    let judged = acts
        .sentence_changes
        .iter()
        .any(|a| a.kind.ends_with("_ruled") && a.at.date() >= in_force);
    if judged && rng.gen_range(0..1000) < PROPERTY_PER_MILLE {
        plan.marks.push((rule::PROPERTY_JUDGMENT, Mark::Violation));
        return;
    }
    let days = (first - stage.effective).num_days().max(2);
    let kind = if rng.gen_range(0..10) == 0 {
        "property_inability_found"
    } else {
        "property_judgment_performed"
    };
    let county = &world.province.counties[c.county];
    acts.sentence_changes.insert(
        0,
        Act {
            kind,
            at: noon(add_days(stage.effective, rng.gen_range(1..days))),
            organ: county.court,
            document_no: String::new(),
        },
    );
}

/// Commutations and paroles of a case's one prisoner.
fn commutations_and_paroles(
    world: &World,
    ci: usize,
    rng: &mut ChaCha8Rng,
    plan: &mut Planner,
    acts: &mut CaseActs,
) {
    let c = &world.cases[ci];
    let [d] = c.defendants.as_slice() else {
        return;
    };
    let (Some(s), Some(e)) = (&d.sentence, &d.execution) else {
        return;
    };
    if !e.prison || s.penalty != Penalty::FixedTerm || c.hide_effective {
        return;
    }
    let Some(stage) = &c.court else { return };
    let county = &world.province.counties[c.county];
    let court = world.province.organs[county.court]
        .parent
        .unwrap_or(county.court);
    let export = crate::cases::export_date();
    let term = i64::from(s.term_months);
    let recidivist = s.circumstances & RECIDIVIST != 0;
    let mut push = |kind: &'static str, day: NaiveDate, organ: usize| {
        acts.sentence_changes.push(Act {
            kind,
            at: noon(day),
            organ,
            document_no: String::new(),
        });
    };
    let proposal =
        |rng: &mut ChaCha8Rng, ruled: NaiveDate| add_days(ruled, -rng.gen_range(20..=45));
    // 假释: after half of the term counted from the start of execution; never for a 累犯 or a
    // long term for a violent crime (刑法 第81条第2款) — planted on every such convict (they are
    // few) on a day past half of the term, with no commutation then.
    let full = months_after(e.start, u32::from(s.term_months));
    let half = add_days(e.start, ((full - e.start).num_days() + 1) / 2);
    let violent_long = term >= 120
        && c.charges.iter().any(|&k| {
            matches!(
                world.charges[k].name,
                "故意杀人罪"
                    | "强奸罪"
                    | "抢劫罪"
                    | "绑架罪"
                    | "放火罪"
                    | "爆炸罪"
                    | "投放危险物质罪"
            )
        });
    if recidivist || violent_long {
        let ruled = add_days(half, rng.gen_range(30..=400));
        if ruled <= export && ruled < e.end {
            plan.marks.push((rule::PAROLE_EXCLUSION, Mark::Violation));
            push("parole_proposed", proposal(rng, ruled), e.organ);
            push("parole_ruled", ruled, court);
            return;
        }
    }
    if e.reduction_months > 0 {
        // 减刑: the first after the waiting time, a second after the interval.
        // 从严 groups wait two years (最高法减刑假释规定 2016 第7条): 累犯, and by article of
        // 刑法 职务犯罪, 金融 crimes, 黑社会, 危害国家安全, 恐怖活动.
        let strict = c.charges.iter().any(|&k| {
            let code = &world.charges[k].entry.code;
            let article: u32 = code
                .trim_start_matches('C')
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0);
            matches!(article, 102..=113 | 120 | 170..=200 | 294 | 382..=419)
        });
        let waiting = if recidivist || strict {
            24
        } else if term < 60 {
            12
        } else if term < 120 {
            18
        } else {
            24
        };
        let earliest = months_after(e.report, waiting);
        let mut first = add_days(earliest, rng.gen_range(30..=240));
        match draw_at(rng, INTERVAL_PER_MILLE) {
            Some(Mark::Violation) => {
                plan.marks.push((rule::FIRST_COMMUTATION, Mark::Violation));
                first = add_days(earliest, -rng.gen_range(1..=60));
            }
            Some(Mark::NearMiss) => {
                plan.marks.push((rule::FIRST_COMMUTATION, Mark::NearMiss));
                first = earliest;
            }
            None => {}
        }
        let proposed = proposal(rng, first);
        if first > export || proposed <= stage.effective {
            plan.marks.retain(|(r, _)| *r != rule::FIRST_COMMUTATION);
            return;
        }
        push("commutation_proposed", proposed, e.organ);
        push("commutation_ruled", first, court);
        if e.reduction_months >= 4 {
            let interval = if term < 120 { 12 } else { 18 };
            let earliest = months_after(first, interval);
            let mut next_proposal = add_days(earliest, rng.gen_range(0..=120));
            let mark = draw_at(rng, INTERVAL_PER_MILLE);
            match mark {
                Some(Mark::Violation) => next_proposal = add_days(earliest, -rng.gen_range(1..=60)),
                Some(Mark::NearMiss) => next_proposal = earliest,
                None => {}
            }
            let ruled = add_days(next_proposal, rng.gen_range(20..=45));
            if ruled <= export {
                if let Some(m) = mark {
                    plan.marks.push((rule::COMMUTATION_INTERVAL, m));
                }
                push("commutation_proposed", next_proposal, e.organ);
                push("commutation_ruled", ruled, court);
            }
        }
        return;
    }
    if recidivist || violent_long {
        return;
    }
    let mut ruled = add_days(half, rng.gen_range(30..=400));
    if rng.gen_range(0..1000) >= 400 {
        return;
    }
    let mark = draw_at(rng, PAROLE_PER_MILLE);
    match mark {
        Some(Mark::Violation) => ruled = add_days(half, -rng.gen_range(1..=60)),
        Some(Mark::NearMiss) => ruled = half,
        None => {}
    }
    if ruled > export || ruled >= e.end || add_days(ruled, -45) <= e.report {
        return;
    }
    if let Some(m) = mark {
        plan.marks.push((rule::PAROLE_HALF_TERM, m));
    }
    push("parole_proposed", proposal(rng, ruled), e.organ);
    push("parole_ruled", ruled, court);
}

/// The sentencing proposal of each defendant who pleaded guilty (认罪认罚), made on the day of
/// prosecution; the court adopts it (刑事诉讼法 第201条) but where planted: a range the declared
/// term lies outside (a court departing from the proposal), or, as the near-miss, a range whose
/// bound is the declared term.
fn proposals(
    world: &World,
    ci: usize,
    rng: &mut ChaCha8Rng,
    plan: &mut Planner,
    acts: &mut CaseActs,
) {
    let c = &world.cases[ci];
    acts.proposals = vec![None; c.defendants.len()];
    let (Some(prosecuted), Some(_)) = (c.prosecuted, &c.court) else {
        return;
    };
    if c.hide_prosecuted {
        return;
    }
    let mut marked = false;
    for (k, d) in c.defendants.iter().enumerate() {
        let Some(s) = &d.sentence else { continue };
        if s.circumstances & PLEA == 0 || s.penalty == Penalty::Exempt {
            continue;
        }
        let term = s.term_months;
        let mut lo = term.saturating_sub(rng.gen_range(0..=term / 5)).max(1);
        let mut hi = term + rng.gen_range(0..=(term / 5).max(1));
        match draw_at(rng, PROPOSAL_PER_MILLE) {
            Some(Mark::Violation) if !marked => {
                // The court went above the range, or below it.
                if term >= 6 && rng.gen_bool(0.5) {
                    hi = term - 2;
                    lo = lo.min(hi);
                } else {
                    lo = term + 2;
                    hi = lo + term / 5;
                }
                plan.marks
                    .push((rule::SENTENCING_PROPOSAL, Mark::Violation));
                marked = true;
            }
            Some(Mark::NearMiss) if !marked => {
                lo = term;
                plan.marks.push((rule::SENTENCING_PROPOSAL, Mark::NearMiss));
                marked = true;
            }
            _ => {}
        }
        acts.proposals[k] = Some(Proposal {
            proposed: prosecuted,
            plea_signed: add_days(prosecuted, -rng.gen_range(0..=3))
                .max(c.transferred.unwrap_or(prosecuted)),
            penalty: s.penalty,
            min_months: lo,
            max_months: hi,
            probation: s.probation_months > 0,
        });
    }
}
