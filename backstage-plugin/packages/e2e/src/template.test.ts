/** @jest-environment node */
import {
  createServiceAction,
  estimateCostAction,
  requestPromotionAction,
  waitUntilReadyAction,
} from '@cairn-dev/plugin-scaffolder-backend-module-cairn';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from './__testUtils__/harness';

// deploy/backstage's templates against the actions they use: every input a
// step gives is one the action takes, every required input is given, and
// every output read is one the action writes.
const clients = {} as any;
const actions = Object.fromEntries(
  [
    createServiceAction({ clients }),
    waitUntilReadyAction({ clients }),
    estimateCostAction({ clients }),
    requestPromotionAction({ clients }),
  ].map(action => [action.id, action]),
);

// Each template of deploy/backstage and the Cairn actions it runs, in order.
describe.each([
  [
    'template.yaml',
    [
      'cairn:cost:estimate',
      'cairn:service:create',
      'cairn:service:wait-until-ready',
    ],
  ],
  ['promote-template.yaml', ['cairn:promotion:request']],
])('deploy/backstage/%s', (file, expectedActions) => {
  const templateText = readFileSync(
    join(repoRoot, 'deploy/backstage', file),
    'utf8',
  );
  const template = parseYaml(templateText);
  const cairnSteps: Array<{
    id: string;
    action: string;
    input: Record<string, unknown>;
  }> = template.spec.steps.filter((step: any) =>
    step.action.startsWith('cairn:'),
  );

  it('runs its Cairn actions', () => {
    expect(cairnSteps.map(s => s.action)).toEqual(expectedActions);
  });

  it.each(cairnSteps.map(s => [s.id, s] as const))(
    'gives step %s inputs its action takes',
    (_, step) => {
      const schema = actions[step.action].schema?.input as any;
      expect(
        Object.keys(step.input).filter(key => !(key in schema.properties)),
      ).toEqual([]);
      expect(
        (schema.required ?? []).filter((key: string) => !(key in step.input)),
      ).toEqual([]);
    },
  );

  it('reads only outputs the actions write', () => {
    const actionOf = Object.fromEntries(cairnSteps.map(s => [s.id, s.action]));
    const reads = [
      ...templateText.matchAll(/steps\['([\w-]+)'\]\.output\.(\w+)/g),
    ]
      .filter(([, id]) => id in actionOf)
      .map(([, id, output]) => [id, output]);
    expect(reads.length).toBeGreaterThan(0);
    for (const [id, output] of reads) {
      const schema = actions[actionOf[id]].schema?.output as any;
      expect([id, output, output in schema.properties]).toEqual([
        id,
        output,
        true,
      ]);
    }
  });
});
