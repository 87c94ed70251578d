package config

import (
	"fmt"
	"slices"
	"strings"
)

// The schema of [spec_ops.webhooks]: the only keys this package accepts there.
// Keep in sync with the toml tags of rawWebhooks and rawSubscription.
var (
	webhooksKeys     = []string{"enabled", "max_concurrency", "spool_dir", "dry_run", "kick", "max_spool_bytes", "commit", "commit_author", "evidence_dir", "evidence_base_url", "consensus_conflict_threshold", "subscriptions"}
	subscriptionKeys = []string{
		"id", "url", "url_env", "secret_env", "previous_secret_env", "active", "dry_run",
		"allow_insecure_http", "include_events", "include_stages", "include_status",
		"max_attempts", "initial_backoff_ms", "backoff_factor", "jitter_ms", "per_request_timeout_ms",
		"max_age_hours",
	}

	// keyTypes describes the TOML type expected for each key, by leaf name.
	keyTypes = map[string]string{
		"spec_ops":                     "a table",
		"webhooks":                     "a table",
		"subscriptions":                "an array of tables",
		"enabled":                      "a boolean",
		"dry_run":                      "a boolean",
		"kick":                         "a boolean",
		"max_spool_bytes":              "an integer",
		"commit":                       "a boolean",
		"commit_author":                "a string",
		"evidence_dir":                 "a string",
		"evidence_base_url":            "a string",
		"consensus_conflict_threshold": "an integer",
		"max_age_hours":                "an integer",
		"active":                       "a boolean",
		"allow_insecure_http":          "a boolean",
		"max_concurrency":              "an integer",
		"max_attempts":                 "an integer",
		"initial_backoff_ms":           "an integer",
		"jitter_ms":                    "an integer",
		"per_request_timeout_ms":       "an integer",
		"backoff_factor":               "a number",
		"spool_dir":                    "a string",
		"id":                           "a string",
		"url":                          "a string",
		"url_env":                      "a string",
		"secret_env":                   "a string",
		"previous_secret_env":          "a string",
		"include_events":               "an array of strings",
		"include_stages":               "an array of strings",
		"include_status":               "an array of strings",
	}
)

// webhooksBase is the key path of the strict part of the file.
var webhooksBase = [2]string{"spec_ops", "webhooks"}

// knownPrefix returns how many leading segments of rel (a key path relative
// to spec_ops.webhooks) belong to the schema.
func knownPrefix(rel []seg) int {
	if len(rel) == 0 {
		return 0
	}
	top := rel[0]
	if top.name == "" || !slices.Contains(webhooksKeys, top.name) {
		return 0
	}
	if len(rel) == 1 {
		return 1
	}
	if top.name != "subscriptions" {
		return 1
	}
	if rel[1].name == "" || !slices.Contains(subscriptionKeys, rel[1].name) {
		return 1
	}
	return 2
}

// unknownKeyMsg explains an unknown key: a likely correction, or the list of
// keys allowed at that level.
func unknownKeyMsg(rel []seg, table bool) string {
	what := "unknown key"
	if table {
		what = "unknown table"
	}
	valid := webhooksKeys
	if len(rel) > 1 {
		valid = subscriptionKeys
	}
	name := rel[len(rel)-1].name
	if best := closest(name, valid); best != "" {
		return fmt.Sprintf("%s (did you mean %q?)", what, best)
	}
	return fmt.Sprintf("%s (valid keys here: %s)", what, strings.Join(valid, ", "))
}

// closest returns the candidate nearest to name if it is close enough to be
// a likely typo (edit distance up to 1 for short names, 2, or 3 for long
// ones), or "".
func closest(name string, candidates []string) string {
	best, bestD := "", 1
	switch {
	case len(name) > 10:
		bestD = 4
	case len(name) >= 5:
		bestD = 3
	case len(name) >= 3:
		bestD = 2
	}
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
