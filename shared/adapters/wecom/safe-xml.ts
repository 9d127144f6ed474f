/**
 * A small, strict XML reader for the shapes WeCom sends (wecom.md §1, §3): one `<xml>` root,
 * elements holding text or CDATA, a few nested elements (ExtAttr/Item), no attributes in
 * practice. It is deliberately not a general XML parser.
 *
 * Refused as CALLBACK.UNSAFE_XML: any DTD markup (`<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`,
 * `<!ATTLIST`, `<!NOTATION`), processing instructions other than a leading XML declaration,
 * and references to any entity other than the five predefined ones or numeric references.
 * Nothing is ever expanded or fetched, so XXE and entity-expansion bombs cannot work.
 *
 * Refused as CALLBACK.BAD_XML: malformed markup, comments (WeCom sends none), mismatched
 * tags, text mixed with child elements, control characters, more than `maxDepth` levels or
 * `maxElements` elements. Refused as CALLBACK.TOO_LARGE: more than `maxBytes` (UTF-8).
 *
 * Error messages give an offset, never the document's content.
 */
import { CallbackError, MAX_CALLBACK_BYTES, checkSize } from '../../crypto/callback-crypto-common';

export interface XmlElement {
  name: string;
  /** Concatenated text and CDATA (entities decoded); '' for elements with children. */
  text: string;
  children: XmlElement[];
}

export interface SafeXmlOptions {
  /** Largest document in UTF-8 bytes (default 64 KiB). */
  maxBytes?: number;
  /** Deepest element nesting, the root being depth 1 (default 8; WeCom needs 4). */
  maxDepth?: number;
  /** Most elements in the document (default 2000). */
  maxElements?: number;
}

const DEFAULTS = { maxBytes: MAX_CALLBACK_BYTES, maxDepth: 8, maxElements: 2000 };

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_.:-]/;
const DTD_KEYWORDS = ['DOCTYPE', 'ENTITY', 'ELEMENT', 'ATTLIST', 'NOTATION'];
// C0 controls except tab, LF and CR are not XML characters.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function bad(message: string, at: number): CallbackError {
  return new CallbackError('CALLBACK.BAD_XML', `${message} (at offset ${at})`);
}
function unsafe(message: string, at: number): CallbackError {
  return new CallbackError('CALLBACK.UNSAFE_XML', `${message} (at offset ${at})`);
}

/**
 * Parses `xml` and returns its root element.
 * @throws CallbackError CALLBACK.TOO_LARGE / CALLBACK.UNSAFE_XML / CALLBACK.BAD_XML
 */
export function parseSafeXml(xml: string, options: SafeXmlOptions = {}): XmlElement {
  const opts = { ...DEFAULTS, ...options };
  if (typeof xml !== 'string') throw bad('document is not a string', 0);
  checkSize(xml, opts.maxBytes, 'XML document');
  const p = new Parser(xml, opts.maxDepth, opts.maxElements);
  return p.document();
}

/**
 * The root's direct children that hold text, by name: the flat shape WeCom uses. Children
 * with their own children (ExtAttr) are skipped. A repeated name is refused, so there is never
 * a question of which `<Encrypt>` was meant (a classic parser-differential trick).
 * @throws CallbackError CALLBACK.BAD_XML on a repeated name.
 */
export function flatFields(root: XmlElement): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const child of root.children) {
    if (seen.has(child.name)) throw new CallbackError('CALLBACK.BAD_XML', 'an element is repeated where one is expected');
    seen.add(child.name);
    if (child.children.length === 0) out.set(child.name, child.text);
  }
  return out;
}

class Parser {
  private pos = 0;
  private elements = 0;

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
    private readonly maxElements: number,
  ) {}

  document(): XmlElement {
    const s = this.s;
    if (s.charCodeAt(0) === 0xfeff) this.pos = 1; // a UTF-8 BOM before the declaration
    if (s.startsWith('<?', this.pos)) this.declaration();
    this.misc();
    if (this.pos >= s.length || s[this.pos] !== '<') throw bad('expected the root element', this.pos);
    const root = this.element(1);
    this.misc();
    if (this.pos !== s.length) throw bad('content after the root element', this.pos);
    return root;
  }

  /** `<?xml version="1.0" encoding="utf-8"?>` only; any other processing instruction is refused. */
  private declaration(): void {
    const start = this.pos;
    const m = /^<\?xml[ \t\r\n]/.exec(this.s.slice(start, start + 6));
    if (!m) throw unsafe('processing instructions are not allowed', start);
    const end = this.s.indexOf('?>', start + 5);
    if (end === -1) throw bad('unterminated XML declaration', start);
    const inner = this.s.slice(start + 5, end);
    if (inner.includes('<') || inner.includes('>')) throw bad('malformed XML declaration', start);
    this.pos = end + 2;
  }

  /** Whitespace between prolog items; refuses DTDs, other PIs and comments outside the root. */
  private misc(): void {
    const s = this.s;
    for (;;) {
      while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
      if (s.startsWith('<!', this.pos)) this.markupDeclaration();
      else if (s.startsWith('<?', this.pos)) throw unsafe('processing instructions are not allowed', this.pos);
      else return;
    }
  }

  /** Anything starting `<!` that is not CDATA: DTD keywords are unsafe, the rest malformed. */
  private markupDeclaration(): never {
    const at = this.pos;
    const word = this.s.slice(at + 2, at + 10).toUpperCase();
    if (DTD_KEYWORDS.some((k) => word.startsWith(k))) throw unsafe('DTD declarations are not allowed', at);
    if (this.s.startsWith('<!--', at)) throw bad('comments are not supported', at);
    throw bad('unexpected markup declaration', at);
  }

  private element(depth: number): XmlElement {
    const s = this.s;
    if (depth > this.maxDepth) throw bad('elements are nested too deeply', this.pos);
    if (++this.elements > this.maxElements) throw bad('too many elements', this.pos);
    this.pos++; // '<'
    const name = this.name();
    this.attributes();
    if (s.startsWith('/>', this.pos)) {
      this.pos += 2;
      return { name, text: '', children: [] };
    }
    if (s[this.pos] !== '>') throw bad('malformed start tag', this.pos);
    this.pos++;

    const children: XmlElement[] = [];
    let text = '';
    let nonSpaceText = false;
    for (;;) {
      if (this.pos >= s.length) throw bad('unterminated element', this.pos);
      const lt = s.indexOf('<', this.pos);
      if (lt === -1) throw bad('unterminated element', this.pos);
      if (lt > this.pos) {
        const chunk = this.charData(this.pos, lt);
        text += chunk;
        if (!/^[ \t\r\n]*$/.test(chunk)) nonSpaceText = true;
        this.pos = lt;
      }
      if (s.startsWith('</', this.pos)) {
        const at = this.pos;
        this.pos += 2;
        const closing = this.name();
        while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
        if (s[this.pos] !== '>') throw bad('malformed end tag', this.pos);
        this.pos++;
        if (closing !== name) throw bad('end tag does not match its start tag', at);
        break;
      }
      if (s.startsWith('<![CDATA[', this.pos)) {
        const end = s.indexOf(']]>', this.pos + 9);
        if (end === -1) throw bad('unterminated CDATA section', this.pos);
        const data = s.slice(this.pos + 9, end);
        if (CONTROL.test(data)) throw bad('control character in CDATA', this.pos);
        text += data;
        if (data.length > 0) nonSpaceText = true;
        this.pos = end + 3;
        continue;
      }
      if (s.startsWith('<!', this.pos)) this.markupDeclaration();
      if (s.startsWith('<?', this.pos)) throw unsafe('processing instructions are not allowed', this.pos);
      children.push(this.element(depth + 1));
    }
    if (children.length > 0) {
      if (nonSpaceText) throw bad('text mixed with child elements', this.pos);
      text = '';
    }
    return { name, text, children };
  }

  private name(): string {
    const s = this.s;
    const start = this.pos;
    if (this.pos >= s.length || !NAME_START.test(s[this.pos] as string)) throw bad('invalid element name', start);
    this.pos++;
    while (this.pos < s.length && NAME_CHAR.test(s[this.pos] as string)) this.pos++;
    return s.slice(start, this.pos);
  }

  /**
   * Attributes are syntax-checked (and their entity references vetted) but dropped: WeCom
   * sends none, and nothing we read depends on them.
   */
  private attributes(): void {
    const s = this.s;
    for (;;) {
      const before = this.pos;
      while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
      const c = s[this.pos];
      if (c === '>' || c === '/' || c === undefined) return;
      if (this.pos === before) throw bad('malformed start tag', this.pos);
      this.name();
      while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
      if (s[this.pos] !== '=') throw bad('attribute without a value', this.pos);
      this.pos++;
      while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
      const q = s[this.pos];
      if (q !== '"' && q !== "'") throw bad('unquoted attribute value', this.pos);
      const end = s.indexOf(q, this.pos + 1);
      if (end === -1) throw bad('unterminated attribute value', this.pos);
      if (s.slice(this.pos + 1, end).includes('<')) throw bad('"<" in attribute value', this.pos);
      this.charData(this.pos + 1, end);
      this.pos = end + 1;
    }
  }

  /** Character data between `from` and `to`, with the predefined and numeric entities decoded. */
  private charData(from: number, to: number): string {
    const raw = this.s.slice(from, to);
    if (CONTROL.test(raw)) throw bad('control character in text', from);
    if (raw.includes(']]>')) throw bad('"]]>" in text', from);
    if (!raw.includes('&')) return raw;
    let out = '';
    let i = 0;
    for (;;) {
      const amp = raw.indexOf('&', i);
      if (amp === -1) return out + raw.slice(i);
      out += raw.slice(i, amp);
      const semi = raw.indexOf(';', amp);
      if (semi === -1 || semi - amp > 64) throw bad('bare "&" in text', from + amp);
      out += this.entity(raw.slice(amp + 1, semi), from + amp);
      i = semi + 1;
    }
  }

  private entity(ref: string, at: number): string {
    switch (ref) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    let code: number | undefined;
    if (/^#[0-9]{1,7}$/.test(ref)) code = Number(ref.slice(1));
    else if (/^#x[0-9a-fA-F]{1,6}$/.test(ref)) code = parseInt(ref.slice(2), 16);
    if (code !== undefined) {
      const ok = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!ok) throw bad('character reference to a non-XML character', at);
      return String.fromCodePoint(code);
    }
    if (/^[A-Za-z_:][A-Za-z0-9_.:-]*$/.test(ref)) throw unsafe('reference to an undeclared entity', at);
    throw bad('malformed entity reference', at);
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Escapes text for a CDATA section (splits any "]]>"). */
export function cdata(text: string): string {
  return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}
