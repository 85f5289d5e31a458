// @ts-check
// The banners every signed-in page shows at the top of its content (lib/listener.js mounts them
// and says when): the connection lost, the popups the browser blocked, the 応答時 notice of a
// call that ended without a pop, and the gap filler's recovered missed calls. Moved out of
// lib/listener.js as they were (the listener decides when; this builds and fills them).
import { $, el } from '../lib/dom.js';
import { fmtPhone } from '../lib/format.js';
import { refreshCallbackCount } from '../lib/front-desk.js';
import { POPUP_BLOCKED_HELP, hideBlocked } from './popups.js';

// ---------------------------------------------------------------------------------------------
// The banners: connection lost, blocked popups, 応答時 notices. Built here for every page.

/**
 * A banner's text: its title in bold, then the rest.
 * @param {string} title
 * @param {string | null} titleId
 * @param {...Node} rest
 */
const bannerText = (title, titleId, ...rest) =>
  el(
    'span',
    { class: 'banner-text' },
    el('strong', { text: title, attrs: { id: titleId } }),
    ...rest,
  );

/**
 * A banner's × button.
 * @param {string} id
 * @param {string} label what it closes, for a screen reader
 * @param {() => void} click
 */
const dismissButton = (id, label, click) =>
  el(
    'span',
    { class: 'banner-actions' },
    el('button', {
      class: 'btn btn-ghost btn-small',
      text: '×',
      attrs: { type: 'button', id, 'aria-label': label },
      on: { click },
    }),
  );

function banners() {
  return el(
    'div',
    { class: 'live-banners', attrs: { id: 'live-banners' } },
    el(
      'div',
      { class: 'banner banner-error', attrs: { id: 'conn-banner', role: 'status' }, hidden: true },
      bannerText(
        'サーバーとの接続が切れています。',
        'conn-banner-title',
        el('span', {
          class: 'small',
          text: '自動的に再接続しています。この間の着信は、再接続後に一覧とポップアップに反映されます。',
          attrs: { id: 'conn-banner-detail' },
        }),
      ),
    ),
    el(
      'div',
      {
        class: 'banner banner-warn banner-blocked',
        attrs: { id: 'popup-blocked', role: 'alert' },
        hidden: true,
      },
      el(
        'div',
        { class: 'banner-text' },
        el('strong', { text: 'ポップアップがブロックされました。' }),
        el('ul', {
          class: 'blocked-calls',
          attrs: { id: 'popup-blocked-list', 'aria-label': 'ブロックされた着信' },
        }),
        el('span', { class: 'muted small blocked-help', text: POPUP_BLOCKED_HELP }),
      ),
      dismissButton('popup-dismiss', 'ブロックの通知を閉じる', hideBlocked),
    ),
    el(
      'div',
      { class: 'banner banner-info', attrs: { id: 'missed-notice', role: 'status' }, hidden: true },
      bannerText(
        '応答されなかった着信があります。',
        null,
        el('span', { attrs: { id: 'missed-notice-detail' } }),
        el('span', {
          class: 'muted small',
          text: '応答時ポップアップの設定のため、ポップアップは開いていません。着信の一覧の行から開けます。',
        }),
      ),
      dismissButton('missed-notice-dismiss', '不在着信の通知を閉じる', () => {
        $('#missed-notice').hidden = true;
      }),
    ),
  );
}

/** Puts the banners at the top of `mount` (default: the page's `<main>`). */
export function mountBanners(mount) {
  if ($('#live-banners')) return;
  const where = mount ?? document.querySelector('main') ?? document.body;
  where.prepend(banners());
}

// ---------------------------------------------------------------------------------------------
// The notices

/** The gap filler recorded missed calls no webhook brought (issue 26): say so, once per page. */
let recovered = 0;
export function noticeRecovered(msg) {
  recovered += Number(msg.missed) || 0;
  let node = $('#recovered-notice');
  if (!node) {
    node = el(
      'div',
      { class: 'banner banner-info', attrs: { id: 'recovered-notice', role: 'status' } },
      el('span', { class: 'banner-text', attrs: { id: 'recovered-notice-text' } }),
      dismissButton('recovered-notice-dismiss', '補完の通知を閉じる', () => node.remove()),
    );
    $('#live-banners')?.append(node);
  }
  $('#recovered-notice-text').textContent =
    `Dialpad の通話履歴から、届いていなかった不在着信を${recovered}件補完しました（着信履歴・折り返しに追加済み）。`;
  refreshCallbackCount();
}

/** 応答時 mode: a call that ended unanswered never popped; say so. */
export function noticeMissed(call) {
  const who = call.customerName
    ? `${call.customerName} 様`
    : call.caller
      ? '未登録の番号'
      : '非通知';
  $('#missed-notice-detail').textContent = call.caller ? `${fmtPhone(call.caller)}（${who}）` : who;
  $('#missed-notice').hidden = false;
}
