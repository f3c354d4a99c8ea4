{{/* Names and labels shared by every template. */}}

{{- define "ecommerce-api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ecommerce-api.fullname" -}}
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

{{- define "ecommerce-api.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ecommerce-api.labels" -}}
helm.sh/chart: {{ include "ecommerce-api.chart" . }}
{{ include "ecommerce-api.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ecommerce-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecommerce-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ecommerce-api.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "ecommerce-api.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ecommerce-api.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ecommerce-api.configMapName" -}}
{{- printf "%s-config" (include "ecommerce-api.fullname" .) }}
{{- end }}

{{- define "ecommerce-api.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-secrets" (include "ecommerce-api.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Environment of every application container: the ConfigMap and the Secret, then the entries that
depend on the pod. ALLOWED_HOSTS gains the pod's own IP so kubelet probes and Prometheus, which
send the pod IP as Host, are not refused by Django's host validation.
*/}}
{{- define "ecommerce-api.envFrom" -}}
- configMapRef:
    name: {{ include "ecommerce-api.configMapName" . }}
- secretRef:
    name: {{ include "ecommerce-api.secretName" . }}
{{- end }}

{{- define "ecommerce-api.env" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: ALLOWED_HOSTS
  value: {{ printf "%s,$(POD_IP)" (required "config.ALLOWED_HOSTS is required" .Values.config.ALLOWED_HOSTS) | quote }}
{{- if .Values.datadog.enabled }}
- name: DD_AGENT_HOST
  valueFrom:
    fieldRef:
      fieldPath: status.hostIP
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod checksum annotations: a changed ConfigMap or Secret rolls the pods. */}}
{{- define "ecommerce-api.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}

{{/* Volumes every application pod mounts: a writable /tmp and, when enabled, the media volume. */}}
{{- define "ecommerce-api.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.media.persistence.enabled }}
- name: media
  persistentVolumeClaim:
    claimName: {{ .Values.media.persistence.existingClaim | default (printf "%s-media" (include "ecommerce-api.fullname" .)) }}
{{- end }}
{{- end }}

{{- define "ecommerce-api.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.media.persistence.enabled }}
- name: media
  mountPath: /app/media
{{- end }}
{{- end }}

{{/* Fields every pod spec shares (the service account is set by each workload). */}}
{{- define "ecommerce-api.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Host header for HTTP probes, only when values.probes.host is set. */}}
{{- define "ecommerce-api.probeHeaders" -}}
{{- if .Values.probes.host }}
httpHeaders:
  - name: Host
    value: {{ .Values.probes.host | quote }}
{{- end }}
{{- end }}
