//! Codes inside the user's object: issue (consent merged in the same step) and redemption
//! (marked used, checked, grant created within the cap, all in one synchronous run).

use super::grants::{cap_for_client, grant_id, insert_grant, next_listing};
use super::{exec, opt_text, scopes_of, scopes_text, sign_in_of, sign_in_value, text_or_null};
use crate::oauth::grants::rules;
use crate::state::durable::sql::Sql;
use crate::state::{ids, CodeConsent, CodeExchange, IssuedGrant, NewCode, Refusal, StateError};
use crate::token::opaque;

/// Deletes what has expired, so an object's tables stay as small as its live state.
fn sweep(db: &impl Sql, now: u64) -> Result<(), StateError> {
    for table in ["codes", "grants", "consents", "answered_requests"] {
        let sql = format!("DELETE FROM {table} WHERE expires_at <= ?");
        exec(db, &sql, &[now.into()])?;
    }
    Ok(())
}

pub fn consented(db: &impl Sql, client_id: &str, now: u64) -> Result<Vec<String>, StateError> {
    let rows = exec(
        db,
        "SELECT scopes FROM consents WHERE client_id = ? AND expires_at > ?",
        &[client_id.into(), now.into()],
    )?;
    Ok(rows.first().map(|r| scopes_of(&r[0])).unwrap_or_default())
}

pub fn issue(
    db: &impl Sql,
    object: &str,
    code: NewCode,
    consent: CodeConsent,
) -> Result<Option<String>, StateError> {
    sweep(db, code.now)?;
    let remembered = consented(db, &code.client_id, code.now)?;
    match consent {
        CodeConsent::Remembered => {
            if !rules::covers(&remembered, &code.scopes) {
                return Ok(None);
            }
        }
        CodeConsent::Approved { request_id, ttl } => {
            // One code per consent form, however often it is submitted. The form's code is
            // derived from its request id (`oauth::code`): a retry whose first answer was lost
            // gets the same code while it is unused; once used, the form is answered.
            let answered = exec(
                db,
                "SELECT 1 FROM answered_requests WHERE request_id = ?",
                &[request_id.as_str().into()],
            )?;
            if !answered.is_empty() {
                let text = format!("{object}.{}", code.secret);
                let unused = exec(
                    db,
                    "SELECT 1 FROM codes WHERE hash = ? AND used = 0 AND expires_at > ?",
                    &[opaque::hash(&text).into(), code.now.into()],
                )?;
                return Ok((!unused.is_empty()).then_some(text));
            }
            exec(
                db,
                "INSERT INTO answered_requests (request_id, expires_at) VALUES (?, ?)",
                &[
                    request_id.into(),
                    (code.now + crate::oauth::session::FORM_TTL).into(),
                ],
            )?;
            let merged = rules::merged(&remembered, &code.scopes);
            exec(
                db,
                "INSERT OR REPLACE INTO consents (client_id, scopes, expires_at) VALUES (?, ?, ?)",
                &[
                    code.client_id.as_str().into(),
                    scopes_text(&merged),
                    (code.now + ttl).into(),
                ],
            )?;
        }
    }
    let text = format!("{object}.{}", code.secret);
    exec(
        db,
        "INSERT INTO codes (hash, sub, client_id, redirect_uri, scopes, challenge, expires_at, \
         sign_in, resource) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            opaque::hash(&text).into(),
            code.sub.into(),
            code.client_id.into(),
            code.redirect_uri.into(),
            scopes_text(&code.scopes),
            code.code_challenge.into(),
            code.expires_at.into(),
            sign_in_value(code.sign_in.as_ref()),
            text_or_null(code.resource.as_deref()),
        ],
    )?;
    Ok(Some(text))
}

/// A used code presented again by its own client with the same `redirect_uri` and a
/// `code_verifier` that matches (so by the party that started the flow: PKCE, RFC 7636 §1),
/// while the grant it created is live and its first refresh token has never been used: the
/// retry of an exchange whose answer was lost. It gets the same response: the first refresh
/// token is derived from the code (`oauth::code::derived_secret`), so it is the same one
/// (should the signing key have rotated in between, this call's token replaces the first,
/// which no client used). Anything else is a replay (`None`), refused and revoked.
fn retried_exchange(
    db: &impl Sql,
    object: &str,
    code: &[crate::state::durable::sql::SqlValue],
    x: &CodeExchange,
) -> Result<Option<IssuedGrant>, StateError> {
    let (redirect_uri, challenge, seq) = (code[2].text(), code[4].text(), code[7].int());
    let resource = opt_text(&code[9]);
    if code[6].int() != 1
        || rules::check_code_use(&redirect_uri, &challenge, resource.as_deref(), x).is_err()
    {
        return Ok(None);
    }
    let Some(grant) = super::grants::unused_grant(db, object, seq, x.now)? else {
        return Ok(None);
    };
    exec(
        db,
        "UPDATE grants SET refresh_hash = ? WHERE seq = ? AND refresh_hash != ?",
        &[
            opaque::hash(&x.refresh_secret).into(),
            seq.into(),
            opaque::hash(&x.refresh_secret).into(),
        ],
    )?;
    // The first answer may not have reached the Worker, which writes the listing entry.
    let listing = super::grants::only_grant_listing(db, &grant.client_id, x.now)?;
    let scopes = grant.scopes.clone();
    Ok(Some(IssuedGrant {
        refresh_token: ids::refresh_token(&grant.grant_id, 0, &x.refresh_secret),
        grant,
        scopes,
        listing,
        evicted: Vec::new(),
    }))
}

/// Redeems a code. When the user had no other live grant of this client, `listing` is the
/// new generation of their entry in the client's listing, for the Worker to write.
pub fn exchange(db: &impl Sql, object: &str, x: CodeExchange) -> Result<IssuedGrant, StateError> {
    let hash = opaque::hash(&x.code);
    let rows = exec(
        db,
        "SELECT sub, client_id, redirect_uri, scopes, challenge, expires_at, used, grant_seq, \
         sign_in, resource FROM codes WHERE hash = ?",
        &[hash.as_str().into()],
    )?;
    let Some(row) = rows.into_iter().next() else {
        return Err(Refusal::InvalidCode.into());
    };
    let (sub, client_id, redirect_uri) = (row[0].text(), row[1].text(), row[2].text());
    if row[5].int() <= x.now as i64 || client_id != x.client_id {
        return Err(Refusal::InvalidCode.into());
    }
    if row[6].int() == 2 {
        return Err(Refusal::ConsentWithdrawn.into());
    }
    if row[6].int() != 0 {
        if let Some(issued) = retried_exchange(db, object, &row, &x)? {
            return Ok(issued);
        }
        // RFC 6749 §4.1.2: revoke what the first redemption issued.
        exec(db, "DELETE FROM grants WHERE seq = ?", &[row[7].clone()])?;
        // A code consumed without a grant (wrong verifier) has none to name.
        let revoked = match &row[7] {
            crate::state::durable::sql::SqlValue::Int(seq) => Some(grant_id(object, *seq)),
            _ => None,
        };
        return Err(Refusal::CodeReplayed(revoked).into());
    }
    exec(
        db,
        "UPDATE codes SET used = 1 WHERE hash = ?",
        &[hash.as_str().into()],
    )?;
    let resource = opt_text(&row[9]);
    rules::check_code_use(&redirect_uri, &row[4].text(), resource.as_deref(), &x)?;
    let scopes = scopes_of(&row[3]);
    if !rules::covers(&consented(db, &client_id, x.now)?, &scopes) {
        return Err(Refusal::ConsentWithdrawn.into());
    }
    let scopes = rules::still_allowed(&scopes, &x.allowed_scopes)?;
    let (live, evicted) = cap_for_client(db, &client_id, x.now)?;
    let listing = match live {
        0 => Some(next_listing(db, &client_id)?),
        _ => None,
    };
    let sign_in = sign_in_of(&row[8]);
    let seq = insert_grant(
        db,
        &client_id,
        &sub,
        &scopes,
        sign_in.as_ref(),
        resource.as_deref(),
        &x,
    )?;
    exec(
        db,
        "UPDATE codes SET grant_seq = ? WHERE hash = ?",
        &[seq.into(), hash.into()],
    )?;
    let grant_id = grant_id(object, seq);
    let refresh_token = ids::refresh_token(&grant_id, 0, &x.refresh_secret);
    Ok(IssuedGrant {
        grant: crate::state::GrantView {
            grant_id,
            client_id,
            sub,
            scopes: scopes.clone(),
            created_at: x.now,
            expires_at: x.now + x.refresh_ttl,
            sign_in,
            resource,
        },
        refresh_token,
        scopes,
        listing,
        evicted: evicted
            .into_iter()
            .map(|seq| super::grants::grant_id(object, seq))
            .collect(),
    })
}
