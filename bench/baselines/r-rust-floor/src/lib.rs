//! Baseline R (see Cargo.toml): baseline A in Rust. It takes the cheapest ways the product
//! found through the stack (the runtime's request at the entry, not `worker::Request`; one JS
//! string handed to every socket), so what it measures is the stack's floor, not a slow use of it.
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::web_sys;
use worker::*;

#[wasm_bindgen]
extern "C" {
    type RawSocket;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &RawSocket, data: &JsValue) -> std::result::Result<(), JsValue>;
}

#[durable_object]
pub struct Hub {
    state: State,
}

impl DurableObject for Hub {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.headers().get("Upgrade")?.as_deref() == Some("websocket") {
            let pair = WebSocketPair::new()?;
            self.state.accept_web_socket(&pair.server);
            pair.server.send_with_str(r#"{"type":"hello"}"#)?;
            return Response::from_websocket(pair.client);
        }
        let body = JsValue::from_str(&req.text().await?);
        let mut delivered = 0;
        for ws in self.state.get_websockets() {
            let raw: &web_sys::WebSocket = ws.as_ref();
            if raw.unchecked_ref::<RawSocket>().send(&body).is_ok() {
                delivered += 1;
            }
        }
        Response::ok(format!(r#"{{"delivered":{delivered}}}"#))
    }

    async fn websocket_message(&self, _ws: WebSocket, _m: WebSocketIncomingMessage) -> Result<()> {
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _r: String,
        _c: bool,
    ) -> Result<()> {
        let code = if code == 1005 || code == 1006 {
            1000
        } else {
            code as u16
        };
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }
}

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(raw: web_sys::Request, env: Env, _ctx: Context) -> Result<Response> {
    // "http://host/path?query": what follows the authority, without the query.
    let url = raw.url();
    let after = url.splitn(4, '/').nth(3).unwrap_or("");
    let path = format!("/{}", after.split(['?', '#']).next().unwrap_or(""));
    let upgrade = raw.headers().get("Upgrade").ok().flatten();
    let to_hub = (path == "/ws" && upgrade.as_deref() == Some("websocket"))
        || (path == "/broadcast" && raw.method() == "POST");
    if to_hub {
        let stub = env
            .durable_object("HUB")?
            .id_from_name("default")?
            .get_stub()?;
        return stub.fetch_with_request(Request::from(raw)).await;
    }
    if path == "/health" {
        return Response::ok("ok");
    }
    Response::error("not found", 404)
}
