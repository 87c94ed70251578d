# outbox: make demo | make test | make bench | make build
GO      ?= go
BIN     ?= bin/outbox
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build test vet fmt-check demo bench clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/outbox

## test: formatting, go vet and the whole suite under the race detector.
test: fmt-check vet
	$(GO) test -race -count=1 ./...

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
