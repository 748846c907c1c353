//! Emails as login names: trimmed, lower-cased with Unicode's default case mapping and put in
//! Unicode normalization form C, so `Ann@Example.COM` and `ann@example.com` are one account
//! (and one throttle subject), and so are `josé@x` written with `é` (U+00E9) and with `e` and
//! a combining acute accent (U+0065 U+0301): one spelling per address (issue 18).
//!
//! In the Worker the runtime's `String.prototype.toLowerCase` and `normalize("NFC")` do the
//! work (the same Unicode mappings as Rust's `str::to_lowercase` and the
//! `unicode-normalization` crate, whose tables would add to the gzipped bundle).

/// The form an email is stored, looked up and throttled under.
pub fn normalize(raw: &str) -> String {
    lowercase_nfc(raw.trim())
}

#[cfg(not(target_arch = "wasm32"))]
fn lowercase_nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.to_lowercase().nfc().collect()
}

#[cfg(target_arch = "wasm32")]
fn lowercase_nfc(s: &str) -> String {
    String::from(js_sys::JsString::from(s).to_lower_case().normalize("NFC"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn trims_and_lower_cases_beyond_ascii() {
        assert_eq!(super::normalize("  Ann@Example.COM \n"), "ann@example.com");
        assert_eq!(super::normalize("ÉLODIE@Bücher.DE"), "élodie@bücher.de");
        assert_eq!(super::normalize("ΟΔΟΣ@x"), "οδος@x");
    }

    #[test]
    fn composed_and_decomposed_spellings_are_one_address() {
        let composed = "jos\u{e9}@example.com";
        let decomposed = "jose\u{301}@example.com";
        assert_ne!(composed, decomposed);
        assert_eq!(super::normalize(decomposed), composed);
        assert_eq!(super::normalize("JOSE\u{301}@EXAMPLE.COM"), composed);
    }
}
