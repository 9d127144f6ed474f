import { describe, expect, it } from 'vitest';
import { cdata, flatFields, parseSafeXml } from '../../shared/adapters/wecom/safe-xml';
import { codeOf } from './callback-test-helpers';

describe('parseSafeXml', () => {
  it('reads the flat WeCom shape with CDATA, plain text, newlines between elements and an XML declaration', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n' +
      '<CreateTime>1409659813</CreateTime>\n<Content><![CDATA[a <b> & ]] c]]></Content>\n<AgentID></AgentID><Empty/>\n</xml>\n';
    const root = parseSafeXml(xml);
    expect(root.name).toBe('xml');
    expect(Object.fromEntries(flatFields(root))).toEqual({
      ToUserName: 'wx5823bf96d3bd56c7',
      CreateTime: '1409659813',
      Content: 'a <b> & ]] c',
      AgentID: '',
      Empty: '',
    });
  });

  it('decodes the five predefined entities and numeric character references', () => {
    const root = parseSafeXml('<xml><A>&lt;&gt;&amp;&quot;&apos;&#20320;&#x597D;&#x1F600;</A></xml>');
    expect(flatFields(root).get('A')).toBe('<>&"\'你好😀');
  });

  it('keeps nested elements (ExtAttr/Item) as children, and flatFields skips them', () => {
    const root = parseSafeXml(
      '<xml><UserID>u1</UserID><ExtAttr><Item><Name>爱好</Name><Type>0</Type><Text><Value>旅游</Value></Text></Item></ExtAttr></xml>',
    );
    expect(Object.fromEntries(flatFields(root))).toEqual({ UserID: 'u1' });
    const ext = root.children[1];
    expect(ext?.children[0]?.children.map((c) => c.name)).toEqual(['Name', 'Type', 'Text']);
    expect(ext?.children[0]?.children[2]?.children[0]).toEqual({ name: 'Value', text: '旅游', children: [] });
  });

  it('accepts a leading BOM and ignores attributes after checking them', () => {
    expect(flatFields(parseSafeXml('\ufeff<xml a="1" b=\'2\'><X k="&amp;">v</X></xml>')).get('X')).toBe('v');
  });

  it('treats "<!ENTITY" inside CDATA as data, not as a declaration', () => {
    expect(flatFields(parseSafeXml('<xml><C><![CDATA[<!DOCTYPE x [<!ENTITY a "b">]>&a;]]></C></xml>')).get('C')).toBe('<!DOCTYPE x [<!ENTITY a "b">]>&a;');
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE xml><xml/>'],
    ['a lowercase doctype', '<!doctype xml><xml/>'],
    ['an internal entity', '<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>'],
    ['an external entity', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><A>&e;</A></xml>'],
    ['an ENTITY inside the root', '<xml><!ENTITY a "b"></xml>'],
    ['an ELEMENT declaration', '<!ELEMENT xml ANY><xml/>'],
    ['an undeclared entity reference', '<xml><A>&xxe;</A></xml>'],
    ['an undeclared entity with a long name', `<xml><A>&${'e'.repeat(40)};</A></xml>`],
    ['an undeclared entity in an attribute', '<xml a="&x;"/>'],
    ['a stylesheet processing instruction', '<?xml-stylesheet href="x"?><xml/>'],
    ['a processing instruction inside the root', '<xml><?php x ?></xml>'],
    ['a processing instruction after the root', '<xml/><?x?>'],
    ['an XML declaration not at the start', ' <?xml version="1.0"?><xml/>'],
  ])('refuses %s as CALLBACK.UNSAFE_XML', (_name, xml) => {
    expect(codeOf(() => parseSafeXml(xml))).toBe('CALLBACK.UNSAFE_XML');
  });

  it.each([
    ['an empty document', ''],
    ['text only', 'hello'],
    ['an unclosed root', '<xml><A>1</A>'],
    ['mismatched tags', '<xml><A>1</B></xml>'],
    ['two roots', '<xml/><xml/>'],
    ['text beside elements', '<xml>junk<A>1</A></xml>'],
    ['a comment', '<xml><!-- c --></xml>'],
    ['a bare ampersand', '<xml><A>a & b</A></xml>'],
    ['a malformed character reference', '<xml><A>&#xZZ;</A></xml>'],
    ['a reference to NUL', '<xml><A>&#0;</A></xml>'],
    ['a reference to a surrogate', '<xml><A>&#xD800;</A></xml>'],
    ['a control character', '<xml><A>a\u0001b</A></xml>'],
    ['a control character in CDATA', '<xml><A><![CDATA[a\u0000b]]></A></xml>'],
    ['an unterminated CDATA', '<xml><A><![CDATA[abc</A></xml>'],
    ['"]]>" in text', '<xml><A>a]]>b</A></xml>'],
    ['an unquoted attribute', '<xml a=1/>'],
    ['an invalid element name', '<xml><1A>x</1A></xml>'],
    ['"<" inside a tag', '<xml <A>/>'],
    ['nesting deeper than 8', '<xml><a><b><c><d><e><f><g><h/></g></f></e></d></c></b></a></xml>'],
    // fast-xml-parser's validator lets these through; safe-xml refuses them itself.
    ['text after a self-closing root', '<xml/>junk'],
    ['markup after a self-closing root', '<xml/>junk/>'],
    ['an element after a self-closing root', '<xml a="1"/> <a/>'],
    ['a second root after whitespace', '<xml></xml>\n<xml></xml>'],
    ['a closing tag for an unopened element', '<xml></A></xml>'],
  ])('refuses %s as CALLBACK.BAD_XML', (_name, xml) => {
    expect(codeOf(() => parseSafeXml(xml))).toBe('CALLBACK.BAD_XML');
  });

  it('allows nesting up to the depth limit and honours a custom limit', () => {
    const seven = '<xml><a><b><c><d><e><f><g/></f></e></d></c></b></a></xml>';
    expect(parseSafeXml(seven).name).toBe('xml');
    expect(codeOf(() => parseSafeXml(seven, { maxDepth: 4 }))).toBe('CALLBACK.BAD_XML');
  });

  it('refuses more elements than allowed, and documents over the byte limit (counting UTF-8 bytes)', () => {
    expect(codeOf(() => parseSafeXml(`<xml>${'<a/>'.repeat(2001)}</xml>`))).toBe('CALLBACK.BAD_XML');
    expect(codeOf(() => parseSafeXml(`<xml><A>${'x'.repeat(65_536)}</A></xml>`))).toBe('CALLBACK.TOO_LARGE');
    // 22,000 three-byte characters: under 64 Ki characters but over 64 KiB.
    expect(codeOf(() => parseSafeXml(`<xml><A>${'中'.repeat(22_000)}</A></xml>`))).toBe('CALLBACK.TOO_LARGE');
    expect(parseSafeXml(`<xml><A>${'中'.repeat(21_000)}</A></xml>`).name).toBe('xml');
  });

  it('flatFields refuses a repeated element, so there is never a choice of which Encrypt to check', () => {
    expect(codeOf(() => flatFields(parseSafeXml('<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>')))).toBe('CALLBACK.BAD_XML');
  });

  it('handles element names that are Object.prototype keys safely', () => {
    const f = flatFields(parseSafeXml('<xml><__proto__>x</__proto__><constructor>y</constructor></xml>'));
    expect(f.get('__proto__')).toBe('x');
    expect(f.get('constructor')).toBe('y');
    expect(f.get('toString')).toBeUndefined();
  });

  it('reads an empty root, self-closing or not', () => {
    for (const xml of ['<xml/>', '<?xml version="1.0"?>\n<xml a="1" />\n', '<xml></xml >']) expect(parseSafeXml(xml)).toEqual({ name: 'xml', text: '', children: [] });
  });

  it('keeps self-closing and Object.prototype-named elements by their own names (fast-xml-parser underneath)', () => {
    const root = parseSafeXml('<xml><hasOwnProperty/><prototype>p</prototype><A >1</A ><B></B></xml>');
    expect(root.children.map((c) => [c.name, c.text])).toEqual([['hasOwnProperty', ''], ['prototype', 'p'], ['A', '1'], ['B', '']]);
  });

  it('never echoes document content in error messages', () => {
    try {
      parseSafeXml('<xml><Secret>张三 13800000000</Secret><!DOCTYPE x></xml>');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toMatch(/张三|13800000000|Secret/);
    }
  });

  it('cdata() wraps text so that it parses back unchanged, even with "]]>" inside', () => {
    for (const t of ['plain', 'a]]>b', ']]>]]>', '<x>&y;']) expect(flatFields(parseSafeXml(`<xml><A>${cdata(t)}</A></xml>`)).get('A')).toBe(t);
  });
});
