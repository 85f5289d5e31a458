// @ts-check
// A number's recent calls, 着信履歴（直近10件）: the same card on 顧客 (beside the customer being
// edited) and in the popup (the caller's calls), defined once. The page's HTML holds only the
// empty <section> where it goes; the page's module fills it with the heading, the list
// (`#history`) and the line shown when there is none (`#history-empty`), and fills the list.
import { el } from './dom.js';

/**
 * Puts the card's heading, list and empty line into `section`.
 * @param {HTMLElement} section
 * @param {{ listClass: string, emptyClass: string, emptyText: string }} look
 */
export function recentCallsCard(section, { listClass, emptyClass, emptyText }) {
  const list = el('ul', { class: listClass, attrs: { id: 'history' } });
  const empty = el('p', {
    class: emptyClass,
    text: emptyText,
    attrs: { id: 'history-empty' },
    hidden: true,
  });
  section.replaceChildren(
    el('h2', {}, '着信履歴 ', el('span', { class: 'muted small', text: '（直近10件）' })),
    list,
    empty,
  );
  return { list, empty };
}
