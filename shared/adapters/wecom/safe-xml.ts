/**
 * A strict XML reader for the shapes WeCom sends (wecom.md §1, §3): one `<xml>` root,
 * elements holding text or CDATA, a few nested elements (ExtAttr/Item), no attributes in
 * practice. Parsing is fast-xml-parser's (XMLValidator for well-formedness, XMLParser with
 * preserveOrder for the tree, processEntities off, CDATA kept apart from text).
 *
 * Hand-written part, and why no library fits: fast-xml-parser has no "refuse" mode. With
 * processEntities off it leaves `&xxe;` in the text, skips `<!DOCTYPE ...>` (and with
 * entities on, expands what the DTD declares), passes processing instructions through as
 * nodes, and accepts a second root, text after the root and `]]>` in text. The security policy below is ours:
 * a scan over the document outside CDATA sections, before any parser sees it, which
 * - refuses as CALLBACK.UNSAFE_XML: any DTD markup (`<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`,
 *   `<!ATTLIST`, `<!NOTATION`, any case), processing instructions other than a leading XML
 *   declaration, and references to any entity other than the five predefined ones or numeric
 *   references. Nothing is ever expanded or fetched, so XXE and entity-expansion bombs
 *   cannot work;
 * - refuses as CALLBACK.BAD_XML: comments (WeCom sends none), bare `&`, character references
 *   to non-XML characters, control characters, `]]>` in text.
 * After parsing, the tree walk refuses (BAD_XML) more than one root, text mixed with child
 * elements, more than `maxDepth` levels or `maxElements` elements. Refused as
 * CALLBACK.TOO_LARGE: more than `maxBytes` (UTF-8).
 *
 * Error messages give an offset or line/column, never the document's content.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
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

const DTD_KEYWORDS = ['DOCTYPE', 'ENTITY', 'ELEMENT', 'ATTLIST', 'NOTATION'];
// C0 controls except tab, LF and CR are not XML characters.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const CDATA_OPEN = '<![CDATA[';

/**
 * Tag names reach us prefixed with NUL (which no XML name can contain: control characters
 * are refused first), so that a `<__proto__>` or `<constructor>` element is a plain key in
 * the parser's output and never trips its prototype-pollution guard. fast-xml-parser applies
 * the transform twice to self-closing tags, hence "strip every leading NUL".
 */
const TAG_MARK = '\u0000';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
  htmlEntities: false,
  trimValues: false,
  parseTagValue: false,
  cdataPropName: '#cdata',
  transformTagName: (name) => TAG_MARK + name,
});

type OrderedNode = Record<string, OrderedNode[] | string>;

function bad(message: string, at: number | string): CallbackError {
  return new CallbackError('CALLBACK.BAD_XML', `${message} (at ${typeof at === 'number' ? `offset ${at}` : at})`);
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
  const doc = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml; // a UTF-8 BOM before the declaration
  screen(doc);
  const valid = XMLValidator.validate(doc);
  // The validator's own message names tags: only its code and position are passed on.
  if (valid !== true) throw bad(`malformed XML: ${valid.err.code}`, `line ${valid.err.line}, column ${valid.err.col}`);
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(doc) as OrderedNode[];
  } catch (err) {
    throw new CallbackError('CALLBACK.BAD_XML', 'malformed XML', { cause: err });
  }
  if (nodes.some((n) => isText(n) && !/^[ \t\r\n]*$/.test(String(n['#text'])))) throw bad('text outside the root element', 0);
  const roots = nodes.filter((n) => !isText(n));
  if (roots.length !== 1) throw bad(roots.length === 0 ? 'expected the root element' : 'content after the root element', 0);
  const root = toElement(roots[0]!, 1, opts, { elements: 0 });
  if (root.children.length === 0 && root.text === '') checkEmptyRoot(doc, root.name);
  return root;
}

/**
 * fast-xml-parser's validator accepts anything after a self-closing root (`<xml/>junk`,
 * `<xml/> <a/>`) and its parser drops it silently. An empty root must therefore be the whole
 * document (after the declaration); WeCom never sends one, so this costs nothing real.
 */
function checkEmptyRoot(doc: string, name: string): void {
  const body = doc.replace(/^<\?xml[^]*?\?>/, '');
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const whole = new RegExp(`^[ \\t\\r\\n]*<${n}(?:[ \\t\\r\\n][^<>]*)?(?:/>|>[ \\t\\r\\n]*</${n}[ \\t\\r\\n]*>)[ \\t\\r\\n]*$`);
  if (!whole.test(body)) throw bad('content after the root element', 0);
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

/** Escapes text for a CDATA section (splits any "]]>"). */
export function cdata(text: string): string {
  return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/** The security scan: every markup declaration, PI and reference outside CDATA, in document order. */
function screen(s: string): void {
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf(CDATA_OPEN, i);
    const end = open === -1 ? s.length : open;
    screenMarkup(s, i, end);
    if (open === -1) return;
    const close = s.indexOf(']]>', open + CDATA_OPEN.length);
    if (close === -1) throw bad('unterminated CDATA section', open);
    if (CONTROL.test(s.slice(open + CDATA_OPEN.length, close))) throw bad('control character in CDATA', open);
    i = close + 3;
  }
}

/** Markup and character data between `from` and `to` (no CDATA inside). */
function screenMarkup(s: string, from: number, to: number): void {
  const part = s.slice(from, to);
  const control = CONTROL.exec(part);
  const special = /<!|<\?|&|\]\]>/g;
  for (let m = special.exec(part); m; m = special.exec(part)) {
    const at = from + m.index;
    if (control && control.index < m.index) throw bad('control character in text', from + control.index);
    if (m[0] === '<!') markupDeclaration(s, at);
    else if (m[0] === '<?') {
      // Only `<?xml ...?>` at the very start; `<?xml-stylesheet` and any other PI are refused.
      if (at !== 0 || !/^<\?xml[ \t\r\n]/.test(s.slice(0, 6))) throw unsafe('processing instructions are not allowed', at);
    } else if (m[0] === '&') entity(s, at);
    else throw bad('"]]>" in text', at);
  }
  if (control) throw bad('control character in text', from + control.index);
}

/** Anything starting `<!` that is not CDATA: DTD keywords are unsafe, the rest malformed. */
function markupDeclaration(s: string, at: number): never {
  const word = s.slice(at + 2, at + 10).toUpperCase();
  if (DTD_KEYWORDS.some((k) => word.startsWith(k))) throw unsafe('DTD declarations are not allowed', at);
  if (s.startsWith('<!--', at)) throw bad('comments are not supported', at);
  throw bad('unexpected markup declaration', at);
}

/** Vets the reference at `at`: predefined or a numeric reference to an XML character. */
function entity(s: string, at: number): void {
  const semi = s.indexOf(';', at);
  if (semi === -1 || semi - at > 64) throw bad('bare "&" in text', at);
  const ref = s.slice(at + 1, semi);
  if (ref in PREDEFINED && Object.hasOwn(PREDEFINED, ref)) return;
  const code = charRef(ref);
  if (code !== undefined) {
    const ok = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    if (!ok) throw bad('character reference to a non-XML character', at);
    return;
  }
  if (/^[A-Za-z_:][A-Za-z0-9_.:-]*$/.test(ref)) throw unsafe('reference to an undeclared entity', at);
  throw bad('malformed entity reference', at);
}

function charRef(ref: string): number | undefined {
  if (/^#[0-9]{1,7}$/.test(ref)) return Number(ref.slice(1));
  if (/^#x[0-9a-fA-F]{1,6}$/.test(ref)) return parseInt(ref.slice(2), 16);
  return undefined;
}

/** Decodes the references `screen` let through (predefined and numeric only). */
function decode(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;]{1,64});/g, (_m, ref: string) => PREDEFINED[ref] ?? String.fromCodePoint(charRef(ref)!));
}

function isText(node: OrderedNode): boolean {
  return Object.hasOwn(node, '#text');
}

/** One parser node to an XmlElement, checking depth, element count and mixed content. */
function toElement(node: OrderedNode, depth: number, opts: typeof DEFAULTS, count: { elements: number }): XmlElement {
  if (depth > opts.maxDepth) throw bad('elements are nested too deeply', `depth ${depth}`);
  if (++count.elements > opts.maxElements) throw bad('too many elements', `element ${count.elements}`);
  const key = Object.keys(node).find((k) => k.startsWith(TAG_MARK));
  if (key === undefined) throw bad('unexpected node', `depth ${depth}`);
  const name = key.replace(/^\u0000+/, '');
  const children: XmlElement[] = [];
  let text = '';
  let nonSpaceText = false;
  for (const child of node[key] as OrderedNode[]) {
    if (isText(child)) {
      const chunk = decode(String(child['#text']));
      text += chunk;
      if (!/^[ \t\r\n]*$/.test(chunk)) nonSpaceText = true;
    } else if (Object.hasOwn(child, '#cdata')) {
      // CDATA is data: kept verbatim, never entity-decoded.
      const data = (child['#cdata'] as OrderedNode[]).map((t) => String(t['#text'] ?? '')).join('');
      text += data;
      if (data.length > 0) nonSpaceText = true;
    } else {
      children.push(toElement(child, depth + 1, opts, count));
    }
  }
  if (children.length > 0) {
    if (nonSpaceText) throw bad('text mixed with child elements', `depth ${depth}`);
    text = '';
  }
  return { name, text, children };
}
