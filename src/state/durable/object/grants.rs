//! Grants inside the user's object: creation within the cap, rotation, revocation, listing.
//! `seq` (AUTOINCREMENT, never reused) is the total order "oldest first" refers to.

use super::{exec, first_int, opt_text, scopes_of, scopes_text, text_or_null};
use crate::oauth::grants::rules;
use crate::state::durable::sql::{Row, Sql, SqlValue};
use crate::state::ids::{self, standing, Standing};
use crate::state::{
    CodeExchange, GrantView, IssuedGrant, Page, RefreshRotation, Refusal, StateError,
    MAX_GRANTS_PER_CLIENT,
};
use crate::token::opaque;

const COLUMNS: &str = "seq, client_id, sub, scopes, created_at, expires_at, refresh_hash, \
                       generation, rotated_at, chain_key, sign_in, resource";

/// A grant's id outside the object: the object's id, then its sequence number.
pub fn grant_id(object: &str, seq: i64) -> String {
    format!("{object}.{seq}")
}

/// The sequence number of a grant id of this object.
pub fn seq_of(object: &str, grant_id: &str) -> Option<i64> {
    ids::durable_grant(grant_id)
        .filter(|(o, _)| *o == object)
        .map(|(_, seq)| seq)
}

fn view(object: &str, row: &Row) -> GrantView {
    GrantView {
        grant_id: grant_id(object, row[0].int()),
        client_id: row[1].text(),
        sub: row[2].text(),
        scopes: scopes_of(&row[3]),
        created_at: row[4].int() as u64,
        expires_at: row[5].int() as u64,
        sign_in: super::sign_in_of(&row[10]),
        resource: opt_text(&row[11]),
    }
}

fn live_row(db: &impl Sql, seq: i64, now: u64) -> Result<Option<Row>, StateError> {
    let rows = exec(
        db,
        &format!("SELECT {COLUMNS} FROM grants WHERE seq = ? AND expires_at > ?"),
        &[seq.into(), now.into()],
    )?;
    Ok(rows.into_iter().next())
}

/// Grant `seq` if it is live and its first refresh token was never used (generation 0).
pub fn unused_grant(
    db: &impl Sql,
    object: &str,
    seq: i64,
    now: u64,
) -> Result<Option<GrantView>, StateError> {
    Ok(live_row(db, seq, now)?
        .filter(|row| row[7].int() == 0)
        .map(|row| view(object, &row)))
}

/// The current generation of the user's entry in `client_id`'s listing, when their one live
/// grant of it is the one the entry was made for.
pub fn only_grant_listing(
    db: &impl Sql,
    client_id: &str,
    now: u64,
) -> Result<Option<i64>, StateError> {
    let live = exec(
        db,
        "SELECT COUNT(*) FROM grants WHERE client_id = ? AND expires_at > ?",
        &[client_id.into(), now.into()],
    )?;
    if first_int(&live) != 1 {
        return Ok(None);
    }
    let rows = exec(
        db,
        "SELECT generation FROM listings WHERE client_id = ?",
        &[client_id.into()],
    )?;
    Ok(rows.first().map(|_| first_int(&rows)))
}

/// Revokes the oldest of this client's grants so one more fits under the cap; returns how
/// many live grants of the client there were, and the sequence numbers of those revoked.
pub fn cap_for_client(
    db: &impl Sql,
    client_id: &str,
    now: u64,
) -> Result<(usize, Vec<i64>), StateError> {
    let live = exec(
        db,
        "SELECT seq FROM grants WHERE client_id = ? AND expires_at > ? ORDER BY seq",
        &[client_id.into(), now.into()],
    )?;
    let excess = (live.len() + 1).saturating_sub(MAX_GRANTS_PER_CLIENT);
    let mut evicted = Vec::with_capacity(excess);
    for row in live.iter().take(excess) {
        exec(db, "DELETE FROM grants WHERE seq = ?", &[row[0].clone()])?;
        evicted.push(row[0].int());
    }
    Ok((live.len(), evicted))
}

/// A new generation of the user's entry in `client_id`'s listing. Each generation is its own
/// KV key, written once: pruning an old one never races the write of a new one.
pub fn next_listing(db: &impl Sql, client_id: &str) -> Result<i64, StateError> {
    exec(
        db,
        "INSERT INTO listings (client_id, generation) VALUES (?, 1) \
         ON CONFLICT (client_id) DO UPDATE SET generation = generation + 1",
        &[client_id.into()],
    )?;
    let rows = exec(
        db,
        "SELECT generation FROM listings WHERE client_id = ?",
        &[client_id.into()],
    )?;
    Ok(first_int(&rows))
}

/// The client's live grants for its listing entry of `generation`; none when that entry is
/// not the current one (the listing then prunes it).
pub fn list_for_listing(
    db: &impl Sql,
    object: &str,
    client_id: &str,
    generation: i64,
    limit: usize,
    now: u64,
) -> Result<Page<GrantView>, StateError> {
    let rows = exec(
        db,
        "SELECT generation FROM listings WHERE client_id = ?",
        &[client_id.into()],
    )?;
    if rows.is_empty() || first_int(&rows) != generation {
        return Ok(Page {
            items: vec![],
            cursor: None,
        });
    }
    list(db, object, None, limit, now, Some(client_id))
}

pub fn insert_grant(
    db: &impl Sql,
    client_id: &str,
    sub: &str,
    scopes: &[String],
    sign_in: Option<&crate::state::SignIn>,
    resource: Option<&str>,
    x: &CodeExchange,
) -> Result<i64, StateError> {
    exec(
        db,
        "INSERT INTO grants (client_id, sub, scopes, created_at, expires_at, refresh_hash, \
         generation, rotated_at, chain_key, sign_in, resource) \
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
        &[
            client_id.into(),
            sub.into(),
            scopes_text(scopes),
            x.now.into(),
            (x.now + x.refresh_ttl).into(),
            opaque::hash(&x.refresh_secret).into(),
            x.now.into(),
            x.chain_key.as_str().into(),
            super::sign_in_value(sign_in),
            text_or_null(resource),
        ],
    )?;
    Ok(first_int(&exec(db, "SELECT last_insert_rowid()", &[])?))
}

/// Seconds in which the Worker may repeat a rotation whose answer it lost.
const REPEAT_WINDOW: u64 = 60;

/// The attempt id of grant `seq`'s last rotation, while it may still be repeated.
fn last_attempt(db: &impl Sql, seq: i64) -> Result<Option<String>, StateError> {
    let rows = exec(
        db,
        "SELECT attempt FROM rotation_attempts WHERE seq = ?",
        &[seq.into()],
    )?;
    Ok(rows.first().map(|r| r[0].text()))
}

pub fn rotate(db: &impl Sql, object: &str, r: RefreshRotation) -> Result<IssuedGrant, StateError> {
    let parts = ids::parse_refresh(&r.refresh_token).ok_or(Refusal::InvalidRefreshToken)?;
    let seq = seq_of(object, parts.grant_id).ok_or(Refusal::InvalidRefreshToken)?;
    let row = live_row(db, seq, r.now)?
        .filter(|row| row[1].text() == r.client_id)
        .ok_or(Refusal::InvalidRefreshToken)?;
    let (hash, generation, rotated_at, chain_key) = (
        row[6].text(),
        row[7].int() as u64,
        row[8].int() as u64,
        row[9].text(),
    );
    let position = standing(&chain_key, &hash, generation, rotated_at, &parts, r.now)
        .ok_or(Refusal::InvalidRefreshToken)?;
    // The Worker repeating this very request after losing the object's answer.
    let repeated = match (&position, r.attempt.as_deref()) {
        (Standing::Previous { since }, Some(attempt)) if *since <= REPEAT_WINDOW => {
            last_attempt(db, seq)?.as_deref() == Some(attempt)
        }
        _ => false,
    };
    let repeat = match position {
        Standing::Current => false,
        _ if repeated => true,
        Standing::Previous { since } if r.grace > 0 && since <= r.grace => true,
        _ => {
            exec(db, "DELETE FROM grants WHERE seq = ?", &[seq.into()])?;
            return Err(Refusal::RefreshReused.into());
        }
    };
    // Refusals below change nothing.
    let mut grant = view(object, &row);
    let allowed = rules::still_allowed(&grant.scopes, &r.allowed_scopes)?;
    let scopes = rules::narrow(r.requested_scopes.as_deref(), &allowed)?;
    rules::check_resource(r.resource.as_deref(), grant.resource.as_deref())?;
    let secret = ids::successor(&chain_key, parts.secret);
    let next = parts.generation + 1;
    if !repeat {
        grant.expires_at = r.now + r.refresh_ttl;
        exec(
            db,
            "UPDATE grants SET refresh_hash = ?, generation = ?, rotated_at = ?, expires_at = ? \
             WHERE seq = ?",
            &[
                opaque::hash(&secret).into(),
                next.into(),
                r.now.into(),
                grant.expires_at.into(),
                seq.into(),
            ],
        )?;
        if let Some(attempt) = &r.attempt {
            exec(
                db,
                "DELETE FROM rotation_attempts WHERE at < ?",
                &[r.now.saturating_sub(REPEAT_WINDOW).into()],
            )?;
            exec(
                db,
                "INSERT OR REPLACE INTO rotation_attempts (seq, attempt, at) VALUES (?, ?, ?)",
                &[seq.into(), attempt.as_str().into(), r.now.into()],
            )?;
        }
    }
    Ok(IssuedGrant {
        refresh_token: ids::refresh_token(&grant.grant_id, next, &secret),
        grant,
        scopes,
        listing: None,
        evicted: Vec::new(),
    })
}

pub fn find_refresh(
    db: &impl Sql,
    object: &str,
    token: &str,
    now: u64,
) -> Result<Option<GrantView>, StateError> {
    let Some(parts) = ids::parse_refresh(token) else {
        return Ok(None);
    };
    let Some(row) = seq_of(object, parts.grant_id)
        .map(|seq| live_row(db, seq, now))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    let current = parts.generation == row[7].int() as u64
        && opaque::matches_hash(parts.secret, &row[6].text());
    Ok(current.then(|| view(object, &row)))
}

/// RFC 7009: any token of the chain, presented by its client, revokes the grant.
pub fn revoke_refresh(
    db: &impl Sql,
    object: &str,
    token: &str,
    client_id: &str,
) -> Result<bool, StateError> {
    let Some(parts) = ids::parse_refresh(token) else {
        return Ok(false);
    };
    let Some(seq) = seq_of(object, parts.grant_id) else {
        return Ok(false);
    };
    let rows = exec(
        db,
        &format!("SELECT {COLUMNS} FROM grants WHERE seq = ?"),
        &[seq.into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(false);
    };
    let ours = row[1].text() == client_id
        && ids::steps_to_current(
            &row[9].text(),
            parts.secret,
            parts.generation,
            row[7].int() as u64,
            &row[6].text(),
        )
        .is_some();
    if ours {
        revoke(db, seq)?;
    }
    Ok(ours)
}

pub fn get(
    db: &impl Sql,
    object: &str,
    seq: i64,
    now: u64,
) -> Result<Option<GrantView>, StateError> {
    Ok(live_row(db, seq, now)?.map(|row| view(object, &row)))
}

pub fn revoke(db: &impl Sql, seq: i64) -> Result<bool, StateError> {
    let existed = !exec(db, "SELECT 1 FROM grants WHERE seq = ?", &[seq.into()])?.is_empty();
    exec(db, "DELETE FROM grants WHERE seq = ?", &[seq.into()])?;
    Ok(existed)
}

/// Withdraws consent and revokes grants, for one client or all, in one step.
pub fn revoke_user(db: &impl Sql, client_id: Option<&str>) -> Result<usize, StateError> {
    let (filter, params): (&str, Vec<SqlValue>) = match client_id {
        Some(c) => (" WHERE client_id = ?", vec![c.into()]),
        None => ("", vec![]),
    };
    let count = first_int(&exec(
        db,
        &format!("SELECT COUNT(*) FROM grants{filter}"),
        &params,
    )?);
    exec(db, &format!("DELETE FROM consents{filter}"), &params)?;
    exec(db, &format!("DELETE FROM grants{filter}"), &params)?;
    // Codes not yet redeemed die too (`used = 2`): approving again must not revive them.
    let unused = if filter.is_empty() {
        " WHERE used = 0"
    } else {
        " AND used = 0"
    };
    exec(
        db,
        &format!("UPDATE codes SET used = 2{filter}{unused}"),
        &params,
    )?;
    Ok(count as usize)
}

pub fn list(
    db: &impl Sql,
    object: &str,
    after: Option<i64>,
    limit: usize,
    now: u64,
    client_id: Option<&str>,
) -> Result<Page<GrantView>, StateError> {
    let limit = limit.clamp(1, crate::state::MAX_PAGE);
    let mut params: Vec<SqlValue> = vec![now.into(), after.unwrap_or(0).into()];
    let filter = match client_id {
        Some(c) => {
            params.push(c.into());
            " AND client_id = ?"
        }
        None => "",
    };
    params.push((limit as i64 + 1).into());
    let rows = exec(
        db,
        &format!(
            "SELECT {COLUMNS} FROM grants WHERE expires_at > ? AND seq > ?{filter} \
             ORDER BY seq LIMIT ?"
        ),
        &params,
    )?;
    let more = rows.len() > limit;
    let items: Vec<GrantView> = rows.iter().take(limit).map(|r| view(object, r)).collect();
    let cursor = more.then(|| rows[limit - 1][0].int().to_string());
    Ok(Page { items, cursor })
}
