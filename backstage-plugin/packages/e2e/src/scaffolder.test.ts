/** @jest-environment node */
import { mockServices } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import {
  cairnClientsFromConfig,
  createServiceAction,
  estimateCostAction,
  requestPromotionAction,
  waitUntilReadyAction,
} from '@cairn-dev/plugin-scaffolder-backend-module-cairn';
import {
  BackstageAuth,
  BackstageUser,
  startBackstageAuth,
} from './__testUtils__/backstageAuth';
import {
  appConfig,
  Cairn,
  startCairn,
  team,
  tokens,
} from './__testUtils__/harness';

type CreateInput = Parameters<
  ReturnType<typeof createServiceAction>['handler']
>[0]['input'];

// The scaffolder actions against the real cairn binary on a real
// kube-apiserver, configured by deploy/backstage/app-config.cairn.yaml and
// cairn-auth.yaml, as a template's steps run them for the user who started
// the task.
jest.setTimeout(240_000);

/** An approver of team-orders, who runs the template. */
const lee: BackstageUser = {
  ref: 'user:default/lee',
  groups: [`group:default/${team}`, 'group:default/release-approvers'],
};
/** A developer of another team. */
const sam: BackstageUser = {
  ref: 'user:default/sam',
  groups: ['group:default/team-search'],
};

describe('the scaffolder actions against Cairn', () => {
  let auth: BackstageAuth;
  let cairn: Cairn;
  beforeAll(async () => {
    auth = await startBackstageAuth();
    cairn = await startCairn({ backstageUrl: auth.url });
  });
  afterAll(async () => {
    await cairn?.stop();
    await auth?.stop();
  });

  /** A task's context as the scaffolder gives it for user's task. */
  function taskContext<I extends Record<string, any>>(
    user: BackstageUser,
    options: { input: I; task: { id: string } },
  ) {
    return createMockActionContext<I>({
      ...options,
      secrets: { backstageToken: auth.token(user) },
    });
  }

  const spec: Omit<CreateInput, 'entityNamespace'> = {
    name: 'payments-api',
    owner: `group:default/${team}`,
    template: 'node-microservice',
    database: 'postgresql',
    databaseSize: 'small',
    bucket: true,
    environments: ['staging', 'production'],
    repositoryUrl: 'https://github.com/company/payments-api.git',
  };

  it('estimates, creates, waits until ready and requests a promotion', async () => {
    const clients = cairnClientsFromConfig(
      mockServices.rootConfig({ data: appConfig(cairn) }),
    );
    const task = { id: 'c0ffee00-0000-4000-8000-000000000001' };

    try {
      const estimate = taskContext(lee, { input: spec, task });
      await estimateCostAction({ clients }).handler(estimate);
      const estimated = outputs(estimate);
      expect(estimated.currency).toBe('USD');
      expect(estimated.totalMonthlyCost).toBeGreaterThan(0);
      expect(estimated.breakdown.map((l: any) => l.resource)).toEqual(
        expect.arrayContaining(['payments-api-bucket', 'payments-api-db']),
      );
      const sum = estimated.breakdown.reduce(
        (s: number, l: any) => s + l.monthlyCost,
        0,
      );
      expect(estimated.totalMonthlyCost).toBeCloseTo(sum, 2);
      expect(estimated.summary).toBe(
        `${estimated.totalMonthlyCost.toFixed(2)} USD per month`,
      );

      const create = taskContext(lee, {
        input: { ...spec, entityNamespace: 'default' },
        task,
      });
      await createServiceAction({ clients }).handler(create);
      expect(outputs(create)).toEqual({
        service: 'payments-api',
        status: 'provisioning',
        resources: ['database:postgresql', 'bucket'],
        environments: ['staging', 'production'],
        entityRef: 'component:default/payments-api',
      });

      // A retried step (same task, no checkpoint left) creates nothing new:
      // Cairn answers the request id with what it recorded.
      const retry = taskContext(lee, {
        input: { ...spec, entityNamespace: 'default' },
        task,
      });
      await createServiceAction({ clients }).handler(retry);
      expect(outputs(retry).status).toBe('provisioning');

      const wait = taskContext(lee, {
        input: {
          name: 'payments-api',
          timeoutSeconds: 120,
          entityNamespace: 'default',
        },
        task,
      });
      await waitUntilReadyAction({ clients, pollIntervalMs: 250 }).handler(
        wait,
      );
      const ready = outputs(wait);
      expect(ready.phase).toBe('ready');
      expect(ready.environments).toEqual([
        'production: OutOfSync, Missing',
        'staging: Synced, Healthy',
      ]);
      expect(ready.provisioningDuration).toMatch(/^\d+(\.\d+)?s$/);

      const promote = taskContext(lee, {
        input: {
          name: 'payments-api',
          revision: 'v1.0.0',
          entityNamespace: 'default',
        },
        task,
      });
      await requestPromotionAction({ clients }).handler(promote);
      expect(outputs(promote)).toMatchObject({
        state: 'pending',
        entityRef: 'component:default/payments-api',
      });
    } catch (e) {
      throw new Error(`${e}\n--- cairn ---\n${cairn.log()}`);
    }

    // What Cairn holds now, read as an admin would.
    const service = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/services/payments-api',
    );
    expect(service.status).toBe(200);
    expect(service.body).toMatchObject({
      name: 'services/payments-api',
      owner: `group:default/${team}`,
      goldenPath: true,
    });

    const status = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/services/payments-api/status',
    );
    expect(status.body.phase).toBe('ready');
    expect(
      status.body.infrastructure.map((c: any) => [c.resource, c.ready]),
    ).toEqual([
      ['payments-api-bucket', true],
      ['payments-api-db', true],
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
    ).toEqual([['v1.0.0', 'pending', lee.ref]]);

    // Lee approves releases of the team, but not a release Lee asked for.
    const promotion = promotions.body.promotions[0].name;
    const ownApproval = await cairn.call(
      auth.token(lee),
      'POST',
      `/v1/${promotion}:approve`,
      { reason: 'looks good' },
    );
    expect([ownApproval.status, ownApproval.body.message]).toEqual([
      403,
      'a promotion is decided by someone other than its requester',
    ]);

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
    ).toEqual([
      [lee.ref, task.id, 'succeeded'],
      [lee.ref, task.id, 'succeeded'],
    ]);
    const promotionAudit = await cairn.call(
      tokens.admin,
      'GET',
      '/v1/auditEvents?action=cairn.v1.ProvisioningService/CreatePromotion',
    );
    expect(
      promotionAudit.body.auditEvents.map((e: any) => [e.principal, e.outcome]),
    ).toEqual([[lee.ref, 'succeeded']]);
  });

  it("fails with Cairn's reasons when the input is refused", async () => {
    const clients = cairnClientsFromConfig(
      mockServices.rootConfig({ data: appConfig(cairn) }),
    );
    const create = taskContext(lee, {
      input: { ...spec, name: 'Payments_API', entityNamespace: 'default' },
      task: { id: 'c0ffee00-0000-4000-8000-000000000002' },
    });
    await expect(
      createServiceAction({ clients }).handler(create),
    ).rejects.toThrow(/invalid request: check name/);

    const listed = await cairn.call(tokens.admin, 'GET', '/v1/services');
    expect(listed.body.services.map((s: any) => s.name)).not.toContain(
      'services/Payments_API',
    );
  });

  it('refuses a user who runs the template for a team not theirs, saying why, and records it under that user', async () => {
    const clients = cairnClientsFromConfig(
      mockServices.rootConfig({ data: appConfig(cairn) }),
    );
    const task = { id: 'c0ffee00-0000-4000-8000-000000000003' };
    const create = taskContext(sam, {
      input: { ...spec, name: 'orders-ledger', entityNamespace: 'default' },
      task,
    });
    const refused = createServiceAction({ clients }).handler(create);
    await expect(refused).rejects.toMatchObject({ status: 403 });
    await expect(refused).rejects.toThrow(/team-orders/);

    const listed = await cairn.call(tokens.admin, 'GET', '/v1/services');
    expect(listed.body.services.map((s: any) => s.name)).not.toContain(
      'services/orders-ledger',
    );
    const audit = await cairn.call(
      tokens.admin,
      'GET',
      `/v1/auditEvents?principal=${encodeURIComponent(sam.ref)}`,
    );
    expect(
      audit.body.auditEvents.map((e: any) => [e.requestId, e.outcome]),
    ).toEqual([[task.id, 'denied']]);
  });
});

/** Everything an action output, by name. */
function outputs(
  ctx: ReturnType<typeof createMockActionContext>,
): Record<string, any> {
  return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
}
