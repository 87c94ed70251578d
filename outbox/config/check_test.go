package config

import (
	"strings"
	"testing"
)

// canary is a secret value: it must never appear in any message.
const canary = "canary-s3cr3t-4f9a"

func TestCheck(t *testing.T) {
	c, err := Load(fixtures + "valid.toml")
	if err != nil {
		t.Fatal(err)
	}
	allSet := map[string]string{
		"SPECKIT_CI_SECRET":      canary,
		"SPECKIT_CI_SECRET_OLD":  canary + "-old",
		"SPECKIT_CHATOPS_URL":    "https://chat.example.com/T000/" + canary + "?token=" + canary,
		"SPECKIT_CHATOPS_SECRET": canary,
		"SPECKIT_ANOMALY_SECRET": canary,
		"SPECKIT_NEW_SECRET":     canary,
		// SPECKIT_LEGACY_SECRET unset: that subscription is inactive.
	}
	with := func(over map[string]string) func(string) string {
		m := map[string]string{}
		for k, v := range allSet {
			m[k] = v
		}
		for k, v := range over {
			m[k] = v
		}
		return func(k string) string { return m[k] }
	}
	const s0 = "spec_ops.webhooks.subscriptions[0]"
	const s1 = "spec_ops.webhooks.subscriptions[1]"
	tests := []struct {
		name string
		c    *Config
		env  map[string]string
		want []Problem // Msg: substring
	}{
		{"all set", c, nil, nil},
		{"secret unset", c, map[string]string{"SPECKIT_CI_SECRET": ""},
			[]Problem{{s0 + ".secret_env", "environment variable SPECKIT_CI_SECRET is not set"}}},
		{"previous secret unset", c, map[string]string{"SPECKIT_CI_SECRET_OLD": ""},
			[]Problem{{s0 + ".previous_secret_env", "environment variable SPECKIT_CI_SECRET_OLD is not set"}}},
		{"url_env unset", c, map[string]string{"SPECKIT_CHATOPS_URL": ""},
			[]Problem{{s1 + ".url_env", "environment variable SPECKIT_CHATOPS_URL is not set"}}},
		{"url_env not https", c, map[string]string{"SPECKIT_CHATOPS_URL": "http://chat.example.com/" + canary + "?t=" + canary},
			[]Problem{{s1 + ".url_env", `environment variable SPECKIT_CHATOPS_URL: "http://chat.example.com/…" is not https`}}},
		{"url_env junk", c, map[string]string{"SPECKIT_CHATOPS_URL": canary},
			[]Problem{{s1 + ".url_env", "environment variable SPECKIT_CHATOPS_URL: is not a valid absolute URL"}}},
		{"bad enabled override is EnabledWith's business", c, map[string]string{EnvWebhooksEnabled: "perhaps"}, nil},
		{"enabled with every subscription inactive", &Config{Webhooks: Webhooks{Enabled: true, Subscriptions: []Subscription{{ID: "a", Active: new(false)}}}}, nil,
			[]Problem{{"spec_ops.webhooks.subscriptions", "every subscription is inactive"}}},
		{"enabled without subscriptions", &Config{Webhooks: Webhooks{Enabled: true}}, nil,
			[]Problem{{"spec_ops.webhooks.subscriptions", "no subscriptions"}}},
		{"enabled by env without subscriptions", Default(), map[string]string{EnvWebhooksEnabled: "1"},
			[]Problem{{"spec_ops.webhooks.subscriptions", "no subscriptions"}}},
		{"disabled without subscriptions", Default(), nil, nil},
		{"nil config", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.c, with(tt.env))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %v, want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if got[i].Key != w.Key || !strings.Contains(got[i].Msg, w.Msg) {
					t.Errorf("problem %d = %v, want key %q and %q in message", i, got[i], w.Key, w.Msg)
				}
			}
		})
	}
}

// No problem ever carries a secret's value (or a URL token from the
// environment), whatever is set or missing.
func TestCheckNeverPrintsSecrets(t *testing.T) {
	c, err := Load(fixtures + "valid.toml")
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Webhooks.Subscriptions {
		c.Webhooks.Subscriptions[i].Active = nil // check the inactive one too
	}
	envs := []func(string) string{
		func(string) string { return canary },                                         // every variable holds the canary
		func(string) string { return "http://evil.example/" + canary + "?" + canary }, // every variable is a bad URL with a canary
		func(k string) string { // secrets set, URL bad
			if strings.HasSuffix(k, "_URL") {
				return "ftp://" + canary + "@x.example/" + canary
			}
			return canary
		},
		func(k string) string { // half set
			if strings.Contains(k, "C") {
				return canary
			}
			return ""
		},
	}
	for i, getenv := range envs {
		var msgs []string
		for _, p := range Check(c, getenv) {
			msgs = append(msgs, p.String())
		}
		if _, err := c.Webhooks.Subscriptions[1].ResolveURL(getenv); err != nil {
			msgs = append(msgs, err.Error())
		}
		for _, m := range msgs {
			if strings.Contains(m, canary) {
				t.Errorf("env %d: message leaks the canary: %s", i, m)
			}
		}
		if i == 1 && len(msgs) == 0 {
			t.Errorf("env %d: expected problems about the bad URL", i)
		}
	}
}
