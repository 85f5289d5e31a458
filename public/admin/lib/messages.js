// @ts-check
// The Japanese strings the pages say themselves, in one place.
//
// The server answers a refused request with `{"error": {"code", "message", "field"}}`, and its
// `message` is the one wording of that refusal (Japanese, written where the rule is: the
// server knows *why*, e.g. a login id with a space vs. an empty one). The pages show it as it
// is. `TEXT` holds only what the pages say themselves: input checks done before a request,
// the context-specific wording of a refusal (403 on a note vs. on a memo), and what is said
// when there is no answer at all.

/** What the pages say themselves. */
export const TEXT = Object.freeze({
  network: 'サーバーに接続できません',
  httpError: (status) => `エラーが発生しました (${status})`,
  sessionLost: 'セッションが切れました。もう一度ログインしてください。',
  loadFailed: (what, message) => `${what ? `${what}を` : ''}読み込めませんでした: ${message}`,
  saveFailed: (message) => `保存できませんでした: ${message}`,
  saved: '保存しました',
  saving: '保存中…',
  loading: '読み込み中…',
  /** the lockout wait of a 429 (`Retry-After` seconds), in minutes: 約15分 */
  rateLimited: (seconds) =>
    `ログインの試行回数が多すぎます。約${Math.max(1, Math.ceil(seconds / 60))}分後にもう一度お試しください`,
  popupBlocked:
    'ポップアップがブロックされました。ブラウザの設定でこのサイトのポップアップを許可してください。',
  // input checks before a request
  loginIdRequired: 'ログインIDを入力してください',
  passwordRequired: 'パスワードを入力してください',
  nameRequired: '氏名を入力してください',
  storeNameRequired: '店舗名を入力してください',
  phoneRequired: '電話番号を入力してください',
  customerPhoneRequired: '顧客電話番号を入力してください',
  phonesRequired: '電話番号を1件以上入力してください',
  wholeNumber: '0以上の整数を入力してください',
  noteRequired: 'ノートの内容を入力してください',
  csvRequired: 'CSV ファイルを選んでください',
  dateOrder: '開始日は終了日より前にしてください',
  badPhoneFilter: '検索語を確認してください（電話番号の一部、名前、ふりがな）',
  // refusals, by what was being done
  noteForbidden: 'この顧客にノートを追加する権限がありません',
  memoForbidden: 'このお客様のメモを編集する権限がありません',
  editForbidden: 'この顧客を編集する権限がありません',
  viewForbidden: 'この顧客は表示できません',
  // notifications
  notifyUnsupported: 'このブラウザはデスクトップ通知に対応していません。',
  notifyBlocked: '通知がブロックされています。ブラウザのサイト設定で通知を許可してください。',
  notifyNotAllowed: '通知が許可されていません。ブラウザのサイト設定で通知を許可してください。',
  notifyRefused: '通知が許可されませんでした。',
});

/**
 * The text for a server error body's `error` object (or null): the server's own message, else
 * a generic line for the HTTP status (0: no network). A 429's wait (`retryAfter`, seconds) is
 * said in minutes.
 */
export function errorText(err, status, retryAfter = null) {
  if (err?.code === 'rate_limited' && retryAfter > 0) return TEXT.rateLimited(retryAfter);
  if (typeof err?.message === 'string' && err.message) return err.message;
  return status === 0 ? TEXT.network : TEXT.httpError(status);
}
