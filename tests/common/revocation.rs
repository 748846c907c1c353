//! The revocation side of the concurrency tests: the paths that end a grant, and a client that
//! keeps refreshing while one of them is taken.

use super::browser::{Browser, Http};
use super::http::{post_form, Reply};
use super::race::{tokens, App, Person};
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

#[allow(clippy::too_many_arguments)]
pub fn send_revocation(
    w: &Worker,
    app: &App,
    b: &Browser<Http>,
    p: &Person,
    how: Revocation,
    csrf: &str,
    grant_id: &str,
    latest: &Mutex<(String, String)>,
) -> Reply {
    match how {
        Revocation::Rfc7009 => {
            // Whatever the client holds right now, though it may be rotating it at this very
            // moment: a refresh token of the grant, rotated or not, names the grant to revoke
            // (RFC 7009 §2.1), otherwise the rotation in flight would keep the grant alive.
            let rt = latest.lock().unwrap().1.clone();
            let hint = ("token_type_hint", "refresh_token");
            app.post(w, "/api/oauth/revoke", &[("token", &rt), hint])
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
            &[("sub", &p.sub), ("revoke", "all")],
        ),
        Revocation::DeleteUser => w.admin("DELETE", &format!("/api/admin/users/{}", p.sub), None),
        Revocation::DeleteClient => w.admin(
            "DELETE",
            &format!("/api/admin/clients/{}", app.client_id),
            None,
        ),
        Revocation::DeleteGrant => {
            w.admin("DELETE", &format!("/api/admin/grants/{grant_id}"), None)
        }
    }
}
