// @ts-check
// 顧客 › 重複を統合 (admin): one person registered twice becomes one record. The dialog offers
// the customers who share a number with the one on screen and a search (name, kana, number),
// says what the merge will do (numbers, notes and call history move over, visits and spend add
// up, both memos stay, the other record is deleted), and only then calls
// `POST /api/customers/{kept}/merge {from}`.
import { $, el, setChildren } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { fmtPhone, fmtCount } from '../lib/format.js';
import { findShared } from '../lib/shared-numbers.js';
import { pickerName } from '../lib/customer.js';

const ui = {
  open: $('#edit-merge'),
  dialog: $('#merge-dialog'),
  intro: $('#merge-intro'),
  same: $('#merge-same'),
  sameList: $('#merge-same-list'),
  search: $('#merge-search'),
  q: $('#merge-q'),
  results: $('#merge-results'),
  empty: $('#merge-empty'),
  summary: $('#merge-summary'),
  effects: $('#merge-effects'),
  warning: $('#merge-warning'),
  error: $('#merge-error'),
  confirm: $('#merge-confirm'),
  cancel: $('#merge-cancel'),
};

const phonesText = (phones) => (phones ?? []).map(fmtPhone).join(' / ') || '—';

/**
 * `kept()`: the card on screen (the one kept); `merged(card, fromName)`: after a merge, with the
 * kept card as the server answers it; `authLost(e)`: true when the page handled a 401.
 */
export function initMerge({ kept, merged, authLost }) {
  /** the customer chosen to be merged in: { card, detail } */
  let chosen = null;
  let seq = 0;

  function fail(e) {
    if (authLost(e)) return;
    ui.error.textContent =
      e.status === 404 ? '顧客が見つかりません。削除された可能性があります' : e.message;
    ui.error.hidden = false;
  }

  function candidate(card) {
    return el(
      'li',
      {},
      el(
        'button',
        {
          class: 'picker-item merge-pick',
          attrs: { type: 'button', 'aria-pressed': chosen?.card.id === card.id ? 'true' : 'false' },
          dataset: { id: card.id },
          on: { click: () => choose(card) },
        },
        pickerName(card),
        el(
          'span',
          { class: 'picker-side muted small' },
          phonesText(card.phones),
          card.homeStore?.name ? ` ・ ${card.homeStore.name}` : '',
        ),
      ),
    );
  }

  function markChosen() {
    for (const b of ui.dialog.querySelectorAll('.merge-pick'))
      b.setAttribute('aria-pressed', String(Number(b.dataset.id) === chosen?.card.id));
  }

  async function choose(card) {
    const mine = ++seq;
    const k = kept();
    chosen = null;
    markChosen();
    ui.confirm.disabled = true;
    ui.error.hidden = true;
    let detail;
    try {
      detail = await api(`/api/customers/${encodeURIComponent(card.id)}`);
    } catch (e) {
      if (mine === seq) fail(e);
      return;
    }
    if (mine !== seq) return;
    const from = detail.customer;
    chosen = { card: from, detail };
    markChosen();
    const moved = (from.phones ?? []).filter((p) => !(k.phones ?? []).includes(p));
    const notes = Array.isArray(detail.notes) ? detail.notes.length : 0;
    setChildren(
      ui.effects,
      el('li', {}, '残す顧客: ', el('strong', { text: k.name }), `（${phonesText(k.phones)}）`),
      el(
        'li',
        {},
        '統合して削除する顧客: ',
        el('strong', { text: from.name }),
        `（${phonesText(from.phones)}）`,
      ),
      el('li', {
        text: moved.length
          ? `電話番号 ${phonesText(moved)} を「${k.name}」に追加します`
          : '電話番号はすでに同じです',
      }),
      el('li', {
        text: `ノート ${fmtCount(notes, '件')}と着信履歴 ${fmtCount(from.usage?.calls ?? 0, '件')}を「${k.name}」に移します`,
      }),
      el('li', {
        text: '来店回数と累計利用額は合算し、最終来店日は新しい方、メモは両方を残します',
      }),
    );
    ui.warning.textContent = `「${from.name}」は削除されます。元に戻すことはできません。`;
    ui.summary.hidden = false;
    ui.confirm.disabled = false;
    ui.confirm.focus();
  }

  async function showSame(k) {
    ui.same.hidden = true;
    let res;
    try {
      res = await findShared(k.phones ?? [], k.id);
    } catch (e) {
      authLost(e);
      return;
    }
    const cards = new Map();
    for (const d of res?.duplicates ?? [])
      if (d.customer) cards.set(d.customer.id, { ...d.customer, phones: [] });
    for (const d of res?.duplicates ?? [])
      if (d.customer) cards.get(d.customer.id).phones.push(d.phone);
    if (kept()?.id !== k.id || cards.size === 0) return;
    setChildren(ui.sameList, [...cards.values()].map(candidate));
    ui.same.hidden = false;
  }

  ui.open.addEventListener('click', () => {
    const k = kept();
    if (!k) return;
    chosen = null;
    seq++;
    ui.intro.textContent = `「${k.name}」に、同じ方の別の登録をまとめます。まとめる顧客を選んでください。`;
    ui.q.value = '';
    ui.results.replaceChildren();
    ui.sameList.replaceChildren();
    ui.empty.hidden = true;
    ui.summary.hidden = true;
    ui.error.hidden = true;
    ui.confirm.disabled = true;
    ui.dialog.showModal();
    ui.q.focus();
    showSame(k);
  });

  ui.search.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const k = kept();
    const q = ui.q.value.trim();
    if (!k || !q) return;
    ui.error.hidden = true;
    let data;
    try {
      data = await api('/api/customers/search', { method: 'POST', body: { q, perPage: 20 } });
    } catch (e) {
      fail(e);
      return;
    }
    const list = (Array.isArray(data.customers) ? data.customers : []).filter((c) => c.id !== k.id);
    setChildren(ui.results, list.map(candidate));
    ui.empty.hidden = list.length > 0;
  });

  ui.cancel.addEventListener('click', () => ui.dialog.close());

  ui.confirm.addEventListener('click', async () => {
    const k = kept();
    if (!k || !chosen) return;
    const fromName = chosen.card.name;
    ui.confirm.disabled = true;
    ui.error.hidden = true;
    try {
      const res = await api(`/api/customers/${encodeURIComponent(k.id)}/merge`, {
        method: 'POST',
        body: { from: chosen.card.id },
      });
      ui.dialog.close();
      await merged(res.customer, fromName);
    } catch (e) {
      ui.confirm.disabled = false;
      fail(e);
    }
  });
}
