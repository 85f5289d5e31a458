//! Password derivation in the Worker: PBKDF2-HMAC-SHA256 through the runtime's native
//! WebCrypto (`crypto.subtle.deriveBits`) instead of in wasm, which took ~0.1 s of CPU per
//! login. Same algorithm and stored form as `domain::password`, so every existing hash
//! verifies unchanged. Counts above what the runtime accepts (Workers cap PBKDF2 at 100,000)
//! fall back to the pure-Rust derivation.
use crate::domain::password::{self, Stored};
use worker::js_sys::{self, Array, Function, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

/// The most iterations the runtime's WebCrypto derives.
const WEBCRYPTO_MAX_ITERATIONS: u32 = 100_000;

fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
}

async fn webcrypto(password: &str, salt: &[u8], iterations: u32) -> Result<Vec<u8>, JsValue> {
    let subtle = get(&get(&js_sys::global(), "crypto")?, "subtle")?;
    let import: Function = get(&subtle, "importKey")?.dyn_into()?;
    let args = Array::new();
    args.push(&JsValue::from_str("raw"));
    args.push(&Uint8Array::from(password.as_bytes()));
    args.push(&JsValue::from_str("PBKDF2"));
    args.push(&JsValue::FALSE);
    args.push(&Array::of1(&JsValue::from_str("deriveBits")));
    let key = JsFuture::from(js_sys::Promise::from(import.apply(&subtle, &args)?)).await?;
    let params = Object::new();
    Reflect::set(&params, &"name".into(), &"PBKDF2".into())?;
    Reflect::set(&params, &"hash".into(), &"SHA-256".into())?;
    Reflect::set(&params, &"salt".into(), &Uint8Array::from(salt))?;
    Reflect::set(&params, &"iterations".into(), &JsValue::from(iterations))?;
    let derive: Function = get(&subtle, "deriveBits")?.dyn_into()?;
    let bits = JsFuture::from(js_sys::Promise::from(derive.call3(
        &subtle,
        &params,
        &key,
        &JsValue::from(256),
    )?))
    .await?;
    Ok(Uint8Array::new(&bits).to_vec())
}

/// PBKDF2 of `password` with `salt` and `iterations`: natively when the runtime can.
pub async fn derive(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    if iterations <= WEBCRYPTO_MAX_ITERATIONS {
        if let Ok(dk) = webcrypto(password, salt, iterations).await {
            return dk;
        }
    }
    password::derive(password, salt, iterations)
}

/// Checks `password` against a parsed stored hash: exactly one derivation.
pub async fn verify(password: &str, stored: &Stored) -> bool {
    stored.matches(&derive(password, &stored.salt, stored.iterations).await)
}

/// A new stored hash with today's parameters.
pub async fn hash(password: &str) -> Option<String> {
    let salt = password::new_salt().ok()?;
    let dk = derive(password, &salt, password::DEFAULT_ITERATIONS).await;
    Some(password::format(&salt, password::DEFAULT_ITERATIONS, &dk))
}
