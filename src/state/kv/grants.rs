//! Grants on KV: one key per grant, revocation (marker first), listings.
//!
//! A grant is the single key `grant:{id}`. Its id starts with its client's tag and its
//! (client, user) pair's tag (`ids::kv_grant_id`), so prefix listings of `grant:` give a
//! client's grants (admin) and a user's grants with one client (the cap, connected apps)
//! without an index key per grant. A user's clients are `user_client:` keys, written about
//! once per grant lifetime (`ensure_listed`).

use super::epoch;
use super::records::{KvCode, KvGrant};
use crate::state::{ids, CodeExchange, GrantView, Page, Refusal, StateResult};
use crate::store::{get_json, keys, list_all, put_json, ttl_until, Store};
use crate::token::opaque;

/// The grant a redeemed code creates at `created_at`, with its first refresh token.
pub fn new_grant(
    code: &KvCode,
    scopes: Vec<String>,
    x: &CodeExchange,
    created_at: u64,
) -> (KvGrant, String) {
    let token = ids::refresh_token(&code.grant_id, 0, &x.refresh_secret);
    let grant = KvGrant {
        grant_id: code.grant_id.clone(),
        client_id: code.client_id.clone(),
        sub: code.sub.clone(),
        scopes,
        created_at,
        expires_at: x.now + x.refresh_ttl,
        refresh_hash: opaque::hash(&x.refresh_secret),
        chain_key: x.chain_key.clone(),
        sign_in: code.sign_in.clone(),
        resource: code.resource.clone(),
    };
    (grant, token)
}

/// The grant record, revoked or not (for replay detection).
pub async fn read(store: &impl Store, grant_id: &str) -> StateResult<Option<KvGrant>> {
    if !ids::is_token_text(grant_id) {
        return Ok(None);
    }
    Ok(get_json(store, &keys::grant(grant_id)).await?)
}

/// The grant if it is live: present, unexpired, not marked revoked, and created after its
/// user's last revoke-all (`epoch`).
pub async fn live(store: &impl Store, grant_id: &str, now: u64) -> StateResult<Option<KvGrant>> {
    let Some(grant) = read(store, grant_id).await?.filter(|g| g.expires_at > now) else {
        return Ok(None);
    };
    if store.get(&keys::grant_revoked(grant_id)).await?.is_some() {
        return Ok(None);
    }
    if grant.created_at <= epoch::read(store, &grant.sub).await? {
        return Ok(None);
    }
    Ok(Some(grant))
}

/// Writes (or, extending it, rewrites) the grant's one key; its user's `user_client:` entry
/// first, so that a refused write leaves nothing behind.
pub async fn put(store: &impl Store, grant: &KvGrant, lifetime: u64, now: u64) -> StateResult<()> {
    ensure_listed(store, grant, lifetime, now).await?;
    let ttl = ttl_until(grant.expires_at, now);
    put_json(store, &keys::grant(&grant.grant_id), grant, Some(ttl)).await?;
    Ok(())
}

/// Keeps `user_client:{sub}:{client}` alive at least as long as `grant`: the user's listings
/// and revoke-all reach the grant through it. Renewed for two lifetimes when too short, so a
/// returning user's flows do not write it.
async fn ensure_listed(
    store: &impl Store,
    grant: &KvGrant,
    lifetime: u64,
    now: u64,
) -> StateResult<()> {
    let key = keys::user_client(&grant.sub, &grant.client_id);
    let until = |v: Option<String>| v.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    if until(store.get(&key).await?) >= grant.expires_at {
        return Ok(());
    }
    let renewed = grant.expires_at + lifetime;
    let ttl = Some(ttl_until(renewed, now));
    if let Err(e) = store.put(&key, &renewed.to_string(), ttl).await {
        // Another flow of this user and client renewed it this second (KV refuses a second
        // write within a second): enough if it covers this grant.
        if until(store.get(&key).await?) < grant.expires_at {
            return Err(e.into());
        }
    }
    Ok(())
}

/// How long a revocation marker lives: longer than any grant a refresh racing the revocation
/// could write back (`REFRESH_TOKEN_TTL` is at most 365 days), so the grant cannot outlive it.
pub const MARKER_TTL: u64 = 366 * 86_400;

/// The marker that makes a revocation final (see `keys::grant_revoked`).
pub async fn mark_revoked(store: &impl Store, grant_id: &str) -> StateResult<()> {
    store
        .put(&keys::grant_revoked(grant_id), "", Some(MARKER_TTL))
        .await?;
    Ok(())
}

/// Revocation: the marker first (from then on no use succeeds), then the record goes.
pub async fn revoke(store: &impl Store, grant: &KvGrant) -> StateResult<()> {
    mark_revoked(store, &grant.grant_id).await?;
    // Tidying only: the marker already decided. KV refuses it when the record was written
    // this same second (just created or extended); the dead record then waits for its TTL
    // or for the cap to evict it, and listings skip it.
    let _ = store.delete(&keys::grant(&grant.grant_id)).await;
    Ok(())
}

/// Revokes a grant by id; `false` when there is none.
pub async fn revoke_by_id(store: &impl Store, grant_id: &str) -> StateResult<bool> {
    match read(store, grant_id).await? {
        Some(grant) => {
            revoke(store, &grant).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// The `grant:` prefix of (`client_id`, `sub`)'s grants; keys under it end in the grant id.
pub fn pair_prefix(client_id: &str, sub: &str) -> String {
    keys::grant(&ids::kv_pair_prefix(client_id, sub))
}

fn grant_id_of(key: &str) -> &str {
    key.strip_prefix("grant:").unwrap_or("")
}

/// How many of the user's clients a revoke-all also tidies (marks their grants revoked, so
/// they leave listings and count): at most ~10 grants each, ~31 operations per client.
const TIDIED_CLIENTS: usize = 10;

/// Revokes `sub`'s grants (to one client or all) and forgets the matching consents.
///
/// One client: its consent, then each of its grants (bounded by the cap). All clients: one
/// write, the user's epoch (`epoch`), which kills every grant, code and consent made so far
/// however many clients the user has; then, bounded, the grants of the first
/// [`TIDIED_CLIENTS`] clients are marked revoked too (the count is of those).
pub async fn revoke_user(
    store: &impl Store,
    sub: &str,
    client_id: Option<&str>,
    now: u64,
) -> StateResult<usize> {
    // Consent first: a code issued before this cannot create a grant after it.
    let clients = match client_id {
        Some(c) => {
            store.delete(&keys::consent(sub, c)).await?;
            vec![c.to_string()]
        }
        None => {
            epoch::advance(store, sub, now).await?;
            let prefix = keys::user_clients_prefix(sub);
            let listed = store.list(&prefix, None, TIDIED_CLIENTS).await?;
            listed
                .keys
                .iter()
                .map(|k| k[prefix.len()..].to_string())
                .collect()
        }
    };
    // `user_client:` entries stay until they expire: a grant created by an exchange racing
    // this stays reachable by the next revocation.
    let mut revoked = 0;
    for client in clients {
        for key in list_all(store, &pair_prefix(&client, sub)).await? {
            let grant = read(store, grant_id_of(&key)).await?;
            // The tags select the pair; the record confirms it.
            if let Some(g) = grant.filter(|g| g.sub == sub && g.client_id == client) {
                revoke(store, &g).await?;
                revoked += 1;
            }
        }
    }
    Ok(revoked)
}

/// Most clients one page of a user's listing visits (one KV list each, and a read or two
/// per grant): with at most ~10 grants per client a page stays far below the Workers limit
/// of 1000 operations per request, however many clients the user has.
const CLIENTS_PER_PAGE: usize = 20;
/// The `user_client:` listing's page size; cursors point into such a page.
const CLIENT_LIST_PAGE: usize = 100;

/// Where a user's listing goes on: the `user_client:` page (its KV cursor), the client's
/// index in it, and how many of that client's grant keys were already passed.
/// Written `{index}.{skip}` or `{index}.{skip}.{KV cursor}`.
struct UserCursor {
    kv: Option<String>,
    index: usize,
    skip: usize,
}

impl UserCursor {
    fn parse(cursor: Option<&str>) -> Option<UserCursor> {
        let Some(text) = cursor else {
            return Some(UserCursor {
                kv: None,
                index: 0,
                skip: 0,
            });
        };
        let mut parts = text.splitn(3, '.');
        let number = |p: Option<&str>| {
            p.and_then(ids::canonical_u64)
                .and_then(|n| usize::try_from(n).ok())
        };
        Some(UserCursor {
            index: number(parts.next())?,
            skip: number(parts.next())?,
            kv: parts.next().map(str::to_string),
        })
    }

    fn text(&self) -> String {
        match &self.kv {
            Some(kv) => format!("{}.{}.{kv}", self.index, self.skip),
            None => format!("{}.{}", self.index, self.skip),
        }
    }
}

/// A user's live grants, client by client (in client id order), each client's oldest first.
/// A page may hold fewer than `limit` (revoked or expired entries are skipped); `cursor`
/// goes on. A cursor this listing did not write is refused.
pub async fn list_for_user(
    store: &impl Store,
    sub: &str,
    cursor: Option<&str>,
    limit: usize,
    now: u64,
) -> StateResult<Page<GrantView>> {
    let mut items = Vec::new();
    let Some(mut at) = UserCursor::parse(cursor) else {
        return Err(Refusal::CursorRefused.into());
    };
    let prefix = keys::user_clients_prefix(sub);
    let clients = store
        .list(&prefix, at.kv.as_deref(), CLIENT_LIST_PAGE)
        .await?;
    let mut visited = 0;
    while let Some(key) = clients.keys.get(at.index) {
        if items.len() >= limit.max(1) || visited == CLIENTS_PER_PAGE {
            return Ok(Page {
                items,
                cursor: Some(at.text()),
            });
        }
        visited += 1;
        let client = &key[prefix.len()..];
        let grants = store.list(&pair_prefix(client, sub), None, 1000).await?;
        for key in grants.keys.iter().skip(at.skip) {
            if items.len() >= limit.max(1) {
                return Ok(Page {
                    items,
                    cursor: Some(at.text()),
                });
            }
            at.skip += 1;
            let grant = live(store, grant_id_of(key), now).await?;
            if let Some(g) = grant.filter(|g| g.sub == sub && g.client_id == client) {
                items.push(g.view());
            }
        }
        at.index += 1;
        at.skip = 0;
    }
    let cursor = clients.cursor.map(|kv| {
        UserCursor {
            kv: Some(kv),
            index: 0,
            skip: 0,
        }
        .text()
    });
    Ok(Page { items, cursor })
}

/// A client's live grants, one KV list page of `grant:{client tag}` at a time. A page may
/// hold fewer than `limit` (revoked or expired entries are skipped); `cursor` goes on.
pub async fn list_for_client(
    store: &impl Store,
    client_id: &str,
    cursor: Option<&str>,
    limit: usize,
    now: u64,
) -> StateResult<Page<GrantView>> {
    let prefix = keys::grant(&ids::kv_client_tag(client_id));
    let page = store.list(&prefix, cursor, limit).await?;
    let mut items = Vec::new();
    for key in &page.keys {
        let grant = live(store, grant_id_of(key), now).await?;
        if let Some(g) = grant.filter(|g| g.client_id == client_id) {
            items.push(g.view());
        }
    }
    Ok(Page {
        items,
        cursor: page.cursor,
    })
}
