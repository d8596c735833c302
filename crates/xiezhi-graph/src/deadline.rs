//! Procedural deadlines of the Criminal Procedure Law from `data/procedural-deadlines.tsv`, each
//! checked against the named paragraph of `laws/刑事诉讼法.md` when the graph is built.

use crate::{parse_article_ref, ArticleNo};

pub const DEADLINES_TSV: &str = include_str!("../data/procedural-deadlines.tsv");
pub const CPL_FILE: &str = "laws/刑事诉讼法.md";

#[derive(Debug, Clone)]
pub struct Deadline {
    pub key: String,
    pub name: String,
    /// The period: `amount` `unit` (小时 / 日 / 个月).
    pub amount: f64,
    pub unit: String,
    /// The period as the law words it (`三日`, `一个半月`).
    pub worded: String,
    pub article: ArticleNo,
    pub paragraph: u32,
    pub quote: String,
    /// The row of `domain-facts.md` §1.2 listing it.
    pub facts: String,
    pub source: usize,
}

impl Deadline {
    pub fn cite(&self) -> String {
        format!(
            "《刑事诉讼法》{}第{}款",
            self.article.chinese(),
            crate::to_chinese(self.paragraph)
        )
    }
}

pub fn parse_deadlines(tsv: &str) -> Result<Vec<Deadline>, String> {
    let mut out = Vec::new();
    for (n, line) in tsv.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("key\t") || line.trim().is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() != 9 {
            return Err(format!("第{}行应有9列，实有{}列", n + 1, c.len()));
        }
        let (article, _, used) =
            parse_article_ref(c[5]).ok_or_else(|| format!("第{}行条文无效：{}", n + 1, c[5]))?;
        if used != c[5].len() {
            return Err(format!("第{}行条文无效：{}", n + 1, c[5]));
        }
        out.push(Deadline {
            key: c[0].to_string(),
            name: c[1].to_string(),
            amount: c[2]
                .parse()
                .map_err(|_| format!("第{}行期限无效：{}", n + 1, c[2]))?,
            unit: c[3].to_string(),
            worded: c[4].to_string(),
            article,
            paragraph: c[6]
                .parse()
                .map_err(|_| format!("第{}行款无效：{}", n + 1, c[6]))?,
            quote: c[7].to_string(),
            facts: c[8].to_string(),
            source: 0,
        });
    }
    Ok(out)
}
