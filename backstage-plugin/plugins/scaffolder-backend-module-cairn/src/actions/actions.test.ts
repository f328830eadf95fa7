/** @jest-environment node */
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import {
  CairnError,
  CreateServiceResponse,
  ServiceStatus,
} from '@cairn-dev/plugin-cairn-common';
import { z } from 'zod/v3';
import type { CairnActionsClient, CairnClients } from '../client';
import { createServiceAction } from './createService';
import { estimateCostAction } from './estimateCost';
import { promotionRequestId, requestPromotionAction } from './requestPromotion';
import { serviceSpecInput } from './serviceSpec';
import { waitUntilReadyAction } from './waitUntilReady';

// createMockActionContext takes no checkpoint, isDryRun or signal: tests
// that need them set them on the context it returns.
//
// The actions' own logic against a client that answers as Cairn does; the
// same actions against the real cairn binary are tested in packages/e2e.
function client(overrides: Partial<CairnActionsClient>): CairnActionsClient {
  const unexpected = (method: string) => () =>
    Promise.reject(new Error(`the action should not call ${method}`));
  return {
    createService: unexpected('createService'),
    getServiceStatus: unexpected('getServiceStatus'),
    estimateServiceCost: unexpected('estimateServiceCost'),
    createPromotion: unexpected('createPromotion'),
    ...overrides,
  };
}

/** The Backstage token of the user who started the test task. */
const USER_TOKEN = 'backstage-token-of-jane';

/**
 * Clients that answer as overrides say for the user's token (and refuse any
 * other), recording every token the actions asked to act with.
 */
function clients(
  overrides: Partial<CairnActionsClient>,
  readOnly?: CairnActionsClient,
): CairnClients & { tokens: string[] } {
  const tokens: string[] = [];
  return {
    tokens,
    readOnly,
    asUser(token) {
      tokens.push(token);
      if (token !== USER_TOKEN) {
        throw new Error(`the action acts with ${token}, not the user's token`);
      }
      return client(overrides);
    },
  };
}

/** A context of a task started by the signed-in user. */
function userContext<I extends Record<string, any>>(
  options: Parameters<typeof createMockActionContext<I>>[0],
) {
  return createMockActionContext<I>({
    ...options,
    secrets: { backstageToken: USER_TOKEN },
  });
}

const created: CreateServiceResponse = {
  service: 'orders-service',
  repository: 'https://github.com/company/orders-service.git',
  environments: ['staging', 'production'],
  resources: ['database:postgresql', 'bucket'],
  status: 'provisioning',
};

type CreateInput = Parameters<
  ReturnType<typeof createServiceAction>['handler']
>[0]['input'];

const specInput: Omit<CreateInput, 'entityNamespace'> = {
  name: 'orders-service',
  owner: 'group:default/team-orders',
  database: 'postgresql',
  databaseSize: 'small',
  bucket: true,
  environments: ['staging', 'production'],
  repositoryUrl: 'https://github.com/company/orders-service.git',
};

const readyStatus: ServiceStatus = {
  service: 'orders-service',
  phase: 'ready',
  provisioningDuration: '4.2s',
  deployments: [
    // Production syncs only on a promotion, and none was approved yet.
    {
      environment: 'production',
      syncStatus: 'OutOfSync',
      healthStatus: 'Missing',
      application: 'orders-service-production',
      awaitingPromotion: true,
    },
    {
      environment: 'staging',
      syncStatus: 'Synced',
      healthStatus: 'Healthy',
      application: 'orders-service-staging',
      awaitingPromotion: false,
    },
  ],
  infrastructure: [
    {
      resource: 'orders-service-db',
      kind: 'DatabaseClaim',
      ready: true,
      reason: 'Available',
    },
  ],
};

describe('cairn:service:create', () => {
  it('sends the task id as the request id and outputs what Cairn recorded', async () => {
    const createService = jest.fn().mockResolvedValue(created);
    const action = createServiceAction({ clients: clients({ createService }) });
    const ctx = userContext({
      input: { ...specInput, entityNamespace: 'default' },
      task: { id: 'task-1234' },
    });
    await action.handler(ctx);

    expect(createService).toHaveBeenCalledWith({
      name: 'orders-service',
      owner: 'group:default/team-orders',
      database: 'postgresql',
      databaseSize: 'small',
      bucket: true,
      environments: ['staging', 'production'],
      repositoryUrl: 'https://github.com/company/orders-service.git',
      requestId: 'task-1234',
      validateOnly: false,
    });
    expect(ctx.output).toHaveBeenCalledWith('service', 'orders-service');
    expect(ctx.output).toHaveBeenCalledWith('status', 'provisioning');
    expect(ctx.output).toHaveBeenCalledWith('resources', [
      'database:postgresql',
      'bucket',
    ]);
    expect(ctx.output).toHaveBeenCalledWith('environments', [
      'staging',
      'production',
    ]);
    expect(ctx.output).toHaveBeenCalledWith(
      'entityRef',
      'component:default/orders-service',
    );
  });

  it('acts as the user who started the task', async () => {
    const all = clients({ createService: async () => created });
    await createServiceAction({ clients: all }).handler(
      userContext({
        input: { ...specInput, entityNamespace: 'default' },
        task: { id: 'task-1234' },
      }),
    );
    expect(all.tokens).toEqual([USER_TOKEN]);
  });

  it('calls Cairn inside a checkpoint, so a resumed task does not create again', async () => {
    const createService = jest.fn().mockResolvedValue(created);
    const action = createServiceAction({ clients: clients({ createService }) });
    const recorded = new Map<string, unknown>();
    const checkpoint = jest.fn(
      async ({ key, fn }: { key: string; fn: () => Promise<any> }) => {
        if (!recorded.has(key)) {
          recorded.set(key, await fn());
        }
        return recorded.get(key);
      },
    );
    for (let run = 0; run < 2; run++) {
      await action.handler({
        ...userContext({
          input: { ...specInput, entityNamespace: 'default' },
          task: { id: 'task-1234' },
        }),
        checkpoint: checkpoint as any,
      });
    }
    expect(createService).toHaveBeenCalledTimes(1);
    expect(checkpoint.mock.calls.map(([opts]) => opts.key)).toEqual([
      'cairn.create.orders-service',
      'cairn.create.orders-service',
    ]);
  });

  it('only validates in a dry run', async () => {
    const createService = jest
      .fn()
      .mockResolvedValue({ ...created, status: 'validated' });
    const action = createServiceAction({ clients: clients({ createService }) });
    const ctx = {
      ...userContext({
        input: {
          ...specInput,
          database: 'none' as const,
          entityNamespace: 'default',
        },
      }),
      isDryRun: true,
    };
    await action.handler(ctx);
    expect(createService.mock.calls[0][0]).toMatchObject({
      validateOnly: true,
      database: undefined,
      databaseSize: undefined,
    });
    expect(ctx.output).toHaveBeenCalledWith('status', 'validated');
  });

  it("fails with Cairn's field violations", async () => {
    const error = new CairnError({
      message: 'invalid request: check name',
      status: 400,
      code: 3,
      fieldViolations: [
        { field: 'name', description: 'must be a DNS-1123 label' },
      ],
    });
    const action = createServiceAction({
      clients: clients({ createService: () => Promise.reject(error) }),
    });
    await expect(
      action.handler(
        userContext({
          input: { ...specInput, name: 'Orders', entityNamespace: 'default' },
        }),
      ),
    ).rejects.toThrow('invalid request: check name');
  });

  it('describes every input for the template editor', () => {
    const action = createServiceAction({ clients: clients({}) });
    const input = action.schema?.input as any;
    for (const [name, property] of Object.entries<any>(input.properties)) {
      expect([name, typeof property.description]).toEqual([name, 'string']);
    }
    expect(input.required).toEqual(['name', 'owner', 'repositoryUrl']);
  });
});

describe("a planned service's environments", () => {
  const environments = serviceSpecInput.environments(z);
  const sixteen = Array.from({ length: 16 }, (_, i) => `env-${i}`);

  it.each([
    [['dev', 'production-eu', 'production-us']],
    [['qa']],
    [['e'.repeat(63)]],
    [['1st', 'staging-2']],
    [sixteen],
  ])('takes names of any promotion path: %j', names => {
    expect(environments.parse(names)).toEqual(names);
  });

  it('is staging and production when left out', () => {
    expect(environments.parse(undefined)).toEqual(['staging', 'production']);
  });

  it.each([
    ['none', []],
    ['more than 16', [...sixteen, 'env-16']],
    ['a capital', ['Production']],
    ['an underscore', ['production_eu']],
    ['a leading hyphen', ['-dev']],
    ['a trailing hyphen', ['dev-']],
    ['a dot', ['prod.eu']],
    ['an empty name', ['']],
    ['64 characters', ['e'.repeat(64)]],
    ['a name twice', ['staging', 'production', 'staging']],
  ])('refuses %s', (_, names) => {
    expect(environments.safeParse(names).success).toBe(false);
  });

  it.each([
    ['cairn:service:create', createServiceAction],
    ['cairn:cost:estimate', estimateCostAction],
  ])(
    'are checked by the scaffolder against the JSON Schema of %s, unique items included',
    (_, make) => {
      const input = make({ clients: clients({}) }).schema?.input as any;
      expect(input.properties.environments).toEqual({
        type: 'array',
        items: {
          type: 'string',
          maxLength: 63,
          pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
        },
        minItems: 1,
        maxItems: 16,
        uniqueItems: true,
        default: ['staging', 'production'],
        description: expect.stringContaining(
          'Cairn checks them against its path and refuses any other',
        ),
      });
    },
  );

  it('are sent to Cairn as the template names them', async () => {
    const createService = jest.fn().mockResolvedValue({
      ...created,
      environments: ['dev', 'production-eu'],
    });
    const ctx = userContext({
      input: {
        ...specInput,
        environments: ['dev', 'production-eu'],
        entityNamespace: 'default',
      },
      task: { id: 'task-1234' },
    });
    await createServiceAction({ clients: clients({ createService }) }).handler(
      ctx,
    );
    expect(createService.mock.calls[0][0].environments).toEqual([
      'dev',
      'production-eu',
    ]);
    expect(ctx.output).toHaveBeenCalledWith('environments', [
      'dev',
      'production-eu',
    ]);
  });
});

describe('cairn:service:wait-until-ready', () => {
  it('reads the status until ready and outputs the environments', async () => {
    const getServiceStatus = jest
      .fn()
      .mockResolvedValueOnce({ ...readyStatus, phase: 'pending' })
      .mockResolvedValueOnce({ ...readyStatus, phase: 'provisioning' })
      .mockResolvedValueOnce(readyStatus);
    const action = waitUntilReadyAction({
      clients: clients({ getServiceStatus }),
      pollIntervalMs: 1,
    });
    const ctx = userContext({
      input: {
        name: 'orders-service',
        timeoutSeconds: 60,
        entityNamespace: 'default',
      },
    });
    await action.handler(ctx);

    expect(getServiceStatus).toHaveBeenCalledTimes(3);
    expect(ctx.output).toHaveBeenCalledWith('phase', 'ready');
    expect(ctx.output).toHaveBeenCalledWith('provisioningDuration', '4.2s');
    expect(ctx.output).toHaveBeenCalledWith('environments', [
      'production: OutOfSync, Missing',
      'staging: Synced, Healthy',
    ]);
    expect(ctx.output).toHaveBeenCalledWith(
      'entityRef',
      'component:default/orders-service',
    );
  });

  it('fails at once when provisioning fails, saying what failed', async () => {
    const failed: ServiceStatus = {
      ...readyStatus,
      phase: 'failed',
      deployments: [
        readyStatus.deployments![0],
        {
          environment: 'staging',
          syncStatus: 'OutOfSync',
          healthStatus: 'Degraded',
          application: 'orders-service-staging',
        },
      ],
      infrastructure: [
        {
          resource: 'orders-service-db',
          kind: 'DatabaseClaim',
          ready: false,
          reason: 'Unavailable',
          message: 'no composition for engine oracle',
        },
      ],
    };
    const action = waitUntilReadyAction({
      clients: clients({ getServiceStatus: async () => failed }),
      pollIntervalMs: 1,
    });
    const ctx = userContext({
      input: {
        name: 'orders-service',
        timeoutSeconds: 60,
        entityNamespace: 'default',
      },
    });
    const logError = jest.spyOn(ctx.logger, 'error');
    await expect(action.handler(ctx)).rejects.toThrow(
      'Provisioning orders-service failed: DatabaseClaim orders-service-db: Unavailable: no composition for engine oracle; ' +
        'staging (Application orders-service-staging): OutOfSync, Degraded',
    );
    expect(logError).toHaveBeenCalledWith(
      'DatabaseClaim orders-service-db: Unavailable: no composition for engine oracle',
    );
  });

  it('holds no environment against the service while it awaits its first promotion, whatever its name', async () => {
    // A path of dev, then production-eu and production-us, which sync on
    // promotion: production-eu was promoted and is Missing all the same,
    // production-us awaits its first promotion.
    const timedOut: ServiceStatus = {
      ...readyStatus,
      phase: 'degraded',
      deployments: [
        {
          environment: 'dev',
          syncStatus: 'Synced',
          healthStatus: 'Healthy',
          application: 'orders-service-dev',
          awaitingPromotion: false,
        },
        {
          environment: 'production-eu',
          syncStatus: 'OutOfSync',
          healthStatus: 'Missing',
          application: 'orders-service-production-eu',
          awaitingPromotion: false,
        },
        {
          environment: 'production-us',
          syncStatus: 'OutOfSync',
          healthStatus: 'Missing',
          application: 'orders-service-production-us',
          awaitingPromotion: true,
        },
      ],
    };
    const action = waitUntilReadyAction({
      clients: clients({ getServiceStatus: async () => timedOut }),
      pollIntervalMs: 1,
    });
    const ctx = userContext({
      input: {
        name: 'orders-service',
        timeoutSeconds: 1,
        entityNamespace: 'default',
      },
    });
    const logError = jest.spyOn(ctx.logger, 'error');
    await expect(action.handler(ctx)).rejects.toThrow(
      new Error(
        'orders-service was not ready within 1 s (phase degraded): ' +
          'production-eu (Application orders-service-production-eu): OutOfSync, Missing',
      ),
    );
    expect(logError.mock.calls).toEqual([
      [
        'production-eu (Application orders-service-production-eu): OutOfSync, Missing',
      ],
    ]);
  });

  it('reports a production that is Missing once promoted', async () => {
    const failed: ServiceStatus = {
      ...readyStatus,
      phase: 'failed',
      deployments: [
        { ...readyStatus.deployments![0], awaitingPromotion: false },
        readyStatus.deployments![1],
      ],
    };
    const action = waitUntilReadyAction({
      clients: clients({ getServiceStatus: async () => failed }),
      pollIntervalMs: 1,
    });
    await expect(
      action.handler(
        userContext({
          input: {
            name: 'orders-service',
            timeoutSeconds: 60,
            entityNamespace: 'default',
          },
        }),
      ),
    ).rejects.toThrow(
      new Error(
        'Provisioning orders-service failed: production (Application orders-service-production): OutOfSync, Missing',
      ),
    );
  });

  it('fails at the timeout, saying what is not ready yet', async () => {
    const creating: ServiceStatus = {
      ...readyStatus,
      phase: 'provisioning',
      infrastructure: [
        {
          resource: 'orders-service-db',
          kind: 'DatabaseClaim',
          ready: false,
          reason: 'Creating',
        },
      ],
    };
    const action = waitUntilReadyAction({
      clients: clients({ getServiceStatus: async () => creating }),
      pollIntervalMs: 1,
    });
    await expect(
      action.handler(
        userContext({
          input: {
            name: 'orders-service',
            timeoutSeconds: 1,
            entityNamespace: 'default',
          },
        }),
      ),
    ).rejects.toThrow(
      'orders-service was not ready within 1 s (phase provisioning): DatabaseClaim orders-service-db: Creating',
    );
  });

  it('stops waiting when the task is cancelled', async () => {
    const controller = new AbortController();
    const getServiceStatus = jest.fn(async () => {
      controller.abort();
      return { ...readyStatus, phase: 'provisioning' };
    });
    const action = waitUntilReadyAction({
      clients: clients({ getServiceStatus }),
      pollIntervalMs: 60_000,
    });
    await expect(
      action.handler({
        ...userContext({
          input: {
            name: 'orders-service',
            timeoutSeconds: 600,
            entityNamespace: 'default',
          },
        }),
        signal: controller.signal,
      }),
    ).rejects.toThrow('The task was cancelled');
    expect(getServiceStatus).toHaveBeenCalledTimes(1);
  });
});

describe("the user's identity", () => {
  const expired = new CairnError({
    message: 'token expired',
    status: 401,
    code: 16,
  });

  it.each([
    [
      'cairn:service:create',
      (c: CairnClients) => createServiceAction({ clients: c }),
      { ...specInput, entityNamespace: 'default' },
    ],
    [
      'cairn:cost:estimate',
      (c: CairnClients) => estimateCostAction({ clients: c }),
      specInput,
    ],
    [
      'cairn:promotion:request',
      (c: CairnClients) => requestPromotionAction({ clients: c }),
      {
        name: 'orders-service',
        revision: 'v1.4.0',
        entityNamespace: 'default',
      },
    ],
    [
      'cairn:service:wait-until-ready',
      (c: CairnClients) => waitUntilReadyAction({ clients: c }),
      {
        name: 'orders-service',
        timeoutSeconds: 60,
        entityNamespace: 'default',
      },
    ],
  ] as const)(
    '%s refuses a task without a user token and calls nothing, not even with the read-only token',
    async (_, make, input) => {
      const readOnly = client({});
      const all = clients({}, readOnly);
      await expect(
        make(all).handler(createMockActionContext({ input } as any) as any),
      ).rejects.toThrow(/no Backstage user token/);
      expect(all.tokens).toEqual([]);
    },
  );

  it("waits on with the read-only token once Cairn refuses the user's expired token", async () => {
    const userStatus = jest
      .fn()
      .mockResolvedValueOnce({ ...readyStatus, phase: 'provisioning' })
      .mockRejectedValue(expired);
    const readOnlyStatus = jest.fn().mockResolvedValue(readyStatus);
    const action = waitUntilReadyAction({
      clients: clients(
        { getServiceStatus: userStatus },
        client({ getServiceStatus: readOnlyStatus }),
      ),
      pollIntervalMs: 1,
    });
    const ctx = userContext({
      input: {
        name: 'orders-service',
        timeoutSeconds: 60,
        entityNamespace: 'default',
      },
    });
    await action.handler(ctx);
    expect(userStatus).toHaveBeenCalledTimes(2);
    expect(readOnlyStatus).toHaveBeenCalledTimes(1);
    expect(ctx.output).toHaveBeenCalledWith('phase', 'ready');
  });

  it("fails on the user's expired token when no read-only token is configured", async () => {
    const action = waitUntilReadyAction({
      clients: clients({ getServiceStatus: () => Promise.reject(expired) }),
      pollIntervalMs: 1,
    });
    await expect(
      action.handler(
        userContext({
          input: {
            name: 'orders-service',
            timeoutSeconds: 60,
            entityNamespace: 'default',
          },
        }),
      ),
    ).rejects.toThrow('token expired');
  });

  it('never falls back for a change: a refused create fails', async () => {
    const readOnlyCreate = jest.fn().mockResolvedValue(created);
    const action = createServiceAction({
      clients: clients(
        { createService: () => Promise.reject(expired) },
        client({ createService: readOnlyCreate }),
      ),
    });
    await expect(
      action.handler(
        userContext({ input: { ...specInput, entityNamespace: 'default' } }),
      ),
    ).rejects.toThrow('token expired');
    expect(readOnlyCreate).not.toHaveBeenCalled();
  });
});

describe('cairn:cost:estimate', () => {
  it('outputs the estimate and its breakdown', async () => {
    const estimateServiceCost = jest.fn().mockResolvedValue({
      serviceName: 'orders-service',
      totalMonthlyCost: 112.02,
      currency: 'USD',
      breakdown: [
        {
          resource: 'orders-service-db',
          type: 'database',
          monthlyCost: 109.72,
          trend: 'stable',
          source: 'estimated',
        },
        {
          resource: 'orders-service-bucket',
          type: 'storage',
          monthlyCost: 2.3,
          trend: 'stable',
          source: 'estimated',
        },
      ],
    });
    const action = estimateCostAction({
      clients: clients({ estimateServiceCost }),
    });
    const ctx = userContext({ input: specInput });
    await action.handler(ctx);

    expect(estimateServiceCost.mock.calls[0][0]).not.toHaveProperty(
      'requestId',
    );
    expect(ctx.output).toHaveBeenCalledWith('totalMonthlyCost', 112.02);
    expect(ctx.output).toHaveBeenCalledWith('currency', 'USD');
    expect(ctx.output).toHaveBeenCalledWith('summary', '112.02 USD per month');
    expect(ctx.output).toHaveBeenCalledWith('breakdown', [
      { resource: 'orders-service-db', type: 'database', monthlyCost: 109.72 },
      { resource: 'orders-service-bucket', type: 'storage', monthlyCost: 2.3 },
    ]);
  });
});

describe('cairn:promotion:request', () => {
  /** Runs the action once with input, Cairn answering with answer. */
  async function request(
    input: Record<string, unknown>,
    answer: Record<string, unknown>,
  ) {
    const createPromotion = jest.fn().mockResolvedValue({
      name: 'services/orders-service/promotions/3',
      revision: 'v1.4.0',
      ...answer,
    });
    const action = requestPromotionAction({
      clients: clients({ createPromotion }),
    });
    const ctx = userContext({
      input: {
        name: 'orders-service',
        revision: 'v1.4.0',
        entityNamespace: 'default',
        ...input,
      },
      task: { id: 'task-77' },
    });
    const info = jest.spyOn(ctx.logger, 'info');
    await action.handler(ctx as any);
    const outputs = Object.fromEntries(
      (ctx.output as jest.Mock).mock.calls.map(([k, v]) => [k, v]),
    );
    const logged = info.mock.calls.map(([line]) => line);
    return { createPromotion, outputs, logged };
  }

  it('requests the revision with the task id and revision as the request id', async () => {
    const { createPromotion, outputs, logged } = await request(
      {},
      { environment: 'production', state: 'pending', rollback: false },
    );

    expect(createPromotion).toHaveBeenCalledWith('orders-service', {
      revision: 'v1.4.0',
      environment: undefined,
      requestId: 'task-77:v1.4.0',
    });
    expect(outputs).toEqual({
      promotion: 'services/orders-service/promotions/3',
      state: 'pending',
      environment: 'production',
      rollback: false,
      entityRef: 'component:default/orders-service',
    });
    expect(logged).toEqual([
      'Requested v1.4.0 of orders-service in production: services/orders-service/promotions/3 is pending, waiting for an approver of its team',
    ]);
  });

  it('sends the environment and outputs the one Cairn recorded', async () => {
    const { createPromotion, outputs } = await request(
      { environment: 'staging' },
      { environment: 'staging', state: 'approved' },
    );
    expect(createPromotion).toHaveBeenCalledWith('orders-service', {
      revision: 'v1.4.0',
      environment: 'staging',
      requestId: 'task-77:staging:v1.4.0',
    });
    expect(outputs).toMatchObject({
      environment: 'staging',
      state: 'approved',
      rollback: false,
    });
  });

  it('treats an empty environment as none', async () => {
    const { createPromotion } = await request(
      { environment: '' },
      { environment: 'production', state: 'pending' },
    );
    expect(createPromotion).toHaveBeenCalledWith('orders-service', {
      revision: 'v1.4.0',
      environment: undefined,
      requestId: 'task-77:v1.4.0',
    });
  });

  it('outputs and logs a rollback', async () => {
    const { outputs, logged } = await request(
      { revision: 'v1.3.0', environment: 'production' },
      {
        revision: 'v1.3.0',
        environment: 'production',
        state: 'pending',
        rollback: true,
      },
    );
    expect(outputs).toMatchObject({ rollback: true, state: 'pending' });
    expect(logged).toEqual([
      'Requested v1.3.0 of orders-service in production (a rollback): services/orders-service/promotions/3 is pending, waiting for an approver of its team',
    ]);
  });

  it('waits for an approver only when the promotion is pending', async () => {
    const { logged } = await request(
      { environment: 'staging' },
      { environment: 'staging', state: 'approved', rollback: false },
    );
    expect(logged).toEqual([
      'Requested v1.4.0 of orders-service in staging: services/orders-service/promotions/3 is approved',
    ]);
  });

  it('never forces a promotion', async () => {
    for (const input of [
      {},
      { environment: 'production' },
      // A template cannot slip force in through the action's input.
      { environment: 'production', force: true },
    ]) {
      const { createPromotion } = await request(input, {
        environment: 'production',
        state: 'pending',
      });
      expect(createPromotion).toHaveBeenCalledTimes(1);
      expect(createPromotion.mock.calls[0][1]).not.toHaveProperty('force');
    }
    const action = requestPromotionAction({ clients: clients({}) });
    expect(Object.keys((action.schema?.input as any).properties)).not.toContain(
      'force',
    );
  });

  it('asks once per environment and revision, across retries of the task', async () => {
    const createPromotion = jest
      .fn()
      .mockImplementation(async (_service, options) => ({
        name: `services/orders-service/promotions/${options.requestId}`,
        revision: options.revision,
        environment: options.environment ?? 'production',
        state: 'pending',
      }));
    const action = requestPromotionAction({
      clients: clients({ createPromotion }),
    });
    const recorded = new Map<string, unknown>();
    const checkpoint = jest.fn(
      async ({ key, fn }: { key: string; fn: () => Promise<any> }) => {
        if (!recorded.has(key)) {
          recorded.set(key, await fn());
        }
        return recorded.get(key);
      },
    );
    // The task promotes v1.4.0 into staging and into production, and is
    // then run again from the start.
    for (let run = 0; run < 2; run++) {
      for (const environment of ['staging', 'production']) {
        await action.handler({
          ...userContext({
            input: {
              name: 'orders-service',
              revision: 'v1.4.0',
              environment,
              entityNamespace: 'default',
            },
            task: { id: 'task-77' },
          }),
          checkpoint: checkpoint as any,
        });
      }
    }
    expect(createPromotion.mock.calls.map(([, o]) => o.requestId)).toEqual([
      'task-77:staging:v1.4.0',
      'task-77:production:v1.4.0',
    ]);
    expect([...recorded.keys()]).toEqual([
      'cairn.promotion.orders-service.staging.v1.4.0',
      'cairn.promotion.orders-service.production.v1.4.0',
    ]);
  });

  it('describes every input and output for the template editor', () => {
    const action = requestPromotionAction({ clients: clients({}) });
    for (const schema of [action.schema?.input, action.schema?.output]) {
      for (const [name, property] of Object.entries<any>(
        (schema as any).properties,
      )) {
        expect([name, typeof property.description]).toEqual([name, 'string']);
      }
    }
    expect((action.schema?.input as any).required).toEqual([
      'name',
      'revision',
    ]);
    expect((action.schema?.output as any).properties.rollback.type).toBe(
      'boolean',
    );
  });
});

describe('promotionRequestId', () => {
  it('tells two revisions of one task apart', () => {
    expect(promotionRequestId('task-77', 'v1.4.0')).not.toEqual(
      promotionRequestId('task-77', 'v1.5.0'),
    );
  });

  it('tells two environments of one revision apart', () => {
    const ids = [
      promotionRequestId('task-77', 'v1.4.0'),
      promotionRequestId('task-77', 'v1.4.0', 'staging'),
      promotionRequestId('task-77', 'v1.4.0', 'production'),
    ];
    expect(ids).toEqual([
      'task-77:v1.4.0',
      'task-77:staging:v1.4.0',
      'task-77:production:v1.4.0',
    ]);
  });

  it('tells two environments apart where the id is a digest', () => {
    const task = '3f2c9a4e-1b7d-4c8e-9f0a-2d6b5e8c7a1f';
    const long = `release/${'x'.repeat(200)}`;
    const ids = [
      promotionRequestId(task, long),
      promotionRequestId(task, long, 'staging'),
      promotionRequestId(task, long, 'production'),
      promotionRequestId(task, long, 'e'.repeat(63)),
    ];
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) {
      expect(id.length).toBeLessThanOrEqual(128);
      expect(id).toMatch(new RegExp(`^${task}:sha256:[0-9a-f]{64}$`));
    }
  });

  it('stays within 128 characters when only the environment makes it long', () => {
    const task = '3f2c9a4e-1b7d-4c8e-9f0a-2d6b5e8c7a1f';
    const revision = 'r'.repeat(60);
    expect(promotionRequestId(task, revision)).toBe(`${task}:${revision}`);
    expect(
      promotionRequestId(task, revision, 'e'.repeat(63)).length,
    ).toBeLessThanOrEqual(128);
  });

  it('stays within the 128 characters Cairn takes', () => {
    const long = `release/${'x'.repeat(200)}`;
    const id = promotionRequestId('3f2c9a4e-1b7d-4c8e-9f0a-2d6b5e8c7a1f', long);
    expect(id.length).toBeLessThanOrEqual(128);
    expect(id).toMatch(
      /^3f2c9a4e-1b7d-4c8e-9f0a-2d6b5e8c7a1f:sha256:[0-9a-f]{64}$/,
    );
    expect(
      promotionRequestId('3f2c9a4e-1b7d-4c8e-9f0a-2d6b5e8c7a1f', `${long}y`),
    ).not.toEqual(id);
  });
});
