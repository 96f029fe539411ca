// The one way the UI reaches Rust. `Backend` is implemented over Tauri's IPC (tauri.ts,
// the generated bindings) and in memory (mock.ts, for the browser and the tests). No file
// outside this folder imports @tauri-apps/* (a unit test checks it).
import type {
  AccountStatus,
  AppEvent,
  AppState,
  DirectoryEntry,
  ErrorCode,
  History,
  LineEvent,
  LineState,
  Preferences,
  Registration,
  Resolution,
  Setting,
  SettingView,
  SignedIn,
  SoftClient,
  SyncEvent,
} from '../bindings';

/** A failure from the backend: a machine-readable code and words for the user. */
export class BackendError extends Error {
  readonly code: ErrorCode;
  readonly field: string | null;
  constructor(code: ErrorCode, message: string, field: string | null = null) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
    this.field = field;
  }
}

/** Stops listening. */
export type Unsubscribe = () => void;

/**
 * What the shell read from its cache for the main window's first screen, handed to the
 * page before it loaded (`src-tauri/src/tray/first_screen.rs`): the answers `appState`,
 * `accountStatus`, `settings` and `callHistory` would give, read at start without waiting
 * for the start-up. `line` is the line as the start-up will show it when that is known at
 * once (the demo's), else null. The UI shows it at once and then loads the live state.
 */
export interface FirstScreen {
  state: AppState;
  status: AccountStatus;
  settings: SettingView[];
  history: History;
  line: LineState | null;
  /** When the shell read it (Unix milliseconds). */
  read_at_ms: number;
}

/** A first screen older than this is not shown (a page loaded long after the start). */
export const FIRST_SCREEN_MAX_AGE_MS = 30_000;

/** Takes the first screen from `holder[key]` (once: it is removed), if recent enough. */
export function takeFirstScreen(holder: Record<string, unknown>, key: string, now = Date.now()): FirstScreen | null {
  const value = holder[key] as FirstScreen | undefined;
  if (value === undefined) return null;
  holder[key] = undefined;
  if (typeof value !== 'object' || value === null || typeof value.read_at_ms !== 'number') return null;
  const age = now - value.read_at_ms;
  if (age < -FIRST_SCREEN_MAX_AGE_MS || age > FIRST_SCREEN_MAX_AGE_MS) return null;
  if (!value.state?.signed_in || !value.status || !Array.isArray(value.settings) || !value.history) return null;
  return value;
}

export interface SignInRequest {
  server: string;
  userId: string;
  password: string;
  signInAutomatically: boolean;
}

export interface Backend {
  /** Which implementation this is ("tauri" or "mock"). */
  readonly kind: 'tauri' | 'mock';
  /** The first screen from the shell's cache, once (then null); null when there is none. */
  firstScreen(): FirstScreen | null;
  appState(): Promise<AppState>;
  signIn(request: SignInRequest): Promise<SignedIn>;
  tryDemo(): Promise<SignedIn>;
  signOut(forget: boolean, discardChanges: boolean): Promise<void>;
  accountStatus(): Promise<AccountStatus>;
  settings(): Promise<SettingView[]>;
  editSetting(value: Setting): Promise<SettingView>;
  resolveConflict(editId: number, resolution: Resolution): Promise<void>;
  discardChange(editId: number): Promise<void>;
  syncNow(full: boolean): Promise<string[]>;
  searchDirectory(text: string, limit: number): Promise<DirectoryEntry[]>;
  searchRemoteDirectory(text: string, enterprise: boolean): Promise<DirectoryEntry[]>;
  callHistory(): Promise<History>;
  dial(destination: string, linePort: string | null): Promise<void>;
  softClients(): Promise<SoftClient[]>;
  registrations(): Promise<Registration[]>;
  lineState(): Promise<LineState>;
  setPreferences(preferences: Preferences): Promise<Preferences>;
  takePendingDial(): Promise<string | null>;
  declineCall(callId: string): Promise<void>;
  openMainWindow(page: string | null): Promise<void>;
  missedCallsSeen(): Promise<void>;
  /** Closes the main window (Deskline goes on in the tray). */
  closeMainWindow(): Promise<void>;
  /** Whether the system asks for dark now; `null`: the browser's own `prefers-color-scheme`. */
  systemDark(): Promise<boolean | null>;
  onSyncEvent(listener: (event: SyncEvent) => void): Unsubscribe;
  onLineEvent(listener: (event: LineEvent) => void): Unsubscribe;
  onAppEvent(listener: (event: AppEvent) => void): Unsubscribe;
}

/** True when the page runs inside the Tauri web view. */
export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
