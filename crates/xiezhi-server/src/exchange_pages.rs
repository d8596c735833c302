//! The console's 交换 page: the organ's transfers in and out, one transfer with its evidence,
//! and the organ's webhook status. Same documents as [`crate::exchange_api`].

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use minijinja::context;

use crate::exchange_api::{transfer_detail, transfers_for, webhook_status};
use crate::state::AppState;
use crate::ui::{error_page, me, render, run, PageUser};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/exchange", get(exchange))
        .route("/exchange/{id}", get(transfer))
}

async fn exchange(PageUser(caller): PageUser, State(state): State<Arc<AppState>>) -> Response {
    let principal = caller.principal.clone();
    let result = run(move || {
        let list = transfers_for(&state, &principal)?;
        let hook = webhook_status(&*state.store()?, principal.org_code())?;
        Ok((list, hook))
    })
    .await;
    match result {
        Ok((list, hook)) => render(
            "exchange.html",
            context! { me => me(&caller), page => "exchange", list, hook },
        ),
        Err(p) => error_page(&caller, &p),
    }
}

async fn transfer(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    let principal = caller.principal.clone();
    match run(move || transfer_detail(&state, &principal, &id)).await {
        Ok(d) => render(
            "transfer.html",
            context! { me => me(&caller), page => "exchange", d },
        ),
        Err(p) => error_page(&caller, &p),
    }
}
