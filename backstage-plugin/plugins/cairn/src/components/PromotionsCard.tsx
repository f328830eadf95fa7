import {
  EmptyState,
  StatusError,
  StatusOK,
  StatusPending,
} from '@backstage/core-components';
import { identityApiRef, useApiHolder } from '@backstage/core-plugin-api';
import {
  CairnError,
  ListPromotionsResponse,
  Promotion,
  PromotionEvidence,
} from '@cairn-dev/plugin-cairn-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { useEffect, useState } from 'react';
import {
  capitalize,
  formatDateTime,
  formatMoney,
  formatPercent,
  Locales,
  userLocales,
} from '../format';
import {
  CardTable,
  CairnCard,
  describeError,
  MissingAnnotationCard,
  Translate,
  useCairnTranslation,
} from './CairnCard';
import { useCairnRead } from './useCairnRead';
import { useCairnService } from './useCairnService';

/** @public */
export type PromotionsCardProps = {
  /**
   * How many of the newest promotions the card reads at first, and how many
   * more each "Show older promotions" adds, up to 200 in all; 20 by default,
   * at most 100.
   */
  pageSize?: number;
};

const defaultPageSize = 20;
const maxPageSize = 100;

/** The most promotions the card reads; older ones are for Cairn's CLI. */
export const maxPromotions = 200;

/** Cairn's bound on a decision's reason. */
const maxReasonLength = 1024;

const useStyles = makeStyles({
  // Names, revisions, states and times read badly broken over lines; the
  // decision and the reason take what room is left.
  nowrap: { whiteSpace: 'nowrap' },
  reasonField: { width: 180 },
  // On a card narrower than the reason and both buttons, the buttons go
  // under the reason rather than past the card's edge.
  decisionRow: { flexWrap: 'wrap', rowGap: 8 },
});

/** What the card knows of its own decision on a promotion. */
type Result = { promotion: Promotion } | { error: Error };

/**
 * The entity's promotions from Cairn, acting as the signed-in user: those
 * awaiting a decision, with what to decide on (revision, environment,
 * requester, when, whether it is a rollback) and Approve and Deny buttons
 * that are enabled only where Cairn says the user may decide
 * (`callerCanDecide`: an approver of the service's team who is not the
 * requester); below, the decided ones. A decision shows its result in its
 * row, or Cairn's refusal with its reason, and the card reads again.
 */
export function PromotionsCard(props: PromotionsCardProps) {
  const { service } = useCairnService();
  const { t } = useCairnTranslation();
  if (!service) {
    return <MissingAnnotationCard title={t('promotions.title')} />;
  }
  return <ServicePromotionsCard {...props} service={service} />;
}

function ServicePromotionsCard(
  props: PromotionsCardProps & { service: string },
) {
  const { service } = props;
  const pageSize = Math.max(
    1,
    Math.min(maxPageSize, Math.floor(props.pageSize ?? defaultPageSize)),
  );
  const { api } = useCairnService();
  const { t } = useCairnTranslation();
  const user = useUserEntityRef();
  const [limit, setLimit] = useState(pageSize);
  // The read takes the latest limit: "show older" reads the newest `limit`
  // again rather than paging, so that a re-read after a decision keeps
  // every row the person sees.
  const read = useCairnRead(`${service}/${pageSize}`, signal =>
    api.listPromotions(service, { pageSize: limit, signal }),
  );
  const [results, setResults] = useState<Record<string, Result>>({});
  // The promotions whose decision is under way.
  const [deciding, setDeciding] = useState<Record<string, boolean>>({});

  const decide = async (
    promotion: string,
    approve: boolean,
    reason: string,
  ) => {
    setDeciding(d => ({ ...d, [promotion]: true }));
    setResults(({ [promotion]: _, ...others }) => others);
    let result: Result;
    try {
      result = {
        promotion: approve
          ? await api.approvePromotion(promotion, { reason })
          : await api.denyPromotion(promotion, { reason }),
      };
    } catch (error) {
      result = {
        error: error instanceof Error ? error : new Error(String(error)),
      };
    }
    setResults(r => ({ ...r, [promotion]: result }));
    setDeciding(({ [promotion]: _, ...others }) => others);
    // Also after a refusal: someone else may have decided it meanwhile, or
    // Cairn may have recorded an approval whose sync then failed.
    read.retry();
  };

  const showOlder = () => {
    setLimit(l => Math.min(maxPromotions, l + pageSize));
    read.retry();
  };

  return (
    <CairnCard
      title={t('promotions.title')}
      read={read}
      service={service}
      loadFailed={t('promotions.loadFailed')}
    >
      {page => (
        <PromotionsContent
          page={page}
          service={service}
          user={user}
          results={results}
          deciding={deciding}
          onDecide={decide}
          more={
            page.nextPageToken
              ? {
                  bounded: limit >= maxPromotions,
                  loading: read.loading,
                  onShow: showOlder,
                }
              : undefined
          }
        />
      )}
    </CairnCard>
  );
}

/**
 * The signed-in user's entity reference, to say why they may not decide
 * their own request; undefined until known, or in an app without an
 * identity API. Cairn alone decides who may decide: this only picks the
 * words of the hint.
 */
function useUserEntityRef(): string | undefined {
  const identityApi = useApiHolder().get(identityApiRef);
  const [user, setUser] = useState<string>();
  useEffect(() => {
    let current = true;
    identityApi?.getBackstageIdentity().then(
      identity => current && setUser(identity.userEntityRef),
      () => {},
    );
    return () => {
      current = false;
    };
  }, [identityApi]);
  return user;
}

function PromotionsContent(props: {
  page: ListPromotionsResponse;
  service: string;
  user?: string;
  results: Record<string, Result>;
  deciding: Record<string, boolean>;
  onDecide: (promotion: string, approve: boolean, reason: string) => void;
  more?: { bounded: boolean; loading: boolean; onShow: () => void };
}) {
  const { page, service, user, results, deciding, onDecide, more } = props;
  const { t } = useCairnTranslation();
  const classes = useStyles();
  const locales = userLocales();
  const promotions = page.promotions ?? [];
  if (promotions.length === 0) {
    return (
      <EmptyState
        missing="data"
        title={t('promotions.emptyTitle')}
        description={t('promotions.emptyDescription')}
      />
    );
  }
  // A promotion decided on this card stays in its row, with its result,
  // until the page is left; the re-read may not have seen the decision yet.
  const awaiting = promotions
    .filter(p => p.state === 'pending' || results[p.name ?? ''])
    .map(p => {
      const result = results[p.name ?? ''];
      return result && 'promotion' in result && p.state === 'pending'
        ? { ...p, ...result.promotion }
        : p;
    });
  const shown = new Set(awaiting.map(p => p.name));
  const decided = promotions.filter(p => !shown.has(p.name));
  return (
    <>
      <Typography variant="subtitle2">{t('promotions.pending')}</Typography>
      {awaiting.length === 0 ? (
        <Typography variant="body2" color="textSecondary" gutterBottom>
          {t('promotions.nonePending')}
        </Typography>
      ) : (
        <CardTable aria-label={t('promotions.pending')}>
          <TableHead>
            <TableRow>
              <TableCell className={classes.nowrap}>
                {t('promotions.revision')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.environment')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.requester')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.requested')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.decision')}
              </TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {awaiting.flatMap(p => [
              <TableRow key={p.name}>
                <TableCell className={classes.nowrap}>
                  <Revision promotion={p} />
                </TableCell>
                <TableCell className={classes.nowrap}>
                  {capitalize(p.environment ?? '')}
                </TableCell>
                <TableCell className={classes.nowrap}>{p.requester}</TableCell>
                <TableCell className={classes.nowrap}>
                  {when(p.createTime, locales)}
                </TableCell>
                <TableCell>
                  <Decision
                    promotion={p}
                    user={user}
                    result={results[p.name ?? '']}
                    deciding={deciding[p.name ?? ''] === true}
                    onDecide={(approve, reason) =>
                      onDecide(p.name ?? '', approve, reason)
                    }
                  />
                </TableCell>
              </TableRow>,
              ...(p.evidence || p.evidenceMissing
                ? [
                    <TableRow key={`${p.name}-evidence`}>
                      <TableCell colSpan={5}>
                        <Evidence promotion={p} locales={locales} />
                      </TableCell>
                    </TableRow>,
                  ]
                : []),
            ])}
          </TableBody>
        </CardTable>
      )}

      <Box mt={2}>
        <Typography variant="subtitle2">{t('promotions.decided')}</Typography>
      </Box>
      {decided.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          {t('promotions.noneDecided')}
        </Typography>
      ) : (
        <CardTable aria-label={t('promotions.decided')}>
          <TableHead>
            <TableRow>
              <TableCell className={classes.nowrap}>
                {t('promotions.state')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.revision')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.environment')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.requester')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.decider')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.reason')}
              </TableCell>
              <TableCell className={classes.nowrap}>
                {t('promotions.decideTime')}
              </TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {decided.map(p => (
              <TableRow key={p.name}>
                <TableCell className={classes.nowrap}>
                  <State state={p.state ?? ''} />
                </TableCell>
                <TableCell className={classes.nowrap}>
                  <Revision promotion={p} />
                </TableCell>
                <TableCell className={classes.nowrap}>
                  {capitalize(p.environment ?? '')}
                </TableCell>
                <TableCell className={classes.nowrap}>{p.requester}</TableCell>
                <TableCell className={classes.nowrap}>
                  {p.decider || '—'}
                </TableCell>
                <TableCell>{p.reason || '—'}</TableCell>
                <TableCell className={classes.nowrap}>
                  {when(p.decideTime, locales)}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </CardTable>
      )}
      {more && (
        <Box mt={2}>
          {more.bounded ? (
            <Typography variant="body2" color="textSecondary">
              {t('promotions.bounded', {
                count: promotions.length,
                service,
              })}
            </Typography>
          ) : (
            <Button
              variant="outlined"
              size="small"
              onClick={more.onShow}
              disabled={more.loading}
            >
              {t('promotions.showOlder')}
            </Button>
          )}
        </Box>
      )}
    </>
  );
}

function when(time: string | null | undefined, locales: Locales): string {
  return time ? formatDateTime(time, locales) : '—';
}

function Revision(props: { promotion: Promotion }) {
  const { promotion } = props;
  const { t } = useCairnTranslation();
  return (
    <>
      {promotion.revision}
      {promotion.rollback && (
        <>
          {' '}
          <Chip
            size="small"
            variant="outlined"
            label={t('promotions.rollback')}
            title={t('promotions.rollbackHint')}
          />
        </>
      )}
    </>
  );
}

/**
 * What Cairn computed of a pending promotion's money and risk when it was
 * requested, a line each: the monthly cost change, the team's month
 * against its budget, the change failure rate, the open incidents of the
 * revision the environment runs; or why there is none.
 */
function Evidence(props: { promotion: Promotion; locales: Locales }) {
  const { promotion, locales } = props;
  const { t } = useCairnTranslation();
  const e: PromotionEvidence | undefined = promotion.evidence;
  if (!e) {
    return (
      <Typography variant="body2" color="textSecondary">
        {t('promotions.evidence.missing', {
          reason: promotion.evidenceMissing ?? '',
        })}
      </Typography>
    );
  }
  const currency = e.currency ?? '';
  const money = (amount: number | undefined) =>
    formatMoney(amount ?? 0, currency, locales);
  const change = e.monthlyCostChange ?? 0;
  let spend: string;
  if (e.spendUnknown) {
    spend = t('promotions.evidence.spendUnknown', { reason: e.spendUnknown });
  } else {
    spend = t('promotions.evidence.teamSpend', {
      spent: money(e.teamSpent),
      projected: money(e.teamProjected),
    });
    spend +=
      e.teamBudget !== undefined && e.teamBudget !== null
        ? ` ${t('promotions.evidence.ofBudget', { budget: money(e.teamBudget) })}`
        : ` (${e.budgetNote ?? ''})`;
  }
  const deployments = Number(e.changeFailureDeployments ?? 0);
  const incidents = (e.openIncidents ?? []).map(name =>
    name.slice(name.lastIndexOf('/') + 1),
  );
  return (
    <Box aria-label={t('promotions.evidence.label')}>
      <Typography variant="body2">
        {t('promotions.evidence.cost', {
          change: `${change > 0 ? '+' : ''}${money(change)}`,
          basis: e.costChangeBasis ?? '',
        })}
      </Typography>
      <Typography variant="body2" component="div">
        {spend}
        {e.projectedOverBudget && (
          <>
            {' '}
            <Chip
              size="small"
              color="secondary"
              label={t('promotions.evidence.overBudget')}
            />
          </>
        )}
      </Typography>
      <Typography variant="body2">
        {deployments > 0
          ? t('promotions.evidence.failureRate', {
              rate: formatPercent(e.changeFailureRate ?? 0, locales),
              count: deployments,
            })
          : t('promotions.evidence.noDeployments')}
      </Typography>
      {incidents.length > 0 && (
        <Typography variant="body2">
          {t('promotions.evidence.openIncidents', {
            revision: e.runningRevision ?? '',
            incidents: incidents.join(', '),
          })}
        </Typography>
      )}
    </Box>
  );
}

function State(props: { state: string }) {
  const { t } = useCairnTranslation();
  switch (props.state) {
    case 'approved':
      return <StatusOK>{t('promotions.states.approved')}</StatusOK>;
    case 'denied':
      return <StatusError>{t('promotions.states.denied')}</StatusError>;
    case 'pending':
      return <StatusPending>{t('promotions.states.pending')}</StatusPending>;
    default:
      return <StatusPending>{capitalize(props.state)}</StatusPending>;
  }
}

/**
 * A pending promotion's decision: a reason and the two buttons, enabled
 * where Cairn says the user may decide, else a hint of why not; once
 * decided, who decided it and why; and the card's last refusal, if any.
 */
function Decision(props: {
  promotion: Promotion;
  user?: string;
  result?: Result;
  deciding: boolean;
  onDecide: (approve: boolean, reason: string) => void;
}) {
  const { promotion, user, result, deciding, onDecide } = props;
  const { t } = useCairnTranslation();
  const classes = useStyles();
  const [reason, setReason] = useState('');
  const error = result && 'error' in result ? result.error : undefined;
  const refusal = error && <Refusal error={error} />;
  if (promotion.state !== 'pending') {
    const by = { decider: promotion.decider || '—' };
    return (
      <>
        {promotion.state === 'approved' ? (
          <StatusOK>{t('promotions.approvedBy', by)}</StatusOK>
        ) : (
          <StatusError>{t('promotions.deniedBy', by)}</StatusError>
        )}
        {promotion.reason && (
          <Typography variant="body2" color="textSecondary">
            {promotion.reason}
          </Typography>
        )}
        {refusal}
      </>
    );
  }
  const canDecide = promotion.callerCanDecide === true;
  const hintId = `cairn-promotion-hint-${promotion.name}`;
  const own =
    !!user &&
    !!promotion.requester &&
    user.toLocaleLowerCase('en-US') ===
      promotion.requester.toLocaleLowerCase('en-US');
  const hint = own ? t('promotions.ownRequest') : t('promotions.notDecider');
  const disabled = !canDecide || deciding;
  const describedBy = canDecide ? undefined : hintId;
  return (
    <>
      <Box display="flex" alignItems="center" className={classes.decisionRow}>
        {canDecide && (
          <Box mr={1}>
            <TextField
              id={`cairn-promotion-reason-${promotion.name}`}
              className={classes.reasonField}
              size="small"
              variant="outlined"
              label={t('promotions.reasonField')}
              value={reason}
              onChange={e => setReason(e.target.value)}
              disabled={deciding}
              inputProps={{ maxLength: maxReasonLength }}
            />
          </Box>
        )}
        <Box mr={1}>
          <Button
            variant="contained"
            color="primary"
            size="small"
            className={classes.nowrap}
            disabled={disabled}
            aria-describedby={describedBy}
            onClick={() => onDecide(true, reason.trim())}
          >
            {t('promotions.approve')}
          </Button>
        </Box>
        <Button
          variant="outlined"
          size="small"
          className={classes.nowrap}
          disabled={disabled}
          aria-describedby={describedBy}
          onClick={() => onDecide(false, reason.trim())}
        >
          {t('promotions.deny')}
        </Button>
      </Box>
      {!canDecide && (
        <Typography variant="caption" color="textSecondary" id={hintId}>
          {hint}
        </Typography>
      )}
      {refusal}
    </>
  );
}

/** A decision that failed: who refused, Cairn's message and its reason. */
function Refusal(props: { error: Error }) {
  const { error } = props;
  const { t } = useCairnTranslation();
  const { title, message, hint } = describeDecisionError(error, t);
  return (
    <Box role="alert" mt={1}>
      <Typography variant="body2" color="error">
        <strong>{title}</strong>: {message}
      </Typography>
      {error instanceof CairnError && error.reason && (
        <Typography variant="body2" color="error">
          {t('promotions.refusalReason', { reason: error.reason })}
        </Typography>
      )}
      {hint && (
        <Typography variant="body2" color="textSecondary">
          {hint}
        </Typography>
      )}
    </Box>
  );
}

function describeDecisionError(
  error: Error,
  t: Translate,
): { title: string; message: string; hint?: string } {
  if (error instanceof CairnError && error.source === 'cairn') {
    return { title: t('promotions.refused'), message: error.message };
  }
  const described = describeError(error, t('promotions.decideFailed'), t);
  // Backstage's proxy passes on only the methods its endpoint allows, and
  // answers others itself.
  if (
    error instanceof CairnError &&
    error.source === 'proxy' &&
    [403, 404, 405].includes(error.status)
  ) {
    return { ...described, hint: t('promotions.proxyMethodHint') };
  }
  return described;
}
