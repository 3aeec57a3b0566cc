//! The OpenID Connect flows as values: the six response types of OIDC Core and OAuth 2.0
//! Multiple Response Types, the response modes a relying party can ask for, and sets of
//! response types (where a fault can strike, which flows a scenario is about).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A response type, words in canonical order (`code id_token token`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResponseType {
    /// `code`: the authorization code flow (OIDC Core 3.1).
    Code,
    /// `id_token`: implicit, the ID token only (OIDC Core 3.2).
    IdToken,
    /// `id_token token`: implicit, ID token and access token.
    IdTokenToken,
    /// `code id_token`: hybrid (OIDC Core 3.3).
    CodeIdToken,
    /// `code token`: hybrid.
    CodeToken,
    /// `code id_token token`: hybrid.
    CodeIdTokenToken,
}

impl ResponseType {
    /// All six, in the order the OpenID Foundation's plans list them.
    pub const ALL: [ResponseType; 6] = [
        Self::Code,
        Self::IdToken,
        Self::IdTokenToken,
        Self::CodeIdToken,
        Self::CodeToken,
        Self::CodeIdTokenToken,
    ];

    /// The value of `response_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::IdToken => "id_token",
            Self::IdTokenToken => "id_token token",
            Self::CodeIdToken => "code id_token",
            Self::CodeToken => "code token",
            Self::CodeIdTokenToken => "code id_token token",
        }
    }

    /// A code is issued (the token endpoint is used).
    pub fn has_code(self) -> bool {
        matches!(
            self,
            Self::Code | Self::CodeIdToken | Self::CodeToken | Self::CodeIdTokenToken
        )
    }

    /// The authorization response carries an ID token.
    pub fn id_token_at_authorize(self) -> bool {
        matches!(
            self,
            Self::IdToken | Self::IdTokenToken | Self::CodeIdToken | Self::CodeIdTokenToken
        )
    }

    /// The authorization response carries an access token.
    pub fn token_at_authorize(self) -> bool {
        matches!(
            self,
            Self::IdTokenToken | Self::CodeToken | Self::CodeIdTokenToken
        )
    }

    /// An access token is issued somewhere (all but `id_token`): userinfo can be called.
    pub fn has_access_token(self) -> bool {
        self != Self::IdToken
    }

    /// The response mode used when none is asked for (OAuth 2.0 Multiple Response Types
    /// 5: `query` for `code`, `fragment` for everything that returns a token).
    pub fn default_mode(self) -> ResponseMode {
        if self == Self::Code {
            ResponseMode::Query
        } else {
            ResponseMode::Fragment
        }
    }

    /// The flow's family, as the OpenID Foundation's plans group them.
    pub fn family(self) -> &'static str {
        match self {
            Self::Code => "basic",
            Self::IdToken | Self::IdTokenToken => "implicit",
            _ => "hybrid",
        }
    }
}

impl fmt::Display for ResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not one of the six response types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a response type of OpenID Connect (expected code, id_token, id_token token, code id_token, code token or code id_token token)"
)]
pub struct UnknownResponseType(pub String);

impl FromStr for ResponseType {
    type Err = UnknownResponseType;

    /// Parses a `response_type` value, its words in any order.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalized = crate::tenant::normalize_response_type(s);
        let words = s.split(' ').filter(|w| !w.is_empty()).count();
        Self::ALL
            .iter()
            .copied()
            .find(|rt| rt.as_str() == normalized && normalized.split(' ').count() == words)
            .ok_or_else(|| UnknownResponseType(s.to_string()))
    }
}

impl Serialize for ResponseType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResponseType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for ResponseType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ResponseType".into()
    }

    /// The six values, each with its words in every order (as parsing accepts them).
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        fn orders(words: &[&str]) -> Vec<String> {
            if words.len() <= 1 {
                return words.iter().map(|w| w.to_string()).collect();
            }
            let mut out = Vec::new();
            for (i, first) in words.iter().enumerate() {
                let mut rest = words.to_vec();
                rest.remove(i);
                out.extend(orders(&rest).into_iter().map(|r| format!("{first} {r}")));
            }
            out
        }
        crate::schema::one_of_strings(
            "An OpenID Connect `response_type` (its words in any order).",
            Self::ALL
                .iter()
                .flat_map(|rt| orders(&rt.as_str().split(' ').collect::<Vec<_>>())),
        )
    }
}

/// How the authorization response travels to the relying party.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// `?…` on the redirect URI.
    Query,
    /// `#…` on the redirect URI (only a page's JavaScript can read it).
    Fragment,
    /// An auto-submitting form POSTed to the redirect URI (OAuth 2.0 Form Post Response
    /// Mode).
    FormPost,
}

impl ResponseMode {
    /// The value of `response_mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
        }
    }
}

impl fmt::Display for ResponseMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of response types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FlowSet(u8);

impl FlowSet {
    /// No flow.
    pub const NONE: FlowSet = FlowSet(0);
    /// Every flow.
    pub const ALL: FlowSet = FlowSet(0b11_1111);
    /// The flows that issue a code (and use the token endpoint).
    pub const CODE: FlowSet = FlowSet::of(&[
        ResponseType::Code,
        ResponseType::CodeIdToken,
        ResponseType::CodeToken,
        ResponseType::CodeIdTokenToken,
    ]);
    /// The flows that issue an access token (userinfo can be called).
    pub const ACCESS_TOKEN: FlowSet = FlowSet::of(&[
        ResponseType::Code,
        ResponseType::IdTokenToken,
        ResponseType::CodeIdToken,
        ResponseType::CodeToken,
        ResponseType::CodeIdTokenToken,
    ]);
    /// The flows whose ID token comes with an access token, and so carries `at_hash`:
    /// at the token endpoint (optional there) or at authorize (required there).
    pub const AT_HASH: FlowSet = FlowSet::ACCESS_TOKEN;
    /// The flows whose authorization response has an ID token with an access token
    /// beside it (`at_hash` REQUIRED: OIDC Core 3.2.2.10, 3.3.2.11).
    pub const AT_HASH_AT_AUTHORIZE: FlowSet =
        FlowSet::of(&[ResponseType::IdTokenToken, ResponseType::CodeIdTokenToken]);
    /// The flows whose authorization response has an ID token with a code beside it
    /// (`c_hash` REQUIRED: OIDC Core 3.3.2.11).
    pub const C_HASH: FlowSet =
        FlowSet::of(&[ResponseType::CodeIdToken, ResponseType::CodeIdTokenToken]);
    /// The implicit and hybrid flows (a nonce is REQUIRED: OIDC Core 3.2.2.1, 3.3.2.11).
    pub const NOT_CODE: FlowSet = FlowSet(FlowSet::ALL.0 & !FlowSet::of(&[ResponseType::Code]).0);

    /// The set of these response types.
    pub const fn of(types: &[ResponseType]) -> FlowSet {
        let mut bits = 0u8;
        let mut i = 0;
        while i < types.len() {
            bits |= 1 << types[i] as u8;
            i += 1;
        }
        FlowSet(bits)
    }

    /// Whether `rt` is in the set.
    pub fn contains(self, rt: ResponseType) -> bool {
        self.0 & (1 << rt as u8) != 0
    }

    /// Both sets' flows.
    pub fn and(self, other: FlowSet) -> FlowSet {
        FlowSet(self.0 & other.0)
    }

    /// Whether every flow of `self` is in `other`.
    pub fn within(self, other: FlowSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The response types in the set, in [`ResponseType::ALL`] order.
    pub fn types(self) -> Vec<ResponseType> {
        ResponseType::ALL
            .iter()
            .copied()
            .filter(|rt| self.contains(*rt))
            .collect()
    }

    /// The set as words, `all` when it holds every flow.
    pub fn describe(self) -> String {
        if self == FlowSet::ALL {
            return "every flow".into();
        }
        if self.is_empty() {
            return "no flow".into();
        }
        self.types()
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Serialize for FlowSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.types())
    }
}

impl<'de> Deserialize<'de> for FlowSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<ResponseType>::deserialize(d)?.into_iter().collect())
    }
}

impl FromIterator<ResponseType> for FlowSet {
    fn from_iter<I: IntoIterator<Item = ResponseType>>(iter: I) -> Self {
        let mut bits = 0;
        for rt in iter {
            bits |= 1 << rt as u8;
        }
        FlowSet(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_parse_in_any_word_order_and_only_whole() {
        assert_eq!(
            "token code id_token".parse::<ResponseType>(),
            Ok(ResponseType::CodeIdTokenToken)
        );
        assert_eq!(
            "id_token".parse::<ResponseType>(),
            Ok(ResponseType::IdToken)
        );
        assert!("token".parse::<ResponseType>().is_err());
        assert!("code code".parse::<ResponseType>().is_err());
        assert!("code bogus".parse::<ResponseType>().is_err());
    }

    #[test]
    fn sets_hold_what_the_spec_says() {
        assert_eq!(FlowSet::CODE.types().len(), 4);
        assert!(!FlowSet::ACCESS_TOKEN.contains(ResponseType::IdToken));
        assert!(!FlowSet::NOT_CODE.contains(ResponseType::Code));
        assert_eq!(FlowSet::NOT_CODE.types().len(), 5);
        assert!(FlowSet::C_HASH.within(FlowSet::CODE));
        assert!(FlowSet::AT_HASH_AT_AUTHORIZE.within(FlowSet::ACCESS_TOKEN));
        for rt in ResponseType::ALL {
            assert_eq!(rt.as_str().parse::<ResponseType>(), Ok(rt));
            assert_eq!(
                FlowSet::AT_HASH_AT_AUTHORIZE.contains(rt),
                rt.id_token_at_authorize() && rt.token_at_authorize()
            );
            assert_eq!(
                FlowSet::C_HASH.contains(rt),
                rt.id_token_at_authorize() && rt.has_code()
            );
        }
    }
}
