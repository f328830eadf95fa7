/** @jest-environment node */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, Page } from 'playwright-core';
import { card, launchChromium } from './__testUtils__/appBrowser';
import {
  BackstageApp,
  catalogYaml,
  groupEntities,
  guestToken,
  serviceEntity,
  startAppWithCairn,
  testUserToken,
  userEntity,
  waitForEntity,
} from './__testUtils__/backstageApp';
import {
  artifactsDir,
  Cairn,
  deployFile,
  team,
  tokens,
} from './__testUtils__/harness';
import {
  blockText,
  buttons,
  slackHeaders,
  SlackStandIn,
  startSlackStandIn,
} from './__testUtils__/slack';

// A promotion from Slack to production through the real Backstage app
// (backstage-plugin/app with Backstage's notifications and signals
// plugins): Lee asks for it with /platform in Slack, signed as Slack signs;
// Cairn maps Lee's and Jane's Slack IDs to their Backstage users through
// the app's catalog, tells the owning team in Backstage's notifications and
// in its Slack channel, refuses Lee's own click in Slack and on the card,
// and Jane, another approver of the team, approves it with the promotions
// card's button in headless Chromium, signed in as herself. Cairn calls the
// app's backend as an external caller with the static tokens of
// deploy/backstage/app-config.cairn-access.yaml. A local HTTP server stands
// in for Slack's response URLs and the team's incoming webhook. Screenshots
// go to backstage-plugin/test-artifacts/app-approvals/.
jest.setTimeout(900_000);

const shots = join(artifactsDir, 'app-approvals');

const service = 'checkout-api';
const secrets = {
  slackSigning: 'e2e-slack-signing-secret-3c9a',
  notifications: 'e2e-cairn-notifications-7d21',
  catalog: 'e2e-cairn-catalog-94be',
};
/** Slack member IDs, as the users' catalog entities annotate them. */
const slackIds = { lee: 'U0LEE0001', jane: 'U0JANE002' } as const;

// Lee and Jane are of the team and approvers; Sam is of another team.
const catalog = catalogYaml([
  userEntity('lee', [team, 'release-approvers'], {
    'slack.com/user_id': slackIds.lee,
  }),
  userEntity('jane', [team, 'release-approvers'], {
    'slack.com/user_id': slackIds.jane,
  }),
  userEntity('sam', ['team-search']),
  ...groupEntities([team, 'team-search', 'release-approvers']),
  serviceEntity(service),
]);

describe('a promotion asked for in Slack, announced in Backstage and approved on its card', () => {
  let dir: string;
  let slack: SlackStandIn;
  let cairn: Cairn;
  let app: BackstageApp;
  let browser: Browser;
  let stop: (() => Promise<void>) | undefined;
  let sent = 0;

  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'cairn-app-approvals-'));
    slack = await startSlackStandIn();
    const file = (name: string, content: string) => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const catalogFile = file('catalog.yaml', catalog);
    const signingSecretFile = file(
      'slack-signing-secret',
      secrets.slackSigning,
    );
    const webhookUrlFile = file('team-webhook', `${slack.url}/webhook/${team}`);
    const notificationsTokenFile = file(
      'notifications-token',
      secrets.notifications,
    );
    const catalogTokenFile = file('catalog-token', secrets.catalog);

    ({ cairn, app, stop } = await startAppWithCairn({
      catalogFile,
      config: {
        auth: { providers: { 'cairn-test-users': {}, guest: {} } },
        ...deployFile('app-config.cairn-access.yaml', {
          CAIRN_NOTIFICATIONS_TOKEN: secrets.notifications,
          CAIRN_CATALOG_TOKEN: secrets.catalog,
        }),
      },
      cairnConfig: appUrl => ({
        slack: {
          signingSecretFile,
          responseUrlPrefix: `${slack.url}/`,
          backstageUrl: appUrl,
          catalog: { url: appUrl, tokenFile: catalogTokenFile },
        },
        notifications: {
          backstageUrl: appUrl,
          slack: [{ team, webhookUrlFile }],
          backstage: { url: appUrl, tokenFile: notificationsTokenFile },
          interval: '1s',
        },
      }),
    }));
    const token = await guestToken(app);
    for (const name of ['lee', 'jane', 'sam']) {
      await waitForEntity(app, token, { kind: 'user', name });
    }
    await waitForEntity(app, token, { kind: 'component', name: service });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stop?.();
    await slack?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** /platform text as a Slack user: Cairn's reply, in time or at the response URL. */
  async function slackCommand(user: string, text: string): Promise<any> {
    sent++;
    const body = new URLSearchParams({
      command: '/platform',
      text,
      user_id: user,
      channel_id: 'C0ORDERS',
      trigger_id: `1.${sent}.app-approvals`,
      response_url: `${slack.url}/commands/${sent}`,
    }).toString();
    const response = await fetch(`${cairn.url}/slack/commands`, {
      method: 'POST',
      headers: slackHeaders(secrets.slackSigning, body),
      body,
    });
    expect(response.status).toBe(200);
    const reply = await response.json();
    if (blockText(reply).startsWith('Working on it')) {
      return (await slack.next(`/commands/${sent}`)).body;
    }
    return reply;
  }

  /** A click on a message's button as a Slack user: what Cairn posts back. */
  async function slackClick(
    user: string,
    actionId: string,
    value: string,
  ): Promise<any> {
    sent++;
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: user },
      response_url: `${slack.url}/actions/${sent}`,
      actions: [
        {
          block_id: 'cairn_promotion',
          action_id: actionId,
          value,
          type: 'button',
        },
      ],
    });
    const body = new URLSearchParams({ payload }).toString();
    const response = await fetch(`${cairn.url}/slack/interactivity`, {
      method: 'POST',
      headers: slackHeaders(secrets.slackSigning, body),
      body,
    });
    expect(response.status).toBe(200);
    return (await slack.next(`/actions/${sent}`)).body;
  }

  /**
   * A page of the app signed in as a user of the catalog: the sign-in
   * page's guest button, whose sign-in the browser sends to the app's test
   * sign-in for that user (backstage-plugin/app/packages/backend/src/testing.ts),
   * so the page holds the user's own Backstage token.
   */
  async function openAs(name: string, path: string): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1400, height: 1600 },
    });
    await context.route('**/api/auth/guest/refresh*', route =>
      route.continue({
        url: route
          .request()
          .url()
          .replace('/api/auth/guest/', '/api/auth/cairn-test-users/'),
        headers: { ...route.request().headers(), 'x-cairn-test-user': name },
      }),
    );
    const page = await context.newPage();
    await page.goto(`${app.url}${path}`);
    await page
      .getByRole('button', { name: 'Enter' })
      .click({ timeout: 60_000 });
    return page;
  }

  /** The user's Backstage notifications, newest first, as the notifications API lists them. */
  async function notificationsOf(name: string): Promise<any[]> {
    const token = await testUserToken(app, name);
    const response = await fetch(`${app.url}/api/notifications/notifications`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()).notifications;
  }

  /** Waits until the user has a notification whose title is title. */
  async function waitForNotification(name: string, title: string) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = (await notificationsOf(name)).find(
        n => n.payload.title === title,
      );
      if (found) {
        return found;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${name} has no notification "${title}" after 60 s:\n${cairn.log()}\n${app.log()}`,
        );
      }
      await new Promise(r => setTimeout(r, 500));
    }
  }

  it('goes from Slack to production as the people in it, each told in Backstage', async () => {
    // Jane creates the service from Slack; Cairn knows her by the catalog.
    const created = await slackCommand(
      slackIds.jane,
      `create-service ${service} --team ${team} --template node-microservice --env staging --env production --repo https://github.com/company/${service}.git`,
    );
    expect(blockText(created)).toContain(
      `Service *${service}* is provisioning.`,
    );

    // Lee asks for v1.4.0 in production; it waits for an approver.
    const pending = await slackCommand(
      slackIds.lee,
      `promote ${service} --revision v1.4.0`,
    );
    expect(pending.response_type).toBe('in_channel');
    expect(blockText(pending)).toContain(
      `*Promotion of ${service}*: \`v1.4.0\` into *production*\nRequested by user:default/lee`,
    );
    const [[approveAction, promotion]] = buttons(pending);
    expect(approveAction).toBe('cairn_approve_promotion');

    // The owning team hears of it in Backstage, and in its channel; Sam,
    // of another team, does not.
    const title = `Promotion waiting for an approver: ${service}`;
    const told = await waitForNotification('jane', title);
    expect(told.payload).toMatchObject({
      description: expect.stringContaining(
        `user:default/lee asks to promote v1.4.0 of ${service} into production.`,
      ),
      // Relative: the notifications page opens it in the app's own tab.
      link: `/catalog/default/component/${service}`,
      topic: 'cairn: promotion_requested',
    });
    expect(told.origin).toBe('cairn-notifications');
    await waitForNotification('lee', title);
    expect(
      (await notificationsOf('sam')).map(n => n.payload.title),
    ).not.toContain(title);
    const channel = await slack.next(`/webhook/${team}`);
    expect(blockText(channel.body)).toContain(title);

    // Lee's own click is refused in Slack, to Lee alone, and changes nothing.
    const refused = await slackClick(slackIds.lee, approveAction, promotion);
    expect(refused.response_type).toBe('ephemeral');
    expect(blockText(refused)).toContain('OWN_REQUEST');

    // Jane finds it in Backstage's notifications page and follows its link.
    const asJane = await openAs('jane', '/notifications');
    const listed = asJane.getByText(title).first();
    await listed.waitFor({ timeout: 60_000 });
    await asJane.screenshot({
      path: join(shots, 'notifications.png'),
      clip: { x: 0, y: 0, width: 1400, height: 380 },
    });

    // On the card Lee cannot decide his own request, and is told why.
    const asLee = await openAs('lee', `/catalog/default/component/${service}`);
    const leesRow = card(asLee, 'Promotions')
      .getByRole('table', { name: 'Awaiting a decision' })
      .getByRole('row')
      .filter({ hasText: 'v1.4.0' });
    await leesRow
      .getByRole('button', { name: 'Approve' })
      .waitFor({ timeout: 60_000 });
    expect(
      await leesRow.getByRole('button', { name: 'Approve' }).isDisabled(),
    ).toBe(true);
    expect(await leesRow.innerText()).toContain(
      'You requested this promotion: an approver of the team other than you decides it.',
    );
    await card(asLee, 'Promotions').screenshot({
      path: join(shots, 'promotions-card-requester.png'),
    });
    await asLee.context().close();

    // Jane approves it with the card's button.
    await listed.click();
    await asJane.waitForURL(`**/catalog/default/component/${service}`);
    const promotionsCard = card(asJane, 'Promotions');
    const janesRow = promotionsCard
      .getByRole('table', { name: 'Awaiting a decision' })
      .getByRole('row')
      .filter({ hasText: 'v1.4.0' });
    const approve = janesRow.getByRole('button', { name: 'Approve' });
    await approve.waitFor({ timeout: 60_000 });
    expect(await approve.isEnabled()).toBe(true);
    await janesRow.getByLabel('Reason (optional)').fill('soaked in staging');
    await promotionsCard.screenshot({
      path: join(shots, 'promotions-card.png'),
    });
    await asJane.screenshot({
      path: join(shots, 'entity-page.png'),
      fullPage: true,
    });
    // The card's row keeps its buttons inside the card.
    const cardBox = (await promotionsCard.boundingBox())!;
    const approveBox = (await approve.boundingBox())!;
    expect(approveBox.x + approveBox.width).toBeLessThanOrEqual(
      cardBox.x + cardBox.width,
    );
    await approve.click();
    await janesRow
      .getByText('Approved by user:default/jane')
      .waitFor({ timeout: 30_000 });
    await promotionsCard.screenshot({
      path: join(shots, 'promotions-card-approved.png'),
    });
    await asJane.context().close();

    // Production's Application is pointed at v1.4.0 and synced there.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await cairn.call(
        tokens.admin,
        'GET',
        `/v1/services/${service}/status`,
      );
      const production = status.body.deployments.find(
        (d: any) => d.environment === 'production',
      );
      if (
        production?.revision === 'v1.4.0' &&
        production.syncStatus === 'Synced'
      ) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`production not at v1.4.0: ${JSON.stringify(status)}`);
      }
      await new Promise(r => setTimeout(r, 250));
    }

    // Lee, who asked, is told of Jane's approval.
    const approved = await waitForNotification(
      'lee',
      `Promotion approved: ${service}`,
    );
    expect(approved.payload.description).toContain(
      'user:default/jane approved v1.4.0',
    );

    // The audit log names each person, whichever way they came.
    const audit = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/auditEvents?action=cairn.v1.ProvisioningService/ApprovePromotion',
    );
    expect(
      audit.body.auditEvents.map((e: any) => [e.principal, e.outcome, e.code]),
    ).toEqual([
      ['user:default/jane', 'succeeded', 'OK'],
      ['user:default/lee', 'denied', 'PermissionDenied'],
    ]);
    const requests = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/auditEvents?action=cairn.v1.ProvisioningService/CreatePromotion',
    );
    expect(requests.body.auditEvents[0].principal).toBe('user:default/lee');
  });
});
