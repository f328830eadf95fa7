// How the cards write Cairn's numbers and dates for a person, in that
// person's locale. Words around the numbers come from the translation ref.

/** The locales to format in: the browser's preferred languages, as Intl takes them. */
export type Locales = readonly string[] | undefined;

/** The user's locales: the browser's preferred languages, Intl's default where there are none. */
export function userLocales(): Locales {
  if (typeof navigator === 'undefined') {
    return undefined;
  }
  if (navigator.languages?.length) {
    return navigator.languages;
  }
  return navigator.language ? [navigator.language] : undefined;
}

// Intl takes a mutable array; the browser hands out a frozen one.
const intlLocales = (locales: Locales) => (locales ? [...locales] : undefined);

export function formatMoney(
  amount: number,
  currency: string,
  locales: Locales,
): string {
  try {
    return new Intl.NumberFormat(intlLocales(locales), {
      style: 'currency',
      currency: currency || 'USD',
    }).format(amount);
  } catch {
    // Not an ISO 4217 code Intl knows: the number and the code as given.
    return `${formatNumber(amount, locales, 2)} ${currency}`;
  }
}

/** A number with exactly `digits` fraction digits. */
export function formatNumber(
  value: number,
  locales: Locales,
  digits: number,
): string {
  return new Intl.NumberFormat(intlLocales(locales), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** A ratio (0.125) as a percentage with one fraction digit ("12.5%"). */
export function formatPercent(
  ratio: number,
  locales: Locales,
  sign: 'auto' | 'always' = 'auto',
): string {
  return new Intl.NumberFormat(intlLocales(locales), {
    style: 'percent',
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
    signDisplay: sign === 'always' ? 'exceptZero' : 'auto',
  }).format(ratio);
}

/** The change from previous to current, such as "+12.0%", or undefined when there was nothing before. */
export function formatChange(
  current: number,
  previous: number,
  locales: Locales,
): string | undefined {
  if (previous === 0) {
    return undefined;
  }
  return formatPercent((current - previous) / previous, locales, 'always');
}

function unit(value: number, name: string, locales: Locales): string {
  return new Intl.NumberFormat(intlLocales(locales), {
    style: 'unit',
    unit: name,
    unitDisplay: 'short',
  }).format(value);
}

/** A duration in seconds in the largest two units that fit, such as "3 hr 20 min" in English. */
export function formatDuration(seconds: number, locales: Locales): string {
  if (seconds < 60) {
    return unit(Math.round(seconds), 'second', locales);
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return unit(minutes, 'minute', locales);
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    const h = unit(hours, 'hour', locales);
    return rest ? `${h} ${unit(rest, 'minute', locales)}` : h;
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  const d = unit(days, 'day', locales);
  return rest ? `${d} ${unit(rest, 'hour', locales)}` : d;
}

/** A protobuf Duration as JSON ("2.135411s") in seconds; undefined if absent or malformed. */
export function parseProtoDuration(
  duration: string | undefined | null,
): number | undefined {
  const match = duration?.match(/^(-?\d+(?:\.\d+)?)s$/);
  return match ? Number(match[1]) : undefined;
}

/** A point in time, with date and time. */
export function formatDateTime(time: string | Date, locales: Locales): string {
  return new Intl.DateTimeFormat(intlLocales(locales), {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(time));
}

/** A time of day to the second, for "trying again at ...". */
export function formatTime(time: Date, locales: Locales): string {
  return new Intl.DateTimeFormat(intlLocales(locales), {
    timeStyle: 'medium',
  }).format(time);
}

/** A month, `YYYY-MM`, as "November 2026" in English; the text as given if it is not one. */
export function formatMonth(month: string, locales: Locales): string {
  const match = month.match(/^(\d{4})-(\d{2})$/);
  if (!match) {
    return month;
  }
  return new Intl.DateTimeFormat(intlLocales(locales), {
    year: 'numeric',
    month: 'long',
    timeZone: 'UTC',
  }).format(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
}

/** The month `offset` months from now's, `YYYY-MM`, in UTC as Cairn counts months. */
export function monthOf(now: Date, offset = 0): string {
  const date = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1),
  );
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(
    2,
    '0',
  )}`;
}

/** A card's month setting (`current`, `previous` or `YYYY-MM`) as a month. */
export function resolveMonth(setting: string | undefined, now: Date): string {
  if (!setting || setting === 'current') {
    return monthOf(now);
  }
  if (setting === 'previous') {
    return monthOf(now, -1);
  }
  return setting;
}

export function capitalize(word: string): string {
  return word ? word[0].toLocaleUpperCase('en-US') + word.slice(1) : word;
}
