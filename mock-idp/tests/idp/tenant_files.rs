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
