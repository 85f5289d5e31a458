// @ts-check
// Plain WebSocket clients (the `ws` package) for the Rust Worker and the thin JS baseline.
// Without permessage-deflate by default, so the wire format is the same as Socket.IO's (its
// server disables compression); with `deflate: true` they offer it like a browser does, and
// workerd accepts it. Each client decodes every message as JSON, as a
// console would, and reports the message's legId to a FanIn.
import WebSocket from 'ws';

export class WsFleet {
  constructor({ url, headers = {}, fanin, deflate = false, resume = false }) {
    this.url = url;
    // Open later sockets with ?since=<latest seq seen>, as a reconnecting console does, so
    // they are not sent a replay of every call the benchmark left ringing (see openOne).
    this.resume = resume;
    this.maxSeq = 0;
    this.deflate = deflate;
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
      const url = this.resume && this.maxSeq > 0 ? `${this.url}?since=${this.maxSeq}` : this.url;
      const headers = typeof this.headers === 'function' ? this.headers() : this.headers;
      const ws = new WebSocket(url, { headers, perMessageDeflate: this.deflate });
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
        if (typeof msg.seq === 'number' && msg.seq > this.maxSeq) this.maxSeq = msg.seq;
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
      const opened = await Promise.allSettled(
        Array.from({ length: k }, () => this.openOne(timeoutMs)),
      );
      for (const r of opened) if (r.status === 'fulfilled') this.sockets.push(r.value);
      const failed = opened.find((r) => r.status === 'rejected');
      if (failed)
        throw new Error(
          `opening sockets failed after ${this.sockets.length}: ${failed.reason.message}`,
        );
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
