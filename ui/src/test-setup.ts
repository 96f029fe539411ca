import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';

// Unmount what a test rendered (the config does not enable Vitest's globals).
afterEach(() => cleanup());
