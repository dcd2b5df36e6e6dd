//! Signed, expiring media URLs. The add-on sends its Bearer header to upload and
//! download URLs too, but only the token in the URL counts: it binds one hash, the
//! direction, the allowed size and the file kind, and is useless after it expires.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::names::Kind;

use crate::store::UserId;

/// Which way the bytes flow.
#[derive(Debug, PartialEq)]
pub enum Direction {
    Upload,
    Download,
}

/// What a token allows.
#[derive(Debug, PartialEq)]
pub struct Grant {
    pub direction: Direction,
    pub hash: String,
    /// Exact size an upload must have (0 for downloads).
    pub size: u64,
    pub user: UserId,
    pub kind_tag: String,
    /// Unix seconds after which the token is refused.
    pub expires: i64,
}

impl Grant {
    /// The file kind the token was issued for.
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_extension(&self.kind_tag)
    }
}

/// Why a token is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("media token is malformed or its signature is wrong")]
    Invalid,
    #[error("media token has expired; ask for a new URL")]
    Expired,
    #[error("media token was issued for another file or operation")]
    Foreign,
}

/// Signs and checks grants with a secret kept in the data directory.
pub struct Signer {
    key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(…)")
    }
}

impl Signer {
    /// Loads the key at `path`, creating it (mode 0600) on first start.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.try_into().map_err(|_| {
                    anyhow::anyhow!(
                        "{} must hold exactly 32 bytes; delete it to make a new one",
                        path.display()
                    )
                })?;
                Ok(Self { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .with_context(|| format!("creating media key {}", path.display()))?;
                f.write_all(&key)?;
                f.sync_all()?;
                Ok(Self { key })
            }
            Err(e) => Err(e).with_context(|| format!("reading media key {}", path.display())),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// The URL-safe token for `grant`.
    pub fn sign(&self, g: &Grant) -> String {
        let dir = match g.direction {
            Direction::Upload => 'u',
            Direction::Download => 'd',
        };
        self.sign_payload(&format!(
            "{dir}|{}|{}|{}|{}|{}",
            g.hash, g.size, g.user, g.kind_tag, g.expires
        ))
    }

    /// A token carrying `payload` and its signature; other signed URLs (deck archives)
    /// put their own payloads, starting with a letter no media grant uses.
    pub fn sign_payload(&self, payload: &str) -> String {
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let sig = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    /// The payload of `token` if its signature is genuine.
    pub fn open_payload(&self, token: &str) -> Result<String, TokenError> {
        let (payload, sig) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| TokenError::Invalid)?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&sig).map_err(|_| TokenError::Invalid)?;
        String::from_utf8(payload).map_err(|_| TokenError::Invalid)
    }

    /// The grant in `token` if it is genuine, unexpired and for `hash` in `direction`.
    pub fn verify(
        &self,
        token: &str,
        direction: Direction,
        hash: &str,
        now: i64,
    ) -> Result<Grant, TokenError> {
        let grant = parse(&self.open_payload(token)?).ok_or(TokenError::Invalid)?;
        if grant.direction != direction || grant.hash != hash {
            return Err(TokenError::Foreign);
        }
        if grant.expires < now {
            return Err(TokenError::Expired);
        }
        Ok(grant)
    }
}

fn parse(text: &str) -> Option<Grant> {
    let mut parts = text.split('|');
    let direction = match parts.next()? {
        "u" => Direction::Upload,
        "d" => Direction::Download,
        _ => return None,
    };
    let grant = Grant {
        direction,
        hash: parts.next()?.to_string(),
        size: parts.next()?.parse().ok()?,
        user: UserId(parts.next()?.parse().ok()?),
        kind_tag: parts.next()?.to_string(),
        expires: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            direction: Direction::Upload,
            hash: "9d3f217f6cfaad7f9d3786af47422d59".into(),
            size: 69,
            user: UserId(1),
            kind_tag: "png".into(),
            expires: 1_000,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Signer::load_or_create(&dir.path().join("k")).unwrap();
        let again = Signer::load_or_create(&dir.path().join("k")).unwrap();
        let t = signer.sign(&grant());
        assert_eq!(
            again.verify(&t, Direction::Upload, &grant().hash, 999),
            Ok(grant())
        );
        assert_eq!(
            signer.verify(&t, Direction::Upload, &grant().hash, 1_001),
            Err(TokenError::Expired)
        );
        assert_eq!(
            signer.verify(&t, Direction::Download, &grant().hash, 999),
            Err(TokenError::Foreign)
        );
        assert_eq!(
            signer.verify(&t, Direction::Upload, &"0".repeat(32), 999),
            Err(TokenError::Foreign)
        );
        let other = Signer::load_or_create(&dir.path().join("other")).unwrap();
        assert_eq!(
            other.verify(&t, Direction::Upload, &grant().hash, 999),
            Err(TokenError::Invalid)
        );
        let mut tampered = t.clone();
        tampered.insert(3, 'A');
        assert_eq!(
            signer.verify(&tampered, Direction::Upload, &grant().hash, 999),
            Err(TokenError::Invalid)
        );
    }
}
