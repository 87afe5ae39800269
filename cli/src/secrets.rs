//! The CLI's [`SecureStorage`]: one JSON file beside the profile, readable by its owner only
//! (mode 0600), like `~/.netrc`. Phones use the Keystore / Keychain instead; a terminal has no
//! such thing, and the device token must survive between `warung sync` runs.
//!
//! The file is the profile's whole file name plus `.secrets.json` (`shop.db` →
//! `shop.db.secrets.json`), so two profiles never share a device identity: deriving it by
//! replacing the extension once gave `x.db` and `x.sqlite` one device, and the server's copy of
//! the cart mixed both carts.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use warung_core::protocol::hex;
use warung_core::secrets::SecureStorage;

pub struct FileStorage {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileStorage {
    pub fn new(path: PathBuf) -> FileStorage {
        FileStorage {
            path,
            lock: Mutex::new(()),
        }
    }

    /// The secrets of the profile at `profile`. A file left by an older CLI under the old name
    /// (`x.secrets.json` for `x.db`) is moved to the new name the first time, so the profile
    /// keeps its device; moved, not copied, so no second profile can claim it too.
    pub fn for_profile(profile: &Path) -> Result<FileStorage, String> {
        let path = secrets_path(profile);
        let legacy = profile.with_extension("secrets.json");
        if legacy != path && !path.exists() && legacy.exists() {
            std::fs::rename(&legacy, &path)
                .map_err(|e| format!("moving {} to {}: {e}", legacy.display(), path.display()))?;
        }
        Ok(FileStorage::new(path))
    }

    fn load(&self) -> Result<BTreeMap<String, String>, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", self.path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    /// Writes a temporary file and renames it over the old one: never a half-written file.
    fn save(&self, map: &BTreeMap<String, String>) -> Result<(), String> {
        let tmp = with_suffix(&self.path, ".tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(|e| e.to_string())?;
        f.write_all(&serde_json::to_vec(map).map_err(|e| e.to_string())?)
            .and_then(|_| f.sync_all())
            .map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &self.path).map_err(|e| e.to_string())
    }
}

/// `<profile file name>.secrets.json`, beside the profile.
pub fn secrets_path(profile: &Path) -> PathBuf {
    with_suffix(profile, ".secrets.json")
}

/// `path` with `suffix` appended to its file name (never replacing an extension).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("odd-length hex".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

impl SecureStorage for FileStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.load()?.get(key).map(|v| unhex(v)).transpose()
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), String> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.load()?;
        map.insert(key.to_string(), hex(value));
        self.save(&map)
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.load()?;
        if map.remove(key).is_some() {
            self.save(&map)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let s = FileStorage::new(path.clone());
        assert_eq!(s.get("k").unwrap(), None);
        s.put("k", b"\x00\xffsecret").unwrap();
        assert_eq!(
            FileStorage::new(path.clone()).get("k").unwrap().unwrap(),
            b"\x00\xffsecret"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        s.delete("k").unwrap();
        assert_eq!(s.get("k").unwrap(), None);
        std::fs::write(&path, "garbage").unwrap();
        assert!(s.get("k").is_err());
    }

    #[test]
    fn profiles_that_differ_only_by_extension_never_share_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = ["x.db", "x.sqlite", "x", "x.db.bak"]
            .iter()
            .map(|p| secrets_path(&dir.path().join(p)))
            .collect();
        let unique: std::collections::BTreeSet<_> = paths.iter().collect();
        assert_eq!(unique.len(), paths.len(), "{paths:?}");
        assert_eq!(paths[0], dir.path().join("x.db.secrets.json"));
    }

    #[test]
    fn an_older_cli_file_moves_to_the_first_profile_that_claims_it() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("x.secrets.json");
        FileStorage::new(legacy.clone())
            .put("device", b"old")
            .unwrap();
        let db = FileStorage::for_profile(&dir.path().join("x.db")).unwrap();
        assert_eq!(db.get("device").unwrap().unwrap(), b"old");
        assert!(!legacy.exists());
        let sqlite = FileStorage::for_profile(&dir.path().join("x.sqlite")).unwrap();
        assert_eq!(sqlite.get("device").unwrap(), None);
    }
}
