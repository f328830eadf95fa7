/** @jest-environment node */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { scaffolderModuleCairn } from './module';

describe('scaffolderModuleCairn', () => {
  it("adds Cairn's four actions to the scaffolder", async () => {
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
    expect(addActions.mock.calls.flat().map(action => action.id)).toEqual([
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
});
