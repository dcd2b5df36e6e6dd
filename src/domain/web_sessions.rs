//! Browser sessions of the web console: signing in with the same accounts as the add-on,
//! resolving the session cookie, and letting people see and end their own sessions and
//! add-on logins.

use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};

use super::DomainResult;
use crate::accounts::token_hash;
use crate::store::console::{NewSession, SessionRow};
use crate::store::tokens::DeviceRow;
use crate::store::{self, Db, Micros, UserId};

/// A console session lasts 30 days from sign-in.
const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 86_400);
/// `last_seen_at` is written at most this often per session, to spare the SD card.
const TOUCH_EVERY: Duration = Duration::from_secs(3_600);
/// Longest user agent kept for the device list.
const USER_AGENT_CHARS: usize = 200;

/// A freshly opened session: the cookie value, shown to the browser once.
#[derive(Debug)]
pub struct Opened {
    pub cookie: String,
    pub user: UserId,
}

/// The signed-in account of a console request.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub id: UserId,
    pub username: String,
    pub is_admin: bool,
    pub session_id: i64,
    /// The session's CSRF secret; forms carry it masked.
    pub csrf: Vec<u8>,
}

/// Checks a username and password (the same accounts as the add-on) and opens a session.
pub async fn sign_in(
    db: &Db,
    username: &str,
    password: &str,
    user_agent: &str,
) -> DomainResult<Opened> {
    let user = super::sessions::check_credentials(db, username, password).await?;
    open(db, user.id, user_agent).await
}

/// Opens a session for an account whose identity was just proven (sign-in, setup, sign-up).
pub(crate) async fn open(db: &Db, user: UserId, user_agent: &str) -> DomainResult<Opened> {
    let mut tx = db.begin_write().await?;
    let opened = open_in(&mut tx, user, user_agent).await?;
    tx.commit().await?;
    Ok(opened)
}

/// Stores a new session inside the caller's transaction.
pub(crate) async fn open_in(
    conn: &mut store::Conn,
    user: UserId,
    user_agent: &str,
) -> DomainResult<Opened> {
    let cookie = Alphanumeric.sample_string(&mut rand::rng(), 48);
    let csrf: [u8; 32] = rand::random();
    let now = Micros::now();
    let agent: String = user_agent.chars().take(USER_AGENT_CHARS).collect();
    store::console::insert_session(
        conn,
        NewSession {
            user,
            token_hash: &token_hash(&cookie),
            csrf: &csrf,
            user_agent: &agent,
            now,
            expires_at: now + SESSION_LIFETIME,
        },
    )
    .await?;
    Ok(Opened { cookie, user })
}

/// The account behind a session cookie, or `None` when it is unknown, expired or disabled.
pub async fn resolve(db: &Db, cookie: &str) -> DomainResult<Option<WebUser>> {
    if cookie.is_empty() || cookie.len() > 128 {
        return Ok(None);
    }
    let now = Micros::now();
    let owner =
        store::console::session_owner(&mut *db.reader().acquire().await?, &token_hash(cookie), now)
            .await?;
    let Some(owner) = owner else { return Ok(None) };
    if now.since(owner.last_seen_at) > TOUCH_EVERY {
        let (db, id) = (db.clone(), owner.session_id);
        tokio::spawn(async move {
            let touched = async {
                let mut tx = db.begin_write().await?;
                store::console::touch_session(&mut tx, id, Micros::now()).await?;
                tx.commit().await
            };
            if let Err(e) = touched.await {
                tracing::debug!(error = %e, "recording session use failed");
            }
        });
    }
    Ok(Some(WebUser {
        id: owner.user_id,
        username: owner.username,
        is_admin: owner.is_admin,
        session_id: owner.session_id,
        csrf: owner.csrf,
    }))
}

/// What `user` is signed in with: console sessions and add-on logins.
#[derive(Debug)]
pub struct Devices {
    pub sessions: Vec<SessionRow>,
    pub addon: Vec<DeviceRow>,
}

/// Lists the signed-in browsers and add-on logins of `user`.
pub async fn devices(db: &Db, user: UserId) -> DomainResult<Devices> {
    let mut conn = db.reader().acquire().await?;
    Ok(Devices {
        sessions: store::console::sessions_of(&mut conn, user, Micros::now()).await?,
        addon: store::tokens::devices_of(&mut conn, user).await?,
    })
}

/// Which of their sign-ins a person ends.
#[derive(Debug, Clone, Copy)]
pub enum SignIn {
    Browser(i64),
    Addon(i64),
}

/// Ends one of `user`'s own sign-ins; someone else's is never found.
pub async fn sign_out(db: &Db, user: UserId, which: SignIn) -> DomainResult<bool> {
    let mut tx = db.begin_write().await?;
    let done = match which {
        SignIn::Browser(id) => store::console::delete_session(&mut tx, user, id).await?,
        SignIn::Addon(id) => store::tokens::remove_of(&mut tx, user, id).await?,
    };
    tx.commit().await?;
    Ok(done)
}

/// Changes one's own password after checking the current one; every other sign-in ends.
pub async fn change_password(db: &Db, me: &WebUser, current: &str, new: &str) -> DomainResult<()> {
    super::sessions::check_credentials(db, &me.username, current).await?;
    let phc = super::users::hash_password(new).await?;
    let mut tx = db.begin_write().await?;
    store::users::set_password(&mut tx, &me.username, &phc).await?;
    store::tokens::remove_all_of(&mut tx, me.id).await?;
    for s in store::console::sessions_of(&mut tx, me.id, Micros::now()).await? {
        if s.id != me.session_id {
            store::console::delete_session(&mut tx, me.id, s.id).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
