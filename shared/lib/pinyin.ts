/**
 * Chinese -> pinyin for the mail features' pinyin rules (department list addresses,
 * full-name aliases): lowercase, no tones, syllables joined without separators, other
 * characters kept (the planner keeps only a-z and 0-9 of the result). Uses pinyin-pro
 * (pinned); polyphonic characters take its context-based reading, which may differ from
 * what a person uses for their own name: that is why a pinyin alias is reported, never
 * forced, when two people share it (plan/aliases.ts).
 */
import { pinyin } from 'pinyin-pro';

export function romanize(text: string): string {
  return pinyin(text, { toneType: 'none', type: 'array', nonZh: 'consecutive', v: true }).join('').toLowerCase();
}
