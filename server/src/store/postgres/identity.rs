//! The identity primitives in PostgreSQL (sessions, OTP challenges and grants, bindings, nonces,
//! PIN, TOTP, inbound SMS, dev outbox) and the identity capability traits, each operation one
//! shared rule ([`crate::store::rules`]) in one read-write transaction or one read-only
//! snapshot.
//!
//! What holds with any number of server processes on one database:
//!
//! * Every read-then-write is serialized by the rule's own [`Transaction::lock`] call, taken
//!   before it reads: `pg_advisory_xact_lock`, held until commit or rollback. Writes run at
//!   READ COMMITTED, so each statement after the lock sees what the previous holder of the
//!   key committed (an OTP attempt counter, a PIN failure count, a TOTP step, a refresh
//!   rotation, the send-limit counts).
//! * The writes that take no lock are one conditional statement each, atomic on their own:
//!   `INSERT … ON CONFLICT DO NOTHING` (a nonce, a session family), an `UPDATE` guarded by its
//!   `WHERE` (revoking a family, enrolling TOTP only while no secret is set), which PostgreSQL
//!   re-checks on the newest row version after waiting for a concurrent writer.
//! * Types follow the schema (`migrations/postgres/0002_identity.sql`, `0003_…`): times and
//!   counters are `BIGINT` (`i64`; counters converted to the rules' `u32`/`u64`), hashes, keys
//!   and secrets `BYTEA`, enum texts `TEXT` (a value this code does not know is an error, not a
//!   guess).
//!
//! [`Transaction::lock`]: crate::store::rules::Transaction::lock

use super::{PgTx, big};
use crate::store::StoreError;
use crate::store::identity::*;
use crate::store::rules::binding::{BindingRow, BindingRowState, TokenBinding, UserDeviceRow};
use crate::store::rules::otp::{Challenge, OtpScope};
use crate::store::rules::pin::PinRow;
use crate::store::rules::session::{AccountFacts, TokenKind, TokenRow};
use crate::store::rules::sms::DevSmsRow;
use crate::store::rules::totp::TotpRow;
use crate::store::rules::{BindingTx, GrantTx, OtpTx, PinTx, SessionTx, SmsTx, TotpTx};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

/// A stored enum text the schema's CHECK allows but this code does not know.
fn unknown(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("stored {what} {value:?}"))
}

/// Column `i` of a row; a type that does not match the schema is an error, not a panic.
fn col<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, StoreError> {
    r.try_get(i)
        .map_err(|e| StoreError::Internal(format!("database: column {i}: {e}")))
}

/// A stored count the rules keep within `u32` (an OTP attempt counter, PBKDF2 iterations).
fn stored_u32(what: &str, n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Internal(format!("stored {what} {n}")))
}

/// A stored failure count, clamped to the rules' `u32` (as the SQLite backend reads it).
fn failures(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}

impl SessionTx for PgTx<'_> {
    fn token(&mut self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        let Some(r) = self.query_opt(
            "SELECT t.family_id, t.kind, t.expires_at, t.rotated_at, f.revoked_at, f.user_id, f.device_id, u.phone
             FROM session_token t JOIN session_family f ON f.id = t.family_id
             JOIN user_account u ON u.id = f.user_id WHERE t.token_hash = $1",
            &[&&hash[..]],
        )?
        else {
            return Ok(None);
        };
        let kind: String = col(&r, 1)?;
        Ok(Some(TokenRow {
            kind: TokenKind::parse(&kind).ok_or_else(|| unknown("token kind", &kind))?,
            family_id: col(&r, 0)?,
            expires_at: col(&r, 2)?,
            rotated_at: col(&r, 3)?,
            family_revoked_at: col(&r, 4)?,
            user_id: col(&r, 5)?,
            device_id: col(&r, 6)?,
            phone: col(&r, 7)?,
        }))
    }

    fn insert_family(
        &mut self,
        family_id: &str,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO session_family (id, user_id, device_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO NOTHING",
            &[&family_id, &user_id, &device_id, &now],
        )?;
        Ok(())
    }

    fn insert_token(
        &mut self,
        hash: &[u8; 32],
        family_id: &str,
        kind: TokenKind,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO session_token (token_hash, family_id, kind, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&&hash[..], &family_id, &kind.as_str(), &now, &expires_at],
        )?;
        Ok(())
    }

    fn mark_rotated(&mut self, hash: &[u8; 32], now: i64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE session_token SET rotated_at = $2 WHERE token_hash = $1",
            &[&&hash[..], &now],
        )?;
        Ok(())
    }

    fn revoke_family(&mut self, family_id: &str, reason: &str, now: i64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE session_family SET revoked_at = $2, revoke_reason = $3
             WHERE id = $1 AND revoked_at IS NULL",
            &[&family_id, &now, &reason],
        )?;
        Ok(())
    }

    fn revoke_device_sessions(
        &mut self,
        user_id: &str,
        device_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE session_family SET revoked_at = $3, revoke_reason = $4
             WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL",
            &[&user_id, &device_id, &now, &reason],
        )?;
        Ok(())
    }

    fn account(&mut self, user_id: &str) -> Result<Option<AccountFacts>, StoreError> {
        self.query_opt(
            "SELECT created_at, pin_hash IS NOT NULL, pin_locked_until, totp_secret IS NOT NULL
             FROM user_account WHERE id = $1",
            &[&user_id],
        )?
        .map(|r| {
            Ok(AccountFacts {
                created_at: col(&r, 0)?,
                pin_set: col(&r, 1)?,
                pin_locked_until: col(&r, 2)?,
                totp_enrolled: col(&r, 3)?,
            })
        })
        .transpose()
    }
}

impl GrantTx for PgTx<'_> {
    fn grant_valid(
        &mut self,
        user_id: &str,
        challenge_id: &str,
        tx_digest: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM otp_challenge WHERE id = $1 AND user_id = $2 AND purpose = 'step_up'
                 AND tx_digest = $3 AND verified_at IS NOT NULL AND consumed_at IS NULL
                 AND grant_expires_at > $4",
                &[&challenge_id, &user_id, &tx_digest, &now],
            )?
            .is_some())
    }

    fn consume_grant(&mut self, challenge_id: &str, now: i64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE otp_challenge SET consumed_at = $2 WHERE id = $1",
            &[&challenge_id, &now],
        )?;
        Ok(())
    }
}

impl OtpTx for PgTx<'_> {
    fn last_sent_at(&mut self, phone: &str) -> Result<Option<i64>, StoreError> {
        let r = self.query_one(
            "SELECT max(created_at) FROM otp_challenge WHERE phone = $1",
            &[&phone],
        )?;
        col(&r, 0)
    }

    fn count_since(
        &mut self,
        scope: OtpScope<'_>,
        since: i64,
    ) -> Result<(u64, Option<i64>), StoreError> {
        // Each scope has its index (otp_by_phone, otp_by_device, otp_by_client,
        // otp_by_prefix, otp_by_time). The global count has no key parameter (PostgreSQL
        // cannot type a parameter that is only tested for NULL).
        let (sql, key) = match scope {
            OtpScope::Phone(k) => (
                "SELECT count(*), min(created_at) FROM otp_challenge WHERE phone = $1 AND created_at > $2",
                Some(k),
            ),
            OtpScope::Device(k) => (
                "SELECT count(*), min(created_at) FROM otp_challenge WHERE device_id = $1 AND created_at > $2",
                Some(k),
            ),
            OtpScope::Address(k) => (
                "SELECT count(*), min(created_at) FROM otp_challenge WHERE client_key = $1 AND created_at > $2",
                Some(k),
            ),
            OtpScope::Prefix(k) => (
                "SELECT count(*), min(created_at) FROM otp_challenge WHERE phone_prefix = $1 AND created_at > $2",
                Some(k),
            ),
            OtpScope::Global => (
                "SELECT count(*), min(created_at) FROM otp_challenge WHERE created_at > $1",
                None,
            ),
        };
        let r = match key {
            Some(k) => self.query_one(sql, &[&k, &since])?,
            None => self.query_one(sql, &[&since])?,
        };
        let count: i64 = col(&r, 0)?;
        Ok((count.max(0) as u64, col(&r, 1)?))
    }

    fn insert_challenge(&mut self, o: &NewOtp, expires_at: i64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO otp_challenge (id, phone, purpose, device_id, user_id, tx_digest, code_hash, created_at, expires_at, client_key, phone_prefix)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &o.id,
                &o.phone,
                &o.purpose.as_str(),
                &o.device_id,
                &o.user_id,
                &o.tx_digest,
                &&o.code_hash[..],
                &o.now,
                &expires_at,
                &o.client_key,
                &o.phone_prefix,
            ],
        )?;
        Ok(())
    }

    fn delete_challenge(&mut self, id: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM otp_challenge WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn challenge(&mut self, id: &str) -> Result<Option<Challenge>, StoreError> {
        self.query_opt(
            "SELECT phone, purpose, device_id, user_id, tx_digest, code_hash, expires_at, attempts, verified_at
             FROM otp_challenge WHERE id = $1",
            &[&id],
        )?
        .map(|r| {
            Ok(Challenge {
                phone: col(&r, 0)?,
                purpose: col(&r, 1)?,
                device_id: col(&r, 2)?,
                user_id: col(&r, 3)?,
                tx_digest: col(&r, 4)?,
                code_hash: col(&r, 5)?,
                expires_at: col(&r, 6)?,
                attempts: stored_u32("OTP attempts", col(&r, 7)?)?,
                verified_at: col(&r, 8)?,
            })
        })
        .transpose()
    }

    fn set_attempts(&mut self, id: &str, attempts: u32) -> Result<(), StoreError> {
        self.execute(
            "UPDATE otp_challenge SET attempts = $2 WHERE id = $1",
            &[&id, &i64::from(attempts)],
        )?;
        Ok(())
    }

    fn mark_verified(
        &mut self,
        id: &str,
        now: i64,
        grant_expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE otp_challenge SET verified_at = $2, grant_expires_at = $3 WHERE id = $1",
            &[&id, &now, &grant_expires_at],
        )?;
        Ok(())
    }

    fn user_by_phone(&mut self, phone: &str) -> Result<Option<String>, StoreError> {
        self.query_opt("SELECT id FROM user_account WHERE phone = $1", &[&phone])?
            .map(|r| col(&r, 0))
            .transpose()
    }

    fn insert_user(&mut self, id: &str, phone: &str, now: i64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO user_account (id, phone, created_at) VALUES ($1, $2, $3)",
            &[&id, &phone, &now],
        )?;
        Ok(())
    }

    fn touch_user_device(
        &mut self,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO user_device (user_id, device_id, last_login_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, device_id) DO UPDATE SET last_login_at = EXCLUDED.last_login_at",
            &[&user_id, &device_id, &now],
        )?;
        Ok(())
    }
}

fn binding_state(s: String) -> Result<BindingRowState, StoreError> {
    BindingRowState::parse(&s).ok_or_else(|| unknown("binding state", &s))
}

impl BindingTx for PgTx<'_> {
    fn insert_binding(&mut self, b: &NewBinding) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO binding (id, user_id, device_id, public_key, token_hash, state, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
            &[
                &b.id,
                &b.user_id,
                &b.device_id,
                &b.public_key,
                &&b.token_hash[..],
                &b.now,
                &(b.now + b.ttl_s),
            ],
        )?;
        Ok(())
    }

    fn revoke_bindings(
        &mut self,
        user_id: &str,
        device_id: &str,
        state: BindingRowState,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE binding SET state = 'revoked', revoked_at = $3
             WHERE user_id = $1 AND device_id = $2 AND state = $4",
            &[&user_id, &device_id, &now, &state.as_str()],
        )?;
        Ok(())
    }

    fn binding(
        &mut self,
        user_id: &str,
        binding_id: &str,
    ) -> Result<Option<BindingRow>, StoreError> {
        self.query_opt(
            "SELECT device_id, state, expires_at, bound_at FROM binding WHERE id = $1 AND user_id = $2",
            &[&binding_id, &user_id],
        )?
        .map(|r| {
            Ok(BindingRow {
                device_id: col(&r, 0)?,
                state: binding_state(col(&r, 1)?)?,
                expires_at: col(&r, 2)?,
                bound_at: col(&r, 3)?,
            })
        })
        .transpose()
    }

    fn binding_by_token(
        &mut self,
        token_hash: &[u8; 32],
    ) -> Result<Option<TokenBinding>, StoreError> {
        // The id breaks a tie in created_at (ids are time-ordered UUIDv7).
        self.query_opt(
            "SELECT b.id, b.user_id, b.device_id, b.public_key, b.state, b.expires_at, u.phone
             FROM binding b JOIN user_account u ON u.id = b.user_id
             WHERE b.token_hash = $1 ORDER BY b.created_at DESC, b.id DESC LIMIT 1",
            &[&&token_hash[..]],
        )?
        .map(|r| {
            Ok(TokenBinding {
                id: col(&r, 0)?,
                user_id: col(&r, 1)?,
                device_id: col(&r, 2)?,
                public_key: col(&r, 3)?,
                state: binding_state(col(&r, 4)?)?,
                expires_at: col(&r, 5)?,
                phone: col(&r, 6)?,
            })
        })
        .transpose()
    }

    fn mark_bound(&mut self, binding_id: &str, now: i64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE binding SET state = 'bound', bound_at = $2 WHERE id = $1",
            &[&binding_id, &now],
        )?;
        Ok(())
    }

    fn bound_devices(&mut self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.query(
            "SELECT device_id FROM user_device
             WHERE user_id = $1 AND public_key IS NOT NULL AND revoked_at IS NULL",
            &[&user_id],
        )?
        .iter()
        .map(|r| col(r, 0))
        .collect()
    }

    fn bind_device_key(
        &mut self,
        user_id: &str,
        device_id: &str,
        public_key: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO user_device (user_id, device_id, public_key, bound_at, last_login_at)
             VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (user_id, device_id) DO UPDATE
             SET public_key = EXCLUDED.public_key, bound_at = EXCLUDED.bound_at, revoked_at = NULL",
            &[&user_id, &device_id, &public_key, &now],
        )?;
        Ok(())
    }

    fn revoke_device_key(
        &mut self,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE user_device SET revoked_at = $3
             WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL",
            &[&user_id, &device_id, &now],
        )?;
        Ok(())
    }

    fn device_key(
        &mut self,
        user_id: &str,
        device_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.query_opt(
            "SELECT public_key FROM user_device WHERE user_id = $1 AND device_id = $2
             AND public_key IS NOT NULL AND revoked_at IS NULL",
            &[&user_id, &device_id],
        )?
        .map(|r| col(&r, 0))
        .transpose()
    }

    fn user_device_exists(&mut self, user_id: &str, device_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM user_device WHERE user_id = $1 AND device_id = $2",
                &[&user_id, &device_id],
            )?
            .is_some())
    }

    fn user_devices(&mut self, user_id: &str) -> Result<Vec<UserDeviceRow>, StoreError> {
        // Byte order for the id, as SQLite compares text, whatever the database's collation.
        self.query(
            "SELECT device_id, public_key, bound_at, revoked_at, last_login_at
             FROM user_device WHERE user_id = $1 ORDER BY last_login_at DESC, device_id COLLATE \"C\"",
            &[&user_id],
        )?
        .iter()
        .map(|r| {
            Ok(UserDeviceRow {
                device_id: col(r, 0)?,
                public_key: col(r, 1)?,
                bound_at: col(r, 2)?,
                revoked_at: col(r, 3)?,
                last_login_at: col(r, 4)?,
            })
        })
        .collect()
    }

    fn prune_nonces(&mut self, before: i64) -> Result<(), StoreError> {
        self.execute("DELETE FROM request_nonce WHERE seen_at < $1", &[&before])?;
        Ok(())
    }

    fn insert_nonce(&mut self, device_id: &str, nonce: &str, now: i64) -> Result<bool, StoreError> {
        let inserted = self.execute(
            "INSERT INTO request_nonce (device_id, nonce, seen_at) VALUES ($1, $2, $3)
             ON CONFLICT (device_id, nonce) DO NOTHING",
            &[&device_id, &nonce, &now],
        )?;
        Ok(inserted == 1)
    }
}

impl PinTx for PgTx<'_> {
    fn pin(&mut self, user_id: &str) -> Result<Option<PinRow>, StoreError> {
        let Some(r) = self.query_opt(
            "SELECT pin_hash, pin_salt, pin_iterations, pin_failures, pin_locked_until
             FROM user_account WHERE id = $1",
            &[&user_id],
        )?
        else {
            return Ok(None);
        };
        let hash: Option<Vec<u8>> = col(&r, 0)?;
        let salt: Option<Vec<u8>> = col(&r, 1)?;
        let iterations: Option<i64> = col(&r, 2)?;
        Ok(Some(PinRow {
            pin: match (hash, salt, iterations) {
                (Some(h), Some(s), Some(i)) => Some((h, s, stored_u32("PIN iterations", i)?)),
                _ => None,
            },
            failures: failures(col(&r, 3)?),
            locked_until: col(&r, 4)?,
        }))
    }

    fn set_pin_failures(
        &mut self,
        user_id: &str,
        failures: u32,
        locked_until: Option<i64>,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE user_account SET pin_failures = $2, pin_locked_until = $3 WHERE id = $1",
            &[&user_id, &i64::from(failures), &locked_until],
        )?;
        Ok(())
    }

    fn set_pin(
        &mut self,
        user_id: &str,
        hash: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE user_account SET pin_hash = $2, pin_salt = $3, pin_iterations = $4,
             pin_failures = 0, pin_locked_until = NULL WHERE id = $1",
            &[&user_id, &hash, &salt, &i64::from(iterations)],
        )?;
        Ok(())
    }
}

impl TotpTx for PgTx<'_> {
    fn totp(&mut self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        self.query_opt(
            "SELECT totp_secret, totp_last_step, totp_failures, totp_window_start
             FROM user_account WHERE id = $1",
            &[&user_id],
        )?
        .map(|r| {
            let last_step: Option<i64> = col(&r, 1)?;
            Ok(TotpRow {
                secret: col(&r, 0)?,
                last_step: last_step.map(|s| s.max(0) as u64),
                failures: failures(col(&r, 2)?),
                window_start: col(&r, 3)?,
            })
        })
        .transpose()
    }

    fn set_totp_last_step(&mut self, user_id: &str, step: u64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE user_account SET totp_last_step = $2 WHERE id = $1",
            &[&user_id, &big(step)],
        )?;
        Ok(())
    }

    fn set_totp_failures(
        &mut self,
        user_id: &str,
        failures: u32,
        window_start: Option<i64>,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE user_account SET totp_failures = $2, totp_window_start = $3 WHERE id = $1",
            &[&user_id, &i64::from(failures), &window_start],
        )?;
        Ok(())
    }

    fn enroll_totp(&mut self, user_id: &str, secret: &[u8]) -> Result<bool, StoreError> {
        let n = self.execute(
            "UPDATE user_account SET totp_secret = $2, totp_failures = 0, totp_window_start = NULL
             WHERE id = $1 AND totp_secret IS NULL",
            &[&user_id, &secret],
        )?;
        Ok(n == 1)
    }

    fn clear_totp(&mut self, user_id: &str) -> Result<(), StoreError> {
        self.execute(
            "UPDATE user_account SET totp_secret = NULL, totp_failures = 0, totp_window_start = NULL
             WHERE id = $1",
            &[&user_id],
        )?;
        Ok(())
    }
}

fn dev_sms_row(r: &Row) -> Result<DevSmsRow, StoreError> {
    Ok(DevSmsRow {
        id: col(r, 0)?,
        to: col(r, 1)?,
        sender: col(r, 2)?,
        text: col(r, 3)?,
        created_at: col(r, 4)?,
    })
}

impl SmsTx for PgTx<'_> {
    fn inbound_seen(&mut self, message_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM inbound_sms WHERE message_id = $1",
                &[&message_id],
            )?
            .is_some())
    }

    fn inbound_count_since(&mut self, sender: &str, since: i64) -> Result<u64, StoreError> {
        let r = self.query_one(
            "SELECT count(*) FROM inbound_sms WHERE sender = $1 AND received_at > $2",
            &[&sender, &since],
        )?;
        let n: i64 = col(&r, 0)?;
        Ok(n.max(0) as u64)
    }

    fn insert_inbound(
        &mut self,
        message_id: &str,
        sender: &str,
        now: i64,
        outcome: &InboundOutcome,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO inbound_sms (message_id, sender, received_at, result, reason)
             VALUES ($1, $2, $3, $4, $5)",
            &[&message_id, &sender, &now, &outcome.result, &outcome.reason],
        )?;
        Ok(())
    }

    fn insert_dev_sms(&mut self, row: &DevSmsRow) -> Result<(), StoreError> {
        // seq is the identity column: the outbox's insertion order.
        self.execute(
            "INSERT INTO dev_sms (id, to_phone, sender, text, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&row.id, &row.to, &row.sender, &row.text, &row.created_at],
        )?;
        Ok(())
    }

    fn dev_sms(&mut self, to: Option<&str>, limit: u32) -> Result<Vec<DevSmsRow>, StoreError> {
        // Two statements rather than `$1 IS NULL OR to_phone = $1`: each has a plain plan
        // (the recipient's one on dev_sms_by_to).
        let limit = i64::from(limit);
        let rows = match to {
            Some(to) => self.query(
                "SELECT id, to_phone, sender, text, created_at FROM dev_sms
                 WHERE to_phone = $1 ORDER BY seq DESC LIMIT $2",
                &[&to, &limit],
            )?,
            None => self.query(
                "SELECT id, to_phone, sender, text, created_at FROM dev_sms
                 ORDER BY seq DESC LIMIT $1",
                &[&limit],
            )?,
        };
        rows.iter().map(dev_sms_row).collect()
    }
}
