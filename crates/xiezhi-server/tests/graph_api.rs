//! The case graph over the API and the link chart page, on a small synthetic province (200
//! cases, one planted co-offending group) with its case graph built: a police handler, a court
//! judge, a supervisor and a member of the public each see only what the policies let them
//! see; a path never passes a node hidden from the asker; a hidden node and a missing one get
//! the same 404; every query is in the ledger; no session is a 401.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use xiezhi_access::reader::case_resource;
use xiezhi_access::{OrgKind, Principal, Role, User};
use xiezhi_casegraph::{build, EdgeKind, NodeKind, CASE_GRAPH};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_server::auth::write_credentials;
use xiezhi_server::{app, AppState, Limits};
use xiezhi_standard::Level;
use xiezhi_store::{GraphEdge, SqliteStore, Store};

const PASSWORD: &str = "correct horse 马";

struct Province {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    /// The case the police handler and the judge both took part in.
    case: String,
    police_org: String,
    court_org: String,
    /// Every edge of the built graph, read directly (the test's own view of the truth).
    edges: Vec<GraphEdge>,
    /// Two persons the police handler may see, linked over the whole graph only through a case
    /// of another organ (the third element).
    detour: (String, String, String),
    /// Case uid → organs that may read it by the organisation rule (participants, receivers).
    organs_of: BTreeMap<String, BTreeSet<String>>,
    secrets: HashMap<String, String>,
}

fn user(
    id: &str,
    org: &str,
    kind: OrgKind,
    division: &str,
    role: Role,
    clearance: Level,
) -> Principal {
    Principal::User(User {
        id: id.into(),
        name: format!("{id} 测试"),
        org_code: org.into(),
        org_kind: kind,
        division: division.into(),
        role,
        clearance,
    })
}

fn province() -> &'static Province {
    static P: OnceLock<Province> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("export");
        xiezhi_synth::generate(
            &xiezhi_synth::SynthConfig {
                seed: 7,
                cases: 200,
                ..Default::default()
            },
            &export,
        )
        .unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut store = SqliteStore::open(&data.join("xiezhi.db")).unwrap();
        ingest_export(
            &mut store,
            &shipped_plans().unwrap(),
            &export,
            &IngestOptions::default(),
            &mut |_, _, _| {},
        )
        .unwrap();
        build(&mut store, CASE_GRAPH, &mut |_| {}).unwrap();
        let mut edges = Vec::new();
        let mut after = 0;
        loop {
            let page = store.graph_edges_after(CASE_GRAPH, after, 5_000).unwrap();
            let Some(last) = page.last() else { break };
            after = last.seq;
            edges.extend(page);
        }
        let mut organs_of = BTreeMap::new();
        let mut divisions = BTreeMap::new();
        for uid in edges
            .iter()
            .filter_map(|e| e.case_uid.clone())
            .collect::<BTreeSet<_>>()
        {
            let r = case_resource(&store, &uid).unwrap().unwrap();
            let mut organs: BTreeSet<String> = r.participating_orgs.iter().cloned().collect();
            organs.extend(r.transferred_to.iter().map(|(o, _)| o.clone()));
            divisions.insert(uid.clone(), r.jurisdiction_divisions.clone());
            organs_of.insert(uid, organs);
        }
        // The case that reached a court with the most persons in it.
        let persons_in = |uid: &str| {
            edges
                .iter()
                .filter(|e| {
                    e.kind == EdgeKind::InvolvedIn.as_str() && e.to == format!("case:{uid}")
                })
                .count()
        };
        // The case that reached a court with the most persons in it.
        let case = organs_of
            .iter()
            .filter(|(_, o)| {
                let has = |p: &str| o.iter().any(|x| x.starts_with(p));
                has("GA") && has("FY")
            })
            .max_by_key(|(uid, _)| (persons_in(uid), std::cmp::Reverse((*uid).clone())))
            .map(|(uid, _)| uid.clone())
            .expect("a case that reached a court");
        let org = |p: &str| {
            organs_of[&case]
                .iter()
                .find(|o| o.starts_with(p))
                .unwrap()
                .clone()
        };
        let (police_org, court_org) = (org("GA"), org("FY"));
        // Two persons of different cases of the police organ become co-defendants of a case
        // it took no part in: over the whole graph they are then two hops apart through a
        // node the police handler may not see, so a path shown to him must go round it.
        let involved = |uid: &str| -> BTreeSet<String> {
            edges
                .iter()
                .filter(|e| e.kind == EdgeKind::InvolvedIn.as_str())
                .filter(|e| e.case_uid.as_deref() == Some(uid))
                .map(|e| e.from.clone())
                .collect()
        };
        let here = involved(&case);
        let there = organs_of
            .iter()
            .filter(|(c, o)| **c != case && o.contains(&police_org))
            .map(|(c, _)| involved(c))
            .find(|ps| ps.iter().any(|x| !here.contains(x)))
            .expect("a second case of the police organ");
        let a = here.iter().next().unwrap().clone();
        let b = there.iter().find(|x| !here.contains(*x)).unwrap().clone();
        let hidden_case = organs_of
            .iter()
            .find(|(_, o)| !o.contains(&police_org))
            .map(|(c, _)| c.clone())
            .expect("a case of another organ");
        let template = edges
            .iter()
            .find(|e| {
                e.kind == EdgeKind::InvolvedIn.as_str() && e.to == format!("case:{hidden_case}")
            })
            .unwrap()
            .clone();
        let next = edges.iter().map(|e| e.seq).max().unwrap();
        let planted: Vec<GraphEdge> = [&a, &b]
            .iter()
            .enumerate()
            .map(|(i, person)| GraphEdge {
                seq: next + 1 + i as i64,
                from: (*person).clone(),
                ..template.clone()
            })
            .collect();
        store.graph_write(CASE_GRAPH, &[], &planted).unwrap();
        edges.extend(planted);
        let div = divisions[&case][0].clone();
        let province = &div[..2];
        let principals = vec![
            user(
                "police",
                &police_org,
                OrgKind::Police,
                &div,
                Role::CaseHandler,
                Level::L3,
            ),
            user(
                "judge",
                &court_org,
                OrgKind::Court,
                &div,
                Role::CaseHandler,
                Level::L2,
            ),
            user(
                "supervisor",
                &format!("ZF{province}000001"),
                OrgKind::Zfw,
                &format!("{province}0000"),
                Role::Supervisor,
                Level::L2,
            ),
            user(
                "public",
                "PUBLIC",
                OrgKind::JusticeBureau,
                &format!("{province}0000"),
                Role::Public,
                Level::L1,
            ),
        ];
        std::fs::write(
            data.join("principals.json"),
            serde_json::to_string(&principals).unwrap(),
        )
        .unwrap();
        let logins: Vec<(String, String, String)> = principals
            .iter()
            .map(|p| (p.id().to_string(), p.id().to_string(), PASSWORD.to_string()))
            .collect();
        let small = argon2::Params::new(64, 1, 1, None).unwrap();
        let secrets = write_credentials(&data, &logins, &[], small)
            .unwrap()
            .into_iter()
            .collect();
        drop(store);
        let state = AppState::open(&data, Limits::default()).unwrap();
        Province {
            _dir: dir,
            state,
            case,
            police_org,
            court_org,
            edges,
            organs_of,
            secrets,
            detour: (a, b, format!("case:{hidden_case}")),
        }
    })
}

/// A TOTP code of a step not used before by this binary (the server refuses replays).
fn next_totp(username: &str) -> String {
    static LAST: OnceLock<std::sync::Mutex<HashMap<String, u64>>> = OnceLock::new();
    let secret = province().secrets[username].clone();
    let mut last = LAST.get_or_init(Default::default).lock().unwrap();
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let current = now / xiezhi_server::totp::STEP;
        let next = last
            .get(username)
            .map_or(current, |&l| (l + 1).max(current));
        if next <= current + 1 {
            last.insert(username.to_string(), next);
            return xiezhi_server::totp::code(&secret, next * xiezhi_server::totp::STEP).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

async fn send(req: Request<Body>) -> (StatusCode, String) {
    let res = app(province().state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn login(username: &str) -> String {
    static SESSIONS: OnceLock<tokio::sync::Mutex<HashMap<String, String>>> = OnceLock::new();
    let mut sessions = SESSIONS.get_or_init(Default::default).lock().await;
    if let Some(c) = sessions.get(username) {
        return c.clone();
    }
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": username, "password": PASSWORD, "totp": next_totp(username)})
                .to_string(),
        ))
        .unwrap();
    let res = app(province().state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "login {username}");
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    sessions.insert(username.to_string(), cookie.clone());
    cookie
}

async fn get(cookie: Option<&str>, uri: &str) -> (StatusCode, String) {
    let mut b = Request::builder().method("GET").uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(b.body(Body::empty()).unwrap()).await
}

async fn get_json(user: &str, uri: &str) -> (StatusCode, Value) {
    let cookie = login(user).await;
    let (s, body) = get(Some(&cookie), uri).await;
    let v = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    (s, v)
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Case uids an organ may read by the organisation rule.
fn cases_of(organ: &str) -> BTreeSet<String> {
    province()
        .organs_of
        .iter()
        .filter(|(_, o)| o.contains(organ))
        .map(|(c, _)| c.clone())
        .collect()
}

/// Person node ids involved in any of the cases.
fn persons_in(cases: &BTreeSet<String>) -> BTreeSet<String> {
    province()
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::InvolvedIn.as_str())
        .filter(|e| e.case_uid.as_ref().is_some_and(|c| cases.contains(c)))
        .map(|e| e.from.clone())
        .collect()
}

fn ids(doc: &Value) -> Vec<String> {
    doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts every node of an answer is one the organ may see: a case it took part in, a person
/// of such a case, or an organ or identifier reached through them.
fn assert_within(doc: &Value, organ: &str) {
    let cases = cases_of(organ);
    let persons = persons_in(&cases);
    for n in doc["nodes"].as_array().unwrap() {
        let id = n["id"].as_str().unwrap();
        match NodeKind::of_id(id).unwrap() {
            NodeKind::Case => assert!(cases.contains(&id[5..]), "{id} shown to {organ}"),
            NodeKind::Person => assert!(persons.contains(id), "{id} shown to {organ}"),
            _ => {}
        }
    }
    for e in doc["edges"].as_array().unwrap() {
        if let Some(c) = e["case_uid"].as_str() {
            let kind = e["kind"].as_str().unwrap();
            if ["involved_in", "handled_by", "acted_on", "mentions_phone"].contains(&kind) {
                assert!(cases.contains(c), "edge of {c} shown to {organ}");
            }
        }
    }
}

/// `graph_query` ledger entries since `from`.
fn graph_entries(from: i64) -> Vec<Value> {
    let store = province().state.store().unwrap();
    let to = store.ledger_len().unwrap();
    store
        .ledger_entries_of_kind("access", from, to)
        .unwrap()
        .into_iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .filter(|b| b["access_kind"] == "graph_query")
        .collect()
}

fn ledger_len() -> i64 {
    province().state.store().unwrap().ledger_len().unwrap()
}

#[tokio::test]
async fn police_and_judge_see_the_shared_case_each_within_their_own_cases_and_it_is_ledgered() {
    let p = province();
    let before = ledger_len();
    let uri = format!("/api/v1/graph/neighbours?node=case:{}&hops=2", p.case);
    let (s, police) = get_json("police", &uri).await;
    assert_eq!(s, StatusCode::OK, "{police}");
    let shown = ids(&police);
    assert_eq!(shown[0], format!("case:{}", p.case));
    assert!(shown.iter().any(|i| i.starts_with("person:")), "{shown:?}");
    assert!(police["explanation_zh"]
        .as_str()
        .unwrap()
        .contains("有权查看"));
    assert_within(&police, &p.police_org);
    // Every edge names the field and record behind it.
    for e in police["edges"].as_array().unwrap() {
        assert!(e["field"].as_str().is_some_and(|f| f.contains('.')), "{e}");
        assert!(e["kind_zh"].as_str().is_some_and(|k| !k.is_empty()));
    }
    let entries = graph_entries(before);
    let mine = entries
        .iter()
        .find(|e| e["principal"] == "police" && e["query"]["start"] == format!("case:{}", p.case))
        .unwrap_or_else(|| panic!("no ledger entry: {entries:?}"));
    assert_eq!(
        mine["nodes_returned"].as_array().unwrap().len(),
        shown.len()
    );
    assert!(!mine["decisions"].as_array().unwrap().is_empty());

    let (s, judge) = get_json("judge", &uri).await;
    assert_eq!(s, StatusCode::OK, "{judge}");
    assert_within(&judge, &p.court_org);
    // The same person is labelled by each asker's own decisions: the police handler (L3)
    // reads the name, the judge (clearance L2) a masked one (surname kept).
    let labels = |doc: &Value| -> BTreeMap<String, String> {
        doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "person")
            .map(|n| {
                (
                    n["id"].as_str().unwrap().to_string(),
                    n["label"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (pl, jl) = (labels(&police), labels(&judge));
    let both: Vec<&String> = jl.keys().filter(|k| pl.contains_key(*k)).collect();
    assert!(!both.is_empty());
    for id in both {
        let (p_name, j_name) = (&pl[id], &jl[id]);
        assert!(!p_name.contains('*'), "{p_name}");
        assert_ne!(p_name, j_name);
        assert_eq!(p_name.chars().next(), j_name.chars().next());
        assert!(j_name.chars().skip(1).all(|c| c == '*'), "{j_name}");
    }
}

#[tokio::test]
async fn a_case_of_another_organ_and_a_missing_node_get_the_same_404() {
    let p = province();
    let police_cases = cases_of(&p.police_org);
    let other = p
        .organs_of
        .keys()
        .find(|c| !police_cases.contains(*c))
        .expect("a case the police organ took no part in");
    let before = ledger_len();
    let (s, hidden) = get_json(
        "police",
        &format!("/api/v1/graph/neighbours?node=case:{other}"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{hidden}");
    let (s, missing) = get_json("police", "/api/v1/graph/neighbours?node=case:C99999999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(hidden["title"], missing["title"]);
    assert_eq!(
        hidden["detail"]
            .as_str()
            .unwrap()
            .replace(other.as_str(), "X"),
        missing["detail"]
            .as_str()
            .unwrap()
            .replace("C99999999", "X"),
    );
    assert!(hidden["detail"].as_str().unwrap().contains("无权查看"));
    // Refused queries are ledgered too.
    let entries = graph_entries(before);
    assert!(entries
        .iter()
        .any(|e| e["principal"] == "police" && e["query"]["start"] == format!("case:{other}")));
    // The node finder answers alike.
    let (s, _) = get_json("police", &format!("/api/v1/graph/node?case={other}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, found) = get_json("police", &format!("/api/v1/graph/node?case={}", p.case)).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert_eq!(found["node"]["id"], format!("case:{}", p.case));
    assert_eq!(found["node"]["kind_zh"], "案件");
    assert!(found["link"].as_str().unwrap().starts_with("/graph?node="));
}

#[tokio::test]
async fn the_supervisor_sees_cases_but_no_person_and_the_public_sees_nothing() {
    let p = province();
    let uri = format!("/api/v1/graph/neighbours?node=case:{}&hops=2", p.case);
    let (s, sup) = get_json("supervisor", &uri).await;
    assert_eq!(s, StatusCode::OK, "{sup}");
    let shown = ids(&sup);
    assert!(shown.contains(&format!("case:{}", p.case)));
    assert!(
        !shown.iter().any(|i| {
            matches!(
                NodeKind::of_id(i),
                Some(NodeKind::Person | NodeKind::Phone | NodeKind::Address | NodeKind::Record)
            )
        }),
        "procedural data only: {shown:?}"
    );
    let person = persons_in(&BTreeSet::from([p.case.clone()]))
        .into_iter()
        .next()
        .unwrap();
    let (s, _) = get_json(
        "supervisor",
        &format!("/api/v1/graph/neighbours?node={person}"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    for uri in [
        uri.clone(),
        format!("/api/v1/graph/neighbours?node={person}"),
        format!("/api/v1/graph/node?case={}", p.case),
    ] {
        let (s, doc) = get_json("public", &uri).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}: {doc}");
    }
    for uri in ["/api/v1/graph/communities", "/api/v1/graph/central"] {
        let (s, doc) = get_json("public", uri).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{doc}");
        assert!(
            doc["detail"].as_str().unwrap().contains("办案人员"),
            "{doc}"
        );
    }
}

/// Breadth-first shortest path over every edge (organs end a path, never carry one).
fn full_path(edges: &[GraphEdge], from: &str, to: &str) -> Option<Vec<String>> {
    let mut adj: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in edges {
        adj.entry(&e.from).or_default().push(&e.to);
        adj.entry(&e.to).or_default().push(&e.from);
    }
    let mut parent: HashMap<&str, &str> = HashMap::from([(from, from)]);
    let mut queue = VecDeque::from([from]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            let mut out = vec![to.to_string()];
            let mut at = to;
            while at != from {
                at = parent[at];
                out.push(at.to_string());
            }
            out.reverse();
            return Some(out);
        }
        if n != from && NodeKind::of_id(n) == Some(NodeKind::Organ) {
            continue;
        }
        for &m in adj.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            if !parent.contains_key(m) {
                parent.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    None
}

#[tokio::test]
async fn a_path_never_passes_a_node_hidden_from_the_asker() {
    let p = province();
    for (user, organ) in [("police", &p.police_org), ("judge", &p.court_org)] {
        let visible_cases = cases_of(organ);
        let persons: Vec<String> = persons_in(&visible_cases).into_iter().collect();
        assert!(persons.len() >= 4, "{persons:?}");
        // The planted pair (whose shortest path over everything runs through a hidden case)
        // and a few ordinary pairs.
        let (da, db, dh) = &p.detour;
        let full = full_path(&p.edges, da, db).unwrap();
        assert_eq!(full, vec![da.clone(), dh.clone(), db.clone()]);
        let ordinary = persons.iter().take(6).flat_map(|a| {
            persons
                .iter()
                .rev()
                .take(4)
                .map(move |b| (a.clone(), b.clone()))
        });
        let pairs: Vec<(String, String, Option<Vec<String>>)> =
            std::iter::once((da.clone(), db.clone(), Some(full)))
                .filter(|_| user == "police")
                .chain(ordinary.filter(|(a, b)| a != b).map(|(a, b)| {
                    let f = full_path(&p.edges, &a, &b);
                    (a, b, f)
                }))
                .collect();
        for (a, b, full) in pairs {
            let uri = format!(
                "/api/v1/graph/path?from={}&to={}&max_hops=8",
                enc(&a),
                enc(&b)
            );
            let (s, doc) = get_json(user, &uri).await;
            assert_eq!(s, StatusCode::OK, "{doc}");
            assert_within(&doc, organ);
            let got = ids(&doc);
            match full {
                Some(full) => {
                    if !got.is_empty() {
                        assert_eq!((got.first(), got.last()), (Some(&a), Some(&b)));
                        // Never shorter than the shortest path over everything, and never the
                        // hidden one.
                        assert!(got.len() >= full.len(), "{got:?} vs {full:?}");
                        assert!(!got.contains(dh), "{got:?} passes the hidden {dh}");
                    }
                }
                None => assert!(got.is_empty(), "a path the whole graph lacks: {got:?}"),
            }
        }
    }
    // A path to a person the asker cannot see is the same 404 as a missing one.
    let persons = persons_in(&cases_of(&p.police_org));
    let stranger = p
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::InvolvedIn.as_str() && !persons.contains(&e.from))
        .expect("a person of another organ's cases")
        .from
        .clone();
    let from = persons.iter().next().unwrap();
    let uri = format!(
        "/api/v1/graph/path?from={}&to={}",
        enc(from),
        enc(&stranger)
    );
    let (s, doc) = get_json("police", &uri).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{doc}");
}

#[tokio::test]
async fn filters_by_edge_kind_and_date_narrow_the_answer() {
    let p = province();
    let base = format!("/api/v1/graph/neighbours?node=case:{}&hops=1", p.case);
    let (_, all) = get_json("police", &base).await;
    let (s, only) = get_json("police", &format!("{base}&kinds=involved_in")).await;
    assert_eq!(s, StatusCode::OK, "{only}");
    let kinds: BTreeSet<&str> = only["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["involved_in"]));
    assert!(only["edges"].as_array().unwrap().len() < all["edges"].as_array().unwrap().len());
    // A window after every date keeps only undated edges.
    let (_, late) = get_json("police", &format!("{base}&from=2999-01-01")).await;
    for e in late["edges"].as_array().unwrap() {
        assert!(e["date"].is_null(), "{e}");
    }
    let (s, bad) = get_json("police", &format!("{base}&kinds=owns_boat")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(bad["errors"][0]["field"], "kinds");
    let (s, bad) = get_json("police", &format!("{base}&from=2024-13-01")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(bad["errors"][0]["field"], "from");
    let (s, bad) = get_json(
        "police",
        &format!("/api/v1/graph/neighbours?node=case:{}&hops=4", p.case),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(bad["errors"][0]["field"], "hops");
}

#[tokio::test]
async fn communities_and_central_persons_are_within_what_each_may_see() {
    let p = province();
    let before = ledger_len();
    let (s, central) = get_json("police", "/api/v1/graph/central?top=10").await;
    assert_eq!(s, StatusCode::OK, "{central}");
    let police_persons = persons_in(&cases_of(&p.police_org));
    let list = central["central"].as_array().unwrap();
    assert!(!list.is_empty());
    for c in list {
        assert!(
            police_persons.contains(c["person"]["id"].as_str().unwrap()),
            "{c}"
        );
    }
    assert!(central["explanation_zh"].as_str().unwrap().contains("介数"));
    let (s, comm) = get_json("police", "/api/v1/graph/communities?min_size=2").await;
    assert_eq!(s, StatusCode::OK, "{comm}");
    for c in comm["communities"].as_array().unwrap() {
        for m in c["members"].as_array().unwrap() {
            assert!(police_persons.contains(m["id"].as_str().unwrap()), "{m}");
        }
    }
    // The supervisor may ask, but sees no person, so finds no group.
    let (s, sup) = get_json("supervisor", "/api/v1/graph/communities?min_size=2").await;
    assert_eq!(s, StatusCode::OK, "{sup}");
    assert!(sup["communities"].as_array().unwrap().is_empty());
    let entries = graph_entries(before);
    assert!(entries
        .iter()
        .any(|e| e["principal"] == "police" && e["query"]["analysis"].is_string()));
    assert!(entries.iter().any(|e| e["principal"] == "supervisor"));
}

#[tokio::test]
async fn without_a_session_every_graph_route_is_401() {
    let p = province();
    for uri in [
        format!("/api/v1/graph/neighbours?node=case:{}", p.case),
        "/api/v1/graph/path?from=person:a&to=person:b".to_string(),
        format!("/api/v1/graph/node?case={}", p.case),
        "/api/v1/graph/communities".to_string(),
        "/api/v1/graph/central".to_string(),
    ] {
        let (s, body) = get(None, &uri).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}: {body}");
        assert!(body.contains("未登录"));
    }
    let (s, _) = get(None, &format!("/graph?case={}", p.case)).await;
    assert!(s.is_redirection(), "{s}");
}

#[tokio::test]
async fn the_link_chart_draws_expands_and_finds_a_path() {
    let p = province();
    let cookie = login("police").await;
    let (s, page) = get(Some(&cookie), &format!("/graph?case={}&hops=1", p.case)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"graph-chart\""));
    assert!(page.contains(&format!("data-node=\"case:{}\"", p.case)));
    let drawn = |page: &str| page.matches("class=\"gnode\"").count();
    let first = drawn(&page);
    // Clicking a person expands it: its link carries `expand`, and the page drawn for it
    // holds at least as many nodes, the person marked expanded.
    let person = persons_in(&BTreeSet::from([p.case.clone()]))
        .into_iter()
        .find(|x| page.contains(&format!("data-node=\"{x}\"")))
        .expect("a person drawn");
    let marker = format!("expand={}", enc(&person));
    assert!(page.contains(&marker), "no expansion link for {person}");
    let (s, expanded) = get(
        Some(&cookie),
        &format!("/graph?node=case:{}&hops=1&{marker}", p.case),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(drawn(&expanded) >= first);
    assert!(expanded.contains(&format!(
        "data-node=\"{person}\" data-kind=\"person\" data-expanded=\"1\""
    )));
    // Nothing outside the police organ's cases is drawn.
    let cases = cases_of(&p.police_org);
    for chunk in expanded.split("data-node=\"case:").skip(1) {
        let uid = chunk.split('"').next().unwrap();
        assert!(cases.contains(uid), "case {uid} drawn for police");
    }
    // The path finder between two persons of the case.
    let two: Vec<String> = persons_in(&BTreeSet::from([p.case.clone()]))
        .into_iter()
        .take(2)
        .collect();
    if two.len() == 2 {
        let (s, with_path) = get(
            Some(&cookie),
            &format!(
                "/graph?node=case:{}&path_from={}&path_to={}",
                p.case,
                enc(&two[0]),
                enc(&two[1])
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(with_path.contains("id=\"path-steps\""), "{with_path}");
        assert!(with_path.contains("最短路径"));
    }
    // Filters: only 涉案 edges drawn.
    let (_, filtered) = get(
        Some(&cookie),
        &format!("/graph?case={}&hops=2&kinds=involved_in", p.case),
    )
    .await;
    let kinds: BTreeSet<&str> = filtered
        .split("class=\"gedge\" data-kind=\"")
        .skip(1)
        .map(|c| c.split('"').next().unwrap())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["involved_in"]));
    // Without a node: the form only. From a person: the path finder starts at him.
    let (s, empty) = get(Some(&cookie), "/graph").await;
    assert_eq!(s, StatusCode::OK);
    assert!(empty.contains("id=\"graph-filters\"") && !empty.contains("id=\"graph-chart\""));
    let (s, from_person) = get(Some(&cookie), &format!("/graph?person={}", &person[7..])).await;
    assert_eq!(s, StatusCode::OK);
    assert!(from_person.contains(&format!("id=\"path-from\" value=\"{person}\"")));
    // The public gets the 404 page, the case page links to the chart.
    let public = login("public").await;
    let (s, _) = get(Some(&public), &format!("/graph?case={}", p.case)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, case_page) = get(Some(&cookie), &format!("/cases/{}", p.case)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(case_page.contains(&format!("/graph?case={}", p.case)));
}
