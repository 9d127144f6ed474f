/**
 * Content hashes and operation ids for the sync planner.
 *
 * FNV-1a 64-bit over the UTF-8 bytes of a canonical string, written in plain TypeScript
 * (16-bit limbs, no BigInt) instead of node:crypto's createHash:
 * - shared/domain stays free of Node imports, so the planner runs unchanged in a Lambda,
 *   the CLI, a browser preview or a worker thread;
 * - hashing ~100,000 short profiles per run costs a few milliseconds, and there is no
 *   per-call object allocation as with createHash;
 * - these hashes detect change and name operations; they are not a security boundary.
 *   A 64-bit collision between an object's old and new content (odds about 2^-64 per
 *   change) would only delay one update to the next change of that object.
 */

/** FNV-1a 64-bit of the UTF-8 encoding of `text`, as 16 lowercase hex digits. */
export function fnv1a64(text: string): string {
  // Offset basis 0xcbf29ce484222325 in four 16-bit limbs (h3 is the most significant).
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  // UTF-8 bytes of the current character (at most 4), consumed by the inner loop.
  const bytes = [0, 0, 0, 0];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    let n = 1;
    if (c < 0x80) bytes[0] = c;
    else {
      // Combine a surrogate pair into one code point; a lone surrogate becomes U+FFFD, as TextEncoder does.
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
        if (next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
        } else c = 0xfffd;
      } else if (c >= 0xdc00 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x800) {
        bytes[0] = 0xc0 | (c >> 6);
        bytes[1] = 0x80 | (c & 0x3f);
        n = 2;
      } else if (c < 0x10000) {
        bytes[0] = 0xe0 | (c >> 12);
        bytes[1] = 0x80 | ((c >> 6) & 0x3f);
        bytes[2] = 0x80 | (c & 0x3f);
        n = 3;
      } else {
        bytes[0] = 0xf0 | (c >> 18);
        bytes[1] = 0x80 | ((c >> 12) & 0x3f);
        bytes[2] = 0x80 | ((c >> 6) & 0x3f);
        bytes[3] = 0x80 | (c & 0x3f);
        n = 4;
      }
    }
    for (let k = 0; k < n; k++) {
      h0 ^= bytes[k]!;
      // Multiply by the FNV prime 0x100000001b3 = 2^40 + 0x1b3, modulo 2^64: every limb
      // times 0x1b3, plus limbs 0 and 1 shifted by 40 bits (into limbs 2 and 3, << 8).
      const t0 = h0 * 0x1b3;
      let t1 = h1 * 0x1b3;
      let t2 = h2 * 0x1b3 + (h0 << 8);
      const t3 = h3 * 0x1b3 + (h1 << 8);
      t1 += t0 >>> 16;
      h0 = t0 & 0xffff;
      t2 += t1 >>> 16;
      h1 = t1 & 0xffff;
      h3 = (t3 + (t2 >>> 16)) & 0xffff;
      h2 = t2 & 0xffff;
    }
  }
  return HEX2[h3 >>> 8]! + HEX2[h3 & 0xff]! + HEX2[h2 >>> 8]! + HEX2[h2 & 0xff]! + HEX2[h1 >>> 8]! + HEX2[h1 & 0xff]! + HEX2[h0 >>> 8]! + HEX2[h0 & 0xff]!;
}

const HEX2: readonly string[] = Array.from({ length: 0x100 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Hash of an ordered list of field values. `undefined` and `null` hash like a missing
 * field, distinct from the empty string, so "no mobile" and "mobile cleared to ''" differ.
 * The JSON array form keeps field boundaries unambiguous ("ab","c" vs "a","bc").
 */
export function hashFields(fields: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return fnv1a64(JSON.stringify(fields.map((f) => (f === undefined ? null : f))));
}
