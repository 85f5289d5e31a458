// @ts-check
// 「対応中」 from the popup: the first time this person works on the call's wrap-up (focus in
// the 用件 / 対応結果 / メモ form), the popup tells the hub `{type:"claim", callId}`; every
// console that may see the call then shows 対応中: <name> on its row. Sent once per popup; if
// the socket is not connected yet, sent when it is.
import { MessageType } from '../lib/protocol.js';

export function claimOnWrapup(socket, callId, form) {
  if (!form || !callId) return;
  let wanted = false;
  let sent = false;
  const trySend = () => {
    if (wanted && !sent) sent = socket.send({ type: MessageType.CLAIM, callId });
  };
  form.addEventListener('focusin', () => {
    wanted = true;
    trySend();
  });
  socket.addEventListener('status', trySend);
}
