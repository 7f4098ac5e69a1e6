//! The exporter's web server: HTTP/1.1, optionally TLS (rustls) with
//! client certificates, and HTTP basic authentication with bcrypt hashes,
//! configured by the Prometheus exporter-toolkit's web configuration file
//! (`--web-config FILE`), the format every Prometheus exporter reads:
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt
//!   key_file: server.key
//!   client_auth_type: RequireAndVerifyClientCert
//!   client_ca_file: clients-ca.crt
//! basic_auth_users:
//!   prometheus: $2b$12$...
//! ```
//!
//! Every key the toolkit knows is either honoured or refused by name
//! (exit 2): a setting govkit cannot apply is never silently ignored.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read as _, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

use crate::TraceError;

/// The web configuration file, as the exporter-toolkit defines it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<TlsFile>,
    http_server_config: Option<HttpFile>,
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    cert_file: Option<String>,
    key_file: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    client_auth_type: Option<String>,
    client_ca_file: Option<String>,
    client_ca: Option<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    cipher_suites: Option<Vec<String>>,
    curve_preferences: Option<Vec<String>>,
    prefer_server_cipher_suites: Option<bool>,
    client_allowed_sans: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    http2: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

/// The response headers the toolkit lets a configuration set.
const SETTABLE_HEADERS: [&str; 5] = [
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "X-XSS-Protection",
    "Content-Security-Policy",
];

/// A loaded, checked web configuration; the default is plain HTTP.
#[derive(Clone)]
pub struct WebConfig {
    tls: Option<Arc<rustls::ServerConfig>>,
    auth: Option<Arc<BasicAuth>>,
    headers: Vec<(String, String)>,
    /// What the configuration turns on, for the start-up line.
    pub summary: String,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            tls: None,
            auth: None,
            headers: Vec::new(),
            summary: PLAIN.to_owned(),
        }
    }
}

const PLAIN: &str = "plain HTTP, no authentication";

impl WebConfig {
    /// Reads and checks `path`: every mistake is an input error naming the
    /// file and the field, and nothing is served.
    pub fn load(path: &Path) -> Result<Self, TraceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| TraceError::Input(format!("--web-config {}: {e}", path.display())))?;
        Self::parse(&text, path)
    }

    /// Parses a configuration read from `path` (relative file names in it
    /// are relative to the file's folder, as in the toolkit).
    pub fn parse(text: &str, path: &Path) -> Result<Self, TraceError> {
        let err = |what: String| TraceError::Input(format!("{}: {what}", path.display()));
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| err(format!("{e}")))?
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut summary = Vec::new();
        let tls = match file.tls_server_config {
            Some(t) => {
                let (config, says) = tls_config(t, dir).map_err(err)?;
                summary.push(says);
                Some(Arc::new(config))
            }
            None => None,
        };
        let mut headers = Vec::new();
        if let Some(http) = file.http_server_config {
            if http.http2 == Some(true) {
                return Err(err(
                    "http_server_config.http2: govkit serves HTTP/1.1 only; remove the key or set it to false"
                        .to_owned(),
                ));
            }
            for (name, value) in http.headers.unwrap_or_default() {
                let Some(known) = SETTABLE_HEADERS
                    .iter()
                    .find(|h| h.eq_ignore_ascii_case(&name))
                else {
                    return Err(err(format!(
                        "http_server_config.headers.{name}: not a header a web configuration may set (one of {})",
                        SETTABLE_HEADERS.join(", ")
                    )));
                };
                if value.contains(['\r', '\n']) {
                    return Err(err(format!(
                        "http_server_config.headers.{name}: a header value cannot span lines"
                    )));
                }
                headers.push(((*known).to_owned(), value));
            }
        }
        let auth = match file.basic_auth_users {
            Some(users) if !users.is_empty() => {
                summary.push(format!("basic auth ({} user(s))", users.len()));
                Some(Arc::new(BasicAuth::new(users).map_err(err)?))
            }
            _ => None,
        };
        Ok(Self {
            tls,
            auth,
            headers,
            summary: if summary.is_empty() {
                PLAIN.to_owned()
            } else {
                summary.join(", ")
            },
        })
    }

    /// The URL scheme clients use.
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

/// A file name from the configuration, relative to its folder.
fn resolve(dir: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() {
        p.to_owned()
    } else {
        dir.join(p)
    }
}

/// PEM text from `field` (inline) or `field_file` (a file), exactly one.
fn pem_source(
    dir: &Path,
    field: &str,
    inline: Option<String>,
    file: Option<String>,
) -> Result<Option<(Vec<u8>, String)>, String> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(format!(
            "tls_server_config: {field} and {field}_file are both set; keep one"
        )),
        (Some(text), None) => Ok(Some((
            text.into_bytes(),
            format!("tls_server_config.{field}"),
        ))),
        (None, Some(name)) => {
            let path = resolve(dir, &name);
            let bytes = std::fs::read(&path)
                .map_err(|e| format!("tls_server_config.{field}_file: {}: {e}", path.display()))?;
            Ok(Some((
                bytes,
                format!("tls_server_config.{field}_file ({})", path.display()),
            )))
        }
        (None, None) => Ok(None),
    }
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what}: not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{what}: no PEM certificate in it"));
    }
    Ok(certs)
}

fn version(field: &str, value: &str) -> Result<&'static rustls::SupportedProtocolVersion, String> {
    match value {
        "TLS12" => Ok(&rustls::version::TLS12),
        "TLS13" => Ok(&rustls::version::TLS13),
        "TLS10" | "TLS11" => Err(format!(
            "tls_server_config.{field}: {value} is not supported (TLS 1.0 and 1.1 are obsolete); use TLS12 or TLS13"
        )),
        other => Err(format!(
            "tls_server_config.{field}: unknown TLS version {other:?} (TLS12 or TLS13)"
        )),
    }
}

/// The rustls server configuration for `t`, and what it says on start-up.
fn tls_config(t: TlsFile, dir: &Path) -> Result<(rustls::ServerConfig, String), String> {
    // Keys the toolkit knows that would change the handshake in a way
    // rustls does not offer: refused, never ignored.
    for (set, key) in [
        (t.cipher_suites.is_some(), "cipher_suites"),
        (t.curve_preferences.is_some(), "curve_preferences"),
        (t.client_allowed_sans.is_some(), "client_allowed_sans"),
    ] {
        if set {
            return Err(format!(
                "tls_server_config.{key}: not supported by govkit (rustls chooses only modern suites and groups; client certificates are checked against client_ca_file); remove the key"
            ));
        }
    }
    let (cert_pem, cert_what) = pem_source(dir, "cert", t.cert, t.cert_file)?
        .ok_or_else(|| "tls_server_config: cert_file (or cert) is required".to_owned())?;
    let (key_pem, key_what) = pem_source(dir, "key", t.key, t.key_file)?
        .ok_or_else(|| "tls_server_config: key_file (or key) is required".to_owned())?;
    let certs = certificates(&cert_pem, &cert_what)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("{key_what}: no PEM private key in it: {e}"))?;
    let min = version("min_version", t.min_version.as_deref().unwrap_or("TLS12"))?;
    let max = version("max_version", t.max_version.as_deref().unwrap_or("TLS13"))?;
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        [&rustls::version::TLS12, &rustls::version::TLS13]
            .into_iter()
            .filter(|v| {
                let rank = |x: &rustls::SupportedProtocolVersion| u16::from(x.version);
                rank(v) >= rank(min) && rank(v) <= rank(max)
            })
            .collect();
    if versions.is_empty() {
        return Err("tls_server_config: min_version is above max_version".to_owned());
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls_server_config: {e}"))?;
    let ca = pem_source(dir, "client_ca", t.client_ca, t.client_ca_file)?;
    let mode = t.client_auth_type.as_deref().unwrap_or("NoClientCert");
    let (builder, says) = match mode {
        "NoClientCert" => {
            if ca.is_some() {
                return Err(
                    "tls_server_config.client_ca_file: set, but client_auth_type is NoClientCert; set client_auth_type to RequireAndVerifyClientCert or VerifyClientCertIfGiven"
                        .to_owned(),
                );
            }
            (builder.with_no_client_auth(), "TLS".to_owned())
        }
        "RequireAndVerifyClientCert" | "VerifyClientCertIfGiven" => {
            let (pem, what) = ca.ok_or_else(|| {
                format!("tls_server_config.client_ca_file: required with client_auth_type {mode}")
            })?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in certificates(&pem, &what)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{what}: not a usable CA certificate: {e}"))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(&provider),
            );
            let verifier = if mode == "VerifyClientCertIfGiven" {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?;
            (
                builder.with_client_cert_verifier(verifier),
                format!("TLS, client certificates: {mode}"),
            )
        }
        "RequestClientCert" | "RequireAnyClientCert" => {
            return Err(format!(
                "tls_server_config.client_auth_type: {mode} accepts certificates nobody verified; govkit supports RequireAndVerifyClientCert and VerifyClientCertIfGiven (with client_ca_file) or NoClientCert"
            ));
        }
        other => {
            return Err(format!(
                "tls_server_config.client_auth_type: unknown value {other:?} (NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert)"
            ));
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!("tls_server_config: the key ({key_what}) does not fit the certificate ({cert_what}): {e}")
    })?;
    config.ignore_client_order = t.prefer_server_cipher_suites.unwrap_or(false);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, says))
}

/// HTTP basic authentication against bcrypt hashes. The answer for a user
/// and password is remembered (by a SHA-256 of both, never the password),
/// as the exporter-toolkit does: a scraper does not pay bcrypt's deliberate
/// cost on every scrape, nor does a client repeating a wrong password (a
/// misconfigured scraper, or a flood) cost a bcrypt run each time. An
/// unknown user costs one bcrypt run too, so timing does not tell which
/// users exist.
struct BasicAuth {
    users: BTreeMap<String, String>,
    decoy: String,
    checked: Mutex<HashMap<[u8; 32], bool>>,
}

impl BasicAuth {
    fn new(users: BTreeMap<String, String>) -> Result<Self, String> {
        let mut cost = bcrypt::DEFAULT_COST;
        for (user, hash) in &users {
            let parts: bcrypt::HashParts = hash.parse().map_err(|e| {
                format!(
                    "basic_auth_users.{user}: not a bcrypt hash ({e}); make one with `htpasswd -nBC 10 {user}` or Python's bcrypt.hashpw"
                )
            })?;
            cost = parts.get_cost();
        }
        let decoy =
            bcrypt::hash("govkit decoy", cost).map_err(|e| format!("basic_auth_users: {e}"))?;
        Ok(Self {
            users,
            decoy,
            checked: Mutex::new(HashMap::new()),
        })
    }

    /// Whether an `Authorization` header value names a user and the right
    /// password.
    fn allows(&self, header: Option<&[u8]>) -> bool {
        let Some((user, password)) = header.and_then(credentials) else {
            return false;
        };
        let key = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(user.as_bytes());
            h.update([0]);
            h.update(password.as_bytes());
            <[u8; 32]>::from(h.finalize())
        };
        if let Some(&known) = self
            .checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return known;
        }
        let ok = match self.users.get(&user) {
            Some(hash) => bcrypt::verify(&password, hash).unwrap_or(false),
            // The same work as for a known user; the answer is no.
            None => bcrypt::verify(&password, &self.decoy).is_ok_and(|_| false),
        };
        let mut checked = self.checked.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded: a client trying many passwords cannot grow it.
        if checked.len() >= 1024 {
            checked.clear();
        }
        checked.insert(key, ok);
        ok
    }
}

/// Runs the request-head parser and the `Authorization` decoder on
/// arbitrary bytes (the fuzz target's entry; they must never panic).
#[doc(hidden)]
pub fn fuzz_request(bytes: &[u8]) {
    if let Ok(Some(head)) = parse_head(bytes) {
        drop(head.authorization.as_deref().and_then(credentials));
    }
    drop(credentials(bytes));
}

/// User and password of a `Basic` authorization header.
fn credentials(header: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A request as the handler sees it.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
}

/// A response: status, content type, body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    #[must_use]
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
        }
    }
}

/// What serves requests: called from connection threads.
pub type Handler = dyn Fn(&Request<'_>) -> Response + Send + Sync;

/// Paths served without basic authentication (TLS and client certificates
/// still apply): the liveness probe, which reveals only "ok".
const OPEN_PATHS: [&str; 1] = ["/healthz"];

/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 32;
/// A client that sends nothing (or reads nothing) for this long is dropped.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Requests served on one kept-alive connection.
const MAX_REQUESTS: usize = 1000;

/// A listening server; stops (and joins its threads) on `stop` or drop.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Listens on `addr` and serves `handler` under `web`'s TLS and
    /// authentication from a thread.
    pub fn start(addr: &str, web: WebConfig, handler: Arc<Handler>) -> Result<Self, TraceError> {
        let listener = TcpListener::bind(addr)
            .map_err(|e| TraceError::Input(format!("--metrics {addr}: cannot listen: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| TraceError::Input(format!("--metrics {addr}: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| TraceError::Environment(format!("--metrics {addr}: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("govkit-metrics".to_owned())
            .spawn(move || accept_loop(&listener, &flag, &Arc::new(web), &handler))
            .map_err(|e| TraceError::Environment(format!("starting the metrics thread: {e}")))?;
        Ok(Self {
            addr: bound,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops accepting and waits for the accept thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            // A panicked accept thread has nothing left to clean up.
            t.join().unwrap_or_default();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}

fn accept_loop(
    listener: &TcpListener,
    stop: &AtomicBool,
    web: &Arc<WebConfig>,
    handler: &Arc<Handler>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Relaxed) {
        let ready = {
            let fds = &mut [rustix::event::PollFd::new(
                listener,
                rustix::event::PollFlags::IN,
            )];
            let timeout = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            };
            rustix::event::poll(fds, Some(&timeout)).unwrap_or(0)
        };
        if ready == 0 {
            continue;
        }
        let Ok((stream, peer)) = listener.accept() else {
            continue;
        };
        if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            tracing::debug!("metrics: {MAX_CONNECTIONS} connections busy, closing {peer}");
            continue;
        }
        active.fetch_add(1, Ordering::Relaxed);
        let (web, handler, done) = (Arc::clone(web), Arc::clone(handler), Arc::clone(&active));
        let spawned = std::thread::Builder::new()
            .name("govkit-metrics-conn".to_owned())
            .spawn(move || {
                if let Err(e) = connection(stream, &web, handler.as_ref()) {
                    tracing::debug!("metrics: {peer}: {e}");
                }
                done.fetch_sub(1, Ordering::Relaxed);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn connection(stream: TcpStream, web: &WebConfig, handler: &Handler) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let Some(tls) = &web.tls else {
        return exchange(stream, web, handler);
    };
    // Plain HTTP sent to the TLS port: say so, as Go's servers do, rather
    // than a handshake error the user has to decode.
    // A TLS handshake starts with 0x16; an HTTP request with its method.
    let mut first = [0u8; 1];
    if stream.peek(&mut first)? == 1 && first[0].is_ascii_uppercase() {
        let mut stream = stream;
        // Take the request in first: closing with it unread would reset the
        // connection before the client reads the answer.
        let mut head = Vec::new();
        let mut chunk = [0u8; 4096];
        while head.len() < MAX_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
        stream.write_all(
            b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
        )?;
        stream.shutdown(std::net::Shutdown::Write)?;
        return Ok(());
    }
    let conn = rustls::ServerConnection::new(Arc::clone(tls)).map_err(std::io::Error::other)?;
    let mut tls_stream = rustls::StreamOwned::new(conn, stream);
    let result = exchange(&mut tls_stream, web, handler);
    tls_stream.conn.send_close_notify();
    // The peer may be gone already.
    tls_stream.flush().unwrap_or_default();
    result
}

/// A request head, parsed.
struct Head {
    /// Bytes of the buffer it took.
    len: usize,
    method: String,
    path: String,
    /// HTTP/1.`version`.
    version: u8,
    authorization: Option<Vec<u8>>,
    keep_alive: bool,
    has_body: bool,
}

/// What reading a request head gave.
enum Read {
    Head(Head),
    /// The client closed (or, between requests, said nothing for the
    /// timeout).
    Closed,
    Refuse(Response),
}

fn parse_head(buf: &[u8]) -> Result<Option<Head>, httparse::Error> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(len) = req.parse(buf)? else {
        return Ok(None);
    };
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.to_vec())
    };
    let connection = header("Connection")
        .map(|v| String::from_utf8_lossy(&v).to_ascii_lowercase())
        .unwrap_or_default();
    let version = req.version.unwrap_or(0);
    Ok(Some(Head {
        len,
        method: req.method.unwrap_or_default().to_owned(),
        path: req.path.unwrap_or_default().to_owned(),
        version,
        authorization: header("Authorization"),
        keep_alive: if version == 0 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        },
        has_body: header("Transfer-Encoding").is_some()
            || header("Content-Length")
                .is_some_and(|v| v.iter().any(|b| *b != b'0' && !b.is_ascii_whitespace())),
    }))
}

/// Reads until `buf` holds a whole request head.
fn read_head(stream: &mut impl std::io::Read, buf: &mut Vec<u8>) -> std::io::Result<Read> {
    loop {
        match parse_head(buf) {
            Ok(Some(head)) => return Ok(Read::Head(head)),
            Ok(None) if buf.len() > MAX_HEAD => {
                return Ok(Read::Refuse(Response::new(
                    431,
                    "text/plain",
                    "request head too large\n",
                )));
            }
            Ok(None) => {}
            Err(e) => {
                return Ok(Read::Refuse(Response::new(
                    400,
                    "text/plain",
                    format!("bad request: {e}\n"),
                )));
            }
        }
        let mut chunk = [0u8; 4096];
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            // A kept-alive client that said nothing more.
            Err(e)
                if buf.is_empty()
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
            {
                return Ok(Read::Closed);
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(Read::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Serves requests on one connection until it closes, asks to close, or
/// sends something that is not a simple HTTP/1.x request.
fn exchange(
    mut stream: impl std::io::Read + Write,
    web: &WebConfig,
    handler: &Handler,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    for _ in 0..MAX_REQUESTS {
        let head = match read_head(&mut stream, &mut buf)? {
            Read::Head(head) => head,
            Read::Closed => return Ok(()),
            Read::Refuse(r) => return respond(&mut stream, web, &r, 1, false),
        };
        buf.drain(..head.len);
        if head.has_body {
            // Nothing here takes a body; reading past one is not worth it.
            let r = Response::new(400, "text/plain", "request bodies are not accepted\n");
            return respond(&mut stream, web, &r, head.version, false);
        }
        let path = head.path.split('?').next().unwrap_or_default();
        let allowed = web.auth.as_ref().is_none_or(|basic| {
            OPEN_PATHS.contains(&path) || basic.allows(head.authorization.as_deref())
        });
        let response = if allowed {
            handler(&Request {
                method: &head.method,
                path,
            })
        } else {
            Response::new(401, "text/plain", "Unauthorized\n")
        };
        respond(&mut stream, web, &response, head.version, head.keep_alive)?;
        if !head.keep_alive {
            return Ok(());
        }
    }
    Ok(())
}

fn respond(
    stream: &mut impl Write,
    web: &WebConfig,
    r: &Response,
    version: u8,
    keep_alive: bool,
) -> std::io::Result<()> {
    let reason = match r.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    };
    let mut head = format!(
        "HTTP/1.{version} {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        r.status,
        r.content_type,
        r.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    if r.status == 401 {
        head.push_str("WWW-Authenticate: Basic realm=\"govkit\", charset=\"UTF-8\"\r\n");
    }
    for (name, value) in &web.headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&r.body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, String> {
        WebConfig::parse(text, Path::new("/nonexistent/web.yml")).map_err(|e| e.to_string())
    }

    #[test]
    fn an_empty_file_is_plain_http() {
        let w = parse("").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.scheme(), "http");
        assert_eq!(w.summary, "plain HTTP, no authentication");
    }

    #[test]
    fn mistakes_name_the_field() {
        for (text, says) in [
            ("tls_server_config:\n  certfile: a\n", "certfile"),
            (
                "basic_auth_users:\n  alice: notahash\n",
                "basic_auth_users.alice",
            ),
            (
                "tls_server_config:\n  key_file: k\n",
                "cert_file (or cert) is required",
            ),
            (
                "tls_server_config:\n  cert_file: c\n  key_file: k\n",
                "tls_server_config.cert_file: /nonexistent/c",
            ),
            (
                "tls_server_config:\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
                "tls_server_config.cipher_suites: not supported",
            ),
            (
                "http_server_config:\n  http2: true\n",
                "http_server_config.http2",
            ),
            (
                "http_server_config:\n  headers:\n    Set-Cookie: x\n",
                "http_server_config.headers.Set-Cookie",
            ),
            ("unknown_key: 1\n", "unknown_key"),
            ("tls_server_config: [\n", "/nonexistent/web.yml"),
        ] {
            let e = parse(text)
                .err()
                .unwrap_or_else(|| panic!("{text:?} was accepted"));
            assert!(e.contains(says), "{text:?}: {e}");
            assert!(e.starts_with("/nonexistent/web.yml: "), "{e}");
        }
    }

    #[test]
    fn basic_credentials_are_decoded() {
        assert_eq!(
            credentials(b"Basic YWxpY2U6b3BlbjpzZXNhbWU="),
            Some(("alice".to_owned(), "open:sesame".to_owned()))
        );
        assert_eq!(credentials(b"Bearer abc"), None);
        assert_eq!(credentials(b"Basic !!!"), None);
        assert_eq!(credentials(b"Basic"), None);
    }

    #[test]
    fn basic_auth_checks_bcrypt_and_remembers_its_answers() {
        let hash = bcrypt::hash("right", 4).unwrap_or_else(|e| panic!("{e}"));
        let auth = BasicAuth::new(BTreeMap::from([("alice".to_owned(), hash)]))
            .unwrap_or_else(|e| panic!("{e}"));
        let header = |u: &str, p: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        };
        assert!(!auth.allows(None));
        assert!(!auth.allows(Some(header("alice", "wrong").as_bytes())));
        assert!(!auth.allows(Some(header("bob", "right").as_bytes())));
        assert!(auth.allows(Some(header("alice", "right").as_bytes())));
        assert!(auth.allows(Some(header("alice", "right").as_bytes())));
        // Asked again: the remembered answers, the same as bcrypt's.
        assert!(!auth.allows(Some(header("alice", "wrong").as_bytes())));
        assert!(!auth.allows(Some(header("bob", "right").as_bytes())));
        assert_eq!(auth.checked.lock().map_or(0, |v| v.len()), 3);
    }
}
