import { Entity } from '@backstage/catalog-model';

/**
 * The annotation that marks an entity as Cairn's: its value is the
 * service's name in Cairn. The cards show only on Components that carry it.
 *
 * @public
 */
export const CAIRN_SERVICE_ANNOTATION = 'cairn.dev/service';

/** The name of the entity's service in Cairn; undefined when the entity does not name one. @public */
export function cairnServiceName(entity: Entity): string | undefined {
  return (
    entity.metadata.annotations?.[CAIRN_SERVICE_ANNOTATION]?.trim() || undefined
  );
}

/**
 * Whether the cards apply to an entity: a Component (Cairn keeps services)
 * that names its service in Cairn. Fits `EntitySwitch.Case if={...}`.
 *
 * @public
 */
export function isCairnAvailable(entity: Entity): boolean {
  return (
    entity.kind.toLocaleLowerCase('en-US') === 'component' &&
    cairnServiceName(entity) !== undefined
  );
}
