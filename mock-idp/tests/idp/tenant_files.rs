//! Bad tenant files fail with file:line:col, the line, a caret and what was expected;
//! `mock-idp --tenant` exits 2 on them.

use mock_idp::{Tenant, TenantError};

fn error_of(text: &str) -> String {
    match Tenant::from_toml_str("bad.toml", text) {
        Err(TenantError::Invalid(d)) => d.to_string(),
        other => panic!("expected a located error, got {other:?}"),
    }
}

const USER: &str = "[[users]]\nlogin = \"a@example.com\"\npassword = \"pw\"\n";

#[test]
fn the_fixture_tenant_loads() {
    let t = Tenant::fixture();
    assert!(t.server("default").is_some());
    assert!(
        t.users
            .iter()
            .all(|u| u.id.starts_with("00u") && u.id.len() == 20)
    );
}

#[test]
fn users_made_in_code_and_in_files_agree_on_defaults() {
    let from_file = Tenant::from_toml_str("t.toml", USER)
        .unwrap()
        .users
        .remove(0);
    let in_code = mock_idp::User::new("a@example.com", "pw");
    assert_eq!(from_file, in_code);
    assert!(in_code.profile.email_verified);
}

#[test]
fn unknown_field_suggests_the_right_name() {
    let e = error_of(&format!(
        "{USER}[[clients]]\nclient_id = \"c\"\nredirect_uri = [\"http://x/cb\"]\n"
    ));
    assert!(
        e.starts_with("bad.toml:6:1: unknown field `redirect_uri`"),
        "{e}"
    );
    assert!(e.contains("6 | redirect_uri = [\"http://x/cb\"]"), "{e}");
    assert!(e.contains("^^^^^^^^^^^^"), "{e}");
    assert!(e.contains("help: did you mean `redirect_uris`?"), "{e}");
}

#[test]
fn wrong_type_names_the_line() {
    let e = error_of("[[users]]\nlogin = \"a\"\npassword = 42\n");
    assert!(e.starts_with("bad.toml:3:12: "), "{e}");
    assert!(e.contains("string"), "{e}");
}

#[test]
fn missing_password_is_reported() {
    let e = error_of("[[users]]\nlogin = \"a@example.com\"\n");
    assert!(
        e.starts_with("bad.toml:1:1: missing field `password`"),
        "{e}"
    );
}

#[test]
fn redirect_uri_must_be_absolute() {
    let e = error_of(&format!(
        "{USER}[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\nredirect_uris = [\"http://ok/cb\", \"/relative\"]\n"
    ));
    assert!(
        e.starts_with("bad.toml:7:34: expected an absolute URI (found `/relative`"),
        "{e}"
    );
}

#[test]
fn assigned_user_must_exist() {
    let e = error_of(&format!(
        "{USER}[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\nassigned_users = [\"b@example.com\"]\n"
    ));
    assert!(e.starts_with("bad.toml:7:19: assigned user `b@example.com` is not a user of this tenant; did you mean `a@example.com`?"), "{e}");
}

#[test]
fn grant_type_typo_is_caught() {
    let e = error_of(
        "[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\ngrant_types = [\"authorization-code\"]\n",
    );
    assert!(
        e.contains("bad.toml:4:16: expected one of `authorization_code`"),
        "{e}"
    );
    assert!(e.contains("did you mean `authorization_code`?"), "{e}");
}

#[test]
fn confidential_client_needs_a_secret_and_public_none() {
    let e = error_of(
        "[[clients]]\nclient_id = \"c\"\ntoken_endpoint_auth_method = \"client_secret_post\"\n",
    );
    assert!(
        e.contains(
            "expected a client_secret for token_endpoint_auth_method = \"client_secret_post\""
        ),
        "{e}"
    );
    let e = error_of(
        "[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\ntoken_endpoint_auth_method = \"none\"\n",
    );
    assert!(e.starts_with("bad.toml:3:17: a public client"), "{e}");
}

#[test]
fn unknown_auth_method_lists_the_valid_ones() {
    let e = error_of(
        "[[clients]]\nclient_id = \"c\"\ntoken_endpoint_auth_method = \"private_key_jwt\"\n",
    );
    assert!(
        e.starts_with("bad.toml:3:30: unknown variant `private_key_jwt`"),
        "{e}"
    );
    assert!(e.contains("client_secret_basic"), "{e}");
}

#[test]
fn duplicate_client_is_reported() {
    let e = error_of(
        "[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\n[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\n",
    );
    assert!(
        e.starts_with("bad.toml:5:13: client `c` is defined twice"),
        "{e}"
    );
}

#[test]
fn toml_syntax_error_is_located() {
    let e = error_of("[[clients]\nclient_id = \"c\"\n");
    assert!(e.starts_with("bad.toml:1:"), "{e}");
}

#[test]
fn the_binary_exits_2_on_a_bad_tenant_file() {
    let dir = std::env::temp_dir().join(format!("mock-idp-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad-tenant.toml");
    std::fs::write(&file, "[[users]]\nlogin = \"a\"\npasword = \"x\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .args(["--addr", "127.0.0.1:0", "--tenant"])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad-tenant.toml:3:1: unknown field `pasword`"),
        "{err}"
    );
    assert!(err.contains("did you mean `password`?"), "{err}");
}

#[test]
fn misspelled_auth_method_suggests_the_right_one() {
    let e = error_of(
        "[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\ntoken_endpoint_auth_method = \"client_secret_bsic\"\n",
    );
    assert!(
        e.starts_with("bad.toml:4:30: unknown variant `client_secret_bsic`"),
        "{e}"
    );
    assert!(e.contains("did you mean `client_secret_basic`?"), "{e}");
}

#[test]
fn a_bad_server_id_is_located_where_it_is_written() {
    let e = error_of("[[authorization_servers]]\nid = \"a/b\"\n");
    assert!(
        e.starts_with("bad.toml:2:6: expected an authorization server id"),
        "{e}"
    );
}

#[test]
fn logins_differing_only_in_case_are_one_user() {
    let e = error_of(&format!(
        "{USER}[[users]]\nlogin = \"A@Example.com\"\npassword = \"pw2\"\n"
    ));
    assert!(
        e.starts_with("bad.toml:5:9: user `A@Example.com` is defined twice"),
        "{e}"
    );
}

#[test]
fn script_and_data_redirect_uris_are_refused() {
    for uri in [
        "javascript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
    ] {
        let e = error_of(&format!(
            "[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\nredirect_uris = [\"{uri}\"]\n"
        ));
        assert!(
            e.starts_with("bad.toml:4:18: expected an http or https URI"),
            "{uri}: {e}"
        );
    }
    // Native apps' own schemes (RFC 8252 7.1) are fine, as in Okta.
    Tenant::from_toml_str(
        "ok.toml",
        "[[clients]]\nclient_id = \"c\"\nclient_secret = \"s\"\nredirect_uris = [\"com.example.app:/callback\"]\n",
    )
    .unwrap();
}

#[test]
fn a_huge_line_is_shown_around_the_error_only() {
    let e = error_of(&format!(
        "[[users]]\nlogin = \"{}\"\npassword = 42\n",
        "x".repeat(200_000)
    ));
    assert!(e.len() < 2_000, "{} bytes", e.len());
    let e = error_of(&format!(
        "x = {}1{}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    ));
    assert!(e.len() < 4_000, "{} bytes", e.len());
}
