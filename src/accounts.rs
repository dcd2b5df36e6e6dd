//! Account secrets: argon2id passwords, tokens stored only as SHA-256, usernames and the
//! add-on's user hash. Sessions built on them are in `domain::sessions`.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

/// argon2id with OWASP's low-memory parameter set (7 MiB, 5 passes): a Pi can afford it.
fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(7 * 1024, 5, 1, None).expect("valid argon2 params"),
    )
}

/// Used to spend the same time on unknown usernames as on wrong passwords.
pub static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a real password").expect("hashing works"));

/// Hashes a password into a PHC string.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?
        .to_string())
}

/// Whether `password` matches the PHC string `phc` (argon2id, slow on purpose).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// SHA-256 of a token, the only form stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The add-on's user hash: hex SHA-256 of the lower-cased username.
pub fn user_hash(username: &str) -> String {
    hex::encode(Sha256::digest(username.to_lowercase().as_bytes()))
}

/// Normalises and checks a username the way the AnkiCollab website does.
pub fn normalize_username(name: &str) -> anyhow::Result<String> {
    let name = name.trim().to_lowercase();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 30,
        "usernames have 1 to 30 characters"
    );
    anyhow::ensure!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "usernames may contain only letters, digits, '_' and '-'"
    );
    Ok(name)
}

/// Checks a new password.
pub fn check_password_strength(password: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        password.chars().count() >= 8,
        "passwords need at least 8 characters"
    );
    anyhow::ensure!(password.len() <= 1024, "passwords are at most 1024 bytes");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_hash_vector() {
        assert_eq!(
            user_hash("Alice"),
            "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
        );
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
    }

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(normalize_username(" Alice ").unwrap(), "alice");
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username(&"x".repeat(31)).is_err());
    }
}
