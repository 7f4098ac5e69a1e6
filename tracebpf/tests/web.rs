//! The exporter's endpoint under a web configuration file, checked with real
//! clients: curl (TLS, client certificates, basic auth), and a real
//! Prometheus server scraping over TLS with basic auth. Certificates are made
//! with the openssl command, the bcrypt hash with Python's bcrypt (`PyPI`), as
//! a user would make them. Needs no root: no eBPF program is loaded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tracebpf::metrics::{Exporter, Exposition};
use tracebpf::web::WebConfig;

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").args(args).current_dir(dir));
}

/// A CA (`NAME-ca.pem`, `NAME-ca.key`) and a certificate it signed
/// (`NAME.pem`, `NAME.key`) for `subject_alt` (a server's SANs, or a
/// client's name).
fn ca_and_cert(dir: &Path, name: &str, subject_alt: &str, usage: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test CA"),
            "-keyout",
            &format!("{name}-ca.key"),
            "-out",
            &format!("{name}-ca.pem"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    std::fs::write(
        dir.join(format!("{name}.ext")),
        format!(
            "subjectAltName={subject_alt}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n"
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{name}-ca.pem"),
            "-CAkey",
            &format!("{name}-ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// Server certificate, client CA and a client certificate, and a client
/// certificate from another CA.
fn pki() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ca_and_cert(
        dir.path(),
        "server",
        "IP:127.0.0.1,DNS:localhost",
        "serverAuth",
    );
    ca_and_cert(dir.path(), "client", "DNS:prometheus", "clientAuth");
    ca_and_cert(dir.path(), "rogue", "DNS:prometheus", "clientAuth");
    dir
}

/// A bcrypt hash of `password` made by Python's bcrypt.
fn bcrypt_hash(password: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import bcrypt, sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(rounds=10)).decode())",
            password,
        ])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "Python's bcrypt is needed (pip install bcrypt): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn exporter(dir: &Path, yaml: &str) -> Exporter {
    let path = dir.join("web.yml");
    std::fs::write(&path, yaml).unwrap();
    let web = WebConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
    Exporter::start(
        "127.0.0.1:0",
        web,
        Exposition::default(),
        Duration::from_mins(1),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// curl's exit code, HTTP status (0 when there was no HTTP exchange), and
/// the response (head and body).
fn curl(dir: &Path, args: &[&str]) -> (i32, u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-D", "-", "-w", "\n%{http_code}"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("curl: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        out.status.code().unwrap_or(-1),
        code.trim().parse().unwrap_or(0),
        body.to_owned(),
    )
}

#[test]
fn tls_and_basic_auth_with_curl() {
    let pki = pki();
    let dir = pki.path();
    let yaml = format!(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  prometheus: {}\n",
        bcrypt_hash("s3cret: with colon")
    );
    let e = exporter(dir, &yaml);
    assert_eq!(e.scheme, "https");
    let url = |path: &str| format!("https://127.0.0.1:{}{path}", e.addr.port());
    let metrics = url("/metrics");
    let tls = ["--cacert", "server-ca.pem"];

    let (_, code, head) = curl(dir, &[&tls[..], &[metrics.as_str()]].concat());
    assert_eq!(code, 401, "no credentials: {head}");
    assert!(head.contains("WWW-Authenticate: Basic"), "{head}");
    assert!(!head.contains("govkit_trace"), "{head}");
    let (_, code, _) = curl(
        dir,
        &[&tls[..], &["-u", "prometheus:wrong", &metrics]].concat(),
    );
    assert_eq!(code, 401, "wrong password");
    let (_, code, _) = curl(
        dir,
        &[&tls[..], &["-u", "grafana:s3cret: with colon", &metrics]].concat(),
    );
    assert_eq!(code, 401, "unknown user");
    for _ in 0..3 {
        // The first right answer costs a bcrypt run; the next ones hit the
        // remembered result: all must pass.
        let (_, code, body) = curl(
            dir,
            &[&tls[..], &["-u", "prometheus:s3cret: with colon", &metrics]].concat(),
        );
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("govkit_trace_scrapes_total"), "{body}");
        assert!(body.contains("X-Frame-Options: deny"), "{body}");
    }
    // The probe path needs TLS but no password.
    let (_, code, body) = curl(dir, &[&tls[..], &[url("/healthz").as_str()]].concat());
    assert_eq!(code, 200, "{body}");
    // Plain HTTP to the TLS port is refused, and says why.
    let plain = format!("http://127.0.0.1:{}/metrics", e.addr.port());
    let (_, code, body) = curl(dir, &["-u", "prometheus:s3cret: with colon", &plain]);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("HTTP request to an HTTPS server"), "{body}");
    assert!(!body.contains("govkit_trace"), "{body}");
    // A client that does not trust the server's CA stops at the handshake.
    let (exit, code, _) = curl(dir, &[metrics.as_str()]);
    assert_ne!(exit, 0);
    assert_eq!(code, 0);
    e.stop();
}

#[test]
fn client_certificates_with_curl() {
    let pki = pki();
    let dir = pki.path();
    let e = exporter(
        dir,
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client-ca.pem\n",
    );
    let metrics = format!("https://127.0.0.1:{}/metrics", e.addr.port());
    let tls = ["--cacert", "server-ca.pem"];
    let (exit, code, _) = curl(dir, &[&tls[..], &[metrics.as_str()]].concat());
    assert!(
        exit != 0 && code == 0,
        "no client certificate: exit {exit}, {code}"
    );
    let (exit, code, _) = curl(
        dir,
        &[
            &tls[..],
            &["--cert", "rogue.pem", "--key", "rogue.key", &metrics],
        ]
        .concat(),
    );
    assert!(
        exit != 0 && code == 0,
        "a certificate of another CA: exit {exit}, {code}"
    );
    let (_, code, body) = curl(
        dir,
        &[
            &tls[..],
            &["--cert", "client.pem", "--key", "client.key", &metrics],
        ]
        .concat(),
    );
    assert_eq!(code, 200, "{body}");
    e.stop();

    // VerifyClientCertIfGiven: none is fine, a bad one is not; TLS 1.3 only.
    let e = exporter(
        dir,
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: client-ca.pem\n  min_version: TLS13\n",
    );
    let metrics = format!("https://127.0.0.1:{}/metrics", e.addr.port());
    let (_, code, _) = curl(dir, &[&tls[..], &[metrics.as_str()]].concat());
    assert_eq!(code, 200);
    let (exit, code, _) = curl(
        dir,
        &[
            &tls[..],
            &["--cert", "rogue.pem", "--key", "rogue.key", &metrics],
        ]
        .concat(),
    );
    assert!(
        exit != 0 && code == 0,
        "a certificate of another CA: exit {exit}, {code}"
    );
    let (exit, code, _) = curl(dir, &[&tls[..], &["--tls-max", "1.2", &metrics]].concat());
    assert!(
        exit != 0 && code == 0,
        "TLS 1.2 against min_version TLS13: exit {exit}, {code}"
    );
    e.stop();
}

#[test]
fn configuration_mistakes_name_the_file_and_field() {
    let pki = pki();
    let dir = pki.path();
    let cases = [
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: client.key\n".to_owned(),
            "does not fit the certificate",
        ),
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n".to_owned(),
            "tls_server_config.client_ca_file: required",
        ),
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_ca_file: client-ca.pem\n".to_owned(),
            "client_auth_type is NoClientCert",
        ),
        (
            "tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n".to_owned(),
            "tls_server_config.cert_file",
        ),
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: RequireAnyClientCert\n".to_owned(),
            "tls_server_config.client_auth_type",
        ),
        (
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  min_version: TLS11\n".to_owned(),
            "tls_server_config.min_version",
        ),
        (
            "basic_auth_users:\n  prometheus: $2b$10$tooshort\n".to_owned(),
            "basic_auth_users.prometheus",
        ),
    ];
    for (yaml, says) in cases {
        let path = dir.join("web.yml");
        std::fs::write(&path, &yaml).unwrap();
        let e = WebConfig::load(&path)
            .err()
            .unwrap_or_else(|| panic!("accepted:\n{yaml}"))
            .to_string();
        assert!(e.contains(says), "{yaml}\n→ {e}");
        assert!(e.starts_with(&format!("{}: ", path.display())), "{e}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// A real Prometheus scrapes the endpoint over TLS with basic auth (its
/// own `tls_config` and `basic_auth`), and marks a second job with the
/// wrong password as down with a 401.
#[test]
fn prometheus_scrapes_over_tls_with_basic_auth() {
    let pki = pki();
    let dir = pki.path();
    let yaml = format!(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\nbasic_auth_users:\n  prometheus: {}\n",
        bcrypt_hash("scrape-me")
    );
    let e = exporter(dir, &yaml);
    let web = free_port();
    let target = format!("127.0.0.1:{}", e.addr.port());
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: govkit\n    scheme: https\n    tls_config:\n      ca_file: {d}/server-ca.pem\n    basic_auth:\n      username: prometheus\n      password: scrape-me\n    static_configs:\n      - targets: ['{target}']\n  - job_name: wrong\n    scheme: https\n    tls_config:\n      ca_file: {d}/server-ca.pem\n    basic_auth:\n      username: prometheus\n      password: nope\n    static_configs:\n      - targets: ['{target}']\n",
        d = dir.display()
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let mut prom = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("prometheus (Debian's prometheus package): {e}"));
    let api = format!("http://127.0.0.1:{web}/api/v1/targets");
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut last = String::new();
    let settled = loop {
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(500));
        let (_, code, body) = curl(dir, &[api.as_str()]);
        if code != 200 {
            continue;
        }
        last = body;
        let json = last.split("\r\n\r\n").last().unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        let health = |job: &str| {
            v["data"]["activeTargets"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["labels"]["job"] == job))
                .map(|t| {
                    (
                        t["health"].as_str().unwrap_or("").to_owned(),
                        t["lastError"].as_str().unwrap_or("").to_owned(),
                    )
                })
        };
        if let (Some((good, _)), Some((bad, why))) = (health("govkit"), health("wrong"))
            && good == "up"
            && bad == "down"
        {
            assert!(why.contains("401"), "{why}");
            break true;
        }
    };
    prom.kill().unwrap_or_default();
    prom.wait().map(drop).unwrap_or_default();
    assert!(settled, "Prometheus's targets never settled: {last}");
    e.stop();
}

/// Paths in the file are relative to the file's folder, as in the toolkit.
#[test]
fn relative_paths_follow_the_file() {
    let pki = pki();
    let sub: PathBuf = pki.path().join("conf");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        sub.join("web.yml"),
        "tls_server_config:\n  cert_file: ../server.pem\n  key_file: ../server.key\n",
    )
    .unwrap();
    let web = WebConfig::load(&sub.join("web.yml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(web.scheme(), "https");
}
