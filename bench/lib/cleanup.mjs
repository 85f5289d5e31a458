// @ts-check
// Everything the run starts (Miniflare instances, sockets, the peer server) registers how to
// stop it here, so a failure, a signal or the global deadline still leaves nothing running.
export class Cleanup {
  constructor() {
    /** @type {Set<() => Promise<void>>} */
    this.fns = new Set();
  }

  /**
   * Registers fn; returns release(), which runs it once and unregisters it.
   * @param {() => Promise<void> | void} fn
   * @returns {() => Promise<void>}
   */
  add(fn) {
    let done = false;
    const release = async () => {
      if (done) return;
      done = true;
      this.fns.delete(release);
      try {
        await fn();
      } catch {
        /* best effort */
      }
    };
    this.fns.add(release);
    return release;
  }

  async runAll() {
    for (const release of [...this.fns].reverse()) await release();
  }
}
