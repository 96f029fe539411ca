// The system's light or dark preference as the desktop shell tells it, beside the user's
// own choice.
import { afterEach, describe, expect, it } from 'vitest';
import { applySystemTheme, applyTheme, SYSTEM_DARK_GLOBAL, shellSystemDark } from './theme';

afterEach(() => {
  document.documentElement.removeAttribute('data-theme');
  document.documentElement.removeAttribute('data-system-theme');
});

describe('the system theme from the shell', () => {
  it('is read only when the shell gave a boolean', () => {
    expect(shellSystemDark({ [SYSTEM_DARK_GLOBAL]: true })).toBe(true);
    expect(shellSystemDark({ [SYSTEM_DARK_GLOBAL]: false })).toBe(false);
    expect(shellSystemDark({})).toBeNull();
    expect(shellSystemDark({ [SYSTEM_DARK_GLOBAL]: 'dark' })).toBeNull();
  });

  it('is shown on the root element and follows changes, beside the user choice', () => {
    const root = document.documentElement;
    applySystemTheme(true);
    expect(root.getAttribute('data-system-theme')).toBe('dark');
    applyTheme('light');
    // Both are there: the stylesheet lets the user's choice win.
    expect(root.getAttribute('data-theme')).toBe('light');
    expect(root.getAttribute('data-system-theme')).toBe('dark');
    applySystemTheme(false);
    expect(root.getAttribute('data-system-theme')).toBe('light');
    applySystemTheme(null);
    expect(root.hasAttribute('data-system-theme')).toBe(false);
  });
});
