// @ts-check
// Building DOM nodes. Everything that reaches the page goes through `el()` / textContent:
// user data is never parsed as HTML.

/**
 * The page's node for `sel` (a page looks up its own nodes by id: typed loosely, as the
 * element the markup holds).
 * @param {string} sel
 * @param {ParentNode} [root]
 * @returns {any}
 */
export const $ = (sel, root = document) => root.querySelector(sel);

/**
 * Builds an element. `opts`: class (string or array), text, attrs (object), dataset (object),
 * on (object of event listeners), hidden. Children: nodes, strings (as text), null/false skipped.
 */
export function el(tag, opts = {}, ...children) {
  const node = document.createElement(tag);
  const { class: cls, text, attrs, dataset, on, hidden } = opts ?? {};
  if (cls) node.className = Array.isArray(cls) ? cls.filter(Boolean).join(' ') : cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  if (dataset) Object.assign(node.dataset, dataset);
  if (on) for (const [type, fn] of Object.entries(on)) node.addEventListener(type, fn);
  if (hidden) node.hidden = true;
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * A select's `<option>`s, one per item: its text, and its value (the text unless given).
 * @template T
 * @param {readonly T[]} items
 * @param {(item: T) => string} text
 * @param {(item: T) => string} [value]
 */
export const optionsOf = (items, text, value = text) =>
  items.map((item) => el('option', { text: text(item), attrs: { value: value(item) } }));

/** Replaces all children of `node`. */
export function setChildren(node, ...children) {
  node.replaceChildren(
    ...children.flat().filter((c) => c !== null && c !== undefined && c !== false),
  );
}

/** Sets a status line's text and its `data-kind` (ok / pending / error; styled by the CSS). */
export function setStatusLine(node, text, kind) {
  node.textContent = text ?? '';
  node.dataset.kind = kind ?? '';
}

/**
 * Table rows that open something: each row holds a real link (keyboard reachable, and a
 * ctrl/middle click opens it in a tab); a plain click anywhere on the row does what the link
 * does. `open(row, ev)` is called with the row of the click.
 */
export function onRowActivate(tbody, rowSelector, open) {
  tbody.addEventListener('click', (ev) => {
    const row = ev.target.closest(rowSelector);
    if (!row || !tbody.contains(row)) return;
    // Controls inside a row (a disclosure, a button) do their own thing.
    if (ev.target.closest('details, summary, button')) return;
    const link = ev.target.closest('a[href]');
    // A modified click on the link is the browser's (new tab / window); other links are left alone.
    if (
      link &&
      (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey || !link.classList.contains('row-open'))
    )
      return;
    ev.preventDefault();
    open(row, ev);
  });
}
