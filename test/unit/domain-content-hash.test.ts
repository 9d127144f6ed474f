import { describe, expect, it } from 'vitest';
import { fnv1a64, hashFields } from '../../shared/domain/content-hash';

// An independent FNV-1a 64 with BigInt over TextEncoder bytes, to check the limb arithmetic.
function reference(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64 test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });

  it('agrees with an independent BigInt implementation on Chinese, emoji and lone surrogates', () => {
    for (const s of ['销售部(华南)', '张三', '😀 x', 'a\ud800b', '\udc00', 'x'.repeat(1000)]) expect(fnv1a64(s)).toBe(reference(s));
  });
});

describe('hashFields', () => {
  it('keeps field boundaries and tells a missing field from an empty one', () => {
    expect(hashFields(['ab', 'c'])).not.toBe(hashFields(['a', 'bc']));
    expect(hashFields(['a', undefined])).not.toBe(hashFields(['a', '']));
    expect(hashFields(['a', undefined])).toBe(hashFields(['a', null]));
  });
});
