// The app's reactive state (Svelte 5 runes): who is signed in, the account at a glance,
// every setting with its sync status, the line, sync progress, the page shown, and
// messages. It reloads from the backend when the backend says something changed. At start
// it shows the first screen the shell read from its cache (when there is one) at once,
// and then loads the live state over it.
import type { AccountStatus, AppState, History, LineState, Setting, SettingKey, SettingView } from './bindings';
import { BackendError, type Backend, type FirstScreen, type Unsubscribe } from './backend';
import { isPage, type Page } from './settings';

export type Phase = 'loading' | 'signed_out' | 'syncing' | 'ready';

/** Resolves once the screen as it is now has been painted (the next frame, then a task). */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    const task = () => setTimeout(resolve, 0);
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(task);
    else task();
  });
}

/** The start-up's milestones in the page's performance timeline (the end-to-end test reads them). */
export const MARK_FIRST_SCREEN = 'deskline:first-screen-painted';
export const MARK_LIVE_STATE = 'deskline:live-state';

function mark(name: string) {
  if (typeof performance !== 'undefined' && typeof performance.mark === 'function') performance.mark(name);
}

export interface Toast {
  id: number;
  tone: 'info' | 'error';
  text: string;
}

export class App {
  readonly backend: Backend;
  phase = $state<Phase>('loading');
  state = $state<AppState | null>(null);
  status = $state<AccountStatus | null>(null);
  settings = $state<SettingView[]>([]);
  line = $state<LineState>({ sip: 'off', lines: [], ringing: [], missed: 0 });
  /** Whether `line` is the shell's (false while the start-up has not said yet). */
  lineKnown = $state(false);
  /** How many `line_changed` events arrived (a read of the line older than one is dropped). */
  private lineEvents = 0;
  /** The call history as last read (the home page's recent calls). */
  history = $state<History | null>(null);
  /**
   * False while the screen shows the first screen from the shell's cache and the live
   * state has not been loaded yet (the same cached values, read before the start-up).
   */
  live = $state(true);
  progress = $state<{ done: number; total: number; step: string } | null>(null);
  page = $state<Page>('home');
  toasts = $state<Toast[]>([]);
  dialRequest = $state<string | null>(null);
  syncing = $state(false);
  private nextToast = 1;
  /** Syncs finished since start: a first sync can finish while the state is still loading. */
  private syncsFinished = 0;
  private subs: Unsubscribe[] = [];
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private liveStateMarked = false;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Subscribes to the backend's events and loads the first screen. */
  async start(initialPage?: string) {
    if (initialPage && isPage(initialPage)) this.page = initialPage;
    const first = this.backend.firstScreen();
    if (first && this.showFirstScreen(first)) {
      // The cached screen is painted before anything is asked of the shell (its answers
      // would compete with the first paint); what changed meanwhile is read right after.
      await afterPaint();
      mark(MARK_FIRST_SCREEN);
    }
    this.subs.push(
      this.backend.onSyncEvent((e) => {
        if (e.type === 'started') {
          this.syncing = true;
          if (this.phase === 'syncing') this.progress = { done: 0, total: e.total, step: '' };
        } else if (e.type === 'progress') {
          if (this.phase === 'syncing') this.progress = { done: e.done, total: e.total, step: e.step };
        } else if (e.type === 'finished') {
          this.syncsFinished += 1;
          this.syncing = false;
          this.progress = null;
          if (e.failed_steps.length > 0) {
            this.toast('error', `Some of your line could not be read: ${e.failed_steps.join('; ')}`);
          }
          if (this.phase === 'syncing') this.phase = 'ready';
          this.scheduleReload();
        } else {
          this.scheduleReload();
        }
      }),
      this.backend.onAppEvent((e) => {
        if (e.type === 'session_changed') void this.loadState();
        else if (e.type === 'navigate' && isPage(e.page)) this.page = e.page;
        else if (e.type === 'dial_request') this.dialRequest = e.destination;
        else if (e.type === 'line_changed') {
          this.lineEvents += 1;
          this.line = e.state;
          this.lineKnown = true;
        }
      }),
    );
    await this.loadState();
    const pending = await this.backend.takePendingDial().catch(() => null);
    if (pending) this.dialRequest = pending;
  }

  stop() {
    this.subs.forEach((u) => u());
    this.subs = [];
  }

  /**
   * Shows what the shell read from its cache before the start-up: the same values the
   * commands answer from that cache, with their outbox status (pending, conflict…), so
   * nothing is shown as synced that is not. Everything is read again right after.
   */
  private showFirstScreen(first: FirstScreen): boolean {
    if (!first.state.signed_in || (!first.status.last_sync_at && first.settings.length === 0)) return false;
    this.live = false;
    this.state = first.state;
    this.status = first.status;
    this.settings = first.settings;
    this.history = first.history;
    if (first.line) {
      this.line = first.line;
      this.lineKnown = true;
    }
    this.phase = 'ready';
    return true;
  }

  /** Re-reads who is signed in and everything shown. */
  async loadState() {
    const finishedBefore = this.syncsFinished;
    try {
      const before = this.state?.signed_in?.account;
      this.state = await this.backend.appState();
      if (!this.liveStateMarked) {
        this.liveStateMarked = true;
        mark(MARK_LIVE_STATE);
      }
      // Another account's calls are not shown while this one's load.
      if (this.state.signed_in?.account !== before) this.history = null;
      if (!this.state.signed_in) {
        this.phase = 'signed_out';
        this.status = null;
        this.settings = [];
        this.history = null;
        this.live = true;
        return;
      }
      await this.reload();
      // Every change of the line is also an event, and the last event carries the newest
      // state: a read answered after an event arrived may be older than it, so it is
      // dropped (the line registers while the first screen loads).
      const eventsBefore = this.lineEvents;
      const line = await this.backend.lineState();
      if (this.lineEvents === eventsBefore) this.line = line;
      this.lineKnown = true;
      this.live = true;
      if (this.phase !== 'syncing') {
        const synced = this.syncsFinished !== finishedBefore || !!this.status?.last_sync_at || this.settings.length > 0;
        this.phase = synced ? 'ready' : 'syncing';
      }
    } catch (e) {
      this.fail(e);
      if (this.phase === 'loading') this.phase = 'signed_out';
    }
  }

  /** Re-reads the account status and settings from the cache. */
  async reload() {
    const [status, settings] = await Promise.all([this.backend.accountStatus(), this.backend.settings()]);
    this.status = status;
    this.settings = settings;
  }

  /** Re-reads the call history (keeps it for the home page). Throws. */
  async loadHistory(): Promise<History> {
    const history = await this.backend.callHistory();
    this.history = history;
    return history;
  }

  private scheduleReload() {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      if (this.state?.signed_in) void this.reload().catch((e) => this.fail(e));
    }, 60);
  }

  setting(key: SettingKey): SettingView | undefined {
    return this.settings.find((s) => s.key === key);
  }

  /** Queues a change; the view is replaced by the backend's answer (pending). Throws. */
  async applyEdit(value: Setting): Promise<void> {
    const view = await this.backend.editSetting(value);
    this.replace(view);
    this.scheduleReload();
  }

  /** Like `applyEdit`, with the error shown as a message. */
  async edit(value: Setting): Promise<boolean> {
    try {
      await this.applyEdit(value);
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private replace(view: SettingView) {
    const i = this.settings.findIndex((s) => s.key === view.key);
    if (i >= 0) this.settings[i] = view;
    else this.settings.push(view);
  }

  async resolve(editId: number, resolution: 'keep_mine' | 'take_theirs') {
    try {
      await this.backend.resolveConflict(editId, resolution);
      await this.reload();
    } catch (e) {
      this.fail(e);
    }
  }

  async discard(editId: number) {
    try {
      await this.backend.discardChange(editId);
      await this.reload();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Re-reads the line from the provider (`full`: the directories too). */
  async syncNow(full = false) {
    this.syncing = true;
    try {
      const failed = await this.backend.syncNow(full);
      await this.reload();
      this.toast('info', failed.length ? `Synced, except: ${failed.join('; ')}` : 'Your line is up to date.');
    } catch (e) {
      this.fail(e);
    } finally {
      this.syncing = false;
    }
  }

  async dial(destination: string, linePort: string | null = null) {
    try {
      await this.backend.dial(destination, linePort);
      this.toast('info', `Calling ${destination}: answer your phone when it rings.`);
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  go(page: Page) {
    this.page = page;
    if (page === 'history' && this.line.missed > 0) void this.backend.missedCallsSeen().catch(() => {});
  }

  toast(tone: Toast['tone'], text: string) {
    const id = this.nextToast++;
    this.toasts.push({ id, tone, text });
    setTimeout(() => this.dismiss(id), tone === 'error' ? 10_000 : 5_000);
  }

  dismiss(id: number) {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** Shows an error in words for the user; returns it for callers that mark a field. */
  fail(e: unknown): BackendError {
    const err = e instanceof BackendError ? e : new BackendError('internal', String(e));
    if (err.code === 'not_signed_in') {
      void this.loadState();
    }
    this.toast('error', err.message);
    return err;
  }
}
