import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Locator, Page } from 'playwright-core';
import {
  BackstageApp,
  Frontend,
  guestToken,
  startAppWithCairn,
  Timings,
  waitForEntity,
} from './backstageApp';
import { Cairn, recordOrdersService, repoRoot, team, tokens } from './harness';

// What the browser tests of the real Backstage app share, whichever frontend
// system the app runs: the catalog and Cairn's data they open, Chromium, the
// guest's sign-in, and what a person sees on Cairn's cards.

/**
 * The catalog: deploy/examples/catalog-info.yaml, whose Component opts into
 * Cairn's cards, and a service that does not.
 */
export const appCatalog = `
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

export const money = (amount: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(
    amount,
  );

/** Seeds orders-service (recordOrdersService) and waits until it is provisioned. */
export async function seedOrdersService(cairn: Cairn) {
  await recordOrdersService(cairn, 'app-browser-test-create');

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

/** Headless Chromium from Debian's package, with flags that work here. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export type OpenedPage = {
  page: Page;
  /** The URLs of the requests to Cairn through the proxy, in order. */
  cairnRequests: string[];
  /** The page's uncaught errors. */
  problems: string[];
};

/**
 * Opens path in the app at appUrl as a person would: the sign-in page first
 * (screenshot sign-in.png in shots), as the guest.
 */
export async function signInAndOpen(
  browser: Browser,
  appUrl: string,
  path: string,
  shots: string,
): Promise<OpenedPage> {
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
  await page.goto(`${appUrl}${path}`);
  const enter = page.getByRole('button', { name: 'Enter' });
  await enter.waitFor({ timeout: 60_000 }).catch(() => {
    throw new Error(`no sign-in page: ${problems.join('\n')}`);
  });
  await page.screenshot({ path: join(shots, 'sign-in.png') });
  await enter.click();
  return { page, cairnRequests, problems };
}

/**
 * One of Cairn's cards, by the title a person reads on it. By class name
 * prefix: under a nested theme, as the legacy app's is, Material UI 4 gives
 * its global class names a counter (MuiCard-root-885).
 */
export function card(page: Page, title: string): Locator {
  return page
    .locator('[class^="MuiCard-root"], [class*=" MuiCard-root"]')
    .filter({ has: page.getByText(title, { exact: true }) });
}

export type CairnCards = { cost: Locator; status: Locator; dora: Locator };

/** Waits until each card shows what it read from Cairn (60 s each). */
export async function waitForCairnCards(
  page: Page,
  totalMonthlyCost: number,
): Promise<CairnCards> {
  const cards = {
    cost: card(page, 'Cost'),
    status: card(page, 'Provisioning'),
    dora: card(page, 'DORA metrics'),
  };
  await cards.cost
    .getByText(money(totalMonthlyCost))
    .first()
    .waitFor({ timeout: 60_000 });
  await cards.status
    .getByText('orders-service-db')
    .first()
    .waitFor({ timeout: 60_000 });
  await cards.dora
    .getByText('Deployment frequency')
    .first()
    .waitFor({ timeout: 60_000 });
  return cards;
}

/**
 * Opens orders-service signed in, waits for Cairn's three cards, keeps
 * screenshots of the page and each card in shots, and checks they show
 * what seedOrdersService gave Cairn. The open page, the cards, the seconds
 * from sign-in to the last card filled, and the cost the card shows.
 */
export async function expectOrdersServiceCards(
  browser: Browser,
  appUrl: string,
  cairn: Cairn,
  shots: string,
): Promise<
  OpenedPage & { cards: CairnCards; seconds: number; totalMonthlyCost: number }
> {
  const cost = (
    await cairn.call(tokens.proxy, 'GET', '/v1/services/orders-service/cost')
  ).body;
  const dora = (
    await cairn.call(tokens.proxy, 'GET', '/v1/services/orders-service/dora')
  ).body;
  expect(cost.previousMonthlyCost).toBe(100);
  expect(dora.changeFailureRate.value).toBeCloseTo(0.25);

  const opened = await signInAndOpen(
    browser,
    appUrl,
    '/catalog/default/component/orders-service',
    shots,
  );
  const { page, cairnRequests, problems } = opened;
  const start = Date.now();
  let cards: CairnCards;
  try {
    cards = await waitForCairnCards(page, cost.totalMonthlyCost);
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
  const seconds = (Date.now() - start) / 1000;
  await page.screenshot({
    path: join(shots, 'entity-orders.png'),
    fullPage: true,
  });
  for (const [name, locator] of Object.entries(cards)) {
    await locator.screenshot({ path: join(shots, `${name}-card.png`) });
  }

  // The cards read the service the annotation names.
  expect(cairnRequests.length).toBeGreaterThan(0);
  for (const url of cairnRequests) {
    expect(url).toContain('/v1/services/orders-service/');
  }

  // Cost: Cairn's total and its billed line.
  const costText = await cards.cost.innerText();
  expect(costText).toContain(money(cost.totalMonthlyCost));
  expect(costText).toContain('arn:aws:rds:orders-db');
  expect(costText).toContain(money(120));

  // Provisioning: both claims and both environments, in Argo CD's words.
  const statusText = await cards.status.innerText();
  expect(statusText).toContain('orders-service-db');
  expect(statusText).toContain('orders-service-bucket');
  expect(statusText).toContain('Synced');

  // DORA: the four metrics, and the failure rate Cairn computed.
  const doraText = await cards.dora.innerText();
  for (const metric of [
    'Deployment frequency',
    'Lead time for changes',
    'Change failure rate',
    'Time to restore',
  ]) {
    expect(doraText).toContain(metric);
  }
  expect(doraText).toMatch(/25(\.0)?\s?%/);

  // Promotions: the fourth card, on both frontends; nothing was promoted.
  await card(page, 'Promotions')
    .getByText('No promotions yet')
    .waitFor({ timeout: 60_000 });
  expect(problems).toEqual([]);
  return {
    ...opened,
    cards,
    seconds,
    totalMonthlyCost: cost.totalMonthlyCost,
  };
}

/**
 * Opens legacy-billing, whose entity has no cairn.dev/service annotation,
 * signed in, and checks the page shows none of Cairn's cards and reads
 * nothing from Cairn (screenshot entity-legacy-billing.png in shots).
 */
export async function expectNoCairnCards(
  browser: Browser,
  appUrl: string,
  shots: string,
) {
  const { page, cairnRequests, problems } = await signInAndOpen(
    browser,
    appUrl,
    '/catalog/default/component/legacy-billing',
    shots,
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
}

export type CardsApp = {
  cairn: Cairn;
  app: BackstageApp;
  browser: Browser;
  /** Seconds each step took; stop() writes them to the shots folder. */
  timings: Timings;
  stop(): Promise<void>;
};

/**
 * The app serving frontend, on appCatalog, with orders-service seeded in
 * Cairn and both entities in the catalog, and Chromium; shots is emptied
 * for the test's screenshots and gets timings.json at stop().
 */
export async function startCardsApp(
  frontend: Frontend,
  shots: string,
): Promise<CardsApp> {
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'cairn-app-test-'));
  const catalogFile = join(dir, 'catalog-info.yaml');
  writeFileSync(catalogFile, appCatalog);
  const started = await startAppWithCairn({ frontend, catalogFile });
  const { cairn, app, timings } = started;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    await started.stop();
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(
      join(shots, 'timings.json'),
      `${JSON.stringify(timings, null, 2)}\n`,
    );
    // eslint-disable-next-line no-console
    console.log(
      `Backstage ${frontend} timings (s): ${JSON.stringify(timings)}`,
    );
  };
  try {
    const start = Date.now();
    await seedOrdersService(cairn);
    const token = await guestToken(app);
    for (const name of ['orders-service', 'legacy-billing']) {
      await waitForEntity(app, token, { kind: 'component', name });
    }
    timings['seed and catalog ingestion'] = (Date.now() - start) / 1000;
    browser = await launchChromium();
  } catch (e) {
    await stop();
    throw e;
  }
  return { cairn, app, browser, timings, stop };
}
