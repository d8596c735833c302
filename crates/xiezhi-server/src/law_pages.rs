//! The console's law navigator (`/law`): a node of the statute graph and its neighbours as of
//! a date (article ↔ charge ↔ threshold ↔ starting point ↔ circumstance), each a link to
//! navigate on, and the explained sentencing path. Same documents as [`crate::law_api`], and
//! each query is ledgered the same way.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use minijinja::context;

use crate::law_api::{
    article_key, charge_key, date_of, explain, log_query, navigation, query_multi, statute,
};
use crate::state::AppState;
use crate::ui::{error_page, me, run, PageUser};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/law", get(law))
}

fn render(ctx: minijinja::Value) -> Response {
    crate::ui::render("law.html", ctx)
}

/// `/law?charge=盗窃罪&date=…`, `/law?article=264`, `/law?key=threshold:3`; with `amount`
/// or `circumstance` beside a charge, the explained path too. No query: 盗窃罪 today.
async fn law(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Response {
    let known = ["key", "charge", "article", "date", "amount", "circumstance"];
    let page_caller = caller.clone();
    let raw = uri.query().unwrap_or("").to_string();
    let result = run(move || {
        let q = query_multi(Some(&raw), &known)?;
        let date = date_of(&q)?;
        let g = statute()?;
        let one = |k: &str| {
            q.get(k)
                .and_then(|v| v.first())
                .filter(|s| !s.is_empty())
                .cloned()
        };
        let key = match (one("key"), one("article"), one("charge")) {
            (Some(k), _, _) => Ok(k),
            (_, Some(a), _) => article_key(&a),
            (_, _, Some(c)) => charge_key(&g, &c, date),
            _ => charge_key(&g, "盗窃罪", date),
        };
        let nav = key.and_then(|k| navigation(&g, &k, date));
        let wants_path =
            one("charge").is_some() && (one("amount").is_some() || q.contains_key("circumstance"));
        let path = if wants_path {
            Some(explain(&g, &q))
        } else {
            None
        };
        log_query(
            &state,
            &caller,
            &format!("page {}", crate::api::percent_decode(&raw)),
            nav.is_ok() && path.as_ref().is_none_or(|p| p.is_ok()),
        )?;
        let nav = nav?;
        let path = path.transpose()?;
        // Each neighbour's link, encoded here (keys hold Chinese and `:`): only unreserved ASCII,
        // `%`, digits of the date and `&amp;` reach the page, so it is marked safe there.
        let links: Vec<String> = nav
            .neighbours
            .iter()
            .map(|n| format!("/law?key={}&amp;date={}", encode(&n.node.key), nav.date))
            .collect();
        let circumstances: Vec<String> = g.circumstances.iter().map(|c| c.name.clone()).collect();
        let chosen: Vec<String> = q.get("circumstance").cloned().unwrap_or_default();
        Ok(context! {
            date => date.to_string(),
            nav,
            links,
            path,
            circumstances,
            chosen,
            charge => one("charge").unwrap_or_default(),
            amount => one("amount").unwrap_or_default(),
        })
    })
    .await;
    match result {
        Ok(ctx) => render(context! { me => me(&page_caller), page => "law", ..ctx }),
        Err(p) => error_page(&page_caller, &p),
    }
}

/// Percent-encodes all but unreserved ASCII.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
