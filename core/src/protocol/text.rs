//! What text the wire accepts, defined once for the server's validation, its OpenAPI patterns
//! and the phone's checks of what it syncs.
//!
//! Three kinds of field:
//! * **line** — display text on one line (names, titles, SKUs, brands, cities, attribute
//!   names and values, contact fields, app versions): no control characters at all;
//! * **block** — display text that may span lines (descriptions, policies): tab and newline
//!   allowed, other control characters not;
//! * **identifier** — machine keys chosen by a client (idempotency keys, category ids, SMS
//!   message ids): visible ASCII only, no spaces.
//!
//! Display text never carries bidirectional embeddings, overrides or isolates (U+202A–U+202E,
//! U+2066–U+2069: the "Trojan Source" characters that make `gpj.exe` read `exe.jpg`) nor line
//! or paragraph separators (U+2028/U+2029, which break JSON embedded in scripts). A required
//! field must hold at least one *visible* character: not white space and not one of the
//! invisible default-ignorable characters (zero-width space and joiners, soft hyphen, variation
//! selectors, BOM, …), so a name made only of U+200B is as blank as one made of spaces.
//! The marks LRM/RLM/ALM stay allowed: they reorder nothing and mixed-script text needs them.
//!
//! The invisible set is the Basic Multilingual Plane part of Unicode's
//! `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt), listed by hand: it is fourteen
//! ranges, stable across Unicode versions, and no crate in the tree exposes the property. The
//! astral ones (tag characters, which also build subdivision flag emoji) count as visible,
//! because an OpenAPI (ECMA-262) pattern cannot name astral code points portably and the
//! patterns below must say exactly what the server accepts.

use std::fmt;

/// Why a text field was refused. Typed so the server answers a stable 422 code and a client
/// can point at the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("must not be empty")]
    Blank,
    /// Holds characters, but none that shows (only zero-width or other invisible ones).
    #[error("has no visible character")]
    Invisible,
    #[error("contains the control character {}", U(*.0))]
    Control(char),
    #[error("contains the bidirectional control {}", U(*.0))]
    BidiControl(char),
    #[error("contains the line or paragraph separator {}", U(*.0))]
    Separator(char),
    /// Identifiers are visible ASCII.
    #[error("contains {}; only visible ASCII characters (no spaces) are allowed", U(*.0))]
    NotIdentifier(char),
}

/// A refused field: its name as the client sent it (e.g. `title`, `options.Warna`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct TextError {
    pub field: String,
    pub problem: TextProblem,
}

/// A code point as `U+202E`, the way error messages name an invisible character.
struct U(char);

impl fmt::Display for U {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

/// The kind of a field, which decides what it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Line,
    Block,
    Identifier,
}

/// Bidirectional embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
const BIDI_CONTROLS: &[(char, char)] = &[('\u{202A}', '\u{202E}'), ('\u{2066}', '\u{2069}')];
const SEPARATORS: &[(char, char)] = &[('\u{2028}', '\u{2029}')];
/// The BMP `Default_Ignorable_Code_Point`s (see the module doc).
const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
];

fn in_ranges(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Shows: not white space, not a control, not invisible.
pub fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !in_ranges(c, INVISIBLE)
}

/// The first character `kind` does not allow anywhere, with the reason.
fn forbidden(kind: TextKind, value: &str) -> Option<TextProblem> {
    value.chars().find_map(|c| match kind {
        TextKind::Identifier => (!c.is_ascii_graphic()).then_some(TextProblem::NotIdentifier(c)),
        TextKind::Line | TextKind::Block => {
            if c.is_control() && !(kind == TextKind::Block && (c == '\n' || c == '\t')) {
                Some(TextProblem::Control(c))
            } else if in_ranges(c, BIDI_CONTROLS) {
                Some(TextProblem::BidiControl(c))
            } else if in_ranges(c, SEPARATORS) {
                Some(TextProblem::Separator(c))
            } else {
                None
            }
        }
    })
}

/// Checks a field of `kind` without changing it: at most `max` characters (as sent), only
/// allowed characters, and — when `required` — at least one visible one. An optional field
/// may be empty or white space only (the server stores "none"), but not invisible-only.
pub fn check(kind: TextKind, value: &str, max: usize, required: bool) -> Result<(), TextProblem> {
    if value.chars().count() > max {
        return Err(TextProblem::TooLong { max });
    }
    if let Some(problem) = forbidden(kind, value) {
        return Err(problem);
    }
    if value.chars().any(is_visible) {
        return Ok(());
    }
    if value.chars().all(char::is_whitespace) {
        if required {
            Err(TextProblem::Blank)
        } else {
            Ok(())
        }
    } else {
        Err(TextProblem::Invisible)
    }
}

/// [`check`], then trims white space: what the server stores for a display field.
pub fn clean(
    field: &str,
    kind: TextKind,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, TextError> {
    check(kind, value, max, required).map_err(|problem| TextError {
        field: field.to_owned(),
        problem,
    })?;
    Ok(value.trim().to_owned())
}

/// ECMA-262 patterns (BMP only, `\uXXXX` escapes, read the same by Python's `re`) stating
/// exactly what [`check`] accepts, for the OpenAPI document. Built from the same tables.
pub mod pattern {
    use super::{BIDI_CONTROLS, INVISIBLE, SEPARATORS, TextKind};

    fn esc(c: char) -> String {
        format!("\\u{:04X}", u32::from(c))
    }

    fn ranges(rs: &[(char, char)]) -> String {
        rs.iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    esc(lo)
                } else {
                    format!("{}-{}", esc(lo), esc(hi))
                }
            })
            .collect()
    }

    /// Characters never allowed in a field of `kind` (the inside of a `[^…]` class).
    fn forbidden(kind: TextKind) -> String {
        let controls = match kind {
            TextKind::Block => r"\u0000-\u0008\u000B-\u001F\u007F-\u009F",
            _ => r"\u0000-\u001F\u007F-\u009F",
        };
        format!("{controls}{}{}", ranges(BIDI_CONTROLS), ranges(SEPARATORS))
    }

    /// White space that is not a control (controls are in `forbidden` or, in a block, `\t\n`).
    const SPACES: &str = r"\u0020\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000";

    /// An http(s) URL on one line, optionally surrounded by white space.
    pub fn http_url() -> String {
        format!("^[{SPACES}]*https?://[^{}]*$", forbidden(TextKind::Line))
    }

    /// A field of `kind`: `required` needs a visible character, an optional one may also be
    /// white space only. Identifiers are simpler: `^[!-~]+$` (required) or `^[!-~]*$`.
    pub fn of(kind: TextKind, required: bool) -> String {
        if kind == TextKind::Identifier {
            return if required { r"^[!-~]+$" } else { r"^[!-~]*$" }.to_owned();
        }
        let allowed = format!("[^{}]", forbidden(kind));
        let blanks = match kind {
            TextKind::Block => format!(r"[\t\n{SPACES}]"),
            _ => format!("[{SPACES}]"),
        };
        let visible = format!(r"[^{}\t\n{SPACES}{}]", forbidden(kind), ranges(INVISIBLE));
        let shown = format!("{allowed}*{visible}{allowed}*");
        if required {
            format!("^{shown}$")
        } else {
            format!("^({shown}|{blanks}*)$")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TextKind::{Block, Identifier, Line};
    use super::TextProblem as P;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn display_text_refuses_what_misleads_or_breaks() {
        assert_eq!(check(Line, "Kopi Gayo 250 g", 200, true), Ok(()));
        assert_eq!(check(Line, "كوب قهوة \u{200F}", 200, true), Ok(()));
        assert_eq!(check(Line, "👩\u{200D}🍳 dapur", 200, true), Ok(()));
        assert_eq!(
            check(Line, "invoice\u{202E}fdp.exe", 200, true),
            Err(P::BidiControl('\u{202E}'))
        );
        assert_eq!(
            check(Block, "a\u{2067}b", 200, false),
            Err(P::BidiControl('\u{2067}'))
        );
        assert_eq!(
            check(Line, "\u{200B}\u{200C}\u{FEFF}", 200, true),
            Err(P::Invisible)
        );
        assert_eq!(check(Line, " \u{200B} ", 200, false), Err(P::Invisible));
        assert_eq!(check(Line, "   ", 200, true), Err(P::Blank));
        assert_eq!(check(Line, "", 200, false), Ok(()));
        assert_eq!(check(Line, "a\nb", 200, true), Err(P::Control('\n')));
        assert_eq!(check(Block, "a\n\tb", 200, true), Ok(()));
        assert_eq!(check(Block, "a\rb", 200, true), Err(P::Control('\r')));
        assert_eq!(check(Line, "a\0", 200, true), Err(P::Control('\0')));
        assert_eq!(
            check(Block, "a\u{2028}b", 200, true),
            Err(P::Separator('\u{2028}'))
        );
        assert_eq!(check(Line, "abc", 2, true), Err(P::TooLong { max: 2 }));
    }

    #[test]
    fn identifiers_are_visible_ascii() {
        assert_eq!(
            check(Identifier, "0190a1b2-…", 128, true),
            Err(P::NotIdentifier('…'))
        );
        assert_eq!(
            check(
                Identifier,
                "01937b5e-8c2d-7f00-9a1b-3c4d5e6f7a8b",
                128,
                true
            ),
            Ok(())
        );
        assert_eq!(
            check(Identifier, "k\0", 128, true),
            Err(P::NotIdentifier('\0'))
        );
        assert_eq!(
            check(Identifier, "a b", 128, true),
            Err(P::NotIdentifier(' '))
        );
        assert_eq!(check(Identifier, "", 128, true), Err(P::Blank));
    }

    #[test]
    fn errors_name_the_field_and_the_code_point() {
        let e = clean("title", Line, "x\u{202E}", 200, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "title contains the bidirectional control U+202E"
        );
        assert_eq!(
            clean("brand", Line, "  Kapal Api ", 200, false).unwrap(),
            "Kapal Api"
        );
    }

    #[test]
    fn identifier_patterns() {
        assert_eq!(pattern::of(Identifier, true), r"^[!-~]+$");
        assert_eq!(pattern::of(Identifier, false), r"^[!-~]*$");
    }

    fn any_text() -> impl Strategy<Value = String> {
        let interesting = prop::sample::select(vec![
            'a', ' ', '\t', '\n', '\r', '\0', '\u{85}', '\u{A0}', '\u{AD}', '\u{200B}', '\u{200D}',
            '\u{200F}', '\u{202E}', '\u{2066}', '\u{2028}', '\u{3000}', '\u{FEFF}', 'é', '字',
            '🙂',
        ]);
        prop_oneof![
            prop::collection::vec(interesting, 0..6).prop_map(|v| v.into_iter().collect()),
            ".{0,8}",
        ]
    }

    proptest! {
        /// The OpenAPI patterns accept exactly what `check` accepts (lengths aside), checked by
        /// a real regex engine (Rust's, which reads `\uXXXX` like ECMA-262 and Python).
        #[test]
        fn patterns_agree_with_check(text in any_text(), required: bool) {
            for kind in [Line, Block, Identifier] {
                let re = regex_automata::meta::Regex::new(&pattern::of(kind, required)).unwrap();
                prop_assert_eq!(
                    re.is_match(&text),
                    check(kind, &text, usize::MAX, required).is_ok(),
                    "{:?} {:?} required={}", kind, text, required
                );
            }
        }

        /// What passes is what `clean` keeps (trimmed) and what fails names one reason.
        #[test]
        fn check_never_panics_and_clean_trims(text in any_text(), required: bool) {
            for kind in [Line, Block, Identifier] {
                match clean("f", kind, &text, 8, required) {
                    Ok(kept) => {
                        prop_assert_eq!(kept.as_str(), text.trim());
                        prop_assert!(!required || kept.chars().any(is_visible));
                        prop_assert!(!kept.chars().any(|c| in_ranges(c, BIDI_CONTROLS)));
                    }
                    Err(e) => prop_assert_eq!(e.field, "f"),
                }
            }
        }
    }
}
