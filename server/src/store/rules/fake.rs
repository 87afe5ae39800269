//! An in-memory context for the rules' unit tests: plain maps, no transactions (a test is one
//! caller), and a record of every key locked and of the reads that decide, so tests can check
//! what a rule locks and that it locks before it reads.

use super::oplog::{BucketState, OpLogTx, OpRow};
use super::otp::{Challenge, GrantTx, OtpScope, OtpTx};
use super::pin::{PinRow, PinTx};
use super::session::{AccountFacts, SessionTx, TokenKind, TokenRow};
use super::totp::{TotpRow, TotpTx};
use super::{LockKey, Transaction};
use crate::store::StoreError;
use crate::store::identity::NewOtp;
use std::collections::{BTreeMap, HashMap};

pub struct User {
    pub phone: String,
    pub created_at: i64,
    pub pin: PinRow,
    pub totp: TotpRow,
}

pub struct StoredChallenge {
    pub row: Challenge,
    pub created_at: i64,
    pub client_key: String,
    pub phone_prefix: String,
    pub grant_expires_at: Option<i64>,
    pub consumed_at: Option<i64>,
}

struct Family {
    user_id: String,
    device_id: String,
    revoked_at: Option<i64>,
}

struct Token {
    family_id: String,
    kind: TokenKind,
    expires_at: i64,
    rotated_at: Option<i64>,
}

struct Op {
    op_id: u64,
    bucket: String,
    kind: String,
    entity_id: String,
    tombstone: bool,
    json: String,
    checksum: u32,
}

#[derive(Default)]
pub struct Fake {
    /// Every key locked, as `LockKey::text`, in order.
    pub locks: Vec<String>,
    /// Locks (`lock <key>`) and deciding reads (`read <what>`), in order.
    pub events: Vec<String>,
    pub users: HashMap<String, User>,
    pub challenges: HashMap<String, StoredChallenge>,
    families: HashMap<String, Family>,
    tokens: HashMap<[u8; 32], Token>,
    /// (user, device) → last login.
    user_devices: HashMap<(String, String), i64>,
    sequence: u64,
    ops: Vec<Op>,
    buckets: BTreeMap<String, BucketState>,
}

impl Fake {
    pub fn with_user(id: &str, phone: &str) -> Fake {
        let mut fake = Fake::default();
        fake.insert_user(id, phone, 0).unwrap();
        fake
    }

    /// A verified, unconsumed step-up grant.
    pub fn grant(&mut self, id: &str, user_id: &str, digest: &str, expires_at: i64) {
        let phone = self.users[user_id].phone.clone();
        self.challenges.insert(
            id.to_owned(),
            StoredChallenge {
                row: Challenge {
                    phone,
                    purpose: "step_up".into(),
                    device_id: "d".into(),
                    user_id: Some(user_id.to_owned()),
                    tx_digest: Some(digest.to_owned()),
                    code_hash: vec![0; 32],
                    expires_at,
                    attempts: 0,
                    verified_at: Some(0),
                },
                created_at: 0,
                client_key: String::new(),
                phone_prefix: String::new(),
                grant_expires_at: Some(expires_at),
                consumed_at: None,
            },
        );
    }

    fn user(&mut self, id: &str) -> Result<&mut User, StoreError> {
        self.users
            .get_mut(id)
            .ok_or_else(|| StoreError::Internal(format!("no user {id}")))
    }
}

impl Transaction for Fake {
    fn lock(&mut self, key: LockKey<'_>) -> Result<(), StoreError> {
        self.locks.push(key.text());
        self.events.push(format!("lock {}", key.text()));
        Ok(())
    }
}

impl OpLogTx for Fake {
    fn next_op_ids(&mut self, n: u64) -> Result<u64, StoreError> {
        self.sequence += n;
        Ok(self.sequence)
    }
    fn delete_entity_op(&mut self, b: &str, k: &str, e: &str) -> Result<(), StoreError> {
        self.ops
            .retain(|o| !(o.bucket == b && o.kind == k && o.entity_id == e));
        Ok(())
    }
    fn insert_op(&mut self, op: &OpRow<'_>) -> Result<(), StoreError> {
        self.ops.push(Op {
            op_id: op.op_id,
            bucket: op.bucket.into(),
            kind: op.kind.into(),
            entity_id: op.entity_id.into(),
            tombstone: op.tombstone,
            json: op.json.into(),
            checksum: op.checksum,
        });
        Ok(())
    }
    fn set_head(&mut self, bucket: &str, head: u64) -> Result<(), StoreError> {
        self.buckets.entry(bucket.into()).or_default().head = head;
        Ok(())
    }
    fn bucket(&mut self, bucket: &str) -> Result<Option<BucketState>, StoreError> {
        Ok(self.buckets.get(bucket).copied())
    }
    fn buckets(&mut self) -> Result<Vec<(String, BucketState)>, StoreError> {
        Ok(self.buckets.iter().map(|(k, v)| (k.clone(), *v)).collect())
    }
    fn count_after(&mut self, bucket: &str, after: u64) -> Result<u64, StoreError> {
        Ok(self
            .ops
            .iter()
            .filter(|o| o.bucket == bucket && o.op_id > after)
            .count() as u64)
    }
    fn ops_after(
        &mut self,
        bucket: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, String, u32)>, StoreError> {
        let mut ops: Vec<_> = self
            .ops
            .iter()
            .filter(|o| o.bucket == bucket && o.op_id > after)
            .map(|o| (o.op_id, o.json.clone(), o.checksum))
            .collect();
        ops.sort_by_key(|o| o.0);
        ops.truncate(limit as usize);
        Ok(ops)
    }
    fn delete_tombstones(&mut self, bucket: &str, up_to: u64) -> Result<Vec<u64>, StoreError> {
        let gone = |o: &Op| o.bucket == bucket && o.tombstone && o.op_id <= up_to;
        let ids = self
            .ops
            .iter()
            .filter(|o| gone(o))
            .map(|o| o.op_id)
            .collect();
        self.ops.retain(|o| !gone(o));
        Ok(ids)
    }
    fn raise_horizon(&mut self, bucket: &str, horizon: u64) -> Result<(), StoreError> {
        let b = self.buckets.entry(bucket.into()).or_default();
        b.horizon = b.horizon.max(horizon);
        Ok(())
    }
}

impl SessionTx for Fake {
    fn token(&mut self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        self.events.push("read token".into());
        let Some(t) = self.tokens.get(hash) else {
            return Ok(None);
        };
        let f = &self.families[&t.family_id];
        Ok(Some(TokenRow {
            family_id: t.family_id.clone(),
            kind: t.kind,
            expires_at: t.expires_at,
            rotated_at: t.rotated_at,
            family_revoked_at: f.revoked_at,
            user_id: f.user_id.clone(),
            device_id: f.device_id.clone(),
            phone: self.users[&f.user_id].phone.clone(),
        }))
    }
    fn insert_family(
        &mut self,
        id: &str,
        user: &str,
        device: &str,
        _: i64,
    ) -> Result<(), StoreError> {
        self.families.entry(id.into()).or_insert(Family {
            user_id: user.into(),
            device_id: device.into(),
            revoked_at: None,
        });
        Ok(())
    }
    fn insert_token(
        &mut self,
        hash: &[u8; 32],
        family_id: &str,
        kind: TokenKind,
        _: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let token = Token {
            family_id: family_id.into(),
            kind,
            expires_at,
            rotated_at: None,
        };
        match self.tokens.insert(*hash, token) {
            None => Ok(()),
            Some(_) => Err(StoreError::Internal("duplicate token".into())),
        }
    }
    fn mark_rotated(&mut self, hash: &[u8; 32], now: i64) -> Result<(), StoreError> {
        if let Some(t) = self.tokens.get_mut(hash) {
            t.rotated_at = Some(now);
        }
        Ok(())
    }
    fn revoke_family(&mut self, id: &str, _: &str, now: i64) -> Result<(), StoreError> {
        if let Some(f) = self.families.get_mut(id) {
            f.revoked_at.get_or_insert(now);
        }
        Ok(())
    }
    fn revoke_device_sessions(
        &mut self,
        user: &str,
        device: &str,
        _: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        for f in self.families.values_mut() {
            if f.user_id == user && f.device_id == device {
                f.revoked_at.get_or_insert(now);
            }
        }
        Ok(())
    }
    fn account(&mut self, user_id: &str) -> Result<Option<AccountFacts>, StoreError> {
        Ok(self.users.get(user_id).map(|u| AccountFacts {
            created_at: u.created_at,
            pin_set: u.pin.pin.is_some(),
            pin_locked_until: u.pin.locked_until,
            totp_enrolled: u.totp.secret.is_some(),
        }))
    }
}

impl GrantTx for Fake {
    fn grant_valid(
        &mut self,
        user: &str,
        id: &str,
        digest: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.challenges.get(id).is_some_and(|c| {
            c.row.user_id.as_deref() == Some(user)
                && c.row.purpose == "step_up"
                && c.row.tx_digest.as_deref() == Some(digest)
                && c.row.verified_at.is_some()
                && c.consumed_at.is_none()
                && c.grant_expires_at.is_some_and(|g| g > now)
        }))
    }
    fn consume_grant(&mut self, id: &str, now: i64) -> Result<(), StoreError> {
        if let Some(c) = self.challenges.get_mut(id) {
            c.consumed_at = Some(now);
        }
        Ok(())
    }
}

impl OtpTx for Fake {
    fn last_sent_at(&mut self, phone: &str) -> Result<Option<i64>, StoreError> {
        self.events.push("read last_sent_at".into());
        Ok(self
            .challenges
            .values()
            .filter(|c| c.row.phone == phone)
            .map(|c| c.created_at)
            .max())
    }
    fn count_since(
        &mut self,
        scope: OtpScope<'_>,
        since: i64,
    ) -> Result<(u64, Option<i64>), StoreError> {
        let times: Vec<i64> = self
            .challenges
            .values()
            .filter(|c| c.created_at > since)
            .filter(|c| match scope {
                OtpScope::Phone(p) => c.row.phone == p,
                OtpScope::Device(d) => c.row.device_id == d,
                OtpScope::Address(a) => c.client_key == a,
                OtpScope::Prefix(p) => c.phone_prefix == p,
                OtpScope::Global => true,
            })
            .map(|c| c.created_at)
            .collect();
        Ok((times.len() as u64, times.iter().copied().min()))
    }
    fn insert_challenge(&mut self, o: &NewOtp, expires_at: i64) -> Result<(), StoreError> {
        let stored = StoredChallenge {
            row: Challenge {
                phone: o.phone.clone(),
                purpose: o.purpose.as_str().into(),
                device_id: o.device_id.clone(),
                user_id: o.user_id.clone(),
                tx_digest: o.tx_digest.clone(),
                code_hash: o.code_hash.to_vec(),
                expires_at,
                attempts: 0,
                verified_at: None,
            },
            created_at: o.now,
            client_key: o.client_key.clone(),
            phone_prefix: o.phone_prefix.clone(),
            grant_expires_at: None,
            consumed_at: None,
        };
        self.challenges.insert(o.id.clone(), stored);
        Ok(())
    }
    fn delete_challenge(&mut self, id: &str) -> Result<(), StoreError> {
        self.challenges.remove(id);
        Ok(())
    }
    fn challenge(&mut self, id: &str) -> Result<Option<Challenge>, StoreError> {
        self.events.push("read challenge".into());
        Ok(self.challenges.get(id).map(|c| c.row.clone()))
    }
    fn set_attempts(&mut self, id: &str, attempts: u32) -> Result<(), StoreError> {
        if let Some(c) = self.challenges.get_mut(id) {
            c.row.attempts = attempts;
        }
        Ok(())
    }
    fn mark_verified(&mut self, id: &str, now: i64, grant: Option<i64>) -> Result<(), StoreError> {
        if let Some(c) = self.challenges.get_mut(id) {
            c.row.verified_at = Some(now);
            c.grant_expires_at = grant;
        }
        Ok(())
    }
    fn user_by_phone(&mut self, phone: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .users
            .iter()
            .find(|(_, u)| u.phone == phone)
            .map(|(id, _)| id.clone()))
    }
    fn insert_user(&mut self, id: &str, phone: &str, now: i64) -> Result<(), StoreError> {
        if self.user_by_phone(phone)?.is_some() {
            return Err(StoreError::Internal("phone taken".into()));
        }
        let user = User {
            phone: phone.into(),
            created_at: now,
            pin: PinRow {
                pin: None,
                failures: 0,
                locked_until: None,
            },
            totp: TotpRow {
                secret: None,
                last_step: None,
                failures: 0,
                window_start: None,
            },
        };
        self.users.insert(id.into(), user);
        Ok(())
    }
    fn touch_user_device(&mut self, user: &str, device: &str, now: i64) -> Result<(), StoreError> {
        self.user_devices.insert((user.into(), device.into()), now);
        Ok(())
    }
}

impl PinTx for Fake {
    fn pin(&mut self, user_id: &str) -> Result<Option<PinRow>, StoreError> {
        self.events.push("read pin".into());
        Ok(self.users.get(user_id).map(|u| u.pin.clone()))
    }
    fn set_pin_failures(
        &mut self,
        user: &str,
        n: u32,
        until: Option<i64>,
    ) -> Result<(), StoreError> {
        let pin = &mut self.user(user)?.pin;
        pin.failures = n;
        pin.locked_until = until;
        Ok(())
    }
    fn set_pin(&mut self, user: &str, hash: &[u8], salt: &[u8], it: u32) -> Result<(), StoreError> {
        self.user(user)?.pin = PinRow {
            pin: Some((hash.to_vec(), salt.to_vec(), it)),
            failures: 0,
            locked_until: None,
        };
        Ok(())
    }
}

impl TotpTx for Fake {
    fn totp(&mut self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        self.events.push("read totp".into());
        Ok(self.users.get(user_id).map(|u| u.totp.clone()))
    }
    fn set_totp_last_step(&mut self, user: &str, step: u64) -> Result<(), StoreError> {
        self.user(user)?.totp.last_step = Some(step);
        Ok(())
    }
    fn set_totp_failures(
        &mut self,
        user: &str,
        n: u32,
        start: Option<i64>,
    ) -> Result<(), StoreError> {
        let totp = &mut self.user(user)?.totp;
        totp.failures = n;
        totp.window_start = start;
        Ok(())
    }
    fn enroll_totp(&mut self, user: &str, secret: &[u8]) -> Result<bool, StoreError> {
        let totp = &mut self.user(user)?.totp;
        if totp.secret.is_some() {
            return Ok(false);
        }
        totp.secret = Some(secret.to_vec());
        totp.failures = 0;
        totp.window_start = None;
        Ok(true)
    }
    fn clear_totp(&mut self, user: &str) -> Result<(), StoreError> {
        let totp = &mut self.user(user)?.totp;
        totp.secret = None;
        totp.failures = 0;
        totp.window_start = None;
        Ok(())
    }
}
