package uuidv7

import (
	"sync"
	"testing"
	"time"
)

func TestNewIsValidAndCarriesTime(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 42, 45, 123_000_000, time.UTC)
	id := New(now)
	if !Valid(id) {
		t.Fatalf("New returned invalid id %q", id)
	}
	got, err := Time(id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(now) {
		t.Fatalf("Time(%q) = %v, want %v", id, got, now)
	}
}

func TestStrictlyIncreasingWithinOneMillisecond(t *testing.T) {
	now := time.Now()
	prev := New(now)
	for i := 0; i < 10000; i++ { // more than the 12-bit counter holds
		id := New(now)
		if id <= prev {
			t.Fatalf("id %d not increasing: %s after %s", i, id, prev)
		}
		prev = id
	}
}

func TestUniqueAcrossGoroutines(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				id := New(time.Now())
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate id %s", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0192f0e4-3c1a-7b2e-8c3d-4e5f60718293", true},
		{"0192f0e4-3c1a-4b2e-8c3d-4e5f60718293", false}, // version 4
		{"0192f0e4-3c1a-7b2e-cc3d-4e5f60718293", false}, // wrong variant
		{"0192F0E4-3C1A-7B2E-8C3D-4E5F60718293", false}, // upper case
		{"0192f0e4-3c1a-7b2e-8c3d-4e5f6071829", false},  // short
		{"../../etc/passwd-aaaaaaaaaaaaaaaaaaaaaa", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
