import t from 'tap';
import type { Workload } from '../../src/ports/cluster.ts';
import { daemonSetStatus, statefulSetStatus } from '../../src/kube/rollout-status.ts';

// kubectl's StatefulSet and DaemonSet viewers on the states that matter (no controller for them in the fake server).
const sts = (spec: Partial<Workload['spec']>, status: Workload['status'], generation = 2): Workload => ({
  metadata: { name: 'db', generation },
  spec: { selector: {}, template: {}, replicas: 3, ...spec },
  status,
});

t.test('StatefulSet', async (t) => {
  t.match(statefulSetStatus(sts({}, { observedGeneration: 1 })), {
    state: 'waiting',
    message: 'Waiting for statefulset spec update to be observed...',
  });
  t.match(statefulSetStatus(sts({}, { observedGeneration: 2, readyReplicas: 1 })), {
    state: 'waiting',
    message: 'Waiting for 2 pods to be ready...',
  });
  t.match(
    statefulSetStatus(sts({}, { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1, currentRevision: 'a', updateRevision: 'b' })),
    {
      state: 'waiting',
      message: 'waiting for statefulset rolling update to complete 1 pods at revision b...',
    },
  );
  t.match(
    statefulSetStatus(sts({}, { observedGeneration: 2, readyReplicas: 3, currentReplicas: 3, currentRevision: 'b', updateRevision: 'b' })),
    { state: 'done' },
  );
  t.match(
    statefulSetStatus(
      sts(
        { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
        { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 },
      ),
    ),
    {
      state: 'waiting',
      message: 'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
    },
  );
  t.match(statefulSetStatus(sts({ updateStrategy: { type: 'OnDelete' } }, {})), { state: 'failed' });
});

t.test('DaemonSet', async (t) => {
  const ds = (status: Workload['status']) => ({ ...sts({}, status), metadata: { name: 'agent', generation: 2 } });
  t.match(daemonSetStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 1 })), {
    message: 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...',
  });
  t.match(daemonSetStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 })), {
    message: 'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...',
  });
  t.match(daemonSetStatus(ds({ observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 })), {
    state: 'done',
    message: 'daemon set "agent" successfully rolled out',
  });
});
