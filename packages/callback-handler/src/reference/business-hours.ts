/**
 * Business hours in the rules' IANA time zone: the wall-clock day and time at `now` there
 * (Intl, so daylight-saving changes are the time zone database's, not ours).
 * @module
 */
import type { BusinessHours } from './rules-file.js';

/** Intl's short English weekday names, to the rules file's day names. */
const WEEKDAY: Record<string, string> = {
  Mon: 'MON',
  Tue: 'TUE',
  Wed: 'WED',
  Thu: 'THU',
  Fri: 'FRI',
  Sat: 'SAT',
  Sun: 'SUN',
};

/** Day and "HH:MM" at `now` in `timeZone`. */
export function wallClock(now: Date, timeZone: string): { day: string; time: string } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: WEEKDAY[get('weekday')] ?? '?', time: `${get('hour')}:${get('minute')}` };
}

/** True if `now` falls in one of the windows: [start, end) on one of its days. */
export function withinBusinessHours(hours: BusinessHours, now: Date): boolean {
  const { day, time } = wallClock(now, hours.timeZone);
  return hours.windows.some(
    (w) => (w.days as readonly string[]).includes(day) && w.start <= time && time < w.end,
  );
}
