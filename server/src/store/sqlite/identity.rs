//! The identity primitives in SQLite (sessions, OTP challenges and grants, bindings, nonces,
//! PIN, TOTP, inbound SMS, dev outbox) and the identity capability traits, each operation one
//! shared rule ([`crate::store::rules`]) in one writer job or one read transaction.

use super::{SqlTx, enum_column};
use crate::store::StoreError;
use crate::store::identity::*;
use crate::store::rules::binding::{BindingRow, BindingRowState, TokenBinding, UserDeviceRow};
use crate::store::rules::otp::{Challenge, OtpScope};
use crate::store::rules::pin::PinRow;
use crate::store::rules::session::{AccountFacts, TokenKind, TokenRow};
use crate::store::rules::sms::DevSmsRow;
use crate::store::rules::totp::TotpRow;
use crate::store::rules::{BindingTx, GrantTx, OtpTx, PinTx, SessionTx, SmsTx, TotpTx};
use rusqlite::params;
use rusqlite::types::{FromSql, FromSqlResult, ValueRef};

impl FromSql for TokenKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<TokenKind> {
        enum_column(value, TokenKind::parse)
    }
}

impl FromSql for BindingRowState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<BindingRowState> {
        enum_column(value, BindingRowState::parse)
    }
}

/// A stored count (never negative) as a `u32`.
fn count(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}

impl SessionTx for SqlTx<'_> {
    fn token(&mut self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        self.row(
            "SELECT t.family_id, t.kind, t.expires_at, t.rotated_at, f.revoked_at, f.user_id, f.device_id, u.phone
             FROM session_token t JOIN session_family f ON f.id = t.family_id
             JOIN user_account u ON u.id = f.user_id WHERE t.token_hash = ?1",
            [&hash[..]],
            |r| {
                Ok(TokenRow {
                    family_id: r.get(0)?,
                    kind: r.get(1)?,
                    expires_at: r.get(2)?,
                    rotated_at: r.get(3)?,
                    family_revoked_at: r.get(4)?,
                    user_id: r.get(5)?,
                    device_id: r.get(6)?,
                    phone: r.get(7)?,
                })
            },
        )
    }

    fn insert_family(
        &mut self,
        family_id: &str,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT OR IGNORE INTO session_family (id, user_id, device_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![family_id, user_id, device_id, now],
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
        self.exec(
            "INSERT INTO session_token (token_hash, family_id, kind, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&hash[..], family_id, kind.as_str(), now, expires_at],
        )?;
        Ok(())
    }

    fn mark_rotated(&mut self, hash: &[u8; 32], now: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE session_token SET rotated_at = ?2 WHERE token_hash = ?1",
            params![&hash[..], now],
        )?;
        Ok(())
    }

    fn revoke_family(&mut self, family_id: &str, reason: &str, now: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE session_family SET revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1 AND revoked_at IS NULL",
            params![family_id, now, reason],
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
        self.exec(
            "UPDATE session_family SET revoked_at = ?3, revoke_reason = ?4
             WHERE user_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
            params![user_id, device_id, now, reason],
        )?;
        Ok(())
    }

    fn account(&mut self, user_id: &str) -> Result<Option<AccountFacts>, StoreError> {
        self.row(
            "SELECT created_at, pin_hash IS NOT NULL, pin_locked_until, totp_secret IS NOT NULL
             FROM user_account WHERE id = ?1",
            [user_id],
            |r| {
                Ok(AccountFacts {
                    created_at: r.get(0)?,
                    pin_set: r.get(1)?,
                    pin_locked_until: r.get(2)?,
                    totp_enrolled: r.get(3)?,
                })
            },
        )
    }
}

impl GrantTx for SqlTx<'_> {
    fn grant_valid(
        &mut self,
        user_id: &str,
        challenge_id: &str,
        tx_digest: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.exists(
            "SELECT 1 FROM otp_challenge WHERE id = ?1 AND user_id = ?2 AND purpose = 'step_up'
             AND tx_digest = ?3 AND verified_at IS NOT NULL AND consumed_at IS NULL AND grant_expires_at > ?4",
            params![challenge_id, user_id, tx_digest, now],
        )
    }

    fn consume_grant(&mut self, challenge_id: &str, now: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE otp_challenge SET consumed_at = ?2 WHERE id = ?1",
            params![challenge_id, now],
        )?;
        Ok(())
    }
}

impl OtpTx for SqlTx<'_> {
    fn last_sent_at(&mut self, phone: &str) -> Result<Option<i64>, StoreError> {
        self.run(|c| {
            c.prepare_cached("SELECT max(created_at) FROM otp_challenge WHERE phone = ?1")?
                .query_row([phone], |r| r.get(0))
        })
    }

    fn count_since(
        &mut self,
        scope: OtpScope<'_>,
        since: i64,
    ) -> Result<(u64, Option<i64>), StoreError> {
        // Each scope has its index (otp_by_phone, otp_by_device, otp_by_client,
        // otp_by_prefix, otp_by_time); ?1 is unused for the global budget.
        let (column, key) = match scope {
            OtpScope::Phone(k) => ("phone = ?1", Some(k)),
            OtpScope::Device(k) => ("device_id = ?1", Some(k)),
            OtpScope::Address(k) => ("client_key = ?1", Some(k)),
            OtpScope::Prefix(k) => ("phone_prefix = ?1", Some(k)),
            OtpScope::Global => ("?1 IS NULL", None),
        };
        let sql = format!(
            "SELECT count(*), min(created_at) FROM otp_challenge WHERE {column} AND created_at > ?2"
        );
        let (count, oldest): (i64, Option<i64>) = self.run(|c| {
            c.prepare_cached(&sql)?
                .query_row(params![key, since], |r| Ok((r.get(0)?, r.get(1)?)))
        })?;
        Ok((count as u64, oldest))
    }

    fn insert_challenge(&mut self, o: &NewOtp, expires_at: i64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO otp_challenge (id, phone, purpose, device_id, user_id, tx_digest, code_hash, created_at, expires_at, client_key, phone_prefix)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                o.id,
                o.phone,
                o.purpose.as_str(),
                o.device_id,
                o.user_id,
                o.tx_digest,
                &o.code_hash[..],
                o.now,
                expires_at,
                o.client_key,
                o.phone_prefix
            ],
        )?;
        Ok(())
    }

    fn delete_challenge(&mut self, id: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM otp_challenge WHERE id = ?1", [id])?;
        Ok(())
    }

    fn challenge(&mut self, id: &str) -> Result<Option<Challenge>, StoreError> {
        self.row(
            "SELECT phone, purpose, device_id, user_id, tx_digest, code_hash, expires_at, attempts, verified_at
             FROM otp_challenge WHERE id = ?1",
            [id],
            |r| {
                Ok(Challenge {
                    phone: r.get(0)?,
                    purpose: r.get(1)?,
                    device_id: r.get(2)?,
                    user_id: r.get(3)?,
                    tx_digest: r.get(4)?,
                    code_hash: r.get(5)?,
                    expires_at: r.get(6)?,
                    attempts: count(r.get(7)?),
                    verified_at: r.get(8)?,
                })
            },
        )
    }

    fn set_attempts(&mut self, id: &str, attempts: u32) -> Result<(), StoreError> {
        self.exec(
            "UPDATE otp_challenge SET attempts = ?2 WHERE id = ?1",
            params![id, attempts],
        )?;
        Ok(())
    }

    fn mark_verified(
        &mut self,
        id: &str,
        now: i64,
        grant_expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE otp_challenge SET verified_at = ?2, grant_expires_at = ?3 WHERE id = ?1",
            params![id, now, grant_expires_at],
        )?;
        Ok(())
    }

    fn user_by_phone(&mut self, phone: &str) -> Result<Option<String>, StoreError> {
        self.row(
            "SELECT id FROM user_account WHERE phone = ?1",
            [phone],
            |r| r.get(0),
        )
    }

    fn insert_user(&mut self, id: &str, phone: &str, now: i64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO user_account (id, phone, created_at) VALUES (?1, ?2, ?3)",
            params![id, phone, now],
        )?;
        Ok(())
    }

    fn touch_user_device(
        &mut self,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO user_device (user_id, device_id, last_login_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, device_id) DO UPDATE SET last_login_at = excluded.last_login_at",
            params![user_id, device_id, now],
        )?;
        Ok(())
    }
}

impl BindingTx for SqlTx<'_> {
    fn insert_binding(&mut self, b: &NewBinding) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO binding (id, user_id, device_id, public_key, token_hash, state, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
            params![
                b.id,
                b.user_id,
                b.device_id,
                b.public_key,
                &b.token_hash[..],
                b.now,
                b.now + b.ttl_s
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
        self.exec(
            "UPDATE binding SET state = 'revoked', revoked_at = ?3
             WHERE user_id = ?1 AND device_id = ?2 AND state = ?4",
            params![user_id, device_id, now, state.as_str()],
        )?;
        Ok(())
    }

    fn binding(
        &mut self,
        user_id: &str,
        binding_id: &str,
    ) -> Result<Option<BindingRow>, StoreError> {
        self.row(
            "SELECT device_id, state, expires_at, bound_at FROM binding WHERE id = ?1 AND user_id = ?2",
            params![binding_id, user_id],
            |r| {
                Ok(BindingRow {
                    device_id: r.get(0)?,
                    state: r.get(1)?,
                    expires_at: r.get(2)?,
                    bound_at: r.get(3)?,
                })
            },
        )
    }

    fn binding_by_token(
        &mut self,
        token_hash: &[u8; 32],
    ) -> Result<Option<TokenBinding>, StoreError> {
        self.row(
            "SELECT b.id, b.user_id, b.device_id, b.public_key, b.state, b.expires_at, u.phone
             FROM binding b JOIN user_account u ON u.id = b.user_id
             WHERE b.token_hash = ?1 ORDER BY b.created_at DESC LIMIT 1",
            [&token_hash[..]],
            |r| {
                Ok(TokenBinding {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    device_id: r.get(2)?,
                    public_key: r.get(3)?,
                    state: r.get(4)?,
                    expires_at: r.get(5)?,
                    phone: r.get(6)?,
                })
            },
        )
    }

    fn mark_bound(&mut self, binding_id: &str, now: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE binding SET state = 'bound', bound_at = ?2 WHERE id = ?1",
            params![binding_id, now],
        )?;
        Ok(())
    }

    fn bound_devices(&mut self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.rows(
            "SELECT device_id FROM user_device
             WHERE user_id = ?1 AND public_key IS NOT NULL AND revoked_at IS NULL",
            [user_id],
            |r| r.get(0),
        )
    }

    fn bind_device_key(
        &mut self,
        user_id: &str,
        device_id: &str,
        public_key: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO user_device (user_id, device_id, public_key, bound_at, last_login_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (user_id, device_id) DO UPDATE
             SET public_key = excluded.public_key, bound_at = excluded.bound_at, revoked_at = NULL",
            params![user_id, device_id, public_key, now],
        )?;
        Ok(())
    }

    fn revoke_device_key(
        &mut self,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE user_device SET revoked_at = ?3 WHERE user_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
            params![user_id, device_id, now],
        )?;
        Ok(())
    }

    fn device_key(
        &mut self,
        user_id: &str,
        device_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.row(
            "SELECT public_key FROM user_device WHERE user_id = ?1 AND device_id = ?2
             AND public_key IS NOT NULL AND revoked_at IS NULL",
            params![user_id, device_id],
            |r| r.get(0),
        )
    }

    fn user_device_exists(&mut self, user_id: &str, device_id: &str) -> Result<bool, StoreError> {
        self.exists(
            "SELECT 1 FROM user_device WHERE user_id = ?1 AND device_id = ?2",
            params![user_id, device_id],
        )
    }

    fn user_devices(&mut self, user_id: &str) -> Result<Vec<UserDeviceRow>, StoreError> {
        self.rows(
            "SELECT device_id, public_key, bound_at, revoked_at, last_login_at
             FROM user_device WHERE user_id = ?1 ORDER BY last_login_at DESC, device_id",
            [user_id],
            |r| {
                Ok(UserDeviceRow {
                    device_id: r.get(0)?,
                    public_key: r.get(1)?,
                    bound_at: r.get(2)?,
                    revoked_at: r.get(3)?,
                    last_login_at: r.get(4)?,
                })
            },
        )
    }

    fn prune_nonces(&mut self, before: i64) -> Result<(), StoreError> {
        self.exec("DELETE FROM request_nonce WHERE seen_at < ?1", [before])?;
        Ok(())
    }

    fn insert_nonce(&mut self, device_id: &str, nonce: &str, now: i64) -> Result<bool, StoreError> {
        let inserted = self.exec(
            "INSERT OR IGNORE INTO request_nonce (device_id, nonce, seen_at) VALUES (?1, ?2, ?3)",
            params![device_id, nonce, now],
        )?;
        Ok(inserted == 1)
    }
}

impl PinTx for SqlTx<'_> {
    fn pin(&mut self, user_id: &str) -> Result<Option<PinRow>, StoreError> {
        self.row(
            "SELECT pin_hash, pin_salt, pin_iterations, pin_failures, pin_locked_until
             FROM user_account WHERE id = ?1",
            [user_id],
            |r| {
                let hash: Option<Vec<u8>> = r.get(0)?;
                let salt: Option<Vec<u8>> = r.get(1)?;
                let iterations: Option<i64> = r.get(2)?;
                Ok(PinRow {
                    pin: match (hash, salt, iterations) {
                        (Some(h), Some(s), Some(i)) => Some((h, s, count(i))),
                        _ => None,
                    },
                    failures: count(r.get(3)?),
                    locked_until: r.get(4)?,
                })
            },
        )
    }

    fn set_pin_failures(
        &mut self,
        user_id: &str,
        failures: u32,
        locked_until: Option<i64>,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE user_account SET pin_failures = ?2, pin_locked_until = ?3 WHERE id = ?1",
            params![user_id, failures, locked_until],
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
        self.exec(
            "UPDATE user_account SET pin_hash = ?2, pin_salt = ?3, pin_iterations = ?4,
             pin_failures = 0, pin_locked_until = NULL WHERE id = ?1",
            params![user_id, hash, salt, iterations],
        )?;
        Ok(())
    }
}

impl TotpTx for SqlTx<'_> {
    fn totp(&mut self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        self.row(
            "SELECT totp_secret, totp_last_step, totp_failures, totp_window_start
             FROM user_account WHERE id = ?1",
            [user_id],
            |r| {
                Ok(TotpRow {
                    secret: r.get(0)?,
                    last_step: r.get::<_, Option<i64>>(1)?.map(|s| s.max(0) as u64),
                    failures: count(r.get(2)?),
                    window_start: r.get(3)?,
                })
            },
        )
    }

    fn set_totp_last_step(&mut self, user_id: &str, step: u64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE user_account SET totp_last_step = ?2 WHERE id = ?1",
            params![user_id, step.min(i64::MAX as u64) as i64],
        )?;
        Ok(())
    }

    fn set_totp_failures(
        &mut self,
        user_id: &str,
        failures: u32,
        window_start: Option<i64>,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE user_account SET totp_failures = ?2, totp_window_start = ?3 WHERE id = ?1",
            params![user_id, failures, window_start],
        )?;
        Ok(())
    }

    fn enroll_totp(&mut self, user_id: &str, secret: &[u8]) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE user_account SET totp_secret = ?2, totp_failures = 0,
             totp_window_start = NULL WHERE id = ?1 AND totp_secret IS NULL",
            params![user_id, secret],
        )?;
        Ok(n == 1)
    }

    fn clear_totp(&mut self, user_id: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE user_account SET totp_secret = NULL, totp_failures = 0, totp_window_start = NULL
             WHERE id = ?1",
            [user_id],
        )?;
        Ok(())
    }
}

impl SmsTx for SqlTx<'_> {
    fn inbound_seen(&mut self, message_id: &str) -> Result<bool, StoreError> {
        self.exists(
            "SELECT 1 FROM inbound_sms WHERE message_id = ?1",
            [message_id],
        )
    }

    fn inbound_count_since(&mut self, sender: &str, since: i64) -> Result<u64, StoreError> {
        let n: i64 = self.run(|c| {
            c.prepare_cached(
                "SELECT count(*) FROM inbound_sms WHERE sender = ?1 AND received_at > ?2",
            )?
            .query_row(params![sender, since], |r| r.get(0))
        })?;
        Ok(n as u64)
    }

    fn insert_inbound(
        &mut self,
        message_id: &str,
        sender: &str,
        now: i64,
        outcome: &InboundOutcome,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO inbound_sms (message_id, sender, received_at, result, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![message_id, sender, now, outcome.result, outcome.reason],
        )?;
        Ok(())
    }

    fn insert_dev_sms(&mut self, row: &DevSmsRow) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO dev_sms (id, to_phone, sender, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![row.id, row.to, row.sender, row.text, row.created_at],
        )?;
        Ok(())
    }

    fn dev_sms(&mut self, to: Option<&str>, limit: u32) -> Result<Vec<DevSmsRow>, StoreError> {
        self.rows(
            "SELECT id, to_phone, sender, text, created_at FROM dev_sms
             WHERE ?1 IS NULL OR to_phone = ?1 ORDER BY seq DESC LIMIT ?2",
            params![to, limit],
            |r| {
                Ok(DevSmsRow {
                    id: r.get(0)?,
                    to: r.get(1)?,
                    sender: r.get(2)?,
                    text: r.get(3)?,
                    created_at: r.get(4)?,
                })
            },
        )
    }
}
