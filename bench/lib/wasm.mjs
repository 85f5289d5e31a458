// @ts-check
// Reads a wasm module's section sizes, and drops its `name` custom section (function names,
// which worker-build keeps with wasm-opt --debuginfo; scripts/build.sh strips it from the
// release module, so there it is 0) to show what that section costs.
function* sections(buf) {
  let p = 8; // magic + version
  const leb = () => {
    let r = 0;
    let shift = 0;
    let x;
    do {
      x = buf[p++];
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80);
    return r;
  };
  const ids = [
    'custom',
    'type',
    'import',
    'function',
    'table',
    'memory',
    'global',
    'export',
    'start',
    'element',
    'code',
    'data',
    'datacount',
    'tag',
  ];
  while (p < buf.length) {
    const begin = p;
    const id = buf[p++];
    const size = leb();
    const body = p;
    let name = ids[id] ?? `id${id}`;
    if (id === 0) {
      const n = leb();
      name = `custom:${buf.subarray(p, p + n).toString()}`;
    }
    yield { name, begin, end: body + size, size };
    p = body + size;
  }
}

export function sectionSizes(buf) {
  const out = {};
  for (const s of sections(buf)) out[s.name] = (out[s.name] ?? 0) + s.size;
  return out;
}

export function withoutNameSection(buf) {
  const parts = [buf.subarray(0, 8)];
  for (const s of sections(buf))
    if (s.name !== 'custom:name') parts.push(buf.subarray(s.begin, s.end));
  return Buffer.concat(parts);
}
