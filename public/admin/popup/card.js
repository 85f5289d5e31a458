// @ts-check
// The caller's records in the popup: the customer card (name first, badges, numbers, fields,
// memo, usage, the latest notes), the picker when several customers have the number, and the
// banner when the number is another store's customer (said up front: no registration there).
import { $, el, setChildren } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { fmtPhone, fmtDate, fmtDateTime, fmtYen, fmtCount } from '../lib/format.js';
import { customerBadges, pickerName } from '../lib/customer.js';
import { renderNotes as renderNoteList, mountNoteForm } from '../lib/notes.js';
import { showMemoText, resetMemoEditor, setMemoEditable } from './memo.js';
import { previousCallBefore } from './history.js';
import * as frontDesk from './front-desk.js';
import { renderCardFields } from './fields.js';
import { ui, state, show, setTitle, renderStore, showAuth, listOf } from './view.js';

const NOTES_SHOWN = 3;

/**
 * @param {string} label
 * @param {string} value
 * @param {string | null} [cls]
 */
function usageItem(label, value, cls) {
  return el(
    'div',
    { class: ['usage-item', cls] },
    el('dt', { text: label }),
    el('dd', { text: value }),
  );
}

/**
 * The card of a lookup asked again (view.js refreshRecords): its customer with their notes.
 * @param {any} data
 */
export const renderRefreshed = (data) =>
  renderCustomer(data.customer, { notes: listOf(data.notes) });

/**
 * Shows `card`; `notes`: its latest notes when the answer carried them (else they are loaded).
 * @param {any} card
 * @param {{ fromPicker?: boolean, notes?: any[] }} [opts]
 */
export function renderCustomer(card, { fromPicker = false, notes } = {}) {
  const other = state.customer?.id !== card.id;
  state.customer = card;
  if (other) resetMemoEditor();
  ui.customerName.textContent = card.name;
  ui.customerKana.textContent = card.kana || '';
  ui.customerKana.hidden = !card.kana;
  setChildren(ui.customerBadges, customerBadges(card));
  ui.customerPhones.textContent =
    (card.phones ?? []).map(fmtPhone).join(' / ') || fmtPhone(state.phone);
  renderCardFields(card);
  const home = card.homeStore;
  if (home?.name && home.name !== state.store?.name) {
    ui.homeStore.textContent = `登録店舗: ${home.name}`;
    ui.homeStore.hidden = false;
  } else {
    ui.homeStore.hidden = true;
  }
  ui.customerCard.dataset.flag = card.flag ?? '';
  ui.customerCard.dataset.type = card.customerType ?? '';
  ui.backToPicker.hidden = !(fromPicker && state.candidates.length > 1);

  showMemoText(card.memo);
  setMemoEditable(state.canEdit);
  if (notes) {
    setNotes(card.id, notes);
  } else if (state.notesFor !== card.id) {
    state.notes = [];
    state.notesFor = card.id;
    renderNotes();
    loadNotes(card.id);
  }

  const u = card.usage ?? {};
  setChildren(
    ui.usage,
    usageItem('来店回数', fmtCount(u.visits, '回')),
    usageItem('累計利用額', fmtYen(u.totalSpend)),
    usageItem('最終来店', u.lastVisit ? fmtDate(u.lastVisit) : '—'),
    usageItem('着信回数', fmtCount(u.calls, '回')),
    usageItem('最終着信', lastCallText(u.lastCall)),
    usageItem(
      '30日以内の不在着信',
      fmtCount(u.missed30d, '件'),
      u.missed30d > 0 ? 'usage-alert' : null,
    ),
  );
  show('customerView');
  setTitle();
  frontDesk.setCaller({ phone: state.phone, customer: card, store: state.store });
}

/**
 * 最終着信 is the call before this one: the call ringing now is not "the last call".
 * @param {string | number | null | undefined} lastCall
 */
function lastCallText(lastCall) {
  let at = lastCall ?? null;
  const known = previousCallBefore();
  if (known && at !== null && Number(at) >= known.thisCall) at = known.previous;
  return at ? fmtDateTime(at) : '—';
}

/** Several customers have the number: the user picks one. */
export function renderPicker() {
  setChildren(
    ui.candidates,
    state.candidates.map((card) =>
      el(
        'li',
        {},
        el(
          'button',
          {
            class: 'picker-item',
            attrs: { type: 'button' },
            on: { click: () => renderCustomer(card, { fromPicker: true }) },
          },
          pickerName(card),
          el(
            'span',
            { class: 'picker-side' },
            customerBadges(card),
            card.homeStore ? el('span', { class: 'muted small', text: card.homeStore.name }) : null,
          ),
        ),
      ),
    ),
  );
  show('pickerView');
  setTitle();
  frontDesk.setCaller({ phone: state.phone, store: state.store });
}

ui.backToPicker.addEventListener('click', () => {
  state.customer = null;
  renderPicker();
});

/**
 * The number belongs to another store's customer: said up front, and no registration. Under
 * 顧客の共有: チェーン共通, `shared` is that customer's shared view (name, kana, flags, home store)
 * and `notes` their pinned 注意/苦情 notes: shown read-only, with no edit control.
 * @param {any} [shared]
 * @param {any[]} [notes]
 */
export function renderOtherStore(shared = null, notes = []) {
  ui.otherStoreNumber.textContent = fmtPhone(state.phone);
  ui.sharedCard.hidden = !shared;
  if (shared) {
    const home = shared.homeStore?.name ?? '他店舗';
    ui.sharedHome.textContent = `${home}のお客様です（閲覧のみ）`;
    ui.sharedName.textContent = shared.name;
    ui.sharedKana.textContent = shared.kana || '';
    ui.sharedKana.hidden = !shared.kana;
    setChildren(ui.sharedBadges, customerBadges(shared));
    setChildren(
      ui.sharedNotes,
      notes.map((n) =>
        el(
          'li',
          { class: 'shared-note' },
          el('span', { class: 'badge', text: n.noteType }),
          ' ',
          el('span', { text: n.body }),
        ),
      ),
    );
  }
  renderStore();
  show('otherStoreView');
  setTitle();
  frontDesk.setCaller({ phone: state.phone, store: state.store });
}

// ---------------------------------------------------------------------------------------------
// Notes

// 注意 / 苦情 notes are pinned at the top (front-desk.js), so ノート lists the others.
const unpinned = (/** @type {any[]} */ notes) =>
  notes.filter((n) => !frontDesk.PINNED_TYPES.has(n.noteType));

function renderNotes() {
  renderNoteList(ui.notes, ui.notesEmpty, state.notes);
}

/**
 * The lookup's latest notes; when pinned ones took places among them, the full list fills up.
 * @param {number} id
 * @param {any[]} notes
 */
function setNotes(id, notes) {
  state.notes = unpinned(notes).slice(0, NOTES_SHOWN);
  state.notesFor = id;
  renderNotes();
  if (state.notes.length < Math.min(NOTES_SHOWN, notes.length)) loadNotes(id);
}

/** @param {number} id */
async function loadNotes(id) {
  try {
    const { notes } = await api(`/api/customers/${encodeURIComponent(id)}/notes`);
    if (state.notesFor !== id) return;
    state.notes = unpinned(Array.isArray(notes) ? notes : []).slice(0, NOTES_SHOWN);
    renderNotes();
  } catch {
    /* the rest of the popup works without them */
  }
}

mountNoteForm($('#note-form-slot'), {
  customerId: () => state.customer?.id ?? null,
  onAdded(note, id) {
    if (state.notesFor !== id) return;
    if (frontDesk.PINNED_TYPES.has(note.noteType)) {
      frontDesk.addPinnedNote(note, id);
      return;
    }
    state.notes = [note, ...state.notes].slice(0, NOTES_SHOWN);
    renderNotes();
  },
  onAuthLost: () => showAuth(),
});
