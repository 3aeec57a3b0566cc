//! Every error in each IdP's own words, status and delivery
//! (`../shared/reference/<idp>/errors-wire-examples.txt`).
//!
//! The IdP decides what went wrong once, as a row of Okta's catalog (the journal records
//! that row's code under every personality, so scenarios read the same everywhere); this
//! module says how the chosen IdP words and delivers it: Entra's AADSTS texts with trace
//! and correlation ids, Auth0's 403 `invalid_grant` and 401 `access_denied`, Keycloak's 401
//! `unauthorized_client`, Google's terse pretty-printed JSON, Cognito's `error` alone, each
//! IdP's page for a redirect URI it does not know.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::Personality;
use crate::errors::{self as okta, IdpError, OktaError, html_escape, json_text_response};

/// What an error's words may name beside the row.
#[derive(Debug, Clone, Default)]
pub struct ErrorContext {
    /// The client the request named.
    pub client_id: Option<String>,
    /// The redirect URI a page is about.
    pub redirect_uri: Option<String>,
    /// The server's path segment (tenant id, realm).
    pub segment: String,
    /// The IdP's origins (its hosts).
    pub origins: Vec<String>,
    /// Now (Unix seconds), for Entra's timestamps.
    pub now: i64,
}

/// How `p` words one row at its token endpoint: status, `error`, description (`None`: the
/// IdP sends none), and for Entra the AADSTS number.
pub fn token_words(
    p: Personality,
    row: OktaError,
    okta_text: &str,
) -> (u16, &'static str, Option<String>, u32) {
    // A code redeemed twice or expired: Entra words both apart (AADSTS54005, AADSTS70008),
    // Keycloak the expired one; the others as any code they do not know (Okta's words are
    // the same for all three).
    let code = match (p, row.code) {
        (Personality::Entra, c) => c,
        (Personality::Keycloak, c @ "authorization_code_expired") => c,
        (_, "authorization_code_redeemed" | "authorization_code_expired") => {
            "invalid_authorization_code"
        }
        (_, c) => c,
    };
    let client_error = row.error == "invalid_client";
    let grant = |s: &str| Some(s.to_string());
    match p {
        Personality::Okta => (row.status, row.error, Some(okta_text.to_string()), 0),
        Personality::Entra => {
            let (status, error, n, text): (u16, &'static str, u32, &str) = match code {
                "invalid_client_secret" | "invalid_client" | "invalid_basic_auth_creds" => (
                    401,
                    "invalid_client",
                    7_000_215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client}'.",
                ),
                "missing_client_credentials" => (
                    401,
                    "invalid_client",
                    7_000_218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                ),
                "invalid_client_id" => (
                    400,
                    "unauthorized_client",
                    700_016,
                    "Application with identifier '{client}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                ),
                "authorization_code_expired" => (
                    400,
                    "invalid_grant",
                    70_008,
                    "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                ),
                // The current wording [U]; captured in 2014 as "The provided access grant
                // is invalid or malformed."
                "invalid_authorization_code" => (
                    400,
                    "invalid_grant",
                    70_000,
                    "The provided value for the 'code' parameter is not valid.",
                ),
                "authorization_code_redeemed" => (
                    400,
                    "invalid_grant",
                    54_005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                ),
                "pkce_verification_failed" | "pkce_missing_verifier" => (
                    400,
                    "invalid_grant",
                    501_481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                ),
                "mismatched_redirect_uri" => (
                    400,
                    "invalid_grant",
                    500_112,
                    "The reply address does not match the reply address provided when requesting Authorization code.",
                ),
                "invalid_refresh_token" => (
                    400,
                    "invalid_grant",
                    700_082,
                    "The refresh token has expired due to inactivity.",
                ),
                "token_request_missing_grant_type" => (
                    400,
                    "invalid_request",
                    900_144,
                    "The request body must contain the following parameter: 'grant_type'.",
                ),
                // No AADSTS text is known for the case: Entra's generic request code,
                // with the case said plainly.
                _ => (
                    if client_error { 401 } else { 400 },
                    row.error,
                    9_002_313,
                    "",
                ),
            };
            let text = if text.is_empty() {
                format!(
                    "AADSTS{n}: Invalid request. Request is malformed or invalid. ({okta_text})"
                )
            } else {
                format!("AADSTS{n}: {text}")
            };
            (status, error, Some(text), n)
        }
        Personality::Adfs => {
            let (status, text) = match code {
                c if client_error || c == "missing_client_credentials" => (
                    401,
                    "MSIS9622: Client authentication failed. Please verify the credential provided for client authentication is valid.",
                ),
                "invalid_authorization_code" => (
                    400,
                    "MSIS9612: The authorization code received in [code] parameter is invalid. ",
                ),
                "pkce_verification_failed" | "pkce_missing_verifier" => (
                    400,
                    "MSIS9642: The request cannot be processed because the code_verifier parameter is invalid. ",
                ),
                "mismatched_redirect_uri" => (
                    400,
                    "MSIS9613: The received redirect URI does not match the redirect URI used when requesting the authorization code. ",
                ),
                "invalid_refresh_token" => (
                    400,
                    "MSIS9615: The refresh token received in refresh_token parameter is invalid. ",
                ),
                _ => (if client_error { 401 } else { 400 }, ""),
            };
            let text = if text.is_empty() {
                okta_text.to_string()
            } else {
                text.to_string()
            };
            (status, row.error, Some(text), 0)
        }
        Personality::Auth0 => match code {
            c if client_error || c == "missing_client_credentials" => {
                (401, "access_denied", grant("Unauthorized"), 0)
            }
            "invalid_authorization_code" => {
                (403, "invalid_grant", grant("Invalid authorization code"), 0)
            }
            "pkce_verification_failed" | "pkce_missing_verifier" => (
                403,
                "invalid_grant",
                grant("Failed to verify code verifier"),
                0,
            ),
            "mismatched_redirect_uri" => (403, "invalid_grant", grant("Invalid redirect_uri"), 0),
            "invalid_refresh_token" => (
                403,
                "invalid_grant",
                grant("Unknown or invalid refresh token."),
                0,
            ),
            "mismatched_client" => (403, "invalid_grant", grant("Invalid authorization code"), 0),
            "unauthorized_client" | "unsupported_grant_type" => (
                403,
                "unauthorized_client",
                grant("Grant type not allowed for the client."),
                0,
            ),
            _ => (
                row.status.min(400),
                row.error,
                Some(okta_text.to_string()),
                0,
            ),
        },
        Personality::Keycloak => match code {
            c if client_error || c == "missing_client_credentials" => (
                401,
                "unauthorized_client",
                grant("Invalid client or Invalid client credentials"),
                0,
            ),
            "invalid_authorization_code" => (400, "invalid_grant", grant("Code not valid"), 0),
            "authorization_code_expired" => (400, "invalid_grant", grant("Code is expired"), 0),
            "mismatched_redirect_uri" => (400, "invalid_grant", grant("Incorrect redirect_uri"), 0),
            "mismatched_client" => (
                400,
                "invalid_grant",
                grant("Auth error: Found different client_id in clientSession"),
                0,
            ),
            "pkce_verification_failed" => (
                400,
                "invalid_grant",
                grant("PKCE verification failed: Code mismatch"),
                0,
            ),
            "pkce_missing_verifier" => (
                400,
                "invalid_grant",
                grant("PKCE code verifier not specified"),
                0,
            ),
            "pkce_missing_challenge_verifier_present" => (
                400,
                "invalid_grant",
                grant("PKCE code verifier specified but challenge not present in authorization"),
                0,
            ),
            "invalid_refresh_token" => (400, "invalid_grant", grant("Invalid refresh token"), 0),
            _ => (row.status, row.error, Some(okta_text.to_string()), 0),
        },
        Personality::Google => match code {
            c if client_error || c == "missing_client_credentials" => {
                (401, "invalid_client", grant("Unauthorized"), 0)
            }
            "invalid_authorization_code" | "mismatched_client" => {
                (400, "invalid_grant", grant("Bad Request"), 0)
            }
            "pkce_verification_failed" => {
                (400, "invalid_grant", grant("Invalid code verifier."), 0)
            }
            "pkce_missing_verifier" => (400, "invalid_grant", grant("Missing code verifier."), 0),
            "mismatched_redirect_uri" => (400, "redirect_uri_mismatch", grant("Bad Request"), 0),
            "invalid_refresh_token" => (
                400,
                "invalid_grant",
                grant("Token has been expired or revoked."),
                0,
            ),
            _ => (row.status.min(400), row.error, grant("Bad Request"), 0),
        },
        Personality::Cognito => {
            let error = match code {
                c if client_error || c == "missing_client_credentials" => "invalid_client",
                _ if row.error == "invalid_grant" || code.starts_with("pkce_") => "invalid_grant",
                _ => row.error,
            };
            (400, error, None, 0)
        }
        Personality::Pingfederate | Personality::Pingone => {
            let (status, text) = match code {
                c if client_error || c == "missing_client_credentials" => {
                    (401, "Invalid client or client credentials.")
                }
                "invalid_authorization_code" | "mismatched_client" => {
                    (400, "Authorization code is invalid or expired.")
                }
                "pkce_verification_failed" | "pkce_missing_verifier" => {
                    (400, "PKCE verification failed")
                }
                "mismatched_redirect_uri" => (400, "Redirect URI mismatch"),
                _ => (if client_error { 401 } else { 400 }, ""),
            };
            let mut text = if text.is_empty() {
                okta_text.to_string()
            } else {
                text.to_string()
            };
            if p == Personality::Pingone {
                text = format!("{text} (Correlation ID: {})", crate::ids::random_uuid());
            }
            (status, row.error, Some(text), 0)
        }
        Personality::Generic => (
            if client_error { 401 } else { 400 },
            row.error,
            Some(okta_text.to_string()),
            0,
        ),
    }
}

/// Entra's timestamp form: `yyyy-MM-dd HH:mm:ssZ`.
fn entra_timestamp(now: i64) -> String {
    let t = super::claims::iso8601(now);
    format!("{} {}Z", &t[..10], &t[11..19])
}

fn fill(text: &str, ctx: &ErrorContext) -> String {
    text.replace("{client}", ctx.client_id.as_deref().unwrap_or(""))
        .replace("{tenant}", &ctx.segment)
}

/// The token-endpoint JSON body of `p` for one error.
pub fn token_body(
    p: Personality,
    row: OktaError,
    okta_text: &str,
    ctx: &ErrorContext,
) -> (StatusCode, String) {
    let (status, error, description, n) = token_words(p, row, okta_text);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let description = description.map(|d| fill(&d, ctx));
    let body = match p {
        Personality::Entra => {
            let trace = crate::ids::random_uuid();
            let correlation = crate::ids::random_uuid();
            let ts = entra_timestamp(ctx.now);
            let d = format!(
                "{}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}",
                description.unwrap_or_default()
            );
            json!({"error": error, "error_description": d, "error_codes": [n], "timestamp": ts, "trace_id": trace, "correlation_id": correlation, "error_uri": format!("{}/error?code={n}", ctx.origins[0])}).to_string()
        }
        Personality::Google => {
            let v = json!({"error": error, "error_description": description});
            serde_json::to_string_pretty(&v).unwrap_or_default()
        }
        _ => match description {
            Some(d) => json!({"error": error, "error_description": d}).to_string(),
            None => json!({ "error": error }).to_string(),
        },
    };
    (status, body)
}

/// The description an error redirected to the client carries under `p` (`None`: the IdP
/// sends no `error_description`).
pub fn redirect_description(
    p: Personality,
    row: OktaError,
    okta_text: &str,
    ctx: &ErrorContext,
) -> Option<String> {
    match p {
        Personality::Okta | Personality::Generic | Personality::Keycloak => {
            Some(okta_text.to_string())
        }
        Personality::Google | Personality::Cognito if row.error == "access_denied" => None,
        Personality::Entra if row.code == "access_denied" => None,
        Personality::Entra => {
            let n = match row.error {
                "login_required" => 50_058,
                "interaction_required" => 50_076,
                "consent_required" => 65_001,
                "access_denied" => 50_105,
                "invalid_scope" => 70_011,
                "unsupported_response_type" => 700_054,
                _ => 900_144,
            };
            Some(format!(
                "AADSTS{n}: {okta_text}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
                crate::ids::random_uuid(),
                crate::ids::random_uuid(),
                entra_timestamp(ctx.now)
            ))
        }
        Personality::Auth0 if row.error == "login_required" => Some("Login required".into()),
        _ => Some(okta_text.to_string()),
    }
}

/// The IdP's own page for a request it cannot send back (an unknown client or redirect
/// URI), or for Cognito its redirect to its `/error` page.
pub fn page(p: Personality, row: OktaError, okta_text: &str, ctx: &ErrorContext) -> Response {
    let client = ctx.client_id.clone().unwrap_or_default();
    let redirect = ctx.redirect_uri.clone().unwrap_or_default();
    let bad_redirect = row.code == okta::ILLEGAL_REDIRECT_URI.code;
    let (status, title, lines): (StatusCode, &str, Vec<String>) = match p {
        Personality::Okta => return (StatusCode::BAD_REQUEST, Html(okta::error_page(row.error, okta_text))).into_response(),
        Personality::Entra => {
            let text = if bad_redirect {
                format!("AADSTS50011: The redirect URI '{redirect}' specified in the request does not match the redirect URIs configured for the application '{client}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.")
            } else if row.code == okta::INVALID_CLIENT_ID.code {
                format!("AADSTS700016: Application with identifier '{client}' was not found in the directory '{}'.", ctx.segment)
            } else {
                format!("AADSTS900144: {okta_text}")
            };
            (StatusCode::OK, "Sign in", vec![
                "Sorry, but we're having trouble signing you in.".into(),
                text,
                format!("Request Id: {}", crate::ids::random_uuid()),
                format!("Correlation Id: {}", crate::ids::random_uuid()),
                format!("Timestamp: {}", super::claims::iso8601(ctx.now).replace(".000", "")),
            ])
        }
        Personality::Adfs => (StatusCode::OK, "An error occurred", vec![
            "An error occurred. Contact your administrator for more information.".into(),
            format!("Activity ID: {}", crate::ids::random_uuid()),
            format!("Error details: MSIS9224: Received invalid OAuth authorization request. The received 'redirect_uri' parameter is not a valid registered redirect URI for the client identifier: '{client}'. Received redirect_uri: '{redirect}'."),
        ]),
        Personality::Auth0 if bad_redirect => (StatusCode::BAD_REQUEST, "Error", vec![
            "Oops!, something went wrong".into(),
            "Callback URL mismatch.".into(),
            "The provided redirect_uri is not in the list of allowed callback URLs.".into(),
            "Please go to the Application Settings page and make sure you are sending a valid callback url from your application.".into(),
            format!("TECHNICAL DETAILS unauthorized_client: Callback URL mismatch. {redirect} is not in the list of allowed callback URLs"),
        ]),
        Personality::Auth0 => (StatusCode::BAD_REQUEST, "Error", vec![
            "Oops!, something went wrong".into(),
            format!("TECHNICAL DETAILS {}: {okta_text}", row.error),
        ]),
        Personality::Keycloak => (StatusCode::BAD_REQUEST, "Sign in", vec![
            "We are sorry...".into(),
            if bad_redirect { "Invalid parameter: redirect_uri".into() } else if row.code == okta::INVALID_CLIENT_ID.code { "Client not found.".into() } else { okta_text.to_string() },
        ]),
        Personality::Google => (StatusCode::BAD_REQUEST, "Error 400", if bad_redirect { vec![
            "Access blocked: This app's request is invalid".into(),
            "You can't sign in because this app sent an invalid request. You can try again later, or contact the developer about this issue.".into(),
            "Error 400: redirect_uri_mismatch".into(),
            "If you're the app developer, register the redirect URI in the Google Cloud Console.".into(),
            format!("Request details: redirect_uri={redirect} flowName=GeneralOAuthFlow"),
        ] } else if row.code == okta::INVALID_CLIENT_ID.code { vec![
            "Error 401: invalid_client".into(), "The OAuth client was not found.".into(),
        ] } else { vec![format!("Error 400: {}", row.error), okta_text.to_string()] }),
        Personality::Cognito => {
            let mismatch = bad_redirect || row.code == okta::ILLEGAL_POST_LOGOUT_REDIRECT_URI.code;
            let error = if mismatch { "redirect_mismatch" } else { row.error };
            let origin = ctx.origins.get(1).unwrap_or(&ctx.origins[0]);
            let mut url = format!("{origin}/error?error={error}");
            if !client.is_empty() {
                url.push_str("&client_id=");
                url.push_str(&url::form_urlencoded::byte_serialize(client.as_bytes()).collect::<String>());
            }
            let mut resp = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&url) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            return resp;
        }
        Personality::Pingfederate | Personality::Pingone | Personality::Generic => (StatusCode::BAD_REQUEST, "Error", vec![
            "The request could not be completed.".into(),
            format!("{}: {okta_text}", row.error),
        ]),
    };
    (status, Html(page_html(title, &lines))).into_response()
}

/// Cognito's `/error` page ("An error was encountered with the requested page.").
pub fn cognito_error_page() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(page_html(
            "Error",
            &["An error was encountered with the requested page.".to_string()],
        )),
    )
        .into_response()
}

fn page_html(title: &str, lines: &[String]) -> String {
    let body: String = lines
        .iter()
        .map(|l| format!("<p>{}</p>\n", html_escape(l)))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n<main class=\"error-page\" id=\"idp-error\">\n{body}</main>\n</body></html>\n",
        html_escape(title)
    )
}

/// A userinfo (protected resource) error under `p`.
pub fn bearer(p: Personality, row: OktaError, ctx: &ErrorContext) -> Response {
    let insufficient = row.error == "insufficient_scope";
    let (status, header_value, body): (StatusCode, String, Option<(&str, String)>) = match p {
        Personality::Okta => return IdpError::Bearer { row }.into_response(),
        Personality::Entra => (
            StatusCode::UNAUTHORIZED,
            format!("Bearer realm=\"\", authorization_uri=\"{}/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"", ctx.origins[0]),
            Some(("application/json", json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token validation failure. Invalid audience.", "innerError": {"date": super::claims::iso8601(ctx.now).replace(".000", ""), "request-id": crate::ids::random_uuid(), "client-request-id": crate::ids::random_uuid()}}}).to_string())),
        ),
        Personality::Keycloak if insufficient => (
            StatusCode::FORBIDDEN,
            format!("Bearer realm=\"{}\", error=\"insufficient_scope\", error_description=\"Missing openid scope\"", ctx.segment),
            None,
        ),
        Personality::Keycloak => (
            StatusCode::UNAUTHORIZED,
            format!("Bearer realm=\"{}\", error=\"invalid_token\", error_description=\"Token verification failed\"", ctx.segment),
            Some(("application/json", json!({"error": "invalid_token", "error_description": "Token verification failed"}).to_string())),
        ),
        Personality::Auth0 => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"Users\", error=\"invalid_token\", error_description=\"Invalid token\"".into(),
            Some(("text/plain; charset=utf-8", "Unauthorized".into())),
        ),
        Personality::Google => (
            StatusCode::UNAUTHORIZED,
            format!("Bearer realm=\"{}/\", error=\"invalid_token\"", ctx.origins[0]),
            Some(("application/json; charset=utf-8", serde_json::to_string_pretty(&json!({"error": "invalid_request", "error_description": "Invalid Credentials"})).unwrap_or_default())),
        ),
        _ => (
            StatusCode::from_u16(row.status).unwrap_or(StatusCode::UNAUTHORIZED),
            format!("Bearer error=\"{}\", error_description=\"{}\"", row.error, if insufficient { "Insufficient scope" } else { "Invalid access token" }),
            None,
        ),
    };
    let mut resp = match body {
        Some((ct, text)) => {
            let mut r = (status, text).into_response();
            if let Ok(v) = HeaderValue::from_str(ct) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
        None => status.into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&header_value) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// An error outside OAuth (an unknown path or server, an endpoint made unavailable) under
/// `p`.
pub fn api(p: Personality, status: u16, unknown_server: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND);
    match p {
        Personality::Keycloak if unknown_server => json_text_response(
            status,
            json!({"error": "Realm does not exist", "error_description": "For more on this error consult the server log."}).to_string(),
        ),
        _ if status == StatusCode::SERVICE_UNAVAILABLE => json_text_response(
            status,
            json!({"error": "temporarily_unavailable", "error_description": "The service is temporarily unavailable."}).to_string(),
        ),
        _ => (status, status.canonical_reason().unwrap_or("Not Found").to_string()).into_response(),
    }
}

/// Renders an error as `p` delivers it.
pub fn render(p: Personality, err: IdpError, ctx: &ErrorContext) -> Response {
    if p == Personality::Okta {
        return err.into_response();
    }
    match err {
        IdpError::Json { row, description } => {
            let (status, body) = token_body(p, row, &description, ctx);
            json_text_response(status, body)
        }
        IdpError::Page {
            row,
            description,
            redirect_uri,
        } => {
            let ctx = ErrorContext {
                redirect_uri: redirect_uri.or_else(|| ctx.redirect_uri.clone()),
                ..ctx.clone()
            };
            crate::errors::no_store(page(p, row, &description, &ctx))
        }
        IdpError::Bearer { row } => bearer(p, row, ctx),
        IdpError::Api {
            status, summary, ..
        } => api(p, status, summary.contains("(AuthorizationServer)")),
    }
}
