import { describe, expect, it } from 'vitest';
import type { CallLogEntry, CallRecord, LineState, SettingView } from './bindings';
import {
  describeStatus,
  displayDestination,
  endpointLabel,
  fieldError,
  fieldLabel,
  forwardingSummary,
  isPage,
  lineSummary,
  looksDialable,
  mergeHistory,
  needingAttention,
  optional,
  PAGES,
  plural,
  primaryNumber,
  relativeTime,
  RING_COUNTS,
  SETTING_PAGE,
  SETTING_TITLES,
  settingSummary,
  valueOf,
} from './settings';

const at = '2026-11-24T09:00:00Z';

function view(status: SettingView['status'], key: SettingView['key'] = 'call_forwarding_always'): SettingView {
  const value = { key: 'call_forwarding_always', value: { active: true, forward_to: '2145550100', ring_splash: false } } as const;
  return { key, value, provider_value: value, version: 1, fetched_at: at, status };
}

describe('describeStatus', () => {
  it('reads every outbox state in words', () => {
    expect(describeStatus(view({ status: 'synced' }))).toMatchObject({ tone: 'ok', label: 'Saved' });
    expect(describeStatus(view({ status: 'pending', edit_id: 1, attempts: 0, last_error: null }))).toMatchObject({ tone: 'busy', label: 'Sending…' });
    const waiting = describeStatus(view({ status: 'pending', edit_id: 1, attempts: 2, last_error: 'offline' }));
    expect(waiting).toMatchObject({ tone: 'warn', label: 'Waiting' });
    expect(waiting.detail).toContain('offline');
    const conflict = describeStatus(view({ status: 'conflict', edit_id: 1, fields: ['forward_to', 'active'], theirs: view({ status: 'synced' }).value }));
    expect(conflict).toMatchObject({ tone: 'warn', label: 'Conflict' });
    expect(conflict.detail).toContain('number, on/off');
    const failed = describeStatus(view({ status: 'failed', edit_id: 1, reason: 'not allowed' }));
    expect(failed).toMatchObject({ tone: 'error', label: 'Not applied' });
    expect(failed.detail).toContain('not allowed');
  });

  it('names fields for people, with a fallback', () => {
    expect(fieldLabel('number_of_rings')).toBe('rings');
    expect(fieldLabel('locations/2/address')).toBe('numbers');
    expect(fieldLabel('some_new_field')).toBe('some new field');
  });
});

describe('summaries', () => {
  it('lists the forwardings that are on', () => {
    expect(
      forwardingSummary({
        forwarding: [
          { kind: 'always', active: false, to: '1', pending: false },
          { kind: 'busy', active: true, to: '2145551999', pending: true },
          { kind: 'no_answer', active: true, to: null, pending: false },
        ],
      }),
    ).toEqual(['When busy → 2145551999 (sending…)', 'No answer → no number']);
  });

  it('reads the line state', () => {
    const line = (l: Partial<LineState>): LineState => ({ sip: 'on', lines: [], ringing: [], missed: 0, ...l });
    expect(lineSummary(line({ sip: 'demo' })).tone).toBe('ok');
    expect(lineSummary(line({ sip: 'off' })).text).toMatch(/No soft-client line/);
    expect(lineSummary(line({ lines: [{ line: 'a', label: 'A', state: 'registered', reason: null }] })).text).toBe('Connected: calls ring here');
    expect(
      lineSummary(
        line({
          lines: [
            { line: 'a', label: 'A', state: 'registered', reason: null },
            { line: 'b', label: 'B', state: 'failed', reason: '403 Forbidden' },
          ],
        }),
      ),
    ).toEqual({ tone: 'error', text: 'Not connected: 403 Forbidden' });
    expect(lineSummary(line({ lines: [{ line: 'a', label: 'A', state: 'connecting', reason: null }] })).tone).toBe('busy');
  });

  it('summarises setting values', () => {
    expect(settingSummary({ key: 'call_forwarding_always', value: { active: true, forward_to: '2145550100', ring_splash: false } })).toBe('On, to 2145550100');
    expect(settingSummary({ key: 'call_forwarding_no_answer', value: { active: true, forward_to: '21', number_of_rings: 1 } })).toBe('On, to 21 after 1 ring');
    expect(settingSummary({ key: 'call_forwarding_busy', value: { active: false, forward_to: null } })).toBe('Off');
    expect(settingSummary({ key: 'do_not_disturb', value: { active: true, ring_splash: false } })).toBe('On');
    expect(settingSummary({ key: 'speed_dial_8', value: { entries: { '2': { number: '1', description: null } } } })).toBe('1 entry');
    expect(settingSummary({ key: 'call_notify', value: { email: null, criteria: {} } })).toBe('No e-mail address');
  });

  it('orders what needs attention: conflicts, refusals, then stuck changes', () => {
    const list = [
      view({ status: 'synced' }, 'call_waiting'),
      view({ status: 'pending', edit_id: 3, attempts: 1, last_error: 'offline' }, 'remote_office'),
      view({ status: 'failed', edit_id: 2, reason: 'no' }, 'speed_dial_8'),
      view({ status: 'pending', edit_id: 4, attempts: 0, last_error: null }, 'sequential_ring'),
      view({ status: 'conflict', edit_id: 1, fields: [], theirs: view({ status: 'synced' }).value }, 'do_not_disturb'),
    ];
    expect(needingAttention(list).map((v) => v.key)).toEqual(['do_not_disturb', 'speed_dial_8', 'remote_office']);
  });
});

describe('mergeHistory', () => {
  const log = (id: string, kind: CallLogEntry['kind'], number: string, time: string): CallLogEntry => ({ id, kind, number, name: null, time });
  const call = (id: string, c: Partial<CallRecord>): CallRecord => ({
    id,
    line: 'l',
    direction: 'incoming',
    number: '1',
    name: null,
    started_at: at,
    ended_at: null,
    outcome: 'answered',
    suppressed_by_dnd: false,
    ...c,
  });

  it('merges newest first and drops the calls the provider also logged', () => {
    const rows = mergeHistory(
      [log('1', 'missed', '2145551003', '2026-11-24T08:55:00Z'), log('2', 'placed', '2145550100', '2026-11-24T07:30:00Z')],
      [
        // The same missed call, seen by Deskline 30 s later: one row.
        call('a', { number: '2145551003', outcome: 'missed', started_at: '2026-11-24T08:55:30Z' }),
        // A call Deskline placed that the provider has not logged yet.
        call('b', { number: '2145551007', direction: 'outgoing', outcome: 'dialled', started_at: '2026-11-24T09:10:00Z' }),
        // Same number and kind but an hour apart: a different call.
        call('c', { number: '2145550100', direction: 'outgoing', outcome: 'dialled', started_at: '2026-11-24T06:30:00Z' }),
      ],
    );
    expect(rows.map((r) => [r.id, r.kind, r.source])).toEqual([
      ['d-b', 'placed', 'deskline'],
      ['p-1', 'missed', 'provider'],
      ['p-2', 'placed', 'provider'],
      ['d-c', 'placed', 'deskline'],
    ]);
  });

  it('reads incoming calls as missed or received', () => {
    const rows = mergeHistory([], [call('x', { outcome: 'missed' }), call('y', { outcome: 'declined', started_at: '2026-11-24T08:00:00Z' })]);
    expect(rows.map((r) => r.kind)).toEqual(['missed', 'received']);
  });
});

describe('small helpers', () => {
  it('finds the error for a field', () => {
    const e = { field: 'forward_to', message: 'Needs a number' };
    expect(fieldError(e, ['forward_to', 'number'])).toBe('Needs a number');
    expect(fieldError(e, ['email'])).toBeNull();
    expect(fieldError({ field: null, message: 'x' }, ['email'])).toBeNull();
    expect(fieldError(null, ['email'])).toBeNull();
  });

  it('tells numbers from names', () => {
    expect(looksDialable('2145550100')).toBe(true);
    expect(looksDialable('+44 (20) 7946-0000')).toBe(true);
    expect(looksDialable('sip:alice@example.com')).toBe(true);
    expect(looksDialable('tel:+12145550100')).toBe(true);
    expect(looksDialable('1')).toBe(false);
    expect(looksDialable('alice')).toBe(false);
    expect(looksDialable('')).toBe(false);
  });

  it('shows destinations and picks numbers', () => {
    expect(displayDestination('tel:+12145550100')).toBe('+12145550100');
    expect(displayDestination('callto://2145550100')).toBe('2145550100');
    expect(displayDestination('sip:alice@example.com')).toBe('sip:alice@example.com');
    expect(primaryNumber({ number: null, extension: '1001', mobile: '07' })).toBe('1001');
    expect(primaryNumber({ number: null, extension: null, mobile: null })).toBeNull();
  });

  it('formats', () => {
    expect(plural(1, 'change')).toBe('1 change');
    expect(plural(3, 'entry', 'entries')).toBe('3 entries');
    expect(optional('  ')).toBeNull();
    expect(optional(' 21 ')).toBe('21');
    expect(endpointLabel('primary')).toBe('Primary device');
    expect(endpointLabel('Shared Call Appearance')).toBe('Shared line');
    expect(endpointLabel({ other: 'Pager' })).toBe('Pager');
  });

  it('reads times relative to now', () => {
    const now = new Date('2026-11-24T12:00:00');
    expect(relativeTime(null, now)).toBe('never');
    expect(relativeTime('nonsense', now)).toBe('unknown');
    expect(relativeTime(new Date('2026-11-24T11:59:40').toISOString(), now)).toBe('just now');
    expect(relativeTime(new Date('2026-11-24T11:50:00').toISOString(), now)).toBe('10 minutes ago');
    expect(relativeTime(new Date('2026-11-24T09:05:00').toISOString(), now)).toBe('today 09:05');
    expect(relativeTime(new Date('2026-11-23T14:05:00').toISOString(), now)).toBe('yesterday 14:05');
  });

  it('types a setting value by key', () => {
    const v = view({ status: 'synced' });
    expect(valueOf(v, 'call_forwarding_always')?.forward_to).toBe('2145550100');
    expect(valueOf(v, 'do_not_disturb')).toBeUndefined();
    expect(valueOf(undefined, 'do_not_disturb')).toBeUndefined();
  });

  it('has a page, a title and valid ring counts for everything', () => {
    for (const key of Object.keys(SETTING_TITLES) as (keyof typeof SETTING_TITLES)[]) {
      expect(isPage(SETTING_PAGE[key])).toBe(true);
    }
    expect(PAGES.length).toBeLessThanOrEqual(9); // Alt+1…9
    expect(RING_COUNTS).not.toContain(1);
    expect(RING_COUNTS.every((n) => n === 0 || (n >= 2 && n <= 20))).toBe(true);
  });
});
