#!/usr/bin/env node
// Packs Cairn's three Backstage packages as a registry would serve them, and
// checks the packed manifests:
//
//   node scripts/pack.mjs OUTDIR [--no-build]   (npm run pack-packages -- OUTDIR)
//
// builds each package (backstage-cli package build, after the workspace's
// tsc for the type declarations), runs `npm pack` for it (whose prepack
// script, `backstage-cli package prepack`, rewrites the manifest from
// publishConfig and points `exports` at dist/), and writes OUTDIR/<name>.tgz
// with a name that does not carry the version (plugin-cairn.tgz), so that an
// app's `file:` dependencies on them stay the same across versions.
//
// Then every tarball is opened and its package.json checked: each file that
// main, module, types, typings, browser, an `exports` target, a
// `typesVersions` target or configSchema names must be in the tarball, and no
// dependency may be a workspace:, file:, link: or portal: link (an app
// installing from a registry cannot resolve those). It fails with the
// package and the field at fault.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const workspaceDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The packages that are published, in build order (common first). */
export const packageDirs = [
  'plugins/cairn-common',
  'plugins/cairn',
  'plugins/scaffolder-backend-module-cairn',
];

const PATH_FIELDS = ['main', 'module', 'types', 'typings', 'browser'];
const DEPENDENCY_FIELDS = [
  'dependencies',
  'peerDependencies',
  'optionalDependencies',
];
const LINK_PROTOCOLS = ['workspace:', 'file:', 'link:', 'portal:'];

/** A manifest's path as a tarball entry's path below package/. */
function normalize(path) {
  return posix.normalize(path.replace(/^\.\//, ''));
}

/** Whether files has path, where `*` in path stands for any run of characters. */
function hasFile(files, path) {
  const wanted = normalize(path);
  if (!wanted.includes('*')) {
    return files.has(wanted);
  }
  const pattern = new RegExp(
    `^${wanted
      .split('*')
      .map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return [...files].some(f => pattern.test(f));
}

/** Every string target of an exports map, with the path of keys to it. */
function exportTargets(value, at) {
  if (typeof value === 'string') {
    return [[at, value]];
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => exportTargets(v, `${at}[${i}]`));
  }
  if (value && typeof value === 'object') {
    return (
      Object.entries(value)
        // backstage-cli's prepack adds the default export's feature type
        // under this condition (`"backstage": "@backstage/FrontendPlugin"`):
        // metadata for Backstage's tooling, not a file.
        .filter(([k]) => k !== 'backstage')
        .flatMap(([k, v]) => exportTargets(v, `${at}[${JSON.stringify(k)}]`))
    );
  }
  return []; // null: a path deliberately not exported
}

/**
 * The problems of a packed manifest, given the paths in its tarball
 * (relative to the package's root): `field: reason` each, empty when none.
 */
export function checkManifest(pkg, files) {
  const problems = [];
  const missing = (field, path) => {
    if (!hasFile(files, path)) {
      problems.push(`${field}: ${path} is not in the tarball`);
    }
  };
  for (const field of PATH_FIELDS) {
    if (typeof pkg[field] === 'string') {
      missing(field, pkg[field]);
    }
  }
  if (pkg.exports !== undefined) {
    for (const [at, target] of exportTargets(pkg.exports, 'exports')) {
      missing(at, target);
    }
  }
  for (const [range, map] of Object.entries(pkg.typesVersions ?? {})) {
    for (const [name, targets] of Object.entries(map ?? {})) {
      for (const target of [targets].flat()) {
        missing(
          `typesVersions[${JSON.stringify(range)}][${JSON.stringify(name)}]`,
          target,
        );
      }
    }
  }
  // A string configSchema is a file (an object is the schema itself).
  if (typeof pkg.configSchema === 'string') {
    missing('configSchema', pkg.configSchema);
  }
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (LINK_PROTOCOLS.some(p => String(range).startsWith(p))) {
        problems.push(
          `${field}[${JSON.stringify(name)}]: ${range} is a link that only resolves in this repository`,
        );
      }
    }
  }
  return problems;
}

/** The files of a tarball made by npm pack, relative to package/. */
function tarballFiles(tarball) {
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  return new Set(
    listing
      .split('\n')
      .filter(l => l && !l.endsWith('/'))
      .map(l => normalize(l.replace(/^package\//, ''))),
  );
}

/** Checks a tarball; throws an error naming the package and each field at fault. */
export function checkTarball(tarball) {
  const files = tarballFiles(tarball);
  if (!files.has('package.json')) {
    throw new Error(`${basename(tarball)}: no package/package.json`);
  }
  const pkg = JSON.parse(
    execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], {
      encoding: 'utf8',
    }),
  );
  const problems = checkManifest(pkg, files);
  if (problems.length > 0) {
    throw new Error(
      `${pkg.name} (${basename(tarball)}): the packed manifest is broken:\n` +
        problems.map(p => `  ${p}`).join('\n'),
    );
  }
  return pkg;
}

function run(cmd, args, cwd = workspaceDir) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Builds the packages: the workspace's declarations, then each package. */
export function build() {
  run('npx', ['tsc']);
  for (const dir of packageDirs) {
    run('npx', ['backstage-cli', 'package', 'build'], join(workspaceDir, dir));
  }
}

/**
 * Copies a package's publishable files into a staging folder inside the
 * workspace's node_modules, so that prepack rewrites the copy's manifest
 * rather than the one in the work tree, which other commands (a commit,
 * an editor) may read meanwhile. Inside node_modules, the copy still finds
 * the workspace's backstage-cli and its root tsconfig.json.
 */
function stage(dir) {
  const from = join(workspaceDir, dir);
  const to = join(workspaceDir, 'node_modules/.cache/cairn-pack', dir);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
  for (const entry of ['package.json', 'README.md', ...(pkg.files ?? [])]) {
    if (existsSync(join(from, entry))) {
      cpSync(join(from, entry), join(to, entry), { recursive: true });
    }
  }
  return { to, name: pkg.name };
}

/**
 * Packs each package into outDir as <unscoped name>.tgz and checks it;
 * the packed manifests by tarball path.
 */
export function pack(outDir) {
  mkdirSync(outDir, { recursive: true });
  const packed = {};
  for (const dir of packageDirs) {
    const { to, name } = stage(dir);
    const out = execFileSync(
      'npm',
      ['pack', '--json', '--pack-destination', outDir],
      { cwd: to, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // npm prints the prepack and postpack scripts' output before the JSON.
    const { filename } = JSON.parse(out.slice(out.indexOf('\n[') + 1))[0];
    const target = join(outDir, `${name.split('/').pop()}.tgz`);
    renameSync(join(outDir, filename), target);
    packed[target] = checkTarball(target);
  }
  return packed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outArg = args.find(a => !a.startsWith('--'));
  if (!outArg) {
    console.error('usage: node scripts/pack.mjs OUTDIR [--no-build]');
    process.exit(2);
  }
  try {
    if (!args.includes('--no-build')) {
      build();
    }
    const outDir = resolve(outArg);
    const packed = pack(outDir);
    for (const [tarball, pkg] of Object.entries(packed)) {
      console.log(`${tarball}: ${pkg.name}@${pkg.version}, manifest checked`);
    }
  } catch (e) {
    console.error(String(e.message ?? e));
    process.exit(1);
  }
}
