// @ts-check
// The pages' error text (public/admin/lib/messages.js, a pure module run here as the browser
// runs it): the server's message is the one wording of a refusal; the client no longer
// rewords codes (it told an admin typing `tanaka taro` to "enter a login id").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText, TEXT } from '../public/admin/lib/messages.js';

test("the server's message is shown as it is, whatever the code", () => {
  const spaced = {
    code: 'invalid_login_id',
    field: 'loginId',
    message: 'ログインIDに空白や制御文字は使えません',
  };
  assert.equal(errorText(spaced, 400), 'ログインIDに空白や制御文字は使えません');
  const conflict = {
    code: 'prefix_conflict',
    message: 'プレフィックス 0501748 は 西船橋 が使っています',
  };
  assert.equal(errorText(conflict, 409), conflict.message);
});

test('without a message: a line for the status; no network: say so; a 429 says the wait in minutes', () => {
  assert.equal(errorText(null, 0), TEXT.network);
  assert.equal(errorText({ code: 'x' }, 502), TEXT.httpError(502));
  assert.match(
    errorText({ code: 'rate_limited', message: '試行回数が多すぎます。900秒後に' }, 429, 900),
    /約15分/,
  );
});
