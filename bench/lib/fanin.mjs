// @ts-check
// Tracks, per event id (the message's legId), how many sockets have received it, and resolves
// with the moment the last expected socket did. Every expectation has its own time limit, so
// a lost message never stalls a run.
export class FanIn {
  constructor() {
    this.pending = new Map();
    this.stray = 0; // messages for ids nobody waits for (already done, cancelled, or replays)
  }

  /** Resolves with { at, got, timedOut }: `at` is performance.now() when the n-th copy arrived. */
  expect(id, n, timeoutMs) {
    return new Promise((resolve) => {
      const entry = { n, got: 0, resolve, timer: null };
      entry.timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ at: null, got: entry.got, timedOut: true });
      }, timeoutMs);
      this.pending.set(id, entry);
    });
  }

  cancel(id) {
    const e = this.pending.get(id);
    if (!e) return;
    clearTimeout(e.timer);
    this.pending.delete(id);
    e.resolve({ at: null, got: e.got, timedOut: false, cancelled: true });
  }

  deliver(id) {
    const e = this.pending.get(id);
    if (!e) {
      this.stray++;
      return;
    }
    e.got++;
    if (e.got >= e.n) {
      const at = performance.now();
      clearTimeout(e.timer);
      this.pending.delete(id);
      e.resolve({ at, got: e.got, timedOut: false });
    }
  }
}
