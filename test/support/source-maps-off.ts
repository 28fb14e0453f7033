/**
 * Loaded into every test process after tap's own imports (`.taprc` node-arg). tap starts test processes with
 * `--enable-source-maps`, and its process-info hooks turn source maps on again when they load; with them on, Node
 * reads and parses the source map of every module that names one (most of node_modules) as it loads it: about
 * 0.35 s of CPU in a process that loads the service, the Kubernetes client and tap. The suite's TypeScript needs no
 * map (type stripping keeps every line and column), and a failure in a dependency reads well enough in its
 * published JavaScript.
 */
import { setSourceMapsSupport } from 'node:module';

setSourceMapsSupport(false);
