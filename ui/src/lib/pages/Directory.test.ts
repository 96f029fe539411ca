import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { startApp } from '../testing/harness';
import Directory from './Directory.svelte';

async function page() {
  const started = await startApp();
  const search = vi.spyOn(started.backend, 'searchDirectory');
  render(Directory, { app: started.app, debounceMs: 80 });
  const box = screen.getByRole('combobox', { name: 'Search the directory' });
  return { ...started, search, box, user: userEvent.setup() };
}

const options = () => within(screen.getByRole('listbox', { hidden: true })).queryAllByRole('option', { hidden: true });
const names = () => options().map((o) => o.querySelector('.name')?.textContent);

describe('Directory', () => {
  it('searches as you type, once per pause', async () => {
    const { box, user, search } = await page();
    expect(box).toHaveAttribute('aria-expanded', 'false');
    await user.type(box, 'al');
    await waitFor(() => expect(names()).toEqual(['Alex Plumber', 'Alice Anders', 'Alan Brooks']));
    // Typing quickly asked once, for the whole text.
    expect(search).toHaveBeenCalledTimes(1);
    expect(search).toHaveBeenCalledWith('al', 50);
    expect(box).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByRole('status')).toHaveTextContent('3 results');

    await user.type(box, 'i');
    await waitFor(() => expect(names()).toEqual(['Alice Anders']));
    expect(search).toHaveBeenCalledTimes(2);
  });

  it('moves through the results with the arrow keys and calls with Enter', async () => {
    const { box, user, backend } = await page();
    await user.type(box, 'al');
    await waitFor(() => expect(options()).toHaveLength(3));
    expect(box).not.toHaveAttribute('aria-activedescendant');

    await user.keyboard('{ArrowDown}');
    expect(box).toHaveAttribute('aria-activedescendant', options()[0].id);
    expect(options()[0]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(box).toHaveAttribute('aria-activedescendant', options()[2].id);
    await user.keyboard('{ArrowDown}'); // wraps around
    expect(box).toHaveAttribute('aria-activedescendant', options()[0].id);
    await user.keyboard('{ArrowUp}');
    expect(options()[2]).toHaveAttribute('aria-selected', 'true');
    expect(options()[0]).toHaveAttribute('aria-selected', 'false');
    // The focus never left the search box.
    expect(box).toHaveFocus();

    // The chosen person's numbers are offered too.
    const details = screen.getByRole('complementary', { name: 'Alan Brooks' });
    expect(within(details).getByRole('button', { name: 'Call extension 1002' })).toBeInTheDocument();

    await user.keyboard('{Enter}');
    await waitFor(() => expect(backend.dialled).toEqual(['2145551002']));
  });

  it('filters by source, calls on click, and Escape clears', async () => {
    const { box, user, backend } = await page();
    await user.type(box, 'a');
    await waitFor(() => expect(names()).toContain('Alex Plumber'));
    await user.click(screen.getByRole('radio', { name: 'Personal' }));
    expect(names()).toEqual(['Alex Plumber']);
    await user.click(screen.getByRole('radio', { name: 'Company' }));
    expect(names()).toEqual([]);
    expect(screen.getByText('No one in the company directory matches “a”.')).toBeInTheDocument();
    await user.click(screen.getByRole('radio', { name: 'Group' }));
    expect(names()).toEqual(['Alice Anders', 'Alan Brooks']);
    await user.click(options()[1]);
    await waitFor(() => expect(backend.dialled).toEqual(['2145551002']));

    await user.click(box);
    await user.keyboard('{Escape}');
    expect(box).toHaveValue('');
    expect(box).toHaveAttribute('aria-expanded', 'false');
  });

  it('calls a typed number, and asks the provider when the copy has no match', async () => {
    const { box, user, backend } = await page();
    await user.type(box, '2145550999');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(backend.dialled).toEqual(['2145550999']));

    await user.clear(box);
    await user.type(box, 'quinn');
    await waitFor(() => expect(screen.getByText(/No one in your directories matches/)).toBeInTheDocument());
    await user.click(screen.getByRole('button', { name: 'Search your provider’s directory' }));
    await waitFor(() => expect(names()).toEqual(['Quinn Remote']));
  });

  it('edits the personal phone list', async () => {
    const { user, backend, app } = await page();
    const card = document.querySelector<HTMLElement>('[data-setting="personal_directory"]')!;
    await user.type(within(card).getByLabelText('Name'), 'Plumber Two');
    await user.type(within(card).getByLabelText('Number'), '2145550178');
    await user.click(within(card).getByRole('button', { name: 'Add' }));
    await user.click(within(card).getByRole('button', { name: 'Save' }));
    await waitFor(async () => {
      const v = (await backend.settings()).find((s) => s.key === 'personal_directory')!;
      expect(v.provider_value.value).toMatchObject({ entries: { 'Plumber Two': '2145550178' } });
    });
    expect(app.settings.length).toBeGreaterThan(0);
  });
});
