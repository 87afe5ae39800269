//! Sessions: a family per login, its access and refresh tokens (stored as hashes). A refresh
//! token is single use; presenting a rotated one again means it leaked, and revokes the
//! family.
//!
//! **Atomicity.** [`refresh`] locks [`LockKey::SessionFamily`] (found by reading the token,
//! then read again under the lock): "not rotated yet" then "rotate" must not interleave with
//! another refresh of the same family, or one token could be exchanged twice. Revoking a
//! family is one conditional update (`revoked_at IS NULL`) and needs no lock; a token created
//! in a family that is being revoked is dead anyway, because validity is checked against the
//! family.

use super::binding::BindingTx;
use super::{LockKey, Transaction};
use crate::store::StoreError;
use crate::store::identity::{AccessOutcome, AccountRow, NewSession, RefreshOutcome, SessionCtx};

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }
}

/// A token with its family and the family's user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub family_id: String,
    pub kind: TokenKind,
    pub expires_at: i64,
    /// Refresh tokens: when it was exchanged.
    pub rotated_at: Option<i64>,
    pub family_revoked_at: Option<i64>,
    pub user_id: String,
    pub device_id: String,
    pub phone: String,
}

/// The account facts `GET /v1/me` shows (the lock-out as stored, expired or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFacts {
    pub created_at: i64,
    pub pin_set: bool,
    pub pin_locked_until: Option<i64>,
    pub totp_enrolled: bool,
}

/// The session primitives, inside the caller's transaction.
pub trait SessionTx: Transaction {
    fn token(&mut self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError>;
    /// Creates the family unless it exists.
    fn insert_family(
        &mut self,
        family_id: &str,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    fn insert_token(
        &mut self,
        hash: &[u8; 32],
        family_id: &str,
        kind: TokenKind,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    fn mark_rotated(&mut self, hash: &[u8; 32], now: i64) -> Result<(), StoreError>;
    /// Revokes the family unless it is revoked already (one conditional update).
    fn revoke_family(&mut self, family_id: &str, reason: &str, now: i64) -> Result<(), StoreError>;
    /// Revokes every live family of the user's device (one conditional update).
    fn revoke_device_sessions(
        &mut self,
        user_id: &str,
        device_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    fn account(&mut self, user_id: &str) -> Result<Option<AccountFacts>, StoreError>;
}

fn insert_tokens(tx: &mut dyn SessionTx, s: &NewSession, now: i64) -> Result<(), StoreError> {
    let access = (&s.access_hash, TokenKind::Access, s.access_expires_at);
    let refresh = (&s.refresh_hash, TokenKind::Refresh, s.refresh_expires_at);
    for (hash, kind, expires_at) in [access, refresh] {
        tx.insert_token(hash, &s.family_id, kind, now, expires_at)?;
    }
    Ok(())
}

/// Creates a session (its family and first tokens) for a user's device. A new family id
/// locks nothing.
pub fn create(
    tx: &mut dyn SessionTx,
    user_id: &str,
    device_id: &str,
    s: &NewSession,
    now: i64,
) -> Result<(), StoreError> {
    tx.insert_family(&s.family_id, user_id, device_id, now)?;
    insert_tokens(tx, s, now)
}

fn context(row: TokenRow) -> SessionCtx {
    SessionCtx {
        user_id: row.user_id,
        phone: row.phone,
        device_id: row.device_id,
        family_id: row.family_id,
    }
}

/// The identity behind an access token (a read: locks nothing).
pub fn access(
    tx: &mut dyn SessionTx,
    hash: &[u8; 32],
    now: i64,
) -> Result<AccessOutcome, StoreError> {
    let Some(row) = tx.token(hash)? else {
        return Ok(AccessOutcome::Unknown);
    };
    if row.kind != TokenKind::Access {
        return Ok(AccessOutcome::Unknown);
    }
    if row.family_revoked_at.is_some() {
        return Ok(AccessOutcome::Revoked);
    }
    if now >= row.expires_at {
        return Ok(AccessOutcome::Expired);
    }
    Ok(AccessOutcome::Valid(context(row)))
}

/// Exchanges a refresh token for `next` (same family). A token exchanged before revokes the
/// family (`Reused`), and that revocation is kept: the caller commits it. Locks
/// [`LockKey::SessionFamily`] (the token is read again under it).
pub fn refresh(
    tx: &mut dyn SessionTx,
    hash: &[u8; 32],
    next: NewSession,
    now: i64,
) -> Result<RefreshOutcome, StoreError> {
    let Some(row) = tx.token(hash)? else {
        return Ok(RefreshOutcome::Unknown);
    };
    tx.lock(LockKey::SessionFamily(&row.family_id))?;
    // Read again under the lock: another refresh of the family may have committed meanwhile.
    let Some(row) = tx.token(hash)? else {
        return Ok(RefreshOutcome::Unknown);
    };
    if row.kind != TokenKind::Refresh {
        return Ok(RefreshOutcome::Unknown);
    }
    if row.family_revoked_at.is_some() {
        return Ok(RefreshOutcome::Revoked);
    }
    if row.rotated_at.is_some() {
        tx.revoke_family(&row.family_id, "refresh_reused", now)?;
        return Ok(RefreshOutcome::Reused);
    }
    if now >= row.expires_at {
        return Ok(RefreshOutcome::Expired);
    }
    tx.mark_rotated(hash, now)?;
    let next = NewSession {
        family_id: row.family_id.clone(),
        ..next
    };
    insert_tokens(tx, &next, now)?;
    Ok(RefreshOutcome::Rotated(context(row)))
}

/// Revokes a family (logout). One conditional update: locks nothing.
pub fn revoke(
    tx: &mut dyn SessionTx,
    family_id: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.revoke_family(family_id, reason, now)
}

/// The signed-in account: a lock-out that has run out is not shown (a read: locks nothing).
pub fn account(
    tx: &mut dyn BindingTx,
    user_id: &str,
    device_id: &str,
    now: i64,
) -> Result<AccountRow, StoreError> {
    let facts = tx
        .account(user_id)?
        .ok_or_else(|| StoreError::NotFound("no such user".into()))?;
    let device_bound = tx.device_key(user_id, device_id)?.is_some();
    Ok(AccountRow {
        created_at: facts.created_at,
        device_bound,
        pin_set: facts.pin_set,
        pin_locked_until: facts.pin_locked_until.filter(|u| *u > now),
        totp_enrolled: facts.totp_enrolled,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fake::Fake;
    use super::*;

    fn session(family: &str, n: u8) -> NewSession {
        NewSession {
            family_id: family.into(),
            access_hash: [n; 32],
            access_expires_at: 1_000 + 900,
            refresh_hash: [n + 100; 32],
            refresh_expires_at: 1_000 + 86_400,
        }
    }

    #[test]
    fn refresh_rotates_once_and_reuse_revokes_the_family() {
        let mut tx = Fake::with_user("u1", "+628111");
        create(&mut tx, "u1", "d1", &session("f1", 1), 1_000).unwrap();
        let first_refresh = [101u8; 32];
        match refresh(&mut tx, &first_refresh, session("ignored", 2), 1_010).unwrap() {
            RefreshOutcome::Rotated(ctx) => assert_eq!(ctx.family_id, "f1"),
            other => panic!("{other:?}"),
        }
        // The family is found by the token, locked, and the token read again under the lock.
        assert_eq!(
            tx.events,
            vec!["read token", "lock session_family:f1", "read token"]
        );
        // The new access token is in the same family and valid.
        assert!(matches!(
            access(&mut tx, &[2u8; 32], 1_020).unwrap(),
            AccessOutcome::Valid(SessionCtx { ref family_id, .. }) if family_id == "f1"
        ));
        // The rotated token comes back: the whole family dies, the new tokens with it.
        assert_eq!(
            refresh(&mut tx, &first_refresh, session("x", 3), 1_030).unwrap(),
            RefreshOutcome::Reused
        );
        assert_eq!(
            access(&mut tx, &[2u8; 32], 1_040).unwrap(),
            AccessOutcome::Revoked
        );
        assert_eq!(
            refresh(&mut tx, &[102u8; 32], session("x", 4), 1_040).unwrap(),
            RefreshOutcome::Revoked
        );
        // An access token is not a refresh token, and an unknown one is unknown.
        assert_eq!(
            refresh(&mut tx, &[1u8; 32], session("x", 5), 1_040).unwrap(),
            RefreshOutcome::Unknown
        );
        assert_eq!(
            access(&mut tx, &[9u8; 32], 1_040).unwrap(),
            AccessOutcome::Unknown
        );
    }

    #[test]
    fn expired_tokens() {
        let mut tx = Fake::with_user("u1", "+628111");
        create(&mut tx, "u1", "d1", &session("f1", 1), 1_000).unwrap();
        assert_eq!(
            access(&mut tx, &[1u8; 32], 1_900).unwrap(),
            AccessOutcome::Expired
        );
        assert_eq!(
            refresh(&mut tx, &[101u8; 32], session("x", 2), 1_000 + 86_400).unwrap(),
            RefreshOutcome::Expired
        );
    }
}
