//! Inbound (mobile-originated) SMS — de-duplicated by message id, limited per sender, acted
//! on (a binding) — and the development gateway's outbox.
//!
//! **Atomicity.** [`inbound`] locks [`LockKey::InboundMessage`] before it looks the message
//! up (a redelivery racing the first delivery answers `duplicate`, it is not acted on twice),
//! then [`LockKey::InboundSender`] before it counts the sender's recent messages (the
//! per-minute limit holds under parallel deliveries). A binding then takes the user's
//! [`LockKey::Bindings`] (see [`super::binding::bind`]). The outbox is plain inserts.

use super::binding::{self, BindingTx};
use super::{LockKey, unix_time};
use crate::store::StoreError;
use crate::store::identity::{DevSms, InboundCommand, InboundMessage, InboundOutcome};

/// A message of the development outbox as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevSmsRow {
    pub id: String,
    pub to: String,
    pub sender: String,
    pub text: String,
    pub created_at: i64,
}

/// The SMS primitives, inside the caller's transaction.
pub trait SmsTx: BindingTx {
    fn inbound_seen(&mut self, message_id: &str) -> Result<bool, StoreError>;
    /// Messages from `sender` received strictly after `since`.
    fn inbound_count_since(&mut self, sender: &str, since: i64) -> Result<u64, StoreError>;
    fn insert_inbound(
        &mut self,
        message_id: &str,
        sender: &str,
        now: i64,
        outcome: &InboundOutcome,
    ) -> Result<(), StoreError>;
    fn insert_dev_sms(&mut self, row: &DevSmsRow) -> Result<(), StoreError>;
    /// Newest first; every recipient when `to` is `None`.
    fn dev_sms(&mut self, to: Option<&str>, limit: u32) -> Result<Vec<DevSmsRow>, StoreError>;
}

/// Records and acts on an inbound SMS. Every message not seen before is recorded with its
/// result (for de-duplication and the per-sender count), refused ones too. Locks
/// [`LockKey::InboundMessage`], then [`LockKey::InboundSender`] (then, to bind, the user's
/// [`LockKey::Bindings`]).
pub fn inbound(tx: &mut dyn SmsTx, m: &InboundMessage) -> Result<InboundOutcome, StoreError> {
    tx.lock(LockKey::InboundMessage(&m.message_id))?;
    if tx.inbound_seen(&m.message_id)? {
        return Ok(InboundOutcome {
            result: "duplicate",
            reason: None,
            confirm_to: None,
        });
    }
    let sender_key = m.sender.clone().unwrap_or_else(|| m.raw_sender.clone());
    tx.lock(LockKey::InboundSender(&sender_key))?;
    let recent = tx.inbound_count_since(&sender_key, m.now - 60)?;
    let outcome = if recent >= u64::from(m.per_minute) {
        binding::refused("rate_limited")
    } else {
        match &m.command {
            InboundCommand::Ignore { reason } => InboundOutcome {
                result: "ignored",
                reason: Some(reason.clone()),
                confirm_to: None,
            },
            InboundCommand::Bind { token_hash } => binding::bind(tx, m, token_hash)?,
        }
    };
    tx.insert_inbound(&m.message_id, &sender_key, m.now, &outcome)?;
    Ok(outcome)
}

/// Keeps a message in the development outbox; returns its id. A plain insert: locks nothing.
pub fn dev_sms_insert(
    tx: &mut dyn SmsTx,
    to: String,
    sender: String,
    text: String,
    now: i64,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    tx.insert_dev_sms(&DevSmsRow {
        id: id.clone(),
        to,
        sender,
        text,
        created_at: now,
    })?;
    Ok(id)
}

/// The outbox, newest first.
pub fn dev_sms_list(
    tx: &mut dyn SmsTx,
    to: Option<&str>,
    limit: u32,
) -> Result<Vec<DevSms>, StoreError> {
    tx.dev_sms(to, limit)?
        .into_iter()
        .map(|r| {
            Ok(DevSms {
                id: r.id,
                to: r.to,
                sender: r.sender,
                text: r.text,
                created_at: unix_time(r.created_at)?,
            })
        })
        .collect()
}
