import { EmptyState } from '@backstage/core-components';
import type {
  CostBreakdown,
  ServiceCost,
} from '@cairn-dev/plugin-cairn-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import TrendingDownIcon from '@material-ui/icons/TrendingDown';
import TrendingFlatIcon from '@material-ui/icons/TrendingFlat';
import TrendingUpIcon from '@material-ui/icons/TrendingUp';
import { useState } from 'react';
import {
  formatChange,
  formatDateTime,
  formatMoney,
  formatMonth,
  Locales,
  monthOf,
  resolveMonth,
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

/** @public */
export type CostCardProps = {
  /**
   * The month the card opens on: `current` (the default), `previous`, or a
   * month as `YYYY-MM`. Cairn counts months in UTC.
   */
  month?: string;
};

/** How many months back the month picker offers. */
const pickerMonths = 12;

/** The entity's monthly cost from Cairn: total, change, billed against estimated, and per resource, for a month picked on the card. */
export function CostCard(props: CostCardProps) {
  const { service } = useCairnService();
  const { t } = useCairnTranslation();
  if (!service) {
    return <MissingAnnotationCard title={t('cost.title')} />;
  }
  return <ServiceCostCard service={service} initialMonth={props.month} />;
}

function ServiceCostCard(props: { service: string; initialMonth?: string }) {
  const { service } = props;
  const { api } = useCairnService();
  const { t } = useCairnTranslation();
  const locales = userLocales();
  const [month, setMonth] = useState(() =>
    resolveMonth(props.initialMonth, new Date()),
  );
  const read = useCairnRead(`${service}/${month}`, signal =>
    api.getServiceCost(service, { month, signal }),
  );
  const now = new Date();
  const months = Array.from({ length: pickerMonths }, (_, i) =>
    monthOf(now, -i),
  );
  if (!months.includes(month)) {
    months.push(month);
  }
  const picker = (
    <TextField
      select
      size="small"
      variant="outlined"
      label={t('cost.month')}
      value={month}
      onChange={e => setMonth(e.target.value)}
      SelectProps={{ native: true }}
      inputProps={{ 'aria-label': t('cost.month') }}
    >
      {months.map(m => (
        <option key={m} value={m}>
          {formatMonth(m, locales)}
        </option>
      ))}
    </TextField>
  );
  return (
    <CairnCard
      title={t('cost.title')}
      action={picker}
      read={read}
      service={service}
      loadFailed={t('cost.loadFailed')}
      subheader={cost => {
        const label = formatMonth(cost.month || month, locales);
        return cost.lastUpdated
          ? t('cost.updated', {
              month: label,
              time: formatDateTime(cost.lastUpdated, locales),
            })
          : t('cost.neverUpdated', { month: label });
      }}
    >
      {cost => <CostContent cost={cost} month={month} locales={locales} />}
    </CairnCard>
  );
}

function CostContent(props: {
  cost: ServiceCost;
  month: string;
  locales: Locales;
}) {
  const { cost, locales } = props;
  const { t } = useCairnTranslation();
  const currency = cost.currency ?? 'USD';
  const month = formatMonth(cost.month || props.month, locales);
  const breakdown = cost.breakdown ?? [];
  const money = (amount: number) => formatMoney(amount, currency, locales);
  if (breakdown.length === 0 && !cost.totalMonthlyCost) {
    return (
      <EmptyState
        missing="data"
        title={t('cost.emptyTitle', { month })}
        description={t('cost.emptyDescription')}
      />
    );
  }
  const total = cost.totalMonthlyCost ?? 0;
  const previous = cost.previousMonthlyCost ?? 0;
  const change = formatChange(total, previous, locales);
  const sources: Record<string, string> = {
    billed: t('cost.billed'),
    estimated: t('cost.estimated'),
  };
  return (
    <>
      <Box display="flex" alignItems="baseline" flexWrap="wrap" mb={2}>
        <Typography variant="h4" component="p" aria-label={t('cost.total')}>
          {money(total)}
        </Typography>
        <Box ml={2}>
          <Typography variant="body2" color="textSecondary">
            {change
              ? t('cost.againstLastMonth', {
                  change,
                  previous: money(previous),
                })
              : t('cost.noCostLastMonth')}
          </Typography>
        </Box>
      </Box>
      <Typography variant="body2" gutterBottom>
        {t('cost.billedEstimated', {
          billed: money(sumBySource(breakdown, 'billed')),
          estimated: money(sumBySource(breakdown, 'estimated')),
        })}
      </Typography>
      <CardTable aria-label={t('cost.byResource')}>
        <TableHead>
          <TableRow>
            <TableCell>{t('cost.resource')}</TableCell>
            <TableCell>{t('cost.type')}</TableCell>
            <TableCell>{t('cost.source')}</TableCell>
            <TableCell align="right">{t('cost.thisMonth')}</TableCell>
            <TableCell>{t('cost.trend')}</TableCell>
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
                  label={sources[line.source ?? ''] ?? line.source}
                />
              </TableCell>
              <TableCell align="right">
                {money(line.monthlyCost ?? 0)}
              </TableCell>
              <TableCell>
                <Trend trend={line.trend ?? ''} />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </CardTable>
    </>
  );
}

function Trend(props: { trend: string }) {
  const { t } = useCairnTranslation();
  const trends: Record<
    string,
    { Icon: typeof TrendingFlatIcon; label: string }
  > = {
    up: { Icon: TrendingUpIcon, label: t('cost.up') },
    down: { Icon: TrendingDownIcon, label: t('cost.down') },
    stable: { Icon: TrendingFlatIcon, label: t('cost.stable') },
  };
  const { Icon, label } = trends[props.trend] ?? {
    Icon: TrendingFlatIcon,
    label: props.trend,
  };
  return (
    <Box display="flex" alignItems="center">
      <Icon fontSize="small" aria-hidden />
      <Box ml={0.5}>{label}</Box>
    </Box>
  );
}

function sumBySource(breakdown: CostBreakdown[], source: string): number {
  return breakdown
    .filter(line => line.source === source)
    .reduce((sum, line) => sum + (line.monthlyCost ?? 0), 0);
}
