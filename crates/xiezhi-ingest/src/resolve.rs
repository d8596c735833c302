//! Entity resolution: the same person or case seen by several departments becomes one platform
//! entity, and each merge says why.
//!
//! Persons: the ID number first; without one, name + birth date + household division, and only
//! when that key points at exactly one person who has no other ID number. Cases: any shared
//! department number (police case number, procuratorate case number, indictment number, court
//! case number) joins records into one case.

use std::collections::HashMap;

use xiezhi_standard::Record;
use xiezhi_store::fieldcrypt::KeyBlinder;

/// How a record was bound to an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub uid: String,
    /// `new`, `id_number`, `name_birth_division`, `case_number`, `conflict`.
    pub rule: &'static str,
    pub detail: String,
    /// Keys learned from this record, to be stored.
    pub new_keys: Vec<(String, String)>,
}

/// In-memory resolution state, loaded from the store's keys and extended as records arrive.
#[derive(Debug, Default)]
pub struct Resolver {
    person_keys: HashMap<String, Vec<String>>,
    /// The (blinded) ID-number key each person is known by, if any.
    person_id: HashMap<String, String>,
    case_keys: HashMap<String, String>,
    next_person: i64,
    next_case: i64,
    /// Person keys are kept blinded (a MAC of the ID number, not the number): the store's
    /// index key decides, so lookups compare blinded with blinded.
    blinder: KeyBlinder,
}

/// Masks an ID number for explanations: 5201**********123X.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

impl Resolver {
    pub fn new(
        person_keys: Vec<(String, String)>,
        case_keys: Vec<(String, String)>,
        last_person: i64,
        last_case: i64,
        blinder: KeyBlinder,
    ) -> Resolver {
        let mut r = Resolver {
            next_person: last_person + 1,
            next_case: last_case + 1,
            blinder,
            ..Resolver::default()
        };
        for (k, uid) in person_keys {
            if let Some(id) = k.strip_prefix("id:") {
                r.person_id.insert(uid.clone(), id.to_string());
            }
            r.person_keys.entry(k).or_default().push(uid);
        }
        r.case_keys.extend(case_keys);
        r
    }

    fn new_person_uid(&mut self) -> String {
        let uid = format!("P{:08}", self.next_person);
        self.next_person += 1;
        uid
    }

    /// Resolves a person record (already validated and normalised).
    pub fn person(&mut self, p: &Record) -> Resolution {
        let id = p.text("id_number").map(str::to_string);
        let nbd_plain = match (p.text("name"), p.date("birth_date")) {
            (Some(n), Some(b)) => Some(format!(
                "{n}|{b}|{}",
                p.text("household_division").unwrap_or("")
            )),
            _ => None,
        };
        let nbd = nbd_plain
            .as_ref()
            .map(|k| self.blinder.blind(&format!("nbd:{k}")));
        let id_key = id.as_ref().map(|i| self.blinder.blind(&format!("id:{i}")));
        let by_id = id_key
            .as_ref()
            .and_then(|k| self.person_keys.get(k))
            .and_then(|v| v.first().cloned());
        let (uid, rule, detail) = if let Some(uid) = by_id {
            (
                uid,
                "id_number",
                format!("证件号码一致 {}", mask_id(id.as_deref().unwrap_or(""))),
            )
        } else {
            // Name + birth date + division, only onto a single person with no conflicting ID.
            let candidates: Vec<String> = nbd
                .as_ref()
                .and_then(|k| self.person_keys.get(k))
                .map(|v| {
                    v.iter()
                        .filter(|uid| id.is_none() || !self.person_id.contains_key(*uid))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            match candidates.as_slice() {
                [one] => (
                    one.clone(),
                    "name_birth_division",
                    format!(
                        "姓名、出生日期、户籍地一致：{}",
                        nbd_plain.as_deref().unwrap_or("")
                    ),
                ),
                [] => (self.new_person_uid(), "new", "首次出现".to_string()),
                many => (
                    self.new_person_uid(),
                    "new",
                    format!(
                        "姓名、出生日期、户籍地对应 {} 人，无法确定，另立新人员",
                        many.len()
                    ),
                ),
            }
        };
        let mut new_keys = Vec::new();
        if let Some(key) = id_key {
            if !self.person_keys.contains_key(&key) {
                self.person_keys.insert(key.clone(), vec![uid.clone()]);
                self.person_id.insert(uid.clone(), key.clone());
                new_keys.push((key, uid.clone()));
            }
        }
        if let Some(k) = nbd {
            let uids = self.person_keys.entry(k.clone()).or_default();
            if !uids.contains(&uid) {
                uids.push(uid.clone());
                new_keys.push((k, uid.clone()));
            }
        }
        Resolution {
            uid,
            rule,
            detail,
            new_keys,
        }
    }

    /// Resolves a case record by its department numbers.
    pub fn case(&mut self, c: &Record) -> Resolution {
        let keys: Vec<(String, &str)> = [
            ("police:", "police_case_no", "公安案件编号"),
            ("proc:", "procuratorate_case_no", "检察受案号"),
            ("indict:", "indictment_no", "起诉书文号"),
            ("court:", "court_case_no", "法院案号"),
        ]
        .iter()
        .filter_map(|(prefix, field, zh)| c.text(field).map(|v| (format!("{prefix}{v}"), *zh)))
        .collect();
        let mut known: Vec<(String, &str, &str)> = keys
            .iter()
            .filter_map(|(k, zh)| {
                self.case_keys
                    .get(k)
                    .map(|uid| (uid.clone(), *zh, k.split_once(':').map_or("", |s| s.1)))
            })
            .collect();
        known.sort();
        let distinct = {
            let mut u: Vec<&String> = known.iter().map(|(uid, _, _)| uid).collect();
            u.dedup();
            u.len()
        };
        let (uid, rule, detail) = match known.first() {
            None => {
                let uid = format!("C{:08}", self.next_case);
                self.next_case += 1;
                (uid, "new", "首次出现".to_string())
            }
            Some((uid, zh, v)) if distinct == 1 => {
                (uid.clone(), "case_number", format!("{zh}一致：{v}"))
            }
            Some((uid, _, _)) => (
                uid.clone(),
                "conflict",
                format!("案件编号指向 {distinct} 个不同案件，归入 {uid}，待人工核对"),
            ),
        };
        let mut new_keys = Vec::new();
        for (k, _) in keys {
            if !self.case_keys.contains_key(&k) {
                self.case_keys.insert(k.clone(), uid.clone());
                new_keys.push((k, uid.clone()));
            }
        }
        Resolution {
            uid,
            rule,
            detail,
            new_keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use xiezhi_standard::{Entity, Value};

    fn person(name: &str, id: Option<&str>, birth: (i32, u32, u32)) -> Record {
        let mut r = Record::new(Entity::Person);
        r.set("name", Value::Text(name.into())).unwrap();
        if let Some(id) = id {
            r.set("id_number", Value::Text(id.into())).unwrap();
        }
        r.set(
            "birth_date",
            Value::Date(NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap()),
        )
        .unwrap();
        r.set("household_division", Value::Code("520102".into()))
            .unwrap();
        r
    }

    #[test]
    fn id_first_then_name_birth_division() {
        let mut r = Resolver::default();
        let a = r.person(&person("张三", Some("A"), (1990, 1, 1)));
        assert_eq!(a.rule, "new");
        assert_eq!(
            r.person(&person("张三", Some("A"), (1990, 1, 1))).uid,
            a.uid
        );
        let b = r.person(&person("张三", None, (1990, 1, 1)));
        assert_eq!(
            (b.uid.as_str(), b.rule),
            (a.uid.as_str(), "name_birth_division")
        );
        // Same name and birth but another ID: a different person.
        let c = r.person(&person("张三", Some("B"), (1990, 1, 1)));
        assert_ne!(c.uid, a.uid);
        // Now the fallback key is ambiguous: a new person, explained.
        let d = r.person(&person("张三", None, (1990, 1, 1)));
        assert!(d.uid != a.uid && d.uid != c.uid && d.detail.contains("无法确定"));
    }

    #[test]
    fn id_less_first_sighting_is_joined_by_later_id() {
        let mut r = Resolver::default();
        let a = r.person(&person("李四", None, (1980, 5, 6)));
        let b = r.person(&person("李四", Some("X"), (1980, 5, 6)));
        assert_eq!(
            (b.uid.as_str(), b.rule),
            (a.uid.as_str(), "name_birth_division")
        );
        assert_eq!(
            r.person(&person("李四", Some("X"), (1980, 5, 6))).rule,
            "id_number"
        );
    }

    #[test]
    fn cases_join_through_any_shared_number() {
        let mut r = Resolver::default();
        let mut police = Record::new(Entity::Case);
        police
            .set("police_case_no", Value::Text("A1".into()))
            .unwrap();
        let a = r.case(&police);
        let mut proc_ = Record::new(Entity::Case);
        proc_
            .set("police_case_no", Value::Text("A1".into()))
            .unwrap();
        proc_
            .set("indictment_no", Value::Text("南明检刑诉〔2023〕1号".into()))
            .unwrap();
        assert_eq!(r.case(&proc_).uid, a.uid);
        let mut court = Record::new(Entity::Case);
        court
            .set("indictment_no", Value::Text("南明检刑诉〔2023〕1号".into()))
            .unwrap();
        court
            .set("court_case_no", Value::Text("（2023）黔0102刑初1号".into()))
            .unwrap();
        let c = r.case(&court);
        assert_eq!((c.uid.as_str(), c.rule), (a.uid.as_str(), "case_number"));
        assert_eq!(mask_id("11010519491231002X"), "1101**********002X");
    }
}
