import dayjs from 'dayjs';
import relativeTime from 'dayjs/plugin/relativeTime';
import utc from 'dayjs/plugin/utc';
import type { ApiKey, Environment, Role } from './types';

dayjs.extend(relativeTime);
dayjs.extend(utc);

export const EXPIRING_DAYS = 14;

export function maskKey(key: Pick<ApiKey, 'start' | 'last4'>): string {
  return `${key.start}…${key.last4}`;
}

/** "3 minutes ago", "in 2 months". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  return dayjs(iso).from(dayjs(now));
}

/** "12 Mar 2026, 14:05 UTC+1": the time in the person's time zone, and which zone that is. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  return `${dayjs(iso).format('D MMM YYYY, HH:mm')} ${zoneName(iso)}`;
}

/** The person's time zone at that instant (summer time included) as its offset: "UTC", "UTC+1", "UTC-3:30". */
export function zoneName(iso: string): string {
  const offset = dayjs(iso).utcOffset();
  if (offset === 0) return 'UTC';
  const minutes = Math.abs(offset) % 60;
  return `UTC${offset < 0 ? '-' : '+'}${Math.floor(Math.abs(offset) / 60)}${minutes ? `:${String(minutes).padStart(2, '0')}` : ''}`;
}

export function date(iso: string | null | undefined): string {
  if (!iso) return '';
  return dayjs(iso).format('D MMM YYYY');
}

/** The exact UTC instant, for tooltips and audit entries. */
export function utcTime(iso: string): string {
  return `${dayjs.utc(iso).format('YYYY-MM-DD HH:mm:ss')} UTC`;
}

export type DisplayStatus = ApiKey['status'] | 'expiring';

/** The status badge: active keys expiring within 14 days are "Expiring soon". */
export function displayStatus(key: Pick<ApiKey, 'status' | 'expiresAt'>, now = Date.now()): DisplayStatus {
  if (key.status === 'active' && key.expiresAt && Date.parse(key.expiresAt) - now < EXPIRING_DAYS * 86_400_000) return 'expiring';
  return key.status;
}

/** In the order the status filter lists them. */
export const STATUS_LABEL: Record<DisplayStatus, string> = {
  active: 'Active',
  expiring: 'Expiring soon',
  suspended: 'Suspended',
  expired: 'Expired',
  revoked: 'Revoked',
};

export const STATUS_COLOR: Record<DisplayStatus, string> = {
  active: 'green',
  suspended: 'yellow',
  revoked: 'red',
  expired: 'gray',
  expiring: 'orange',
};

export const ENVIRONMENT_LABEL: Record<Environment, string> = {
  production: 'Production',
  test: 'Test',
  development: 'Development',
  other: 'Other',
};

export const ROLE_LABEL: Record<Role, string> = { admin: 'Admin', member: 'Member', viewer: 'Viewer' };
export const ROLE_COLOR: Record<Role, string> = { admin: 'grape', member: 'blue', viewer: 'gray' };

/** A label map as the options of a Select, in the map's order. */
export function labelOptions<T extends string>(labels: Record<T, string>): Array<{ value: T; label: string }> {
  return (Object.keys(labels) as T[]).map((value) => ({ value, label: labels[value] }));
}

export const number = new Intl.NumberFormat('en');

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${number.format(count)} ${count === 1 ? one : many}`;
}
