//! The console in headless Chromium (chromedriver + fantoccini) against the real server on a
//! local port: a police officer and a judge open the same case and see different fields
//! masked; a data steward uploads a bad export and sees it quarantined with its reasons; the
//! procuratorate officer finds a police transfer on 交换 and opens its signature check; the
//! main pages are screenshotted at 1366×768 and on a narrow screen into
//! `target/screenshots/` for review; the link chart of the case is opened from it and a
//! person on it expanded; a correction officer goes from an alert to a subject's
//! trajectory and records a visit; a reviewer draws a 评查 sample and scores a case.
//!
//! Without chromedriver on the PATH the test says so and passes, unless
//! `XIEZHI_REQUIRE_BROWSER=1` (set by CI), where a missing browser fails it.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{fixture, next_totp, PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromedriver() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromedriver"))
            .find(|p| p.is_file())
    })
}

fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    // A screenshot can time out on a busy machine; the page itself was already checked.
    let mut attempt = 0;
    let png = loop {
        attempt += 1;
        match c.screenshot().await {
            Ok(png) => break png,
            Err(e) if attempt < 3 => {
                eprintln!("screenshot {name}: {e}; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => panic!("screenshot {name}: {e}"),
        }
    };
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
}

async fn login(c: &Client, base: &str, user: &str) {
    c.delete_all_cookies().await.unwrap();
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Id("totp"))
        .await
        .unwrap()
        .send_keys(&next_totp(user))
        .await
        .unwrap();
    c.find(Locator::Id("login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click navigates: wait for the next page rather than read the old one.
    let who = c
        .wait()
        .at_most(std::time::Duration::from_secs(20))
        .for_element(Locator::Id("who"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(who.contains(user), "logged in as {user}: {who}");
}

/// The text of the element a locator finds.
async fn text_of(c: &Client, l: Locator<'_>) -> String {
    c.find(l).await.unwrap().text().await.unwrap()
}

/// Waits until an element's text is `expected` (a form post navigates; under load the old
/// page may still be shown for a moment).
async fn wait_text(c: &Client, css: &str, expected: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t == expected {
                    return;
                }
                last = t;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("`{css}` shows `{last}`, not `{expected}`");
}

/// The text shown for a field of the first record of a section, and its cell's class.
async fn cell(c: &Client, field: &str) -> (String, String) {
    let td = c
        .find(Locator::Css(&format!("td[data-field=\"{field}\"]")))
        .await
        .unwrap();
    (
        td.text().await.unwrap(),
        td.attr("class").await.unwrap().unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_a_real_browser() {
    let Some(driver_bin) = chromedriver() else {
        assert!(
            std::env::var("XIEZHI_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "XIEZHI_REQUIRE_BROWSER=1 but chromedriver is not on the PATH"
        );
        eprintln!("chromedriver not found: browser test skipped (apt-get install chromium chromium-driver)");
        return;
    };
    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = xiezhi_server::app(f.state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let base = format!("http://{addr}");

    let port = free_port();
    let _driver = Driver(
        Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let caps: fantoccini::wd::Capabilities = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=zh-CN"]}
    }))
    .unwrap();
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut c = None;
    for _ in 0..50 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => {
                c = Some(client);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let c = c.expect("chromedriver answers");
    c.set_window_size(1366, 768).await.unwrap();

    // A police officer of the case (L3) sees the ID number in clear.
    login(&c, &base, "police").await;
    shot(&c, "overview").await;
    c.goto(&format!("{base}/cases/{}", f.case)).await.unwrap();
    let (police_id, police_class) = cell(&c, "person.id_number").await;
    shot(&c, "case-police").await;
    assert_eq!(police_id.len(), 18, "{police_id}");
    assert!(police_class.contains("act-show"), "{police_class}");
    let timeline = text_of(&c, Locator::Id("timeline")).await;
    assert!(timeline.contains("公安"), "{timeline}");

    // The link chart (关系图谱), from the case page: the case's neighbourhood drawn; a click
    // on a person expands it, and the page is drawn again with that person marked expanded.
    {
        let mut store = f.state.store().unwrap();
        xiezhi_casegraph::build(&mut *store, xiezhi_casegraph::CASE_GRAPH, &mut |_| {}).unwrap();
    }
    c.find(Locator::Id("case-graph-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("graph-chart"))
        .await
        .unwrap();
    let drawn = c
        .find_all(Locator::Css("#graph-nodes a.gnode"))
        .await
        .unwrap();
    assert!(drawn.len() > 1, "the case and its neighbours drawn");
    let person = c
        .find(Locator::Css("#graph-nodes a.gnode[data-kind=person]"))
        .await
        .unwrap();
    let id = person.attr("data-node").await.unwrap().unwrap();
    shot(&c, "graph").await;
    person.click().await.unwrap();
    let expanded = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#graph-nodes a.gnode[data-expanded]"))
        .await
        .unwrap();
    assert_eq!(expanded.attr("data-node").await.unwrap().unwrap(), id);
    assert!(c.current_url().await.unwrap().as_str().contains("expand="));
    c.execute(
        "document.getElementById('graph-chart').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, "graph-expanded").await;
    for (path, name) in [
        ("/cases", "cases"),
        ("/supervise", "supervise"),
        ("/sharing", "sharing"),
        ("/audit", "audit"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        let h1 = text_of(&c, Locator::Css("h1")).await;
        assert!(!h1.is_empty(), "{path} has a heading");
        shot(&c, name).await;
    }

    // A judge of the same case with internal clearance (L2) sees it masked.
    login(&c, &base, "judge").await;
    c.goto(&format!("{base}/cases/{}", f.case)).await.unwrap();
    let (judge_id, judge_class) = cell(&c, "person.id_number").await;
    shot(&c, "case-judge").await;
    assert!(judge_class.contains("act-mask"), "{judge_class}");
    assert!(
        judge_id.contains('*') && judge_id != police_id,
        "{judge_id}"
    );
    assert_eq!(judge_id[..4], police_id[..4]);
    // On a narrow screen the page still shows the case.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{base}/cases/{}", f.case)).await.unwrap();
    shot(&c, "case-judge-narrow").await;
    c.set_window_size(1366, 768).await.unwrap();

    // A data steward uploads an export with a bad ID number and sees it quarantined.
    let original = std::fs::read_to_string(f.export.join("justice/corrections.csv")).unwrap();
    let mut lines: Vec<String> = original.lines().take(3).map(str::to_string).collect();
    let mut cols: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cols[1] = "52010219990101123".into();
    lines[1] = cols.join(",");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-corrections.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    login(&c, &base, "steward").await;
    c.goto(&format!("{base}/governance")).await.unwrap();
    shot(&c, "governance").await;
    c.find(Locator::Css("#source option[value=justice]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(bad.to_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::Id("upload-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let n = c
        .wait()
        .at_most(std::time::Duration::from_secs(30))
        .for_element(Locator::Id("quarantined-count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(n.parse::<u32>().unwrap() >= 1, "quarantined: {n}");
    let reasons = text_of(&c, Locator::Id("ingest-quarantine")).await;
    assert!(reasons.contains("id_number"), "{reasons}");
    shot(&c, "ingest-result").await;

    // A supervisor works a risk item from 预警 to 销号.
    {
        let as_of = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        let calendar = xiezhi_supervise::DataCalendar::shipped().unwrap();
        let mut store = f.state.store().unwrap();
        let findings = xiezhi_supervise::engine::evaluate_all(&*store, as_of, &calendar).unwrap();
        xiezhi_supervise::lifecycle::sync(&mut *store, &findings, as_of, false).unwrap();
    }
    login(&c, &base, "supervisor").await;
    c.goto(&format!("{base}/supervise?status=warned"))
        .await
        .unwrap();
    shot(&c, "supervise").await;
    c.find(Locator::Css("#risk-list li details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for (note, button, after) in [
        ("调阅卷宗，超期属实", "button[value=true]", "核查属实"),
        ("承办机构已说明原因并整改", "button", "已整改"),
        ("整改到位", "button", "已销号"),
    ] {
        c.find(Locator::Css("form.risk-action input[name=note]"))
            .await
            .unwrap()
            .send_keys(note)
            .await
            .unwrap();
        c.find(Locator::Css(&format!("form.risk-action {button}")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_text(&c, "#risk-list .status", after).await;
    }
    let history = text_of(&c, Locator::Css("#risk-list .history")).await;
    assert!(
        history.contains("销号") && history.contains("整改到位"),
        "{history}"
    );
    shot(&c, "risk-closed").await;

    // A procuratorate officer opens 交换 and sees a transfer from the police with its Chinese
    // kind name, then its detail with the signature check.
    let id = {
        use xiezhi_exchange::envelope::WireValue;
        use xiezhi_exchange::inbox::{self, Mode};
        use xiezhi_exchange::keys::{register, Keyring, Registry};
        use xiezhi_exchange::outbox::{self, Draft, RetryPolicy};
        use xiezhi_exchange::{OrganKind, TransferKind};
        let ga = f.state.principal("police").unwrap().org_code().to_string();
        let jc = f
            .state
            .principal("prosecutor")
            .unwrap()
            .org_code()
            .to_string();
        let mut store = f.state.store().unwrap();
        let mut keys = Keyring::new();
        for (i, (organ, kind)) in [(&ga, OrganKind::Police), (&jc, OrganKind::Procuratorate)]
            .into_iter()
            .enumerate()
        {
            let key = ed25519_dalek::SigningKey::from_bytes(&[i as u8 + 41; 32]);
            register(
                &mut *store,
                organ,
                organ,
                kind,
                &key.verifying_key().into(),
                "2024-03-01T09:00:00",
            )
            .unwrap();
            keys.insert(organ, key);
        }
        let registry = Registry::load(&*store).unwrap();
        let now = chrono::Local::now().naive_local();
        let mut d = Draft::new(TransferKind::ArrestRequest, &ga, &jc, "Z0000001").document(
            "arrest_request",
            "提捕字〔2024〕1号",
            "提请批准逮捕书。".as_bytes(),
        );
        d.case
            .insert("name".into(), WireValue::Text("Z0000001 盗窃案".into()));
        let sent = outbox::send(&mut *store, &keys, &registry, vec![d], now).unwrap();
        let due = outbox::due(&*store, now, 10).unwrap();
        let (seqs, envs): (Vec<i64>, Vec<_>) = due.into_iter().map(|i| (i.seq, i.envelope)).unzip();
        let outcomes =
            inbox::receive(&mut *store, &keys, &registry, envs, Mode::Manual, now).unwrap();
        let pairs = seqs.into_iter().zip(outcomes).collect();
        outbox::record(&mut *store, &registry, pairs, &RetryPolicy::default(), now).unwrap();
        sent[0].body.id.clone()
    };
    login(&c, &base, "prosecutor").await;
    c.goto(&format!("{base}/exchange")).await.unwrap();
    let table = text_of(&c, Locator::Id("transfers")).await;
    assert!(
        table.contains(&id) && table.contains("提请批准逮捕") && table.contains("收到"),
        "{table}"
    );
    shot(&c, "exchange").await;
    c.set_window_size(390, 844).await.unwrap();
    shot(&c, "exchange-narrow").await;
    c.set_window_size(1366, 768).await.unwrap();
    c.find(Locator::LinkText(&id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let signature = c
        .wait()
        .at_most(std::time::Duration::from_secs(20))
        .for_element(Locator::Id("signature"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(signature.contains("签名有效"), "{signature}");
    shot(&c, "transfer").await;

    // A correction officer goes from today's alert to the subject's trajectory over his fences
    // and records a visit, which lands in the subject's acts.
    login(&c, &base, "corrections").await;
    c.goto(&format!("{base}/corrections")).await.unwrap();
    let alerts = text_of(&c, Locator::Id("correction-alerts")).await;
    assert!(alerts.contains(&f.corrections_case), "{alerts}");
    shot(&c, "corrections").await;
    c.find(Locator::Css(&format!(
        "a.subject-link[href='/corrections/{}']",
        f.corrections_case
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("trajectory"))
        .await
        .unwrap();
    let fences = c
        .find_all(Locator::Css("#trajectory polygon.fence"))
        .await
        .unwrap();
    assert!(!fences.is_empty(), "the subject's fences are drawn");
    let alerts = text_of(&c, Locator::Id("subject-alerts")).await;
    assert!(alerts.contains("依据"), "{alerts}");
    let before = c
        .find_all(Locator::Css("#acts tbody tr"))
        .await
        .unwrap()
        .len();
    shot(&c, "subject").await;
    c.find(Locator::Id("act-note"))
        .await
        .unwrap()
        .send_keys("入户走访，本人在家")
        .await
        .unwrap();
    c.find(Locator::Id("act-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut after = before;
    for _ in 0..100 {
        if let Ok(rows) = c.find_all(Locator::Css("#acts tbody tr")).await {
            after = rows.len();
            if after > before {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(after, before + 1, "the visit is recorded");
    let first = c
        .find(Locator::Css("#acts tbody tr"))
        .await
        .unwrap()
        .attr("data-kind")
        .await
        .unwrap();
    assert_eq!(first.as_deref(), Some("visit"));
    shot(&c, "subject-recorded").await;

    // A reviewer draws a sample of the court's closed cases and scores one case.
    let court = f.state.principal("judge").unwrap().org_code().to_string();
    login(&c, &base, "supervisor").await;
    c.goto(&format!("{base}/review")).await.unwrap();
    for (id, value) in [
        ("organ", court.as_str()),
        ("from", "2021-01-01"),
        ("to", "2026-12-31"),
    ] {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    let size = c.find(Locator::Id("size")).await.unwrap();
    size.clear().await.unwrap();
    size.send_keys("2").await.unwrap();
    c.find(Locator::Id("draw-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("section.review-case"))
        .await
        .unwrap();
    let items = c
        .find_all(Locator::Css("section.review-case table.checklist tbody tr"))
        .await
        .unwrap();
    assert!(items.len() >= 10, "a checklist from the court's rules");
    shot(&c, "review-sample").await;
    c.find(Locator::Css("section.review-case .score-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let score = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("section.review-case .score"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(score.ends_with('分'), "{score}");
    shot(&c, "review-scored").await;
    // The leader's overview, the petition deadline board and the hot spots.
    for (path, name, id) in [
        ("/justice", "justice", "justice-cards"),
        ("/petitions", "petitions", "petition-board"),
        ("/hotspots", "hotspots", "hot-spots"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        c.find(Locator::Id(id)).await.unwrap();
        shot(&c, name).await;
    }
    let cards = text_of(&c, Locator::Css("h1")).await;
    assert!(cards.contains("热点"), "{cards}");
    c.close().await.unwrap();
}
