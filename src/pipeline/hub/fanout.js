// The hub's fan-out in one crossing from wasm: Rust hands over a room's sockets (already
// checked, `sockets.rs`) and the message once; this loop sends it to each. A thousand
// `send` calls made from Rust cost a thousand wasm -> JS crossings (and argument conversions);
// here they are plain JS calls inside one.
export function sendAll(sockets, text) {
  let sent = 0;
  for (let i = 0; i < sockets.length; i++) {
    try {
      sockets[i].send(text);
      sent++;
    } catch {
      // closed meanwhile: counted as not delivered, as before
    }
  }
  return sent;
}
