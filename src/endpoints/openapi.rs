//! `GET /openapi.json`: OpenAPI 3.1 description of every endpoint. The document is a static
//! file (`openapi.json` beside this one, embedded at build time: far smaller in the bundle
//! than code building it); only the issuer is filled in at serve time. `tests/openapi.rs`
//! validates it and checks it against `router::ALL_ROUTES`.

use crate::app::Ctx;
use crate::crypto::Crypto;
use crate::http::Response;
use crate::store::Store;

pub const DOCUMENT: &str = include_str!("openapi.json");
/// The OpenID Connect endpoints' paths and schemas (issue 15), kept in their own file and
/// merged into [`DOCUMENT`] when served: `{"paths", "schemas", "securitySchemes"}`, and the
/// authorization request's OpenID Connect parameters (`authorize_parameters`) and properties
/// of existing schemas (`schema_properties`).
pub const OIDC_PART: &str = include_str!("openapi_oidc.json");
/// Placeholder for the issuer in [`DOCUMENT`] (a JSON string value, so it is JSON-escaped).
pub const ISSUER_PLACEHOLDER: &str = "__ISSUER__";

pub fn render(issuer: &str) -> String {
    // The issuer is a validated URL; escape it as a JSON string body all the same.
    let quoted = serde_json::to_string(issuer).unwrap_or_default();
    let inner = quoted.trim_matches('"');
    with_oidc_part(DOCUMENT).replace(ISSUER_PLACEHOLDER, inner)
}

/// [`DOCUMENT`] with the members of [`OIDC_PART`] added to its `paths` and its schemas.
fn with_oidc_part(document: &str) -> String {
    use serde_json::Value;
    let (Ok(mut doc), Ok(part)) = (
        serde_json::from_str::<Value>(document),
        serde_json::from_str::<Value>(OIDC_PART),
    ) else {
        return document.to_string();
    };
    for (at, from) in [
        (&["paths"][..], &part["paths"]),
        (&["components", "schemas"][..], &part["schemas"]),
        (
            &["components", "securitySchemes"][..],
            &part["securitySchemes"],
        ),
    ] {
        let target = at.iter().try_fold(&mut doc, |v, k| v.get_mut(*k));
        if let (Some(Value::Object(target)), Value::Object(from)) = (target, from) {
            target.extend(from.clone());
        }
    }
    // The OpenID Connect parameters of the authorization and logout requests replace or join
    // their own; the logout's relying-party answers join its responses.
    for (member, path) in [
        ("authorize_parameters", "/paths/~1api~1oauth~1authorize/get"),
        ("logout_parameters", "/paths/~1api~1oauth~1logout/get"),
    ] {
        let (Some(Value::Object(op)), Value::Array(added)) = (doc.pointer_mut(path), &part[member])
        else {
            continue;
        };
        let list = op
            .entry("parameters")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            for p in added {
                list.retain(|q| q["name"] != p["name"]);
                list.push(p.clone());
            }
        }
    }
    let responses = doc.pointer_mut("/paths/~1api~1oauth~1logout/get/responses");
    if let (Some(Value::Object(responses)), Value::Object(added)) =
        (responses, &part["logout_responses"])
    {
        responses.extend(added.clone());
    }
    // Properties added to the document's own schemas (client metadata, accounts).
    if let Value::Object(added) = &part["schema_properties"] {
        for (schema, props) in added {
            let path = format!("/components/schemas/{schema}/properties");
            if let (Some(Value::Object(target)), Value::Object(props)) =
                (doc.pointer_mut(&path), props)
            {
                target.extend(props.clone());
            }
        }
    }
    // The token response may carry an ID token.
    let token = doc.pointer_mut("/components/schemas/TokenResponse/properties");
    if let Some(Value::Object(props)) = token {
        props.insert(
            "id_token".into(),
            part["schemas"]["TokenResponseIdToken"]["properties"]["id_token"].clone(),
        );
    }
    doc.to_string()
}

pub fn get<S: Store, C: Crypto>(ctx: &Ctx<'_, S, C>) -> Response {
    Response::new(200)
        .with_header("content-type", "application/json")
        .with_header("access-control-allow-origin", "*")
        .with_header("cache-control", "public, max-age=300")
        .with_body(render(&ctx.config.issuer).into_bytes())
}
