// @ts-check
// An EventTarget whose events are CustomEvents carrying a message in `detail`: the socket
// (lib/socket.js) and what a page hears (`live`, lib/listener.js). Typed here once so that a
// listener reads `ev.detail` without a cast.

export class MessageTarget extends EventTarget {
  /**
   * @param {string} type
   * @param {((ev: CustomEvent<any>) => void) | null} listener
   * @param {boolean | AddEventListenerOptions} [options]
   */
  addEventListener(type, listener, options) {
    super.addEventListener(type, /** @type {EventListener | null} */ (listener), options);
  }

  /**
   * @param {string} type
   * @param {((ev: CustomEvent<any>) => void) | null} listener
   * @param {boolean | EventListenerOptions} [options]
   */
  removeEventListener(type, listener, options) {
    super.removeEventListener(type, /** @type {EventListener | null} */ (listener), options);
  }
}
