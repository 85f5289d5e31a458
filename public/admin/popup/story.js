// @ts-check
// 前回までの対応: the number's last 3 wrap-ups (用件, 対応結果, note, who, when) from the
// lookup's `wrapups`, near the top of the popup for a registered caller and an unregistered
// number alike. Each opens its call's details (call-dialog.js).
import { $, el, setChildren } from '../lib/dom.js';
import { fmtDateTime } from '../lib/format.js';
import { openCall } from './call-dialog.js';

const ui = { view: $('#story'), list: $('#story-list') };

/** The history's entry of a call, when listed, to open with more than the wrap-up. */
/** @type {(callId: string) => object | undefined} */
let historyEntry = () => undefined;

export function initStory({ entryOf }) {
  historyEntry = entryOf;
}

function asCall(w) {
  return {
    id: w.callId,
    startedAt: w.startedAt,
    storeName: w.storeName,
    ...historyEntry(w.callId),
    wrapupCategory: w.category,
    wrapupOutcome: w.outcome,
    wrapupNote: w.note,
    wrapupBy: w.by,
  };
}

/** Shows the lookup's wrap-ups (an empty list hides the section). */
export function setStory(wrapups) {
  const list = Array.isArray(wrapups) ? wrapups.slice(0, 3) : [];
  setChildren(
    ui.list,
    list.map((w) =>
      el(
        'li',
        { class: 'story-item', dataset: { callId: w.callId } },
        el(
          'button',
          {
            class: 'story-open',
            attrs: { type: 'button', title: '着信の詳細を開く' },
            on: { click: (ev) => openCall(asCall(w), ev.currentTarget) },
          },
          el(
            'span',
            { class: 'story-line' },
            el('span', { class: 'story-when', text: fmtDateTime(w.startedAt) }),
            el('span', {
              class: 'story-what',
              text: [w.category, w.outcome].filter(Boolean).join(' · ') || '（用件なし）',
            }),
            el('span', { class: 'story-by', text: w.by ? `記録: ${w.by}` : '' }),
          ),
          w.note ? el('span', { class: 'story-note', text: w.note }) : null,
        ),
      ),
    ),
  );
  ui.view.hidden = list.length === 0;
}
