//! Transport: TLS with rustls (ring provider) from a PEM certificate chain and key, the
//! loopback rule for plain HTTP, and the headers only a TLS server may send (HSTS, `Secure`
//! cookies).
//!
//! 国密 TLS (TLCP, GB/T 38636) is not spoken here: a TLCP gateway terminates it in front of the
//! server (see `docs/security.md`, "传输安全").

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// One year, as `Strict-Transport-Security` asks browsers to remember HTTPS-only.
pub const HSTS: &str = "max-age=31536000";
/// A client that has not finished its handshake by then is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the server will not start with the transport it was given.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("无法读取 TLS 文件 `{path}`")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("证书文件 `{path}` 中没有 PEM 证书 (rule: tls_cert_missing)")]
    NoCertificate { path: PathBuf },
    #[error("证书文件 `{path}` 无法解析：{reason} (rule: tls_cert_pem)")]
    BadCertificate { path: PathBuf, reason: String },
    #[error("私钥文件 `{path}` 中没有 PEM 私钥 (PKCS#8、PKCS#1 或 SEC1) (rule: tls_key_missing)")]
    NoKey { path: PathBuf },
    #[error("证书与私钥不能组成 TLS 配置：{0} (rule: tls_config)")]
    Config(String),
    #[error(
        "拒绝在非回环地址 {addr} 上提供明文 HTTP：请用 --tls-cert 与 --tls-key 启用 TLS，\
         或在受保护的网络中显式加上 --insecure-http (rule: plain_http_non_loopback)"
    )]
    PlainNonLoopback { addr: SocketAddr },
}

/// How the server talks to its clients.
#[derive(Clone)]
pub enum Transport {
    /// TLS with this configuration.
    Tls(Arc<ServerConfig>),
    /// Plain HTTP; `insecure_http` allows a non-loopback address.
    Plain { insecure_http: bool },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Tls(_) => f.write_str("Tls"),
            Transport::Plain { insecure_http } => f
                .debug_struct("Plain")
                .field("insecure_http", insecure_http)
                .finish(),
        }
    }
}

impl Transport {
    /// Plain HTTP for loopback only (the demo).
    pub const LOOPBACK: Transport = Transport::Plain {
        insecure_http: false,
    };

    /// Whether serving `addr` this way is allowed; `Ok(Some(warning))` for plain HTTP, whose
    /// warning the caller prints.
    pub fn check_bind(&self, addr: SocketAddr) -> Result<Option<String>, TransportError> {
        match self {
            Transport::Tls(_) => Ok(None),
            Transport::Plain { .. } if addr.ip().is_loopback() => Ok(Some(format!(
                "警告：{addr} 使用明文 HTTP，仅限本机回环地址（演示用）；生产部署请用 --tls-cert 与 --tls-key 启用 TLS"
            ))),
            Transport::Plain {
                insecure_http: true,
            } => Ok(Some(format!(
                "警告：按 --insecure-http 在 {addr} 上提供明文 HTTP：口令、会话与案件数据在网络上不加密；\
                 只应在前置 TLS/TLCP 网关之后的受保护网段这样部署"
            ))),
            Transport::Plain {
                insecure_http: false,
            } => Err(TransportError::PlainNonLoopback { addr }),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Transport::Tls(_))
    }

    /// `https` or `http`, for printing the address.
    pub fn scheme(&self) -> &'static str {
        if self.is_tls() {
            "https"
        } else {
            "http"
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path).map_err(|source| TransportError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The TLS configuration from a PEM certificate chain (leaf first) and its private key; with
/// `client_ca`, clients may present a certificate issued by it (mutual TLS; one that does not
/// chain to it fails the handshake, none at all is allowed for browsers).
pub fn load_tls(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, TransportError> {
    let ca = client_ca.map(|p| read(p).map(|b| (b, p))).transpose()?;
    tls_from_pem(
        &read(cert)?,
        cert,
        &read(key)?,
        key,
        ca.as_ref().map(|(b, p)| (b.as_slice(), *p)),
    )
}

/// The certificates of a PEM file, at least one.
pub fn pem_certificates(
    pem: &[u8],
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TransportError::BadCertificate {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TransportError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// As [`load_tls`], from PEM bytes; the paths only name the sources in errors.
pub fn tls_from_pem(
    cert_pem: &[u8],
    cert_path: &Path,
    key_pem: &[u8],
    key_path: &Path,
    client_ca: Option<(&[u8], &Path)>,
) -> Result<Arc<ServerConfig>, TransportError> {
    let certs = pem_certificates(cert_pem, cert_path)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TransportError::NoKey {
        path: key_path.to_path_buf(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Config(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some((pem, path)) => {
            let mut roots = rustls::RootCertStore::empty();
            for ca in pem_certificates(pem, path)? {
                roots.add(ca).map_err(|e| TransportError::BadCertificate {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| TransportError::Config(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TransportError::Config(e.to_string()))?;
    // The server speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener that hands axum finished TLS connections. Handshakes run concurrently, each
/// in its own task with [`HANDSHAKE_TIMEOUT`], so a slow client holds up no other.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `tcp` (needs a tokio runtime).
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let tls = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(64);
        let acceptor = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = tcp.accept() => a,
                    _ = tx.closed() => return,
                };
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(_) => {
                        // Out of file descriptors and the like: wait, as axum's own loop does.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (tls, tx) = (tls.clone(), tx.clone());
                tokio::spawn(async move {
                    // A failed or slow handshake (a scanner, plain HTTP on the TLS port) is dropped.
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await
                    {
                        let _ = tx.send((stream, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener {
            ready,
            local,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// What axum records of a TLS connection: the peer's address and the fingerprint of the client
/// certificate it presented (mutual TLS), which `signed` maps to a department system.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    pub remote: SocketAddr,
    /// Hex SHA-256 of the client's leaf certificate (DER).
    pub client_cert_sha256: Option<String>,
}

/// The fingerprint a client certificate is registered and recognised by.
pub fn cert_fingerprint(der: &[u8]) -> String {
    xiezhi_store::hex(&xiezhi_crypto::Suite::International.hash(der))
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for TlsPeer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> TlsPeer {
        let (_, conn) = stream.io().get_ref();
        TlsPeer {
            remote: *stream.remote_addr(),
            client_cert_sha256: conn
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| cert_fingerprint(c)),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Over TLS only: HSTS, and every cookie the application sets marked `Secure` (the session
/// cookie and the login form's pre-session cookie alike), so none can leak over plain HTTP.
pub async fn secure_transport(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
    if !cookies.is_empty() {
        h.remove(header::SET_COOKIE);
        for c in cookies {
            let secured = match c.to_str() {
                Ok(s) if !has_secure(s) => HeaderValue::from_str(&format!("{s}; Secure")).ok(),
                _ => None,
            };
            h.append(header::SET_COOKIE, secured.unwrap_or(c));
        }
    }
    res
}

fn has_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .skip(1)
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_unless_insecure() {
        let plain = Transport::LOOPBACK;
        for ok in ["127.0.0.1:8080", "127.3.4.5:1", "[::1]:8080"] {
            let w = plain.check_bind(ok.parse().unwrap()).unwrap();
            assert!(w.unwrap().contains("明文 HTTP"), "{ok}");
        }
        for refused in [
            "0.0.0.0:8080",
            "10.1.2.3:80",
            "[::]:8080",
            "192.168.1.1:443",
        ] {
            let e = plain.check_bind(refused.parse().unwrap()).unwrap_err();
            assert!(
                e.to_string().contains("plain_http_non_loopback"),
                "{refused}: {e}"
            );
        }
        let insecure = Transport::Plain {
            insecure_http: true,
        };
        let w = insecure.check_bind("0.0.0.0:80".parse().unwrap()).unwrap();
        assert!(w.unwrap().contains("--insecure-http"));
    }

    #[test]
    fn secure_attribute_detected_only_as_an_attribute() {
        assert!(has_secure("a=b; Path=/; Secure"));
        assert!(has_secure("a=b; secure; HttpOnly"));
        assert!(!has_secure("a=b; Path=/; HttpOnly"));
        assert!(!has_secure("Secure=1; Path=/"));
    }

    #[test]
    fn bad_pem_is_named() {
        let p = Path::new("x.pem");
        let e = tls_from_pem(b"not pem", p, b"", p, None).err().unwrap();
        assert!(e.to_string().contains("tls_cert_missing"), "{e}");
    }
}
