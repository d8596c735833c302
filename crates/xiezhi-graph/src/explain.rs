//! Queries over the statute graph: the path that explains a sentencing interval
//! (charge → article → penalty range by threshold → starting point → circumstances → interval)
//! and a node with its typed neighbours as of a date (the law navigator).

use chrono::NaiveDate;
use petgraph::graph::NodeIndex;

use crate::{months, Charge, Edge, Node, Reached, StatuteGraph, GUIDELINE_DOC};

/// One step of an explanation: what was found, in Chinese, and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 罪名 / 条文 / 数额标准 / 法定刑幅度 / 量刑起点 / 量刑情节 / 结果.
    pub kind: &'static str,
    pub text: String,
    pub file: String,
    pub article: String,
}

/// The path from a charge to a sentencing interval, every step with its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub charge: String,
    pub date: NaiveDate,
    pub steps: Vec<Step>,
    /// The guideline interval in months (拘役 counted as months), clamped to the statutory
    /// range; none where the guideline does not apply or the amount reaches no threshold.
    pub interval: Option<(f64, f64)>,
    /// Things the reader must know (a province's own amount, a rule the path cannot apply).
    pub notes: Vec<String>,
}

impl Explanation {
    /// The path as lines of Chinese text.
    pub fn render(&self) -> String {
        let mut s = format!("{}（行为日期 {}）\n", self.charge, self.date);
        for (i, st) in self.steps.iter().enumerate() {
            s.push_str(&format!(
                "{}. 【{}】{}\n   依据：{} {}\n",
                i + 1,
                st.kind,
                st.text,
                st.file,
                st.article
            ));
        }
        for n in &self.notes {
            s.push_str(&format!("注：{n}\n"));
        }
        s
    }
}

/// A node as the navigator shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    /// Stable key for links: `article:264`, `article:133-2`, `charge:盗窃罪`, `range:12`,
    /// `threshold:3`, `start:5`, `circumstance:2`, `deadline:arrest-review`, `source:0`.
    pub key: String,
    /// 条文 / 罪名 / 法定刑幅度 / 数额标准 / 量刑起点 / 量刑情节 / 办案期限 / 来源文本.
    pub kind: &'static str,
    pub label: String,
    pub file: String,
    pub article: String,
}

fn months_f(m: f64) -> String {
    let whole = m.round() as u32;
    if (m - whole as f64).abs() < 0.05 {
        months(whole)
    } else {
        format!("{m:.1}个月")
    }
}

impl StatuteGraph {
    /// The charge version in force today for the offence whose version on `date` is `c`.
    fn current_version(&self, c: &Charge) -> Option<usize> {
        let today = NaiveDate::MAX;
        let now = self.charge_as_of(&c.name, today);
        now.first()
            .and_then(|n| self.charges.iter().position(|x| std::ptr::eq(x, *n)))
    }

    /// Explains the sentencing interval for `charge` committed on `date` with the amount
    /// `amount_fen` (where the charge is judged by amount) and the named circumstances.
    pub fn explain_sentence(
        &self,
        charge: &str,
        date: NaiveDate,
        amount_fen: Option<i64>,
        circumstances: &[&str],
    ) -> Result<Explanation, String> {
        // The named circumstances, checked before anything else is said.
        let mut found = Vec::new();
        for name in circumstances {
            let k = self
                .circumstances
                .iter()
                .position(|c| c.name == *name)
                .or_else(|| {
                    self.circumstances
                        .iter()
                        .position(|c| c.name.contains(name) || c.written.contains(name))
                })
                .ok_or_else(|| format!("未知的量刑情节：{name}"))?;
            found.push(k);
        }
        let versions = self.charge_as_of(charge, date);
        let Some(c) = versions.first().copied() else {
            return Err(format!(
                "{charge}：{date} 时无有效罪名（该罪名尚未设立或名称不在罪名规定中）"
            ));
        };
        let ci = self
            .charges
            .iter()
            .position(|x| std::ptr::eq(x, c))
            .expect("a charge of the graph");
        let mut steps = Vec::new();
        let mut notes = Vec::new();
        let prov = |n: NodeIndex| self.provenance(n);
        let cn = self.index_of(&Node::Charge(ci)).unwrap();
        let p = prov(cn);
        steps.push(Step {
            kind: "罪名",
            text: format!("行为时有效罪名：{}", self.cite(c)),
            file: p.file,
            article: p.article,
        });
        let Some(article) = self.article_of(c) else {
            return Err(format!("{}：{} 不在《刑法》文本中", c.name, c.cited_as));
        };
        let an = self.index_of(&Node::Article(article.no)).unwrap();
        let p = prov(an);
        steps.push(Step {
            kind: "条文",
            text: format!("《刑法》{} {}", article.no.chinese(), article.text),
            file: p.file,
            article: p.article,
        });
        notes.push("条文为参考文本所载现行文本（经历次修正），非行为时的历史文本。".into());
        // Guideline and thresholds are linked to the name in force now.
        let current = self.current_version(c).unwrap_or(ci);
        let current_node = self.index_of(&Node::Charge(current)).unwrap();
        let linked = |kind: Edge| -> Vec<NodeIndex> {
            self.neighbours(current_node)
                .into_iter()
                .filter(|(e, _, out)| *e == kind && !out)
                .map(|(_, n, _)| n)
                .collect()
        };
        // Threshold: the highest level the amount reaches.
        let mut range: Option<usize> = None;
        let thresholds: Vec<(NodeIndex, usize)> = linked(Edge::ThresholdOf)
            .into_iter()
            .filter_map(|n| match self.graph[n] {
                Node::Threshold(t) => Some((n, t)),
                _ => None,
            })
            .collect();
        match (amount_fen, thresholds.is_empty()) {
            (Some(amount), false) => {
                let in_force: Vec<&(NodeIndex, usize)> = thresholds
                    .iter()
                    .filter(|(_, t)| self.thresholds[*t].in_force_from.is_none_or(|f| f <= date))
                    .collect();
                if in_force.is_empty() {
                    let t = &self.thresholds[thresholds[0].1];
                    notes.push(format!(
                        "{}自{}起施行，行为时的数额标准不在参考文本中，未按数额确定幅度。",
                        t.file.trim_end_matches(".md"),
                        t.in_force_from.map_or("（未知）".into(), |d| d.to_string())
                    ));
                }
                let mut chosen: Option<&(NodeIndex, usize)> = None;
                for cand in &in_force {
                    let t = &self.thresholds[cand.1];
                    match t.reached(amount) {
                        Reached::Everywhere => {
                            if chosen.is_none_or(|c| self.thresholds[c.1].low_fen < t.low_fen) {
                                chosen = Some(cand);
                            }
                        }
                        Reached::DependsOnProvince => notes.push(format!(
                            "数额{}元是否达到“{}”取决于当地标准（{}）。",
                            amount / 100,
                            t.level,
                            t.describe()
                        )),
                        Reached::Nowhere => {}
                    }
                }
                if chosen.is_none() && !in_force.is_empty() {
                    // Reached only where the province fixed the lowest amount.
                    chosen = in_force
                        .iter()
                        .copied()
                        .filter(|c| self.thresholds[c.1].reached(amount) != Reached::Nowhere)
                        .min_by_key(|c| self.thresholds[c.1].low_fen);
                }
                match chosen {
                    Some(&(tn, t)) => {
                        let th = &self.thresholds[t];
                        let p = prov(tn);
                        steps.push(Step {
                            kind: "数额标准",
                            text: format!(
                                "数额{}元达到“{}”（{}）；原文：{}",
                                amount / 100,
                                th.level,
                                th.describe(),
                                th.quote
                            ),
                            file: p.file,
                            article: p.article,
                        });
                        range = self
                            .neighbours(tn)
                            .into_iter()
                            .find(|(e, _, out)| *e == Edge::Selects && *out)
                            .and_then(|(_, n, _)| match self.graph[n] {
                                Node::PenaltyRange(r) => Some(r),
                                _ => None,
                            });
                    }
                    None if !in_force.is_empty() => {
                        let lowest = in_force
                            .iter()
                            .map(|c| &self.thresholds[c.1])
                            .min_by_key(|t| t.low_fen)
                            .unwrap();
                        let p = prov(in_force[0].0);
                        steps.push(Step {
                            kind: "数额标准",
                            text: format!(
                                "数额{}元未达“{}”的最低标准（{}），按数额不构成本罪",
                                amount / 100,
                                lowest.level,
                                lowest.describe()
                            ),
                            file: p.file,
                            article: p.article,
                        });
                        return Ok(Explanation {
                            charge: c.name.clone(),
                            date,
                            steps,
                            interval: None,
                            notes,
                        });
                    }
                    None => {}
                }
            }
            (None, false) => notes.push("未给出数额：按本条第一个法定刑幅度说明。".into()),
            _ => {}
        }
        let ranges = self.ranges_of(c.article, c.paragraph);
        let Some(r) = range.or(ranges.first().copied()) else {
            return Err(format!("《刑法》{} 无法定刑条款", article.no.chinese()));
        };
        let pr = &self.penalty_ranges[r];
        let rn = self.index_of(&Node::PenaltyRange(r)).unwrap();
        let p = prov(rn);
        steps.push(Step {
            kind: "法定刑幅度",
            text: format!("{}（{}）", pr.clause, pr.penalty.chinese()),
            file: p.file,
            article: p.article,
        });
        let (band_lo, band_hi) = pr.penalty.month_bounds().unwrap_or((0, 0));
        // Starting point: the guideline band within the selected range.
        let start = linked(Edge::StartingPointOf).into_iter().find(|&n| {
            self.neighbours(n)
                .into_iter()
                .any(|(e, m, out)| e == Edge::Within && out && m == rn)
        });
        let Some(sn) = start else {
            notes.push(format!(
                "{}未列此罪名在此幅度的量刑起点，区间仅为法定刑幅度。",
                GUIDELINE_DOC
            ));
            return Ok(Explanation {
                charge: c.name.clone(),
                date,
                steps,
                interval: Some((band_lo as f64, band_hi as f64)),
                notes,
            });
        };
        if date < self.guideline_from {
            notes.push(format!(
                "{}自{}起施行；行为日期在此之前，量刑起点与情节比例仅供对照。",
                GUIDELINE_DOC, self.guideline_from
            ));
        }
        let Node::StartingPoint(si) = self.graph[sn] else {
            unreachable!()
        };
        let sp = &self.starting_points[si];
        let p = prov(sn);
        steps.push(Step {
            kind: "量刑起点",
            text: format!(
                "{}{}",
                sp.chinese(),
                if sp.flag == "[U]" {
                    "（该行在来源中标为未经核实 [U]）"
                } else {
                    ""
                }
            ),
            file: p.file,
            article: p.article,
        });
        notes.push(
            "基准刑应在量刑起点基础上依数额、次数等其他犯罪事实增加刑罚量（各省实施细则规定），此处以量刑起点为基准。"
                .into(),
        );
        let (mut lo, mut hi) = (sp.min_months as f64, sp.max_months as f64);
        // Circumstances: first tier multiplies in turn, the second sums then applies (§二).
        found.sort_by_key(|&k| self.circumstances[k].tier);
        // §3.3: 认罪认罚 is not counted again beside the circumstances it overlaps; with 自首,
        // 坦白, 退赃退赔, 赔偿谅解 or 刑事和解 their joint reduction is the cell's second ratio.
        let names: Vec<&str> = found
            .iter()
            .map(|&k| self.circumstances[k].name.as_str())
            .collect();
        const OVERLAP: [&str; 7] = [
            "自首",
            "坦白",
            "当庭自愿认罪",
            "退赃、退赔",
            "积极赔偿被害人经济损失并取得谅解",
            "刑事和解",
            "羁押期间表现好",
        ];
        let plea = found
            .iter()
            .copied()
            .find(|&k| self.circumstances[k].name == "认罪认罚");
        let overlapped: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| plea.is_some() && OVERLAP.contains(n))
            .collect();
        let joint = plea.filter(|_| !overlapped.is_empty()).map(|k| {
            let c = &self.circumstances[k];
            let widened = overlapped
                .iter()
                .any(|n| !["当庭自愿认罪", "羁押期间表现好"].contains(n));
            let ratio = widened
                .then(|| {
                    c.quote
                        .split(';')
                        .nth(1)
                        .and_then(crate::guideline::first_ratio)
                })
                .flatten()
                .unwrap_or((c.min_pct, c.max_pct));
            (k, ratio)
        });
        let (mut sum_lo, mut sum_hi) = (0i32, 0i32);
        for &k in &found {
            let cc = &self.circumstances[k];
            let n = self.index_of(&Node::Circumstance(k)).unwrap();
            let p = prov(n);
            let effect = if cc.tier == 1 {
                lo *= 1.0 + cc.min_pct as f64 / 100.0;
                hi *= 1.0 + cc.max_pct as f64 / 100.0;
                format!("先行调节后为{}至{}", months_f(lo), months_f(hi))
            } else if let Some((pk, (jlo, jhi))) =
                joint.filter(|_| plea == Some(k) || overlapped.contains(&cc.name.as_str()))
            {
                if pk == k {
                    sum_lo += jlo;
                    sum_hi += jhi;
                    format!(
                        "与{}不作重复评价，合并调节{}%至{}%",
                        overlapped.join("、"),
                        jlo,
                        jhi
                    )
                } else {
                    "已并入认罪认罚，不重复评价".to_string()
                }
            } else {
                sum_lo += cc.min_pct;
                sum_hi += cc.max_pct;
                "与其他第二类情节同向相加、逆向相减后一次调节".to_string()
            };
            steps.push(Step {
                kind: "量刑情节",
                text: format!("{}：{}（{}）", cc.name, cc.chinese(), effect),
                file: p.file,
                article: p.article,
            });
        }
        if sum_lo != 0 || sum_hi != 0 {
            lo *= 1.0 + sum_lo as f64 / 100.0;
            hi *= 1.0 + sum_hi as f64 / 100.0;
        }
        lo = lo.max(0.0);
        let (raw_lo, raw_hi) = (lo, hi);
        lo = lo.clamp(band_lo as f64, band_hi as f64);
        hi = hi.clamp(band_lo as f64, band_hi as f64);
        if raw_lo < band_lo as f64 {
            notes.push(format!(
                "调节结果{}低于法定最低刑{}：只有从轻情节的，以法定最低刑为宣告刑；有减轻处罚情节的，可以在法定最低刑以下判处（量刑指导意见 二(三)）。",
                months_f(raw_lo),
                months_f(band_lo as f64)
            ));
        }
        if raw_hi > band_hi as f64 {
            notes.push("调节结果超出法定最高刑，以法定最高刑为限。".into());
        }
        let p = prov(rn);
        steps.push(Step {
            kind: "结果",
            text: format!(
                "量刑区间：{}至{}（拘役按月计；已限于法定刑幅度{}至{}）",
                months_f(lo),
                months_f(hi),
                months_f(band_lo as f64),
                months_f(band_hi as f64)
            ),
            file: p.file,
            article: p.article,
        });
        Ok(Explanation {
            charge: c.name.clone(),
            date,
            steps,
            interval: Some((lo, hi)),
            notes,
        })
    }

    /// The node a navigator key names (see `NodeView::key`).
    pub fn find_key(&self, key: &str) -> Option<NodeIndex> {
        let (kind, id) = key.split_once(':')?;
        match kind {
            "article" => {
                let (num, sub) = match id.split_once('-') {
                    Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                    None => (id.parse().ok()?, 0),
                };
                let no = crate::ArticleNo { number: num, sub };
                self.index_of(&Node::Article(no))
            }
            "charge" => {
                // The newest version of that name.
                let i = self.charges.iter().rposition(|c| c.name == id)?;
                self.index_of(&Node::Charge(i))
            }
            "deadline" => {
                let i = self.deadlines.iter().position(|d| d.key == id)?;
                self.index_of(&Node::Deadline(i))
            }
            _ => {
                let i: usize = id.parse().ok()?;
                self.node_of(|n| match (kind, n) {
                    ("range", Node::PenaltyRange(j))
                    | ("threshold", Node::Threshold(j))
                    | ("start", Node::StartingPoint(j))
                    | ("circumstance", Node::Circumstance(j))
                    | ("source", Node::Source(j)) => *j == i,
                    _ => false,
                })
            }
        }
    }

    /// A node as the navigator shows it.
    pub fn view(&self, n: NodeIndex) -> NodeView {
        let p = self.provenance(n);
        let (key, kind, label) = match &self.graph[n] {
            Node::Source(i) => (
                format!("source:{i}"),
                "来源文本",
                self.sources[*i].file.clone(),
            ),
            Node::Article(no) => {
                let key = if no.sub > 0 {
                    format!("article:{}-{}", no.number, no.sub)
                } else {
                    format!("article:{}", no.number)
                };
                (
                    key,
                    "条文",
                    format!("《刑法》{} {}", no.chinese(), self.articles[no].text),
                )
            }
            Node::Charge(i) => {
                let c = &self.charges[*i];
                (format!("charge:{}", c.name), "罪名", self.cite(c))
            }
            Node::PenaltyRange(i) => {
                let r = &self.penalty_ranges[*i];
                let cond = if r.conditions.is_empty() {
                    String::new()
                } else {
                    format!("（{}）", r.conditions.join("、"))
                };
                (
                    format!("range:{i}"),
                    "法定刑幅度",
                    format!("{}{}", r.clause, cond),
                )
            }
            Node::Threshold(i) => (
                format!("threshold:{i}"),
                "数额标准",
                self.thresholds[*i].describe(),
            ),
            Node::StartingPoint(i) => {
                let s = &self.starting_points[*i];
                (
                    format!("start:{i}"),
                    "量刑起点",
                    format!("{}：{}", s.crime, s.chinese()),
                )
            }
            Node::Circumstance(i) => {
                let c = &self.circumstances[*i];
                (
                    format!("circumstance:{i}"),
                    "量刑情节",
                    format!("{}：{}", c.name, c.chinese()),
                )
            }
            Node::Deadline(i) => {
                let d = &self.deadlines[*i];
                (
                    format!("deadline:{}", d.key),
                    "办案期限",
                    format!("{}：{}（{}）", d.name, d.worded, d.quote),
                )
            }
        };
        NodeView {
            key,
            kind,
            label,
            file: p.file,
            article: p.article,
        }
    }

    /// Whether a node is in force on `date`: a charge version by its period, guideline nodes
    /// from the guideline's date, a threshold from its interpretation's 施行 date.
    pub fn in_force(&self, n: NodeIndex, date: NaiveDate) -> bool {
        match &self.graph[n] {
            Node::Charge(i) => {
                let c = &self.charges[*i];
                c.in_force_from <= date && c.retired_from.is_none_or(|r| date < r)
            }
            Node::StartingPoint(_) | Node::Circumstance(_) => date >= self.guideline_from,
            Node::Threshold(i) => self.thresholds[*i].in_force_from.is_none_or(|f| f <= date),
            _ => true,
        }
    }

    /// A node and its typed neighbours in force on `date` (source-text edges left out), for
    /// the law navigator: article ↔ charge ↔ threshold ↔ starting point ↔ circumstance.
    pub fn navigate(
        &self,
        n: NodeIndex,
        date: NaiveDate,
    ) -> (NodeView, Vec<(&'static str, NodeView)>) {
        let mut out = Vec::new();
        for (e, m, outgoing) in self.neighbours(n) {
            // A statute text lists what was parsed from it, except its many articles and ranges.
            let bulk = matches!(self.graph[n], Node::Source(_))
                && matches!(self.graph[m], Node::Article(_) | Node::PenaltyRange(_));
            if bulk || !self.in_force(m, date) {
                continue;
            }
            out.push((edge_label(e, outgoing), self.view(m)));
        }
        out.sort_by(|a, b| (a.1.kind, &a.1.key).cmp(&(b.1.kind, &b.1.key)));
        (self.view(n), out)
    }
}

/// The relation in Chinese, read from the node shown.
fn edge_label(e: Edge, outgoing: bool) -> &'static str {
    match (e, outgoing) {
        (Edge::DefinedIn, true) => "规定于条文",
        (Edge::DefinedIn, false) => "本条规定的罪名",
        (Edge::From, _) => "来源",
        (Edge::RenamedTo, true) => "更名为",
        (Edge::RenamedTo, false) => "原罪名",
        (Edge::PenaltyOf, true) => "所属条文",
        (Edge::PenaltyOf, false) => "法定刑幅度",
        (Edge::ThresholdOf, true) => "适用罪名",
        (Edge::ThresholdOf, false) => "数额标准",
        (Edge::Selects, true) => "对应法定刑幅度",
        (Edge::Selects, false) => "选定本幅度的数额标准",
        (Edge::StartingPointOf, true) => "适用罪名",
        (Edge::StartingPointOf, false) => "量刑起点",
        (Edge::Within, true) => "所在法定刑幅度",
        (Edge::Within, false) => "本幅度内的量刑起点",
        (Edge::AdjustsBy, true) => "调节罪名",
        (Edge::AdjustsBy, false) => "量刑情节",
    }
}
