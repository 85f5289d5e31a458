// Plain WebSocket clients (the `ws` package, offering permessage-deflate like a browser) for
// the Rust Worker and the thin JS baseline. Each client decodes every message as JSON, as a
// console would, and reports the message's legId to a FanIn.
import WebSocket from 'ws';

export class WsFleet {
  constructor({ url, headers = {}, fanin }) {
    this.url = url;
    this.headers = headers;
    this.fanin = fanin;
    this.sockets = [];
    this.errors = 0;
    this.unexpectedCloses = 0;
    this.sample = null; // one event message as received, for the record (size, shape)
    this.closing = false;
  }

  openOne(timeoutMs) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { headers: this.headers });
      let ready = false;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('socket: no hello within ' + timeoutMs + ' ms'));
      }, timeoutMs);
      ws.on('message', (data) => {
        let msg;
        try {
          msg = JSON.parse(data.toString());
        } catch {
          return;
        }
        if (!ready) {
          if (msg.type === 'hello') {
            ready = true;
            clearTimeout(timer);
            resolve(ws);
          }
          return;
        }
        if (msg.legId !== undefined) {
          if (this.sample === null) this.sample = data.toString();
          this.fanin.deliver(String(msg.legId));
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`upgrade refused: ${res.statusCode}`));
        res.resume();
      });
      ws.on('error', (e) => {
        this.errors++;
        if (!ready) {
          clearTimeout(timer);
          reject(e);
        }
      });
      ws.on('close', () => {
        if (ready && !this.closing) this.unexpectedCloses++;
      });
    });
  }

  /** Opens `count` more sockets, `batch` at a time, each ready once its hello arrived. */
  async open(count, { batch = 50, timeoutMs = 20000 } = {}) {
    for (let done = 0; done < count; ) {
      const k = Math.min(batch, count - done);
      const opened = await Promise.allSettled(Array.from({ length: k }, () => this.openOne(timeoutMs)));
      for (const r of opened) if (r.status === 'fulfilled') this.sockets.push(r.value);
      const failed = opened.find((r) => r.status === 'rejected');
      if (failed) throw new Error(`opening sockets failed after ${this.sockets.length}: ${failed.reason.message}`);
      done += k;
    }
    return this.sockets.length;
  }

  get extensions() {
    return this.sockets[0]?.extensions ?? '';
  }

  close() {
    this.closing = true;
    for (const ws of this.sockets) ws.terminate();
    this.sockets = [];
  }
}
