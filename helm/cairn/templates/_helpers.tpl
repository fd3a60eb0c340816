{{/* Chart name, truncated to the 63 characters Kubernetes allows in names. */}}
{{- define "cairn.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: "<release>-<chart>", or the release name when it already contains the chart name. */}}
{{- define "cairn.fullname" -}}
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

{{- define "cairn.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "cairn.labels" -}}
helm.sh/chart: {{ include "cairn.chart" . }}
{{ include "cairn.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels (without the component). */}}
{{- define "cairn.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cairn.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* ServiceAccount used by the web, worker and scheduler pods. */}}
{{- define "cairn.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cairn.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cairn.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Secret holding CAIRN_DATABASE_URL, CAIRN_REDIS_URL, CAIRN_SECRET_KEY and CAIRN_SMTP_URL. */}}
{{- define "cairn.secretName" -}}
{{- default (include "cairn.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
Non-secret CAIRN_* settings as a YAML map of strings. Empty or null values are left out so
Cairn's own defaults apply. Used by the ConfigMap and, inline, by the migration Job (which
runs before the ConfigMap exists on first install).
*/}}
{{- define "cairn.configData" -}}
CAIRN_HOST: "0.0.0.0"
CAIRN_PORT: {{ .Values.web.containerPort | quote }}
CAIRN_DATA_DIR: "/tmp/cairn-data"
{{- $c := .Values.config }}
{{- $vars := dict
  "CAIRN_LOG_LEVEL" $c.logLevel
  "CAIRN_MAX_BODY_BYTES" $c.maxBodyBytes
  "CAIRN_DB_OWNER_ROLE" $c.dbOwnerRole
  "CAIRN_DB_APP_ROLE" $c.dbAppRole
  "CAIRN_DB_POOL_SIZE" $c.dbPoolSize
  "CAIRN_WEB_WORKERS" $c.webWorkers
  "CAIRN_WEB_THREADS" $c.webThreads
  "CAIRN_FORWARDED_ALLOW_IPS" $c.forwardedAllowIps
  "CAIRN_PROXY_HOPS" $c.proxyHops
  "CAIRN_TENANT_CONTEXT" $c.tenantContext
  "CAIRN_MAIL_FROM" $c.mailFrom
  "CAIRN_ARGON2_TIME_COST" $c.argon2TimeCost
  "CAIRN_ARGON2_MEMORY_KIB" $c.argon2MemoryKib
  "CAIRN_ARGON2_PARALLELISM" $c.argon2Parallelism
  "CAIRN_RATE_LIMIT_DATA" $c.rateLimitData
  "CAIRN_RATE_LIMIT_AUTH" $c.rateLimitAuth
  "CAIRN_RETENTION" $c.retention
  "CAIRN_KEY_TOUCH_SECONDS" $c.keyTouchSeconds
}}
{{- range $k, $v := $vars }}
{{- if not (kindIs "invalid" $v) }}
{{- if ne (toString $v) "" }}
{{ $k }}: {{ toString $v | quote }}
{{- end }}
{{- end }}
{{- end }}
CAIRN_WEBHOOK_ALLOW_PRIVATE: {{ ternary "true" "false" .Values.config.webhookAllowPrivate | quote }}
CAIRN_OAUTH_ALLOW_PRIVATE: {{ ternary "true" "false" .Values.config.oauthAllowPrivate | quote }}
{{- end }}

{{/* Secret CAIRN_* settings as a YAML map (base64-encoded for a Secret's data). */}}
{{- define "cairn.secretData" -}}
CAIRN_DATABASE_URL: {{ required "secrets.databaseUrl is required unless existingSecret is set" .Values.secrets.databaseUrl | b64enc | quote }}
CAIRN_REDIS_URL: {{ required "secrets.redisUrl is required unless existingSecret is set" .Values.secrets.redisUrl | b64enc | quote }}
CAIRN_SECRET_KEY: {{ required "secrets.secretKey (32+ characters) is required unless existingSecret is set" .Values.secrets.secretKey | b64enc | quote }}
{{- if .Values.secrets.appDatabaseUrl }}
CAIRN_APP_DATABASE_URL: {{ .Values.secrets.appDatabaseUrl | b64enc | quote }}
{{- end }}
{{- if .Values.secrets.smtpUrl }}
CAIRN_SMTP_URL: {{ .Values.secrets.smtpUrl | b64enc | quote }}
{{- end }}
{{- end }}

{{/* Pod annotations shared by every pod, plus checksums so config changes roll the pods. */}}
{{- define "cairn.podAnnotations" -}}
checksum/config: {{ include "cairn.configData" . | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include "cairn.secretData" . | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Environment shared by the long-running containers: ConfigMap and Secret, then extraEnv. */}}
{{- define "cairn.envFrom" -}}
- configMapRef:
    name: {{ include "cairn.fullname" . }}
- secretRef:
    name: {{ include "cairn.secretName" . }}
{{- end }}

{{/* Scheduling constraints shared by every pod; $affinity is the component's own affinity. */}}
{{- define "cairn.scheduling" -}}
{{- $affinity := .affinity | default .root.Values.affinity }}
{{- with .root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
