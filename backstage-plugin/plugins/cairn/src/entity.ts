import { Entity } from '@backstage/catalog-model';

/**
 * The annotation that names an entity's service in Cairn, for the rare
 * entity whose Cairn name differs from its metadata.name.
 *
 * @public
 */
export const CAIRN_SERVICE_ANNOTATION = 'cairn.dev/service-name';

/** The name of the entity's service in Cairn. @public */
export function cairnServiceName(entity: Entity): string {
  return (
    entity.metadata.annotations?.[CAIRN_SERVICE_ANNOTATION] ??
    entity.metadata.name
  );
}

/** Whether the cards apply to an entity: Cairn keeps services, Backstage's Components. @public */
export function isCairnService(entity: Entity): boolean {
  return entity.kind.toLocaleLowerCase('en-US') === 'component';
}
