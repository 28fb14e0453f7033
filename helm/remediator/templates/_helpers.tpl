{{/* The chart name, for the app.kubernetes.io/name label. */}}
{{- define "remediator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release-qualified name of every object: fullnameOverride, else the release name when it already contains the
chart name, else "<release>-<chart>"; cut to 63 characters (the DNS label limit).
*/}}
{{- define "remediator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<fullname>-<suffix>", still within 63 characters. */}}
{{- define "remediator.suffixed" -}}
{{- $full := include "remediator.fullname" .ctx }}
{{- printf "%s-%s" ($full | trunc (int (sub 62 (len .suffix)))) .suffix | trimSuffix "-" }}
{{- end }}

{{- define "remediator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "remediator.labels" -}}
helm.sh/chart: {{ include "remediator.chart" . }}
{{ include "remediator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: remediator
{{- end }}

{{/* Selector labels: name and instance only (a selector cannot change after install). */}}
{{- define "remediator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "remediator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "remediator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "remediator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "remediator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* ConfigMap keys cannot hold "/": a manifest's path inside the playbooks folder, with "/" as "__". */}}
{{- define "remediator.fileKey" -}}
{{- . | trimPrefix "files/playbooks/" | replace "/" "__" }}
{{- end }}

{{/*
The config file: the chart's keys (addresses, in-cluster access, the mounted playbooks, the worker's health port)
deep-merged with .Values.config, which wins. One document, so a key set in both places appears once.
*/}}
{{- define "remediator.config" -}}
{{- $base := dict
  "server" (dict "host" "0.0.0.0" "port" (int .Values.receiver.port))
  "redis" (dict "url" .Values.redis.url "tls" .Values.redis.tls "minReplicasAcked" (int .Values.redis.minReplicasAcked) "replicaAckTimeout" .Values.redis.replicaAckTimeout)
  "playbooks" (dict "dir" "/etc/remediator/playbooks" "watch" true)
  "kubernetes" (dict "enabled" true "inCluster" true)
  "prometheus" (dict "url" (required "prometheusUrl is required: the base URL of the Prometheus the playbooks' gates query (e.g. http://prometheus-operated.monitoring:9090)" .Values.prometheusUrl))
  "worker" (dict "healthPort" (int .Values.worker.healthPort))
  "logging" (dict "level" .Values.logLevel "pretty" false)
}}
{{- with .Values.redis.sentinel }}
{{- $_ := set $base.redis "sentinel" . }}
{{- end }}
{{- with .Values.redis.cluster }}
{{- $_ := set $base.redis "cluster" . }}
{{- end }}
{{- if .Values.alertmanagerUrl }}
{{- $_ := set $base "alertmanager" (dict "url" .Values.alertmanagerUrl) }}
{{- end }}
{{- if .Values.publicUrl }}
{{- $_ := set $base.server "publicUrl" .Values.publicUrl }}
{{- end }}
{{- toYaml (mustMergeOverwrite $base (deepCopy .Values.config)) }}
{{- end }}
