{{/* Names and labels shared by every template. */}}

{{- define "triage.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "triage.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "triage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "triage.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "triage.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "triage.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "triage.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret that holds the database URL: the user's own, or the chart's. */}}
{{- define "triage.secretName" -}}
{{- default (printf "%s-secrets" (include "triage.fullname" .)) .Values.database.existingSecret -}}
{{- end -}}

{{- define "triage.secretKey" -}}
{{- if .Values.database.existingSecret -}}
{{- .Values.database.existingSecretKey -}}
{{- else -}}
database-url
{{- end -}}
{{- end -}}

{{/* Environment shared by the pods and the migration Job. */}}
{{- define "triage.env" -}}
- name: TRIAGE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "triage.secretName" . }}
      key: {{ include "triage.secretKey" . }}
- name: TRIAGE_HOME
  value: /var/lib/triage
{{- range $name, $value := .Values.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ printf "%s-secrets" (include "triage.fullname" $) }}
      key: {{ $name }}
{{- end }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}
