// @ts-check
// Test-only entry: the built pop Worker (build/pop/index.js) and its hub with the D1 binding
// behind the switch of d1-fault.mjs (one switch for both Workers: D1 is one database).
// biome-ignore lint/suspicious/noTsIgnore: present after a build, absent before: neither state is an error
// @ts-ignore: the build's output (npm run build)
import Base, { CallHub as BaseHub } from '../../build/pop/index.js';
import { faulty } from './d1-fault.mjs';

export default class extends Base {
  constructor(ctx, env) {
    super(ctx, faulty(env));
  }
}
export class CallHub extends BaseHub {
  constructor(state, env) {
    super(state, faulty(env));
  }
}
