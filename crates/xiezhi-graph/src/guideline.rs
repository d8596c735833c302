//! The sentencing guideline (量刑指导意见, 法发〔2021〕21号) as `domain-facts.md` records it:
//! §3.4 the starting-point bands (量刑起点) per crime and §3.3 the circumstances (量刑情节) with
//! their adjustment of the base penalty. Read from the tables themselves, so every number is the
//! source's; a row's confidence flag ([C] confirmed, [P] partial, [U] unconfirmed) is kept.

/// The file the guideline is read from, relative to the reference directory.
pub const GUIDELINE_FILE: &str = "domain-facts.md";
/// The guideline's identity, cited with every band and circumstance.
pub const GUIDELINE_DOC: &str =
    "《最高人民法院 最高人民检察院关于常见犯罪的量刑指导意见（试行）》（法发〔2021〕21号）";

/// One starting-point band of a guideline crime.
#[derive(Debug, Clone)]
pub struct StartingPoint {
    /// The crime as the table names it (`妨害公务罪` from `妨害公务罪 (incl. 袭警)`).
    pub crime: String,
    /// Row number in §3.4.
    pub row: u32,
    /// The band's condition as written (`巨大/严重`, `1 重伤`), empty when the row lists bands only.
    pub label: String,
    /// The condition in Chinese (the label itself where it is Chinese).
    pub label_zh: String,
    /// Starting point in months; from 拘役 (one month, 刑法 第四十二条) when `from_detention`.
    pub min_months: u32,
    pub max_months: u32,
    pub from_detention: bool,
    /// True for a band that is the declared sentence itself (危险驾驶: 拘役 1–6 months).
    pub detention_only: bool,
    /// The band as the row writes it.
    pub quote: String,
    /// [C] / [P] / [U].
    pub flag: String,
    pub source: usize,
}

impl StartingPoint {
    pub fn cite(&self) -> String {
        format!("{GUIDELINE_DOC} 四；{GUIDELINE_FILE} §3.4 第{}行", self.row)
    }

    pub fn chinese(&self) -> String {
        let range = if self.detention_only {
            format!(
                "拘役{}至{}个月（不设量刑起点）",
                self.min_months, self.max_months
            )
        } else if self.from_detention {
            format!("拘役至{}有期徒刑", crate::penalty::months(self.max_months))
        } else if self.min_months == self.max_months {
            format!("{}有期徒刑", crate::penalty::months(self.min_months))
        } else {
            format!(
                "{}至{}有期徒刑",
                crate::penalty::months(self.min_months),
                crate::penalty::months(self.max_months)
            )
        };
        if self.label_zh.is_empty() {
            range
        } else {
            format!("{}：{}", self.label_zh, range)
        }
    }
}

/// One sentencing circumstance and its adjustment of the base penalty.
#[derive(Debug, Clone)]
pub struct Circumstance {
    /// Chinese name (`自首`, `未成年人（已满十二周岁不满十六周岁）`).
    pub name: String,
    /// The circumstance cell as written.
    pub written: String,
    /// Adjustment in percent of the base penalty, lowest and highest (`自首`: −40..0).
    pub min_pct: i32,
    pub max_pct: i32,
    /// The adjustment cell as written (its first ratio is the one applied).
    pub quote: String,
    /// 1: applied first, multiplying (§二: 未成年人, 未遂, 从犯 …); 2: summed, then applied.
    pub tier: u8,
    pub row: u32,
    pub source: usize,
}

impl Circumstance {
    pub fn cite(&self) -> String {
        format!("{GUIDELINE_DOC} 三；{GUIDELINE_FILE} §3.3 第{}行", self.row)
    }

    pub fn chinese(&self) -> String {
        match (self.min_pct, self.max_pct) {
            (lo, 0) if lo < 0 => format!("可以减少基准刑的{}%以下", -lo),
            (0, hi) if hi > 0 => format!("可以增加基准刑的{hi}%以下"),
            (lo, hi) if hi < 0 => format!("减少基准刑的{}%-{}%", -hi, -lo),
            (lo, hi) => format!("增加基准刑的{lo}%-{hi}%"),
        }
    }
}

/// Chinese names for the circumstances §3.3 writes in English.
const NAMES: &[(&str, &str)] = &[
    ("Juvenile 12–<16", "未成年人（已满十二周岁不满十六周岁）"),
    ("Juvenile 16–<18", "未成年人（已满十六周岁不满十八周岁）"),
    ("≥75 intentional crime", "已满七十五周岁的老年人故意犯罪"),
    ("Deaf-mute or blind", "又聋又哑的人或者盲人"),
    ("Attempt", "未遂犯"),
    ("Accomplice", "从犯"),
    (
        "Compensation and forgiveness",
        "积极赔偿被害人经济损失并取得谅解",
    ),
    ("Good conduct in custody", "羁押期间表现好"),
    (
        "Vulnerable victims",
        "犯罪对象为未成年人、老年人、残疾人、孕妇等弱势人员",
    ),
    (
        "During major disaster",
        "在重大自然灾害、突发传染病疫情等灾害期间故意犯罪",
    ),
];

/// Chinese wording for the band conditions §3.4 writes in English (the numbers stay the row's).
const LABELS: &[(&str, &str)] = &[
    ("basic", "基本犯罪构成"),
    (
        "flight or especially bad",
        "交通运输肇事后逃逸或者有其他特别恶劣情节",
    ),
    ("flight causing 1 death", "因逃逸致一人死亡"),
    (
        "no starting point: declared sentence within",
        "不设量刑起点，在此幅度内确定宣告刑",
    ),
    ("1 轻伤", "故意伤害致一人轻伤"),
    ("1 重伤", "致一人重伤"),
    (
        "especially cruel causing 1 重伤 with grade-6 severe disability",
        "以特别残忍手段故意伤害致一人重伤，造成六级严重残疾",
    ),
    ("1 woman", "强奸妇女一人"),
    ("1 girl (<14)", "奸淫幼女（不满十四周岁）一人"),
    (
        "aggravated (8 statutory cases, 1 重伤)",
        "有法定八种加重情形之一或者致一人重伤",
    ),
    ("aggravated", "有法定加重情节"),
    ("1 death", "致一人死亡"),
    ("1 robbery", "抢劫一次"),
    (
        "较大 / 2 y-3 times / 入户 / 凶器 / 扒窃",
        "数额较大或者二年内盗窃三次，或者入户盗窃、携带凶器盗窃、扒窃",
    ),
    ("较大 or 3 times in 2 y", "数额较大或者二年内敲诈勒索三次"),
    (
        "袭警 with gun/knife/vehicle",
        "袭警，使用枪支、管制刀具或者驾驶机动车撞击",
    ),
    ("once", "寻衅滋事一次"),
    ("gathering others 3 times", "纠集他人三次寻衅滋事"),
    (
        "heroin/meth ≥50 g etc.",
        "海洛因、甲基苯丙胺五十克以上或者其他毒品数量大",
    ),
    ("10 g band", "海洛因、甲基苯丙胺十克或者其他毒品数量较大"),
    ("<10 g", "海洛因、甲基苯丙胺不满十克或者其他少量毒品"),
    ("情节严重 (small qty)", "情节严重（毒品数量少）"),
    ("inducing girl <14", "引诱不满十四周岁的幼女卖淫"),
];

/// A band's condition in Chinese: the table's own wording when it is Chinese.
fn label_zh(label: &str) -> String {
    LABELS
        .iter()
        .find(|(en, _)| *en == label)
        .map_or_else(|| label.to_string(), |(_, zh)| zh.to_string())
}

/// The rows of the markdown table that follows the heading starting `heading`.
fn table_rows<'a>(text: &'a str, heading: &str) -> Vec<(usize, Vec<&'a str>)> {
    let mut out = Vec::new();
    let mut inside = false;
    let mut started = false;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            if inside {
                break;
            }
            inside = line.starts_with(heading);
            continue;
        }
        if !inside {
            continue;
        }
        if line.starts_with('|') {
            started = true;
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            if cells
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
            {
                continue;
            }
            out.push((n + 1, cells));
        } else if started {
            break;
        }
    }
    // The first row is the header.
    if !out.is_empty() {
        out.remove(0);
    }
    out
}

fn unbold(s: &str) -> String {
    s.replace("**", "")
}

/// §3.4 of `domain-facts.md`: every band of every row.
pub fn parse_starting_points(text: &str) -> Result<Vec<StartingPoint>, String> {
    let rows = table_rows(text, "### 3.4");
    if rows.is_empty() {
        return Err("§3.4 量刑起点表未找到".into());
    }
    let mut out = Vec::new();
    for (line, cells) in rows {
        if cells.len() < 4 {
            return Err(format!("第{line}行列数不足"));
        }
        let row: u32 = cells[0]
            .parse()
            .map_err(|_| format!("第{line}行序号无效"))?;
        let crime = cells[1]
            .split(" (")
            .next()
            .unwrap_or(cells[1])
            .trim()
            .to_string();
        let flag = ["[C]", "[P]", "[U]"]
            .into_iter()
            .find(|f| cells[3].contains(f))
            .unwrap_or("[U]")
            .to_string();
        let mut found = 0;
        for seg in unbold(cells[2]).split(';') {
            let seg = seg.trim();
            let Some((at, band)) = find_band(seg) else {
                continue;
            };
            let label = seg[..at].trim().trim_end_matches(':').trim().to_string();
            out.push(StartingPoint {
                crime: crime.clone(),
                row,
                label_zh: label_zh(&label),
                label,
                min_months: band.0,
                max_months: band.1,
                from_detention: band.2,
                detention_only: band.3,
                quote: seg.to_string(),
                flag: flag.clone(),
                source: 0,
            });
            found += 1;
        }
        if found == 0 {
            return Err(format!("§3.4 第{row}行（{crime}）无量刑起点幅度"));
        }
    }
    Ok(out)
}

/// The first band written in `seg`: `≤Ny[/拘役]`, `N–My`, `Ny`, `N–M months 拘役`.
/// Returns its byte offset and (min months, max months, from 拘役, 拘役 only).
fn find_band(seg: &str) -> Option<(usize, (u32, u32, bool, bool))> {
    let b = seg.as_bytes();
    let num = |i: usize| -> (u32, usize) {
        let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        (seg[i..i + n].parse().unwrap_or(0), n)
    };
    for (i, ch) in seg.char_indices() {
        if ch == '≤' {
            let j = i + ch.len_utf8();
            let (n, k) = num(j);
            if k > 0 && seg[j + k..].starts_with('y') {
                let det = seg[j + k + 1..].starts_with("/拘役");
                let min = if det {
                    1
                } else {
                    crate::penalty::FIXED_TERM_MIN
                };
                return Some((i, (min, n * 12, det, false)));
            }
        }
        let boundary = i == 0 || !b[i - 1].is_ascii_digit();
        if ch.is_ascii_digit() && boundary {
            let (a, k) = num(i);
            let rest = &seg[i + k..];
            if let Some(r) = rest.strip_prefix('–') {
                let j = i + k + '–'.len_utf8();
                let (c, k2) = num(j);
                if k2 == 0 {
                    continue;
                }
                let after = &r[k2..];
                if after.starts_with('y') {
                    return Some((i, (a * 12, c * 12, false, false)));
                }
                if after.starts_with(" months 拘役") {
                    return Some((i, (a, c, true, true)));
                }
            } else if rest.starts_with('y') && !rest[1..].starts_with(|c: char| c.is_alphabetic()) {
                return Some((i, (a * 12, a * 12, false, false)));
            }
        }
    }
    None
}

/// §3.3 of `domain-facts.md`: every circumstance with its first adjustment ratio.
pub fn parse_circumstances(text: &str) -> Result<Vec<Circumstance>, String> {
    let rows = table_rows(text, "### 3.3");
    if rows.is_empty() {
        return Err("§3.3 调节比例表未找到".into());
    }
    let mut out = Vec::new();
    for (k, (line, cells)) in rows.into_iter().enumerate() {
        if cells.len() < 3 {
            return Err(format!("第{line}行列数不足"));
        }
        let written = unbold(cells[0]);
        let adj = unbold(cells[1]);
        let (min_pct, max_pct) =
            first_ratio(&adj).ok_or_else(|| format!("第{line}行（{written}）无调节比例"))?;
        let tier = if cells[2].starts_with("1st") { 1 } else { 2 };
        out.push(Circumstance {
            name: chinese_name(&written),
            written,
            min_pct,
            max_pct,
            quote: adj,
            tier,
            row: k as u32 + 1,
            source: 0,
        });
    }
    Ok(out)
}

fn chinese_name(written: &str) -> String {
    if let Some((_, zh)) = NAMES.iter().find(|(en, _)| written.starts_with(en)) {
        return zh.to_string();
    }
    // A cell opening with its Chinese name: `坦白 (truthful confession)`, `刑事和解 (CPL 288)`.
    written
        .split([' ', '('])
        .next()
        .unwrap_or(written)
        .trim()
        .to_string()
}

/// `−30 % to −60 %` → (−60, −30); `up to −40 %` → (−40, 0); `+10 % to +40 %` → (10, 40).
pub(crate) fn first_ratio(s: &str) -> Option<(i32, i32)> {
    let s = s.replace('−', "-").replace(" %", "%");
    let pct = |t: &str| -> Option<i32> { t.trim().trim_end_matches('%').parse().ok() };
    let up = s.find("up to ");
    let range = s.find(['-', '+']).and_then(|i| {
        let rest = &s[i..];
        let end = rest.find('%')?;
        let a = pct(&rest[..end])?;
        let after = rest[end + 1..].strip_prefix(" to ")?;
        let e2 = after.find('%')?;
        let b = pct(&after[..e2])?;
        Some((i, a.min(b), a.max(b)))
    });
    match (up, range) {
        (Some(u), r) if r.is_none_or(|r| u < r.0) => {
            let rest = &s[u + "up to ".len()..];
            let v = pct(&rest[..rest.find('%')?])?;
            Some(if v < 0 { (v, 0) } else { (0, v) })
        }
        (_, Some((_, a, b))) => Some((a, b)),
        _ => None,
    }
}

/// The guideline's 施行 date as §3.1 states it (`in force **2021-07-01**`).
pub fn guideline_in_force(text: &str) -> Option<chrono::NaiveDate> {
    let section = text.split("### 3.1").nth(1)?;
    let at = section.find("in force **")? + "in force **".len();
    chrono::NaiveDate::parse_from_str(section.get(at..at + 10)?, "%Y-%m-%d").ok()
}
