import { EmptyState } from '@backstage/core-components';
import type {
  CostRegressionRate,
  DoraMetric,
  DoraMetrics,
} from '@cairn-dev/plugin-cairn-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Link from '@material-ui/core/Link';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import { makeStyles } from '@material-ui/core/styles';
import { Fragment, useState } from 'react';
import {
  formatDuration,
  formatNumber,
  formatPercent,
  Locales,
  userLocales,
} from '../format';
import {
  CardTable,
  CairnCard,
  MissingAnnotationCard,
  Translate,
  useCairnTranslation,
} from './CairnCard';
import { DeploymentList, IncidentList } from './DoraLists';
import { useCairnRead } from './useCairnRead';
import { useCairnService } from './useCairnService';

/** @public */
export type DoraCardProps = {
  /** The window, in days such as `90d`; Cairn's default (30 days) when unset. */
  window?: string;
};

type MetricKey = keyof Pick<
  DoraMetrics,
  | 'deploymentFrequency'
  | 'leadTimeForChanges'
  | 'changeFailureRate'
  | 'timeToRestore'
>;

// The four metrics, and which way is better: more deployments, less of the
// rest.
const metrics: Array<{ key: MetricKey; higherIsBetter: boolean }> = [
  { key: 'deploymentFrequency', higherIsBetter: true },
  { key: 'leadTimeForChanges', higherIsBetter: false },
  { key: 'changeFailureRate', higherIsBetter: false },
  { key: 'timeToRestore', higherIsBetter: false },
];

const bands = ['elite', 'high', 'medium', 'low'] as const;
const frequencyClasses = ['daily', 'weekly', 'monthly', 'yearly'] as const;

/** A DORA metric's value in its unit: deploys_per_day, seconds or ratio. */
export function formatMetric(
  value: number,
  unit: string,
  locales: Locales,
  t: Translate,
): string {
  switch (unit) {
    case 'deploys_per_day':
      return value >= 1
        ? t('dora.perDay', { value: formatNumber(value, locales, 1) })
        : t('dora.perWeek', { value: formatNumber(value * 7, locales, 1) });
    case 'seconds':
      return formatDuration(value, locales);
    case 'ratio':
      return formatPercent(value, locales);
    default:
      return `${formatNumber(value, locales, 2)} ${unit}`;
  }
}

const useStyles = makeStyles(theme => ({
  elite: {
    backgroundColor: theme.palette.success.dark,
    color: theme.palette.success.contrastText,
  },
  high: {
    backgroundColor: theme.palette.success.light,
    color: theme.palette.success.contrastText,
  },
  medium: {
    backgroundColor: theme.palette.warning.main,
    color: theme.palette.warning.contrastText,
  },
  low: {
    backgroundColor: theme.palette.error.main,
    color: theme.palette.error.contrastText,
  },
  better: { color: theme.palette.success.main },
  worse: { color: theme.palette.error.main },
}));

/** The entity's four DORA metrics from Cairn, each with its DORA performance band and its trend against the window before. */
export function DoraCard(props: DoraCardProps) {
  const { service } = useCairnService();
  const { t } = useCairnTranslation();
  if (!service) {
    return <MissingAnnotationCard title={t('dora.title')} />;
  }
  return <ServiceDoraCard service={service} window={props.window} />;
}

function ServiceDoraCard(props: { service: string; window?: string }) {
  const { service, window } = props;
  const { api } = useCairnService();
  const { t } = useCairnTranslation();
  const read = useCairnRead(`${service}/${window ?? ''}`, signal =>
    api.getServiceDora(service, { window, signal }),
  );
  return (
    <CairnCard
      title={t('dora.title')}
      read={read}
      service={service}
      loadFailed={t('dora.loadFailed')}
      subheader={dora =>
        t('dora.lastDays', {
          days: (dora.window || window || '30d').replace(/d$/, ''),
        })
      }
    >
      {dora => <DoraContent dora={dora} service={service} />}
    </CairnCard>
  );
}

function DoraContent(props: { dora: DoraMetrics; service: string }) {
  const { dora, service } = props;
  const classes = useStyles();
  // The figure whose list is open, if one is.
  const [open, setOpen] = useState<MetricKey | undefined>();
  const { t } = useCairnTranslation();
  const locales = userLocales();
  const measured = metrics.some(m => Number(dora[m.key]?.sampleCount ?? 0) > 0);
  if (!measured) {
    return (
      <EmptyState
        missing="data"
        title={t('dora.emptyTitle')}
        description={t('dora.emptyDescription')}
      />
    );
  }
  const listId = (key: MetricKey) => `cairn-dora-${service}-${key}`;
  const window = { start: dora.windowStart, end: dora.windowEnd };
  return (
    <Fragment>
      <CardTable aria-label={t('dora.title')}>
        <TableHead>
          <TableRow>
            <TableCell>{t('dora.metric')}</TableCell>
            <TableCell>{t('dora.value')}</TableCell>
            <TableCell>{t('dora.band')}</TableCell>
            <TableCell>{t('dora.trend')}</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {metrics.map(({ key, higherIsBetter }) => {
            const metric: DoraMetric = dora[key] ?? {};
            const measuredHere = Number(metric.sampleCount ?? 0) > 0;
            const band = metric.band ?? '';
            const frequencyClass = metric.frequencyClass ?? '';
            return (
              <TableRow key={key}>
                <TableCell>{t(`dora.${key}`)}</TableCell>
                <TableCell>
                  {measuredHere ? (
                    <FigureButton
                      value={formatMetric(
                        metric.value ?? 0,
                        metric.unit ?? '',
                        locales,
                        t,
                      )}
                      metric={t(`dora.${key}`)}
                      open={open === key}
                      controls={listId(key)}
                      onClick={() => setOpen(open === key ? undefined : key)}
                    />
                  ) : (
                    t('dora.nothingToMeasure')
                  )}
                  {key === 'deploymentFrequency' && frequencyClass && (
                    <Box component="span" color="text.secondary">
                      {` (${
                        isOneOf(frequencyClasses, frequencyClass)
                          ? t(`dora.frequencyClasses.${frequencyClass}`)
                          : frequencyClass
                      })`}
                    </Box>
                  )}
                </TableCell>
                <TableCell>
                  {isOneOf(bands, band) && (
                    <Chip
                      size="small"
                      label={t(`dora.bands.${band}`)}
                      className={classes[band]}
                    />
                  )}
                </TableCell>
                <TableCell>
                  {measuredHere && (
                    <Trend
                      value={metric.value ?? 0}
                      previous={metric.previousValue ?? 0}
                      unit={metric.unit ?? ''}
                      higherIsBetter={higherIsBetter}
                      classes={classes}
                    />
                  )}
                </TableCell>
              </TableRow>
            );
          })}
          {dora.costRegressionRate && (
            <CostRegressionRow rate={dora.costRegressionRate} />
          )}
        </TableBody>
      </CardTable>
      {open === 'timeToRestore' && (
        <IncidentList
          id={listId(open)}
          title={t('dora.list.incidentsTitle', { metric: t(`dora.${open}`) })}
          service={service}
          window={window}
        />
      )}
      {open && open !== 'timeToRestore' && (
        <DeploymentList
          id={listId(open)}
          title={t('dora.list.deploymentsTitle', { metric: t(`dora.${open}`) })}
          service={service}
          window={window}
          markFailures={open === 'changeFailureRate'}
        />
      )}
    </Fragment>
  );
}

/** A figure that opens, inside the card, the list it is counted from. */
function FigureButton(props: {
  value: string;
  metric: string;
  open: boolean;
  controls: string;
  onClick: () => void;
}) {
  const { value, metric, open, controls, onClick } = props;
  const { t } = useCairnTranslation();
  return (
    <Link
      component="button"
      variant="body2"
      aria-label={t('dora.openList', { metric, value })}
      aria-expanded={open}
      aria-controls={controls}
      onClick={onClick}
    >
      {value}
    </Link>
  );
}

function isOneOf<T extends string>(
  words: readonly T[],
  word: string,
): word is T {
  return (words as readonly string[]).includes(word);
}

function Trend(props: {
  value: number;
  previous: number;
  unit: string;
  higherIsBetter: boolean;
  classes: ReturnType<typeof useStyles>;
}) {
  const { value, previous, unit, higherIsBetter, classes } = props;
  const { t } = useCairnTranslation();
  const locales = userLocales();
  // A median duration of zero is no median: nothing was measured before.
  if (unit === 'seconds' && previous === 0) {
    return <>{t('dora.nothingToCompare')}</>;
  }
  if (value === previous) {
    return <>{t('dora.unchanged')}</>;
  }
  const better = value > previous === higherIsBetter;
  return (
    <span className={better ? classes.better : classes.worse}>
      {value > previous ? '▲' : '▼'}{' '}
      {t('dora.from', { value: formatMetric(previous, unit, locales, t) })}
    </span>
  );
}

/**
 * The cost regression rate beside the DORA metrics: the share of the
 * window's production changes with a cost verdict after which the
 * service's bill grew past Cairn's thresholds, or why there is none yet.
 * It has no DORA band, and Cairn gives no earlier window to compare with.
 */
function CostRegressionRow(props: { rate: CostRegressionRate }) {
  const { rate } = props;
  const { t } = useCairnTranslation();
  const locales = userLocales();
  let value: string;
  switch (rate.unavailableReason) {
    case 'NO_CHANGES':
      value = t('dora.costRegressionsNoChanges');
      break;
    case 'NO_VERDICTS':
      value = t('dora.costRegressionsNoVerdicts');
      break;
    default:
      value = `${formatMetric(rate.value ?? 0, 'ratio', locales, t)} (${t(
        'dora.costRegressionsJudged',
        {
          regressions: rate.regressionCount ?? '0',
          judged: rate.judgedCount ?? '0',
        },
      )})`;
  }
  return (
    <TableRow>
      <TableCell>{t('dora.costRegressionRate')}</TableCell>
      <TableCell>{value}</TableCell>
      <TableCell />
      <TableCell />
    </TableRow>
  );
}
