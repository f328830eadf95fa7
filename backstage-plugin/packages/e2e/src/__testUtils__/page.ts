import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Bundles the cards page of the frontend plugin (its dev/cards-page.tsx)
 * for the browser into a new folder with its index.html, and returns the
 * folder.
 */
export async function buildPage(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-page-'));
  await build({
    entryPoints: [
      resolvePackagePath('@cairn-dev/plugin-cairn', 'dev/cards-page.tsx'),
    ],
    bundle: true,
    outfile: join(dir, 'page.js'),
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    minify: false,
    logLevel: 'error',
    define: {
      'process.env.NODE_ENV': '"production"',
      global: 'globalThis',
    },
    loader: {
      '.svg': 'dataurl',
      '.png': 'dataurl',
      '.woff': 'dataurl',
      '.woff2': 'dataurl',
    },
  });
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>Cairn cards</title></head>' +
      '<body><div id="root"></div><script type="module" src="page.js"></script></body></html>',
  );
  return dir;
}
