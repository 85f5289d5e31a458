//! The request's URL, read with the runtime's own WHATWG `URL` and `URLSearchParams`.
//!
//! `worker::Request::url()` parses the URL again in wasm with the `url` crate, which links its
//! parser and the IDNA/Unicode tables it needs for hosts: about 60 KB of the module (issue #12,
//! docs/benchmarks.md "Size"). The runtime already has a WHATWG URL parser, the one the `url`
//! crate implements, so asking it gives the same origin, query values and redirect target.
use worker::wasm_bindgen::{self, prelude::*};
use worker::Request;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = URL)]
    type JsUrl;
    #[wasm_bindgen(constructor, js_class = "URL", catch)]
    fn new(url: &str) -> Result<JsUrl, JsValue>;
    #[wasm_bindgen(method, getter, js_class = "URL")]
    fn origin(this: &JsUrl) -> String;
    #[wasm_bindgen(method, getter, js_class = "URL")]
    fn href(this: &JsUrl) -> String;
    #[wasm_bindgen(method, setter, js_class = "URL")]
    fn set_pathname(this: &JsUrl, value: &str);
    #[wasm_bindgen(method, setter, js_class = "URL")]
    fn set_search(this: &JsUrl, value: &str);
    #[wasm_bindgen(method, getter, js_class = "URL", js_name = searchParams)]
    fn search_params(this: &JsUrl) -> JsSearchParams;

    #[wasm_bindgen(js_name = URLSearchParams)]
    type JsSearchParams;
    #[wasm_bindgen(method, js_class = "URLSearchParams")]
    fn get(this: &JsSearchParams, name: &str) -> Option<String>;
}

fn parse(req: &Request) -> Option<JsUrl> {
    JsUrl::new(&req.inner().url()).ok()
}

/// The first value of query parameter `name`, decoded as a form (`+` is a space, `%xx` bytes,
/// invalid UTF-8 replaced), as `url::Url::query_pairs` decodes it.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    query_param_of(&req.inner().url(), name)
}

/// [`query_param`] of a URL as the runtime serialised it.
pub fn query_param_of(url: &str, name: &str) -> Option<String> {
    JsUrl::new(url).ok()?.search_params().get(name)
}

/// The path of a URL as the runtime serialised it (`https://host/path?query`): that
/// serialisation always has a path starting at the first `/` after the host, and its `?` and
/// `#` inside the path are percent-encoded.
pub fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let Some(start) = rest.find('/') else {
        return "/";
    };
    let path = &rest[start..];
    let end = path.find(['?', '#']).unwrap_or(path.len());
    &path[..end]
}

/// The request's origin (`https://host[:port]`), as `url::Url::origin().ascii_serialization()`.
pub fn origin(req: &Request) -> Option<String> {
    Some(parse(req)?.origin())
}

/// The request's URL with `path` as its path and no query.
pub fn with_path(req: &Request, path: &str) -> worker::Result<String> {
    let url = parse(req).ok_or_else(|| worker::Error::RustError("invalid request URL".into()))?;
    url.set_pathname(path);
    url.set_search("");
    Ok(url.href())
}

/// The request's URL with `path` as its path and the query kept (a page that moved: the
/// fragment never reaches the server; the browser carries it over to the new address).
pub fn with_path_keeping_query(req: &Request, path: &str) -> worker::Result<String> {
    let url = parse(req).ok_or_else(|| worker::Error::RustError("invalid request URL".into()))?;
    url.set_pathname(path);
    Ok(url.href())
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_path_is_cut_from_a_serialised_url() {
        assert_eq!(
            path_of("https://x.example/api/dialpad/webhook"),
            "/api/dialpad/webhook"
        );
        assert_eq!(
            path_of("http://127.0.0.1:8787/api/dialpad/webhook?key=a/b"),
            "/api/dialpad/webhook"
        );
        assert_eq!(path_of("https://x.example/a#f"), "/a");
        assert_eq!(path_of("https://x.example"), "/");
    }
}
