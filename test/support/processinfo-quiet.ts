/**
 * Loaded into every test process (`.taprc` node-arg). tap's process-info hooks record each module a process loads,
 * reading and measuring its source again, for `tap --changed` and coverage; this suite uses neither. tap sets which
 * files they skip for the test processes themselves, but the processes a test starts (services, CLIs, workers) take
 * it from this variable: skipping every file there saves about 0.5 s of CPU per process that loads the service.
 */
process.env._TAPJS_PROCESSINFO_EXCLUDE_ = '/./';
