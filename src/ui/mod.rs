//! Server-rendered pages: login, consent and errors.
//!
//! Pages are plain strings built from small functions. Every value that did not come from
//! this source file goes through [`escape`] before it is placed in the HTML, in text and in
//! attribute values alike (OWASP XSS Prevention, rules 1-2). The layout carries its own CSS:
//! no external assets, no JavaScript, so the pages work under a strict CSP and on any phone.

pub mod apps;
pub mod brand;
pub mod consent;
pub mod developers;
pub mod docs;
pub mod docs_oidc;
pub mod error_page;
pub mod login;
pub mod logout_confirm;
pub mod try_it;

/// Escapes text for an HTML element body or a quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// A hidden form input; `name` and `value` are escaped.
pub fn hidden_input(name: &str, value: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{}">"#,
        escape(name),
        escape(value)
    )
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;\
background:#f4f5f7;color:#1c1e21}\
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 4px rgba(0,0,0,.12)}\
@media (max-width:30rem){main{margin:0;border-radius:0;box-shadow:none;min-height:100vh}}\
h1{font-size:1.35rem;margin:0 0 1rem}\
p{margin:.5rem 0}\
label{display:block;margin:.75rem 0 .25rem;font-weight:600}\
input[type=email],input[type=password],input[type=text],input[type=url],textarea{width:100%;padding:.65rem;font-size:1rem;\
border:1px solid #c4c7cc;border-radius:8px}\
button{width:100%;margin-top:1rem;padding:.75rem;font-size:1rem;border:0;border-radius:8px;\
background:var(--b,#2563eb);color:#fff;cursor:pointer}\
button.secondary{background:#e4e6eb;color:#1c1e21}\
button.danger{background:#b3261e}\
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\
pre{overflow-x:auto;background:#f4f5f7;padding:.75rem;border-radius:8px;font-size:.85rem}\
.error{padding:.75rem;border-radius:8px;background:#fdecea;color:#8a1c12}\
.muted{color:#65676b;font-size:.9rem}\
.app{display:flex;gap:.75rem;align-items:center;margin-bottom:1rem}\
.app img{width:48px;height:48px;border-radius:8px;object-fit:cover}\
.scopes{list-style:none;padding:0;margin:1rem 0}\
.scopes li{padding:.5rem 0;border-top:1px solid #e4e6eb}\
.scopes label{display:flex;gap:.6rem;align-items:flex-start;margin:0;font-weight:400}\
.scopes input{margin-top:.3rem;width:1.1rem;height:1.1rem}\
.scopes code{font-size:.8rem;color:#65676b}\
.buttons{display:flex;gap:.75rem}\
.connected{padding:.75rem 0;border-top:1px solid #e4e6eb}\
.connected h2{display:flex;gap:.6rem;align-items:center;font-size:1.1rem;margin:0}\
.connected ul{margin:.5rem 0;padding-left:1.2rem}\
a{color:var(--b,#2563eb)}\
code{overflow-wrap:anywhere}\
.check{font-weight:400}\
.brand{display:flex;gap:.5rem;align-items:center;margin:0 0 1rem;font-weight:600;color:#65676b}\
.brand img{max-width:8rem;object-fit:contain}";

/// A complete HTML document with the shared layout. `title` is escaped here; `body` must
/// already be HTML assembled from escaped parts.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n\
<title>{}</title>\n<style>{STYLE}</style>{}\n</head>\n<body>\n<main>\n{}\n{body}\n</main>\n</body>\n</html>\n",
        escape(title),
        brand::STYLE_MARKER,
        brand::HEADER_MARKER,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_every_html_special_character() {
        let cases = [
            ("plain", "Photo App", "Photo App"),
            (
                "script tag",
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            (
                "double quote",
                r#"a" onmouseover="x"#,
                "a&quot; onmouseover=&quot;x",
            ),
            ("single quote", "it's", "it&#x27;s"),
            ("ampersand first", "&lt;", "&amp;lt;"),
            (
                "non-ascii kept",
                "caf\u{e9} \u{1f4f7}",
                "caf\u{e9} \u{1f4f7}",
            ),
            ("empty", "", ""),
        ];
        for (name, input, expected) in cases {
            assert_eq!(escape(input), expected, "{name}");
        }
    }

    #[test]
    fn page_is_a_self_contained_mobile_document() {
        let html = page("<Title>", "<p>body</p>");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html
            .contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#));
        assert!(html.contains("<title>&lt;Title&gt;</title>"));
        assert!(html.contains("<p>body</p>"));
        assert!(html.contains("<style>"));
        assert_no_external_assets(&html);
    }

    #[test]
    fn hidden_input_escapes_value() {
        assert_eq!(
            hidden_input("return_to", "/a?b=1&c=\"2\""),
            r#"<input type="hidden" name="return_to" value="/a?b=1&amp;c=&quot;2&quot;">"#
        );
    }

    /// No stylesheet, script, font or image is loaded from elsewhere by the layout itself.
    pub(crate) fn assert_no_external_assets(html: &str) {
        for bad in ["<link", "<script", "http://", "https://", "url(", "@import"] {
            assert!(!html.contains(bad), "page contains {bad:?}");
        }
    }
}
