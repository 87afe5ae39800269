//! Indonesian affix stripping, after Tala's rule-based stemmer ("A Study of Stemming Effects on
//! Information Retrieval in Bahasa Indonesia", F. Z. Tala, 2003), a Porter-style algorithm that
//! needs no dictionary — so it is small and fast enough to run on every word at import.
//!
//! Steps, each applied only while at least two syllables (vowel groups) remain:
//! 1. particle `-kah -lah -tah -pun`;
//! 2. possessive `-ku -mu -nya`;
//! 3. first-order prefix `meng- meny- men- mem- me- peng- peny- pen- pem- di- ter- ke-…-an`, then
//!    suffix `-kan -an -i`, then second-order prefix `ber- be- per- pe- bel- pel-`;
//!    or, when no first-order prefix was found, second-order prefix then suffix.
//!
//! Where a nasal prefix swallowed the root's first letter (`menulis` ← `tulis`, `memakai` ←
//! `pakai`, `mengirim` ← `kirim`, `menyapu` ← `sapu`) Tala cannot know which letter it was
//! without a dictionary; we return every plausible root instead of guessing. The index stores
//! all of them, and the query side does the same, so `pengiriman`, `dikirim` and `kirim` meet at
//! `kirim`, and `membeli`, `pembelian` and `beli` meet at `beli`.

/// The candidate roots of one folded, lower-case word (the word itself when nothing applies).
/// At most four; never empty.
pub fn stems(word: &str) -> Vec<String> {
    if !word.is_ascii() || word.len() < 4 {
        return vec![word.to_string()];
    }
    let mut w = word.to_string();
    strip_suffix_if(&mut w, &["kah", "lah", "tah", "pun"]);
    strip_suffix_if(&mut w, &["nya", "ku", "mu"]);
    let mut out = Vec::new();
    match first_order_prefix(&w) {
        Some(candidates) => {
            for mut c in candidates {
                strip_suffix_if(&mut c, &["kan", "an", "i"]);
                strip_second_order_prefix(&mut c);
                push_unique(&mut out, c);
            }
        }
        None => {
            let mut c = w.clone();
            strip_second_order_prefix(&mut c);
            strip_suffix_if(&mut c, &["kan", "an", "i"]);
            push_unique(&mut out, c);
        }
    }
    if out.is_empty() {
        out.push(word.to_string());
    }
    out
}

fn push_unique(out: &mut Vec<String>, s: String) {
    if !s.is_empty() && !out.contains(&s) {
        out.push(s);
    }
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Vowel groups: a stand-in for syllables (`pakai` has 2, `beli` 2, `bel` 1).
fn syllables(w: &str) -> usize {
    let mut n = 0;
    let mut prev_vowel = false;
    for &b in w.as_bytes() {
        let v = is_vowel(b);
        if v && !prev_vowel {
            n += 1;
        }
        prev_vowel = v;
    }
    n
}

fn long_enough(rest: &str) -> bool {
    rest.len() >= 3 && syllables(rest) >= 2
}

fn strip_suffix_if(w: &mut String, suffixes: &[&str]) {
    for s in suffixes {
        if let Some(rest) = w.strip_suffix(s)
            && long_enough(rest)
        {
            let keep = rest.len();
            w.truncate(keep);
            return;
        }
    }
}

/// Returns the candidate remainders after a first-order prefix, or `None` when there is none.
fn first_order_prefix(w: &str) -> Option<Vec<String>> {
    let starts_vowel = |rest: &str| rest.as_bytes().first().is_some_and(|&b| is_vowel(b));
    let ok = |rest: &str| long_enough(rest);
    let mut c: Vec<String> = Vec::new();
    for pre in ["meng", "peng"] {
        if let Some(rest) = w.strip_prefix(pre) {
            if starts_vowel(rest) {
                // mengambil ← ambil, mengirim ← kirim
                c.push(rest.to_string());
                c.push(format!("k{rest}"));
            } else {
                c.push(rest.to_string());
            }
            return keep(c, ok);
        }
    }
    for pre in ["meny", "peny"] {
        if let Some(rest) = w.strip_prefix(pre)
            && starts_vowel(rest)
        {
            c.push(format!("s{rest}")); // menyapu ← sapu
            return keep(c, ok);
        }
    }
    for pre in ["mem", "pem"] {
        if let Some(rest) = w.strip_prefix(pre) {
            if starts_vowel(rest) {
                c.push(format!("p{rest}")); // memakai ← pakai
                c.push(format!("m{rest}")); // memasak ← masak
            } else {
                c.push(rest.to_string()); // membeli ← beli
            }
            return keep(c, ok);
        }
    }
    for pre in ["men", "pen"] {
        if let Some(rest) = w.strip_prefix(pre) {
            if starts_vowel(rest) {
                c.push(format!("t{rest}")); // menulis ← tulis
                c.push(format!("n{rest}")); // menanti ← nanti
            } else {
                c.push(rest.to_string()); // mencuci ← cuci
            }
            return keep(c, ok);
        }
    }
    // `ke-` alone is left out: without a dictionary it turns `kemeja` (shirt) into `meja`
    // (table). Only the `ke-…-an` confix is stripped (`keamanan` ← `aman`).
    if let Some(rest) = w.strip_prefix("ke")
        && rest.ends_with("an")
    {
        c.push(rest.to_string());
        return keep(c, ok);
    }
    for pre in ["me", "di", "ter"] {
        if let Some(rest) = w.strip_prefix(pre) {
            c.push(rest.to_string());
            return keep(c, ok);
        }
    }
    None
}

fn keep(c: Vec<String>, ok: impl Fn(&str) -> bool) -> Option<Vec<String>> {
    let kept: Vec<String> = c.into_iter().filter(|s| ok(s)).collect();
    if kept.is_empty() { None } else { Some(kept) }
}

fn strip_second_order_prefix(w: &mut String) {
    for pre in ["ber", "bel", "per", "pel", "be", "pe"] {
        if let Some(rest) = w.strip_prefix(pre)
            && long_enough(rest)
        {
            *w = rest.to_string();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::stems;

    fn has(word: &str, root: &str) -> bool {
        stems(word).iter().any(|s| s == root)
    }

    /// Two words conflate when they share a candidate root.
    fn meet(a: &str, b: &str) -> bool {
        let sb = stems(b);
        stems(a).iter().any(|s| sb.contains(s))
    }

    #[test]
    fn buying_words_meet_at_beli() {
        for w in ["beli", "membeli", "pembelian", "dibeli", "membelikan"] {
            assert!(has(w, "beli"), "{w} -> {:?}", stems(w));
        }
    }

    #[test]
    fn sending_words_meet_at_kirim() {
        for w in ["kirim", "dikirim", "pengiriman", "mengirim", "kirimkan"] {
            assert!(has(w, "kirim"), "{w} -> {:?}", stems(w));
        }
    }

    #[test]
    fn recoded_nasal_prefixes() {
        assert!(meet("menulis", "tulis"));
        assert!(meet("memakai", "pakai"));
        assert!(meet("menyapu", "sapu"));
        assert!(meet("mencuci", "cuci"));
        assert!(meet("memasak", "masak"));
        assert!(meet("menanti", "nanti"));
        assert!(has("bukunya", "buku"));
        assert!(has("keamanan", "aman"));
        assert!(!has("kemeja", "meja"));
        assert!(has("bergaransi", &stems("garansi")[0]));
    }

    #[test]
    fn short_and_foreign_words_are_left_alone() {
        assert_eq!(stems("kopi"), vec!["kopi"]);
        assert_eq!(stems("tas"), vec!["tas"]);
        assert_eq!(stems("beras"), vec!["beras"]);
        assert_eq!(stems("café"), vec!["café"]);
        assert!(stems("x").len() == 1);
    }

    #[test]
    fn never_empty() {
        for w in ["mem", "meng", "pe", "dian", "aaaaan", "kah", "menyanyikan"] {
            assert!(!stems(w).is_empty());
            assert!(stems(w).iter().all(|s| !s.is_empty()));
        }
    }

    proptest::proptest! {
        /// Any lower-case word (ASCII or not) gets at least one non-empty root, no panic.
        #[test]
        fn stems_are_total(word in "[a-z]{0,20}|\\PC{0,12}") {
            let out = stems(&word);
            proptest::prop_assert!(!out.is_empty() && out.len() <= 4);
            proptest::prop_assert!(out.iter().all(|s| !s.is_empty()) || word.is_empty());
        }
    }
}
