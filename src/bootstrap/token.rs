//! Signed, expiring URLs of a deck archive: the token binds the deck hash, the version
//! tag and which file (manifest or zip), with the key that signs media URLs.

use crate::media::token::{Signer, TokenError};

/// The two files a cache-bootstrap entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    Manifest,
    Archive,
}

impl Member {
    /// The last path segment of the URL.
    pub fn file_name(self) -> &'static str {
        match self {
            Member::Manifest => "manifest.json",
            Member::Archive => "archive.zip",
        }
    }

    /// The member a URL's last path segment names.
    pub fn from_file_name(name: &str) -> Option<Self> {
        match name {
            "manifest.json" => Some(Member::Manifest),
            "archive.zip" => Some(Member::Archive),
            _ => None,
        }
    }

    /// First letter of the payload; media grants use `u` and `d`.
    fn letter(self) -> &'static str {
        match self {
            Member::Manifest => "m",
            Member::Archive => "a",
        }
    }
}

/// The token for `member` of deck `hash` at version `tag`, valid until `expires` (unix s).
pub fn sign(signer: &Signer, member: Member, hash: &str, tag: &str, expires: i64) -> String {
    signer.sign_payload(&format!("{}|{hash}|{tag}|{expires}", member.letter()))
}

/// Accepts `token` only if it is genuine, unexpired and made for exactly this URL.
pub fn verify(
    signer: &Signer,
    token: &str,
    member: Member,
    hash: &str,
    tag: &str,
    now: i64,
) -> Result<(), TokenError> {
    let payload = signer.open_payload(token)?;
    let mut parts = payload.split('|');
    let (Some(letter), Some(signed_hash), Some(signed_tag), Some(expires), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Invalid);
    };
    let expires: i64 = expires.parse().map_err(|_| TokenError::Invalid)?;
    if letter != member.letter() || signed_hash != hash || signed_tag != tag {
        return Err(TokenError::Foreign);
    }
    if expires < now {
        return Err(TokenError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_member_deck_version_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Signer::load_or_create(&dir.path().join("k")).unwrap();
        let t = sign(&signer, Member::Archive, "a-b-c", "1_0_2_3", 100);
        assert_eq!(
            verify(&signer, &t, Member::Archive, "a-b-c", "1_0_2_3", 100),
            Ok(())
        );
        assert_eq!(
            verify(&signer, &t, Member::Archive, "a-b-c", "1_0_2_3", 101),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&signer, &t, Member::Manifest, "a-b-c", "1_0_2_3", 100),
            Err(TokenError::Foreign)
        );
        assert_eq!(
            verify(&signer, &t, Member::Archive, "a-b-c", "2_0_2_3", 100),
            Err(TokenError::Foreign)
        );
        let media = signer.sign_payload("d|0|0|1|png|100");
        assert_eq!(
            verify(&signer, &media, Member::Archive, "a-b-c", "1_0_2_3", 100),
            Err(TokenError::Invalid)
        );
    }
}
