{{/* The chart's name, truncated to Kubernetes' 63-character name limit. */}}
{{- define "drift-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: <release>-drift-agent, or the release name when it already contains the chart name. */}}
{{- define "drift-agent.fullname" -}}
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

{{- define "drift-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "drift-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "drift-agent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "drift-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: node-agent
{{- end }}

{{- define "drift-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "drift-agent.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest when a digest is set, else repository:tag (the appVersion by default). */}}
{{- define "drift-agent.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The container runtime's state and root directories on the host: the preset's, each overridable. */}}
{{- define "drift-agent.runtimePaths" -}}
{{- $presets := dict
  "containerd" (dict "state" "/run/containerd" "root" "/var/lib/containerd")
  "k3s" (dict "state" "/run/k3s/containerd" "root" "/var/lib/rancher/k3s/agent/containerd")
  "rke2" (dict "state" "/run/k3s/containerd" "root" "/var/lib/rancher/rke2/agent/containerd")
  "microk8s" (dict "state" "/var/snap/microk8s/common/run/containerd" "root" "/var/snap/microk8s/common/var/lib/containerd")
}}
{{- $preset := get $presets .Values.containerRuntime.preset }}
{{- if not $preset }}
{{- fail (printf "containerRuntime.preset %q is not one of containerd, k3s, rke2, microk8s" .Values.containerRuntime.preset) }}
{{- end }}
{{- dict "state" (.Values.containerRuntime.stateDir | default $preset.state) "root" (.Values.containerRuntime.rootDir | default $preset.root) | toJson }}
{{- end }}

{{/* Whether a webhook is configured (a URL in the values or in a Secret); fails when both are. */}}
{{- define "drift-agent.webhookEnabled" -}}
{{- if and .Values.webhook.url .Values.webhook.urlSecret.name }}
{{- fail "webhook.url and webhook.urlSecret.name are both set: set one (a URL carrying a token belongs in the Secret)" }}
{{- end }}
{{- if or .Values.webhook.url .Values.webhook.urlSecret.name }}true{{ end }}
{{- end }}

{{/*
The webhook's custom header lines for DRIFT_WEBHOOK_HEADERS, one "Name: value" per line: the plain headers, then each
secret header as prefix + {{file:...}} of its Secret key mounted under /etc/drift-agent/webhook-headers. Fails on a
header named twice and on webhook settings given without a webhook.
*/}}
{{- define "drift-agent.webhookHeaderLines" -}}
{{- $w := .Values.webhook }}
{{- $enabled := include "drift-agent.webhookEnabled" . }}
{{- if and (not $enabled) (or $w.headers $w.secretHeaders $w.bodyTemplate $w.caBundle.configMap $w.caBundle.secret (ne $w.format "drift")) }}
{{- fail "webhook.format, headers, secretHeaders, bodyTemplate and caBundle need a webhook: set webhook.url or webhook.urlSecret.name" }}
{{- end }}
{{- if and $w.bodyTemplate (ne $w.format "drift") }}
{{- fail "webhook.format and webhook.bodyTemplate are both set: put {{falco}} or {{alert}} in the template" }}
{{- end }}
{{- if and $w.caBundle.configMap $w.caBundle.secret }}
{{- fail "webhook.caBundle.configMap and webhook.caBundle.secret are both set: set one" }}
{{- end }}
{{- $lines := list }}
{{- $seen := dict }}
{{- range $name, $value := $w.headers }}
{{- if hasKey $seen (lower $name) }}{{ fail (printf "webhook header %s is configured twice" $name) }}{{ end }}
{{- $_ := set $seen (lower $name) true }}
{{- $lines = append $lines (printf "%s: %s" $name $value) }}
{{- end }}
{{- range $w.secretHeaders }}
{{- if hasKey $seen (lower .name) }}{{ fail (printf "webhook header %s is configured twice" .name) }}{{ end }}
{{- $_ := set $seen (lower .name) true }}
{{- $lines = append $lines (printf "%s: %s{{file:/etc/drift-agent/webhook-headers/%s}}" .name (.prefix | default "") (lower .name)) }}
{{- end }}
{{- join "\n" $lines }}
{{- end }}

{{/* How the AppArmor profile is set: "field", "annotation", "both" or "" (no profile). */}}
{{- define "drift-agent.appArmorMode" -}}
{{- if .Values.appArmor.profile }}
{{- if eq .Values.appArmor.setAs "auto" }}
{{- if semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version }}field{{ else }}annotation{{ end }}
{{- else }}
{{- .Values.appArmor.setAs }}
{{- end }}
{{- end }}
{{- end }}

{{/* The securityContext.appArmorProfile form of the profile. */}}
{{- define "drift-agent.appArmorProfile" -}}
{{- $profile := .Values.appArmor.profile }}
{{- if eq $profile "unconfined" }}
type: Unconfined
{{- else if eq $profile "runtime/default" }}
type: RuntimeDefault
{{- else }}
type: Localhost
localhostProfile: {{ trimPrefix "localhost/" $profile | quote }}
{{- end }}
{{- end }}

{{/*
The pod's affinity: .Values.affinity with, when excludeVirtualNodes is on, the virtual-node exclusions added to
every required nodeSelectorTerm (terms are ORed, expressions within a term ANDed, so each term needs them).
*/}}
{{- define "drift-agent.affinity" -}}
{{- $affinity := deepCopy (.Values.affinity | default dict) }}
{{- if .Values.excludeVirtualNodes }}
{{- $exclusions := list
  (dict "key" "type" "operator" "NotIn" "values" (list "virtual-kubelet"))
  (dict "key" "eks.amazonaws.com/compute-type" "operator" "NotIn" "values" (list "fargate"))
}}
{{- $nodeAffinity := get $affinity "nodeAffinity" | default dict }}
{{- $required := get $nodeAffinity "requiredDuringSchedulingIgnoredDuringExecution" | default dict }}
{{- $terms := get $required "nodeSelectorTerms" | default list }}
{{- $merged := list }}
{{- if $terms }}
{{- range $terms }}
{{- $term := deepCopy . }}
{{- $_ := set $term "matchExpressions" (concat (get $term "matchExpressions" | default list) $exclusions) }}
{{- $merged = append $merged $term }}
{{- end }}
{{- else }}
{{- $merged = list (dict "matchExpressions" $exclusions) }}
{{- end }}
{{- $_ := set $required "nodeSelectorTerms" $merged }}
{{- $_ := set $nodeAffinity "requiredDuringSchedulingIgnoredDuringExecution" $required }}
{{- $_ := set $affinity "nodeAffinity" $nodeAffinity }}
{{- end }}
{{- if $affinity }}
{{- toYaml $affinity }}
{{- end }}
{{- end }}

{{/* The policy ConfigMap's name: the existing one, or the chart's. */}}
{{- define "drift-agent.policyConfigMap" -}}
{{- .Values.policy.existingConfigMap | default (printf "%s-policy" (include "drift-agent.fullname" .)) }}
{{- end }}
