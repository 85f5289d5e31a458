// The part of the Workers runtime (workerd) that the benchmark's JavaScript Workers use
// (bench/baselines/*/worker.mjs, bench/tools/cold-probe/worker.mjs), for `tsc -p .`. Not
// @cloudflare/workers-types: its globals (Request, Response, WebSocket…) clash with the DOM
// types the console's pages are checked against.

declare module 'cloudflare:workers' {
  /** A Durable Object class: `this.ctx` (its state: storage, sockets) and `this.env`. */
  export class DurableObject<Env = any> {
    constructor(ctx: any, env: Env);
    protected ctx: any;
    protected env: Env;
  }
}

/** A connected pair of server-side WebSockets: [client end, server end]. */
declare class WebSocketPair {
  0: WorkerdWebSocket;
  1: WorkerdWebSocket;
}

/** workerd's WebSocket: `accept`, and the hibernation API's attachment (kept across sleeps). */
type WorkerdWebSocket = WebSocket & {
  accept(): void;
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
};

/** An automatic response the runtime gives to a matching message, without waking the object. */
declare class WebSocketRequestResponsePair {
  constructor(request: string, response: string);
}

interface ResponseInit {
  /** workerd: the client end of a WebSocketPair, with status 101. */
  webSocket?: WebSocket | null;
}
