//! SQLite implementation of [`IdentityStore`]. Each write is one writer job (one savepoint):
//! every multi-row change is atomic, and the jobs that must persist a failure return
//! `Ok(outcome)`.

use super::SqliteStore;
use crate::store::identity::*;
use crate::store::{StoreError, StoreFuture};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use warung_core::protocol::{BindingState, BindingStatus, DeviceSummary, OtpPurpose};

fn ts(unix: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|e| StoreError::Internal(format!("stored time {unix}: {e}")))
}

fn opt_ts(unix: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    unix.map(ts).transpose()
}

fn otp_create(c: &Connection, o: &NewOtp) -> Result<OtpCreated, StoreError> {
    let hour_ago = o.now - 3600;
    // Resend cool-down per phone.
    let last: Option<i64> = c
        .prepare_cached("SELECT max(created_at) FROM otp_challenge WHERE phone = ?1")?
        .query_row([&o.phone], |r| r.get(0))?;
    if let Some(last) = last
        && last + o.resend_s > o.now
    {
        return Ok(OtpCreated::RateLimited {
            retry_after_s: (last + o.resend_s - o.now) as u64,
            reason: "resend_cooldown",
        });
    }
    // Hourly limits. Atomic on SQLite: this runs as one writer job inside a `BEGIN IMMEDIATE`
    // transaction (writer.rs), which takes the database's write lock before the counts are
    // read, so no other request, in this process or another, inserts between a count and the
    // insert below. PostgreSQL (a later issue) needs the same guarantee explicitly: take a
    // row lock on a per-key counter row (`SELECT … FOR UPDATE`) or an advisory lock per key,
    // or make the insert conditional (`INSERT … SELECT … WHERE (SELECT count(*) …) < limit`)
    // under SERIALIZABLE.
    let limits: [(&str, Option<&str>, u32, &str); 5] = [
        (
            "SELECT count(*), min(created_at) FROM otp_challenge WHERE phone = ?1 AND created_at > ?2",
            Some(&o.phone),
            o.per_phone_hour,
            "phone_hourly_limit",
        ),
        (
            "SELECT count(*), min(created_at) FROM otp_challenge WHERE device_id = ?1 AND created_at > ?2",
            Some(&o.device_id),
            o.per_device_hour,
            "device_hourly_limit",
        ),
        // Per client address group (index otp_by_client).
        (
            "SELECT count(*), min(created_at) FROM otp_challenge WHERE client_key = ?1 AND created_at > ?2",
            Some(&o.client_key),
            o.per_address_hour,
            "address_hourly_limit",
        ),
        // Per block of numbers (index otp_by_prefix).
        (
            "SELECT count(*), min(created_at) FROM otp_challenge WHERE phone_prefix = ?1 AND created_at > ?2",
            Some(&o.phone_prefix),
            o.per_prefix_hour,
            "prefix_hourly_limit",
        ),
        // The global budget (index otp_by_time); ?1 is unused.
        (
            "SELECT count(*), min(created_at) FROM otp_challenge WHERE ?1 IS NULL AND created_at > ?2",
            None,
            o.global_hour,
            "global_hourly_limit",
        ),
    ];
    for (sql, key, limit, reason) in limits {
        let (count, oldest): (i64, Option<i64>) = c
            .prepare_cached(sql)?
            .query_row(params![key, hour_ago], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if count >= i64::from(limit) {
            // The window frees a slot when its oldest send turns an hour old.
            let retry = oldest.map_or(3600, |t| (t + 3600 - o.now).max(1));
            return Ok(OtpCreated::RateLimited {
                retry_after_s: retry as u64,
                reason,
            });
        }
    }
    let expires_at = o.now + o.ttl_s;
    c.prepare_cached(
        "INSERT INTO otp_challenge (id, phone, purpose, device_id, user_id, tx_digest, code_hash, created_at, expires_at, client_key, phone_prefix)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
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
    ])?;
    Ok(OtpCreated::Created {
        expires_at,
        resend_after: o.now + o.resend_s,
    })
}

fn insert_session(
    c: &Connection,
    user_id: &str,
    device_id: &str,
    s: &NewSession,
    now: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT OR IGNORE INTO session_family (id, user_id, device_id, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![s.family_id, user_id, device_id, now])?;
    insert_tokens(c, s, now)
}

fn insert_tokens(c: &Connection, s: &NewSession, now: i64) -> Result<(), StoreError> {
    let mut ins = c.prepare_cached(
        "INSERT INTO session_token (token_hash, family_id, kind, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    ins.execute(params![
        &s.access_hash[..],
        s.family_id,
        "access",
        now,
        s.access_expires_at
    ])?;
    ins.execute(params![
        &s.refresh_hash[..],
        s.family_id,
        "refresh",
        now,
        s.refresh_expires_at
    ])?;
    Ok(())
}

fn otp_verify(c: &Connection, a: &OtpAttempt) -> Result<OtpOutcome, StoreError> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Vec<u8>,
        i64,
        i64,
        Option<i64>,
    );
    let row: Option<Row> = c
        .prepare_cached(
            "SELECT phone, purpose, device_id, user_id, tx_digest, code_hash, expires_at, attempts, verified_at
             FROM otp_challenge WHERE id = ?1",
        )?
        .query_row([&a.challenge_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .optional()?;
    let Some((
        phone,
        purpose,
        device_id,
        user_id,
        tx_digest,
        code_hash,
        expires_at,
        attempts,
        verified_at,
    )) = row
    else {
        return Ok(OtpOutcome::NotFound);
    };
    if verified_at.is_some() {
        return Ok(OtpOutcome::Used);
    }
    if attempts >= i64::from(a.max_attempts) {
        return Ok(OtpOutcome::Locked);
    }
    if a.now >= expires_at {
        return Ok(OtpOutcome::Expired);
    }
    if !crate::identity::ct_eq(device_id.as_bytes(), a.device_id.as_bytes()) {
        return Ok(OtpOutcome::WrongDevice);
    }
    if !crate::identity::ct_eq(&code_hash, &a.code_hash) {
        let attempts = attempts + 1;
        c.prepare_cached("UPDATE otp_challenge SET attempts = ?2 WHERE id = ?1")?
            .execute(params![a.challenge_id, attempts])?;
        let left = (i64::from(a.max_attempts) - attempts).max(0) as u32;
        return Ok(if left == 0 {
            OtpOutcome::Locked
        } else {
            OtpOutcome::Invalid {
                attempts_left: left,
            }
        });
    }
    if purpose == OtpPurpose::StepUp.as_str() {
        let grant_expires_at = a.now + a.grant_ttl_s;
        c.prepare_cached(
            "UPDATE otp_challenge SET verified_at = ?2, grant_expires_at = ?3 WHERE id = ?1",
        )?
        .execute(params![a.challenge_id, a.now, grant_expires_at])?;
        if user_id.is_none() {
            return Err(StoreError::Internal(
                "step-up challenge without user".into(),
            ));
        }
        return Ok(OtpOutcome::StepUp {
            tx_digest: tx_digest.unwrap_or_default(),
            grant_expires_at,
        });
    }
    c.prepare_cached("UPDATE otp_challenge SET verified_at = ?2 WHERE id = ?1")?
        .execute(params![a.challenge_id, a.now])?;
    let existing: Option<String> = c
        .prepare_cached("SELECT id FROM user_account WHERE phone = ?1")?
        .query_row([&phone], |r| r.get(0))
        .optional()?;
    let (user_id, new_user) = match existing {
        Some(id) => (id, false),
        None => {
            let id = uuid::Uuid::now_v7().to_string();
            c.prepare_cached(
                "INSERT INTO user_account (id, phone, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id, phone, a.now])?;
            (id, true)
        }
    };
    c.prepare_cached(
        "INSERT INTO user_device (user_id, device_id, last_login_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id, device_id) DO UPDATE SET last_login_at = excluded.last_login_at",
    )?
    .execute(params![user_id, device_id, a.now])?;
    insert_session(c, &user_id, &device_id, &a.session, a.now)?;
    Ok(OtpOutcome::Session {
        user_id,
        phone,
        new_user,
    })
}

type TokenRow = (
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
);

fn token_row(c: &Connection, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT t.family_id, t.kind, t.expires_at, t.rotated_at, f.revoked_at, f.user_id, f.device_id, u.phone
         FROM session_token t JOIN session_family f ON f.id = t.family_id
         JOIN user_account u ON u.id = f.user_id WHERE t.token_hash = ?1",
    )?
    .query_row([&hash[..]], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })
    .optional()?)
}

fn revoke_family(
    c: &Connection,
    family_id: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE session_family SET revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![family_id, now, reason])?;
    Ok(())
}

fn revoke_device_sessions(
    c: &Connection,
    user_id: &str,
    device_id: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE session_family SET revoked_at = ?3, revoke_reason = ?4
         WHERE user_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
    )?
    .execute(params![user_id, device_id, now, reason])?;
    Ok(())
}

/// Revokes a device's key, its bindings and its sessions.
fn revoke_device_all(
    c: &Connection,
    user_id: &str,
    device_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE user_device SET revoked_at = ?3 WHERE user_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
    )?
    .execute(params![user_id, device_id, now])?;
    c.prepare_cached(
        "UPDATE binding SET state = 'revoked', revoked_at = ?3
         WHERE user_id = ?1 AND device_id = ?2 AND state IN ('pending', 'bound')",
    )?
    .execute(params![user_id, device_id, now])?;
    revoke_device_sessions(c, user_id, device_id, "device_revoked", now)
}

fn binding_start(c: &Connection, b: &NewBinding) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE binding SET state = 'revoked', revoked_at = ?3
         WHERE user_id = ?1 AND device_id = ?2 AND state = 'pending'",
    )?
    .execute(params![b.user_id, b.device_id, b.now])?;
    c.prepare_cached(
        "INSERT INTO binding (id, user_id, device_id, public_key, token_hash, state, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
    )?
    .execute(params![
        b.id,
        b.user_id,
        b.device_id,
        b.public_key,
        &b.token_hash[..],
        b.now,
        b.now + b.ttl_s
    ])?;
    Ok(())
}

fn inbound(c: &Connection, m: &InboundMessage) -> Result<InboundOutcome, StoreError> {
    let seen = c
        .prepare_cached("SELECT 1 FROM inbound_sms WHERE message_id = ?1")?
        .exists([&m.message_id])?;
    if seen {
        return Ok(InboundOutcome {
            result: "duplicate",
            reason: None,
            confirm_to: None,
        });
    }
    let sender_key = m.sender.clone().unwrap_or_else(|| m.raw_sender.clone());
    let recent: i64 = c
        .prepare_cached("SELECT count(*) FROM inbound_sms WHERE sender = ?1 AND received_at > ?2")?
        .query_row(params![sender_key, m.now - 60], |r| r.get(0))?;
    let outcome = if recent >= i64::from(m.per_minute) {
        refused("rate_limited")
    } else {
        match &m.command {
            InboundCommand::Ignore { reason } => InboundOutcome {
                result: "ignored",
                reason: Some(reason.clone()),
                confirm_to: None,
            },
            InboundCommand::Bind { token_hash } => bind(c, m, token_hash)?,
        }
    };
    c.prepare_cached(
        "INSERT INTO inbound_sms (message_id, sender, received_at, result, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        m.message_id,
        sender_key,
        m.now,
        outcome.result,
        outcome.reason
    ])?;
    Ok(outcome)
}

fn refused(reason: &str) -> InboundOutcome {
    InboundOutcome {
        result: "refused",
        reason: Some(reason.to_owned()),
        confirm_to: None,
    }
}

fn bind(
    c: &Connection,
    m: &InboundMessage,
    token_hash: &[u8; 32],
) -> Result<InboundOutcome, StoreError> {
    type Row = (String, String, String, Vec<u8>, String, i64, String);
    let row: Option<Row> = c
        .prepare_cached(
            "SELECT b.id, b.user_id, b.device_id, b.public_key, b.state, b.expires_at, u.phone
             FROM binding b JOIN user_account u ON u.id = b.user_id
             WHERE b.token_hash = ?1 ORDER BY b.created_at DESC LIMIT 1",
        )?
        .query_row([&token_hash[..]], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .optional()?;
    let Some((id, user_id, device_id, key, state, expires_at, phone)) = row else {
        return Ok(refused("unknown_token"));
    };
    if state != "pending" {
        return Ok(refused("token_used"));
    }
    if m.now >= expires_at {
        return Ok(refused("token_expired"));
    }
    if m.sender.as_deref() != Some(phone.as_str()) {
        return Ok(refused("wrong_sender"));
    }
    // Every other bound device of the user loses its binding and its sessions.
    let others: Vec<String> = c
        .prepare_cached(
            "SELECT device_id FROM user_device
             WHERE user_id = ?1 AND device_id <> ?2 AND public_key IS NOT NULL AND revoked_at IS NULL",
        )?
        .query_map(params![user_id, device_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for other in others {
        revoke_device_all(c, &user_id, &other, m.now)?;
    }
    c.prepare_cached(
        "UPDATE binding SET state = 'revoked', revoked_at = ?3
         WHERE user_id = ?1 AND device_id = ?2 AND state = 'bound'",
    )?
    .execute(params![user_id, device_id, m.now])?;
    c.prepare_cached("UPDATE binding SET state = 'bound', bound_at = ?2 WHERE id = ?1")?
        .execute(params![id, m.now])?;
    c.prepare_cached(
        "INSERT INTO user_device (user_id, device_id, public_key, bound_at, last_login_at)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (user_id, device_id) DO UPDATE
         SET public_key = excluded.public_key, bound_at = excluded.bound_at, revoked_at = NULL",
    )?
    .execute(params![user_id, device_id, key, m.now])?;
    Ok(InboundOutcome {
        result: "bound",
        reason: None,
        confirm_to: Some(phone),
    })
}

fn pin_record(
    c: &Connection,
    user_id: &str,
    correct: bool,
    now: i64,
    max: u32,
    lock_s: i64,
) -> Result<PinAttempt, StoreError> {
    let (failures, locked_until): (i64, Option<i64>) = c
        .prepare_cached("SELECT pin_failures, pin_locked_until FROM user_account WHERE id = ?1")?
        .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("no such user".into()))?;
    if let Some(until) = locked_until.filter(|u| *u > now) {
        return Ok(PinAttempt::Locked { until });
    }
    // A lock that has run out starts a fresh count.
    let failures = if locked_until.is_some() { 0 } else { failures };
    if correct {
        c.prepare_cached(
            "UPDATE user_account SET pin_failures = 0, pin_locked_until = NULL WHERE id = ?1",
        )?
        .execute([user_id])?;
        return Ok(PinAttempt::Ok);
    }
    let failures = failures + 1;
    if failures >= i64::from(max) {
        let until = now + lock_s;
        c.prepare_cached(
            "UPDATE user_account SET pin_failures = ?2, pin_locked_until = ?3 WHERE id = ?1",
        )?
        .execute(params![user_id, failures, until])?;
        return Ok(PinAttempt::Locked { until });
    }
    c.prepare_cached(
        "UPDATE user_account SET pin_failures = ?2, pin_locked_until = NULL WHERE id = ?1",
    )?
    .execute(params![user_id, failures])?;
    Ok(PinAttempt::Incorrect {
        attempts_left: (i64::from(max) - failures) as u32,
    })
}

fn step_up_valid(
    c: &Connection,
    user_id: &str,
    challenge_id: &str,
    digest: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(c.prepare_cached(
        "SELECT 1 FROM otp_challenge WHERE id = ?1 AND user_id = ?2 AND purpose = 'step_up'
         AND tx_digest = ?3 AND verified_at IS NOT NULL AND consumed_at IS NULL AND grant_expires_at > ?4",
    )?
    .exists(params![challenge_id, user_id, digest, now])?)
}

fn pin_update(c: &Connection, u: &PinUpdate) -> Result<PinUpdated, StoreError> {
    let set: bool = c
        .prepare_cached("SELECT pin_hash IS NOT NULL FROM user_account WHERE id = ?1")?
        .query_row([&u.user_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("no such user".into()))?;
    match (&u.step_up, set) {
        (None, true) => return Ok(PinUpdated::AlreadySet),
        (Some(_), false) => return Ok(PinUpdated::NotSet),
        (Some((challenge, digest)), true) => {
            if !step_up_valid(c, &u.user_id, challenge, digest, u.now)? {
                return Ok(PinUpdated::StepUpRequired);
            }
            c.prepare_cached("UPDATE otp_challenge SET consumed_at = ?2 WHERE id = ?1")?
                .execute(params![challenge, u.now])?;
        }
        (None, false) => {}
    }
    c.prepare_cached(
        "UPDATE user_account SET pin_hash = ?2, pin_salt = ?3, pin_iterations = ?4,
         pin_failures = 0, pin_locked_until = NULL WHERE id = ?1",
    )?
    .execute(params![u.user_id, u.hash, u.salt, u.iterations])?;
    Ok(PinUpdated::Ok)
}

fn totp_record(c: &Connection, a: &TotpAttempt) -> Result<TotpOutcome, StoreError> {
    let row: Option<(bool, Option<i64>, i64, Option<i64>)> = c
        .prepare_cached(
            "SELECT totp_secret IS NOT NULL, totp_last_step, totp_failures, totp_window_start
             FROM user_account WHERE id = ?1",
        )?
        .query_row([&a.user_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((enrolled, last_step, failures, window_start)) = row else {
        return Err(StoreError::NotFound("no such user".into()));
    };
    if !enrolled {
        return Ok(TotpOutcome::NotEnrolled);
    }
    // Failures count within a fixed window that starts at the first failure.
    let (failures, window_start) = match window_start {
        Some(start) if start + a.window_s > a.now => (failures, Some(start)),
        _ => (0, None),
    };
    if failures >= i64::from(a.max_failures) {
        let start = window_start.unwrap_or(a.now);
        return Ok(TotpOutcome::RateLimited {
            retry_after_s: (start + a.window_s - a.now).max(1) as u64,
        });
    }
    let outcome = match a.matched_step {
        Some(step) if last_step.is_some_and(|l| step as i64 <= l) => TotpOutcome::Replayed,
        Some(step) => TotpOutcome::Accepted { step },
        None => TotpOutcome::Invalid,
    };
    match &outcome {
        TotpOutcome::Accepted { step } => {
            c.prepare_cached("UPDATE user_account SET totp_last_step = ?2 WHERE id = ?1")?
                .execute(params![a.user_id, *step as i64])?;
        }
        // A replay is the right code sent twice (a double tap, a retried request), not a
        // guess: refused, but it must not push the user toward the lock-out. Guessing gains
        // nothing from this: only a code that matches the secret can be a replay.
        TotpOutcome::Replayed => {}
        _ => {
            c.prepare_cached(
                "UPDATE user_account SET totp_failures = ?2, totp_window_start = ?3 WHERE id = ?1",
            )?
            .execute(params![
                a.user_id,
                failures + 1,
                window_start.unwrap_or(a.now)
            ])?;
        }
    }
    Ok(outcome)
}

fn totp_reset(c: &Connection, r: &TotpReset) -> Result<TotpResetOutcome, StoreError> {
    let enrolled: bool = c
        .prepare_cached("SELECT totp_secret IS NOT NULL FROM user_account WHERE id = ?1")?
        .query_row([&r.user_id], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("no such user".into()))?;
    if !enrolled {
        return Ok(TotpResetOutcome::NotEnrolled);
    }
    // The grant is checked and consumed in this same transaction: used once, even by two
    // concurrent resets.
    if !step_up_valid(c, &r.user_id, &r.challenge_id, &r.tx_digest, r.now)? {
        return Ok(TotpResetOutcome::StepUpRequired);
    }
    c.prepare_cached("UPDATE otp_challenge SET consumed_at = ?2 WHERE id = ?1")?
        .execute(params![r.challenge_id, r.now])?;
    // totp_last_step stays: a step accepted under the old secret is not accepted again.
    c.prepare_cached(
        "UPDATE user_account SET totp_secret = NULL, totp_failures = 0, totp_window_start = NULL
         WHERE id = ?1",
    )?
    .execute([&r.user_id])?;
    Ok(TotpResetOutcome::Reset)
}

impl IdentityStore for SqliteStore {
    fn otp_create(&self, otp: NewOtp) -> StoreFuture<'_, OtpCreated> {
        Box::pin(self.writer.write(move |c| otp_create(c, &otp)))
    }

    fn otp_discard(&self, challenge_id: String) -> StoreFuture<'_, ()> {
        Box::pin(self.writer.write(move |c| {
            c.prepare_cached("DELETE FROM otp_challenge WHERE id = ?1")?
                .execute([challenge_id])?;
            Ok(())
        }))
    }

    fn otp_verify(&self, attempt: OtpAttempt) -> StoreFuture<'_, OtpOutcome> {
        Box::pin(self.writer.write(move |c| otp_verify(c, &attempt)))
    }

    fn session_by_access(&self, hash: [u8; 32], now: i64) -> StoreFuture<'_, AccessOutcome> {
        Box::pin(self.read(move |c| {
            let Some((family_id, kind, expires_at, _, revoked_at, user_id, device_id, phone)) =
                token_row(c, &hash)?
            else {
                return Ok(AccessOutcome::Unknown);
            };
            if kind != "access" {
                return Ok(AccessOutcome::Unknown);
            }
            if revoked_at.is_some() {
                return Ok(AccessOutcome::Revoked);
            }
            if now >= expires_at {
                return Ok(AccessOutcome::Expired);
            }
            Ok(AccessOutcome::Valid(SessionCtx {
                user_id,
                phone,
                device_id,
                family_id,
            }))
        }))
    }

    fn session_refresh(
        &self,
        hash: [u8; 32],
        next: NewSession,
        now: i64,
    ) -> StoreFuture<'_, RefreshOutcome> {
        Box::pin(self.writer.write(move |c| {
            let Some((
                family_id,
                kind,
                expires_at,
                rotated_at,
                revoked_at,
                user_id,
                device_id,
                phone,
            )) = token_row(c, &hash)?
            else {
                return Ok(RefreshOutcome::Unknown);
            };
            if kind != "refresh" {
                return Ok(RefreshOutcome::Unknown);
            }
            if revoked_at.is_some() {
                return Ok(RefreshOutcome::Revoked);
            }
            if rotated_at.is_some() {
                revoke_family(c, &family_id, "refresh_reused", now)?;
                return Ok(RefreshOutcome::Reused);
            }
            if now >= expires_at {
                return Ok(RefreshOutcome::Expired);
            }
            c.prepare_cached("UPDATE session_token SET rotated_at = ?2 WHERE token_hash = ?1")?
                .execute(params![&hash[..], now])?;
            let next = NewSession {
                family_id: family_id.clone(),
                ..next
            };
            insert_tokens(c, &next, now)?;
            Ok(RefreshOutcome::Rotated(SessionCtx {
                user_id,
                phone,
                device_id,
                family_id,
            }))
        }))
    }

    fn session_revoke(&self, family_id: String, reason: String, now: i64) -> StoreFuture<'_, ()> {
        Box::pin(
            self.writer
                .write(move |c| revoke_family(c, &family_id, &reason, now)),
        )
    }

    fn account(&self, user_id: String, device_id: String) -> StoreFuture<'_, AccountRow> {
        let now = self.clock.unix();
        Box::pin(self.read(move |c| {
            let row: Option<(i64, bool, Option<i64>, bool)> = c
                .prepare_cached(
                    "SELECT created_at, pin_hash IS NOT NULL, pin_locked_until, totp_secret IS NOT NULL
                     FROM user_account WHERE id = ?1",
                )?
                .query_row([&user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            let (created_at, pin_set, pin_locked_until, totp_enrolled) =
                row.ok_or_else(|| StoreError::NotFound("no such user".into()))?;
            let device_bound = c
                .prepare_cached(
                    "SELECT 1 FROM user_device WHERE user_id = ?1 AND device_id = ?2
                     AND public_key IS NOT NULL AND revoked_at IS NULL",
                )?
                .exists(params![user_id, device_id])?;
            Ok(AccountRow {
                created_at,
                device_bound,
                pin_set,
                pin_locked_until: pin_locked_until.filter(|u| *u > now),
                totp_enrolled,
            })
        }))
    }

    fn binding_start(&self, binding: NewBinding) -> StoreFuture<'_, ()> {
        Box::pin(self.writer.write(move |c| binding_start(c, &binding)))
    }

    fn binding_status(
        &self,
        user_id: String,
        binding_id: String,
        now: i64,
    ) -> StoreFuture<'_, BindingStatus> {
        Box::pin(self.read(move |c| {
            let row: Option<(String, String, i64, Option<i64>)> = c
                .prepare_cached(
                    "SELECT device_id, state, expires_at, bound_at FROM binding WHERE id = ?1 AND user_id = ?2",
                )?
                .query_row(params![binding_id, user_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let (device_id, state, expires_at, bound_at) =
                row.ok_or_else(|| StoreError::NotFound("no such binding".into()))?;
            let state = match state.as_str() {
                "bound" => BindingState::Bound,
                "revoked" => BindingState::Revoked,
                _ if now >= expires_at => BindingState::Expired,
                _ => BindingState::Pending,
            };
            Ok(BindingStatus {
                binding_id,
                device_id,
                state,
                expires_at: ts(expires_at)?,
                bound_at: opt_ts(bound_at)?,
            })
        }))
    }

    fn inbound_sms(&self, message: InboundMessage) -> StoreFuture<'_, InboundOutcome> {
        Box::pin(self.writer.write(move |c| inbound(c, &message)))
    }

    fn device_key(&self, user_id: String, device_id: String) -> StoreFuture<'_, Option<Vec<u8>>> {
        Box::pin(self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT public_key FROM user_device WHERE user_id = ?1 AND device_id = ?2
                 AND public_key IS NOT NULL AND revoked_at IS NULL",
            )?
            .query_row(params![user_id, device_id], |r| r.get(0))
            .optional()?)
        }))
    }

    fn use_nonce(
        &self,
        device_id: String,
        nonce: String,
        now: i64,
        keep_s: i64,
    ) -> StoreFuture<'_, bool> {
        Box::pin(self.writer.write(move |c| {
            c.prepare_cached("DELETE FROM request_nonce WHERE seen_at < ?1")?
                .execute([now - keep_s])?;
            let inserted = c
                .prepare_cached(
                    "INSERT OR IGNORE INTO request_nonce (device_id, nonce, seen_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![device_id, nonce, now])?;
            Ok(inserted == 1)
        }))
    }

    fn devices(&self, user_id: String, current: String) -> StoreFuture<'_, Vec<DeviceSummary>> {
        Box::pin(self.read(move |c| {
            type Row = (String, Option<Vec<u8>>, Option<i64>, Option<i64>, i64);
            let rows: Vec<Row> = c
                .prepare_cached(
                    "SELECT device_id, public_key, bound_at, revoked_at, last_login_at
                     FROM user_device WHERE user_id = ?1 ORDER BY last_login_at DESC, device_id",
                )?
                .query_map([&user_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            rows.into_iter()
                .map(|(device_id, key, bound_at, revoked_at, last_login_at)| {
                    Ok(DeviceSummary {
                        current: device_id == current,
                        bound: key.is_some() && revoked_at.is_none(),
                        key_fingerprint: key
                            .map(|k| crate::identity::hex(&crate::auth::sha256(&k)[..8])),
                        device_id,
                        bound_at: opt_ts(bound_at)?,
                        revoked_at: opt_ts(revoked_at)?,
                        last_login_at: ts(last_login_at)?,
                    })
                })
                .collect()
        }))
    }

    fn revoke_device(&self, user_id: String, device_id: String, now: i64) -> StoreFuture<'_, ()> {
        Box::pin(self.writer.write(move |c| {
            let known = c
                .prepare_cached("SELECT 1 FROM user_device WHERE user_id = ?1 AND device_id = ?2")?
                .exists(params![user_id, device_id])?;
            if !known {
                return Err(StoreError::NotFound("no such device".into()));
            }
            revoke_device_all(c, &user_id, &device_id, now)
        }))
    }

    fn pin_state(&self, user_id: String) -> StoreFuture<'_, PinState> {
        Box::pin(self.read(move |c| {
            type Row = (Option<Vec<u8>>, Option<Vec<u8>>, Option<i64>, Option<i64>);
            let row: Option<Row> = c
                .prepare_cached(
                    "SELECT pin_hash, pin_salt, pin_iterations, pin_locked_until
                     FROM user_account WHERE id = ?1",
                )?
                .query_row([&user_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let (hash, salt, iterations, locked_until) =
                row.ok_or_else(|| StoreError::NotFound("no such user".into()))?;
            Ok(PinState {
                pin: match (hash, salt, iterations) {
                    (Some(h), Some(s), Some(i)) => Some((h, s, i as u32)),
                    _ => None,
                },
                locked_until,
            })
        }))
    }

    fn pin_record(
        &self,
        user_id: String,
        correct: bool,
        now: i64,
        max_failures: u32,
        lock_s: i64,
    ) -> StoreFuture<'_, PinAttempt> {
        Box::pin(
            self.writer
                .write(move |c| pin_record(c, &user_id, correct, now, max_failures, lock_s)),
        )
    }

    fn pin_update(&self, update: PinUpdate) -> StoreFuture<'_, PinUpdated> {
        Box::pin(self.writer.write(move |c| pin_update(c, &update)))
    }

    fn step_up_valid(
        &self,
        user_id: String,
        challenge_id: String,
        tx_digest: String,
        now: i64,
    ) -> StoreFuture<'_, bool> {
        Box::pin(self.read(move |c| step_up_valid(c, &user_id, &challenge_id, &tx_digest, now)))
    }

    fn totp_enroll(&self, user_id: String, secret: Vec<u8>) -> StoreFuture<'_, bool> {
        // totp_last_step survives a reset and a new enrolment: invariant 8 is per user.
        Box::pin(self.writer.write(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE user_account SET totp_secret = ?2, totp_failures = 0,
                     totp_window_start = NULL WHERE id = ?1 AND totp_secret IS NULL",
                )?
                .execute(params![user_id, secret])?;
            Ok(n == 1)
        }))
    }

    fn totp_secret(&self, user_id: String) -> StoreFuture<'_, Option<Vec<u8>>> {
        Box::pin(self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT totp_secret FROM user_account WHERE id = ?1")?
                    .query_row([&user_id], |r| r.get::<_, Option<Vec<u8>>>(0))
                    .optional()?
                    .flatten(),
            )
        }))
    }

    fn totp_record(&self, attempt: TotpAttempt) -> StoreFuture<'_, TotpOutcome> {
        Box::pin(self.writer.write(move |c| totp_record(c, &attempt)))
    }

    fn totp_reset(&self, reset: TotpReset) -> StoreFuture<'_, TotpResetOutcome> {
        Box::pin(self.writer.write(move |c| totp_reset(c, &reset)))
    }

    fn dev_sms_insert(
        &self,
        to: String,
        sender: String,
        text: String,
        now: i64,
    ) -> StoreFuture<'_, String> {
        Box::pin(self.writer.write(move |c| {
            let id = uuid::Uuid::now_v7().to_string();
            c.prepare_cached(
                "INSERT INTO dev_sms (id, to_phone, sender, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id, to, sender, text, now])?;
            Ok(id)
        }))
    }

    fn dev_sms_list(&self, to: Option<String>, limit: u32) -> StoreFuture<'_, Vec<DevSms>> {
        Box::pin(self.read(move |c| {
            let rows: Vec<(String, String, String, String, i64)> = c
                .prepare_cached(
                    "SELECT id, to_phone, sender, text, created_at FROM dev_sms
                     WHERE ?1 IS NULL OR to_phone = ?1 ORDER BY seq DESC LIMIT ?2",
                )?
                .query_map(params![to, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            rows.into_iter()
                .map(|(id, to, sender, text, at)| {
                    Ok(DevSms {
                        id,
                        to,
                        sender,
                        text,
                        created_at: ts(at)?,
                    })
                })
                .collect()
        }))
    }
}
