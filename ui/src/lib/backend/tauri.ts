// The Tauri implementation of `Backend`: the generated bindings, with `Result`s turned
// into values or thrown `BackendError`s.
import { commands, events } from '../bindings';
import type { AppError } from '../bindings';
import { BackendError, takeFirstScreen, type Backend, type Unsubscribe } from './backend';

/** Where the shell's initialization script puts the first screen (`first_screen::GLOBAL`). */
const FIRST_SCREEN_GLOBAL = '__DESKLINE_FIRST_SCREEN__';

type Result<T> = { status: 'ok'; data: T } | { status: 'error'; error: AppError };

async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (e) {
    // Framework-level failures (unknown command, denied by the capability) are strings.
    throw new BackendError('internal', `Deskline could not reach its core (${String(e)}).`);
  }
  if (result.status === 'error') {
    const { code, message, field } = result.error;
    throw new BackendError(code, message, field);
  }
  return result.data;
}

function subscribe<T>(listen: (cb: (e: { payload: T }) => void) => Promise<() => void>, listener: (payload: T) => void): Unsubscribe {
  let stop: (() => void) | null = null;
  let stopped = false;
  listen((e) => listener(e.payload)).then((unlisten) => {
    if (stopped) unlisten();
    else stop = unlisten;
  });
  return () => {
    stopped = true;
    stop?.();
  };
}

export const tauriBackend: Backend = {
  kind: 'tauri',
  firstScreen: () => takeFirstScreen(window as unknown as Record<string, unknown>, FIRST_SCREEN_GLOBAL),
  appState: () => unwrap(commands.appState()),
  signIn: (r) => unwrap(commands.signIn(r.server, r.userId, r.password, r.signInAutomatically)),
  tryDemo: () => unwrap(commands.tryDemo()),
  signOut: async (forget, discard) => void (await unwrap(commands.signOut(forget, discard))),
  accountStatus: () => unwrap(commands.accountStatus()),
  settings: () => unwrap(commands.settings()),
  editSetting: (value) => unwrap(commands.editSetting(value)),
  resolveConflict: async (id, resolution) => void (await unwrap(commands.resolveConflict(id, resolution))),
  discardChange: async (id) => void (await unwrap(commands.discardChange(id))),
  syncNow: (full) => unwrap(commands.syncNow(full)),
  searchDirectory: (text, limit) => unwrap(commands.searchDirectory(text, limit)),
  searchRemoteDirectory: (text, enterprise) => unwrap(commands.searchRemoteDirectory(text, enterprise)),
  callHistory: () => unwrap(commands.callHistory()),
  dial: async (destination, linePort) => void (await unwrap(commands.dial(destination, linePort))),
  softClients: () => unwrap(commands.softClients()),
  registrations: () => unwrap(commands.registrations()),
  lineState: () => unwrap(commands.lineState()),
  setPreferences: (p) => unwrap(commands.setPreferences(p)),
  takePendingDial: () => unwrap(commands.takePendingDial()),
  declineCall: async (id) => void (await unwrap(commands.declineCall(id))),
  openMainWindow: async (page) => void (await unwrap(commands.openMainWindow(page))),
  missedCallsSeen: async () => void (await unwrap(commands.missedCallsSeen())),
  closeMainWindow: async () => void (await unwrap(commands.closeMainWindow())),
  systemDark: () => unwrap(commands.systemDark()),
  onSyncEvent: (l) => subscribe(events.syncEvent.listen, l),
  onLineEvent: (l) => subscribe(events.lineEvent.listen, l),
  onAppEvent: (l) => subscribe(events.appEvent.listen, l),
};
