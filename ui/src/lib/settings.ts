// Pure helpers the pages share: how a setting's sync status reads, what each setting is
// called, short summaries for the home page, and formatting. No backend, no DOM.
import type {
  AccountStatus,
  CallLogEntry,
  CallRecord,
  DirectoryEntry,
  DirectorySource,
  EndpointType,
  LineState,
  Registering,
  Setting,
  SettingKey,
  SettingView,
} from './bindings';

export type Tone = 'ok' | 'busy' | 'warn' | 'error';

export interface StatusText {
  tone: Tone;
  /** One or two words for the badge. */
  label: string;
  /** A sentence for people and screen readers. */
  detail: string;
}

/** How a setting's outbox status reads. */
export function describeStatus(view: Pick<SettingView, 'status' | 'fetched_at'>): StatusText {
  const s = view.status;
  switch (s.status) {
    case 'synced':
      return { tone: 'ok', label: 'Saved', detail: 'Your provider has this setting.' };
    case 'pending':
      if (s.last_error) {
        return {
          tone: 'warn',
          label: 'Waiting',
          detail: `Not sent yet: ${s.last_error}`,
        };
      }
      return { tone: 'busy', label: 'Sending…', detail: 'Your change is being sent to your provider.' };
    case 'conflict':
      return {
        tone: 'warn',
        label: 'Conflict',
        detail: `This was also changed elsewhere (${s.fields.map(fieldLabel).join(', ')}). Keep your change or take the one from your provider.`,
      };
    case 'failed':
      return { tone: 'error', label: 'Not applied', detail: `Your provider refused the change: ${s.reason}` };
  }
}

const FIELD_LABELS: Record<string, string> = {
  active: 'on/off',
  forward_to: 'number',
  number_of_rings: 'rings',
  ring_splash: 'ring reminder',
  number: 'number',
  locations: 'numbers',
  entries: 'entries',
  email: 'e-mail',
  criteria: 'rules',
};

export function fieldLabel(field: string): string {
  const head = field.split('/')[0];
  return FIELD_LABELS[head] ?? head.replace(/_/g, ' ');
}

export const SETTING_TITLES: Record<SettingKey, string> = {
  call_forwarding_always: 'Forward all calls',
  call_forwarding_busy: 'When I am busy',
  call_forwarding_no_answer: 'When I do not answer',
  call_forwarding_not_reachable: 'When my phone is unreachable',
  do_not_disturb: 'Do Not Disturb',
  anonymous_call_rejection: 'Reject anonymous calls',
  call_waiting: 'Call waiting',
  calling_line_id_delivery_blocking: 'Hide my number',
  remote_office: 'Remote Office',
  simultaneous_ring_personal: 'Ring other numbers at the same time',
  sequential_ring: 'Ring other numbers one after another',
  speed_dial_8: 'Speed Dial 8',
  speed_dial_100: 'Speed Dial 100',
  call_notify: 'Call Notify by e-mail',
  broadworks_anywhere: 'Anywhere',
  personal_directory: 'Personal phone list',
};

/** The page each setting is edited on. */
export const SETTING_PAGE: Record<SettingKey, Page> = {
  call_forwarding_always: 'forwarding',
  call_forwarding_busy: 'forwarding',
  call_forwarding_no_answer: 'forwarding',
  call_forwarding_not_reachable: 'forwarding',
  do_not_disturb: 'privacy',
  anonymous_call_rejection: 'privacy',
  call_waiting: 'ringing',
  calling_line_id_delivery_blocking: 'privacy',
  remote_office: 'ringing',
  simultaneous_ring_personal: 'ringing',
  sequential_ring: 'ringing',
  speed_dial_8: 'speed-dial',
  speed_dial_100: 'speed-dial',
  call_notify: 'ringing',
  broadworks_anywhere: 'ringing',
  personal_directory: 'directory',
};

export type Page =
  | 'home'
  | 'forwarding'
  | 'ringing'
  | 'speed-dial'
  | 'privacy'
  | 'directory'
  | 'history'
  | 'devices'
  | 'account';

export const PAGES: { id: Page; label: string }[] = [
  { id: 'home', label: 'Home' },
  { id: 'forwarding', label: 'Forwarding' },
  { id: 'ringing', label: 'Ring other phones' },
  { id: 'speed-dial', label: 'Speed dial' },
  { id: 'privacy', label: 'Privacy & calls' },
  { id: 'directory', label: 'Directory' },
  { id: 'history', label: 'Call history' },
  { id: 'devices', label: 'Devices' },
  { id: 'account', label: 'Account' },
];

export function isPage(p: string): p is Page {
  return PAGES.some((x) => x.id === p);
}

const FORWARD_NAMES: Record<string, string> = {
  always: 'All calls',
  busy: 'When busy',
  no_answer: 'No answer',
  not_reachable: 'Unreachable',
};

/** One line per forwarding that is on, for the home page. */
export function forwardingSummary(status: Pick<AccountStatus, 'forwarding'>): string[] {
  return status.forwarding
    .filter((f) => f.active)
    .map((f) => `${FORWARD_NAMES[f.kind] ?? f.kind} → ${f.to ?? 'no number'}${f.pending ? ' (sending…)' : ''}`);
}

/** What the line's registration reads as, in a few words. */
export function lineSummary(line: LineState): { tone: Tone; text: string } {
  if (line.sip === 'demo') return { tone: 'ok', text: 'Demo line: calls are simulated' };
  if (line.sip === 'off' || line.lines.length === 0) return { tone: 'busy', text: 'No soft-client line to connect' };
  const up = line.lines.filter((l) => l.state === 'registered').length;
  const failed = line.lines.find((l) => l.state === 'failed');
  if (up === line.lines.length) return { tone: 'ok', text: up === 1 ? 'Connected: calls ring here' : `All ${up} lines connected` };
  if (failed) return { tone: 'error', text: `Not connected: ${failed.reason ?? 'registration failed'}` };
  return { tone: 'busy', text: 'Connecting…' };
}

/** The body of the setting with key `K`. */
type SettingBodies = { [S in Setting as S['key']]: S['value'] };
export type SettingValue<K extends SettingKey> = SettingBodies[K];

/** A value's setting body, typed by key. */
export function valueOf<K extends SettingKey>(view: SettingView | undefined, key: K): SettingValue<K> | undefined {
  if (!view || view.value.key !== key) return undefined;
  const body: unknown = view.value.value;
  return body as SettingValue<K>;
}

/** Deep copy of plain data. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Whether two plain values differ. */
export function differs(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}

/** "" (an emptied field) becomes null for optional texts. */
export function optional(text: string | null | undefined): string | null {
  const t = (text ?? '').trim();
  return t === '' ? null : t;
}

/** "3 minutes ago", "yesterday 14:05", for timestamps near now. */
export function relativeTime(iso: string | null, now: Date = new Date()): string {
  if (!iso) return 'never';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return 'unknown';
  const s = Math.round((now.getTime() - t.getTime()) / 1000);
  if (s < 45) return 'just now';
  if (s < 90) return 'a minute ago';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minutes ago`;
  const h = Math.round(m / 60);
  if (h < 24 && t.getDate() === now.getDate()) return `today ${hhmm(t)}`;
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (t.toDateString() === y.toDateString()) return `yesterday ${hhmm(t)}`;
  return `${t.toLocaleDateString()} ${hhmm(t)}`;
}

function hhmm(t: Date): string {
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
}

/** A unified history row. */
export interface HistoryRow {
  id: string;
  kind: 'missed' | 'received' | 'placed';
  number: string;
  name: string | null;
  time: string;
  source: 'provider' | 'deskline';
}

/** Provider logs and Deskline's own calls merged, newest first, without duplicates. */
export function mergeHistory(logs: CallLogEntry[], calls: CallRecord[]): HistoryRow[] {
  const rows: HistoryRow[] = logs.map((l) => ({ id: `p-${l.id}`, kind: l.kind, number: l.number, name: l.name, time: l.time, source: 'provider' }));
  for (const c of calls) {
    const kind = c.direction === 'outgoing' ? 'placed' : c.outcome === 'missed' ? 'missed' : 'received';
    const dup = rows.some((r) => r.number === c.number && r.kind === kind && Math.abs(Date.parse(r.time) - Date.parse(c.started_at)) < 120_000);
    if (!dup) rows.push({ id: `d-${c.id}`, kind, number: c.number, name: c.name, time: c.started_at, source: 'deskline' });
  }
  return rows.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
}

/** Ring counts the provider accepts. */
export const RING_COUNTS = [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20];

/** The message of a validation error when it is about one of `fields` (else null). */
export function fieldError(error: { field: string | null; message: string } | null | undefined, fields: readonly string[]): string | null {
  if (!error || !error.field) return null;
  return fields.includes(error.field) ? error.message : null;
}

/** Whether typed text is a number or address to call rather than a name to look up. */
export function looksDialable(text: string): boolean {
  const t = text.trim();
  if (/^(sips?|tel|callto):\S+$/i.test(t)) return true;
  return /^\+?[0-9][0-9 ().\-*#]*$/.test(t) && t.replace(/[^0-9]/g, '').length >= 2;
}

/** A tel:/sip:/callto: link as people read it: `tel:+1214…` → `+1214…`. */
export function displayDestination(destination: string): string {
  return destination.trim().replace(/^(tel:|callto:(\/\/)?)/i, '');
}

/** The number to call for a directory entry: its number, else extension, else mobile. */
export function primaryNumber(entry: Pick<DirectoryEntry, 'number' | 'extension' | 'mobile'>): string | null {
  return entry.number ?? entry.extension ?? entry.mobile ?? null;
}

export const SOURCE_LABELS: Record<DirectorySource, string> = {
  personal: 'Personal',
  group: 'Group',
  enterprise: 'Company',
};

export const HISTORY_KIND_LABELS: Record<HistoryRow['kind'], string> = {
  missed: 'Missed',
  received: 'Received',
  placed: 'Placed',
};

export const REGISTERING_LABELS: Record<Registering, string> = {
  connecting: 'Connecting…',
  registered: 'Connected',
  failed: 'Not connected',
  unregistered: 'Disconnected',
};

/** How a device appears on the line, in words. */
export function endpointLabel(type: EndpointType | string): string {
  const t = typeof type === 'string' ? type : type.other;
  const k = t.toLowerCase().replace(/[\s-]+/g, '_');
  if (k === 'primary') return 'Primary device';
  if (k === 'shared_call_appearance') return 'Shared line';
  return t;
}

/** The settings that need the user (conflicts and refusals first, then waiting changes). */
export function needingAttention(settings: SettingView[]): SettingView[] {
  const rank = (v: SettingView) =>
    v.status.status === 'conflict' ? 0 : v.status.status === 'failed' ? 1 : v.status.status === 'pending' && v.status.last_error ? 2 : 9;
  return settings.filter((v) => rank(v) < 9).sort((a, b) => rank(a) - rank(b));
}

/** "1 change", "3 changes". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A setting's value in a few words ("On, to 2145550100", "3 entries"), e.g. in a conflict. */
export function settingSummary(s: Setting): string {
  const onOff = (active: boolean) => (active ? 'On' : 'Off');
  switch (s.key) {
    case 'call_forwarding_always':
    case 'call_forwarding_busy':
    case 'call_forwarding_not_reachable':
      return s.value.active ? `On, to ${s.value.forward_to ?? 'no number'}` : `Off${s.value.forward_to ? ` (number ${s.value.forward_to})` : ''}`;
    case 'call_forwarding_no_answer':
      return s.value.active
        ? `On, to ${s.value.forward_to ?? 'no number'} after ${plural(s.value.number_of_rings, 'ring')}`
        : `Off${s.value.forward_to ? ` (number ${s.value.forward_to})` : ''}`;
    case 'do_not_disturb':
    case 'anonymous_call_rejection':
    case 'call_waiting':
    case 'calling_line_id_delivery_blocking':
      return onOff(s.value.active);
    case 'remote_office':
      return s.value.active ? `On, at ${s.value.number ?? 'no number'}` : 'Off';
    case 'simultaneous_ring_personal':
      return `${onOff(s.value.active)}, ${plural(s.value.locations.length, 'number')}`;
    case 'sequential_ring':
      return plural(Object.keys(s.value.locations).length, 'number');
    case 'speed_dial_8':
    case 'speed_dial_100':
    case 'personal_directory':
      return plural(Object.keys(s.value.entries).length, 'entry', 'entries');
    case 'call_notify':
      return s.value.email ? `E-mail to ${s.value.email}` : 'No e-mail address';
    case 'broadworks_anywhere':
      return plural(Object.keys(s.value.locations).length, 'number');
  }
}
