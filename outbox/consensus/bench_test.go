package consensus_test

import (
	"testing"

	"github.com/spec-kit/outbox/outbox/consensus"
)

func BenchmarkParse(b *testing.B) {
	for _, file := range []string{"synthesis_flat_conflict.json", "synthesis_nested_resolved.json", "telemetry_v2.jsonl"} {
		data := readTestdata(b, file)
		b.Run(file, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := consensus.Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
