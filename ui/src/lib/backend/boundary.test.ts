// The backend folder is the only place that may talk to Rust: no other file imports
// @tauri-apps/* (or the generated bindings, which do).
import { describe, expect, it } from 'vitest';

const sources = import.meta.glob<string>(['/src/**/*.ts', '/src/**/*.svelte', '!/src/**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

describe('the Rust boundary', () => {
  it('is crossed only in src/lib/backend', () => {
    const files = Object.keys(sources);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((path) => {
      if (path.startsWith('/src/lib/backend/') || path === '/src/lib/bindings.ts') return false;
      const text = sources[path];
      return /from\s+['"]@tauri-apps\//.test(text) || /import\(\s*['"]@tauri-apps\//.test(text) || /from\s+['"][./]*bindings['"]/.test(text.replace(/import type[^;]+;/g, ''));
    });
    expect(offenders).toEqual([]);
  });
});
