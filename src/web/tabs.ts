// Accessible tabs (WAI-ARIA tabs pattern): one panel shown at a time, arrow keys move between the tabs.
// Ids are `tab-{id}` and `panel-{id}`: each tab's id must be unique in the page.

import { h } from './dom.js';

export interface Tab {
  id: string;
  label: string;
  body: HTMLElement[];
}

/** The tab list and its panels in one element; the first tab is selected. */
export function renderTabs(tabs: Tab[]): HTMLElement {
  const list = h('div', { class: 'tabs', attrs: { role: 'tablist' } });
  const panels: HTMLElement[] = [];
  const buttons: HTMLButtonElement[] = [];
  const select = (index: number, focus: boolean): void => {
    buttons.forEach((button, i) => {
      button.setAttribute('aria-selected', String(i === index));
      button.tabIndex = i === index ? 0 : -1;
      const panel = panels[i];
      if (panel !== undefined) panel.hidden = i !== index;
    });
    if (focus) buttons[index]?.focus();
  };
  tabs.forEach((tab, index) => {
    const button = h('button', { class: 'tab', attrs: { type: 'button', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': `panel-${tab.id}` } }, tab.label);
    button.addEventListener('click', () => select(index, false));
    button.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowRight') select((index + 1) % tabs.length, true);
      if (event.key === 'ArrowLeft') select((index + tabs.length - 1) % tabs.length, true);
    });
    buttons.push(button);
    list.appendChild(button);
    panels.push(h('div', { class: 'tab-panel', attrs: { role: 'tabpanel', id: `panel-${tab.id}`, 'aria-labelledby': `tab-${tab.id}` } }, ...tab.body));
  });
  select(0, false);
  return h('div', {}, list, ...panels);
}
