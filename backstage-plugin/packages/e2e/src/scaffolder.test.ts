/** @jest-environment node */
import { mockServices } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import {
  cairnClientFromConfig,
  createServiceAction,
  estimateCostAction,
  requestPromotionAction,
  waitUntilReadyAction,
} from '@cairn-dev/plugin-scaffolder-backend-module-cairn';
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
// kube-apiserver, configured by deploy/backstage/app-config.cairn.yaml, as a
// template's steps run them.
jest.setTimeout(240_000);

describe('the scaffolder actions against Cairn', () => {
  let cairn: Cairn;
  beforeAll(async () => {
    cairn = await startCairn();
  });
  afterAll(async () => {
    await cairn?.stop();
  });

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
    const client = cairnClientFromConfig(
      mockServices.rootConfig({ data: appConfig(cairn) }),
    );
    const task = { id: 'c0ffee00-0000-4000-8000-000000000001' };

    try {
      const estimate = createMockActionContext({ input: spec, task });
      await estimateCostAction({ client }).handler(estimate);
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

      const create = createMockActionContext({
        input: { ...spec, entityNamespace: 'default' },
        task,
      });
      await createServiceAction({ client }).handler(create);
      expect(outputs(create)).toEqual({
        service: 'payments-api',
        status: 'provisioning',
        resources: ['database:postgresql', 'bucket'],
        environments: ['staging', 'production'],
        entityRef: 'component:default/payments-api',
      });

      // A retried step (same task, no checkpoint left) creates nothing new:
      // Cairn answers the request id with what it recorded.
      const retry = createMockActionContext({
        input: { ...spec, entityNamespace: 'default' },
        task,
      });
      await createServiceAction({ client }).handler(retry);
      expect(outputs(retry).status).toBe('provisioning');

      const wait = createMockActionContext({
        input: {
          name: 'payments-api',
          timeoutSeconds: 120,
          entityNamespace: 'default',
        },
        task,
      });
      await waitUntilReadyAction({ client, pollIntervalMs: 250 }).handler(wait);
      const ready = outputs(wait);
      expect(ready.phase).toBe('ready');
      expect(ready.environments).toEqual([
        'production: OutOfSync, Missing',
        'staging: Synced, Healthy',
      ]);
      expect(ready.provisioningDuration).toMatch(/^\d+(\.\d+)?s$/);

      const promote = createMockActionContext({
        input: {
          name: 'payments-api',
          revision: 'v1.0.0',
          entityNamespace: 'default',
        },
        task,
      });
      await requestPromotionAction({ client }).handler(promote);
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
    ).toEqual([['v1.0.0', 'pending', 'backstage-scaffolder']]);

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
      ['backstage-scaffolder', task.id, 'succeeded'],
      ['backstage-scaffolder', task.id, 'succeeded'],
    ]);
  });

  it("fails with Cairn's reasons when the input is refused", async () => {
    const client = cairnClientFromConfig(
      mockServices.rootConfig({ data: appConfig(cairn) }),
    );
    const create = createMockActionContext({
      input: { ...spec, name: 'Payments_API', entityNamespace: 'default' },
      task: { id: 'c0ffee00-0000-4000-8000-000000000002' },
    });
    await expect(
      createServiceAction({ client }).handler(create),
    ).rejects.toThrow(/invalid request: check name/);

    const listed = await cairn.call(tokens.admin, 'GET', '/v1/services');
    expect(listed.body.services.map((s: any) => s.name)).not.toContain(
      'services/Payments_API',
    );
  });

  it("may not create for a team the scaffolder's token does not belong to", async () => {
    const client = cairnClientFromConfig(
      mockServices.rootConfig({ data: appConfig(cairn) }),
    );
    const create = createMockActionContext({
      input: {
        ...spec,
        name: 'search-api',
        owner: 'group:default/team-search',
        entityNamespace: 'default',
      },
      task: { id: 'c0ffee00-0000-4000-8000-000000000003' },
    });
    await expect(
      createServiceAction({ client }).handler(create),
    ).rejects.toMatchObject({ status: 403 });
  });
});

/** Everything an action output, by name. */
function outputs(
  ctx: ReturnType<typeof createMockActionContext>,
): Record<string, any> {
  return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
}
