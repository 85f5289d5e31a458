// @ts-check
// A customer's type and flag badges, as every page shows them.
import { el } from './dom.js';

/** CSS class for a customer flag or type badge. */
export function badgeClass(value) {
  switch (value) {
    case 'ブロック':
      return 'badge badge-block';
    case '要注意':
      return 'badge badge-warn';
    case 'VIP':
      return 'badge badge-vip';
    case '会員':
      return 'badge badge-member';
    case '新規':
      return 'badge badge-new';
    default:
      return 'badge';
  }
}

/** The type and flag of a customer card as badges (null where unset). */
export function customerBadges(card) {
  return [
    card.customerType
      ? el('span', { class: badgeClass(card.customerType), text: card.customerType })
      : null,
    card.flag ? el('span', { class: badgeClass(card.flag), text: card.flag }) : null,
  ];
}

/**
 * A customer's name as the pickers show it (the popup's 複数の顧客, 顧客's 重複を統合): the name,
 * then the フリガナ when there is one.
 * @param {{ name: string, kana?: string }} card
 */
export const pickerName = (card) =>
  el(
    'span',
    { class: 'picker-main' },
    el('span', { class: 'picker-name', text: card.name }),
    card.kana ? el('span', { class: 'picker-kana', text: card.kana }) : null,
  );
