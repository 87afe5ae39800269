//! Secrets live only in the platform's secure storage (Android Keystore-backed storage, iOS
//! Keychain), which the app implements as [`SecureStorage`]; never in SQLite or in memory
//! longer than a call.
//!
//! Today the core keeps one secret there: the installation secret, 32 bytes from the OS
//! CSPRNG made on first use, which later issues use to key the device's signing identity.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;

/// Key under which the installation secret is stored.
pub const INSTALLATION_SECRET_KEY: &str = "warung.installation_secret.v1";

/// The app's secure key-value store. Implementations must be thread-safe.
pub trait SecureStorage: Send + Sync {
    fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, String>;
    fn put(&self, key: &str, value: &[u8]) -> std::result::Result<(), String>;
    fn delete(&self, key: &str) -> std::result::Result<(), String>;
}

fn storage_err(e: String) -> Error {
    Error::Storage(format!("secure storage: {e}"))
}

/// The installation secret: read from `storage`, or created (CSPRNG) and stored on first use.
/// A stored value of the wrong length is an error, not silently replaced.
pub fn installation_secret(storage: &dyn SecureStorage) -> Result<[u8; 32]> {
    if let Some(bytes) = storage.get(INSTALLATION_SECRET_KEY).map_err(storage_err)? {
        return bytes.try_into().map_err(|b: Vec<u8>| {
            Error::Storage(format!(
                "secure storage holds a {}-byte installation secret, expected 32",
                b.len()
            ))
        });
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| Error::Storage(format!("no randomness: {e}")))?;
    storage
        .put(INSTALLATION_SECRET_KEY, &secret)
        .map_err(storage_err)?;
    Ok(secret)
}

/// An in-memory [`SecureStorage`] for tests and the CLI (nothing survives the process).
#[derive(Default)]
pub struct MemoryStorage {
    map: Mutex<HashMap<String, Vec<u8>>>,
}

impl SecureStorage for MemoryStorage {
    fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        Ok(self.lock().get(key).cloned())
    }

    fn put(&self, key: &str, value: &[u8]) -> std::result::Result<(), String> {
        self.lock().insert(key.to_string(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> std::result::Result<(), String> {
        self.lock().remove(key);
        Ok(())
    }
}

impl MemoryStorage {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reused() {
        let s = MemoryStorage::default();
        let a = installation_secret(&s).unwrap();
        let b = installation_secret(&s).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, [0u8; 32]);
        let other = installation_secret(&MemoryStorage::default()).unwrap();
        assert_ne!(a, other, "each install gets its own");
    }

    #[test]
    fn wrong_length_and_storage_failures_are_errors() {
        let s = MemoryStorage::default();
        s.put(INSTALLATION_SECRET_KEY, b"short").unwrap();
        assert!(matches!(installation_secret(&s), Err(Error::Storage(_))));
        struct Broken;
        impl SecureStorage for Broken {
            fn get(&self, _: &str) -> std::result::Result<Option<Vec<u8>>, String> {
                Err("keystore locked".into())
            }
            fn put(&self, _: &str, _: &[u8]) -> std::result::Result<(), String> {
                Err("keystore locked".into())
            }
            fn delete(&self, _: &str) -> std::result::Result<(), String> {
                Ok(())
            }
        }
        let e = installation_secret(&Broken).unwrap_err();
        assert!(e.to_string().contains("keystore locked"));
    }
}
