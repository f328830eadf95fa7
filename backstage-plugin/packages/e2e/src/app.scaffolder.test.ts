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
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { launchChromium } from './__testUtils__/appBrowser';
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
  repoRoot,
  team,
  tokens,
} from './__testUtils__/harness';

// deploy/backstage's templates through the real scaffolder backend of the
// real Backstage app, against Cairn, as the people who run them. Lee (of
// team-orders, an approver) and the guest (of team-search) sign in through
// the app's auth backend, whose tokens carry no ent claim (Backstage's
// default): Cairn reads their groups from its user info endpoint. The
// template's GitHub steps run as stand-ins (no GitHub here, see
// backstage-plugin/app/packages/backend/src/testing.ts); its Cairn steps
// and everything Cairn does are real.
jest.setTimeout(900_000);

const shots = join(artifactsDir, 'app-scaffolder');

const catalog = (templates: string[]) =>
  catalogYaml([
    ...templates.map(target => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Location',
      metadata: { name: `template-${templates.indexOf(target)}` },
      spec: { type: 'file', target },
    })),
    userEntity('lee', [team, 'release-approvers']),
    userEntity('guest', ['team-search']),
    ...groupEntities([team, 'team-search', 'release-approvers']),
    // What the template's catalog:register step would have registered.
    serviceEntity('payments-api'),
  ]);

/**
 * deploy/backstage/template.yaml with its GitHub steps handed to the app's
 * stand-ins; every other step, and every Cairn step, as written.
 */
function templateWithoutGitHub(): string {
  const template = parseYaml(
    readFileSync(join(repoRoot, 'deploy/backstage/template.yaml'), 'utf8'),
  );
  for (const step of template.spec.steps) {
    if (step.action === 'publish:github') {
      step.action = 'cairn-test:publish';
      step.input = { repoUrl: step.input.repoUrl };
    } else if (step.action === 'catalog:register') {
      step.action = 'cairn-test:register';
      step.input = { repoContentsUrl: step.input.repoContentsUrl };
    }
  }
  return stringifyYaml(template);
}

type Task = { id: string; status: string; log: string[] };

describe("deploy/backstage's templates in the real scaffolder, as the signed-in user", () => {
  let dir: string;
  let cairn: Cairn;
  let app: BackstageApp;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'cairn-app-scaffolder-'));
    const template = join(dir, 'template.yaml');
    writeFileSync(template, templateWithoutGitHub());
    // fetch:template's skeleton, beside the template as in a repository.
    mkdirSync(join(dir, 'skeleton'));
    writeFileSync(
      join(dir, 'skeleton/catalog-info.yaml'),
      'metadata:\n  name: ${{ values.name }}\n',
    );
    const catalogFile = join(dir, 'catalog.yaml');
    writeFileSync(
      catalogFile,
      catalog([
        template,
        join(repoRoot, 'deploy/backstage/promote-template.yaml'),
      ]),
    );

    ({ cairn, app, stop } = await startAppWithCairn({
      catalogFile,
      config: {
        auth: {
          providers: {
            'cairn-test-users': {},
            guest: { userEntityRef: 'user:default/guest' },
          },
        },
        cairnTesting: { githubStandIns: true },
      },
    }));
    // The guest signs in before the catalog has read its User entity (the
    // provider falls back to a token of its own), the others only after.
    const token = await guestToken(app);
    for (const name of ['node-microservice', 'promote-to-production']) {
      await waitForEntity(app, token, { kind: 'template', name });
    }
    for (const name of ['lee', 'guest']) {
      await waitForEntity(app, token, { kind: 'user', name });
    }
  });

  afterAll(async () => {
    await stop?.();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Runs a template as the holder of token, as the scaffolder's UI does, until it ends. */
  async function runTemplate(
    token: string,
    templateName: string,
    values: Record<string, unknown>,
  ): Promise<Task> {
    const api = `${app.url}/api/scaffolder/v2/tasks`;
    const headers = {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
    };
    const created = await fetch(api, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        templateRef: `template:default/${templateName}`,
        values,
      }),
    });
    const body = await created.json();
    expect([created.status, body]).toEqual([201, { id: expect.any(String) }]);
    const deadline = Date.now() + 300_000;
    for (;;) {
      const task = await (await fetch(`${api}/${body.id}`, { headers })).json();
      if (!['open', 'processing'].includes(task.status)) {
        const events = await (
          await fetch(`${api}/${body.id}/events`, { headers })
        ).json();
        return {
          id: body.id,
          status: task.status,
          log: events.map((e: any) => String(e.body?.message ?? '')),
        };
      }
      if (Date.now() > deadline) {
        throw new Error(`task ${body.id} still ${task.status}:\n${app.log()}`);
      }
      await new Promise(r => setTimeout(r, 500));
    }
  }

  const service = {
    description: 'Takes payments',
    owner: `group:default/${team}`,
    database: 'postgresql',
    databaseSize: 'small',
    bucket: true,
    environments: ['staging', 'production'],
    replicaCount: 2,
  };

  it("creates the service as the user who ran the template, whose teams Cairn read from the auth backend's user info", async () => {
    const lee = await testUserToken(app, 'lee');
    // As Backstage issues them by default: no ownership claim.
    const claims = JSON.parse(
      Buffer.from(lee.split('.')[1], 'base64url').toString(),
    );
    expect(claims).toMatchObject({ sub: 'user:default/lee' });
    expect(claims).not.toHaveProperty('ent');

    const task = await runTemplate(lee, 'node-microservice', {
      ...service,
      name: 'payments-api',
    });
    expect([task.status, task.log]).toEqual([
      'completed',
      expect.arrayContaining([
        expect.stringMatching(
          /payments-api is estimated at \d+\.\d\d USD per month/,
        ),
        expect.stringMatching(/payments-api is ready/),
      ]),
    ]);

    const status = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/services/payments-api/status',
    );
    expect(status.body.phase).toBe('ready');
    const audit = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/auditEvents?action=cairn.v1.ProvisioningService/CreateService',
    );
    expect(
      audit.body.auditEvents.map((e: any) => [
        e.principal,
        e.requestId,
        e.outcome,
      ]),
    ).toEqual([['user:default/lee', task.id, 'succeeded']]);
  });

  it('requests a promotion as the user who ran the template, who then cannot approve it', async () => {
    const lee = await testUserToken(app, 'lee');
    const task = await runTemplate(lee, 'promote-to-production', {
      service: 'component:default/payments-api',
      revision: 'v1.0.0',
    });
    expect([task.status, task.log.join('\n')]).toEqual([
      'completed',
      expect.stringContaining('Requested v1.0.0 of payments-api in production'),
    ]);

    const promotions = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/services/payments-api/promotions',
    );
    expect(
      promotions.body.promotions.map((p: any) => [
        p.revision,
        p.state,
        p.requester,
      ]),
    ).toEqual([['v1.0.0', 'pending', 'user:default/lee']]);
    const audit = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/auditEvents?action=cairn.v1.ProvisioningService/CreatePromotion',
    );
    expect(
      audit.body.auditEvents.map((e: any) => [e.principal, e.outcome]),
    ).toEqual([['user:default/lee', 'succeeded']]);

    // Lee approves team-orders' releases, but not one Lee asked for.
    const approval = await cairn.call(
      lee,
      'POST',
      `/v1/${promotions.body.promotions[0].name}:approve`,
      { reason: 'ship it' },
    );
    expect([approval.status, approval.body.message]).toEqual([
      403,
      'a promotion is decided by someone other than its requester',
    ]);
  });

  it('refuses a user outside the owning team, saying why in the task log and on the task page', async () => {
    const guest = await guestToken(app);
    expect(
      JSON.parse(Buffer.from(guest.split('.')[1], 'base64url').toString()),
    ).not.toHaveProperty('ent');
    const task = await runTemplate(guest, 'node-microservice', {
      ...service,
      name: 'orders-ledger',
    });
    const refusal = `user:default/guest may not change services of team "${team}"`;
    expect([task.status, task.log.join('\n')]).toEqual([
      'failed',
      expect.stringContaining(refusal),
    ]);
    const listed = await cairn.call(tokens.admin, 'GET', '/v1/services');
    expect(listed.body.services.map((s: any) => s.name)).not.toContain(
      'services/orders-ledger',
    );
    const audit = await cairn.call(
      tokens.admin,
      'GET',
      `/v1/auditEvents?principal=${encodeURIComponent('user:default/guest')}`,
    );
    expect(
      audit.body.auditEvents.map((e: any) => [e.requestId, e.outcome]),
    ).toEqual([[task.id, 'denied']]);

    // The scaffolder's own page for the task, as the guest sees it.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1400, height: 1200 },
      });
      await page.goto(`${app.url}/create/tasks/${task.id}`);
      await page.getByRole('button', { name: 'Enter' }).click();
      await page
        .getByText(refusal, { exact: false })
        .first()
        .waitFor({ timeout: 60_000 })
        .catch(async e => {
          await page.screenshot({
            path: join(shots, 'refused-task-failed.png'),
            fullPage: true,
          });
          throw new Error(
            `${e}\npage text: ${await page.locator('body').innerText()}`,
          );
        });
      await page.screenshot({
        path: join(shots, 'refused-task.png'),
        fullPage: true,
      });
    } finally {
      await browser.close();
    }
  });
});
