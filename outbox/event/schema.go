package event

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of Payload, schemaVersion 1.0.
//
//go:embed schema/payload.schema.json
var Schema []byte
