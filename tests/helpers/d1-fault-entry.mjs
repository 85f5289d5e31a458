// @ts-check
// Test-only entry: the built console Worker (build/index.js) with its D1 binding behind the
// switch of d1-fault.mjs.
// biome-ignore lint/suspicious/noTsIgnore: present after a build, absent before: neither state is an error
// @ts-ignore: the build's output (npm run build)
import Base, { Guard as BaseGuard } from '../../build/index.js';
import { faulty } from './d1-fault.mjs';

export default class extends Base {
  constructor(ctx, env) {
    super(ctx, faulty(env));
  }
}
export class Guard extends BaseGuard {
  constructor(state, env) {
    super(state, faulty(env));
  }
}
// The Dialpad sync queue's class, unchanged (its D1 is not behind the switch).
// biome-ignore lint/suspicious/noTsIgnore: present after a build, absent before: neither state is an error
// @ts-ignore: the build's output (npm run build)
export { DialpadSync } from '../../build/index.js';
