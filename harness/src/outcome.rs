//! The troubleshooting outcome codes (the Databricks table) scenarios expect and RP
//! profiles map their messages to, and what an RP showed when it refused.

use serde::{Deserialize, Serialize};

/// One code of the troubleshooting table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutcomeCode {
    /// The state is missing or does not match (or the RP lost what it kept for it).
    StateMissing,
    /// The nonce is missing or does not match.
    NonceMissing,
    /// Discovery or the keys could not be read.
    MetadataFetchFailure,
    /// The callback carried neither a code nor a token.
    ReceivedNoCodeOrTokenFailure,
    /// The code exchange failed.
    CodeExchangeFailure,
    /// The token response lacks a token.
    CodeExchangeTokenMissing,
    /// The ID token failed validation.
    GenericTokenFailure,
    /// No email claim.
    MissingEmailClaim,
    /// The IdP answered with an error.
    AuthError,
    /// The login failed after the tokens (userinfo, account checks).
    LoginError,
}

impl OutcomeCode {
    /// Every code, in the table's order.
    pub const ALL: [OutcomeCode; 10] = [
        Self::StateMissing,
        Self::NonceMissing,
        Self::MetadataFetchFailure,
        Self::ReceivedNoCodeOrTokenFailure,
        Self::CodeExchangeFailure,
        Self::CodeExchangeTokenMissing,
        Self::GenericTokenFailure,
        Self::MissingEmailClaim,
        Self::AuthError,
        Self::LoginError,
    ];

    /// The code as the table writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StateMissing => "oidc_state_missing",
            Self::NonceMissing => "oidc_nonce_missing",
            Self::MetadataFetchFailure => "oidc_metadata_fetch_failure",
            Self::ReceivedNoCodeOrTokenFailure => "oidc_received_no_code_or_token_failure",
            Self::CodeExchangeFailure => "oidc_code_exchange_failure",
            Self::CodeExchangeTokenMissing => "oidc_code_exchange_token_missing",
            Self::GenericTokenFailure => "oidc_generic_token_failure",
            Self::MissingEmailClaim => "oidc_missing_email_claim",
            Self::AuthError => "oidc_auth_error",
            Self::LoginError => "oidc_login_error",
        }
    }

    /// Every code as text.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.iter().map(|c| c.as_str())
    }
}

impl std::fmt::Display for OutcomeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not a code of the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected an outcome code of the troubleshooting table (found `{found}`){}",
    help(found)
)]
pub struct UnknownCode {
    /// What was given.
    pub found: String,
}

fn help(found: &str) -> String {
    match mock_idp::diag::did_you_mean(found, OutcomeCode::names()) {
        Some(m) => format!("; did you mean `{m}`?"),
        None => format!(
            "; known codes: {}",
            OutcomeCode::names().collect::<Vec<_>>().join(", ")
        ),
    }
}

impl std::str::FromStr for OutcomeCode {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, UnknownCode> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode {
                found: s.to_string(),
            })
    }
}

impl Serialize for OutcomeCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OutcomeCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for OutcomeCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OutcomeCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        mock_idp::schema::one_of_strings(
            "An outcome code of the troubleshooting table (DESIGN.md).",
            Self::ALL.iter().map(|c| c.as_str()),
        )
    }
}

/// What the RP showed about why it refused a login.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shown {
    /// An outcome code (its own, or its message mapped by the profile).
    Code(OutcomeCode),
    /// A message the profile marks as standing for several failures.
    Indistinct,
    /// Text the profile's `pattern` captured that is not a code of the table.
    Unknown(String),
    /// Nothing the profile recognises.
    #[default]
    Nothing,
}

impl Shown {
    /// The code, when one was shown.
    pub fn code(&self) -> Option<OutcomeCode> {
        match self {
            Self::Code(c) => Some(*c),
            _ => None,
        }
    }
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(c) => write!(f, "{c}"),
            Self::Indistinct => f.write_str("an indistinct message"),
            Self::Unknown(s) => write!(f, "`{s}`"),
            Self::Nothing => f.write_str("no outcome code"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_near_misses_are_named() {
        for c in OutcomeCode::ALL {
            assert_eq!(c.as_str().parse::<OutcomeCode>(), Ok(c));
        }
        let e = "oidc_state_mising".parse::<OutcomeCode>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected an outcome code of the troubleshooting table (found `oidc_state_mising`); did you mean `oidc_state_missing`?"
        );
    }
}
