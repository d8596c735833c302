//! Principals (users and department systems) and resources (a case, and the field of it asked
//! for) as access control sees them.
//!
//! A read is decided per field: the resource is the case ([`CaseResource`]: who took part,
//! where it was transferred, where it happened, whether it is still under investigation) and the
//! field ([`FieldRef`]: entity, field name, effective level). The Cedar entities built from them
//! are described in `policies/xiezhi.cedarschema`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use xiezhi_standard::{Entity, FieldDef, Level};

use crate::AccessError;

/// Kind of organ a principal belongs to (机构类别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Police,
    Procuratorate,
    Court,
    JusticeBureau,
    Prison,
    DetentionCenter,
    CommunityCorrections,
    /// 政法委, the political-legal committee.
    Zfw,
}

impl OrgKind {
    pub const ALL: [OrgKind; 8] = [
        OrgKind::Police,
        OrgKind::Procuratorate,
        OrgKind::Court,
        OrgKind::JusticeBureau,
        OrgKind::Prison,
        OrgKind::DetentionCenter,
        OrgKind::CommunityCorrections,
        OrgKind::Zfw,
    ];

    /// The name used in policies (`org_kind == "zfw"`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Police => "police",
            OrgKind::Procuratorate => "procuratorate",
            OrgKind::Court => "court",
            OrgKind::JusticeBureau => "justice_bureau",
            OrgKind::Prison => "prison",
            OrgKind::DetentionCenter => "detention_center",
            OrgKind::CommunityCorrections => "community_corrections",
            OrgKind::Zfw => "zfw",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            OrgKind::Police => "公安机关",
            OrgKind::Procuratorate => "检察院",
            OrgKind::Court => "法院",
            OrgKind::JusticeBureau => "司法局",
            OrgKind::Prison => "监狱",
            OrgKind::DetentionCenter => "看守所",
            OrgKind::CommunityCorrections => "社区矫正机构",
            OrgKind::Zfw => "政法委",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Role of a user. The three administrators (三员: sysadmin, secadmin, auditor) run the platform
/// and read no case data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    CaseHandler,
    Supervisor,
    DataSteward,
    Leader,
    Public,
    Sysadmin,
    Secadmin,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::CaseHandler,
        Role::Supervisor,
        Role::DataSteward,
        Role::Leader,
        Role::Public,
        Role::Sysadmin,
        Role::Secadmin,
        Role::Auditor,
    ];

    /// The name used in policies (`role == "supervisor"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CaseHandler => "case_handler",
            Role::Supervisor => "supervisor",
            Role::DataSteward => "data_steward",
            Role::Leader => "leader",
            Role::Public => "public",
            Role::Sysadmin => "sysadmin",
            Role::Secadmin => "secadmin",
            Role::Auditor => "auditor",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::CaseHandler => "办案人员",
            Role::Supervisor => "监督人员",
            Role::DataSteward => "数据管理员",
            Role::Leader => "领导",
            Role::Public => "社会公众",
            Role::Sysadmin => "系统管理员",
            Role::Secadmin => "安全保密管理员",
            Role::Auditor => "安全审计员",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// One of the three administrators of 三员分立.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Sysadmin | Role::Secadmin | Role::Auditor)
    }
}

/// A person working in (or, for [`Role::Public`], outside) the political-legal system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub org_code: String,
    pub org_kind: OrgKind,
    /// GB/T 2260 division code of the user's organ, 6 digits.
    pub division: String,
    pub role: Role,
    pub clearance: Level,
}

impl User {
    /// The user's jurisdiction as a division prefix (see [`jurisdiction_prefix`]).
    pub fn jurisdiction(&self) -> &str {
        jurisdiction_prefix(&self.division)
    }
}

/// A department system (警综平台, 检察业务应用系统, 审判系统, 社区矫正系统) that pushes and pulls
/// records with its key. It acts for its organ at clearance [`DepartmentSystem::CLEARANCE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentSystem {
    pub id: String,
    pub org_code: String,
    pub org_kind: OrgKind,
    pub public_key_hex: String,
}

impl DepartmentSystem {
    /// Systems handle personal data (L3) routinely; level 4 always needs a person.
    pub const CLEARANCE: Level = Level::L3;
}

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    User(User),
    System(DepartmentSystem),
}

impl Principal {
    pub fn id(&self) -> &str {
        match self {
            Principal::User(u) => &u.id,
            Principal::System(s) => &s.id,
        }
    }

    pub fn org_code(&self) -> &str {
        match self {
            Principal::User(u) => &u.org_code,
            Principal::System(s) => &s.org_code,
        }
    }

    pub fn org_kind(&self) -> OrgKind {
        match self {
            Principal::User(u) => u.org_kind,
            Principal::System(s) => s.org_kind,
        }
    }

    pub fn clearance(&self) -> Level {
        match self {
            Principal::User(u) => u.clearance,
            Principal::System(_) => DepartmentSystem::CLEARANCE,
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::User(u) => Some(u.role),
            Principal::System(_) => None,
        }
    }

    /// The Cedar entity type of the principal.
    pub fn cedar_type(&self) -> &'static str {
        match self {
            Principal::User(_) => "User",
            Principal::System(_) => "DepartmentSystem",
        }
    }
}

impl From<User> for Principal {
    fn from(u: User) -> Principal {
        Principal::User(u)
    }
}

impl From<DepartmentSystem> for Principal {
    fn from(s: DepartmentSystem) -> Principal {
        Principal::System(s)
    }
}

/// The jurisdiction of an organ at `division` as a division prefix: a province (`520000`) covers
/// `52`, a prefecture-level city (`520100`) covers `5201`, a county or district covers its six
/// digits. Anything that is not six ASCII digits is its own prefix (and so matches only itself).
pub fn jurisdiction_prefix(division: &str) -> &str {
    if division.len() != 6 || !division.bytes().all(|b| b.is_ascii_digit()) {
        return division;
    }
    if division.ends_with("0000") {
        &division[..2]
    } else if division.ends_with("00") {
        &division[..4]
    } else {
        division
    }
}

/// The prefixes of a case division that a jurisdiction can match: its first 2, 4 and 6
/// characters (as far as the division is long).
pub fn division_prefixes(division: &str) -> impl Iterator<Item = &str> {
    [2usize, 4, 6].into_iter().filter_map(|k| division.get(..k))
}

/// A case as access control sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResource {
    pub case_uid: String,
    /// Organs that took part in the case. The first is the organ that registered it, to which
    /// data requests go (see [`CaseResource::owner_org`]).
    pub participating_orgs: Vec<String>,
    /// Transfers (移送): receiving organ and the scopes transferred (`*`, an entity name such
    /// as `person`, or a field such as `person.name`).
    pub transferred_to: Vec<(String, Vec<String>)>,
    /// Divisions (GB/T 2260) of the case: where it happened and where it is handled.
    pub jurisdiction_divisions: Vec<String>,
    /// The investigation is still ongoing.
    pub ongoing_investigation: bool,
    /// Levels raised for this case (a record may raise, never lower, its fields' levels), by
    /// scope: an entity (`person`) or a field (`person.address`). Protected witnesses and
    /// ongoing investigation measures raise fields to L4.
    pub raised_levels: BTreeMap<String, Level>,
}

impl CaseResource {
    /// The organ that owns the case's data and answers data requests.
    pub fn owner_org(&self) -> Option<&str> {
        self.participating_orgs.first().map(String::as_str)
    }

    /// 2-, 4- and 6-digit prefixes of the case's divisions.
    pub fn jurisdiction_prefixes(&self) -> BTreeSet<&str> {
        self.jurisdiction_divisions
            .iter()
            .flat_map(|d| division_prefixes(d))
            .collect()
    }

    /// Whether `prefix` is one of [`CaseResource::jurisdiction_prefixes`], without building
    /// the set.
    pub fn has_jurisdiction_prefix(&self, prefix: &str) -> bool {
        matches!(prefix.len(), 2 | 4 | 6)
            && self
                .jurisdiction_divisions
                .iter()
                .any(|d| d.get(..prefix.len()) == Some(prefix))
    }

    /// Transferred scopes per receiving organ (several transfers to one organ are merged).
    pub fn transfer_scopes(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (org, scopes) in &self.transferred_to {
            out.entry(org.as_str())
                .or_default()
                .extend(scopes.iter().map(String::as_str));
        }
        out
    }

    /// Scopes transferred to `org`, merged over transfers; `None` if nothing was.
    pub fn transfer_scopes_of<'a>(&'a self, org: &str) -> Option<Vec<&'a str>> {
        let mut found = false;
        let mut out = Vec::new();
        for (o, scopes) in &self.transferred_to {
            if o == org {
                found = true;
                out.extend(scopes.iter().map(String::as_str));
            }
        }
        found.then_some(out)
    }

    /// The effective level of a field in this case: its standard level, raised by
    /// [`CaseResource::raised_levels`].
    pub fn level_of(&self, entity: Entity, def: &FieldDef) -> Level {
        let mut level = def.level;
        if let Some(l) = self.raised_levels.get(entity.name()) {
            level = level.max(*l);
        }
        if !self.raised_levels.is_empty() {
            let key = format!("{}.{}", entity.name(), def.name);
            if let Some(l) = self.raised_levels.get(&key) {
                level = level.max(*l);
            }
        }
        level
    }

    /// The field `entity.name` of this case with its effective level.
    pub fn field(&self, entity: Entity, name: &str) -> Option<FieldRef> {
        let def = entity.field(name)?;
        Some(FieldRef {
            entity,
            field: def.name,
            level: self.level_of(entity, def),
        })
    }
}

/// One field of a standard entity, with the level it has in the case at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct FieldRef {
    pub entity: Entity,
    pub field: &'static str,
    pub level: Level,
}

impl FieldRef {
    /// The field at its standard level.
    pub fn standard(entity: Entity, name: &str) -> Option<FieldRef> {
        let def = entity.field(name)?;
        Some(FieldRef {
            entity,
            field: def.name,
            level: def.level,
        })
    }

    /// `entity.field`, the field's scope key (`person.name`).
    pub fn key(&self) -> String {
        format!("{}.{}", self.entity.name(), self.field)
    }

    /// The standard's definition of the field.
    pub fn def(&self) -> Option<&'static FieldDef> {
        self.entity.field(self.field)
    }

    /// Whether a grant or transfer scope covers this field.
    pub fn covered_by(&self, scope: &str) -> bool {
        scope == "*"
            || scope == self.entity.name()
            || scope
                .split_once('.')
                .is_some_and(|(e, f)| e == self.entity.name() && f == self.field)
    }
}

/// The resource of one read: a field of a case.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    pub case: &'a CaseResource,
    pub field: FieldRef,
}

impl<'a> Resource<'a> {
    pub fn new(case: &'a CaseResource, field: FieldRef) -> Resource<'a> {
        Resource { case, field }
    }

    /// `case_uid/entity.field`, as recorded in decision events.
    pub fn key(&self) -> String {
        format!("{}/{}", self.case.case_uid, self.field.key())
    }
}

/// Checks that a scope names something of the standard: `*`, an entity, or `entity.field`.
pub fn check_scope(scope: &str) -> Result<(), AccessError> {
    if scope == "*" || Entity::from_name(scope).is_some() {
        return Ok(());
    }
    if let Some((e, f)) = scope.split_once('.') {
        if let Some(entity) = Entity::from_name(e) {
            if entity.field(f).is_some() {
                return Ok(());
            }
            return Err(AccessError::UnknownField {
                entity: e.to_string(),
                field: f.to_string(),
            });
        }
    }
    Err(AccessError::UnknownScope {
        scope: scope.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdiction_prefix_follows_division_level() {
        assert_eq!(jurisdiction_prefix("520000"), "52");
        assert_eq!(jurisdiction_prefix("520100"), "5201");
        assert_eq!(jurisdiction_prefix("520102"), "520102");
        assert_eq!(jurisdiction_prefix("52"), "52");
        assert_eq!(jurisdiction_prefix("贵州省"), "贵州省");
    }

    #[test]
    fn prefixes_and_membership_agree() {
        let case = CaseResource {
            jurisdiction_divisions: vec!["520102".into(), "522301".into()],
            ..Default::default()
        };
        let set = case.jurisdiction_prefixes();
        for p in [
            "52", "5201", "520102", "5223", "522301", "520", "53", "", "5201021",
        ] {
            assert_eq!(set.contains(p), case.has_jurisdiction_prefix(p), "{p}");
        }
    }

    #[test]
    fn scopes_cover_fields() {
        let f = FieldRef::standard(Entity::Person, "name").unwrap();
        assert!(f.covered_by("*"));
        assert!(f.covered_by("person"));
        assert!(f.covered_by("person.name"));
        assert!(!f.covered_by("person.phone"));
        assert!(!f.covered_by("case"));
        assert!(check_scope("person.name").is_ok());
        assert!(check_scope("person.nmae").is_err());
        assert!(check_scope("people").is_err());
    }

    #[test]
    fn raised_levels_only_raise() {
        let mut case = CaseResource::default();
        case.raised_levels.insert("person".into(), Level::L4);
        case.raised_levels.insert("case.name".into(), Level::L1);
        assert_eq!(
            case.field(Entity::Person, "id_type").unwrap().level,
            Level::L4
        );
        assert_eq!(case.field(Entity::Case, "name").unwrap().level, Level::L2);
    }
}
