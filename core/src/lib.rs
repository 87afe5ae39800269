//! # warung-core
//!
//! The embedded core of Warung, shared by the Android and iOS apps (through uniffi) and by the
//! `warung` CLI: plain Rust, testable without FFI.
//!
//! | module | what it holds |
//! |---|---|
//! | [`money`] | `Money` = `Decimal` + ISO 4217 currency; strict parsing, checked arithmetic, allocation, locale formatting |
//! | [`protocol`] | the wire format shared with the server: catalog ops, intents, sync, identity |
//! | [`otp`] | HOTP / TOTP (RFC 4226 / 6238), `otpauth://` URIs, base32: shared with the server |
//! | [`phone`] | phone numbers normalised to E.164 (`08…`, `628…` → `+628…`) |
//! | [`sms`] | the SMS command grammar (`WRG BIND <token>`) |
//! | [`store`] | the SQLite file of one app profile: WAL, migrations, one writer, pooled readers |
//! | [`catalog`] | offline catalog: `apply(ops)`, full-text search with filters, facets, detail, categories |
//! | [`cart`] | the persistent cart, grouped by merchant, with vouchers |
//! | [`outbox`] | intents queued for the server in the same transaction as each local change |
//! | `demo` | the bundled demo catalog (feature `demo`) |
//! | [`synth`] | a deterministic synthetic catalog generator for benchmarks |
//!
//! ```no_run
//! use warung_core::{Profile, catalog::SearchQuery, money::{Currency, Locale}};
//! let profile = Profile::open("/tmp/warung.db", Currency::IDR)?;
//! profile.catalog().apply(&warung_core::demo::demo_ops())?;
//! let page = profile.catalog().search(&SearchQuery::text("kopi gayo"))?;
//! let first = &page.hits[0];
//! let detail = profile.catalog().product(&first.product_id)?;
//! profile.cart().add(&detail.variants[0].id, 2)?;
//! let cart = profile.cart().view()?;
//! println!("{}", cart.total.format(Locale::IdId)); // Rp…
//! # Ok::<(), warung_core::Error>(())
//! ```

// What both the phone and the server use (the server builds without the `client` feature).
#[cfg(feature = "demo")]
pub mod demo;
pub mod money;
pub mod otp;
pub mod phone;
pub mod protocol;
pub mod sms;
pub mod synth;

// The phone's side: the local store and everything on it.
#[cfg(feature = "client")]
pub mod cart;
#[cfg(feature = "client")]
pub mod catalog;
#[cfg(feature = "client")]
pub mod error;
#[cfg(feature = "client")]
pub mod observe;
#[cfg(feature = "client")]
pub mod outbox;
#[cfg(feature = "client")]
pub mod secrets;
#[cfg(feature = "client")]
pub mod store;
#[cfg(feature = "sync")]
pub mod sync;

#[cfg(feature = "client")]
pub use error::{Error, Result};

#[cfg(all(test, feature = "client"))]
pub(crate) mod fixtures;

#[cfg(feature = "client")]
pub use profile::Profile;

#[cfg(feature = "client")]
mod profile {
    use crate::{Result, cart, catalog, money, observe, outbox, store};
    use std::path::Path;
    use std::sync::Arc;

    /// One app profile: its SQLite file and the services on it. Cheap to clone; thread-safe.
    #[derive(Clone, Debug)]
    pub struct Profile {
        store: Arc<store::Store>,
        catalog: catalog::Catalog,
        cart: cart::Cart,
        outbox: outbox::Outbox,
    }

    impl Profile {
        /// Opens (or creates) the profile at `path`; the cart is kept in `currency`.
        pub fn open(path: impl AsRef<Path>, currency: money::Currency) -> Result<Profile> {
            let store = Arc::new(store::Store::open(path)?);
            // Cart observers hear about cart edits and about catalog updates (prices, stock).
            let observers = Arc::new(observe::Observers::default());
            Ok(Profile {
                catalog: catalog::Catalog::with_observers(store.clone(), observers.clone()),
                cart: cart::Cart::with_observers(store.clone(), currency, observers),
                outbox: outbox::Outbox::new(store.clone()),
                store,
            })
        }

        pub fn catalog(&self) -> &catalog::Catalog {
            &self.catalog
        }

        pub fn cart(&self) -> &cart::Cart {
            &self.cart
        }

        pub fn outbox(&self) -> &outbox::Outbox {
            &self.outbox
        }

        pub fn store(&self) -> &store::Store {
            &self.store
        }
    }
}
