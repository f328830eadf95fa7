import {
  EmptyState,
  InfoCard,
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
import Link from '@material-ui/core/Link';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { ReactNode } from 'react';
import {
  capitalize,
  formatDateTime,
  formatDuration,
  parseProtoDuration,
  userLocales,
} from '../format';
import {
  CardTable,
  CairnCard,
  MissingAnnotationCard,
  useCairnTranslation,
} from './CairnCard';
import { useCairnRead } from './useCairnRead';
import { useCairnService } from './useCairnService';

/** Phases that change by themselves: the card reads them again until they settle. */
const settlingPhases = ['pending', 'provisioning'];

/** @public */
export type StatusCardProps = {
  /** How often to read the status again while provisioning; 5 seconds by default. */
  refreshIntervalMs?: number;
  /**
   * Argo CD's web address, such as `https://argocd.example.com`: each
   * environment then links to its Application there. No links when unset.
   */
  argoCdBaseUrl?: string;
};

/**
 * The entity's provisioning from Cairn: the overall phase, each
 * environment's Argo CD sync and health, each claim's readiness. Where the
 * service spans clusters each row names its cluster, a row of a cluster
 * Cairn has lost its watch on is marked stale, and claims an environment has
 * of its own name it. It reads again every few seconds while provisioning is
 * under way.
 */
export function StatusCard(props: StatusCardProps) {
  const { service } = useCairnService();
  const { t } = useCairnTranslation();
  if (!service) {
    return <MissingAnnotationCard title={t('status.title')} />;
  }
  return <ServiceStatusCard {...props} service={service} />;
}

function ServiceStatusCard(props: StatusCardProps & { service: string }) {
  const { service } = props;
  const refreshIntervalMs = props.refreshIntervalMs ?? 5000;
  const { api } = useCairnService();
  const { t } = useCairnTranslation();
  const settling = (status: ServiceStatus) =>
    settlingPhases.includes(status.phase ?? '');
  const read = useCairnRead(
    service,
    signal => api.getServiceStatus(service, { signal }),
    status => (settling(status) ? refreshIntervalMs : undefined),
  );

  if (read.value === undefined && isProvisioningNotFound(read.error)) {
    return (
      <InfoCard title={t('status.title')}>
        <EmptyState
          missing="info"
          title={t('status.noneTitle')}
          description={t('status.noneDescription')}
        />
      </InfoCard>
    );
  }
  return (
    <CairnCard
      title={t('status.title')}
      read={read}
      service={service}
      loadFailed={t('status.loadFailed')}
      subheader={status =>
        settling(status)
          ? t('status.refreshing', {
              seconds: String(Math.round(refreshIntervalMs / 1000)),
            })
          : undefined
      }
    >
      {status => (
        <StatusContent
          status={status}
          argoCdBaseUrl={argoCdBaseUrl(props.argoCdBaseUrl)}
        />
      )}
    </CairnCard>
  );
}

/** The base URL without trailing slashes; undefined unless it is http(s), so that a setting cannot make a script link. */
function argoCdBaseUrl(setting: string | undefined): string | undefined {
  const url = setting?.trim().replace(/\/+$/, '');
  return url && /^https?:\/\//i.test(url) ? url : undefined;
}

function StatusContent(props: {
  status: ServiceStatus;
  argoCdBaseUrl?: string;
}) {
  const { status, argoCdBaseUrl: argoCd } = props;
  const { t } = useCairnTranslation();
  const locales = userLocales();
  const deployments = status.deployments ?? [];
  const infrastructure = status.infrastructure ?? [];
  const duration = parseProtoDuration(status.provisioningDuration);
  // Where a service spans clusters each row says which; an install of one
  // cluster shows no such column.
  const clusters = new Set(
    [...deployments, ...infrastructure].map(row => row.cluster).filter(Boolean),
  );
  const showCluster = clusters.size > 1;
  // Claims of an environment's own, beside those its environments share.
  const showClaimEnvironment = infrastructure.some(claim => claim.environment);
  return (
    <>
      {status.stale && (
        <WarningPanel
          title={t('status.staleTitle')}
          message={t('status.staleMessage')}
        />
      )}
      <Box display="flex" alignItems="center" mb={2}>
        <Typography variant="h5" component="p" aria-label={t('status.phase')}>
          <PhaseStatus phase={status.phase ?? ''} />
        </Typography>
        {duration !== undefined && (
          <Box ml={2}>
            <Typography variant="body2" color="textSecondary">
              {t('status.readyAfter', {
                duration: formatDuration(duration, locales),
              })}
            </Typography>
          </Box>
        )}
      </Box>

      <Typography variant="subtitle2">{t('status.environments')}</Typography>
      {deployments.length === 0 ? (
        <Typography variant="body2" color="textSecondary" gutterBottom>
          {t('status.noApplication')}
        </Typography>
      ) : (
        <CardTable aria-label={t('status.environments')}>
          <TableHead>
            <TableRow>
              <TableCell>{t('status.environment')}</TableCell>
              {showCluster && <TableCell>{t('status.cluster')}</TableCell>}
              <TableCell>{t('status.sync')}</TableCell>
              <TableCell>{t('status.health')}</TableCell>
              <TableCell>{t('status.revision')}</TableCell>
              <TableCell>{t('status.lastDeploy')}</TableCell>
              {argoCd && <TableCell>{t('status.argoCd')}</TableCell>}
            </TableRow>
          </TableHead>
          <TableBody>
            {deployments.map(d => (
              <TableRow key={d.environment}>
                <TableCell>
                  {capitalize(d.environment ?? '')}
                  {d.stale && <StaleMark />}
                </TableCell>
                {showCluster && <TableCell>{d.cluster || '—'}</TableCell>}
                <TableCell>
                  <SyncStatus sync={d.syncStatus ?? 'Unknown'} />
                </TableCell>
                <TableCell>
                  {d.awaitingPromotion ? (
                    // Argo CD says Missing until the first promotion is
                    // approved: expected, not a problem.
                    <StatusPending>
                      {t('status.awaitingPromotion')}
                    </StatusPending>
                  ) : (
                    <HealthStatus health={d.healthStatus ?? 'Unknown'} />
                  )}
                </TableCell>
                <TableCell>{d.revision || '—'}</TableCell>
                <TableCell>
                  {d.lastDeployTime
                    ? formatDateTime(d.lastDeployTime, locales)
                    : t('status.never')}
                </TableCell>
                {argoCd && (
                  <TableCell>
                    {d.application && (
                      <Link
                        href={`${argoCd}/applications/${encodeURIComponent(
                          d.application,
                        )}`}
                        target="_blank"
                        rel="noopener noreferrer"
                        aria-label={t('status.openInArgoCd', {
                          application: d.application,
                        })}
                      >
                        {d.application}
                      </Link>
                    )}
                  </TableCell>
                )}
              </TableRow>
            ))}
          </TableBody>
        </CardTable>
      )}

      <Box mt={2}>
        <Typography variant="subtitle2">
          {t('status.infrastructure')}
        </Typography>
      </Box>
      {infrastructure.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          {t('status.noInfrastructure')}
        </Typography>
      ) : (
        <CardTable aria-label={t('status.infrastructure')}>
          <TableHead>
            <TableRow>
              <TableCell>{t('status.resource')}</TableCell>
              <TableCell>{t('status.kind')}</TableCell>
              {showClaimEnvironment && (
                <TableCell>{t('status.environment')}</TableCell>
              )}
              {showCluster && <TableCell>{t('status.cluster')}</TableCell>}
              <TableCell>{t('status.ready')}</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {infrastructure.map(claim => (
              <TableRow key={claim.resource}>
                <TableCell>
                  {claim.resource}
                  {claim.stale && <StaleMark />}
                </TableCell>
                <TableCell>{claim.kind}</TableCell>
                {showClaimEnvironment && (
                  <TableCell>
                    {claim.environment
                      ? capitalize(claim.environment)
                      : t('status.shared')}
                  </TableCell>
                )}
                {showCluster && <TableCell>{claim.cluster || '—'}</TableCell>}
                <TableCell>
                  {claim.ready ? (
                    <StatusOK>{t('status.ready')}</StatusOK>
                  ) : (
                    <StatusPending>
                      {[claim.reason || t('status.notReady'), claim.message]
                        .filter(Boolean)
                        .join(': ')}
                    </StatusPending>
                  )}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </CardTable>
      )}
    </>
  );
}

/** Marks a row whose cluster Cairn has lost its watch on. */
function StaleMark() {
  const { t } = useCairnTranslation();
  return (
    <>
      {' '}
      <Typography
        component="span"
        variant="caption"
        color="error"
        title={t('status.staleRowHint')}
      >
        {t('status.staleRow')}
      </Typography>
    </>
  );
}

type Phase = 'ready' | 'provisioning' | 'pending' | 'degraded' | 'failed';

const byPhase: Record<Phase, (p: { children: ReactNode }) => JSX.Element> = {
  ready: StatusOK,
  provisioning: StatusRunning,
  pending: StatusPending,
  degraded: StatusWarning,
  failed: StatusError,
};

function PhaseStatus(props: { phase: string }) {
  const { t } = useCairnTranslation();
  if (!(props.phase in byPhase)) {
    return (
      <StatusPending>
        {props.phase ? capitalize(props.phase) : t('status.phases.unknown')}
      </StatusPending>
    );
  }
  const phase = props.phase as Phase;
  const Status = byPhase[phase];
  return <Status>{t(`status.phases.${phase}`)}</Status>;
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
