package deliver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/send"
	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/outbox/spool"
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

// BenchmarkRunLarge measures runs in deliverbench's shape, 10
// subscriptions x 1,000 pending deliveries, with a sender that answers
// 204 without any network ("fake") or a loopback receiver ("http"), with
// the default max_spool_bytes (the run ends by evicting what it sent) or
// one above the spool ("-noevict"). Besides deliveries/s it reports the
// process's CPU time and the senders' wall time per delivery, and it marks
// each run with a "run" trace region (go test -trace).
func BenchmarkRunLarge(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	for _, mode := range []string{"fake", "http", "fake-noevict", "http-noevict"} {
		b.Run(mode, func(b *testing.B) {
			const n = 10 * 1000
			t := &testing.T{}
			var cpu time.Duration
			var sendNS int64
			for b.Loop() {
				b.StopTimer()
				r := newRepo(t, tenSubs(srv.URL)...)
				r.emit("SPEC-1", 1)
				fillSpool(b, r.dir("SPEC-1"), n-10)
				if strings.HasSuffix(mode, "-noevict") {
					r.cfg.Webhooks.MaxSpoolBytes = 1 << 40
				}
				rn := r.runner()
				rn.MaxConcurrency = 10
				var s Sender = fakeSender{}
				if strings.HasPrefix(mode, "http") {
					client := send.NewClient(10, "outbox-bench")
					defer client.CloseIdle()
					s = client
				}
				ts := &timedSender{s: s}
				rn.Sender = ts
				b.StartTimer()
				c0 := cpuTime()
				reg := trace.StartRegion(context.Background(), "run")
				sum, err := rn.Run(context.Background(), []string{"SPEC-1"})
				reg.End()
				cpu += cpuTime() - c0
				sendNS += ts.total.Load()
				if err != nil || sum.Delivered != n {
					b.Fatalf("%+v %v", sum, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-us/delivery")
			b.ReportMetric(float64(sendNS)/1e3/float64(b.N*n), "send-us/delivery")
		})
	}
}

// BenchmarkBareLoop is deliverbench's bare keep-alive POST loop, the
// reference for BenchmarkRunLarge: 10 goroutines x 1,000 POSTs, no disk.
func BenchmarkBareLoop(b *testing.B) {
	benchLoop(b, func(hc *http.Client, url string, body []byte, i int) error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-SpecKit-Id", fmt.Sprint(i))
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	})
}

// BenchmarkClientLoop is the bare loop through send.Client: sign, POST,
// classify; no disk.
func BenchmarkClientLoop(b *testing.B) {
	c := send.NewClient(10, "outbox-bench")
	defer c.CloseIdle()
	benchLoop(b, func(_ *http.Client, url string, body []byte, _ int) error {
		res := c.Send(context.Background(), send.Request{URL: url, ID: uuidv7.New(time.Now()), Event: "e",
			Body: body, Secrets: []string{"s"}, Timeout: 10 * time.Second}, time.Now())
		if res.Class != send.Delivered {
			return fmt.Errorf("%s: %s", res.Class, res.Error)
		}
		return nil
	})
}

// benchLoop POSTs 1,000 bodies from each of 10 goroutines with post.
func benchLoop(b *testing.B, post func(hc *http.Client, url string, body []byte, i int) error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	body := bytes.Repeat([]byte("x"), 462)
	tr := &http.Transport{MaxIdleConns: 100, MaxIdleConnsPerHost: 10}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var cpu time.Duration
	for b.Loop() {
		c0 := cpuTime()
		var wg sync.WaitGroup
		for k := range 10 {
			wg.Go(func() {
				for j := range 1000 {
					if err := post(hc, fmt.Sprintf("%s/s%d", srv.URL, k), body, j); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*10000), "cpu-us/delivery")
}

// timedSender adds up the wall time of Send calls.
type timedSender struct {
	s     Sender
	total atomic.Int64
}

func (t *timedSender) Send(ctx context.Context, r send.Request, now time.Time) send.Result {
	t0 := time.Now()
	res := t.s.Send(ctx, r, now)
	t.total.Add(int64(time.Since(t0)))
	return res
}

// fakeSender answers 204 without any network.
type fakeSender struct{}

func (fakeSender) Send(context.Context, send.Request, time.Time) send.Result {
	return send.Result{Class: send.Delivered, Status: http.StatusNoContent, Host: "127.0.0.1"}
}

// fillSpool copies the first pending delivery n times, round-robin over
// the subscriptions s0..s9, without fsync, then syncs once.
func fillSpool(tb testing.TB, dir *spool.Dir, n int) {
	names, _, err := dir.List(spool.Pending)
	if err != nil || len(names) == 0 {
		tb.Fatalf("list: %v", err)
	}
	tmpl, err := dir.Read(spool.Pending, names[0])
	if err != nil {
		tb.Fatal(err)
	}
	due := time.Now().Add(-time.Second)
	for i := range n {
		d := *tmpl
		d.ID = uuidv7.New(time.Now())
		d.Subscription = fmt.Sprintf("s%d", i%10)
		data, err := d.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		name := spool.Name{Due: due, Attempt: 1, ID: d.ID, Subscription: d.Subscription}
		if err := os.WriteFile(dir.Path(spool.Pending, name), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	syscall.Sync()
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
