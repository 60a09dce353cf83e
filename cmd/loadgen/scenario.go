package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// scenarioConfig is a scenario's settings and how to run it.
type scenarioConfig interface {
	register(fs *flag.FlagSet)
	check() error
	run(ctx context.Context, o *orch) (scenarioReport, error)
}

// scenarios are the measurements of the tool, by command name.
var scenarios = map[string]func() scenarioConfig{
	"ramp":      func() scenarioConfig { return &rampConfig{} },
	"fixed":     func() scenarioConfig { return &fixedConfig{} },
	"idle":      func() scenarioConfig { return &idleConfig{} },
	"footprint": func() scenarioConfig { return &footprintConfig{} },
	"reserve":   func() scenarioConfig { return &reserveConfig{} },
	"soak":      func() scenarioConfig { return &soakConfig{} },
}

// parseScenario parses the flags of scenario name.
func parseScenario(name string, args []string, getenv func(string) string, stdout io.Writer) (commonConfig, scenarioConfig, *flag.FlagSet, error) {
	var common commonConfig
	sc := scenarios[name]()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	common.register(fs, getenv)
	sc.register(fs)
	if err := fs.Parse(args); err != nil {
		return common, nil, nil, err
	}
	if fs.NArg() > 0 {
		return common, nil, nil, fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	if err := errors.Join(common.check(), sc.check()); err != nil {
		return common, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return common, sc, fs, nil
}

// runScenarioCommand is "loadgen <scenario> [flags]".
func runScenarioCommand(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	common, sc, fs, err := parseScenario(name, args, getenv, stdout)
	if err != nil {
		return err
	}
	return runScenario(ctx, name, common, sc, flagSettings(fs), stdout, stderr)
}

// runScenario runs one scenario from set-up to clean-up, prints its table
// and writes its JSON line. It fails when the scenario could not run or
// one of its checks (loss, duplicates, ...) did not hold.
func runScenario(ctx context.Context, name string, common commonConfig, sc scenarioConfig, settings map[string]any, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, common.timeout)
	defer cancel()
	start, load0 := time.Now(), loadAvg()
	o, err := newOrch(ctx, name, common, stdout, stderr)
	if err != nil {
		return err
	}
	own := fmt.Sprint("own ", common.ownRedis)
	if common.ownCluster {
		own = "own 3-master cluster"
	}
	fmt.Fprintf(stdout, "loadgen %s: %d CPUs, load average %s, %s mode, redis %s db %d (%s), database %s, node env %v\n",
		name, runtime.NumCPU(), load0, common.auth, o.cfg.redisAddr, o.rdb.DB, own, o.dbName, []string(common.nodeEnv))
	rep, err := sc.run(ctx, o)
	var cond conditions
	if err == nil {
		cond = o.conditions(start, load0)
	}
	cerr := o.close(err != nil)
	if err != nil {
		return errors.Join(err, cerr)
	}
	// A run that measured is reported even when the clean-up after it
	// failed (a flush or a drop that timed out): the figures are valid, the
	// clean-up error is returned after them.
	if cerr != nil {
		cerr = fmt.Errorf("%s: clean-up after the run: %w", name, cerr)
	}
	rec := runRecord{Scenario: name, Conditions: cond, Settings: settings, Results: rep, Failures: rep.failures()}
	rec.OK = len(rec.Failures) == 0
	rep.printTable(stdout)
	if err := writeRecord(stdout, common.jsonOut, rec); err != nil {
		return errors.Join(err, cerr)
	}
	if !rec.OK {
		return errors.Join(fmt.Errorf("%s: checks failed: %s", name, strings.Join(rec.Failures, "; ")), cerr)
	}
	return cerr
}
