import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

// Runs the real cairn binary against a real kube-apiserver for the tests of
// the Backstage packages. The cluster is internal/testenv/kubetest/devcluster:
// envtest, plus a stand-in for Crossplane and Argo CD (which cannot run
// without nodes) that marks claims Ready and Applications Synced.

/** The Go repository that holds backstage-plugin/. */
export const repoRoot = resolve(
  resolvePackagePath('@cairn-dev/cairn-e2e'),
  '../../..',
);

/** Where tests leave files for a person to look at (git-ignored). */
export const artifactsDir = resolve(
  repoRoot,
  'backstage-plugin/test-artifacts',
);

/** The static tokens the test Cairn accepts, as docs/security.md configures them. */
export const tokens = {
  admin: 'e2e-admin-6f1c',
  // What the cards' rendering test's proxy sends, and what seeds its data.
  proxy: 'e2e-backstage-proxy-2b7d',
  scaffolder: 'e2e-backstage-scaffolder-81e4',
  // deploy/backstage/app-config.cairn.yaml's cairn.token.
  readOnly: 'e2e-backstage-readonly-5a90',
} as const;

export const team = 'team-orders';

/**
 * A binary: the path in the environment variable if set (`make test-plugin`
 * sets them), else built from the repository into a temporary folder.
 */
function binary(envVar: string, pkg: string, dir: string): string {
  const given = process.env[envVar];
  if (given) {
    return given;
  }
  const out = join(dir, pkg.split('/').pop()!);
  execFileSync('go', ['build', '-o', out, pkg], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  return out;
}

/**
 * A loopback port nothing listens on now. It is picked below Linux's
 * ephemeral range (32768-60999), from which the kernel takes the local port
 * of every outgoing connection: one of those could take a port from that
 * range between the pick and the server's listen.
 */
export async function freePort(): Promise<number> {
  const listens = (port: number) =>
    new Promise<boolean>(resolveListen => {
      const server = createServer();
      server.once('error', () => resolveListen(false));
      server.listen(port, '127.0.0.1', () =>
        server.close(() => resolveListen(true)),
      );
    });
  for (let i = 0; i < 100; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await listens(port)) {
      return port;
    }
  }
  throw new Error('no free port in 20000-32000 after 100 tries');
}

/** A child process whose output is kept, to explain a failure. */
class Process {
  private output = '';
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', d => (this.output += d));
    child.stderr?.on('data', d => (this.output += d));
    this.exited = new Promise(done => child.once('exit', () => done()));
  }

  log(): string {
    return this.output.slice(-8000);
  }

  async waitFor(
    what: string,
    ready: () => Promise<boolean> | boolean,
    timeoutMs: number,
  ) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(
          `${this.name} exited (${this.child.exitCode}) before ${what}:\n${this.log()}`,
        );
      }
      if (await ready()) {
        return;
      }
      await new Promise(r => setTimeout(r, 100));
    }
    throw new Error(
      `${this.name}: no ${what} within ${timeoutMs / 1000} s:\n${this.log()}`,
    );
  }

  /** SIGTERM, as an operator or Kubernetes stops it, and wait for the exit. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }
}

export type Cairn = {
  /** Cairn's REST base URL. */
  url: string;
  /** A REST call to Cairn as a token's holder; the parsed JSON body. */
  call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }>;
  /** Imports a FinOps FOCUS CSV file, as an admin. */
  importFocus(source: string, csv: string): Promise<void>;
  log(): string;
  stop(): Promise<void>;
};

export type StartCairnOptions = {
  /**
   * A Backstage backend whose user tokens Cairn trusts, configured by
   * deploy/backstage/cairn-auth.yaml.
   */
  backstageUrl?: string;
  /** More sections of Cairn's configuration file, such as slack. */
  config?: object;
};

/**
 * Starts the cluster and Cairn with the tokens above; stop() stops both.
 * Needs Go, and KUBEBUILDER_ASSETS or the repository's .cache/kube.
 */
export async function startCairn(
  options: StartCairnOptions = {},
): Promise<Cairn> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-e2e-'));
  const processes: Process[] = [];
  const stop = async () => {
    for (const p of processes.reverse()) {
      await p.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = await startProcesses(dir, processes, options);
    return cairnAt(
      url,
      () => processes.map(p => `--- ${p.name} ---\n${p.log()}`).join('\n'),
      stop,
    );
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Starts devcluster, then Cairn on it, adding each to processes; Cairn's URL. */
async function startProcesses(
  dir: string,
  processes: Process[],
  options: StartCairnOptions,
): Promise<string> {
  const devclusterBin = binary(
    'DEVCLUSTER_BIN',
    './internal/testenv/kubetest/devcluster',
    dir,
  );
  const cairnBin = binary('CAIRN_BIN', './cmd/cairn', dir);

  const kubeconfig = join(dir, 'kubeconfig');
  const cluster = new Process(
    'devcluster',
    spawn(
      devclusterBin,
      ['-kubeconfig', kubeconfig, '-namespace', team, '-ready-after', '1s'],
      {
        cwd: repoRoot, // kubetest finds deploy/crds from the repository's root
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  processes.push(cluster);
  await cluster.waitFor(
    'serving line',
    () => cluster.log().includes('devcluster: serving'),
    120_000,
  );

  const config = join(dir, 'cairn.yaml');
  writeFileSync(config, stringifyYaml(cairnConfig(options)));
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  const cairn = new Process(
    'cairn',
    spawn(
      cairnBin,
      [
        'serve',
        '--config',
        config,
        '--http-addr',
        `127.0.0.1:${httpPort}`,
        '--grpc-addr',
        `127.0.0.1:${grpcPort}`,
        '--store',
        `sqlite:${join(dir, 'cairn.db')}`,
        '--kubeconfig',
        kubeconfig,
        '--shutdown-timeout',
        '5s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  processes.push(cairn);
  await cairn.waitFor(
    'readiness',
    () =>
      fetch(`${url}/readyz`).then(
        r => r.ok,
        () => false,
      ),
    60_000,
  );
  return url;
}

/** The Cairn at url, as the tests call it. */
function cairnAt(
  url: string,
  log: () => string,
  stop: () => Promise<void>,
): Cairn {
  const call: Cairn['call'] = async (token, method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? JSON.parse(text) : undefined,
    };
  };
  return {
    url,
    call,
    async importFocus(source, csv) {
      const response = await fetch(
        `${url}/v1/costs:importFocus?source=${source}`,
        {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${tokens.admin}`,
            'Content-Type': 'text/csv',
          },
          body: csv,
        },
      );
      if (!response.ok) {
        throw new Error(
          `FOCUS import: HTTP ${response.status}: ${await response.text()}`,
        );
      }
    },
    log,
    stop,
  };
}

const sha256 = (token: string) =>
  createHash('sha256').update(token).digest('hex');

/**
 * Cairn's configuration: deploy/backstage/cairn-auth.yaml when Cairn trusts
 * a Backstage backend, and the tests' static tokens.
 */
function cairnConfig(options: StartCairnOptions): any {
  const config = options.backstageUrl
    ? deployFile('cairn-auth.yaml', {
        BACKSTAGE_URL: options.backstageUrl,
        CAIRN_READONLY_TOKEN_SHA256: sha256(tokens.readOnly),
      })
    : {
        auth: {
          mode: 'required',
          tokens: [
            {
              name: 'backstage-readonly',
              sha256: sha256(tokens.readOnly),
              roles: ['viewer'],
            },
          ],
        },
      };
  config.auth.tokens.push(
    { name: 'e2e-admin', sha256: sha256(tokens.admin), roles: ['admin'] },
    {
      name: 'backstage-proxy',
      sha256: sha256(tokens.proxy),
      roles: ['viewer'],
    },
    {
      name: 'backstage-scaffolder',
      sha256: sha256(tokens.scaffolder),
      roles: ['developer'],
      teams: [team],
    },
  );
  return { ...options.config, ...config };
}

/**
 * A file of deploy/backstage, the snippets docs/backstage.md tells adopters to
 * add, with its variables substituted as Backstage's config loader does.
 */
export function deployFile(name: string, vars: Record<string, string>): any {
  const text = readFileSync(join(repoRoot, 'deploy/backstage', name), 'utf8');
  return parseYaml(
    text.replace(/\$\{(\w+)\}/g, (_, variable: string) => {
      if (!(variable in vars)) {
        throw new Error(
          `${name} uses \${${variable}}, which the test does not set`,
        );
      }
      return vars[variable];
    }),
  );
}

/** deploy/backstage/app-config.cairn.yaml, pointing at the test Cairn. */
export function appConfig(cairn: Cairn): any {
  return deployFile('app-config.cairn.yaml', {
    CAIRN_URL: cairn.url,
    CAIRN_READONLY_TOKEN: tokens.readOnly,
  });
}

/** A month as FOCUS and Cairn write it, `YYYY-MM`, some months from now (UTC). */
export function month(offset: number): string {
  const now = new Date();
  const d = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1),
  );
  return d.toISOString().slice(0, 7);
}

/**
 * A FOCUS CSV file of one charge per row, each for the service tagged
 * app.kubernetes.io/name, Cairn's default mapping tag.
 */
export function focusFile(
  rows: Array<{
    month: string;
    service: string;
    resourceId: string;
    category: string;
    cost: string;
  }>,
): string {
  const header =
    'BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory,Tags';
  const lines = rows.map(r =>
    [
      r.cost,
      r.cost,
      r.cost,
      'USD',
      `${r.month}-01T00:00:00Z`,
      `${r.month}-02T00:00:00Z`,
      'Usage',
      r.resourceId,
      'Amazon RDS',
      r.category,
      `"{""app.kubernetes.io/name"":""${r.service}""}"`,
    ].join(','),
  );
  return [header, ...lines, ''].join('\n');
}

/**
 * orders-service as the browser tests show it: created as the scaffolder
 * creates it, billed 100 USD last month and 120 this month, and deployed to
 * production four times, once failed (a change failure rate of 25%).
 */
export async function recordOrdersService(cairn: Cairn, requestId: string) {
  const created = await cairn.call(tokens.scaffolder, 'POST', '/v1/services', {
    name: 'orders-service',
    owner: `group:default/${team}`,
    template: 'node-microservice',
    database: 'postgresql',
    databaseSize: 'small',
    bucket: true,
    environments: ['staging', 'production'],
    repositoryUrl: 'https://github.com/company/orders-service.git',
    requestId,
  });
  expect([created.status, created.body]).toEqual([200, expect.anything()]);

  await cairn.importFocus(
    'aws-cur',
    focusFile([
      {
        month: month(-1),
        service: 'orders-service',
        resourceId: 'arn:aws:rds:orders-db',
        category: 'Databases',
        cost: '100.00',
      },
      {
        month: month(0),
        service: 'orders-service',
        resourceId: 'arn:aws:rds:orders-db',
        category: 'Databases',
        cost: '120.00',
      },
    ]),
  );

  // Four production deployments over the last days, one failed: a change
  // failure rate of 25%.
  const day = 24 * 3600 * 1000;
  for (const [i, status] of [
    'succeeded',
    'succeeded',
    'failed',
    'succeeded',
  ].entries()) {
    const finished = new Date(Date.now() - (4 - i) * day);
    const recorded = await cairn.call(
      tokens.scaffolder,
      'POST',
      '/v1/deployments',
      {
        service: 'orders-service',
        environment: 'production',
        revision: `v1.${i}.0`,
        status,
        startedAt: new Date(finished.getTime() - 10 * 60 * 1000).toISOString(),
        finishedAt: finished.toISOString(),
        commits: [
          {
            sha: `c0mm17${i}`,
            committedAt: new Date(
              finished.getTime() - 3 * 3600 * 1000,
            ).toISOString(),
          },
        ],
      },
    );
    expect([recorded.status, recorded.body]).toEqual([200, expect.anything()]);
  }
}
