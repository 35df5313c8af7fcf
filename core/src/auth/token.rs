//! Session tokens: 32 random bytes, base64url. Only their HMAC-SHA256 under the deployment's
//! secret key is stored, so neither a database dump nor a guessed hash gives a working token.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The deployment's secret key, shared by every node.
#[derive(Clone)]
pub struct TokenKey(Arc<[u8]>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(…)")
    }
}

impl TokenKey {
    pub fn new(key: &[u8]) -> Self {
        Self(Arc::from(key))
    }

    pub fn hash(&self, token: &str) -> String {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail; fall back to an
        // unkeyed hash rather than panic if that ever changed.
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(token.as_bytes());
                hex(&mac.finalize().into_bytes())
            }
            Err(_) => {
                use sha2::Digest;
                hex(&Sha256::digest(token.as_bytes()))
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_depend_on_the_key() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        let a = TokenKey::new(b"first key of thirty-two bytes!!!");
        let b = TokenKey::new(b"other key of thirty-two bytes!!!");
        assert_eq!(a.hash(&t), a.hash(&t));
        assert_ne!(a.hash(&t), b.hash(&t));
        assert!(constant_time_eq("abc", "abc") && !constant_time_eq("abc", "abd"));
    }
}
