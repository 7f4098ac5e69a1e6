//! Signatures over the vendor manifest (or any blob).
//!
//! - Keyed, compatible with `cosign sign-blob --key` / `verify-blob --key`
//!   and with `openssl dgst -sha256 -sign/-verify`: ECDSA P-256 over the
//!   SHA-256 of the bytes, ASN.1 DER, base64 in the signature file (raw DER
//!   is accepted too, as openssl writes it). Public keys are PEM
//!   `SubjectPublicKeyInfo` (`PUBLIC KEY`); private keys PKCS#8
//!   (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`).
//! - Sigstore bundles (v0.1–v0.3 JSON), verified offline against a trusted
//!   root through `sigstore-verify`: certificate chain to the Fulcio CA,
//!   SCT, transparency-log inclusion proof and checkpoint, SET, RFC 3161
//!   timestamps, and the signer's identity and OIDC issuer. Managed-key
//!   bundles (a public key instead of a certificate) are verified with the
//!   key given.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sigstore_verify::crypto::VerificationKey;
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Bundle, DerPublicKey, SignatureBytes};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

use crate::Error;

/// A public key to verify with, and the file it came from.
#[derive(Debug, Clone)]
pub struct PublicKey {
    key: DerPublicKey,
    /// The file the key was read from, for messages.
    pub path: PathBuf,
}

/// A signer identity a keyless bundle may carry: the certificate's SAN
/// (an email or a workflow URI) and the OIDC issuer that vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Exact SAN value.
    pub identity: String,
    /// Exact OIDC issuer URL.
    pub issuer: String,
}

/// How a signature is to be checked.
#[derive(Debug)]
pub enum Trust {
    /// A detached signature made with the private half of `key`.
    Key {
        /// The public key.
        key: PublicKey,
        /// The signature bytes (DER).
        signature: SignatureBytes,
        /// The signature file, for messages.
        signature_path: PathBuf,
    },
    /// A sigstore bundle.
    Bundle {
        /// The parsed bundle.
        bundle: Box<Bundle>,
        /// The bundle file, for messages.
        bundle_path: PathBuf,
        /// The trust anchors (Fulcio CAs, Rekor keys, CT logs, TSAs).
        trusted_root: Box<TrustedRoot>,
        /// Signers allowed for keyless bundles (at least one).
        identities: Vec<Identity>,
        /// For managed-key bundles: the key instead of identities.
        key: Option<PublicKey>,
    },
}

/// What verified, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// One line: by what key or identity, logged when.
    pub description: String,
}

/// Why a signature did not verify. Each cause has its own wording so a
/// user can tell a wrong identity from a tampered log entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` file.
    pub fn read(path: &Path) -> Result<PublicKey, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, &e))?;
        let parse = |message: String| Error::Parse {
            path: path.to_path_buf(),
            message,
        };
        let block = pem::parse(text.trim()).map_err(|e| parse(format!("not a PEM file: {e}")))?;
        if block.tag() != "PUBLIC KEY" {
            return Err(parse(format!(
                "expected a `PUBLIC KEY` PEM block, found `{}`{}",
                block.tag(),
                if block.tag().contains("PRIVATE") {
                    " (this is a private key: give the public half, e.g. `openssl ec -in KEY -pubout`)"
                } else {
                    ""
                }
            )));
        }
        let key = DerPublicKey::new(block.contents().to_vec());
        VerificationKey::from_spki(&key)
            .map_err(|e| parse(format!("unsupported public key: {e}")))?;
        Ok(PublicKey {
            key,
            path: path.to_path_buf(),
        })
    }

    /// The key from PEM text (for keys written into govkit.toml).
    pub fn from_pem(text: &str, origin: &Path) -> Result<PublicKey, Error> {
        let block = pem::parse(text.trim()).map_err(|e| Error::Parse {
            path: origin.to_path_buf(),
            message: format!("not a PEM public key: {e}"),
        })?;
        let key = DerPublicKey::new(block.contents().to_vec());
        if block.tag() != "PUBLIC KEY" || VerificationKey::from_spki(&key).is_err() {
            return Err(Error::Parse {
                path: origin.to_path_buf(),
                message: "not a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) block".to_owned(),
            });
        }
        Ok(PublicKey {
            key,
            path: origin.to_path_buf(),
        })
    }
}

/// An ECDSA P-256 signing key.
#[derive(Debug)]
pub struct SigningKey(EcdsaKeyPair);

impl SigningKey {
    /// Reads a PEM private key, refusing a key file other users can read or
    /// write.
    pub fn read(path: &Path) -> Result<SigningKey, Error> {
        let meta = std::fs::metadata(path).map_err(|e| Error::read(path, &e))?;
        let mode = meta.permissions().mode();
        if mode & 0o007 != 0 {
            return Err(Error::Read {
                path: path.to_path_buf(),
                message: format!(
                    "private key is accessible to other users (mode {:03o}); run `chmod 600 {}`",
                    mode & 0o777,
                    path.display()
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, &e))?;
        SigningKey::from_pem(&text).map_err(|message| Error::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses a PEM private key (PKCS#8 or SEC1; an `EC PARAMETERS` block
    /// before it, as `openssl ecparam -genkey` writes, is skipped).
    pub fn from_pem(text: &str) -> Result<SigningKey, String> {
        let blocks = pem::parse_many(text).map_err(|e| format!("not a PEM file: {e}"))?;
        let block = blocks
            .iter()
            .find(|b| b.tag() != "EC PARAMETERS")
            .ok_or_else(|| "no PEM block found".to_owned())?;
        match block.tag() {
            "PRIVATE KEY" | "EC PRIVATE KEY" => {}
            "ENCRYPTED PRIVATE KEY" => {
                return Err("the private key is encrypted; decrypt it first (`openssl pkey -in KEY -out PLAIN.pem`) and keep the plain file mode 600".to_owned());
            }
            tag if tag.contains("SIGSTORE") || tag.contains("COSIGN") => {
                return Err(format!(
                    "`{tag}` is cosign's encrypted key format, which govkit does not read; export a PKCS#8 key or generate one with `openssl ecparam -name prime256v1 -genkey -noout`"
                ));
            }
            tag => {
                return Err(format!(
                    "expected a `PRIVATE KEY` or `EC PRIVATE KEY` PEM block, found `{tag}`"
                ));
            }
        }
        EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, block.contents())
            .map(SigningKey)
            .map_err(|e| format!("not an ECDSA P-256 private key ({e})"))
    }

    /// Signs `data`: ECDSA P-256 over SHA-256, DER, base64 (what `cosign
    /// sign-blob` writes).
    pub fn sign(&self, data: &[u8]) -> Result<String, Failure> {
        let sig = self
            .0
            .sign(&SystemRandom::new(), data)
            .map_err(|e| Failure(format!("signing failed: {e}")))?;
        Ok(STANDARD.encode(sig.as_ref()))
    }
}

/// Reads a signature file: base64 (cosign) or raw DER (openssl).
pub fn read_signature(path: &Path) -> Result<SignatureBytes, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, &e))?;
    decode_signature(bytes).map_err(|message| Error::Parse {
        path: path.to_path_buf(),
        message,
    })
}

/// A signature file's bytes: base64 text (cosign's one line, or wrapped
/// at any width as `openssl base64` and `base64` write it; padded or not),
/// or DER as is (`openssl dgst -sign`).
pub fn decode_signature(bytes: Vec<u8>) -> Result<SignatureBytes, String> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if text.is_empty() {
        return Err("the signature file is empty".to_owned());
    }
    match LENIENT.decode(&text) {
        Ok(der) if der.is_empty() => Err("the signature file is empty".to_owned()),
        Ok(der) => Ok(SignatureBytes::new(der)),
        // DER is binary and never valid base64; an ASN.1 SEQUENCE starts 0x30.
        Err(_) if bytes.first() == Some(&0x30) => Ok(SignatureBytes::new(bytes)),
        Err(e) => Err(format!(
            "neither base64 nor a DER signature ({e}; base64 may be wrapped, DER must start with 0x30)"
        )),
    }
}

/// Reads a sigstore bundle.
pub fn read_bundle(path: &Path) -> Result<Bundle, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, &e))?;
    Bundle::from_json(&text).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        message: format!("not a sigstore bundle: {e}"),
    })
}

/// Reads a trusted-root file (sigstore `trusted_root.json`), or the
/// Sigstore public-good root compiled into govkit when `path` is `None`.
pub fn read_trusted_root(path: Option<&Path>) -> Result<TrustedRoot, Error> {
    let (text, origin) = match path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| Error::read(p, &e))?,
            p.to_path_buf(),
        ),
        None => (
            sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT.to_owned(),
            PathBuf::from("<built-in Sigstore public-good trusted root>"),
        ),
    };
    TrustedRoot::from_json(&text).map_err(|e| Error::Parse {
        path: origin,
        message: format!("not a sigstore trusted root: {e}"),
    })
}

/// Checks `trust` over `data`.
pub fn verify(data: &[u8], trust: &Trust) -> Result<Verified, Failure> {
    match trust {
        Trust::Key {
            key,
            signature,
            signature_path,
        } => {
            let vk = VerificationKey::from_spki(&key.key)
                .map_err(|e| Failure(format!("unusable public key {}: {e}", key.path.display())))?;
            vk.verify(data, signature).map_err(|e| {
                Failure(format!(
                    "signature {} does not verify with key {}: the signed content has changed since signing, or another key signed it ({e})",
                    signature_path.display(),
                    key.path.display()
                ))
            })?;
            Ok(Verified {
                description: format!("signature verified with key {}", key.path.display()),
            })
        }
        Trust::Bundle {
            bundle,
            bundle_path,
            trusted_root,
            identities,
            key,
        } => verify_bundle(
            data,
            bundle,
            bundle_path,
            trusted_root,
            identities,
            key.as_ref(),
        ),
    }
}

fn verify_bundle(
    data: &[u8],
    bundle: &Bundle,
    bundle_path: &Path,
    root: &TrustedRoot,
    identities: &[Identity],
    key: Option<&PublicKey>,
) -> Result<Verified, Failure> {
    let shown = bundle_path.display();
    let verifier =
        Verifier::new(root).map_err(|e| Failure(format!("trusted root cannot be used: {e}")))?;
    if let Some(key) = key {
        let policy = PublicKeyVerificationPolicy::new(key.key.clone());
        let result = verifier
            .verify(data, bundle, &policy)
            .map_err(|e| Failure(format!("bundle {shown}: {}", describe(&e))))?;
        return Ok(Verified {
            description: format!(
                "bundle {shown} verified with key {}{}",
                key.path.display(),
                logged(result.integrated_time())
            ),
        });
    }
    if identities.is_empty() {
        return Err(Failure(
            "no allowed identity: a keyless bundle needs --identity and --issuer (or [[vendor.identities]])".to_owned(),
        ));
    }
    let mut policy_errors = Vec::new();
    for id in identities {
        let policy = VerificationPolicy::new(id.identity.as_str(), id.issuer.as_str());
        match verifier.verify(data, bundle, &policy) {
            Ok(result) => {
                return Ok(Verified {
                    description: format!(
                        "bundle {shown} verified: signed by {} (issuer {}){}",
                        id.identity,
                        id.issuer,
                        logged(result.integrated_time())
                    ),
                });
            }
            Err(
                e @ (sigstore_verify::Error::IdentityMismatch { .. }
                | sigstore_verify::Error::IssuerMismatch { .. }),
            ) => policy_errors.push(describe(&e)),
            // Anything else is about the bundle, not who signed it, and
            // would fail the same way for every identity.
            Err(e) => return Err(Failure(format!("bundle {shown}: {}", describe(&e)))),
        }
    }
    if let [only] = policy_errors.as_slice() {
        return Err(Failure(format!("bundle {shown}: {only}")));
    }
    let allowed: Vec<String> = identities
        .iter()
        .map(|i| format!("{} (issuer {})", i.identity, i.issuer))
        .collect();
    Err(Failure(format!(
        "bundle {shown}: signer not allowed: {}; allowed: {}",
        policy_errors.join("; "),
        allowed.join(", ")
    )))
}

fn logged(time: Option<impl std::fmt::Display>) -> String {
    time.map(|t| format!(", logged at {t}")).unwrap_or_default()
}

/// The library's message with the category spelled out.
fn describe(e: &sigstore_verify::Error) -> String {
    use sigstore_verify::Error as E;
    match e {
        E::IdentityMismatch { .. } => format!("wrong identity: {e}"),
        E::IssuerMismatch { .. } => format!("wrong issuer: {e}"),
        E::ArtifactMismatch(_) => {
            format!(
                "the bundle does not describe this content (tampered or different artifact): {e}"
            )
        }
        E::SignatureInvalid(_) => format!("signature invalid (wrong key or tampered content): {e}"),
        E::TransparencyLog(_) => format!("transparency log evidence rejected: {e}"),
        E::Certificate(_) => format!("signing certificate rejected: {e}"),
        E::Timestamp(_) => format!("timestamp rejected: {e}"),
        _ => e.to_string(),
    }
}
