//! `warung`: a terminal client built only on `warung-core`'s public API — the same calls the
//! Android and iOS apps make. Useful for demos, scripting and poking at a profile.

mod identity;
mod secrets;
mod sync;

use clap::{Parser, Subcommand, ValueEnum};
use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use warung_core::Profile;
use warung_core::cart::{CartView, LineStatus};
use warung_core::catalog::{CategoryNode, SearchPage, SearchQuery, SortOrder};
use warung_core::money::{Currency, Locale, Money};
use warung_core::protocol::{CatalogOp, StockBand};

#[derive(Parser)]
#[command(
    name = "warung",
    version,
    about = "Warung: offline-first shopping from the terminal"
)]
struct Cli {
    /// Profile database (default: the user's data directory).
    #[arg(long, global = true, env = "WARUNG_PROFILE")]
    profile: Option<PathBuf>,
    /// Display locale: id-ID or en.
    #[arg(long, global = true, default_value = "id-ID")]
    locale: String,
    /// Currency of the cart and of prices shown.
    #[arg(long, global = true, default_value = "IDR")]
    currency: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Walk through the whole journey on a temporary profile: sign-up, SIM binding, PIN,
    /// soft token, then shopping.
    Demo,
    /// Sign in (or sign up) with a one-time code sent by SMS.
    Login(identity::LoginArgs),
    /// Bind this installation to the account's SIM; list and revoke devices.
    Device {
        #[command(subcommand)]
        action: identity::DeviceAction,
    },
    /// Set, change or check the 6-digit PIN.
    Pin {
        #[command(subcommand)]
        action: identity::PinAction,
    },
    /// The TOTP soft token: enrol, show the current code, have the server check one.
    Totp {
        #[command(subcommand)]
        action: identity::TotpAction,
    },
    /// The signed-in account.
    Account(identity::ServerArg),
    /// End the session (the device key and soft token stay).
    Logout(identity::ServerArg),
    /// Import catalog ops: the bundled demo catalog, or a JSON file of ops.
    Import {
        /// A JSON array of catalog ops; omit to import the demo catalog.
        file: Option<PathBuf>,
    },
    /// Search or browse the catalog.
    Search {
        /// Words to search for; none browses.
        text: Vec<String>,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        merchant: Option<String>,
        /// Lowest price, e.g. 50000.
        #[arg(long)]
        min: Option<String>,
        #[arg(long)]
        max: Option<String>,
        #[arg(long)]
        in_stock: bool,
        #[arg(long, value_enum, default_value_t = Sort::Relevance)]
        sort: Sort,
        #[arg(long, default_value_t = 10)]
        limit: u32,
        /// The cursor printed under the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show a product with its variants.
    Product { id: String },
    /// The category tree with product counts.
    Categories,
    /// Change or show the cart.
    Cart {
        #[command(subcommand)]
        action: CartAction,
    },
    /// Apply or remove a voucher.
    Voucher {
        #[command(subcommand)]
        action: VoucherAction,
    },
    /// Intents waiting to be sent to the server.
    Outbox,
    /// Send queued intents and pull catalog changes from a Warung server.
    Sync {
        /// The server's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "WARUNG_SERVER")]
        server: String,
        /// Ops per pulled page (1..=5000).
        #[arg(long, default_value_t = warung_core::protocol::DEFAULT_PAGE_LIMIT)]
        page_limit: u32,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Subcommand)]
enum CartAction {
    /// Add a variant (to the line's quantity if already there).
    Add {
        variant: String,
        #[arg(default_value_t = 1, allow_negative_numbers = true)]
        quantity: i64,
    },
    /// Set a line's quantity.
    Set {
        variant: String,
        #[arg(allow_negative_numbers = true)]
        quantity: i64,
    },
    Remove {
        variant: String,
    },
    Clear,
    Show,
}

#[derive(Subcommand)]
enum VoucherAction {
    Apply {
        code: String,
    },
    Remove {
        code: String,
    },
    /// Vouchers in the catalog.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
enum Sort {
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
    Rating,
}

impl From<Sort> for SortOrder {
    fn from(s: Sort) -> SortOrder {
        match s {
            Sort::Relevance => SortOrder::Relevance,
            Sort::PriceAsc => SortOrder::PriceAsc,
            Sort::PriceDesc => SortOrder::PriceDesc,
            Sort::Newest => SortOrder::Newest,
            Sort::Rating => SortOrder::Rating,
        }
    }
}

type CliResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn default_profile() -> CliResult<PathBuf> {
    let dirs = directories::ProjectDirs::from("id", "Warung", "warung")
        .ok_or("no home directory; pass --profile")?;
    std::fs::create_dir_all(dirs.data_dir())?;
    Ok(dirs.data_dir().join("profile.db"))
}

fn run(cli: Cli) -> CliResult {
    let locale: Locale = cli.locale.parse()?;
    let currency: Currency = cli.currency.parse()?;
    let ui = Ui { locale, currency };
    if let Command::Demo = cli.command {
        return demo(&ui);
    }
    let path = match cli.profile {
        Some(p) => p,
        None => default_profile()?,
    };
    let profile = Profile::open(&path, currency)?;
    let secrets = std::sync::Arc::new(secrets::FileStorage::for_profile(&path)?);
    let storage = || -> std::sync::Arc<dyn warung_core::secrets::SecureStorage> { secrets.clone() };
    let ctx = |server: &identity::ServerArg| identity::Ctx::new(&profile, storage(), server);
    match cli.command {
        Command::Demo => unreachable!("handled above"),
        Command::Login(args) => identity::login(&ctx(&args.server)?, args)?,
        Command::Device { action } => {
            let server = match &action {
                identity::DeviceAction::Bind { server, .. }
                | identity::DeviceAction::Status { server, .. }
                | identity::DeviceAction::List { server }
                | identity::DeviceAction::Revoke { server, .. } => server.clone(),
            };
            identity::device(&ctx(&server)?, action)?
        }
        Command::Pin { action } => {
            let server = match &action {
                identity::PinAction::Set { server, .. }
                | identity::PinAction::Change { server, .. }
                | identity::PinAction::Verify { server, .. } => server.clone(),
            };
            identity::pin(&ctx(&server)?, action)?
        }
        Command::Totp { action } => {
            let server = match &action {
                identity::TotpAction::Enroll { server, .. }
                | identity::TotpAction::Code { server }
                | identity::TotpAction::Verify { server, .. }
                | identity::TotpAction::Reset { server, .. } => server.clone(),
            };
            identity::totp(&ctx(&server)?, action)?
        }
        Command::Account(server) => identity::account(&ctx(&server)?)?,
        Command::Logout(server) => identity::logout(&ctx(&server)?)?,
        Command::Import { file } => {
            let ops: Vec<CatalogOp> = match file {
                Some(f) => serde_json::from_str(&std::fs::read_to_string(f)?)?,
                None => warung_core::demo::demo_ops(),
            };
            let started = Instant::now();
            let r = profile.catalog().apply(&ops)?;
            println!(
                "applied {} ops ({} already applied) in {} ms; cursor {}",
                r.applied,
                r.skipped,
                started.elapsed().as_millis(),
                r.cursor
            );
        }
        Command::Search {
            text,
            category,
            merchant,
            min,
            max,
            in_stock,
            sort,
            limit,
            cursor,
        } => {
            let q = SearchQuery {
                text: text.join(" "),
                category_id: category,
                merchant_id: merchant,
                currency,
                min_price: min.map(|m| Money::parse(&m, currency)).transpose()?,
                max_price: max.map(|m| Money::parse(&m, currency)).transpose()?,
                in_stock_only: in_stock,
                sort: sort.into(),
                limit,
                cursor,
            };
            let page = profile.catalog().search(&q)?;
            ui.print_hits(&page);
            if let Some(c) = page.next_cursor {
                println!("more: --cursor {c}");
            }
        }
        Command::Product { id } => ui.print_product(&profile, &id)?,
        Command::Categories => ui.print_categories(&profile.catalog().categories()?),
        Command::Cart { action } => {
            let cart = profile.cart();
            match action {
                CartAction::Add { variant, quantity } => cart.add(&variant, quantity)?,
                CartAction::Set { variant, quantity } => cart.set_quantity(&variant, quantity)?,
                CartAction::Remove { variant } => cart.remove(&variant)?,
                CartAction::Clear => cart.clear()?,
                CartAction::Show => {}
            }
            ui.print_cart(&cart.view()?);
        }
        Command::Voucher { action } => match action {
            VoucherAction::Apply { code } => ui.print_cart(&profile.cart().apply_voucher(&code)?),
            VoucherAction::Remove { code } => {
                profile.cart().remove_voucher(&code)?;
                ui.print_cart(&profile.cart().view()?);
            }
            VoucherAction::List => {
                let mut t = table(&["code", "title", "merchant", "valid until"]);
                for v in profile.catalog().vouchers()? {
                    t.add_row(vec![
                        v.code,
                        v.title,
                        v.merchant_id.unwrap_or_else(|| "(platform)".into()),
                        v.valid_until.date().to_string(),
                    ]);
                }
                println!("{t}");
            }
        },
        Command::Sync {
            server,
            page_limit,
            quiet,
        } => {
            let runtime = sync::runtime()?;
            let client = sync::client(&profile, storage(), &server, page_limit)?;
            let report = runtime.block_on(sync::run(&client, !quiet))?;
            sync::print_report(&report);
        }
        Command::Outbox => {
            let ob = profile.outbox();
            let mut t = table(&["seq", "kind", "payload", "state"]);
            for q in ob.list(50)? {
                let body = serde_json::to_value(&q.intent.body)?;
                t.add_row(vec![
                    q.intent.seq.to_string(),
                    body["kind"].as_str().unwrap_or("").to_string(),
                    body["payload"].to_string(),
                    format!("{:?}", q.state),
                ]);
            }
            println!("{t}");
            println!("pending: {}", ob.pending_count()?);
        }
    }
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(header.iter().map(Cell::new));
    t
}

fn stock_label(s: StockBand, locale: Locale) -> &'static str {
    match (s, locale) {
        (StockBand::InStock, Locale::IdId) => "tersedia",
        (StockBand::Low, Locale::IdId) => "stok terbatas",
        (StockBand::Out, Locale::IdId) => "habis",
        (StockBand::InStock, Locale::En) => "in stock",
        (StockBand::Low, Locale::En) => "low stock",
        (StockBand::Out, Locale::En) => "sold out",
    }
}

struct Ui {
    locale: Locale,
    currency: Currency,
}

impl Ui {
    fn money(&self, m: &Money) -> String {
        m.format(self.locale)
    }

    fn print_hits(&self, page: &SearchPage) {
        if page.hits.is_empty() {
            println!("(no results)");
            return;
        }
        let mut t = table(&[
            "product", "title", "merchant", "price", "rating", "stock", "match",
        ]);
        for h in &page.hits {
            let price = if h.price_min == h.price_max {
                self.money(&h.price_min)
            } else {
                format!(
                    "{} – {}",
                    self.money(&h.price_min),
                    self.money(&h.price_max)
                )
            };
            t.add_row(vec![
                h.product_id.clone(),
                h.title.clone(),
                h.merchant_name.clone(),
                price,
                format!("{} ({})", h.rating.average, h.rating.count),
                stock_label(h.stock, self.locale).to_string(),
                h.snippet.clone().unwrap_or_default(),
            ]);
        }
        println!("{t}");
    }

    fn print_product(&self, profile: &Profile, id: &str) -> CliResult {
        let d = profile.catalog().product(id)?;
        let path: Vec<&str> = d.category_path.iter().map(|c| c.name.as_str()).collect();
        println!("{} — {}", d.product.id, d.product.title);
        println!("  {}", path.join(" › "));
        println!(
            "  by {} ({}, {:?}) · rating {} from {} reviews",
            d.merchant.name,
            d.merchant.city,
            d.merchant.kind,
            d.product.rating.average,
            d.product.rating.count
        );
        println!("  {}", d.product.description);
        println!("  shipping: {}", d.merchant.policies.shipping);
        println!("  warranty: {}", d.merchant.policies.warranty);
        println!("  returns:  {}", d.merchant.policies.returns);
        let mut t = table(&["variant", "options", "price", "was", "stock", "weight"]);
        for v in &d.variants {
            let price = v
                .prices
                .iter()
                .find(|p| p.amount.currency() == self.currency);
            let opts: Vec<String> = v.options.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            t.add_row(vec![
                v.id.clone(),
                opts.join(", "),
                price
                    .map(|p| self.money(&p.amount))
                    .unwrap_or_else(|| "—".into()),
                price
                    .and_then(|p| p.compare_at.as_ref())
                    .map(|m| self.money(m))
                    .unwrap_or_default(),
                stock_label(v.stock, self.locale).to_string(),
                format!("{} g", v.weight_grams),
            ]);
        }
        println!("{t}");
        Ok(())
    }

    fn print_categories(&self, tree: &[CategoryNode]) {
        fn walk(nodes: &[CategoryNode], depth: usize) {
            for n in nodes {
                println!(
                    "{}{} [{}] ({})",
                    "  ".repeat(depth),
                    n.category.name,
                    n.category.id,
                    n.product_count
                );
                walk(&n.children, depth + 1);
            }
        }
        walk(tree, 0);
    }

    fn print_cart(&self, cart: &CartView) {
        if cart.groups.is_empty() && cart.unavailable.is_empty() {
            println!("(the cart is empty)");
            return;
        }
        for g in &cart.groups {
            println!("🏪 {} — one shipment", g.merchant_name);
            let mut t = table(&[
                "variant", "item", "qty", "unit", "total", "discount", "note",
            ]);
            for l in &g.lines {
                let note = match l.status {
                    LineStatus::PriceChanged => {
                        format!("price changed (was {})", self.money(&l.seen_price))
                    }
                    _ => String::new(),
                };
                t.add_row(vec![
                    l.variant_id.clone(),
                    l.title.clone(),
                    l.quantity.to_string(),
                    l.unit_price.map(|p| self.money(&p)).unwrap_or_default(),
                    self.money(&l.line_total),
                    self.money(&l.discount),
                    note,
                ]);
            }
            println!("{t}");
            if let Some(v) = &g.voucher {
                match &v.rejection {
                    None => println!("  voucher {}: −{}", v.code, self.money(&v.discount)),
                    Some(r) => println!("  voucher {}: not applied ({r})", v.code),
                }
            }
            println!(
                "  subtotal {}  discount −{}  total {}",
                self.money(&g.subtotal),
                self.money(&g.discount),
                self.money(&g.total)
            );
        }
        for l in &cart.unavailable {
            println!(
                "  unavailable: {} × {} ({})",
                l.quantity, l.variant_id, l.title
            );
        }
        if let Some(v) = &cart.platform_voucher {
            match &v.rejection {
                None => println!("platform voucher {}: −{}", v.code, self.money(&v.discount)),
                Some(r) => println!("platform voucher {}: not applied ({r})", v.code),
            }
        }
        println!(
            "items {} · subtotal {} · discount −{} · TOTAL {}",
            cart.item_count,
            self.money(&cart.subtotal),
            self.money(&cart.discount),
            self.money(&cart.total)
        );
    }
}

/// Numbered demo steps.
#[derive(Default)]
struct Steps(u32);

impl Steps {
    fn next(&mut self, title: &str) {
        self.0 += 1;
        println!();
        println!("━━ {}. {title}", self.0);
    }
}

/// A random hex secret (the demo server's dev token and inbound HMAC secret).
fn random_hex() -> String {
    let mut b = [0u8; 16];
    warung_server::identity::random_bytes(&mut b);
    warung_core::protocol::hex(&b)
}

/// The demo account's PIN.
const DEMO_PIN: &str = "240517";

/// The whole journey on a throw-away profile, synced from a real server started in-process on
/// an ephemeral loopback port.
fn demo(ui: &Ui) -> CliResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo.db");
    let profile = Profile::open(&path, ui.currency)?;
    println!("Warung demo on a temporary profile: {}", path.display());

    let rt = sync::runtime()?;
    let mut config = warung_server::Config::new(dir.path().join("server"));
    config.listen = "127.0.0.1:0".parse()?;
    config.demo = true;
    // The development SMS gateway keeps outbound messages in an outbox the demo reads as the
    // phone; the inbound secret lets the demo play the aggregator delivering the SIM's SMS.
    config.sms.dev_token = Some(random_hex());
    config.sms.inbound_secret = Some(random_hex());
    let dev_token = config.sms.dev_token.clone().unwrap_or_default();
    let inbound_secret = config.sms.inbound_secret.clone().unwrap_or_default();
    let server = rt.block_on(warung_server::start(config))?;
    let url = server.url();
    let storage: std::sync::Arc<dyn warung_core::secrets::SecureStorage> =
        std::sync::Arc::new(warung_core::secrets::MemoryStorage::default());
    let client = sync::client(
        &profile,
        storage,
        &url,
        warung_core::protocol::DEFAULT_PAGE_LIMIT / 4,
    )?;
    let mut steps = Steps::default();

    steps.next("Sign up with the phone number 0812-3456-7890 and a code sent by SMS");
    let outbox = identity::CodeSource::Dev(identity::DevOutbox::new(&url, &dev_token));
    let who = identity::sign_in(
        &rt,
        &client,
        "0812-3456-7890",
        warung_core::protocol::OtpPurpose::Register,
        warung_core::protocol::SmsLanguage::Id,
        &outbox,
    )?;
    println!(
        "signed in as {} (user {}{}); the session's tokens went to secure storage",
        who.phone,
        who.user_id,
        if who.new_user { ", new account" } else { "" }
    );

    steps.next("Bind this device to the SIM: the phone sends an SMS to the short code");
    let binding = identity::begin_binding(&rt, &client, &who.phone)?;
    identity::deliver_binding_sms(&rt, &url, &inbound_secret, &who.phone, &binding)?;
    identity::wait_bound(&rt, &client, &binding.binding_id, Duration::from_secs(30))?;
    println!(
        "the device key (Ed25519) now signs PIN and soft-token requests; bound: {}",
        client.is_device_bound()?
    );

    steps.next("Set a PIN and check it");
    rt.block_on(client.set_pin(DEMO_PIN))
        .map_err(identity::explain)?;
    println!("PIN set (the server keeps a PBKDF2 hash only)");
    match rt.block_on(client.verify_pin("135790")) {
        Err(e) => println!("a wrong PIN → {}", identity::explain(e)),
        Ok(()) => return Err("a wrong PIN was accepted".into()),
    }
    rt.block_on(client.verify_pin(DEMO_PIN))
        .map_err(identity::explain)?;
    println!("the right PIN → PIN correct (the failure counter is reset)");

    steps.next("Enrol the TOTP soft token and confirm a code with the server");
    let enrollment = rt
        .block_on(client.enroll_totp())
        .map_err(identity::explain)?;
    identity::print_enrollment(&enrollment, true)?;
    let code = client.totp_code(identity::unix_now())?;
    println!(
        "soft token code now: {} (valid for {} s more, computed offline)",
        code.code, code.valid_for_s
    );
    let step = rt
        .block_on(client.confirm_totp(&code.code))
        .map_err(identity::explain)?;
    println!(
        "TOTP code {} accepted by the server (time step {step})",
        code.code
    );
    match rt.block_on(client.confirm_totp(&code.code)) {
        Err(e) => println!("the same code again → {}", identity::explain(e)),
        Ok(_) => return Err("a replayed TOTP code was accepted".into()),
    }

    steps.next(&format!(
        "Sync the demo catalog from a Warung server at {}",
        server.url()
    ));
    let started = Instant::now();
    let report = rt.block_on(sync::run(&client, true))?;
    sync::print_report(&report);
    println!(
        "in {} ms: pages staged, then applied in one transaction with the cursor",
        started.elapsed().as_millis()
    );
    let again = rt.block_on(sync::run(&client, false))?;
    println!(
        "synced again: {} new ops (the cursor was kept)",
        again.catalog_ops
    );

    steps.next("Search in Indonesian: \"kopi arabika\"");
    let kopi = profile.catalog().search(&SearchQuery {
        limit: 5,
        ..SearchQuery::text("kopi arabika")
    })?;
    ui.print_hits(&kopi);

    steps.next("Search with an affix: \"pengiriman\" (finds dikirim, kirim…)");
    ui.print_hits(&profile.catalog().search(&SearchQuery {
        limit: 3,
        ..SearchQuery::text("pengiriman")
    })?);

    steps.next("Search in English, typed halfway: \"wireless earb\"");
    ui.print_hits(&profile.catalog().search(&SearchQuery {
        limit: 5,
        ..SearchQuery::text("wireless earb")
    })?);

    steps.next("Browse a category, cheapest first, in stock only");
    let tree = profile.catalog().categories()?;
    ui.print_categories(&tree);
    let top = tree.first().ok_or("the demo catalog has no categories")?;
    let browse = profile.catalog().search(&SearchQuery {
        category_id: Some(top.category.id.clone()),
        in_stock_only: true,
        sort: SortOrder::PriceAsc,
        limit: 5,
        ..SearchQuery::default()
    })?;
    println!("{} ({} products):", top.category.name, top.product_count);
    ui.print_hits(&browse);
    let facets = profile.catalog().facets(&SearchQuery::text("batik"))?;
    println!("facets for \"batik\": {} matches", facets.total);
    for b in &facets.price_bands {
        let hi = b.max.map(|m| ui.money(&m)).unwrap_or_else(|| "…".into());
        println!("  {} – {}: {}", ui.money(&b.min), hi, b.count);
    }

    steps.next("A product with its variants");
    let first = kopi.hits.first().ok_or("no coffee found")?;
    ui.print_product(&profile, &first.product_id)?;

    steps.next("A cart from two merchants");
    let cart = profile.cart();
    let coffee = pick_variant(&profile, &kopi)?;
    cart.add(&coffee.0, 2)?;
    println!("added 2 × {} ({})", coffee.0, coffee.1);
    let batik = profile.catalog().search(&SearchQuery {
        limit: 10,
        ..SearchQuery::text("kemeja batik")
    })?;
    let other: Vec<_> = batik
        .hits
        .iter()
        .filter(|h| h.merchant_id != first.merchant_id)
        .cloned()
        .collect();
    let batik_variant = pick_variant(
        &profile,
        &SearchPage {
            hits: other,
            next_cursor: None,
        },
    )?;
    cart.add(&batik_variant.0, 1)?;
    println!("added 1 × {} ({})", batik_variant.0, batik_variant.1);

    steps.next("Vouchers: an expired one is refused with a reason, a valid one applies");
    match cart.apply_voucher("LEBARAN2025") {
        Err(e) => println!("LEBARAN2025 → {e}"),
        Ok(_) => println!("LEBARAN2025 unexpectedly applied"),
    }
    let merchant_voucher = profile
        .catalog()
        .vouchers()?
        .into_iter()
        .find(|v| v.merchant_id.as_deref() == Some(first.merchant_id.as_str()));
    if let Some(v) = merchant_voucher {
        match cart.apply_voucher(&v.code) {
            Ok(_) => println!("{} applied ({}, merchant voucher)", v.code, v.title),
            Err(e) => println!("{} → {e}", v.code),
        }
    }
    let view = cart.apply_voucher("HEMAT10")?;
    println!("HEMAT10 applied (platform voucher)");

    steps.next("The cart, one shipment per merchant");
    ui.print_cart(&view);
    println!();
    println!(
        "outbox: {} intents pending for the server (device {})",
        profile.outbox().pending_count()?,
        profile.outbox().device_id()?
    );
    println!("in English: TOTAL {}", view.total.format(Locale::En));

    steps.next("Sync: the cart's intents go up, exactly once, in order");
    let report = rt.block_on(sync::run(&client, false))?;
    sync::print_report(&report);
    println!(
        "outbox: {} pending; the server now holds a copy of this cart",
        profile.outbox().pending_count()?
    );

    steps.next("The merchant raises a price through the merchant API; the phone syncs");
    let variant = profile.catalog().variant(&coffee.0)?;
    let old = variant
        .prices
        .iter()
        .find(|p| p.amount.currency() == ui.currency)
        .ok_or("the coffee has no price in the cart currency")?
        .amount;
    let new = old.checked_add(&Money::parse("5000", ui.currency)?)?;
    let (_, key) = rt.block_on(server.admin().rotate_key(&first.merchant_id))?;
    let body = warung_core::protocol::PricesUpdate {
        prices: vec![warung_core::protocol::Price {
            amount: new,
            compare_at: None,
        }],
    };
    let status = rt.block_on(async {
        reqwest::Client::new()
            .put(format!(
                "{}/v1/merchant/variants/{}/prices",
                server.url(),
                coffee.0
            ))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .map(|r| r.status())
    })?;
    println!(
        "{}: {} → {} (HTTP {status})",
        first.merchant_id,
        ui.money(&old),
        ui.money(&new)
    );
    let report = rt.block_on(sync::run(&client, false))?;
    sync::print_report(&report);
    ui.print_cart(&profile.cart().view()?);

    rt.block_on(server.shutdown());
    Ok(())
}

/// The first in-stock variant among the hits: (variant id, product title).
fn pick_variant(profile: &Profile, page: &SearchPage) -> CliResult<(String, String)> {
    for h in &page.hits {
        let d = profile.catalog().product(&h.product_id)?;
        if let Some(v) = d.variants.iter().find(|v| v.stock == StockBand::InStock) {
            return Ok((v.id.clone(), d.product.title));
        }
    }
    Err("no in-stock variant found".into())
}
