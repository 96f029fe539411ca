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

export interface SignInRequest {
  server: string;
  userId: string;
  password: string;
  signInAutomatically: boolean;
}

export interface Backend {
  /** Which implementation this is ("tauri" or "mock"). */
  readonly kind: 'tauri' | 'mock';
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
  onSyncEvent(listener: (event: SyncEvent) => void): Unsubscribe;
  onLineEvent(listener: (event: LineEvent) => void): Unsubscribe;
  onAppEvent(listener: (event: AppEvent) => void): Unsubscribe;
}

/** True when the page runs inside the Tauri web view. */
export function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
