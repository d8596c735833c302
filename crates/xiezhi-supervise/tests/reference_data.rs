//! The data files of the rules against the statute texts in `shared/reference/laws/`: every
//! quote is in the article it names. Skipped where the reference texts are not present.

use std::path::{Path, PathBuf};

use xiezhi_supervise::rules::guideline_floor::{parse_floors, SHIPPED_FLOORS};
use xiezhi_supervise::rules::required_documents::{parse_requirements, SHIPPED_REQUIREMENTS};
use xiezhi_supervise::rules::statutory_band::{parse_bands, SHIPPED_BANDS};

fn laws() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/laws");
    p.exists().then_some(p)
}

/// `{law}.md` or `{law}-{version}.md`, in the folder or one level below.
fn law_file(dir: &Path, law: &str, version: &str) -> PathBuf {
    let names = [format!("{law}.md"), format!("{law}-{version}.md")];
    let mut dirs = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            dirs.push(e.path());
        }
    }
    dirs.iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no text for {law}"))
}

/// The lines of an article, from its heading (`第九十条 `) to the next article.
fn article(text: &str, heading: &str) -> String {
    let head = format!("{heading} ");
    let start = text
        .lines()
        .position(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("{heading} not found"));
    text.lines()
        .skip(start)
        .enumerate()
        .take_while(|(i, l)| *i == 0 || !(l.starts_with('第') && l.contains("条 ")))
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `90` → `第九十条`.
fn article_zh(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (h, t, u) = (n / 100, (n / 10) % 10, n % 10);
    let mut s = String::new();
    if h > 0 {
        s = s + D[h as usize] + "百";
    }
    if t > 0 {
        if !(h == 0 && t == 1) {
            s += D[t as usize];
        }
        s += "十";
    } else if h > 0 && u > 0 {
        s += "零";
    }
    if u > 0 {
        s += D[u as usize];
    }
    format!("第{s}条")
}

#[test]
fn every_band_quotes_its_article_of_the_criminal_law() {
    let Some(dir) = laws() else {
        eprintln!("statute texts not present; skipped");
        return;
    };
    let text = std::fs::read_to_string(dir.join("刑法.md")).unwrap();
    for band in parse_bands(SHIPPED_BANDS).unwrap() {
        let body = article(&text, &band.article);
        assert!(
            body.contains(&band.quote),
            "{}: quote not in {}",
            band.charge,
            band.article
        );
    }
}

#[test]
fn every_guideline_band_quotes_its_article_of_the_criminal_law() {
    let Some(dir) = laws() else {
        eprintln!("statute texts not present; skipped");
        return;
    };
    let text = std::fs::read_to_string(dir.join("刑法.md")).unwrap();
    let bands = parse_floors(SHIPPED_FLOORS).unwrap();
    assert!(bands.len() >= 6);
    for band in bands {
        let n: u32 = band
            .source
            .strip_prefix("刑法第")
            .and_then(|s| s.split('条').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{}: source names no article", band.charge));
        let body = article(&text, &article_zh(n));
        assert!(
            body.contains(&band.band),
            "{}: band not in 第{n}条",
            band.charge
        );
        assert!(band.start_low <= band.start_high && band.band_min <= band.start_low);
    }
}

#[test]
fn every_requirement_quotes_its_article() {
    let Some(dir) = laws() else {
        eprintln!("statute texts not present; skipped");
        return;
    };
    for r in parse_requirements(SHIPPED_REQUIREMENTS).unwrap() {
        let b = r.basis;
        let text = std::fs::read_to_string(law_file(&dir, b.law, b.version)).unwrap();
        let body = article(&text, &article_zh(b.article));
        assert!(
            body.contains(b.quote),
            "{} {}: quote not in {}",
            r.trigger,
            b.law,
            b.article
        );
        if let Some(p) = b.paragraph {
            let para = body
                .lines()
                .filter(|l| !l.trim().is_empty())
                .nth(p as usize - 1);
            assert!(
                para.is_some_and(|l| l.contains(b.quote)),
                "{}: paragraph {p}",
                r.trigger
            );
        }
    }
}
