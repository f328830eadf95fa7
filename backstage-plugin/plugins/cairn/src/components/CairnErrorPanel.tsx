import { ErrorPanel, WarningPanel } from '@backstage/core-components';
import { isServiceNotFound } from '@cairn-dev/plugin-cairn-common';

/**
 * A failed read from Cairn. An entity Cairn has no entry for gets a warning
 * that says so and how to fix it, not a stack of HTTP details.
 */
export function CairnErrorPanel(props: {
  error: Error;
  service: string;
  title: string;
}) {
  const { error, service, title } = props;
  if (isServiceNotFound(error)) {
    return (
      <WarningPanel
        severity="info"
        defaultExpanded
        title="This entity is not known to Cairn"
        message={`Cairn has no service named "${service}". Register its catalog-info.yaml with Cairn, create it from a Cairn software template, or set the cairn.dev/service-name annotation to its name in Cairn.`}
      />
    );
  }
  return <ErrorPanel title={title} error={error} />;
}
