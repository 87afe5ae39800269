//! Phone numbers: everything the server and the phone compare is E.164 (`+628…`).
//!
//! Indonesian subscribers type their number three ways — `0812-3456-7890` (national),
//! `6281234567890` (country code without `+`) and `+62 812 3456 7890` — and the network reports
//! a sender as any of them. [`normalize`] turns all three into `+6281234567890`. Other
//! countries are accepted only in full international form (`+` and the country code).
//!
//! Hand-written rather than a libphonenumber port: the rules needed here are a dozen lines and
//! the port's metadata would add megabytes to a mobile library.

/// Why a number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    /// A character that is not an ASCII digit, a leading `+`, a space, `-`, `.` or brackets
    /// (non-ASCII digits such as `٠١٢` or full-width `０８` included).
    #[error("the phone number contains {0:?}, which is not a digit")]
    InvalidCharacter(char),
    #[error("the phone number has {0} digits; an Indonesian mobile number has 10 to 13 (08…)")]
    InvalidLength(usize),
    /// Not `08…`, `628…` or `+…`.
    #[error(
        "{0:?} is not an Indonesian mobile number (08…, 628…, +628…) or an international one (+…)"
    )]
    NotMobile(String),
}

/// Digits after `+62` of an Indonesian mobile number: `8` and 8 to 11 more.
const ID_NSN_LEN: std::ops::RangeInclusive<usize> = 9..=12;

/// `08…`, `628…`, `+628…` (with spaces, dashes, dots or brackets) → `+628…`; `+<cc>…` of another
/// country is kept as E.164 (8 to 15 digits, country code not starting with 0).
pub fn normalize(input: &str) -> Result<String, PhoneError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    let mut digits = String::with_capacity(trimmed.len());
    let mut plus = false;
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '.' | '(' | ')' => {}
            other => return Err(PhoneError::InvalidCharacter(other)),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    let indonesian = if plus {
        digits.strip_prefix("62")
    } else if let Some(rest) = digits.strip_prefix('0') {
        Some(rest)
    } else {
        digits.strip_prefix("62")
    };
    match indonesian {
        Some(nsn) => {
            if !nsn.starts_with('8') {
                return Err(PhoneError::NotMobile(input.to_owned()));
            }
            if !ID_NSN_LEN.contains(&nsn.len()) {
                return Err(PhoneError::InvalidLength(nsn.len() + 1));
            }
            Ok(format!("+62{nsn}"))
        }
        None if plus => {
            if digits.starts_with('0') || !(8..=15).contains(&digits.len()) {
                return Err(PhoneError::NotMobile(input.to_owned()));
            }
            Ok(format!("+{digits}"))
        }
        None => Err(PhoneError::NotMobile(input.to_owned())),
    }
}

/// `+6281234567890` → `+62 812-****-890`: enough to recognise, not enough to misuse (logs,
/// messages shown to other people).
pub fn mask(e164: &str) -> String {
    let n = e164.chars().count();
    if n <= 7 {
        return "*".repeat(n);
    }
    let head: String = e164.chars().take(6).collect();
    let tail: String = e164.chars().skip(n - 3).collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn indonesian_forms_normalise_to_e164() {
        for input in [
            "081234567890",
            "6281234567890",
            "+6281234567890",
            "+62 812-3456-7890",
            "0812.3456.7890",
            "(0812) 3456 7890",
            " 081234567890 ",
        ] {
            assert_eq!(normalize(input).unwrap(), "+6281234567890", "{input}");
        }
        assert_eq!(normalize("0811234567").unwrap(), "+62811234567");
        assert_eq!(normalize("+14155550123").unwrap(), "+14155550123");
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        assert_eq!(normalize(""), Err(PhoneError::Empty));
        assert_eq!(normalize("  -  "), Err(PhoneError::Empty));
        assert_eq!(
            normalize("0812a4567890"),
            Err(PhoneError::InvalidCharacter('a'))
        );
        // Arabic-Indic and full-width digits are digits to Unicode, not to a phone network.
        assert_eq!(
            normalize("٠٨١٢٣٤٥٦٧٨٩٠"),
            Err(PhoneError::InvalidCharacter('٠'))
        );
        assert_eq!(
            normalize("０８１２３４５６７８９０"),
            Err(PhoneError::InvalidCharacter('０'))
        );
        assert_eq!(
            normalize("08123+4567890"),
            Err(PhoneError::InvalidCharacter('+'))
        );
        assert!(matches!(
            normalize("0812345"),
            Err(PhoneError::InvalidLength(_))
        ));
        assert!(matches!(
            normalize("08123456789012345"),
            Err(PhoneError::InvalidLength(_))
        ));
        assert!(matches!(
            normalize("0212345678"),
            Err(PhoneError::NotMobile(_))
        )); // Jakarta landline
        assert!(matches!(
            normalize("812345678"),
            Err(PhoneError::NotMobile(_))
        ));
        assert!(matches!(
            normalize("+0123456789"),
            Err(PhoneError::NotMobile(_))
        ));
        assert!(matches!(normalize("+1234"), Err(PhoneError::NotMobile(_))));
    }

    #[test]
    fn masking_keeps_head_and_tail() {
        assert_eq!(mask("+6281234567890"), "+62812****890");
        assert_eq!(mask("+1"), "**");
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_e164(s in "\\PC{0,24}") {
            if let Ok(n) = normalize(&s) {
                prop_assert!(n.starts_with('+'));
                prop_assert!(n[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert!((9..=16).contains(&n.len()));
                prop_assert_eq!(normalize(&n).unwrap(), n.clone(), "idempotent");
            }
        }

        #[test]
        fn every_national_mobile_number_round_trips(rest in "[0-9]{8,11}") {
            let national = format!("08{rest}");
            let e164 = normalize(&national).unwrap();
            prop_assert_eq!(&e164, &format!("+628{rest}"));
            prop_assert_eq!(normalize(&format!("628{rest}")).unwrap(), e164);
        }
    }
}
