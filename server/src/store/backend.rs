//! Every capability trait of [`crate::store`], implemented ONCE for any backend that can run a
//! rule in a transaction ([`Backend`]): each operation is one shared rule of
//! [`crate::store::rules`] in one write transaction (committed when the rule returns `Ok`,
//! rolled back on `Err`) or one read snapshot. A backend (SQLite, PostgreSQL) provides only
//! [`Backend`] — how it runs a transaction — and the rules' contexts ([`AllTx`]) in its own
//! queries; what an operation does, and what it locks, is never written twice.

use super::catalog::{AdminStore, CompactReport, MerchantStore};
use super::identity::*;
use super::rules::{
    self, BindingTx, CatalogTx, GrantTx, OpLogTx, OtpTx, PinTx, SessionTx, SmsTx, SyncTx, TotpTx,
};
use super::sync::{AuthDevice, BucketKey, IntentBatchOutcome, RawPage, SyncStore};
use super::{StoreError, StoreFuture};
use std::future::Future;
use warung_core::protocol::{
    BindingStatus, CatalogOp, Category, DeviceRegistration, DeviceSummary, Intent, Merchant,
    MerchantAccount, MerchantKind, MerchantProduct, MerchantProfile, MerchantVariant, PricesUpdate,
    ProductInput, ProductList, RegisterDevice, VariantInput,
};

/// Every context of the rules at once: what a backend's transaction type implements.
pub trait AllTx:
    OpLogTx + CatalogTx + SyncTx + OtpTx + GrantTx + SessionTx + BindingTx + PinTx + TotpTx + SmsTx
{
}

impl<T> AllTx for T where
    T: OpLogTx
        + CatalogTx
        + SyncTx
        + OtpTx
        + GrantTx
        + SessionTx
        + BindingTx
        + PinTx
        + TotpTx
        + SmsTx
{
}

/// How a backend runs the rules: one transaction per operation, on its own connections.
pub trait Backend: Send + Sync + 'static {
    /// The backend's transaction, as the rules' contexts.
    type Tx<'t>: AllTx;

    /// The server's clock (timestamps written to rows).
    fn clock(&self) -> &crate::clock::Clock;

    /// Runs `f` in one read-write transaction: committed when it returns `Ok`, rolled back on
    /// `Err` (so a refusal that must leave a trace returns `Ok(outcome)`).
    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send + '_
    where
        T: Send + 'static,
        F: FnOnce(&mut Self::Tx<'_>) -> Result<T, StoreError> + Send + 'static;

    /// Runs `f` in one read-only snapshot.
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send + '_
    where
        T: Send + 'static,
        F: FnOnce(&mut Self::Tx<'_>) -> Result<T, StoreError> + Send + 'static;

    /// The database answers (readiness).
    fn ping_database(&self) -> impl Future<Output = Result<(), StoreError>> + Send + '_;
}

impl<B: Backend> SyncStore for B {
    fn pull(
        &self,
        bucket: BucketKey,
        after: u64,
        client_horizon: u64,
        limit: u32,
    ) -> StoreFuture<'_, RawPage> {
        let name = bucket.storage_name();
        Box::pin(self.read(move |tx| rules::oplog::page(tx, &name, after, client_horizon, limit)))
    }

    fn register_device(
        &self,
        request: RegisterDevice,
        token_hash: [u8; 32],
    ) -> StoreFuture<'_, DeviceRegistration> {
        let now = self.clock().now();
        Box::pin(self.write(move |tx| rules::sync::register_device(tx, request, &token_hash, now)))
    }

    fn device_by_token(&self, token_hash: [u8; 32]) -> StoreFuture<'_, Option<AuthDevice>> {
        Box::pin(self.read(move |tx| rules::sync::device_by_token(tx, &token_hash)))
    }

    fn apply_intents(
        &self,
        device_id: String,
        batch: Vec<Intent>,
    ) -> StoreFuture<'_, IntentBatchOutcome> {
        let now = self.clock().now();
        Box::pin(self.write(move |tx| rules::sync::apply_batch(tx, &device_id, batch, now)))
    }
}

impl<B: Backend> MerchantStore for B {
    fn merchant_by_key(&self, key_hash: [u8; 32]) -> StoreFuture<'_, Option<String>> {
        Box::pin(self.read(move |tx| rules::catalog::merchant_by_key(tx, &key_hash)))
    }

    fn merchant(&self, merchant_id: String) -> StoreFuture<'_, Merchant> {
        Box::pin(self.read(move |tx| rules::catalog::merchant(tx, &merchant_id)))
    }

    fn update_merchant(
        &self,
        merchant_id: String,
        profile: MerchantProfile,
    ) -> StoreFuture<'_, Merchant> {
        Box::pin(self.write(move |tx| rules::catalog::update_merchant(tx, &merchant_id, profile)))
    }

    fn categories(&self) -> StoreFuture<'_, Vec<Category>> {
        Box::pin(self.read(|tx| rules::catalog::categories(tx)))
    }

    fn list_products(
        &self,
        merchant_id: String,
        after: Option<String>,
        limit: u32,
    ) -> StoreFuture<'_, ProductList> {
        Box::pin(self.read(move |tx| {
            rules::catalog::list_products(tx, &merchant_id, after.as_deref(), limit)
        }))
    }

    fn product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, MerchantProduct> {
        Box::pin(self.read(move |tx| rules::catalog::product(tx, &merchant_id, &product_id)))
    }

    fn create_product(
        &self,
        merchant_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct> {
        let now = self.clock().now();
        Box::pin(self.write(move |tx| rules::catalog::create_product(tx, &merchant_id, input, now)))
    }

    fn update_product(
        &self,
        merchant_id: String,
        product_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct> {
        let now = self.clock().now();
        Box::pin(self.write(move |tx| {
            rules::catalog::update_product(tx, &merchant_id, &product_id, input, now)
        }))
    }

    fn delete_product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, ()> {
        Box::pin(
            self.write(move |tx| rules::catalog::delete_product(tx, &merchant_id, &product_id)),
        )
    }

    fn create_variant(
        &self,
        merchant_id: String,
        product_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.write(move |tx| {
                rules::catalog::create_variant(tx, &merchant_id, &product_id, input)
            }),
        )
    }

    fn update_variant(
        &self,
        merchant_id: String,
        variant_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.write(move |tx| {
                rules::catalog::update_variant(tx, &merchant_id, &variant_id, input)
            }),
        )
    }

    fn delete_variant(&self, merchant_id: String, variant_id: String) -> StoreFuture<'_, ()> {
        Box::pin(
            self.write(move |tx| rules::catalog::delete_variant(tx, &merchant_id, &variant_id)),
        )
    }

    fn set_stock(
        &self,
        merchant_id: String,
        variant_id: String,
        stock: u32,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.write(move |tx| rules::catalog::set_stock(tx, &merchant_id, &variant_id, stock)),
        )
    }

    fn set_prices(
        &self,
        merchant_id: String,
        variant_id: String,
        update: PricesUpdate,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(self.write(move |tx| {
            rules::catalog::set_prices(tx, &merchant_id, &variant_id, update.prices)
        }))
    }
}

impl<B: Backend> AdminStore for B {
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.ping_database())
    }

    fn create_merchant_account(
        &self,
        name: String,
        kind: MerchantKind,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount> {
        let now = self.clock().now();
        Box::pin(self.write(move |tx| {
            rules::catalog::create_merchant_account(tx, &name, kind, &key_hash, &key_prefix, now)
        }))
    }

    fn list_merchant_accounts(&self) -> StoreFuture<'_, Vec<MerchantAccount>> {
        Box::pin(self.read(|tx| rules::catalog::list_merchant_accounts(tx)))
    }

    fn rotate_key(
        &self,
        merchant_id: String,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount> {
        Box::pin(
            self.write(move |tx| {
                rules::catalog::rotate_key(tx, &merchant_id, &key_hash, &key_prefix)
            }),
        )
    }

    fn seed(&self, ops: Vec<CatalogOp>) -> StoreFuture<'_, bool> {
        let now = self.clock().now();
        Box::pin(self.write(move |tx| rules::catalog::seed(tx, &ops, now)))
    }

    fn ensure_categories(&self, categories: Vec<Category>) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |tx| rules::catalog::ensure_categories(tx, &categories)))
    }

    fn compact(&self, keep_ops: u64) -> StoreFuture<'_, CompactReport> {
        Box::pin(self.write(move |tx| rules::oplog::compact(tx, keep_ops)))
    }
}

impl<B: Backend> OtpStore for B {
    fn otp_create(&self, otp: NewOtp) -> StoreFuture<'_, OtpCreated> {
        Box::pin(self.write(move |tx| rules::otp::create(tx, &otp)))
    }

    fn otp_discard(&self, challenge_id: String) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |tx| rules::otp::discard(tx, &challenge_id)))
    }

    fn otp_verify(&self, attempt: OtpAttempt) -> StoreFuture<'_, OtpOutcome> {
        Box::pin(self.write(move |tx| rules::otp::verify(tx, &attempt)))
    }

    fn step_up_valid(
        &self,
        user_id: String,
        challenge_id: String,
        tx_digest: String,
        now: i64,
    ) -> StoreFuture<'_, bool> {
        Box::pin(self.read(move |tx| {
            rules::otp::step_up_valid(tx, &user_id, &challenge_id, &tx_digest, now)
        }))
    }
}

impl<B: Backend> SessionStore for B {
    fn session_by_access(&self, hash: [u8; 32], now: i64) -> StoreFuture<'_, AccessOutcome> {
        Box::pin(self.read(move |tx| rules::session::access(tx, &hash, now)))
    }

    fn session_refresh(
        &self,
        hash: [u8; 32],
        next: NewSession,
        now: i64,
    ) -> StoreFuture<'_, RefreshOutcome> {
        Box::pin(self.write(move |tx| rules::session::refresh(tx, &hash, next, now)))
    }

    fn session_revoke(&self, family_id: String, reason: String, now: i64) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |tx| rules::session::revoke(tx, &family_id, &reason, now)))
    }

    fn account(&self, user_id: String, device_id: String) -> StoreFuture<'_, AccountRow> {
        let now = self.clock().unix();
        Box::pin(self.read(move |tx| rules::session::account(tx, &user_id, &device_id, now)))
    }
}

impl<B: Backend> BindingStore for B {
    fn binding_start(&self, binding: NewBinding) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |tx| rules::binding::start(tx, &binding)))
    }

    fn binding_status(
        &self,
        user_id: String,
        binding_id: String,
        now: i64,
    ) -> StoreFuture<'_, BindingStatus> {
        Box::pin(self.read(move |tx| rules::binding::status(tx, &user_id, &binding_id, now)))
    }

    fn device_key(&self, user_id: String, device_id: String) -> StoreFuture<'_, Option<Vec<u8>>> {
        Box::pin(self.read(move |tx| rules::binding::device_key(tx, &user_id, &device_id)))
    }

    fn use_nonce(
        &self,
        device_id: String,
        nonce: String,
        now: i64,
        keep_s: i64,
    ) -> StoreFuture<'_, bool> {
        Box::pin(
            self.write(move |tx| rules::binding::use_nonce(tx, &device_id, &nonce, now, keep_s)),
        )
    }

    fn devices(&self, user_id: String, current: String) -> StoreFuture<'_, Vec<DeviceSummary>> {
        Box::pin(self.read(move |tx| rules::binding::devices(tx, &user_id, &current)))
    }

    fn revoke_device(&self, user_id: String, device_id: String, now: i64) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |tx| rules::binding::revoke_device(tx, &user_id, &device_id, now)))
    }
}

impl<B: Backend> PinStore for B {
    fn pin_state(&self, user_id: String) -> StoreFuture<'_, PinState> {
        Box::pin(self.read(move |tx| rules::pin::state(tx, &user_id)))
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
            self.write(move |tx| {
                rules::pin::record(tx, &user_id, correct, now, max_failures, lock_s)
            }),
        )
    }

    fn pin_update(&self, update: PinUpdate) -> StoreFuture<'_, PinUpdated> {
        Box::pin(self.write(move |tx| rules::pin::update(tx, &update)))
    }
}

impl<B: Backend> TotpStore for B {
    fn totp_enroll(&self, user_id: String, secret: Vec<u8>) -> StoreFuture<'_, bool> {
        Box::pin(self.write(move |tx| rules::totp::enroll(tx, &user_id, &secret)))
    }

    fn totp_secret(&self, user_id: String) -> StoreFuture<'_, Option<Vec<u8>>> {
        Box::pin(self.read(move |tx| rules::totp::secret(tx, &user_id)))
    }

    fn totp_record(&self, attempt: TotpAttempt) -> StoreFuture<'_, TotpOutcome> {
        Box::pin(self.write(move |tx| rules::totp::record(tx, &attempt)))
    }

    fn totp_reset(&self, reset: TotpReset) -> StoreFuture<'_, TotpResetOutcome> {
        Box::pin(self.write(move |tx| rules::totp::reset(tx, &reset)))
    }
}

impl<B: Backend> SmsStore for B {
    fn inbound_sms(&self, message: InboundMessage) -> StoreFuture<'_, InboundOutcome> {
        Box::pin(self.write(move |tx| rules::sms::inbound(tx, &message)))
    }

    fn dev_sms_insert(
        &self,
        to: String,
        sender: String,
        text: String,
        now: i64,
    ) -> StoreFuture<'_, String> {
        Box::pin(self.write(move |tx| rules::sms::dev_sms_insert(tx, to, sender, text, now)))
    }

    fn dev_sms_list(&self, to: Option<String>, limit: u32) -> StoreFuture<'_, Vec<DevSms>> {
        Box::pin(self.read(move |tx| rules::sms::dev_sms_list(tx, to.as_deref(), limit)))
    }
}
