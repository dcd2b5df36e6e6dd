//! Client timestamps: the whole-second UTC times a subscription sends to /pullChanges.

use std::time::Duration;

/// `t` in UTC as the client writes it: `YYYY-MM-DD hh:mm:ss`.
fn fmt_ts(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap()
}

/// Returns a client timestamp `T` (whole second, UTC) such that every write that
/// completed before this call has `last_update <= T` and every write started after
/// it returns has `last_update > T`. Sleeps until the wall clock is past `T`.
pub async fn sync_point() -> String {
    let now = time::OffsetDateTime::now_utc();
    let t = now.replace_nanosecond(0).unwrap() + time::Duration::seconds(1);
    let target = t + time::Duration::milliseconds(50);
    loop {
        let n = time::OffsetDateTime::now_utc();
        if n >= target {
            break;
        }
        let wait = (target - n).whole_milliseconds().max(1) as u64;
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    fmt_ts(t)
}
