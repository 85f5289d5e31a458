// @ts-check
// Not the product: the product's Miniflare configuration (D1, static assets, Hub and Guard
// Durable Objects) with a JavaScript Worker and no wasm at all, for bench/tools/cold-parts.mjs.
// GET /api/health does what ours does for the public: one D1 query and one hub round trip.
import { DurableObject } from 'cloudflare:workers';

export class Hub extends DurableObject {
  async fetch() {
    return new Response('{}');
  }
}

export class Guard extends DurableObject {
  async fetch() {
    return new Response('{}');
  }
}

export default {
  async fetch(req, env) {
    if (new URL(req.url).pathname !== '/api/health')
      return new Response('not found', { status: 404 });
    if (env.DB) await env.DB.prepare('SELECT 1 AS ok').first();
    const hub = env.HUB.get(env.HUB.idFromName('default'));
    await (await hub.fetch('https://hub/stats')).text();
    return new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
  },
};
