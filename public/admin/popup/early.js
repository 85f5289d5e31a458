// @ts-check
// The card from the pop: the pop message already carries the caller's card (name, kana, badges,
// numbers, memo's start, usage). It comes from the page that opened this window (over the
// browser's channel, taken by pop-card.js, which showed the card's head while this popup's
// modules loaded) or from this popup's own socket; the popup shows it whole at once, while its
// lookup (history, notes, who may edit) is still on its way, and keeps it if D1 cannot answer.
import { el } from '../lib/dom.js';
import { fmtPhone } from '../lib/format.js';
import { onCallMessage } from './pop-card.js';
import { renderCustomer, renderOtherStore } from './card.js';
import { ui, state, callId, renderStore } from './view.js';

/** @type {HTMLElement | null} the note of what the lookup could not bring */
let noteNode = null;

export const early = {
  shown: false,
  finished: false,
  /** The popup is set up: show the call's message handed over by a listening page (now, if here). */
  listen() {
    onCallMessage((msg) => this.show(msg));
  },
  /**
   * A message of this call with a card, before the lookup answered: show who is calling.
   * @param {any} msg
   */
  show(msg) {
    if (this.finished || this.shown || !msg?.customer || String(msg.callId) !== callId) return;
    this.shown = true;
    state.store = msg.store ?? state.store;
    renderStore();
    state.phone = msg.customerPhone ?? '';
    ui.callerNumber.textContent = fmtPhone(state.phone);
    state.canEdit = false; // until the lookup says who may edit
    // Another store's customer (顧客の共有: チェーン共通): their shared view, read-only.
    if (msg.customer.shared) renderOtherStore(msg.customer);
    else renderCustomer(msg.customer, { notes: [] });
    document.body.dataset.card = 'pop';
  },
  /** The lookup answered: the card is the lookup's from now on. */
  done() {
    this.finished = true;
    noteNode?.remove();
    noteNode = null;
    delete document.body.dataset.card;
  },
  /**
   * The lookup failed while the card shows: say what is missing, with 再読み込み (`retry`).
   * @param {string} text
   * @param {() => void} retry
   */
  note(text, retry) {
    noteNode?.remove();
    noteNode = el(
      'p',
      { class: 'form-error early-note', attrs: { role: 'alert' } },
      text,
      ' ',
      el('button', {
        class: 'btn btn-small',
        text: '再読み込み',
        attrs: { type: 'button' },
        on: { click: retry },
      }),
    );
    ui.customerView.prepend(noteNode);
  },
};
