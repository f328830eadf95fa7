/** @jest-environment node */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { scaffolderModuleCairn } from './module';

/** The actions the module adds, as the scaffolder gets them. */
async function moduleActions() {
  const addActions = jest.fn();
  await startTestBackend({
    extensionPoints: [[scaffolderActionsExtensionPoint, { addActions }]],
    features: [
      scaffolderModuleCairn,
      mockServices.rootConfig.factory({
        data: { cairn: { baseUrl: 'http://cairn:8080', token: 'secret' } },
      }),
    ],
  });
  return Object.fromEntries(
    addActions.mock.calls.flat().map(action => [action.id, action]),
  );
}

describe('scaffolderModuleCairn', () => {
  it("adds Cairn's four actions to the scaffolder", async () => {
    expect(Object.keys(await moduleActions())).toEqual([
      'cairn:service:create',
      'cairn:service:wait-until-ready',
      'cairn:cost:estimate',
      'cairn:promotion:request',
    ]);
  });

  it("refuses to start without Cairn's URL", async () => {
    await expect(
      startTestBackend({
        extensionPoints: [
          [scaffolderActionsExtensionPoint, { addActions: jest.fn() }],
        ],
        features: [
          scaffolderModuleCairn,
          mockServices.rootConfig.factory({ data: {} }),
        ],
      }),
    ).rejects.toThrow(/cairn\.baseUrl/);
  });

  describe('cairn:promotion:request, over HTTP to Cairn', () => {
    afterEach(() => jest.restoreAllMocks());

    /** Runs the action as a user and returns the bodies it posted. */
    async function run(input: Record<string, unknown>, answer: object) {
      const fetch = jest
        .spyOn(global, 'fetch')
        .mockImplementation(
          async () => new Response(JSON.stringify(answer), { status: 200 }),
        );
      const action = (await moduleActions())['cairn:promotion:request'];
      const ctx = createMockActionContext({
        input: {
          name: 'orders-service',
          revision: 'v1.4.0',
          entityNamespace: 'default',
          ...input,
        },
        task: { id: 'task-9' },
        secrets: { backstageToken: 'token-of-jane' },
      });
      await action.handler(ctx);
      return {
        ctx,
        posted: fetch.mock.calls.map(([url, init]) => [
          url,
          (init?.headers as Record<string, string>).Authorization,
          JSON.parse(String(init?.body)),
        ]),
      };
    }

    it('posts the environment as the user, and outputs what Cairn recorded', async () => {
      const { ctx, posted } = await run(
        { environment: 'staging' },
        {
          name: 'services/orders-service/promotions/4',
          revision: 'v1.4.0',
          environment: 'staging',
          state: 'approved',
          rollback: true,
        },
      );
      expect(posted).toEqual([
        [
          'http://cairn:8080/v1/services/orders-service/promotions',
          'Bearer token-of-jane',
          {
            promotion: { revision: 'v1.4.0', environment: 'staging' },
            requestId: 'task-9:staging:v1.4.0',
          },
        ],
      ]);
      expect(ctx.output).toHaveBeenCalledWith('environment', 'staging');
      expect(ctx.output).toHaveBeenCalledWith('rollback', true);
      expect(ctx.output).toHaveBeenCalledWith('state', 'approved');
    });

    it('never sends force, whatever the input holds', async () => {
      const { posted } = await run(
        { force: true },
        {
          name: 'services/orders-service/promotions/5',
          revision: 'v1.4.0',
          environment: 'production',
          state: 'pending',
        },
      );
      expect(posted.map(([, , body]) => body)).toEqual([
        { promotion: { revision: 'v1.4.0' }, requestId: 'task-9:v1.4.0' },
      ]);
      expect(JSON.stringify(posted)).not.toContain('force');
    });
  });
});
