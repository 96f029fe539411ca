// The root component: the system's dark preference as the shell tells it, now and later.
import { render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import Root from './Root.svelte';
import { MockBackend } from './lib/backend/mock';

const backends: MockBackend[] = [];

afterEach(() => {
  for (const b of backends.splice(0)) b.dispose();
  document.documentElement.removeAttribute('data-system-theme');
});

function backend(systemDark: boolean | null): MockBackend {
  const b = new MockBackend({ sendDelayMs: 40, signedIn: true });
  b.systemDarkAnswer = systemDark;
  backends.push(b);
  return b;
}

describe('the system theme in the root', () => {
  it('asks the shell what the system says now (a change while the window was made is not lost)', async () => {
    // The page's first script said light; the shell says dark now.
    document.documentElement.setAttribute('data-system-theme', 'light');
    render(Root, { backend: backend(true) });
    await screen.findByRole('heading', { level: 1, name: 'Dana Demo' });
    await waitFor(() => expect(document.documentElement.getAttribute('data-system-theme')).toBe('dark'));
  });

  it('follows the changes the shell sends', async () => {
    const b = backend(false);
    render(Root, { backend: b });
    await screen.findByRole('heading', { level: 1, name: 'Dana Demo' });
    await waitFor(() => expect(document.documentElement.getAttribute('data-system-theme')).toBe('light'));
    b.emitApp({ type: 'system_theme', dark: true });
    expect(document.documentElement.getAttribute('data-system-theme')).toBe('dark');
  });

  it('keeps a change heard before the answer to its question', async () => {
    const b = backend(false);
    let answer: (dark: boolean | null) => void = () => {};
    b.systemDark = () => new Promise((resolve) => (answer = resolve));
    render(Root, { backend: b });
    await screen.findByRole('heading', { level: 1, name: 'Dana Demo' });
    b.emitApp({ type: 'system_theme', dark: true });
    answer(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(document.documentElement.getAttribute('data-system-theme')).toBe('dark');
  });

  it('leaves it to the browser when the backend has no answer (a plain browser)', async () => {
    document.documentElement.setAttribute('data-system-theme', 'dark');
    render(Root, { backend: backend(null) });
    await screen.findByRole('heading', { level: 1, name: 'Dana Demo' });
    await waitFor(() => expect(document.documentElement.hasAttribute('data-system-theme')).toBe(false));
  });
});
