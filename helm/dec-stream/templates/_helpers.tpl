{{/* Chart name, at most 63 characters. */}}
{{- define "dec-stream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name used for every object. */}}
{{- define "dec-stream.fullname" -}}
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

{{- define "dec-stream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dec-stream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dec-stream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dec-stream.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: worker
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "dec-stream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dec-stream.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dec-stream.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Environment variable of a `config` key: the key is the camelCase of the variable without its DEC_
prefix (kafkaBrokers → KAFKA_BROKERS, inputTopic → DEC_INPUT_TOPIC).
*/}}
{{- define "dec-stream.envName" -}}
{{- $snake := . | snakecase | upper }}
{{- if hasPrefix "KAFKA_" $snake }}
{{- $snake }}
{{- else }}
{{- printf "DEC_%s" $snake }}
{{- end }}
{{- end }}

{{/*
A value as environment text. Helm reads numbers in values files as floats, so whole numbers are
printed as integers (1000000, never 1e+06).
*/}}
{{- define "dec-stream.envText" -}}
{{- if and (kindIs "float64" .) (eq (floor .) .) }}
{{- printf "%d" (int64 .) }}
{{- else }}
{{- printf "%v" . }}
{{- end }}
{{- end }}

{{/* Whether a config value is set (neither null nor empty text). */}}
{{- define "dec-stream.isSet" -}}
{{- if not (or (kindIs "invalid" .) (and (kindIs "string" .) (eq . ""))) }}true{{- end }}
{{- end }}

{{/* Seconds Kubernetes waits after SIGTERM: the worker's drain time plus a margin. */}}
{{- define "dec-stream.terminationGracePeriodSeconds" -}}
{{- $graceMs := int64 (include "dec-stream.envText" .Values.config.shutdownGraceMs) }}
{{- add (div (add $graceMs 999) 1000) .Values.terminationGraceMarginSeconds }}
{{- end }}

{{- define "dec-stream.avroSchemaConfigMapName" -}}
{{- if .Values.avroSchema.existingConfigMap }}
{{- .Values.avroSchema.existingConfigMap }}
{{- else }}
{{- printf "%s-avro-schema" (include "dec-stream.fullname" .) }}
{{- end }}
{{- end }}

{{- define "dec-stream.avroSchemaEnabled" -}}
{{- if or .Values.avroSchema.existingConfigMap .Values.avroSchema.inline }}true{{- end }}
{{- end }}

{{- define "dec-stream.modelClaimName" -}}
{{- default (printf "%s-models" (include "dec-stream.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/*
"true" when replicas share one model through Kafka (DEC_SCALE_OUT): more than one replica, by
replicaCount or by KEDA's maxReplicaCount, or config.scaleOut set.
*/}}
{{- define "dec-stream.scaleOut" -}}
{{- $keda := and .Values.keda.enabled (gt (int .Values.keda.maxReplicaCount) 1) }}
{{- $replicas := and (not .Values.keda.enabled) (gt (int .Values.replicaCount) 1) }}
{{- $explicit := eq (toString .Values.config.scaleOut) "true" }}
{{- if or $keda $replicas $explicit }}true{{- end }}
{{- end }}
