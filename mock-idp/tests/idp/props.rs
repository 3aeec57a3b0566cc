//! Property: arbitrary query and form parameters, headers and bodies on every endpoint
//! (the admin API's included) never produce a 5xx or a panic.

use axum::body::Body;
use axum::http::{Request, header};
use mock_idp::MockIdp;
use proptest::prelude::*;
use tower::ServiceExt;

use crate::common::*;

fn names() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "client_id",
            "redirect_uri",
            "response_type",
            "response_mode",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
            "prompt",
            "login_hint",
            "max_age",
            "grant_type",
            "code",
            "code_verifier",
            "client_secret",
            "refresh_token",
            "token",
            "id_token_hint",
            "post_logout_redirect_uri",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,12}",
    ]
}

fn values() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            WEB,
            SPA,
            SERVICE,
            WEB_SECRET,
            WEB_CB,
            SPA_CB,
            "code",
            "token",
            "id_token",
            "code id_token token",
            "query",
            "fragment",
            "form_post",
            "okta_post_message",
            "openid",
            "openid profile email offline_access",
            "S256",
            "plain",
            "none",
            "login",
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "harness:read",
            "",
            " ",
            "%",
            "\u{0}",
            "a.b.c",
            "eyJhbGciOiJub25lIn0.e30.",
        ])
        .prop_map(str::to_string),
        ".{0,64}",
        "[A-Za-z0-9_~.-]{43,128}",
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((names(), values()), 0..12)
}

fn encode(p: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p)
        .finish()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn no_parameters_make_the_idp_fail(p in params(), server in prop::sample::select(vec!["/oauth2", "/oauth2/default", "/oauth2/aus1harnesscustom000"]), basic in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let app = MockIdp::builder().into_router("http://127.0.0.1:9000");
            let q = encode(&p);
            let mut requests = vec![
                Request::get(format!("{server}/v1/authorize?{q}")).body(Body::empty()).unwrap(),
                Request::get(format!("{server}/v1/logout?{q}")).body(Body::empty()).unwrap(),
                Request::post(format!("{server}/v1/authorize")).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(q.clone())).unwrap(),
                Request::post("/signin").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(q.clone())).unwrap(),
            ];
            let raw = p.iter().map(|(k, v)| format!("{k}{v}")).collect::<String>();
            let header_value = raw.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect::<String>();
            requests.extend([
                Request::get(format!("{server}/.well-known/openid-configuration?{q}")).header(header::ORIGIN, header_value.clone()).body(Body::empty()).unwrap(),
                Request::get(format!("{server}/v1/keys?{q}")).body(Body::empty()).unwrap(),
                Request::get(format!("{server}/v1/userinfo")).header(header::AUTHORIZATION, format!("Bearer {header_value}")).body(Body::empty()).unwrap(),
                Request::options(format!("{server}/v1/token")).header(header::ORIGIN, header_value.clone()).body(Body::empty()).unwrap(),
                Request::get(format!("/_harness/journal?{q}")).body(Body::empty()).unwrap(),
                Request::post("/_harness/faults").header(header::CONTENT_TYPE, "application/json").body(Body::from(raw.clone())).unwrap(),
                Request::put("/_harness/users").header(header::CONTENT_TYPE, "application/json").body(Body::from(raw.clone())).unwrap(),
                Request::post("/_harness/clock").header(header::CONTENT_TYPE, "application/json").body(Body::from(raw.clone())).unwrap(),
                Request::get(format!("/{}", url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>())).body(Body::empty()).unwrap(),
            ]);
            for ep in ["token", "introspect", "revoke", "userinfo"] {
                let mut r = Request::post(format!("{server}/v1/{ep}?{q}")).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                if basic {
                    r = r.header(header::AUTHORIZATION, format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, q.as_bytes())));
                }
                requests.push(r.body(Body::from(q.clone())).unwrap());
            }
            for req in requests {
                let uri = req.uri().clone();
                let resp = app.clone().oneshot(req).await.unwrap();
                prop_assert!(resp.status().as_u16() < 500, "{} answered {}", uri, resp.status());
            }
            Ok(())
        })?;
    }
}
