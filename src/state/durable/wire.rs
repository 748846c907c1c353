//! Reading the Worker↔object wire (`ops::Call` one way, `ops::Answer` the other).
//!
//! Both ends write with `#[derive(Serialize)]` (serde's externally tagged enums: a unit
//! variant is its name, any other `{"Name": value}`); these readers take that form back
//! without a derived deserializer per type (see `json_codec` for why).

use super::ops::{Call, Op, Reply};
use crate::impl_from_json;
use crate::json_codec::{self, field, object, FromJson};
use crate::state::{
    CodeConsent, CodeExchange, CodeInSession, GrantView, IssuedGrant, NewCode, Page,
    RefreshRotation, Refusal, SessionCode, StateError,
};
use serde_json::Value;

/// The variant name of an externally tagged enum value, and its content (`Null` for a unit
/// variant).
fn variant(value: &Value) -> Result<(&str, &Value), String> {
    match value {
        Value::String(name) => Ok((name, &Value::Null)),
        Value::Object(map) if map.len() == 1 => {
            let (name, content) = map.iter().next().expect("one member");
            Ok((name, content))
        }
        _ => Err("expected an enum variant".into()),
    }
}

fn unknown(name: &str) -> String {
    format!("unknown variant {name}")
}

impl_from_json!(Call { object, op });
impl_from_json!(GrantView {
    grant_id,
    client_id,
    sub,
    scopes,
    created_at,
    expires_at;
    sign_in,
    resource,
});
impl_from_json!(NewCode {
    sub,
    client_id,
    redirect_uri,
    scopes,
    code_challenge,
    secret,
    id_nonce,
    now,
    expires_at;
    sign_in,
    resource,
});
impl_from_json!(CodeExchange {
    code,
    client_id,
    redirect_uri,
    code_verifier,
    allowed_scopes,
    refresh_secret,
    chain_key,
    refresh_ttl,
    now,
    resource,
});
impl_from_json!(RefreshRotation {
    refresh_token,
    client_id,
    requested_scopes,
    allowed_scopes,
    grace,
    refresh_ttl,
    now,
    resource;
    attempt,
});
impl_from_json!(IssuedGrant {
    grant,
    refresh_token,
    scopes,
    listing;
    evicted,
});

impl_from_json!(CodeInSession {
    code,
    signed_in_after;
    nonce,
});
impl_from_json!(SessionCode { session, code });

impl<T: FromJson> FromJson for Page<T> {
    fn from_json(value: &Value) -> Result<Self, String> {
        let map = object(value)?;
        Ok(Page {
            items: field(map, "items")?,
            cursor: field(map, "cursor")?,
        })
    }
}

impl FromJson for CodeConsent {
    fn from_json(value: &Value) -> Result<Self, String> {
        match variant(value)? {
            ("Remembered", _) => Ok(CodeConsent::Remembered),
            ("Approved", content) => {
                let map = object(content)?;
                Ok(CodeConsent::Approved {
                    request_id: field(map, "request_id")?,
                    ttl: field(map, "ttl")?,
                })
            }
            (name, _) => Err(unknown(name)),
        }
    }
}

impl FromJson for Op {
    fn from_json(value: &Value) -> Result<Self, String> {
        let (name, content) = variant(value)?;
        // Struct variants: their members; newtype variants read `content` whole.
        let members = || object(content);
        Ok(match name {
            "IssueCode" => Op::IssueCode {
                code: field(members()?, "code")?,
                consent: field(members()?, "consent")?,
            },
            "ExchangeCode" => Op::ExchangeCode(FromJson::from_json(content)?),
            "Rotate" => Op::Rotate(FromJson::from_json(content)?),
            "FindRefresh" => Op::FindRefresh {
                token: field(members()?, "token")?,
                now: field(members()?, "now")?,
            },
            "RevokeRefresh" => Op::RevokeRefresh {
                token: field(members()?, "token")?,
                client_id: field(members()?, "client_id")?,
            },
            "GetGrant" => Op::GetGrant {
                seq: field(members()?, "seq")?,
                now: field(members()?, "now")?,
            },
            "RevokeGrant" => Op::RevokeGrant {
                seq: field(members()?, "seq")?,
            },
            "RevokeUser" => Op::RevokeUser {
                client_id: field(members()?, "client_id")?,
            },
            "ListGrants" => Op::ListGrants {
                after: field(members()?, "after")?,
                limit: field(members()?, "limit")?,
                now: field(members()?, "now")?,
                client_id: field(members()?, "client_id")?,
                generation: json_codec::field_or_default(members()?, "generation")?,
            },
            "CountAttempt" => Op::CountAttempt {
                max: field(members()?, "max")?,
                window: field(members()?, "window")?,
                now: field(members()?, "now")?,
            },
            "AttemptsExhausted" => Op::AttemptsExhausted {
                max: field(members()?, "max")?,
                window: field(members()?, "window")?,
                now: field(members()?, "now")?,
            },
            "ClearAttempts" => Op::ClearAttempts,
            "ClaimApp" => Op::ClaimApp {
                client_id: field(members()?, "client_id")?,
                submission: field(members()?, "submission")?,
                limit: field(members()?, "limit")?,
                expires_at: field(members()?, "expires_at")?,
            },
            "ReleaseApp" => Op::ReleaseApp {
                client_id: field(members()?, "client_id")?,
            },
            "ClaimSubmission" => Op::ClaimSubmission {
                submission: field(members()?, "submission")?,
                expires_at: field(members()?, "expires_at")?,
            },
            "StartSession" => Op::StartSession {
                hash: field(members()?, "hash")?,
                session: field(members()?, "session")?,
            },
            "FindSession" => Op::FindSession {
                hash: field(members()?, "hash")?,
                now: field(members()?, "now")?,
            },
            "EndSession" => Op::EndSession {
                hash: field(members()?, "hash")?,
            },
            "EndAllSessions" => Op::EndAllSessions {
                now: field(members()?, "now")?,
            },
            "IssueCodeInSession" => Op::IssueCodeInSession {
                hash: field(members()?, "hash")?,
                request: field(members()?, "request")?,
            },
            other => return Err(unknown(other)),
        })
    }
}

impl FromJson for Reply {
    fn from_json(value: &Value) -> Result<Self, String> {
        let (name, content) = variant(value)?;
        Ok(match name {
            "Code" => Reply::Code(FromJson::from_json(content)?),
            "Issued" => Reply::Issued(FromJson::from_json(content)?),
            "Grant" => Reply::Grant(FromJson::from_json(content)?),
            "Flag" => Reply::Flag(FromJson::from_json(content)?),
            "Count" => Reply::Count(FromJson::from_json(content)?),
            "Claim" => Reply::Claim(match content.as_str() {
                Some("Claimed") => crate::state::AppClaim::Claimed,
                Some("Repeat") => crate::state::AppClaim::Repeat,
                Some("Full") => crate::state::AppClaim::Full,
                _ => return Err("unknown app claim".into()),
            }),
            "Grants" => Reply::Grants(FromJson::from_json(content)?),
            "Session" => Reply::Session(FromJson::from_json(content)?),
            "SessionCode" => Reply::SessionCode(FromJson::from_json(content)?),
            "Done" => Reply::Done,
            other => return Err(unknown(other)),
        })
    }
}

impl FromJson for Refusal {
    fn from_json(value: &Value) -> Result<Self, String> {
        let (name, content) = variant(value)?;
        Ok(match name {
            "InvalidCode" => Refusal::InvalidCode,
            // Earlier objects answered it without the grant (content `null`).
            "CodeReplayed" => Refusal::CodeReplayed(FromJson::from_json(content)?),
            "RedirectUriMismatch" => Refusal::RedirectUriMismatch,
            "InvalidVerifier" => Refusal::InvalidVerifier,
            "ConsentWithdrawn" => Refusal::ConsentWithdrawn,
            "NoScopeLeft" => Refusal::NoScopeLeft,
            "InvalidRefreshToken" => Refusal::InvalidRefreshToken,
            "RefreshReused" => Refusal::RefreshReused,
            "ScopeNotGranted" => Refusal::ScopeNotGranted(FromJson::from_json(content)?),
            "ScopeMalformed" => Refusal::ScopeMalformed(FromJson::from_json(content)?),
            "CursorRefused" => Refusal::CursorRefused,
            "ResourceNotGranted" => Refusal::ResourceNotGranted,
            other => return Err(unknown(other)),
        })
    }
}

impl FromJson for StateError {
    fn from_json(value: &Value) -> Result<Self, String> {
        let (name, content) = variant(value)?;
        Ok(match name {
            "Refused" => StateError::Refused(FromJson::from_json(content)?),
            "Unavailable" => StateError::Unavailable(FromJson::from_json(content)?),
            "Failed" => StateError::Failed(FromJson::from_json(content)?),
            other => return Err(unknown(other)),
        })
    }
}

/// Parses an object's answer.
pub fn decode_answer(text: &str) -> Result<super::ops::Answer, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    answer_from_json(&value)
}

/// `Result` as serde writes it: `{"Ok": value}` or `{"Err": error}`.
fn answer_from_json(value: &Value) -> Result<super::ops::Answer, String> {
    match variant(value)? {
        ("Ok", content) => Reply::from_json(content).map(Ok),
        ("Err", content) => StateError::from_json(content).map(Err),
        (name, _) => Err(unknown(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_codec::decode;

    fn grant() -> GrantView {
        GrantView {
            grant_id: "g".into(),
            client_id: "c".into(),
            sub: "s ü".into(),
            scopes: vec!["profile:read".into()],
            created_at: 1,
            expires_at: 2,
            sign_in: Some(crate::state::SignIn {
                auth_time: 1,
                sid: "sid".into(),
                nonce: Some("n\u{0}\"".into()),
                name: Some("Ada".into()),
                picture: None,
                email: None,
                email_verified: false,
            }),
            resource: Some("https://api.example/mcp".into()),
        }
    }

    fn new_code() -> NewCode {
        NewCode {
            sub: "s".into(),
            client_id: "c".into(),
            redirect_uri: "https://a.example/cb".into(),
            scopes: vec!["a".into()],
            code_challenge: "x".into(),
            secret: "y".into(),
            id_nonce: "n".into(),
            now: 5,
            expires_at: 65,
            sign_in: grant().sign_in,
            resource: Some("https://api.example".into()),
        }
    }

    fn session() -> crate::model::Session {
        crate::model::Session {
            sub: "s ü".into(),
            name: Some("Ada".into()),
            email: None,
            picture: Some("https://a.example/p.png".into()),
            csrf_token: "t".into(),
            created_at: 1,
            expires_at: 9,
        }
    }

    /// Every call shape goes out with `Serialize` and comes back equal (compared through
    /// their Debug text: the wire types need no `PartialEq` for this).
    #[test]
    fn every_op_round_trips() {
        let ops = vec![
            Op::IssueCode {
                code: new_code(),
                consent: CodeConsent::Approved {
                    request_id: "r".into(),
                    ttl: 9,
                },
            },
            Op::ExchangeCode(CodeExchange {
                code: "k".into(),
                client_id: "c".into(),
                redirect_uri: None,
                code_verifier: "v".into(),
                allowed_scopes: vec![],
                refresh_secret: "r".into(),
                chain_key: "h".into(),
                refresh_ttl: 3,
                now: 4,
                resource: None,
            }),
            Op::Rotate(RefreshRotation {
                refresh_token: "t".into(),
                client_id: "c".into(),
                requested_scopes: Some(vec!["a".into()]),
                allowed_scopes: vec!["a".into(), "b".into()],
                grace: 0,
                refresh_ttl: 3,
                now: 4,
                attempt: Some("x".into()),
                resource: Some("https://api.example".into()),
            }),
            Op::FindRefresh {
                token: "t".into(),
                now: 1,
            },
            Op::RevokeRefresh {
                token: "t".into(),
                client_id: "c".into(),
            },
            Op::GetGrant { seq: -1, now: 2 },
            Op::RevokeGrant { seq: 7 },
            Op::RevokeUser { client_id: None },
            Op::ListGrants {
                after: Some(3),
                limit: 50,
                now: 9,
                client_id: None,
                generation: 0,
            },
            Op::ListGrants {
                after: None,
                limit: 10,
                now: 9,
                client_id: Some("c".into()),
                generation: 4,
            },
            Op::CountAttempt {
                max: 10,
                window: 900,
                now: 1,
            },
            Op::ClearAttempts,
            Op::StartSession {
                hash: "h".into(),
                session: session(),
            },
            Op::FindSession {
                hash: "h".into(),
                now: 3,
            },
            Op::EndSession { hash: "h".into() },
            Op::EndAllSessions { now: 4 },
            Op::IssueCodeInSession {
                hash: "h".into(),
                request: crate::state::CodeInSession {
                    code: new_code(),
                    nonce: Some("n \u{7f}".into()),
                    signed_in_after: 2,
                },
            },
        ];
        for op in ops {
            let call = Call {
                object: "abc".into(),
                op,
            };
            let text = serde_json::to_string(&call).unwrap();
            let back: Call = decode(&text).unwrap();
            assert_eq!(format!("{back:?}"), format!("{call:?}"), "{text}");
        }
    }

    #[test]
    fn every_answer_round_trips() {
        let answers: Vec<super::super::ops::Answer> = vec![
            Ok(Reply::Code(Some("code".into()))),
            Ok(Reply::Code(None)),
            Ok(Reply::Issued(IssuedGrant {
                grant: grant(),
                refresh_token: "r".into(),
                scopes: vec!["a".into()],
                listing: None,
                evicted: Vec::new(),
            })),
            Ok(Reply::Issued(IssuedGrant {
                grant: grant(),
                refresh_token: "r".into(),
                scopes: vec![],
                listing: Some(3),
                evicted: Vec::new(),
            })),
            Ok(Reply::Grant(Some(grant()))),
            Ok(Reply::Grant(None)),
            Ok(Reply::Flag(true)),
            Ok(Reply::Count(3)),
            Ok(Reply::Grants(Page {
                items: vec![grant(), grant()],
                cursor: Some("5".into()),
            })),
            Ok(Reply::Done),
            Ok(Reply::Session(Some(session()))),
            Ok(Reply::Session(None)),
            Ok(Reply::SessionCode(crate::state::SessionCode {
                session: Some(session()),
                code: Some("c".into()),
            })),
            Ok(Reply::SessionCode(crate::state::SessionCode {
                session: None,
                code: None,
            })),
            Err(StateError::Refused(Refusal::CodeReplayed(Some(
                "o.1".into(),
            )))),
            Err(StateError::Refused(Refusal::CodeReplayed(None))),
            Err(StateError::Refused(Refusal::ScopeNotGranted("x".into()))),
            Err(StateError::Refused(Refusal::CursorRefused)),
            Err(StateError::Refused(Refusal::ResourceNotGranted)),
            Err(StateError::Unavailable("u".into())),
            Err(StateError::Failed("f".into())),
        ];
        for answer in answers {
            let text = serde_json::to_string(&answer).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            let back = answer_from_json(&value).unwrap();
            assert_eq!(format!("{back:?}"), format!("{answer:?}"), "{text}");
        }
    }

    #[test]
    fn malformed_wire_is_an_error_not_a_panic() {
        for text in [
            r#"{"object":"a","op":"Nope"}"#,
            r#"{"object":"a","op":{"GetGrant":{"seq":"1","now":2}}}"#,
            r#"{"object":"a","op":{"A":1,"B":2}}"#,
            r#"{"object":"a","op":{"ExchangeCode":[]}}"#,
            r#"{"op":"ClearAttempts"}"#,
        ] {
            assert!(decode::<Call>(text).is_err(), "{text}");
        }
        for text in [r#"{"Ok":{"Count":-1}}"#, r#"{"Maybe":1}"#, r#"[]"#] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert!(answer_from_json(&value).is_err(), "{text}");
        }
    }
}
