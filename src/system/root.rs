//! Refusing to serve as root: a network daemon with a bug should not own the box.

use nix::unistd::Uid;

/// Fails when `euid` is root and running as root was not explicitly allowed.
pub fn refuse_root(euid: Uid, allow_root: bool) -> anyhow::Result<()> {
    if euid.is_root() && !allow_root {
        anyhow::bail!(
            "refusing to run as root: start deckd as an unprivileged user (the systemd unit uses User=deckd), \
             or allow it explicitly with `allow_root = true` in the config, DECKD_ALLOW_ROOT=1, or --allow-root"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_needs_explicit_permission() {
        let err = refuse_root(Uid::from_raw(0), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("refusing to run as root") && err.contains("allow_root"),
            "{err}"
        );
        refuse_root(Uid::from_raw(0), true).unwrap();
        refuse_root(Uid::from_raw(1000), false).unwrap();
    }
}
