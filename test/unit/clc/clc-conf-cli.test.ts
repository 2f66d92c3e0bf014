/** The CLI reads clc.conf through the same KEY=value reader as the CLC (src/cli/clc-conf.ts → shared/config/conf-file.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClcConfForCli } from '../../../src/cli/clc-conf.ts';

test('the CLI takes LISTEN and TOKEN_FILE as the CLC reads them: export, quotes, escapes, trailing comments, last value wins', () => {
  const text = [
    '# the CLC',
    'export LISTEN="0.0.0.0:9999"   # all addresses',
    "TOKEN_FILE='/var/lib/edgenet/clc/admin token'",
    'LOG_LEVEL=debug',
    'this line is not an assignment',
    'LISTEN=127.0.0.2:8771 # moved',
  ].join('\n');
  assert.deepEqual(parseClcConfForCli(text), { listen: '127.0.0.2:8771', tokenFile: '/var/lib/edgenet/clc/admin token' });
  assert.deepEqual(parseClcConfForCli('TOKEN_FILE="/a/\\"b\\""'), { tokenFile: '/a/"b"' });
  assert.deepEqual(parseClcConfForCli('LISTEN="unbalanced\nOTHER=1\n'), {}, 'a value the CLC refuses is not used');
  assert.deepEqual(parseClcConfForCli(''), {});
});
