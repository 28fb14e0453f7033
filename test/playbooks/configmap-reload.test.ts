import t from 'tap';
import { mkdtemp, mkdir, writeFile, rm, symlink, rename, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once, EventEmitter } from 'node:events';
import { PlaybookCatalog } from '../../src/playbooks/playbook-catalog.ts';
import { playbookReadiness } from '../../src/playbooks/playbook-health.ts';
import { createRegistry } from '../../src/main.ts';
import { silentLogger } from '../../src/observability/logger.ts';

// A playbooks folder mounted from a ConfigMap is written the way kubelet's atomic writer does it: each version in a
// hidden `..<timestamp>` folder, a `..data` symlink to the current one, and each key a symlink `name -> ..data/name`.
// An update writes a new timestamped folder, points a `..data_tmp` symlink at it, renames `..data_tmp` over `..data`
// (the only change the visible names see) and deletes the old folder. These tests do exactly that.

const playbook = (name: string, message: string) => `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: ${name} }
spec:
  triggers: [{ matchers: ['alertname="${name}"'] }]
  steps:
    - { id: say, action: log, with: { message: "${message}" } }
`;

/** The atomic writer of kubelet (pkg/volume/util/atomic_writer.go), reduced to what a reader can observe. */
class ConfigMapVolume {
  #n = 0;
  #current: string | undefined;
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  async write(files: Record<string, string>): Promise<void> {
    const ts = `..2026_12_06_07_00_00.${String(++this.#n).padStart(9, '0')}`;
    await mkdir(join(this.dir, ts));
    for (const [name, text] of Object.entries(files)) await writeFile(join(this.dir, ts, name), text);
    await symlink(ts, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    const visible = new Set((await readdir(this.dir)).filter((f) => !f.startsWith('..')));
    for (const name of Object.keys(files)) if (!visible.has(name)) await symlink(join('..data', name), join(this.dir, name));
    for (const name of visible) if (!(name in files)) await rm(join(this.dir, name));
    if (this.#current) await rm(join(this.dir, this.#current), { recursive: true });
    this.#current = ts;
  }
}

async function mounted(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-cm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const volume = new ConfigMapVolume(dir);
  const loads = new EventEmitter();
  const log = silentLogger();
  // The catalog logs each successful load at info and each refusal at error; both are what the test waits for.
  const child = {
    ...log,
    info: (...a: unknown[]) => {
      loads.emit('loaded', a);
    },
    error: (...a: unknown[]) => {
      loads.emit('refused', a);
    },
    warn: () => undefined,
  } as unknown as typeof log;
  const catalog = new PlaybookCatalog(dir, { registry: createRegistry(), available: new Set(['limits']) }, child);
  t.teardown(() => catalog.close());
  /**
   * Waits for the reload that makes `done` true. kubelet (and ConfigMapVolume) creates the symlink of a new key after
   * the swap, so a reload may first see the swap alone; the later change triggers another one.
   */
  const until = async (event: 'loaded' | 'refused', done: () => boolean) => {
    while (!done()) await once(loads, event);
  };
  return { dir, volume, catalog, until };
}

t.test('a ConfigMap update (the ..data symlink swap) is reloaded by the watcher', async (t) => {
  const { volume, catalog, until } = await mounted(t);
  await volume.write({ 'a.yaml': playbook('a', 'one') });
  t.same(await catalog.reload(), [], 'the mounted folder loads');
  t.same(
    catalog.list().map((p) => p.name),
    ['a'],
    'each playbook once, not again from ..data or the timestamped folder',
  );
  catalog.watch();

  const names = () =>
    catalog
      .list()
      .map((p) => p.name)
      .join(',');
  await volume.write({ 'a.yaml': playbook('a', 'two'), 'b.yaml': playbook('b', 'three') });
  await until('loaded', () => names() === 'a,b');
  t.pass('the new key arrived');
  t.same(catalog.get('a')!.rungs[0]!.steps[0]!.with, { message: 'two' }, 'the changed key has its new content');
  t.same(catalog.lastProblems, [], 'no reload saw the old folder and the new one at once');

  await volume.write({ 'b.yaml': playbook('b', 'four') });
  await until('loaded', () => names() === 'b');
  t.same(catalog.get('b')!.rungs[0]!.steps[0]!.with, { message: 'four' }, 'a key removed from the ConfigMap leaves the set');
});

t.test('a bad playbook in an update keeps the last good set in force, shown in /readyz', async (t) => {
  const { volume, catalog, until } = await mounted(t);
  await volume.write({ 'a.yaml': playbook('a', 'one') });
  await catalog.reload();
  catalog.watch();

  await volume.write({
    'a.yaml': playbook('a', 'one'),
    'bad.yaml': 'apiVersion: remediator.io/v1\nkind: Playbook\nmetadata: { name: bad }\nspec: { triggers: [] }\n',
  });
  await until('refused', () => catalog.lastProblems.length > 0);
  t.same(
    catalog.list().map((p) => p.name),
    ['a'],
    'the last good set stays',
  );
  const ready = playbookReadiness(catalog) as { ok: boolean; detail: { lastReloadFailed: boolean; lastReloadProblems: string[] } };
  t.equal(ready.ok, true, 'still ready: a good set is in force');
  t.equal(ready.detail.lastReloadFailed, true);
  t.match(ready.detail.lastReloadProblems.join('\n'), /bad\.yaml/, 'the problem names the file');

  await volume.write({ 'a.yaml': playbook('a', 'one'), 'b.yaml': playbook('b', 'fixed') });
  await until('loaded', () => catalog.list().length === 2);
  t.same(
    catalog.list().map((p) => p.name),
    ['a', 'b'],
  );
  t.equal((playbookReadiness(catalog).detail as { lastReloadFailed: boolean }).lastReloadFailed, false, 'a good reload clears it');
});
