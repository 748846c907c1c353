//! Emails as login names: trimmed and lower-cased with Unicode's default case mapping, so
//! `Ann@Example.COM` and `ann@example.com` are one account (and one throttle subject).
//!
//! In the Worker the runtime's `String.prototype.toLowerCase` does the mapping (the same
//! Unicode default mapping as Rust's `str::to_lowercase`, whose tables would add about 5 KB to
//! the gzipped bundle).

/// The form an email is stored, looked up and throttled under.
pub fn normalize(raw: &str) -> String {
    lowercase(raw.trim())
}

#[cfg(not(target_arch = "wasm32"))]
fn lowercase(s: &str) -> String {
    s.to_lowercase()
}

#[cfg(target_arch = "wasm32")]
fn lowercase(s: &str) -> String {
    String::from(js_sys::JsString::from(s).to_lower_case())
}

#[cfg(test)]
mod tests {
    #[test]
    fn trims_and_lower_cases_beyond_ascii() {
        assert_eq!(super::normalize("  Ann@Example.COM \n"), "ann@example.com");
        assert_eq!(super::normalize("ÉLODIE@Bücher.DE"), "élodie@bücher.de");
        assert_eq!(super::normalize("ΟΔΟΣ@x"), "οδος@x");
    }
}
