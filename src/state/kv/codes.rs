//! Codes on KV: issue (with consent), and redemption that creates the grant within the cap.

use super::epoch;
use super::grants::{self, new_grant};
use super::records::KvCode;
use crate::model::Consent;
use crate::oauth::grants::rules;
use crate::state::{
    ids, CodeConsent, CodeExchange, IssuedGrant, NewCode, Refusal, StateResult,
    MAX_GRANTS_PER_CLIENT,
};
use crate::store::{get_json, keys, put_json, ttl_until, Store};
use crate::token::opaque;

pub async fn issue(
    store: &impl Store,
    code: NewCode,
    consent: CodeConsent,
) -> StateResult<Option<String>> {
    let consent_key = keys::consent(&code.sub, &code.client_id);
    // A consent given before the user's last revoke-all does not count; what this request
    // records is stamped after that revocation (it has read it).
    let epoch = epoch::read(store, &code.sub).await?;
    let now = epoch::stamp(epoch, code.now);
    let remembered = get_json::<Consent>(store, &consent_key)
        .await?
        .filter(|c| c.granted_at > epoch);
    // `granted_at` is when this consent began; merging keeps it (see `exchange`).
    let since = remembered.as_ref().map_or(now, |c| c.granted_at);
    let consented = remembered.map(|c| c.scopes).unwrap_or_default();
    match consent {
        CodeConsent::Remembered => {
            if !rules::covers(&consented, &code.scopes) {
                return Ok(None);
            }
        }
        CodeConsent::Approved { request_id, ttl } => {
            // One code per consent form: its code is derived from the request id
            // (`oauth::code`), so submissions in the same instant write the same code, and a
            // retry whose first answer was lost gets it again while unused. A first attempt
            // that failed after marking the form answered but before writing the code is
            // completed by the retry.
            let answered = keys::answered_request(&request_id);
            if store.get(&answered).await?.is_some() {
                let key = keys::code(&opaque::hash(&code.secret));
                if let Some(issued) = get_json::<KvCode>(store, &key).await? {
                    let unused = issued.expires_at > code.now
                        && store
                            .get(&keys::grant_revoked(&issued.grant_id))
                            .await?
                            .is_none()
                        && grants::read(store, &issued.grant_id).await?.is_none();
                    return Ok(unused.then_some(code.secret));
                }
            } else {
                store
                    .put(&answered, "", Some(crate::oauth::session::FORM_TTL))
                    .await?;
            }
            let merged = rules::merged(&consented, &code.scopes);
            if merged != consented {
                let record = Consent {
                    scopes: merged,
                    granted_at: since,
                };
                put_json(store, &consent_key, &record, Some(ttl)).await?;
            }
        }
    }
    let record = KvCode {
        grant_id: ids::kv_grant_id(&code.client_id, &code.sub, code.now, &code.id_nonce),
        issued_at: now,
        sub: code.sub,
        client_id: code.client_id,
        redirect_uri: code.redirect_uri,
        scopes: code.scopes,
        code_challenge: code.code_challenge,
        expires_at: code.expires_at,
        sign_in: code.sign_in,
        resource: code.resource,
    };
    let key = keys::code(&opaque::hash(&code.secret));
    let ttl = ttl_until(record.expires_at, code.now);
    put_json(store, &key, &record, Some(ttl)).await?;
    Ok(Some(code.secret))
}

pub async fn exchange(store: &impl Store, x: CodeExchange) -> StateResult<IssuedGrant> {
    if !ids::is_token_text(&x.code) {
        return Err(Refusal::InvalidCode.into());
    }
    let code = get_json::<KvCode>(store, &keys::code(&opaque::hash(&x.code)))
        .await?
        .filter(|c| c.expires_at > x.now && c.client_id == x.client_id)
        .ok_or(Refusal::InvalidCode)?;
    // Used before: its grant exists or was revoked. Revoke what the first use issued.
    if store
        .get(&keys::grant_revoked(&code.grant_id))
        .await?
        .is_some()
    {
        // Already consumed or revoked: nothing more to do here (the edge marker is the
        // caller's, and writing it again is harmless).
        return Err(Refusal::CodeReplayed(Some(code.grant_id.clone())).into());
    }
    if let Some(first) = grants::read(store, &code.grant_id).await? {
        if let Some(issued) = retried_exchange(store, &code, first.clone(), &x).await? {
            return Ok(issued);
        }
        grants::revoke(store, &first).await?;
        return Err(Refusal::CodeReplayed(Some(first.grant_id.clone())).into());
    }
    if let Err(refusal) = rules::check_code_use(
        &code.redirect_uri,
        &code.code_challenge,
        code.resource.as_deref(),
        &x,
    ) {
        // Consumed: the marker makes any later use a replay.
        grants::mark_revoked(store, &code.grant_id).await?;
        return Err(refusal.into());
    }
    let consent = get_json::<Consent>(store, &keys::consent(&code.sub, &code.client_id)).await?;
    // Withdrawn since the code was issued: a consent that began after the code (approved
    // again later) does not revive it, nor does one given before a revoke-all (the code,
    // issued after its consent began, is then older than the revocation too).
    let epoch = epoch::read(store, &code.sub).await?;
    let covered = consent.is_some_and(|c| {
        c.granted_at > epoch
            && c.granted_at <= code.issued_at
            && rules::covers(&c.scopes, &code.scopes)
    });
    if !covered {
        return Err(Refusal::ConsentWithdrawn.into());
    }
    let scopes = rules::still_allowed(&code.scopes, &x.allowed_scopes)?;
    let evicted = make_room(store, &code.sub, &code.client_id).await?;
    let created_at = epoch::stamp(epoch, x.now);
    let (grant, refresh_token) = new_grant(&code, scopes.clone(), &x, created_at);
    grants::put(store, &grant, x.refresh_ttl, x.now).await?;
    Ok(IssuedGrant {
        grant: grant.view(),
        refresh_token,
        scopes,
        listing: None,
        evicted,
    })
}

/// The code's grant exists: a retry by the party that started the flow (same client and
/// `redirect_uri`, a matching `code_verifier`, RFC 7636 §1) while the grant's first refresh
/// token was never used is the retry of an exchange whose answer was lost, and gets the same
/// response (the first refresh token is derived from the code; should the signing key have
/// rotated in between, this call's token replaces the first). Anything else is a replay.
async fn retried_exchange(
    store: &impl Store,
    code: &KvCode,
    mut grant: super::records::KvGrant,
    x: &CodeExchange,
) -> StateResult<Option<IssuedGrant>> {
    if rules::check_code_use(
        &code.redirect_uri,
        &code.code_challenge,
        code.resource.as_deref(),
        x,
    )
    .is_err()
        || grant.expires_at <= x.now
        || store
            .get(&keys::refresh_generation(&grant.grant_id, 1))
            .await?
            .is_some()
    {
        return Ok(None);
    }
    let hash = opaque::hash(&x.refresh_secret);
    if grant.refresh_hash != hash {
        grant.refresh_hash = hash;
        grants::put(store, &grant, x.refresh_ttl, x.now).await?;
    }
    let scopes = grant.scopes.clone();
    Ok(Some(IssuedGrant {
        refresh_token: ids::refresh_token(&grant.grant_id, 0, &x.refresh_secret),
        grant: grant.view(),
        scopes,
        listing: None,
        evicted: Vec::new(),
    }))
}

/// Revokes the oldest of (`sub`, `client_id`)'s grants beyond the cap: one KV list of the
/// pair's `grant:` keys, whose ids are time-ordered under the pair's prefix (a total order).
async fn make_room(store: &impl Store, sub: &str, client_id: &str) -> StateResult<Vec<String>> {
    // The cap keeps this at most a few keys (a racing flow may add one or two).
    let page = store
        .list(&grants::pair_prefix(client_id, sub), None, 1000)
        .await?;
    let excess = (page.keys.len() + 1).saturating_sub(MAX_GRANTS_PER_CLIENT);
    let mut evicted = Vec::with_capacity(excess);
    for key in page.keys.iter().take(excess) {
        let id = key.strip_prefix("grant:").unwrap_or("");
        grants::revoke_by_id(store, id).await?;
        evicted.push(id.to_string());
    }
    Ok(evicted)
}
