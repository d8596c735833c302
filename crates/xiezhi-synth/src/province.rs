//! The province: its GB/T 2260 divisions and its political-legal organs.
//!
//! Province level: 政法委, 公安厅, 省人民检察院, 高级人民法院, 司法厅 and 3–6 prisons. Each
//! prefecture: 公安局, 人民检察院, 中级人民法院, 司法局. Each county-level division: 公安局 (分局 in a
//! city district), 人民检察院, 人民法院, 司法局, 看守所, 社区矫正管理局.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use xiezhi_standard::codes::{division, table, CodeTable};
use xiezhi_standard::validate::case_no::{court_code_for, CourtLevel};
use xiezhi_standard::validate::credit_code;

use crate::SynthError;

/// Organ kinds, as the standard's organ-kind codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Zfw,
    Police,
    Procuratorate,
    Court,
    JusticeBureau,
    Prison,
    DetentionCenter,
    CommunityCorrections,
}

impl Kind {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Kind::Zfw => "zfw",
            Kind::Police => "police",
            Kind::Procuratorate => "procuratorate",
            Kind::Court => "court",
            Kind::JusticeBureau => "justice_bureau",
            Kind::Prison => "prison",
            Kind::DetentionCenter => "detention_center",
            Kind::CommunityCorrections => "community_corrections",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Zfw => "ZF",
            Kind::Police => "GA",
            Kind::Procuratorate => "JC",
            Kind::Court => "FY",
            Kind::JusticeBureau => "SF",
            Kind::Prison => "JY",
            Kind::DetentionCenter => "KS",
            Kind::CommunityCorrections => "SJ",
        }
    }
}

/// One organ, a row of `organizations.csv`.
#[derive(Debug, Clone)]
pub(crate) struct Organ {
    pub org_code: String,
    pub name: String,
    pub kind: Kind,
    pub division: String,
    pub parent: Option<usize>,
    pub credit_code: String,
    pub court_code: String,
}

/// A county-level division and the indexes of its organs.
#[derive(Debug, Clone)]
pub(crate) struct County {
    pub code: &'static str,
    /// `南明区`.
    pub name: &'static str,
    /// Address prefix: `贵州省贵阳市南明区`.
    pub address_prefix: String,
    /// Abbreviation used in procuratorate numbers: `南明`.
    pub short: String,
    /// A city district (streets and buildings) rather than a county (towns and villages).
    pub urban: bool,
    pub weight: u32,
    pub police: usize,
    pub procuratorate: usize,
    pub court: usize,
    pub corrections: usize,
}

#[derive(Debug)]
pub(crate) struct Province {
    pub code: String,
    pub organs: Vec<Organ>,
    pub counties: Vec<County>,
    /// Cumulative case weights of `counties`.
    pub county_cumulative: Vec<u32>,
    /// Men's prisons (organ indexes).
    pub prisons: Vec<usize>,
    pub women_prison: usize,
}

impl Province {
    /// Builds the province `XX` (two digits) from the division table.
    pub(crate) fn build(code2: &str, rng: &mut ChaCha8Rng) -> Result<Province, SynthError> {
        let bad = |why: &str| SynthError::Config(format!("province `{code2}`: {why}"));
        if code2.len() != 2 || !code2.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("must be a two-digit GB/T 2260 province code"));
        }
        let code = format!("{code2}0000");
        let entry = division::get(&code).ok_or_else(|| bad("no such province"))?;
        let pname = entry.name.as_str();
        let abbr = court_code_for(&code, CourtLevel::High)
            .ok_or_else(|| bad("no court abbreviation is known for it"))?;
        let counties_all = division::counties_under(&code);
        if counties_all.is_empty() {
            return Err(bad("it has no county-level divisions"));
        }

        let mut b = Builder {
            organs: Vec::new(),
            rng,
            bodies: std::collections::BTreeSet::new(),
        };
        let zfw_name = if pname.ends_with("自治区") {
            format!("中共{pname}党委政法委员会")
        } else {
            format!("中共{pname}委政法委员会")
        };
        b.add(Kind::Zfw, zfw_name, &code, None, "");
        let municipality = pname.ends_with('市');
        let p_police = b.add(
            Kind::Police,
            format!(
                "{pname}{}",
                if municipality {
                    "公安局"
                } else {
                    "公安厅"
                }
            ),
            &code,
            None,
            "",
        );
        let p_proc = b.add(
            Kind::Procuratorate,
            format!("{pname}人民检察院"),
            &code,
            None,
            "",
        );
        let p_court = b.add(
            Kind::Court,
            format!("{pname}高级人民法院"),
            &code,
            None,
            &abbr,
        );
        let p_justice = b.add(
            Kind::JusticeBureau,
            format!(
                "{pname}{}",
                if municipality {
                    "司法局"
                } else {
                    "司法厅"
                }
            ),
            &code,
            None,
            "",
        );
        let n_prisons = b.rng.gen_range(3..=6);
        let names: Vec<String> = if code2 == "52" {
            [
                "女子监狱",
                "羊艾监狱",
                "息烽监狱",
                "都匀监狱",
                "北郊监狱",
                "凯里监狱",
            ]
            .iter()
            .map(|n| format!("{pname}{n}"))
            .collect()
        } else {
            [
                "女子监狱",
                "第一监狱",
                "第二监狱",
                "第三监狱",
                "第四监狱",
                "第五监狱",
            ]
            .iter()
            .map(|n| format!("{pname}{n}"))
            .collect()
        };
        let mut prisons = Vec::new();
        for name in names.into_iter().take(n_prisons) {
            prisons.push(b.add(Kind::Prison, name, &code, Some(p_justice), ""));
        }
        let women_prison = prisons.remove(0);

        // Prefectures in code order, each with its counties.
        let mut prefectures: Vec<String> = counties_all
            .iter()
            .filter_map(|c| division::prefecture_of(&c.code))
            .collect();
        prefectures.sort_unstable();
        prefectures.dedup();
        let mut counties = Vec::new();
        for pref in &prefectures {
            let pref_entry = division::get(pref);
            let pref_name = match pref_entry.map(|e| e.name.as_str()) {
                Some(n) if !matches!(n, "市辖区" | "县" | "省直辖县级行政区划") => {
                    n.to_string()
                }
                _ => pname.to_string(),
            };
            let court_name = if pref_name == pname {
                format!("{pname}第{}中级人民法院", chinese_ordinal(&pref[2..4]))
            } else {
                format!("{pref_name}中级人民法院")
            };
            let c_police = b.add(
                Kind::Police,
                format!("{pref_name}公安局"),
                pref,
                Some(p_police),
                "",
            );
            let c_proc = b.add(
                Kind::Procuratorate,
                format!("{pref_name}人民检察院"),
                pref,
                Some(p_proc),
                "",
            );
            let court_code = court_code_for(pref, CourtLevel::Intermediate).unwrap_or_default();
            let c_court = b.add(Kind::Court, court_name, pref, Some(p_court), &court_code);
            let c_justice = b.add(
                Kind::JusticeBureau,
                format!("{pref_name}司法局"),
                pref,
                Some(p_justice),
                "",
            );
            let prefix = pref.trim_end_matches("00");
            for c in counties_all.iter().filter(|c| c.code.starts_with(prefix)) {
                let name = c.name.as_str();
                let district = name.ends_with('区') && !name.ends_with("特区");
                let full_name = if district && pref_name != name {
                    format!("{pref_name}{name}")
                } else {
                    name.to_string()
                };
                let address_prefix = if pref_name == pname {
                    format!("{pname}{name}")
                } else {
                    format!("{pname}{pref_name}{name}")
                };
                let police_name = if district && !pref_name.ends_with("州") {
                    format!("{pref_name}公安局{}分局", short_name(name))
                } else {
                    format!("{name}公安局")
                };
                let police = b.add(Kind::Police, police_name, &c.code, Some(c_police), "");
                let procuratorate = b.add(
                    Kind::Procuratorate,
                    format!("{full_name}人民检察院"),
                    &c.code,
                    Some(c_proc),
                    "",
                );
                let basic = court_code_for(&c.code, CourtLevel::Basic).unwrap_or_default();
                let court = b.add(
                    Kind::Court,
                    format!("{full_name}人民法院"),
                    &c.code,
                    Some(c_court),
                    &basic,
                );
                let justice = b.add(
                    Kind::JusticeBureau,
                    format!("{full_name}司法局"),
                    &c.code,
                    Some(c_justice),
                    "",
                );
                b.add(
                    Kind::DetentionCenter,
                    format!("{full_name}看守所"),
                    &c.code,
                    Some(police),
                    "",
                );
                let corrections = b.add(
                    Kind::CommunityCorrections,
                    format!("{full_name}社区矫正管理局"),
                    &c.code,
                    Some(justice),
                    "",
                );
                let weight = if district {
                    4
                } else if name.ends_with('市') {
                    3
                } else {
                    2
                };
                counties.push(County {
                    code: c.code.as_str(),
                    name,
                    address_prefix,
                    short: short_name(name),
                    urban: district,
                    weight,
                    police,
                    procuratorate,
                    court,
                    corrections,
                });
            }
        }
        let mut acc = 0;
        let county_cumulative = counties
            .iter()
            .map(|c| {
                acc += c.weight;
                acc
            })
            .collect();
        Ok(Province {
            code,
            organs: b.organs,
            counties,
            county_cumulative,
            prisons,
            women_prison,
        })
    }

    /// A division code of the province's form that exists in no division table.
    pub(crate) fn unknown_division(&self) -> String {
        let p = &self.code[..2];
        (1..=99)
            .rev()
            .map(|n| format!("{p}99{n:02}"))
            .find(|c| table(CodeTable::Division).get(c).is_none())
            .unwrap_or_else(|| format!("{p}9999"))
    }
}

struct Builder<'a> {
    organs: Vec<Organ>,
    rng: &'a mut ChaCha8Rng,
    bodies: std::collections::BTreeSet<String>,
}

impl Builder<'_> {
    fn add(
        &mut self,
        kind: Kind,
        name: String,
        division: &str,
        parent: Option<usize>,
        court_code: &str,
    ) -> usize {
        let serial = self
            .organs
            .iter()
            .filter(|o| o.kind.prefix() == kind.prefix() && o.division == division)
            .count()
            + 1;
        let org_code = format!("{}{division}{serial:02}", kind.prefix());
        // Organisation-code body of a government organ: digits, unique in the province.
        let body = loop {
            let b = format!("{:08}", self.rng.gen_range(0..100_000_000u32));
            if self.bodies.insert(b.clone()) {
                break b;
            }
        };
        let credit_code = credit_code::compose_organ(division, &body).unwrap_or_default();
        self.organs.push(Organ {
            org_code,
            name,
            kind,
            division: division.to_string(),
            parent,
            credit_code,
            court_code: court_code.to_string(),
        });
        self.organs.len() - 1
    }
}

/// `南明区` → `南明`, `道真仡佬族苗族自治县` → `道真`, `六枝特区` → `六枝`.
pub(crate) fn short_name(name: &str) -> String {
    if name.contains("自治") {
        return name.chars().take(2).collect();
    }
    let mut s = name;
    for suffix in ["特区", "新区", "林区", "区", "县", "市", "旗"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest;
            break;
        }
    }
    if s.is_empty() {
        name.to_string()
    } else {
        s.to_string()
    }
}

fn chinese_ordinal(two_digits: &str) -> &'static str {
    const N: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    let n: usize = two_digits.parse().unwrap_or(1);
    N[n.clamp(1, 10) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiezhi_standard::validate::case_no::parse_court_case_no;

    fn guizhou() -> Province {
        Province::build("52", &mut crate::util::stream(1, 1)).unwrap()
    }

    #[test]
    fn guizhou_organs_are_complete_and_valid() {
        let p = guizhou();
        assert_eq!(p.counties.len(), 88);
        let mut codes: Vec<&str> = p.organs.iter().map(|o| o.org_code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), p.organs.len(), "org codes are unique");
        for o in &p.organs {
            credit_code::check(&o.credit_code).unwrap();
            assert_eq!(o.org_code.len(), 10);
            assert!(table(CodeTable::OrganKind).get(o.kind.code()).is_some());
            if o.kind == Kind::Court {
                let c = parse_court_case_no(&format!("（2023）{}刑初1号", o.court_code)).unwrap();
                assert!(c.court_matches_division(&o.division), "{o:?}");
            }
        }
        let nanming = p.counties.iter().find(|c| c.code == "520102").unwrap();
        assert_eq!(p.organs[nanming.court].name, "贵阳市南明区人民法院");
        assert_eq!(p.organs[nanming.court].court_code, "黔0102");
        assert_eq!(p.organs[nanming.court].org_code, "FY52010201");
        assert_eq!(p.organs[nanming.police].name, "贵阳市公安局南明分局");
        let parent = p.organs[nanming.court].parent.unwrap();
        assert_eq!(p.organs[parent].court_code, "黔01");
        let high = p.organs[parent].parent.unwrap();
        assert_eq!(p.organs[high].court_code, "黔");
        assert_eq!(p.organs[high].parent, None);
        assert!((3..=6).contains(&(p.prisons.len() + 1)));
        assert_eq!(p.unknown_division(), "529999");
    }

    #[test]
    fn short_names() {
        assert_eq!(short_name("南明区"), "南明");
        assert_eq!(short_name("道真仡佬族苗族自治县"), "道真");
        assert_eq!(short_name("六枝特区"), "六枝");
        assert_eq!(short_name("清镇市"), "清镇");
    }

    #[test]
    fn other_provinces_build() {
        for p in ["11", "44", "45", "65"] {
            let prov = Province::build(p, &mut crate::util::stream(1, 1)).unwrap();
            assert!(!prov.counties.is_empty());
        }
        assert!(Province::build("99", &mut crate::util::stream(1, 1)).is_err());
        assert!(Province::build("5", &mut crate::util::stream(1, 1)).is_err());
    }
}
