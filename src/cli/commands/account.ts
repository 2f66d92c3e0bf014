/**
 * `edgenet account …`: accounts (who owns groups, addresses and instances)
 * and their EC2 access keys, against a running cloud controller's admin API
 * (/v1/accounts, /v1/keys). Thin, like cloud-state.ts: the server checks
 * everything and answers errors with stable codes.
 *
 * A secret access key is printed once, by `account create` and `account key
 * create`; nothing can show it again (the CLC keeps it sealed:
 * docs/cloud-controller.md "Accounts and EC2 credentials").
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addApiOptions, apiClient, type ApiOptions } from '../api-client.ts';
import { addJsonOption, addListOptions, outputFormat, printJson, printList, type OutputOptions } from '../output.ts';
import type { AccountView } from '../../cloud-controller/services/accounts.ts';
import type { AccessKeyView, NewAccessKey } from '../../cloud-controller/services/credentials.ts';

type Opts = ApiOptions & OutputOptions;
const enc = encodeURIComponent;

interface CreatedAccount {
  readonly account: AccountView;
  readonly defaultGroupId: string;
  readonly accessKey: NewAccessKey;
}

interface DeletedAccount {
  readonly deleted: AccountView;
  readonly accessKeysDeleted: number;
  readonly defaultGroupDeleted?: string;
}

const ONCE = 'the secret access key is shown only this once: store it now (nothing can show it again; if it is lost, delete the key and create another)';

export function registerAccount(program: Command, ctx: CliContext): void {
  const api = (opts: ApiOptions) => apiClient(ctx, opts);
  const one = (cmd: Command) => addJsonOption(addApiOptions(cmd));
  const many = (cmd: Command) => addListOptions(addApiOptions(cmd));
  const printKey = (k: NewAccessKey) => {
    ctx.out(`ACCESSKEY\t${k.accessKeyId}\t${k.secretAccessKey}`);
    ctx.err(`note: ${ONCE}`);
  };

  const account = program
    .command('account')
    .description('accounts (12-digit ids, as EC2) and their EC2 access keys; every --owner takes an account id or name')
    .addHelpText(
      'after',
      `
Every security group, public address and instance belongs to an account. The
admin account 000000000001 "admin" always exists; it is the default --owner and
sees every account over EC2. Each account has a "default" security group.
An account has at most 2 access keys (as IAM), so a secret can be rotated:
create the second key, switch the clients, delete the first.

Examples:
  edgenet account create alice
  edgenet account list
  edgenet account key create alice
  edgenet account key list alice
  edgenet account key delete AKIEXXXXXXXXXXXXXXXX
  edgenet account delete alice
  AWS_ACCESS_KEY_ID=AKIE... AWS_SECRET_ACCESS_KEY=... aws ec2 describe-security-groups --endpoint-url http://127.0.0.1:8788/ --region edgenet`,
    );

  one(
    account
      .command('create')
      .description('create an account, its "default" security group and its first access key (the secret is shown only this once)')
      .argument('<name>', "1-63 of a-z, 0-9 and '-', not starting or ending with '-', not 12 digits"),
  ).action(async (name: string, opts: Opts) => {
    const r = await api(opts).request<CreatedAccount>('POST', '/v1/accounts', { name });
    if (opts.json) return printJson(ctx, r);
    ctx.out(`ACCOUNT\t${r.account.id}\t${r.account.name}\t${r.defaultGroupId}`);
    printKey(r.accessKey);
  });

  many(account.command('list').description('list accounts with what each owns and its number of access keys')).action(async (opts: Opts) => {
    const format = outputFormat(opts);
    const { accounts } = await api(opts).request<{ accounts: AccountView[] }>('GET', '/v1/accounts');
    printList(ctx, format, {
      json: accounts,
      header: ['ACCOUNT', 'NAME', 'GROUPS', 'INSTANCES', 'ADDRESSES', 'KEYS', 'CREATED'],
      rows: accounts.map((a) => [a.id, a.name, String(a.groups), String(a.instances), String(a.addresses), String(a.accessKeys), a.admin ? '(admin)' : a.createdAt]),
      empty: 'no accounts',
    });
  });

  one(account.command('show').description('one account (id or name): what it owns and its access keys (never their secrets)').argument('<account>')).action(
    async (ref: string, opts: Opts) => {
      const a = await api(opts).request<AccountView & { keys: AccessKeyView[] }>('GET', `/v1/accounts/${enc(ref)}`);
      if (opts.json) return printJson(ctx, a);
      ctx.out(`ACCOUNT\t${a.id}\t${a.name}${a.admin ? '\tadmin' : ''}`);
      ctx.out(`owns ${a.groups} security group(s), ${a.instances} instance(s), ${a.addresses} public address(es)`);
      for (const k of a.keys) ctx.out(keyLine(k));
      if (a.keys.length === 0) ctx.out('no access keys (edgenet account key create ' + a.name + ')');
    },
  );

  one(
    account
      .command('delete')
      .description('delete an account and its access keys (and its default group); refused for the admin account and while it owns a group, an address or an instance')
      .argument('<account>', 'id or name'),
  ).action(async (ref: string, opts: Opts) => {
    const r = await api(opts).request<DeletedAccount>('DELETE', `/v1/accounts/${enc(ref)}`);
    if (opts.json) return printJson(ctx, r);
    ctx.out(`deleted account ${r.deleted.id} (${r.deleted.name}) with ${r.accessKeysDeleted} access key(s)${r.defaultGroupDeleted ? ` and its default group ${r.defaultGroupDeleted}` : ''}`);
  });

  // ---- access keys
  const key = account.command('key').description("an account's EC2 access keys (at most 2 per account)");
  one(key.command('create').description('create an access key for an account (the secret is shown only this once)').argument('<account>', 'id or name')).action(
    async (ref: string, opts: Opts) => {
      const k = await api(opts).request<NewAccessKey>('POST', `/v1/accounts/${enc(ref)}/keys`);
      if (opts.json) return printJson(ctx, k);
      printKey(k);
    },
  );
  many(key.command('list').description("list access keys (every account's, or one account's); status unavailable: sealed under another credentials key").argument('[account]', 'id or name')).action(
    async (ref: string | undefined, opts: Opts) => {
      const format = outputFormat(opts);
      const path = ref === undefined ? '/v1/keys' : `/v1/accounts/${enc(ref)}/keys`;
      const { keys } = await api(opts).request<{ keys: AccessKeyView[] }>('GET', path);
      printList(ctx, format, {
        json: keys,
        header: ['ACCESS KEY ID', 'ACCOUNT', 'NAME', 'STATUS', 'CREATED', 'LAST USED'],
        rows: keys.map((k) => [k.accessKeyId, k.accountId, k.accountName, k.status, k.createdAt, k.lastUsedAt ?? '-']),
        empty: 'no access keys',
      });
    },
  );
  one(key.command('delete').description('delete an access key: requests signed with it fail from now on').argument('<accessKeyId>')).action(async (id: string, opts: Opts) => {
    const r = await api(opts).request<{ deleted: AccessKeyView }>('DELETE', `/v1/keys/${enc(id)}`);
    if (opts.json) return printJson(ctx, r);
    ctx.out(`deleted access key ${r.deleted.accessKeyId} of account ${r.deleted.accountId} (${r.deleted.accountName})`);
  });
}

function keyLine(k: AccessKeyView): string {
  return `KEY\t${k.accessKeyId}\t${k.status}\tcreated ${k.createdAt}\tlast used ${k.lastUsedAt ?? 'never'}`;
}
