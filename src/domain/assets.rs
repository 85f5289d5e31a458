//! Versioned static files: the pages' styles and scripts are cached by the browser for good,
//! under an address that changes with every change of `public/`.
//!
//! Without this, every page and every popup asked the console again for each of its files
//! (three stylesheets and ~40 modules for the popup; each a conditional request answered
//! `304`), and the popup's first paint waited for those answers. With `ASSETS_VERSION` set
//! (a hash of `public/`, computed by `scripts/lib/assets-version.mjs` wherever the Workers are
//! started or deployed), the console serves its pages with their files' addresses under
//! `/v/<version>/`, and those files with `Cache-Control: immutable`: a second page or popup
//! loads them from the browser's cache, with no request at all. A module's relative imports
//! resolve under the same prefix, so the browser's cache never mixes two versions' files.
//!
//! An address of another version (a page loaded before a deploy asking for its files after
//! it) is answered with today's file and `no-cache`, never cached for good under the old name.
//! The pages themselves are never cached (`no-cache`, no validator), so a deploy's new version
//! reaches the next page that opens.

/// The prefix of a versioned file's address: `/v/<version>/<path of the file in public/>`.
pub const PREFIX: &str = "/v/";

/// `Cache-Control` of a file under the current version.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of a page (rewritten for the version of the moment) and of a file asked for
/// under another version.
pub const REVALIDATE: &str = "no-cache";

/// The configured version, when it is one (8–64 lowercase hex digits); anything else (unset,
/// empty, malformed) leaves the pages as they are, files served as before.
pub fn version(configured: Option<&str>) -> Option<&str> {
    let v = configured?.trim();
    let ok =
        (8..=64).contains(&v.len()) && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then_some(v)
}

/// A versioned address taken apart: the version it names and the file's own path (with its
/// leading `/`). None for any other address, and for a path that tries to leave the folder.
pub fn split(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(PREFIX)?;
    let slash = rest.find('/')?;
    let (version, file) = rest.split_at(slash);
    // Every segment a plain name: none empty, none `.` or `..`, written out or percent-encoded.
    let odd = |seg: &str| {
        seg.is_empty() || seg == "." || seg == ".." || seg.to_ascii_lowercase().contains("%2e")
    };
    if version.is_empty() || file.len() < 2 || file[1..].split('/').any(odd) {
        return None;
    }
    Some((version, file))
}

/// Whether this address may be a page (the assets serve `x.html` as `x` and `x/`): it ends in
/// `/` or `.html`, or its last segment has no extension. Only those are rewritten; any other
/// file (an icon) is served as it is, its conditional requests answered as before.
pub fn may_be_page(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.is_empty() || name.ends_with(".html") || !name.contains('.')
}

/// Whether a file of this path is one the pages load as code (and so is versioned): styles
/// and scripts. Pages, icons (the tab's icon is swapped by address while a call rings), the
/// API and anything else keep their address.
pub fn is_static_file(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let name = path.rsplit('/').next().unwrap_or(path);
    [".css", ".js", ".mjs"]
        .iter()
        .any(|ext| name.len() > ext.len() && name.ends_with(ext))
}

/// The page with each of its `href="/…"` and `src="/…"` that names a static file moved under
/// `/v/<version>`. Links to pages (`/admin/`, `*.html`), the API, protocol-relative and
/// relative addresses are left alone, as is everything outside those two attributes.
pub fn versioned_html(html: &str, version: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64 * (version.len() + 3));
    let mut rest = html;
    loop {
        let next = ["href=\"/", "src=\"/"]
            .iter()
            .filter_map(|a| rest.find(a).map(|at| (at, a.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            return out;
        };
        // The attribute name must stand alone (not `data-href="/…"`).
        let standalone = at == 0 || rest.as_bytes()[at - 1].is_ascii_whitespace();
        let value_at = at + len - 1; // the value's leading '/'
        let value = &rest[value_at..];
        let end = value.find('"').unwrap_or(value.len());
        let url = &value[..end];
        out.push_str(&rest[..value_at]);
        if standalone && !url.starts_with("//") && !url.starts_with(PREFIX) && is_static_file(url) {
            out.push_str(PREFIX);
            out.push_str(version);
        }
        out.push_str(url);
        rest = &value[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "0123456789abcdef";

    #[test]
    fn a_version_is_hex_of_a_sensible_length() {
        assert_eq!(version(Some(V)), Some(V));
        assert_eq!(version(Some(" 0123abcd ")), Some("0123abcd"));
        for bad in [
            "",
            "abc",
            "0123456789ABCDEF",
            "0123-4567-89ab",
            "../../etc",
            "g1234567",
        ] {
            assert_eq!(version(Some(bad)), None, "{bad}");
        }
        assert_eq!(version(Some(&"a".repeat(65))), None);
        assert_eq!(version(None), None);
    }

    #[test]
    fn a_versioned_address_names_its_version_and_file() {
        assert_eq!(
            split("/v/0123abcd/admin/style.css"),
            Some(("0123abcd", "/admin/style.css"))
        );
        assert_eq!(split("/v/x/a.js"), Some(("x", "/a.js")));
        for not in [
            "/admin/style.css",
            "/v/",
            "/v/0123abcd",
            "/v/0123abcd/",
            "/v//admin/x.js",
            "/v/0123abcd/admin/../../x.js",
            "/v/0123abcd/./x.js",
            "/vv/0123abcd/x.js",
            "/v/0123abcd/admin/popup/%2e%2e/style.css",
            "/v/0123abcd/admin/%2E./x.js",
            "/v/0123abcd//admin/style.css",
            "/v/0123abcd/admin//style.css",
        ] {
            assert_eq!(split(not), None, "{not}");
        }
    }

    #[test]
    fn only_static_files_are_versioned() {
        for yes in ["/admin/style.css", "/admin/popup/cti.js", "/a.js?x=1"] {
            assert!(is_static_file(yes), "{yes}");
        }
        for no in [
            "/admin/",
            "/admin/calls.html",
            "/api/customers/export",
            "/.js",
            "/admin/js",
            "/favicon.svg",
        ] {
            assert!(!is_static_file(no), "{no}");
        }
    }

    #[test]
    fn pages_are_told_from_other_files_by_their_address() {
        for page in [
            "/",
            "/admin/",
            "/admin/calls.html",
            "/admin/popup/cti",
            "/index.html",
        ] {
            assert!(may_be_page(page), "{page}");
        }
        for file in [
            "/favicon.svg",
            "/admin/style.css",
            "/admin/lib/x.js",
            "/robots.txt",
        ] {
            assert!(!may_be_page(file), "{file}");
        }
    }

    #[test]
    fn a_page_names_its_files_under_the_version() {
        let page = r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/admin/style.css">
  <script type="module" src="/admin/popup/pop-card.js"></script>
  <link rel="modulepreload" href="/admin/lib/format.js">
  <a class="btn" href="/admin/">open</a> <a href="/admin/calls.html">calls</a>
  <a href="/api/customers/export" download="customers.csv">csv</a>
  <img src="//cdn.example/x.svg"> <a data-href="/admin/x.js">x</a> <a href="style.css">r</a>"#;
        let want = r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/v/0123456789abcdef/admin/style.css">
  <script type="module" src="/v/0123456789abcdef/admin/popup/pop-card.js"></script>
  <link rel="modulepreload" href="/v/0123456789abcdef/admin/lib/format.js">
  <a class="btn" href="/admin/">open</a> <a href="/admin/calls.html">calls</a>
  <a href="/api/customers/export" download="customers.csv">csv</a>
  <img src="//cdn.example/x.svg"> <a data-href="/admin/x.js">x</a> <a href="style.css">r</a>"#;
        assert_eq!(versioned_html(page, V), want);
        // Once is enough: a page already versioned is left as it is.
        assert_eq!(versioned_html(want, V), want);
    }

    #[test]
    fn text_outside_the_attributes_is_kept_byte_for_byte() {
        for page in [
            "",
            "no links at all — 着信",
            "<p>href=\"/x.js\" in text</p>",
            "<a href=\"/unterminated.js",
            "src=\"/",
            "<script src=\"/a.js\"></script>日本語<link href=\"/b.css\">",
        ] {
            let out = versioned_html(page, V);
            assert_eq!(out.replace(&format!("/v/{V}"), ""), page, "{page}");
        }
        assert_eq!(
            versioned_html("<script src=\"/a.js\"></script>", V),
            format!("<script src=\"/v/{V}/a.js\"></script>")
        );
    }
}
