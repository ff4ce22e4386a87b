{{/* Name of the EtcdCluster: values.name, else the release name. */}}
{{- define "cairn-cluster.name" -}}
{{- $name := default .Release.Name .Values.name }}
{{- if gt (len $name) 40 }}
{{- fail (printf "the EtcdCluster name %q has %d characters; at most 40 are allowed (the names of its StatefulSet, Services and pods derive from it): set name" $name (len $name)) }}
{{- end }}
{{- $name }}
{{- end }}

{{/* Standard labels. */}}
{{- define "cairn-cluster.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.version | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}
