{{- define "remediator.labels" -}}
app.kubernetes.io/name: remediator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
