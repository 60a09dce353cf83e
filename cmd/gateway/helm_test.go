package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/houseview/gateway/cmd/gateway/settings"
)

// The chart is rendered with this Helm, built by the go command (cached
// after the first build); there is no cluster here, so every object it
// renders is decoded strictly into its API type instead.
const (
	helmModule = "helm.sh/helm/v4/cmd/helm@v4.3.2"
	chartDir   = "../../deploy/helm/gateway"
)

var (
	helmBuild    sync.Once
	helmBuildErr error
)

// helmCmd runs helm with args; it skips the test when there is no go
// command to build helm with.
func helmCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command: helm is built with `go run " + helmModule + "`")
	}
	// Build helm once before the parallel subtests run it (a cold cache
	// takes minutes; later runs take the cached binary).
	helmBuild.Do(func() {
		out, err := exec.Command(goCmd, "run", helmModule, "version").CombinedOutput()
		if err != nil {
			helmBuildErr = fmt.Errorf("go run %s version: %v\n%s", helmModule, err, out)
		}
	})
	if helmBuildErr != nil {
		t.Fatal(helmBuildErr)
	}
	home := t.TempDir()
	cmd := exec.Command(goCmd, append([]string{"run", helmModule}, args...)...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// helmTemplate renders the chart with the values (YAML) as release "gw".
func helmTemplate(t *testing.T, values string) (string, error) {
	t.Helper()
	// Not t.TempDir(): helm splits -f at commas, which subtest names have.
	dir, err := os.MkdirTemp("", "helm-values")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(f, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return helmCmd(t, "template", "gw", chartDir, "--namespace", "gateway", "-f", f)
}

// rendered is a chart's output, each object decoded into its type.
type rendered struct {
	raw             string
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	services        map[string]*corev1.Service
	deployments     map[string]*appsv1.Deployment
	statefulSets    map[string]*appsv1.StatefulSet
	pdbs            map[string]*policyv1.PodDisruptionBudget
	ingresses       map[string]*networkingv1.Ingress
	serviceMonitors map[string]*monitoringv1.ServiceMonitor
	rules           map[string]*monitoringv1.PrometheusRule
	accounts        map[string]*corev1.ServiceAccount
	metas           []map[string]string // every object's labels and annotations
}

// decodeStrict decodes the YAML document into out: duplicate keys and
// fields that out's type does not have are errors.
func decodeStrict(doc []byte, out any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

// decodeAll splits helm's output into objects and decodes each one
// strictly, by apiVersion and kind, into its k8s.io/api type (the
// prometheus-operator's for its two kinds). An unknown kind is an error.
func decodeAll(t *testing.T, out string) *rendered {
	t.Helper()
	r := &rendered{raw: out, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		services: map[string]*corev1.Service{}, deployments: map[string]*appsv1.Deployment{},
		statefulSets: map[string]*appsv1.StatefulSet{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		ingresses: map[string]*networkingv1.Ingress{}, serviceMonitors: map[string]*monitoringv1.ServiceMonitor{},
		rules: map[string]*monitoringv1.PrometheusRule{}, accounts: map[string]*corev1.ServiceAccount{}}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("a rendered document is not YAML: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) != "" {
				t.Fatalf("a rendered document has no kind:\n%s", doc)
			}
			continue
		}
		var obj any
		name := head.Metadata.Name
		switch head.APIVersion + " " + head.Kind {
		case "v1 ConfigMap":
			o := &corev1.ConfigMap{}
			r.configMaps[name], obj = o, o
		case "v1 Secret":
			o := &corev1.Secret{}
			r.secrets[name], obj = o, o
		case "v1 Service":
			o := &corev1.Service{}
			r.services[name], obj = o, o
		case "v1 ServiceAccount":
			o := &corev1.ServiceAccount{}
			r.accounts[name], obj = o, o
		case "apps/v1 Deployment":
			o := &appsv1.Deployment{}
			r.deployments[name], obj = o, o
		case "apps/v1 StatefulSet":
			o := &appsv1.StatefulSet{}
			r.statefulSets[name], obj = o, o
		case "policy/v1 PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			r.pdbs[name], obj = o, o
		case "networking.k8s.io/v1 Ingress":
			o := &networkingv1.Ingress{}
			r.ingresses[name], obj = o, o
		case "monitoring.coreos.com/v1 ServiceMonitor":
			o := &monitoringv1.ServiceMonitor{}
			r.serviceMonitors[name], obj = o, o
		case "monitoring.coreos.com/v1 PrometheusRule":
			o := &monitoringv1.PrometheusRule{}
			r.rules[name], obj = o, o
		default:
			t.Fatalf("rendered %s %s %q: a kind this test does not decode", head.APIVersion, head.Kind, name)
		}
		if err := decodeStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s %q does not decode strictly into its API type: %v\n%s", head.Kind, name, err, doc)
		}
		var meta struct {
			Metadata struct {
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		_ = yaml.Unmarshal([]byte(doc), &meta)
		r.metas = append(r.metas, meta.Metadata.Labels, meta.Metadata.Annotations)
	}
	return r
}

// secretData is the content of key in the Secret name: rendered by the
// chart, or else one of the case's existing Secrets.
func secretData(t *testing.T, r *rendered, existing map[string]map[string]string, name, key string) string {
	t.Helper()
	if s, ok := r.secrets[name]; ok {
		v, ok := s.Data[key]
		if !ok {
			t.Fatalf("Secret %s has no key %s", name, key)
		}
		return string(v)
	}
	v, ok := existing[name][key]
	if !ok {
		t.Fatalf("the pods read key %s of Secret %s, which neither the chart renders nor the case provides", key, name)
	}
	return v
}

// nodeEnv is what the node in pod would see: its ConfigMap (envFrom), its
// env with secretKeyRef resolved, and the files of its secret volume
// written to dir (the _FILE variables pointed at them). It also returns
// the names of the GATEWAY_* variables and their plain values.
func nodeEnv(t *testing.T, r *rendered, existing map[string]map[string]string, pod corev1.PodTemplateSpec, dir string) (env map[string]string, names []string) {
	t.Helper()
	env = map[string]string{}
	c := pod.Spec.Containers[0]
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Fatalf("envFrom %+v: only ConfigMaps are expected", from)
		}
		cm, ok := r.configMaps[from.ConfigMapRef.Name]
		if !ok {
			t.Fatalf("envFrom names ConfigMap %s, which is not rendered", from.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			env[k] = v
			names = append(names, k)
		}
	}
	// The secret volume's files, by mount path.
	files := map[string]string{}
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			for _, it := range v.Secret.Items {
				files[filepath.Join(m.MountPath, it.Path)] = secretData(t, r, existing, v.Secret.SecretName, it.Key)
			}
		}
	}
	for _, e := range c.Env {
		names = append(names, e.Name)
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = secretData(t, r, existing, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
		case e.ValueFrom != nil:
			t.Fatalf("env %s: only values and secretKeyRefs are expected", e.Name)
		case strings.HasSuffix(e.Name, "_FILE") && strings.HasPrefix(e.Value, "/secrets/"):
			content, ok := files[e.Value]
			if !ok {
				t.Fatalf("%s=%s: no file of a secret volume is mounted there", e.Name, e.Value)
			}
			p := filepath.Join(dir, filepath.Base(e.Value))
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			env[e.Name] = p
		default:
			env[e.Name] = e.Value
		}
	}
	return env, names
}

// helmCase is one set of values and what the nodes' configuration must be.
type helmCase struct {
	name     string
	values   string
	existing map[string]map[string]string // Secrets the operator created
	secrets  []string                     // secret values given in the values
	check    func(t *testing.T, r *rendered, cfgs map[string]*settings.Config)
}

const (
	helmJWT     = "jwt-secret-0123456789abcdef0123456789abcdef"
	helmAPIKey  = "api-key-0123456789abcdef"
	helmDSN     = "gw:dsn-password-0123@tcp(mysql.db:3306)/house_gateway?charset=utf8mb4&parseTime=true&loc=UTC"
	helmRedisPW = "redis-password-0123456789"
	helmUIPW    = "ui-password-0123456789"
	helmHook    = "webhook-secret-0123456789abcdef0123456789"
	helmDBPW    = "BundledPassword0123"
)

// secretValues are the values of the chart-created Secret.
const secretValues = `
secrets:
  jwtSecret: ` + helmJWT + `
  apiKey: ` + helmAPIKey + `
  mysqlDsn: "` + helmDSN + `"
`

var helmCases = []helmCase{
	{
		name: "standalone",
		values: secretValues + `
redis:
  addr: redis.db:6379
ui:
  prometheusAddr: http://prometheus.monitoring:9090
http:
  trustedProxies: 10.0.0.0/8
settings:
  GATEWAY_HISTORY_SIZE: 200
  GATEWAY_LOG_FORMAT: json
`,
		secrets: []string{helmJWT, helmAPIKey, helmDSN, "dsn-password-0123"},
		check: func(t *testing.T, r *rendered, cfgs map[string]*settings.Config) {
			cfg := cfgs["gw-gateway"]
			if cfg.Redis.Mode != "standalone" || cfg.Redis.Addr != "redis.db:6379" || cfg.MySQL.DSN != helmDSN ||
				cfg.Auth.Mode != "jwt" || cfg.JWT.Secret != helmJWT || cfg.APIKey != helmAPIKey ||
				cfg.History.Size != 200 || !cfg.API.Enabled || !cfg.Worker.Enabled || cfg.MySQL.SeedDemo {
				t.Errorf("node configuration: %+v", cfg)
			}
			if len(cfgs) != 1 || len(r.ingresses) != 0 || len(r.statefulSets) != 0 {
				t.Errorf("defaults: %d node Deployments, %d ingresses, %d StatefulSets; want 1, 0, 0", len(cfgs), len(r.ingresses), len(r.statefulSets))
			}
			if *r.deployments["gw-gateway"].Spec.Replicas != 3 {
				t.Errorf("replicas %d, want 3", *r.deployments["gw-gateway"].Spec.Replicas)
			}
		},
	},
	{
		name: "sentinel",
		values: secretValues + `
  redisPassword: ` + helmRedisPW + `
redis:
  mode: sentinel
  addrs: [sentinel-0.sentinel:26379, sentinel-1.sentinel:26379, sentinel-2.sentinel:26379]
  masterName: mymaster
  db: 2
api:
  replicas: 5
  podAntiAffinity: hard
  topologySpread:
    enabled: true
`,
		secrets: []string{helmJWT, helmAPIKey, helmDSN, helmRedisPW},
		check: func(t *testing.T, r *rendered, cfgs map[string]*settings.Config) {
			cfg := cfgs["gw-gateway"]
			if cfg.Redis.Mode != "sentinel" || len(cfg.Redis.Addrs) != 3 || cfg.Redis.MasterName != "mymaster" ||
				cfg.Redis.DB != 2 || cfg.Redis.Password != helmRedisPW {
				t.Errorf("redis: %+v", cfg.Redis)
			}
			spec := r.deployments["gw-gateway"].Spec.Template.Spec
			if spec.Affinity == nil || spec.Affinity.PodAntiAffinity == nil ||
				len(spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 || len(spec.TopologySpreadConstraints) != 1 {
				t.Errorf("hard anti-affinity and topology spread asked for: %+v %+v", spec.Affinity, spec.TopologySpreadConstraints)
			}
		},
	},
	{
		name: "cluster with workers",
		values: secretValues + `
redis:
  mode: cluster
  addrs: [redis-c1:6379, redis-c2:6379, redis-c3:6379]
  namespace: gwprod
worker:
  enabled: true
  replicas: 2
  concurrency: 40
drain:
  preStopSeconds: 3
  windowSeconds: 30
  shutdownTimeoutSeconds: 25
  marginSeconds: 5
`,
		secrets: []string{helmJWT, helmAPIKey, helmDSN},
		check: func(t *testing.T, r *rendered, cfgs map[string]*settings.Config) {
			api, worker := cfgs["gw-gateway"], cfgs["gw-gateway-worker"]
			if api == nil || worker == nil {
				t.Fatalf("want the API and the worker Deployments, got %v", slices.Collect(maps.Keys(cfgs)))
			}
			if !api.API.Enabled || api.Worker.Enabled || worker.API.Enabled || !worker.Worker.Enabled || worker.Worker.Concurrency != 40 {
				t.Errorf("roles: api node api=%v worker=%v; worker node api=%v worker=%v concurrency %d",
					api.API.Enabled, api.Worker.Enabled, worker.API.Enabled, worker.Worker.Enabled, worker.Worker.Concurrency)
			}
			if api.Redis.Mode != "cluster" || len(api.Redis.Addrs) != 3 || api.Redis.Namespace != "gwprod" || api.Redis.DB != 0 {
				t.Errorf("redis: %+v", api.Redis)
			}
			if api.WS.DrainWindow != 30*time.Second || api.Shutdown.Timeout != 25*time.Second {
				t.Errorf("drain %s, shutdown %s; want the values' 30s and 25s", api.WS.DrainWindow, api.Shutdown.Timeout)
			}
			if g := *r.deployments["gw-gateway"].Spec.Template.Spec.TerminationGracePeriodSeconds; g != 63 {
				t.Errorf("terminationGracePeriodSeconds %d, want 3+30+25+5", g)
			}
			if _, ok := r.pdbs["gw-gateway-worker"]; !ok {
				t.Error("no PodDisruptionBudget of the workers")
			}
			// Worker pods are not behind the API Services.
			workerPods := labels.Set(r.deployments["gw-gateway-worker"].Spec.Template.Labels)
			for _, name := range []string{"gw-gateway", "gw-gateway-grpc"} {
				if labels.SelectorFromSet(r.services[name].Spec.Selector).Matches(workerPods) {
					t.Errorf("Service %s selects the worker pods", name)
				}
			}
		},
	},
	{
		name: "jwt with an existing secret, ingress, webhook",
		values: `
secrets:
  existingSecret: gateway-secrets
  existingSecretKeys: [jwt_secret, api_key, ui_password, webhook_secret, mysql_dsn]
redis:
  addr: redis.db:6379
webhook:
  url: https://platform.example.com/hooks/gateway
ingress:
  enabled: true
  className: nginx
  host: push.example.com
  tls:
    - secretName: push-tls
      hosts: [push.example.com]
`,
		existing: map[string]map[string]string{"gateway-secrets": {"jwt_secret": helmJWT, "api_key": helmAPIKey,
			"ui_password": helmUIPW, "webhook_secret": helmHook, "mysql_dsn": helmDSN}},
		secrets: []string{helmJWT, helmAPIKey, helmUIPW, helmHook, helmDSN},
		check: func(t *testing.T, r *rendered, cfgs map[string]*settings.Config) {
			if len(r.secrets) != 0 {
				t.Errorf("with existingSecret the chart renders Secrets %v", slices.Collect(maps.Keys(r.secrets)))
			}
			cfg := cfgs["gw-gateway"]
			if cfg.UI.Password != helmUIPW || cfg.Webhook.Secret != helmHook || cfg.Webhook.URL == "" || cfg.JWT.Secret != helmJWT {
				t.Errorf("secrets from the existing Secret: ui %q webhook %q %q jwt %q", cfg.UI.Password, cfg.Webhook.URL, cfg.Webhook.Secret, cfg.JWT.Secret)
			}
			ing, ok := r.ingresses["gw-gateway"]
			if !ok {
				t.Fatal("no Ingress")
			}
			if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" || len(ing.Spec.Rules) != 1 ||
				ing.Spec.Rules[0].Host != "push.example.com" || len(ing.Spec.TLS) != 1 {
				t.Errorf("ingress class, host or tls: %+v", ing.Spec)
			}
			for _, a := range []string{"nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout"} {
				if n, err := strconv.Atoi(ing.Annotations[a]); err != nil || n < 3600 {
					t.Errorf("ingress %s = %q: WebSockets need at least an hour", a, ing.Annotations[a])
				}
			}
			// Everything, /ws and /asynq/ included, goes to the HTTP Service's port.
			for _, p := range ing.Spec.Rules[0].HTTP.Paths {
				b := p.Backend.Service
				svc, ok := r.services[b.Name]
				if !ok || p.Path != "/" || !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == b.Port.Name && sp.Port == 8080 }) {
					t.Errorf("ingress path %s -> %s:%s: not the HTTP Service's port 8080", p.Path, b.Name, b.Port.Name)
				}
			}
		},
	},
	{
		name: "bundled databases, monitoring",
		values: `
secrets:
  jwtSecret: ` + helmJWT + `
  apiKey: ` + helmAPIKey + `
mysql:
  seedDemo: true
  bundled:
    enabled: true
    password: ` + helmDBPW + `
redis:
  bundled:
    enabled: true
metrics:
  serviceMonitor:
    enabled: true
    labels: {release: prometheus}
  prometheusRule:
    enabled: true
`,
		secrets: []string{helmJWT, helmAPIKey, helmDBPW},
		check: func(t *testing.T, r *rendered, cfgs map[string]*settings.Config) {
			cfg := cfgs["gw-gateway"]
			mysqlSS, redisSS := r.statefulSets["gw-gateway-mysql"], r.statefulSets["gw-gateway-redis"]
			if mysqlSS == nil || redisSS == nil {
				t.Fatalf("bundled StatefulSets: %v", slices.Collect(maps.Keys(r.statefulSets)))
			}
			if img := mysqlSS.Spec.Template.Spec.Containers[0].Image; img != "mariadb:10.11" {
				t.Errorf("bundled MySQL image %s", img)
			}
			if img := redisSS.Spec.Template.Spec.Containers[0].Image; img != "redis:7" {
				t.Errorf("bundled Redis image %s", img)
			}
			if !strings.Contains(cfg.MySQL.DSN, "gateway:"+helmDBPW+"@tcp(gw-gateway-mysql:3306)/house_gateway") || !cfg.MySQL.SeedDemo {
				t.Errorf("DSN %q (seed %v): not the bundled MariaDB's Service", cfg.MySQL.DSN, cfg.MySQL.SeedDemo)
			}
			if cfg.Redis.Addr != "gw-gateway-redis:6379" {
				t.Errorf("redis.addr %q: not the bundled Redis's Service", cfg.Redis.Addr)
			}
			for _, svc := range []string{"gw-gateway-mysql", "gw-gateway-redis"} {
				s, ok := r.services[svc]
				ss := r.statefulSets[svc]
				if !ok || ss.Spec.ServiceName != svc || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(ss.Spec.Template.Labels)) {
					t.Errorf("Service %s does not select its StatefulSet", svc)
				}
			}
			if strings.Count(r.raw, "NOT FOR PRODUCTION") < 2 {
				t.Error("the bundled databases are not marked NOT FOR PRODUCTION")
			}
			// The metrics Service: every node's metrics port, not the databases.
			ms := r.services["gw-gateway-metrics"]
			if ms == nil || len(ms.Spec.Ports) != 1 || ms.Spec.Ports[0].Name != "metrics" {
				t.Fatalf("metrics Service: %+v", ms)
			}
			if _, port, _ := net.SplitHostPort(cfg.Metrics.Addr); port != strconv.Itoa(int(ms.Spec.Ports[0].Port)) {
				t.Errorf("metrics.addr %q, Service port %d", cfg.Metrics.Addr, ms.Spec.Ports[0].Port)
			}
			sel := labels.SelectorFromSet(ms.Spec.Selector)
			if !sel.Matches(labels.Set(r.deployments["gw-gateway"].Spec.Template.Labels)) ||
				sel.Matches(labels.Set(mysqlSS.Spec.Template.Labels)) || sel.Matches(labels.Set(redisSS.Spec.Template.Labels)) {
				t.Error("the metrics Service must select the nodes and only them")
			}
			sm := r.serviceMonitors["gw-gateway"]
			if sm == nil || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" ||
				!labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(ms.Labels)) || sm.Labels["release"] != "prometheus" {
				t.Errorf("ServiceMonitor does not scrape the metrics Service: %+v", sm)
			}
			// The alert rules name job="gateway": the ServiceMonitor sets it.
			if rl := sm.Spec.Endpoints[0].RelabelConfigs; len(rl) != 1 || rl[0].TargetLabel != "job" || rl[0].Replacement == nil || *rl[0].Replacement != "gateway" {
				t.Errorf("ServiceMonitor relabelings %+v: want job=gateway", rl)
			}
			pr := r.rules["gw-gateway"]
			var want monitoringv1.PrometheusRuleSpec
			b, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
			if err != nil {
				t.Fatal(err)
			}
			if err := decodeStrict(b, &want); err != nil {
				t.Fatalf("deploy/prometheus/alerts.yml as a PrometheusRule spec: %v", err)
			}
			if pr == nil || len(want.Groups) == 0 || !reflect.DeepEqual(pr.Spec, want) {
				t.Error("the PrometheusRule is not deploy/prometheus/alerts.yml")
			}
			pod := r.deployments["gw-gateway"].Spec.Template
			if pod.Annotations["prometheus.io/scrape"] != "true" || pod.Annotations["prometheus.io/port"] != "9100" {
				t.Errorf("scrape annotations: %v", pod.Annotations)
			}
		},
	},
	{
		name: "insecure, no metrics port, no preStop",
		values: `
auth:
  mode: insecure
secrets:
  mysqlDsn: "` + helmDSN + `"
redis:
  addr: redis.db:6379
metrics:
  port: 0
drain:
  preStopSeconds: 0
  windowSeconds: 10
  shutdownTimeoutSeconds: 20
  marginSeconds: 10
`,
		secrets: []string{helmDSN},
		check: func(t *testing.T, r *rendered, cfgs map[string]*settings.Config) {
			cfg := cfgs["gw-gateway"]
			if cfg.Auth.Mode != "insecure" || cfg.Metrics.Addr != "" {
				t.Errorf("auth %q, metrics.addr %q", cfg.Auth.Mode, cfg.Metrics.Addr)
			}
			if _, ok := r.services["gw-gateway-metrics"]; ok {
				t.Error("a metrics Service without a metrics port")
			}
			pod := r.deployments["gw-gateway"].Spec.Template
			if pod.Spec.Containers[0].Lifecycle != nil || len(pod.Spec.Volumes) != 1 {
				t.Errorf("no preStop and no secret files expected: %+v %+v", pod.Spec.Containers[0].Lifecycle, pod.Spec.Volumes)
			}
		},
	},
}

// TestHelmChart renders the chart for each case and decodes every object
// strictly; then checks the nodes' probes, drain timing, security context,
// Services, that every GATEWAY_* variable is a setting and that the
// configuration a node would read from its ConfigMap, env and secret files
// is valid, and that no secret value is in a ConfigMap, a plain env value,
// an argument, a label or an annotation.
func TestHelmChart(t *testing.T) {
	known := map[string]bool{}
	for _, n := range EnvNames() {
		known[n] = true
	}
	var mu sync.Mutex
	emitted := map[string]bool{} // variables the chart sets (not through settings)
	t.Run("cases", func(t *testing.T) {
		for _, tc := range helmCases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				out, err := helmTemplate(t, tc.values)
				if err != nil {
					t.Fatal(err)
				}
				r := decodeAll(t, out)
				var userSettings map[string]any
				var vals struct {
					Settings map[string]any `json:"settings"`
				}
				if err := yaml.Unmarshal([]byte(tc.values), &vals); err != nil {
					t.Fatal(err)
				}
				userSettings = vals.Settings
				// The chart's own values.yaml has settings too.
				defaults, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				vals.Settings = nil
				if err := yaml.Unmarshal(defaults, &vals); err != nil {
					t.Fatal(err)
				}
				if userSettings == nil {
					userSettings = map[string]any{}
				}
				maps.Copy(userSettings, vals.Settings)

				secretVals := slices.Clone(tc.secrets)
				for _, s := range r.secrets {
					for _, v := range s.Data {
						secretVals = append(secretVals, string(v))
					}
				}
				noSecret := func(where, s string) {
					for _, sv := range secretVals {
						if sv != "" && strings.Contains(s, sv) {
							t.Errorf("%s holds a secret value (%.6s...)", where, sv)
						}
					}
				}
				for name, cm := range r.configMaps {
					for k, v := range cm.Data {
						noSecret("ConfigMap "+name+" "+k, v)
					}
				}
				for _, m := range r.metas {
					for k, v := range m {
						noSecret("label or annotation "+k, v)
					}
				}

				if len(r.deployments) == 0 {
					t.Fatal("no Deployment")
				}
				cfgs := map[string]*settings.Config{}
				for name, d := range r.deployments {
					pod := d.Spec.Template
					if !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(labels.Set(pod.Labels)) {
						t.Errorf("%s: selector does not match its pods", name)
					}
					spec := pod.Spec
					if len(spec.Containers) != 1 {
						t.Fatalf("%s: %d containers, want 1", name, len(spec.Containers))
					}
					c := spec.Containers[0]
					for _, e := range c.Env {
						if e.ValueFrom == nil {
							noSecret(name+" env "+e.Name, e.Value)
						}
					}
					for _, a := range append(slices.Clone(c.Args), c.Command...) {
						noSecret(name+" args", a)
					}
					env, names := nodeEnv(t, r, tc.existing, pod, t.TempDir())
					for _, n := range names {
						if !strings.HasPrefix(n, "GATEWAY_") {
							t.Errorf("%s sets %s: every variable is a GATEWAY_* setting", name, n)
							continue
						}
						if !known[n] {
							t.Errorf("%s sets %s, which the gateway does not read (config/reference.yaml)", name, n)
						}
						if _, ok := userSettings[n]; !ok {
							mu.Lock()
							emitted[n] = true
							mu.Unlock()
						}
					}
					cfg, err := settings.Load("", func(k string) string { return env[k] })
					if err != nil {
						t.Fatalf("%s: the node's configuration does not load: %v", name, err)
					}
					cfgs[name] = cfg

					// Ports and probes.
					ports := map[string]int32{}
					for _, p := range c.Ports {
						ports[p.Name] = p.ContainerPort
					}
					_, httpPort, _ := net.SplitHostPort(cfg.HTTP.Addr)
					_, grpcPort, _ := net.SplitHostPort(cfg.GRPC.Addr)
					if strconv.Itoa(int(ports["http"])) != httpPort || strconv.Itoa(int(ports["grpc"])) != grpcPort || httpPort != "8080" || grpcPort != "9000" {
						t.Errorf("%s: container ports %v, node listens on %s and %s", name, ports, cfg.HTTP.Addr, cfg.GRPC.Addr)
					}
					if cfg.Metrics.Addr != "" {
						if _, mp, _ := net.SplitHostPort(cfg.Metrics.Addr); strconv.Itoa(int(ports["metrics"])) != mp {
							t.Errorf("%s: metrics port %d, metrics.addr %s", name, ports["metrics"], cfg.Metrics.Addr)
						}
					}
					probe := func(what string, p *corev1.Probe, path string) {
						if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
							t.Errorf("%s: %s probe %+v, want GET %s on port http", name, what, p, path)
						}
					}
					probe("readiness", c.ReadinessProbe, "/readyz")
					probe("liveness", c.LivenessProbe, "/healthz")
					probe("startup", c.StartupProbe, "/healthz")

					// Drain: the grace period covers the preStop pause, the drain
					// window and the shutdown timeout, as the node reads them.
					var preStop time.Duration
					if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
						cmd := c.Lifecycle.PreStop.Exec.Command
						n, err := strconv.Atoi(cmd[len(cmd)-1])
						if cmd[0] != "sleep" || err != nil {
							t.Errorf("%s: preStop %v, want sleep N", name, cmd)
						}
						preStop = time.Duration(n) * time.Second
					}
					grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
					if need := preStop + cfg.WS.DrainWindow + cfg.Shutdown.Timeout; grace <= need {
						t.Errorf("%s: terminationGracePeriodSeconds %s, not more than preStop %s + ws.drain_window %s + shutdown.timeout %s",
							name, grace, preStop, cfg.WS.DrainWindow, cfg.Shutdown.Timeout)
					}

					// Non-root, as the image.
					psc, sc := spec.SecurityContext, c.SecurityContext
					if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
						sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
						sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
						t.Errorf("%s: security context %+v / %+v", name, psc, sc)
					}
					if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
						t.Errorf("%s: no memory request or limit", name)
					}
					if spec.ServiceAccountName != "" {
						if _, ok := r.accounts[spec.ServiceAccountName]; !ok {
							t.Errorf("%s: service account %s is not rendered", name, spec.ServiceAccountName)
						}
					}
				}

				// The API Services select the API pods, on their named ports.
				api := r.deployments["gw-gateway"]
				if api == nil {
					t.Fatal("no API Deployment gw-gateway")
				}
				apiPods := labels.Set(api.Spec.Template.Labels)
				for svc, want := range map[string]corev1.ServicePort{"gw-gateway": {Name: "http", Port: 8080}, "gw-gateway-grpc": {Name: "grpc", Port: 9000}} {
					s, ok := r.services[svc]
					if !ok {
						t.Errorf("no Service %s", svc)
						continue
					}
					if !labels.SelectorFromSet(s.Spec.Selector).Matches(apiPods) || len(s.Spec.Ports) != 1 {
						t.Errorf("Service %s does not select the API pods or has other ports", svc)
						continue
					}
					p := s.Spec.Ports[0]
					if p.Name != want.Name || p.Port != want.Port || p.TargetPort.String() != want.Name || p.AppProtocol == nil || *p.AppProtocol != want.Name {
						t.Errorf("Service %s port %+v, want %s %d appProtocol %s", svc, p, want.Name, want.Port, want.Name)
					}
				}
				pdb := r.pdbs["gw-gateway"]
				if pdb == nil || !labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(apiPods) || pdb.Spec.MaxUnavailable == nil {
					t.Errorf("PodDisruptionBudget of the API nodes: %+v", pdb)
				}
				tc.check(t, r, cfgs)
			})
		}
	})

	// The values' settings map accepts exactly the variables that the chart
	// does not set itself and that are not secrets.
	if t.Failed() {
		return
	}
	var schema struct {
		Properties struct {
			Settings struct {
				PropertyNames struct {
					Enum []string `json:"enum"`
				} `json:"propertyNames"`
			} `json:"settings"`
		} `json:"properties"`
	}
	b, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range EnvNames() {
		base := strings.TrimSuffix(n, "_FILE")
		secret := known[base+"_FILE"] && base != "GATEWAY_JWT_PUBLIC_KEY" && base != "GATEWAY_JWT_JWKS"
		if !emitted[n] && !secret {
			want = append(want, n)
		}
	}
	got := slices.Sorted(slices.Values(schema.Properties.Settings.PropertyNames.Enum))
	if !slices.Equal(got, want) {
		t.Errorf("values.schema.json: settings.propertyNames.enum must list every setting's variable except the secrets and those the chart sets:\n got %v\nwant %v", got, want)
	}
}

// TestHelmChartRefuses: values that would make nodes that cannot start, or
// that would put a secret or an unknown variable in the ConfigMap, fail
// the rendering with a message naming the value.
func TestHelmChartRefuses(t *testing.T) {
	for _, tc := range []struct{ values, want string }{
		{"secrets: {mysqlDsn: x}\nredis: {addr: r:6379}\n", "auth.mode jwt needs a JWT secret"},
		{"secrets: {jwtSecret: " + helmJWT + "}\nredis: {addr: r:6379}\n", "no MySQL"},
		{secretValues + "redis: {mode: sentinel, addrs: [s:26379]}\n", "redis.masterName"},
		{secretValues + "redis: {mode: cluster, addrs: [c:6379], db: 1}\n", "redis.db 0"},
		{secretValues + "redis: {mode: cluster, addrs: [c:6379], bundled: {enabled: true}}\n", "redis.bundled"},
		{secretValues + "redis: {addr: r:6379}\nwebhook: {url: 'https://x.example.com/h'}\n", "webhook.url needs a webhook secret"},
		{secretValues + "redis: {addr: r:6379}\nmysql: {bundled: {enabled: true, password: short}}\n", "mysql.bundled.password"},
		{secretValues + "redis: {addr: r:6379}\nsettings: {GATEWAY_WS_DRAIN_WINDOW: 5s}\n", "GATEWAY_WS_DRAIN_WINDOW"},
		{secretValues + "redis: {addr: r:6379}\nsettings: {GATEWAY_JWT_SECRET: x}\n", "GATEWAY_JWT_SECRET"},
		{secretValues + "redis: {addr: r:6379}\nsettings: {GATEWAY_NO_SUCH_SETTING: x}\n", "GATEWAY_NO_SUCH_SETTING"},
		{secretValues + "redis: {addr: r:6379}\nauth: {mode: jwtt}\n", "auth"},
		{"secrets: {existingSecret: s, existingSecretKeys: [jwt_secret, mysql_dns]}\nredis: {addr: r:6379}\n", "existingSecretKeys"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			out, err := helmTemplate(t, tc.values)
			if err == nil {
				t.Fatalf("values %q rendered:\n%.300s", tc.values, out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("values %q: error does not name %q:\n%v", tc.values, tc.want, err)
			}
		})
	}
}

// TestHelmChartLint: helm lint --strict (offline) accepts the chart, and
// files/alerts.yml is deploy/prometheus/alerts.yml.
func TestHelmChartLint(t *testing.T) {
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(secretValues+"redis: {addr: r:6379}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := helmCmd(t, "lint", "--strict", chartDir, "-f", f); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(out, "0 chart(s) failed") {
		t.Errorf("helm lint:\n%s", out)
	}
	a, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(chartDir, "files/alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("deploy/helm/gateway/files/alerts.yml differs from deploy/prometheus/alerts.yml: cp deploy/prometheus/alerts.yml deploy/helm/gateway/files/")
	}
}
