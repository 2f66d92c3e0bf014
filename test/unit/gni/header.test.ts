/** readGniHeader: the root start tag only, from the first KiB. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readGniHeader } from '../../../src/shared/gni/header.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import { randomGniDocument } from '../../fixtures/gni/random-doc.ts';

test('reads version and sequence of a serialized document (string and Buffer)', () => {
  const doc = { ...randomGniDocument(9), sequence: 77 };
  const xml = serializeGni(doc);
  assert.deepEqual(readGniHeader(xml), { version: doc.version, sequence: 77 });
  assert.deepEqual(readGniHeader(Buffer.from(xml)), { version: doc.version, sequence: 77 });
});

test('Eucalyptus shapes: version only, no attributes, single quotes, extra attributes, comments before the root', () => {
  assert.deepEqual(readGniHeader('<?xml version="1.0"?><network-data version="1a2b3c4d"><configuration/></network-data>'), { version: '1a2b3c4d' });
  assert.deepEqual(readGniHeader('<network-data>\n<configuration/>'), {});
  assert.deepEqual(readGniHeader("<!-- x --><network-data applied-version='0f' sequence='12' version='ab'>"), { version: 'ab', sequence: 12 });
  assert.deepEqual(readGniHeader('<network-data\n  version="v1"\n  sequence="3"/>'), { version: 'v1', sequence: 3 });
});

test('a malformed sequence is left out; no root start tag gives undefined', () => {
  assert.deepEqual(readGniHeader('<network-data version="v" sequence="-1">'), { version: 'v' });
  assert.deepEqual(readGniHeader('<network-data version="v" sequence="1e3">'), { version: 'v' });
  assert.equal(readGniHeader('<network-info version="v">'), undefined);
  assert.equal(readGniHeader(''), undefined);
  assert.equal(readGniHeader(Buffer.alloc(0)), undefined);
});

test('looks only at the first KiB: a root tag further in is not found, and the rest of a huge input is never read', () => {
  assert.equal(readGniHeader(`${' '.repeat(2000)}<network-data version="v">`), undefined);
  const huge = Buffer.alloc(10 * 1024 * 1024, 0x20);
  huge.write('<network-data version="big" sequence="5">', 0);
  assert.deepEqual(readGniHeader(huge), { version: 'big', sequence: 5 });
});
