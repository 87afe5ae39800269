//! Text analysis shared by indexing and querying, so both sides agree on every token.
//!
//! A word is a run of letters or digits. It is folded (Unicode NFKD, combining marks dropped,
//! lower-cased: `Kopi Gayo`, `KÓPI` → `kopi`) and indexed under its *forms*: the folded word,
//! its English Snowball stem (`phones` → `phone`) and its Indonesian roots
//! ([`super::stem_id`]: `pembelian` → `beli`). A query word matches any of its own forms, so
//! `membeli` finds `pembelian` and `beli`, and `shipping` finds `shipped`.
//!
//! User input never reaches FTS5 syntax: we tokenise it ourselves and emit each form as a
//! quoted string, so `"`, `*`, `NEAR`, `-`, `:` or `(` in a query are plain words or nothing.

use super::stem_id;
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longer "words" (hashes, base64, pasted URLs) are not worth indexing.
const MAX_WORD_CHARS: usize = 40;
/// A query never has more words than this; the rest is ignored (it cannot help ranking and
/// would make the MATCH expression expensive).
pub const MAX_QUERY_WORDS: usize = 8;

/// Cursor fingerprints use the wire's FNV-1a (not a security boundary).
pub use crate::protocol::fnv1a64 as fnv64;

/// Case and diacritics folding.
pub fn fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The folded words of `s`, in order.
pub fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold)
        .flat_map(|w| {
            // Folding can split a ligature or leave a symbol; re-split to stay consistent.
            w.split(|c: char| !c.is_alphanumeric())
                .filter(|p| !p.is_empty() && p.chars().count() <= MAX_WORD_CHARS)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
}

/// Computes forms, caching them: catalogs repeat a small vocabulary (Zipf), so a batch import
/// stems each distinct word once.
pub struct Analyzer {
    english: Stemmer,
    cache: HashMap<String, Vec<String>>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            english: Stemmer::create(Algorithm::English),
            cache: HashMap::new(),
        }
    }
}

impl Analyzer {
    /// The forms of one folded word: itself first, then its distinct stems.
    pub fn forms(&mut self, word: &str) -> &[String] {
        if !self.cache.contains_key(word) {
            let mut forms = vec![word.to_string()];
            let en = self.english.stem(word).into_owned();
            if !en.is_empty() && !forms.contains(&en) {
                forms.push(en);
            }
            for root in stem_id::stems(word) {
                if !forms.contains(&root) {
                    forms.push(root);
                }
            }
            if self.cache.len() > 50_000 {
                self.cache.clear(); // bound memory on pathological input
            }
            self.cache.insert(word.to_string(), forms);
        }
        self.cache.get(word).map(Vec::as_slice).unwrap_or(&[])
    }

    /// What goes into an FTS column for `text`: every form of every word, space-separated.
    pub fn index_text(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() * 2);
        for w in words(text) {
            for f in self.forms(&w) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(f);
            }
        }
        out
    }

    /// Parses user input into a query. `None` when it has no searchable word.
    pub fn query(&mut self, input: &str) -> Option<TextQuery> {
        let ws: Vec<String> = words(input).take(MAX_QUERY_WORDS).collect();
        if ws.is_empty() {
            return None;
        }
        // Search as you type: the last word is also a prefix unless the user ended it with a
        // space. One-letter prefixes are too broad to be useful, except as the only word.
        let typing = !input.ends_with(|c: char| c.is_whitespace());
        let last = ws.len() - 1;
        let mut terms = Vec::with_capacity(ws.len());
        for (i, w) in ws.iter().enumerate() {
            let prefix = typing && i == last && (w.chars().count() >= 2 || ws.len() == 1);
            terms.push(QueryTerm {
                forms: self.forms(w).to_vec(),
                prefix: prefix.then(|| w.clone()),
            });
        }
        Some(TextQuery { terms })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// Whole-word forms (the word and its stems).
    pub forms: Vec<String>,
    /// Also match words starting with this (the word being typed).
    pub prefix: Option<String>,
}

impl QueryTerm {
    /// Whether a folded document word matches this term (for highlighting).
    pub fn matches_word(&self, word: &str, word_forms: &[String]) -> bool {
        self.prefix.as_deref().is_some_and(|p| word.starts_with(p))
            || word_forms.iter().any(|f| self.forms.contains(f))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    pub terms: Vec<QueryTerm>,
}

impl TextQuery {
    /// The FTS5 MATCH expression: every term must match (AND), each by any of its forms (OR).
    /// Forms are folded alphanumerics, and quoted besides, so nothing in them is syntax.
    pub fn fts_match(&self) -> String {
        self.terms
            .iter()
            .map(|t| {
                let mut alts: Vec<String> = t.forms.iter().map(|f| format!("\"{f}\"")).collect();
                if let Some(p) = &t.prefix {
                    alts.push(format!("\"{p}\"*"));
                }
                format!("({})", alts.join(" OR "))
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// Marks put around matched words in a snippet (Markdown bold, easy to render or strip).
pub const HIGHLIGHT_START: &str = "**";
pub const HIGHLIGHT_END: &str = "**";

/// A window of about `width` words of `text` around the first match, matches highlighted;
/// `None` when no word of `text` matches.
pub fn snippet(
    analyzer: &mut Analyzer,
    query: &TextQuery,
    text: &str,
    width: usize,
) -> Option<String> {
    // Original words with their byte spans, to cut the original text (accents and case kept).
    let spans: Vec<(usize, usize)> = {
        let mut v = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            match (c.is_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    v.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            v.push((s, text.len()));
        }
        v
    };
    let matched: Vec<bool> = spans
        .iter()
        .map(|&(s, e)| {
            let w = fold(&text[s..e]);
            let forms = analyzer.forms(&w).to_vec();
            query.terms.iter().any(|t| t.matches_word(&w, &forms))
        })
        .collect();
    let first = matched.iter().position(|m| *m)?;
    let from = first.saturating_sub(width / 3);
    let to = (from + width).min(spans.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut cursor = spans[from].0;
    for i in from..to {
        let (s, e) = spans[i];
        out.push_str(&text[cursor..s]);
        if matched[i] {
            out.push_str(HIGHLIGHT_START);
            out.push_str(&text[s..e]);
            out.push_str(HIGHLIGHT_END);
        } else {
            out.push_str(&text[s..e]);
        }
        cursor = e;
    }
    if to < spans.len() {
        out.push('…');
    } else {
        out.push_str(&text[cursor..]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("KÓPI Café"), "kopi cafe");
        assert_eq!(
            words("Kopi-Gayo, 250g!").collect::<Vec<_>>(),
            ["kopi", "gayo", "250g"]
        );
    }

    #[test]
    fn forms_include_english_and_indonesian_stems() {
        let mut a = Analyzer::default();
        assert!(a.forms("phones").contains(&"phone".to_string()));
        assert!(a.forms("pembelian").contains(&"beli".to_string()));
        assert_eq!(a.forms("pembelian")[0], "pembelian");
    }

    #[test]
    fn fts_syntax_in_input_is_inert() {
        let mut a = Analyzer::default();
        for input in [
            "\"kopi",
            "kopi*",
            "NEAR(kopi gayo)",
            "-kopi",
            "title:kopi",
            "kopi AND",
            "(",
            "^kopi",
            "kopi OR batik",
            "'; DROP TABLE product; --",
        ] {
            if let Some(q) = a.query(input) {
                let m = q.fts_match();
                // Every word is quoted; the only operators are the ones we emit.
                for tok in m.split(['(', ')', ' ']).filter(|t| !t.is_empty()) {
                    assert!(
                        tok == "OR"
                            || tok == "AND"
                            || (tok.starts_with('"')
                                && (tok.ends_with('"') || tok.ends_with("\"*"))),
                        "{input:?} produced {m:?}"
                    );
                }
            }
        }
        assert!(a.query("  *** -- ").is_none());
    }

    #[test]
    fn last_word_is_a_prefix_while_typing() {
        let mut a = Analyzer::default();
        let q = a.query("kopi gay").unwrap();
        assert_eq!(q.terms[0].prefix, None);
        assert_eq!(q.terms[1].prefix.as_deref(), Some("gay"));
        let q = a.query("kopi gayo ").unwrap();
        assert_eq!(q.terms[1].prefix, None);
    }

    #[test]
    fn snippet_highlights_matches_in_original_text() {
        let mut a = Analyzer::default();
        let q = a.query("pengiriman").unwrap();
        let s = snippet(&mut a, &q, "Barang DIKIRIM cepat, gratis ongkir.", 10).unwrap();
        assert_eq!(s, "Barang **DIKIRIM** cepat, gratis ongkir.");
        assert!(snippet(&mut a, &q, "tidak ada", 10).is_none());
    }
}
