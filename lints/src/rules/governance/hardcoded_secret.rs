use syn::spanned::Spanned;

use crate::engine::{Cx, Node};
use crate::rules::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags credential-looking string literals:
    /// - private key blocks (`-----BEGIN … PRIVATE KEY-----`);
    /// - tokens with a well-known prefix (AWS `AKIA…`, GitHub `ghp_`/`github_pat_`,
    ///   GitLab `glpat-`, Slack `xox?-`, Stripe `sk_live_`, Google `AIza…`);
    /// - high-entropy strings bound to a name that says secret (`token`,
    ///   `secret`, `password`, `api_key`, `credential`, …) by `let`, `const`,
    ///   `static`, a struct field or an assignment.
    ///
    /// Doc comments are not checked (they are prose). A value that reads
    /// like a name (`"x-api-token"`, a header or environment-variable name),
    /// a placeholder (`"changeme"`, `"<token>"`, `"${TOKEN}"`), an alphabet,
    /// a regular expression, or a hash or format template
    /// (`"$argon2id$v=19$…"`, `"{}:{}"`) is not a secret; neither is a name
    /// that only names something about secrets (`TOKEN_CHARS`,
    /// `PASSWORD_REGEX`, `API_KEY_HEADER`, `max_tokens`).
    ///
    /// ## Why is this bad?
    /// A secret in source is in every clone, fork, CI log and backup of the
    /// repository, forever: rotating it is the only fix. Load secrets from
    /// the environment or a secret manager at run time.
    ///
    /// ## Example
    /// ```rust,ignore
    /// const API_TOKEN: &str = "tk_9fQ2mZx81LrPvA0sKd7Yw3Hn";
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let api_token = std::env::var("API_TOKEN")?;
    /// ```
    pub static RULE = {
        name: "hardcoded-secret",
        category: Governance,
        default: Error,
        summary: "credential-looking string literal in source",
        skip_in_tests: false,
        nodes: [LitStr, Local, Const, Static, FieldValue, Assign],
        check: check,
    };
}

const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "apikey",
    "api_key",
    "private_key",
    "credential",
    "auth_key",
    "access_key",
    "client_secret",
];

/// Why a literal on its own is a secret (key block or known token prefix).
fn self_evident(v: &str) -> Option<&'static str> {
    if private_key_block(v) {
        return Some("a private key");
    }
    let token_at = |prefix: &str, min_rest: usize, ok: fn(char) -> bool| {
        v.match_indices(prefix).any(|(i, _)| {
            let rest = &v[i + prefix.len()..];
            rest.chars().take_while(|c| ok(*c)).count() >= min_rest
        })
    };
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let upper_digit = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
    let token = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if token_at("AKIA", 16, upper_digit) || token_at("ASIA", 16, upper_digit) {
        return Some("an AWS access key id");
    }
    if ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
        .iter()
        .any(|p| token_at(p, 36, alnum))
        || token_at("github_pat_", 60, token)
    {
        return Some("a GitHub token");
    }
    if token_at("glpat-", 20, token) {
        return Some("a GitLab token");
    }
    if ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"]
        .iter()
        .any(|p| token_at(p, 10, token))
    {
        return Some("a Slack token");
    }
    if token_at("sk_live_", 20, alnum) || token_at("rk_live_", 20, alnum) {
        return Some("a Stripe live key");
    }
    if token_at("AIza", 35, token) {
        return Some("a Google API key");
    }
    None
}

/// A PEM private key: the `-----BEGIN … PRIVATE KEY-----` header followed
/// by base64 key material (a mention of the header alone, as in docs, is not
/// a key).
fn private_key_block(v: &str) -> bool {
    let Some(begin) = v.find("-----BEGIN ") else {
        return false;
    };
    let Some(end) = v[begin..].find("PRIVATE KEY-----") else {
        return false;
    };
    let body = &v[begin + end + "PRIVATE KEY-----".len()..];
    let material = body
        .chars()
        .filter(|c| !c.is_whitespace())
        .take_while(|c| c.is_ascii_alphanumeric() || "+/=".contains(*c))
        .count();
    material >= 16
}

/// Markers of [`self_evident`] secrets, checked on the raw literal.
const MARKERS: &[&str] = &[
    "-----BEGIN",
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xox",
    "sk_live_",
    "rk_live_",
    "AIza",
];

fn has_marker(raw: &str) -> bool {
    raw.len() >= 20 && MARKERS.iter().any(|m| raw.contains(m))
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0u32;
    for c in s.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
        n += 1;
    }
    let n = f64::from(n);
    counts
        .values()
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A value bound to a secret-sounding name that looks like a real secret.
fn looks_secret(v: &str) -> bool {
    let len = v.chars().count();
    if len < 12 || v.chars().any(char::is_whitespace) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    let placeholder = [
        "changeme",
        "example",
        "placeholder",
        "dummy",
        "xxxx",
        "your",
        "redacted",
        "****",
    ]
    .iter()
    .any(|p| lower.contains(p))
        || v.starts_with('<')
        || v.starts_with("${")
        || v.starts_with('{');
    // Names, not values: lowercase words joined by - _ . / (header and
    // variable names, paths, URLs without credentials).
    let namelike = v
        .chars()
        .all(|c| c.is_ascii_lowercase() || "-_./:".contains(c))
        || v.chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit());
    let has_digit = v.chars().any(|c| c.is_ascii_digit());
    !placeholder && !namelike && has_digit && entropy(v) >= 3.0
}

/// Words that make a secret-sounding name the name of something else: the
/// alphabet tokens are made of, the header or variable that carries one,
/// the pattern or format it has (`TOKEN_CHARS`, `PASSWORD_REGEX`,
/// `API_KEY_HEADER`, `max_tokens`).
const NOT_A_SECRET: &[&str] = &[
    "alphabet", "chars", "charset", "digits", "pattern", "regex", "format", "prefix", "suffix",
    "header", "env", "var", "path", "file", "url", "name", "field", "param", "len", "size", "type",
    "kind", "count", "max", "min", "label", "hint", "prompt", "message", "error",
];

fn secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
        && !lower
            .split(|c: char| c == '_' || c.is_ascii_digit())
            .any(|part| {
                NOT_A_SECRET.contains(&part)
                    || part
                        .strip_suffix('s')
                        .is_some_and(|p| NOT_A_SECRET.contains(&p))
            })
}

/// Values that are not credentials whatever their name: an alphabet
/// (`"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"`), a regular expression, a hash
/// or format template (`"$argon2id$v=19$m=65536,t=3,p=4$"`, `"{}:{}"`).
fn structured(v: &str) -> bool {
    let chars: Vec<char> = v.chars().collect();
    let runs = chars
        .windows(2)
        .filter(|w| u32::from(w[1]) == u32::from(w[0]) + 1)
        .count();
    let alphabet = runs * 2 >= chars.len();
    let regex = [
        "\\d", "\\w", "\\s", "(?", ".*", ".+", "[a-z", "[A-Z", "[0-9", "[^",
    ]
    .iter()
    .any(|m| v.contains(m))
        || (v.starts_with('^') && v.ends_with('$'));
    let hash_format = v.starts_with('$') && v[1..].contains('$');
    let template = v.contains("{}") || v.contains("{:") || (v.contains('{') && v.contains('}'));
    alphabet || regex || hash_format || template
}

fn lit_str(e: &syn::Expr) -> Option<&syn::LitStr> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s),
        syn::Expr::Reference(r) => lit_str(&r.expr),
        _ => None,
    }
}

fn named(cx: &mut Cx<'_>, name: &str, value: &syn::Expr) {
    if !secret_name(name) {
        return;
    }
    if let Some(lit) = lit_str(value) {
        let v = lit.value();
        // Self-evident secrets are reported from the literal itself.
        if self_evident(&v).is_none() && looks_secret(&v) && !structured(&v) {
            cx.report(
                lit.span(),
                format!("`{name}` is assigned a hard-coded credential-like string"),
                Some("load it from the environment or a secret manager at run time, and rotate this one"),
            );
        }
    }
}

fn ident_of(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::Type(t) => ident_of(&t.pat),
        _ => None,
    }
}

fn check(cx: &mut Cx<'_>, node: &Node<'_>) {
    match node {
        // The shortest self-evident secret (AWS key id) is 20 characters.
        // Look at the literal as written first, without unescaping it; only
        // one that contains a known marker is decoded and checked.
        Node::LitStr(lit)
            if has_marker(cx.source.get(lit.span().byte_range()).unwrap_or_default()) =>
        {
            let value = lit.value();
            // AWS's documented key id (`AKIAIOSFODNN7EXAMPLE`) and the like.
            if value.to_ascii_lowercase().contains("example") {
                return;
            }
            if let Some(what) = self_evident(&value) {
                cx.report(
                    lit.span(),
                    format!("string literal contains {what}"),
                    Some("remove it from the source, rotate it, and load it at run time"),
                );
            }
        }
        Node::Local(l) => {
            if let (Some(name), Some(init)) = (ident_of(&l.pat), &l.init) {
                named(cx, &name, &init.expr);
            }
        }
        Node::Const(c) => named(cx, &c.ident.to_string(), &c.expr),
        Node::Static(s) => named(cx, &s.ident.to_string(), &s.expr),
        Node::FieldValue(f) => {
            if let syn::Member::Named(name) = &f.member {
                named(cx, &name.to_string(), &f.expr);
            }
        }
        Node::Assign(a) => {
            let name = match &*a.left {
                syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                syn::Expr::Field(f) => match &f.member {
                    syn::Member::Named(n) => Some(n.to_string()),
                    syn::Member::Unnamed(_) => None,
                },
                _ => None,
            };
            if let Some(name) = name {
                named(cx, &name, &a.right);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_placeholders_are_not_secrets() {
        for v in [
            "x-api-token",
            "API_TOKEN",
            "changeme-please-123",
            "<your-token-here>",
            "${TOKEN}",
            "short1",
        ] {
            assert!(!looks_secret(v), "{v}");
        }
        assert!(looks_secret("tk_9fQ2mZx81LrPvA0sKd7Yw3Hn"));
    }

    #[test]
    fn well_known_prefixes() {
        // AWS's documented example key: the rule itself passes it over.
        assert_eq!(
            self_evident("AKIAIOSFODNN7EXAMPLE"),
            Some("an AWS access key id")
        );
        // govkit: allow(hardcoded-secret) -- a made-up token shape
        assert_eq!(
            self_evident("Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            Some("a GitHub token")
        );
        assert_eq!(self_evident("ghp_short"), None);
        assert_eq!(
            self_evident("-----BEGIN RSA PRIVATE KEY-----\nMII"),
            None,
            "no key material"
        );
        // govkit: allow(hardcoded-secret) -- truncated fake key material
        assert_eq!(
            self_evident("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x"),
            Some("a private key")
        );
    }
}
