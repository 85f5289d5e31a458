// The Japanese strings of every error and status message the pages show, in one place.
//
// The server answers a refused request with `{"error": {"code", "message", "field"}}`.
// `ERRORS` maps the codes whose wording is fixed to the text the pages show; a code that is not
// here (or whose message names a value, e.g. which prefix conflicts with which store) shows the
// server's own message. `TEXT` holds what the pages say themselves: input checks done before a
// request, and the context-specific wording of a refusal (403 on a note vs. on a memo).

/** Server error code -> text shown. */
export const ERRORS = Object.freeze({
  // session (auth.rs)
  invalid_credentials: 'ログインIDまたはパスワードが正しくありません',
  invalid_login_id: 'ログインIDを入力してください',
  invalid_password: 'パスワードを入力してください',
  not_logged_in: 'ログインしてください',
  session_revoked: 'ログインしてください',
  token_expired: 'ログインしてください',
  account_disabled: 'このアカウントは無効になっています。管理者に連絡してください',
  // permission
  admin_only: 'この操作の権限がありません',
  other_store: 'この操作の権限がありません',
  bad_origin: 'この操作の権限がありません',
  // records
  not_found: '見つかりません',
  version_conflict: '他の人がこの顧客を更新しました。最新の内容を確認してから保存してください',
  missing_name: '氏名を入力してください',
  missing_phone: '電話番号を入力してください',
  invalid_type: '区分は新規・会員・VIPのいずれかです',
  invalid_flag: 'フラグは要注意・ブロックのいずれかです',
  invalid_number: '0以上の数値を入力してください',
  unknown_store: '店舗が見つかりません',
  invalid_store: '店舗IDが正しくありません',
  invalid_query: '検索語が長すぎます',
  invalid_note_type: '種類は一般・好み・苦情・注意・重要のいずれかです',
  missing_body: '内容を入力してください',
  // the platform
  temporarily_unavailable: '一時的に処理できません。しばらくしてから再試行してください',
});

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
  rateLimited: (seconds) => `ログインの試行回数が多すぎます。約${Math.max(1, Math.ceil(seconds / 60))}分後にもう一度お試しください`,
  popupBlocked: 'ポップアップがブロックされました。ブラウザの設定でこのサイトのポップアップを許可してください。',
  // input checks before a request
  loginIdRequired: ERRORS.invalid_login_id,
  passwordRequired: ERRORS.invalid_password,
  nameRequired: ERRORS.missing_name,
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
 * The text for a server error body's `error` object (or null): the catalogue's for a known
 * code, else the server's message, else a generic line for the HTTP status (0: no network).
 * A 429's wait (`retryAfter`, seconds) is said in minutes.
 */
export function errorText(err, status, retryAfter = null) {
  if (err?.code === 'rate_limited' && retryAfter > 0) return TEXT.rateLimited(retryAfter);
  if (err?.code && Object.hasOwn(ERRORS, err.code)) return ERRORS[err.code];
  if (err?.message) return err.message;
  return status === 0 ? TEXT.network : TEXT.httpError(status);
}
