//! Typed access to built-in accounts: `user:{sub}` plus the `user_email:{email}` → sub index
//! that login looks people up by.
//!
//! KV has no transactions, so the record and its index are two writes; two simultaneous
//! creations of one email can both succeed (documented in docs/storage.md).

use super::{get_json, keys, put_json, Store};
use crate::error::OAuthError;
use crate::model::User;

pub async fn get(store: &impl Store, sub: &str) -> Result<Option<User>, OAuthError> {
    if !is_plausible_sub(sub) {
        return Ok(None);
    }
    get_json(store, &keys::user(sub)).await
}

/// The account with this email. The email is trimmed and lower-cased first, so login can pass
/// what was typed. An index entry whose record is gone or no longer has that email is stale
/// and counts as absent.
pub async fn find_by_email(store: &impl Store, email: &str) -> Result<Option<User>, OAuthError> {
    let email = crate::email::normalize(email);
    if email.is_empty() || email.len() > MAX_EMAIL_BYTES {
        return Ok(None);
    }
    let Some(sub) = store.get(&keys::user_email(&email)).await? else {
        return Ok(None);
    };
    Ok(get(store, &sub).await?.filter(|u| u.email == email))
}

/// Writes the record, then its email index entry (a failure in between leaves a record login
/// cannot find yet, never an index pointing nowhere that blocks the email).
pub async fn put(store: &impl Store, user: &User) -> Result<(), OAuthError> {
    put_json(store, &keys::user(&user.sub), user, None).await?;
    store
        .put(&keys::user_email(&user.email), &user.sub, None)
        .await?;
    Ok(())
}

/// Removes the email index entry (unless it already names someone else): the account can no
/// longer sign in, while its record stays for the rest of its deletion.
pub async fn unlist(store: &impl Store, user: &User) -> Result<(), OAuthError> {
    let index = keys::user_email(&user.email);
    if store.get(&index).await?.as_deref() == Some(user.sub.as_str()) {
        store.delete(&index).await?;
    }
    Ok(())
}

/// Removes the record and its email index entry, unless the index already names someone else.
pub async fn delete(store: &impl Store, user: &User) -> Result<(), OAuthError> {
    unlist(store, user).await?;
    store.delete(&keys::user(&user.sub)).await?;
    Ok(())
}

/// All accounts, ordered by sub.
pub async fn list_page(
    store: &impl Store,
    cursor: Option<&str>,
    limit: usize,
) -> Result<(Vec<User>, Option<String>), OAuthError> {
    let page = store.list(keys::USER_PREFIX, cursor, limit).await?;
    let mut users = Vec::new();
    for key in &page.keys {
        // A user deleted between the listing and the read is simply skipped.
        if let Some(user) = get_json::<User>(store, key).await? {
            users.push(user);
        }
    }
    Ok((users, page.cursor))
}

/// RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
pub const MAX_EMAIL_BYTES: usize = 254;

/// Subjects we issue are short URL-safe strings; anything else cannot exist, so we do not
/// spend a KV read (or build a key) from arbitrary input.
fn is_plausible_sub(sub: &str) -> bool {
    !sub.is_empty()
        && sub.len() <= 64
        && sub
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use futures_executor::block_on;

    fn user(sub: &str, email: &str) -> User {
        User {
            sub: sub.into(),
            email: email.into(),
            name: None,
            picture: None,
            password_hash: "pbkdf2-sha256$1$c2FsdA$x".into(),
            created_at: 1,
        }
    }

    #[test]
    fn email_lookup_is_case_and_space_insensitive_and_ignores_stale_index() {
        let store = MemoryStore::new(1_000);
        block_on(put(&store, &user("abc", "ann@example.com"))).unwrap();
        let cases = [
            ("exact", "ann@example.com", true),
            ("upper case", "ANN@Example.COM", true),
            ("surrounding space", "  ann@example.com\n", true),
            ("other email", "bob@example.com", false),
            ("empty", "", false),
        ];
        for (name, email, found) in cases {
            let got = block_on(find_by_email(&store, email)).unwrap();
            assert_eq!(got.is_some(), found, "{name}");
        }
        // Index entry whose record is gone (a second later: KV allows one write per key per second).
        store.advance(1);
        block_on(store.delete(&keys::user("abc"))).unwrap();
        assert_eq!(block_on(find_by_email(&store, "ann@example.com")), Ok(None));
    }

    #[test]
    fn delete_keeps_an_index_entry_that_names_someone_else() {
        let store = MemoryStore::new(1_000);
        let (old, new) = (user("old", "a@example.com"), user("new", "a@example.com"));
        block_on(put(&store, &old)).unwrap();
        store.advance(1);
        block_on(put(&store, &new)).unwrap();
        store.advance(1);
        block_on(delete(&store, &old)).unwrap();
        assert_eq!(
            block_on(find_by_email(&store, "a@example.com")).unwrap(),
            Some(new.clone())
        );
        store.advance(1);
        block_on(delete(&store, &new)).unwrap();
        assert!(store.is_empty());
    }

    #[test]
    fn implausible_subs_are_absent_without_a_read() {
        let store = MemoryStore::new(1_000);
        for sub in ["", "a:b", "<script>", &"a".repeat(65)] {
            assert_eq!(block_on(get(&store, sub)), Ok(None), "{sub:?}");
        }
    }
}
