// @ts-check
// Baseline A — the platform's limit. The thinnest JavaScript Durable Object that does the
// same fan-out as the product's hub: it accepts hibernating WebSockets and sends the body of
// POST /broadcast to every one of them. No authentication, no storage, no D1, no parsing.
// Benchmark only; not part of the product.
import { DurableObject } from 'cloudflare:workers';

export class Hub extends DurableObject {
  async fetch(request) {
    if (request.headers.get('Upgrade') === 'websocket') {
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      pair[1].send('{"type":"hello"}');
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    const body = await request.text();
    let delivered = 0;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(body);
        delivered++;
      } catch {
        /* closing */
      }
    }
    return Response.json({ delivered });
  }

  webSocketMessage() {}

  webSocketClose(ws, code) {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, 'bye');
    } catch {
      /* already closed */
    }
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const hub = () => env.HUB.get(env.HUB.idFromName('default'));
    if (pathname === '/ws' && request.headers.get('Upgrade') === 'websocket')
      return hub().fetch(request);
    if (pathname === '/broadcast' && request.method === 'POST') return hub().fetch(request);
    if (pathname === '/health') return new Response('ok');
    return new Response('not found', { status: 404 });
  },
};
