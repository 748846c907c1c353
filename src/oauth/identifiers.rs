//! Identifiers that arrive from outside (client ids, subjects, grant ids), checked where they
//! enter: what cannot have been issued is refused with a clear 400, or, where RFC 7009's logic
//! applies (revoking, signing out), it simply names nothing and there is nothing to do.
//! Storage keys are bounded on their own as well (`store::keys`), so a miss here is never a 500.

/// Client ids and grant ids we issue: 16 random bytes base64url (22 characters). Ids given to
/// clients registered by older versions are also short URL-safe strings.
pub const MAX_ID_BYTES: usize = 64;

/// A delegated-login `sub` (the login assertion's limit) and a built-in account's `sub`.
pub const MAX_SUB_CHARS: usize = 255;

fn is_url_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `id` can name a client: 1-64 bytes of `A-Z a-z 0-9 - _`.
pub fn is_client_id(id: &str) -> bool {
    is_url_safe_id(id)
}

/// Whether `id` can name a grant: what the state layer issues (`state::ids`): at most 256
/// bytes of `A-Z a-z 0-9 - _ .` (a durable grant id is the user's object id, `.`, a number).
pub fn is_grant_id(id: &str) -> bool {
    crate::state::ids::is_token_text(id)
}

/// A subject as the login assertion admits it: 1-255 characters, no control characters (a
/// 255-character `sub` may take up to 1020 bytes; keys hash such long ones).
pub fn check_sub(sub: &str) -> Result<(), &'static str> {
    if sub.is_empty() || sub.chars().count() > MAX_SUB_CHARS {
        return Err("sub must be 1 to 255 characters");
    }
    if sub.chars().any(char::is_control) {
        return Err("sub must not contain control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_and_grant_ids_are_short_and_url_safe() {
        let cases: &[(&str, bool)] = &[
            ("c0CYQHkoFTcWd3OKBemWqw", true),
            ("a-b_C9", true),
            ("", false),
            ("a b", false),
            ("a:b", false),
            ("caf\u{e9}", false),
        ];
        for (id, ok) in cases {
            assert_eq!(is_client_id(id), *ok, "{id}");
            assert_eq!(is_grant_id(id), *ok, "{id}");
        }
        assert!(!is_client_id("../x"));
        assert!(is_grant_id(&format!("{}.42", "a".repeat(64))));
        assert!(!is_grant_id(&"x".repeat(300)));
        assert!(is_client_id(&"x".repeat(MAX_ID_BYTES)));
        assert!(!is_client_id(&"x".repeat(MAX_ID_BYTES + 1)));
        assert!(!is_client_id(&"x".repeat(600)));
    }

    #[test]
    fn subs_follow_the_assertion_rule_counted_in_characters() {
        assert!(check_sub("user-42").is_ok());
        assert!(check_sub(&"\u{e9}".repeat(255)).is_ok());
        assert!(check_sub(&"\u{1f600}".repeat(100)).is_ok());
        assert!(check_sub("").is_err());
        assert!(check_sub(&"s".repeat(256)).is_err());
        assert!(check_sub(&"s".repeat(400)).is_err());
        assert!(check_sub("a\nb").is_err());
    }
}
