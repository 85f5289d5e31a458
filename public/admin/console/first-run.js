// @ts-check
// First run: while no store exists, an admin's console shows a setup card that leads to 店舗
// (calls are routed to stores by the dialled number; with no store every call is 「不明」).
import { el } from '../lib/dom.js';
import { loadStores } from '../lib/stores.js';

let card = null;

/** Shows or removes the setup card for `user` (null: logged out). */
export async function showFirstRun(user) {
  card?.remove();
  card = null;
  if (user?.role !== 'admin') return;
  let stores;
  try {
    stores = await loadStores({ fresh: true });
  } catch {
    return; // the console works without it
  }
  if (stores.length > 0) return;
  card?.remove();
  card = el(
    'section',
    { class: 'card first-run', attrs: { id: 'first-run', 'aria-labelledby': 'first-run-title' } },
    el('h2', { text: '最初に店舗を登録してください', attrs: { id: 'first-run-title' } }),
    el('p', {
      text: '着信は、かけられた番号のプレフィックスで店舗に振り分けます。店舗がないうちは、すべての着信が「不明」になり、スタッフのアカウントも作れません。',
    }),
    el('a', {
      class: 'btn btn-primary',
      text: '店舗を登録する',
      attrs: { href: '/admin/stores.html' },
    }),
  );
  const view = document.querySelector('#console-view');
  view?.prepend(card);
}
