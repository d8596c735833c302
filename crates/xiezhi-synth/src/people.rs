//! Persons: names, valid 18-digit ID numbers, ethnicity, household division, address, phone.
//!
//! Every character used is in GBK, so the police export can encode every clean record.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use xiezhi_standard::codes::{division, table, CodeEntry, CodeTable};
use xiezhi_standard::validate::id_number::compose;

use crate::province::Province;
use crate::util::{add_days, chance, pick};

/// What a person's earlier conviction means for a later case.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prior {
    /// The day the earlier judgment took effect.
    pub effective: NaiveDate,
    /// Release from a prison term (有期徒刑 actually served), for 累犯.
    pub released: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub name: String,
    /// Characters of the surname (1, or 2 for 欧阳 …), to write `张某某`.
    pub surname_chars: usize,
    pub male: bool,
    pub birth: NaiveDate,
    pub ethnicity: &'static CodeEntry,
    /// GB/T 2260 code of the household registration (户籍地), the ID's first six digits.
    pub household: &'static str,
    pub id_number: String,
    pub address: String,
    pub phone: String,
    /// County index of residence (where community corrections take place).
    pub residence: usize,
    /// Cases this person appears in so far.
    pub cases: u8,
    /// The person is at liberty (and may offend again) from this day on.
    pub free_from: NaiveDate,
    pub prior: Option<Prior>,
}

impl Person {
    /// `张某某`, as police write case names.
    pub(crate) fn masked(&self) -> String {
        let mut s: String = self.name.chars().take(self.surname_chars).collect();
        s.push_str("某某");
        s
    }
}

const SURNAMES: &[(&str, u32)] = &[
    ("王", 710),
    ("李", 700),
    ("张", 670),
    ("刘", 540),
    ("陈", 450),
    ("杨", 340),
    ("黄", 230),
    ("赵", 220),
    ("吴", 220),
    ("周", 190),
    ("徐", 150),
    ("孙", 140),
    ("马", 130),
    ("朱", 120),
    ("胡", 110),
    ("郭", 110),
    ("何", 110),
    ("林", 100),
    ("罗", 110),
    ("高", 100),
    ("郑", 80),
    ("梁", 80),
    ("谢", 70),
    ("宋", 60),
    ("唐", 60),
    ("许", 60),
    ("韩", 50),
    ("冯", 50),
    ("邓", 50),
    ("曹", 50),
    ("彭", 50),
    ("曾", 50),
    ("肖", 50),
    ("田", 60),
    ("董", 40),
    ("袁", 40),
    ("潘", 40),
    ("于", 40),
    ("蒋", 40),
    ("蔡", 40),
    ("余", 40),
    ("杜", 40),
    ("叶", 40),
    ("程", 40),
    ("苏", 40),
    ("魏", 40),
    ("吕", 40),
    ("丁", 40),
    ("任", 30),
    ("沈", 30),
    ("姚", 30),
    ("卢", 30),
    ("姜", 30),
    ("崔", 30),
    ("钟", 30),
    ("谭", 30),
    ("陆", 30),
    ("汪", 30),
    ("范", 30),
    ("金", 30),
    ("石", 40),
    ("廖", 30),
    ("贾", 30),
    ("夏", 30),
    ("韦", 30),
    ("付", 30),
    ("方", 30),
    ("白", 30),
    ("邹", 30),
    ("孟", 30),
    ("熊", 30),
    ("秦", 20),
    ("邱", 20),
    ("江", 20),
    ("尹", 20),
    ("薛", 20),
    ("闫", 20),
    ("段", 20),
    ("雷", 20),
    ("侯", 20),
    ("龙", 40),
    ("史", 20),
    ("陶", 20),
    ("黎", 20),
    ("贺", 20),
    ("顾", 20),
    ("毛", 20),
    ("郝", 20),
    ("龚", 20),
    ("邵", 20),
    ("万", 20),
    ("钱", 20),
    ("严", 20),
    ("覃", 20),
    ("武", 20),
    ("戴", 20),
    ("莫", 20),
    ("孔", 20),
    ("向", 20),
    ("汤", 20),
    ("欧阳", 3),
    ("司马", 1),
    ("诸葛", 1),
    ("上官", 1),
];

const MALE_GIVEN: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "斌", "鹏", "辉", "刚", "建", "平", "华",
    "飞", "波", "林", "宇", "浩", "龙", "峰", "健", "亮", "俊", "鑫", "文", "彬", "海", "东", "成",
    "志", "国", "兴", "洪", "春", "德", "贵", "祥", "宏", "松", "江", "阳", "凯", "旭", "坤", "云",
    "忠", "生", "福", "荣", "学", "永", "顺", "军", "昌", "万", "发", "金", "山", "光", "庆", "家",
];

const FEMALE_GIVEN: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "桂", "英", "秀", "兰", "红", "梅",
    "琳", "萍", "婷", "雪", "慧", "莉", "倩", "琴", "欣", "悦", "颖", "佳", "玉", "凤", "洁", "晶",
    "丹", "璐", "月", "蓉", "珍", "妍", "薇", "春", "平", "金", "美", "小",
];

const ROADS: &[&str] = &[
    "中华北路",
    "中华南路",
    "延安中路",
    "北京路",
    "宝山北路",
    "解放路",
    "新华路",
    "遵义路",
    "人民大道",
    "瑞金南路",
    "沙冲路",
    "花溪大道",
    "黔灵山路",
    "浣纱路",
    "市府路",
    "文昌北路",
    "青云路",
    "兴关路",
    "油榨街",
    "人民路",
    "建设路",
    "和平路",
    "胜利路",
    "民主路",
    "红旗路",
    "幸福路",
    "团结路",
    "滨河路",
    "环城路",
    "中山路",
];

const TOWNS: &[&str] = &[
    "龙场", "新场", "马场", "大塘", "羊场", "青岩", "高坡", "永靖", "城关", "小河", "石门", "兴隆",
    "龙岗", "南江", "沙土", "清水", "桥头", "茅坪", "双龙", "平寨",
];

const VILLAGES: &[&str] = &[
    "新寨", "大寨", "坪上", "田坝", "河坝", "岩脚", "龙井", "水井", "山岔", "坡头", "新民", "团结",
    "大坪", "小寨", "高寨", "沙坝", "白岩", "红星", "中心", "观音",
];

const PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
];

/// Ethnic groups of residents of the province (Guizhou's census shares, roughly), by GB/T 3304
/// code; outsiders are almost all 汉族.
const LOCAL_ETHNICITY: &[(&str, u32)] = &[
    ("01", 6300),
    ("06", 1200),
    ("09", 750),
    ("15", 420),
    ("12", 430),
    ("07", 200),
    ("37", 130),
    ("25", 90),
    ("03", 50),
    ("14", 50),
    ("08", 10),
    ("13", 10),
    ("11", 5),
    ("02", 5),
];
const OUTSIDE_ETHNICITY: &[(&str, u32)] =
    &[("01", 950), ("03", 20), ("08", 15), ("15", 10), ("11", 5)];

/// Provinces that send most migrants into Guizhou.
const NEIGHBOURS_52: &[&str] = &["50", "51", "53", "43", "45"];

pub(crate) struct PeopleGen {
    local_eth: Vec<(&'static CodeEntry, u32)>,
    outside_eth: Vec<(&'static CodeEntry, u32)>,
    inside: Vec<&'static str>,
    outside: Vec<&'static str>,
    neighbours: Vec<&'static str>,
    ids: HashSet<String>,
    keys: HashSet<(String, NaiveDate, &'static str)>,
}

fn ethnicity_table(weights: &[(&str, u32)]) -> Vec<(&'static CodeEntry, u32)> {
    let t = table(CodeTable::Ethnicity);
    weights
        .iter()
        .filter_map(|(code, w)| t.get(code).map(|e| (e, *w)))
        .collect()
}

impl PeopleGen {
    pub(crate) fn new(province: &Province) -> PeopleGen {
        let p2 = &province.code[..2];
        let all: Vec<&'static str> = table(CodeTable::Division)
            .entries()
            .iter()
            .filter(|e| !e.code.ends_with("00") && e.is_current())
            .map(|e| e.code.as_str())
            .collect();
        let outside: Vec<&'static str> = all
            .iter()
            .copied()
            .filter(|c| {
                !c.starts_with(p2)
                    && !matches!(&c[..2], "71" | "81" | "82")
                    && division::province_known(c)
            })
            .collect();
        let neighbours = if p2 == "52" {
            outside
                .iter()
                .copied()
                .filter(|c| NEIGHBOURS_52.contains(&&c[..2]))
                .collect()
        } else {
            Vec::new()
        };
        let mut local_eth = ethnicity_table(LOCAL_ETHNICITY);
        let mut outside_eth = ethnicity_table(OUTSIDE_ETHNICITY);
        if local_eth.is_empty() || outside_eth.is_empty() {
            let first = &table(CodeTable::Ethnicity).entries()[0];
            local_eth = vec![(first, 1)];
            outside_eth = vec![(first, 1)];
        }
        PeopleGen {
            local_eth,
            outside_eth,
            inside: province.counties.iter().map(|c| c.code).collect(),
            outside,
            neighbours,
            ids: HashSet::new(),
            keys: HashSet::new(),
        }
    }

    /// A new person, adult on `offence`, living in `residence` (a county index).
    pub(crate) fn person(
        &mut self,
        rng: &mut ChaCha8Rng,
        province: &Province,
        residence: usize,
        male_pct: u8,
        age: (u8, u8),
        offence: NaiveDate,
    ) -> Person {
        let male = chance(rng, u32::from(male_pct));
        // Age: a triangular-ish draw in the profile's range, birth 1950–2005, adult on the
        // offence date.
        let (lo, hi) = (
            i64::from(age.0.max(18)),
            i64::from(age.1.max(age.0.max(18))),
        );
        let years = (rng.gen_range(lo..=hi) + rng.gen_range(lo..=hi)) / 2;
        let earliest = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default();
        let latest_adult = offence
            .with_year(offence.year() - 18)
            .unwrap_or_else(|| add_days(offence, -(18 * 366)));
        let latest = latest_adult.min(NaiveDate::from_ymd_opt(2005, 12, 31).unwrap_or_default());
        let mut birth = add_days(offence, -(years * 365 + rng.gen_range(0..365)));
        birth = birth.clamp(earliest, latest);

        let residence_code = province.counties[residence].code;
        let roll = rng.gen_range(0..100);
        let (household, outsider) = if roll < 62 {
            (residence_code, false)
        } else if roll < 88 {
            (self.inside[rng.gen_range(0..self.inside.len())], false)
        } else if !self.neighbours.is_empty() && roll < 95 {
            (
                self.neighbours[rng.gen_range(0..self.neighbours.len())],
                true,
            )
        } else if !self.outside.is_empty() {
            (self.outside[rng.gen_range(0..self.outside.len())], true)
        } else {
            (residence_code, false)
        };
        let ethnicity = *pick(
            rng,
            if outsider {
                &self.outside_eth
            } else {
                &self.local_eth
            },
        );

        let (name, surname_chars) = loop {
            let (name, n) = self.name(rng, male);
            if self.keys.insert((name.clone(), birth, household)) {
                break (name, n);
            }
        };
        let id_number = loop {
            let seq = rng.gen_range(0..500u16) * 2 + u16::from(male);
            let Some(id) = compose(household, birth, seq) else {
                continue;
            };
            if self.ids.insert(id.clone()) {
                break id;
            }
        };
        let address = address(rng, province, residence);
        let mut phone = String::with_capacity(11);
        phone.push_str(PHONE_PREFIXES[rng.gen_range(0..PHONE_PREFIXES.len())]);
        for _ in 0..8 {
            phone.push(char::from(b'0' + rng.gen_range(0..10u8)));
        }
        Person {
            name,
            surname_chars,
            male,
            birth,
            ethnicity,
            household,
            id_number,
            address,
            phone,
            residence,
            cases: 0,
            free_from: earliest,
            prior: None,
        }
    }

    fn name(&self, rng: &mut ChaCha8Rng, male: bool) -> (String, usize) {
        let surname = *pick(rng, SURNAMES);
        let given = if male { MALE_GIVEN } else { FEMALE_GIVEN };
        let mut name = String::with_capacity(12);
        name.push_str(surname);
        let n = if chance(rng, 35) { 1 } else { 2 };
        for _ in 0..n {
            name.push_str(given[rng.gen_range(0..given.len())]);
        }
        (name, surname.chars().count())
    }
}

fn address(rng: &mut ChaCha8Rng, province: &Province, county: usize) -> String {
    let c = &province.counties[county];
    let mut s = c.address_prefix.clone();
    if c.urban {
        s.push_str(ROADS[rng.gen_range(0..ROADS.len())]);
        s.push_str(&format!(
            "{}号{}栋{}单元{}",
            rng.gen_range(1..400),
            rng.gen_range(1..30),
            rng.gen_range(1..5),
            rng.gen_range(1..33) * 100 + rng.gen_range(1..9)
        ));
    } else {
        s.push_str(TOWNS[rng.gen_range(0..TOWNS.len())]);
        s.push('镇');
        s.push_str(VILLAGES[rng.gen_range(0..VILLAGES.len())]);
        s.push_str(&format!("村{}组", rng.gen_range(1..13)));
    }
    s
}

/// A place inside a county for a case summary: `南明区新华路`, `开阳县龙岗镇`.
pub(crate) fn place(rng: &mut ChaCha8Rng, province: &Province, county: usize) -> String {
    let c = &province.counties[county];
    let mut s = c.name.to_string();
    if c.urban {
        s.push_str(ROADS[rng.gen_range(0..ROADS.len())]);
    } else {
        s.push_str(TOWNS[rng.gen_range(0..TOWNS.len())]);
        s.push('镇');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiezhi_standard::validate::id_number::parse;

    #[test]
    fn persons_are_valid_adults_with_consistent_sex() {
        let mut rng = crate::util::stream(3, 3);
        let province = Province::build("52", &mut rng).unwrap();
        let mut gen = PeopleGen::new(&province);
        let offence = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
        for i in 0..2000 {
            let p = gen.person(&mut rng, &province, i % 88, 80, (18, 75), offence);
            let id = parse(&p.id_number).unwrap();
            assert!(id.repairs.is_empty() && id.warnings.is_empty(), "{id:?}");
            assert_eq!(id.sex, if p.male { "1" } else { "2" });
            assert_eq!(id.birth_date, p.birth);
            assert!(
                p.birth.year() >= 1950 && p.birth <= NaiveDate::from_ymd_opt(2003, 1, 1).unwrap()
            );
            let text = format!("{}{}", p.name, p.address);
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
            assert!(!unmappable && !bytes.is_empty());
            assert_eq!(p.phone.len(), 11);
        }
    }

    #[test]
    fn masked_names() {
        let mut rng = crate::util::stream(3, 3);
        let province = Province::build("52", &mut rng).unwrap();
        let mut gen = PeopleGen::new(&province);
        let offence = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
        let mut p = gen.person(&mut rng, &province, 0, 100, (30, 30), offence);
        p.name = "欧阳小明".into();
        p.surname_chars = 2;
        assert_eq!(p.masked(), "欧阳某某");
    }
}
