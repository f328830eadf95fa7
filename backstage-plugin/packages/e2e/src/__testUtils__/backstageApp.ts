import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { Cairn, freePort, repoRoot, startCairn, team, tokens } from './harness';

// The real Backstage app of backstage-plugin/app, with Cairn's packages
// installed from their packed tarballs, for the app tests. Each step
// is skipped when its inputs are what they were the last time (a content
// hash in a stamp file), so a second run only starts processes.
//
// The app is installed into a working copy, .cache/backstage-app (git-
// ignored): yarn writes a hash of each file: tarball into yarn.lock, and the
// tarballs change with the packages' sources, so installing in
// backstage-plugin/app would dirty its committed yarn.lock on every run (see
// backstage-plugin/app/README.md). The copy keeps its node_modules, so an
// install after a change to Cairn's packages fetches only those.

const appSource = join(repoRoot, 'backstage-plugin/app');
/** The working copy the app is installed, built and run in. */
export const appDir = join(repoRoot, '.cache/backstage-app');
const toolchainDir = join(repoRoot, '.cache/backstage-toolchain');
const workspaceDir = join(repoRoot, 'backstage-plugin');
const packagesDir = join(appDir, 'cairn-packages');

/** Seconds each step took, by step. */
export type Timings = Record<string, number>;

async function timed<T>(
  timings: Timings,
  step: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    timings[step] = (Date.now() - start) / 1000;
  }
}

/** The files below dir, relative to it, skipping the folders named in skip. */
function files(dir: string, skip: string[], base = dir): string[] {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return skip.includes(entry.name) ? [] : files(path, skip, base);
    }
    return entry.isFile() ? [relative(base, path)] : [];
  });
}

/** A hash of the contents of paths (files, or folders less skipped ones). */
function hashInputs(paths: string[], skip: string[]): string {
  const hash = createHash('sha256');
  for (const path of paths) {
    const list = statSync(path, { throwIfNoEntry: false })?.isDirectory()
      ? files(path, skip)
          .sort()
          .map(f => join(path, f))
      : [path];
    for (const file of list) {
      hash.update(`${relative(repoRoot, file)}\0`);
      hash.update(existsSync(file) ? readFileSync(file) : 'absent');
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}

/** Runs step unless stamp holds inputs; then writes it. Whether it ran. */
async function unlessUnchanged(
  stamp: string,
  inputs: string,
  step: () => void | Promise<void>,
): Promise<boolean> {
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === inputs) {
    return false;
  }
  rmSync(stamp, { force: true });
  await step();
  mkdirSync(join(stamp, '..'), { recursive: true });
  writeFileSync(stamp, inputs);
  return true;
}

function run(
  cmd: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): string {
  try {
    return execFileSync(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e: any) {
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${options.cwd}) failed:\n${String(
        e.stdout ?? '',
      ).slice(-6000)}\n${String(e.stderr ?? '').slice(-6000)}`,
    );
  }
}

/** The environment that runs the app's tools: Node 22 and yarn 4 first. */
function appEnv(bin: string): NodeJS.ProcessEnv {
  // Not jest's NODE_ENV=test: browserslist picks its query by NODE_ENV, and
  // backstage-cli sets the one each command needs.
  const { NODE_ENV: _, ...env } = process.env;
  return {
    ...env,
    PATH: `${bin}:${process.env.PATH}`,
    // yarn uses the registry npm is configured for.
    YARN_NPM_REGISTRY_SERVER: run('npm', ['config', 'get', 'registry'], {
      cwd: repoRoot,
    }).trim(),
    YARN_ENABLE_PROGRESS_BARS: 'false',
  };
}

/**
 * Copies backstage-plugin/app into the working copy, leaving the copy's
 * installed and built folders alone, and deleting what the source no
 * longer has. Files whose contents are unchanged are not written.
 */
function syncApp() {
  const skip = [
    'node_modules',
    'dist',
    'dist-types',
    'cairn-packages',
    '.yarn',
  ];
  const wanted = new Set(files(appSource, skip));
  // yarn.lock only when the committed one changed: the copy's differs from
  // it by the tarballs' hashes, which its last install wrote, and putting
  // the committed one back would make the next install and build redo them.
  wanted.delete('yarn.lock');
  const lockStamp = join(appDir, 'node_modules/.cairn-lock-source');
  const lock = hashInputs([join(appSource, 'yarn.lock')], []);
  if (
    !existsSync(join(appDir, 'yarn.lock')) ||
    !existsSync(lockStamp) ||
    readFileSync(lockStamp, 'utf8') !== lock
  ) {
    copyFileSync(join(appSource, 'yarn.lock'), join(appDir, 'yarn.lock'));
    mkdirSync(join(lockStamp, '..'), { recursive: true });
    writeFileSync(lockStamp, lock);
  }
  for (const file of wanted) {
    const from = join(appSource, file);
    const to = join(appDir, file);
    const same = existsSync(to) && readFileSync(to).equals(readFileSync(from));
    if (!same) {
      mkdirSync(join(to, '..'), { recursive: true });
      copyFileSync(from, to);
    }
  }
  for (const file of files(appDir, skip)) {
    if (!wanted.has(file) && file !== 'yarn.lock') {
      rmSync(join(appDir, file));
    }
  }
}

export type PreparedApp = { bin: string; timings: Timings };

/**
 * The app's frontend packages: packages/app (new frontend system) and
 * packages/app-legacy (legacy system). The backend serves the one config
 * `app.packageName` names, `app` unless told.
 */
export type Frontend = 'app' | 'app-legacy';

/**
 * Makes the app ready to start: the toolchain, Cairn's packed packages, the
 * working copy, its install and the build of the frontend to serve. Timings
 * in seconds, with `<step> (skipped)` for the steps whose inputs had not
 * changed.
 */
export async function prepareBackstageApp(
  frontend: Frontend = 'app',
): Promise<PreparedApp> {
  const timings: Timings = {};
  const bin = await timed(timings, 'toolchain', () =>
    run(join(repoRoot, 'tools/backstage/toolchain.sh'), [toolchainDir], {
      cwd: repoRoot,
    })
      .trim()
      .split('\n')
      .pop()!,
  );
  const env = appEnv(bin);
  const note = (step: string, ran: boolean) => {
    if (!ran) {
      timings[`${step} (skipped)`] = timings[step];
      delete timings[step];
    }
  };

  mkdirSync(appDir, { recursive: true });
  note(
    'pack',
    await timed(timings, 'pack', () =>
      unlessUnchanged(
        join(packagesDir, '.inputs'),
        hashInputs(
          [
            join(workspaceDir, 'plugins/cairn-common'),
            join(workspaceDir, 'plugins/cairn'),
            join(workspaceDir, 'plugins/scaffolder-backend-module-cairn'),
            join(workspaceDir, 'package-lock.json'),
            join(workspaceDir, 'tsconfig.json'),
            join(workspaceDir, 'scripts/pack.mjs'),
          ],
          ['node_modules', 'dist'],
        ),
        () => {
          // The workspace's own Node (20) and npm build and pack.
          run('node', ['scripts/pack.mjs', packagesDir], {
            cwd: workspaceDir,
          });
        },
      ),
    ),
  );

  await timed(timings, 'sync', syncApp);

  note(
    'yarn install',
    await timed(timings, 'yarn install', () =>
      unlessUnchanged(
        join(appDir, 'node_modules/.cairn-install-inputs'),
        hashInputs(
          [
            join(appDir, 'package.json'),
            join(appDir, '.yarnrc.yml'),
            join(appDir, 'packages/app/package.json'),
            join(appDir, 'packages/app-legacy/package.json'),
            join(appDir, 'packages/backend/package.json'),
            join(appSource, 'yarn.lock'),
            packagesDir,
          ],
          [],
        ),
        () => {
          // Not immutable: the tarballs' hashes in the copy's yarn.lock
          // change with Cairn's packages (CI=true would make it immutable).
          run('yarn', ['install', '--no-immutable'], { cwd: appDir, env });
        },
      ),
    ),
  );

  // Each frontend keeps its own stamp, so building one leaves the other's
  // build standing.
  const build = frontend === 'app' ? 'frontend build' : `${frontend} build`;
  note(
    build,
    await timed(timings, build, () =>
      unlessUnchanged(
        join(appDir, 'packages', frontend, 'dist/.cairn-build-inputs'),
        hashInputs(
          [
            join(appDir, 'packages', frontend),
            join(appDir, 'app-config.yaml'),
            join(appSource, 'yarn.lock'),
            // Cairn's plugin as installed.
            packagesDir,
          ],
          ['node_modules', 'dist'],
        ),
        () => {
          run('yarn', ['workspace', frontend, 'build'], { cwd: appDir, env });
        },
      ),
    ),
  );
  return { bin, timings };
}

/** A child process in a process group of its own, whose output is kept. */
class Child {
  private output = '';
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', d => (this.output += d));
    child.stderr?.on('data', d => (this.output += d));
    this.exited = new Promise(done => child.once('exit', () => done()));
  }

  log(): string {
    return this.output.slice(-12000);
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM to its group (backstage-cli runs the backend as a child), then SIGKILL. */
  async stop() {
    if (!this.running() || this.child.pid === undefined) {
      return;
    }
    const group = -this.child.pid;
    process.kill(group, 'SIGTERM');
    const killed = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>(r => setTimeout(() => r(true), 15_000)),
    ]);
    if (killed) {
      process.kill(group, 'SIGKILL');
      await this.exited;
    }
  }
}

export type Postgres = {
  host: string;
  port: number;
  user: string;
  stop(): Promise<void>;
};

/**
 * A throwaway PostgreSQL cluster from Debian's package on 127.0.0.1:
 * trusted connections as user postgres, no fsync. As root, initdb and the
 * server run as the postgres user, which PostgreSQL requires.
 */
export async function startPostgres(): Promise<Postgres> {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root)
    ? readdirSync(root)
        .filter(v => existsSync(join(root, v, 'bin/initdb')))
        .sort((a, b) => Number(a) - Number(b))
        .pop()
    : undefined;
  if (!version) {
    throw new Error(
      "no PostgreSQL server: install Debian's postgresql package (make test-deps does)",
    );
  }
  const bin = join(root, version, 'bin');
  const dir = mkdtempSync(join(tmpdir(), 'cairn-backstage-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(run('id', ['-u', 'postgres'], { cwd: dir }).trim());
    const gid = Number(run('id', ['-g', 'postgres'], { cwd: dir }).trim());
    chownSync(dir, uid, gid);
  }
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], {
          cwd: dir,
        })
      : run(join(bin, tool), args, { cwd: dir });
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    pg('initdb', [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    pg('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'postgres.log'),
      '-w',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start',
    ]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    async stop() {
      try {
        pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export type BackstageApp = {
  /** The backend's base URL, which also serves the app. */
  url: string;
  log(): string;
  stop(): Promise<void>;
};

export type StartBackstageAppOptions = {
  /** The prepared app (prepareBackstageApp). */
  prepared: PreparedApp;
  /** The port to listen on, chosen before so Cairn can be told its URL. */
  port: number;
  /** Cairn's REST base URL, for the proxy endpoint and the scaffolder actions. */
  cairnUrl: string;
  /** A catalog file the catalog reads (replacing the app's examples). */
  catalogFile: string;
  database: Postgres;
  /** More configuration, merged last. */
  config?: object;
};

/**
 * Starts the app's backend (backstage-cli package start) with
 * app-config.yaml, deploy/backstage/app-config.cairn.yaml and the test's own
 * configuration, and waits until its readiness check answers 200.
 */
export async function startBackstageApp(
  options: StartBackstageAppOptions,
): Promise<BackstageApp> {
  const url = `http://127.0.0.1:${options.port}`;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-backstage-'));
  const testConfig = join(dir, 'app-config.test.yaml');
  // JSON is YAML.
  writeFileSync(
    testConfig,
    JSON.stringify({
      app: { baseUrl: url },
      backend: {
        baseUrl: url,
        listen: { host: '127.0.0.1', port: options.port },
        cors: { origin: url },
        database: {
          client: 'pg',
          connection: {
            host: options.database.host,
            port: options.database.port,
            user: options.database.user,
          },
        },
      },
      catalog: {
        locations: [{ type: 'file', target: options.catalogFile }],
      },
    }),
  );
  const configs = [
    join(appDir, 'app-config.yaml'),
    join(repoRoot, 'deploy/backstage/app-config.cairn.yaml'),
    testConfig,
  ];
  if (options.config) {
    const extra = join(dir, 'app-config.extra.yaml');
    writeFileSync(extra, JSON.stringify(options.config));
    configs.push(extra);
  }
  const env = {
    ...appEnv(options.prepared.bin),
    // What app-config.cairn.yaml reads.
    CAIRN_URL: options.cairnUrl,
    CAIRN_READONLY_TOKEN: tokens.readOnly,
    // What app-config.yaml reads; the test's file sets the real values.
    POSTGRES_HOST: options.database.host,
    POSTGRES_PORT: String(options.database.port),
    POSTGRES_USER: options.database.user,
    // Trust authentication ignores it.
    POSTGRES_PASSWORD: 'unused',
  };
  const backend = new Child(
    'backstage backend',
    spawn(
      join(options.prepared.bin, 'node'),
      [
        join(appDir, 'node_modules/@backstage/cli/bin/backstage-cli'),
        'package',
        'start',
        ...configs.flatMap(c => ['--config', c]),
      ],
      {
        cwd: join(appDir, 'packages/backend'),
        env,
        detached: true, // its own process group, so stop() ends its children too
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  const stop = async () => {
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (!backend.running()) {
        throw new Error(
          `the backend exited before it was ready:\n${backend.log()}`,
        );
      }
      const ready = await fetch(`${url}/.backstage/health/v1/readiness`).then(
        r => r.ok,
        () => false,
      );
      if (ready) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the backend was not ready within 180 s:\n${backend.log()}`,
        );
      }
      await new Promise(r => setTimeout(r, 250));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, log: () => backend.log(), stop };
}

/** A guest's Backstage token, as the sign-in page gets it. */
export async function guestToken(app: BackstageApp): Promise<string> {
  const response = await fetch(`${app.url}/api/auth/guest/refresh`, {
    headers: { 'X-Requested-With': 'XMLHttpRequest' },
  });
  if (!response.ok) {
    throw new Error(`guest sign-in: HTTP ${response.status}`);
  }
  return (await response.json()).backstageIdentity.token;
}

/**
 * A Backstage token of a user of the catalog, signed in through the test
 * sign-in of backstage-plugin/app/packages/backend/src/testing.ts (the app
 * must be started with auth.providers.cairn-test-users configured).
 */
export async function testUserToken(
  app: BackstageApp,
  name: string,
): Promise<string> {
  const response = await fetch(`${app.url}/api/auth/cairn-test-users/refresh`, {
    headers: {
      'X-Requested-With': 'XMLHttpRequest',
      'X-Cairn-Test-User': name,
    },
  });
  if (!response.ok) {
    throw new Error(
      `sign-in as ${name}: HTTP ${response.status}: ${await response.text()}`,
    );
  }
  return (await response.json()).backstageIdentity.token;
}

/** Waits until the catalog serves the entity (it reads locations in the background). */
export async function waitForEntity(
  app: BackstageApp,
  token: string,
  ref: { kind: string; namespace?: string; name: string },
  timeoutMs = 120_000,
): Promise<any> {
  const path = `${app.url}/api/catalog/entities/by-name/${ref.kind}/${
    ref.namespace ?? 'default'
  }/${ref.name}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (response.ok) {
      return response.json();
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the catalog has no ${ref.kind}:${ref.name} after ${timeoutMs / 1000} s (HTTP ${response.status}):\n${app.log()}`,
      );
    }
    await new Promise(r => setTimeout(r, 500));
  }
}

export type AppWithCairn = {
  cairn: Cairn;
  app: BackstageApp;
  /** Seconds each step took, the prepare steps' included. */
  timings: Timings;
  /** Stops the backend, PostgreSQL and Cairn, in that order. */
  stop(): Promise<void>;
};

/**
 * Prepares the app and starts it for frontend with a throwaway PostgreSQL
 * and a Cairn that trusts its users' tokens: the backend's port is chosen
 * first, as Cairn trusts tokens naming its URL as their issuer and the
 * backend's proxy points at Cairn's.
 */
export async function startAppWithCairn(options: {
  frontend?: Frontend;
  catalogFile: string;
  config?: object;
  /** More of Cairn's configuration, given the app's URL. */
  cairnConfig?: (appUrl: string) => object;
}): Promise<AppWithCairn> {
  const frontend = options.frontend ?? 'app';
  const prepared = await prepareBackstageApp(frontend);
  const timings: Timings = { ...prepared.timings };
  const port = await freePort();
  let cairn: Cairn | undefined;
  let database: Postgres | undefined;
  let app: BackstageApp | undefined;
  const stop = async () => {
    await app?.stop();
    await database?.stop();
    await cairn?.stop();
  };
  try {
    [cairn, database] = await timed(timings, 'cairn and postgres start', () =>
      Promise.all([
        startCairn({
          backstageUrl: `http://127.0.0.1:${port}`,
          config: options.cairnConfig?.(`http://127.0.0.1:${port}`),
        }),
        startPostgres(),
      ]),
    );
    const started = { cairn, database };
    app = await timed(timings, 'backend start', () =>
      startBackstageApp({
        prepared,
        port,
        cairnUrl: started.cairn.url,
        catalogFile: options.catalogFile,
        database: started.database,
        config: {
          ...options.config,
          ...(frontend === 'app' ? {} : { app: { packageName: frontend } }),
        },
      }),
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { cairn, app, timings, stop };
}

/** A catalog file's text: the entities, one YAML document each. */
export function catalogYaml(entities: object[]): string {
  return entities.map(e => stringifyYaml(e)).join('---\n');
}

/** A User entity of namespace default, member of groups (also of default). */
export function userEntity(
  name: string,
  groups: readonly string[],
  annotations?: Record<string, string>,
): object {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { memberOf: groups },
  };
}

/** Group entities of type team, of namespace default. */
export function groupEntities(names: readonly string[]): object[] {
  return names.map(name => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name },
    spec: { type: 'team', children: [] },
  }));
}

/** A service Component owned by the tests' team that opts into Cairn's cards. */
export function serviceEntity(name: string): object {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, annotations: { 'cairn.dev/service': name } },
    spec: {
      type: 'service',
      lifecycle: 'production',
      owner: `group:default/${team}`,
    },
  };
}
