# outbox: make demo | make test | make bench | make build
GO      ?= go
BIN     ?= bin/outbox
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 60s

.PHONY: all build test vet fmt-check fuzz fuzz-short demo bench clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/outbox

## test: formatting, go vet, the whole suite under the race detector, then
## a short pass of every fuzz target.
test: fmt-check vet
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory fuzz-short

## fuzz: every Fuzz target of the module (found by scripts/fuzz.sh), for
## FUZZTIME each (default 60s): make fuzz FUZZTIME=5m
fuzz:
	GO='$(GO)' FUZZTIME='$(FUZZTIME)' sh scripts/fuzz.sh

## fuzz-short: the same, 3s per target.
fuzz-short:
	GO='$(GO)' FUZZTIME=3s sh scripts/fuzz.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## demo: the main job end to end in a throwaway repository.
demo: build
	OUTBOX=$(CURDIR)/$(BIN) ./scripts/demo.sh

## bench: Go benchmarks, whole-process emit latency, delivery throughput,
## emit-to-receipt latency, deliver's memory over large spools, and commit
## time in repositories of 1,000 and 100,000 files.
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./...
	$(GO) run ./internal/cmd/emitbench -outbox $(CURDIR)/$(BIN) -runs 400
	$(GO) run ./internal/cmd/deliverbench -outbox $(CURDIR)/$(BIN)
	$(GO) run ./internal/cmd/commitbench

clean:
	rm -rf bin
