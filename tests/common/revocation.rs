//! The revocation side of the concurrency tests: the paths that end a grant, and a client that
//! keeps refreshing while one of them is taken.

use super::browser::{Browser, Http};
use super::http::{post_form, Reply};
use super::race::{all_at_once, tokens, App, Person};
use super::worker::Worker;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

/// The paths that end a grant (SPEC: RFC 7009, connected apps, logout with `revoke`, admin API).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Revocation {
    Rfc7009,
    ConnectedApps,
    BrowserLogout,
    PlatformLogout,
    DeleteUser,
    DeleteClient,
    DeleteGrant,
}

/// A client refreshing back to back with its latest refresh token, as an app keeping a session
/// alive would. Stops after 3 attempts started once the revocation answered (or 2000 in all).
/// Logs (started after the revocation answered, status, body) per attempt.
pub fn refresh_loop(
    w: &Worker,
    app: &App,
    latest: &Mutex<(String, String)>,
    answered: &AtomicBool,
    rotations: &AtomicUsize,
) -> Vec<(bool, u16, String)> {
    let mut log = Vec::new();
    for _ in 0..2000 {
        let after = answered.load(SeqCst);
        let rt = latest.lock().unwrap().1.clone();
        let r = app.refresh(w, &rt);
        if r.status == 200 {
            *latest.lock().unwrap() = tokens(&r);
            rotations.fetch_add(1, SeqCst);
        }
        log.push((after, r.status, r.body));
        if log.iter().filter(|l| l.0).count() >= 3 {
            break;
        }
    }
    log
}

/// What the revocation needs to know about the user, the client and their grants.
pub struct Target<'a> {
    pub w: &'a Worker,
    pub app: &'a App,
    pub person: &'a Person,
    /// The user's browser, signed in; `csrf` is its session's form token.
    pub browser: &'a Browser<'a, Http>,
    pub csrf: &'a str,
    pub grant_ids: &'a [String],
    /// Each grant's latest (access token, refresh token), as its refresh loop holds them.
    pub latest: &'a [Mutex<(String, String)>],
}

/// Takes `how`; per-grant paths (RFC 7009, admin delete grant) end every grant at once, one
/// request each. Returns the answers.
pub fn send_revocation(t: &Target, how: Revocation) -> Vec<Reply> {
    let (w, app, b, csrf) = (t.w, t.app, t.browser, t.csrf);
    let one = match how {
        Revocation::Rfc7009 => {
            return all_at_once(t.latest.len(), |i| {
                // Whatever the client holds right now, though it may be rotating it at this
                // very moment: a refresh token of the grant, rotated or not, names the grant to
                // revoke (RFC 7009 §2.1), else the rotation in flight would keep it alive.
                let rt = t.latest[i].lock().unwrap().1.clone();
                let hint = ("token_type_hint", "refresh_token");
                app.post(w, "/api/oauth/revoke", &[("token", &rt), hint])
            });
        }
        Revocation::DeleteGrant => {
            return all_at_once(t.grant_ids.len(), |i| {
                let path = format!("/api/admin/grants/{}", t.grant_ids[i]);
                w.admin("DELETE", &path, None)
            })
        }
        Revocation::ConnectedApps => b.post_form(
            "/account/apps/revoke",
            &[("csrf_token", csrf), ("client_id", &app.client_id)],
        ),
        Revocation::BrowserLogout => b.post_form(
            "/api/oauth/logout",
            &[("csrf_token", csrf), ("revoke", "all")],
        ),
        Revocation::PlatformLogout => post_form(
            &w.url("/api/oauth/logout"),
            &[("Authorization", &w.admin_auth())],
            &[("sub", &t.person.sub), ("revoke", "all")],
        ),
        Revocation::DeleteUser => {
            let path = format!("/api/admin/users/{}", t.person.sub);
            w.admin("DELETE", &path, None)
        }
        Revocation::DeleteClient => {
            let path = format!("/api/admin/clients/{}", app.client_id);
            w.admin("DELETE", &path, None)
        }
    };
    vec![one]
}

impl Revocation {
    /// The success status of each path.
    pub fn success(self) -> u16 {
        match self {
            Revocation::ConnectedApps => 303,
            Revocation::Rfc7009 | Revocation::BrowserLogout | Revocation::PlatformLogout => 200,
            Revocation::DeleteUser | Revocation::DeleteClient | Revocation::DeleteGrant => 204,
        }
    }
}
