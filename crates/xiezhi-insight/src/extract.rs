//! Extraction from judgment and indictment text in the CAIL information-extraction shapes:
//! CAIL2022 (`sentText`, `entityMentions`, `relationMentions`: drug cases) and CAIL2021
//! (`context`, `entities` with `start;end` spans: theft cases). Entities come from the learned
//! tagger; CAIL2022 relations from fixed statute wording (贩卖, 运输, 持有, 容留 ...).

use serde_json::{json, Value};

use crate::tagger::{Example, Span, Tagger};

/// The annotation shapes understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IeFormat {
    Cail2022,
    Cail2021,
}

impl IeFormat {
    pub fn parse(s: &str) -> Option<IeFormat> {
        match s {
            "cail2022" => Some(IeFormat::Cail2022),
            "cail2021" => Some(IeFormat::Cail2021),
            _ => None,
        }
    }

    /// The field holding the text.
    pub fn text_field(self) -> &'static str {
        match self {
            IeFormat::Cail2022 => "sentText",
            IeFormat::Cail2021 => "context",
        }
    }
}

fn text_of(v: &Value, format: IeFormat) -> Result<String, String> {
    match v.get(format.text_field()) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("field `{}` is not a string", format.text_field())),
        None => Err(format!("missing field `{}`", format.text_field())),
    }
}

fn span_field(e: &Value, key: &str, i: usize) -> Result<usize, String> {
    e.get(key)
        .and_then(Value::as_u64)
        .map(|x| x as usize)
        .ok_or_else(|| format!("entityMentions[{i}]: missing or non-integer `{key}`"))
}

/// Reads one annotated line (gold spans included).
pub fn parse_example(line: &str, format: IeFormat) -> Result<Example, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let text: Vec<char> = text_of(&v, format)?.chars().collect();
    let mut spans = Vec::new();
    match format {
        IeFormat::Cail2022 => {
            let ms = v
                .get("entityMentions")
                .and_then(Value::as_array)
                .ok_or("missing array `entityMentions`")?;
            for (i, e) in ms.iter().enumerate() {
                let label = e
                    .get("label")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("entityMentions[{i}]: missing `label`"))?;
                spans.push(Span {
                    start: span_field(e, "start", i)?,
                    end: span_field(e, "end", i)?,
                    label: label.to_string(),
                });
            }
        }
        IeFormat::Cail2021 => {
            let es = v
                .get("entities")
                .and_then(Value::as_array)
                .ok_or("missing array `entities`")?;
            for (i, e) in es.iter().enumerate() {
                let label = e
                    .get("label")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("entities[{i}]: missing `label`"))?;
                for s in e
                    .get("span")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let s = s.as_str().unwrap_or_default();
                    let (a, b) = s
                        .split_once(';')
                        .ok_or_else(|| format!("entities[{i}]: span `{s}` is not `start;end`"))?;
                    let (start, end) = (a.parse::<usize>(), b.parse::<usize>());
                    let (Ok(start), Ok(end)) = (start, end) else {
                        return Err(format!("entities[{i}]: span `{s}` is not `start;end`"));
                    };
                    spans.push(Span {
                        start,
                        end,
                        label: label.to_string(),
                    });
                }
            }
        }
    }
    for s in &spans {
        if s.start >= s.end || s.end > text.len() {
            return Err(format!(
                "span {}..{} ({}) lies outside the text of {} characters",
                s.start,
                s.end,
                s.label,
                text.len()
            ));
        }
    }
    Ok(Example { text, spans })
}

/// CAIL2022 relations from fixed wording: the defendant (a person after 被告人) `traffic_in`
/// each drug when the sentence speaks of selling, transporting, smuggling or making, `posess`
/// when it speaks of holding; `sell_drugs_to` a later person after 卖给/贩卖给;
/// `provide_shelter_for` a later person after 容留.
pub fn drug_relations(text: &[char], spans: &[Span]) -> Vec<Value> {
    let s: String = text.iter().collect();
    let before = |sp: &Span, k: usize| -> String {
        text[sp.start.saturating_sub(k)..sp.start].iter().collect()
    };
    let people: Vec<&Span> = spans.iter().filter(|x| x.label == "Nh").collect();
    let drugs: Vec<&Span> = spans.iter().filter(|x| x.label == "NDR").collect();
    let Some(defendant) = people
        .iter()
        .find(|p| before(p, 3).ends_with("被告人"))
        .copied()
    else {
        return Vec::new();
    };
    let txt = |sp: &Span| -> String { text[sp.start..sp.end].iter().collect() };
    let rel = |a: &Span, b: &Span, label: &str| json!({"e1start": a.start, "em1Text": txt(a), "e21start": b.start, "em2Text": txt(b), "label": label});
    let mut out = Vec::new();
    let trade = ["贩卖", "运输", "走私", "制造", "出售", "销售"]
        .iter()
        .any(|w| s.contains(w));
    let hold = s.contains("持有") || s.contains("藏匿");
    let mut seen_drug = std::collections::HashSet::new();
    for d in &drugs {
        if !seen_drug.insert(txt(d)) {
            continue;
        }
        if trade {
            out.push(rel(defendant, d, "traffic_in"));
        } else if hold {
            out.push(rel(defendant, d, "posess"));
        }
    }
    for p in &people {
        if txt(p) == txt(defendant) {
            continue;
        }
        let b = before(p, 4);
        if b.ends_with("卖给") || b.ends_with("贩卖给") || b.ends_with("出售给") {
            out.push(rel(defendant, p, "sell_drugs_to"));
        } else if b.ends_with("容留") {
            out.push(rel(defendant, p, "provide_shelter_for"));
        }
    }
    out
}

/// Extracts from one input line and writes the same structure as the annotations: the input
/// object with its entity (and, for CAIL2022, relation) fields replaced by the extracted ones.
pub fn extract_line(tagger: &Tagger, line: &str, format: IeFormat) -> Result<String, String> {
    let mut v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    if !v.is_object() {
        return Err("line is not a JSON object".into());
    }
    let text: Vec<char> = text_of(&v, format)?.chars().collect();
    let spans = tagger.tag(&text);
    let txt = |sp: &Span| -> String { text[sp.start..sp.end].iter().collect() };
    match format {
        IeFormat::Cail2022 => {
            let ms: Vec<Value> = spans
                .iter()
                .map(|s| json!({"start": s.start, "end": s.end, "text": txt(s), "label": s.label}))
                .collect();
            v["entityMentions"] = Value::Array(ms);
            v["relationMentions"] = Value::Array(drug_relations(&text, &spans));
        }
        IeFormat::Cail2021 => {
            let labels: Vec<String> = tagger
                .tags
                .iter()
                .filter_map(|t| t.strip_prefix("B-").map(str::to_string))
                .collect();
            let es: Vec<Value> = labels
                .iter()
                .map(|l| {
                    let spans: Vec<String> = spans
                        .iter()
                        .filter(|s| &s.label == l)
                        .map(|s| format!("{};{}", s.start, s.end))
                        .collect();
                    json!({"label": l, "span": spans})
                })
                .collect();
            v["entities"] = Value::Array(es);
        }
    }
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

/// Extraction from a whole judgment or indictment (`text` or `fact` field): the tagger's
/// entities (persons, drugs, weights, dates, places with the CAIL2022 model) plus the rule
/// elements the statute wording fixes (charges, articles, amounts, penalty, circumstances).
pub fn extract_judgment(tagger: &Tagger, line: &str) -> Result<String, String> {
    let mut v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let text = match (v.get("text"), v.get("fact")) {
        (Some(Value::String(s)), _) | (None, Some(Value::String(s))) => s.clone(),
        (Some(_), _) => return Err("field `text` is not a string".into()),
        (None, Some(_)) => return Err("field `fact` is not a string".into()),
        (None, None) => return Err("missing field `text` (or `fact`)".into()),
    };
    let chars: Vec<char> = text.chars().collect();
    let spans = tagger.tag(&chars);
    let entities: Vec<Value> = spans
        .iter()
        .map(|s| {
            let t: String = chars[s.start..s.end].iter().collect();
            json!({"start": s.start, "end": s.end, "text": t, "label": s.label})
        })
        .collect();
    v["entities"] = Value::Array(entities);
    v["elements"] =
        serde_json::to_value(crate::elements::elements(&text)).map_err(|e| e.to_string())?;
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_parse_and_bad_spans_are_named() {
        let l22 = r#"{"sentText":"被告人林某某贩卖海洛因","entityMentions":[{"start":3,"end":6,"text":"林某某","label":"Nh"}],"relationMentions":[]}"#;
        let e = parse_example(l22, IeFormat::Cail2022).unwrap();
        assert_eq!(e.spans[0].label, "Nh");
        let l21 = r#"{"id":"x","context":"被告人朱某某盗窃","entities":[{"label":"NHCS","span":["3;6"]},{"label":"NT","span":[]}]}"#;
        let e = parse_example(l21, IeFormat::Cail2021).unwrap();
        assert_eq!((e.spans[0].start, e.spans[0].end), (3, 6));
        let bad = r#"{"id":"x","context":"短","entities":[{"label":"NHCS","span":["3;6"]}]}"#;
        assert!(parse_example(bad, IeFormat::Cail2021)
            .unwrap_err()
            .contains("outside"));
        let bad = r#"{"id":"x","context":"短","entities":[{"label":"NHCS","span":["3-6"]}]}"#;
        assert!(parse_example(bad, IeFormat::Cail2021)
            .unwrap_err()
            .contains("start;end"));
    }

    #[test]
    fn relations_follow_the_wording() {
        let text: Vec<char> = "被告人林某贩卖海洛因给吸毒人员徐某".chars().collect();
        let spans = vec![
            Span {
                start: 3,
                end: 5,
                label: "Nh".into(),
            },
            Span {
                start: 7,
                end: 10,
                label: "NDR".into(),
            },
            Span {
                start: 15,
                end: 17,
                label: "Nh".into(),
            },
        ];
        let r = drug_relations(&text, &spans);
        assert_eq!(r[0]["label"], "traffic_in");
        assert_eq!(r[0]["em2Text"], "海洛因");
    }
}
