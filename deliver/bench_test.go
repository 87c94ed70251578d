package deliver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkRun measures a run over 10 subscriptions x 100 events to a
// loopback receiver answering 204, every state change durable.
func BenchmarkRun(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	t := &testing.T{}
	for b.Loop() {
		b.StopTimer()
		r := newRepo(t, tenSubs(srv.URL)...)
		r.emit("SPEC-1", 100)
		rn := r.runner()
		rn.MaxConcurrency = 10
		b.StartTimer()
		sum, err := rn.Run(context.Background(), []string{"SPEC-1"})
		if err != nil || sum.Delivered != 1000 {
			b.Fatalf("%+v %v", sum, err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "deliveries/s")
}
