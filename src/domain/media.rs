//! Media administration: reclaiming files that no live note has used for a while.

use std::time::Duration;

use super::{require_admin, Actor, DomainResult};
use crate::media::gc::GcReport;
use crate::media::Media;
use crate::store::Db;

/// Removes media unused for `grace`, with stale uploads and stray files; the
/// administrator's action (the CLI, the scheduler, or an admin account).
pub async fn gc(db: &Db, media: &Media, actor: Actor, grace: Duration) -> DomainResult<GcReport> {
    require_admin(db, actor).await?;
    Ok(media.gc(db, grace).await?)
}
