// The colour theme: follows the system unless the user chose light or dark on the Account
// page. The choice is a UI preference kept in this web view's local storage (the core's
// Preferences have no theme); both windows read it. The system's preference is what the
// desktop app's shell says (`data-system-theme`, read from GTK: WebKitGTK does not pass it
// on with the app's web view settings), else `prefers-color-scheme` (a plain browser).
export type Theme = 'system' | 'light' | 'dark';

const KEY = 'deskline.theme';

export const THEMES: { id: Theme; label: string }[] = [
  { id: 'system', label: 'Same as the system' },
  { id: 'light', label: 'Light' },
  { id: 'dark', label: 'Dark' },
];

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function storedTheme(): Theme {
  const v = storage()?.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

/** Shows `theme` now (sets or clears `data-theme` on the root element). */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement) {
  if (theme === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', theme);
}

/** Remembers and shows `theme`. */
export function setTheme(theme: Theme) {
  const s = storage();
  if (theme === 'system') s?.removeItem(KEY);
  else s?.setItem(KEY, theme);
  applyTheme(theme);
}

/** The global the desktop app's shell gives the system's preference in (`appearance.rs`). */
export const SYSTEM_DARK_GLOBAL = '__DESKLINE_SYSTEM_DARK__';

/** Shows the system's preference as the shell tells it (`null`: let the browser tell). */
export function applySystemTheme(dark: boolean | null, root: HTMLElement = document.documentElement) {
  if (dark === null) root.removeAttribute('data-system-theme');
  else root.setAttribute('data-system-theme', dark ? 'dark' : 'light');
}

/** The system's preference the shell gave this page at its start, if any. */
export function shellSystemDark(holder: Record<string, unknown>): boolean | null {
  const v = holder[SYSTEM_DARK_GLOBAL];
  return typeof v === 'boolean' ? v : null;
}
