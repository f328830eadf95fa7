import {
  formatChange,
  formatDuration,
  formatMetric,
  formatMoney,
  parseProtoDuration,
} from './format';

describe('format', () => {
  it('writes money in its currency', () => {
    expect(formatMoney(1234.5, 'USD')).toBe('$1,234.50');
    expect(formatMoney(12, 'EUR')).toBe('€12.00');
    expect(formatMoney(12, 'XYZW')).toBe('12.00 XYZW');
  });

  it('writes the change against last month, or nothing without one', () => {
    expect(formatChange(120, 100)).toBe('+20.0%');
    expect(formatChange(90, 100)).toBe('−10.0%');
    expect(formatChange(90, 0)).toBeUndefined();
  });

  it('writes durations in the largest units that fit', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(12 * 60)).toBe('12 min');
    expect(formatDuration(3 * 3600 + 20 * 60)).toBe('3 h 20 min');
    expect(formatDuration(2 * 86400 + 4 * 3600)).toBe('2 d 4 h');
  });

  it('reads protobuf durations as JSON writes them', () => {
    expect(parseProtoDuration('2.135411s')).toBeCloseTo(2.135411);
    expect(parseProtoDuration('84s')).toBe(84);
    expect(parseProtoDuration(null)).toBeUndefined();
    expect(parseProtoDuration('soon')).toBeUndefined();
  });

  it('writes DORA metrics in their units', () => {
    expect(formatMetric(2.5, 'deploys_per_day')).toBe('2.5 per day');
    expect(formatMetric(0.5, 'deploys_per_day')).toBe('3.5 per week');
    expect(formatMetric(5400, 'seconds')).toBe('1 h 30 min');
    expect(formatMetric(0.125, 'ratio')).toBe('12.5%');
  });
});
