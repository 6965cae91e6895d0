{{- define "ollama-verify.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ollama-verify.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ollama-verify.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ollama-verify.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ollama-verify.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ollama-verify.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "ollama-verify.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ollama-verify.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ollama-verify.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The node's Ollama, as --host takes it; $(NODE_IP) is expanded by the kubelet. */}}
{{- define "ollama-verify.ollamaHost" -}}
{{- $mode := .Values.ollama.mode -}}
{{- if eq $mode "hostNetwork" -}}
{{- printf "http://127.0.0.1:%v" .Values.ollama.port -}}
{{- else if eq $mode "nodeAddress" -}}
{{- printf "http://$(NODE_IP):%v" .Values.ollama.port -}}
{{- else if eq $mode "address" -}}
{{- required "ollama.address is required with ollama.mode=address (e.g. http://ollama.ollama.svc:11434)" .Values.ollama.address -}}
{{- else -}}
{{- fail (printf "ollama.mode must be hostNetwork, nodeAddress or address, not %q" $mode) -}}
{{- end -}}
{{- end -}}

{{/* The arguments every run shares: the target, the node's Ollama, the GPU source. */}}
{{- define "ollama-verify.targetArgs" -}}
- --target
- native
- --host
- {{ include "ollama-verify.ollamaHost" . | quote }}
- --gpu
- {{ .Values.gpu | quote }}
- --color
- never
{{- end -}}

{{- define "ollama-verify.env" -}}
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: NODE_IP
  valueFrom:
    fieldRef:
      fieldPath: status.hostIP
{{- with .Values.visibleDevices }}
- name: NVIDIA_VISIBLE_DEVICES
  value: {{ . | quote }}
- name: NVIDIA_DRIVER_CAPABILITIES
  value: utility
{{- end }}
{{- with .Values.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Scheduling shared by the DaemonSet and the test Job: GPU nodes, their taint. */}}
{{- define "ollama-verify.scheduling" -}}
{{- if .Values.runtimeClassName }}
runtimeClassName: {{ .Values.runtimeClassName | quote }}
{{- end }}
{{- if eq .Values.ollama.mode "hostNetwork" }}
hostNetwork: true
dnsPolicy: ClusterFirstWithHostNet
{{- end }}
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions:
            - key: {{ .Values.gpuNodeLabel | quote }}
              operator: In
              values: ["true"]
  {{- with .Values.extraAffinity }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "ollama-verify.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- if .Values.hostChecks.enabled }}
# systemctl show and journalctl read root-only sockets and files of the node.
runAsUser: 0
runAsNonRoot: false
{{- else }}
runAsUser: 65534
runAsGroup: 65534
runAsNonRoot: true
{{- end }}
{{- end -}}
