//! Media administration: reclaiming files that no live note has used for a while, and
//! what each account stores against its quota.

use std::time::Duration;

use super::{require_admin, Actor, DomainResult};
use crate::media::gc::GcReport;
use crate::media::Media;
use crate::store::media::UserBytes;
use crate::store::Db;

/// The media store's size and each account's share of it, for the administrator.
#[derive(Debug)]
pub struct Usage {
    pub total_bytes: i64,
    pub total_files: i64,
    pub per_user: Vec<UserBytes>,
}

/// Media stored in all and per account (what counts against `media_quota_bytes`).
pub async fn usage(db: &Db, actor: Actor) -> DomainResult<Usage> {
    require_admin(db, actor).await?;
    let mut conn = db.reader().acquire().await?;
    let (total_bytes, total_files) = crate::store::media::total_bytes(&mut conn).await?;
    Ok(Usage {
        total_bytes,
        total_files,
        per_user: crate::store::media::bytes_by_user(&mut conn).await?,
    })
}

/// Removes media unused for `grace`, with stale uploads and stray files; the
/// administrator's action (the CLI, the scheduler, or an admin account).
pub async fn gc(db: &Db, media: &Media, actor: Actor, grace: Duration) -> DomainResult<GcReport> {
    require_admin(db, actor).await?;
    Ok(media.gc(db, grace).await?)
}
