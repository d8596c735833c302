//! The parts of the statute graph beyond articles and charges: thresholds, the guideline and
//! the CPL deadlines, each verified against its source text while it is added.

use std::collections::BTreeMap;
use std::path::Path;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::{
    parse_articles, parse_circumstances, parse_deadlines, parse_starting_points, parse_thresholds,
    read, Article, ArticleNo, Charge, Edge, GraphError, Node, Provenance, StatuteGraph, CPL_FILE,
    DEADLINES_TSV, GUIDELINE_DOC, GUIDELINE_FILE, INTERPRETATIONS_DIR, THRESHOLDS_TSV,
};

fn parse_err(file: &str, rule: &'static str, detail: String) -> GraphError {
    GraphError::Parse {
        file: file.to_string(),
        rule,
        detail,
    }
}

/// Whether `quote` is in the paragraphs of `article` (within one 款, items included).
fn quoted_in(articles: &BTreeMap<ArticleNo, Article>, article: ArticleNo, quote: &str) -> bool {
    articles
        .get(&article)
        .is_some_and(|a| a.paragraphs.iter().any(|p| p.contains(quote)))
}

impl StatuteGraph {
    /// The node of a kind and index.
    pub fn node_of(&self, want: impl Fn(&Node) -> bool) -> Option<NodeIndex> {
        self.graph.node_indices().find(|&n| want(&self.graph[n]))
    }

    /// Adds a node and indexes it.
    fn add_indexed(&mut self, node: Node) -> NodeIndex {
        let n = self.graph.add_node(node.clone());
        self.index.insert(node, n);
        n
    }

    fn source_node(&self, source: usize) -> NodeIndex {
        self.index_of(&Node::Source(source))
            .expect("every source has a node")
    }

    /// The current charge named `name`, or for a guideline name such as `掩饰、隐瞒犯罪所得罪`,
    /// the one current charge it opens.
    pub fn current_charge_named(&self, name: &str) -> Option<usize> {
        let current = |c: &Charge| c.retired_from.is_none();
        if let Some(i) = self
            .charges
            .iter()
            .position(|c| current(c) && c.name == name)
        {
            return Some(i);
        }
        let stem = name.trim_end_matches('罪');
        let found: Vec<usize> = self
            .charges
            .iter()
            .enumerate()
            .filter(|(_, c)| current(c) && c.name.starts_with(stem))
            .map(|(i, _)| i)
            .collect();
        (found.len() == 1).then(|| found[0])
    }

    fn charge_node(&self, i: usize) -> NodeIndex {
        self.index_of(&Node::Charge(i))
            .expect("every charge has a node")
    }

    /// The penalty ranges of an article, restricted to a 款 when one is given and it has any.
    pub fn ranges_of(&self, article: ArticleNo, paragraph: Option<u32>) -> Vec<usize> {
        let all: Vec<usize> = (0..self.penalty_ranges.len())
            .filter(|&i| self.penalty_ranges[i].article == article)
            .collect();
        if let Some(p) = paragraph {
            let narrowed: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&i| self.penalty_ranges[i].paragraph == p)
                .collect();
            if !narrowed.is_empty() {
                return narrowed;
            }
        }
        all
    }

    fn range_node(&self, i: usize) -> NodeIndex {
        self.index_of(&Node::PenaltyRange(i))
            .expect("every range has a node")
    }

    pub(crate) fn add_thresholds(&mut self, reference: &Path) -> Result<(), GraphError> {
        let data = "crates/xiezhi-graph/data/amount-thresholds.tsv";
        let mut rows =
            parse_thresholds(THRESHOLDS_TSV).map_err(|d| parse_err(data, "数额标准", d))?;
        type Parsed = (
            usize,
            BTreeMap<ArticleNo, Article>,
            Option<chrono::NaiveDate>,
        );
        let mut files: BTreeMap<String, Parsed> = BTreeMap::new();
        for t in rows.iter_mut() {
            let rel = format!("{INTERPRETATIONS_DIR}/{}", t.file);
            if !files.contains_key(&rel) {
                let text = read(reference, &rel, &mut self.sources)?;
                let src = self.sources.len() - 1;
                self.add_indexed(Node::Source(src));
                let from = crate::in_force_date(&text);
                files.insert(rel.clone(), (src, parse_articles(&text, src), from));
            }
            let (src, articles, from) = &files[&rel];
            t.source = *src;
            t.in_force_from = *from;
            let (no, _, _) = crate::parse_article_ref(&t.article)
                .ok_or_else(|| parse_err(&rel, "数额标准", format!("条文无效：{}", t.article)))?;
            if !quoted_in(articles, no, &t.quote) {
                return Err(parse_err(
                    &rel,
                    "数额标准",
                    format!("{}中未见引文：{}", t.article, t.quote),
                ));
            }
            if self.current_charge_named(&t.charge).is_none() {
                return Err(parse_err(
                    data,
                    "数额标准",
                    format!("现行罪名中无“{}”", t.charge),
                ));
            }
        }
        for (k, t) in rows.iter().enumerate() {
            let n = self.add_indexed(Node::Threshold(k));
            let src = self.source_node(t.source);
            self.graph.add_edge(n, src, Edge::From);
            let ci = self.current_charge_named(&t.charge).expect("checked above");
            let charge = &self.charges[ci];
            let cn = self.charge_node(ci);
            self.graph.add_edge(n, cn, Edge::ThresholdOf);
            let article = t.statute_article.unwrap_or(charge.article);
            let ranges = self.ranges_of(article, None);
            let selected = if t.level == "入罪" {
                ranges.first().copied()
            } else {
                ranges.iter().copied().find(|&r| {
                    let cond = &self.penalty_ranges[r].condition;
                    cond.contains(t.level.as_str())
                        || (t.level == "数额巨大" && cond.contains("抢劫数额巨大"))
                })
            };
            if let Some(r) = selected {
                let rn = self.range_node(r);
                self.graph.add_edge(n, rn, Edge::Selects);
            }
        }
        self.thresholds = rows;
        Ok(())
    }

    pub(crate) fn add_guideline(&mut self, reference: &Path) -> Result<(), GraphError> {
        let text = read(reference, GUIDELINE_FILE, &mut self.sources)?;
        let src = self.sources.len() - 1;
        let src_node = self.add_indexed(Node::Source(src));
        self.guideline_from = crate::guideline_in_force(&text).ok_or_else(|| {
            parse_err(
                GUIDELINE_FILE,
                "施行日期",
                "§3.1 未给出量刑指导意见施行日期".into(),
            )
        })?;
        let mut points =
            parse_starting_points(&text).map_err(|d| parse_err(GUIDELINE_FILE, "量刑起点", d))?;
        let mut circs =
            parse_circumstances(&text).map_err(|d| parse_err(GUIDELINE_FILE, "量刑情节", d))?;
        let mut guideline_charges = Vec::new();
        for (k, p) in points.iter_mut().enumerate() {
            p.source = src;
            // A band for a charge the row includes (`妨害公务罪 (incl. 袭警)`) goes to that charge.
            let included = text
                .lines()
                .find(|l| l.starts_with(&format!("| {} | {}", p.row, p.crime)))
                .and_then(|l| l.split("(incl. ").nth(1))
                .and_then(|r| r.split(')').next())
                .filter(|inc| p.label.contains(inc))
                .map(|inc| format!("{inc}罪"));
            let name = included.as_deref().unwrap_or(&p.crime);
            let ci = self.current_charge_named(name).ok_or_else(|| {
                parse_err(
                    GUIDELINE_FILE,
                    "量刑起点",
                    format!("§3.4 第{}行“{}”不对应任何现行罪名", p.row, p.crime),
                )
            })?;
            let n = self.add_indexed(Node::StartingPoint(k));
            self.graph.add_edge(n, src_node, Edge::From);
            let cn = self.charge_node(ci);
            self.graph.add_edge(n, cn, Edge::StartingPointOf);
            if !guideline_charges.contains(&ci) {
                guideline_charges.push(ci);
            }
            let c = &self.charges[ci];
            // The charge's own 款 first, then the article's other 款 (强奸罪's aggravated range
            // is in 第三款 while the charge is cited by 第一款).
            let fits = |r: &usize| {
                self.penalty_ranges[*r]
                    .penalty
                    .month_bounds()
                    .is_some_and(|(lo, hi)| lo <= p.min_months && p.max_months <= hi)
            };
            let within = self
                .ranges_of(c.article, c.paragraph)
                .into_iter()
                .find(fits)
                .or_else(|| self.ranges_of(c.article, None).into_iter().find(fits));
            if let Some(r) = within {
                let rn = self.range_node(r);
                self.graph.add_edge(n, rn, Edge::Within);
            }
        }
        for (k, c) in circs.iter_mut().enumerate() {
            c.source = src;
            let n = self.add_indexed(Node::Circumstance(k));
            self.graph.add_edge(n, src_node, Edge::From);
            for &ci in &guideline_charges {
                let cn = self.charge_node(ci);
                self.graph.add_edge(n, cn, Edge::AdjustsBy);
            }
        }
        self.starting_points = points;
        self.circumstances = circs;
        Ok(())
    }

    pub(crate) fn add_deadlines(&mut self, reference: &Path) -> Result<(), GraphError> {
        let data = "crates/xiezhi-graph/data/procedural-deadlines.tsv";
        let mut rows =
            parse_deadlines(DEADLINES_TSV).map_err(|d| parse_err(data, "办案期限", d))?;
        let text = read(reference, CPL_FILE, &mut self.sources)?;
        let src = self.sources.len() - 1;
        let src_node = self.add_indexed(Node::Source(src));
        let cpl = parse_articles(&text, src);
        for (k, d) in rows.iter_mut().enumerate() {
            d.source = src;
            let para = cpl
                .get(&d.article)
                .and_then(|a| a.paragraphs.get(d.paragraph as usize - 1));
            if !para.is_some_and(|p| p.contains(&d.quote)) {
                return Err(parse_err(
                    CPL_FILE,
                    "办案期限",
                    format!(
                        "{}第{}款中未见引文：{}",
                        d.article.chinese(),
                        d.paragraph,
                        d.quote
                    ),
                ));
            }
            let n = self.add_indexed(Node::Deadline(k));
            self.graph.add_edge(n, src_node, Edge::From);
        }
        self.deadlines = rows;
        Ok(())
    }

    /// Where a node comes from: file and article (or table row) in it.
    pub fn provenance(&self, n: NodeIndex) -> Provenance {
        let criminal_law = self.sources[0].file.clone();
        match &self.graph[n] {
            Node::Source(i) => Provenance {
                file: self.sources[*i].file.clone(),
                article: "全文".into(),
            },
            Node::Article(no) => Provenance {
                file: criminal_law,
                article: no.chinese(),
            },
            Node::Charge(i) => {
                let c = &self.charges[*i];
                Provenance {
                    file: self.sources[c.source].file.clone(),
                    article: c.cited_as.clone(),
                }
            }
            Node::PenaltyRange(i) => {
                let r = &self.penalty_ranges[*i];
                Provenance {
                    file: self.sources[r.source].file.clone(),
                    article: format!(
                        "{}第{}款",
                        r.article.chinese(),
                        crate::to_chinese(r.paragraph)
                    ),
                }
            }
            Node::Threshold(i) => {
                let t = &self.thresholds[*i];
                Provenance {
                    file: self.sources[t.source].file.clone(),
                    article: t.article.clone(),
                }
            }
            Node::StartingPoint(i) => {
                let p = &self.starting_points[*i];
                Provenance {
                    file: self.sources[p.source].file.clone(),
                    article: format!("§3.4 第{}行（{GUIDELINE_DOC} 四）", p.row),
                }
            }
            Node::Circumstance(i) => {
                let c = &self.circumstances[*i];
                Provenance {
                    file: self.sources[c.source].file.clone(),
                    article: format!("§3.3 第{}行（{GUIDELINE_DOC} 三）", c.row),
                }
            }
            Node::Deadline(i) => {
                let d = &self.deadlines[*i];
                Provenance {
                    file: self.sources[d.source].file.clone(),
                    article: format!(
                        "{}第{}款",
                        d.article.chinese(),
                        crate::to_chinese(d.paragraph)
                    ),
                }
            }
        }
    }

    /// Neighbours of a node by edge kind, either direction: (edge, neighbour, outgoing).
    pub fn neighbours(&self, n: NodeIndex) -> Vec<(Edge, NodeIndex, bool)> {
        let mut out: Vec<(Edge, NodeIndex, bool)> = self
            .graph
            .edges_directed(n, Direction::Outgoing)
            .map(|e| (*e.weight(), e.target(), true))
            .collect();
        out.extend(
            self.graph
                .edges_directed(n, Direction::Incoming)
                .map(|e| (*e.weight(), e.source(), false)),
        );
        out
    }
}
