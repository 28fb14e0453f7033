/**
 * Defaulting as the real API server does it on create and update (pkg/apis/<group>/v1/defaults.go), for the fields
 * that show up in kubectl output and in templates compared by `kubectl rollout undo`. Defaulting is idempotent, so a
 * template copied from a ReplicaSet back into its Deployment compares equal.
 */
function defaultContainer(c: any): void {
  if (!c || typeof c !== 'object') return;
  const image: string = typeof c.image === 'string' ? c.image : '';
  const tag = image.includes('@') ? 'digest' : (image.split('/').pop() ?? '').split(':')[1];
  c.imagePullPolicy ??= tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of Array.isArray(c.ports) ? c.ports : []) p.protocol ??= 'TCP';
}

export function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) defaultContainer(c);
  for (const c of Array.isArray(spec.initContainers) ? spec.initContainers : []) defaultContainer(c);
}

function defaultTemplate(template: any): void {
  if (!template || typeof template !== 'object') return;
  template.metadata ??= {};
  defaultPodSpec(template.spec);
}

let nextClusterIp = 10;

export function applyDefaults(obj: any): void {
  const spec = obj.spec;
  switch (obj.kind) {
    case 'Deployment':
      if (!spec) return;
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate' };
      if ((spec.strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
        spec.strategy.type = 'RollingUpdate';
        spec.strategy.rollingUpdate ??= {};
        spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
        spec.strategy.rollingUpdate.maxSurge ??= '25%';
      }
      defaultTemplate(spec.template);
      break;
    case 'ReplicaSet':
      if (!spec) return;
      spec.replicas ??= 1;
      defaultTemplate(spec.template);
      break;
    case 'StatefulSet':
      if (!spec) return;
      spec.replicas ??= 1;
      spec.podManagementPolicy ??= 'OrderedReady';
      spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
      spec.revisionHistoryLimit ??= 10;
      defaultTemplate(spec.template);
      break;
    case 'DaemonSet':
      if (!spec) return;
      spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      spec.revisionHistoryLimit ??= 10;
      defaultTemplate(spec.template);
      break;
    case 'Pod':
      defaultPodSpec(spec);
      break;
    case 'Service':
      if (!spec) return;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (spec.type !== 'ExternalName' && spec.clusterIP === undefined) {
        spec.clusterIP = `10.96.${Math.floor(nextClusterIp / 250)}.${(nextClusterIp % 250) + 1}`;
        nextClusterIp++;
      }
      if (spec.clusterIP && spec.clusterIPs === undefined) spec.clusterIPs = [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
      for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      break;
    case 'Secret':
      obj.type ??= 'Opaque';
      break;
    case 'PersistentVolume':
      if (!spec) return;
      spec.persistentVolumeReclaimPolicy ??= 'Retain';
      spec.volumeMode ??= 'Filesystem';
      break;
    case 'PersistentVolumeClaim':
      if (!spec) return;
      spec.volumeMode ??= 'Filesystem';
      break;
    case 'Namespace':
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      break;
  }
}
