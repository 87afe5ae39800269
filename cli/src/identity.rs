//! Identity from the terminal: `warung login`, `device`, `pin`, `totp`, `account`, `logout`.
//! Everything goes through the core's [`SyncClient`] identity methods — the calls the apps
//! make — with the profile's [`crate::secrets::FileStorage`] as the secure storage.
//!
//! Development helpers (flags named `--dev`) play the parts a terminal does not have: the
//! phone that *receives* the OTP SMS (read from the server's dev outbox, `GET /v1/dev/sms`)
//! and the phone + aggregator that *send* the binding SMS (`POST /v1/sms/inbound`, signed
//! with the aggregator's HMAC secret). The demo uses the same helpers.

use crate::CliResult;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;
use warung_core::Error as CoreError;
use warung_core::protocol::{
    BindingInstructions, BindingStatus, INBOUND_SIGNATURE_HEADER, InboundSms, InboundSmsResult,
    OTP_DIGITS, OtpPurpose, SmsLanguage, TIMESTAMP_HEADER,
};
use warung_core::sync::{CancelFlag, SyncClient};
use warung_core::verify::{SignedIn, StepUpAction, TotpEnrollment};

/// How long `warung device bind` waits for the binding SMS by default (the binding's TTL).
const BIND_WAIT: Duration = Duration::from_secs(600);
/// How long the dev helpers wait for a message to show up in the dev outbox.
const OUTBOX_WAIT: Duration = Duration::from_secs(10);

#[derive(Args, Clone)]
pub struct ServerArg {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "WARUNG_SERVER")]
    pub server: String,
}

/// Where an SMS code comes from: `--code`, the dev outbox (`--dev`), or a prompt.
#[derive(Args, Clone)]
pub struct CodeArgs {
    /// The 6-digit code from the SMS (else it is asked for).
    #[arg(long)]
    pub code: Option<String>,
    /// Development server: read the code from its dev SMS outbox (needs the dev token).
    #[arg(long, conflicts_with = "code")]
    pub dev: bool,
    /// The server's dev token (`warung-server --dev-token`).
    #[arg(long, env = "WARUNG_DEV_TOKEN", hide_env_values = true)]
    pub dev_token: Option<String>,
}

#[derive(Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub server: ServerArg,
    /// The phone number: 0812…, 62812… or +62812… (spaces and dashes allowed).
    #[arg(long)]
    pub phone: String,
    /// Language of the SMS the server sends.
    #[arg(long, value_enum, default_value_t = Language::Id)]
    pub language: Language,
    #[command(flatten)]
    pub code: CodeArgs,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Language {
    Id,
    En,
}

impl From<Language> for SmsLanguage {
    fn from(l: Language) -> SmsLanguage {
        match l {
            Language::Id => SmsLanguage::Id,
            Language::En => SmsLanguage::En,
        }
    }
}

#[derive(Subcommand)]
pub enum DeviceAction {
    /// Bind this installation to the account's SIM: prints the SMS to send, then waits.
    Bind {
        #[command(flatten)]
        server: ServerArg,
        /// Print the SMS to send and return (check later with `warung device status ID`).
        #[arg(long)]
        no_wait: bool,
        /// Seconds to wait for the SMS.
        #[arg(long, default_value_t = BIND_WAIT.as_secs())]
        timeout: u64,
        /// Development server: play the phone and the SMS aggregator — deliver the binding
        /// SMS through the inbound webhook, signed with the aggregator secret.
        #[arg(long)]
        dev: bool,
        /// The aggregator's inbound HMAC secret (`warung-server --sms-inbound-secret`).
        #[arg(long, env = "WARUNG_SMS_INBOUND_SECRET", hide_env_values = true)]
        sms_inbound_secret: Option<String>,
        /// With --dev: the SIM the SMS comes from (default: the account's own number).
        #[arg(long, requires = "dev")]
        sim_number: Option<String>,
    },
    /// A binding's state; a bound one makes its key this installation's device key.
    Status {
        binding_id: String,
        #[command(flatten)]
        server: ServerArg,
    },
    /// The account's devices.
    List {
        #[command(flatten)]
        server: ServerArg,
    },
    /// Revoke a device (its binding and sessions).
    Revoke {
        device_id: String,
        #[command(flatten)]
        server: ServerArg,
    },
}

#[derive(Subcommand)]
pub enum PinAction {
    /// Set the first PIN (needs a bound device).
    Set {
        #[command(flatten)]
        server: ServerArg,
        #[command(flatten)]
        pin: PinArg,
    },
    /// Change the PIN: the old one plus a one-time SMS code.
    Change {
        #[command(flatten)]
        server: ServerArg,
        /// The current PIN (else asked for).
        #[arg(long, env = "WARUNG_OLD_PIN", hide_env_values = true)]
        old_pin: Option<String>,
        #[command(flatten)]
        pin: PinArg,
        #[command(flatten)]
        code: CodeArgs,
    },
    /// Check the PIN with the server.
    Verify {
        #[command(flatten)]
        server: ServerArg,
        #[command(flatten)]
        pin: PinArg,
    },
}

#[derive(Args)]
pub struct PinArg {
    /// The (new) PIN, 6 digits (else asked for without echo). Arguments are visible to
    /// other local users: prefer WARUNG_PIN or the prompt.
    #[arg(long, env = "WARUNG_PIN", hide_env_values = true)]
    pub pin: Option<String>,
}

#[derive(Subcommand)]
pub enum TotpAction {
    /// Enrol the TOTP soft token; prints its otpauth:// URI and a QR code.
    Enroll {
        #[command(flatten)]
        server: ServerArg,
        /// Do not draw the QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// The soft token's current code (offline).
    Code {
        #[command(flatten)]
        server: ServerArg,
    },
    /// Have the server check a code (default: the soft token's current code).
    Verify {
        code: Option<String>,
        #[command(flatten)]
        server: ServerArg,
    },
    /// Remove the soft token (e.g. its enrolment answer was lost): the PIN plus a one-time
    /// SMS code; then `totp enroll` works again.
    Reset {
        #[command(flatten)]
        server: ServerArg,
        #[command(flatten)]
        pin: PinArg,
        #[command(flatten)]
        code: CodeArgs,
    },
}

// -- errors --------------------------------------------------------------------------------

/// A core error as a message for the terminal, with what to do next where there is something.
pub fn explain(e: CoreError) -> Box<dyn std::error::Error> {
    let msg = match &e {
        CoreError::OtpRejected {
            code,
            attempts_left,
        } => match (code.as_str(), attempts_left) {
            ("otp_invalid", Some(0)) => {
                "wrong code, and no attempts left: ask for a new code".into()
            }
            ("otp_invalid", Some(n)) => format!("wrong code ({n} attempts left)"),
            ("otp_invalid", None) => "wrong code".into(),
            ("otp_expired", _) => "the code has expired: ask for a new one".into(),
            ("otp_used", _) => "this code was already used: ask for a new one".into(),
            ("otp_locked", _) => {
                "too many wrong codes: this code no longer works; ask for a new one".into()
            }
            ("otp_wrong_device", _) => "this code was sent to sign in another device".into(),
            ("invalid_code", _) => format!("an SMS code is exactly {OTP_DIGITS} digits (0-9)"),
            ("not_found", _) => "unknown or expired code request: ask for a new code".into(),
            (other, _) => format!("code refused: {other}"),
        },
        CoreError::RateLimited { retry_after_s } => {
            // Most often the 30 s resend cool-down of SMS codes, e.g. `pin change` just after
            // `login`: say what to do, not only what happened.
            format!(
                "rate limited by the server: wait {retry_after_s} s, then run the same command \
                 again (a new SMS code to the same number needs 30 s after the last one)"
            )
        }
        CoreError::NotSignedIn | CoreError::SessionExpired => {
            format!("{e}: run `warung login --phone …`")
        }
        CoreError::DeviceNotBound => format!("{e}: run `warung device bind`"),
        CoreError::PinNotSet => format!("{e}: run `warung pin set`"),
        CoreError::TotpNotEnrolled => format!("{e}: run `warung totp enroll`"),
        CoreError::TotpAlreadyEnrolled => {
            format!("{e}: if its secret was lost, `warung totp reset` (PIN + SMS code) first")
        }
        CoreError::TotpRejected { code } => match code.as_str() {
            "totp_invalid" => "TOTP code refused: wrong code".into(),
            "totp_replayed" => {
                "TOTP code refused: already used (totp_replayed); wait for the next one".into()
            }
            "invalid_code" => "a TOTP code is 6 to 8 digits (0-9)".into(),
            other => format!("TOTP code refused: {other}"),
        },
        CoreError::Network(m) => format!("network: cannot reach the server: {m}"),
        _ => e.to_string(),
    };
    msg.into()
}

// -- the dev helpers -----------------------------------------------------------------------

#[derive(Debug, Clone, serde::Deserialize)]
pub struct DevSms {
    pub id: String,
    pub text: String,
}

#[derive(serde::Deserialize)]
struct DevSmsList {
    messages: Vec<DevSms>,
}

/// The server's dev SMS outbox, read as the phone that receives the messages.
pub struct DevOutbox {
    http: reqwest::Client,
    server: String,
    token: String,
}

impl DevOutbox {
    pub fn new(server: &str, token: &str) -> DevOutbox {
        DevOutbox {
            http: reqwest::Client::new(),
            server: server.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    fn from_args(server: &str, args: &CodeArgs) -> CliResult<Option<DevOutbox>> {
        if !args.dev {
            return Ok(None);
        }
        let token = args
            .dev_token
            .as_deref()
            .ok_or("--dev reads the dev SMS outbox: pass --dev-token or set WARUNG_DEV_TOKEN")?;
        Ok(Some(DevOutbox::new(server, token)))
    }

    /// Newest first.
    async fn list(&self, to: &str, limit: u32) -> CliResult<Vec<DevSms>> {
        let answer = self
            .http
            .get(format!("{}/v1/dev/sms", self.server))
            .query(&[("to", to), ("limit", &limit.to_string())])
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("network: cannot reach the dev SMS outbox: {e}"))?;
        match answer.status().as_u16() {
            200 => Ok(answer.json::<DevSmsList>().await?.messages),
            401 => Err("the server refused the dev token".into()),
            404 => Err(
                "this server has no dev SMS outbox: start it with a dev token, e.g. \
                 `warung-server --demo --dev-token dev --sms-inbound-secret s3cret`, and pass the \
                 same --dev-token here (or set WARUNG_DEV_TOKEN for both)"
                    .into(),
            ),
            s => Err(format!("dev SMS outbox: HTTP {s}: {}", answer.text().await?).into()),
        }
    }

    /// The id of the newest message to `to`, to recognise the next one.
    pub async fn newest_id(&self, to: &str) -> CliResult<Option<String>> {
        Ok(self.list(to, 1).await?.into_iter().next().map(|m| m.id))
    }

    /// The newest message to `to` that came after `after` and carries a code; waits briefly
    /// for it. Returns (code, the message).
    pub async fn wait_for_code(
        &self,
        to: &str,
        after: Option<&str>,
    ) -> CliResult<(String, DevSms)> {
        let deadline = tokio::time::Instant::now() + OUTBOX_WAIT;
        loop {
            let found = self
                .list(to, 10)
                .await?
                .into_iter()
                .take_while(|m| Some(m.id.as_str()) != after)
                .find_map(|m| code_in(&m.text).map(|c| (c, m)));
            if let Some(hit) = found {
                return Ok(hit);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!("no new SMS code for {to} in the dev outbox").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The first run of exactly 6 ASCII digits in a text.
pub fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == OTP_DIGITS)
        .map(str::to_owned)
}

/// Delivers a mobile-originated SMS to the server as the aggregator would: JSON signed with
/// HMAC-SHA256(secret, `{timestamp}.{body}`).
pub async fn deliver_inbound_sms(
    server: &str,
    secret: &str,
    sms: &InboundSms,
) -> CliResult<InboundSmsResult> {
    let body = serde_json::to_vec(sms)?;
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = warung_server::sms::inbound_signature(secret, ts, &body);
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/sms/inbound", server.trim_end_matches('/')))
        .header("content-type", "application/json")
        .header(TIMESTAMP_HEADER, ts.to_string())
        .header(INBOUND_SIGNATURE_HEADER, signature)
        .body(body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("network: cannot reach the inbound SMS webhook: {e}"))?;
    match answer.status().as_u16() {
        200 => Ok(answer.json().await?),
        401 => {
            Err("the server refused the aggregator signature (check --sms-inbound-secret)".into())
        }
        404 => Err("this server takes no inbound SMS (no inbound secret configured)".into()),
        s => Err(format!("inbound SMS: HTTP {s}: {}", answer.text().await?).into()),
    }
}

// -- terminal input ------------------------------------------------------------------------

/// One line from stdin; EOF is an error saying what was missing and how to pass it.
fn read_line(what: &str, hint: &str) -> CliResult<String> {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Err(format!("no {what} given (stdin is closed): {hint}").into());
    }
    Ok(line.trim().to_string())
}

/// A visible prompt (SMS codes are short-lived and single use).
fn prompt(label: &str, what: &str, hint: &str) -> CliResult<String> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    read_line(what, hint)
}

fn interactive() -> bool {
    console::Term::stderr().is_term() && std::io::stdin().is_terminal()
}

/// A PIN: without echo on a terminal; otherwise a line of stdin (said so on stderr).
fn prompt_secret(label: &str) -> CliResult<String> {
    if interactive() {
        let term = console::Term::stderr();
        term.write_str(label)?;
        return Ok(term.read_secure_line()?.trim().to_string());
    }
    eprintln!("{label}(stdin is not a terminal: reading one line from it)");
    read_line("PIN", "pass --pin or set WARUNG_PIN")
}

/// A new PIN: given, or typed twice on a terminal (once from piped stdin).
fn new_pin(given: Option<String>) -> CliResult<String> {
    if let Some(p) = given {
        return Ok(p);
    }
    let pin = prompt_secret("new PIN (6 digits): ")?;
    warung_core::verify::check_new_pin(&pin).map_err(explain)?;
    if interactive() && prompt_secret("the same PIN again: ")? != pin {
        return Err("the two PINs differ".into());
    }
    Ok(pin)
}

// -- flows shared with the demo ------------------------------------------------------------

pub enum CodeSource {
    Given(String),
    Dev(DevOutbox),
    Prompt,
}

impl CodeSource {
    fn from_args(server: &str, args: CodeArgs) -> CliResult<CodeSource> {
        let dev = DevOutbox::from_args(server, &args)?;
        Ok(match (args.code, dev) {
            (Some(c), _) => CodeSource::Given(c),
            (None, Some(dev)) => CodeSource::Dev(dev),
            (None, None) => CodeSource::Prompt,
        })
    }

    async fn mark(&self, to: &str) -> CliResult<Option<String>> {
        match self {
            CodeSource::Dev(dev) => dev.newest_id(to).await,
            _ => Ok(None),
        }
    }
}

/// Runs an OTP round: `request` sends the SMS, then the code comes from `source` and goes to
/// `verify`. A prompted code may be typed again after a wrong one while attempts are left.
fn otp_round<T, R, V>(
    rt: &tokio::runtime::Runtime,
    source: &CodeSource,
    to: &str,
    request: R,
    verify: V,
) -> CliResult<T>
where
    R: AsyncFnOnce() -> warung_core::Result<warung_core::protocol::OtpChallenge>,
    V: AsyncFn(String, String) -> warung_core::Result<T>,
{
    let mark = rt.block_on(source.mark(to))?;
    let challenge = rt.block_on(request()).map_err(explain)?;
    println!(
        "code sent by SMS to {} (valid until {})",
        challenge.phone,
        hhmm(challenge.expires_at)
    );
    match source {
        CodeSource::Given(code) => rt
            .block_on(verify(challenge.challenge_id, code.clone()))
            .map_err(explain),
        CodeSource::Dev(dev) => {
            let (code, sms) = rt.block_on(dev.wait_for_code(to, mark.as_deref()))?;
            println!("  the phone received: \"{}\"", sms.text);
            rt.block_on(verify(challenge.challenge_id, code))
                .map_err(explain)
        }
        CodeSource::Prompt => loop {
            let code = prompt("code from the SMS: ", "code", "pass --code or --dev")?;
            match rt.block_on(verify(challenge.challenge_id.clone(), code)) {
                Err(CoreError::OtpRejected {
                    code,
                    attempts_left: Some(n),
                }) if n > 0 && code == "otp_invalid" => {
                    eprintln!("wrong code ({n} attempts left)");
                }
                Err(CoreError::OtpRejected { code, .. }) if code == "invalid_code" => {
                    eprintln!("an SMS code is exactly {OTP_DIGITS} digits");
                }
                other => return other.map_err(explain),
            }
        },
    }
}

/// Register / log in `phone` with an SMS code from `source`.
pub fn sign_in(
    rt: &tokio::runtime::Runtime,
    client: &SyncClient,
    phone: &str,
    purpose: OtpPurpose,
    language: SmsLanguage,
    source: &CodeSource,
) -> CliResult<SignedIn> {
    let e164 = warung_core::phone::normalize(phone)
        .map_err(|e| explain(CoreError::InvalidPhone(e.to_string())))?;
    otp_round(
        rt,
        source,
        &e164,
        async || client.request_otp(&e164, purpose, language).await,
        async |id: String, code: String| client.verify_otp(&id, &code).await,
    )
}

/// Begins a binding and prints what the phone must send.
pub fn begin_binding(
    rt: &tokio::runtime::Runtime,
    client: &SyncClient,
    phone: &str,
) -> CliResult<BindingInstructions> {
    let b = rt
        .block_on(client.begin_device_binding())
        .map_err(explain)?;
    println!(
        "send `{}` to {} from the SIM of {phone} (before {})",
        b.sms_body,
        b.short_code,
        hhmm(b.expires_at)
    );
    Ok(b)
}

/// Plays the phone's SIM and the aggregator: the binding SMS, from `from`, to the webhook.
pub fn deliver_binding_sms(
    rt: &tokio::runtime::Runtime,
    server: &str,
    secret: &str,
    from: &str,
    b: &BindingInstructions,
) -> CliResult<()> {
    let sms = InboundSms {
        message_id: format!("cli-{}", b.binding_id),
        from: from.to_string(),
        to: b.short_code.clone(),
        text: b.sms_body.clone(),
    };
    let r = rt.block_on(deliver_inbound_sms(server, secret, &sms))?;
    println!(
        "  the aggregator delivered \"{}\" from {from}: {}{}",
        sms.text,
        r.result,
        r.reason
            .as_deref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default()
    );
    match r.result.as_str() {
        "bound" | "duplicate" => Ok(()),
        _ => Err(format!(
            "the server did not bind: {} {}",
            r.result,
            r.reason.unwrap_or_default()
        )
        .into()),
    }
}

/// Waits until bound, with a spinner on a terminal.
pub fn wait_bound(
    rt: &tokio::runtime::Runtime,
    client: &SyncClient,
    binding_id: &str,
    timeout: Duration,
) -> CliResult<BindingStatus> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}")?);
    spinner.set_message("waiting for the binding SMS to reach the server…");
    spinner.enable_steady_tick(Duration::from_millis(100));
    let result = rt.block_on(client.wait_until_bound(binding_id, timeout, &CancelFlag::new()));
    spinner.finish_and_clear();
    let status = result.map_err(explain)?;
    println!(
        "device {} bound to the SIM{}",
        status.device_id,
        status
            .bound_at
            .map(|t| format!(" at {}", hhmm(t)))
            .unwrap_or_default()
    );
    Ok(status)
}

/// Prints an enrolment: the URI and, unless `qr` is false, its QR code.
pub fn print_enrollment(e: &TotpEnrollment, qr: bool) -> CliResult {
    println!(
        "TOTP soft token enrolled: {} / {} ({}, {} digits, {} s)",
        e.issuer,
        e.account,
        e.algorithm.as_str(),
        e.digits,
        e.period_s
    );
    println!("otpauth URI (add it to another authenticator app; it holds the secret):");
    println!("  {}", e.otpauth_uri);
    if qr {
        println!("{}", qr_text(&e.otpauth_uri)?);
    }
    Ok(())
}

/// A QR code drawn with half-block characters (light modules on a dark terminal).
pub fn qr_text(data: &str) -> CliResult<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::L)?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build())
}

pub fn unix_now() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64
}

fn hhmm(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_else(|_| t.to_string())
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

// -- the commands --------------------------------------------------------------------------

/// What every identity command needs: the runtime and a client on the profile's storage.
pub struct Ctx {
    pub rt: tokio::runtime::Runtime,
    pub client: SyncClient,
    pub server: String,
}

impl Ctx {
    pub fn new(
        profile: &warung_core::Profile,
        storage: std::sync::Arc<dyn warung_core::secrets::SecureStorage>,
        server: &ServerArg,
    ) -> CliResult<Ctx> {
        Ok(Ctx {
            rt: crate::sync::runtime()?,
            client: crate::sync::client(
                profile,
                storage,
                &server.server,
                warung_core::protocol::DEFAULT_PAGE_LIMIT,
            )?,
            server: server.server.clone(),
        })
    }

    /// The signed-in phone (from the server).
    fn phone(&self) -> CliResult<String> {
        Ok(self
            .rt
            .block_on(self.client.account())
            .map_err(explain)?
            .phone)
    }
}

pub fn login(ctx: &Ctx, args: LoginArgs) -> CliResult {
    let source = CodeSource::from_args(&ctx.server, args.code)?;
    let who = sign_in(
        &ctx.rt,
        &ctx.client,
        &args.phone,
        OtpPurpose::Login,
        args.language.into(),
        &source,
    )?;
    println!(
        "signed in as {} (user {}{})",
        who.phone,
        who.user_id,
        if who.new_user { ", new account" } else { "" }
    );
    if ctx.client.is_device_bound().map_err(explain)? {
        println!("this device is bound to the SIM");
    } else {
        println!("next: bind this device to the SIM with `warung device bind`");
    }
    Ok(())
}

pub fn device(ctx: &Ctx, action: DeviceAction) -> CliResult {
    match action {
        DeviceAction::Bind {
            no_wait,
            timeout,
            dev,
            sms_inbound_secret,
            sim_number,
            ..
        } => {
            let secret = match (dev, sms_inbound_secret) {
                (false, _) => None,
                (true, Some(s)) => Some(s),
                (true, None) => {
                    return Err(
                        "--dev delivers the binding SMS through the inbound webhook: \
                                pass --sms-inbound-secret or set WARUNG_SMS_INBOUND_SECRET"
                            .into(),
                    );
                }
            };
            let phone = ctx.phone()?;
            let b = begin_binding(&ctx.rt, &ctx.client, &phone)?;
            if let Some(secret) = secret {
                let from = sim_number.unwrap_or_else(|| phone.clone());
                deliver_binding_sms(&ctx.rt, &ctx.server, &secret, &from, &b)?;
            }
            if no_wait {
                println!(
                    "binding {} is pending: check with `warung device status {}`",
                    b.binding_id, b.binding_id
                );
                return Ok(());
            }
            wait_bound(
                &ctx.rt,
                &ctx.client,
                &b.binding_id,
                Duration::from_secs(timeout),
            )?;
        }
        DeviceAction::Status { binding_id, .. } => {
            let s = ctx
                .rt
                .block_on(ctx.client.binding_status(&binding_id))
                .map_err(explain)?;
            println!(
                "binding {}: {} (device {}, expires {})",
                s.binding_id,
                s.state.as_str(),
                s.device_id,
                hhmm(s.expires_at)
            );
        }
        DeviceAction::List { .. } => {
            let devices = ctx.rt.block_on(ctx.client.devices()).map_err(explain)?;
            let mut t = crate::table(&[
                "device",
                "this one",
                "bound",
                "key",
                "bound at",
                "revoked at",
                "last login",
            ]);
            for d in devices {
                t.add_row(vec![
                    d.device_id,
                    yes(d.current).to_string(),
                    yes(d.bound).to_string(),
                    d.key_fingerprint.unwrap_or_default(),
                    d.bound_at.map(hhmm).unwrap_or_default(),
                    d.revoked_at.map(hhmm).unwrap_or_default(),
                    hhmm(d.last_login_at),
                ]);
            }
            println!("{t}");
        }
        DeviceAction::Revoke { device_id, .. } => {
            ctx.rt
                .block_on(ctx.client.revoke_device(&device_id))
                .map_err(explain)?;
            println!("device {device_id} revoked (its binding and sessions)");
        }
    }
    Ok(())
}

pub fn pin(ctx: &Ctx, action: PinAction) -> CliResult {
    match action {
        PinAction::Set { pin, .. } => {
            let pin = new_pin(pin.pin)?;
            ctx.rt.block_on(ctx.client.set_pin(&pin)).map_err(explain)?;
            println!("PIN set");
        }
        PinAction::Verify { pin, .. } => {
            let pin = match pin.pin {
                Some(p) => p,
                None => prompt_secret("PIN: ")?,
            };
            ctx.rt
                .block_on(ctx.client.verify_pin(&pin))
                .map_err(explain)?;
            println!("PIN correct");
        }
        PinAction::Change {
            old_pin, pin, code, ..
        } => {
            let old = match old_pin {
                Some(p) => p,
                None => prompt_secret("current PIN: ")?,
            };
            let new = new_pin(pin.pin)?;
            // Refused locally before an SMS goes out.
            warung_core::verify::check_new_pin(&new).map_err(explain)?;
            let source = CodeSource::from_args(&ctx.server, code)?;
            let phone = ctx.phone()?;
            let client = &ctx.client;
            println!("confirming the PIN change with a one-time SMS code");
            let challenge_id = otp_round(
                &ctx.rt,
                &source,
                &phone,
                async || client.request_step_up(StepUpAction::PinChange).await,
                async |id: String, code: String| {
                    client.verify_step_up(&id, &code).await.map(|_| id)
                },
            )?;
            ctx.rt
                .block_on(client.change_pin(&old, &new, &challenge_id))
                .map_err(explain)?;
            println!("PIN changed");
        }
    }
    Ok(())
}

pub fn totp(ctx: &Ctx, action: TotpAction) -> CliResult {
    match action {
        TotpAction::Enroll { no_qr, .. } => {
            let e = ctx.rt.block_on(ctx.client.enroll_totp()).map_err(explain)?;
            print_enrollment(&e, !no_qr)?;
        }
        TotpAction::Code { .. } => {
            let c = ctx.client.totp_code(unix_now()).map_err(explain)?;
            println!("{} (valid for {} s more)", c.code, c.valid_for_s);
        }
        TotpAction::Verify { code, .. } => {
            let code = match code {
                Some(c) => c,
                None => ctx.client.totp_code(unix_now()).map_err(explain)?.code,
            };
            let step = ctx
                .rt
                .block_on(ctx.client.confirm_totp(&code))
                .map_err(explain)?;
            println!("TOTP code {code} accepted by the server (time step {step})");
        }
        TotpAction::Reset { pin, code, .. } => {
            let pin = match pin.pin {
                Some(p) => p,
                None => prompt_secret("PIN: ")?,
            };
            // A malformed PIN is refused before an SMS goes out.
            if !warung_core::protocol::is_ascii_digits(&pin, warung_core::protocol::PIN_DIGITS) {
                return Err(explain(CoreError::InvalidPin));
            }
            let source = CodeSource::from_args(&ctx.server, code)?;
            let phone = ctx.phone()?;
            let client = &ctx.client;
            println!("confirming the soft token reset with a one-time SMS code");
            let challenge_id = otp_round(
                &ctx.rt,
                &source,
                &phone,
                async || client.request_step_up(StepUpAction::TotpReset).await,
                async |id: String, code: String| {
                    client.verify_step_up(&id, &code).await.map(|_| id)
                },
            )?;
            ctx.rt
                .block_on(client.reset_totp(&pin, &challenge_id))
                .map_err(explain)?;
            println!("TOTP soft token removed; run `warung totp enroll` to enrol again");
        }
    }
    Ok(())
}

pub fn account(ctx: &Ctx) -> CliResult {
    let a = ctx.rt.block_on(ctx.client.account()).map_err(explain)?;
    println!("phone          {}", a.phone);
    println!("user           {}", a.user_id);
    println!("this device    {}", a.device_id);
    println!("device bound   {}", yes(a.device_bound));
    println!(
        "PIN set        {}{}",
        yes(a.pin_set),
        a.pin_locked_until
            .map(|t| format!(" (locked until {})", hhmm(t)))
            .unwrap_or_default()
    );
    println!("TOTP enrolled  {}", yes(a.totp_enrolled));
    println!("since          {}", hhmm(a.created_at));
    Ok(())
}

pub fn logout(ctx: &Ctx) -> CliResult {
    let was = ctx.client.is_signed_in().map_err(explain)?;
    ctx.rt.block_on(ctx.client.logout()).map_err(explain)?;
    println!(
        "{}",
        if was {
            "signed out"
        } else {
            "not signed in (nothing to do)"
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_code_in_both_languages() {
        assert_eq!(
            code_in("Kode OTP Warung: 042917. Berlaku 5 menit.").as_deref(),
            Some("042917")
        );
        assert_eq!(
            code_in("Your Warung code is 555123. It expires in 5 minutes.").as_deref(),
            Some("555123")
        );
        assert_eq!(code_in("Warung: perangkat baru terhubung"), None);
        assert_eq!(code_in("call 1234567 now"), None);
    }

    #[test]
    fn draws_a_qr_code() {
        let q = qr_text("otpauth://totp/Warung:%2B6281234567890?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(q.lines().count() > 10);
        assert!(q.contains('▀') || q.contains('▄') || q.contains('█'));
    }
}
