import {
  ErrorPanel,
  InfoCard,
  Progress,
  WarningPanel,
} from '@backstage/core-components';
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

/**
 * What a card shows until it has data: a progress bar while its read is
 * under way, the error panel when the read failed; null once there is data.
 */
export function loadingOrFailed(props: {
  title: string;
  loading: boolean;
  error?: Error;
  service: string;
  errorTitle: string;
}) {
  const { title, loading, error, service, errorTitle } = props;
  if (loading) {
    return (
      <InfoCard title={title}>
        <Progress />
      </InfoCard>
    );
  }
  if (error) {
    return (
      <InfoCard title={title}>
        <CairnErrorPanel error={error} service={service} title={errorTitle} />
      </InfoCard>
    );
  }
  return null;
}
