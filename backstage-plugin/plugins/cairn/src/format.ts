// How the cards write Cairn's numbers for a person.

export function formatMoney(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: currency || 'USD',
    }).format(amount);
  } catch {
    // Not an ISO 4217 code Intl knows: the number and the code as given.
    return `${amount.toFixed(2)} ${currency}`;
  }
}

/** The change from previous to current, such as "+12.0%", or undefined when there was nothing before. */
export function formatChange(
  current: number,
  previous: number,
): string | undefined {
  if (previous === 0) {
    return undefined;
  }
  const percent = ((current - previous) / previous) * 100;
  return `${percent >= 0 ? '+' : '−'}${Math.abs(percent).toFixed(1)}%`;
}

/** A duration in seconds, as "45 s", "12 min", "3 h 20 min" or "2 d 4 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/** A protobuf Duration as JSON ("2.135411s") in seconds; undefined if absent or malformed. */
export function parseProtoDuration(
  duration: string | undefined | null,
): number | undefined {
  const match = duration?.match(/^(-?\d+(?:\.\d+)?)s$/);
  return match ? Number(match[1]) : undefined;
}

/** A DORA metric's value in its unit: deploys_per_day, seconds or ratio. */
export function formatMetric(value: number, unit: string): string {
  switch (unit) {
    case 'deploys_per_day':
      return value >= 1
        ? `${value.toFixed(1)} per day`
        : `${(value * 7).toFixed(1)} per week`;
    case 'seconds':
      return formatDuration(value);
    case 'ratio':
      return `${(value * 100).toFixed(1)}%`;
    default:
      return `${value} ${unit}`;
  }
}

export function capitalize(word: string): string {
  return word ? word[0].toLocaleUpperCase('en-US') + word.slice(1) : word;
}
