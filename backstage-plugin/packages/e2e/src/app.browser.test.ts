/** @jest-environment node */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import {
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
  appConfig,
  artifactsDir,
  Cairn,
  focusFile,
  freePort,
  month,
  repoRoot,
  startCairn,
  team,
  tokens,
} from './__testUtils__/harness';

// Cairn inside a real Backstage app (backstage-plugin/app: new frontend
// system, app backend, guest sign-in, catalog, proxy, scaffolder, on
// PostgreSQL), with Cairn's packages installed from their packed tarballs.
// A guest signs in in headless Chromium and opens catalog entities; the
// cards read Cairn through the proxy as deploy/backstage/app-config.cairn.yaml
// configures it, with the guest's own Backstage token, which Cairn verifies
// against the auth backend's key set (deploy/backstage/cairn-auth.yaml).
// Screenshots and the steps' timings go to backstage-plugin/test-artifacts/app/.
jest.setTimeout(900_000);

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const shots = join(artifactsDir, 'app');

const money = (amount: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(
    amount,
  );

// The catalog: deploy/examples/catalog-info.yaml, whose Component opts into
// Cairn's cards, and one that does not.
const catalog = `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: cairn-example
spec:
  type: file
  target: ${join(repoRoot, 'deploy/examples/catalog-info.yaml')}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: legacy-billing
spec:
  type: service
  lifecycle: production
  owner: group:default/${team}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: ${team}
spec:
  type: team
  children: []
`;

/** Seeds orders-service as the cards test does: created, billed, deployed. */
async function seed(cairn: Cairn) {
  const created = await cairn.call(tokens.scaffolder, 'POST', '/v1/services', {
    name: 'orders-service',
    owner: `group:default/${team}`,
    template: 'node-microservice',
    database: 'postgresql',
    databaseSize: 'small',
    bucket: true,
    environments: ['staging', 'production'],
    repositoryUrl: 'https://github.com/company/orders-service.git',
    requestId: 'app-browser-test-create',
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

  // Until the stand-in controllers have marked both claims Ready, so the
  // card's first read already shows them.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await cairn.call(
      tokens.proxy,
      'GET',
      '/v1/services/orders-service/status',
    );
    const infra = status.body?.infrastructure ?? [];
    if (infra.length === 2 && infra.every((r: any) => r.ready)) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`orders-service not ready: ${JSON.stringify(status)}`);
    }
    await new Promise(r => setTimeout(r, 250));
  }
}

describe('Cairn in a real Backstage app, as the signed-in guest', () => {
  const timings: Timings = {};
  let dir: string;
  let cairn: Cairn;
  let database: Postgres;
  let app: BackstageApp;
  let browser: Browser;

  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'cairn-app-test-'));
    const catalogFile = join(dir, 'catalog-info.yaml');
    writeFileSync(catalogFile, catalog);

    const prepared = await prepareBackstageApp();
    Object.assign(timings, prepared.timings);

    // The backend's port first: Cairn trusts tokens that name its URL as
    // their issuer, and the backend's proxy points at Cairn's.
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
    });
    timings['backend start'] = (Date.now() - start) / 1000;

    start = Date.now();
    await seed(cairn);
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

    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
    });
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
    console.log(`Backstage app timings (s): ${JSON.stringify(timings)}`);
  });

  /** Opens path as a person would: the sign-in page first, as the guest. */
  async function signInAndOpen(
    path: string,
  ): Promise<{ page: Page; cairnRequests: string[]; problems: string[] }> {
    const page = await browser.newPage({
      viewport: { width: 1400, height: 1600 },
    });
    const problems: string[] = [];
    const cairnRequests: string[] = [];
    page.on('pageerror', e => problems.push(String(e)));
    page.on('request', r => {
      if (r.url().includes('/api/proxy/cairn/')) {
        cairnRequests.push(r.url());
      }
    });
    await page.goto(`${app.url}${path}`);
    const enter = page.getByRole('button', { name: 'Enter' });
    await enter.waitFor({ timeout: 60_000 }).catch(() => {
      throw new Error(`no sign-in page: ${problems.join('\n')}`);
    });
    await page.screenshot({ path: join(shots, 'sign-in.png') });
    await enter.click();
    return { page, cairnRequests, problems };
  }

  /** One of Cairn's cards, by the title a person reads on it. */
  function card(page: Page, title: string) {
    return page
      .locator('.MuiCard-root')
      .filter({ has: page.getByText(title, { exact: true }) });
  }

  it("shows Cairn's cost, provisioning status and DORA metrics on an entity that opts in", async () => {
    const cost = (
      await cairn.call(tokens.proxy, 'GET', '/v1/services/orders-service/cost')
    ).body;
    const dora = (
      await cairn.call(tokens.proxy, 'GET', '/v1/services/orders-service/dora')
    ).body;
    expect(cost.previousMonthlyCost).toBe(100);
    expect(dora.changeFailureRate.value).toBeCloseTo(0.25);

    const { page, cairnRequests, problems } = await signInAndOpen(
      '/catalog/default/component/orders-service',
    );
    const start = Date.now();
    const costCard = card(page, 'Cost');
    const statusCard = card(page, 'Provisioning');
    const doraCard = card(page, 'DORA metrics');
    try {
      await costCard
        .getByText(money(cost.totalMonthlyCost))
        .first()
        .waitFor({ timeout: 60_000 });
      await statusCard
        .getByText('orders-service-db')
        .first()
        .waitFor({ timeout: 60_000 });
      await doraCard
        .getByText('Deployment frequency')
        .first()
        .waitFor({ timeout: 60_000 });
    } catch (e) {
      await page.screenshot({
        path: join(shots, 'entity-failed.png'),
        fullPage: true,
      });
      throw new Error(
        `${e}\npage errors: ${problems.join('\n')}\npage text: ${await page
          .locator('body')
          .innerText()}`,
      );
    }
    timings['entity page load (after sign-in)'] = (Date.now() - start) / 1000;
    await page.screenshot({
      path: join(shots, 'entity-orders.png'),
      fullPage: true,
    });
    for (const [name, locator] of [
      ['cost', costCard],
      ['status', statusCard],
      ['dora', doraCard],
    ] as const) {
      await locator.screenshot({ path: join(shots, `${name}-card.png`) });
    }

    // The cards read the service the annotation names.
    expect(cairnRequests.length).toBeGreaterThan(0);
    for (const url of cairnRequests) {
      expect(url).toContain('/v1/services/orders-service/');
    }

    // Cost: Cairn's total and its billed line.
    const costText = await costCard.innerText();
    expect(costText).toContain(money(cost.totalMonthlyCost));
    expect(costText).toContain('arn:aws:rds:orders-db');
    expect(costText).toContain(money(120));

    // Provisioning: both claims and both environments, in Argo CD's words.
    const statusText = await statusCard.innerText();
    expect(statusText).toContain('orders-service-db');
    expect(statusText).toContain('orders-service-bucket');
    expect(statusText).toContain('Synced');

    // DORA: the four metrics, and the failure rate Cairn computed.
    const doraText = await doraCard.innerText();
    for (const metric of [
      'Deployment frequency',
      'Lead time for changes',
      'Change failure rate',
      'Time to restore',
    ]) {
      expect(doraText).toContain(metric);
    }
    expect(doraText).toMatch(/25(\.0)?\s?%/);
    expect(problems).toEqual([]);

    // Loaded again, signed in already (Backstage remembers the provider):
    // from the page's first contentful paint until the last card is filled.
    await page.reload();
    await costCard
      .getByText(money(cost.totalMonthlyCost))
      .first()
      .waitFor({ timeout: 60_000 });
    await statusCard.getByText('orders-service-db').first().waitFor();
    await doraCard.getByText('Deployment frequency').first().waitFor();
    const filled = Date.now();
    const firstPaint = await page.evaluate(
      () =>
        performance.timeOrigin +
        performance.getEntriesByName('first-contentful-paint')[0].startTime,
    );
    timings['entity page: first paint to last card filled'] =
      (filled - firstPaint) / 1000;
    await page.close();
  });

  it("reaches Cairn as the signed-in user: the proxy forwards the guest's token, which Cairn verifies", async () => {
    // As deployed: no token of the proxy's own stands in for the user.
    expect(appConfig(cairn).proxy.endpoints['/cairn']).toMatchObject({
      credentials: 'forward',
    });
    expect(appConfig(cairn).proxy.endpoints['/cairn'].headers).toBeUndefined();
    const path = '/api/proxy/cairn/v1/services/orders-service/cost';
    const anonymous = await fetch(`${app.url}${path}`);
    expect(anonymous.status).toBe(401);
    const guest = await guestToken(app);
    const signedIn = await fetch(`${app.url}${path}`, {
      headers: { Authorization: `Bearer ${guest}` },
    });
    expect(signedIn.status).toBe(200);
    // Cairn itself takes the auth backend's token, and refuses one it did
    // not sign.
    const direct = await cairn.call(
      guest,
      'GET',
      '/v1/services/orders-service/cost',
    );
    expect(direct.status).toBe(200);
    const [header, claims] = guest.split('.');
    const forged = `${header}.${claims}.${Buffer.from('not a signature').toString('base64url')}`;
    expect(
      (await cairn.call(forged, 'GET', '/v1/services/orders-service/cost'))
        .status,
    ).toBe(401);
  });

  it("shows none of Cairn's cards on an entity without the cairn.dev/service annotation", async () => {
    const { page, cairnRequests, problems } = await signInAndOpen(
      '/catalog/default/component/legacy-billing',
    );
    // The entity page itself, then every read it starts.
    await page
      .getByText('legacy-billing', { exact: true })
      .first()
      .waitFor({ timeout: 60_000 });
    await page.getByText('About', { exact: true }).first().waitFor();
    await page.waitForLoadState('networkidle');
    await page.screenshot({
      path: join(shots, 'entity-legacy-billing.png'),
      fullPage: true,
    });
    for (const title of ['Cost', 'Provisioning', 'DORA metrics']) {
      expect(await card(page, title).count()).toBe(0);
    }
    expect(cairnRequests).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
