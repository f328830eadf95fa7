/** @jest-environment node */
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import {
  mockServices,
  startTestBackend,
  TestBackend,
} from '@backstage/backend-test-utils';
import proxyPlugin from '@backstage/plugin-proxy-backend';
import express from 'express';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Locator, Page } from 'playwright-core';
import {
  appConfig,
  artifactsDir,
  Cairn,
  recordOrdersService,
  startCairn,
  team,
  tokens,
} from './__testUtils__/harness';
import { buildPage } from './__testUtils__/page';
import {
  BackstageAuth,
  BackstageUser,
  startBackstageAuth,
} from './__testUtils__/backstageAuth';

// The entity cards in headless Chromium (Debian's chromium), reading real
// data from the real cairn binary through Backstage's real proxy backend,
// configured by deploy/backstage/app-config.cairn.yaml, and the promotions
// card deciding a promotion in Cairn as the signed-in user. Each card's
// screenshot is left in backstage-plugin/test-artifacts/.
jest.setTimeout(300_000);

// This test's screenshots, apart from the other tests' under artifactsDir.
const shots = join(artifactsDir, 'cards');

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

/** A member of team-orders, who reads the cards. */
const jane: BackstageUser = {
  ref: 'user:default/jane',
  groups: [`group:default/${team}`],
};
/** Approvers of team-orders, as cairn-auth.yaml names approvers. */
const approvers = [`group:default/${team}`, 'group:default/release-approvers'];
const janeApprover: BackstageUser = { ref: jane.ref, groups: approvers };
const lee: BackstageUser = { ref: 'user:default/lee', groups: approvers };

const money = (amount: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(
    amount,
  );

/** Serves the page's bundle from the Backstage backend, as Backstage's app backend serves the app. */
function pagePlugin(dir: string) {
  return createBackendPlugin({
    pluginId: 'cairn-page',
    register(env) {
      env.registerInit({
        deps: { httpRouter: coreServices.httpRouter },
        async init({ httpRouter }) {
          httpRouter.use(express.static(dir));
          httpRouter.addAuthPolicy({ path: '/', allow: 'unauthenticated' });
        },
      });
    },
  });
}

/**
 * deploy/backstage's proxy endpoint as this test's backend can run it. The
 * test backend's auth is Backstage's mock, which cannot verify a signed
 * user token, so here the proxy lets the page's token through unchecked
 * and Cairn alone verifies it. app.browser.test.ts runs the endpoint as
 * deployed (credentials: forward) in a real Backstage app.
 */
function cardsConfig(config: any): any {
  const endpoint = config.proxy.endpoints['/cairn'];
  expect(endpoint.credentials).toBe('forward');
  endpoint.credentials = 'dangerously-allow-unauthenticated';
  endpoint.allowedHeaders = ['Authorization'];
  // The promotions card's decisions are POSTs, which the deployed endpoint
  // allows (docs/backstage.md, the promotions card).
  expect(endpoint.allowedMethods).toEqual(['GET', 'POST']);
  return config;
}

describe('the entity cards in a browser against Cairn', () => {
  let auth: BackstageAuth;
  let cairn: Cairn;
  let backend: TestBackend;
  let browser: Browser;
  let pageDir: string;
  let backstageUrl: string;

  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    auth = await startBackstageAuth();
    [cairn, pageDir] = await Promise.all([
      startCairn({ backstageUrl: auth.url }),
      buildPage(),
    ]);
    backend = await startTestBackend({
      features: [
        proxyPlugin,
        pagePlugin(pageDir),
        mockServices.rootConfig.factory({
          data: cardsConfig(appConfig(cairn)),
        }),
      ],
    });
    backstageUrl = `http://localhost:${backend.server.port()}`;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    await cairn?.stop();
    await auth?.stop();
    if (pageDir) {
      rmSync(pageDir, { recursive: true, force: true });
    }
  });

  /** The cards page for an entity, as a signed-in user (Jane by default) sees it. */
  async function openCards(
    service: string,
    user: BackstageUser = jane,
  ): Promise<Page> {
    const page = await browser.newPage({
      viewport: { width: 1100, height: 1400 },
    });
    const problems: string[] = [];
    page.on('pageerror', e => problems.push(String(e)));
    await page.goto(
      `${backstageUrl}/api/cairn-page/index.html?service=${service}&user=${encodeURIComponent(
        user.ref,
      )}&token=${encodeURIComponent(auth.token(user))}`,
    );
    await page
      .locator('[data-card]')
      .first()
      .waitFor({ timeout: 30_000 })
      .catch(() => {
        throw new Error(`the page did not render: ${problems.join('\n')}`);
      });
    return page;
  }

  /** A table's cells as a person reads them, row by row, the header row first. */
  async function tableCells(scope: Locator, name: string): Promise<string[][]> {
    const rows = scope.getByRole('table', { name }).getByRole('row');
    const cells: string[][] = [];
    for (const row of await rows.all()) {
      const texts = await row.locator('th, td').allInnerTexts();
      cells.push(texts.map(t => t.replace(/\s+/g, ' ').trim()));
    }
    return cells;
  }

  async function card(page: Page, name: string, readyText: string | RegExp) {
    const locator = page.locator(`[data-card="${name}"]`);
    await locator.getByText(readyText).first().waitFor({ timeout: 60_000 });
    return locator;
  }

  it('shows a provisioned service: its cost, its phase and environments, its DORA metrics', async () => {
    await recordOrdersService(cairn, 'browser-test-create');

    const page = await openCards('orders-service');

    // Provisioning: the card reads again while provisioning, until ready.
    // Wait for the phase itself: "Ready" is also a column of the table of
    // claims, shown while they are still provisioning.
    const status = page.locator('[data-card="status"]');
    await status
      .getByLabel('Phase')
      .getByText('Ready', { exact: true })
      .waitFor({ timeout: 60_000 });
    await status.screenshot({ path: join(shots, 'status-card.png') });
    expect(await status.getByLabel('Phase').innerText()).toBe('Ready');
    const environments = await tableCells(status, 'Environments');
    expect(environments.map(r => r.slice(0, 4))).toEqual([
      ['Environment', 'Sync', 'Health', 'Revision'],
      ['Production', 'OutOfSync', 'Awaiting promotion', 'release'],
      ['Staging', 'Synced', 'Healthy', 'main'],
    ]);
    expect(await tableCells(status, 'Infrastructure')).toEqual([
      ['Resource', 'Kind', 'Ready'],
      ['orders-service-bucket', 'BucketClaim', 'Ready'],
      ['orders-service-db', 'DatabaseClaim', 'Ready'],
    ]);
    expect(await status.innerText()).not.toContain('Refreshing every');

    // Cost: what Cairn computed, as a person reads it.
    const cost = (
      await cairn.call(tokens.proxy, 'GET', '/v1/services/orders-service/cost')
    ).body;
    const costCard = await card(page, 'cost', money(cost.totalMonthlyCost));
    await costCard.screenshot({ path: join(shots, 'cost-card.png') });
    expect(cost.previousMonthlyCost).toBe(100);
    expect(cost.totalMonthlyCost).toBeGreaterThanOrEqual(120);
    expect(await costCard.getByLabel('Total this month').innerText()).toBe(
      money(cost.totalMonthlyCost),
    );
    const costText = await costCard.innerText();
    expect(costText).toContain(`against last month (${money(100)})`);
    expect(costText).toContain(`Billed ${money(120)}`);
    const lines = await tableCells(costCard, 'Cost by resource');
    expect(lines).toEqual([
      ['Resource', 'Type', 'Source', 'This month', 'Trend'],
      ...cost.breakdown.map((l: any) => [
        l.resource,
        l.type,
        l.source === 'billed' ? 'Billed' : 'Estimated',
        money(l.monthlyCost),
        l.trend[0].toUpperCase() + l.trend.slice(1),
      ]),
    ]);
    expect(lines).toContainEqual([
      'arn:aws:rds:orders-db',
      'database',
      'Billed',
      money(120),
      'Up',
    ]);

    // DORA: four metrics with their bands, and the cost regression rate,
    // which has no verdict yet: the deployments' days after have no billing.
    const dora = (
      await cairn.call(tokens.proxy, 'GET', '/v1/services/orders-service/dora')
    ).body;
    const doraCard = await card(page, 'dora', 'Deployment frequency');
    await doraCard.screenshot({ path: join(shots, 'dora-card.png') });
    const metrics = await tableCells(doraCard, 'DORA metrics');
    expect(metrics.map(r => r[0])).toEqual([
      'Metric',
      'Deployment frequency',
      'Lead time for changes',
      'Change failure rate',
      'Time to restore',
      'Cost regression rate',
    ]);
    expect(dora.costRegressionRate.unavailableReason).toBe('NO_VERDICTS');
    expect(metrics[5][1]).toBe(
      'No verdict yet: a change is judged once its days after have passed and are billed',
    );
    expect(dora.changeFailureRate.value).toBeCloseTo(0.25);
    expect(metrics[3][1]).toBe('25.0%');
    const band = dora.deploymentFrequency.band as string;
    expect(metrics[1][2]).toBe(band[0].toUpperCase() + band.slice(1));
    await page.close();
  });

  it('tells a person when the entity is not known to Cairn', async () => {
    const page = await openCards('ghost-service');
    for (const name of ['cost', 'status', 'dora', 'promotions']) {
      const locator = await card(
        page,
        name,
        /This entity is not known to Cairn/,
      );
      await locator.screenshot({
        path: join(shots, `${name}-card-unknown-entity.png`),
      });
      expect(await locator.innerText()).toContain(
        'Cairn has no service named "ghost-service"',
      );
    }
    await page.close();
  });

  it('decides a promotion as the signed-in approver, and not as its requester', async () => {
    const service = 'checkout-service';
    const created = await cairn.call(
      tokens.scaffolder,
      'POST',
      '/v1/services',
      {
        name: service,
        owner: `group:default/${team}`,
        template: 'node-microservice',
        environments: ['staging', 'production'],
        repositoryUrl: `https://github.com/company/${service}.git`,
        requestId: 'browser-test-promotions',
      },
    );
    expect([created.status, created.body]).toEqual([200, expect.anything()]);
    const promotions = `/v1/services/${service}/promotions`;
    const request = async (revision: string) => {
      const requested = await cairn.call(auth.token(lee), 'POST', promotions, {
        promotion: { revision },
      });
      expect([requested.status, requested.body.state]).toEqual([
        200,
        'pending',
      ]);
      return requested.body.name as string;
    };
    // Lee asks for v1.3.0, which Jane approves with Cairn's API, then for
    // v1.4.0.
    const first = await request('v1.3.0');
    const approvedFirst = await cairn.call(
      auth.token(janeApprover),
      'POST',
      `/v1/${first}:approve`,
      { reason: 'soaked in staging for a day' },
    );
    expect([approvedFirst.status, approvedFirst.body.state]).toEqual([
      200,
      'approved',
    ]);
    const second = await request('v1.4.0');

    // Lee, an approver too, may not decide his own request.
    const asLee = await openCards(service, lee);
    const leesCard = await card(asLee, 'promotions', 'Awaiting a decision');
    const leesRow = leesCard
      .getByRole('table', { name: 'Awaiting a decision' })
      .getByRole('row')
      .filter({ hasText: 'v1.4.0' });
    await leesRow.getByRole('button', { name: 'Approve' }).waitFor();
    expect(
      await leesRow.getByRole('button', { name: 'Approve' }).isDisabled(),
    ).toBe(true);
    expect(
      await leesRow.getByRole('button', { name: 'Deny' }).isDisabled(),
    ).toBe(true);
    expect(await leesRow.innerText()).toContain(
      'You requested this promotion: an approver of the team other than you decides it.',
    );
    await leesCard.screenshot({
      path: join(shots, 'promotions-card-requester.png'),
    });
    await asLee.close();

    // Jane approves it with the card's button, giving a reason.
    const asJane = await openCards(service, janeApprover);
    const janesCard = await card(asJane, 'promotions', 'Awaiting a decision');
    expect(await tableCells(janesCard, 'Decided')).toEqual([
      [
        'State',
        'Revision',
        'Environment',
        'Requested by',
        'Decided by',
        'Reason',
        'Decided',
      ],
      [
        'Approved',
        'v1.3.0',
        'Production',
        lee.ref,
        jane.ref,
        'soaked in staging for a day',
        expect.any(String),
      ],
    ]);
    const janesRow = janesCard
      .getByRole('table', { name: 'Awaiting a decision' })
      .getByRole('row')
      .filter({ hasText: 'v1.4.0' });
    const approve = janesRow.getByRole('button', { name: 'Approve' });
    expect(await approve.isEnabled()).toBe(true);
    await janesRow
      .getByLabel('Reason (optional)')
      .fill('release notes reviewed');
    await janesCard.screenshot({ path: join(shots, 'promotions-card.png') });
    await approve.click();
    await janesRow
      .getByText(`Approved by ${jane.ref}`)
      .waitFor({ timeout: 30_000 });
    expect(await janesRow.getByRole('button').count()).toBe(0);
    expect(await janesCard.getByRole('alert').count()).toBe(0);
    await janesCard.screenshot({
      path: join(shots, 'promotions-card-approved.png'),
    });
    await asJane.close();

    // Cairn recorded Jane's approval, with her reason.
    const listed = await cairn.call(tokens.admin, 'GET', promotions);
    expect(
      listed.body.promotions.map((p: any) => [
        p.name,
        p.revision,
        p.state,
        p.requester,
        p.decider,
        p.reason,
      ]),
    ).toEqual([
      [
        second,
        'v1.4.0',
        'approved',
        lee.ref,
        jane.ref,
        'release notes reviewed',
      ],
      [
        first,
        'v1.3.0',
        'approved',
        lee.ref,
        jane.ref,
        'soaked in staging for a day',
      ],
    ]);
  });
});
