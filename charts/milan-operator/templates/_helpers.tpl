{{/* Names and labels shared by every template. */}}

{{- define "milan-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name; the release name alone when it already contains the chart name. */}}
{{- define "milan-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "milan-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "milan-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "milan-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "milan-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: milan
{{- end }}

{{- define "milan-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "milan-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "milan-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The namespaces the operator watches in "namespaces" mode: the list, or the release namespace. */}}
{{- define "milan-operator.watchedNamespaces" -}}
{{- if .Values.watch.namespaces }}
{{- join "," (uniq .Values.watch.namespaces) }}
{{- else }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{/* Where the admission policies apply: every namespace, or the watched ones in namespaces mode. */}}
{{- define "milan-operator.admissionScope" -}}
{{- if eq .Values.watch.mode "namespaces" -}}
matchResources:
  namespaceSelector:
    matchExpressions:
      - key: kubernetes.io/metadata.name
        operator: In
        values:
          {{- splitList "," (include "milan-operator.watchedNamespaces" .) | toYaml | nindent 10 }}
{{- end }}
{{- end }}

{{/* Fails the render on combinations the schema cannot express. */}}
{{- define "milan-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled=true: without it every replica would reconcile the same runs" }}
{{- end }}
{{- if and (ne .Values.watch.mode "namespaces") .Values.watch.namespaces }}
{{- fail "watch.namespaces is only used with watch.mode=namespaces" }}
{{- end }}
{{- end }}
