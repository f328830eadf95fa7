import { InfoCard, Progress, WarningPanel } from '@backstage/core-components';
import {
  TranslationFunction,
  TranslationRef,
  useTranslationRef,
} from '@backstage/frontend-plugin-api';
import { MissingAnnotationEmptyState } from '@backstage/plugin-catalog-react';
import { CairnError, isServiceNotFound } from '@cairn-dev/plugin-cairn-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import { makeStyles } from '@material-ui/core/styles';
import Table from '@material-ui/core/Table';
import Typography from '@material-ui/core/Typography';
import { ReactNode } from 'react';
import { CAIRN_SERVICE_ANNOTATION } from '../entity';
import { formatTime, userLocales } from '../format';
import { cairnTranslationRef } from '../translation';
import { CairnRead } from './useCairnRead';

type CairnMessages =
  typeof cairnTranslationRef extends TranslationRef<string, infer M>
    ? M
    : never;

/** The cards' words in the app's language. */
export type Translate = TranslationFunction<CairnMessages>;

export function useCairnTranslation(): { t: Translate } {
  return useTranslationRef(cairnTranslationRef);
}

/**
 * What a person reads about a failed read: a title that says who refused
 * or failed (Cairn, Backstage in front of it, nobody), Cairn's own message
 * when it answered, and a hint of what to do.
 */
export function describeError(
  error: Error,
  loadFailed: string,
  t: Translate,
): { title: string; message: string; hint?: string } {
  if (!(error instanceof CairnError)) {
    return { title: loadFailed, message: error.message };
  }
  const message = error.message;
  switch (error.source) {
    case 'timeout':
      return { title: t('error.timeout'), message };
    case 'network':
      return {
        title: t('error.network'),
        message,
        hint: t('error.networkHint'),
      };
    case 'proxy':
      if (error.status === 401) {
        return {
          title: t('error.proxyUnauthenticated'),
          message,
          hint: t('error.proxyUnauthenticatedHint'),
        };
      }
      if (error.status === 403) {
        return {
          title: t('error.proxyForbidden'),
          message,
          hint: t('error.proxyForbiddenHint'),
        };
      }
      if (error.status === 404) {
        return {
          title: t('error.proxyNotFound'),
          message,
          hint: t('error.proxyNotFoundHint'),
        };
      }
      if ([502, 503, 504].includes(error.status)) {
        return {
          title: t('error.proxyGateway'),
          message,
          hint: t('error.proxyGatewayHint'),
        };
      }
      return { title: t('error.proxyOther'), message };
    default:
      // Cairn answered: its canonical code says what kind of refusal.
      switch (error.code) {
        case 7: // PERMISSION_DENIED
          return { title: t('error.permissionDenied'), message };
        case 16: // UNAUTHENTICATED
          return { title: t('error.unauthenticated'), message };
        case 14: // UNAVAILABLE
          return { title: t('error.unavailable'), message };
        default:
          return { title: loadFailed, message };
      }
  }
}

/**
 * A failed read, with a retry button and when the card tries again by
 * itself. Over a value kept from before, it says how old that value is.
 */
export function CairnErrorPanel(props: {
  read: CairnRead<unknown>;
  service: string;
  loadFailed: string;
}) {
  const { read, service, loadFailed } = props;
  const { t } = useCairnTranslation();
  const locales = userLocales();
  if (!read.error) {
    return null;
  }
  const retry = (
    <Box display="flex" alignItems="center" mt={1}>
      <Button
        variant="outlined"
        size="small"
        onClick={read.retry}
        disabled={read.loading}
      >
        {t('read.retry')}
      </Button>
      {read.retryTime && (
        <Box ml={2}>
          <Typography variant="body2" color="textSecondary">
            {t('read.retryAt', { time: formatTime(read.retryTime, locales) })}
          </Typography>
        </Box>
      )}
    </Box>
  );
  const lastAnswer = read.valueTime && (
    <Typography variant="body2">
      {t('read.lastAnswer', { time: formatTime(read.valueTime, locales) })}
    </Typography>
  );
  if (isServiceNotFound(read.error)) {
    return (
      <WarningPanel
        severity="info"
        defaultExpanded
        title={t('error.notKnownTitle')}
        message={t('error.notKnownMessage', { service })}
      >
        {lastAnswer}
        {retry}
      </WarningPanel>
    );
  }
  const { title, message, hint } = describeError(read.error, loadFailed, t);
  return (
    <WarningPanel
      severity={read.value === undefined ? 'error' : 'warning'}
      defaultExpanded
      title={title}
      message={message}
    >
      {hint && <Typography variant="body2">{hint}</Typography>}
      {lastAnswer}
      {retry}
    </WarningPanel>
  );
}

/**
 * A card around one read from Cairn: a progress bar until the first
 * answer, the error panel when a read fails (above the last good value, if
 * there is one), and the value as children draws it.
 */
export function CairnCard<T>(props: {
  title: string;
  subheader?: (value: T) => ReactNode;
  action?: ReactNode;
  read: CairnRead<T>;
  service: string;
  loadFailed: string;
  children: (value: T) => ReactNode;
}) {
  const { title, subheader, action, read, service, loadFailed, children } =
    props;
  const value = read.value;
  return (
    <InfoCard
      title={title}
      subheader={value !== undefined ? subheader?.(value) : undefined}
      action={action}
    >
      {read.error ? (
        <Box mb={value === undefined ? 0 : 2}>
          <CairnErrorPanel
            read={read as CairnRead<unknown>}
            service={service}
            loadFailed={loadFailed}
          />
        </Box>
      ) : (
        value === undefined && <Progress />
      )}
      {value !== undefined && children(value)}
    </InfoCard>
  );
}

/** A card on an entity that does not name its service in Cairn. */
export function MissingAnnotationCard(props: { title: string }) {
  return (
    <InfoCard title={props.title}>
      <MissingAnnotationEmptyState annotation={CAIRN_SERVICE_ANNOTATION} />
    </InfoCard>
  );
}

const useTableStyles = makeStyles({
  // A table wider than its card scrolls inside it, and its words stay
  // whole: a half-width card of an entity page would otherwise break
  // "Environment" in two.
  scroll: { overflowX: 'auto' },
  table: { '& th, & td': { overflowWrap: 'normal', wordBreak: 'normal' } },
});

/** A card's small table, scrolling inside the card when it is wider. */
export function CardTable(props: {
  'aria-label': string;
  children: ReactNode;
}) {
  const classes = useTableStyles();
  return (
    <div className={classes.scroll}>
      <Table
        size="small"
        aria-label={props['aria-label']}
        className={classes.table}
      >
        {props.children}
      </Table>
    </div>
  );
}
