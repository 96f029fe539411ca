import { mount } from 'svelte';
import './app.css';
import Root from './Root.svelte';
import { applySystemTheme, applyTheme, shellSystemDark, storedTheme } from './lib/theme';

applySystemTheme(shellSystemDark(window as unknown as Record<string, unknown>));
applyTheme(storedTheme());
// Another window (the ringing window, or the main one) changed the theme.
window.addEventListener('storage', (e) => {
  if (e.key === 'deskline.theme' || e.key === null) applyTheme(storedTheme());
});

const target = document.getElementById('app');
if (target) mount(Root, { target });
