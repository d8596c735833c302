//! Access control for Xiezhi: who may read which field of which case, how it is masked, and why.
//!
//! - [`principal`]: users and department systems, the case as seen by access control
//!   ([`CaseResource`]) and the field asked for ([`FieldRef`]).
//! - [`policy`]: the Cedar policy files (`policies/*.cedar`, compiled in and loadable from a
//!   directory) validated against the Cedar schema (`policies/xiezhi.cedarschema`).
//! - [`decision`]: [`Authorizer::decide`] answers permit or deny with the policies that decided it
//!   and, for a deny, the data request that would grant it.
//! - [`mask`]: masking operators and the per-field [`MaskingPlan`] from field level vs clearance.
//! - [`compiled`]: the fast path for listings: per (principal, action, entity) the policy set is
//!   partially evaluated once with the case unknown, and every row is then decided by the
//!   residual conditions; a differential test holds it to plain Cedar.
//! - [`request`]: the data request workflow (申请 → 审核 → 授权 → 使用 → 反馈, 撤销) whose grants
//!   are Cedar template links.
//! - [`event`]: the [`AccessEvent`]s every decision and workflow step returns, for the ledger.
//!
//! - [`reader`]: the read path: a case across departments, decided, masked and logged.
//! - [`case_cache`]: the gathered rows of hot cases, kept across reads and dropped by the
//!   store's change feed (`records_written`); decisions and masking are never cached.
//! - [`aggregate`]: the aggregate path: columns of every case streamed into statistics after a
//!   decision per (principal, entity, field) with the Cedar action `aggregate`, all logged.
//!
//! - [`admin`]: 三员分立: the administrative operations as Cedar actions on the `Platform`,
//!   each permitted to exactly one of the three administrator roles.
//!
//! Architecture: imports `xiezhi-standard` and `xiezhi-store`. Every read of shared data goes
//! through [`reader::SharedReader`], which appends each decision to the ledger before returning.
//!
//! ```
//! use xiezhi_access::{Authorizer, CaseResource, Principal, User, OrgKind, Role, Action,
//!     RequestContext, Resource, FieldRef};
//! use xiezhi_standard::{Entity, Level};
//!
//! let authz = Authorizer::builtin().unwrap();
//! let user = Principal::User(User {
//!     id: "u1".into(), name: "李警官".into(), org_code: "GA520102".into(),
//!     org_kind: OrgKind::Police, division: "520102".into(), role: Role::CaseHandler,
//!     clearance: Level::L3,
//! });
//! let case = CaseResource {
//!     case_uid: "C1".into(),
//!     participating_orgs: vec!["GA520102".into()],
//!     jurisdiction_divisions: vec!["520102".into()],
//!     ..Default::default()
//! };
//! let field = FieldRef::standard(Entity::Person, "name").unwrap();
//! let ctx = RequestContext::on(chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
//! let d = authz.decide(&user, Action::Read, &Resource::new(&case, field), &ctx).unwrap();
//! assert!(d.permit);
//! assert_eq!(d.policies[0].id, "org-participant");
//! ```

pub mod admin;
pub mod aggregate;
pub mod case_cache;
pub mod compiled;
pub mod decision;
mod error;
pub mod event;
pub mod mask;
pub mod policy;
pub mod principal;
pub mod reader;
pub mod request;

pub use admin::{AdminAction, AdminDecision};
pub use aggregate::{AggregateGrant, AggregateReader, CaseColumns, FieldAccess, PUBLIC_MIN_CELL};
pub use compiled::{CompileStats, CompiledView, FastDecision};
pub use decision::{Action, Authorizer, Decision, PolicyRef, RequestContext, RequestHint};
pub use error::AccessError;
pub use event::{AccessEvent, FieldOutcome};
pub use mask::{FieldAction, FieldDecision, MaskOp, MaskedRecord, MaskingPlan, Salt};
pub use policy::PolicyStore;
pub use principal::{
    CaseResource, DepartmentSystem, FieldRef, OrgKind, Principal, Resource, Role, User,
};
pub use request::{DataRequest, Grant, RequestError, RequestState, RequestStep};
