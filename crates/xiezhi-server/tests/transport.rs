//! Transport over real sockets: TLS handshakes against a throwaway CA, HSTS and `Secure`
//! cookies, the loopback rule for plain HTTP, and requests signed by department systems
//! (Ed25519 and SM2) accepted, with tampering, wrong keys, stale timestamps and replays refused.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use xiezhi_crypto::{SigningKey, Suite};
use xiezhi_server::signed::{register_client_cert, register_key, RequestSigner, SystemKey};
use xiezhi_server::tls::{load_tls, HSTS};
use xiezhi_server::Transport;

use common::{fixture, next_totp, PASSWORD};

/// A CA and a server certificate for `localhost` and 127.0.0.1, written as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    ca_der: rustls::pki_types::CertificateDer<'static>,
}

fn new_pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "xiezhi test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The chain file holds the leaf then the CA, as deployments ship it.
    std::fs::write(
        dir.path().join("cert.pem"),
        format!("{}{}", leaf.pem(), ca_cert.pem()),
    )
    .unwrap();
    std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
    Pki {
        dir,
        ca_der: ca_cert.der().clone(),
    }
}

/// A running server on 127.0.0.1; stops when dropped.
struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start(transport: Transport) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let state = fixture().state.clone();
    tokio::spawn(async move {
        xiezhi_server::serve_on(listener, state, transport, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server { addr, _stop: stop }
}

async fn start_tls(pki: &Pki) -> Server {
    let config = load_tls(
        &pki.dir.path().join("cert.pem"),
        &pki.dir.path().join("key.pem"),
        None,
    )
    .unwrap();
    start(Transport::Tls(config)).await
}

fn client_config(
    roots: &[rustls::pki_types::CertificateDer<'static>],
) -> Arc<rustls::ClientConfig> {
    client_config_with(roots, None)
}

/// A client certificate and its key, as a department system holds them.
type Identity = (
    rustls::pki_types::CertificateDer<'static>,
    rustls::pki_types::PrivateKeyDer<'static>,
);

fn client_config_with(
    roots: &[rustls::pki_types::CertificateDer<'static>],
    identity: Option<Identity>,
) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add(r.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store);
    Arc::new(match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder.with_client_auth_cert(vec![cert], key).unwrap(),
    })
}

/// A client CA, written as `client-ca.pem` into `dir`, that issues client certificates.
struct ClientCa {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

fn client_ca(dir: &std::path::Path) -> ClientCa {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "政法专网 部门系统 CA");
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("client-ca.pem"), cert.pem()).unwrap();
    ClientCa { cert, key }
}

impl ClientCa {
    /// A client certificate for `name`, also written as `<name>.pem` into `dir`.
    fn issue(&self, dir: &std::path::Path, name: &str) -> Identity {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        (
            cert.der().clone(),
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    tls_version: Option<rustls::ProtocolVersion>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{e}: {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The rule of the first error of a 401 problem.
    fn refusal(&self) -> String {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{:?}", self.body);
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        self.json()["errors"][0]["rule"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// One HTTP/1.1 request over a fresh connection: TLS when `tls` is given, else plain.
async fn send(
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    req: Request<Full<Bytes>>,
) -> Result<Reply, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    async fn exchange<T>(io: T, req: Request<Full<Bytes>>) -> Result<Reply, String>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let (parts, body) = res.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
            tls_version: None,
        })
    }
    match tls {
        Some(config) => {
            let name = ServerName::try_from("localhost").unwrap();
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            let version = stream.get_ref().1.protocol_version();
            let mut reply = exchange(stream, req).await?;
            reply.tls_version = version;
            Ok(reply)
        }
        None => exchange(tcp, req).await,
    }
}

fn request(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "localhost")
}

fn login_request() -> Request<Full<Bytes>> {
    let body = json!({"username": "police", "password": PASSWORD, "totp": next_totp("police")})
        .to_string();
    request("POST", "/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

#[tokio::test]
async fn tls_server_sends_hsts_and_secure_cookies() {
    let pki = new_pki();
    let server = start_tls(&pki).await;
    let trusting = client_config(std::slice::from_ref(&pki.ca_der));

    let serial = common::login_lock().lock().await;
    let r = send(server.addr, Some(trusting.clone()), login_request())
        .await
        .unwrap();
    drop(serial);
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.tls_version.is_some());
    assert_eq!(r.headers[header::STRICT_TRANSPORT_SECURITY], HSTS);
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    for attr in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(
            cookie.split(';').any(|a| a.trim() == attr),
            "{attr} in {cookie}"
        );
    }

    // The console's login form sets its pre-session cookie Secure as well.
    let page = send(
        server.addr,
        Some(trusting.clone()),
        request("GET", "/login")
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(page.status, StatusCode::OK);
    let set: Vec<&str> = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(!set.is_empty());
    assert!(set.iter().all(|c| c.contains("; Secure")), "{set:?}");

    // A client that does not trust the CA gets no connection: the certificate is checked.
    let other = new_pki();
    let distrusting = client_config(std::slice::from_ref(&other.ca_der));
    let e = send(server.addr, Some(distrusting), login_request())
        .await
        .err()
        .expect("handshake with an unknown CA fails");
    assert!(e.starts_with("handshake"), "{e}");

    // Plain HTTP to the TLS port gets no HTTP answer.
    assert!(send(server.addr, None, login_request()).await.is_err());
}

#[tokio::test]
async fn plain_http_on_loopback_has_no_tls_headers() {
    let server = start(Transport::LOOPBACK).await;
    let serial = common::login_lock().lock().await;
    let r = send(server.addr, None, login_request()).await.unwrap();
    drop(serial);
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(!cookie.contains("Secure") && cookie.contains("HttpOnly"));
}

#[tokio::test]
async fn plain_http_on_a_non_loopback_address_is_refused_at_startup() {
    let state = fixture().state.clone();
    let e = xiezhi_server::serve(
        state.clone(),
        "0.0.0.0:0".parse().unwrap(),
        Transport::LOOPBACK,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("plain_http_non_loopback"), "{e}");
    assert!(e.to_string().contains("--insecure-http"), "{e}");
}

/// Two keys of police-system, one per suite, registered once for this binary.
fn keys() -> &'static [(SystemKey, RequestSigner); 2] {
    static K: OnceLock<[(SystemKey, RequestSigner); 2]> = OnceLock::new();
    K.get_or_init(|| {
        let data = &fixture().state.data;
        Suite::ALL.map(|suite| {
            let (record, secret) = register_key(data, "police-system", suite).unwrap();
            let signer = RequestSigner::new(record.key_id.clone(), secret);
            (record, signer)
        })
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn signed(
    signer: &RequestSigner,
    method: &str,
    uri: &str,
    signed_body: &[u8],
    sent_body: &[u8],
    timestamp: i64,
) -> Request<Full<Bytes>> {
    with_headers(
        method,
        uri,
        &signer.headers(method, uri, signed_body, timestamp),
        sent_body,
    )
}

fn with_headers(
    method: &str,
    uri: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> Request<Full<Bytes>> {
    let mut b = request(method, uri);
    for (name, value) in headers {
        b = b.header(*name, value);
    }
    b.body(Full::new(Bytes::copy_from_slice(body))).unwrap()
}

fn export_lines() -> Vec<u8> {
    let original =
        std::fs::read_to_string(fixture().export.join("justice/corrections.csv")).unwrap();
    (original.lines().take(4).collect::<Vec<_>>().join("\n") + "\n").into_bytes()
}

#[tokio::test]
async fn signed_requests_of_both_suites_run_as_the_department_system() {
    let pki = new_pki();
    let server = start_tls(&pki).await;
    let tls = Some(client_config(std::slice::from_ref(&pki.ca_der)));
    let body = export_lines();
    for (record, signer) in keys() {
        assert_eq!(record.principal, "police-system");
        let r = send(
            server.addr,
            tls.clone(),
            signed(signer, "GET", "/api/v1/session", b"", b"", now()),
        )
        .await
        .unwrap();
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.json()["principal"], "police-system", "{:?}", record.suite);
        assert_eq!(r.json()["role"], "部门系统");

        // A department system pushes its export, signed over the body.
        let uri = format!(
            "/api/v1/ingest?source=justice&file=signed-{}.csv",
            record.suite
        );
        let r = send(
            server.addr,
            tls.clone(),
            signed(signer, "POST", &uri, &body, &body, now()),
        )
        .await
        .unwrap();
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.json()["report"]["counts"]["records_read"], 3);
    }
}

#[tokio::test]
async fn tampered_forged_stale_and_replayed_requests_are_refused() {
    let pki = new_pki();
    let server = start_tls(&pki).await;
    let tls = Some(client_config(std::slice::from_ref(&pki.ca_der)));
    let go = |req| {
        let tls = tls.clone();
        async move { send(server.addr, tls, req).await.unwrap() }
    };
    let body = export_lines();
    let uri = "/api/v1/ingest?source=justice&file=tampered.csv";
    for (record, signer) in keys() {
        // Body changed after signing: one ID digit altered.
        let mut tampered = body.clone();
        let at = tampered.iter().rposition(u8::is_ascii_digit).unwrap();
        tampered[at] = if tampered[at] == b'1' { b'2' } else { b'1' };
        let r = go(signed(signer, "POST", uri, &body, &tampered, now())).await;
        assert_eq!(r.refusal(), "signature_invalid", "{:?}", record.suite);

        // Path changed after signing.
        let mut req = signed(signer, "GET", "/api/v1/session", b"", b"", now());
        *req.uri_mut() = "/api/v1/cases".parse().unwrap();
        assert_eq!(go(req).await.refusal(), "signature_invalid");

        // Signed by a key that is not the registered one, under the registered key's id.
        let impostor =
            RequestSigner::new(record.key_id.clone(), SigningKey::generate(record.suite));
        let r = go(signed(&impostor, "GET", "/api/v1/session", b"", b"", now())).await;
        assert_eq!(r.refusal(), "signature_invalid");

        // A key id nobody registered.
        let unknown =
            RequestSigner::new("intl-0000000000000000", SigningKey::generate(record.suite));
        let r = go(signed(&unknown, "GET", "/api/v1/session", b"", b"", now())).await;
        assert_eq!(r.refusal(), "signature_key_unknown");

        // Outside ±5 minutes, either way.
        for skew in [-301, 301, -3600] {
            let r = go(signed(
                signer,
                "GET",
                "/api/v1/session",
                b"",
                b"",
                now() + skew,
            ))
            .await;
            assert_eq!(r.refusal(), "signature_timestamp_window", "skew {skew}");
        }

        // The same signed request twice: the first runs, the second is a replay.
        let h = signer.headers("GET", "/api/v1/session", b"", now());
        let first = go(with_headers("GET", "/api/v1/session", &h, b"")).await;
        assert_eq!(first.status, StatusCode::OK);
        let again = go(with_headers("GET", "/api/v1/session", &h, b"")).await;
        assert_eq!(again.refusal(), "signature_replay");
        // A fresh signature of the same request (new nonce) is no replay.
        let fresh = go(signed(signer, "GET", "/api/v1/session", b"", b"", now())).await;
        assert_eq!(fresh.status, StatusCode::OK);
    }

    // A signature header without the others names the missing one.
    let r = go(request("GET", "/api/v1/session")
        .header("xiezhi-request-signature", "AAAA")
        .body(Full::new(Bytes::new()))
        .unwrap())
    .await;
    assert_eq!(r.refusal(), "signature_header_missing");
    assert_eq!(r.json()["errors"][0]["field"], "xiezhi-key-id");

    // No refused upload reached the ingest handler, which keeps every file it is given.
    let uploads = fixture().state.data.join("uploads");
    let kept: Vec<String> = std::fs::read_dir(&uploads)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !kept.iter().any(|f| f.ends_with("tampered.csv")),
        "{kept:?}"
    );
}

#[tokio::test]
async fn client_certificates_map_to_department_systems() {
    let pki = new_pki();
    let dir = pki.dir.path();
    let ca = client_ca(dir);
    let system = ca.issue(dir, "police-system-cert");
    let stranger = ca.issue(dir, "unregistered");
    let record = register_client_cert(
        &fixture().state.data,
        "police-system",
        &dir.join("police-system-cert.pem"),
    )
    .unwrap();
    let config = load_tls(
        &dir.join("cert.pem"),
        &dir.join("key.pem"),
        Some(&dir.join("client-ca.pem")),
    )
    .unwrap();
    let server = start(Transport::Tls(config)).await;
    let roots = std::slice::from_ref(&pki.ca_der);
    let me = || {
        request("GET", "/api/v1/session")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };

    // The registered certificate is the system's credential: no key, no signature.
    let r = send(
        server.addr,
        Some(client_config_with(roots, Some(system))),
        me(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.json()["principal"], "police-system");
    assert_eq!(record.principal, "police-system");

    // A certificate of the same CA that nobody registered authenticates no one.
    let r = send(
        server.addr,
        Some(client_config_with(roots, Some(stranger))),
        me(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Browsers present none: the console still answers, the API asks for a login.
    let plain_client = Some(client_config(roots));
    let r = send(server.addr, plain_client.clone(), me()).await.unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let login = request("GET", "/login")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(
        send(server.addr, plain_client, login).await.unwrap().status,
        StatusCode::OK
    );

    // A certificate from a CA the server does not trust ends the connection.
    let other_dir = tempfile::tempdir().unwrap();
    let forged = client_ca(other_dir.path()).issue(other_dir.path(), "police-system-cert");
    let r = send(
        server.addr,
        Some(client_config_with(roots, Some(forged))),
        me(),
    )
    .await;
    assert!(r.is_err(), "{:?}", r.map(|r| r.status));
}

/// A person's registered client certificate is the cryptographic second factor: with it on the
/// mutual-TLS connection the password suffices; without it, or for another account, the TOTP
/// code is still required. The login's ledger entry names the factor.
#[tokio::test]
async fn a_persons_registered_client_certificate_replaces_the_totp_code() {
    let pki = new_pki();
    let dir = pki.dir.path();
    let ca = client_ca(dir);
    let card = ca.issue(dir, "judge-card");
    let fingerprint = xiezhi_server::tls::cert_fingerprint(&card.0);
    fixture()
        .state
        .users_mut()
        .unwrap()
        .get_mut("judge")
        .unwrap()
        .client_cert_sha256 = Some(fingerprint.clone());
    let config = load_tls(
        &dir.join("cert.pem"),
        &dir.join("key.pem"),
        Some(&dir.join("client-ca.pem")),
    )
    .unwrap();
    let server = start(Transport::Tls(config)).await;
    let roots = std::slice::from_ref(&pki.ca_der);
    let login = |user: &str| {
        let body = json!({"username": user, "password": PASSWORD, "totp": ""}).to_string();
        request("POST", "/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };

    let r = send(
        server.addr,
        Some(client_config_with(
            roots,
            Some((card.0.clone(), card.1.clone_key())),
        )),
        login("judge"),
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.json()["principal"], "judge");

    // Without the card the code is required.
    let r = send(server.addr, Some(client_config(roots)), login("judge"))
        .await
        .unwrap();
    assert_eq!(r.refusal(), "totp_wrong");
    // The card is the judge's, not the prosecutor's.
    let r = send(
        server.addr,
        Some(client_config_with(roots, Some(card))),
        login("prosecutor"),
    )
    .await
    .unwrap();
    assert_eq!(r.refusal(), "totp_wrong");

    let store = fixture().state.store().unwrap();
    let len = xiezhi_store::Store::ledger_len(&*store).unwrap();
    let recent = xiezhi_store::Store::ledger_entries(&*store, (len - 200).max(0), 200).unwrap();
    assert!(
        recent.iter().any(|e| e.body.contains("\"judge\"")
            && e.body.contains("factor=client_certificate")
            && e.body.contains("success")),
        "no ledger entry for the certificate login"
    );
}
