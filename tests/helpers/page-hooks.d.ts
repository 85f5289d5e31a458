// What the browser tests install on a page's window (tests/helpers/browser.mjs's init script,
// and a few tests' own) and read back with page.evaluate, for `tsc -p .`.
interface Window {
  /** Every window.open call: its arguments, and whether the test blocked it. */
  __opened: { url: string; name?: string; features?: string; blocked: boolean }[];
  /** The next n window.open calls fail as a popup blocker's do (null). */
  __blockPopups: number;
  /** Every WebSocket the page opened. */
  __sockets: WebSocket[];
  /** New WebSockets fail (the console is cut off). */
  __wsBlocked: boolean;
  /** The notifications the page showed (browser-live.test.mjs). */
  __notifications: any[];
  /** The console's connection status texts over time (browser-live.test.mjs). */
  __connHistory: string[];
  /** The questions window.confirm was asked (browser-boundary.test.mjs). */
  __asked: string[];
}
