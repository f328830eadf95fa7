import { EmptyState, InfoCard } from '@backstage/core-components';
import type {
  CostBreakdown,
  ServiceCost,
} from '@cairn-dev/plugin-cairn-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import TrendingDownIcon from '@material-ui/icons/TrendingDown';
import TrendingFlatIcon from '@material-ui/icons/TrendingFlat';
import TrendingUpIcon from '@material-ui/icons/TrendingUp';
import useAsync from 'react-use/esm/useAsync';
import { capitalize, formatChange, formatMoney } from '../format';
import { loadingOrFailed } from './CairnErrorPanel';
import { useCairnService } from './useCairnService';

const title = 'Cost';

/** The entity's monthly cost from Cairn: total, change, billed against estimated, and per resource. */
export function CostCard() {
  const { api, service } = useCairnService();
  const { value, loading, error } = useAsync(
    () => api.getServiceCost(service),
    [api, service],
  );
  const placeholder = loadingOrFailed({
    title,
    loading,
    error,
    service,
    errorTitle: 'Could not load the cost from Cairn',
  });
  if (placeholder) {
    return placeholder;
  }
  return <CostContent cost={value!} />;
}

function CostContent(props: { cost: ServiceCost }) {
  const { cost } = props;
  const currency = cost.currency ?? 'USD';
  const month = cost.month ?? '';
  const breakdown = cost.breakdown ?? [];
  if (breakdown.length === 0 && !cost.totalMonthlyCost) {
    return (
      <InfoCard title={title} subheader={month}>
        <EmptyState
          missing="data"
          title={`No cost for ${month}`}
          description="Cairn has no billing data for this service this month, and no infrastructure of it to estimate."
        />
      </InfoCard>
    );
  }
  const total = cost.totalMonthlyCost ?? 0;
  const previous = cost.previousMonthlyCost ?? 0;
  const change = formatChange(total, previous);
  const billed = sumBySource(breakdown, 'billed');
  const estimated = sumBySource(breakdown, 'estimated');
  return (
    <InfoCard
      title={title}
      subheader={`${month}, updated ${formatTime(cost.lastUpdated)}`}
    >
      <Box display="flex" alignItems="baseline" flexWrap="wrap" mb={2}>
        <Typography variant="h4" component="p" aria-label="Total this month">
          {formatMoney(total, currency)}
        </Typography>
        <Box ml={2}>
          <Typography variant="body2" color="textSecondary">
            {change
              ? `${change} against last month (${formatMoney(previous, currency)})`
              : 'No cost last month'}
          </Typography>
        </Box>
      </Box>
      <Typography variant="body2" gutterBottom>
        Billed {formatMoney(billed, currency)} · Estimated{' '}
        {formatMoney(estimated, currency)}
      </Typography>
      <Table size="small" aria-label="Cost by resource">
        <TableHead>
          <TableRow>
            <TableCell>Resource</TableCell>
            <TableCell>Type</TableCell>
            <TableCell>Source</TableCell>
            <TableCell align="right">This month</TableCell>
            <TableCell>Trend</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {breakdown.map(line => (
            <TableRow key={`${line.resource}/${line.source}`}>
              <TableCell>{line.resource}</TableCell>
              <TableCell>{line.type}</TableCell>
              <TableCell>
                <Chip
                  size="small"
                  variant={line.source === 'billed' ? 'default' : 'outlined'}
                  label={capitalize(line.source ?? '')}
                />
              </TableCell>
              <TableCell align="right">
                {formatMoney(line.monthlyCost ?? 0, currency)}
              </TableCell>
              <TableCell>
                <Trend trend={line.trend ?? ''} />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </InfoCard>
  );
}

function Trend(props: { trend: string }) {
  const Icon =
    {
      up: TrendingUpIcon,
      down: TrendingDownIcon,
    }[props.trend] ?? TrendingFlatIcon;
  return (
    <Box display="flex" alignItems="center">
      <Icon fontSize="small" aria-hidden />
      <Box ml={0.5}>{capitalize(props.trend)}</Box>
    </Box>
  );
}

function sumBySource(breakdown: CostBreakdown[], source: string): number {
  return breakdown
    .filter(line => line.source === source)
    .reduce((sum, line) => sum + (line.monthlyCost ?? 0), 0);
}

function formatTime(time: string | undefined): string {
  return time ? new Date(time).toLocaleString('en-US') : 'never';
}
