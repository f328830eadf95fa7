import {
  EmptyState,
  InfoCard,
  Progress,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
  StatusWarning,
  WarningPanel,
} from '@backstage/core-components';
import {
  isProvisioningNotFound,
  ServiceStatus,
} from '@cairn-dev/plugin-cairn-common';
import Box from '@material-ui/core/Box';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { ReactNode } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useInterval from 'react-use/esm/useInterval';
import { capitalize, formatDuration, parseProtoDuration } from '../format';
import { CairnErrorPanel } from './CairnErrorPanel';
import { useCairnService } from './useCairnService';

const title = 'Provisioning';

/** Phases that change by themselves: the card reads them again until they settle. */
const settlingPhases = ['pending', 'provisioning'];

/** @public */
export type StatusCardProps = {
  /** How often to read the status again while provisioning; 5 seconds by default. */
  refreshIntervalMs?: number;
};

/**
 * The entity's provisioning from Cairn: the overall phase, each
 * environment's Argo CD sync and health, each claim's readiness. It reads
 * again every few seconds while provisioning is under way.
 */
export function StatusCard(props: StatusCardProps) {
  const refreshIntervalMs = props.refreshIntervalMs ?? 5000;
  const { api, service } = useCairnService();
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.getServiceStatus(service),
    [api, service],
  );
  const settling = !!value && settlingPhases.includes(value.phase ?? '');
  useInterval(retry, settling && !loading ? refreshIntervalMs : null);

  if (error && isProvisioningNotFound(error)) {
    return (
      <InfoCard title={title}>
        <EmptyState
          missing="info"
          title="No infrastructure provisioned by Cairn"
          description="Cairn has provisioned nothing for this service. Its infrastructure is made by a software template that uses Cairn's actions."
        />
      </InfoCard>
    );
  }
  if (error) {
    return (
      <InfoCard title={title}>
        <CairnErrorPanel
          error={error}
          service={service}
          title="Could not load the provisioning status from Cairn"
        />
      </InfoCard>
    );
  }
  if (!value) {
    return (
      <InfoCard title={title}>
        <Progress />
      </InfoCard>
    );
  }
  return (
    <StatusContent
      status={value}
      refreshing={settling ? refreshIntervalMs : undefined}
    />
  );
}

function StatusContent(props: { status: ServiceStatus; refreshing?: number }) {
  const { status, refreshing } = props;
  const deployments = status.deployments ?? [];
  const infrastructure = status.infrastructure ?? [];
  const duration = parseProtoDuration(status.provisioningDuration);
  return (
    <InfoCard
      title={title}
      subheader={
        refreshing
          ? `Refreshing every ${Math.round(refreshing / 1000)} s while provisioning`
          : undefined
      }
    >
      {status.stale && (
        <WarningPanel
          title="Cairn has lost its watch on the cluster"
          message="This status is the last one Cairn saw and may be out of date."
        />
      )}
      <Box display="flex" alignItems="center" mb={2}>
        <Typography variant="h5" component="p" aria-label="Phase">
          <PhaseStatus phase={status.phase ?? ''} />
        </Typography>
        {duration !== undefined && (
          <Box ml={2}>
            <Typography variant="body2" color="textSecondary">
              Ready {formatDuration(duration)} after it was requested
            </Typography>
          </Box>
        )}
      </Box>

      <Typography variant="subtitle2">Environments</Typography>
      {deployments.length === 0 ? (
        <Typography variant="body2" color="textSecondary" gutterBottom>
          No Argo CD Application yet.
        </Typography>
      ) : (
        <Table size="small" aria-label="Environments">
          <TableHead>
            <TableRow>
              <TableCell>Environment</TableCell>
              <TableCell>Sync</TableCell>
              <TableCell>Health</TableCell>
              <TableCell>Revision</TableCell>
              <TableCell>Last deploy</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {deployments.map(d => (
              <TableRow key={d.environment}>
                <TableCell>{capitalize(d.environment ?? '')}</TableCell>
                <TableCell>
                  <SyncStatus sync={d.syncStatus ?? 'Unknown'} />
                </TableCell>
                <TableCell>
                  <HealthStatus health={d.healthStatus ?? 'Unknown'} />
                </TableCell>
                <TableCell>{d.revision || '—'}</TableCell>
                <TableCell>
                  {d.lastDeployTime
                    ? new Date(d.lastDeployTime).toLocaleString('en-US')
                    : 'Never'}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}

      <Box mt={2}>
        <Typography variant="subtitle2">Infrastructure</Typography>
      </Box>
      {infrastructure.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          No database or bucket requested.
        </Typography>
      ) : (
        <Table size="small" aria-label="Infrastructure">
          <TableHead>
            <TableRow>
              <TableCell>Resource</TableCell>
              <TableCell>Kind</TableCell>
              <TableCell>Ready</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {infrastructure.map(claim => (
              <TableRow key={claim.resource}>
                <TableCell>{claim.resource}</TableCell>
                <TableCell>{claim.kind}</TableCell>
                <TableCell>
                  {claim.ready ? (
                    <StatusOK>Ready</StatusOK>
                  ) : (
                    <StatusPending>
                      {[claim.reason || 'Not ready', claim.message]
                        .filter(Boolean)
                        .join(': ')}
                    </StatusPending>
                  )}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </InfoCard>
  );
}

function PhaseStatus(props: { phase: string }) {
  const label = capitalize(props.phase || 'unknown');
  const byPhase: Record<string, (p: { children: ReactNode }) => JSX.Element> = {
    ready: StatusOK,
    provisioning: StatusRunning,
    pending: StatusPending,
    degraded: StatusWarning,
    failed: StatusError,
  };
  const Status = byPhase[props.phase] ?? StatusPending;
  return <Status>{label}</Status>;
}

function SyncStatus(props: { sync: string }) {
  if (props.sync === 'Synced') {
    return <StatusOK>Synced</StatusOK>;
  }
  if (props.sync === 'OutOfSync') {
    return <StatusWarning>OutOfSync</StatusWarning>;
  }
  return <StatusPending>{props.sync}</StatusPending>;
}

// Argo CD's health words, as it reports them.
function HealthStatus(props: { health: string }) {
  switch (props.health) {
    case 'Healthy':
      return <StatusOK>Healthy</StatusOK>;
    case 'Progressing':
      return <StatusRunning>Progressing</StatusRunning>;
    case 'Degraded':
      return <StatusError>Degraded</StatusError>;
    case 'Suspended':
    case 'Missing':
      return <StatusWarning>{props.health}</StatusWarning>;
    default:
      return <StatusPending>{props.health}</StatusPending>;
  }
}
