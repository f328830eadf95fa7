// The packed-manifest check of scripts/pack.mjs: it accepts what a registry
// install can resolve, rejects each way a manifest can point past its
// tarball, and passes on Cairn's three packages as they are built and packed.
//
//   node --test scripts/pack.test.mjs   (npm run test:pack)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { build, checkManifest, checkTarball, pack } from './pack.mjs';

const files = new Set([
  'package.json',
  'dist/index.cjs.js',
  'dist/index.esm.js',
  'dist/index.d.ts',
  'dist/alpha.esm.js',
  'dist/alpha.d.ts',
  'config.schema.json',
]);

const good = {
  name: '@cairn-dev/example',
  main: './dist/index.cjs.js',
  module: 'dist/index.esm.js',
  types: 'dist/index.d.ts',
  exports: {
    '.': {
      import: './dist/index.esm.js',
      types: './dist/index.d.ts',
      default: './dist/index.cjs.js',
    },
    './alpha': {
      backstage: '@backstage/FrontendPlugin',
      import: './dist/alpha.esm.js',
      types: './dist/alpha.d.ts',
    },
    './package.json': './package.json',
  },
  typesVersions: { '*': { alpha: ['dist/alpha.d.ts'] } },
  configSchema: 'config.schema.json',
  dependencies: { '@backstage/core-plugin-api': '^1.13.0' },
};

describe('checkManifest', () => {
  it('accepts a manifest whose every path is in the tarball', () => {
    assert.deepEqual(checkManifest(good, files), []);
  });

  const broken = [
    ['main', { main: 'src/index.ts' }, /^main: src\/index\.ts/],
    ['module', { module: './dist/index.mjs' }, /^module: /],
    ['types', { types: 'src/index.ts' }, /^types: /],
    [
      'a conditional exports target',
      {
        exports: {
          ...good.exports,
          './alpha': { import: './src/alpha.tsx' },
        },
      },
      /^exports\["\.\/alpha"\]\["import"\]: \.\/src\/alpha\.tsx/,
    ],
    [
      'a plain exports target',
      { exports: { '.': './src/index.ts' } },
      /^exports\["\."\]: /,
    ],
    [
      'a typesVersions target',
      { typesVersions: { '*': { alpha: ['src/alpha.tsx'] } } },
      /^typesVersions\["\*"\]\["alpha"\]: src\/alpha\.tsx/,
    ],
    ['configSchema', { configSchema: 'config.d.ts' }, /^configSchema: /],
    [
      'a workspace: dependency',
      { dependencies: { '@cairn-dev/plugin-cairn-common': 'workspace:^' } },
      /^dependencies\["@cairn-dev\/plugin-cairn-common"\]: workspace:\^/,
    ],
    [
      'a file: dependency',
      { dependencies: { x: 'file:../x' } },
      /^dependencies\["x"\]: file:/,
    ],
    [
      'a link: peer dependency',
      { peerDependencies: { react: 'link:../react' } },
      /^peerDependencies\["react"\]: link:/,
    ],
  ];
  for (const [what, change, problem] of broken) {
    it(`rejects ${what}`, () => {
      const problems = checkManifest({ ...good, ...change }, files);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0], problem);
    });
  }

  it('matches wildcard targets against the files', () => {
    const wild = { name: 'w', exports: { './*': './dist/*.esm.js' } };
    assert.deepEqual(checkManifest(wild, files), []);
    const none = { name: 'w', exports: { './*': './lib/*.js' } };
    assert.equal(checkManifest(none, files).length, 1);
  });
});

describe('checkTarball', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pack-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A tarball made by npm pack of a package with manifest and dist/index.cjs.js. */
  function tarball(name, manifest) {
    const pkgDir = join(dir, name);
    mkdirSync(join(pkgDir, 'dist'), { recursive: true });
    writeFileSync(join(pkgDir, 'dist/index.cjs.js'), 'module.exports = {};\n');
    writeFileSync(
      join(pkgDir, 'package.json'),
      JSON.stringify({ name, version: '1.0.0', files: ['dist'], ...manifest }),
    );
    const out = execFileSync(
      'npm',
      ['pack', '--json', '--pack-destination', dir],
      {
        cwd: pkgDir,
        encoding: 'utf8',
      },
    );
    return join(dir, JSON.parse(out)[0].filename);
  }

  it('passes a packed package whose manifest holds', () => {
    const pkg = checkTarball(tarball('fine', { main: 'dist/index.cjs.js' }));
    assert.equal(pkg.name, 'fine');
  });

  it('names the package and every field at fault of a broken one', () => {
    const path = tarball('broken', {
      main: 'dist/index.cjs.js',
      types: 'src/index.ts',
      exports: { '.': './dist/index.cjs.js', './alpha': './src/alpha.tsx' },
      dependencies: { common: 'workspace:^' },
    });
    assert.throws(
      () => checkTarball(path),
      e =>
        /^broken \(broken-1\.0\.0\.tgz\): the packed manifest is broken/.test(
          e.message,
        ) &&
        e.message.includes('types: src/index.ts') &&
        e.message.includes('exports["./alpha"]: ./src/alpha.tsx') &&
        e.message.includes('dependencies["common"]: workspace:^') &&
        !e.message.includes('main:'),
    );
  });
});

describe("Cairn's packages", () => {
  const out = mkdtempSync(join(tmpdir(), 'cairn-packed-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('build, pack and pass the check, pointing at their dist/ files', () => {
    build();
    const packed = Object.values(pack(out));
    assert.deepEqual(packed.map(p => p.name).sort(), [
      '@cairn-dev/plugin-cairn',
      '@cairn-dev/plugin-cairn-common',
      '@cairn-dev/plugin-scaffolder-backend-module-cairn',
    ]);
    const byName = Object.fromEntries(packed.map(p => [p.name, p]));
    const plugin = byName['@cairn-dev/plugin-cairn'];
    // The new frontend system's plugin, where feature discovery looks.
    assert.equal(plugin.exports['./alpha'].import, './dist/alpha.esm.js');
    assert.equal(
      plugin.exports['./alpha'].backstage,
      '@backstage/FrontendPlugin',
    );
    const module = byName['@cairn-dev/plugin-scaffolder-backend-module-cairn'];
    assert.equal(module.main, 'dist/index.cjs.js');
    assert.equal(module.configSchema, 'config.schema.json');
  });
});
