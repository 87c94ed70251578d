package main

import (
	"fmt"
	"time"

	"github.com/spec-kit/outbox/deliver"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/inspect"
	"github.com/spec-kit/outbox/outbox/spool"
)

// loadSpecs reads the named SPECs, or every SPEC with a spool.
func loadSpecs(ws *outbox.Workspace, want []string) ([]*inspect.Spec, map[string]*spool.Dir, error) {
	r := &deliver.Runner{Config: ws.Config, RepoRoot: ws.Root}
	specs := want
	if len(specs) == 0 {
		var err error
		if specs, err = r.Specs(); err != nil {
			return nil, nil, withCode(exitRuntime, err)
		}
	}
	var out []*inspect.Spec
	dirs := map[string]*spool.Dir{}
	for _, id := range specs {
		dir, err := r.SpoolDir(id)
		if err != nil {
			return nil, nil, withCode(exitUsage, err)
		}
		s, err := inspect.Load(dir)
		if err != nil {
			return nil, nil, withCode(exitRuntime, err)
		}
		out = append(out, s)
		dirs[id] = dir
	}
	return out, dirs, nil
}

// timeFlag parses an optional --since/--until value.
func timeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := inspect.ParseTime(v, time.Now())
	if err != nil {
		return t, withCode(exitUsage, fmt.Errorf("--%s %w", name, err))
	}
	return t, nil
}
