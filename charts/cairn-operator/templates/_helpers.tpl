{{/* Chart name (app.kubernetes.io/name), truncated to a label value's 63 characters. */}}
{{- define "cairn-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of every object: the release name when it contains the chart name (so
"helm install cairn-operator ..." names everything cairn-operator, as deploy/operator
does), else <release>-<chart>.
*/}}
{{- define "cairn-operator.fullname" -}}
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

{{/* helm.sh/chart label value. */}}
{{- define "cairn-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels the Deployment selects its pods by (immutable once installed). */}}
{{- define "cairn-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cairn-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard labels of every object. */}}
{{- define "cairn-operator.labels" -}}
{{ include "cairn-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "cairn-operator.chart" . }}
{{- end }}

{{/* The operator's ServiceAccount. */}}
{{- define "cairn-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cairn-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the leader-election Lease. */}}
{{- define "cairn-operator.leaderElectionId" -}}
{{- default (include "cairn-operator.fullname" .) .Values.leaderElection.id }}
{{- end }}

{{/* The operator image reference. */}}
{{- define "cairn-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
Namespaces the operator watches: [] for all namespaces. The operator's --namespace takes
one namespace, so more than one is refused here rather than half-honoured.
*/}}
{{- define "cairn-operator.watchNamespaces" -}}
{{- $ns := .Values.watchNamespaces | default (list) }}
{{- if gt (len $ns) 1 }}
{{- fail (printf "watchNamespaces lists %d namespaces (%s), but cairn-operator currently watches either every namespace (watchNamespaces: []) or exactly one (its --namespace flag takes a single namespace); install one release per watched namespace, or leave watchNamespaces empty to watch every namespace" (len $ns) (join ", " $ns)) }}
{{- end }}
{{- toJson $ns }}
{{- end }}

{{/* Chart-wide checks of values that the schema cannot express. */}}
{{- define "cairn-operator.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "replicas is %d but leaderElection.enabled is false: several operator replicas would reconcile at once; enable leader election or set replicas to 1" (int .Values.replicas)) }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.service.enabled: the ServiceMonitor scrapes the metrics Service" }}
{{- end }}
{{- end }}

{{/*
What the operator does with each kind of object, in every namespace it watches. The same
rules go into the ClusterRole (all namespaces) or into the Role of each watched namespace,
and must equal deploy/operator/cluster_role.yaml (chart_deploy_parity_test compares them).
Exactly the requests the operator makes (operator_controller_test's RBAC test fails on a
missing or an unused grant). Pods: delete restarts a learner's pod and replaces outdated
pods in a rollout, patch marks an emptyDir member's pod with its member ID; PVCs: patch
marks a volume with the member ID it holds, delete cleans up after scale-down; Secrets:
the CA and certificates of spec.tls, read, issued, renewed.
*/}}
{{- define "cairn-operator.rules" -}}
- apiGroups: [etcd.cairn.dev]
  resources: [etcdclusters]
  verbs: [get, list, watch]
- apiGroups: [etcd.cairn.dev]
  resources: [etcdclusters/status]
  verbs: [update]
- apiGroups: [etcd.cairn.dev]
  resources: [etcdbackups]
  verbs: [get, list, watch, create, delete]
- apiGroups: [etcd.cairn.dev]
  resources: [etcdbackups/status]
  verbs: [update]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list, watch, create, update, patch]
- apiGroups: [""]
  resources: [services, configmaps]
  verbs: [get, list, watch, create, update]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, create, update]
- apiGroups: [cert-manager.io]
  resources: [certificates]
  verbs: [get, create, update]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [list, watch, patch, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}
