//! Issue 18, item 3: deleting an account ends everything, including sign-ins in flight. Each
//! round, 8 browsers sign in to one account while the admin deletes it; once the DELETE has
//! answered, none of them holds a working session (the authorization request shows the
//! sign-in page again, not the consent page), on the backend `EDGE_STATE_BACKEND` names.

mod common;

use common::browser::{hidden, Browser, Http};
use common::e2e::*;
use common::http::{get, post_form};
use common::race::all_at_once;
use common::worker::shared;
use serde_json::json;

#[test]
fn sign_ins_racing_an_account_deletion_leave_no_working_session() {
    let w = shared();
    let client = register(w, "client_secret_basic");
    let oauth = oauth_client(w, &client);
    let (url, _) = oauth
        .authorize_url(oauth2::CsrfToken::new_random)
        .set_pkce_challenge(oauth2::PkceCodeChallenge::new_random_sha256().0)
        .url();
    let mut signed_in_before = 0;
    // 8 sign-ins per round, within the 10 attempts an account may make per window; the DELETE
    // leaves the barrier a little later each round, so it lands before, during and after the
    // sign-ins' password checks.
    for round in 0..8 {
        let email = format!("doomed-{round}@example.com");
        let created = admin_post(
            w,
            "/api/admin/users",
            json!({"email": email, "password": PASSWORD}),
        );
        let sub = created["sub"].as_str().unwrap().to_string();
        // Each browser's sign-in page (its CSRF cookie and form), fetched before the race.
        let forms: Vec<(String, String, String)> = (0..8)
            .map(|_| {
                let b = Browser::new(&Http, &w.url);
                let page = b.get(url.as_str());
                let csrf = hidden(&page.body, "csrf_token");
                (b.cookie_header(), csrf, hidden(&page.body, "return_to"))
            })
            .collect();
        let replies = all_at_once(9, |i| {
            if i == 8 {
                std::thread::sleep(std::time::Duration::from_millis(15 * round as u64));
                return w.admin("DELETE", &format!("/api/admin/users/{sub}"), None);
            }
            let (cookie, csrf, back) = &forms[i];
            post_form(
                &w.url("/api/oauth/login"),
                &[("Cookie", cookie.as_str())],
                &[
                    ("email", email.as_str()),
                    ("password", PASSWORD),
                    ("csrf_token", csrf.as_str()),
                    ("return_to", back.as_str()),
                ],
            )
        });
        assert_eq!(replies[8].status, 204, "round {round}: {}", replies[8].body);
        for (i, reply) in replies.iter().take(8).enumerate() {
            assert!(
                [303, 401].contains(&reply.status),
                "round {round}, browser {i}: {} {}",
                reply.status,
                reply.body
            );
            if reply.status == 303 {
                signed_in_before += 1;
            }
            // Whatever its sign-in answered, the browser is not signed in now.
            let session = reply
                .headers_named("set-cookie")
                .into_iter()
                .map(|c| c.split(';').next().unwrap_or("").to_string())
                .find(|c| c.contains("edge_oauth_session=") && !c.ends_with('='))
                .unwrap_or_default();
            let again = get(url.as_str(), &[("Cookie", session.as_str())]);
            assert!(
                again.body.contains(r#"name="password""#),
                "round {round}, browser {i}: a session of the deleted account still works \
                 (sign-in answered {}, now {})",
                reply.status,
                again.status
            );
        }
    }
    println!("{signed_in_before} of 64 sign-ins answered 303 before the deletion ended them");
}
