//! Helpers for the end-to-end tests in `tests/`: a server on loopback (in-process or as a
//! child process that can be SIGKILLed), phones (core profiles with sync clients), a
//! file-backed secure storage that survives a killed process, and catalog snapshots to
//! compare what a phone holds with what the server serves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use warung_core::Profile;
use warung_core::catalog::SearchQuery;
use warung_core::money::Currency;
use warung_core::secrets::SecureStorage;
use warung_core::sync::{RetryPolicy, SyncClient, SyncConfig};

/// One file per key in a directory: survives the process, like the Keychain.
pub struct DirStorage(pub PathBuf);

impl SecureStorage for DirStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        match std::fs::read(self.0.join(key)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), String> {
        std::fs::create_dir_all(&self.0).map_err(|e| e.to_string())?;
        let tmp = self.0.join(format!("{key}.tmp"));
        std::fs::write(&tmp, value).map_err(|e| e.to_string())?;
        std::fs::rename(tmp, self.0.join(key)).map_err(|e| e.to_string())
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        match std::fs::remove_file(self.0.join(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(()),
        }
    }
}

/// A phone: a profile in `dir` and its sync client, with its secure storage in `dir/keys`.
pub struct Phone {
    pub profile: Profile,
    pub sync: SyncClient,
}

impl Phone {
    pub fn open(dir: &Path, server_url: &str, page_limit: u32) -> Phone {
        Phone::open_with(dir, &dir.join("keys"), server_url, page_limit)
    }

    /// A phone whose secure storage lives elsewhere (a reinstall keeps the Keychain).
    pub fn open_with(dir: &Path, keys: &Path, server_url: &str, page_limit: u32) -> Phone {
        std::fs::create_dir_all(dir).unwrap();
        let profile = Profile::open(dir.join("profile.db"), Currency::IDR).unwrap();
        let mut config = SyncConfig::new(server_url, "cli");
        config.page_limit = page_limit;
        config.retry = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(20),
            max: Duration::from_millis(200),
        };
        let storage: Arc<dyn SecureStorage> = Arc::new(DirStorage(keys.to_path_buf()));
        let sync = SyncClient::new(profile.clone(), storage, config).unwrap();
        Phone { profile, sync }
    }
}

/// product id → (title, variant prices and bands) as a phone sees it, for comparisons.
pub fn snapshot(profile: &Profile) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = profile
            .catalog()
            .search(&SearchQuery {
                limit: 100,
                cursor,
                ..SearchQuery::default()
            })
            .unwrap();
        for hit in &page.hits {
            let d = profile.catalog().product(&hit.product_id).unwrap();
            let variants: Vec<String> = d
                .variants
                .iter()
                .map(|v| format!("{}:{:?}:{:?}", v.id, v.prices, v.stock))
                .collect();
            let prev = out.insert(
                hit.product_id.clone(),
                format!("{}|{}", d.product.title, variants.join(",")),
            );
            assert!(prev.is_none(), "product {} listed twice", hit.product_id);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}
