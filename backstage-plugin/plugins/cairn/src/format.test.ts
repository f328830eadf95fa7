import {
  formatChange,
  formatDateTime,
  formatDuration,
  formatMoney,
  formatMonth,
  formatPercent,
  monthOf,
  parseProtoDuration,
  resolveMonth,
} from './format';

// Intl separates some units with no-break spaces; compare with plain ones.
const plain = (text: string) => text.replace(/\s/g, ' ');

describe('format', () => {
  it('writes money in its currency, in the given locale', () => {
    expect(formatMoney(1234.5, 'USD', ['en-US'])).toBe('$1,234.50');
    expect(formatMoney(12, 'EUR', ['en-US'])).toBe('€12.00');
    expect(plain(formatMoney(1234.5, 'EUR', ['de-DE']))).toBe('1.234,50 €');
    expect(plain(formatMoney(1234.5, 'XYZW', ['de-DE']))).toBe('1.234,50 XYZW');
  });

  it('writes percentages and the change against last month in the given locale', () => {
    expect(formatPercent(0.125, ['en-US'])).toBe('12.5%');
    expect(plain(formatPercent(0.125, ['fr-FR']))).toBe('12,5 %');
    expect(formatChange(120, 100, ['en-US'])).toBe('+20.0%');
    expect(formatChange(90, 100, ['en-US'])).toBe('-10.0%');
    expect(plain(formatChange(90, 100, ['de-DE'])!)).toBe('-10,0 %');
    expect(formatChange(90, 0, ['en-US'])).toBeUndefined();
  });

  it('writes durations in the largest units that fit, in the given locale', () => {
    expect(formatDuration(42, ['en-US'])).toBe('42 sec');
    expect(formatDuration(12 * 60, ['en-US'])).toBe('12 min');
    expect(formatDuration(3 * 3600 + 20 * 60, ['en-US'])).toBe('3 hr 20 min');
    expect(formatDuration(2 * 86400 + 4 * 3600, ['en-US'])).toBe('2 days 4 hr');
    expect(plain(formatDuration(3 * 3600, ['de-DE']))).toBe('3 Std.');
  });

  it('writes dates and months in the given locale', () => {
    const time = '2026-11-27T12:47:32Z';
    const local = new Date(time);
    expect(formatDateTime(time, ['de-DE'])).toBe(
      new Intl.DateTimeFormat('de-DE', {
        dateStyle: 'medium',
        timeStyle: 'short',
      }).format(local),
    );
    expect(formatDateTime(time, ['de-DE'])).toMatch(/^27\.11\.2026/);
    expect(formatMonth('2026-11', ['en-US'])).toBe('November 2026');
    expect(formatMonth('2026-11', ['fr-FR'])).toBe('novembre 2026');
    expect(formatMonth('soon', ['en-US'])).toBe('soon');
  });

  it('counts months in UTC, as Cairn does', () => {
    // Late on 31 December in New York is already January in UTC.
    const now = new Date('2027-01-01T03:00:00Z');
    expect(monthOf(now)).toBe('2027-01');
    expect(monthOf(now, -1)).toBe('2026-12');
    expect(resolveMonth(undefined, now)).toBe('2027-01');
    expect(resolveMonth('current', now)).toBe('2027-01');
    expect(resolveMonth('previous', now)).toBe('2026-12');
    expect(resolveMonth('2026-03', now)).toBe('2026-03');
  });

  it('reads protobuf durations as JSON writes them', () => {
    expect(parseProtoDuration('2.135411s')).toBeCloseTo(2.135411);
    expect(parseProtoDuration('84s')).toBe(84);
    expect(parseProtoDuration(null)).toBeUndefined();
    expect(parseProtoDuration('soon')).toBeUndefined();
  });
});
