/**
 * Loaded first into every process of `npm test` (test/support/run-suite.ts puts it in NODE_OPTIONS). tap's
 * process-info hooks (`@tapjs/processinfo`, imported by every test process) record each module a process loads,
 * reading its source a second time and measuring its lines, for `tap --changed` and coverage; this suite uses
 * neither. They skip the files matching this variable, read once, when the hooks load. tap's runner sets it to skip
 * only its own files, and a test process gets it from there: a test process that loads the service and the
 * Kubernetes client (about 2,000 modules) spent 5.6 s of CPU loading them instead of 2.6 s. Imported before the hooks
 * (NODE_OPTIONS comes before tap's own `--import`), this makes them skip every file, in the test processes and in
 * everything they start (services, CLIs, workers).
 */
process.env._TAPJS_PROCESSINFO_EXCLUDE_ = '/./';
