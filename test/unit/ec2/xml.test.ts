/**
 * EC2 response XML (src/cloud-controller/ec2/xml.ts): the shape EC2's
 * clients parse, escaping, and well-formed output for ANY string.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sax from 'sax';
import { errorXml, successXml, xmlText } from '../../../src/cloud-controller/ec2/xml.ts';

/** Parses strictly; returns the text of every element by path (`a/b/item`), in document order. */
function parse(xml: string): { texts: [string, string][]; root: string; xmlns?: string } {
  const parser = sax.parser(true, {});
  const stack: string[] = [];
  const texts: [string, string][] = [];
  let root = '';
  let xmlns: string | undefined;
  let error: Error | undefined;
  parser.onerror = (e) => {
    error = e;
  };
  parser.onopentag = (node) => {
    if (stack.length === 0) {
      root = node.name;
      xmlns = node.attributes.xmlns as string | undefined;
    }
    stack.push(node.name);
  };
  parser.ontext = (t) => texts.push([stack.join('/'), t]);
  parser.onclosetag = () => void stack.pop();
  parser.write(xml).close();
  if (error) throw error;
  return { texts, root, ...(xmlns ? { xmlns } : {}) };
}

test('success: <ActionResponse xmlns>, requestId first, objects, arrays as <item>, scalars', () => {
  const xml = successXml('DescribeSecurityGroups', 'req-1', {
    securityGroupInfo: [
      { ownerId: '000000000001', groupName: 'web', ipPermissions: [{ ipProtocol: 'tcp', fromPort: 22, ipRanges: [{ cidrIp: '10.0.0.0/8' }] }], empty: [], skipped: undefined },
    ],
    flag: true,
    nothing: undefined,
  });
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>' +
      '<securityGroupInfo><item><ownerId>000000000001</ownerId><groupName>web</groupName><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort>' +
      '<ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item></ipPermissions><empty></empty></item></securityGroupInfo><flag>true</flag></DescribeSecurityGroupsResponse>',
  );
  const parsed = parse(xml);
  assert.equal(parsed.root, 'DescribeSecurityGroupsResponse');
  assert.equal(parsed.xmlns, 'http://ec2.amazonaws.com/doc/2016-11-15/');
});

test('arrays of scalars and nested arrays', () => {
  const xml = successXml('X', 'r', { values: ['a', 1, false], nested: [['x', 'y']] });
  assert.match(xml, /<values><item>a<\/item><item>1<\/item><item>false<\/item><\/values><nested><item>x<\/item><item>y<\/item><\/nested>/);
});

test('error document: exactly EC2\'s shape', () => {
  assert.equal(
    errorXml('InvalidGroup.NotFound', 'The security group \'a<b\' does not exist', 'abc-123'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>The security group \'a&lt;b\' does not exist</Message></Error></Errors><RequestID>abc-123</RequestID></Response>',
  );
});

test('any string stays well-formed and reads back (escapes, CR, controls, surrogates, non-characters)', () => {
  const nasty = [
    '<script>&amp;</script>',
    ']]>',
    'line1\r\nline2\rline3',
    'tab\there',
    'nul\u0000bell\u0007esc\u001b del\u007f',
    'lone \ud800 high and \udfff low',
    'pair 𝄞 ok',
    'non-chars \ufffe \uffff',
    '"quotes" \'apos\'',
    'é ✓ 中文',
  ];
  for (const s of nasty) {
    const xml = errorXml('InvalidParameterValue', s, 'r');
    const { texts } = parse(xml); // throws on anything not well-formed
    const message = texts.filter(([p]) => p === 'Response/Errors/Error/Message').map(([, t]) => t).join('');
    const expected = s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
    assert.equal(message, expected, JSON.stringify(s));
  }
  // Every single UTF-16 code unit, in one document.
  let all = '';
  for (let c = 0; c < 0x10000; c++) all += String.fromCharCode(c);
  const { texts } = parse(successXml('X', 'r', { v: all }));
  assert.equal(texts.filter(([p]) => p === 'XResponse/v').map(([, t]) => t).join('').length, all.length);
});

test('xmlText writes a carriage return as a reference (a parser would turn it into a newline)', () => {
  assert.equal(xmlText('a\rb'), 'a&#13;b');
  assert.equal(xmlText('a&b<c>d'), 'a&amp;b&lt;c&gt;d');
});

test('names come from code: a bad element or action name, or a non-finite number, throws', () => {
  assert.throws(() => successXml('X', 'r', { 'bad name': 'v' }));
  assert.throws(() => successXml('X', 'r', { '1abc': 'v' }));
  assert.throws(() => successXml('X y', 'r', {}));
  assert.throws(() => successXml('X', 'r', { n: Number.NaN }));
});
