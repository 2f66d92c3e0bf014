/**
 * Regression (found by test/unit/fuzz/soap-envelope.fuzz.test.ts): a Fault's
 * `detail/code` is the peer's text; anything but a plain code (control
 * characters, markup, 64+ characters) is read as SOAP_FAULT, the message kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultEnvelope, responseElement, SoapFault } from '../../../src/shared/soap/envelope.ts';

function faultOf(xml: string): SoapFault {
  try {
    responseElement(xml);
  } catch (err) {
    if (err instanceof SoapFault) return err;
    throw err;
  }
  throw new Error('no fault');
}

test('a fault code from a peer is taken only when it is a plain code', () => {
  assert.equal(faultOf(faultEnvelope('Client', 'STALE_SEQUENCE', 'older')).code, 'STALE_SEQUENCE');
  for (const bad of ['\u0000TALE_SEQUENCE', 'A B', 'x\ny', '<b>', 'A'.repeat(65), '1ABC']) {
    const fault = faultOf(faultEnvelope('Client', bad, 'why'));
    assert.equal(fault.code, 'SOAP_FAULT', JSON.stringify(bad));
    assert.equal(fault.message, 'why');
  }
});
