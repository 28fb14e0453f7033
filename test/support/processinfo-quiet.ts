/**
 * Loaded first into every process of `npm test` (test/support/run-suite.ts puts it in NODE_OPTIONS). tap's
 * process-info hooks (`@tapjs/processinfo`, imported by every test process) record each module a process loads,
 * reading its source a second time and measuring its lines, for `tap --changed` and coverage; this suite uses
 * neither.
 * - They skip the files matching `_TAPJS_PROCESSINFO_EXCLUDE_`, read once, when the hooks load. tap's runner sets it
 *   to skip only its own files, and a test process gets it from there: a test process that loads the service and the
 *   Kubernetes client (about 2,000 modules) spent 5.6 s of CPU loading them instead of 2.6 s. Imported before the
 *   hooks (NODE_OPTIONS comes before tap's own `--import`), this makes them skip every file.
 * - A test process gets the hooks' `--import` in NODE_OPTIONS too, and would pass it on to every process it starts
 *   (services, CLIs, workers), where hooks that skip every file still cost a module load's worth of CPU each:
 *   it is taken out here, so those start without them.
 */
process.env._TAPJS_PROCESSINFO_EXCLUDE_ = '/./';
if (process.env.NODE_OPTIONS)
  process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(/(^|\s)"?--(import|loader)[= ]\S*@tapjs\/processinfo\S*/g, '').trim();
