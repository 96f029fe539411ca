import { mount } from 'svelte';
import './app.css';
import Root from './Root.svelte';
import { applyTheme, storedTheme } from './lib/theme';

applyTheme(storedTheme());
// Another window (the ringing window, or the main one) changed the theme.
window.addEventListener('storage', (e) => {
  if (e.key === 'deskline.theme' || e.key === null) applyTheme(storedTheme());
});

const target = document.getElementById('app');
if (target) mount(Root, { target });
