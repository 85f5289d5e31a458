// @ts-check
// Shift change: logging out while a call is going on asks first. The popups of live calls
// would otherwise turn into 「ログインしてください」 with nobody told; after the next login in this
// browser they look their call up again by themselves (popup/live-link.js).
import { confirmDialog } from './confirm.js';
import { hasLiveCall } from './listener.js';

/** Resolves true when the logout may go ahead (no live call, or the user said so). */
export function confirmLogout() {
  if (!hasLiveCall()) return Promise.resolve(true);
  return confirmDialog({
    title: '通話中の着信があります',
    text: 'ログアウトすると、この端末では着信のポップアップが開かなくなり、開いているポップアップも「ログインしてください」になります（次にこのブラウザでログインすると元に戻ります）。ログアウトしますか？',
    confirmLabel: 'ログアウトする',
  });
}
