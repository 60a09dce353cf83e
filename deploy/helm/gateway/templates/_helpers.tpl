{{- define "gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gateway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The name of the Secret that holds the node's secrets. */}}
{{- define "gateway.secretName" -}}
{{- default (printf "%s-secrets" (include "gateway.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
The secrets the nodes read, as a JSON list of {key, file, env}: key in the
Secret, the setting's variable. mysql_dsn is passed with secretKeyRef (it has
no _FILE variable); the others as files.
*/}}
{{- define "gateway.secretKeys" -}}
{{- $all := list
  (dict "key" "jwt_secret" "value" .Values.secrets.jwtSecret "env" "GATEWAY_JWT_SECRET")
  (dict "key" "api_key" "value" .Values.secrets.apiKey "env" "GATEWAY_API_KEY")
  (dict "key" "redis_password" "value" .Values.secrets.redisPassword "env" "GATEWAY_REDIS_PASSWORD")
  (dict "key" "ui_password" "value" .Values.secrets.uiPassword "env" "GATEWAY_UI_PASSWORD")
  (dict "key" "webhook_secret" "value" .Values.secrets.webhookSecret "env" "GATEWAY_WEBHOOK_SECRET")
  (dict "key" "mysql_dsn" "value" .Values.secrets.mysqlDsn "env" "GATEWAY_MYSQL_DSN") -}}
{{- $out := list -}}
{{- range $all -}}
{{- $present := false -}}
{{- if $.Values.secrets.existingSecret -}}
{{- $present = has .key $.Values.secrets.existingSecretKeys -}}
{{- else -}}
{{- $present = ne (toString .value) "" -}}
{{- end -}}
{{- if and (eq .key "mysql_dsn") $.Values.mysql.bundled.enabled -}}
{{- $present = false -}}
{{- end -}}
{{- if $present -}}
{{- $out = append $out (dict "key" .key "env" .env) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Checks between values that the schema cannot express. */}}
{{- define "gateway.validate" -}}
{{- $keys := list -}}
{{- range (include "gateway.secretKeys" . | fromJsonArray) -}}
{{- $keys = append $keys .key -}}
{{- end -}}
{{- if .Values.secrets.existingSecret -}}
{{- range .Values.secrets.existingSecretKeys -}}
{{- if not (has . (list "jwt_secret" "api_key" "redis_password" "ui_password" "webhook_secret" "mysql_dsn")) -}}
{{- fail (printf "secrets.existingSecretKeys: %q is none of jwt_secret, api_key, redis_password, ui_password, webhook_secret, mysql_dsn" .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $jwtKeyFile := or (hasKey .Values.settings "GATEWAY_JWT_PUBLIC_KEY_FILE") (hasKey .Values.settings "GATEWAY_JWT_JWKS_FILE") -}}
{{- if and (eq .Values.auth.mode "jwt") (not (has "jwt_secret" $keys)) (not $jwtKeyFile) -}}
{{- fail "auth.mode jwt needs a JWT secret: secrets.jwtSecret, or jwt_secret in secrets.existingSecretKeys (or GATEWAY_JWT_PUBLIC_KEY_FILE / GATEWAY_JWT_JWKS_FILE in settings)" -}}
{{- end -}}
{{- if and (not .Values.mysql.bundled.enabled) (not (has "mysql_dsn" $keys)) -}}
{{- fail "no MySQL: set secrets.mysqlDsn (or mysql_dsn in secrets.existingSecretKeys), or mysql.bundled.enabled for a trial" -}}
{{- end -}}
{{- if .Values.mysql.bundled.enabled -}}
{{- if not (regexMatch "^[A-Za-z0-9]{12,}$" (toString .Values.mysql.bundled.password)) -}}
{{- fail "mysql.bundled.password: at least 12 letters and digits" -}}
{{- end -}}
{{- end -}}
{{- if .Values.redis.bundled.enabled -}}
{{- if ne .Values.redis.mode "standalone" -}}
{{- fail "redis.bundled is one standalone server: redis.mode must be standalone" -}}
{{- end -}}
{{- else if eq .Values.redis.mode "standalone" -}}
{{- if not .Values.redis.addr -}}
{{- fail "redis.mode standalone needs redis.addr (host:port), or redis.bundled.enabled for a trial" -}}
{{- end -}}
{{- else -}}
{{- if not .Values.redis.addrs -}}
{{- fail (printf "redis.mode %s needs redis.addrs" .Values.redis.mode) -}}
{{- end -}}
{{- if and (eq .Values.redis.mode "sentinel") (not .Values.redis.masterName) -}}
{{- fail "redis.mode sentinel needs redis.masterName" -}}
{{- end -}}
{{- if and (eq .Values.redis.mode "cluster") (ne (int .Values.redis.db) 0) -}}
{{- fail "redis.mode cluster needs redis.db 0 (keep deployments apart with redis.namespace)" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.webhook.url (not (has "webhook_secret" $keys)) -}}
{{- fail "webhook.url needs a webhook secret: secrets.webhookSecret, or webhook_secret in secrets.existingSecretKeys" -}}
{{- end -}}
{{- range $name, $_ := .Values.settings -}}
{{- if has $name (list "GATEWAY_WS_DRAIN_WINDOW" "GATEWAY_SHUTDOWN_TIMEOUT") -}}
{{- fail (printf "settings.%s: set drain.* instead, from which terminationGracePeriodSeconds is derived" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
terminationGracePeriodSeconds: the preStop pause, the WebSocket drain
window, the in-flight requests' timeout, and a margin.
*/}}
{{- define "gateway.gracePeriod" -}}
{{- add .Values.drain.preStopSeconds .Values.drain.windowSeconds .Values.drain.shutdownTimeoutSeconds .Values.drain.marginSeconds -}}
{{- end -}}

{{/*
The pod template of a node; role is "api" or "worker".
*/}}
{{- define "gateway.podTemplate" -}}
{{- $ := .root -}}
{{- $role := .role -}}
{{- $v := index $.Values $role -}}
{{- $secretKeys := include "gateway.secretKeys" $ | fromJsonArray -}}
{{- $files := list -}}
{{- range $secretKeys -}}
{{- if ne .key "mysql_dsn" -}}
{{- $files = append $files .key -}}
{{- end -}}
{{- end -}}
metadata:
  labels:
    {{- include "gateway.selectorLabels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $role }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") $ | sha256sum }}
    {{- if not $.Values.secrets.existingSecret }}
    checksum/secrets: {{ include (print $.Template.BasePath "/secret.yaml") $ | sha256sum }}
    {{- end }}
    {{- if and $.Values.metrics.port $.Values.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $.Values.metrics.port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "gateway.serviceAccountName" $ }}
  automountServiceAccountToken: {{ $.Values.serviceAccount.automountToken }}
  terminationGracePeriodSeconds: {{ include "gateway.gracePeriod" $ }}
  {{- with $.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $.Values.podSecurityContext | nindent 4 }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if eq $role "api" }}
  {{- if eq $v.podAntiAffinity "soft" }}
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          podAffinityTerm:
            topologyKey: kubernetes.io/hostname
            labelSelector:
              matchLabels:
                {{- include "gateway.selectorLabels" $ | nindent 16 }}
                app.kubernetes.io/component: api
  {{- else if eq $v.podAntiAffinity "hard" }}
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        - topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "gateway.selectorLabels" $ | nindent 14 }}
              app.kubernetes.io/component: api
  {{- end }}
  {{- if $v.topologySpread.enabled }}
  topologySpreadConstraints:
    - maxSkew: {{ $v.topologySpread.maxSkew }}
      topologyKey: {{ $v.topologySpread.topologyKey }}
      whenUnsatisfiable: {{ $v.topologySpread.whenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "gateway.selectorLabels" $ | nindent 10 }}
          app.kubernetes.io/component: api
  {{- end }}
  {{- end }}
  containers:
    - name: gateway
      image: {{ include "gateway.image" $ }}
      imagePullPolicy: {{ $.Values.image.pullPolicy }}
      # Every setting from the environment: no -config file.
      args: ["serve"]
      envFrom:
        - configMapRef:
            name: {{ include "gateway.fullname" $ }}
      env:
        {{- if eq $role "worker" }}
        - name: GATEWAY_API_ENABLED
          value: "false"
        - name: GATEWAY_WORKER_ENABLED
          value: "true"
        {{- else }}
        - name: GATEWAY_API_ENABLED
          value: "true"
        - name: GATEWAY_WORKER_ENABLED
          value: {{ not $.Values.worker.enabled | quote }}
        {{- end }}
        {{- range $secretKeys }}
        {{- if ne .key "mysql_dsn" }}
        - name: {{ .env }}_FILE
          value: /secrets/{{ .key }}
        {{- end }}
        {{- end }}
        - name: GATEWAY_MYSQL_DSN
          valueFrom:
            secretKeyRef:
              {{- if $.Values.mysql.bundled.enabled }}
              name: {{ include "gateway.fullname" $ }}-bundled
              {{- else }}
              name: {{ include "gateway.secretName" $ }}
              {{- end }}
              key: mysql_dsn
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        - name: grpc
          containerPort: 9000
          protocol: TCP
        {{- if $.Values.metrics.port }}
        - name: metrics
          containerPort: {{ $.Values.metrics.port }}
          protocol: TCP
        {{- end }}
      # Until the node listens: it migrates the database at start.
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 5
        failureThreshold: 60
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      # 503 while MySQL, Redis or the pub/sub probe fails, and once SIGTERM
      # has started the drain.
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 2
      {{- if $.Values.drain.preStopSeconds }}
      lifecycle:
        # Endpoints and the ingress drop the pod while it still serves; then
        # SIGTERM starts the drain.
        preStop:
          exec:
            command: ["sleep", "{{ $.Values.drain.preStopSeconds }}"]
      {{- end }}
      resources:
        {{- toYaml $v.resources | nindent 8 }}
      securityContext:
        {{- toYaml $.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $files }}
        - name: secrets
          mountPath: /secrets
          readOnly: true
        {{- end }}
        {{- with $.Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- if $files }}
    - name: secrets
      secret:
        secretName: {{ include "gateway.secretName" $ }}
        defaultMode: 0440
        items:
          {{- range $files }}
          - key: {{ . }}
            path: {{ . }}
          {{- end }}
    {{- end }}
    {{- with $.Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
