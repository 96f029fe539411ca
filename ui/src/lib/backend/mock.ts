// An in-memory `Backend` with the demo line: the UI runs in a plain browser against it
// (`npm run dev:mock`) and the unit tests drive it. It behaves like the core where the UI
// can tell: edits are pending, then synced (or refused, or held as a conflict), sign-in
// errors carry the same codes, events arrive the same way.
import type {
  AccountStatus,
  AppEvent,
  AppState,
  CallLogEntry,
  DirectoryEntry,
  History,
  KnownAccount,
  LineEvent,
  LineState,
  Preferences,
  Registration,
  Resolution,
  Setting,
  SettingKey,
  SettingView,
  SignedIn,
  SoftClient,
  SyncEvent,
} from '../bindings';
import { BackendError, type Backend, type FirstScreen, type SignInRequest, type Unsubscribe } from './backend';

type Listener<T> = (event: T) => void;

const DEMO_ACCOUNT = 'demo@deskline.example@demo.deskline.invalid';

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const NUMBER = /^\+?[0-9][0-9 ().\-*#]*$/;

/** The core's number rule, roughly: digits (with separators), or a sip:/tel: address. */
export function checkNumber(raw: string | null | undefined, field = 'number'): void {
  if (raw == null) return;
  const v = raw.trim();
  if (v.startsWith('sip:') || v.startsWith('sips:')) {
    if (!/^sips?:[^@\s]+@[^@\s]+$/.test(v)) {
      throw new BackendError('invalid', 'A SIP address needs a user and a host, e.g. sip:alice@example.com', field);
    }
    return;
  }
  const digits = v.replace(/^tel:/, '');
  if (!NUMBER.test(digits)) {
    throw new BackendError(
      'invalid',
      `'${v}' is not a phone number: only digits, an optional leading +, spaces, dashes, dots and brackets are allowed`,
      field,
    );
  }
  if (digits.replace(/[^0-9]/g, '').length < 2) {
    throw new BackendError('invalid', 'A phone number or extension has at least 2 digits', field);
  }
}

function checkRings(n: number, field = 'number_of_rings'): void {
  if (!Number.isInteger(n) || n === 1 || n < 0 || n > 20)
    throw new BackendError('invalid', 'The number of rings is 0 or 2 to 20', field);
}

function checkText(raw: string | null | undefined, field: string, max: number): void {
  if (raw == null) return;
  const v = raw.trim();
  if (!v) throw new BackendError('invalid', 'This cannot be empty', field);
  if (v.length > max) throw new BackendError('invalid', `At most ${max} characters`, field);
}

function checkEmail(raw: string | null): void {
  if (raw == null) return;
  checkText(raw, 'email', 80);
  const [local, domain] = raw.trim().split('@');
  if (!local || !domain || !domain.includes('.') || domain.startsWith('.') || domain.endsWith('.') || /\s/.test(raw.trim()) || raw.split('@').length !== 2)
    throw new BackendError('invalid', 'An e-mail address looks like name@example.com', 'email');
}

/** The core's rules (single values, then the rules that span fields), as the core words them. */
function validate(s: Setting): void {
  const needs = (active: boolean, to: string | null, field: string) => {
    if (active && !to) throw new BackendError('invalid', 'Turning this on needs a number to forward to', field);
  };
  switch (s.key) {
    case 'call_forwarding_always':
    case 'call_forwarding_busy':
    case 'call_forwarding_not_reachable':
      checkNumber(s.value.forward_to);
      needs(s.value.active, s.value.forward_to, 'forward_to');
      break;
    case 'call_forwarding_no_answer':
      checkNumber(s.value.forward_to);
      checkRings(s.value.number_of_rings);
      needs(s.value.active, s.value.forward_to, 'forward_to');
      break;
    case 'remote_office':
      checkNumber(s.value.number);
      needs(s.value.active, s.value.number, 'number');
      break;
    case 'simultaneous_ring_personal': {
      s.value.locations.forEach((l) => checkNumber(l.address));
      if (s.value.locations.length > 10) throw new BackendError('invalid', 'Simultaneous Ring allows at most 10 numbers', 'locations');
      const seen = new Set<string>();
      for (const l of s.value.locations) {
        if (seen.has(l.address)) throw new BackendError('invalid', `${l.address} is listed twice`, 'locations');
        seen.add(l.address);
      }
      if (s.value.active && s.value.locations.length === 0)
        throw new BackendError('invalid', 'Turning Simultaneous Ring on needs at least one number', 'locations');
      break;
    }
    case 'sequential_ring':
      checkRings(s.value.base_location_number_of_rings);
      for (const [slot, l] of Object.entries(s.value.locations)) {
        checkNumber(l.address);
        checkRings(l.number_of_rings);
        if (!['1', '2', '3', '4', '5'].includes(slot))
          throw new BackendError('invalid', 'Sequential Ring has five locations, numbered 1 to 5', 'locations');
      }
      break;
    case 'speed_dial_8':
      for (const [code, e] of Object.entries(s.value.entries)) {
        checkNumber(e.number);
        checkText(e.description, 'description', 80);
        if (!/^[2-9]$/.test(code)) throw new BackendError('invalid', 'A Speed Dial 8 code is a digit from 2 to 9', 'speed_code');
      }
      break;
    case 'speed_dial_100':
      for (const [code, e] of Object.entries(s.value.entries)) {
        checkNumber(e.number);
        checkText(e.description, 'description', 80);
        if (!/^[0-9]+$/.test(code) || Number(code) > 99)
          throw new BackendError('invalid', 'A Speed Dial 100 code is a number from 0 to 99', 'speed_code');
        if (String(Number(code)) !== code) throw new BackendError('invalid', 'Write speed codes without leading zeros', 'speed_code');
      }
      break;
    case 'call_notify':
      checkEmail(s.value.email);
      break;
    case 'broadworks_anywhere':
      for (const [key, l] of Object.entries(s.value.locations)) {
        checkNumber(l.phone_number);
        checkText(l.description, 'description', 80);
        if (key !== l.phone_number) throw new BackendError('invalid', 'An Anywhere location is keyed by its phone number', 'locations');
      }
      break;
    case 'personal_directory':
      for (const [name, number] of Object.entries(s.value.entries)) {
        checkText(name, 'name', 50);
        checkNumber(number);
      }
      break;
    default:
      break;
  }
}

function demoSettings(): Setting[] {
  return [
    { key: 'call_forwarding_always', value: { active: false, forward_to: '2145550100', ring_splash: false } },
    { key: 'call_forwarding_busy', value: { active: true, forward_to: '2145551999', } },
    { key: 'call_forwarding_no_answer', value: { active: true, forward_to: '2145551999', number_of_rings: 4 } },
    { key: 'call_forwarding_not_reachable', value: { active: false, forward_to: null } },
    { key: 'do_not_disturb', value: { active: false, ring_splash: true } },
    { key: 'anonymous_call_rejection', value: { active: false } },
    { key: 'call_waiting', value: { active: true } },
    { key: 'calling_line_id_delivery_blocking', value: { active: false } },
    { key: 'remote_office', value: { active: false, number: null } },
    {
      key: 'simultaneous_ring_personal',
      value: {
        active: false,
        incoming_calls: 'do_not_ring_if_on_call',
        locations: [{ address: '2145550123', answer_confirmation_required: true }],
        criteria: { 'Office hours': true },
      },
    },
    {
      key: 'sequential_ring',
      value: {
        ring_base_location_first: true,
        base_location_number_of_rings: 3,
        continue_if_base_location_is_busy: true,
        caller_may_stop_search: false,
        locations: { '1': { address: '2145550123', number_of_rings: 4, answer_confirmation_required: false } },
        criteria: {},
      },
    },
    {
      key: 'speed_dial_8',
      value: { entries: { '2': { number: '2145550100', description: 'Front desk' }, '5': { number: '+442071234567', description: 'London office' } } },
    },
    { key: 'speed_dial_100', value: { prefix: '#', entries: { '10': { number: '2145550188', description: 'IT help' } } } },
    { key: 'call_notify', value: { email: 'dana@deskline.example', criteria: { 'VIP callers': false } } },
    {
      key: 'broadworks_anywhere',
      value: {
        alert_all_locations_for_click_to_dial_calls: false,
        alert_all_locations_for_group_paging_calls: false,
        locations: { '2145550123': { phone_number: '2145550123', country_code: '1', description: 'Mobile', active: true } },
      },
    },
    { key: 'personal_directory', value: { entries: { 'Alex Plumber': '2145550177', 'Mum': '+442079460000' } } },
  ];
}

const PEOPLE: [string, string, string, string][] = [
  ['Alice Anders', '2145551001', '1001', 'Sales'],
  ['Alan Brooks', '2145551002', '1002', 'Sales'],
  ['Bea Carter', '2145551003', '1003', 'Support'],
  ['Carlos Diaz', '2145551004', '1004', 'Support'],
  ['Dana Demo', '2145551000', '1000', 'Operations'],
  ['Erin Evans', '2145551005', '1005', 'Finance'],
  ['Farid Ghani', '2145551006', '1006', 'Engineering'],
  ['Grace Hopper', '2145551007', '1007', 'Engineering'],
  ['Hana Ito', '2145551008', '1008', 'Marketing'],
  ['Ivan Jones', '2145551009', '1009', 'Finance'],
  ['Jade Kim', '2145551010', '1010', 'Sales'],
  ['Kofi Larbi', '2145551011', '1011', 'Support'],
];

function demoDirectory(): DirectoryEntry[] {
  return PEOPLE.map(([name, number, ext, dept], i) => ({
    source: i % 3 === 2 ? 'enterprise' : 'group',
    name,
    number,
    extension: ext,
    mobile: null,
    email: `${name.split(' ')[0].toLowerCase()}@deskline.example`,
    department: dept,
    user_id: `${name.split(' ')[0].toLowerCase()}@deskline.example`,
  }));
}

function demoLogs(): CallLogEntry[] {
  const base = Date.parse('2026-11-24T09:00:00Z');
  const rows: [CallLogEntry['kind'], string, string | null, number][] = [
    ['missed', '2145551003', 'Bea Carter', 5],
    ['received', '2145551001', 'Alice Anders', 30],
    ['placed', '2145550100', null, 90],
    ['received', '+442071234567', 'London office', 200],
    ['missed', '2145559876', null, 400],
    ['placed', '2145551007', 'Grace Hopper', 1500],
  ];
  return rows.map(([kind, number, name, minutes], i) => ({
    id: `${i + 1}:0`,
    kind,
    number,
    name,
    time: new Date(base - minutes * 60_000).toISOString(),
  }));
}

function demoClients(): SoftClient[] {
  return [
    { device_name: 'dana-desk', device_type: 'Polycom VVX 450', endpoint_type: 'primary', line_port: '2145551000@deskline.example', sip: null },
    {
      device_name: 'dana-pc',
      device_type: 'Business Communicator - PC',
      endpoint_type: 'shared_call_appearance',
      line_port: 'dana-pc@deskline.example',
      sip: { aor: 'sip:dana-pc@deskline.example', auth_user: 'dana-pc-auth', registrar: '127.0.0.1:5070', outbound_proxy: null, transport: 'udp', display_name: 'Dana Demo (PC)' },
    },
  ];
}

interface Edit {
  id: number;
  key: SettingKey;
  desired: Setting;
  state: 'pending' | 'conflict' | 'failed';
  theirs?: Setting;
  reason?: string;
}

/** The steps of a full first sync, in the words the core reports them (22 in all). */
const SYNC_STEPS = [
  'profile',
  'services',
  'soft clients',
  'call logs',
  'Call Forwarding Always',
  'Call Forwarding Busy',
  'Call Forwarding No Answer',
  'Call Forwarding Not Reachable',
  'Do Not Disturb',
  'Anonymous Call Rejection',
  'Call Waiting',
  'Calling Line ID Delivery Blocking',
  'Remote Office',
  'Simultaneous Ring Personal',
  'Sequential Ring',
  'Speed Dial 8',
  'Speed Dial 100',
  'Call Notify',
  'BroadWorks Anywhere',
  'Personal Phone List',
  'group directory',
  'enterprise directory',
];

/** Knobs for tests and demos. */
export interface MockOptions {
  /** Milliseconds before a queued change is "sent" (default 400; 0 sends at once). */
  sendDelayMs?: number;
  /** Start signed in to the demo (default false: the sign-in page). */
  signedIn?: boolean;
  /** Start signed in to a fresh account whose first sync is under way (the Syncing page). */
  firstSync?: boolean;
  /** Milliseconds per step of a first sync (default a quarter of `sendDelayMs`). */
  syncStepMs?: number;
  /** Accounts this computer has signed in to before (the sign-in page offers them). */
  knownAccounts?: KnownAccount[];
  /** A call is ringing on the line from the start (the ringing window). */
  ringing?: boolean;
  /** Why resuming the last account failed at start-up. */
  startError?: string;
  /** A tel:/sip: link asked to call this before the window opened. */
  pendingDial?: string;
  /** Hand the UI a first screen read from the "cache" at construction, as the app's shell does. */
  firstScreen?: boolean;
  /** Milliseconds the start-up takes: `appState` answers only then (default 0). */
  startDelayMs?: number;
}

/** Options from a page address, for `npm run dev:mock` (`?demo`, `?sync`, `?call`, `?accounts`, `?dial=tel:…`). */
export function mockOptionsFromUrl(search: string): MockOptions {
  const q = new URLSearchParams(search);
  return {
    signedIn: q.has('demo') || q.has('call') || q.has('dial'),
    pendingDial: q.get('dial') ?? undefined,
    firstSync: q.has('sync'),
    syncStepMs: q.has('sync') ? 1500 : undefined,
    ringing: q.has('call'),
    firstScreen: q.has('first'),
    startDelayMs: q.has('first') ? 1000 : undefined,
    knownAccounts: q.has('accounts')
      ? [{ account: 'jdoe@example.com@xsp.example.net', user_id: 'jdoe@example.com', server: 'https://xsp.example.net/', sign_in_automatically: true }]
      : [],
  };
}

export class MockBackend implements Backend {
  readonly kind = 'mock' as const;
  private signed: SignedIn | null;
  private snapshots = new Map<SettingKey, Setting>();
  private versions = new Map<SettingKey, number>();
  private edits: Edit[] = [];
  private nextEdit = 1;
  private lastSync: string | null = null;
  private prefs: Preferences = { start_at_login: false, ring_window: true, ring_window_on_top: true };
  private line: LineState = { sip: 'demo', lines: [], ringing: [], missed: 0 };
  private pendingDial: string | null = null;
  private history: History = { logs: [], calls: [] };
  private known: KnownAccount[];
  private startError: string | null;
  private sendDelay: number;
  private stepDelay: number;
  private nextCall = 1;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private first: FirstScreen | null = null;
  private started: Promise<void>;
  private syncL = new Set<Listener<SyncEvent>>();
  private lineL = new Set<Listener<LineEvent>>();
  private appL = new Set<Listener<AppEvent>>();
  /** Calls made through `dial`, newest last (for tests). */
  readonly dialled: string[] = [];
  /** Calls declined through `declineCall` (for tests). */
  readonly declined: string[] = [];

  constructor(options: MockOptions = {}) {
    this.sendDelay = options.sendDelayMs ?? 400;
    this.stepDelay = options.syncStepMs ?? Math.max(1, this.sendDelay / 4);
    this.known = clone(options.knownAccounts ?? []);
    this.startError = options.startError ?? null;
    this.pendingDial = options.pendingDial ?? null;
    this.signed = null;
    if (options.firstSync) {
      this.startAccount('dana@deskline.example', 'https://xsp.deskline.example/');
    } else if (options.signedIn) {
      this.loadDemo();
    }
    if (options.ringing && this.signed) {
      this.simulateIncomingCall({ number: '2145551003', name: 'Bea Carter' });
    }
    if (options.firstScreen) this.first = this.readFirstScreen();
    const delay = options.startDelayMs ?? 0;
    this.started = delay > 0 ? new Promise((resolve) => this.later(resolve, delay)) : Promise.resolve();
  }

  /** What the shell reads from its cache for the first screen (null when signed out). */
  private readFirstScreen(): FirstScreen | null {
    if (!this.signed) return null;
    return {
      state: {
        signed_in: clone(this.signed),
        known_accounts: clone(this.known),
        preferences: clone(this.prefs),
        version: '0.1.0-mock',
        start_error: null,
      },
      status: this.statusNow(),
      settings: [...this.snapshots.keys()].map((k) => this.view(k)),
      history: clone(this.history),
      line: this.signed.demo ? clone(this.line) : null,
      read_at_ms: Date.now(),
    };
  }

  firstScreen(): FirstScreen | null {
    const first = this.first;
    this.first = null;
    return first;
  }

  private loadDemo(): SignedIn {
    this.signed = { account: DEMO_ACCOUNT, user_id: 'demo@deskline.example', server: 'https://demo.deskline.invalid/', demo: true };
    this.fillCache();
    this.line = { sip: 'demo', lines: [], ringing: [], missed: 0 };
    return this.signed;
  }

  /** What a finished sync leaves in the cache. */
  private fillCache() {
    this.snapshots.clear();
    for (const s of demoSettings()) {
      this.snapshots.set(s.key, s);
      this.versions.set(s.key, 1);
    }
    this.history = { logs: demoLogs(), calls: this.history.calls };
    this.lastSync = new Date().toISOString();
  }

  /** A fresh account: empty cache, then a full sync in the background with progress events. */
  private startAccount(userId: string, server: string): SignedIn {
    const account = `${userId}@${server.replace(/^https?:\/\//, '').replace(/\/$/, '')}`;
    this.signed = { account, user_id: userId, server, demo: false };
    this.snapshots.clear();
    this.versions.clear();
    this.edits = [];
    this.history = { logs: [], calls: [] };
    this.lastSync = null;
    // A real account's soft client is registered by Deskline's SIP agent.
    this.line = {
      sip: 'on',
      lines: [{ line: 'sip:dana-pc@deskline.example', label: 'Dana Demo (PC)', state: 'connecting', reason: null }],
      ringing: [],
      missed: 0,
    };
    const total = SYNC_STEPS.length;
    this.emitSync({ type: 'started', account, total });
    SYNC_STEPS.forEach((step, i) => {
      this.later(() => {
        if (this.signed?.account !== account) return;
        this.emitSync({ type: 'progress', account, done: i + 1, total, step });
        if (i + 1 === total) {
          this.fillCache();
          this.emitSync({ type: 'finished', account, failed_steps: [] });
          this.emitLine({ type: 'registered', line: 'sip:dana-pc@deskline.example', expires: 3600 });
        }
      }, this.stepDelay * (i + 1));
    });
    return clone(this.signed);
  }

  private later(fn: () => void, ms: number) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Stops pending timers (tests). */
  dispose() {
    this.timers.forEach(clearTimeout);
    this.timers.clear();
  }

  private need(): SignedIn {
    if (!this.signed) throw new BackendError('not_signed_in', 'You are not signed in.');
    return this.signed;
  }

  private emitSync(e: SyncEvent) {
    this.syncL.forEach((l) => l(e));
  }
  /** Emits a line event as the SIP agent would (tests and demos). */
  emitLine(e: LineEvent) {
    if (e.type === 'incoming_call') {
      if (!this.line.ringing.some((c) => c.call_id === e.call_id)) {
        this.line = { ...this.line, ringing: [...this.line.ringing, { call_id: e.call_id, line: e.line, number: e.number, name: e.name, at: e.at }] };
      }
    } else if (e.type === 'call_ended') {
      const call = this.line.ringing.find((c) => c.call_id === e.call_id);
      this.line = {
        ...this.line,
        ringing: this.line.ringing.filter((c) => c.call_id !== e.call_id),
        missed: this.line.missed + (e.reason === 'missed' ? 1 : 0),
      };
      if (call) {
        this.history.calls.unshift({
          id: call.call_id,
          line: call.line,
          direction: 'incoming',
          number: call.number,
          name: call.name,
          started_at: call.at,
          ended_at: e.at,
          outcome: e.reason,
          suppressed_by_dnd: false,
        });
      }
    } else {
      const state: LineState["lines"][number]["state"] = e.type === "registered" ? "registered" : e.type === "unregistered" ? "unregistered" : "failed";
      const reason = e.type === 'registration_failed' ? e.reason : null;
      const lines = this.line.lines.some((l) => l.line === e.line)
        ? this.line.lines.map((l) => (l.line === e.line ? { ...l, state, reason } : l))
        : [...this.line.lines, { line: e.line, label: e.line, state, reason }];
      this.line = { ...this.line, lines };
    }
    this.lineL.forEach((l) => l(e));
    this.emitApp({ type: 'line_changed', state: clone(this.line) });
  }
  /** Emits an app event as the shell would (tests and demos). */
  emitApp(e: AppEvent) {
    if (e.type === 'dial_request') this.pendingDial = e.destination;
    this.appL.forEach((l) => l(e));
  }

  /** Someone calls (the SIP agent's `incoming_call`); returns the call id. */
  simulateIncomingCall(caller: { number: string; name?: string | null; line?: string } = { number: '2145559876' }): string {
    const call_id = `mock-call-${this.nextCall++}`;
    this.emitLine({
      type: 'incoming_call',
      call_id,
      line: caller.line ?? this.line.lines[0]?.line ?? 'sip:2145551000@deskline.example',
      number: caller.number,
      name: caller.name ?? null,
      at: new Date().toISOString(),
    });
    return call_id;
  }

  /** Makes the provider change a setting underneath a queued edit (tests). */
  providerChanges(value: Setting) {
    this.snapshots.set(value.key, value);
    this.versions.set(value.key, (this.versions.get(value.key) ?? 0) + 1);
    const edit = this.edits.find((e) => e.key === value.key && e.state === 'pending');
    if (edit) {
      edit.state = 'conflict';
      edit.theirs = value;
      this.emitSync({ type: 'edit_changed', account: this.signed?.account ?? DEMO_ACCOUNT, edit_id: edit.id, key: edit.key, done: false });
    }
  }

  /** Holds every later change as pending (the provider is unreachable) until called again with false. */
  offline = false;
  /** The provider refuses the next change with this reason. */
  refuseNext: string | null = null;

  async appState(): Promise<AppState> {
    await this.started;
    return {
      signed_in: this.signed ? clone(this.signed) : null,
      known_accounts: clone(this.known),
      preferences: clone(this.prefs),
      version: '0.1.0-mock',
      start_error: this.startError,
    };
  }

  async signIn(r: SignInRequest): Promise<SignedIn> {
    const server = r.server.trim();
    if (!server) throw new BackendError('invalid', "Enter your provider's server address, for example https://xsp.example.net", 'server');
    if (!/^[^@\s]+@[^@\s]+$/.test(r.userId.trim()))
      throw new BackendError('invalid', 'A user ID is in e-mail form, for example jdoe@example.com', 'user_id');
    if (!r.password) throw new BackendError('invalid', 'Enter your password', 'password');
    if (server.includes('nowhere')) throw new BackendError('unknown_server', `No server named ${server} could be found; check the server address`, 'server');
    if (r.password !== 'Deskline-demo-1')
      throw new BackendError('unauthorized', 'The user ID or password was not accepted; check them and sign in again');
    const normalized = /^https?:\/\//.test(server) ? server : `https://${server}`;
    const signed = this.startAccount(r.userId.trim(), normalized.endsWith('/') ? normalized : `${normalized}/`);
    this.startError = null;
    this.known = [
      ...this.known.filter((k) => k.account !== signed.account),
      { account: signed.account, user_id: signed.user_id, server: signed.server, sign_in_automatically: r.signInAutomatically },
    ];
    this.emitApp({ type: 'session_changed' });
    return signed;
  }

  async tryDemo(): Promise<SignedIn> {
    this.startError = null;
    const signed = clone(this.loadDemo());
    this.emitApp({ type: 'session_changed' });
    return signed;
  }

  async signOut(forget: boolean, discardChanges: boolean): Promise<void> {
    const signed = this.need();
    const unsent = this.edits.filter((e) => e.state !== 'failed').length;
    if (unsent > 0 && !discardChanges)
      throw new BackendError('unsent_changes', `${unsent} change(s) have not reached your provider yet. Wait until they are sent, or sign out anyway and drop them.`);
    if (forget) this.known = this.known.filter((k) => k.account !== signed.account);
    this.signed = null;
    this.edits = [];
    this.line = { sip: 'off', lines: [], ringing: [], missed: 0 };
    this.emitApp({ type: 'session_changed' });
  }

  private view(key: SettingKey): SettingView {
    const provider = this.snapshots.get(key);
    if (!provider) throw new BackendError('not_available', 'This service is not available on your line.');
    const edit = this.edits.find((e) => e.key === key);
    let value = provider;
    let status: SettingView['status'] = { status: 'synced' };
    if (edit?.state === 'pending') {
      value = edit.desired;
      status = { status: 'pending', edit_id: edit.id, attempts: this.offline ? 1 : 0, last_error: this.offline ? 'the provider could not be reached (offline); Deskline keeps your changes and retries' : null };
    } else if (edit?.state === 'conflict' && edit.theirs) {
      value = edit.desired;
      status = { status: 'conflict', edit_id: edit.id, fields: Object.keys((edit.desired as { value: object }).value), theirs: edit.theirs };
    } else if (edit?.state === 'failed') {
      status = { status: 'failed', edit_id: edit.id, reason: edit.reason ?? 'refused' };
    }
    return clone({ key, value, provider_value: provider, version: this.versions.get(key) ?? 1, fetched_at: this.lastSync ?? new Date(0).toISOString(), status });
  }

  async accountStatus(): Promise<AccountStatus> {
    return this.statusNow();
  }

  private statusNow(): AccountStatus {
    const s = this.need();
    const synced = this.lastSync !== null;
    const eff = (k: SettingKey) => (this.snapshots.has(k) ? this.view(k).value : null);
    const dnd = eff('do_not_disturb');
    const fwd = (['always', 'busy', 'no_answer', 'not_reachable'] as const).flatMap((kind) => {
      const setting = eff(`call_forwarding_${kind}` as SettingKey);
      if (!setting) return [];
      const v = setting.value as { active: boolean; forward_to: string | null };
      return [{ kind, active: v.active, to: v.forward_to, pending: this.edits.some((e) => e.key === `call_forwarding_${kind}` && e.state === 'pending') }];
    });
    return {
      account: s.account,
      user_id: s.user_id,
      server: s.server,
      sign_in_automatically: s.demo ? false : (this.known.find((k) => k.account === s.account)?.sign_in_automatically ?? true),
      name: synced ? 'Dana Demo' : null,
      number: synced ? '2145551000' : null,
      extension: synced ? '1000' : null,
      last_sync_at: this.lastSync,
      do_not_disturb: dnd?.key === 'do_not_disturb' ? dnd.value.active : null,
      forwarding: fwd,
      soft_clients: synced
        ? demoClients().map((c) => ({
            line_port: c.line_port,
            device_type: c.device_type,
            endpoint_type: typeof c.endpoint_type === 'string' ? c.endpoint_type : c.endpoint_type.other,
            aor: c.sip?.aor ?? null,
            registrar: c.sip?.registrar ?? null,
            transport: c.sip?.transport ?? null,
          }))
        : [],
      pending_changes: this.edits.filter((e) => e.state === 'pending').length,
      conflicts: this.edits.filter((e) => e.state === 'conflict').length,
      failed_changes: this.edits.filter((e) => e.state === 'failed').length,
    };
  }

  async settings(): Promise<SettingView[]> {
    this.need();
    return [...this.snapshots.keys()].map((k) => this.view(k));
  }

  async editSetting(value: Setting): Promise<SettingView> {
    this.need();
    if (!this.snapshots.has(value.key)) throw new BackendError('not_available', 'This service is not available on your line.');
    validate(value);
    let edit = this.edits.find((e) => e.key === value.key);
    if (edit) {
      edit.desired = clone(value);
      edit.state = 'pending';
    } else {
      edit = { id: this.nextEdit++, key: value.key, desired: clone(value), state: 'pending' };
      this.edits.push(edit);
    }
    this.emitSync({ type: 'edit_changed', account: this.signed?.account ?? DEMO_ACCOUNT, edit_id: edit.id, key: edit.key, done: false });
    this.scheduleSend(edit.id);
    return this.view(value.key);
  }

  private scheduleSend(id: number) {
    this.later(() => this.send(id), this.sendDelay);
  }

  private send(id: number) {
    const edit = this.edits.find((e) => e.id === id);
    if (!edit || edit.state !== 'pending' || this.offline) return;
    const account = this.signed?.account ?? DEMO_ACCOUNT;
    if (this.refuseNext) {
      edit.state = 'failed';
      edit.reason = this.refuseNext;
      this.refuseNext = null;
      this.emitSync({ type: 'edit_changed', account, edit_id: id, key: edit.key, done: false });
      return;
    }
    this.snapshots.set(edit.key, edit.desired);
    this.versions.set(edit.key, (this.versions.get(edit.key) ?? 0) + 1);
    this.edits = this.edits.filter((e) => e.id !== id);
    this.emitSync({ type: 'edit_changed', account, edit_id: id, key: edit.key, done: true });
  }

  /** Sends what waits (the provider is back). */
  flush() {
    this.edits.filter((e) => e.state === 'pending').forEach((e) => this.send(e.id));
  }

  async resolveConflict(editId: number, resolution: Resolution): Promise<void> {
    const edit = this.edits.find((e) => e.id === editId);
    if (!edit || edit.state !== 'conflict') throw new BackendError('no_such_change', 'That change has already been sent or resolved.');
    if (resolution === 'take_theirs') {
      this.edits = this.edits.filter((e) => e.id !== editId);
    } else {
      edit.state = 'pending';
      this.scheduleSend(editId);
    }
    this.emitSync({ type: 'edit_changed', account: this.signed?.account ?? DEMO_ACCOUNT, edit_id: editId, key: edit.key, done: false });
  }

  async discardChange(editId: number): Promise<void> {
    const edit = this.edits.find((e) => e.id === editId);
    if (!edit) throw new BackendError('no_such_change', 'That change has already been sent or resolved.');
    this.edits = this.edits.filter((e) => e.id !== editId);
    this.emitSync({ type: 'edit_changed', account: this.signed?.account ?? DEMO_ACCOUNT, edit_id: editId, key: edit.key, done: false });
  }

  async syncNow(full: boolean): Promise<string[]> {
    const s = this.need();
    void full;
    this.lastSync = new Date().toISOString();
    this.emitSync({ type: 'finished', account: s.account, failed_steps: [] });
    return [];
  }

  async searchDirectory(text: string, limit: number): Promise<DirectoryEntry[]> {
    this.need();
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0) return [];
    const book = this.snapshots.has('personal_directory')
      ? (this.view('personal_directory').value as { value: { entries: Record<string, string> } }).value.entries
      : {};
    const personal: DirectoryEntry[] = Object.entries(book).map(([name, number]) => ({
      source: 'personal',
      name,
      number,
      extension: null,
      mobile: null,
      email: null,
      department: null,
      user_id: null,
    }));
    const company = this.lastSync ? demoDirectory() : [];
    return [...personal, ...company]
      .filter((e) => {
        const hay = [e.name, e.number, e.extension, e.email].filter(Boolean).join(' ').toLowerCase().split(/[\s@.]+/);
        return words.every((w) => hay.some((h) => h.startsWith(w)));
      })
      .slice(0, limit);
  }

  async searchRemoteDirectory(text: string, enterprise: boolean): Promise<DirectoryEntry[]> {
    this.need();
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    // The provider's directory also knows people the cached copy does not have yet.
    const remote: DirectoryEntry[] = [
      ...demoDirectory(),
      { source: 'enterprise', name: 'Quinn Remote', number: '2145552001', extension: '2001', mobile: null, email: 'quinn@deskline.example', department: 'Field', user_id: 'quinn@deskline.example' },
    ];
    return remote.filter(
      (e) => e.source === (enterprise ? 'enterprise' : 'group') && words.every((w) => e.name.toLowerCase().split(/\s+/).some((h) => h.startsWith(w))),
    );
  }

  async callHistory(): Promise<History> {
    this.need();
    return clone(this.history);
  }

  async dial(destination: string, linePort: string | null): Promise<void> {
    this.need();
    checkNumber(destination.replace(/^(tel:|callto:\/*)/, ''));
    this.dialled.push(destination);
    this.history.calls.unshift({
      id: `dial-${this.dialled.length}`,
      line: linePort ?? this.signed?.user_id ?? 'demo@deskline.example',
      direction: 'outgoing',
      number: destination,
      name: null,
      started_at: new Date().toISOString(),
      ended_at: null,
      outcome: 'dialled',
      suppressed_by_dnd: false,
    });
  }

  async softClients(): Promise<SoftClient[]> {
    this.need();
    return this.lastSync ? demoClients() : [];
  }

  async registrations(): Promise<Registration[]> {
    this.need();
    return [
      { line_port: '2145551000@deskline.example', contact: 'sip:2145551000@192.0.2.10:5060', endpoint_type: 'Primary', user_agent: 'PolycomVVX-VVX_450-UA/6.4.3.5018', expires: '2026-11-24T10:00:00Z' },
    ];
  }

  async lineState(): Promise<LineState> {
    return clone(this.line);
  }

  async setPreferences(p: Preferences): Promise<Preferences> {
    this.prefs = clone(p);
    return clone(p);
  }

  async takePendingDial(): Promise<string | null> {
    const d = this.pendingDial;
    this.pendingDial = null;
    return d;
  }

  async declineCall(callId: string): Promise<void> {
    const call = this.line.ringing.find((c) => c.call_id === callId);
    this.declined.push(callId);
    if (call) this.emitLine({ type: 'call_ended', call_id: callId, line: call.line, reason: 'declined', at: new Date().toISOString() });
  }

  /** Pages the main window was asked to show (tests). */
  readonly opened: (string | null)[] = [];

  async openMainWindow(page: string | null): Promise<void> {
    this.opened.push(page);
  }

  /** How often the main window was asked to close (tests). */
  closedWindows = 0;

  async closeMainWindow(): Promise<void> {
    this.closedWindows += 1;
  }

  /** What the page is told of the system's dark preference (`null`: a plain browser tells
   *  the page itself, `prefers-color-scheme`). */
  systemDarkAnswer: boolean | null = null;
  async systemDark(): Promise<boolean | null> {
    return this.systemDarkAnswer;
  }

  async missedCallsSeen(): Promise<void> {
    this.line = { ...this.line, missed: 0 };
    this.emitApp({ type: 'line_changed', state: clone(this.line) });
  }

  onSyncEvent(l: Listener<SyncEvent>): Unsubscribe {
    this.syncL.add(l);
    return () => this.syncL.delete(l);
  }
  onLineEvent(l: Listener<LineEvent>): Unsubscribe {
    this.lineL.add(l);
    return () => this.lineL.delete(l);
  }
  onAppEvent(l: Listener<AppEvent>): Unsubscribe {
    this.appL.add(l);
    return () => this.appL.delete(l);
  }
}
