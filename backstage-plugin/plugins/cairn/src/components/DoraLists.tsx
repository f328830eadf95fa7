import { Progress } from '@backstage/core-components';
import type {
  DeploymentRecord,
  IncidentRecord,
} from '@cairn-dev/plugin-cairn-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { ReactNode } from 'react';
import {
  formatDateTime,
  formatDuration,
  Locales,
  parseProtoDuration,
  userLocales,
} from '../format';
import {
  CairnErrorPanel,
  CardTable,
  Translate,
  useCairnTranslation,
} from './CairnCard';
import { useCairnRead } from './useCairnRead';
import { useCairnService } from './useCairnService';

/** How many deployments or incidents a list behind a figure shows: one page. */
export const LIST_PAGE_SIZE = 20;

/** The card's window, as Cairn answered it: the range the lists read. */
export type DoraWindow = { start?: string; end?: string };

/**
 * The production deployments behind deployment frequency, lead time or
 * change failure rate, over the card's window: one page of them, newest
 * first; for the rate, those charged with an incident are marked.
 */
export function DeploymentList(props: {
  id: string;
  title: string;
  service: string;
  window: DoraWindow;
  markFailures: boolean;
}) {
  const { id, title, service, window, markFailures } = props;
  const { api } = useCairnService();
  const { t } = useCairnTranslation();
  const locales = userLocales();
  const read = useCairnRead(
    `deployments/${service}/${window.start ?? ''}/${window.end ?? ''}`,
    signal =>
      api.listDeployments(service, {
        finishedAfter: window.start || undefined,
        finishedBefore: window.end || undefined,
        pageSize: LIST_PAGE_SIZE,
        signal,
      }),
  );
  // DORA counts the production-like environments' deployments only.
  const deployments = (read.value?.deployments ?? (read.value && []))?.filter(
    d => d.production,
  );
  return (
    <ListBox
      id={id}
      title={title}
      note={t('dora.list.deploymentsNote', {
        size: String(LIST_PAGE_SIZE),
        command: `cairn deployment list ${service}`,
      })}
    >
      {read.error && (
        <CairnErrorPanel
          read={read}
          service={service}
          loadFailed={t('dora.list.deploymentsLoadFailed')}
        />
      )}
      {!read.error && deployments === undefined && <Progress />}
      {deployments !== undefined && deployments.length === 0 && (
        <Typography variant="body2">{t('dora.list.none')}</Typography>
      )}
      {deployments !== undefined && deployments.length > 0 && (
        <CardTable aria-label={title}>
          <TableHead>
            <TableRow>
              <TableCell>{t('dora.list.revision')}</TableCell>
              <TableCell>{t('dora.list.status')}</TableCell>
              <TableCell>{t('dora.list.finished')}</TableCell>
              <TableCell>{t('dora.list.leadTime')}</TableCell>
              <TableCell>{t('dora.list.incidents')}</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {deployments.map(d => (
              <DeploymentRow
                key={d.name ?? `${d.revision}/${d.finishedAt}`}
                deployment={d}
                markFailures={markFailures}
                locales={locales}
                t={t}
              />
            ))}
          </TableBody>
        </CardTable>
      )}
    </ListBox>
  );
}

function DeploymentRow(props: {
  deployment: DeploymentRecord;
  markFailures: boolean;
  locales: Locales;
  t: Translate;
}) {
  const { deployment: d, markFailures, locales, t } = props;
  const incidents = d.incidents ?? [];
  // A commit's lead time counts when its deployment succeeded.
  const leadTimes = (d.status === 'succeeded' ? (d.commits ?? []) : [])
    .map(c => parseProtoDuration(c.leadTime))
    .filter((s): s is number => s !== undefined);
  const leadTime = median(leadTimes);
  const status = d.status ?? '';
  return (
    <TableRow>
      <TableCell>{d.revision}</TableCell>
      <TableCell>
        {status === 'succeeded' || status === 'failed'
          ? t(`dora.list.statuses.${status}`)
          : status}
      </TableCell>
      <TableCell>
        {d.finishedAt ? formatDateTime(d.finishedAt, locales) : '—'}
      </TableCell>
      <TableCell>
        {leadTime === undefined && '—'}
        {leadTime !== undefined &&
          leadTimes.length === 1 &&
          formatDuration(leadTime, locales)}
        {leadTime !== undefined &&
          leadTimes.length > 1 &&
          t('dora.list.medianOf', {
            value: formatDuration(leadTime, locales),
            commits: String(leadTimes.length),
          })}
      </TableCell>
      <TableCell>
        {incidents.length === 0
          ? t('dora.list.noIncidents')
          : incidents.map(i => i.id).join(', ')}
        {markFailures && incidents.length > 0 && (
          <Box component="span" ml={1}>
            <Chip size="small" label={t('dora.list.changeFailure')} />
          </Box>
        )}
      </TableCell>
    </TableRow>
  );
}

/**
 * The incidents behind time to restore, opened in the card's window: one
 * page of them, newest first, each with its restore time and the
 * deployment it is charged to, and how.
 */
export function IncidentList(props: {
  id: string;
  title: string;
  service: string;
  window: DoraWindow;
}) {
  const { id, title, service, window } = props;
  const { api } = useCairnService();
  const { t } = useCairnTranslation();
  const locales = userLocales();
  const read = useCairnRead(
    `incidents/${service}/${window.start ?? ''}/${window.end ?? ''}`,
    signal =>
      api.listIncidents(service, {
        openedAfter: window.start || undefined,
        openedBefore: window.end || undefined,
        pageSize: LIST_PAGE_SIZE,
        signal,
      }),
  );
  const incidents = read.value?.incidents ?? (read.value && []);
  return (
    <ListBox
      id={id}
      title={title}
      note={t('dora.list.incidentsNote', {
        size: String(LIST_PAGE_SIZE),
        command: `cairn incident list ${service}`,
      })}
    >
      {read.error && (
        <CairnErrorPanel
          read={read}
          service={service}
          loadFailed={t('dora.list.incidentsLoadFailed')}
        />
      )}
      {!read.error && incidents === undefined && <Progress />}
      {incidents !== undefined && incidents.length === 0 && (
        <Typography variant="body2">{t('dora.list.none')}</Typography>
      )}
      {incidents !== undefined && incidents.length > 0 && (
        <CardTable aria-label={title}>
          <TableHead>
            <TableRow>
              <TableCell>{t('dora.list.incident')}</TableCell>
              <TableCell>{t('dora.list.opened')}</TableCell>
              <TableCell>{t('dora.list.resolved')}</TableCell>
              <TableCell>{t('dora.list.restoreTime')}</TableCell>
              <TableCell>{t('dora.list.chargedTo')}</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {incidents.map(i => (
              <IncidentRow
                key={i.name ?? i.id}
                incident={i}
                locales={locales}
                t={t}
              />
            ))}
          </TableBody>
        </CardTable>
      )}
    </ListBox>
  );
}

function IncidentRow(props: {
  incident: IncidentRecord;
  locales: Locales;
  t: Translate;
}) {
  const { incident: i, locales, t } = props;
  const restore =
    i.openedAt && i.resolvedAt
      ? (Date.parse(i.resolvedAt) - Date.parse(i.openedAt)) / 1000
      : undefined;
  const link = i.link ?? '';
  const revision = i.deployment?.revision;
  return (
    <TableRow>
      <TableCell>{i.id}</TableCell>
      <TableCell>
        {i.openedAt ? formatDateTime(i.openedAt, locales) : '—'}
      </TableCell>
      <TableCell>
        {i.resolvedAt
          ? formatDateTime(i.resolvedAt, locales)
          : t('dora.list.stillOpen')}
      </TableCell>
      <TableCell>
        {restore === undefined || Number.isNaN(restore)
          ? '—'
          : formatDuration(Math.max(0, restore), locales)}
      </TableCell>
      <TableCell>
        {revision
          ? t('dora.list.chargedHow', {
              revision,
              how:
                link === 'named' || link === 'inferred' || link === 'corrected'
                  ? t(`dora.list.links.${link}`)
                  : link,
            })
          : t('dora.list.notCharged')}
      </TableCell>
    </TableRow>
  );
}

function ListBox(props: {
  id: string;
  title: string;
  note: string;
  children: ReactNode;
}) {
  const { id, title, note, children } = props;
  return (
    <Box id={id} mt={2} role="region" aria-label={title}>
      <Typography variant="subtitle2" gutterBottom>
        {title}
      </Typography>
      {children}
      <Box mt={1}>
        <Typography variant="body2" color="textSecondary">
          {note}
        </Typography>
      </Box>
    </Box>
  );
}

/** The median of some numbers; undefined for none. */
export function median(values: number[]): number | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
