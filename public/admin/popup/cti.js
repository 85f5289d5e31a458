// @ts-check
// The call popup: who is calling (the name first), the live state of the call, the number's
// last wrap-ups (story.js), registration of new callers (never for another store's customer:
// 他店舗のお客様です), the memo (memo.js), the latest notes and the number's call history.
// This entry module looks the call up and starts the parts: the shared state and views
// (view.js), the card, picker and notes (card.js), registration (register.js), the card from
// the pop (early.js) and the live updates (updates.js).
import { fmtPhone } from '../lib/format.js';
import { initCallState, applyCall } from './call-state.js';
import { initMemo } from './memo.js';
import { initHistory, setHistory, historyEntry } from './history.js';
import { initStory, setStory } from './story.js';
import * as frontDesk from './front-desk.js';
import { renderCustomer, renderPicker, renderOtherStore } from './card.js';
import { renderUnknown } from './register.js';
import { early } from './early.js';
import { startSocket } from './updates.js';
import {
  ui,
  state,
  callId,
  show,
  setTitle,
  renderStore,
  showAuth,
  listOf,
  fetchLookup,
} from './view.js';

/** Looks the call up and shows what the lookup found: the view follows the caller's records. */
async function lookup() {
  if (!early.shown) show('loading');
  let data;
  try {
    data = await fetchLookup();
  } catch (e) {
    if (e.status === 401) {
      showAuth();
    } else if (early.shown) {
      // Who is calling is on screen already (from the pop): say only what is missing.
      early.note(`履歴・ノートを取得できませんでした: ${e.message}`, lookup);
    } else {
      ui.errorText.textContent = `顧客情報を取得できませんでした: ${e.message}`;
      show('errorView');
    }
    return;
  }
  early.done();
  state.store = data.store ?? state.store ?? { id: null, name: '不明' };
  renderStore();
  state.phone = data.phone ?? '';
  ui.callerNumber.textContent = fmtPhone(state.phone);
  if (!state.phone) {
    show('withheldView');
    setTitle();
    return;
  }
  const mine = setHistory(listOf(data.history));
  if (mine) applyCall(mine, false);
  setStory(listOf(data.wrapups));
  state.candidates = listOf(data.candidates);
  state.canEdit = data.customer ? data.canEdit !== false : true;
  if (data.customer) {
    renderCustomer(data.customer, { notes: listOf(data.notes) });
  } else if (state.candidates.length > 1) {
    renderPicker();
  } else if (state.candidates.length === 1) {
    renderCustomer(state.candidates[0]);
  } else if (data.otherStore) {
    const shared = listOf(data.shared);
    renderOtherStore(shared.length === 1 ? shared[0] : null, listOf(data.sharedNotes));
  } else {
    renderUnknown();
  }
}

ui.retry.addEventListener('click', lookup);

initMemo({
  customer: () => state.customer,
  show: (card) => renderCustomer(card),
  authLost: showAuth,
});
initHistory(callId);
initStory({ entryOf: historyEntry });
initCallState(Boolean(callId));
frontDesk.initFrontDesk(callId);
setTitle();
if (callId) {
  early.listen();
  startSocket();
  lookup();
} else {
  ui.conn.hidden = true;
  renderStore();
  ui.errorText.textContent = '着信が指定されていません。着信一覧から開いてください';
  ui.retry.hidden = true;
  show('errorView');
}
