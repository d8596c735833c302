//! Errors of the access crate. Messages lead with Chinese for the data steward and keep the
//! validator's own (English) text verbatim.

use std::path::PathBuf;

/// An error loading policies or preparing an access decision.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("读取策略文件失败 (cannot read) {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("Cedar schema 有误 (invalid schema): {message}")]
    Schema { message: String },

    #[error("策略文件 {file} 语法错误 (parse error): {message}")]
    PolicyParse { file: String, message: String },

    #[error("策略文件 {file} 中的策略 {policy} 缺少 @{annotation}(\"…\") 注解")]
    MissingAnnotation {
        file: String,
        policy: String,
        annotation: &'static str,
    },

    #[error("策略标识 {id} 重复（{file}）")]
    DuplicatePolicyId { id: String, file: String },

    /// The policies do not type-check against the schema; every validator message is kept.
    #[error("策略未通过 schema 校验，已拒绝加载 (policy validation failed):\n{}", messages.join("\n"))]
    PolicyValidation { messages: Vec<String> },

    #[error("策略目录 {dir} 中没有 .cedar 文件")]
    NoPolicies { dir: PathBuf },

    #[error("Cedar 调用失败: {message}")]
    Cedar { message: String },

    #[error("未知的授权范围 `{scope}`（应为 `*`、实体名如 `person` 或字段如 `person.name`）")]
    UnknownScope { scope: String },

    #[error("实体 `{entity}` 没有字段 `{field}`")]
    UnknownField { entity: String, field: String },

    #[error(
        "用户 {user} 在案件 {case_uid} 上已有生效的授权（申请 {existing}），请先撤销或待其到期"
    )]
    GrantConflict {
        user: String,
        case_uid: String,
        existing: String,
    },

    #[error("没有申请 {request_id} 的授权")]
    NoSuchGrant { request_id: String },

    #[error("记录的实体是 {found}，而遮蔽方案针对 {expected}")]
    EntityMismatch { expected: String, found: String },
}

impl AccessError {
    pub(crate) fn cedar(e: impl std::fmt::Display) -> AccessError {
        AccessError::Cedar {
            message: e.to_string(),
        }
    }
}
