package config

import (
	"fmt"
	"os"
	"strconv"
)

// Problem is something `outbox config check` reports about a loaded
// configuration in its environment (beyond Load's errors).
type Problem struct {
	Key string // key path the problem is about, e.g. spec_ops.webhooks.subscriptions[0].secret_env
	Msg string // never contains the value of an environment variable that may hold a secret or a URL token
}

func (p Problem) String() string { return p.Key + ": " + p.Msg }

// Check reports what would stop deliveries at run time: a secret_env,
// previous_secret_env or url_env variable that is unset or empty, a url_env
// value that is not an acceptable URL, and webhooks enabled (per EnabledWith)
// with no subscription or none active. Inactive subscriptions are not
// checked. An invalid $SPECKIT_WEBHOOKS_ENABLED is not reported here: call
// EnabledWith for that. A nil getenv means os.Getenv.
//
// Check only tests whether variables are set: a secret's value is never
// copied into a Problem, and a URL from the environment is shown as
// scheme://host at most.
func Check(c *Config, getenv func(string) string) []Problem {
	if getenv == nil {
		getenv = os.Getenv
	}
	if c == nil {
		c = Default()
	}
	var out []Problem
	enabled, err := c.EnabledWith(getenv)
	if err != nil {
		// Reported by EnabledWith itself; judge by the file.
		enabled = c.Webhooks.Enabled
	}
	active := 0
	for i := range c.Webhooks.Subscriptions {
		s := &c.Webhooks.Subscriptions[i]
		if !s.IsActive() {
			continue
		}
		active++
		key := webhooksKey + ".subscriptions[" + strconv.Itoa(i) + "]"
		tag := ""
		if s.ID != "" {
			tag = fmt.Sprintf(" [id %q]", s.ID)
		}
		unset := func(k, name string) bool {
			if name == "" || getenv(name) != "" {
				return false
			}
			out = append(out, Problem{Key: key + k, Msg: "environment variable " + name + " is not set" + tag})
			return true
		}
		unset(".secret_env", s.SecretEnv)
		unset(".previous_secret_env", s.PreviousSecretEnv)
		if s.URLEnv != "" && !unset(".url_env", s.URLEnv) {
			if msg := urlProblem(getenv(s.URLEnv), s.AllowInsecureHTTP, true); msg != "" {
				out = append(out, Problem{Key: key + ".url_env", Msg: "environment variable " + s.URLEnv + ": " + msg + tag})
			}
		}
	}
	if enabled {
		switch {
		case len(c.Webhooks.Subscriptions) == 0:
			out = append(out, Problem{Key: webhooksKey + ".subscriptions", Msg: "webhooks are enabled but there are no subscriptions"})
		case active == 0:
			out = append(out, Problem{Key: webhooksKey + ".subscriptions", Msg: "webhooks are enabled but every subscription is inactive (active = false)"})
		}
	}
	return out
}
