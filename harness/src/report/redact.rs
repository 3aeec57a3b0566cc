//! Secrets never reach a report: codes, tokens, secrets and passwords are replaced
//! wherever the harness records text.

use std::sync::OnceLock;

use regex::Regex;

const SENSITIVE: [&str; 8] = [
    "code",
    "access_token",
    "id_token",
    "refresh_token",
    "client_secret",
    "password",
    "code_verifier",
    "stateToken",
];

/// Replaces, in every string of `value` (a report serialized), what the IdP knows to be
/// secret: codes, tokens, client secrets, passwords, whatever form they took.
pub fn known<T: serde::Serialize + serde::de::DeserializeOwned>(
    value: T,
    r: &mock_idp::Redactor,
) -> T {
    fn walk(v: &mut serde_json::Value, m: &mock_idp::known::Matcher) {
        match v {
            serde_json::Value::String(s) => *s = m.redact(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, m)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, m)),
            _ => {}
        }
    }
    let Ok(mut v) = serde_json::to_value(&value) else {
        return value;
    };
    walk(&mut v, &r.snapshot());
    serde_json::from_value(v).unwrap_or(value)
}

/// A URL with the values of sensitive query and fragment parameters replaced.
pub fn url(s: &str) -> String {
    let Ok(mut u) = url::Url::parse(s) else {
        return s.to_string();
    };
    let clean = |pairs: Vec<(String, String)>| -> Option<String> {
        if !pairs.iter().any(|(k, _)| SENSITIVE.contains(&k.as_str())) {
            return None;
        }
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            let v = if SENSITIVE.contains(&k.as_str()) {
                "[redacted]".to_string()
            } else {
                v
            };
            ser.append_pair(&k, &v);
        }
        Some(ser.finish())
    };
    let q: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    if let Some(new) = clean(q) {
        u.set_query(Some(&new));
    }
    if let Some(f) = u.fragment().map(str::to_string) {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(f.as_bytes())
            .into_owned()
            .collect();
        if let Some(new) = clean(pairs) {
            u.set_fragment(Some(&new));
        }
    }
    u.to_string()
}

fn jwt_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*").expect("valid regex")
    })
}

fn param_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r#"(?i)([?&#;\s"']|^)({})=([^&#\s"'<>;]+)"#,
            SENSITIVE.join("|")
        ))
        .expect("valid regex")
    })
}

/// A line of the RP's log: JWTs, secrets and sensitive `name=value` parameters (codes,
/// tokens, passwords in logged request lines) replaced.
pub fn log_line(s: &str, secrets: &[String]) -> String {
    let out = text(s, secrets);
    param_re()
        .replace_all(&out, |c: &regex::Captures<'_>| {
            if &c[3] == "[redacted]" || &c[3] == "%5Bredacted%5D" {
                c[0].to_string()
            } else {
                format!("{}{}=[redacted]", &c[1], &c[2])
            }
        })
        .into_owned()
}

/// Text with JWTs and the given secrets replaced.
pub fn text(s: &str, secrets: &[String]) -> String {
    let mut out = jwt_re().replace_all(s, "[jwt]").into_owned();
    for secret in secrets.iter().filter(|x| x.len() >= 4) {
        out = out.replace(secret.as_str(), "[redacted]");
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        out = out.replace(&encoded, "[redacted]");
        out = out.replace(&encoded.replace('+', "%20"), "[redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_tokens_and_secrets_go() {
        let u = super::url(
            "http://rp/cb?code=abc123&state=s1#id_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig&x=1",
        );
        assert_eq!(
            u,
            "http://rp/cb?code=%5Bredacted%5D&state=s1#id_token=%5Bredacted%5D&x=1"
        );
        let t = super::text(
            "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln and hunter22 and hunter%2022",
            &["hunter22".into(), "hunter 22".into()],
        );
        assert_eq!(t, "token [jwt] and [redacted] and [redacted]");
    }
}
