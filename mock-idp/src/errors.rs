//! Okta's errors, word for word, and how each reaches the client.
//!
//! Every error the IdP sends is one row of Okta's published catalog (a copy is in
//! `src/okta/error-catalog.txt`; a test checks each row below against it). A row says
//! what the OAuth `error` is, Okta's internal code, the HTTP status and the description.
//! Where the description has a placeholder (`[en]` in the catalog), the caller fills it.
//! How it is delivered depends on the endpoint: JSON (token, introspect, revoke), the
//! Okta-hosted HTML error page (authorize before the redirect URI is trusted), a redirect
//! to the client (authorize after), or `WWW-Authenticate` (userinfo).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::ids::error_id;

/// One row of Okta's error catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OktaError {
    /// The OAuth `error` value.
    pub error: &'static str,
    /// Okta's internal code for the case (recorded in the journal).
    pub code: &'static str,
    /// The HTTP status Okta answers with.
    pub status: u16,
    /// The `error_description`, with `{}` where the catalog has a placeholder.
    pub description: &'static str,
}

macro_rules! okta_errors {
    ($($name:ident = $error:literal, $code:literal, $status:literal, $desc:literal;)*) => {
        $(
            #[doc = concat!("`", $error, "` / `", $code, "`: ", $desc)]
            pub const $name: OktaError = OktaError { error: $error, code: $code, status: $status, description: $desc };
        )*
        /// Every error the IdP can send.
        pub const ALL: &[OktaError] = &[$($name),*];
    };
}

okta_errors! {
    ACCESS_DENIED = "access_denied", "access_denied", 403, "The resource owner or authorization server denied the request.";
    USER_NOT_ASSIGNED = "access_denied", "user_not_assigned", 400, "User is not assigned to the client application.";
    INVALID_CLIENT = "invalid_client", "invalid_client", 401, "Client authentication failed. Either the client or the client credentials are invalid.";
    INVALID_CLIENT_ID = "invalid_client", "invalid_client_id", 401, "Invalid value for 'client_id' parameter.";
    MISSING_CLIENT_CREDENTIALS = "invalid_client", "missing_client_credentials", 401, "No client credentials found.";
    INVALID_BASIC_AUTH_CREDS = "invalid_client", "invalid_basic_auth_creds", 401, "Found Authentication header but was not valid client credentials.";
    INVALID_TOKEN_ENDPOINT_AUTH_METHOD = "invalid_client", "invalid_token_endpoint_auth_method", 401, "Client authentication failed. Either the client or the client credentials are invalid.";
    INVALID_CLIENT_SECRET = "invalid_client", "invalid_client_secret", 401, "The client secret supplied for a confidential client is invalid.";
    MULTIPLE_CLIENT_CREDENTIALS = "invalid_request", "multiple_client_credentials", 401, "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.";
    CLIENT_CREDENTIALS_IN_QUERY = "invalid_request", "client_credentials_in_query", 400, "Client credentials cannot be supplied via query parameters.";
    INVALID_AUTHORIZATION_CODE = "invalid_grant", "invalid_authorization_code", 400, "The authorization code is invalid or has expired.";
    // Okta's `invalid_authorization_code` row, for a code redeemed before.
    AUTHORIZATION_CODE_REDEEMED = "invalid_grant", "authorization_code_redeemed", 400, "The authorization code is invalid or has expired.";
    // Okta's `invalid_authorization_code` row, for a code past its life.
    AUTHORIZATION_CODE_EXPIRED = "invalid_grant", "authorization_code_expired", 400, "The authorization code is invalid or has expired.";
    MISMATCHED_REDIRECT_URI = "invalid_grant", "mismatched_redirect_uri", 400, "The 'redirect_uri' does not match the redirection URI used in the authorization request.";
    MISMATCHED_CLIENT = "invalid_grant", "mismatched_client", 400, "The grant was issued to another client. Please make sure the 'client_id' matches the one used at the authorize request.";
    PKCE_VERIFICATION_FAILED = "invalid_grant", "pkce_verification_failed", 400, "PKCE verification failed.";
    PKCE_MISSING_VERIFIER = "invalid_request", "pkce_missing_verifier", 400, "PKCE code verifier is required by the application.";
    PKCE_MISSING_CHALLENGE_VERIFIER_PRESENT = "invalid_request", "pkce_missing_challenge_verifier_present", 400, "PKCE code challenge should be specified in the authorize request for code verification.";
    PKCE_MISSING_CHALLENGE = "invalid_request", "pkce_missing_challenge", 400, "PKCE code challenge is required by the application.";
    PKCE_INVALID_CHALLENGE = "invalid_request", "pkce_invalid_challenge", 400, "PKCE code challenge contains illegal characters.";
    PKCE_UNSUPPORTED_METHOD = "invalid_request", "pkce_unsupported_code_challenge_method", 400, "PKCE code challenge method is not supported. Valid values: [{}]";
    INVALID_STATE = "invalid_request", "invalid_state", 400, "The authentication request has an invalid 'state' parameter.";
    INVALID_REQUEST = "invalid_request", "invalid_request", 400, "Invalid request";
    INVALID_NONCE = "invalid_request", "invalid_nonce", 400, "The 'nonce' parameter is required for authorize requests with either the 'id_token' or 'token' response types..";
    INVALID_PROMPT = "invalid_request", "invalid_prompt", 400, "Invalid value for 'prompt' parameter. Supported values: [{}]";
    ILLEGAL_REDIRECT_URI = "invalid_request", "illegal_redirect_uri_enhanced", 400, "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings: {}";
    MISSING_REDIRECT_URI = "missing_redirect_uri", "missing_redirect_uri", 400, "redirect_uri is missing.";
    ILLEGAL_POST_LOGOUT_REDIRECT_URI = "invalid_request", "illegal_post_logout_redirect_uri", 400, "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings.";
    INVALID_ID_TOKEN_HINT = "invalid_token", "id_token_invalid", 401, "The id token is invalid.";
    MISSING_GRANT_TYPE = "invalid_request", "token_request_missing_grant_type", 400, "The token request must specify a 'grant_type'. Valid values: [{}]";
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type", "unsupported_grant_type", 400, "The authorization grant type is not supported by the authorization server. Configured grant types: [{}].";
    CLIENT_CREDS_ORG_AS = "unsupported_grant_type", "unsupported_grant_type_client_creds_org_as", 400, "'client_credentials' grant type can only be used with a custom authorization server.";
    UNAUTHORIZED_CLIENT = "unauthorized_client", "unauthorized_client", 400, "The client is not authorized to use the provided grant type. Configured grant types: [{}].";
    CONFIDENTIAL_CLIENT_REQUIRED = "unauthorized_client", "confidential_client_required", 400, "Confidential client is required to make this request.";
    UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type", "unsupported_response_type", 400, "The response type is not supported by the authorization server. Configured response types: [{}].";
    UNSUPPORTED_RESPONSE_MODE = "unsupported_response_mode", "unsupported_response_mode", 400, "The response mode is not supported by the authorization server. Valid response modes: [query, fragment, form_post, okta_post_message].";
    RESPONSE_MODE_QUERY_WITH_TOKENS = "unsupported_response_mode", "unsupported_response_mode_query_with_tokens", 400, "'query' response mode cannot be used with either the 'id_token' or 'token' response types.";
    RESPONSE_MODE_POST_MESSAGE_WITH_CODE = "unsupported_response_mode", "unsupported_response_mode_okta_post_message_with_code", 400, "'okta_post_message' response mode cannot be used with the 'code' response type.";
    INVALID_SCOPE = "invalid_scope", "invalid_scope", 400, "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.";
    MISSING_SCOPES = "invalid_scope", "missing_scopes", 400, "No scopes were requested.";
    OPENID_SCOPE_REQUIRED = "invalid_scope", "openid_scope_required", 400, "Requests for ID tokens or access tokens with OpenID scopes require the 'openid' scope.";
    OPENID_NOT_ALLOWED_CLIENT_CREDS = "invalid_scope", "openid_not_allowed_client_creds", 400, "Cannot request 'openid' scopes using client credentials.";
    NO_DEFAULT_SCOPES = "invalid_scope", "no_default_scopes", 400, "The authorization server resource does not have any configured default scopes, 'scope' must be provided.";
    REFRESH_SCOPES_DENIED = "access_denied", "refresh_scopes_denied", 400, "Some of the scopes requested for the refresh request were not granted in the original authorize request. Denied scopes: {}.";
    INVALID_REFRESH_TOKEN = "invalid_grant", "invalid_refresh_token", 400, "The refresh token is invalid or expired.";
    CONSENT_REQUIRED = "consent_required", "consent_required", 400, "The following scopes require user consent: [{}].";
    INTERACTION_REQUIRED = "interaction_required", "interaction_required", 400, "Your client is configured to use the interaction code flow and user interaction is required to complete the request.";
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable", "temporarily_unavailable", 400, "The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server.";
    SERVER_ERROR = "server_error", "server_error", 500, "The authorization server encountered an unexpected condition that prevented it from fulfilling the request.";
    REQUEST_EXPIRED = "login_required", "request_expired", 400, "Request expired, please start over and try again.";
    LOGIN_REQUIRED = "login_required", "login_required", 400, "The client specified not to prompt, but the user is not logged in.";
    ACCESS_TOKEN_INVALID = "invalid_token", "access_token_invalid", 401, "The access token is invalid.";
    INSUFFICIENT_SCOPE_USERINFO = "insufficient_scope", "insufficient_scope", 403, "The access token must provide access to at least one of these scopes - profile, email, address or phone";
}

impl OktaError {
    /// The description with its placeholder filled.
    pub fn describe(&self, detail: &str) -> String {
        self.description.replacen("{}", detail, 1)
    }
}

/// An error response from the IdP, in one of Okta's delivery shapes.
#[derive(Debug, Clone)]
pub enum IdpError {
    /// RFC 6749 section 5.2 JSON (`{"error", "error_description"}`) with the row's status.
    Json {
        /// The catalog row.
        row: OktaError,
        /// The description, placeholder filled.
        description: String,
    },
    /// The Okta-hosted HTML error page (never redirected to the client).
    Page {
        /// The catalog row.
        row: OktaError,
        /// The description, placeholder filled.
        description: String,
        /// The redirect URI the page is about, when it is about one.
        redirect_uri: Option<String>,
    },
    /// A protected-resource error: status and `WWW-Authenticate: Bearer`, empty body.
    Bearer {
        /// The catalog row.
        row: OktaError,
    },
    /// Okta's management API shape (`errorCode`, `errorSummary`, …).
    Api {
        /// HTTP status.
        status: u16,
        /// `errorCode`: `E0000007` or an OAuth error.
        code: &'static str,
        /// `errorSummary`.
        summary: String,
    },
}

impl IdpError {
    /// JSON delivery of a row without placeholder.
    pub fn json(row: OktaError) -> Self {
        Self::Json {
            row,
            description: row.description.to_string(),
        }
    }

    /// JSON delivery with the placeholder filled by `detail`.
    pub fn json_with(row: OktaError, detail: &str) -> Self {
        Self::Json {
            row,
            description: row.describe(detail),
        }
    }

    /// The HTML error page.
    pub fn page(row: OktaError, detail: &str) -> Self {
        Self::Page {
            row,
            description: row.describe(detail),
            redirect_uri: None,
        }
    }

    /// The HTML error page about a redirect URI the client did not register.
    pub fn bad_redirect_page(detail: &str, redirect_uri: &str) -> Self {
        Self::Page {
            row: ILLEGAL_REDIRECT_URI,
            description: ILLEGAL_REDIRECT_URI.describe(detail),
            redirect_uri: Some(redirect_uri.to_string()),
        }
    }

    /// E0000007 for an authorization server id that does not exist.
    pub fn unknown_server(id: &str) -> Self {
        Self::Api {
            status: 404,
            code: "E0000007",
            summary: format!("Not found: Resource not found: {id} (AuthorizationServer)"),
        }
    }

    /// The code recorded in the journal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Json { row, .. } | Self::Page { row, .. } | Self::Bearer { row } => row.code,
            Self::Api { code, .. } => code,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        let s = match self {
            Self::Json { row, .. } | Self::Bearer { row } => row.status,
            Self::Page { .. } => 400,
            Self::Api { status, .. } => *status,
        };
        StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_REQUEST)
    }
}

/// `application/json;charset=UTF-8`, as Okta sends it.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    json_text_response(status, body.to_string())
}

/// JSON text (not necessarily valid: a fault may have cut it) with Okta's headers.
pub fn json_text_response(status: StatusCode, text: String) -> Response {
    let mut resp = (status, text).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    no_store(resp)
}

/// Prepared JSON bytes with Okta's headers.
pub fn json_bytes_response(status: StatusCode, body: axum::body::Bytes) -> Response {
    // Built whole (the hot path of discovery and JWKS): one header map sized for what
    // it holds, no content type set and then replaced.
    let mut headers = axum::http::HeaderMap::with_capacity(4);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    let mut resp = Response::new(axum::body::Body::from(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    no_store(resp)
}

/// Marks a response as not cacheable (`Cache-Control: no-cache, no-store`, `Pragma`).
pub fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

impl IntoResponse for IdpError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::Json { row, description } => {
                // Okta writes this one description-first (captured on the wire).
                let body = if row.code == MULTIPLE_CLIENT_CREDENTIALS.code {
                    json!({"error_description": description, "error": row.error})
                } else {
                    json!({"error": row.error, "error_description": description})
                };
                json_response(status, &body)
            }
            Self::Api { code, summary, .. } => json_response(
                status,
                &json!({"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": error_id(), "errorCauses": []}),
            ),
            Self::Bearer { row } => {
                let value = format!(
                    "Bearer error=\"{}\", error_description=\"{}\"",
                    row.error, row.description
                );
                let mut resp = status.into_response();
                if let Ok(v) = HeaderValue::from_str(&value) {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                resp
            }
            Self::Page {
                row, description, ..
            } => (status, Html(error_page(row.error, &description))).into_response(),
        }
    }
}

/// Okta's hosted error page: "400 Bad Request / Your request resulted in an error. /
/// Identity Provider: Unknown / Error Code: … / Description: …".
pub fn error_page(error: &str, description: &str) -> String {
    let error = html_escape(error);
    let description = html_escape(description);
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Error</title></head>
<body>
<main class="error-page" id="okta-error">
<h1>400 Bad Request</h1>
<p class="o-form-explain">Your request resulted in an error.</p>
<dl>
<dt>Identity Provider:</dt><dd>Unknown</dd>
<dt>Error Code:</dt><dd id="error-code">{error}</dd>
<dt>Description:</dt><dd id="error-description">{description}</dd>
</dl>
</main>
</body></html>
"#
    )
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error we send is a row of Okta's catalog, word for word.
    #[test]
    fn every_error_is_a_row_of_oktas_catalog() {
        let catalog = include_str!("okta/error-catalog.txt");
        let rows: Vec<Vec<&str>> = catalog
            .lines()
            .skip(1)
            .map(|l| l.split(" | ").collect())
            .collect();
        for e in ALL {
            if *e == INSUFFICIENT_SCOPE_USERINFO {
                // /userinfo words it differently from the catalog row; this text was
                // captured on the wire (WWW-Authenticate of a 403).
                continue;
            }
            // A replayed or expired code is Okta's `invalid_authorization_code` row under a
            // name of its own, so that IdPs that word it apart can (Entra's AADSTS54005
            // and AADSTS70008, Keycloak's "Code is expired").
            let code = if *e == AUTHORIZATION_CODE_REDEEMED || *e == AUTHORIZATION_CODE_EXPIRED {
                INVALID_AUTHORIZATION_CODE.code
            } else {
                e.code
            };
            let row = rows
                .iter()
                .find(|r| r.len() == 5 && r[1] == code && r[0] == e.error)
                .unwrap_or_else(|| panic!("{} / {} is not in the catalog", e.error, e.code));
            assert_eq!(row[2], e.status.to_string(), "status of {}", e.code);
            let catalog_desc = row[4]
                .replace("[en]", "[{}]")
                .replace(": en", ": {}")
                .replace("scopes: en.", "scopes: {}.");
            assert_eq!(catalog_desc, e.description, "description of {}", e.code);
        }
    }
}
