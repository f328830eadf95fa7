import { act, renderHook, waitFor } from '@testing-library/react';
import { backoffDelayMs, useCairnRead } from './useCairnRead';

describe('useCairnRead', () => {
  it('doubles its wait from 2 s after each failure in a row, up to a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(backoffDelayMs)).toEqual([
      2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000,
    ]);
  });

  it('cancels the read under way and forgets the old value when its key changes', async () => {
    const signals: AbortSignal[] = [];
    const read = jest.fn((signal: AbortSignal) => {
      signals.push(signal);
      return signals.length === 1
        ? Promise.resolve('November')
        : new Promise<string>(() => {});
    });
    const { result, rerender } = renderHook(
      ({ key }) => useCairnRead(key, read),
      { initialProps: { key: '2026-11' } },
    );
    await waitFor(() => expect(result.current.value).toBe('November'));

    rerender({ key: '2026-10' });
    expect(result.current.value).toBeUndefined();
    expect(result.current.loading).toBe(true);
    await act(async () => {
      rerender({ key: '2026-09' });
    });
    expect(signals).toHaveLength(3);
    expect(signals[1].aborted).toBe(true);
    expect(signals[2].aborted).toBe(false);
  });
});
