import { CairnError } from '@cairn-dev/plugin-cairn-common';
import { useCallback, useEffect, useRef, useState } from 'react';

/** How long to wait before reading again after failures in a row: doubling from 2 s, at most a minute. */
export function backoffDelayMs(failures: number): number {
  return Math.min(60_000, 2_000 * 2 ** Math.max(0, failures - 1));
}

/** What a card knows of one read from Cairn. */
export type CairnRead<T> = {
  /** The last good answer, kept while later reads fail. */
  value?: T;
  /** When the value was read. */
  valueTime?: Date;
  /** The last read's error; undefined once a read succeeds. */
  error?: Error;
  /** Whether a read is under way. */
  loading: boolean;
  /** When the card reads again by itself after the error; undefined if it will not. */
  retryTime?: Date;
  /** Reads now. */
  retry: () => void;
};

type ReadState<T> = Omit<CairnRead<T>, 'retry'> & {
  key: string;
  failures: number;
};

/**
 * Reads from Cairn for a card. A failed read keeps the last good value; a
 * read that may succeed later (no answer, Cairn unavailable, a gateway
 * error) is tried again by itself, waiting longer after every failure in a
 * row, while a refusal waits for the retry button. When the key changes
 * (another service, month or window) the old value is dropped and the
 * read under way is cancelled.
 *
 * @param refreshAfterMs - after a good answer, how long until reading again;
 *   undefined to stop.
 */
export function useCairnRead<T>(
  key: string,
  read: (signal: AbortSignal) => Promise<T>,
  refreshAfterMs?: (value: T) => number | undefined,
): CairnRead<T> {
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<ReadState<T>>({
    key,
    failures: 0,
    loading: true,
  });
  // The latest closures, so that a render does not restart the read.
  const readRef = useRef(read);
  readRef.current = read;
  const refreshRef = useRef(refreshAfterMs);
  refreshRef.current = refreshAfterMs;

  useEffect(() => {
    const controller = new AbortController();
    setState(s =>
      s.key === key
        ? { ...s, loading: true, retryTime: undefined }
        : { key, failures: 0, loading: true },
    );
    readRef.current(controller.signal).then(
      value => {
        if (!controller.signal.aborted) {
          setState({
            key,
            value,
            valueTime: new Date(),
            failures: 0,
            loading: false,
          });
        }
      },
      error => {
        if (controller.signal.aborted) {
          return;
        }
        setState(s => {
          const failures = s.failures + 1;
          const transient = error instanceof CairnError && error.transient;
          return {
            ...s,
            error,
            failures,
            loading: false,
            retryTime: transient
              ? new Date(Date.now() + backoffDelayMs(failures))
              : undefined,
          };
        });
      },
    );
    return () => controller.abort();
  }, [key, attempt]);

  const current: ReadState<T> =
    state.key === key ? state : { key, failures: 0, loading: true };
  let delay: number | undefined;
  if (!current.loading) {
    if (current.error) {
      delay = current.retryTime
        ? Math.max(0, current.retryTime.getTime() - Date.now())
        : undefined;
    } else if (current.value !== undefined) {
      delay = refreshRef.current?.(current.value);
    }
  }
  useEffect(() => {
    if (delay === undefined) {
      return undefined;
    }
    const timer = setTimeout(() => setAttempt(a => a + 1), delay);
    return () => clearTimeout(timer);
    // A new timer for every answer: state changes with each one.
  }, [delay, state]);

  const retry = useCallback(() => setAttempt(a => a + 1), []);
  return {
    value: current.value,
    valueTime: current.valueTime,
    error: current.error,
    loading: current.loading,
    retryTime: current.retryTime,
    retry,
  };
}
