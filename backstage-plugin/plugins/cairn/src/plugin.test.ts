import cairnFrontendPlugin from './alpha';
import {
  cairnPlugin,
  EntityCairnCostCard,
  EntityCairnDoraCard,
  EntityCairnStatusCard,
} from './index';

describe('the cairn plugin', () => {
  it('is exported for the legacy frontend system with its API and cards', () => {
    expect(cairnPlugin.getId()).toBe('cairn');
    expect(Array.from(cairnPlugin.getApis(), f => f.api.id)).toEqual([
      'plugin.cairn.service',
    ]);
    expect(EntityCairnCostCard).toBeDefined();
    expect(EntityCairnStatusCard).toBeDefined();
    expect(EntityCairnDoraCard).toBeDefined();
  });

  it('is exported for the new frontend system with its API and three entity cards', () => {
    expect(cairnFrontendPlugin.pluginId).toBe('cairn');
    expect(cairnFrontendPlugin.getExtension('api:cairn')).toBeDefined();
    expect(
      cairnFrontendPlugin.getExtension('entity-card:cairn/cost'),
    ).toBeDefined();
    expect(
      cairnFrontendPlugin.getExtension('entity-card:cairn/status'),
    ).toBeDefined();
    expect(
      cairnFrontendPlugin.getExtension('entity-card:cairn/dora'),
    ).toBeDefined();
  });
});
