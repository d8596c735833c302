//! Errors as RFC 9457 problem details (`application/problem+json`), naming the field and the
//! rule that failed. Internal errors are logged once and answered without their details.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One failed check: which field, which rule, what was wrong.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// JSON pointer-like path or parameter name (`cursor`, `scope`, `body`).
    pub field: String,
    /// Machine-readable rule (`unknown_field`, `missing_field`, `syntax`, `max_bytes`, …).
    pub rule: String,
    pub message: String,
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The failed checks, each naming its field and rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a deny: the policies that decided and the data request that would grant access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<serde_json::Value>,
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: u16, title: impl Into<String>) -> Problem {
        Problem {
            type_: "about:blank".into(),
            title: title.into(),
            status,
            detail: None,
            errors: Vec::new(),
            access: None,
            retry_after: None,
        }
    }

    pub fn detail(mut self, d: impl Into<String>) -> Problem {
        self.detail = Some(d.into());
        self
    }

    pub fn kind(mut self, t: &str) -> Problem {
        self.type_ = format!("/api/v1/problems/{t}");
        self
    }

    /// Adds a failed check on a field.
    pub fn field(mut self, field: &str, rule: &str) -> Problem {
        let message = self.detail.clone().unwrap_or_else(|| self.title.clone());
        self.errors.push(FieldError {
            field: field.to_string(),
            rule: rule.to_string(),
            message,
        });
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Problem {
        self.retry_after = Some(secs);
        self
    }

    pub fn unauthenticated() -> Problem {
        Problem::new(401, "未登录或会话已过期 (authentication required)")
            .kind("unauthenticated")
            .detail("请先登录（会话 Cookie），部门系统请使用 API 密钥 (Authorization: Bearer …)")
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(403, "无权访问 (forbidden)")
            .kind("forbidden")
            .detail(detail)
    }

    pub fn not_found(what: impl Into<String>) -> Problem {
        Problem::new(404, "不存在 (not found)")
            .kind("not-found")
            .detail(what)
    }

    pub fn bad_request(field: &str, rule: &str, message: impl Into<String>) -> Problem {
        let message = message.into();
        let mut p = Problem::new(400, "请求无效 (bad request)")
            .kind("invalid-request")
            .detail(message.clone());
        p.errors.push(FieldError {
            field: field.to_string(),
            rule: rule.to_string(),
            message,
        });
        p
    }

    /// An internal error: logged here, answered without details.
    pub fn internal(e: impl std::fmt::Display) -> Problem {
        eprintln!("内部错误 (internal error): {e}");
        Problem::new(500, "服务器内部错误 (internal error)").kind("internal")
    }
}

impl From<anyhow::Error> for Problem {
    fn from(e: anyhow::Error) -> Problem {
        Problem::internal(format!("{e:#}"))
    }
}

impl From<xiezhi_store::StoreError> for Problem {
    fn from(e: xiezhi_store::StoreError) -> Problem {
        Problem::internal(&e)
    }
}

impl From<xiezhi_access::AccessError> for Problem {
    fn from(e: xiezhi_access::AccessError) -> Problem {
        Problem::internal(&e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
