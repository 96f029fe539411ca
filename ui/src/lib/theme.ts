// The colour theme: follows the system (`prefers-color-scheme`) unless the user chose
// light or dark on the Account page. The choice is a UI preference kept in this web
// view's local storage (the core's Preferences have no theme); both windows read it.
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
