// @ts-check
// The popup's first module: who is calling, as soon as the page can show anything. It asks the
// listening pages of this browser for the call's message (`call?` on lib/live-channel.js; the
// console that opened the window has it, with the caller's card from the pop) and, while the
// rest of the popup's modules are still loading, puts the card's head on screen: the name,
// kana, numbers and the store. It needs two small modules only, so the name does not wait for
// the ~30 others (card, memo, history, wrap-up, socket…). The full card follows when they have
// loaded (early.js takes the message from here, through `onCallMessage`), and the lookup after.
// The address carries the call id only; the message never goes into it.
import { fmtPhone } from '../lib/format.js';
import { openChannel } from '../lib/live-channel.js';

const callId = new URLSearchParams(location.search).get('callId') || null;
const channel = openChannel();

/** This call's message, once a listening page handed it over. */
let message = null;
/** @type {((msg: any) => void) | null} what the full popup does with it (`onCallMessage`) */
let handler = null;

/**
 * `fn(msg)` receives this popup's call message (the pop, with the caller's card): at once when
 * it is here already, and whenever a listening page hands it over (again) later.
 * @param {(msg: any) => void} fn
 */
export function onCallMessage(fn) {
  handler = fn;
  if (message) fn(message);
}

/** @param {string} sel */
const node = (sel) => /** @type {HTMLElement | null} */ (document.querySelector(sel));

/**
 * The head of the card, before the popup's other modules have loaded: only while nothing else
 * shows (still 読み込み中…), and not for another store's customer (early.js shows their view).
 * `data-pop-head` keeps the rest of the card's view out of sight until it is filled in (no
 * empty cards, no 編集 before the server has said who may edit).
 * @param {any} msg
 */
function showHead(msg) {
  const card = msg.customer;
  const loading = node('#loading');
  const view = node('#customer-view');
  const name = node('#customer-name');
  if (!card?.name || card.shared || !loading || loading.hidden || !view || !name) return;
  name.textContent = card.name;
  const kana = node('#customer-kana');
  if (kana) {
    kana.textContent = card.kana || '';
    kana.hidden = !card.kana;
  }
  const phones = node('#customer-phones');
  if (phones) {
    const list = Array.isArray(card.phones) ? card.phones : [];
    phones.textContent = list.map(fmtPhone).join(' / ') || fmtPhone(msg.customerPhone);
  }
  const number = node('#caller-number');
  if (number) number.textContent = fmtPhone(msg.customerPhone);
  const store = node('#store-name');
  if (store && msg.store?.name) store.textContent = msg.store.name;
  document.body.dataset.card = 'pop';
  document.body.dataset.popHead = '';
  loading.hidden = true;
  view.hidden = false;
  document.title = `着信 - ${card.name}`;
}

channel.addEventListener('message', (ev) => {
  const m = ev.data;
  if (m?.type !== 'call-msg' || !m.msg || String(m.msg.callId) !== callId) return;
  message = m.msg;
  if (handler) handler(m.msg);
  else showHead(m.msg);
});

if (callId) channel.postMessage({ type: 'call?', callId });
