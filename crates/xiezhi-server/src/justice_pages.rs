//! The console's 社区矫正 and 评查 pages: the correction officer's alerts, a subject's file with
//! the trajectory drawn over the fences (an inline SVG on a plain coordinate canvas: no map
//! tiles, nothing fetched from outside), recording a check or visit; the reviewer's samples,
//! checklists and scores. Same documents as [`crate::justice_api`].

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use serde::Deserialize;
use xiezhi_standard::codes::{table, CodeTable};

use crate::justice_api::{
    alerts_for, correction_for, draw_sample, hot_spots, petition_board, record_act, sample_for,
    samples_for, score_case, ActRequest, CorrectionDoc, SampleRequest, ScoreRequest, VerdictDoc,
};
use crate::state::AppState;
use crate::ui::{check_csrf, error_page, me, render, run, PageUser};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/corrections", get(corrections))
        .route("/corrections/{case}", get(subject))
        .route("/corrections/{case}/acts", post(act))
        .route("/justice", get(dashboard))
        .route("/petitions", get(petitions))
        .route("/hotspots", get(hotspots_page))
        .route("/review", get(reviews).post(draw))
        .route("/review/{id}", get(review))
        .route("/review/{id}/{case}", post(score))
}

async fn corrections(PageUser(caller): PageUser, State(state): State<Arc<AppState>>) -> Response {
    let principal = caller.principal.clone();
    match run(move || alerts_for(&state, &principal)).await {
        Ok(alerts) => render(
            "corrections.html",
            context! { me => me(&caller), page => "corrections", alerts },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

/// The trajectory and the fences on one canvas: longitude to x, latitude to y (north up),
/// scaled to fit with a margin; fences drawn first, the fixes as a line with the last one
/// marked. Only numbers and escaped names reach the SVG.
pub fn trajectory_svg(doc: &CorrectionDoc) -> String {
    let (w, h, pad) = (640.0, 420.0, 20.0);
    let points = doc.fixes.iter().map(|f| (f.lon, f.lat)).chain(
        doc.fences
            .iter()
            .flat_map(|f| f.polygon.iter().map(|p| (p[0], p[1]))),
    );
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let mut svg = format!(
        r#"<svg id="trajectory" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="定位轨迹与电子围栏">"#
    );
    svg.push_str(r##"<rect width="100%" height="100%" fill="#f7f7f4"/>"##);
    if x0 > x1 {
        svg.push_str(r#"<text x="20" y="40">无可见的定位与围栏数据</text></svg>"#);
        return svg;
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-4);
    let sx = |x: f64| pad + (x - x0) / span * (w - 2.0 * pad);
    let sy = |y: f64| h - pad - (y - y0) / span * (h - 2.0 * pad);
    for f in &doc.fences {
        let pts: Vec<String> = f
            .polygon
            .iter()
            .map(|p| format!("{:.1},{:.1}", sx(p[0]), sy(p[1])))
            .collect();
        let class = if f.rule == "no_entry" {
            "fence no-entry"
        } else {
            "fence no-exit"
        };
        let _ = write!(
            svg,
            r#"<polygon class="{class}" points="{}"><title>{}（{}）</title></polygon>"#,
            pts.join(" "),
            xml_escape(&f.name),
            if f.rule == "no_entry" {
                "禁止进入"
            } else {
                "未经批准不得离开"
            }
        );
    }
    if !doc.fixes.is_empty() {
        let pts: Vec<String> = doc
            .fixes
            .iter()
            .map(|f| format!("{:.1},{:.1}", sx(f.lon), sy(f.lat)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="track" points="{}"/>"#,
            pts.join(" ")
        );
        for f in &doc.fixes {
            let _ = write!(
                svg,
                r#"<circle class="fix" cx="{:.1}" cy="{:.1}" r="2"><title>{}</title></circle>"#,
                sx(f.lon),
                sy(f.lat),
                xml_escape(&f.at)
            );
        }
        if let Some(last) = doc.fixes.last() {
            let _ = write!(
                svg,
                r#"<circle class="last-fix" cx="{:.1}" cy="{:.1}" r="5"><title>最新定位 {}</title></circle>"#,
                sx(last.lon),
                sy(last.lat),
                xml_escape(&last.at)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn subject(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Path(case): Path<String>,
) -> Response {
    let principal = caller.principal.clone();
    match run(move || correction_for(&state, &principal, &case)).await {
        Ok(doc) => {
            let svg = minijinja::Value::from_safe_string(trajectory_svg(&doc));
            let (kinds, acts) = (
                code_names(CodeTable::CorrectionKind),
                code_names(CodeTable::CorrectionEventKind),
            );
            render(
                "subject.html",
                context! { me => me(&caller), page => "corrections", doc, svg, kinds, acts },
            )
        }
        Err(p) => error_page(&caller, &p),
    }
}

#[derive(Deserialize)]
struct ActForm {
    csrf: String,
    kind: String,
    #[serde(default)]
    note: String,
}

async fn act(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Path(case): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    if let Err(p) = check_csrf(&caller, &f.csrf) {
        return error_page(&caller, &p);
    }
    let who = caller.clone();
    let target = case.clone();
    let req = ActRequest {
        kind: f.kind,
        note: f.note,
    };
    match run(move || record_act(&state, &who, &target, &req)).await {
        Ok(_) => Redirect::to(&format!("/corrections/{case}?recorded=1")).into_response(),
        Err(p) => error_page(&caller, &p),
    }
}

async fn reviews(PageUser(caller): PageUser, State(state): State<Arc<AppState>>) -> Response {
    let who = caller.clone();
    match run(move || samples_for(&who, &state)).await {
        Ok(samples) => render(
            "review.html",
            context! { me => me(&caller), page => "review", samples },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

#[derive(Deserialize)]
struct DrawForm {
    csrf: String,
    organ: String,
    from: String,
    to: String,
    size: usize,
    seed: u64,
}

async fn draw(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Form(f): Form<DrawForm>,
) -> Response {
    if let Err(p) = check_csrf(&caller, &f.csrf) {
        return error_page(&caller, &p);
    }
    let who = caller.clone();
    let req = SampleRequest {
        organ: f.organ,
        from: f.from,
        to: f.to,
        size: Some(f.size),
        seed: Some(f.seed),
    };
    match run(move || draw_sample(&state, &who, &req)).await {
        Ok(s) => Redirect::to(&format!("/review/{}", s.id)).into_response(),
        Err(p) => error_page(&caller, &p),
    }
}

async fn review(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    let who = caller.clone();
    match run(move || sample_for(&who, &state, &id)).await {
        Ok(sample) => render(
            "review_sample.html",
            context! { me => me(&caller), page => "review", sample },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

async fn score(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Path((id, case)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if let Err(p) = check_csrf(&caller, &csrf) {
        return error_page(&caller, &p);
    }
    // `v:<rule>` = verdict, `n:<rule>` = note.
    let items = fields
        .iter()
        .filter_map(|(k, v)| {
            let rule = k.strip_prefix("v:")?;
            let note = fields
                .iter()
                .find(|(n, _)| n.strip_prefix("n:") == Some(rule))
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            Some(VerdictDoc {
                rule_id: rule.to_string(),
                verdict: v.clone(),
                note,
            })
        })
        .collect();
    let who = caller.clone();
    let (sid, cid) = (id.clone(), case.clone());
    match run(move || score_case(&state, &who, &sid, &cid, &ScoreRequest { items })).await {
        Ok(_) => Redirect::to(&format!("/review/{id}#case-{case}")).into_response(),
        Err(p) => error_page(&caller, &p),
    }
}

async fn petitions(PageUser(caller): PageUser, State(state): State<Arc<AppState>>) -> Response {
    let principal = caller.principal.clone();
    match run(move || petition_board(&state, &principal)).await {
        Ok(board) => render(
            "petitions.html",
            context! { me => me(&caller), page => "justice", board },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

/// Code → name of a code table, for display.
fn code_names(t: CodeTable) -> std::collections::BTreeMap<String, String> {
    table(t)
        .entries()
        .iter()
        .map(|e| (e.code.clone(), e.name.clone()))
        .collect()
}

async fn hotspots_page(PageUser(caller): PageUser, State(state): State<Arc<AppState>>) -> Response {
    match run(move || hot_spots(&state)).await {
        Ok(spots) => {
            let names: std::collections::BTreeMap<String, String> = spots
                .iter()
                .filter_map(|s| {
                    let e = table(CodeTable::Division).get(&s.division)?;
                    Some((s.division.clone(), e.name.clone()))
                })
                .collect();
            let mut kinds = code_names(CodeTable::DisputeKind);
            kinds.insert("petition".into(), "信访".into());
            render(
                "hotspots.html",
                context! { me => me(&caller), page => "justice", spots, names, kinds },
            )
        }
        Err(p) => error_page(&caller, &p),
    }
}

/// The justice bureau leader's overview: correction alerts by rule, petitions past or near
/// their deadlines, the strongest hot spots, review results.
async fn dashboard(PageUser(caller): PageUser, State(state): State<Arc<AppState>>) -> Response {
    let who = caller.clone();
    let result = run(move || {
        let alerts = alerts_for(&state, &who.principal)?;
        let mut by_rule: std::collections::BTreeMap<String, usize> = Default::default();
        for a in &alerts {
            *by_rule.entry(a.title_zh.clone()).or_default() += 1;
        }
        let board = petition_board(&state, &who.principal)?;
        let spots: Vec<_> = hot_spots(&state)?.into_iter().take(5).collect();
        let reviews = {
            let store = state.store()?;
            xiezhi_supervise::review::results(&*store)
                .map_err(|e| crate::error::Problem::internal(&e))?
        };
        Ok(context! {
            alerts => alerts.len(),
            by_rule,
            open_petitions => board.len(),
            overdue => board.iter().filter(|d| d.days_left < 0).count(),
            soon => board.iter().filter(|d| (0..=7).contains(&d.days_left)).count(),
            spots,
            reviews,
        })
    })
    .await;
    match result {
        Ok(figures) => render(
            "justice.html",
            context! { me => me(&caller), page => "justice", ..figures },
        ),
        Err(p) => error_page(&caller, &p),
    }
}
