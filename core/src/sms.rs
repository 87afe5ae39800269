//! The SMS command grammar: what a phone sends to Warung's short code, parsed the same way by
//! the server (inbound SMS) and produced by the core (the exact body it asks the app to send).
//!
//! ```text
//! message  = ws* keyword ws+ command (ws+ argument)* ws*     ; case-insensitive
//! keyword  = "WRG"
//! command  = "BIND"                                            ; SIM binding of a device
//! argument = 1*( ALPHA / DIGIT )
//! ```
//!
//! Phones and aggregators mangle case and spacing (auto-capitalisation, trailing newlines,
//! double spaces), so those are forgiven; anything else is an error with a reason. Binding
//! tokens use an alphabet without look-alikes (no `0 O 1 I L`) because users may retype them.

/// The keyword every Warung SMS starts with.
pub const KEYWORD: &str = "WRG";
/// Characters of a binding token.
pub const BIND_TOKEN_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of a binding token.
pub const BIND_TOKEN_LEN: usize = 6;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsCommand {
    /// `WRG BIND <token>`: bind the device that was given `token` to the sender's SIM.
    Bind { token: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsParseError {
    /// Not addressed to Warung (no `WRG` keyword): someone else's message or spam.
    #[error("not a Warung command")]
    NotWarung,
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("{command}: {reason}")]
    BadArguments {
        command: &'static str,
        reason: String,
    },
}

impl SmsParseError {
    /// A stable code for logs and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            SmsParseError::NotWarung => "not_warung",
            SmsParseError::UnknownCommand(_) => "unknown_command",
            SmsParseError::BadArguments { .. } => "bad_arguments",
        }
    }
}

/// Parses an SMS body.
pub fn parse(text: &str) -> Result<SmsCommand, SmsParseError> {
    let mut words = text.split_whitespace();
    match words.next() {
        Some(k) if k.eq_ignore_ascii_case(KEYWORD) => {}
        _ => return Err(SmsParseError::NotWarung),
    }
    let command = words
        .next()
        .ok_or(SmsParseError::UnknownCommand(String::new()))?;
    let args: Vec<&str> = words.collect();
    if command.eq_ignore_ascii_case("BIND") {
        let bad = |reason: &str| SmsParseError::BadArguments {
            command: "BIND",
            reason: reason.to_owned(),
        };
        let [token] = args.as_slice() else {
            return Err(bad("expected exactly one token"));
        };
        let token = token.to_ascii_uppercase();
        if token.len() != BIND_TOKEN_LEN {
            return Err(bad(&format!("a token has {BIND_TOKEN_LEN} characters")));
        }
        if !token.bytes().all(|b| BIND_TOKEN_ALPHABET.contains(&b)) {
            return Err(bad("the token has characters that are never issued"));
        }
        return Ok(SmsCommand::Bind { token });
    }
    Err(SmsParseError::UnknownCommand(
        command.chars().take(32).collect(),
    ))
}

/// The exact body of a binding SMS.
pub fn bind_body(token: &str) -> String {
    format!("{KEYWORD} BIND {token}")
}

/// True when `token` could have been issued (length and alphabet).
pub fn is_bind_token(token: &str) -> bool {
    token.len() == BIND_TOKEN_LEN && token.bytes().all(|b| BIND_TOKEN_ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bind_is_forgiving_about_case_and_spacing() {
        for text in [
            "WRG BIND 7F3KQ9",
            "wrg bind 7f3kq9",
            "  Wrg   Bind\t7F3KQ9\r\n",
        ] {
            assert_eq!(
                parse(text).unwrap(),
                SmsCommand::Bind {
                    token: "7F3KQ9".into()
                },
                "{text:?}"
            );
        }
        assert_eq!(
            parse(&bind_body("ABC234")).unwrap(),
            SmsCommand::Bind {
                token: "ABC234".into()
            }
        );
    }

    #[test]
    fn everything_else_has_a_reason() {
        assert_eq!(parse(""), Err(SmsParseError::NotWarung));
        assert_eq!(
            parse("Halo kak, pesanan saya?"),
            Err(SmsParseError::NotWarung)
        );
        assert_eq!(
            parse("WRG"),
            Err(SmsParseError::UnknownCommand(String::new()))
        );
        assert_eq!(
            parse("WRG SALDO"),
            Err(SmsParseError::UnknownCommand("SALDO".into()))
        );
        assert!(matches!(
            parse("WRG BIND"),
            Err(SmsParseError::BadArguments { .. })
        ));
        assert!(matches!(
            parse("WRG BIND 7F3KQ9 X"),
            Err(SmsParseError::BadArguments { .. })
        ));
        assert!(matches!(
            parse("WRG BIND 7F3KQ"),
            Err(SmsParseError::BadArguments { .. })
        ));
        assert!(matches!(
            parse("WRG BIND 7F3KQ0"),
            Err(SmsParseError::BadArguments { .. })
        )); // 0 is never issued
        assert!(matches!(
            parse("WRG BIND 7F3KQ٩"),
            Err(SmsParseError::BadArguments { .. })
        ));
        assert_eq!(
            parse("WRG BIND 7F3KQ0").unwrap_err().code(),
            "bad_arguments"
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,64}") {
            let _ = parse(&s);
        }

        #[test]
        fn issued_tokens_round_trip(t in "[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}") {
            prop_assert!(is_bind_token(&t));
            prop_assert_eq!(parse(&bind_body(&t)).unwrap(), SmsCommand::Bind { token: t.clone() });
            prop_assert_eq!(parse(&bind_body(&t.to_lowercase())).unwrap(), SmsCommand::Bind { token: t });
        }
    }
}
