//! The statute graph: 刑法 articles and charges (罪名) with the 罪名规定 text that introduced,
//! renamed or retired each one, so a charge is cited by the name in force on the offence date.
//!
//! Built from the reference texts (`刑法.md`, `罪名规定/*.md`); every node names its source file
//! and the sha-256 of that file, and a charge's article is checked to exist in `刑法.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use petgraph::graph::{DiGraph, NodeIndex};
use sha2::{Digest, Sha256};

mod deadline;
mod explain;
mod extend;
mod guideline;
mod penalty;
mod threshold;
pub use deadline::{parse_deadlines, Deadline, CPL_FILE, DEADLINES_TSV};
pub use explain::{Explanation, NodeView, Step};
pub use guideline::{
    guideline_in_force, parse_circumstances, parse_starting_points, Circumstance, StartingPoint,
    GUIDELINE_DOC, GUIDELINE_FILE,
};
pub use penalty::{months, FineMode, Penalty, PenaltyClause, PenaltyRange, CONDITION_WORDS};
pub use threshold::{
    amounts_in, parse_thresholds, parse_yuan, Reached, Threshold, INTERPRETATIONS_DIR,
    THRESHOLDS_TSV,
};

/// Why a build failed: which file and what was wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("{file}: 无法读取: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {rule}: {detail}")]
    Parse {
        file: String,
        rule: &'static str,
        detail: String,
    },
}

/// An article key: number and the `之N` suffix (0 when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArticleNo {
    pub number: u32,
    pub sub: u32,
}

impl ArticleNo {
    /// The article as 刑法 writes it, e.g. `第一百三十三条之二`.
    pub fn chinese(&self) -> String {
        let mut s = format!("第{}条", to_chinese(self.number));
        if self.sub > 0 {
            s.push('之');
            s.push_str(&to_chinese(self.sub));
        }
        s
    }
}

impl Article {
    /// The penalty clauses of the article as it words them (`处三年以下有期徒刑、拘役或者管制，
    /// 并处或者单处罚金`), in order over all 款; no numbers are inferred beyond the text.
    pub fn penalty_ranges(&self) -> Vec<&str> {
        self.penalty_clauses()
            .into_iter()
            .map(|c| c.clause)
            .collect()
    }
}

/// A source text with its hash, so a changed text is noticed.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the reference directory.
    pub file: String,
    pub sha256: String,
}

/// A 刑法 article and its text (罪状 and penalties).
#[derive(Debug, Clone)]
pub struct Article {
    pub no: ArticleNo,
    /// The first paragraph (款), as the line `第N条 …` gives it.
    pub text: String,
    /// Every 款 in order, the first included; item lines `（一）…` joined to their 款 by `\n`.
    pub paragraphs: Vec<String>,
    pub source: usize,
}

/// One version of a charge name, as one 罪名规定 text set it.
#[derive(Debug, Clone)]
pub struct Charge {
    pub name: String,
    pub article: ArticleNo,
    /// The 款 where the 罪名规定 text names one.
    pub paragraph: Option<u32>,
    /// The article reference as the 罪名规定 text writes it.
    pub cited_as: String,
    pub source: usize,
    pub in_force_from: NaiveDate,
    /// True when the text carries no 施行 date and the date in its title (publication) is used.
    pub date_from_title: bool,
    /// Set when a later text retired the name.
    pub retired_from: Option<NaiveDate>,
    pub retired_by: Option<usize>,
    /// Names that replaced this one (in the same row of the retiring text).
    pub replaced_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    Source(usize),
    Article(ArticleNo),
    Charge(usize),
    /// Index into `StatuteGraph::penalty_ranges`.
    PenaltyRange(usize),
    /// Index into `StatuteGraph::thresholds`.
    Threshold(usize),
    /// Index into `StatuteGraph::starting_points`.
    StartingPoint(usize),
    /// Index into `StatuteGraph::circumstances`.
    Circumstance(usize),
    /// Index into `StatuteGraph::deadlines`.
    Deadline(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// charge → article it is defined in.
    DefinedIn,
    /// node → source text it was parsed from.
    From,
    /// old charge name → name that replaced it.
    RenamedTo,
    /// penalty range → the article that provides it.
    PenaltyOf,
    /// amount threshold → the charge it sets an amount for.
    ThresholdOf,
    /// amount threshold → the penalty range its level selects.
    Selects,
    /// guideline starting-point band → the charge (current name) it is set for.
    StartingPointOf,
    /// starting-point band → the penalty range it lies within.
    Within,
    /// sentencing circumstance → a guideline charge whose base penalty it adjusts.
    AdjustsBy,
}

/// Where a node comes from: the source file (relative to the reference directory) and the
/// article or place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub file: String,
    pub article: String,
}

/// The statute graph, in memory.
#[derive(Debug)]
pub struct StatuteGraph {
    pub sources: Vec<SourceFile>,
    pub articles: BTreeMap<ArticleNo, Article>,
    pub charges: Vec<Charge>,
    /// Every `处…` clause of every article, in article order.
    pub penalty_ranges: Vec<PenaltyRange>,
    /// Amount thresholds of the judicial interpretations (`data/amount-thresholds.tsv`).
    pub thresholds: Vec<Threshold>,
    /// Guideline starting-point bands (domain-facts.md §3.4).
    pub starting_points: Vec<StartingPoint>,
    /// Guideline circumstances (domain-facts.md §3.3).
    pub circumstances: Vec<Circumstance>,
    /// CPL deadlines (`data/procedural-deadlines.tsv`).
    pub deadlines: Vec<Deadline>,
    /// The guideline's 施行 date (domain-facts.md §3.1).
    pub guideline_from: NaiveDate,
    pub graph: DiGraph<Node, Edge>,
    /// Each node's index, kept up to date by `reindex` while the graph is built.
    pub(crate) index: std::collections::HashMap<Node, NodeIndex>,
}

/// Where the build writes its manifest, in the repository.
pub fn manifest_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/statute-sources.tsv")
}

/// The reference texts: `$XIEZHI_REFERENCE`, else `../shared/reference` beside the
/// repository, else `/work/shared/reference`.
pub fn default_reference_dir() -> PathBuf {
    if let Ok(d) = std::env::var("XIEZHI_REFERENCE") {
        return PathBuf::from(d);
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference");
    if beside.exists() {
        return beside;
    }
    PathBuf::from("/work/shared/reference")
}

impl StatuteGraph {
    /// Parses `laws/刑法.md` and `laws/罪名规定/*.md` under `reference`.
    pub fn build(reference: &Path) -> Result<StatuteGraph, GraphError> {
        let mut sources = Vec::new();
        let criminal_law = "laws/刑法.md".to_string();
        let text = read(reference, &criminal_law, &mut sources)?;
        let articles = parse_articles(&text, 0);
        if articles.is_empty() {
            return Err(GraphError::Parse {
                file: criminal_law,
                rule: "条文",
                detail: "未找到任何条文".into(),
            });
        }
        let dir = reference.join("laws/罪名规定");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|source| GraphError::Read {
                file: dir.clone(),
                source,
            })?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".md"))
            .collect();
        // Apply texts in date order (the date in each title).
        files.sort_by_key(|n| title_date(n));
        let mut charges: Vec<Charge> = Vec::new();
        for name in files {
            let rel = format!("laws/罪名规定/{name}");
            let body = read(reference, &rel, &mut sources)?;
            let src = sources.len() - 1;
            let (date, from_title) = match in_force_date(&body) {
                Some(d) => (d, false),
                None => (
                    title_date(&name).ok_or_else(|| GraphError::Parse {
                        file: rel.clone(),
                        rule: "施行日期",
                        detail: "正文与标题均无日期".into(),
                    })?,
                    true,
                ),
            };
            let rows = parse_charge_rows(&body).map_err(|detail| GraphError::Parse {
                file: rel.clone(),
                rule: "罪名条目",
                detail,
            })?;
            if rows.is_empty() {
                return Err(GraphError::Parse {
                    file: rel,
                    rule: "罪名条目",
                    detail: "未找到任何罪名".into(),
                });
            }
            for row in rows {
                for old in &row.retired {
                    for c in charges.iter_mut() {
                        if &c.name == old && c.retired_from.is_none() {
                            c.retired_from = Some(date);
                            c.retired_by = Some(src);
                            c.replaced_by = row.names.clone();
                        }
                    }
                }
                for n in &row.names {
                    // A text restating a name already in force changes nothing.
                    if charges
                        .iter()
                        .any(|c| &c.name == n && c.retired_from.is_none())
                    {
                        continue;
                    }
                    charges.push(Charge {
                        name: n.clone(),
                        article: row.article,
                        paragraph: row.paragraph,
                        cited_as: row.cited_as.clone(),
                        source: src,
                        in_force_from: date,
                        date_from_title: from_title,
                        retired_from: None,
                        retired_by: None,
                        replaced_by: Vec::new(),
                    });
                }
            }
        }
        let mut graph = DiGraph::new();
        let src_nodes: Vec<NodeIndex> = (0..sources.len())
            .map(|i| graph.add_node(Node::Source(i)))
            .collect();
        let mut art_nodes = BTreeMap::new();
        for a in articles.values() {
            let n = graph.add_node(Node::Article(a.no));
            graph.add_edge(n, src_nodes[a.source], Edge::From);
            art_nodes.insert(a.no, n);
        }
        let penalty_ranges: Vec<PenaltyRange> = articles
            .values()
            .flat_map(|a| a.penalty_range_nodes())
            .collect();
        for (i, r) in penalty_ranges.iter().enumerate() {
            let n = graph.add_node(Node::PenaltyRange(i));
            graph.add_edge(n, art_nodes[&r.article], Edge::PenaltyOf);
        }
        let mut charge_nodes = Vec::new();
        for (i, c) in charges.iter().enumerate() {
            let n = graph.add_node(Node::Charge(i));
            graph.add_edge(n, src_nodes[c.source], Edge::From);
            if let Some(a) = art_nodes.get(&c.article) {
                graph.add_edge(n, *a, Edge::DefinedIn);
            }
            charge_nodes.push(n);
        }
        for (i, c) in charges.iter().enumerate() {
            for new in &c.replaced_by {
                for (j, d) in charges.iter().enumerate() {
                    if &d.name == new && Some(d.in_force_from) == c.retired_from {
                        graph.add_edge(charge_nodes[i], charge_nodes[j], Edge::RenamedTo);
                    }
                }
            }
        }
        let mut g = StatuteGraph {
            sources,
            articles,
            charges,
            penalty_ranges,
            thresholds: Vec::new(),
            starting_points: Vec::new(),
            circumstances: Vec::new(),
            deadlines: Vec::new(),
            guideline_from: NaiveDate::MIN,
            graph,
            index: Default::default(),
        };
        g.reindex();
        g.add_thresholds(reference)?;
        g.add_guideline(reference)?;
        g.add_deadlines(reference)?;
        g.reindex();
        Ok(g)
    }

    /// Rebuilds the node index after nodes were added.
    fn reindex(&mut self) {
        self.index = self
            .graph
            .node_indices()
            .map(|n| (self.graph[n].clone(), n))
            .collect();
    }

    /// The graph index of a node.
    pub fn index_of(&self, node: &Node) -> Option<NodeIndex> {
        self.index.get(node).copied()
    }

    /// Charges whose name is in force today (not retired by any text).
    pub fn current_charges(&self) -> impl Iterator<Item = &Charge> {
        self.charges.iter().filter(|c| c.retired_from.is_none())
    }

    /// The name(s) in force on `date` for the offence known by `name` under any version:
    /// follows renames forward (or back) to the version whose period holds `date`.
    pub fn charge_as_of(&self, name: &str, date: NaiveDate) -> Vec<&Charge> {
        // Collect the lineage: every version reachable by renames either way.
        let mut seen: Vec<usize> = self
            .charges
            .iter()
            .enumerate()
            .filter(|(_, c)| c.name == name)
            .map(|(i, _)| i)
            .collect();
        let mut k = 0;
        while k < seen.len() {
            let c = &self.charges[seen[k]];
            for (j, d) in self.charges.iter().enumerate() {
                let forward =
                    c.replaced_by.contains(&d.name) && Some(d.in_force_from) == c.retired_from;
                let back =
                    d.replaced_by.contains(&c.name) && d.retired_from == Some(c.in_force_from);
                if (forward || back) && !seen.contains(&j) {
                    seen.push(j);
                }
            }
            k += 1;
        }
        seen.sort();
        seen.into_iter()
            .map(|i| &self.charges[i])
            .filter(|c| c.in_force_from <= date && c.retired_from.is_none_or(|r| date < r))
            .collect()
    }

    /// The article a charge is defined in.
    pub fn article_of(&self, charge: &Charge) -> Option<&Article> {
        self.articles.get(&charge.article)
    }

    /// A Chinese citation naming the charge, the article and the 罪名规定 version.
    pub fn cite(&self, charge: &Charge) -> String {
        let mut s = format!("{}（《刑法》{}", charge.name, charge.article.chinese());
        if let Some(p) = charge.paragraph {
            s.push_str(&format!("第{}款", to_chinese(p)));
        }
        let src = &self.sources[charge.source].file;
        let title = src
            .rsplit('/')
            .next()
            .unwrap_or(src)
            .trim_end_matches(".md");
        s.push_str(&format!(
            "；罪名依据：{title}，自{}起",
            charge.in_force_from
        ));
        if let Some(r) = charge.retired_from {
            s.push_str(&format!("至{r}止"));
        }
        s.push('）');
        s
    }

    /// The derived artifact `data/statute-sources.tsv`: each input text with its sha-256 and
    /// the graph's size, so a changed text fails the test until the artifact is rebuilt.
    pub fn manifest(&self) -> String {
        let mut out =
            String::from("# cargo run -p xiezhi-graph --example write_manifest: source texts of the statute graph\nfile\tsha256\n");
        for s in &self.sources {
            out.push_str(&format!("{}\t{}\n", s.file, s.sha256));
        }
        out.push_str(&format!(
            "# articles {} charges {} current {} penalty-ranges {} thresholds {} starting-points {} circumstances {} deadlines {} nodes {} edges {}\n",
            self.articles.len(),
            self.charges.len(),
            self.current_charges().count(),
            self.penalty_ranges.len(),
            self.thresholds.len(),
            self.starting_points.len(),
            self.circumstances.len(),
            self.deadlines.len(),
            self.node_count(),
            self.edge_count()
        ));
        out
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }
}

pub(crate) fn read(
    reference: &Path,
    rel: &str,
    sources: &mut Vec<SourceFile>,
) -> Result<String, GraphError> {
    let path = reference.join(rel);
    let bytes = std::fs::read(&path).map_err(|source| GraphError::Read {
        file: path.clone(),
        source,
    })?;
    let sha = Sha256::digest(&bytes);
    sources.push(SourceFile {
        file: rel.to_string(),
        sha256: sha.iter().map(|b| format!("{b:02x}")).collect(),
    });
    String::from_utf8(bytes).map_err(|e| GraphError::Parse {
        file: rel.to_string(),
        rule: "编码",
        detail: e.to_string(),
    })
}

/// Articles are lines starting `第…条[之…] ` in a statute text; the paragraphs (款) that follow,
/// up to the next article or heading, belong to it. An item line `（一）…` stays with its 款.
pub(crate) fn parse_articles(text: &str, source: usize) -> BTreeMap<ArticleNo, Article> {
    let mut out: BTreeMap<ArticleNo, Article> = BTreeMap::new();
    let mut current: Option<ArticleNo> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') || line.starts_with("附件") || line.starts_with("<!--") {
            current = None;
            continue;
        }
        if line.starts_with('第') {
            if let Some((head, rest)) = line.split_once([' ', '\u{3000}']) {
                if let Some((no, None, used)) = parse_article_ref(head) {
                    if used == head.len() {
                        if let std::collections::btree_map::Entry::Vacant(e) = out.entry(no) {
                            let text = rest.trim().to_string();
                            e.insert(Article {
                                no,
                                text: text.clone(),
                                paragraphs: vec![text],
                                source,
                            });
                            current = Some(no);
                        } else {
                            current = None;
                        }
                        continue;
                    }
                }
            }
        }
        let Some(no) = current else { continue };
        let a = out.get_mut(&no).expect("current article present");
        if line.starts_with('（') && !a.paragraphs.is_empty() {
            let last = a.paragraphs.last_mut().expect("non-empty");
            last.push('\n');
            last.push_str(line.trim());
        } else {
            a.paragraphs.push(line.trim().to_string());
        }
    }
    out
}

/// Parses `第N条[之M][第K款]` (Arabic or Chinese numerals) at the start of `s`;
/// returns the article, the paragraph and the bytes consumed.
pub fn parse_article_ref(s: &str) -> Option<(ArticleNo, Option<u32>, usize)> {
    let rest = s.strip_prefix('第')?;
    let (number, n1) = parse_number(rest)?;
    let rest = rest[n1..].strip_prefix('条')?;
    let mut used = '第'.len_utf8() + n1 + '条'.len_utf8();
    let mut sub = 0;
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix('之') {
        if let Some((m, n2)) = parse_number(r) {
            sub = m;
            used += '之'.len_utf8() + n2;
            rest = &r[n2..];
        }
    }
    let mut paragraph = None;
    if let Some(r) = rest.strip_prefix('第') {
        if let Some((k, n3)) = parse_number(r) {
            if r[n3..].starts_with('款') {
                paragraph = Some(k);
                used += '第'.len_utf8() + n3 + '款'.len_utf8();
            }
        }
    }
    Some((ArticleNo { number, sub }, paragraph, used))
}

pub(crate) fn parse_number(s: &str) -> Option<(u32, usize)> {
    let digits: usize = s.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 {
        return Some((s[..digits].parse().ok()?, digits));
    }
    let mut total = 0u32;
    let mut current = 0u32;
    let mut used = 0;
    for c in s.chars() {
        let d = match c {
            '零' => Some(0),
            '一' => Some(1),
            '二' => Some(2),
            '三' => Some(3),
            '四' => Some(4),
            '五' => Some(5),
            '六' => Some(6),
            '七' => Some(7),
            '八' => Some(8),
            '九' => Some(9),
            _ => None,
        };
        match (d, c) {
            (Some(d), _) => current = d,
            (None, '十') => {
                total += if current == 0 { 10 } else { current * 10 };
                current = 0;
            }
            (None, '百') => {
                total += current * 100;
                current = 0;
            }
            _ => break,
        }
        used += c.len_utf8();
    }
    if used == 0 {
        return None;
    }
    Some((total + current, used))
}

/// Chinese numeral as statutes write article numbers (`一百零二`, `一百一十`, `十`).
pub fn to_chinese(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (h, t, u) = (n / 100, (n / 10) % 10, n % 10);
    let mut s = String::new();
    if h > 0 {
        s.push_str(D[h as usize]);
        s.push('百');
    }
    if t > 0 {
        if h > 0 || t > 1 {
            s.push_str(D[t as usize]);
        }
        s.push('十');
    } else if h > 0 && u > 0 {
        s.push('零');
    }
    if u > 0 || n == 0 {
        s.push_str(D[u as usize]);
    }
    s
}

/// The date in a 罪名规定 file name, e.g. `…(2021-02-26).md`.
fn title_date(name: &str) -> Option<NaiveDate> {
    let open = name.rfind('(')?;
    let close = name[open..].find(')')? + open;
    NaiveDate::parse_from_str(&name[open + 1..close], "%Y-%m-%d").ok()
}

/// The `YYYY年M月D日 施行` / `自YYYY年M月D日起施行` date, when the text gives one.
pub(crate) fn in_force_date(body: &str) -> Option<NaiveDate> {
    for line in body.lines() {
        let Some(pos) = line.find("施行") else {
            continue;
        };
        let before = line[..pos].trim_end().trim_end_matches('起');
        let date = match before.rfind(|c: char| !(c.is_ascii_digit() || "年月日".contains(c))) {
            Some(i) => &before[i + before[i..].chars().next()?.len_utf8()..],
            None => before,
        };
        if let Ok(d) = NaiveDate::parse_from_str(date, "%Y年%m月%d日") {
            return Some(d);
        }
    }
    None
}

struct Row {
    names: Vec<String>,
    retired: Vec<String>,
    article: ArticleNo,
    paragraph: Option<u32>,
    cited_as: String,
}

/// The three layouts of 罪名规定 texts: the 1997 numbered list `N．名罪（第X条）`, the
/// `| 刑法条文 | 罪名 |` table of the supplements, and the `将…第X条…的罪名由“A”修改为“B”` sentence.
fn parse_charge_rows(body: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let body = body.split("<!-- INFO END -->").last().unwrap_or(body);
    for line in body.lines() {
        let line = line.trim();
        if line.starts_with('|') {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if cells.len() < 2 || !cells[0].starts_with('第') {
                continue;
            }
            let Some((article, paragraph, used)) = parse_article_ref(cells[0]) else {
                return Err(format!("无法解析条文：{}", cells[0]));
            };
            let cited_as = cells[0][..used].to_string();
            let (names, retired) = split_names(cells[1]);
            rows.push(Row {
                names,
                retired,
                article,
                paragraph,
                cited_as,
            });
        } else if line.starts_with('将') && line.contains("修改为") {
            let at = line.find('第').ok_or("修改句无条文")?;
            let (article, paragraph, used) =
                parse_article_ref(&line[at..]).ok_or("修改句条文无法解析")?;
            let quoted: Vec<&str> = line.split(['“', '”']).collect();
            if quoted.len() < 5 {
                return Err(format!("修改句无新旧罪名：{line}"));
            }
            rows.push(Row {
                names: vec![quoted[3].to_string()],
                retired: vec![quoted[1].to_string()],
                article,
                paragraph,
                cited_as: line[at..at + used].to_string(),
            });
        } else if line.contains("罪（第") {
            for token in line.split_whitespace() {
                let token = token.trim_start_matches(|c: char| c.is_ascii_digit() || c == '．');
                let Some(at) = token.rfind("（第") else {
                    continue;
                };
                let (name, refs) = (&token[..at], &token[at + '（'.len_utf8()..]);
                let Some((article, paragraph, used)) = parse_article_ref(refs) else {
                    return Err(format!("无法解析条文：{token}"));
                };
                rows.push(Row {
                    names: vec![name.to_string()],
                    retired: Vec::new(),
                    article,
                    paragraph,
                    cited_as: refs[..used].to_string(),
                });
            }
        }
    }
    Ok(rows)
}

/// `A罪；B罪（取消C罪和D罪罪名）` → ([A罪, B罪], [C罪, D罪]).
fn split_names(cell: &str) -> (Vec<String>, Vec<String>) {
    let (names, note) = match cell.split_once('（') {
        Some((n, note)) => (n, Some(note.trim_end_matches('）'))),
        None => (cell, None),
    };
    let names = names
        .split('；')
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    let mut retired = Vec::new();
    if let Some(note) = note.and_then(|n| n.strip_prefix("取消")) {
        let mut note = note.trim_end_matches("罪名");
        if note.starts_with("刑法原第") {
            if let Some(p) = note.find('项') {
                note = &note[p + '项'.len_utf8()..];
            }
        }
        for part in note.split("罪和") {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            retired.push(if part.ends_with('罪') {
                part.to_string()
            } else {
                format!("{part}罪")
            });
        }
    }
    (names, retired)
}
