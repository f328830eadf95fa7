/** @jest-environment node */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser } from 'playwright-core';
import {
  appCatalog,
  expectNoCairnCards,
  expectOrdersServiceCards,
  launchChromium,
  seedOrdersService,
} from './__testUtils__/appBrowser';
import {
  appDir,
  BackstageApp,
  guestToken,
  Postgres,
  prepareBackstageApp,
  startBackstageApp,
  startPostgres,
  Timings,
  waitForEntity,
} from './__testUtils__/backstageApp';
import {
  artifactsDir,
  Cairn,
  freePort,
  startCairn,
} from './__testUtils__/harness';

// The README's legacy frontend system path in a real app: the same Backstage
// app and backend as app.browser.test.ts, serving packages/app-legacy (made
// by `create-app --legacy`, with Cairn's legacy cards in its EntityPage.tsx
// as the README's snippet puts them) instead of packages/app. A guest signs
// in in headless Chromium and opens the catalog's entities. Screenshots and
// the steps' timings go to backstage-plugin/test-artifacts/app-legacy/.
jest.setTimeout(900_000);

const shots = join(artifactsDir, 'app-legacy');

describe("Cairn's legacy cards in a real legacy-system Backstage app, as the signed-in guest", () => {
  const timings: Timings = {};
  let dir: string;
  let cairn: Cairn;
  let database: Postgres;
  let app: BackstageApp;
  let browser: Browser;

  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'cairn-app-legacy-test-'));
    const catalogFile = join(dir, 'catalog-info.yaml');
    writeFileSync(catalogFile, appCatalog);

    const prepared = await prepareBackstageApp('app-legacy');
    Object.assign(timings, prepared.timings);

    const port = await freePort();
    let start = Date.now();
    [cairn, database] = await Promise.all([
      startCairn({ backstageUrl: `http://127.0.0.1:${port}` }),
      startPostgres(),
    ]);
    timings['cairn and postgres start'] = (Date.now() - start) / 1000;
    start = Date.now();
    app = await startBackstageApp({
      prepared,
      port,
      cairnUrl: cairn.url,
      catalogFile,
      database,
      config: { app: { packageName: 'app-legacy' } },
    });
    timings['backend start'] = (Date.now() - start) / 1000;

    start = Date.now();
    await seedOrdersService(cairn);
    const token = await guestToken(app);
    await waitForEntity(app, token, {
      kind: 'component',
      name: 'orders-service',
    });
    await waitForEntity(app, token, {
      kind: 'component',
      name: 'legacy-billing',
    });
    timings['seed and catalog ingestion'] = (Date.now() - start) / 1000;

    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await database?.stop();
    await cairn?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
    writeFileSync(
      join(shots, 'timings.json'),
      `${JSON.stringify(timings, null, 2)}\n`,
    );
    // eslint-disable-next-line no-console
    console.log(`Legacy Backstage app timings (s): ${JSON.stringify(timings)}`);
  });

  it('serves the legacy app, not the new frontend system one', async () => {
    // The main bundle the backend's page loads is the one app-legacy's
    // build made (its name carries a hash of its contents).
    const main = (html: string) =>
      html.match(/src="([^"]*\/main\.[^"]+\.js)"/)?.[1];
    const served = main(await (await fetch(`${app.url}/catalog`)).text());
    const built = main(
      readFileSync(join(appDir, 'packages/app-legacy/dist/index.html'), 'utf8'),
    );
    expect(served).toBeDefined();
    expect(served).toBe(built);
  });

  it("shows Cairn's three cards, with the snippet's props, on an entity that opts in", async () => {
    const { page, cards, seconds } = await expectOrdersServiceCards(
      browser,
      app.url,
      cairn,
      shots,
    );
    timings['entity page load (after sign-in)'] = seconds;
    // The snippet's argoCdBaseUrl prop reached the status card: each
    // environment links to its Argo CD Application there.
    const links = await cards.status
      .locator('a[href^="https://argocd.company.com/applications/"]')
      .count();
    expect(links).toBeGreaterThan(0);
    await page.close();
  });

  it("shows none of Cairn's cards on an entity without the cairn.dev/service annotation", async () => {
    await expectNoCairnCards(browser, app.url, shots);
  });
});
