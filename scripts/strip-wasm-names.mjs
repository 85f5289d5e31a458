// @ts-check
// Copies a wasm module without its `name` custom section (function and data names), byte for
// byte otherwise: every other section, and so every function body and index, is unchanged.
//   node scripts/strip-wasm-names.mjs IN.wasm OUT.wasm
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/strip-wasm-names.mjs IN.wasm OUT.wasm');
  process.exit(2);
}
const buf = readFileSync(input);
if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error(`${input}: not a wasm module`);

const parts = [buf.subarray(0, 8)];
let p = 8;
const leb = () => {
  let r = 0;
  let shift = 0;
  let x;
  do {
    if (p >= buf.length) throw new Error(`${input}: truncated`);
    x = buf[p++];
    r += (x & 0x7f) * 2 ** shift;
    shift += 7;
  } while (x & 0x80);
  return r;
};
let dropped = 0;
while (p < buf.length) {
  const begin = p;
  const id = buf[p++];
  const size = leb();
  const end = p + size;
  if (end > buf.length) throw new Error(`${input}: section past the end`);
  let name = null;
  if (id === 0) {
    const n = leb();
    name = buf.subarray(p, p + n).toString();
  }
  if (name === 'name') dropped += end - begin;
  else parts.push(buf.subarray(begin, end));
  p = end;
}
writeFileSync(output, Buffer.concat(parts));
console.log(
  `strip-wasm-names: ${output} ${buf.length - dropped} bytes (name section: ${dropped} bytes)`,
);
