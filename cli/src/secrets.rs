//! The CLI's [`SecureStorage`]: one JSON file beside the profile, readable by its owner only
//! (mode 0600), like `~/.netrc`. Phones use the Keystore / Keychain instead; a terminal has no
//! such thing, and the device token must survive between `warung sync` runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
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
        let tmp = self.path.with_extension("tmp");
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
}
