//! SIM binding: a device's public key becomes bound when the account's phone sends the
//! binding token by SMS. A user has at most one bound device: binding one revokes the others
//! (their keys, bindings and sessions). Also the nonces of signed requests and the user's
//! device list.
//!
//! **Atomicity.** Every rule that changes a user's bindings or bound keys locks
//! [`LockKey::Bindings`] (the user) before it reads them: two bindings completing at once
//! must not both see "no other bound device" and both bind. [`bind`] finds the user by the
//! token, locks, then reads the binding again under the lock. A nonce is one conditional
//! insert (it does nothing when the device used the nonce already) and needs no lock.

use super::session::SessionTx;
use super::{LockKey, opt_unix_time, unix_time};
use crate::store::StoreError;
use crate::store::identity::{InboundMessage, InboundOutcome, NewBinding};
use warung_core::protocol::{BindingState, BindingStatus, DeviceSummary};

/// A binding's stored state (expiry is computed from `expires_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingRowState {
    Pending,
    Bound,
    Revoked,
}

impl BindingRowState {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingRowState::Pending => "pending",
            BindingRowState::Bound => "bound",
            BindingRowState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<BindingRowState> {
        match s {
            "pending" => Some(BindingRowState::Pending),
            "bound" => Some(BindingRowState::Bound),
            "revoked" => Some(BindingRowState::Revoked),
            _ => None,
        }
    }
}

/// A binding as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRow {
    pub device_id: String,
    pub state: BindingRowState,
    pub expires_at: i64,
    pub bound_at: Option<i64>,
}

/// The newest binding holding a token, with its user's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBinding {
    pub id: String,
    pub user_id: String,
    pub device_id: String,
    pub public_key: Vec<u8>,
    pub state: BindingRowState,
    pub expires_at: i64,
    pub phone: String,
}

/// A device of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDeviceRow {
    pub device_id: String,
    /// Set once bound (kept after a revocation).
    pub public_key: Option<Vec<u8>>,
    pub bound_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_login_at: i64,
}

/// The binding primitives, inside the caller's transaction.
pub trait BindingTx: SessionTx {
    fn insert_binding(&mut self, b: &NewBinding) -> Result<(), StoreError>;
    /// Revokes the device's bindings that are in `state`.
    fn revoke_bindings(
        &mut self,
        user_id: &str,
        device_id: &str,
        state: BindingRowState,
        now: i64,
    ) -> Result<(), StoreError>;
    fn binding(
        &mut self,
        user_id: &str,
        binding_id: &str,
    ) -> Result<Option<BindingRow>, StoreError>;
    fn binding_by_token(
        &mut self,
        token_hash: &[u8; 32],
    ) -> Result<Option<TokenBinding>, StoreError>;
    fn mark_bound(&mut self, binding_id: &str, now: i64) -> Result<(), StoreError>;
    /// The user's devices holding a key that is not revoked.
    fn bound_devices(&mut self, user_id: &str) -> Result<Vec<String>, StoreError>;
    /// Sets the device's key (creating the device row if new) and clears its revocation.
    fn bind_device_key(
        &mut self,
        user_id: &str,
        device_id: &str,
        public_key: &[u8],
        now: i64,
    ) -> Result<(), StoreError>;
    /// Revokes the device's key unless revoked already.
    fn revoke_device_key(
        &mut self,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// The key of the user's device if bound and not revoked.
    fn device_key(&mut self, user_id: &str, device_id: &str)
    -> Result<Option<Vec<u8>>, StoreError>;
    fn user_device_exists(&mut self, user_id: &str, device_id: &str) -> Result<bool, StoreError>;
    /// The user's devices, most recent login first, then by id.
    fn user_devices(&mut self, user_id: &str) -> Result<Vec<UserDeviceRow>, StoreError>;
    /// Deletes nonces seen before `before`.
    fn prune_nonces(&mut self, before: i64) -> Result<(), StoreError>;
    /// Records a nonce unless the device used it already (one conditional insert); `true`
    /// when recorded.
    fn insert_nonce(&mut self, device_id: &str, nonce: &str, now: i64) -> Result<bool, StoreError>;
}

/// Starts a binding, revoking the device's earlier pending ones. Locks [`LockKey::Bindings`].
pub fn start(tx: &mut dyn BindingTx, b: &NewBinding) -> Result<(), StoreError> {
    tx.lock(LockKey::Bindings(&b.user_id))?;
    tx.revoke_bindings(&b.user_id, &b.device_id, BindingRowState::Pending, b.now)?;
    tx.insert_binding(b)
}

/// A binding of the user (`NotFound` for another user's): a read, locks nothing.
pub fn status(
    tx: &mut dyn BindingTx,
    user_id: &str,
    binding_id: &str,
    now: i64,
) -> Result<BindingStatus, StoreError> {
    let row = tx
        .binding(user_id, binding_id)?
        .ok_or_else(|| StoreError::NotFound("no such binding".into()))?;
    let state = match row.state {
        BindingRowState::Bound => BindingState::Bound,
        BindingRowState::Revoked => BindingState::Revoked,
        BindingRowState::Pending if now >= row.expires_at => BindingState::Expired,
        BindingRowState::Pending => BindingState::Pending,
    };
    Ok(BindingStatus {
        binding_id: binding_id.to_owned(),
        device_id: row.device_id,
        state,
        expires_at: unix_time(row.expires_at)?,
        bound_at: opt_unix_time(row.bound_at)?,
    })
}

/// Revokes a device's key, its bindings and its sessions. The caller holds the user's
/// [`LockKey::Bindings`].
fn revoke_device_all(
    tx: &mut dyn BindingTx,
    user_id: &str,
    device_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.revoke_device_key(user_id, device_id, now)?;
    for state in [BindingRowState::Pending, BindingRowState::Bound] {
        tx.revoke_bindings(user_id, device_id, state, now)?;
    }
    tx.revoke_device_sessions(user_id, device_id, "device_revoked", now)
}

/// Revokes a device of the user; `NotFound` for an unknown or foreign device. Locks
/// [`LockKey::Bindings`].
pub fn revoke_device(
    tx: &mut dyn BindingTx,
    user_id: &str,
    device_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.lock(LockKey::Bindings(user_id))?;
    if !tx.user_device_exists(user_id, device_id)? {
        return Err(StoreError::NotFound("no such device".into()));
    }
    revoke_device_all(tx, user_id, device_id, now)
}

pub(crate) fn refused(reason: &str) -> InboundOutcome {
    InboundOutcome {
        result: "refused",
        reason: Some(reason.to_owned()),
        confirm_to: None,
    }
}

/// Acts on a binding SMS: the token must be pending, unexpired, and sent from the account's
/// phone. Every other bound device of the user loses its key, bindings and sessions. Locks
/// the user's [`LockKey::Bindings`] (found by the token, which is read again under it).
pub fn bind(
    tx: &mut dyn BindingTx,
    m: &InboundMessage,
    token_hash: &[u8; 32],
) -> Result<InboundOutcome, StoreError> {
    let Some(found) = tx.binding_by_token(token_hash)? else {
        return Ok(refused("unknown_token"));
    };
    tx.lock(LockKey::Bindings(&found.user_id))?;
    // Read again under the lock: another message may have used the token meanwhile.
    let Some(b) = tx.binding_by_token(token_hash)? else {
        return Ok(refused("unknown_token"));
    };
    if b.state != BindingRowState::Pending {
        return Ok(refused("token_used"));
    }
    if m.now >= b.expires_at {
        return Ok(refused("token_expired"));
    }
    if m.sender.as_deref() != Some(b.phone.as_str()) {
        return Ok(refused("wrong_sender"));
    }
    for other in tx.bound_devices(&b.user_id)? {
        if other != b.device_id {
            revoke_device_all(tx, &b.user_id, &other, m.now)?;
        }
    }
    tx.revoke_bindings(&b.user_id, &b.device_id, BindingRowState::Bound, m.now)?;
    tx.mark_bound(&b.id, m.now)?;
    tx.bind_device_key(&b.user_id, &b.device_id, &b.public_key, m.now)?;
    Ok(InboundOutcome {
        result: "bound",
        reason: None,
        confirm_to: Some(b.phone),
    })
}

/// The key of the user's bound device (a read: locks nothing).
pub fn device_key(
    tx: &mut dyn BindingTx,
    user_id: &str,
    device_id: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    tx.device_key(user_id, device_id)
}

/// Records a signed request's nonce; `false` when the device used it already. Prunes nonces
/// older than `keep_s` (beyond the clock-skew window a replay is refused by its timestamp).
/// The record is one conditional insert on (device, nonce): locks nothing.
pub fn use_nonce(
    tx: &mut dyn BindingTx,
    device_id: &str,
    nonce: &str,
    now: i64,
    keep_s: i64,
) -> Result<bool, StoreError> {
    tx.prune_nonces(now - keep_s)?;
    tx.insert_nonce(device_id, nonce, now)
}

/// The user's devices as `GET /v1/devices` shows them (a read: locks nothing).
pub fn devices(
    tx: &mut dyn BindingTx,
    user_id: &str,
    current: &str,
) -> Result<Vec<DeviceSummary>, StoreError> {
    tx.user_devices(user_id)?
        .into_iter()
        .map(|d| {
            Ok(DeviceSummary {
                current: d.device_id == current,
                bound: d.public_key.is_some() && d.revoked_at.is_none(),
                key_fingerprint: d
                    .public_key
                    .map(|k| crate::identity::hex(&crate::auth::sha256(&k)[..8])),
                device_id: d.device_id,
                bound_at: opt_unix_time(d.bound_at)?,
                revoked_at: opt_unix_time(d.revoked_at)?,
                last_login_at: unix_time(d.last_login_at)?,
            })
        })
        .collect()
}
