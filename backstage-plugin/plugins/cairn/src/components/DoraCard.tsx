import { EmptyState, InfoCard } from '@backstage/core-components';
import type { DoraMetric, DoraMetrics } from '@cairn-dev/plugin-cairn-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import { makeStyles } from '@material-ui/core/styles';
import useAsync from 'react-use/esm/useAsync';
import { capitalize, formatMetric } from '../format';
import { loadingOrFailed } from './CairnErrorPanel';
import { useCairnService } from './useCairnService';

const title = 'DORA metrics';

/** @public */
export type DoraCardProps = {
  /** The window, in days such as `90d`; Cairn's default (30 days) when unset. */
  window?: string;
};

// The four metrics, and which way is better: more deployments, less of the
// rest.
const metrics: Array<{
  key: keyof Pick<
    DoraMetrics,
    | 'deploymentFrequency'
    | 'leadTimeForChanges'
    | 'changeFailureRate'
    | 'timeToRestore'
  >;
  label: string;
  higherIsBetter: boolean;
}> = [
  {
    key: 'deploymentFrequency',
    label: 'Deployment frequency',
    higherIsBetter: true,
  },
  {
    key: 'leadTimeForChanges',
    label: 'Lead time for changes',
    higherIsBetter: false,
  },
  {
    key: 'changeFailureRate',
    label: 'Change failure rate',
    higherIsBetter: false,
  },
  { key: 'timeToRestore', label: 'Time to restore', higherIsBetter: false },
];

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
  const { api, service } = useCairnService();
  const { value, loading, error } = useAsync(
    () => api.getServiceDora(service, { window: props.window }),
    [api, service, props.window],
  );
  const placeholder = loadingOrFailed({
    title,
    loading,
    error,
    service,
    errorTitle: 'Could not load DORA metrics from Cairn',
  });
  if (placeholder) {
    return placeholder;
  }
  return <DoraContent dora={value!} />;
}

function DoraContent(props: { dora: DoraMetrics }) {
  const { dora } = props;
  const classes = useStyles();
  const windowLabel = `Last ${(dora.window ?? '30d').replace(/d$/, ' days')}`;
  const measured = metrics.some(m => Number(dora[m.key]?.sampleCount ?? 0) > 0);
  if (!measured) {
    return (
      <InfoCard title={title} subheader={windowLabel}>
        <EmptyState
          missing="data"
          title="No deployments to measure"
          description="Cairn has recorded no production deployment or incident of this service in this window. Deployments arrive from Argo CD and CI."
        />
      </InfoCard>
    );
  }
  return (
    <InfoCard title={title} subheader={windowLabel}>
      <Table size="small" aria-label="DORA metrics">
        <TableHead>
          <TableRow>
            <TableCell>Metric</TableCell>
            <TableCell>Value</TableCell>
            <TableCell>Band</TableCell>
            <TableCell>Trend</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {metrics.map(({ key, label, higherIsBetter }) => {
            const metric: DoraMetric = dora[key] ?? {};
            const measuredHere = Number(metric.sampleCount ?? 0) > 0;
            const band = metric.band ?? '';
            return (
              <TableRow key={key}>
                <TableCell>{label}</TableCell>
                <TableCell>
                  {measuredHere
                    ? formatMetric(metric.value ?? 0, metric.unit ?? '')
                    : 'Nothing to measure'}
                  {key === 'deploymentFrequency' && metric.frequencyClass && (
                    <Box component="span" color="text.secondary">
                      {` (${metric.frequencyClass})`}
                    </Box>
                  )}
                </TableCell>
                <TableCell>
                  {band && (
                    <Chip
                      size="small"
                      label={capitalize(band)}
                      className={
                        classes[band as 'elite' | 'high' | 'medium' | 'low']
                      }
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
        </TableBody>
      </Table>
    </InfoCard>
  );
}

function Trend(props: {
  value: number;
  previous: number;
  unit: string;
  higherIsBetter: boolean;
  classes: ReturnType<typeof useStyles>;
}) {
  const { value, previous, unit, higherIsBetter, classes } = props;
  // A median duration of zero is no median: nothing was measured before.
  if (unit === 'seconds' && previous === 0) {
    return <>Nothing to compare with</>;
  }
  if (value === previous) {
    return <>Unchanged</>;
  }
  const better = value > previous === higherIsBetter;
  return (
    <span className={better ? classes.better : classes.worse}>
      {value > previous ? '▲' : '▼'} from {formatMetric(previous, unit)}
    </span>
  );
}
