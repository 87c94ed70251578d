// Package schematest validates payloads against the shipped JSON Schema in
// tests. It is imported only by test code.
package schematest

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/spec-kit/outbox/outbox/event"
)

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(event.Schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("payload.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("payload.schema.json")
})

// Validate fails t unless body is a payload that the schema accepts.
func Validate(t testing.TB, body []byte) {
	t.Helper()
	if err := Check(body); err != nil {
		t.Fatalf("payload does not match the schema: %v\n%s", err, body)
	}
}

// Check returns why body does not match the schema, or nil.
func Check(body []byte) error {
	sch, err := compiled()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	if !json.Valid(body) {
		return json.Unmarshal(body, new(any))
	}
	return sch.Validate(v)
}
