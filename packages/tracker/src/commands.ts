// CLI commands of the tracker: `ocrops tracker serve | keys create | keys list | sync`.
import { resolve } from 'node:path';
import { OcropsError, parseCommand, type CommandSpec, type CommandTable } from '@ocrops/common';
import { resolveClientConfig, defaultSpoolDir, localDefaultKey } from './client/config.js';
import { syncSpool } from './client/spool.js';
import { createApiKey, listApiKeys, NAME_PATTERN, revokeApiKeys } from './server/keys.js';
import { defaultDataDir, openDatabase, startServer } from './server/server.js';
import type { OptimizerAlgorithm } from './types.js';

const storeOptions = {
  'data-dir': { type: 'string' as const },
  'database-url': { type: 'string' as const },
};
const storeHelp = {
  'data-dir': 'server data folder (SQLite database, local assets, default-key); default .ocrops/tracker',
  'database-url':
    'postgres://user:pass@host:port/db to use PostgreSQL instead of SQLite (env OCROPS_TRACKER_DATABASE_URL)',
};

function intOption(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new OcropsError('OCROPS_USAGE', `--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

const serveSpec: CommandSpec = {
  usage: 'ocrops tracker serve [options]',
  description:
    'Runs the tracking server (Comet REST v2 subset, dashboard API, optimizer resource). On first start it creates the ' +
    'workspace "default" and writes its API key to <data-dir>/default-key.',
  options: {
    port: { type: 'string', default: '5959' },
    host: { type: 'string', default: '127.0.0.1' },
    ...storeOptions,
    's3-url': { type: 'string' },
    's3-endpoint': { type: 'string' },
    'open-read': { type: 'boolean' },
    'body-limit-mb': { type: 'string' },
    'max-asset-mb': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'trial-lease-minutes': { type: 'string' },
    'static-dir': { type: 'string' },
    'allowed-hosts': { type: 'string' },
    'cors-origins': { type: 'string' },
    'body-timeout-s': { type: 'string' },
    log: { type: 'boolean' },
  },
  help: {
    port: 'TCP port (0 = any free port)',
    host: 'bind address',
    ...storeHelp,
    's3-url': 'store assets in S3: s3://bucket/prefix (default: <data-dir>/assets)',
    's3-endpoint':
      'S3 endpoint for --s3-url (default http://127.0.0.1:8333, the local SeaweedFS); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    'open-read': 'allow GET requests from loopback without an API key (read-only; for a local dashboard)',
    'body-limit-mb': 'largest JSON body (default 16); larger requests get 413',
    'max-asset-mb': 'largest asset upload, enforced while it streams (default 2048)',
    'allowed-hosts':
      'comma-separated names the Host header may carry besides the bound address and localhost (a proxy or DNS name; * = any)',
    'cors-origins':
      'comma-separated origins (http://host:port) allowed to call the API from a browser; none by default',
    'body-timeout-s': 'time a client gets to send a whole request body, uploads included (default 1800)',
    'heartbeat-ms': 'heartbeat interval asked of clients (default 10000)',
    'trial-lease-minutes': 'a running sweep trial without an update for this long is handed out again (default 360)',
    'static-dir': 'dashboard build to serve at / (default packages/dashboard/web-dist)',
    log: 'log every request',
  },
  examples: ['ocrops tracker serve', 'ocrops tracker serve --port 0 --data-dir /tmp/tracker --open-read'],
};

const keysSpec: CommandSpec = {
  usage: 'ocrops tracker keys create|list|revoke [--workspace NAME] [options]',
  description:
    'Creates an API key for a workspace (printed once; the server stores only its hash), lists key prefixes, or revokes ' +
    'a key (a running server stops accepting it within 5 s).',
  allowPositionals: true,
  options: {
    workspace: { type: 'string' },
    label: { type: 'string' },
    prefix: { type: 'string' },
    key: { type: 'string' },
    ...storeOptions,
  },
  help: {
    workspace: 'workspace name (create: default "default"; revoke: only keys of this workspace)',
    label: 'a note stored with the key',
    prefix: 'revoke: the key prefix shown by `keys list`',
    key: 'revoke: the whole key',
    ...storeHelp,
  },
  examples: [
    'ocrops tracker keys create --workspace default',
    'ocrops tracker keys list',
    'ocrops tracker keys revoke --prefix Ab3xY_',
  ],
};

const syncSpec: CommandSpec = {
  usage: 'ocrops tracker sync [options]',
  description:
    'Delivers spooled values (runs logged offline or while the server was unreachable) to the tracking server. Every value ' +
    'carries an id, so running sync twice, or after a partial delivery, stores nothing twice.',
  options: {
    'spool-dir': { type: 'string' },
    url: { type: 'string' },
    'api-key': { type: 'string' },
    experiment: { type: 'string', multiple: true },
  },
  help: {
    'spool-dir': 'spool folder (default OCROPS_TRACKER_SPOOL or .ocrops/spool)',
    url: 'server URL (default: the URL each value was logged for)',
    'api-key': 'API key (default COMET_API_KEY, then .ocrops/tracker/default-key)',
    experiment: 'only this experiment key (repeatable)',
  },
  examples: ['ocrops tracker sync', 'ocrops tracker sync --url http://127.0.0.1:5959'],
};

/** parseCommand with the option values typed loosely (the specs above define them). */
function parse(spec: CommandSpec, argv: string[]): { values: Record<string, any>; positionals: string[] } {
  const r = parseCommand(spec, argv);
  return { values: r.values as Record<string, any>, positionals: r.positionals };
}

/** A comma-separated option as a list (undefined when absent). */
function listOption(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
}

function databaseUrl(v: string | undefined): string | undefined {
  return v ?? process.env.OCROPS_TRACKER_DATABASE_URL;
}

/** The tracker's command table; the optimizer algorithm (from @ocrops/sweep) is injected by the CLI. */
export function makeTrackerCommands(opts: { optimizer?: OptimizerAlgorithm } = {}): CommandTable {
  return {
    serve: {
      summary: 'run the tracking server (default http://127.0.0.1:5959)',
      async run(argv) {
        const v = parse(serveSpec, argv).values;
        const dataDir = resolve((v['data-dir'] as string | undefined) ?? defaultDataDir());
        const mb = (s: string | undefined, name: string) => {
          const n = intOption(s, name, 1);
          return n === undefined ? undefined : n * 1024 * 1024;
        };
        const server = await startServer({
          port: intOption(v.port as string, 'port', 0)!,
          host: v.host as string,
          dataDir,
          databaseUrl: databaseUrl(v['database-url'] as string | undefined),
          s3: v['s3-url']
            ? { url: v['s3-url'] as string, endpoint: v['s3-endpoint'] as string | undefined }
            : undefined,
          openRead: !!v['open-read'],
          bodyLimit: mb(v['body-limit-mb'] as string | undefined, 'body-limit-mb'),
          maxAssetBytes: mb(v['max-asset-mb'] as string | undefined, 'max-asset-mb'),
          heartbeatMillis: intOption(v['heartbeat-ms'] as string | undefined, 'heartbeat-ms', 100),
          trialLeaseMillis:
            (intOption(v['trial-lease-minutes'] as string | undefined, 'trial-lease-minutes', 1) ?? 360) * 60_000,
          staticDir: v['static-dir'] as string | undefined,
          allowedHosts: listOption(v['allowed-hosts'] as string | undefined),
          corsOrigins: listOption(v['cors-origins'] as string | undefined),
          bodyTimeoutMillis: (intOption(v['body-timeout-s'] as string | undefined, 'body-timeout-s', 1) ?? 1800) * 1000,
          optimizer: opts.optimizer,
          logger: !!v.log,
        });
        console.log(
          `ocrops tracker listening on ${server.url} (data ${dataDir}${v['database-url'] ? ', PostgreSQL' : ''})`,
        );
        console.log(`API key of workspace "default": ${dataDir}/default-key`);
        if (!opts.optimizer) console.log('note: no optimizer algorithm wired in: /optimizer/* answers 501');
        await new Promise<void>((done) => {
          const stop = () => void server.close().finally(done);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    },
    keys: {
      summary: 'create or list API keys (keys create --workspace NAME | keys list)',
      async run(argv) {
        const { values: v, positionals } = parse(keysSpec, argv);
        const action = positionals[0];
        if (action !== 'create' && action !== 'list' && action !== 'revoke')
          throw new OcropsError(
            'OCROPS_USAGE',
            `expected "keys create", "keys list" or "keys revoke", got "${positionals.join(' ')}"`,
          );
        if (action === 'revoke' && !v.prefix && !v.key)
          throw new OcropsError('OCROPS_USAGE', 'keys revoke needs --prefix PREFIX (from `keys list`) or --key KEY');
        const workspace = v.workspace as string | undefined;
        if (workspace !== undefined && !new RegExp(NAME_PATTERN).test(workspace))
          throw new OcropsError(
            'OCROPS_USAGE',
            `--workspace "${workspace}": use letters, digits, ".", "_" and "-" (max 100)`,
          );
        const db = await openDatabase(
          resolve((v['data-dir'] as string | undefined) ?? defaultDataDir()),
          databaseUrl(v['database-url'] as string | undefined),
        );
        try {
          if (action === 'create') {
            console.log(await createApiKey(db, workspace ?? 'default', v.label as string | undefined));
          } else if (action === 'revoke') {
            let n: number;
            try {
              n = await revokeApiKeys(db, {
                key: v.key as string | undefined,
                prefix: v.prefix as string | undefined,
                workspace,
              });
            } catch (err) {
              throw new OcropsError('OCROPS_USAGE', (err as Error).message);
            }
            if (!n)
              throw new OcropsError(
                'OCROPS_TRACKER_KEY',
                `no API key matches ${v.key ? 'the given key' : `prefix ${v.prefix}`}`,
                { hint: 'see `ocrops tracker keys list`' },
              );
            console.log(`revoked ${n} key(s)`);
          } else {
            for (const k of await listApiKeys(db, workspace))
              console.log(`${k.workspace}\t${k.prefix}…\t${new Date(k.createdAt).toISOString()}\t${k.label ?? ''}`);
          }
        } finally {
          await db.close();
        }
      },
    },
    sync: {
      summary: 'deliver spooled (offline/unreachable) values to the server, each exactly once',
      async run(argv) {
        const v = parse(syncSpec, argv).values;
        const cfg = resolveClientConfig({
          url: v.url as string | undefined,
          apiKey: v['api-key'] as string | undefined,
        });
        const spoolDir = resolve((v['spool-dir'] as string | undefined) ?? defaultSpoolDir());
        const r = await syncSpool({
          spoolDir,
          url: (v.url as string | undefined) ?? process.env.COMET_URL_OVERRIDE,
          apiKey: cfg.apiKey ?? localDefaultKey(),
          experimentKeys: v.experiment as string[] | undefined,
          log: (l) => console.error(l),
        });
        console.log(
          `synced ${r.experiments} experiment(s): ${r.delivered} request(s) delivered, ${r.rejected} rejected as invalid, ` +
            `${r.pending.length} pending, ${r.refused.length} refused`,
        );
        for (const d of r.deadLetters) console.log(`rejected records kept in ${d}`);
        if (r.refused.length) {
          const statuses = [...new Set(r.refused.map((x) => x.status))].join('/');
          throw new OcropsError(
            'OCROPS_TRACKER_REFUSED',
            `the server refused ${r.refused.length} experiment(s) (HTTP ${statuses}: ${r.refused[0].message}); nothing was removed from ${spoolDir}`,
            {
              hint:
                'check the API key (--api-key or COMET_API_KEY; `ocrops tracker keys list` on the server), its workspace ' +
                '(COMET_WORKSPACE) and --url, then run `ocrops tracker sync` again',
            },
          );
        }
        if (r.pending.length)
          throw new OcropsError(
            'OCROPS_TRACKER_UNREACHABLE',
            `could not deliver ${r.pending.length} experiment(s); they stay in ${spoolDir}`,
            {
              hint: 'start the server (npx nx run tracker:serve) and run `ocrops tracker sync` again',
            },
          );
      },
    },
  };
}

/** The command table without an optimizer algorithm (the CLI wires one with `makeTrackerCommands`). */
export const commands: CommandTable = makeTrackerCommands();
