// bench/gate-probe.mjs's object: broadcasts the body, with one SQLite write before or after
// the send (`?mode=before|after`) or none. Benchmark only; not part of the product.
import { DurableObject } from 'cloudflare:workers';
export class Hub extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT)');
  }
  async fetch(request) {
    if (request.headers.get('Upgrade') === 'websocket') {
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    const mode = new URL(request.url).searchParams.get('mode');
    const body = await request.text();
    if (mode === 'before') this.ctx.storage.sql.exec('INSERT INTO t (body) VALUES (?)', body);
    for (const ws of this.ctx.getWebSockets()) ws.send(body);
    if (mode === 'after') this.ctx.storage.sql.exec('INSERT INTO t (body) VALUES (?)', body);
    return Response.json({ ok: 1 });
  }
}
export default {
  async fetch(request, env) {
    const hub = env.HUB.get(env.HUB.idFromName('default'));
    return hub.fetch(request);
  },
};
